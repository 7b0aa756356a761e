"""test_sync_outlook.py - the sync engine end to end on Outlook: calsync-worker
with the provider `outlook` against real PostgreSQL and Redis and the Graph
emulator. The Google rule set where it applies: pull, push, no echo,
idempotent creates, the fields calsync owns, remote edits and deletions,
expired delta state, empty and replayed pages, rate limits, rotating refresh
tokens, recurring series with exceptions and cancelled occurrences, rules
Outlook cannot express, Windows zones and DST, the calendarView window."""

import datetime
import json
import os
import subprocess
import uuid

import pytest

from calsync_helpers import query, run_tool, wait_for
from graph_helpers import connect_outlook, graph, seal, timed  # noqa: F401 (a fixture)
from pool_helpers import INTERACTIVE, World
from sync_helpers import hub, hub_event, run


@pytest.fixture
def world(services, bin_dir, graph):
    w = World(services, bin_dir, redis_db=7)
    (w.cal,), (w.remote,) = connect_outlook(w, graph)
    w.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300, CALSYNC_MASS_DELETE_MIN=10)
    yield w
    w.stop()


def live(graph, remote):
    return sorted(graph.events(remote), key=lambda e: (e["start"]["dateTime"], e["subject"]))


def test_initial_pull_reads_windows_zones_and_all_day_events(world, graph):
    graph.add(world.remote,
              timed("Dentist", "2026-12-01T10:00:00", "2026-12-01T11:00:00"),
              timed("Call Oma", "2026-12-02T18:00:00", "2026-12-02T18:30:00", "W. Europe Standard Time"),
              dict(subject="School holiday", isAllDay=True,
                   start={"dateTime": "2026-12-21T00:00:00", "timeZone": "GMT Standard Time"},
                   end={"dateTime": "2027-01-05T00:00:00", "timeZone": "GMT Standard Time"}))
    res = run(world)
    assert res["status"] == "success" and res["created"] == 3, res
    assert hub(world) == [
        ("Dentist", "2026-12-01 10:00:00+00", "2026-12-01 11:00:00+00", False, "Europe/London",
         None, False, "confirmed", False),
        ("Call Oma", "2026-12-02 17:00:00+00", "2026-12-02 17:30:00+00", False, "Europe/Berlin",
         None, False, "confirmed", False),
        ("School holiday", "2026-12-21 00:00:00+00", "2027-01-05 00:00:00+00", True, None,
         None, False, "confirmed", False)]
    assert query(world.db_url, "SELECT DISTINCT provider FROM unified_calendar_events") == [("outlook",)]


def test_a_hub_event_is_pushed_once_with_its_zone_and_stamps(world, graph):
    ev = hub_event(world, "Dinner at Mum's", "2026-12-05T18:00Z", "2026-12-05T20:00Z",
                   tz="America/Los_Angeles")
    first = run(world)
    assert first["status"] == "success" and first["pushed"] == 1, first
    (remote,) = graph.events(world.remote)
    assert remote["subject"] == "Dinner at Mum's"
    assert remote["start"] == {"dateTime": "2026-12-05T10:00:00", "timeZone": "Pacific Standard Time"}
    assert remote["transactionId"] == "fh" + ev.replace("-", "")
    props = {p["id"].split()[-1]: p["value"] for p in remote["singleValueExtendedProperties"]}
    assert props["familyhub_event_id"] == ev and props["familyhub_written"]
    writes = graph.writes()
    second = run(world)
    assert (second["created"], second["updated"], second["deleted"], second["pushed"]) == (0, 0, 0, 0)
    assert graph.writes() == writes
    assert hub(world)[0][:5] == ("Dinner at Mum's", "2026-12-05 18:00:00+00",
                                 "2026-12-05 20:00:00+00", False, "America/Los_Angeles")


def test_a_retried_create_makes_no_second_event(world, graph):
    """The create's answer is lost (503 after Graph stored it): the retry's transactionId finds it."""
    hub_event(world, "Swim", "2026-12-06T09:00Z", "2026-12-06T10:00Z")
    graph.faults({"method": "POST", "path_regex": "/events$", "status": 503, "times": 1,
                  "after": True})
    try:
        res = run(world)
    finally:
        graph.clear_faults()
    assert res["status"] == "success", (res.get("error"), world.log(0)[-2000:])
    assert [e["subject"] for e in graph.events(world.remote)] == ["Swim"]
    assert run(world)["pushed"] == 0


def test_remote_edits_and_deletions_are_pulled(world, graph):
    a, b = graph.add(world.remote, timed("Piano", "2026-12-07T16:00:00", "2026-12-07T17:00:00"),
                     timed("Judo", "2026-12-08T17:00:00", "2026-12-08T18:00:00"))
    assert run(world)["created"] == 2
    graph.patch(world.remote, a["id"], subject="Piano (moved)",
                start={"dateTime": "2026-12-07T17:00:00", "timeZone": "GMT Standard Time"},
                end={"dateTime": "2026-12-07T18:00:00", "timeZone": "GMT Standard Time"})
    graph.delete(world.remote, b["id"])
    res = run(world)
    assert (res["updated"], res["deleted"]) == (1, 1), res
    assert [(r[0], r[1], r[8]) for r in hub(world)] == [
        ("Piano (moved)", "2026-12-07 17:00:00+00", False), ("Judo", "2026-12-08 17:00:00+00", True)]


def test_a_hub_edit_sends_only_what_calsync_owns(world, graph):
    (a,) = graph.add(world.remote, timed("Parents' evening", "2026-12-09T18:00:00", "2026-12-09T19:00:00",
                                         categories=["School"], reminderMinutesBeforeStart=30,
                                         isReminderOn=True))
    run(world)
    query(world.db_url, "UPDATE events SET title = 'Parents'' evening (hall)', updated_at = NOW()"
                        " WHERE tenant_id = %s", (world.tenant,))
    res = run(world)
    assert res["pushed"] == 1, res
    (remote,) = graph.events(world.remote)
    assert remote["subject"] == "Parents' evening (hall)"
    assert remote["categories"] == ["School"] and remote["reminderMinutesBeforeStart"] == 30
    assert remote["id"] == a["id"]


def test_a_hub_edit_against_a_remote_change_is_a_conflict_not_an_overwrite(world, graph):
    (a,) = graph.add(world.remote, timed("Football", "2026-12-10T10:00:00", "2026-12-10T11:00:00"))
    run(world)
    query(world.db_url, "UPDATE events SET title = 'Football (Hub)', updated_at = NOW()"
                        " WHERE tenant_id = %s", (world.tenant,))
    graph.patch(world.remote, a["id"], subject="Football (Outlook)")
    patches = graph.stats()["counts"].get("PATCH /me/events/{}", 0)
    run(world)
    (remote,) = graph.events(world.remote)
    # either the pull saw Outlook's change first (a conflict, recorded), or the
    # PATCH met a 412: Outlook's edit is never silently overwritten
    assert remote["subject"] == "Football (Outlook)" or \
        query(world.db_url, "SELECT count(*) FROM calendar_conflicts")[0][0] >= 1
    assert graph.stats()["counts"].get("PATCH /me/events/{}", 0) - patches <= 1


@pytest.mark.parametrize("code", ["SyncStateNotFound", "resyncRequired"])
def test_expired_delta_state_leads_to_a_full_sync(world, graph, code):
    graph.add(world.remote, timed("Choir", "2026-12-11T19:00:00", "2026-12-11T20:00:00"))
    assert run(world)["created"] == 1
    graph.add(world.remote, timed("Chess", "2026-12-12T10:00:00", "2026-12-12T11:00:00"))
    graph.expire_delta(world.remote, code)
    res = run(world)
    assert res["status"] == "success", res
    assert [r[0] for r in hub(world)] == ["Choir", "Chess"]
    assert query(world.db_url, "SELECT count(*) FROM events WHERE tenant_id = %s",
                 (world.tenant,))[0][0] == 2
    assert run(world)["created"] == 0


def test_empty_pages_and_replayed_items_are_harmless(world, graph):
    graph.delta_mods(world.remote, empty_pages=3, replay=True)
    try:
        graph.add(world.remote, *[timed("Lesson %d" % i, "2026-12-%02dT09:00:00" % (i + 1),
                                        "2026-12-%02dT10:00:00" % (i + 1)) for i in range(5)])
        res = run(world)
        assert res["status"] == "success" and res["created"] == 5, res
        again = run(world)
        assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0), again
    finally:
        graph.delta_mods(world.remote)
    assert len(hub(world)) == 5


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_waits_what_retry_after_asks_and_uses_no_attempt(services, bin_dir, graph, status):
    """Two throttling answers asking for 2 s each: the job waits each time and
    still succeeds within two attempts."""
    w = World(services, bin_dir, redis_db=7)
    try:
        (w.cal,), (remote,) = connect_outlook(w, graph)
        graph.add(remote, timed("Cinema", "2026-12-13T19:00:00", "2026-12-13T21:00:00"))
        graph.faults({"method": "GET", "path_regex": "/delta", "status": status, "retry_after": 2,
                      "times": 2})
        w.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300, CALSYNC_MAX_ATTEMPTS=2)
        job = w.enqueue(INTERACTIVE, "sync", calendar_id=w.cal)
        done = wait_for(lambda: [r for r in w.results_of(job) if r["status"] != "retrying"],
                        timeout=60, what="the job ends")
        every = w.results_of(job)
    finally:
        graph.clear_faults()
        w.stop()
    assert done[-1]["status"] == "success" and done[-1]["created"] == 1, every
    assert [r["attempt"] for r in every] == [1, 1, 1]
    assert "Outlook answered %d" % status in every[0]["error"]
    stamps = [datetime.datetime.fromisoformat(r["finished_at"].replace("Z", "+00:00")) for r in every]
    assert all((b - a).total_seconds() >= 2 for a, b in zip(stamps, stamps[1:])), every


def test_a_refused_refresh_token_marks_the_calendar_auth_required(world, graph):
    query(world.db_url, "UPDATE external_calendars SET refresh_token_encrypted = %s WHERE id = %s",
          (seal(world, "M.R3_BAY.unknown"), world.cal))
    res = run(world)
    assert res["status"] == "failed" and "invalid_grant" in res["error"], res
    assert "M.R3_BAY" not in res["error"]
    assert query(world.db_url, "SELECT last_sync_status FROM calendar_sync_states"
                               " WHERE external_calendar_id = %s", (world.cal,)) == [("auth_required",)]


def test_a_series_made_on_outlook_keeps_its_exception_and_cancelled_occurrence(world, graph):
    (master,) = graph.add(world.remote, dict(
        timed("Yoga", "2026-12-02T19:00:00", "2026-12-02T20:00:00"),
        recurrence={"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["wednesday"],
                                "firstDayOfWeek": "sunday"},
                    "range": {"type": "numbered", "startDate": "2026-12-02", "numberOfOccurrences": 4}}))
    graph.patch(world.remote, "OID.%s.2026-12-09" % master["id"], subject="Yoga (late)",
                start={"dateTime": "2026-12-09T20:00:00", "timeZone": "GMT Standard Time"},
                end={"dateTime": "2026-12-09T21:00:00", "timeZone": "GMT Standard Time"})
    graph.delete(world.remote, "OID.%s.2026-12-16" % master["id"])
    res = run(world)
    assert res["status"] == "success" and res["created"] == 3, res
    rows = hub(world)
    assert [(r[0], r[1], r[6], r[7]) for r in rows] == [
        ("Yoga", "2026-12-02 19:00:00+00", False, "confirmed"),
        ("Yoga (late)", "2026-12-09 20:00:00+00", True, "confirmed"),
        ("", "2026-12-16 19:00:00+00", True, "cancelled")]
    assert rows[0][5] == "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=WE;WKST=SU"
    writes = graph.writes()
    again = run(world)
    assert again["pushed"] == 0 and graph.writes() == writes, again


def test_a_hub_series_with_an_override_and_an_exdate_round_trips(world, graph):
    series = hub_event(world, "Swimming lessons", "2026-12-01T17:00Z", "2026-12-01T18:00Z",
                       recurrence="RRULE:FREQ=WEEKLY;COUNT=6\nEXDATE;TZID=Europe/London:20261215T170000")
    query(world.db_url, "INSERT INTO events(id, tenant_id, created_by, title, start_time, end_time, timezone,"
                        " recurring_event_id, original_start_time) VALUES (%s,%s,%s,'Swimming lessons (pool 2)',"
                        " '2026-12-08T18:00Z', '2026-12-08T19:00Z', 'Europe/London', %s, '2026-12-08T17:00Z')",
          (str(uuid.uuid4()), world.tenant, world.user, series))
    res = run(world)
    assert res["status"] == "success" and res["pushed"] == 2, res.get("error")
    (master,) = [e for e in graph.events(world.remote) if e["type"] == "seriesMaster"]
    assert master["recurrence"]["pattern"] == {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"],
                                               "firstDayOfWeek": "monday"}
    assert master["recurrence"]["range"]["type"] == "numbered"
    assert master["recurrence"]["range"]["numberOfOccurrences"] == 6
    assert master["cancelledOccurrences"] == ["OID.%s.2026-12-15" % master["id"]]
    starts = [(o["subject"], o["start"]["dateTime"][:16]) for o in graph.instances(world.remote, master["id"])]
    assert starts == [("Swimming lessons", "2026-12-01T17:00"), ("Swimming lessons (pool 2)", "2026-12-08T18:00"),
                      ("Swimming lessons", "2026-12-22T17:00"), ("Swimming lessons", "2026-12-29T17:00"),
                      ("Swimming lessons", "2027-01-05T17:00")]
    settled = run(world)
    assert settled["status"] == "success", settled
    writes = graph.writes()
    again = run(world)
    assert (again["created"], again["deleted"], again["pushed"]) == (0, 0, 0), again
    assert graph.writes() == writes


@pytest.mark.parametrize("rule", ["RRULE:FREQ=HOURLY;COUNT=3", "RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15",
                                  "RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,-1"])
def test_a_rule_outlook_cannot_express_is_reported_and_written_nowhere(world, graph, rule):
    ev = hub_event(world, "Odd rule", "2026-12-01T09:00Z", "2026-12-01T10:00Z", recurrence=rule)
    res = run(world)
    assert res["status"] in ("success", "partial"), res
    assert graph.events(world.remote) == []
    (refusal,) = query(world.db_url, "SELECT error FROM calendar_push_refusals WHERE event_id = %s", (ev,))
    assert "Outlook cannot express this recurrence" in refusal[0] and rule[6:20] in refusal[0]
    assert query(world.db_url, "SELECT recurrence FROM events WHERE id = %s", (ev,)) == [(rule,)]


@pytest.mark.parametrize("tz,start,end,windows", [
    ("Europe/London", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z", "GMT Standard Time"),
    ("Europe/London", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z", "GMT Standard Time"),
    ("America/New_York", "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z", "Eastern Standard Time"),
    ("America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "Eastern Standard Time"),
])
def test_times_on_dst_change_days_keep_their_instant(world, graph, tz, start, end, windows):
    ev = hub_event(world, "DST " + tz, start, end, tz=tz)
    run(world)
    (remote,) = graph.events(world.remote)
    assert remote["start"]["timeZone"] == windows
    query(world.db_url, "DELETE FROM calendar_event_mappings")
    query(world.db_url, "DELETE FROM events WHERE id = %s", (ev,))
    run(world, mode="full")                      # pulled back as a new event
    (row,) = hub(world)
    assert row[1] == start.replace("T", " ").replace("Z", "+00") and row[4] == tz


def test_a_rotated_refresh_token_reaches_every_calendar_of_the_mailbox(services, bin_dir, graph):
    w = World(services, bin_dir, redis_db=7)
    try:
        box = "rotating-%s@outlook.example" % uuid.uuid4().hex[:6]
        cals, remotes = connect_outlook(w, graph, mailbox=box, names=("Family", "Kids", "Work"))
        w.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300)
        sealed = query(w.db_url, "SELECT DISTINCT refresh_token_encrypted FROM external_calendars")
        assert len(sealed) == 1
        for cal in cals:                       # each run refreshes: access tokens expire
            graph.call("POST", "/_emu/expire_access")
            assert run(w, calendar_id=cal)["status"] == "success"
        tokens = [t for t in graph.call("GET", "/_emu/tokens")["refresh"] if t["mailbox"] == box]
        assert len(tokens) == 4                # the first, then one a refresh
        assert [t["alive"] for t in tokens] == [False] * 3 + [True]   # only the newest works
        states = query(w.db_url, "SELECT DISTINCT last_sync_status FROM calendar_sync_states")
        assert states == [("success",)]
        stored = query(w.db_url, "SELECT count(DISTINCT refresh_token_encrypted) FROM external_calendars")
        assert stored == [(1,)]
    finally:
        w.stop()


def test_with_a_calendar_view_an_event_leaving_the_window_is_not_deleted(services, bin_dir, graph):
    w = World(services, bin_dir, redis_db=7)
    try:
        (cal,), (remote,) = connect_outlook(w, graph)
        w.worker("w", CALSYNC_GRAPH_DELTA="calendarView", CALSYNC_GRAPH_WINDOW_DAYS=400)
        (a,) = graph.add(remote, timed("Half term", "2026-12-14T09:00:00", "2026-12-14T10:00:00"))
        assert run(w, calendar_id=cal)["created"] == 1
        graph.patch(remote, a["id"], start={"dateTime": "2029-12-14T09:00:00", "timeZone": "UTC"},
                    end={"dateTime": "2029-12-14T10:00:00", "timeZone": "UTC"})
        res = run(w, calendar_id=cal)
        assert res["status"] == "success" and res["deleted"] == 0, res
        assert query(w.db_url, "SELECT title, deleted_at IS NULL FROM events") == [("Half term", True)]
        graph.add(remote, timed("Nativity play", "2026-12-15T14:00:00", "2026-12-15T15:00:00"))
        assert run(w, calendar_id=cal)["created"] == 1
    finally:
        w.stop()


def test_discover_lists_the_mailbox_calendars_and_hands_back_the_rotated_token(services, bin_dir, graph):
    w = World(services, bin_dir, redis_db=7)
    try:
        refresh = "M.R3_BAY.discover-" + uuid.uuid4().hex
        connect_outlook(w, graph, names=("Calendar", "Kids", "Birthdays"), refresh=refresh)
        w.worker("d")
        job = w.enqueue(INTERACTIVE, "discover", tenant_id=w.tenant, provider="outlook",
                        credentials={"refresh_token": seal(w, refresh)})
        (answer,) = wait_for(lambda: [d for t, d in w.results() if t == "calendars" and d["job_id"] == job],
                             what="the calendars answer")
        assert [(c["name"], c["is_primary"], c["writable"], c["color"]) for c in answer["calendars"]] == [
            ("Calendar", True, True, "#0078d4"), ("Kids", False, True, "#0078d4"),
            ("Birthdays", False, True, "#0078d4")]
        new = run_tool(bin_dir, "secret", "open", "--tenant", w.tenant, env=w.env,
                       input=answer["credentials"]["refresh_token"], check=True).stdout.strip()
        assert new != refresh and new.startswith("M.C5")       # the emulator's rotated token
        assert refresh not in json.dumps(answer)
    finally:
        w.stop()


def test_hub_deletions_and_all_day_events_reach_outlook(world, graph):
    day = hub_event(world, "Inset day", "2026-12-18T00:00Z", "2026-12-19T00:00Z", tz=None, all_day=True)
    gone = hub_event(world, "Cancelled lesson", "2026-12-17T16:00Z", "2026-12-17T17:00Z")
    assert run(world)["pushed"] == 2
    remote = {e["subject"]: e for e in graph.events(world.remote)}
    assert remote["Inset day"]["isAllDay"] is True
    assert remote["Inset day"]["start"]["dateTime"].startswith("2026-12-18T00:00:00")
    assert remote["Inset day"]["end"]["dateTime"].startswith("2026-12-19T00:00:00")
    query(world.db_url, "UPDATE events SET deleted_at = NOW(), updated_at = NOW() WHERE id = %s", (gone,))
    res = run(world)
    assert res["status"] == "success", res
    assert [e["subject"] for e in graph.events(world.remote)] == ["Inset day"]
    assert hub(world, "id = '%s'" % day)[0][:4] == ("Inset day", "2026-12-18 00:00:00+00",
                                                   "2026-12-19 00:00:00+00", True)


def test_a_read_only_outlook_calendar_is_switched_to_pull_only(services, bin_dir, graph):
    w = World(services, bin_dir, redis_db=7)
    try:
        (cal,), (remote,) = connect_outlook(w, graph)
        graph.calendars_read_only(remote)
        w.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300)
        graph.add(remote, timed("Bank holiday", "2026-12-28T09:00:00", "2026-12-28T10:00:00"))
        hub_event(w, "Pick up Tommy", "2026-12-03T15:00Z", "2026-12-03T15:30Z")
        res = run(w, calendar_id=cal)
        assert res["created"] == 1, res
        assert query(w.db_url, "SELECT sync_direction FROM external_calendars WHERE id = %s",
                     (cal,)) == [("pull_only",)]
        assert [e["subject"] for e in graph.events(remote)] == ["Bank holiday"]
    finally:
        w.stop()


def test_one_garbage_item_is_skipped_and_the_job_ends_partial(world, graph):
    good, bad = graph.add(world.remote, timed("Good", "2026-12-14T09:00:00", "2026-12-14T10:00:00"),
                          timed("Bad", "2026-12-14T11:00:00", "2026-12-14T12:00:00"))
    graph.delta_mods(world.remote, garbage_ids=[bad["id"]])
    try:
        res = run(world)
    finally:
        graph.delta_mods(world.remote)
    assert res["status"] == "partial" and res["created"] == 1, res
    assert bad["id"] in res["error"] and "start" in res["error"]
    assert [r[0] for r in hub(world)] == ["Good"]


def test_the_mass_deletion_guard_stops_a_sudden_empty_calendar(world, graph):
    items = graph.add(world.remote, *[timed("Event %d" % i, "2026-12-20T%02d:00:00" % (8 + i),
                                            "2026-12-20T%02d:30:00" % (8 + i)) for i in range(12)])
    run(world)
    for it in items[:10]:
        graph.delete(world.remote, it["id"])
    res = run(world)
    assert res["status"] == "partial" and "mass-deletion guard" in res["error"], res
    assert query(world.db_url, "SELECT count(*) FROM events WHERE deleted_at IS NULL") == [(12,)]


def test_a_bad_delta_path_setting_stops_the_worker_naming_it(services, bin_dir):
    env = dict(os.environ, CALSYNC_GRAPH_DELTA="window", CALSYNC_SECRET_KEYS="k1:" + "A" * 43 + "=")
    done = subprocess.run([os.path.join(str(bin_dir), "calsync-worker")], env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "CALSYNC_GRAPH_DELTA" in done.stderr and "window" in done.stderr
