"""test_graph_emulator.py - the Graph emulator against the documented API
(shared/reference/provider-apis.md, Microsoft Graph part): rotating refresh
tokens, /me/calendars paging, delta rounds through nextLink to deltaLink,
@removed, expired delta state, transactionId, If-Match, occurrences and
exceptions, window departures, faults with Retry-After, the per-mailbox
concurrency counter."""

import concurrent.futures
import json
import urllib.parse
import urllib.request
import uuid

import pytest

from graph_helpers import CLIENT_ID, GraphEmulator, timed


@pytest.fixture(scope="module")
def emu():
    e = GraphEmulator()
    yield e
    e.stop()


def token(emu, refresh, scope="offline_access Calendars.ReadWrite"):
    data = urllib.parse.urlencode({"client_id": CLIENT_ID, "grant_type": "refresh_token",
                                   "refresh_token": refresh, "scope": scope}).encode()
    req = urllib.request.Request(emu.url + "/token", data=data, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def box(emu):
    """A mailbox with two calendars; (access token, [calendar ids], refresh token)."""
    name = "emu-%s@outlook.example" % uuid.uuid4().hex[:6]
    refresh = "M.R3." + uuid.uuid4().hex
    cals = ["cal-%s" % uuid.uuid4().hex[:8] for _ in range(2)]
    emu.mailbox(name, refresh, {"id": cals[0], "name": "Calendar", "isDefaultCalendar": True},
                {"id": cals[1], "name": "Kids", "canEdit": False})
    status, tok = token(emu, refresh)
    assert status == 200
    return tok["access_token"], cals, tok["refresh_token"], name


def api(emu, access, method, path, body=None, **headers):
    url = path if path.startswith("http") else emu.url + "/v1.0" + path
    return emu.call(method, url[len(emu.url):], body,
                    headers=dict({"Authorization": "Bearer " + access}, **headers), raw=True)


def test_refresh_tokens_rotate_and_the_old_one_stops_working(emu, box):
    _, _, refresh, _ = box
    status, tok = token(emu, refresh)
    assert status == 200 and tok["refresh_token"] != refresh and tok["expires_in"] > 0
    status, err = token(emu, refresh)
    assert status == 400 and err["error"] == "invalid_grant"
    assert token(emu, tok["refresh_token"])[0] == 200
    assert token(emu, "M.R3.never-issued")[1]["error"] == "invalid_grant"


def test_calendars_list_with_paging_and_edit_rights(emu, box):
    access, cals, _, _ = box
    status, page = api(emu, access, "GET", "/me/calendars?$top=1")
    assert status == 200 and [c["id"] for c in page["value"]] == [cals[0]]
    assert page["value"][0]["isDefaultCalendar"] is True
    status, rest = api(emu, access, "GET", page["@odata.nextLink"])
    assert [(c["id"], c["canEdit"]) for c in rest["value"]] == [(cals[1], False)]
    assert "@odata.nextLink" not in rest
    assert api(emu, "nope", "GET", "/me/calendars")[0] == 401


def delta_round(emu, access, link):
    """Follow a round to its deltaLink; (items, deltaLink, pages)."""
    items, pages = [], 0
    while True:
        status, page = api(emu, access, "GET", link, Prefer="odata.maxpagesize=2")
        assert status == 200, page
        pages += 1
        items += page["value"]
        if "@odata.deltaLink" in page:
            return items, page["@odata.deltaLink"], pages
        link = page["@odata.nextLink"]


def test_delta_rounds_pages_removals_and_expiry(emu, box):
    access, cals, _, _ = box
    made = [api(emu, access, "POST", "/me/calendars/%s/events" % cals[0],
                timed("E%d" % i, "2026-12-0%dT09:00:00" % (i + 1), "2026-12-0%dT10:00:00" % (i + 1)))[1]
            for i in range(5)]
    items, link, pages = delta_round(emu, access, "/me/calendars/%s/events/delta" % cals[0])
    assert sorted(i["subject"] for i in items) == ["E0", "E1", "E2", "E3", "E4"] and pages == 3
    assert delta_round(emu, access, link)[0] == []           # nothing changed
    api(emu, access, "PATCH", "/me/events/" + made[0]["id"], {"subject": "E0 moved"})
    assert api(emu, access, "DELETE", "/me/events/" + made[1]["id"])[0] == 204
    items, link, _ = delta_round(emu, access, link)
    assert {(i["id"], i.get("subject"), "@removed" in i) for i in items} == {
        (made[0]["id"], "E0 moved", False), (made[1]["id"], None, True)}
    emu.delta_mods(cals[0], empty_pages=2, replay=True)
    api(emu, access, "PATCH", "/me/events/" + made[2]["id"], {"subject": "E2 again"})
    items, link, pages = delta_round(emu, access, link)
    assert [i["subject"] for i in items] == ["E2 again", "E2 again"] and pages == 3
    emu.delta_mods(cals[0])
    for code in ("SyncStateNotFound", "resyncRequired"):
        emu.expire_delta(cals[0], code)
        status, err = api(emu, access, "GET", link)
        assert status == 410 and err["error"]["code"] == code
        _, link, _ = delta_round(emu, access, "/me/calendars/%s/events/delta" % cals[0])


def test_transaction_id_if_match_and_read_only_calendars(emu, box):
    access, cals, _, _ = box
    body = dict(timed("Once", "2026-12-10T09:00:00", "2026-12-10T10:00:00"), transactionId="fh" + "1" * 32)
    s1, a = api(emu, access, "POST", "/me/calendars/%s/events" % cals[0], body)
    s2, b = api(emu, access, "POST", "/me/calendars/%s/events" % cals[0], body)
    assert (s1, s2) == (201, 201) and a["id"] == b["id"]
    status, err = api(emu, access, "PATCH", "/me/events/" + a["id"], {"subject": "x"}, **{"If-Match": 'W/"old"'})
    assert status == 412 and err["error"]["code"] == "ErrorIrresolvableConflict"
    status, ok = api(emu, access, "PATCH", "/me/events/" + a["id"], {"subject": "Twice"},
                     **{"If-Match": a["@odata.etag"]})
    assert status == 200 and ok["subject"] == "Twice" and ok["@odata.etag"] != a["@odata.etag"]
    assert api(emu, access, "POST", "/me/calendars/%s/events" % cals[1], body)[0] == 403
    assert api(emu, access, "GET", "/me/events/nope")[1]["error"]["code"] == "ErrorItemNotFound"
    status, err = api(emu, access, "POST", "/me/calendars/%s/events" % cals[0],
                      timed("Bad zone", "2026-12-10T09:00:00", "2026-12-10T10:00:00", tz="Mars Standard Time"))
    assert status == 400


def test_windows_zones_and_prefer_timezone(emu, box):
    access, cals, _, _ = box
    _, ev = api(emu, access, "POST", "/me/calendars/%s/events" % cals[0],
                timed("Berlin", "2026-03-29T03:30:00", "2026-03-29T04:30:00", tz="W. Europe Standard Time"))
    assert ev["start"] == {"dateTime": "2026-03-29T01:30:00.0000000", "timeZone": "UTC"}
    _, again = api(emu, access, "GET", "/me/events/" + ev["id"], Prefer='outlook.timezone="Pacific Standard Time"')
    assert again["start"]["dateTime"].startswith("2026-03-28T18:30:00")
    assert ev["originalStartTimeZone"] == "W. Europe Standard Time"


def test_series_occurrences_exceptions_and_cancellations(emu, box):
    access, cals, _, _ = box
    _, master = api(emu, access, "POST", "/me/calendars/%s/events" % cals[0], dict(
        timed("Swim", "2026-12-01T17:00:00", "2026-12-01T18:00:00"),
        recurrence={"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
                    "range": {"type": "numbered", "startDate": "2026-12-01", "numberOfOccurrences": 3}}))
    assert master["type"] == "seriesMaster"
    q = "?startDateTime=2026-11-01T00:00:00Z&endDateTime=2027-02-01T00:00:00Z"
    _, inst = api(emu, access, "GET", "/me/events/%s/instances%s" % (master["id"], q))
    assert [(i["type"], i["originalStart"]) for i in inst["value"]] == [
        ("occurrence", "2026-12-01T17:00:00Z"), ("occurrence", "2026-12-08T17:00:00Z"),
        ("occurrence", "2026-12-15T17:00:00Z")]
    status, exc = api(emu, access, "PATCH", "/me/events/" + inst["value"][1]["id"], {"subject": "Swim (late)"})
    assert status == 200 and exc["type"] == "exception" and exc["seriesMasterId"] == master["id"]
    assert api(emu, access, "DELETE", "/me/events/" + inst["value"][2]["id"])[0] == 204
    _, inst = api(emu, access, "GET", "/me/events/%s/instances%s" % (master["id"], q))
    assert [(i["type"], i["subject"]) for i in inst["value"]] == [("occurrence", "Swim"), ("exception", "Swim (late)")]
    _, m = api(emu, access, "GET", "/me/events/" + master["id"])
    assert m["cancelledOccurrences"] == ["OID.%s.2026-12-15" % master["id"]]


def test_calendar_view_delta_needs_a_window_and_reports_departures(emu, box):
    access, cals, _, _ = box
    path = "/me/calendars/%s/calendarView/delta" % cals[0]
    assert api(emu, access, "GET", path)[0] == 400
    _, ev = api(emu, access, "POST", "/me/calendars/%s/events" % cals[0],
                timed("Inside", "2026-12-20T09:00:00", "2026-12-20T10:00:00"))
    items, link, _ = delta_round(emu, access, path + "?startDateTime=2026-12-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z")
    assert [i["subject"] for i in items] == ["Inside"]
    api(emu, access, "PATCH", "/me/events/" + ev["id"],
        {"start": {"dateTime": "2027-03-01T09:00:00", "timeZone": "UTC"},
         "end": {"dateTime": "2027-03-01T10:00:00", "timeZone": "UTC"}})
    items, _, _ = delta_round(emu, access, link)
    assert items == [{"id": ev["id"], "@removed": {"reason": "deleted"}}]
    assert api(emu, access, "GET", "/me/events/" + ev["id"])[0] == 200   # still there


def test_faults_retry_after_and_the_concurrency_counter(emu, box):
    access, cals, _, name = box
    emu.faults({"method": "GET", "path_regex": "/calendars$", "status": 429, "retry_after": 7, "times": 1})
    req = urllib.request.Request(emu.url + "/v1.0/me/calendars", headers={"Authorization": "Bearer " + access})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 429 and e.value.headers["Retry-After"] == "7"
    assert api(emu, access, "GET", "/me/calendars")[0] == 200      # only once
    emu.faults({"method": "GET", "path_regex": "/calendars$", "delay_s": 0.3})
    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(lambda _: api(emu, access, "GET", "/me/calendars")[0], range(6)))
    finally:
        emu.clear_faults()
    assert codes == [200] * 6
    assert emu.stats()["max_in_flight"][name] == 6
