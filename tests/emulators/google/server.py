"""HTTP layer: routing for the Calendar API (/calendar/v3), the OAuth
endpoints (/token, /revoke) and the control API (/_emu/...).

Responses are written in one piece with Content-Length over HTTP/1.1
keep-alive; TCP_NODELAY avoids Nagle stalls between requests."""

import base64
import json
import socket
import sys
import time
import traceback
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import fields, listing
from .control import handle_control
from .faults import Faults, Stats, error_for
from .store import Store, parse_form
from .util import ApiError, OAuthError, Response, dumps, error_response, json_response

API_PREFIX = "/calendar/v3"
GARBAGE_BODY = b'{"kind": "calendar#events", "items": [{"id": "<html>upstream hiccup'


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, base_config=None, verbose=False, state_file=None):
        super().__init__(address, Handler)
        self.store = Store()
        self.base_config = dict(self.store.config, **(base_config or {}))
        self.store.config = dict(self.base_config)
        self.faults = Faults()
        self.stats = Stats()
        self.verbose = verbose
        self.state_file = state_file


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "google-emu/1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.api_seen = False   # counted in stats once it carries an API request

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("google-emu: %s\n" % (fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing -----------------------------------------------------------

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, resp):
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = "Status"
        lines = ["HTTP/1.1 %d %s" % (resp.status, reason), "Server: google-emu/1"]
        if resp.status not in (204, 304):
            lines += ["Content-Type: " + resp.ctype, "Content-Length: %d" % len(resp.body)]
        lines += ["%s: %s" % kv for kv in resp.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (b"" if resp.status in (204, 304) else resp.body))
        self.log_request(resp.status)

    def drop(self):
        """Close the connection without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def json_body(self, raw):
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "parseError", "Parse Error")

    # -- dispatch -------------------------------------------------------------

    def dispatch(self):
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, split.query
        raw = self.read_body()
        try:
            if path == "/_emu" or path.startswith("/_emu/"):
                return self.send(self.run(lambda: self.control(path, query, raw)))
            kind, action = self.route(path)
        except ApiError as err:
            self.server.stats.record(self.command, "unknown", err.code)
            return self.send(error_response(err))
        self.api_request(kind, action, path, query, raw)

    def api_request(self, kind, action, path, query, raw):
        server, method = self.server, self.command
        if not self.api_seen:
            self.api_seen = True
            server.stats.connection()
        try:
            selection = fields.selection(kind, query)
        except ApiError as err:
            server.stats.record(method, kind, err.code)
            return self.send(error_response(err))
        plan = server.faults.plan(method, path, query)
        if plan.delay_ms:
            time.sleep(plan.delay_ms / 1000.0)
        rule = plan.terminal
        if rule is not None:
            server.stats.record(method, kind, "dropped" if rule["action"] == "drop" else rule.get("status", 200), True)
            if rule["action"] == "drop":
                return self.drop()
            if rule["action"] == "garbage":
                return self.send(Response(rule.get("status", 200), GARBAGE_BODY))
            return self.send(error_response(error_for(rule)))
        self.selection = selection
        resp = fields.narrow(selection, kind, self.run(lambda: action(query, raw, plan)))
        if plan.after is not None:
            server.stats.record(method, kind, resp.status, True)
            if plan.after.get("then") == "drop":
                return self.drop()
            return self.send(error_response(error_for(plan.after)))
        server.stats.record(method, kind, resp.status)
        self.send(resp)

    def run(self, fn):
        """Call fn under the store lock; map exceptions to responses."""
        try:
            with self.server.store.lock:
                return fn()
        except ApiError as err:
            return error_response(err)
        except OAuthError as err:
            return Response(err.code, dumps(err.body()))
        except Exception as exc:  # an emulator bug: say so loudly
            traceback.print_exc()
            return json_response({"error": {"code": 500, "message": "emulator bug: %r" % exc,
                                            "errors": [{"domain": "global", "reason": "backendError",
                                                        "message": "emulator bug"}]}}, 500)

    # -- API routing ------------------------------------------------------------

    def route(self, path):
        """(stats kind, handler(query, raw, plan)) for an API/OAuth request."""
        method = self.command
        if path in ("/token", "/revoke"):
            if method != "POST":
                raise ApiError(404, "notFound", "Not Found")
            return path[1:], (self.oauth_token if path == "/token" else self.oauth_revoke)
        if not path.startswith(API_PREFIX + "/"):
            raise ApiError(404, "notFound", "Not Found")
        seg = [urllib.parse.unquote(s) for s in path[len(API_PREFIX) + 1:].split("/")]
        if seg[:3] == ["users", "me", "calendarList"] and method == "GET":
            if len(seg) == 3:
                return "calendarList", lambda q, r, p: self.calendar_list(q)
            if len(seg) == 4:
                return "calendarList", lambda q, r, p: self.calendar_list_entry(seg[3])
        if seg[0] == "calendars" and len(seg) == 2 and method == "GET":
            return "calendar", lambda q, r, p: self.calendar_get(seg[1])
        if seg == ["channels", "stop"] and method == "POST":
            return "channels.stop", lambda q, r, p: self.channels_stop(r)
        if seg[0] == "calendars" and len(seg) == 4 and seg[2:] == ["events", "watch"] and seg[1] \
                and method == "POST":
            return "watch", lambda q, r, p: self.events_watch(seg[1], r)
        if seg[0] == "calendars" and len(seg) in (3, 4) and seg[2] == "events" and seg[1]:
            return self.event_route(method, seg)
        raise ApiError(404, "notFound", "Not Found")

    def event_route(self, method, seg):
        cid = seg[1]
        if len(seg) == 3:
            if method == "GET":
                return "list", lambda q, r, p: self.events_list(cid, q, p)
            if method == "POST":
                return "insert", lambda q, r, p: self.events_insert(cid, r)
            raise ApiError(404, "notFound", "Not Found")
        eid = seg[3]
        kinds = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
        if method not in kinds or not eid:
            raise ApiError(404, "notFound", "Not Found")
        return kinds[method], lambda q, r, p: self.event_write(kinds[method], cid, eid, r)

    # -- API handlers (called under the store lock) ---------------------------

    def account(self):
        return self.server.store.authenticate(self.headers.get("Authorization"))

    def calendar_list(self, query):
        store = self.server.store
        return Response(200, listing.list_calendars(store, self.account(), urllib.parse.parse_qs(query)))

    def calendar_list_entry(self, cid):
        store = self.server.store
        _, entry = store.resolve_calendar(self.account(), cid)
        return json_response(listing.calendar_entry(store, entry))

    def calendar_get(self, cid):
        cal, _ = self.server.store.resolve_calendar(self.account(), cid)
        return json_response({"kind": "calendar#calendar", "etag": '"c%d"' % cal.last_seq,
                              "id": cal.id, "summary": cal.meta.get("summary", cal.id),
                              "timeZone": cal.tz})

    def events_list(self, cid, query, plan):
        store = self.server.store
        cal, entry = store.resolve_calendar(self.account(), cid)
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        return Response(200, listing.list_events(store, cal, entry, params, plan.list_mods(),
                                                 self.selection))

    def events_insert(self, cid, raw):
        store = self.server.store
        account = self.account()
        cal, _ = store.resolve_calendar(account, cid, write=True)
        event = cal.insert(self.json_body(raw), store, account.email)
        return Response(200, event.full_json())

    def event_write(self, kind, cid, eid, raw):
        store = self.server.store
        cal, _ = store.resolve_calendar(self.account(), cid, write=(kind != "get"))
        if kind == "get":
            event, _ = cal.find(eid)
            etag = event.res.get("etag")
            if etag and self.headers.get("If-None-Match") in (etag, etag.strip('"')):
                return Response(304)
            return Response(200, event.full_json())
        if_match = self.headers.get("If-Match")
        if kind == "delete":
            cal.delete(eid, store, if_match)
            return Response(204)
        body = self.json_body(raw)
        event = cal.update(eid, body, store, if_match, patch=(kind == "patch"))
        return Response(200, event.full_json())

    def events_watch(self, cid, raw):
        store = self.server.store
        cal, _ = store.resolve_calendar(self.account(), cid)
        return json_response(store.channels.watch(cal.id, self.json_body(raw)))

    def channels_stop(self, raw):
        self.account()
        self.server.store.channels.stop(self.json_body(raw))
        return Response(204)

    def oauth_token(self, query, raw, plan):
        form = parse_form(raw, self.headers.get("Content-Type"))
        self._basic_client_auth(form)
        return json_response(self.server.store.grant(form))

    def _basic_client_auth(self, form):
        """Client credentials may also come as HTTP Basic auth."""
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic " and "client_id" not in form:
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                raise OAuthError(401, "invalid_client", "Unauthorized")
            form["client_id"] = urllib.parse.unquote(user)
            form["client_secret"] = urllib.parse.unquote(password)

    def oauth_revoke(self, query, raw, plan):
        form = parse_form(raw, self.headers.get("Content-Type"))
        token = form.get("token") or urllib.parse.parse_qs(query).get("token", [None])[0]
        if not token:
            raise OAuthError(400, "invalid_request", "Missing required parameter: token")
        self.server.store.revoke(token)
        return json_response({})

    # -- control API ------------------------------------------------------------

    def control(self, path, query, raw):
        return handle_control(self, path[len("/_emu"):].strip("/"), query, raw)
