"""moto's own server app (PyPI moto 5.x), on a free loopback port, with two test hooks.

Started by the Rust tests (tests/cli/common/moto.rs) with the venv's Python. It prints the port
it bound on its first stdout line, then serves moto's full WSGI app, exactly as `moto_server`
does, behind a thin layer that:
  * counts the AWS actions it receives (GET /_broker_test/counts -> {"AssumeRole": 2, ...});
  * on request, answers the next N calls of an action with a failure instead of passing them to
    moto (POST /_broker_test/fail?action=AssumeRole&mode=500|garbage|throttle|hang&times=N),
    to test broker's handling of broken endpoints.
Set INITIAL_NO_AUTH_ACTION_COUNT in the environment to make moto enforce SigV4 and IAM after
that many requests, as SPEC.md section 9 asks.
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
failures = {}  # action -> [mode, remaining]


def action_of(environ, body):
    for source in (body.decode("utf-8", "replace"), environ.get("QUERY_STRING", "")):
        values = parse_qs(source).get("Action")
        if values:
            return values[0]
    return None


def respond(start_response, status, body, content_type="application/json"):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def make_app(inner):
    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_broker_test/counts":
            with lock:
                body = json.dumps(counts).encode()
            return respond(start_response, "200 OK", body)
        if path == "/_broker_test/fail":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            with lock:
                failures[query["action"][0]] = [query["mode"][0], int(query.get("times", ["1"])[0])]
            return respond(start_response, "200 OK", b"{}")

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = action_of(environ, body)
        mode = None
        with lock:
            if action:
                counts[action] = counts.get(action, 0) + 1
                failure = failures.get(action)
                if failure and failure[1] > 0:
                    failure[1] -= 1
                    mode = failure[0]
        if mode == "500":
            return respond(start_response, "500 Internal Server Error", b"<html>oops</html>", "text/html")
        if mode == "garbage":
            return respond(start_response, "200 OK", b"\x00\xffnot xml at all", "text/xml")
        if mode == "throttle":
            xml = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                   b"<Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>")
            return respond(start_response, "400 Bad Request", xml, "text/xml")
        if mode == "hang":
            time.sleep(3600)
        return inner(environ, start_response)

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
