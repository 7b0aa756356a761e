"""test_push_google.py - the push path around the happy one, end to end on Google
Calendar (calsync-worker, and calsync-scheduler where reconcile matters, against
real PostgreSQL and Redis and the Google emulator): every push attempt settles
what it decided, refused events and read-only calendars are isolated, a failed
precondition is resolved by reading the remote copy again, a retried create
writes the current version, and a Hub edit keeps every attendee's response."""

import os
import subprocess
import uuid

import pytest

from calsync_helpers import query, wait_for
from google_helpers import connect_google, emu  # noqa: F401 (a fixture)
from pool_helpers import World
from test_sync_google import hub_event, run, timed


def new_world(services, bin_dir, emu, access_role="owner", **settings):
    w = World(services, bin_dir, redis_db=4)
    w.cal, w.remote = connect_google(w, emu, access_role=access_role)
    w.worker("w", **{"CALSYNC_RETRY_BASE_MS": 100, "CALSYNC_RETRY_MAX_MS": 300, **settings})
    return w


@pytest.fixture
def world(services, bin_dir, emu):
    w = new_world(services, bin_dir, emu)
    yield w
    w.stop()


def pending(world, event_id):
    """Is the push of event_id to the calendar pending (common/targets.c's rule)?"""
    rows = query(world.db_url, "SELECT m.id IS NULL OR m.last_synced_at IS NULL"
                               " OR m.last_synced_at < e.updated_at FROM events e"
                               " LEFT JOIN calendar_event_mappings m ON m.event_id = e.id"
                               " AND m.external_calendar_id = %s WHERE e.id = %s",
                 (world.cal, event_id))
    return rows[0][0]


def edit(world, event_id, **columns):
    sets = ", ".join("%s = %%s" % c for c in columns)        # column names from this file
    query(world.db_url, "UPDATE events SET " + sets + ", updated_at = NOW() WHERE id = %s",
          (*columns.values(), event_id))


def inserts(emu):
    return emu.stats()["by_kind"].get("POST insert", 0)


# ---------------------------------------------------------------- 1: settled pushes

def test_a_touch_without_a_content_change_is_settled(world, emu):
    ev = hub_event(world, "Dinner", "2026-12-05T18:00Z", "2026-12-05T20:00Z")
    assert run(world)["pushed"] == 1
    query(world.db_url, "UPDATE events SET updated_at = NOW() WHERE id = %s", (ev,))
    assert pending(world, ev)
    writes = emu.writes()
    res = run(world, mode="full")
    assert res["status"] == "success" and res["pushed"] == 0, res
    assert emu.writes() == writes
    assert not pending(world, ev)


def test_a_push_held_by_a_conflict_is_settled(world, emu):
    (a,) = emu.add(world.remote, timed("Dentist", "2026-12-10T14:00:00Z", "2026-12-10T15:00:00Z"))
    run(world)
    (ev,) = query(world.db_url, "SELECT id::text FROM events")[0]
    edit(world, ev, location="Dr. Smith")
    emu.patch(world.remote, a["id"], location="Dr. Jones")
    assert run(world)["conflicts"] == 1
    assert not pending(world, ev)       # a person decides first: nothing to reconcile


def test_a_reconciled_push_releases_its_dedup_key(world, emu, bin_dir):
    ev = hub_event(world, "Parents' evening", "2026-12-04T18:00Z", "2026-12-04T19:00Z")
    # older than the reconcile's settle time: the Kafka path had its chance
    query(world.db_url, "UPDATE events SET updated_at = NOW() - interval '2 minutes' WHERE id = %s", (ev,))
    query(world.db_url, "INSERT INTO calendar_sync_states (external_calendar_id, last_sync_at,"
                        " last_full_sync_at) VALUES (%s, NOW(), NOW())"
                        " ON CONFLICT (external_calendar_id) DO UPDATE SET last_sync_at = NOW(),"
                        " last_full_sync_at = NOW()", (world.cal,))
    topic = "push-google-" + uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env.update(world.env, CALSYNC_KAFKA_TOPIC=topic, CALSYNC_KAFKA_GROUP="g-" + topic)
    log = open(os.path.join(world.provider_dir, "scheduler.log"), "w")
    world.procs.append(subprocess.Popen([os.path.join(str(bin_dir), "calsync-scheduler")], env=env,
                                        stdout=subprocess.DEVNULL, stderr=log))
    log.close()
    key = "calsync:queued:push:%s:%s" % (world.cal, ev)
    pushes = wait_for(lambda: [d for t, d in world.results() if d.get("job_type") == "push"],
                      timeout=60, what="the reconciled push")
    assert pushes[0]["status"] == "success" and pushes[0]["pushed"] == 1, pushes
    wait_for(lambda: not world.r.exists(key), timeout=10, what="the dedup key released")
    assert not pending(world, ev)


# ---------------------------------------------------------------- 2: refused pushes

def test_one_refused_event_does_not_fail_the_calendar(world, emu):
    emu.add(world.remote, timed("Swim", "2026-12-02T17:00:00Z", "2026-12-02T18:00:00Z"))
    bad = hub_event(world, "Bad guests", "2026-12-03T15:00Z", "2026-12-03T16:00Z")
    query(world.db_url, "UPDATE events SET attendees = '{not-an-address}' WHERE id = %s", (bad,))
    good = hub_event(world, "Pick up Tommy", "2026-12-03T17:00Z", "2026-12-03T17:30Z")
    res = run(world)
    assert res["status"] == "partial" and bad in res["error"], res
    assert (res["created"], res["pushed"]) == (1, 1), res
    assert [e["summary"] for e in emu.events(world.remote)] == ["Swim", "Pick up Tommy"]
    assert not pending(world, good)
    tried = inserts(emu)
    again = run(world, mode="full")                 # not tried again until it changes
    assert again["status"] == "success" and again["pushed"] == 0, again
    assert inserts(emu) == tried
    edit(world, bad, attendees=["guest@example.com"])
    fixed = run(world)
    assert fixed["status"] == "success" and fixed["pushed"] == 1, fixed
    assert len(emu.events(world.remote)) == 3


def test_a_read_only_calendar_is_synced_pull_only_and_reported_once(services, bin_dir, emu):
    w = new_world(services, bin_dir, emu, access_role="reader")
    try:
        emu.add(w.remote, timed("Swim", "2026-12-02T17:00:00Z", "2026-12-02T18:00:00Z"))
        hub_event(w, "Pick up Tommy", "2026-12-03T15:00Z", "2026-12-03T15:30Z")
        res = run(w)
        assert res["status"] == "partial" and "may only read" in res["error"], res
        assert res["created"] == 1, res
        assert query(w.db_url, "SELECT sync_direction FROM external_calendars") == [("pull_only",)]
        refused = emu.stats()["by_status"].get("403", 0)
        emu.add(w.remote, timed("Piano", "2026-12-04T16:00:00Z", "2026-12-04T17:00:00Z"))
        again = run(w)                                # reported once; the pull goes on
        assert again["status"] == "success" and again["error"] is None, again
        assert again["created"] == 1
        assert emu.stats()["by_status"].get("403", 0) == refused
    finally:
        w.stop()


# ---------------------------------------------------------------- 4, 5: failed preconditions

def synced_with_guest(world, emu, title):
    """A Google event with a guest, pulled into the Hub: (remote event, Hub id)."""
    (a,) = emu.add(world.remote, timed(title, "2026-12-11T09:00:00Z", "2026-12-11T10:00:00Z",
                                       attendees=[{"email": "ann@example.com"}]))
    run(world)
    (ev,) = query(world.db_url, "SELECT id::text FROM events WHERE title = %s", (title,))[0]
    return a, ev


def test_a_412_for_a_change_calsync_does_not_model_is_pushed_again(world, emu):
    a, ev = synced_with_guest(world, emu, "Piano")
    emu.patch(world.remote, a["id"], attendees=[{"email": "ann@example.com",
                                                 "responseStatus": "accepted"}])
    edit(world, ev, title="Piano (new teacher)")
    res = run(world, "push", event_id=ev)
    assert res["status"] == "success" and (res["pushed"], res["conflicts"]) == (1, 0), res
    (remote,) = emu.events(world.remote)
    assert remote["summary"] == "Piano (new teacher)"
    assert remote["attendees"][0]["responseStatus"] == "accepted"
    assert query(world.db_url, "SELECT count(*) FROM calendar_conflicts") == [(0,)]
    assert not pending(world, ev)


def test_a_412_on_a_delete_after_an_rsvp_deletes_under_the_fresh_etag(world, emu):
    a, ev = synced_with_guest(world, emu, "Choir")
    emu.patch(world.remote, a["id"], attendees=[{"email": "ann@example.com",
                                                 "responseStatus": "declined"}])
    query(world.db_url, "UPDATE events SET deleted_at = NOW(), updated_at = NOW() WHERE id = %s", (ev,))
    res = run(world, "push", event_id=ev)
    assert res["status"] == "success" and (res["pushed"], res["conflicts"]) == (1, 0), res
    assert emu.events(world.remote) == []
    assert query(world.db_url, "SELECT is_deleted FROM calendar_event_mappings") == [(True,)]


@pytest.mark.parametrize("resolution,title,location", [
    ("local", "Yoga (hub)", None),
    ("external", "Yoga", "Studio 2"),
])
def test_a_412_for_a_modelled_change_is_a_conflict_resolved_first_time(world, emu, resolution,
                                                                      title, location):
    a, ev = synced_with_guest(world, emu, "Yoga")
    emu.patch(world.remote, a["id"], location="Studio 2")
    edit(world, ev, title="Yoga (hub)")
    res = run(world, "push", event_id=ev)
    assert res["conflicts"] == 1 and res["pushed"] == 0, res
    ((external,),) = query(world.db_url, "SELECT external_data FROM calendar_conflicts")
    assert (external["title"], external["location"], external["start"]) == \
        ("Yoga", "Studio 2", "2026-12-11T09:00:00Z")
    assert not pending(world, ev)
    (cid,) = query(world.db_url, "SELECT id::text FROM calendar_conflicts")[0]
    done = run(world, "resolve", conflict_id=cid, resolution=resolution, resolved_by=world.user)
    assert [r["status"] for r in world.results_of(done["job_id"])] == ["success"]
    assert query(world.db_url, "SELECT title, location FROM events") == [(title, location)]
    (remote,) = emu.events(world.remote)
    assert (remote["summary"], remote.get("location")) == (title, location)


@pytest.mark.parametrize("jtype", ["push", "sync"])
def test_a_write_whose_answer_was_lost_is_no_conflict(world, emu, jtype):
    ev = hub_event(world, "Birthday party", "2026-12-12T14:00Z", "2026-12-12T17:00Z")
    run(world)
    edit(world, ev, title="Birthday party!")
    emu.faults({"method": "PATCH", "path_regex": "/events/", "action": "apply_then_fail",
                "status": 500, "times": 1})
    res = run(world, jtype, **({"event_id": ev} if jtype == "push" else {}))
    assert res["status"] == "success" and res["conflicts"] == 0, res
    assert [r["status"] for r in world.results_of(res["job_id"])] == ["retrying", "success"]
    assert query(world.db_url, "SELECT count(*) FROM calendar_conflicts") == [(0,)]
    assert [e["summary"] for e in emu.events(world.remote)] == ["Birthday party!"]
    writes = emu.writes()
    assert run(world)["pushed"] == 0 and emu.writes() == writes


@pytest.mark.parametrize("then", ["retry", "sync"])
def test_a_lost_answer_then_a_newer_hub_edit_is_no_conflict(services, bin_dir, emu, then):
    """calsync's own write got through but its answer was lost (or its worker was killed
    mid-request), and the Hub changed again before the retry: the remote holds an older Hub
    version that nobody else wrote (its familyhub_written stamp matches it), so the retry -
    or a sync that comes first - writes the newest version; no conflict."""
    w = new_world(services, bin_dir, emu, CALSYNC_RETRY_BASE_MS=3000, CALSYNC_RETRY_MAX_MS=3000)
    try:
        ev = hub_event(w, "Swimming", "2026-12-14T17:00Z", "2026-12-14T18:00Z")
        run(w)
        edit(w, ev, title="Swimming (lane 2)")
        emu.faults({"method": "PATCH", "path_regex": "/events/", "action": "apply_then_fail",
                    "status": 500, "times": 1})
        job = w.enqueue("calsync:jobs:interactive", "push", calendar_id=w.cal, event_id=ev)
        wait_for(lambda: w.results_of(job), timeout=30, what="the first attempt")
        assert [e["summary"] for e in emu.events(w.remote)] == ["Swimming (lane 2)"]
        edit(w, ev, title="Swimming (lane 3)")          # before the retry, 1.5 s or more later
        if then == "sync":
            res = run(w)
            assert res["status"] == "success" and res["conflicts"] == 0, res
        res = wait_for(lambda: [r for r in w.results_of(job) if r["status"] != "retrying"],
                       timeout=30, what="the retry")[-1]
        assert res["status"] == "success" and res["conflicts"] == 0, res
        assert query(w.db_url, "SELECT count(*) FROM calendar_conflicts") == [(0,)]
        assert [e["summary"] for e in emu.events(w.remote)] == ["Swimming (lane 3)"]
        writes = emu.writes()
        assert run(w)["pushed"] == 0 and emu.writes() == writes
    finally:
        w.stop()


# ---------------------------------------------------------------- 17: retried creates

def test_a_retried_create_writes_the_current_version(services, bin_dir, emu):
    w = new_world(services, bin_dir, emu, CALSYNC_RETRY_BASE_MS=3000, CALSYNC_RETRY_MAX_MS=3000)
    try:
        ev = hub_event(w, "Parents' evening", "2026-12-07T17:00Z", "2026-12-07T18:00Z")
        emu.faults({"method": "POST", "path_regex": "/events$", "action": "apply_then_fail",
                    "status": 500, "times": 1})
        job = w.enqueue("calsync:jobs:interactive", "push", calendar_id=w.cal, event_id=ev)
        wait_for(lambda: w.results_of(job), timeout=30, what="the first attempt")
        edit(w, ev, title="Parents' evening (room 4)")   # before the retry, at least 1.5 s later
        res = wait_for(lambda: [r for r in w.results_of(job) if r["status"] != "retrying"],
                       timeout=30, what="the retry")[-1]
        assert res["status"] == "success", res
        assert [e["summary"] for e in emu.events(w.remote)] == ["Parents' evening (room 4)"]
        assert query(w.db_url, "SELECT count(*) FROM calendar_event_mappings") == [(1,)]
        writes = emu.writes()
        assert run(w)["pushed"] == 0 and emu.writes() == writes
    finally:
        w.stop()


# ---------------------------------------------------------------- 12: responses kept

def test_a_hub_edit_keeps_every_attendee_response(world, emu):
    (a,) = emu.add(world.remote, timed("Dinner", "2026-12-19T18:00:00Z", "2026-12-19T20:00:00Z",
                                       attendees=[{"email": "ann@example.com", "responseStatus": "accepted"},
                                                  {"email": "bob@example.com", "responseStatus": "declined"},
                                                  {"email": "cat@example.com", "responseStatus": "tentative"}]))
    run(world)
    (ev,) = query(world.db_url, "SELECT id::text FROM events")[0]
    edit(world, ev, title="Dinner at ours", attendees=["ann@example.com", "cat@example.com",
                                                       "dan@example.com"])
    assert run(world)["pushed"] == 1
    (remote,) = emu.events(world.remote)
    assert remote["summary"] == "Dinner at ours"
    assert {g["email"]: g["responseStatus"] for g in remote["attendees"]} == {
        "ann@example.com": "accepted", "cat@example.com": "tentative",
        "dan@example.com": "needsAction"}
    writes = emu.writes()
    assert run(world)["pushed"] == 0 and emu.writes() == writes
