"""tests/integration/graph_helpers.py - the Microsoft Graph emulator as a test
fixture: start it on a free port, drive its control API, and connect a
pool_helpers.World to one of its mailboxes with a sealed refresh token."""

import json
import os
import urllib.parse
import urllib.request
import uuid

import pytest

from calsync_helpers import query, run_tool
from google_helpers import start_emulator, stop_emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(ROOT, "tests", "emulators", "graph_emu.py")
CLIENT_ID = "calsync-tests-ms"


class GraphEmulator:
    def __init__(self, *extra):
        self.proc, self.url = start_emulator(*extra, program=EMULATOR)

    def stop(self):
        stop_emulator(self.proc)

    def call(self, method, path, body=None, headers=None, raw=False):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=dict({"Content-Type": "application/json"}, **(headers or {})))
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                out = resp.read()
                return (resp.status, json.loads(out) if out else None) if raw else \
                    (json.loads(out) if out else None)
        except urllib.error.HTTPError as e:
            if not raw:
                raise
            out = e.read()
            return e.code, json.loads(out) if out else None

    def settings(self):
        return {"CALSYNC_GRAPH_API_URL": self.url + "/v1.0",
                "CALSYNC_MS_TOKEN_URL": self.url + "/token",
                "CALSYNC_MS_CLIENT_ID": CLIENT_ID}

    def mailbox(self, mailbox, refresh_token, *calendars):
        self.call("POST", "/_emu/mailboxes", {"mailbox": mailbox, "client_id": CLIENT_ID,
                                              "refresh_token": refresh_token,
                                              "calendars": list(calendars)})

    def calendars_read_only(self, cal):
        """The account may only read cal from now on (canEdit false)."""
        self.call("POST", "/_emu/calendars/%s/read_only" % urllib.parse.quote(cal, safe=""), {})

    def _events(self, cal):
        return "/_emu/calendars/%s/events" % urllib.parse.quote(cal, safe="")

    def add(self, cal, *events):
        return self.call("POST", self._events(cal), {"events": list(events)})["value"]

    def patch(self, cal, event_id, **fields):
        return self.call("PATCH", self._events(cal) + "/" + urllib.parse.quote(event_id, safe=""), fields)

    def delete(self, cal, event_id):
        return self.call("DELETE", self._events(cal) + "/" + urllib.parse.quote(event_id, safe=""))

    def events(self, cal):
        return self.call("GET", self._events(cal))["value"]

    def instances(self, cal, master):
        return self.call("GET", "/_emu/calendars/%s/instances/%s" % (
            urllib.parse.quote(cal, safe=""), urllib.parse.quote(master, safe="")))["value"]

    def expire_delta(self, cal, code="SyncStateNotFound"):
        self.call("POST", "/_emu/calendars/%s/expire_delta" % urllib.parse.quote(cal, safe=""),
                  {"code": code})

    def delta_mods(self, cal, **mods):
        self.call("POST", "/_emu/calendars/%s/delta_mods" % urllib.parse.quote(cal, safe=""), mods)

    def faults(self, *rules):
        self.call("POST", "/_emu/faults", {"rules": list(rules)})

    def clear_faults(self):
        self.call("DELETE", "/_emu/faults")

    def stats(self):
        return self.call("GET", "/_emu/stats")

    def writes(self):
        return sum(n for k, n in self.stats()["counts"].items()
                   if k.split()[0] in ("POST", "PATCH", "DELETE") and "token" not in k)


@pytest.fixture(scope="module")
def graph():
    """A module's own GraphEmulator, stopped when the module is done."""
    e = GraphEmulator()
    yield e
    e.stop()


def seal(world, secret):
    return run_tool(world.bin_dir, "secret", "seal", "--tenant", world.tenant,
                    env=world.env, input=secret, check=True).stdout.strip()


def connect_outlook(world, graph, mailbox=None, names=("Family",), refresh=None):
    """Outlook calendars of one mailbox for world's tenant, sharing one sealed
    refresh token (as connecting a Microsoft account stores it); their ids and
    the remote calendar ids."""
    mailbox = mailbox or "parent-%s@outlook.example" % uuid.uuid4().hex[:6]
    refresh = refresh or "M.R3_BAY." + uuid.uuid4().hex
    remotes = ["AAMkAGI2-%s-%d" % (uuid.uuid4().hex[:8], i) for i in range(len(names))]
    graph.mailbox(mailbox, refresh, *[{"id": r, "name": n, "isDefaultCalendar": i == 0,
                                       "canEdit": True, "hexColor": "#0078d4"}
                                      for i, (r, n) in enumerate(zip(remotes, names))])
    sealed = seal(world, refresh)
    cals = []
    for i, (remote, name) in enumerate(zip(remotes, names)):
        cal = str(uuid.uuid4())
        query(world.db_url, "INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                            " provider_calendar_id, calendar_name, calendar_color, is_primary,"
                            " refresh_token_encrypted)"
                            " VALUES (%s, %s, %s, 'outlook', %s, %s, '#0078d4', %s, %s)",
              (cal, world.tenant, world.user, remote, name, i == 0, sealed))
        cals.append(cal)
    world.env.update(graph.settings())
    world.worker_program = "calsync-worker"
    return cals, remotes


def timed(subject, start, end, tz="GMT Standard Time", **extra):
    """A Graph event body: wall times start/end ("2026-12-01T09:00:00") in Windows zone tz."""
    return dict(subject=subject, start={"dateTime": start, "timeZone": tz},
                end={"dateTime": end, "timeZone": tz}, **extra)
