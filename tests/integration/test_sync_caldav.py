"""test_sync_caldav.py - the sync rules end to end on CalDAV: the production
calsync-worker against the harness's real Radicale (directly as provider
`caldav`, and behind the iCloud-like front as provider `icloud`), with edits
made over HTTP by another CalDAV client as a phone would. The Google suite's
rules repeated: pull, push, no echo, no duplicates, deletions, conflicts on
412, recurrence with overrides, all-day, DST both ways, a refused token, the
ctag/etag fallback, what a phone wrote surviving a Hub edit, a 2,000-event
calendar, and real-world iCalendar samples compared field by field."""

import json
import os
import threading
import uuid

import pytest

from caldav_helpers import SAMPLES, Dav, Front, calendar, connect_caldav, seal, vevent
from calsync_helpers import query, wait_for
from pool_helpers import World
from sync_helpers import (hub, hub_edit_pushed, hub_event, pull_dentist_and_holiday,
                          pull_moved_and_deleted,
                          push_series_with_a_moved_and_a_removed_occurrence, run)


@pytest.fixture
def dav(services):
    return Dav.of(services)


@pytest.fixture
def world(services, bin_dir, dav):
    w = World(services, bin_dir, redis_db=5)
    w.remote = dav.new_calendar()
    w.cal = connect_caldav(w, dav, w.remote)
    w.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300, CALSYNC_MASS_DELETE_MIN=10)
    yield w
    w.stop()


@pytest.fixture
def front(services):
    f = Front(services)
    yield f
    f.stop()


def phone_event(dav, world, summary, start, end, extra="", tz="Europe/London"):
    """An event another client writes; its resource URL."""
    uid = "phone-" + uuid.uuid4().hex
    url = world.remote + uid + ".ics"
    dav.put(url, vevent(uid, summary, start, end, extra, tz), create=True)
    return url


def resource_of(dav, world, hub_id):
    text, etag = dav.get(world.remote + "familyhub-" + hub_id + ".ics")
    return text


def test_initial_pull_brings_timed_and_all_day_events_and_skips_tasks(world, dav):
    phone_event(dav, world, "Dentist", "20261201T100000", "20261201T110000")
    phone_event(dav, world, "School holiday", "20261221", "20270105")
    with open(os.path.join(SAMPLES, "todo.ics")) as f:
        dav.put(world.remote + "todo.ics", f.read())
    pull_dentist_and_holiday(world)


def test_two_syncs_in_a_row_the_second_writes_nothing(world, dav):
    phone_event(dav, world, "Swim", "20261202T170000", "20261202T180000")
    hub_event(world, "Pick up Tommy", "2026-12-03T15:00Z", "2026-12-03T15:30Z")
    first = run(world)
    assert first["created"] == 1 and first["pushed"] == 1, first
    before = dav.resources(world.remote)
    rows = hub(world) + query(world.db_url, "SELECT updated_at::text FROM events ORDER BY 1")
    second = run(world)
    assert (second["created"], second["updated"], second["deleted"], second["pushed"]) == (0, 0, 0, 0)
    assert dav.resources(world.remote) == before
    assert hub(world) + query(world.db_url, "SELECT updated_at::text FROM events ORDER BY 1") == rows


def test_a_hub_event_is_pushed_once_under_a_name_and_uid_derived_from_it(world, dav):
    ev = hub_event(world, "Dinner at Mum's", "2026-12-05T18:00Z", "2026-12-05T20:00Z")
    res = run(world, "push", event_id=ev)
    assert res["status"] == "success" and res["pushed"] == 1, res
    text = resource_of(dav, world, ev)
    assert f"UID:familyhub-{ev}" in text and f"X-FAMILYHUB-EVENT-ID:{ev}" in text
    assert "BEGIN:VTIMEZONE" in text and "DTSTART;TZID=Europe/London:20261205T180000" in text
    # the mapping lost (a crash after the PUT): the retried create finds it, no second copy
    query(world.db_url, "DELETE FROM calendar_event_mappings")
    again = run(world, "push", event_id=ev)
    assert again["status"] == "success", again
    assert len(dav.resources(world.remote)) == 1
    assert query(world.db_url, "SELECT count(*) FROM calendar_event_mappings") == [(1,)]


def test_remote_changes_and_deletions_reach_the_hub(world, dav):
    a = phone_event(dav, world, "Football", "20261208T090000Z", "20261208T100000Z", tz=None)
    b = phone_event(dav, world, "Piano", "20261209T160000Z", "20261209T170000Z", tz=None)
    run(world)
    uid = a.rsplit("/", 1)[1][:-4]
    dav.put(a, vevent(uid, "Football (moved)", "20261208T110000Z", "20261208T120000Z"))
    dav.delete(b)
    pull_moved_and_deleted(world)


def test_hub_changes_and_deletions_reach_caldav(world, dav):
    ev = hub_event(world, "Birthday party", "2026-12-12T14:00Z", "2026-12-12T17:00Z")
    run(world)
    hub_edit_pushed(world, ev, "title = 'Birthday party!'")
    text = resource_of(dav, world, ev)
    assert "SUMMARY:Birthday party!" in text and "SEQUENCE:1" in text
    hub_edit_pushed(world, ev, "deleted_at = NOW()")
    assert dav.resources(world.remote) == {}
    assert run(world)["pushed"] == 0


def test_both_sides_edited_is_a_conflict_that_changes_neither(world, dav):
    url = phone_event(dav, world, "Dentist", "20261210T140000Z", "20261210T150000Z", tz=None)
    run(world)
    query(world.db_url, "UPDATE events SET location = 'Dr. Smith', updated_at = NOW()")
    uid = url.rsplit("/", 1)[1][:-4]
    dav.put(url, vevent(uid, "Dentist", "20261210T140000Z", "20261210T150000Z", "LOCATION:Dr. Jones\r\n"))
    res = run(world)
    assert res["conflicts"] == 1, res
    assert query(world.db_url, "SELECT location FROM events") == [("Dr. Smith",)]
    assert "LOCATION:Dr. Jones" in dav.get(url)[0]
    assert run(world)["conflicts"] == 0


def test_a_push_over_a_changed_resource_fails_its_precondition_and_is_a_conflict(world, dav):
    url = phone_event(dav, world, "Swim", "20261211T090000Z", "20261211T100000Z", tz=None)
    run(world)
    (ev,) = query(world.db_url, "SELECT id::text FROM events")[0]
    uid = url.rsplit("/", 1)[1][:-4]
    dav.put(url, vevent(uid, "Swim", "20261211T090000Z", "20261211T100000Z", "LOCATION:Pool B\r\n"))
    query(world.db_url, "UPDATE events SET location = 'Pool A', updated_at = NOW()")
    res = run(world, "push", event_id=ev)           # PUT If-Match with the old etag: 412
    assert res["conflicts"] == 1, res
    assert "LOCATION:Pool B" in dav.get(url)[0]
    assert query(world.db_url, "SELECT conflict_type FROM calendar_conflicts") == [("update_conflict",)]


def test_a_hub_edit_keeps_what_the_phone_wrote(world, dav):
    extra = ("CATEGORIES:Family,Health\r\nURL:https://clinic.example/booking\r\n"
             "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\nX-OTHER-APP;X-PARAM=keep:value\r\n"
             "ATTENDEE;CN=Sam;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n"
             "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT1H\r\n"
             "ATTENDEE:mailto:alarm@example.com\r\nEND:VALARM\r\n")
    url = phone_event(dav, world, "Check-up", "20261214T090000", "20261214T093000", extra)
    run(world)
    assert query(world.db_url, "SELECT attendees FROM events")[0][0] in (["sam@example.com"],
                                                                          '{sam@example.com}')
    query(world.db_url, "UPDATE events SET title = 'Check-up (Sam)', updated_at = NOW()")
    assert run(world)["pushed"] == 1
    text = dav.get(url)[0]
    assert "Family" in text and "Health" in text and "CATEGORIES" in text
    for kept in ("URL:https://clinic.example/booking",
                 "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC", "X-OTHER-APP;X-PARAM=keep:value",
                 "PARTSTAT=ACCEPTED", "BEGIN:VALARM", "TRIGGER:-PT1H",
                 "ATTENDEE:mailto:alarm@example.com", "SUMMARY:Check-up (Sam)", "SEQUENCE:1"):
        assert kept in text, (kept, text)
    assert run(world)["pushed"] == 0


def test_a_weekly_series_with_a_moved_and_a_removed_occurrence_round_trips(world, dav):
    series, before = push_series_with_a_moved_and_a_removed_occurrence(world)
    (text,) = dav.resources(world.remote).values()      # one resource: the series and its override
    assert text.count("BEGIN:VEVENT") == 2 and "RECURRENCE-ID;TZID=Europe/London:20261208T170000" in text
    assert "EXDATE;TZID=Europe/London:20261215T170000" in text
    snapshot = dav.resources(world.remote)
    full = run(world, mode="full")
    assert (full["created"], full["updated"], full["deleted"], full["pushed"]) == (0, 0, 0, 0), full
    assert hub(world) == before and dav.resources(world.remote) == snapshot


def test_a_series_made_by_a_phone_keeps_its_shape_in_the_hub(world, dav):
    uid = "phone-series-" + uuid.uuid4().hex
    ics = calendar((
           "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\n"
           "DTSTART;TZID=Europe/London:20261202T190000\r\nDTEND;TZID=Europe/London:20261202T200000\r\n"
           "RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/London:20261216T190000\r\n"
           "SUMMARY:Yoga\r\nEND:VEVENT\r\n"
           "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\n"
           "RECURRENCE-ID;TZID=Europe/London:20261209T190000\r\n"
           "DTSTART;TZID=Europe/London:20261209T200000\r\nDTEND;TZID=Europe/London:20261209T210000\r\n"
           "SUMMARY:Yoga (late)\r\nEND:VEVENT\r\n") % (uid, uid), "Europe/London")
    dav.put(world.remote + uid + ".ics", ics)
    res = run(world)
    assert res["created"] == 2, res
    rows = hub(world)
    assert [(r[0], r[6]) for r in rows] == [("Yoga", False), ("Yoga (late)", True)]
    assert rows[0][5] == "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE;TZID=Europe/London:20261216T190000"
    query(world.db_url, "UPDATE events SET title = 'Yoga (later)', updated_at = NOW()"
                        " WHERE title = 'Yoga (late)'")
    assert run(world)["pushed"] == 1                  # a write of the series' resource
    text = dav.get(world.remote + uid + ".ics")[0]
    assert "SUMMARY:Yoga (later)" in text and "SUMMARY:Yoga\r\n" in text
    snapshot = dav.resources(world.remote)
    again = run(world)
    assert (again["updated"], again["pushed"], again["conflicts"]) == (0, 0, 0), again
    assert dav.resources(world.remote) == snapshot


DST = [
    ("Europe/London", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z", "20260329T023000"),
    ("Europe/London", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z", "20261025T013000"),
    ("America/New_York", "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z", "20260308T013000"),
    ("America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "20261101T013000"),
]


@pytest.mark.parametrize("tz,start,end,wall", DST)
def test_a_hub_event_on_a_dst_change_day_keeps_its_instant(world, dav, tz, start, end, wall):
    ev = hub_event(world, "DST " + tz, start, end, tz=tz)
    run(world)
    text = resource_of(dav, world, ev)
    assert f"DTSTART;TZID={tz}:{wall}" in text and f"TZID:{tz}" in text
    query(world.db_url, "DELETE FROM calendar_event_mappings")
    query(world.db_url, "DELETE FROM events WHERE id = %s", (ev,))
    run(world, mode="full")                      # pulled back as a new event
    (row,) = hub(world)
    assert row[1] == start.replace("T", " ").replace("Z", "+00") and row[4] == tz


@pytest.mark.parametrize("tz,start,wall,end_wall", [
    ("Europe/London", "2026-03-29T01:30:00Z", "20260329T023000", "20260329T033000"),
    ("Europe/London", "2026-10-25T00:30:00Z", "20261025T013000", "20261025T023000"),
    ("America/New_York", "2026-03-08T06:30:00Z", "20260308T013000", "20260308T033000"),
    ("America/New_York", "2026-11-01T05:30:00Z", "20261101T013000", "20261101T023000"),
])
def test_a_phone_event_on_a_dst_change_day_keeps_its_instant(world, dav, tz, start, wall, end_wall):
    phone_event(dav, world, "DST " + tz, wall, end_wall, tz=tz)
    run(world)
    (row,) = hub(world)
    assert row[1] == start.replace("T", " ").replace("Z", "+00") and row[4] == tz
    assert run(world)["pushed"] == 0


def test_a_refused_sync_token_leads_to_a_full_sync_that_finds_deletions(world, dav):
    a = phone_event(dav, world, "Keep", "20261215T090000Z", "20261215T100000Z", tz=None)
    b = phone_event(dav, world, "Gone", "20261216T090000Z", "20261216T100000Z", tz=None)
    run(world)
    dav.delete(b)
    query(world.db_url, "UPDATE calendar_sync_states SET sync_token = 'sync:http://radicale.org/ns/sync/0000'")
    res = run(world)
    assert res["status"] == "success" and res["deleted"] == 1, res
    assert [(r[0], r[8]) for r in hub(world)] == [("Keep", False), ("Gone", True)]
    assert a


def test_a_2000_event_calendar_is_pulled_and_then_costs_one_request(services, bin_dir, dav, front):
    w = World(services, bin_dir, redis_db=5)
    try:
        radicale = dav.new_calendar()
        events = "".join(
            "BEGIN:VEVENT\r\nUID:bulk-%d\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:2027%02d%02dT%02d0000Z\r\n"
            "DTEND:2027%02d%02dT%02d3000Z\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\n"
            % (i, i % 12 + 1, i % 28 + 1, i % 20, i % 12 + 1, i % 28 + 1, i % 20, i)
            for i in range(2000))
        dav.put(radicale, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//Bulk//EN\r\n"
                + events + "END:VCALENDAR\r\n")          # Radicale: a whole calendar in one PUT
        w.remote = front.calendar_url(radicale)
        w.cal = connect_caldav(w, front.dav, w.remote, entry=front.partition)
        w.worker("w")
        res = run(w)
        assert res["status"] == "success" and res["created"] == 2000, res
        before = front.stats()["total"]
        again = run(w)
        assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0), again
        assert front.stats()["total"] - before == 1
    finally:
        w.stop()


def test_discovery_through_the_icloud_like_entry_point(services, bin_dir, dav, front):
    w = World(services, bin_dir, redis_db=5)
    try:
        events = dav.new_calendar()
        tasks = dav.new_calendar(components="VTODO")
        w.env.update({"CALSYNC_CALDAV_ALLOW_HTTP": "1", "CALSYNC_CALDAV_ALLOW_PRIVATE": "1",
                      "CALSYNC_ICLOUD_URL": front.entry})
        w.worker_program = "calsync-worker"
        w.worker("w")
        sealed = seal(w, dav.password)
        job = w.enqueue("calsync:jobs:interactive", "discover", tenant_id=w.tenant,
                        provider="icloud", credentials={"username": dav.user, "password": sealed})
        (answer,) = wait_for(lambda: [d for t, d in w.results() if t == "calendars"
                                      and d["job_id"] == job], timeout=60, what="calendars")
        by_id = {c["id"]: c for c in answer["calendars"]}
        assert front.calendar_url(events) in by_id
        assert front.calendar_url(tasks) not in by_id              # a task list holds no events
        mine = by_id[front.calendar_url(events)]
        assert (mine["name"], mine["color"], mine["writable"]) == ("Family", "#34aadc", True)
        assert all(i.startswith(front.partition) for i in by_id)   # hrefs followed to the partition
    finally:
        w.stop()


def test_without_sync_collection_the_ctag_and_etag_fallback_syncs(services, bin_dir, dav, front):
    w = World(services, bin_dir, redis_db=5)
    try:
        front.sync_collection(False)
        radicale = dav.new_calendar()
        w.remote = front.calendar_url(radicale)
        w.cal = connect_caldav(w, front.dav, w.remote, provider="icloud", entry=front.entry)
        w.worker("w")
        a = radicale + "a.ics"
        dav.put(a, vevent("a", "Judo", "20261217T170000Z", "20261217T180000Z"))
        dav.put(radicale + "b.ics", vevent("b", "Chess", "20261218T170000Z", "20261218T180000Z"))
        assert run(w)["created"] == 2
        assert query(w.db_url, "SELECT sync_token LIKE 'ctag:%%' FROM calendar_sync_states") == [(True,)]
        before = front.stats()["requests"]
        quiet = run(w)
        after = front.stats()["requests"]
        assert quiet["updated"] == 0 and after.get("REPORT") == before.get("REPORT")  # the ctag only
        dav.put(a, vevent("a", "Judo (hall 2)", "20261217T170000Z", "20261217T180000Z"))
        dav.delete(radicale + "b.ics")
        res = run(w)
        assert (res["updated"], res["deleted"]) == (1, 1), res
        assert [(r[0], r[8]) for r in hub(w)] == [("Judo (hall 2)", False), ("Chess", True)]
        ev = hub_event(w, "Hub party", "2026-12-19T15:00Z", "2026-12-19T18:00Z")
        assert run(w)["pushed"] == 1
        assert ("familyhub-%s.ics" % ev) in "".join(dav.resources(radicale))
    finally:
        front.sync_collection(True)
        w.stop()


def test_edits_by_another_client_while_calsync_syncs_all_arrive(world, dav):
    urls = [phone_event(dav, world, "Busy %d" % i, "20261220T%02d0000Z" % i,
                        "20261220T%02d3000Z" % i, tz=None) for i in range(8)]
    run(world)
    stop = threading.Event()
    done = []

    def phone():
        n = 0
        while not stop.is_set() and n < 40:
            i = n % len(urls)
            uid = urls[i].rsplit("/", 1)[1][:-4]
            dav.put(urls[i], vevent(uid, "Busy %d v%d" % (i, n), "20261220T%02d0000Z" % i,
                                    "20261220T%02d3000Z" % i))
            done.append((i, n))
            n += 1
    t = threading.Thread(target=phone)
    t.start()
    try:
        while t.is_alive():
            assert run(world)["status"] in ("success", "partial")
    finally:
        stop.set()
        t.join()
    run(world)
    last = {}
    for i, n in done:
        last[i] = "Busy %d v%d" % (i, n)
    assert sorted(r[0] for r in hub(world)) == sorted(last.get(i, "Busy %d" % i) for i in range(8))
    assert query(world.db_url, "SELECT count(*) FROM calendar_conflicts") == [(0,)]
    assert len(dav.resources(world.remote)) == 8


def test_real_world_samples_are_pulled_field_by_field(world, dav):
    with open(os.path.join(SAMPLES, "expected.json")) as f:
        expected = json.load(f)
    for name in expected:
        with open(os.path.join(SAMPLES, name), newline="") as f:
            dav.put(world.remote + name, f.read())
    res = run(world)
    assert res["status"] == "success" and res["created"] == len(expected), res
    for name, want in expected.items():
        (row,) = query(world.db_url,
                       "SELECT e.title, e.location, e.start_time::text, e.end_time::text, e.is_all_day,"
                       " e.timezone, e.recurrence, e.attendees, e.status, e.description"
                       " FROM events e JOIN calendar_event_mappings m ON m.event_id = e.id"
                       " WHERE m.external_event_id = %s", (world.remote + name,))
        got = dict(zip(["title", "location", "start", "end", "all_day", "timezone", "recurrence",
                        "attendees", "status", "description"], row))
        if isinstance(got["attendees"], list) and not got["attendees"]:
            got["attendees"] = None
        assert got == want, name
    assert run(world)["pushed"] == 0


def test_a_refused_app_password_marks_the_calendar_for_reconnection(services, bin_dir, dav):
    w = World(services, bin_dir, redis_db=5)
    try:
        w.remote = dav.new_calendar()
        w.cal = connect_caldav(w, dav, w.remote, password="wrong-" + uuid.uuid4().hex)
        w.worker("w")
        res = run(w)
        assert res["status"] in ("failed", "dead"), res
        assert "wrong-" not in json.dumps(res)
        assert query(w.db_url, "SELECT last_sync_status FROM calendar_sync_states") == [("auth_required",)]
    finally:
        w.stop()


def test_loopback_and_plain_http_are_refused_unless_a_setting_allows_them(services, bin_dir, dav):
    w = World(services, bin_dir, redis_db=5)
    try:
        # "localhost": the check is on the address connected to, not on the name
        w.remote = dav.new_calendar().replace("127.0.0.1", "localhost")
        w.cal = connect_caldav(w, dav, w.remote, entry=dav.base.replace("127.0.0.1", "localhost"))
        for setting, why in (("CALSYNC_CALDAV_ALLOW_PRIVATE", "loopback, link-local or private"),
                             ("CALSYNC_CALDAV_ALLOW_HTTP", "only https://")):
            w.env.update({"CALSYNC_CALDAV_ALLOW_PRIVATE": "1", "CALSYNC_CALDAV_ALLOW_HTTP": "1",
                          setting: "0"})
            worker = w.worker("w")
            res = run(w)
            assert res["status"] in ("failed", "dead") and why in res["error"], res
            worker.kill()
            worker.wait()
        w.env.update({"CALSYNC_CALDAV_ALLOW_PRIVATE": "1", "CALSYNC_CALDAV_ALLOW_HTTP": "1"})
        w.worker("w")
        assert run(w)["status"] == "success"
    finally:
        w.stop()
