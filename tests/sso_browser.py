"""The test browser of broker's SSO tests: what $BROWSER runs (tests/cli/common/sso.rs).

The Rust helper writes a one-line shell wrapper that runs `sso_browser.py DIR MODE -- ARGS...`,
so broker sees one program that takes the URL as its one argument, like a real $BROWSER. It:
  * appends the arguments it was given (after `--`) as one JSON line to DIR/browser-argv.jsonl,
    so tests can assert that no token or code ever appeared in a browser's argv;
  * given a file:// URL (broker's private page), reads the page at once, as a browser would,
    and takes the URL its refresh sends it to as the one to visit; what it found goes to
    DIR/browser-pages.jsonl as {"page", "mode", "target"};
  * returns at once, like xdg-open, and in a detached child (mode `follow`) GETs the URL with
    urllib, following redirects only to loopback hosts: the stand-in's /authorize answers 302 to
    the client's http://127.0.0.1:PORT/oauth/callback, and its /device?user_code=... approves a
    device authorization. What it saw goes to DIR/browser-visits.jsonl as
    {"url", "status", "final_url"} or {"url", "error"}.
Mode `inert` only logs the arguments: nobody signs in.
Exits 2 (after logging) unless it got exactly one argument.
"""

import html
import json
import os
import re
import stat
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class LoopbackOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).hostname not in LOOPBACK:
            raise urllib.error.URLError(f"refused to follow a redirect off loopback: {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def append(path, record):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def visit(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), LoopbackOnly)
    try:
        with opener.open(url, timeout=30) as response:
            response.read()
            return {"url": url, "status": response.status, "final_url": response.geturl()}
    except urllib.error.HTTPError as e:
        return {"url": url, "status": e.code, "final_url": e.geturl()}
    except Exception as e:  # noqa: BLE001 - whatever went wrong is the test's to read
        return {"url": url, "error": f"{type(e).__name__}: {e}"}


def read_page(directory, url):
    """The URL a private page sends the browser to, read as the browser would read it."""
    path = urlsplit(url).path
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', text)
    target = html.unescape(found.group(1)) if found else None
    mode = oct(stat.S_IMODE(os.stat(path).st_mode))
    append(os.path.join(directory, "browser-pages.jsonl"),
           {"page": path, "mode": mode, "target": target})
    return target


def main():
    directory, mode, separator, *args = sys.argv[1:]
    assert separator == "--"
    append(os.path.join(directory, "browser-argv.jsonl"), args)
    if len(args) != 1:
        sys.exit(2)
    url = args[0]
    if url.startswith("file://"):
        url = read_page(directory, url)
    if mode != "follow" or url is None or os.fork() != 0:
        return
    # The child: detached from whoever waits for the browser, and from their pipes.
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    append(os.path.join(directory, "browser-visits.jsonl"), visit(url))
    os._exit(0)


if __name__ == "__main__":
    main()
