"""moto's own server app (PyPI moto 5.x), on a free loopback port, with two test hooks.

Started by the Rust tests (tests/cli/common/moto.rs) with the venv's Python. It prints the port
it bound on its first stdout line, then serves moto's full WSGI app, exactly as `moto_server`
does, behind a thin layer that:
  * counts the AWS actions it receives (GET /_broker_test/counts -> {"AssumeRole": 2, ...}) and
    keeps their parameters (GET /_broker_test/requests -> {"AssumeRole": [{"RoleArn": ...}]}),
    with the access key id the request was signed with as `_AccessKeyId` (as CloudTrail logs it);
  * on request, answers the next N calls of an action with a failure instead of passing them to
    moto (GET /_broker_test/fail?action=AssumeRole&mode=500|429|garbage|throttle|expired|mfa|hang&times=N;
    429 is a bare HTTP 429 without an AWS error code, as a proxy's rate limit answers),
    to test broker's handling of broken endpoints;
  * on request, makes the credentials of later STS answers expire N seconds after they are
    issued (GET /_broker_test/lifetime?seconds=N), to test refreshing without waiting an hour,
    by the clock of the test's brokers once it is shared (GET /_broker_test/clock?file=PATH:
    the system clock plus the milliseconds in PATH, the file a test build of broker reads);
  * sums, per action, the wall-clock seconds spent reading the request body and inside moto's
    handler (GET /_broker_test/timings -> {"AssumeRole": 0.0123, ...}), for scripts/bench.sh.
Set INITIAL_NO_AUTH_ACTION_COUNT in the environment to make moto enforce SigV4 and IAM after
that many requests, as AWS checks every request after the tests' IAM set-up (see the README,
Development).
"""

import io
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

lock = threading.Lock()
counts = {}
requests = {}  # action -> [{param: value}], signature fields left out
timings = {}  # action -> seconds spent reading the body and inside moto's handler, summed
failures = {}  # action -> [mode, remaining]
lifetime = []  # [seconds] once set
clock_file = []  # [path] once shared


def now():
    """The system time, plus the offset in the shared clock file, if any."""
    offset = 0
    if clock_file:
        try:
            with open(clock_file[0]) as f:
                offset = int(f.read().strip() or 0)
        except FileNotFoundError:
            pass
    return time.time() + offset / 1000


def action_of(environ, body):
    for source in (body.decode("utf-8", "replace"), environ.get("QUERY_STRING", "")):
        values = parse_qs(source).get("Action")
        if values:
            return values[0]
    return None


def access_key_of(environ):
    """The access key id a SigV4 request was signed with: what CloudTrail logs as
    userIdentity.accessKeyId."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    if marker not in auth:
        return None
    return auth.split(marker, 1)[1].split("/", 1)[0]


def respond(start_response, status, body, content_type="application/json"):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def shorten(chunks, seconds):
    """Rewrites <Expiration> in an STS answer to `seconds` from now."""
    body = b"".join(chunks)
    start, end = body.find(b"<Expiration>"), body.find(b"</Expiration>")
    if start < 0 or end < 0:
        return body
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now() + seconds)).encode()
    return body[: start + len(b"<Expiration>")] + when + body[end:]


def timed(inner):
    """moto's app, adding the wall time of each call (and of its body read) to `timings`."""
    def call(environ, start_response):
        started = time.perf_counter()
        try:
            return inner(environ, start_response)
        finally:
            action = environ.get("broker_test.action")
            if action:
                elapsed = environ["broker_test.read_seconds"] + time.perf_counter() - started
                with lock:
                    timings[action] = timings.get(action, 0.0) + elapsed

    return call


def make_app(inner):
    inner = timed(inner)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_broker_test/counts":
            with lock:
                body = json.dumps(counts).encode()
            return respond(start_response, "200 OK", body)
        if path == "/_broker_test/requests":
            with lock:
                body = json.dumps(requests).encode()
            return respond(start_response, "200 OK", body)
        if path == "/_broker_test/timings":
            with lock:
                body = json.dumps(timings).encode()
            return respond(start_response, "200 OK", body)
        if path == "/_broker_test/lifetime":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            with lock:
                lifetime[:] = [int(query["seconds"][0])]
            return respond(start_response, "200 OK", b"{}")
        if path == "/_broker_test/clock":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            with lock:
                clock_file[:] = [query["file"][0]]
            return respond(start_response, "200 OK", b"{}")
        if path == "/_broker_test/fail":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            with lock:
                failures[query["action"][0]] = [query["mode"][0], int(query.get("times", ["1"])[0])]
            return respond(start_response, "200 OK", b"{}")

        started = time.perf_counter()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["broker_test.read_seconds"] = time.perf_counter() - started
        action = action_of(environ, body)
        environ["broker_test.action"] = action
        mode = None
        with lock:
            if action:
                counts[action] = counts.get(action, 0) + 1
                params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
                signer = access_key_of(environ)
                if signer:
                    params["_AccessKeyId"] = signer
                requests.setdefault(action, []).append(params)
                failure = failures.get(action)
                if failure and failure[1] > 0:
                    failure[1] -= 1
                    mode = failure[0]
        if mode == "500":
            return respond(start_response, "500 Internal Server Error", b"<html>oops</html>", "text/html")
        if mode == "429":
            return respond(start_response, "429 Too Many Requests", b"slow down", "text/plain")
        if mode == "garbage":
            return respond(start_response, "200 OK", b"\x00\xffnot xml at all", "text/xml")
        if mode == "throttle":
            xml = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                   b"<Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>")
            return respond(start_response, "400 Bad Request", xml, "text/xml")
        if mode == "expired":
            xml = (b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
                   b"<Message>The security token included in the request is expired</Message>"
                   b"</Error><RequestId>x</RequestId></ErrorResponse>")
            return respond(start_response, "400 Bad Request", xml, "text/xml")
        if mode == "mfa":
            xml = (b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                   b"<Message>MultiFactorAuthentication failed with invalid MFA one time pass code. "
                   b"</Message></Error><RequestId>x</RequestId></ErrorResponse>")
            return respond(start_response, "403 Forbidden", xml, "text/xml")
        if mode == "hang":
            time.sleep(3600)
        with lock:
            seconds = lifetime[0] if lifetime else None
        if seconds is None or action not in ("AssumeRole", "GetSessionToken"):
            return inner(environ, start_response)
        captured = []
        body = shorten(inner(environ, lambda status, headers, *exc: captured.append((status, headers))), seconds)
        status, headers = captured[0]
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    return app


def main():
    inner = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, make_app(inner), threaded=True)
    os.environ["MOTO_PORT"] = str(server.server_port)
    print(server.server_port, flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
