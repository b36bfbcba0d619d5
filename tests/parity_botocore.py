"""The oracle of the parity test (tests/cli/parity.rs): what botocore makes of a profile.

For each case (JSON on stdin: a list of {name, profile, dir, env}), botocore from the test venv
loads the AWS config and credentials files in `dir` (`botocore-config` when present, else
`config`; `credentials`) with the case's environment, resolves the profile's credentials with
its own credential providers, and we record what it would send: the region it resolves and
every STS call its providers make on the way (role ARN, session name, external id, MFA serial,
duration, source identity, tags, and which credentials sign it). Nothing leaves the process:
each STS client botocore creates answers from a `before-call` hook (botocore's own mechanism
for stubbing a call) with made-up credentials that name the call, so the next hop's signature
shows which credentials it was assumed with. The MFA prompt answers a fixed code. For IAM
Identity Center profiles, a signed-in token is put in a cache of the case's own for every
`[sso-session]` and legacy start URL, so botocore's SSO provider makes its GetRoleCredentials
call without a browser.

Run as `parity_botocore.py process NAME`, it is a credential_process that prints made-up
credentials naming NAME, so a chain's source shows which profile's process it came from.

Prints a JSON list of results, one per case, in order.
"""

import datetime
import hashlib
import json
import os
import sys

import botocore.credentials
import botocore.session
import botocore.tokens
from botocore.awsrequest import AWSResponse

FAR = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)
MFA_CODE = "123456"


def process(name):
    print(json.dumps({
        "Version": 1, "AccessKeyId": f"PROCESS-{name}", "SecretAccessKey": "not-a-secret",
        "SessionToken": "not-a-token", "Expiration": "2100-01-01T00:00:00Z"}))


def resolve(case):
    directory = case["dir"]
    config = os.path.join(directory, "botocore-config")
    if not os.path.exists(config):
        config = os.path.join(directory, "config")
    os.environ.clear()
    os.environ.update({
        "HOME": directory, "PATH": BASE_PATH, "AWS_CONFIG_FILE": config,
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(directory, "credentials"),
        # Never probe the metadata service, whatever the case says.
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    os.environ.update(case["env"])

    session = botocore.session.Session(profile=case["profile"])
    calls = []
    create_client = session.create_client

    def recording_client(service_name, *args, **kwargs):
        client = create_client(service_name, *args, **kwargs)
        signer = kwargs.get("aws_access_key_id")

        def params(params, model, **_):
            calls.append({"service": service_name, "operation": model.name,
                          "params": dict(params), "signed_with": signer})

        def answer(params, model, **_):
            calls[-1]["url"] = params.get("url")
            key = f"CALL{len(calls) - 1}"
            if model.name == "GetRoleCredentials":
                body = {"roleCredentials": {
                    "accessKeyId": key, "secretAccessKey": "not-a-secret",
                    "sessionToken": "not-a-token", "expiration": int(FAR.timestamp() * 1000)}}
            else:
                body = {"Credentials": {
                    "AccessKeyId": key, "SecretAccessKey": "not-a-secret",
                    "SessionToken": "not-a-token", "Expiration": FAR}}
            return AWSResponse(params.get("url"), 200, {}, None), body

        client.meta.events.register("before-parameter-build", params)
        client.meta.events.register("before-call", answer)
        return client

    # The credential providers create their STS clients through the session at call time.
    session.create_client = recording_client
    sign_in(session, os.path.join(directory, "sso-cache"))
    result = {"name": case["name"]}
    try:
        result["region"] = session.get_config_variable("region")
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        result["region_error"] = f"{type(e).__name__}: {e}"
    try:
        resolver = session.get_component("credential_provider")
        resolver.get_provider("assume-role")._prompter = lambda _prompt: MFA_CODE
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials else None
        result["credentials"] = frozen.access_key if frozen else None
    except Exception as e:  # noqa: BLE001 - the error is the answer
        result["error"] = {"type": type(e).__name__, "message": str(e)}
    result["calls"] = [describe(call) for call in calls]
    return result


def sign_in(session, cache):
    """A valid IAM Identity Center token for every sso-session and legacy start URL of the
    config, in a token cache of the case's own (botocore fixes its default at import)."""
    botocore.credentials.SSOProvider._SSO_TOKEN_CACHE_DIR = cache
    botocore.tokens.SSOTokenProvider._SSO_TOKEN_CACHE_DIR = cache
    try:
        config = session.full_config
    except Exception:  # noqa: BLE001 - the resolution reports it
        return
    tokens = {name: s.get("sso_start_url") for name, s in config.get("sso_sessions", {}).items()}
    tokens.update({p["sso_start_url"]: p["sso_start_url"]
                   for p in config.get("profiles", {}).values() if "sso_start_url" in p})
    os.makedirs(cache, exist_ok=True)
    for key, start_url in tokens.items():
        path = os.path.join(cache, hashlib.sha1(key.encode()).hexdigest() + ".json")
        with open(path, "w") as f:
            json.dump({"startUrl": start_url, "region": "us-east-1",
                       "accessToken": "not-a-token", "expiresAt": "2100-01-01T00:00:00Z"}, f)


def describe(call):
    """A call as the parity test compares it: the STS parameters by name, tokens left out."""
    p = call["params"]
    duration = p.get("DurationSeconds")
    return {
        "action": call["operation"],
        "signed_with": call["signed_with"],
        "url": call.get("url"),
        "role_arn": p.get("RoleArn"),
        "session_name": p.get("RoleSessionName"),
        "external_id": p.get("ExternalId"),
        "mfa_serial": p.get("SerialNumber"),
        "token_code_sent": "TokenCode" in p,
        "duration_seconds": int(duration) if duration is not None else None,
        "source_identity": p.get("SourceIdentity"),
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in p.get("Tags", [])],
        "transitive_tag_keys": list(p.get("TransitiveTagKeys", [])),
        # The web identity token is the token file's path (the test writes it so).
        "web_identity_token": p.get("WebIdentityToken"),
        # IAM Identity Center's GetRoleCredentials.
        "sso_account_id": p.get("accountId"),
        "sso_role_name": p.get("roleName"),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "process":
        process(sys.argv[2])
        sys.exit(0)
    BASE_PATH = os.environ.get("PATH", "/usr/bin:/bin")
    cases = json.load(sys.stdin)
    print(json.dumps([resolve(case) for case in cases]))
