"""The control API of the Graph emulator (/_emu/...), for tests and the demo:

  POST   /_emu/mailboxes          {mailbox, client_id, refresh_token, calendars: [{id, name,
                                   hexColor, isDefaultCalendar, canEdit}]} - a mailbox (or more
                                   calendars of one) whose refresh token is refresh_token
  GET    /_emu/calendars/{cal}/events            the stored events (masters, exceptions)
  POST   /_emu/calendars/{cal}/events            {events: [...]} - create as another client
  PATCH  /_emu/calendars/{cal}/events/{id}       edit as another client (an occurrence id
                                                 "OID.<master>.<date>" makes an exception)
  DELETE /_emu/calendars/{cal}/events/{id}       delete (an occurrence id cancels it)
  GET    /_emu/calendars/{cal}/instances/{id}    the occurrences of series id
  POST   /_emu/calendars/{cal}/expire_delta      {code: SyncStateNotFound|resyncRequired}
  POST   /_emu/calendars/{cal}/delta_mods        {empty_pages: n, replay: bool, garbage_ids: [id]}
  POST   /_emu/calendars/{cal}/read_only         the account may only read it (canEdit false)
  POST   /_emu/faults                            {rules: [{method, path_regex, status, code,
                                                  retry_after, delay_s, after, times}]}
  DELETE /_emu/faults
  GET    /_emu/stats                              {max_in_flight: {mailbox: n}, counts}
  POST   /_emu/stats/reset
  POST   /_emu/expire_access                      every access token expires now
  GET    /_emu/tokens                             {refresh: [{mailbox, alive}]}, oldest first
  *      /_emu/subscriptions...                   subscriptions and their faults (subscriptions.py)"""

import re
import secrets
import time
import urllib.parse

from .model import Calendar
from .util import GraphError


class Control:
    def __init__(self, server):
        self.server = server
        self.rules = []
        self.mods = {}

    # -- used by the API ----------------------------------------------------

    def issue(self, mailbox, client_id):
        srv = self.server
        access = "eyJ0eXAi." + secrets.token_urlsafe(24)
        refresh = "M.C5" + secrets.token_urlsafe(32)
        srv.access_tokens[access] = {"mailbox": mailbox, "expires": time.time() + srv.token_lifetime}
        srv.refresh_tokens[refresh] = {"mailbox": mailbox, "client_id": client_id, "alive": True}
        return access, refresh

    def calendar_page(self, box, query):
        cals = [c for c in self.server.calendars.values() if c.mailbox == box]
        top = int(query.get("$top") or 10)
        skip = int(query.get("$skip") or 0)
        out = {"value": [c.info() for c in cals[skip:skip + top]]}
        if skip + top < len(cals):
            out["@odata.nextLink"] = "http://%s/v1.0/me/calendars?%s" % (
                self.server.server_address[0] + ":%d" % self.server.server_address[1],
                urllib.parse.urlencode({"$top": top, "$skip": skip + top}))
        return out

    def delta_mods(self, cal_id):
        return self.mods.get(cal_id, {})

    def fault_for(self, method, path):
        """What the first matching rule asks of a request, or None: {"delay": seconds},
        or {"answer": (status, body, headers), "after": bool} (after: the request is
        carried out first, and its answer lost)."""
        for rule in self.rules:
            if rule.get("times", 1) <= 0:
                continue
            if rule.get("method", "*") not in ("*", method):
                continue
            if not re.search(rule.get("path_regex", ""), path):
                continue
            if "times" in rule:
                rule["times"] -= 1
            if rule.get("delay_s"):
                return {"delay": float(rule["delay_s"])}
            headers = {}
            if rule.get("retry_after") is not None:
                headers["Retry-After"] = str(rule["retry_after"])
            status = int(rule.get("status", 503))
            code = rule.get("code") or {429: "TooManyRequests", 503: "ServiceNotAvailable"}.get(
                status, "ErrorInternalServerError")
            return {"answer": (status, {"error": {"code": code, "message": "injected by the emulator"}},
                               headers), "after": bool(rule.get("after"))}
        return None

    # -- the control API ----------------------------------------------------

    def handle(self, method, path, body):
        srv = self.server
        with srv.lock:
            if path == "/mailboxes" and method == "POST":
                return self.add_mailbox(body)
            if path.startswith("/subscriptions"):
                return srv.subscriptions.control(method, path, body)
            if path == "/faults":
                self.rules = list(body.get("rules", [])) if method == "POST" else []
                return 200, {"rules": len(self.rules)}
            if path == "/stats" and method == "GET":
                return 200, {"max_in_flight": dict(srv.max_in_flight), "counts": dict(srv.counts),
                             "in_flight": dict(srv.in_flight)}
            if path == "/stats/reset" and method == "POST":
                srv.max_in_flight.clear()
                srv.counts.clear()
                return 200, {}
            if path == "/expire_access" and method == "POST":
                for tok in srv.access_tokens.values():
                    tok["expires"] = 0
                return 200, {}
            if path == "/tokens" and method == "GET":
                return 200, {"refresh": [{"mailbox": g["mailbox"], "alive": g["alive"]}
                                         for g in srv.refresh_tokens.values()]}
            m = re.fullmatch(r"/calendars/([^/]+)/(events|instances|expire_delta|delta_mods|read_only)(?:/(.+))?", path)
            if not m or m.group(1) not in srv.calendars:
                raise GraphError(404, "ErrorItemNotFound", "no such control resource %s" % path)
            return self.on_calendar(srv.calendars[m.group(1)], method, m.group(2), m.group(3), body)

    def load_seed(self, seed):
        for box in seed.get("mailboxes", []):
            self.add_mailbox(box)
            for cal_id, events in (box.get("events") or {}).items():
                for ev in events:
                    self.server.calendars[cal_id].create(ev)

    def add_mailbox(self, body):
        srv = self.server
        box = body["mailbox"]
        if body.get("refresh_token"):
            srv.refresh_tokens[body["refresh_token"]] = {
                "mailbox": box, "client_id": body["client_id"], "alive": True}
        for c in body.get("calendars", []):
            srv.calendars[c["id"]] = Calendar(c["id"], box, c.get("name", "Calendar"),
                                              c.get("hexColor", "#0078d4"),
                                              c.get("isDefaultCalendar", False),
                                              c.get("canEdit", True))
            srv.calendars[c["id"]].on_change = srv.subscriptions.changed
        return 200, {"calendars": [c["id"] for c in body.get("calendars", [])]}

    def on_calendar(self, cal, method, what, rest, body):
        if what == "expire_delta":
            self.server.deltas.expire(cal.id, body.get("code", "SyncStateNotFound"))
            return 200, {}
        if what == "read_only":
            cal.can_edit = False
            return 200, {}
        if what == "delta_mods":
            self.mods[cal.id] = body
            return 200, {}
        if what == "instances":
            return 200, {"value": cal.instances(cal.find(rest))}
        if method == "GET" and not rest:
            return 200, {"value": list(cal.events.values())}
        if method == "POST" and not rest:
            made = [cal.create(ev)[0] for ev in body.get("events", [])]
            return 201, {"value": made}
        if method == "PATCH" and rest:
            return 200, cal.update(rest, body)
        if method == "DELETE" and rest:
            cal.delete(rest)
            return 204, None
        raise GraphError(400, "BadRequest", "unsupported control request")



