"""A strict local stand-in for AWS IAM Identity Center: the SSO OIDC and SSO portal APIs.

No public mock implements these two APIs, so broker's SSO tests run this one.
Started by the Rust tests (tests/cli/common/sso.rs) with the venv's Python; standard library
only. It prints the port it bound on 127.0.0.1 on its first stdout line, then serves on that one
port both REST-JSON APIs exactly as botocore's models (sso-oidc and sso, 2019-06-10) define them,
so clients reach it through AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO:
  * SSO OIDC: POST /client/register (RegisterClient), POST /device_authorization
    (StartDeviceAuthorization), POST /token (CreateToken: authorization_code with PKCE,
    urn:ietf:params:oauth:grant-type:device_code, refresh_token). Errors are the service's:
    {"error": "invalid_grant", "error_description": "..."} with the model's HTTP status and the
    shape named in x-amzn-ErrorType (AuthorizationPendingException, SlowDownException, ...).
  * The browser side of OIDC: GET /authorize answers 302 to the client's loopback redirect URI
    with a one-time code and the state (the user "signed in"), and GET /device?user_code=...
    (the verificationUriComplete) approves a device authorization.
  * SSO portal: GET /federation/credentials (GetRoleCredentials), GET /assignment/accounts
    (ListAccounts), GET /assignment/roles (ListAccountRoles), POST /logout (Logout), with the
    access token in the x-amz-sso_bearer_token header and {"message": "..."} errors
    (401 UnauthorizedException, 403 ForbiddenException, 400 InvalidRequestException, ...).

It enforces what the real service enforces, so that a client bug fails a test: the client
registration (public, its grant types, its redirect URIs, unexpired secret); at /authorize the
registered redirect URI (a loopback IP literal matches on any port, RFC 8252 section 7.3),
S256 and a well-formed challenge, the scopes; at CreateToken the PKCE verifier
(BASE64URL-NOPAD(SHA256(verifier)) == challenge), the same redirect URI and client, one-time
codes (burnt by their first presentation; a second exchange fails and revokes what the first
one issued) that expire; the device flow's interval (the first poll may come at once, but a poll
sooner than the interval after the answer to the previous one gets slow_down, and every
slow_down adds the increment to the interval, RFC 8628 section 3.5) and expiry; refresh tokens
that rotate (the old one stops working); access tokens that expire or are logged out.

Test hooks, all GET unless said (answers are JSON):
  /_broker_test/counts                 requests per operation, incl. Authorize and DeviceVerify
  /_broker_test/requests               parameters per operation, oldest first (secrets included)
  /_broker_test/poll_times             every device-code CreateToken: when, gap, answer
  /_broker_test/secrets                every secret issued (to search for on disk or in argv)
  /_broker_test/token_lifetime?seconds=N       expiresIn of later access tokens (3600)
  /_broker_test/credential_lifetime?seconds=N  lifetime of later role credentials (3600)
  /_broker_test/code_lifetime?seconds=N        lifetime of later authorization codes (300)
  /_broker_test/device_timing?interval=I&expires_in=E&slow_down_increment=K  (1, 600, 5)
  /_broker_test/page_size?n=N                  page size of ListAccounts/ListAccountRoles (2)
  /_broker_test/start_url?url=U        the only startUrl/issuerUrl accepted (default: any URL)
  /_broker_test/revoke_refresh         every refresh token issued so far stops working
  /_broker_test/expire_access          every access token issued so far expires now
  /_broker_test/expire_clients         every client registration so far expires now
  /_broker_test/revoke_clients         every client registration so far is unknown from now on
                                       (InvalidClientException), though not expired
  /_broker_test/deny?times=N           the next N sign-ins (authorize or device) are refused
  /_broker_test/pending?times=N        the next N polls after approval still answer pending
  /_broker_test/slow_down?times=N      the next N device polls answer slow_down
  /_broker_test/tamper_state?times=N   the next N authorize redirects carry a different state
  /_broker_test/assign?account=A&role=R&name=N[&email=E]   adds an assignment
  /_broker_test/unassign?account=A&role=R                   removes one
  POST /_broker_test/assign with [{"account", "role", "name", "email"?}, ...]  replaces them all
  /_broker_test/assignments            the current assignments
  /_broker_test/fail?op=OPERATION&mode=500|hang|garbage|throttle&times=N
                                       the next N calls of OPERATION fail that way
  /_broker_test/advance?ms=N           moves the clock N milliseconds forward
  /_broker_test/quota?per_second=N     the portal APIs answer 429 TooManyRequestsException to a
                                       call when N calls came in the second before it, as the
                                       real quota does (0: no quota); counted as "Throttled"
  /_broker_test/generate?accounts=N&roles=R    replaces the assignments with N accounts
                                       (ids 100000000000 up, names "Account N") of R roles each

Time: every expiry, lifetime and poll interval is judged by a clock that the tests move instead
of sleeping: the system clock plus an offset in milliseconds, kept in the file named by
BROKER_TEST_CLOCK when that is set (the same file a test build of broker reads, so both agree),
else in memory.
"""

import base64
import hashlib
import json
import re
import secrets
import sys
import threading
import time
import traceback
import os
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLOCK_FILE = os.environ.get("BROKER_TEST_CLOCK")
clock_offset_ms = [0]  # when there is no clock file


def offset_ms():
    if not CLOCK_FILE:
        return clock_offset_ms[0]
    try:
        with open(CLOCK_FILE) as f:
            return int(f.read().strip() or 0)
    except FileNotFoundError:
        return 0


def now():
    """The time by the tests' clock (see the module docstring)."""
    return time.time() + offset_ms() / 1000


def advance(ms):
    if not CLOCK_FILE:
        clock_offset_ms[0] += ms
        return
    moving = CLOCK_FILE + ".moving"
    with open(moving, "w") as f:
        f.write(str(offset_ms() + ms))
    os.replace(moving, CLOCK_FILE)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES = ("authorization_code", "refresh_token", DEVICE_GRANT)
PORTAL_SCOPE = "sso:account:access"
# A scope is a colon-separated name such as sso:account:access; this catches a list sent as one.
SCOPE = re.compile(r"^[a-z][a-z0-9]*(:[a-z0-9_*-]+)+$")
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 section 4.1
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # BASE64URL-NOPAD of a SHA-256 digest
BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
CLIENT_SECRET_DAYS = 90  # clientSecretExpiresAt, as the real service sets it

# The service names its error shape in x-amzn-ErrorType, suffixed the way the real one does.
OIDC_NAMESPACE = ":http://internal.amazon.com/coral/com.amazonaws.sso.oidc/"
PORTAL_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.switchboard.portal/"
OAUTH_ERRORS = {  # shape -> (HTTP status from the model, OAuth "error")
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidGrantException": (400, "invalid_grant"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
    "InvalidScopeException": (400, "invalid_scope"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "SlowDownException": (400, "slow_down"),
    "AccessDeniedException": (400, "access_denied"),
    "ExpiredTokenException": (400, "expired_token"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InvalidRedirectUriException": (400, "invalid_redirect_uri"),
    "InternalServerException": (500, "server_error"),
}
PORTAL_ERRORS = {  # shape -> HTTP status; ForbiddenException is not modeled but is what AWS sends
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ForbiddenException": 403,
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
}
DEFAULT_ASSIGNMENTS = [  # three accounts and four roles: two pages of each list at page size 2
    ("111111111111", "Development", "AdministratorAccess"),
    ("111111111111", "Development", "Analyst"),
    ("111111111111", "Development", "ReadOnlyAccess"),
    ("222222222222", "Production", "ReadOnlyAccess"),
    ("333333333333", "Security Audit", "SecurityAudit"),
]


class Answer(Exception):
    """An HTTP answer, raised from anywhere in an operation: errors and redirects alike."""

    def __init__(self, status, body=b"", headers=(), content_type="application/json"):
        super().__init__(status)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = list(headers)


def oauth_error(shape, description):
    status, error = OAUTH_ERRORS[shape]
    return Answer(status, {"error": error, "error_description": description},
                  [("x-amzn-ErrorType", shape + OIDC_NAMESPACE)])


def portal_error(shape, message):
    return Answer(PORTAL_ERRORS[shape], {"message": message},
                  [("x-amzn-ErrorType", shape + PORTAL_NAMESPACE)])


def page(status, text):
    """What the user's browser shows: the stand-in's sign-in pages and their refusals."""
    html = f"<html><body><p>{text}</p></body></html>"
    return Answer(status, html, content_type="text/html; charset=utf-8")


def b64url_sha256(text):
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=")


def random_text(alphabet, length):
    return "".join(secrets.choice(alphabet) for _ in range(length))


class Store:
    """Everything the service remembers. One lock guards all of it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.token_lifetime, self.credential_lifetime, self.code_lifetime = 3600, 3600, 300
        self.interval, self.device_expires_in, self.slow_down_increment = 1, 600, 5
        self.page_size, self.start_url = 2, None
        self.quota, self.recent = 0, []  # portal calls a second; when the last ones came
        self.deny = self.pending = self.slow_down = self.tamper_state = 0
        self.failures = {}  # operation -> [mode, remaining]
        self.clients = {}  # clientId -> registration
        self.codes = {}  # authorization code -> what /authorize bound it to
        self.devices = {}  # deviceCode -> device authorization
        self.user_codes = {}  # userCode -> deviceCode
        self.access = {}  # access token -> {client, scopes, expires, valid, family}
        self.refresh = {}  # refresh token -> {client, scopes, valid, family}
        self.pages = {}  # nextToken -> (operation, accountId, offset)
        self.assignments = {}  # accountId -> {"name", "email", "roles": [...]}, in order
        for account, name, role in DEFAULT_ASSIGNMENTS:
            self.assign(account, role, name)
        self.counts = {}
        # Every parameter of every call, secrets included: this is a test double, and tests
        # assert on exactly what the client sent (and that the bearer token went in the header).
        self.requests = {}
        self.polls = []  # device-code CreateToken calls
        self.secrets = []  # every secret handed out, in order

    def assign(self, account, role, name=None, email=None):
        entry = self.assignments.setdefault(account, {"name": name or account, "roles": []})
        if name:
            entry["name"] = name
        entry["email"] = email or entry.get("email") or f"aws+{account}@example.com"
        if role not in entry["roles"]:
            entry["roles"].append(role)

    def secret(self, value):
        self.secrets.append(value)
        return value


store = Store()


# ---- SSO OIDC ------------------------------------------------------------------------------

def field(body, name, required=False):
    value = body.get(name)
    if value is None:
        if required:
            raise oauth_error("InvalidRequestException", f"{name} is required")
        return None
    if not isinstance(value, str) or not value:
        raise oauth_error("InvalidRequestException", f"{name} must be a non-empty string")
    return value


def fields(body, name):
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise oauth_error("InvalidRequestException", f"{name} must be a list of strings")
    return value


def is_url(value):
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def valid_redirect_uri(uri):
    """https anywhere, or http on the loopback interface (RFC 8252 section 7.3); no fragment."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (parts.hostname in ("127.0.0.1", "::1", "localhost"))


def redirect_matches(registered, requested):
    """Exact match, except that a loopback IP literal matches on any port (RFC 8252 7.3)."""
    if registered == requested:
        return True
    reg, req = urlsplit(registered), urlsplit(requested)
    try:
        reg.port, req.port  # noqa: B018 - raise on a malformed port
    except ValueError:
        return False
    loopback = reg.scheme == "http" and reg.hostname in ("127.0.0.1", "::1")
    return (loopback and req.scheme == "http" and req.hostname == reg.hostname
            and req.username is None and req.password is None and not req.fragment
            and (req.path, req.query) == (reg.path, reg.query))


def grants_of(client):
    """The grants a client may use: what it registered, or for a registration without
    grantTypes (the device flow of the AWS CLI) the device code and, with scopes, refresh."""
    if client["grantTypes"]:
        return client["grantTypes"]
    return [DEVICE_GRANT, "refresh_token"] if client["scopes"] else [DEVICE_GRANT]


def authenticate(body):
    client_id = field(body, "clientId", True)
    client_secret = field(body, "clientSecret", True)
    client = store.clients.get(client_id)
    if client is None or not secrets.compare_digest(client["clientSecret"], client_secret):
        raise oauth_error("InvalidClientException", "Invalid client provided")
    if now() >= client["expiresAt"]:
        raise oauth_error("InvalidClientException", "Client secret has expired")
    return client


def check_url(value, name, shape):
    if not is_url(value):
        raise oauth_error(shape, f"{name} is not a URL")
    if store.start_url is not None and value != store.start_url:
        raise oauth_error(shape, f"{name} is not this instance's start URL")


def register_client(call):
    body = call.body
    field(body, "clientName", True)
    client_type = field(body, "clientType", True)
    if client_type != "public":
        raise oauth_error("InvalidClientMetadataException", "clientType must be public")
    scopes, grants = fields(body, "scopes"), fields(body, "grantTypes")
    redirects, issuer = fields(body, "redirectUris"), field(body, "issuerUrl")
    for scope in scopes:
        if not SCOPE.match(scope):
            raise oauth_error("InvalidScopeException", f"Invalid scope: {scope}")
    for grant in grants:
        if grant not in GRANT_TYPES:
            raise oauth_error("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
    for uri in redirects:
        if not valid_redirect_uri(uri):
            raise oauth_error("InvalidRedirectUriException", f"Invalid redirect URI: {uri}")
    if "authorization_code" in grants:
        if not redirects:
            raise oauth_error("InvalidClientMetadataException",
                              "redirectUris are required for authorization_code")
        if issuer is None:
            raise oauth_error("InvalidClientMetadataException",
                              "issuerUrl is required for authorization_code")
    if issuer is not None:
        check_url(issuer, "issuerUrl", "InvalidClientMetadataException")
    client_id = secrets.token_urlsafe(16)
    issued = int(now())
    client = {
        "clientId": client_id, "clientSecret": store.secret("eyJ" + secrets.token_urlsafe(240)),
        "scopes": scopes, "grantTypes": grants, "redirectUris": redirects,
        "expiresAt": issued + CLIENT_SECRET_DAYS * 86400,
    }
    store.clients[client_id] = client
    return {"clientId": client_id, "clientSecret": client["clientSecret"],
            "clientIdIssuedAt": issued, "clientSecretExpiresAt": client["expiresAt"]}


def start_device_authorization(call):
    client = authenticate(call.body)
    check_url(field(call.body, "startUrl", True), "startUrl", "InvalidRequestException")
    if DEVICE_GRANT not in grants_of(client):
        raise oauth_error("UnauthorizedClientException", "Client may not use the device grant")
    device_code = store.secret(secrets.token_urlsafe(48))
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    user_code = random_text(letters, 4) + "-" + random_text(letters, 4)
    store.devices[device_code] = {
        "client": client["clientId"], "userCode": user_code, "scopes": client["scopes"],
        "expires": now() + store.device_expires_in, "interval": store.interval,
        "approved": False, "denied": False, "consumed": False, "lastAnswer": None,
    }
    store.user_codes[user_code] = device_code
    return {
        "deviceCode": device_code, "userCode": user_code,
        "verificationUri": f"{call.base}/device",
        "verificationUriComplete": f"{call.base}/device?user_code={user_code}",
        "expiresIn": store.device_expires_in, "interval": store.interval,
    }


def issue_tokens(client, scopes, family=None):
    family = family or uuid.uuid4().hex
    access = store.secret("aoaAAAAA" + secrets.token_urlsafe(300))
    store.access[access] = {"client": client["clientId"], "scopes": scopes, "valid": True,
                            "expires": now() + store.token_lifetime, "family": family}
    answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": store.token_lifetime}
    if "refresh_token" in grants_of(client):
        refresh = store.secret("aorAAAAA" + secrets.token_urlsafe(300))
        store.refresh[refresh] = {"client": client["clientId"], "scopes": scopes, "valid": True,
                                  "family": family}
        answer["refreshToken"] = refresh
    return answer


def requested_scopes(body, granted):
    """CreateToken may narrow the scopes (member `scope`), never widen them."""
    asked = fields(body, "scope")
    for scope in asked:
        if scope not in granted:
            raise oauth_error("InvalidScopeException", f"Scope not granted: {scope}")
    return asked or granted


def revoke_family(family):
    for table in (store.access, store.refresh):
        for entry in table.values():
            if entry["family"] == family:
                entry["valid"] = False


def code_grant(client, body):
    code, redirect_uri = field(body, "code", True), field(body, "redirectUri", True)
    verifier = field(body, "codeVerifier", True)
    entry = store.codes.get(code)
    if entry is None or entry["client"] != client["clientId"]:
        raise oauth_error("InvalidGrantException", "Invalid authorization code")
    if entry["used"]:
        # RFC 6749 section 4.1.2: a code used twice revokes what it was exchanged for.
        if entry["family"]:
            revoke_family(entry["family"])
        raise oauth_error("InvalidGrantException", "Authorization code has already been used")
    entry["used"] = True  # burnt by its first presentation, whatever the outcome
    if now() >= entry["expires"]:
        raise oauth_error("InvalidGrantException", "Authorization code has expired")
    if redirect_uri != entry["redirectUri"]:
        raise oauth_error("InvalidGrantException", "redirectUri differs from the authorize request")
    if not VERIFIER.match(verifier) or b64url_sha256(verifier) != entry["challenge"]:
        raise oauth_error("InvalidGrantException", "Code verifier does not match the challenge")
    answer = issue_tokens(client, requested_scopes(body, entry["scopes"]))
    entry["family"] = store.access[answer["accessToken"]]["family"]
    return answer


def device_grant(client, body):
    device_code = field(body, "deviceCode", True)
    device = store.devices.get(device_code)
    if device is None or device["client"] != client["clientId"]:
        raise oauth_error("InvalidGrantException", "Invalid device code")
    at = now()
    previous = device["lastAnswer"]
    poll = {"at": at, "since_previous": None if previous is None else at - previous,
            "required": device["interval"], "user_code": device["userCode"]}
    store.polls.append(poll)
    try:
        if device["consumed"]:
            raise oauth_error("InvalidGrantException", "Device code has already been used")
        if now() >= device["expires"]:
            raise oauth_error("ExpiredTokenException", "Device code has expired")
        too_soon = previous is not None and at - previous < device["interval"]
        if store.slow_down > 0 or too_soon:
            if not too_soon:
                store.slow_down -= 1
            device["interval"] += store.slow_down_increment  # for this and every later poll
            raise oauth_error("SlowDownException", "Client is polling too fast")
        if device["denied"]:
            raise oauth_error("AccessDeniedException", "Authorization was denied")
        if not device["approved"] or store.pending > 0:
            if device["approved"]:
                store.pending -= 1
            raise oauth_error("AuthorizationPendingException", "Authorization is still pending")
        device["consumed"] = True
        answer = issue_tokens(client, device["scopes"])
        poll["answer"] = "token"
        return answer
    except Answer as error:
        poll["answer"] = json.loads(error.body)["error"]
        raise
    finally:
        device["lastAnswer"] = now()


def refresh_grant(client, body):
    token = field(body, "refreshToken", True)
    entry = store.refresh.get(token)
    if entry is None or not entry["valid"] or entry["client"] != client["clientId"]:
        raise oauth_error("InvalidGrantException", "Invalid refresh token provided")
    entry["valid"] = False  # rotated: the answer carries the one to use next time
    return issue_tokens(client, requested_scopes(body, entry["scopes"]), entry["family"])


def create_token(call):
    if "aws_iam" in call.query:
        raise oauth_error("InvalidRequestException", "CreateTokenWithIAM is not supported here")
    client = authenticate(call.body)
    grant = field(call.body, "grantType", True)
    if grant not in GRANT_TYPES:
        raise oauth_error("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
    if grant not in grants_of(client):
        raise oauth_error("UnauthorizedClientException", f"Client may not use {grant}")
    return {"authorization_code": code_grant, DEVICE_GRANT: device_grant,
            "refresh_token": refresh_grant}[grant](client, call.body)


# ---- The browser side of OIDC --------------------------------------------------------------

def authorize(call):
    query = call.query
    if any(len(values) > 1 for values in call.multi.values()):
        raise page(400, "A parameter was repeated.")  # RFC 6749 section 3.1
    client = store.clients.get(query.get("client_id", ""))
    if client is None or now() >= client["expiresAt"]:
        raise page(400, "Unknown client.")  # never redirect for an unknown client
    redirect_uri = query.get("redirect_uri", "")
    if not any(redirect_matches(r, redirect_uri) for r in client["redirectUris"]):
        raise page(400, "The redirect URI is not registered for this client.")

    def back(**params):
        """A redirect to the client's callback, carrying the request's state back."""
        if "state" in query:
            params["state"] = query["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return Answer(302, "", [("Location", redirect_uri + sep + urlencode(params)),
                                ("Cache-Control", "no-store")], "text/html")

    if query.get("response_type") != "code":
        raise back(error="unsupported_response_type")
    if "authorization_code" not in grants_of(client):
        raise back(error="unauthorized_client")
    if query.get("code_challenge_method") != "S256":
        raise back(error="invalid_request", error_description="code_challenge_method must be S256")
    challenge = query.get("code_challenge", "")
    if not CHALLENGE.match(challenge):
        raise back(error="invalid_request", error_description="malformed code_challenge")
    scopes = query["scopes"].split() if "scopes" in query else client["scopes"]
    if not scopes or any(s not in client["scopes"] for s in scopes):
        raise back(error="invalid_scope")
    if store.deny > 0:
        store.deny -= 1
        raise back(error="access_denied", error_description="The user denied access")
    code = store.secret(secrets.token_urlsafe(32))
    store.codes[code] = {"client": client["clientId"], "redirectUri": redirect_uri,
                         "challenge": challenge, "scopes": scopes, "used": False, "family": None,
                         "expires": now() + store.code_lifetime}
    if store.tamper_state > 0:
        store.tamper_state -= 1
        query = dict(query, state="tampered-" + secrets.token_urlsafe(8))
    raise back(code=code)


def device_verify(call):
    user_code = call.query.get("user_code")
    if user_code is None:
        raise page(200, "Enter the code shown by your device.")
    device = store.devices.get(store.user_codes.get(user_code, ""))
    if device is None or now() >= device["expires"] or device["consumed"]:
        raise page(400, "This code is not valid.")
    if store.deny > 0:
        store.deny -= 1
        device["denied"] = True
        raise page(200, "Access denied.")
    device["approved"] = True
    raise page(200, "Request approved. You can close this window.")


# ---- SSO portal ----------------------------------------------------------------------------

def bearer(call):
    token = call.headers.get("x-amz-sso_bearer_token")
    entry = store.access.get(token or "")
    if entry is None or not entry["valid"] or now() >= entry["expires"]:
        raise portal_error("UnauthorizedException", "Session token not found or invalid")
    if entry["scopes"] and PORTAL_SCOPE not in entry["scopes"]:
        raise portal_error("ForbiddenException", "No access")
    return token, entry


def required(call, name):
    value = call.query.get(name)
    if not value:
        raise portal_error("InvalidRequestException", f"{name} is required")
    return value


def page_of(call, operation, items, account=None):
    """One page of `items` from the offset named by next_token, and the token of the next."""
    limit = store.page_size
    if "max_result" in call.query:
        try:
            asked = int(call.query["max_result"])
        except ValueError:
            asked = 0
        if not 1 <= asked <= 100:
            raise portal_error("InvalidRequestException", "max_result must be 1 to 100")
        limit = min(limit, asked)
    offset = 0
    if "next_token" in call.query:
        where = store.pages.get(call.query["next_token"])
        if where is None or where[:2] != (operation, account):
            raise portal_error("InvalidRequestException", "Invalid nextToken")
        offset = where[2]
    chunk, rest = items[offset:offset + limit], items[offset + limit:]
    next_token = None
    if rest:
        next_token = secrets.token_urlsafe(24)
        store.pages[next_token] = (operation, account, offset + limit)
    return chunk, next_token


def get_role_credentials(call):
    role, account = required(call, "role_name"), required(call, "account_id")
    bearer(call)
    if role not in store.assignments.get(account, {}).get("roles", []):
        raise portal_error("ForbiddenException", "No access")
    key = "ASIA" + random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    secret = store.secret(random_text(BASE64_ALPHABET, 40))
    token = store.secret(base64.b64encode(secrets.token_bytes(600)).decode())
    expiration = int((now() + store.credential_lifetime) * 1000)  # epoch milliseconds
    return {"roleCredentials": {"accessKeyId": key, "secretAccessKey": secret,
                                "sessionToken": token, "expiration": expiration}}


def list_accounts(call):
    bearer(call)
    accounts = [{"accountId": a, "accountName": e["name"], "emailAddress": e["email"]}
                for a, e in store.assignments.items() if e["roles"]]
    chunk, next_token = page_of(call, "ListAccounts", accounts)
    answer = {"accountList": chunk}
    if next_token:
        answer["nextToken"] = next_token
    return answer


def list_account_roles(call):
    account = required(call, "account_id")
    bearer(call)
    roles = store.assignments.get(account, {}).get("roles", [])
    if not roles:
        raise portal_error("ForbiddenException", "No access")
    chunk, next_token = page_of(call, "ListAccountRoles",
                                [{"roleName": r, "accountId": account} for r in roles], account)
    answer = {"roleList": chunk}
    if next_token:
        answer["nextToken"] = next_token
    return answer


def logout(call):
    _, entry = bearer(call)
    revoke_family(entry["family"])  # the sign-in session: this token and its refresh tokens
    return None


# ---- Plumbing ------------------------------------------------------------------------------

ROUTES = {  # (method, path) -> (operation, handler, API: "oidc" | "portal" | "browser")
    ("POST", "/client/register"): ("RegisterClient", register_client, "oidc"),
    ("POST", "/device_authorization"): ("StartDeviceAuthorization", start_device_authorization,
                                        "oidc"),
    ("POST", "/token"): ("CreateToken", create_token, "oidc"),
    ("GET", "/authorize"): ("Authorize", authorize, "browser"),
    ("GET", "/device"): ("DeviceVerify", device_verify, "browser"),
    ("GET", "/federation/credentials"): ("GetRoleCredentials", get_role_credentials, "portal"),
    ("GET", "/assignment/accounts"): ("ListAccounts", list_accounts, "portal"),
    ("GET", "/assignment/roles"): ("ListAccountRoles", list_account_roles, "portal"),
    ("POST", "/logout"): ("Logout", logout, "portal"),
}
PORTAL_MEMBERS = {"role_name": "roleName", "account_id": "accountId",
                  "next_token": "nextToken", "max_result": "maxResults"}


class Call:
    def __init__(self, handler, path, query, body):
        self.headers = handler.headers
        self.multi = parse_qs(query, keep_blank_values=True)
        self.query = {k: v[0] for k, v in self.multi.items()}
        self.body = body
        self.base = f"http://127.0.0.1:{handler.server.server_port}"
        self.path = path


def hook(call, method):
    """The /_broker_test/ hooks; see the module docstring."""
    name, q = call.path[len("/_broker_test/"):], call.query

    def number(key, default=None):
        if key not in q and default is not None:
            return default
        return int(q[key])

    if name == "counts":
        return store.counts
    if name == "requests":
        return store.requests
    if name == "poll_times":
        return store.polls
    if name == "secrets":
        return store.secrets
    if name == "assignments":
        return store.assignments
    if name == "token_lifetime":
        store.token_lifetime = number("seconds")
    elif name == "credential_lifetime":
        store.credential_lifetime = number("seconds")
    elif name == "code_lifetime":
        store.code_lifetime = number("seconds")
    elif name == "device_timing":
        store.interval = number("interval", store.interval)
        store.device_expires_in = number("expires_in", store.device_expires_in)
        store.slow_down_increment = number("slow_down_increment", store.slow_down_increment)
    elif name == "page_size":
        store.page_size = number("n")
    elif name == "start_url":
        store.start_url = q.get("url") or None
    elif name == "revoke_refresh":
        for entry in store.refresh.values():
            entry["valid"] = False
    elif name == "expire_access":
        for entry in store.access.values():
            entry["expires"] = now()
    elif name == "expire_clients":
        for client in store.clients.values():
            client["expiresAt"] = now()
    elif name == "revoke_clients":
        store.clients = {}
    elif name in ("deny", "pending", "slow_down", "tamper_state"):
        setattr(store, name, number("times", 1))
    elif name == "assign" and method == "POST":
        store.assignments = {}
        for item in call.body:
            store.assign(item["account"], item["role"], item.get("name"), item.get("email"))
    elif name == "assign":
        store.assign(q["account"], q["role"], q.get("name"), q.get("email"))
    elif name == "unassign":
        roles = store.assignments.get(q["account"], {}).get("roles", [])
        if q["role"] in roles:
            roles.remove(q["role"])
    elif name == "fail":
        store.failures[q["op"]] = [q["mode"], number("times", 1)]
    elif name == "advance":
        advance(number("ms"))
    elif name == "quota":
        store.quota, store.recent = number("per_second"), []
    elif name == "generate":
        store.assignments = {}
        for i in range(number("accounts")):
            for j in range(number("roles")):
                store.assign(str(100000000000 + i), f"Role{j}", f"Account {i}")
    else:
        raise Answer(404, {"message": f"no hook {name}"})
    return {}


def over_quota():
    """Whether a portal call now goes over the quota (real time, not the tests' clock); counts
    it when it does not."""
    if not store.quota:
        return False
    moment = time.monotonic()
    store.recent = [t for t in store.recent if moment - t < 1.0]
    if len(store.recent) >= store.quota:
        return True
    store.recent.append(moment)
    return False


def injected_failure(operation):
    """Consumes one planned failure of `operation`; returns its mode or None."""
    failure = store.failures.get(operation)
    if failure and failure[1] > 0:
        failure[1] -= 1
        return failure[0]
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's and the Rust SDK's pools expect

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.handle_call("GET")

    def do_POST(self):
        self.handle_call("POST")

    def do_PUT(self):
        self.handle_call("PUT")

    def do_DELETE(self):
        self.handle_call("DELETE")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size] if size else b""
                if not size:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_call(self, method):
        path, _, query = self.path.partition("?")
        raw = self.read_body()
        try:
            answer = self.dispatch(method, path, query, raw)
        except Answer as error:
            answer = error
        except Exception as bug:  # noqa: BLE001 - a stand-in bug must fail the test, loudly
            traceback.print_exc()
            answer = Answer(500, {"message": f"sso_server.py bug: {bug!r}"},
                            [("x-amzn-ErrorType", "StandInBug")])
        if answer.status is None:  # "hang": hold the connection, answer nothing
            time.sleep(3600)
            return
        headers = [("x-amzn-RequestId", str(uuid.uuid4()))] + answer.headers
        self.send_response(answer.status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def dispatch(self, method, path, query, raw):
        if path.startswith("/_broker_test/"):
            try:
                body = json.loads(raw) if raw else None
                with store.lock:
                    return Answer(200, hook(Call(self, path, query, body), method))
            except (KeyError, ValueError, TypeError) as e:
                return Answer(400, {"message": f"bad hook call {path}?{query}: {e!r}"})
        route = ROUTES.get((method, path))
        if route is None:
            return Answer(404, {"message": f"No operation at {method} {path}"},
                          [("x-amzn-ErrorType", "UnknownOperationException")])
        operation, handler, api = route
        body = {}
        if api == "oidc":
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
        call = Call(self, path, query, body if isinstance(body, dict) else {})
        with store.lock:
            store.counts[operation] = store.counts.get(operation, 0) + 1
            if api == "oidc":
                params = dict(body) if isinstance(body, dict) else {"(body)": raw.decode("latin-1")}
                if "aws_iam" in call.query:
                    params["(query)"] = query
            elif api == "portal":
                params = {PORTAL_MEMBERS.get(k, k): v for k, v in call.query.items()}
                token = self.headers.get("x-amz-sso_bearer_token")
                if token is not None:
                    params["accessToken"] = token
            else:
                params = dict(call.query)
            store.requests.setdefault(operation, []).append(params)
            if api == "portal" and over_quota():
                store.counts["Throttled"] = store.counts.get("Throttled", 0) + 1
                return portal_error("TooManyRequestsException", "Rate exceeded")
            mode = injected_failure(operation)
        if mode == "hang":
            return Answer(None)
        if mode == "500":
            return Answer(500, "<html>oops</html>", content_type="text/html")
        if mode == "garbage":
            return Answer(200, b"\x00\xffnot json at all", content_type="application/json")
        if mode == "throttle":
            return portal_error("TooManyRequestsException", "Rate exceeded")
        if not isinstance(body, dict):
            raise oauth_error("InvalidRequestException", "The body is not a JSON object")
        with store.lock:
            result = handler(call)
        return Answer(200, b"" if result is None else result)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_port, flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
