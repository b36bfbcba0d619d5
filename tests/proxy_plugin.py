"""A plugin of the CONNECT proxy the network tests start (PyPI proxy.py, tests/requirements.txt).

`*.broker-test.invalid` resolves to 127.0.0.1 here, inside the proxy, and nowhere else (RFC 6761:
`.invalid` never resolves), so a call that reached such a host went through the proxy. Every
destination the proxy connects to is appended as `HOST:PORT` to the file named by
BROKER_TEST_PROXY_LOG: one line per CONNECT (or per forwarded plain-HTTP request).
"""

import os

from proxy.http.proxy import HttpProxyBasePlugin


class BrokerTestDns(HttpProxyBasePlugin):
    def resolve_dns(self, host, port):
        with open(os.environ["BROKER_TEST_PROXY_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{host}:{port}\n")
        if host.endswith(".broker-test.invalid"):
            return "127.0.0.1", None
        return None, None
