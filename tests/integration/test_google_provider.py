"""The Google provider (providers/google*.c) against the Google Calendar
emulator (tests/emulators/google_emu.py), driven through build/provider-check.

Covers: calendar list, full fetch across (short) pages, incremental fetch
after changes behind calsync's back, 410 -> EGONE, idempotent create (also
after an insert that was applied but answered with an error), etag
preconditions on update/delete, rate limits and server errors, garbage
bodies and garbage items, OAuth refresh (proactive and on 401), a revoked
grant, revocation - and that no token ever shows up in the output.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_google_provider.py
(uses CALSYNC_BIN_DIR or build/ for provider-check)."""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from google_helpers import base_url  # noqa: F401 (a fixture)

CLIENT = {"client_id": "calsync-provider-check", "client_secret": "pc-s3cret"}
REFRESH = "1//refresh-provider-check"
PRIMARY = "alice@example.com"
FAMILY = "family#kids@group.calendar.google.com"   # '#' must be escaped in paths
SHARED = "shared@example.com"


# -- emulator process ------------------------------------------------------------

class Emu:
    """The emulator's control API (/_emu) and OAuth endpoint, via urllib."""

    def __init__(self, base):
        self.base = base

    def _send(self, method, path, body=None, form=None):
        data, headers = None, {}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def ctl(self, method, path, body=None):
        status, answer = self._send(method, "/_emu/" + path, body)
        assert status == 200, (status, answer)
        return answer

    def _cal(self, cal, eid=None):
        path = "calendars/%s/events" % urllib.parse.quote(cal, safe="")
        return path + ("/" + eid if eid else "")

    def events(self, cal=PRIMARY):
        return self.ctl("GET", self._cal(cal))["items"]

    def event(self, eid, cal=PRIMARY):
        return self.ctl("GET", self._cal(cal, eid))

    def bulk(self, events, cal=PRIMARY):
        return self.ctl("POST", self._cal(cal), {"events": events})["items"]

    def patch(self, eid, fields, cal=PRIMARY):
        return self.ctl("PATCH", self._cal(cal, eid), fields)

    def delete(self, eid, cal=PRIMARY):
        return self.ctl("DELETE", self._cal(cal, eid))

    def faults(self, *rules):
        return self.ctl("POST", "faults", {"rules": list(rules)})

    def stats(self):
        return self.ctl("GET", "stats")

    def access_token(self):
        status, answer = self._send("POST", "/token", form=dict(
            CLIENT, grant_type="refresh_token", refresh_token=REFRESH))
        assert status == 200, answer
        return answer["access_token"]


@pytest.fixture
def emu(base_url):
    client = Emu(base_url)
    client.ctl("POST", "reset")
    client.ctl("POST", "accounts", dict(CLIENT, refresh_token=REFRESH, email=PRIMARY, calendars=[
        {"id": PRIMARY, "summary": "Alice", "backgroundColor": "#7986cb", "primary": True,
         "accessRole": "owner", "timeZone": "Europe/Berlin"},
        {"id": FAMILY, "summary": "Family", "backgroundColor": "#33b679", "accessRole": "writer"},
        {"id": SHARED, "summary": "Bob's", "backgroundColor": "#e67c73", "accessRole": "reader"}]))
    return client


# -- provider-check --------------------------------------------------------------

class Result:
    def __init__(self, proc):
        self.rc, self.out, self.err_text = proc.returncode, proc.stdout, proc.stderr
        self.items, self.error, self.creds = [], None, None
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                self.items.append(json.loads(line))
            elif line.startswith("error "):
                _, code, retry, after, msg = (line.split(" ", 4) + [""])[:5]
                self.error = {"code": code, "retryable": retry == "retryable=1",
                              "retry_after_ms": int(after.split("=")[1]), "message": msg}
            elif line.startswith("creds "):
                self.creds = dict(kv.split("=") for kv in line.split()[1:])
        assert self.creds is not None, "no creds line in: %r %r" % (proc.stdout, proc.stderr)

    @property
    def refreshed(self):
        return self.creds["changed"] == "1"


def check(bin_dir, base_url, *args, event=None, access_token=None, expires_at=None,
          refresh_token=REFRESH, env=None, secrets=()):
    """Run provider-check google <args>; never a token in its output."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CALSYNC_")}
    full.update({
        "CALSYNC_GOOGLE_API_URL": base_url + "/calendar/v3",
        "CALSYNC_GOOGLE_TOKEN_URL": base_url + "/token",
        "CALSYNC_GOOGLE_REVOKE_URL": base_url + "/revoke",
        "CALSYNC_GOOGLE_CLIENT_ID": CLIENT["client_id"],
        "CALSYNC_GOOGLE_CLIENT_SECRET": CLIENT["client_secret"],
        "CALSYNC_HTTP_TIMEOUT_MS": "20000",
        "CALSYNC_CHECK_REFRESH_TOKEN": refresh_token or "",
        "CALSYNC_CHECK_ACCESS_TOKEN": access_token or "",
        "CALSYNC_CHECK_EXPIRES_AT": str(expires_at or 0),
    })
    full.update(env or {})
    proc = subprocess.run([os.path.join(str(bin_dir), "provider-check"), "google", *args],
                          input=json.dumps(event) if event is not None else "",
                          env=full, capture_output=True, text=True, timeout=300)
    for secret in (REFRESH, CLIENT["client_secret"], access_token, *secrets):
        if secret:
            assert secret not in proc.stdout and secret not in proc.stderr
    res = Result(proc)
    assert (res.rc == 0) == (res.error is None), proc.stdout + proc.stderr
    return res


def timed(title="Dentist", start="2026-03-29T02:30:00+01:00", end="2026-03-29T03:30:00+01:00",
          tz="Europe/London", **extra):
    ev = {"title": title, "start": start, "end": end, "timezone": tz}
    ev.update(extra)
    return ev


def seed_events(n, prefix="Event"):
    return [{"summary": "%s %d" % (prefix, i),
             "start": {"dateTime": "2026-05-%02dT10:00:00+02:00" % (i % 28 + 1)},
             "end": {"dateTime": "2026-05-%02dT11:00:00+02:00" % (i % 28 + 1)}}
            for i in range(n)]


# -- calendars ---------------------------------------------------------------------

def test_calendar_list(bin_dir, base_url, emu):
    res = check(bin_dir, base_url, "calendars")
    assert res.rc == 0
    cals = {c["id"]: c for c in res.items}
    assert set(cals) == {PRIMARY, FAMILY, SHARED}
    assert cals[PRIMARY] == {"id": PRIMARY, "name": "Alice", "color": "#7986cb",
                             "primary": True, "writable": True}
    assert cals[FAMILY]["writable"] and not cals[FAMILY]["primary"]
    assert cals[SHARED]["name"] == "Bob's" and not cals[SHARED]["writable"]
    # no access token given: refreshed first
    assert res.refreshed and int(res.creds["expires_at"]) > time.time() + 3000


# -- fetch ---------------------------------------------------------------------------

def test_full_fetch_6000_events_across_short_pages(bin_dir, base_url, emu):
    created = emu.bulk(seed_events(6000))
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "short_pages", "page_size": 700},
               {"method": "GET", "path_regex": "/events$", "action": "short_pages", "page_size": 0,
                "times": 2})
    emu.ctl("POST", "stats/reset")
    res = check(bin_dir, base_url, "fetch", PRIMARY)
    assert res.rc == 0
    *events, last = res.items
    assert len(events) == 6000 and last["items"] == 6000
    assert [e["id"] for e in events] == [e["id"] for e in created]
    assert not any(e.get("bad") for e in events)
    assert last["pages"] == 2 + 9 and last["sync_token"]
    assert emu.stats()["by_kind"]["GET list"] == 11
    first = events[0]
    assert first["title"] == "Event 0" and first["start"] == "2026-05-01T08:00:00Z"
    assert first["end"] == "2026-05-01T09:00:00Z" and not first["all_day"]


def test_incremental_fetch_sees_changes_and_deletions(bin_dir, base_url, emu):
    a, b, c = emu.bulk(seed_events(3))
    series = emu.bulk([{"summary": "Swim", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=5"],
                        "start": {"dateTime": "2026-03-02T17:00:00", "timeZone": "Europe/Berlin"},
                        "end": {"dateTime": "2026-03-02T18:00:00", "timeZone": "Europe/Berlin"}}])[0]
    full = check(bin_dir, base_url, "fetch", PRIMARY)
    assert full.rc == 0 and full.items[-1]["items"] == 4
    token = full.items[-1]["sync_token"]

    emu.patch(a["id"], {"summary": "Changed behind the back"})
    emu.delete(b["id"])
    emu.delete(series["id"] + "_20260309T160000Z")       # one occurrence removed
    (d,) = emu.bulk(seed_events(1, prefix="New"))

    inc = check(bin_dir, base_url, "fetch", PRIMARY, token)
    assert inc.rc == 0
    *items, last = inc.items
    by_id = {e["id"]: e for e in items}
    assert set(by_id) == {a["id"], b["id"], series["id"] + "_20260309T160000Z", d["id"]}
    assert by_id[a["id"]]["title"] == "Changed behind the back" and not by_id[a["id"]]["cancelled"]
    assert by_id[b["id"]]["cancelled"] and "start" not in by_id[b["id"]]
    occ = by_id[series["id"] + "_20260309T160000Z"]
    assert occ["cancelled"] and occ["series_id"] == series["id"]
    assert occ["original_start"] == "2026-03-09T16:00:00Z"
    assert by_id[d["id"]]["title"] == "New 0"
    assert c["id"] not in by_id
    assert last["sync_token"] and last["sync_token"] != token

    again = check(bin_dir, base_url, "fetch", PRIMARY, last["sync_token"])
    assert again.rc == 0 and again.items == [dict(last, pages=1, items=0)]


def test_expired_sync_token_is_egone(bin_dir, base_url, emu):
    emu.bulk(seed_events(2))
    token = check(bin_dir, base_url, "fetch", PRIMARY).items[-1]["sync_token"]
    emu.ctl("POST", "expire_sync_tokens")
    res = check(bin_dir, base_url, "fetch", PRIMARY, token)
    assert res.rc == 1
    assert res.error["code"] == "EGONE" and not res.error["retryable"]
    assert "full sync" in res.error["message"]
    # and the full sync that follows works
    assert check(bin_dir, base_url, "fetch", PRIMARY).items[-1]["items"] == 2


def test_garbage_item_is_isolated(bin_dir, base_url, emu):
    items = emu.bulk(seed_events(5))
    bad_id = items[2]["id"]
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "garbage_item", "event_id": bad_id})
    res = check(bin_dir, base_url, "fetch", PRIMARY)
    assert res.rc == 0
    *events, last = res.items
    assert last["items"] == 5
    bad = [e for e in events if e.get("bad")]
    assert [e["id"] for e in bad] == [bad_id]
    assert bad_id in bad[0]["bad"] and "start" in bad[0]["bad"]
    assert all(e["title"].startswith("Event") for e in events if e["id"] != bad_id)


def test_garbage_body_is_eproto(bin_dir, base_url, emu):
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "garbage", "times": 1})
    res = check(bin_dir, base_url, "fetch", PRIMARY)
    assert res.rc == 1
    assert res.error["code"] == "EPROTO" and res.error["retryable"]
    assert "not JSON" in res.error["message"]


# -- errors and backoff ------------------------------------------------------------

@pytest.mark.parametrize("rule,code,after_ms,text", [
    ({"status": 429, "retry_after": 1}, "ERATELIMIT", 1000, "429"),
    ({"status": 403, "reason": "rateLimitExceeded"}, "ERATELIMIT", 0, "rateLimitExceeded"),
    ({"status": 403, "reason": "userRateLimitExceeded"}, "ERATELIMIT", 0, "userRateLimitExceeded"),
    ({"status": 403, "reason": "quotaExceeded"}, "ERATELIMIT", 0, "quotaExceeded"),
    ({"status": 500}, "EIO", 0, "500 backendError"),
    ({"status": 502}, "EIO", 0, "502"),
    ({"status": 503, "retry_after": 2}, "EIO", 2000, "503"),
    ({"status": 504}, "EIO", 0, "504"),
])
def test_rate_limits_and_server_errors_are_retryable(bin_dir, base_url, emu, rule, code,
                                                     after_ms, text):
    emu.faults(dict(rule, method="GET", path_regex="/events$", times=1))
    res = check(bin_dir, base_url, "fetch", PRIMARY)
    assert res.error == {"code": code, "retryable": True, "retry_after_ms": after_ms,
                         "message": res.error["message"]}
    assert text in res.error["message"] and "?" not in res.error["message"]
    assert check(bin_dir, base_url, "fetch", PRIMARY).rc == 0   # the fault is used up


def test_other_4xx_is_not_retryable(bin_dir, base_url, emu):
    # writing to a reader calendar: 403 requiredAccessLevel, the calendar is read-only
    res = check(bin_dir, base_url, "create", SHARED, str(uuid.uuid4()), event=timed())
    assert res.error["code"] == "EREADONLY" and not res.error["retryable"]
    assert "requiredAccessLevel" in res.error["message"]
    # an event Google refuses (an attendee without an address): 400, that event only
    res = check(bin_dir, base_url, "create", PRIMARY, str(uuid.uuid4()),
                event=timed(attendees=["not-an-address"]))
    assert res.error["code"] == "EREFUSED" and not res.error["retryable"]
    # a calendar the account does not have: 404
    res = check(bin_dir, base_url, "fetch", "nobody@example.com")
    assert res.error["code"] == "ENOTFOUND" and not res.error["retryable"]


def test_dead_keepalive_connection_is_retried_once_by_libcurl(bin_dir, base_url, emu):
    # the token request opened the connection; the list request on it is
    # dropped unanswered, and libcurl re-sends it once on a new connection
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "drop", "times": 1})
    emu.ctl("POST", "stats/reset")
    res = check(bin_dir, base_url, "fetch", PRIMARY)
    assert res.rc == 0
    stats = emu.stats()
    assert stats["by_kind"]["GET list"] == 2 and stats["by_status"]["dropped"] == 1


def test_transport_errors_are_retryable_eio(bin_dir, base_url, emu):
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "drop", "times": 2})
    res = check(bin_dir, base_url, "fetch", PRIMARY)
    assert res.error["code"] == "EIO" and res.error["retryable"]
    assert "GET 127.0.0.1" in res.error["message"] and "/events" in res.error["message"]
    assert "syncToken" not in res.error["message"] and "?" not in res.error["message"]

    with socket.socket() as s:     # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = check(bin_dir, base_url, "fetch", PRIMARY,
                env={"CALSYNC_GOOGLE_API_URL": "http://127.0.0.1:%d/calendar/v3" % port})
    assert res.error["code"] == "EIO" and res.error["retryable"]
    assert "127.0.0.1:%d" % port in res.error["message"]


# -- writes ------------------------------------------------------------------------------

def hub_events(emu, hub, cal=PRIMARY):
    return [e for e in emu.events(cal)
            if e.get("extendedProperties", {}).get("private", {}).get("familyhub_event_id") == hub]


def test_create_is_idempotent(bin_dir, base_url, emu):
    hub = str(uuid.uuid4())
    first = check(bin_dir, base_url, "create", FAMILY, hub, event=timed(attendees=["kid@example.com"]))
    assert first.rc == 0
    (ev,) = first.items
    assert ev["id"] == "fh" + hub.replace("-", "") and ev["etag"]
    assert ev["start"] == "2026-03-29T01:30:00Z" and ev["timezone"] == "Europe/London"
    assert ev["hub_id"] == hub and ev["attendees"] == ["kid@example.com"]

    emu.ctl("POST", "stats/reset")
    second = check(bin_dir, base_url, "create", FAMILY, hub, event=timed())
    assert second.rc == 0 and second.items[0]["id"] == ev["id"]
    assert second.items[0]["etag"] == ev["etag"]
    assert emu.stats()["by_status"].get("409") == 1
    assert len(hub_events(emu, hub, FAMILY)) == 1 and len(emu.events(FAMILY)) == 1


@pytest.mark.parametrize("then", ["status", "drop"])
def test_create_applied_then_failed_then_retried(bin_dir, base_url, emu, then):
    hub = str(uuid.uuid4())
    rule = {"method": "POST", "path_regex": "/events$", "action": "apply_then_fail", "times": 1}
    if then == "drop":
        rule["then"] = "drop"
    emu.faults(rule)
    res = check(bin_dir, base_url, "create", PRIMARY, hub, event=timed())
    if then == "status":
        assert res.error["code"] == "EIO" and res.error["retryable"]
        assert "500" in res.error["message"]
    else:
        # the insert went out on the connection of the token request; libcurl
        # re-sends it once when that connection dies unanswered - the 409
        # that follows makes that harmless
        assert res.rc == 0 and res.items[0]["id"] == "fh" + hub.replace("-", "")
        assert emu.stats()["by_kind"]["POST insert"] == 2
    assert len(hub_events(emu, hub)) == 1          # it did get through, once
    retry = check(bin_dir, base_url, "create", PRIMARY, hub, event=timed())
    assert retry.rc == 0 and retry.items[0]["id"] == "fh" + hub.replace("-", "")
    assert len(hub_events(emu, hub)) == 1 and len(emu.events()) == 1


def test_create_after_remote_delete_restores_the_event(bin_dir, base_url, emu):
    hub = str(uuid.uuid4())
    ev = check(bin_dir, base_url, "create", PRIMARY, hub, event=timed()).items[0]
    emu.delete(ev["id"])
    again = check(bin_dir, base_url, "create", PRIMARY, hub, event=timed(title="Back"))
    assert again.rc == 0 and again.items[0]["id"] == ev["id"]
    stored = emu.event(ev["id"])
    assert stored["status"] == "confirmed" and stored["summary"] == "Back"


def test_all_day_series_and_override_round_trip(bin_dir, base_url, emu):
    day = check(bin_dir, base_url, "create", PRIMARY, str(uuid.uuid4()),
                event={"title": "Holiday", "all_day": True, "start": "2026-03-29", "end": "2026-03-31"})
    assert day.rc == 0 and day.items[0]["all_day"] and day.items[0]["end"] == "2026-03-31"
    assert emu.event(day.items[0]["id"])["start"] == {"date": "2026-03-29"}

    series = check(bin_dir, base_url, "create", PRIMARY, str(uuid.uuid4()), event=timed(
        title="Swim", start="2026-10-18T01:30:00+01:00", end="2026-10-18T02:30:00+01:00",
        recurrence="RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:20261101T013000Z"))
    assert series.rc == 0, series.out
    sid = series.items[0]["id"]
    assert emu.event(sid)["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4", "EXDATE:20261101T013000Z"]
    # the 25 Oct occurrence (01:30 BST = 00:30Z) moved by an hour, across the DST change
    over = check(bin_dir, base_url, "create", PRIMARY, str(uuid.uuid4()), event=timed(
        title="Swim later", start="2026-10-25T01:30:00Z", end="2026-10-25T02:30:00Z",
        series_id=sid, original_start="2026-10-25T00:30:00Z"))
    assert over.rc == 0, over.out
    o = over.items[0]
    assert o["series_id"] == sid and o["original_start"] == "2026-10-25T00:30:00Z"
    assert o["start"] == "2026-10-25T01:30:00Z" and o["timezone"] == "Europe/London"

    fetched = {e["id"]: e for e in check(bin_dir, base_url, "fetch", PRIMARY).items[:-1]}
    assert fetched[sid]["recurrence"] == "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:20261101T013000Z"
    assert fetched[sid]["start"] == "2026-10-18T00:30:00Z"
    assert fetched[o["id"]]["original_start"] == "2026-10-25T00:30:00Z"


def test_update_with_stale_etag_is_conflict(bin_dir, base_url, emu):
    ev = check(bin_dir, base_url, "create", PRIMARY, str(uuid.uuid4()), event=timed()).items[0]
    upd = check(bin_dir, base_url, "update", PRIMARY, ev["id"], ev["etag"],
                event=timed(title="Moved", start="2026-03-29T10:00:00Z", end="2026-03-29T11:00:00Z",
                            hub_id=ev["hub_id"]))
    assert upd.rc == 0
    new = upd.items[0]
    assert new["etag"] != ev["etag"] and new["title"] == "Moved"
    assert new["hub_id"] == ev["hub_id"]       # the stamp survives the update

    stale = check(bin_dir, base_url, "update", PRIMARY, ev["id"], ev["etag"],
                  event=timed(title="Overwrite"))
    assert stale.error["code"] == "ECONFLICT" and not stale.error["retryable"]
    assert "412" in stale.error["message"]
    stored = emu.event(ev["id"])
    assert stored["summary"] == "Moved" and stored["etag"] == new["etag"]

    # changed behind the back: our etag no longer matches either
    emu.patch(ev["id"], {"summary": "Edited on the phone"})
    res = check(bin_dir, base_url, "update", PRIMARY, ev["id"], new["etag"], event=timed(title="Mine"))
    assert res.error["code"] == "ECONFLICT"
    assert emu.event(ev["id"])["summary"] == "Edited on the phone"
    # an event that does not exist
    res = check(bin_dir, base_url, "update", PRIMARY, "nosuchevent1", "-", event=timed())
    assert res.error["code"] == "ENOTFOUND" and not res.error["retryable"]


def test_delete_with_stale_etag_is_conflict(bin_dir, base_url, emu):
    ev = check(bin_dir, base_url, "create", PRIMARY, str(uuid.uuid4()), event=timed()).items[0]
    emu.patch(ev["id"], {"summary": "Edited elsewhere"})
    res = check(bin_dir, base_url, "delete", PRIMARY, ev["id"], ev["etag"])
    assert res.error["code"] == "ECONFLICT" and not res.error["retryable"]
    assert emu.event(ev["id"])["status"] == "confirmed"


def test_delete_twice_is_success(bin_dir, base_url, emu):
    ev = check(bin_dir, base_url, "create", PRIMARY, str(uuid.uuid4()), event=timed()).items[0]
    emu.ctl("POST", "stats/reset")
    assert check(bin_dir, base_url, "delete", PRIMARY, ev["id"], ev["etag"]).items == [{"ok": True}]
    assert emu.event(ev["id"])["status"] == "cancelled"
    assert check(bin_dir, base_url, "delete", PRIMARY, ev["id"], ev["etag"]).rc == 0
    assert check(bin_dir, base_url, "delete", PRIMARY, "nosuchevent1", "-").rc == 0
    by_status = emu.stats()["by_status"]
    assert by_status.get("204") == 1 and by_status.get("410") == 1 and by_status.get("404") == 1


# -- OAuth -------------------------------------------------------------------------------

def test_valid_access_token_is_used_without_refresh(bin_dir, base_url, emu):
    token = emu.access_token()
    emu.ctl("POST", "stats/reset")
    res = check(bin_dir, base_url, "calendars", access_token=token, expires_at=int(time.time()) + 3000)
    assert res.rc == 0 and not res.refreshed
    assert "POST token" not in emu.stats()["by_kind"]


def test_rejected_access_token_is_refreshed_and_retried(bin_dir, base_url, emu):
    token = emu.access_token()
    emu.ctl("POST", "expire_access_tokens")
    emu.ctl("POST", "stats/reset")
    res = check(bin_dir, base_url, "fetch", PRIMARY, access_token=token,
                expires_at=int(time.time()) + 3000)
    assert res.rc == 0 and res.refreshed
    assert int(res.creds["expires_at"]) >= int(time.time()) + 3500
    stats = emu.stats()
    assert stats["by_kind"]["POST token"] == 1 and stats["by_status"]["401"] == 1
    assert stats["by_kind"]["GET list"] == 2


def test_access_token_expiring_soon_is_refreshed_first(bin_dir, base_url, emu):
    token = emu.access_token()
    emu.ctl("POST", "stats/reset")
    res = check(bin_dir, base_url, "calendars", access_token=token, expires_at=int(time.time()) + 30)
    assert res.rc == 0 and res.refreshed
    stats = emu.stats()
    assert stats["by_kind"]["POST token"] == 1 and "401" not in stats["by_status"]


def test_revoked_refresh_token_is_eauth(bin_dir, base_url, emu):
    emu.ctl("POST", "revoke_refresh", {"refresh_token": REFRESH})
    res = check(bin_dir, base_url, "fetch", PRIMARY)
    assert res.error["code"] == "EAUTH" and not res.error["retryable"]
    assert "invalid_grant" in res.error["message"] and "reconnect" in res.error["message"]
    assert not res.refreshed


def test_wrong_client_secret_is_eauth(bin_dir, base_url, emu):
    res = check(bin_dir, base_url, "calendars", env={"CALSYNC_GOOGLE_CLIENT_SECRET": "wrong-secret"},
                secrets=("wrong-secret",))
    assert res.error["code"] == "EAUTH" and not res.error["retryable"]
    assert "invalid_client" in res.error["message"]


def test_token_endpoint_5xx_is_retryable(bin_dir, base_url, emu):
    emu.faults({"method": "POST", "path_regex": "^/token$", "status": 503, "retry_after": 3, "times": 1})
    res = check(bin_dir, base_url, "calendars")
    assert res.error["code"] == "EIO" and res.error["retryable"]
    assert res.error["retry_after_ms"] == 3000


def test_revoke(bin_dir, base_url, emu):
    res = check(bin_dir, base_url, "revoke")
    assert res.rc == 0 and res.items == [{"ok": True}]
    after = check(bin_dir, base_url, "calendars")
    assert after.error["code"] == "EAUTH"
    # already revoked (400 invalid_token) counts as done
    assert check(bin_dir, base_url, "revoke").rc == 0
