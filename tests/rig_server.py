"""The test rig's launcher: starts moto and the SSO stand-in for test processes that cannot
start them themselves.

scripts/wine-test.sh runs broker's Windows tests under Wine, and a Windows process there can
start a Linux program but not read its pipes or wait for it. So the script starts this launcher
on Linux, with the venv's Python, and hands its address to the tests in BROKER_TEST_RIG; the
tests' helpers (tests/cli/common/rig.rs) then ask it, over HTTP on loopback, for a fresh moto or
SSO stand-in per test, as they would otherwise spawn one. Standard library only.

It prints the port it bound on 127.0.0.1 on its first stdout line, then answers:
  POST /start  {"script": "moto_server.py" | "sso_server.py", "env": {NAME: VALUE}}
               -> {"id": N, "port": P}: the script, run from tests/ with this Python and the
               launcher's environment plus `env`, printed port P on its first line.
               A value that is a Windows path (`C:\\...`) is given as the Linux path of the
               same file in the Wine prefix named by --wine-prefix (a clock file the test and
               the stand-in share, say).
  POST /stop?id=N  ends that server (and is answered once it has exited).
  POST /path   with a path as the body -> the path by which the servers reach that file (a
               Windows path translated as above; anything else as it is), for a test that
               names a file to a server it already started.
Errors are 400/500 with a one-line text body. When the launcher ends (SIGTERM, or its stdin
closing), every server it started ends too.

Usage: rig_server.py [--wine-prefix DIR]
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ("moto_server.py", "sso_server.py")
WINDOWS_PATH = re.compile(r"^([A-Za-z]):\\(.*)$")

lock = threading.Lock()
servers = {}  # id -> Popen
next_id = [1]
wine_prefix = [None]


def linux_path(value):
    """The Linux path of a Windows path in the Wine prefix (through its dosdevices links);
    anything else unchanged."""
    match = WINDOWS_PATH.match(value)
    if not match or not wine_prefix[0]:
        return value
    drive = os.path.join(wine_prefix[0], "dosdevices", match.group(1).lower() + ":")
    root = os.path.realpath(drive)
    return os.path.join(root, *[p for p in match.group(2).split("\\") if p])


def start(script, env):
    if script not in SCRIPTS:
        raise ValueError(f"no such server: {script!r} (one of {', '.join(SCRIPTS)})")
    full = dict(os.environ)
    full.pop("AWS_PROFILE", None)
    full.update({k: linux_path(str(v)) for k, v in env.items()})
    child = subprocess.Popen(
        [sys.executable, os.path.join(HERE, script)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=full,
    )
    line = child.stdout.readline().decode(errors="replace").strip()
    child.stdout.close()
    if not line.isdigit():
        child.kill()
        child.wait()
        raise RuntimeError(f"{script} did not start (printed {line!r})")
    with lock:
        ident = next_id[0]
        next_id[0] += 1
        servers[ident] = child
    return {"id": ident, "port": int(line)}


def stop(ident):
    with lock:
        child = servers.pop(ident, None)
    if child is None:
        raise ValueError(f"no server {ident}")
    child.kill()
    child.wait()


def stop_all(*_):
    with lock:
        children = list(servers.values())
        servers.clear()
    for child in children:
        child.kill()
        child.wait()
    os._exit(0)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if url.path == "/start":
                request = json.loads(body or b"{}")
                reply = start(request.get("script", ""), request.get("env", {}))
                return self.answer(200, json.dumps(reply))
            if url.path == "/path":
                return self.answer(200, linux_path(body.decode()), "text/plain")
            if url.path == "/stop":
                stop(int(parse_qs(url.query)["id"][0]))
                return self.answer(200, "{}")
            return self.answer(404, f"no such endpoint: {url.path}", "text/plain")
        except (ValueError, KeyError) as e:
            return self.answer(400, str(e), "text/plain")
        except Exception as e:  # noqa: BLE001 - the test reads what went wrong
            return self.answer(500, f"{type(e).__name__}: {e}", "text/plain")


def main():
    args = sys.argv[1:]
    if args[:1] == ["--wine-prefix"] and len(args) == 2:
        wine_prefix[0] = args[1]
    elif args:
        sys.exit(__doc__.strip().splitlines()[-1])
    signal.signal(signal.SIGTERM, stop_all)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_port, flush=True)
    # Whoever started the launcher holds its stdin: when that closes, everything ends.
    sys.stdin.read()
    stop_all()


if __name__ == "__main__":
    main()
