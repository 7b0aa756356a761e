"""test_worker_pool.py - calsync-worker against real Redis and PostgreSQL
with the `test` provider: take-over after kill -9, fencing of a stalled
worker, one job per calendar, retries and dead letters, poison entries,
interactive before background, SIGTERM drain, server restarts, entries no
producer should write (bytes that are not UTF-8, texts cut inside a character,
dedup keys that are not calsync's)."""

import os
import signal
import subprocess
import time
import uuid

import pytest

from calsync_helpers import query, wait_for
from pool_helpers import BACKGROUND, DEAD, INTERACTIVE, World, wait_result

FAST = {"CALSYNC_CLAIM_IDLE_MS": 800, "CALSYNC_LOCK_TTL_MS": 800, "CALSYNC_HTTP_TIMEOUT_MS": 500,
        "CALSYNC_RETRY_BASE_MS": 100, "CALSYNC_RETRY_MAX_MS": 400}


@pytest.fixture
def world(services, bin_dir):
    w = World(services, bin_dir, redis_db=3)
    yield w
    w.stop()


def test_a_killed_workers_job_is_finished_by_another_exactly_once(world):
    cal = world.calendar()
    world.control(f"test-cal.latency_ms", 1500)
    a = world.worker("a", **FAST)
    job = world.enqueue(BACKGROUND, "sync", calendar_id=cal, mode="incremental")
    wait_for(lambda: world.pending(BACKGROUND) == 1, what="worker a takes the job")
    a.kill()
    a.wait()
    world.control(f"test-cal.latency_ms", 0)
    world.worker("b", **FAST)
    results = wait_result(world, job, status="success")
    assert len(results) == 1 and results[0]["worker"].startswith("b-")
    wait_for(lambda: world.pending(BACKGROUND) == 0, what="nothing left pending")
    assert len(world.results_of(job)) == 1


def test_a_stalled_worker_cannot_commit_after_its_job_was_taken_over(world):
    cal = world.calendar()
    world.control(f"test-cal.latency_ms", 2500)
    a = world.worker("a", **FAST)
    job = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    wait_for(lambda: world.pending(BACKGROUND) == 1, what="worker a takes the job")
    a.send_signal(signal.SIGSTOP)            # a stalls in the middle of its job
    world.control(f"test-cal.latency_ms", 0)
    world.worker("b", **FAST)
    wait_result(world, job, status="success")
    a.send_signal(signal.SIGCONT)            # a wakes up and tries to finish
    wait_for(lambda: "taken over by another worker" in world.log(0) or
             "newer job committed" in world.log(0) or
             "another job took this calendar" in world.log(0), timeout=20, what="a is fenced")
    assert [r["status"] for r in world.results_of(job)] == ["success"]
    fence = query(world.db_url, "SELECT fence FROM calendar_sync_states WHERE external_calendar_id = %s",
                  (cal,))[0][0]
    # a token is taken at a job's first commit: b's took the counter from 0 to 1,
    # and a's, from the 0 it saw when it started, was refused - only b committed
    assert fence == 1


@pytest.mark.parametrize("batch", [1, 8])
def test_one_job_per_calendar_at_a_time_across_workers(world, batch):
    cal = world.calendar()
    world.control("test-cal.latency_ms", 150)
    for _ in range(6):
        world.enqueue(INTERACTIVE, "sync", calendar_id=cal)
    world.worker("a", CALSYNC_WORKER_CONCURRENCY=4, CALSYNC_BATCH_SIZE=batch)
    world.worker("b", CALSYNC_WORKER_CONCURRENCY=4, CALSYNC_BATCH_SIZE=batch)
    wait_for(lambda: len([r for t, r in world.results() if r.get("status") == "success"]) == 6,
             what="six syncs")
    spans = sorted((int(c[0]), int(c[1])) for c in world.calls() if c[2] == "fetch")
    assert len(spans) == 6
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert s2 >= e1, f"two fetches of one calendar overlapped: {spans}"


def test_failures_are_retried_with_backoff_then_dead_lettered(world):
    cal = world.calendar()
    world.control("test-cal.fail", "2 EIO")
    world.worker("a", **FAST)
    job = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    wait_result(world, job, status="success")
    statuses = [r["status"] for r in world.results_of(job)]
    assert statuses == ["retrying", "retrying", "success"]
    assert [r["attempt"] for r in world.results_of(job)] == [1, 2, 3]

    world.control("test-cal.fail", "9 EIO")
    job2 = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    wait_result(world, job2, status="dead")
    assert [r["status"] for r in world.results_of(job2)] == ["retrying"] * 4 + ["dead"]
    dead = [d for t, d in world.results(DEAD) if d["job_id"] == job2]
    assert len(dead) == 1 and "injected EIO" in dead[0]["reason"] and dead[0]["attempts"] == 5


def test_refused_credentials_fail_without_retry_and_mark_the_calendar(world):
    cal = world.calendar()
    world.control("test-cal.fail", "1 EAUTH")
    world.worker("a", **FAST)
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=cal)
    res = wait_result(world, job)
    assert [r["status"] for r in res] == ["failed"]
    assert query(world.db_url, "SELECT last_sync_status FROM calendar_sync_states") == [("auth_required",)]


def test_poison_entries_go_to_dead_and_do_not_block(world):
    cal = world.calendar()
    world.r.xadd(BACKGROUND, {"type": "sync", "data": "{not json"})
    world.r.xadd(BACKGROUND, {"data": "{}"})
    world.enqueue(BACKGROUND, "frobnicate")
    world.enqueue(BACKGROUND, "sync", calendar_id="not-a-uuid")
    missing = world.enqueue(BACKGROUND, "sync", calendar_id="00000000-0000-4000-8000-000000000000")
    good = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    world.worker("a")
    wait_result(world, good, status="success")
    wait_for(lambda: len(world.results(DEAD)) == 5, what="five dead letters")
    reasons = [d["reason"] for t, d in world.results(DEAD)]
    assert any("not JSON" in r for r in reasons)
    assert any("no 'type' field" in r for r in reasons)
    assert any("unknown job type 'frobnicate'" in r for r in reasons)
    assert any("calendar_id is not a UUID" in r for r in reasons)
    assert any("calendar 00000000-0000-4000-8000-000000000000 does not exist" in r for r in reasons)
    assert world.results_of(missing)[0]["status"] == "dead"
    wait_for(lambda: world.pending(BACKGROUND) == 0, what="all acknowledged")


def test_a_push_waiting_behind_10000_background_jobs_goes_first(world):
    cal = world.calendar()
    event = world.hub_event()
    pipe = world.r.pipeline(transaction=False)
    for i in range(10000):
        pipe.xadd(BACKGROUND, {"type": "noop", "data": '{"job_id":"bg%d"}' % i})
    pipe.execute()
    push = world.enqueue(INTERACTIVE, "push", calendar_id=cal, event_id=event)
    world.worker("a", CALSYNC_WORKER_CONCURRENCY=1, CALSYNC_BATCH_SIZE=64)
    wait_result(world, push, status="success")
    order = [d["job_id"] for t, d in world.results() if t == "sync_result"]
    assert order.index(push) == 0, f"the push came after {order.index(push)} background jobs"
    assert [c[2] for c in world.calls()] == ["create"]
    wait_for(lambda: len(world.results()) == 10001, timeout=60, what="the backlog drains")


def test_sigterm_finishes_the_job_in_hand_hands_back_the_rest_and_exits_0(world):
    cal = world.calendar()
    others = [world.calendar(remote_id=f"cal-{i}") for i in range(3)]
    world.control("test-cal.latency_ms", 1000)
    a = world.worker("a", CALSYNC_WORKER_CONCURRENCY=1, CALSYNC_BATCH_SIZE=8)
    first = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    rest = [world.enqueue(BACKGROUND, "sync", calendar_id=c) for c in others]
    wait_for(lambda: world.pending(BACKGROUND) >= 1, what="a takes jobs")
    a.send_signal(signal.SIGTERM)
    assert a.wait(timeout=20) == 0
    assert [r["status"] for r in world.results_of(first)] == ["success"]
    assert world.pending(BACKGROUND) == 0
    world.worker("b")
    for job in rest:
        assert [r["status"] for r in wait_result(world, job)] == ["success"]


def test_redis_restart_does_not_lose_the_job_in_hand(world, services):
    cal = world.calendar()
    world.control("test-cal.latency_ms", 1500)
    world.worker("a", **FAST)
    job = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    wait_for(lambda: world.pending(BACKGROUND) == 1, what="a takes the job")
    services.restart("redis")
    world.control("test-cal.latency_ms", 0)
    wait_result(world, job, status="success", timeout=40)
    wait_for(lambda: world.pending(BACKGROUND) == 0, what="acknowledged")


def test_postgres_restart_is_survived(world, services):
    cal = world.calendar()
    world.worker("a", **FAST)
    first = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    wait_result(world, first, status="success")
    services.restart("pg")
    job = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    res = wait_result(world, job, status="success", timeout=40)
    assert res


def test_discover_answers_with_the_calendars(world):
    world.worker("a")
    job = world.enqueue(INTERACTIVE, "discover", tenant_id=world.tenant, provider="test",
                        credentials={})
    found = wait_for(lambda: [d for t, d in world.results() if t == "calendars" and d["job_id"] == job],
                     what="the calendars answer")
    assert found[0]["calendars"][0] == {"id": "test-primary", "name": "Test calendar",
                                        "color": "#336699", "is_primary": True, "writable": True}


def test_the_tool_enqueues_shows_status_and_watches(world):
    cal = world.calendar()
    watch = subprocess.Popen([os.path.join(world.bin_dir, "calsync"), "watch", "--count", "1",
                              "--from-start"],
                             env=dict(os.environ, **world.env), stdout=subprocess.PIPE, text=True)
    out = subprocess.run([os.path.join(world.bin_dir, "calsync"), "enqueue", "sync", cal, "--full"],
                         env=dict(os.environ, **world.env), capture_output=True, text=True, check=True)
    job = out.stdout.strip()
    assert world.r.xlen(INTERACTIVE) == 1
    world.worker("a")
    wait_result(world, job, status="success")
    line = watch.communicate(timeout=30)[0]
    assert line.startswith("calsync:results sync_result ") and job in line
    status = subprocess.run([os.path.join(world.bin_dir, "calsync"), "status"],
                            env=dict(os.environ, **world.env), capture_output=True, text=True,
                            check=True).stdout
    assert cal in status and "success" in status and "calsync:jobs:interactive" in status
    bad = subprocess.run([os.path.join(world.bin_dir, "calsync"), "enqueue", "sync", "nope"],
                         env=dict(os.environ, **world.env), capture_output=True, text=True)
    assert bad.returncode == 1 and "not a calendar id" in bad.stderr


def test_a_sync_longer_than_a_second_reports_progress(world):
    cal = world.calendar()
    world.control("test-cal.latency_ms", 1200)
    world.worker("a")
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=cal)
    wait_result(world, job, status="success")
    progress = [d for t, d in world.results() if t == "sync_progress" and d["job_id"] == job]
    assert len(progress) == 1, progress
    assert progress[0]["calendar_id"] == cal and progress[0]["phase"] == "pull"
    assert progress[0]["tenant_id"] == world.tenant and "events_done" in progress[0]


@pytest.mark.parametrize("windowed", [False, True])
def test_a_full_sync_finds_deletions_by_absence_only_where_the_provider_lists_everything(
        world, windowed):
    """The test provider's listing holds nothing. Where it declares that a full
    sync lists everything, the event it no longer lists is gone; where its
    listing is windowed, absence is no deletion: the Hub event and its mapping stay."""
    if windowed:
        world.control("windowed", 1)
    cal = world.calendar()
    ev = world.hub_event("Dinner")
    world.worker("w", **FAST)
    assert wait_result(world, world.enqueue(INTERACTIVE, "push", calendar_id=cal, event_id=ev),
                       status="success")[0]["pushed"] == 1
    res = wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=cal, mode="full"))[0]
    assert res["status"] == "success", res
    (deleted,) = query(world.db_url, "SELECT deleted_at IS NOT NULL FROM events WHERE id = %s", (ev,))
    assert deleted == (not windowed,)
    assert res["deleted"] == (0 if windowed else 1)


def test_the_production_worker_has_no_test_provider(world):
    """The test provider is linked into the test build of the worker only: the
    production worker knows no provider 'test' and says so, without retrying."""
    cal = world.calendar()
    world.worker_program = "calsync-worker"
    world.worker("prod", **FAST)
    res = wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=cal))
    assert [(r["status"], r["attempt"]) for r in res] == [("dead", 1)], res
    assert "unknown provider 'test'" in res[0]["error"], res
    assert world.calls() == []


def test_an_update_is_handed_the_representation_the_provider_kept(world):
    """The provider's own representation of an item (opaque to calsync) is kept
    with its mapping and handed back to the next update, so that a provider that
    rewrites the whole item merges into it; the answer's replaces it."""
    cal = world.calendar()
    ev = world.hub_event("Dinner")
    world.worker("w", **FAST)

    def push():
        job = world.enqueue(INTERACTIVE, "push", calendar_id=cal, event_id=ev)
        return wait_result(world, job, status="success")[0]["pushed"]

    def kept():
        return query(world.db_url, "SELECT remote_raw FROM calendar_event_mappings"
                                   " WHERE event_id = %s", (ev,))

    assert push() == 1 and kept() == [(f"test:{ev}:1",)]
    query(world.db_url, "UPDATE events SET title = 'Late dinner', updated_at = now() + interval '1 s'"
                        " WHERE id = %s", (ev,))
    assert push() == 1
    with open(os.path.join(world.provider_dir, "update.raw")) as f:
        assert f.read() == f"test:{ev}:1"
    assert kept() == [(f"test:{ev}:2",)]


def test_a_write_to_one_member_of_a_one_resource_series_moves_the_etag_of_all(world):
    """Where a series and its overrides are one resource with one etag (CalDAV),
    a write to an override leaves the series' mapping with the resource's new
    etag and representation too, so that the next write to it is not refused."""
    world.control("series_one_resource", 1)
    cal = world.calendar()
    series = world.hub_event("Swimming")
    query(world.db_url, "UPDATE events SET recurrence = 'RRULE:FREQ=WEEKLY;COUNT=4' WHERE id = %s",
          (series,))
    override = str(uuid.uuid4())
    query(world.db_url, "INSERT INTO events(id, tenant_id, created_by, title, start_time, end_time,"
                        " recurring_event_id, original_start_time) VALUES (%s, %s, %s,"
                        " 'Swimming (late)', '2026-12-08T19:00Z', '2026-12-08T20:00Z', %s,"
                        " '2026-12-08T18:00Z')", (override, world.tenant, world.user, series))
    world.worker("w", **FAST)

    def push(ev):
        job = world.enqueue(INTERACTIVE, "push", calendar_id=cal, event_id=ev)
        return wait_result(world, job, status="success")[0]

    def mappings():
        return dict((str(e), (etag, raw)) for e, etag, raw in query(
            world.db_url, "SELECT event_id, external_etag, remote_raw FROM calendar_event_mappings"))

    push(override)
    assert mappings() == {series: ("1", f"test:{override}:1"), override: ("1", f"test:{override}:1")}
    query(world.db_url, "UPDATE events SET title = 'Swimming (later)', updated_at = now() + interval '1 s'"
                        " WHERE id = %s", (override,))
    assert push(override)["pushed"] == 1
    assert mappings() == {series: ("2", f"test:{override}:2"), override: ("2", f"test:{override}:2")}


def dead_letters(world):
    return [d for t, d in world.results(DEAD)]


def test_entries_not_utf8_are_dead_lettered_and_the_batch_ends(world):
    cal = world.calendar()
    first = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    world.r.xadd(BACKGROUND, {"type": b"sync\xff\xfe", "data": "{}"})
    world.r.xadd(BACKGROUND, {"type": "sync", "data": b'{"job_id":"\xff"}'})
    world.r.xadd(BACKGROUND, {"type": "x" * 62 + "\u65e5\u672c", "data": "{}"})  # cut by %.64s
    world.r.xadd(BACKGROUND, {"type": "sync", "data": '{"job_id":"a\\ud800"}'})
    second = world.enqueue(BACKGROUND, "sync", calendar_id=world.calendar("other-cal"))
    world.worker("a")  # one thread reads all six in one batch
    wait_result(world, first, status="success")
    wait_result(world, second, status="success")
    wait_for(lambda: len(dead_letters(world)) == 4, what="four dead letters")
    reasons = [d["reason"] for d in dead_letters(world)]
    assert any("'type' field is not valid UTF-8" in r for r in reasons), reasons
    assert sum("not JSON" in r for r in reasons) == 2, reasons
    assert any(r.startswith("unknown job type 'xxx") for r in reasons), reasons
    wait_for(lambda: world.pending(BACKGROUND) == 0, what="the batch acknowledged")
    later = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    wait_result(world, later, status="success")


def test_a_job_deletes_only_calsyncs_own_dedup_key(world):
    cal = world.calendar()
    own = f"calsync:queued:sync:{cal}"
    world.r.set("calsync:scheduler:leader", "someone")
    world.r.set(own, "1")
    world.r.xadd("calsync:results", {"type": "marker", "data": "{}"})
    foreign = [world.enqueue(BACKGROUND, "sync", calendar_id=cal, dedup=key)
               for key in ("calsync:scheduler:leader", "calsync:results")]
    mine = world.enqueue(BACKGROUND, "sync", calendar_id=cal, dedup=own)
    world.worker("a")
    for job in foreign + [mine]:
        wait_result(world, job, status="success")
    assert world.r.get("calsync:scheduler:leader") == "someone"
    assert world.r.type("calsync:results") == "stream"
    assert world.r.exists(own) == 0
    assert not dead_letters(world)
