"""Runs a scenario with botocore's real sso-oidc and sso clients against the SSO stand-in.

tests/cli/sso_standin.rs uses it to prove that tests/sso_server.py speaks the real service's
wire format: if botocore, built from the AWS models, can drive a flow and parses each error
into the modeled exception, so will broker's aws-sdk-ssooidc and aws-sdk-sso. The scenario
(Python, on stdin) runs with the helpers below in scope and fills the dict `result`, printed
as JSON on stdout for the Rust test to assert on. The clients find the stand-in through
AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO, as broker's clients will; they never
retry, so the stand-in's counts are exact.
"""

import base64
import hashlib
import json
import os
import secrets
import string
import sys
import textwrap
import urllib.error
import urllib.request
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL_SSO_OIDC"]
START_URL = "https://d-1234567890.awsapps.com/start"
CALLBACK = "http://127.0.0.1/oauth/callback"  # as a client registers it: no port
CALLBACK_WITH_PORT = "http://127.0.0.1:{}/oauth/callback".format(
    os.environ.get("CALLBACK_PORT", "53123"))  # as it sends it: its listener's port
SCOPES = ["sso:account:access"]

session = botocore.session.Session()
config = Config(region_name="us-east-1", retries={"total_max_attempts": 1})
oidc = session.create_client("sso-oidc", config=config)
sso = session.create_client("sso", config=config)
result = {}


def advance(seconds):
    """Moves the stand-in's clock forward instead of sleeping (see tests/sso_server.py)."""
    urllib.request.urlopen(
        ENDPOINT + "/_broker_test/advance?ms={}".format(int(seconds * 1000))).read()


def pkce():
    """A (verifier, challenge) pair made as the AWS CLI makes it."""
    alphabet = string.ascii_letters + string.digits + "-._~"
    verifier = "".join(secrets.choice(alphabet) for _ in range(64))
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def register_pkce(scopes=SCOPES, redirect_uris=(CALLBACK,)):
    """RegisterClient as the AWS CLI v2 does for the authorization code flow."""
    return oidc.register_client(
        clientName="botocore-client-test", clientType="public",
        grantTypes=["authorization_code", "refresh_token"], redirectUris=list(redirect_uris),
        issuerUrl=START_URL, scopes=scopes)


def register_device(scopes=SCOPES):
    """RegisterClient as the AWS CLI v2 does for the device code flow (no grantTypes)."""
    kwargs = {"clientName": "botocore-client-test", "clientType": "public"}
    if scopes:
        kwargs["scopes"] = scopes
    return oidc.register_client(**kwargs)


def authorize_url(reg, challenge, state="state-1", redirect_uri=CALLBACK_WITH_PORT,
                  method="S256", scopes=" ".join(SCOPES), client_id=None):
    """The browser URL of the authorization code flow, built as the AWS CLI v2 builds it."""
    params = {"response_type": "code", "client_id": client_id or reg["clientId"],
              "redirect_uri": redirect_uri, "state": state, "code_challenge_method": method}
    if scopes is not None:
        params["scopes"] = scopes
    return f"{ENDPOINT}/authorize?{urlencode(params, quote_via=quote)}&code_challenge={challenge}"


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browse(url):
    """A browser's first request, not following redirects: {"status", "location", "query"},
    `query` being the redirect's parameters (code, state, error)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _Stay)
    try:
        with opener.open(url, timeout=30) as response:
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as e:
        status, headers = e.code, e.headers
    location = headers.get("Location")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location or "").query).items()}
    return {"status": status, "location": location, "query": query}


def exchange(reg, code, verifier, redirect_uri=CALLBACK_WITH_PORT):
    return oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"],
        grantType="authorization_code", code=code, redirectUri=redirect_uri,
        codeVerifier=verifier)


def sign_in(reg):
    """The whole authorization code flow: authorize (the user signs in), then CreateToken."""
    verifier, challenge = pkce()
    answer = browse(authorize_url(reg, challenge))
    assert answer["status"] == 302, answer
    return exchange(reg, answer["query"]["code"], verifier)


def refresh(reg, refresh_token):
    return oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"],
        grantType="refresh_token", refreshToken=refresh_token)


def poll(reg, device_code):
    return oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"],
        grantType="urn:ietf:params:oauth:grant-type:device_code", deviceCode=device_code)


def error(call, *args, **kwargs):
    """Runs a call that must fail; what botocore made of the error: the exception class
    (a modeled one, or ClientError), Code, Message, HTTP status, and the modeled OAuth members
    `error` and `error_description` that botocore parsed from the body."""
    try:
        call(*args, **kwargs)
    except ClientError as e:
        r = e.response
        return {"class": type(e).__name__, "code": r["Error"]["Code"],
                "message": r["Error"].get("Message"),
                "status": r["ResponseMetadata"]["HTTPStatusCode"],
                "error": r.get("error"), "error_description": r.get("error_description")}
    raise AssertionError(f"{getattr(call, '__name__', call)} did not fail")


def plain(answer):
    """An answer without botocore's ResponseMetadata."""
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def main():
    scenario = textwrap.dedent(sys.stdin.read())
    exec(compile(scenario, "<scenario>", "exec"), globals())
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main()
