"""test_sync_google.py - the sync engine end to end on Google Calendar:
calsync-worker against real PostgreSQL and Redis and the Google emulator.
Pull, push, no echo, idempotent creates, conflicts and their resolutions,
recurring series, DST, all-day events, bad items, expired tokens, the
mass-deletion guard, refused credentials."""

import uuid

import pytest

from calsync_helpers import query, run_tool, wait_for
from google_helpers import connect_google, emu  # noqa: F401 (a fixture)
from pool_helpers import INTERACTIVE, World
from sync_helpers import (hub, hub_edit_pushed, hub_event, pull_dentist_and_holiday,
                          pull_moved_and_deleted,
                          push_series_with_a_moved_and_a_removed_occurrence, run)


@pytest.fixture
def world(services, bin_dir, emu):
    w = World(services, bin_dir, redis_db=4)
    w.cal, w.remote = connect_google(w, emu)
    w.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300, CALSYNC_MASS_DELETE_MIN=10)
    yield w
    w.stop()


def timed(summary, start, end, tz="Europe/London", **extra):
    return dict(summary=summary, start={"dateTime": start, "timeZone": tz},
                end={"dateTime": end, "timeZone": tz}, **extra)


def lessons(n):
    """n timed events, "Lesson 0" on 1 December and one a day after it."""
    return [timed("Lesson %d" % i, "2026-12-%02dT09:00:00Z" % (i + 1),
                  "2026-12-%02dT10:00:00Z" % (i + 1)) for i in range(n)]


# the emulator's list pages hold two items: a pull of a few events has several pages
SHORT_PAGES = {"method": "GET", "path_regex": "/events$", "action": "short_pages", "page_size": 2}


def first_result(world):
    """Enqueue a sync and wait for its first result (a retry would come later)."""
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    return job, wait_for(lambda: world.results_of(job), timeout=60, what="the sync")[0]


def test_initial_pull_brings_every_kind_of_event(world, emu):
    emu.add(world.remote,
            timed("Dentist", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
            dict(summary="School holiday", start={"date": "2026-12-21"}, end={"date": "2027-01-05"}))
    pull_dentist_and_holiday(world)
    badges = query(world.db_url, "SELECT provider, calendar_name FROM unified_calendar_events")
    assert badges == [("google", "Family")] * 2


def test_connections_outlive_a_job(services, bin_dir, emu):
    """A worker thread keeps its HTTP client: the next job reuses the connection."""
    w = World(services, bin_dir, redis_db=4)
    try:
        w.cal, w.remote = connect_google(w, emu)
        w.worker("one", CALSYNC_WORKER_CONCURRENCY=1)
        emu.add(w.remote, timed("Dentist", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"))
        before = emu.stats()
        for _ in range(3):
            assert run(w)["status"] == "success"
        after = emu.stats()
        assert after["total"] - before["total"] >= 4      # a token refresh, three lists
        assert after["connections"] - before["connections"] == 1
    finally:
        w.stop()


def test_two_syncs_in_a_row_the_second_writes_nothing(world, emu):
    emu.add(world.remote, timed("Swim", "2026-12-02T17:00:00Z", "2026-12-02T18:00:00Z"))
    hub_event(world, "Pick up Tommy", "2026-12-03T15:00Z", "2026-12-03T15:30Z")
    first = run(world)
    assert first["created"] == 1 and first["pushed"] == 1, first
    before = hub(world) + query(world.db_url, "SELECT updated_at::text FROM events ORDER BY 1")
    writes = emu.writes()
    second = run(world)
    assert (second["created"], second["updated"], second["deleted"], second["pushed"]) == (0, 0, 0, 0)
    assert emu.writes() == writes
    assert hub(world) + query(world.db_url, "SELECT updated_at::text FROM events ORDER BY 1") == before


def test_a_hub_event_is_pushed_once_with_an_id_derived_from_it(world, emu):
    ev = hub_event(world, "Dinner at Mum's", "2026-12-05T18:00Z", "2026-12-05T20:00Z")
    res = run(world, "push", event_id=ev)
    assert res["status"] == "success" and res["pushed"] == 1, res
    remote = emu.events(world.remote)
    assert [e["id"] for e in remote] == ["fh" + ev.replace("-", "")]
    assert remote[0]["extendedProperties"]["private"]["familyhub_event_id"] == ev
    again = run(world, "push", event_id=ev)
    assert again["pushed"] == 0 and len(emu.events(world.remote)) == 1


def test_a_crash_between_remote_create_and_mapping_makes_one_remote_event(world, emu):
    ev = hub_event(world, "Parents' evening", "2026-12-07T17:00Z", "2026-12-07T18:00Z")
    emu.faults({"method": "POST", "path_regex": "/events$", "action": "apply_then_fail",
                "status": 500, "times": 1})
    res = run(world, "push", event_id=ev)
    assert res["status"] == "success", res
    statuses = [r["status"] for r in world.results_of(res["job_id"])]
    assert statuses == ["retrying", "success"]
    assert len(emu.events(world.remote)) == 1
    assert query(world.db_url, "SELECT count(*) FROM calendar_event_mappings") == [(1,)]


def test_remote_changes_and_deletions_reach_the_hub(world, emu):
    a, b = emu.add(world.remote, timed("Football", "2026-12-08T09:00:00Z", "2026-12-08T10:00:00Z"),
                   timed("Piano", "2026-12-09T16:00:00Z", "2026-12-09T17:00:00Z"))
    run(world)
    emu.patch(world.remote, a["id"], summary="Football (moved)",
              start={"dateTime": "2026-12-08T11:00:00Z"}, end={"dateTime": "2026-12-08T12:00:00Z"})
    emu.delete(world.remote, b["id"])
    pull_moved_and_deleted(world)


def test_hub_changes_and_deletions_reach_google(world, emu):
    ev = hub_event(world, "Birthday party", "2026-12-12T14:00Z", "2026-12-12T17:00Z")
    run(world)
    hub_edit_pushed(world, ev, "title = 'Birthday party!'")
    assert [e["summary"] for e in emu.events(world.remote)] == ["Birthday party!"]
    hub_edit_pushed(world, ev, "deleted_at = NOW()")
    assert emu.events(world.remote) == []
    assert run(world)["pushed"] == 0


def test_both_sides_edited_is_a_conflict_that_changes_neither(world, emu):
    (a,) = emu.add(world.remote, timed("Dentist", "2026-12-10T14:00:00Z", "2026-12-10T15:00:00Z"))
    run(world)
    query(world.db_url, "UPDATE events SET location = 'Dr. Smith', updated_at = NOW() WHERE title = 'Dentist'")
    emu.patch(world.remote, a["id"], location="Dr. Jones")
    res = run(world)
    assert res["conflicts"] == 1, res
    assert query(world.db_url, "SELECT location FROM events") == [("Dr. Smith",)]
    assert emu.events(world.remote)[0]["location"] == "Dr. Jones"
    conflicts = [d for t, d in world.results("calsync:conflicts")]
    assert len(conflicts) == 1 and conflicts[0]["conflict_type"] == "update_conflict"
    stored = query(world.db_url, "SELECT local_data->>'location', external_data->>'location', status"
                                 " FROM calendar_conflicts")
    assert stored == [("Dr. Smith", "Dr. Jones", "pending")]
    again = run(world)                            # not asked twice
    assert again["conflicts"] == 0


def test_a_conflict_whose_announcement_was_lost_is_announced_by_the_next_job(world, emu):
    (a,) = emu.add(world.remote, timed("Piano", "2026-12-12T16:00:00Z", "2026-12-12T17:00:00Z"))
    run(world)
    # as a worker that died between its commit and its end leaves it: stored, unannounced
    (cid,) = query(world.db_url, "INSERT INTO calendar_conflicts (tenant_id, event_id,"
                                 " external_calendar_id, external_event_id, conflict_type,"
                                 " local_data, external_data) SELECT tenant_id, id, %s, %s,"
                                 " 'update_conflict', '{}', '{}' FROM events RETURNING id::text",
                   (world.cal, a["id"]))[0]
    assert world.results("calsync:conflicts") == []
    assert run(world)["conflicts"] == 0               # found by no one in this job ...
    announced = [d for t, d in world.results("calsync:conflicts")]
    assert [(d["conflict_id"], d["calendar_id"], d["external_event_id"]) for d in announced] == \
        [(cid, world.cal, a["id"])]                   # ... yet announced at its end
    assert query(world.db_url, "SELECT announced_at IS NOT NULL FROM calendar_conflicts") == [(True,)]
    run(world)
    assert len(world.results("calsync:conflicts")) == 1   # once


def make_conflict(world, emu, title):
    (a,) = emu.add(world.remote, timed(title, "2026-12-11T09:00:00Z", "2026-12-11T10:00:00Z"))
    run(world)
    query(world.db_url, "UPDATE events SET location = 'hub side', updated_at = NOW() WHERE title = %s", (title,))
    emu.patch(world.remote, a["id"], location="google side")
    assert run(world)["conflicts"] == 1
    return query(world.db_url, "SELECT id FROM calendar_conflicts WHERE status = 'pending'")[0][0], a["id"]


@pytest.mark.parametrize("resolution,hub_loc,google_loc,status", [
    ("local", "hub side", "hub side", "resolved_local"),
    ("external", "google side", "google side", "resolved_external"),
    ("merge", "merged place", "merged place", "resolved_merge"),
    ("ignore", "hub side", "google side", "ignored"),
])
def test_each_resolution(world, emu, resolution, hub_loc, google_loc, status):
    conflict, remote_id = make_conflict(world, emu, "Resolve " + resolution)
    res = run(world, "resolve", conflict_id=conflict, resolution=resolution,
              merged={"location": "merged place"}, resolved_by=world.user)
    assert res["status"] == "success", res
    assert query(world.db_url, "SELECT location FROM events") == [(hub_loc,)]
    assert [e["location"] for e in emu.events(world.remote)] == [google_loc]
    assert query(world.db_url, "SELECT status, resolved_by::text FROM calendar_conflicts") == \
        [(status, world.user)]
    writes = emu.writes()
    after = run(world)                            # settled: no new conflict, no writes
    assert after["conflicts"] == 0 and emu.writes() == writes


def test_a_weekly_series_with_a_moved_and_a_removed_occurrence_round_trips(world, emu):
    series, before = push_series_with_a_moved_and_a_removed_occurrence(world)
    remote = {e["id"]: e for e in emu.events(world.remote)}
    master = remote["fh" + series.replace("-", "")]
    assert master["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE;TZID=Europe/London:20261215T170000"]
    exc = [e for e in remote.values() if e.get("recurringEventId") == master["id"]]
    assert len(exc) == 1 and exc[0]["summary"] == "Swimming lessons (pool 2)"
    # back: a full sync finds everything already in place - Hub unchanged, nothing written
    writes = emu.writes()
    full = run(world, mode="full")
    assert (full["created"], full["updated"], full["deleted"], full["pushed"]) == (0, 0, 0, 0), full
    assert hub(world) == before and emu.writes() == writes


def test_a_series_made_on_google_keeps_its_shape_in_the_hub(world, emu):
    (master,) = emu.add(world.remote, dict(
        summary="Yoga", recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"],
        start={"dateTime": "2026-12-02T19:00:00Z", "timeZone": "Europe/London"},
        end={"dateTime": "2026-12-02T20:00:00Z", "timeZone": "Europe/London"}))
    emu.add(world.remote, dict(
        summary="Yoga (late)", recurringEventId=master["id"],
        originalStartTime={"dateTime": "2026-12-09T19:00:00Z", "timeZone": "Europe/London"},
        start={"dateTime": "2026-12-09T20:00:00Z", "timeZone": "Europe/London"},
        end={"dateTime": "2026-12-09T21:00:00Z", "timeZone": "Europe/London"}))
    emu.add(world.remote, dict(
        status="cancelled", recurringEventId=master["id"],
        originalStartTime={"dateTime": "2026-12-16T19:00:00Z", "timeZone": "Europe/London"},
        start={"dateTime": "2026-12-16T19:00:00Z", "timeZone": "Europe/London"},
        end={"dateTime": "2026-12-16T20:00:00Z", "timeZone": "Europe/London"}))
    res = run(world)
    assert res["created"] == 3, res
    rows = hub(world)
    assert [(r[0], r[6], r[7]) for r in rows] == [
        ("Yoga", False, "confirmed"), ("Yoga (late)", True, "confirmed"), ("", True, "cancelled")]
    assert rows[0][5] == "RRULE:FREQ=WEEKLY;COUNT=4"
    writes = emu.writes()
    assert run(world)["pushed"] == 0 and emu.writes() == writes


@pytest.mark.parametrize("tz,start,end", [
    ("Europe/London", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"),      # the hour that is skipped
    ("Europe/London", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z"),      # 01:30 BST, then 01:30 GMT
    ("America/New_York", "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"),   # 01:30 EST
    ("America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"),   # 01:30 EDT, the first one
])
def test_times_on_dst_change_days_keep_their_instant(world, emu, tz, start, end):
    ev = hub_event(world, "DST " + tz, start, end, tz=tz)
    run(world)
    (remote,) = emu.events(world.remote)
    assert remote["start"]["timeZone"] == tz
    query(world.db_url, "DELETE FROM calendar_event_mappings")
    query(world.db_url, "DELETE FROM events WHERE id = %s", (ev,))
    run(world, mode="full")                      # pulled back as a new event
    (row,) = hub(world)
    assert row[1] == start.replace("T", " ").replace("Z", "+00") and row[4] == tz


def test_a_failed_later_page_resumes_from_the_stored_page_token(world, emu):
    emu.add(world.remote, *lessons(5))
    # pages of two; the second page (read while the first is applied) fails once
    emu.faults(SHORT_PAGES,
               {"method": "GET", "path_regex": "/events$", "query_regex": "pageToken",
                "status": 503, "times": 1})
    try:
        res = run(world)
    finally:
        emu.clear_faults()
    assert res["status"] == "success" and res["created"] == 3, res   # the retry: pages 2 and 3
    assert sorted(r[0] for r in hub(world)) == ["Lesson %d" % i for i in range(5)]
    assert emu.stats()["by_status"].get("503", 0) >= 1
    assert run(world)["created"] == 0


def test_pages_applied_in_order_give_what_one_page_gives(services, bin_dir, emu):
    """Pages are applied one after the other, in order; overrides whose series is
    on another page are linked at the end."""
    w = World(services, bin_dir, redis_db=4)
    try:
        w.cal, w.remote = connect_google(w, emu)
        w.worker("pages", CALSYNC_WORKER_CONCURRENCY=1)
        (master,) = emu.add(w.remote, dict(
            summary="Yoga", recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"],
            start={"dateTime": "2026-12-02T19:00:00Z", "timeZone": "Europe/London"},
            end={"dateTime": "2026-12-02T20:00:00Z", "timeZone": "Europe/London"}))
        emu.add(w.remote, *lessons(4))
        emu.add(w.remote, dict(
            summary="Yoga (late)", recurringEventId=master["id"],
            originalStartTime={"dateTime": "2026-12-09T19:00:00Z", "timeZone": "Europe/London"},
            start={"dateTime": "2026-12-09T20:00:00Z", "timeZone": "Europe/London"},
            end={"dateTime": "2026-12-09T21:00:00Z", "timeZone": "Europe/London"}),
            dict(summary="School holiday", start={"date": "2026-12-21"}, end={"date": "2027-01-05"}))
        emu.faults(SHORT_PAGES)
        try:
            res = run(w)
        finally:
            emu.clear_faults()
        assert res["status"] == "success" and res["created"] == 7, res
        rows = hub(w)
        assert [(r[0], r[6]) for r in rows] == [
            ("Lesson 0", False), ("Lesson 1", False), ("Yoga", False), ("Lesson 2", False),
            ("Lesson 3", False), ("Yoga (late)", True), ("School holiday", False)]
        assert query(w.db_url, "SELECT count(*) FROM calendar_event_mappings")[0][0] == 7
        writes = emu.writes()
        again = run(w, mode="full")
        assert (again["created"], again["updated"], again["deleted"], again["pushed"]) == (0, 0, 0, 0)
        assert hub(w) == rows and emu.writes() == writes
    finally:
        w.stop()


def test_a_token_refreshed_in_a_pull_of_several_pages_is_stored(world, emu):
    """The pages after the first are read while others are applied; the token the
    first read refreshed is still stored, so the next sync refreshes nothing."""
    emu.add(world.remote, *lessons(6))
    emu.faults(SHORT_PAGES)
    try:
        assert run(world)["created"] == 6
    finally:
        emu.clear_faults()
    (stored,) = query(world.db_url, "SELECT access_token_encrypted IS NOT NULL"
                                    " AND token_expires_at > now() FROM external_calendars"
                                    " WHERE id = %s", (world.cal,))
    assert stored == (True,)
    refreshes = emu.stats()["by_method"].get("POST", 0)
    assert run(world)["status"] == "success"
    assert emu.stats()["by_method"].get("POST", 0) == refreshes


def test_a_refreshed_token_is_stored_although_the_job_then_fails(world, emu):
    """The provider refreshes the access token, then every events.list answers 500:
    the job fails, and the new token was stored the moment it was refreshed (not
    with a data commit that never comes), so no attempt refreshes it again."""
    before = emu.stats()["by_method"].get("POST", 0)
    emu.faults({"method": "GET", "path_regex": "/events$", "status": 500})
    try:
        res = run(world)
    finally:
        emu.clear_faults()
    assert res["status"] == "dead", res
    assert len(world.results_of(res["job_id"])) > 1          # it was tried again
    (stored,) = query(world.db_url, "SELECT access_token_encrypted IS NOT NULL"
                                    " AND token_expires_at > now() FROM external_calendars"
                                    " WHERE id = %s", (world.cal,))
    assert stored == (True,)
    assert emu.stats()["by_method"].get("POST", 0) == before + 1   # one refresh in all
    assert run(world)["status"] == "success"
    assert emu.stats()["by_method"].get("POST", 0) == before + 1


def test_a_worker_thread_holds_one_postgresql_connection(services, bin_dir, emu):
    """A pull of several pages, its next page read ahead, uses the worker thread's
    one PostgreSQL connection: after it the thread still holds exactly one."""
    w = World(services, bin_dir, redis_db=4)
    role = "calsync_one_" + uuid.uuid4().hex[:8]     # generated here, not data
    try:
        query(w.db_url, f'CREATE ROLE "{role}" LOGIN')
        query(w.db_url, f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        w.cal, w.remote = connect_google(w, emu)
        w.worker("one", CALSYNC_DATABASE_URL=w.db_url.replace("postgres@", role + "@", 1),
                 CALSYNC_WORKER_CONCURRENCY=1)
        emu.add(w.remote, *lessons(8))
        emu.faults(SHORT_PAGES)
        try:
            _, res = first_result(w)
        finally:
            emu.clear_faults()
        assert res["status"] == "success" and res["created"] == 8, res
        assert sorted(r[0] for r in hub(w)) == ["Lesson %d" % i for i in range(8)]
        (held,) = query(w.db_url, "SELECT count(*) FROM pg_stat_activity WHERE usename = %s",
                        (role,))
        assert held == (1,), held
    finally:
        w.stop()
        query(w.db_url, f'DROP OWNED BY "{role}"')
        query(w.db_url, f'DROP ROLE "{role}"')


def test_an_event_listed_twice_is_applied_once(world, emu):
    """Once twice on one page, once again on the next page."""
    first, *_ = emu.add(world.remote, *lessons(4))
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "repeat_item", "event_id": first["id"]},
               SHORT_PAGES)
    try:
        _, res = first_result(world)
    finally:
        emu.clear_faults()
    assert res["status"] == "success" and res["created"] == 4, res     # on its first attempt
    assert sorted(r[0] for r in hub(world)) == ["Lesson %d" % i for i in range(4)]
    assert query(world.db_url, "SELECT count(*) FROM calendar_conflicts")[0][0] == 0


def test_one_garbage_item_is_skipped_and_the_job_ends_partial(world, emu):
    good, bad = emu.add(world.remote, timed("Good", "2026-12-14T09:00:00Z", "2026-12-14T10:00:00Z"),
                        timed("Bad", "2026-12-14T11:00:00Z", "2026-12-14T12:00:00Z"))
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "garbage_item", "event_id": bad["id"]})
    res = run(world)
    emu.clear_faults()
    assert res["status"] == "partial" and res["created"] == 1, res
    assert bad["id"] in res["error"]
    assert [r[0] for r in hub(world)] == ["Good"]


def test_an_expired_sync_token_leads_to_a_full_sync_that_finds_deletions(world, emu):
    a, b = emu.add(world.remote, timed("Keep", "2026-12-15T09:00:00Z", "2026-12-15T10:00:00Z"),
                   timed("Gone", "2026-12-15T11:00:00Z", "2026-12-15T12:00:00Z"))
    run(world)
    emu.delete(world.remote, b["id"])
    emu.call("POST", "/_emu/expire_sync_tokens")
    res = run(world)
    assert res["deleted"] == 1, res
    assert [(r[0], r[8]) for r in hub(world)] == [("Keep", False), ("Gone", True)]


def held_deletions(world, emu):
    """12 events pulled, 10 of them deleted on Google: the guard holds the pull."""
    items = emu.add(world.remote, *[timed(f"Event {i}", f"2026-12-20T{8 + i:02d}:00:00Z",
                                          f"2026-12-20T{8 + i:02d}:30:00Z") for i in range(12)])
    run(world)
    for it in items[:10]:
        emu.delete(world.remote, it["id"])
    res = run(world)
    assert res["status"] == "partial" and "mass-deletion guard" in res["error"], res
    assert "calsync deletions" in res["error"]
    shown = run_tool(world.bin_dir, "deletions", world.cal, env=world.env, check=True).stdout
    assert shown.startswith("10 deletions held on calendar %s\n" % world.cal)
    assert all(it["id"] in shown for it in items[:10]) and items[10]["id"] not in shown
    return items


def test_the_mass_deletion_guard_stops_a_sudden_empty_calendar(world, emu):
    held_deletions(world, emu)
    assert query(world.db_url, "SELECT count(*) FROM events WHERE deleted_at IS NULL") == [(12,)]


def test_a_refused_refresh_marks_the_calendar_for_reconnection(world, emu):
    refresh = query(world.db_url, "SELECT refresh_token_encrypted FROM external_calendars")[0][0]
    opened = __import__("calsync_helpers").run_tool(world.bin_dir, "secret", "open", "--tenant", world.tenant,
                                                    env=world.env, input=refresh, check=True).stdout.strip()
    emu.call("POST", "/_emu/revoke_refresh", {"refresh_token": opened})
    res = run(world)
    assert res["status"] == "failed" and "reconnect" in res["error"], res
    assert query(world.db_url, "SELECT last_sync_status FROM calendar_sync_states") == [("auth_required",)]


def test_a_pulled_event_overlapping_a_hub_event_is_reported(world, emu):
    hub_event(world, "Pick up Tommy", "2026-12-16T15:00Z", "2026-12-16T16:00Z")
    emu.add(world.remote, timed("Meeting", "2026-12-16T15:30:00Z", "2026-12-16T16:30:00Z"))
    res = run(world)
    assert res["conflicts"] == 1, res
    assert query(world.db_url, "SELECT conflict_type FROM calendar_conflicts") == [("time_overlap",)]


def test_a_kafka_event_changed_message_reaches_google_as_a_write(world, emu, bin_dir):
    import json
    import os
    import subprocess
    from confluent_kafka import Producer

    topic = "sync-google-" + uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env.update(world.env, CALSYNC_KAFKA_TOPIC=topic, CALSYNC_KAFKA_GROUP="g-" + topic)
    run(world)                     # synced first: no periodic sync is due, nothing pending
    log = open(os.path.join(world.provider_dir, "scheduler.log"), "w")
    sched = subprocess.Popen([os.path.join(str(bin_dir), "calsync-scheduler")], env=env,
                             stdout=subprocess.DEVNULL, stderr=log)
    world.procs.append(sched)
    ev = hub_event(world, "Parents' evening", "2026-12-04T18:00Z", "2026-12-04T19:00Z")
    writes = emu.writes()
    producer = Producer({"bootstrap.servers": os.environ["CALSYNC_KAFKA_BROKERS"]})
    producer.produce(topic, key=world.tenant, value=json.dumps(
        {"event_id": ev, "tenant_id": world.tenant, "op": "created",
         "occurred_at": "2026-11-25T10:00:00Z"}))
    producer.flush()
    wait_for(lambda: [e for e in emu.events(world.remote) if e["summary"] == "Parents' evening"],
             timeout=60, what="the event on Google")
    pushes = wait_for(lambda: [d for t, d in world.results() if d.get("job_type") == "push"],
                      what="the push job's result")
    assert pushes[0]["status"] == "success" and pushes[0]["pushed"] == 1
    assert emu.writes() == writes + 1


@pytest.mark.parametrize("remove_events", [True, False])
def test_disconnect_revokes_removes_and_never_spreads_events(world, emu, remove_events):
    emu.add(world.remote, timed("Team lunch", "2026-12-18T12:00:00Z", "2026-12-18T13:00:00Z"))
    run(world)
    other = world.calendar(remote_id="other-primary")          # the family's test calendar
    revokes = emu.stats()["by_kind"].get("POST revoke", 0)
    res = run(world, "disconnect", remove_events=remove_events)
    assert res["status"] == "success", res
    assert query(world.db_url, "SELECT count(*) FROM external_calendars WHERE id = %s", (world.cal,)) == [(0,)]
    assert emu.stats()["by_kind"].get("POST revoke") == revokes + 1
    assert query(world.db_url, "SELECT deleted_at IS NOT NULL FROM events") == [(remove_events,)]
    # what came from the disconnected calendar is not pushed anywhere else
    assert query(world.db_url, "SELECT count(*) FROM events e WHERE e.source_calendar_id = %s",
                 (world.cal,)) == [(1,)]
    world.cal = other
    assert run(world)["pushed"] == 0


def test_a_hub_edit_keeps_what_calsync_does_not_model_on_google(world, emu):
    (a,) = emu.add(world.remote, timed("Violin", "2026-12-19T10:00:00Z", "2026-12-19T11:00:00Z",
                                       location="Music school", colorId="5",
                                       reminders={"useDefault": False,
                                                  "overrides": [{"method": "popup", "minutes": 30}]}))
    run(world)
    query(world.db_url, "UPDATE events SET title = 'Violin lesson', location = NULL, updated_at = NOW()")
    assert run(world)["pushed"] == 1
    (remote,) = emu.events(world.remote)
    assert remote["summary"] == "Violin lesson" and "location" not in remote
    assert remote["colorId"] == "5" and remote["reminders"]["overrides"][0]["minutes"] == 30


def test_a_date_time_without_offset_is_read_in_its_time_zone(world, emu):
    """Google's Event resource: "a time zone offset is required unless a time zone
    is explicitly specified in timeZone" - such an item is pulled, not skipped."""
    (a,) = emu.add(world.remote, timed("Recital", "2026-07-01T17:00:00Z", "2026-07-01T18:30:00Z",
                                       tz="America/New_York"))
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "local_times", "event_id": a["id"]})
    try:
        res = run(world)
    finally:
        emu.clear_faults()
    assert res["status"] == "success" and res["created"] == 1, res
    assert hub(world) == [("Recital", "2026-07-01 17:00:00+00", "2026-07-01 18:30:00+00", False,
                           "America/New_York", None, False, "confirmed", False)]


def test_a_series_without_a_zone_is_written_in_the_tenants_zone(world, emu):
    """Written in UTC, its 09:00 would be 10:00 after the clocks change; the tenant's
    zone (Europe/London) keeps the wall time. Its override follows the series."""
    series = hub_event(world, "Choir", "2026-10-19T08:00Z", "2026-10-19T09:00Z", tz=None,
                       recurrence="RRULE:FREQ=WEEKLY;COUNT=4")
    query(world.db_url, "INSERT INTO events(id, tenant_id, created_by, title, start_time, end_time,"
                        " recurring_event_id, original_start_time) VALUES (%s,%s,%s,'Choir (hall)',"
                        " '2026-11-02T10:00Z', '2026-11-02T11:00Z', %s, '2026-11-02T09:00Z')",
          (str(uuid.uuid4()), world.tenant, world.user, series))
    res = run(world)
    assert res["status"] == "success" and res["pushed"] == 2, res
    remote = {e["id"]: e for e in emu.events(world.remote)}
    master = remote["fh" + series.replace("-", "")]
    assert master["start"]["timeZone"] == master["end"]["timeZone"] == "Europe/London"
    (override,) = [e for e in remote.values() if e.get("recurringEventId") == master["id"]]
    assert override["start"]["timeZone"] == "Europe/London"
    writes = emu.writes()
    again = run(world, mode="full")                   # no echo, nothing rewritten
    assert (again["created"], again["updated"], again["pushed"]) == (0, 0, 0), again
    assert emu.writes() == writes


def ignore_the_delete_conflict(world):
    """The next sync raises one delete_conflict; a person ignores it."""
    assert run(world)["conflicts"] == 1
    ((conflict, kind),) = query(world.db_url, "SELECT id, conflict_type FROM calendar_conflicts")
    assert kind == "delete_conflict"
    assert run(world, "resolve", conflict_id=conflict, resolution="ignore",
               resolved_by=world.user)["status"] == "success"


def test_an_ignored_delete_conflict_stays_ignored(world, emu):
    """Hub edited, Google deleted: ignored means left alone on both sides - the next
    full sync does not tombstone the Hub copy and nothing re-creates it on Google."""
    (a,) = emu.add(world.remote, timed("Tutor", "2026-12-21T16:00:00Z", "2026-12-21T17:00:00Z"))
    run(world)
    query(world.db_url, "UPDATE events SET location = 'Library', updated_at = NOW()")
    emu.delete(world.remote, a["id"])
    ignore_the_delete_conflict(world)
    writes = emu.writes()
    for mode in ("full", "incremental", "full"):
        res = run(world, mode=mode)
        assert (res["status"], res["deleted"], res["pushed"], res["conflicts"]) == \
            ("success", 0, 0, 0), res
    assert query(world.db_url, "SELECT location, deleted_at IS NULL FROM events") == [("Library", True)]
    assert emu.events(world.remote) == [] and emu.writes() == writes


def test_an_ignored_hub_deletion_is_not_pushed(world, emu):
    """Hub deleted, Google edited: after ignore the Hub copy stays deleted and the
    Google copy stays as it is - no remote delete, no new conflict."""
    (a,) = emu.add(world.remote, timed("Chess", "2026-12-21T18:00:00Z", "2026-12-21T19:00:00Z"))
    run(world)
    query(world.db_url, "UPDATE events SET deleted_at = NOW(), updated_at = NOW()")
    emu.patch(world.remote, a["id"], location="Club room")
    ignore_the_delete_conflict(world)
    writes = emu.writes()
    for mode in ("incremental", "full"):
        res = run(world, mode=mode)
        assert (res["status"], res["pushed"], res["conflicts"]) == ("success", 0, 0), res
    assert query(world.db_url, "SELECT deleted_at IS NOT NULL FROM events") == [(True,)]
    assert [e.get("location") for e in emu.events(world.remote)] == ["Club room"]
    assert emu.writes() == writes


def test_an_event_restored_on_google_comes_back_in_the_hub(world, emu):
    (a,) = emu.add(world.remote, timed("Book club", "2026-12-22T19:00:00Z", "2026-12-22T21:00:00Z"))
    run(world)
    emu.delete(world.remote, a["id"])
    assert run(world)["deleted"] == 1
    assert query(world.db_url, "SELECT deleted_at IS NOT NULL FROM events") == [(True,)]
    emu.patch(world.remote, a["id"], status="confirmed", summary="Book club (back)")
    res = run(world)
    assert res["status"] == "success" and res["created"] == 0, res
    assert query(world.db_url, "SELECT title, deleted_at IS NULL FROM events") == [("Book club (back)", True)]
    writes = emu.writes()
    again = run(world, mode="full")                   # settled: nothing on either side
    assert (again["updated"], again["deleted"], again["pushed"]) == (0, 0, 0), again
    assert emu.writes() == writes


def test_a_hub_event_whose_tombstone_is_lifted_comes_back_on_google(world, emu):
    ev = hub_event(world, "Carol service", "2026-12-23T18:00Z", "2026-12-23T19:00Z")
    run(world)
    query(world.db_url, "UPDATE events SET deleted_at = NOW(), updated_at = NOW() WHERE id = %s", (ev,))
    assert run(world)["pushed"] == 1 and emu.events(world.remote) == []
    query(world.db_url, "UPDATE events SET deleted_at = NULL, updated_at = NOW() WHERE id = %s", (ev,))
    res = run(world)
    assert res["status"] == "success" and res["pushed"] == 1, res
    remote = emu.events(world.remote)
    assert [(e["id"], e["summary"]) for e in remote] == [("fh" + ev.replace("-", ""), "Carol service")]
    writes = emu.writes()
    assert run(world, mode="full")["pushed"] == 0 and emu.writes() == writes


def test_a_pulled_event_whose_hub_tombstone_is_lifted_is_pushed_again(world, emu):
    (a,) = emu.add(world.remote, timed("Match", "2026-12-24T10:00:00Z", "2026-12-24T11:00:00Z"))
    run(world)
    query(world.db_url, "UPDATE events SET deleted_at = NOW(), updated_at = NOW()")
    assert run(world)["pushed"] == 1 and emu.events(world.remote) == []
    query(world.db_url, "UPDATE events SET deleted_at = NULL, updated_at = NOW()")
    assert run(world)["pushed"] == 1
    assert [e["summary"] for e in emu.events(world.remote)] == ["Match"]
    assert run(world, mode="full")["created"] == 0          # no second Hub copy either
    assert query(world.db_url, "SELECT count(*) FROM events WHERE deleted_at IS NULL") == [(1,)]


def test_reconnecting_a_calendar_links_the_kept_events(world, emu):
    """disconnect with remove_events false, then the same Google calendar connected
    again: the kept events are linked to their remote copies, with what changed
    on either side meanwhile synced - never a second copy of each."""
    a, b = emu.add(world.remote, timed("Rehearsal", "2026-12-26T10:00:00Z", "2026-12-26T11:00:00Z"),
                   timed("Concert", "2026-12-27T19:00:00Z", "2026-12-27T21:00:00Z"))
    hub_event(world, "Pack instruments", "2026-12-26T08:00Z", "2026-12-26T09:00Z")
    assert run(world)["pushed"] == 1
    assert run(world, "disconnect", remove_events=False)["status"] == "success"
    query(world.db_url, "UPDATE events SET location = 'Hall B', updated_at = NOW() WHERE title = 'Concert'")
    emu.patch(world.remote, a["id"], summary="Rehearsal (long)")
    world.cal, _ = connect_google(world, emu, remote_id=world.remote)
    res = run(world)
    assert res["status"] == "success" and (res["created"], res["updated"], res["pushed"]) == (0, 1, 1), res
    assert sorted(query(world.db_url, "SELECT title, location FROM events WHERE deleted_at IS NULL")) == [
        ("Concert", "Hall B"), ("Pack instruments", None), ("Rehearsal (long)", None)]
    remote = {e["summary"]: e for e in emu.events(world.remote)}
    assert sorted(remote) == ["Concert", "Pack instruments", "Rehearsal (long)"]
    assert remote["Concert"].get("location") == "Hall B"
    assert query(world.db_url, "SELECT count(*) FROM calendar_event_mappings WHERE external_calendar_id = %s",
                 (world.cal,)) == [(3,)]
    assert query(world.db_url, "SELECT count(*) FROM unified_calendar_events WHERE provider = 'google'") == [(2,)]
    writes = emu.writes()
    again = run(world, mode="full")
    assert (again["created"], again["updated"], again["pushed"]) == (0, 0, 0) and emu.writes() == writes


def test_a_relinked_event_keeps_the_newer_hub_version(world, emu):
    """The mapping of a pushed event is lost (as a crash after the create leaves it)
    and the Hub edits the event: the pull links it again and the edit is pushed."""
    ev = hub_event(world, "Vet", "2026-12-28T09:00Z", "2026-12-28T09:30Z")
    assert run(world)["pushed"] == 1
    query(world.db_url, "DELETE FROM calendar_event_mappings")
    query(world.db_url, "UPDATE events SET title = 'Vet (bring the cat)', updated_at = NOW() WHERE id = %s", (ev,))
    res = run(world, mode="full")
    assert res["status"] == "success" and res["created"] == 0 and res["pushed"] == 1, res
    assert [e["summary"] for e in emu.events(world.remote)] == ["Vet (bring the cat)"]
    assert query(world.db_url, "SELECT title FROM events") == [("Vet (bring the cat)",)]


def decide(world, flag):
    out = run_tool(world.bin_dir, "deletions", world.cal, flag, "--by", world.user,
                   env=world.env, check=True).stdout
    job = out.strip().splitlines()[-1]
    res = wait_for(lambda: [r for r in world.results_of(job) if r["status"] != "retrying"],
                   timeout=60, what="the sync that applies the decision")[-1]
    assert res["status"] == "success", res
    assert query(world.db_url, "SELECT decision, decided_by::text, applied_count"
                               " FROM calendar_deletion_reviews") == [(flag[2:], world.user, 10)]
    return res


def test_held_deletions_approved_are_applied_once(world, emu):
    held_deletions(world, emu)
    res = decide(world, "--approve")
    assert res["deleted"] == 10, res
    assert query(world.db_url, "SELECT count(*) FROM events WHERE deleted_at IS NULL") == [(2,)]
    shown = run_tool(world.bin_dir, "deletions", world.cal, env=world.env, check=True).stdout
    assert shown.startswith("0 deletions held")
    again = run_tool(world.bin_dir, "deletions", world.cal, "--approve", env=world.env)
    assert again.returncode == 1 and "nothing is held" in again.stderr
    assert run(world)["deleted"] == 0


def test_held_deletions_rejected_keep_the_hub_events_and_come_back_on_google(world, emu):
    held_deletions(world, emu)
    res = decide(world, "--reject")
    assert (res["deleted"], res["pushed"]) == (0, 10), res
    assert query(world.db_url, "SELECT count(*) FROM events WHERE deleted_at IS NULL") == [(12,)]
    assert sorted(e["summary"] for e in emu.events(world.remote)) == sorted("Event %d" % i for i in range(12))
    writes = emu.writes()
    again = run(world, mode="full")                    # one copy of each, on both sides
    assert (again["created"], again["deleted"], again["pushed"]) == (0, 0, 0), again
    assert emu.writes() == writes
    assert query(world.db_url, "SELECT count(*) FROM events") == [(12,)]


def test_the_deletions_command_refuses_what_it_cannot_do(world):
    assert run_tool(world.bin_dir, "deletions", "--help").returncode == 0
    assert run_tool(world.bin_dir, "deletions", env=world.env).returncode == 2
    both = run_tool(world.bin_dir, "deletions", world.cal, "--approve", "--reject", env=world.env)
    assert both.returncode == 2
    unknown = run_tool(world.bin_dir, "deletions", str(uuid.uuid4()), env=world.env)
    assert unknown.returncode == 1 and "no calendar" in unknown.stderr
    nothing = run_tool(world.bin_dir, "deletions", world.cal, "--reject", env=world.env)
    assert nothing.returncode == 1 and "nothing is held" in nothing.stderr
