"""An HTTPS front for the network tests: TLS with a certificate of a CA made for the test
(PyPI trustme, tests/requirements.txt), forwarding every request, its Host header as sent, to a
plain-HTTP stand-in on loopback (moto, the SSO stand-in).

Run as `tls_front.py UPSTREAM_PORT CA_PATH`: writes the CA's certificate (PEM) to CA_PATH, then
prints the port it bound on 127.0.0.1 on its first stdout line. Its certificate is good for
`*.broker-test.invalid`, `localhost` and `127.0.0.1`. Connections are kept alive (HTTP/1.1), as
AWS's are, so that a client can reuse one.
"""

import http.client
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme


def main():
    upstream_port = int(sys.argv[1])
    ca = trustme.CA()
    ca.cert_pem.write_to_path(sys.argv[2])
    cert = ca.issue_cert("*.broker-test.invalid", "localhost", "127.0.0.1")

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            # The Host header goes on as sent: a signed request's signature covers it.
            headers = dict(self.headers.items())
            upstream.request(self.command, self.path, body, headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_port, flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
