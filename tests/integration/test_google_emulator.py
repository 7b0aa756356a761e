"""Checks the Google Calendar emulator (tests/emulators/google_emu.py) against
the documented behaviour of Google Calendar API v3 and Google OAuth, as
summarised in shared/reference/provider-apis.md: paging, sync tokens,
deletions, ids, preconditions, validation, partial responses (fields), tokens,
faults and statistics.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_google_emulator.py
(add -s to see the list throughput that test_list_throughput measures)."""

import base64
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from google_helpers import base_url, start_emulator, stop_emulator  # noqa: F401 (fixture)

API = "/calendar/v3"
CLIENT = {"client_id": "calsync-test", "client_secret": "s3cret"}
REFRESH = "1//refresh-alice"
PRIMARY, FAMILY, SHARED = "alice@example.com", "family@group.calendar.google.com", "shared@example.com"


# -- emulator process -----------------------------------------------------------

class Reply:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw

    @property
    def json(self):
        return json.loads(self.raw)

    def reason(self):
        return self.json["error"]["errors"][0]["reason"]


class Emu:
    """A small urllib client for the emulator's API, OAuth and control paths."""

    def __init__(self, base):
        self.base = base
        self.token = None

    def request(self, method, path, body=None, headers=None, form=None, token=True):
        hdrs = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if token and self.token and path.startswith(API):
            hdrs["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.headers, err.read())

    def ctl(self, method, path, body=None):
        reply = self.request(method, "/_emu/" + path, body=body)
        assert reply.status == 200, reply.raw
        return reply.json

    def refresh(self, refresh_token=REFRESH, **override):
        form = dict(CLIENT, grant_type="refresh_token", refresh_token=refresh_token)
        form.update(override)
        return self.request("POST", "/token", form=form)

    def login(self):
        reply = self.refresh()
        assert reply.status == 200, reply.raw
        self.token = reply.json["access_token"]

    # Calendar API shortcuts
    def events_path(self, cal=PRIMARY, eid=None, **params):
        path = "%s/calendars/%s/events" % (API, urllib.parse.quote(cal, safe=""))
        if eid is not None:
            path += "/" + urllib.parse.quote(eid, safe="")
        if params:
            path += "?" + urllib.parse.urlencode(params)
        return path

    def insert(self, event, cal=PRIMARY):
        return self.request("POST", self.events_path(cal), body=event)

    def list(self, cal=PRIMARY, **params):
        return self.request("GET", self.events_path(cal, **params))

    def list_all(self, cal=PRIMARY, **params):
        """Page to the end; return (items, pages, nextSyncToken)."""
        items, pages, token = [], [], None
        while True:
            query = dict(params, pageToken=token) if token else dict(params)
            reply = self.list(cal, **query)
            assert reply.status == 200, reply.raw
            page = reply.json
            pages.append(page)
            items += page["items"]
            assert not ("nextPageToken" in page and "nextSyncToken" in page)
            token = page.get("nextPageToken")
            if token is None:
                assert "nextSyncToken" in page
                return items, pages, page["nextSyncToken"]


def event(n=0, **extra):
    body = {"summary": "Event %d" % n,
            "start": {"dateTime": "2025-03-%02dT10:00:00+01:00" % (n % 28 + 1)},
            "end": {"dateTime": "2025-03-%02dT11:00:00+01:00" % (n % 28 + 1)}}
    body.update(extra)
    return body


SERIES = {"summary": "Weekly swim", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=10"],
          "start": {"dateTime": "2025-03-03T17:00:00", "timeZone": "Europe/Berlin"},
          "end": {"dateTime": "2025-03-03T18:00:00", "timeZone": "Europe/Berlin"}}


@pytest.fixture
def emu(base_url):
    """A fresh emulator state: one account with three calendars, logged in."""
    client = Emu(base_url)
    client.ctl("POST", "reset")
    client.ctl("POST", "accounts", dict(CLIENT, refresh_token=REFRESH, calendars=[
        {"id": PRIMARY, "summary": "Alice", "backgroundColor": "#7986cb", "primary": True,
         "accessRole": "owner", "timeZone": "Europe/Berlin"},
        {"id": FAMILY, "summary": "Family", "backgroundColor": "#33b679", "accessRole": "writer"},
        {"id": SHARED, "summary": "Bob's", "backgroundColor": "#e67c73", "accessRole": "reader"}]))
    client.login()
    return client


def bulk(emu, events, cal=PRIMARY):
    return emu.ctl("POST", "calendars/%s/events" % urllib.parse.quote(cal, safe=""),
                   {"events": events})["items"]


# -- OAuth ------------------------------------------------------------------------

def test_refresh_grant_returns_bearer_token(emu):
    reply = emu.refresh()
    assert reply.status == 200
    body = reply.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"] and "calendar" in body["scope"]
    assert "refresh_token" not in body


def test_refresh_errors(emu):
    reply = emu.refresh("1//nobody")
    assert reply.status == 400 and reply.json["error"] == "invalid_grant"
    reply = emu.refresh(client_secret="wrong")
    assert reply.status == 401 and reply.json["error"] == "invalid_client"
    emu.ctl("POST", "revoke_refresh", {"refresh_token": REFRESH})
    reply = emu.refresh()
    assert reply.status == 400 and reply.json["error"] == "invalid_grant"
    # access tokens of a revoked grant stop working as well
    assert emu.list().status == 401


def test_client_credentials_as_basic_auth(emu):
    basic = base64.b64encode(("%s:%s" % (CLIENT["client_id"], CLIENT["client_secret"])).encode())
    reply = emu.request("POST", "/token", form={"grant_type": "refresh_token", "refresh_token": REFRESH},
                        headers={"Authorization": "Basic " + basic.decode()})
    assert reply.status == 200 and reply.json["token_type"] == "Bearer"


def test_api_needs_valid_bearer_token(emu):
    reply = emu.request("GET", emu.events_path(), token=False)
    assert reply.status == 401 and reply.reason() == "authError"
    reply = emu.request("GET", emu.events_path(), token=False,
                        headers={"Authorization": "Bearer ya29.forged"})
    assert reply.status == 401


def test_expire_access_tokens_then_refresh(emu):
    assert emu.list().status == 200
    emu.ctl("POST", "expire_access_tokens")
    assert emu.list().status == 401
    emu.login()
    assert emu.list().status == 200


def test_token_lifetime_and_clock(emu):
    emu.ctl("POST", "config", {"access_token_lifetime_s": 60})
    emu.login()
    assert emu.refresh().json["expires_in"] == 60
    emu.ctl("POST", "clock", {"offset_s": 59})
    assert emu.list().status == 200
    emu.ctl("POST", "clock", {"advance_s": 2})
    assert emu.list().status == 401


def test_revoke_endpoint(emu):
    reply = emu.request("POST", "/revoke", form={"token": emu.token})
    assert reply.status == 200
    assert emu.list().status == 401
    # revoking an access token revokes its grant (refresh token) too
    assert emu.refresh().json["error"] == "invalid_grant"
    reply = emu.request("POST", "/revoke", form={"token": "unknown"})
    assert reply.status == 400 and reply.json["error"] == "invalid_token"


# -- calendar list -------------------------------------------------------------------

def test_calendar_list_paging_and_fields(emu):
    items, token = [], None
    while True:
        path = API + "/users/me/calendarList?maxResults=2" + ("&pageToken=" + token if token else "")
        page = emu.request("GET", path).json
        items += page["items"]
        token = page.get("nextPageToken")
        if not token:
            break
    by_id = {c["id"]: c for c in items}
    assert list(by_id) == [PRIMARY, FAMILY, SHARED]
    assert by_id[PRIMARY]["primary"] is True and "primary" not in by_id[FAMILY]
    assert by_id[SHARED]["accessRole"] == "reader"
    assert by_id[FAMILY]["backgroundColor"] == "#33b679"


def test_unknown_calendar_is_404_and_primary_alias(emu):
    assert emu.list("nobody@example.com").status == 404
    assert emu.insert(event(1), cal="primary").status == 200
    items, _, _ = emu.list_all(PRIMARY)
    assert len(items) == 1


def test_reader_cannot_write(emu):
    reply = emu.insert(event(1), cal=SHARED)
    assert reply.status == 403 and reply.reason() == "requiredAccessLevel"


# -- event resource -------------------------------------------------------------------

def test_insert_and_get_roundtrip(emu):
    body = event(1, id="abcdef0123456789", description="d", location="pool",
                 attendees=[{"email": "bob@example.com"}], transparency="transparent",
                 visibility="private", status="tentative",
                 extendedProperties={"private": {"hubEventId": "42"}})
    created = emu.insert(body).json
    assert created["id"] == "abcdef0123456789"
    assert created["iCalUID"] == "abcdef0123456789@google.com"
    assert created["etag"].startswith('"') and created["etag"].endswith('"')
    assert created["sequence"] == 0 and created["status"] == "tentative"
    assert created["updated"].endswith("Z") and len(created["updated"]) == 24
    assert created["attendees"][0]["email"] == "bob@example.com"
    assert created["extendedProperties"]["private"] == {"hubEventId": "42"}
    assert created["start"]["dateTime"] == "2025-03-02T10:00:00+01:00"
    fetched = emu.request("GET", emu.events_path(eid=created["id"])).json
    assert fetched == created


def test_generated_ids_are_base32hex(emu):
    created = emu.insert(event(1)).json
    assert 5 <= len(created["id"]) <= 1024
    assert set(created["id"]) <= set("0123456789abcdefghijklmnopqrstuv")


@pytest.mark.parametrize("bad_id", ["abcd", "ABCDEF", "abcdefw", "abc-def", "x" * 6, "a" * 1025])
def test_invalid_client_id_rejected(emu, bad_id):
    reply = emu.insert(event(1, id=bad_id))
    assert reply.status == 400 and reply.reason() == "invalid"


def test_duplicate_id_even_when_deleted(emu):
    assert emu.insert(event(1, id="dup00001")).status == 200
    reply = emu.insert(event(2, id="dup00001"))
    assert reply.status == 409 and reply.reason() == "duplicate"
    assert emu.request("DELETE", emu.events_path(eid="dup00001")).status == 204
    reply = emu.insert(event(3, id="dup00001"))
    assert reply.status == 409 and reply.reason() == "duplicate"


@pytest.mark.parametrize("change, reason", [
    ({"start": {"date": "2025-03-01", "dateTime": "2025-03-01T10:00:00Z"}}, "invalid"),
    ({"start": {"dateTime": "2025-03-01T10:00:00"}}, "required"),
    ({"start": {"dateTime": "2025-03-01T10:00:00", "timeZone": "Mars/Olympus"}}, "invalid"),
    ({"end": {"dateTime": "2025-03-01T09:00:00+01:00"}}, "timeRangeEmpty"),
    ({"end": {"date": "2025-03-03"}}, "invalid"),
    ({"start": None}, "required"),
    ({"recurrence": ["RRULE:FREQ=DAILY"]}, "required"),
    ({"status": "maybe"}, "invalid"),
])
def test_validation(emu, change, reason):
    body = {"summary": "x", "start": {"dateTime": "2025-03-01T10:00:00+01:00"},
            "end": {"dateTime": "2025-03-01T11:00:00+01:00"}}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    reply = emu.insert(body)
    assert reply.status == 400 and reply.reason() == reason, reply.raw


@pytest.mark.parametrize("line", ["FREQ=DAILY", "DTSTART:20250301T100000Z", "RRULE:COUNT=3"])
def test_recurrence_lines_checked(emu, line):
    reply = emu.insert(dict(SERIES, recurrence=[line]))
    assert reply.status == 400 and reply.reason() == "invalid"


def test_recurring_series_accepts_exdate_and_all_day(emu):
    series = dict(SERIES, recurrence=["RRULE:FREQ=WEEKLY;COUNT=10",
                                      "EXDATE;TZID=Europe/Berlin:20250310T170000"])
    assert emu.insert(series).status == 200
    yearly = {"summary": "Birthday", "recurrence": ["RRULE:FREQ=YEARLY"],
              "start": {"date": "2025-05-01"}, "end": {"date": "2025-05-02"}}
    assert emu.insert(yearly).status == 200


def test_extended_properties_limits(emu):
    props = {"k" * 44: "kept", "k" * 45: "dropped", "long": "v" * 2000}
    created = emu.insert(event(1, extendedProperties={"private": props})).json
    stored = created["extendedProperties"]["private"]
    assert stored["k" * 44] == "kept" and "k" * 45 not in stored
    assert len(stored["long"]) == 1024


def test_datetime_rendered_in_event_time_zone(emu):
    body = {"summary": "tz", "start": {"dateTime": "2025-07-01T08:00:00Z", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2025-07-01T09:00:00Z", "timeZone": "Europe/Berlin"}}
    created = emu.insert(body).json
    assert created["start"] == {"dateTime": "2025-07-01T10:00:00+02:00", "timeZone": "Europe/Berlin"}


# -- writes, etags, preconditions ----------------------------------------------------

def test_update_patch_and_stale_etag(emu):
    created = emu.insert(event(1, id="etag00001")).json
    path = emu.events_path(eid="etag00001")
    put = emu.request("PUT", path, body=event(1, summary="renamed"),
                      headers={"If-Match": created["etag"]})
    assert put.status == 200
    updated = put.json
    assert updated["etag"] != created["etag"] and updated["summary"] == "renamed"
    assert updated["updated"] >= created["updated"] and updated["created"] == created["created"]
    for method, body in (("PUT", event(1)), ("PATCH", {"summary": "x"}), ("DELETE", None)):
        reply = emu.request(method, path, body=body, headers={"If-Match": created["etag"]})
        assert reply.status == 412 and reply.reason() == "conditionNotMet", method
    patched = emu.request("PATCH", path, body={"location": "pool"},
                          headers={"If-Match": updated["etag"]}).json
    assert patched["summary"] == "renamed" and patched["location"] == "pool"


def test_put_replaces_patch_merges(emu):
    emu.insert(event(1, id="repl00001", description="keep?", location="here"))
    path = emu.events_path(eid="repl00001")
    patched = emu.request("PATCH", path, body={"summary": "p"}).json
    assert patched["description"] == "keep?"
    put = emu.request("PUT", path, body=event(1, summary="u")).json
    assert "description" not in put and "location" not in put


def test_sequence_bumps_on_time_change_only(emu):
    emu.insert(event(1, id="seq000001"))
    path = emu.events_path(eid="seq000001")
    assert emu.request("PATCH", path, body={"summary": "s"}).json["sequence"] == 0
    moved = {"start": {"dateTime": "2025-03-02T12:00:00+01:00"},
             "end": {"dateTime": "2025-03-02T13:00:00+01:00"}}
    assert emu.request("PATCH", path, body=moved).json["sequence"] == 1
    reply = emu.request("PATCH", path, body={"sequence": 0})
    assert reply.status == 400


def test_delete_semantics(emu):
    emu.insert(event(1, id="del000001"))
    path = emu.events_path(eid="del000001")
    reply = emu.request("DELETE", path)
    assert reply.status == 204 and reply.raw == b""
    reply = emu.request("DELETE", path)
    assert reply.status == 410 and reply.reason() == "deleted"
    assert emu.request("GET", path).json["status"] == "cancelled"
    reply = emu.request("DELETE", emu.events_path(eid="nosuchevent"))
    assert reply.status == 404 and reply.reason() == "notFound"


def test_if_none_match_on_get(emu):
    created = emu.insert(event(1, id="inm000001")).json
    reply = emu.request("GET", emu.events_path(eid="inm000001"), headers={"If-None-Match": created["etag"]})
    assert reply.status == 304


# -- listing and sync tokens -----------------------------------------------------------

def test_full_list_pages_to_the_end(emu):
    ids = [e["id"] for e in bulk(emu, [event(i) for i in range(25)])]
    items, pages, sync = emu.list_all(maxResults=10)
    assert [len(p["items"]) for p in pages] == [10, 10, 5]
    assert [e["id"] for e in items] == ids
    assert all("nextPageToken" in p and "nextSyncToken" not in p for p in pages[:-1])
    assert sync and pages[-1]["accessRole"] == "owner"


LIST_FIELDS = "nextPageToken,nextSyncToken,items(id,etag,status,start/dateTime,attendees/email)"


def test_partial_response_pages_and_sync(emu):
    bulk(emu, [event(i, attendees=[{"email": "bob@example.com", "responseStatus": "accepted"}])
               for i in range(5)])
    items, pages, sync = emu.list_all(maxResults=2, fields=LIST_FIELDS)
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert all(set(p) <= {"nextPageToken", "nextSyncToken", "items"} for p in pages)
    first = items[0]
    assert set(first) == {"id", "etag", "status", "start", "attendees"}
    assert set(first["start"]) == {"dateTime"}
    assert first["attendees"] == [{"email": "bob@example.com"}]
    emu.request("DELETE", emu.events_path(eid=items[1]["id"]))
    changes = emu.list(syncToken=sync, fields=LIST_FIELDS).json
    assert changes["items"] == [{"id": items[1]["id"], "etag": changes["items"][0]["etag"],
                                 "status": "cancelled"}]


def test_partial_response_of_a_write_and_without_items(emu):
    reply = emu.request("POST", emu.events_path(fields="id,summary"), body=event(1))
    assert reply.status == 200 and set(reply.json) == {"id", "summary"}
    assert set(emu.list(fields="nextSyncToken").json) == {"nextSyncToken"}


@pytest.mark.parametrize("fields", ["items(id", "items(nosuch)", "bogus", "id,,etag"])
def test_bad_field_selection_is_400(emu, fields):
    reply = emu.list(fields=fields)
    assert reply.status == 400, reply.raw
    assert reply.json["error"]["errors"][0]["location"] == "fields"


def test_max_results_bounds(emu):
    bulk(emu, [event(i) for i in range(3)])
    assert emu.list(maxResults=0).status == 400
    assert len(emu.list(maxResults=999999).json["items"]) == 3
    assert emu.list(pageToken="garbage").status == 400


def test_deleted_hidden_unless_show_deleted(emu):
    keep, gone = bulk(emu, [event(1), event(2)])
    series = emu.insert(SERIES).json
    emu.request("DELETE", emu.events_path(eid=gone["id"]))
    emu.request("DELETE", emu.events_path(eid=series["id"] + "_20250310T160000Z"))
    items, _, _ = emu.list_all()
    by_id = {e["id"]: e for e in items}
    assert gone["id"] not in by_id and keep["id"] in by_id and series["id"] in by_id
    # a cancelled occurrence of a live series is listed even without showDeleted
    removed = by_id[series["id"] + "_20250310T160000Z"]
    assert removed["status"] == "cancelled" and removed["recurringEventId"] == series["id"]
    assert removed["originalStartTime"]["dateTime"] == "2025-03-10T17:00:00+01:00"
    items, _, _ = emu.list_all(showDeleted="true")
    assert {e["id"]: e["status"] for e in items}[gone["id"]] == "cancelled"


def test_incremental_returns_changes_and_deletions(emu):
    a, b, c = bulk(emu, [event(1), event(2), event(3)])
    series = emu.insert(SERIES).json
    _, _, sync = emu.list_all()
    new = emu.insert(event(4)).json
    emu.ctl("PATCH", "calendars/%s/events/%s" % (PRIMARY, a["id"]), {"summary": "changed"})
    emu.ctl("DELETE", "calendars/%s/events/%s" % (PRIMARY, b["id"]))
    emu.request("DELETE", emu.events_path(eid=series["id"] + "_20250317T160000Z"))
    items, _, sync2 = emu.list_all(syncToken=sync)
    by_id = {e["id"]: e for e in items}
    assert set(by_id) == {new["id"], a["id"], b["id"], series["id"] + "_20250317T160000Z"}
    assert by_id[a["id"]]["summary"] == "changed" and by_id[a["id"]]["sequence"] == 1
    assert by_id[b["id"]]["status"] == "cancelled"
    occurrence = by_id[series["id"] + "_20250317T160000Z"]
    assert occurrence["status"] == "cancelled" and occurrence["recurringEventId"] == series["id"]
    assert "originalStartTime" in occurrence
    items, _, sync3 = emu.list_all(syncToken=sync2)
    assert items == [] and sync3
    assert c["id"] not in by_id


def test_incremental_paging_and_superseded_changes(emu):
    created = bulk(emu, [event(i) for i in range(30)])
    _, _, sync = emu.list_all()
    for e in created[:20]:
        emu.ctl("PATCH", "calendars/%s/events/%s" % (PRIMARY, e["id"]), {"summary": "one"})
    for e in created[:5]:
        emu.ctl("PATCH", "calendars/%s/events/%s" % (PRIMARY, e["id"]), {"summary": "two"})
    items, pages, _ = emu.list_all(syncToken=sync, maxResults=7)
    assert len(pages) >= 3
    ids = [e["id"] for e in items]
    assert len(ids) == len(set(ids)) == 20
    assert {e["summary"] for e in items if e["id"] in {x["id"] for x in created[:5]}} == {"two"}


def test_change_during_full_paging_reaches_next_incremental(emu):
    created = bulk(emu, [event(i) for i in range(10)])
    first = emu.list(maxResults=5).json
    emu.ctl("PATCH", "calendars/%s/events/%s" % (PRIMARY, created[0]["id"]), {"summary": "late"})
    rest, _, sync = emu.list_all(maxResults=5, pageToken=first["nextPageToken"])
    assert len(first["items"]) + len(rest) == 10
    items, _, _ = emu.list_all(syncToken=sync)
    assert [e["summary"] for e in items] == ["late"]


def test_expired_and_invalid_sync_tokens_give_410(emu):
    bulk(emu, [event(1)])
    _, _, sync = emu.list_all()
    assert emu.list(syncToken=sync).status == 200
    emu.ctl("POST", "expire_sync_tokens")
    reply = emu.list(syncToken=sync)
    assert reply.status == 410 and reply.reason() == "fullSyncRequired"
    assert emu.list(syncToken="not-a-token").status == 410
    _, _, fresh = emu.list_all()
    assert emu.list(syncToken=fresh).status == 200
    # a token of another calendar is no good either
    assert emu.list(FAMILY, syncToken=fresh).status == 410


@pytest.mark.parametrize("param", [
    {"timeMin": "2025-01-01T00:00:00Z"}, {"timeMax": "2025-01-01T00:00:00Z"},
    {"updatedMin": "2025-01-01T00:00:00Z"}, {"orderBy": "updated"}, {"q": "x"},
    {"iCalUID": "a@google.com"}, {"privateExtendedProperty": "a=b"}, {"showDeleted": "false"}])
def test_sync_token_rejects_restrictions(emu, param):
    _, _, sync = emu.list_all()
    reply = emu.list(syncToken=sync, **param)
    assert reply.status == 400 and reply.reason() == "invalid"


def test_order_by_start_time_needs_single_events(emu):
    assert emu.list(orderBy="startTime").status == 400


def test_page_token_bound_to_query(emu):
    bulk(emu, [event(i) for i in range(4)])
    token = emu.list(maxResults=2).json["nextPageToken"]
    assert emu.list(maxResults=2, pageToken=token, showDeleted="true").status == 400
    assert emu.list(FAMILY, maxResults=2, pageToken=token).status == 400


def test_filters_without_sync_token(emu):
    bulk(emu, [event(1, summary="Swim"), event(10, summary="Chess",
                extendedProperties={"private": {"hub": "1"}})])
    assert [e["summary"] for e in emu.list(q="swim").json["items"]] == ["Swim"]
    assert [e["summary"] for e in emu.list(privateExtendedProperty="hub=1").json["items"]] == ["Chess"]
    items = emu.list(timeMin="2025-03-05T00:00:00Z").json["items"]
    assert [e["summary"] for e in items] == ["Chess"]
    items = emu.list(timeMax="2025-03-05T00:00:00Z").json["items"]
    assert [e["summary"] for e in items] == ["Swim"]


# -- recurring events and exceptions ---------------------------------------------------

def test_exception_insert_duplicate_and_instance_ids(emu):
    series = emu.insert(SERIES).json
    assert series["start"]["timeZone"] == "Europe/Berlin"
    override = {"recurringEventId": series["id"], "summary": "Swim (late)",
                "originalStartTime": {"dateTime": "2025-03-10T17:00:00+01:00", "timeZone": "Europe/Berlin"},
                "start": {"dateTime": "2025-03-10T19:00:00+01:00", "timeZone": "Europe/Berlin"},
                "end": {"dateTime": "2025-03-10T20:00:00+01:00", "timeZone": "Europe/Berlin"}}
    exc = emu.insert(override).json
    assert exc["id"] == series["id"] + "_20250310T160000Z"
    assert exc["recurringEventId"] == series["id"] and exc["iCalUID"] == series["iCalUID"]
    assert emu.insert(override).status == 409
    # an untouched occurrence can be addressed and changed by its instance id
    path = emu.events_path(eid=series["id"] + "_20250324T160000Z")
    inst = emu.request("GET", path).json
    assert inst["start"]["dateTime"] == "2025-03-24T17:00:00+01:00"
    changed = emu.request("PATCH", path, body={"summary": "Swim (pool closed?)"}).json
    assert changed["recurringEventId"] == series["id"] and changed["summary"] == "Swim (pool closed?)"
    raw = emu.ctl("GET", "calendars/%s/events" % PRIMARY)["items"]
    assert len(raw) == 3
    # instance ids must fit the series: timed -> UTC date-time, all-day -> date
    for suffix in ("_20250324", "_garbage", "_20250324T160000"):
        assert emu.request("GET", emu.events_path(eid=series["id"] + suffix)).status == 404


def test_all_day_series_instance_ids(emu):
    series = emu.insert({"summary": "Bins", "recurrence": ["RRULE:FREQ=WEEKLY"],
                         "start": {"date": "2025-03-04"}, "end": {"date": "2025-03-05"}}).json
    reply = emu.request("DELETE", emu.events_path(eid=series["id"] + "_20250311"))
    assert reply.status == 204
    removed = emu.ctl("GET", "calendars/%s/events/%s_20250311" % (PRIMARY, series["id"]))
    assert removed["status"] == "cancelled"
    assert removed["originalStartTime"] == {"date": "2025-03-11"}
    assert removed["start"] == {"date": "2025-03-11"} and removed["end"] == {"date": "2025-03-12"}


def test_deleting_series_cancels_its_exceptions(emu):
    series = emu.insert(SERIES).json
    path = emu.events_path(eid=series["id"] + "_20250310T160000Z")
    emu.request("PATCH", path, body={"summary": "moved"})
    _, _, sync = emu.list_all()
    emu.request("DELETE", emu.events_path(eid=series["id"]))
    items, _, _ = emu.list_all(syncToken=sync)
    assert {e["id"]: e["status"] for e in items} == {
        series["id"]: "cancelled", series["id"] + "_20250310T160000Z": "cancelled"}
    items, _, _ = emu.list_all()
    assert items == []


# -- faults -------------------------------------------------------------------------------

def set_faults(emu, *rules):
    emu.ctl("POST", "faults", {"rules": list(rules)})


@pytest.mark.parametrize("status, reason", [(429, "rateLimitExceeded"), (403, "rateLimitExceeded"),
                                            (403, "userRateLimitExceeded"), (500, "backendError"),
                                            (503, "backendError")])
def test_error_faults_count_down(emu, status, reason):
    set_faults(emu, {"method": "GET", "path_regex": "/events$", "status": status,
                     "reason": reason, "retry_after": 2, "times": 2})
    for _ in range(2):
        reply = emu.list()
        assert reply.status == status and reply.reason() == reason
        assert reply.headers["Retry-After"] == "2"
    assert emu.list().status == 200


def test_write_fault_does_not_apply(emu):
    set_faults(emu, {"method": "POST", "path_regex": "/events$", "status": 503, "times": 1})
    assert emu.insert(event(1, id="fault0001")).status == 503
    assert emu.request("GET", emu.events_path(eid="fault0001")).status == 404
    assert emu.insert(event(1, id="fault0001")).status == 200


def test_apply_then_fail(emu):
    set_faults(emu, {"method": "POST", "path_regex": "/events$", "action": "apply_then_fail",
                     "status": 500, "times": 1},
               {"method": "POST", "path_regex": "/events$", "action": "apply_then_fail",
                "then": "drop", "times": 1})
    assert emu.insert(event(1, id="crash0001")).status == 500
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        emu.insert(event(2, id="crash0002"))
    for eid in ("crash0001", "crash0002"):
        assert emu.request("GET", emu.events_path(eid=eid)).status == 200
        assert emu.insert(event(3, id=eid)).status == 409   # the retry is idempotent


def test_garbage_drop_and_delay(emu):
    set_faults(emu, {"method": "GET", "path_regex": "/events$", "action": "garbage", "times": 1},
               {"method": "GET", "path_regex": "/events$", "action": "drop", "times": 1},
               {"method": "GET", "path_regex": "/events$", "action": "delay", "delay_ms": 300, "times": 1})
    reply = emu.list()
    assert reply.status == 200
    with pytest.raises(ValueError):
        json.loads(reply.raw)
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        emu.list()
    started = time.monotonic()
    assert emu.list().status == 200
    assert time.monotonic() - started >= 0.29


def test_garbage_item_and_short_pages(emu):
    created = bulk(emu, [event(i) for i in range(6)])
    bad = created[2]["id"]
    set_faults(emu, {"path_regex": "/events$", "action": "garbage_item", "event_id": bad},
               {"path_regex": "/events$", "action": "short_pages", "page_size": 0, "times": 2})
    items, pages, _ = emu.list_all(maxResults=4)
    assert [len(p["items"]) for p in pages] == [0, 0, 4, 2]
    assert [e["id"] for e in items] == [e["id"] for e in created]
    broken = [e for e in items if e["id"] == bad][0]
    assert not isinstance(broken.get("start"), dict) and "end" not in broken
    emu.request("DELETE", "/_emu/faults")
    assert emu.ctl("GET", "faults")["rules"] == []


def test_repeat_item(emu):
    created = bulk(emu, [event(i) for i in range(3)])
    again = created[0]["id"]
    set_faults(emu, {"path_regex": "/events$", "action": "repeat_item", "event_id": again},
               {"path_regex": "/events$", "action": "short_pages", "page_size": 2})
    items, pages, _ = emu.list_all(maxResults=4)
    assert [[e["id"] for e in p["items"]] for p in pages] == [
        [created[0]["id"], created[1]["id"], again], [created[2]["id"], again]]
    emu.request("DELETE", "/_emu/faults")


def test_local_times(emu):
    zoned, plain = bulk(emu, [event(1, start={"dateTime": "2025-07-01T10:00:00+01:00", "timeZone": "Europe/London"},
                                    end={"dateTime": "2025-07-01T11:00:00Z", "timeZone": "Europe/London"}),
                              event(2)])
    set_faults(emu, {"path_regex": "/events$", "action": "local_times", "event_id": zoned["id"]},
               {"path_regex": "/events$", "action": "local_times", "event_id": plain["id"]})
    items, _, _ = emu.list_all()
    served = {e["id"]: e for e in items}
    assert served[zoned["id"]]["start"] == {"dateTime": "2025-07-01T10:00:00", "timeZone": "Europe/London"}
    assert served[zoned["id"]]["end"] == {"dateTime": "2025-07-01T12:00:00", "timeZone": "Europe/London"}
    # without a timeZone the offset is all that places the time: kept
    assert served[plain["id"]]["start"] == plain["start"]
    emu.request("DELETE", "/_emu/faults")


def test_token_endpoint_faults(emu):
    set_faults(emu, {"method": "POST", "path_regex": "^/token$", "status": 503, "times": 1})
    assert emu.refresh().status == 503
    assert emu.refresh().status == 200


def test_user_rate_limit(emu):
    emu.ctl("POST", "config", {"user_rate_limit_per_min": 3})
    assert [emu.list().status for _ in range(4)] == [200, 200, 200, 403]
    assert emu.list().reason() == "userRateLimitExceeded"


# -- stats ------------------------------------------------------------------------------------

def test_stats_count_requests(emu):
    emu.ctl("POST", "stats/reset")
    emu.insert(event(1, id="stat00001"))
    emu.list()
    emu.list()
    emu.request("GET", emu.events_path(eid="stat00001"))
    emu.request("PATCH", emu.events_path(eid="stat00001"), body={"summary": "s"})
    emu.request("DELETE", emu.events_path(eid="stat00001"))
    emu.request("GET", API + "/users/me/calendarList")
    emu.refresh()
    stats = emu.ctl("GET", "stats")
    assert stats["total"] == 8
    assert stats["by_method"] == {"POST": 2, "GET": 4, "PATCH": 1, "DELETE": 1}
    assert stats["by_kind"] == {"POST insert": 1, "GET list": 2, "GET get": 1, "PATCH patch": 1,
                                "DELETE delete": 1, "GET calendarList": 1, "POST token": 1}
    emu.ctl("POST", "stats/reset")
    assert emu.ctl("GET", "stats")["total"] == 0


# -- transport, persistence, seed, throughput ------------------------------------------------------

def test_chunked_request_body_and_keep_alive(emu):
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(emu.base).netloc, timeout=10)
    headers = {"Authorization": "Bearer " + emu.token, "Content-Type": "application/json"}
    body = iter([json.dumps(event(1, id="chunk0001")).encode()])
    conn.request("POST", emu.events_path(), body=body, headers=headers, encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["id"] == "chunk0001"
    conn.request("GET", emu.events_path(eid="chunk0001"), headers=headers)
    resp = conn.getresponse()   # same connection: keep-alive works
    assert resp.status == 200 and resp.getheader("Content-Length")
    resp.read()
    conn.close()


def test_concurrent_clients(emu):
    def worker(n):
        client = Emu(emu.base)
        client.token = emu.token
        return [client.insert(event(i, id="conc%02dv%03d" % (n, i))).status for i in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for result in pool.map(worker, range(8)) for s in result]
    assert statuses == [200] * 320
    items, _, _ = emu.list_all(maxResults=100)
    assert len({e["id"] for e in items}) == 320


def test_state_file_survives_restart(tmp_path):
    state = str(tmp_path / "state.json")
    proc, url = start_emulator("--state-file", state)
    try:
        client = Emu(url)
        client.ctl("POST", "accounts", dict(CLIENT, refresh_token=REFRESH,
                                            calendars=[{"id": PRIMARY, "primary": True}]))
        client.login()
        client.insert(event(1, id="persist01"))
        _, _, sync = client.list_all()
    finally:
        stop_emulator(proc)
    proc, url = start_emulator("--state-file", state)
    try:
        client.base = url
        assert client.request("GET", client.events_path(eid="persist01")).status == 200
        assert client.list_all(syncToken=sync)[0] == []
        client.insert(event(2))
        assert len(client.list_all(syncToken=sync)[0]) == 1
    finally:
        stop_emulator(proc)


def test_seed_file(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"accounts": [dict(CLIENT, refresh_token=REFRESH, calendars=[
        {"id": PRIMARY, "primary": True, "events": [event(1), event(2)]}])]}))
    proc, url = start_emulator("--seed", str(seed))
    try:
        client = Emu(url)
        client.login()
        assert len(client.list_all()[0]) == 2
    finally:
        stop_emulator(proc)


def test_list_throughput(emu):
    """10,000 events, maxResults=2500, one keep-alive connection. Reports events/s
    (no timed assertion: machines differ; the target is > 20,000 events/s)."""
    for start in range(0, 10000, 2500):
        bulk(emu, [event(i, description="x" * 40, attendees=[{"email": "bob@example.com"}],
                         extendedProperties={"private": {"hubEventId": "%032x" % i}})
                   for i in range(start, start + 2500)])
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(emu.base).netloc, timeout=30)
    headers = {"Authorization": "Bearer " + emu.token}
    best = None
    for _ in range(3):
        started, count, token, pages = time.perf_counter(), 0, None, 0
        while True:
            path = emu.events_path(maxResults=2500, **({"pageToken": token} if token else {}))
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            page = json.loads(resp.read())
            count += len(page["items"])
            pages += 1
            token = page.get("nextPageToken")
            if not token:
                break
        elapsed = time.perf_counter() - started
        assert count == 10000 and pages == 4
        best = elapsed if best is None else min(best, elapsed)
    conn.close()
    rate = 10000 / best
    sys.__stdout__.write("\nlist throughput: 10000 events in %.3f s = %.0f events/s "
                         "(4 pages, keep-alive, client JSON parsing included)\n" % (best, rate))
