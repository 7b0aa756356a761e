"""HTTP layer of the Graph emulator: the token endpoint (/token), Graph v1.0
calendars under /v1.0/me/..., and the control API under /_emu/ (control.py).

Every API request is authenticated by its Bearer token, which names a
mailbox; the requests of one mailbox in flight at once are counted (the
most ever seen is in /_emu/stats) - Outlook allows 4 per app and mailbox."""

import json
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .control import Control
from .delta import Deltas
from .model import Calendar
from .subscriptions import Subscriptions
from .util import GraphError, dumps

PREFIX = "/v1.0"
EXPAND_RE = re.compile(r"id eq '([^']*)'")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, verbose=False, token_lifetime=3600):
        super().__init__(address, Handler)
        self.lock = threading.RLock()
        self.verbose = verbose
        self.token_lifetime = token_lifetime
        self.calendars = {}        # id -> Calendar
        self.refresh_tokens = {}   # token -> {"mailbox", "client_id", "alive"}
        self.access_tokens = {}    # token -> {"mailbox", "expires"}
        self.deltas = Deltas(self)
        self.control = Control(self)
        self.subscriptions = Subscriptions(self)   # subscriptions.py
        self.in_flight = {}        # mailbox -> requests now
        self.max_in_flight = {}    # mailbox -> most at once
        self.counts = {}           # "METHOD kind" -> n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "graph-emu/1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("graph-emu: %s\n" % (fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def reply(self, status, body=None, headers=None):
        data = dumps(body) if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; odata.metadata=minimal")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        self.raw_body = raw
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        self.query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        path = urllib.parse.unquote(url.path)
        try:
            if path.startswith("/_emu/"):
                status, body = self.server.control.handle(self.command, path[5:], self.body_json())
                return self.reply(status, body)
            if path == "/token" and self.command == "POST":
                return self.token()
            if path.startswith(PREFIX + "/subscriptions"):
                return self.server.subscriptions.api(self, path[len(PREFIX):])
            if not path.startswith(PREFIX + "/me/"):
                raise GraphError(400, "BadRequest", "Resource not found for the segment.")
            self.api(path[len(PREFIX):])
        except GraphError as e:
            self.reply(e.status, e.body(), e.headers)
        except Exception:   # a bug of the emulator: say so loudly
            traceback.print_exc()
            self.reply(500, {"error": {"code": "InternalServerError", "message": "emulator bug"}})

    # -- OAuth --------------------------------------------------------------

    def token(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
        srv = self.server
        with srv.lock:
            srv.counts["POST token"] = srv.counts.get("POST token", 0) + 1
            fault = srv.control.fault_for("POST", "/token")
            if fault and "answer" in fault:
                return self.reply(*fault["answer"])
            grant = srv.refresh_tokens.get(form.get("refresh_token", ""))
            if form.get("grant_type") != "refresh_token" or not grant or not grant["alive"] or \
                    grant["client_id"] != form.get("client_id"):
                return self.reply(400, {"error": "invalid_grant", "error_codes": [70000],
                                        "error_description": "AADSTS70000: The provided grant "
                                        "has expired or was revoked."})
            if "offline_access" not in form.get("scope", "").split():
                return self.reply(400, {"error": "invalid_scope",
                                        "error_description": "AADSTS70011: offline_access missing"})
            grant["alive"] = False      # rotated: the old refresh token stops working
            access, refresh = srv.control.issue(grant["mailbox"], grant["client_id"])
        self.reply(200, {"token_type": "Bearer", "scope": form["scope"],
                         "expires_in": srv.token_lifetime, "access_token": access,
                         "refresh_token": refresh})

    # -- the API ------------------------------------------------------------

    def mailbox(self):
        auth = self.headers.get("Authorization") or ""
        tok = self.server.access_tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if not tok or tok["expires"] < time.time():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is "
                             "not yet valid.")
        return tok["mailbox"]

    def prefer_zone(self):
        for part in self.headers.get_all("Prefer") or []:
            m = re.search(r'outlook\.timezone="([^"]+)"', part)
            if m:
                return m.group(1)
        return "UTC"

    def page_size(self):
        for part in self.headers.get_all("Prefer") or []:
            m = re.search(r"odata\.maxpagesize=(\d+)", part)
            if m:
                return max(1, int(m.group(1)))
        return 50

    def expand_ids(self):
        exp = self.query.get("$expand")
        if not exp or "singleValueExtendedProperties" not in exp:
            return None
        return {i.lower() for i in EXPAND_RE.findall(exp)}

    def api(self, path):
        srv = self.server
        with srv.lock:
            box = self.mailbox()
            kind = re.sub(r"/(?!delta|instances|events|calendars|calendarView)[^/]+", "/{}", path)
            key = "%s %s" % (self.command, kind)
            srv.counts[key] = srv.counts.get(key, 0) + 1
            srv.in_flight[box] = srv.in_flight.get(box, 0) + 1
            srv.max_in_flight[box] = max(srv.max_in_flight.get(box, 0), srv.in_flight[box])
            fault = srv.control.fault_for(self.command, path)
        try:
            if fault and "delay" in fault:
                threading.Event().wait(fault["delay"])   # an injected delay, not a test sleep
                fault = None
            if fault and not fault["after"]:
                return self.reply(*fault["answer"])
            body = self.body_json() if self.command in ("POST", "PATCH") else None
            with srv.lock:
                status, answer = self.route(box, path, body)
            self.reply(*(fault["answer"] if fault else (status, answer)))
        finally:
            with srv.lock:
                srv.in_flight[box] -= 1

    def calendar(self, box, cal_id):
        cal = self.server.calendars.get(cal_id)
        if not cal or cal.mailbox != box:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return cal

    def event_home(self, box, event_id):
        for cal in self.server.calendars.values():
            if cal.mailbox == box and cal.find(event_id) is not None:
                return cal
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")

    def route(self, box, path, body):
        parts = path.strip("/").split("/")[1:]     # after "me"
        m, zone = self.command, self.prefer_zone()
        if parts == ["calendars"] and m == "GET":
            return 200, self.server.control.calendar_page(box, self.query)
        if len(parts) >= 3 and parts[0] == "calendars":
            cal = self.calendar(box, parts[1])
            rest = parts[2:]
            if rest == ["events"] and m == "POST":
                if not cal.can_edit:
                    raise GraphError(403, "ErrorAccessDenied", "Access is denied.")
                ev, _ = cal.create(body)
                return 201, Calendar.render(ev, zone)
            if rest in (["events", "delta"], ["calendarView", "delta"]) and m == "GET":
                base = "http://%s%s/me/calendars/%s/%s/delta" % (
                    self.headers.get("Host"), PREFIX, urllib.parse.quote(cal.id, safe=""), rest[0])
                return 200, self.server.deltas.page(cal, rest[0] == "calendarView", self.query,
                                                    self.page_size(), zone, base)
        if len(parts) >= 2 and parts[0] == "events":
            cal = self.event_home(box, parts[1])
            if len(parts) == 3 and parts[2] == "instances" and m == "GET":
                master = cal.find(parts[1])
                frm, to = self.server.deltas.window(self.query)
                return 200, {"value": [Calendar.render(e, zone) for e in cal.instances(master, frm, to)]}
            if len(parts) == 2:
                if m == "GET":
                    return 200, Calendar.render(cal.find(parts[1]), zone, self.expand_ids())
                if not cal.can_edit:
                    raise GraphError(403, "ErrorAccessDenied", "Access is denied.")
                if m == "PATCH":
                    return 200, Calendar.render(cal.update(parts[1], body, self.headers.get("If-Match")), zone)
                if m == "DELETE":
                    cal.delete(parts[1], self.headers.get("If-Match"))
                    return 204, None
        raise GraphError(400, "BadRequest", "Unsupported request %s %s" % (m, path))
