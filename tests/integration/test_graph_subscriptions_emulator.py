"""test_graph_subscriptions_emulator.py - the Graph emulator's subscriptions
against Graph's documented behaviour (tests/emulators/graph/subscriptions.py):
the validation request to both URLs before a subscribe is answered (and a
subscribe failing with 400 when it is not echoed, or not in time), the longest
expiration of Outlook events, change notifications with clientState for every
change (from any client), PATCH to renew, DELETE, expiry, lifecycle events, and
the faults: lost, duplicated, forged, a burst of 1,000."""

import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from calsync_helpers import wait_for
from graph_helpers import GraphEmulator, timed
from test_graph_emulator import api, token

STATE = "client-state-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def emu():
    e = GraphEmulator()
    e.call("POST", "/_emu/subscriptions/config", {"allow_http": True})
    yield e
    e.stop()


class GraphReceiver:
    """Answers Graph's validation requests as calsync-hooks does (mode "echo"), or
    wrongly ("silent": 200 without the token; "slow": after delay_s), and
    records every notification body."""

    def __init__(self, mode="echo", delay_s=0.0):
        self.validations, self.notes = [], []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                token_ = query.get("validationToken")
                if token_ is not None:
                    outer.validations.append((self.path.split("?")[0], token_))
                    if mode == "slow":
                        threading.Event().wait(delay_s)
                    answer = token_.encode() if mode != "silent" else b""
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                else:
                    outer.notes.append((self.path, json.loads(body)))
                    answer = b""
                    self.send_response(202)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def changes(self):
        return [n for p, b in self.notes if p == "/hooks/graph" for n in b["value"]]

    def lifecycles(self):
        return [n for p, b in self.notes if p == "/hooks/graph/lifecycle" for n in b["value"]]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def box(emu):
    refresh = "M.R3." + uuid.uuid4().hex
    cal = "cal-%s" % uuid.uuid4().hex[:8]
    emu.mailbox("subs-%s@outlook.example" % uuid.uuid4().hex[:6], refresh,
                {"id": cal, "name": "Calendar", "isDefaultCalendar": True})
    status, tok = token(emu, refresh)
    assert status == 200
    rx = GraphReceiver()
    yield tok["access_token"], cal, rx
    rx.stop()


def later(minutes):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + minutes * 60))


def subscribe(emu, access, cal, base, minutes=10000, **extra):
    body = dict(changeType="created,updated,deleted", notificationUrl=base + "/hooks/graph",
                lifecycleNotificationUrl=base + "/hooks/graph/lifecycle",
                resource="me/calendars/%s/events" % urllib.parse.quote(cal, safe=""),
                expirationDateTime=later(minutes), clientState=STATE)
    body.update(extra)
    return api(emu, access, "POST", "/subscriptions", body)


def record(emu, sub_id):
    return [s for s in emu.call("GET", "/_emu/subscriptions")["subscriptions"] if s["id"] == sub_id][0]


def test_subscribe_validates_both_urls_first(emu, box):
    access, cal, rx = box
    status, sub = subscribe(emu, access, cal, rx.base)
    assert status == 201, sub
    assert [p for p, _ in rx.validations] == ["/hooks/graph", "/hooks/graph/lifecycle"]
    assert all(t.startswith("Validation: ") for _, t in rx.validations)
    assert sub["clientState"] == STATE and sub["changeType"] == "created,updated,deleted"
    assert STATE not in json.dumps(emu.call("GET", "/_emu/subscriptions"))
    silent, slow = GraphReceiver("silent"), GraphReceiver("slow", delay_s=2.0)
    try:
        status, err = subscribe(emu, access, cal, silent.base)
        assert status == 400 and err["error"]["code"] == "ValidationError"
        emu.call("POST", "/_emu/subscriptions/config", {"validation_timeout_s": 1})
        status, err = subscribe(emu, access, cal, slow.base)
        assert status == 400 and err["error"]["code"] == "ValidationError"
    finally:
        emu.call("POST", "/_emu/subscriptions/config", {"validation_timeout_s": 10})
        silent.stop()
        slow.stop()


def test_expiration_resource_and_urls_are_checked(emu, box):
    access, cal, rx = box
    assert subscribe(emu, access, cal, rx.base, minutes=10081)[0] == 400
    assert subscribe(emu, access, cal, rx.base, minutes=-1)[0] == 400
    assert subscribe(emu, access, cal, rx.base, changeType="moved")[0] == 400
    assert subscribe(emu, access, cal, rx.base, clientState="x" * 129)[0] == 400
    assert subscribe(emu, access, cal, rx.base, resource="me/calendars/nope/events")[0] == 404
    emu.call("POST", "/_emu/subscriptions/config", {"allow_http": False})
    try:
        assert subscribe(emu, access, cal, rx.base)[0] == 400
    finally:
        emu.call("POST", "/_emu/subscriptions/config", {"allow_http": True})
    assert subscribe(emu, access, cal, rx.base, minutes=10079)[0] == 201
    assert api(emu, "nope", "POST", "/subscriptions", {})[0] == 401


def test_changes_are_notified_renewed_and_deleted(emu, box):
    access, cal, rx = box
    _, sub = subscribe(emu, access, cal, rx.base)
    ev = emu.add(cal, timed("Dentist", "2026-12-03T09:00:00", "2026-12-03T10:00:00"))[0]
    emu.patch(cal, ev["id"], subject="Dentist (moved)")
    status, made = api(emu, access, "POST", "/me/calendars/%s/events" % cal,
                       timed("By the app", "2026-12-04T09:00:00", "2026-12-04T10:00:00"))
    assert status == 201
    emu.delete(cal, ev["id"])
    wait_for(lambda: len(rx.changes()) == 4, what="four notifications")
    notes = rx.changes()
    assert [n["changeType"] for n in notes] == ["created", "updated", "created", "deleted"]
    first = notes[0]
    assert first["subscriptionId"] == sub["id"] and first["clientState"] == STATE
    assert first["resourceData"]["id"] == ev["id"] and first["tenantId"]
    assert first["resource"].endswith("/Events/" + ev["id"])
    assert first["subscriptionExpirationDateTime"].startswith(sub["expirationDateTime"][:16])
    status, renewed = api(emu, access, "PATCH", "/subscriptions/" + sub["id"],
                          {"expirationDateTime": later(10070)})
    assert status == 200 and renewed["id"] == sub["id"] and \
        renewed["expirationDateTime"] > sub["expirationDateTime"]
    assert api(emu, access, "DELETE", "/subscriptions/" + sub["id"])[0] == 204
    assert api(emu, access, "PATCH", "/subscriptions/" + sub["id"],
               {"expirationDateTime": later(60)})[0] == 404
    assert api(emu, access, "DELETE", "/subscriptions/" + sub["id"])[0] == 404
    emu.add(cal, timed("After delete", "2026-12-05T09:00:00", "2026-12-05T10:00:00"))
    assert emu.call("GET", "/_emu/subscriptions")["deliveries_pending"] == 0
    assert record(emu, sub["id"])["sent"] == 4 and len(rx.changes()) == 4


def test_an_expired_subscription_notifies_no_more(emu, box):
    access, cal, rx = box
    _, sub = subscribe(emu, access, cal, rx.base)
    emu.call("POST", "/_emu/subscriptions/expire", {"subscription": sub["id"]})
    emu.add(cal, timed("Expired", "2026-12-03T09:00:00", "2026-12-03T10:00:00"))
    assert api(emu, access, "GET", "/subscriptions/" + sub["id"])[0] == 404
    assert emu.call("GET", "/_emu/subscriptions")["deliveries_pending"] == 0
    assert record(emu, sub["id"])["sent"] == 0 and record(emu, sub["id"])["expired"]


def test_lifecycle_events(emu, box):
    access, cal, rx = box
    _, sub = subscribe(emu, access, cal, rx.base)
    for event in ("reauthorizationRequired", "missed", "subscriptionRemoved"):
        emu.call("POST", "/_emu/subscriptions/lifecycle", {"subscription": sub["id"], "event": event})
    wait_for(lambda: len(rx.lifecycles()) == 3, what="three lifecycle notifications")
    assert [n["lifecycleEvent"] for n in rx.lifecycles()] == \
        ["reauthorizationRequired", "missed", "subscriptionRemoved"]
    assert all(n["clientState"] == STATE and n["subscriptionId"] == sub["id"] for n in rx.lifecycles())
    assert record(emu, sub["id"])["ended"] == "removed"
    assert api(emu, access, "PATCH", "/subscriptions/" + sub["id"],
               {"expirationDateTime": later(60)})[0] == 404


def test_faults_lost_duplicated_forged_and_a_burst(emu, box):
    access, cal, rx = box
    _, sub = subscribe(emu, access, cal, rx.base)
    emu.call("POST", "/_emu/subscriptions/lose", {"subscription": sub["id"], "count": 1})
    emu.add(cal, timed("Lost", "2026-12-03T09:00:00", "2026-12-03T10:00:00"))
    emu.add(cal, timed("Sent", "2026-12-03T11:00:00", "2026-12-03T12:00:00"))
    wait_for(lambda: len(rx.changes()) == 1, what="the second notification")
    emu.call("POST", "/_emu/subscriptions/duplicate", {"subscription": sub["id"]})
    wait_for(lambda: len(rx.changes()) == 2, what="the duplicate")
    assert rx.changes()[0] == rx.changes()[1]
    emu.call("POST", "/_emu/subscriptions/burst", {"subscription": sub["id"], "count": 3,
                                                   "client_state": "forged"})
    wait_for(lambda: len(rx.changes()) == 5, what="the forged ones")
    assert {n["clientState"] for n in rx.changes()[2:]} == {"forged"}
    emu.call("POST", "/_emu/subscriptions/burst", {"subscription": sub["id"], "count": 1000})
    wait_for(lambda: len(rx.changes()) == 1005, timeout=120, what="a burst of 1,000")
    assert {n["clientState"] for n in rx.changes()[5:]} == {STATE}
    assert record(emu, sub["id"])["answers"] == {"202": 1005}
