#!/usr/bin/python3
"""tests/emulators/icloud_front.py - an iCloud-like CalDAV entry point in front
of a Radicale server (stdlib only), for calsync's tests, bench and demo.

What it adds to Radicale, as iCloud does (shared/reference/provider-apis.md):
- two hosts: the entry host (--port) answers every request with a redirect
  (301, Location on the partition host, same path) - the partition host
  (another port counts as another host) serves CalDAV;
- a principal under a numeric id: /<id>/principal/ is Radicale's /<user>/
  principal, /<id>/calendars/<name>/ its /<user>/<name>/ collection; every
  href in an answer is rewritten to those forms, so a client that follows
  the hrefs it is given works and one that guesses Radicale's paths does not;
- a switch that hides sync-collection (RFC 6578): REPORT sync-collection is
  answered 403 with the DAV:supported-report precondition (RFC 3253 3.6),
  and sync-token / supported-report-set are left out of PROPFIND answers, so
  clients must fall back to ctag + etag comparison.
Authorization headers pass through unchanged: Radicale checks them.

Control API on the entry host (no auth): POST /_front/sync-collection with
body "on" or "off"; GET /_front/stats -> {"requests": {method: n}, "total": n}
(partition host requests, by method); POST /_front/stats/reset.

Prints "LISTENING <entry port> <partition port>" when ready.

    /usr/bin/python3 tests/emulators/icloud_front.py --radicale URL --user NAME
        [--port N] [--partition-port N] [--principal-id 123456789]
"""

import argparse
import http.client
import http.server
import json
import re
import sys
import threading
import urllib.parse

HIDDEN_REPORT = (b'<?xml version="1.0" encoding="utf-8"?>'
                 b'<D:error xmlns:D="DAV:"><D:supported-report/></D:error>')


class State:
    def __init__(self, args):
        self.radicale = urllib.parse.urlsplit(args.radicale)
        self.user = args.user
        self.pid = args.principal_id
        self.sync_collection = True
        self.partition_port = None
        self.lock = threading.Lock()
        self.counts = {}

    def count(self, method):
        with self.lock:
            self.counts[method] = self.counts.get(method, 0) + 1

    def to_radicale(self, path):
        """The Radicale path of a front path, or None when the front has no such path."""
        principal = f"/{self.pid}/principal/"
        calendars = f"/{self.pid}/calendars/"
        if path in ("/", "/.well-known/caldav") or path.startswith(principal):
            return f"/{self.user}/"
        if path.startswith(calendars):
            return f"/{self.user}/" + path[len(calendars):]
        return None

    def to_radicale_body(self, body):
        """The front's hrefs in a request body (calendar-multiget) -> Radicale's."""
        text = body.decode("utf-8")
        for front in (f"/{self.pid}/calendars/", f"/{self.pid}/principal/"):
            text = text.replace(front, f"/{self.user}/")
        return text.encode("utf-8")

    def rewrite(self, body):
        """Radicale's hrefs in an XML answer -> the front's forms."""
        text = body.decode("utf-8")
        user = re.escape(f"/{self.user}/")
        # the principal where an answer names it, the calendar home everywhere else
        text = re.sub(r"(current-user-principal>\s*<(?:\w+:)?href>)" + user,
                      lambda m: m.group(1) + f"/{self.pid}/principal/", text)
        text = re.sub(r"(principal-URL>\s*<(?:\w+:)?href>)" + user,
                      lambda m: m.group(1) + f"/{self.pid}/principal/", text)
        text = re.sub(r"(>\s*)" + user, lambda m: m.group(1) + f"/{self.pid}/calendars/", text)
        if not self.sync_collection:
            text = re.sub(r"<(\w+:)?sync-token\b[^>]*(/>|>.*?</(\w+:)?sync-token>)", "", text,
                          flags=re.S)
            text = re.sub(r"<(\w+:)?supported-report-set\b.*?</(\w+:)?supported-report-set>", "",
                          text, flags=re.S)
        return text.encode("utf-8")


def make_handler(state, partition):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def answer(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def control(self, body):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/_front/sync-collection" and self.command == "POST":
                state.sync_collection = body.strip() != b"off"
                return self.answer(204)
            if path == "/_front/stats" and self.command == "GET":
                with state.lock:
                    out = {"requests": dict(state.counts), "total": sum(state.counts.values())}
                return self.answer(200, json.dumps(out).encode(),
                                   [("Content-Type", "application/json")])
            if path == "/_front/stats/reset" and self.command == "POST":
                with state.lock:
                    state.counts.clear()
                return self.answer(204)
            return self.answer(404)

        def redirect(self):
            host = self.headers.get("Host", "127.0.0.1").rsplit(":", 1)[0]
            self.answer(301, headers=[("Location",
                                       f"http://{host}:{state.partition_port}{self.path}")])

        def proxy(self, body):
            state.count(self.command)
            split = urllib.parse.urlsplit(self.path)
            target = state.to_radicale(urllib.parse.unquote(split.path))
            if target is None:
                return self.answer(404)
            if (self.command == "REPORT" and not state.sync_collection
                    and b"sync-collection" in body):
                return self.answer(403, HIDDEN_REPORT,
                                   [("Content-Type", "application/xml; charset=utf-8")])
            conn = http.client.HTTPConnection(state.radicale.hostname, state.radicale.port,
                                              timeout=60)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "content-length", "connection",
                                            "accept-encoding")}
            if body and self.command in ("REPORT", "PROPFIND"):
                body = state.to_radicale_body(body)
            try:
                conn.request(self.command, urllib.parse.quote(target), body=body or None,
                             headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in ("content-length", "connection", "transfer-encoding",
                                            "location")]
                if "xml" in (resp.getheader("Content-Type") or "") and data:
                    data = state.rewrite(data)
                self.answer(resp.status, data, out)
            finally:
                conn.close()

        def handle_any(self):
            body = self.body()
            if self.path.startswith("/_front/"):
                return self.control(body) if not partition else self.answer(404)
            if not partition:
                return self.redirect()
            return self.proxy(body)

        do_GET = do_PUT = do_DELETE = do_POST = do_OPTIONS = handle_any
        do_PROPFIND = do_REPORT = do_MKCALENDAR = do_MKCOL = do_PROPPATCH = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--radicale", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--partition-port", type=int, default=0)
    ap.add_argument("--principal-id", default="123456789")
    args = ap.parse_args()
    state = State(args)
    entry = http.server.ThreadingHTTPServer((args.host, args.port), make_handler(state, False))
    part = http.server.ThreadingHTTPServer((args.host, args.partition_port),
                                           make_handler(state, True))
    state.partition_port = part.server_address[1]
    for srv in (entry, part):
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(f"LISTENING {entry.server_address[1]} {state.partition_port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
