"""test_jobs_google.py - the job machinery around a Google sync: calsync-worker
against real PostgreSQL and Redis and the Google emulator. Fencing that
survives the loss of Redis, a lock kept alive while a slow request is in
flight, a job that lost its calendar writes nothing more, Retry-After."""

import datetime
import uuid

import pytest

from calsync_helpers import query, wait_for
from google_helpers import connect_google, emu  # noqa: F401 (a fixture)
from pool_helpers import INTERACTIVE, World


@pytest.fixture
def world(services, bin_dir, emu):
    w = World(services, bin_dir, redis_db=5)
    w.cal, w.remote = connect_google(w, emu)
    yield w
    w.stop()
    emu.clear_faults()


def event(summary, day):
    return dict(summary=summary,
                start={"dateTime": "2026-12-%02dT09:00:00Z" % day, "timeZone": "Europe/London"},
                end={"dateTime": "2026-12-%02dT10:00:00Z" % day, "timeZone": "Europe/London"})


def hub_event(world, title, day):
    ev = str(uuid.uuid4())
    query(world.db_url, "INSERT INTO events(id, tenant_id, created_by, title, start_time, end_time)"
                        " VALUES (%s, %s, %s, %s, %s, %s)",
          (ev, world.tenant, world.user, title, "2026-12-%02dT18:00Z" % day,
           "2026-12-%02dT19:00Z" % day))
    return ev


def results(world, job):
    return wait_for(lambda: world.results_of(job), timeout=60, what="a result of the job")


def sync(world):
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    return job, results(world, job)[0]


def inserts(emu):
    return sum(n for kind, n in emu.stats()["by_kind"].items() if kind.split()[1] == "insert")


def test_fencing_survives_a_flushed_redis(world, emu):
    """Redis forgets its counters; the first sync after it still commits."""
    emu.add(world.remote, event("Swim", 2))
    world.worker("w")
    for _ in range(3):
        assert sync(world)[1]["status"] == "success"
    accepted = query(world.db_url, "SELECT fence FROM calendar_sync_states"
                                   " WHERE external_calendar_id = %s", (world.cal,))[0][0]
    world.r.flushdb()                       # what FLUSHALL does to calsync's keys
    emu.add(world.remote, event("Piano", 3))
    job, first = sync(world)
    assert first["status"] == "success" and first["created"] == 1, first
    assert query(world.db_url, "SELECT fence FROM calendar_sync_states"
                               " WHERE external_calendar_id = %s", (world.cal,))[0][0] > accepted


def test_the_lock_is_kept_while_a_slow_request_is_in_flight(world, emu):
    """Two slow requests in a row outlast the lock: it is renewed while they are
    in flight, so a second worker waits instead of taking the calendar over."""
    timing = {"CALSYNC_HTTP_TIMEOUT_MS": 2000, "CALSYNC_LOCK_TTL_MS": 2500,
              "CALSYNC_CLAIM_IDLE_MS": 2500, "CALSYNC_WORKER_CONCURRENCY": 1}
    emu.add(world.remote, event("Swim", 2))
    emu.faults({"method": "POST", "path_regex": "/token$", "action": "delay", "delay_ms": 1600,
                "times": 1},
               {"method": "GET", "path_regex": "/events$", "action": "delay", "delay_ms": 1600,
                "times": 1})
    world.worker("a", **timing)
    first = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    wait_for(lambda: world.pending(INTERACTIVE) == 1, what="worker a takes the first sync")
    world.worker("b", **timing)
    second = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    done = results(world, first)
    assert [(r["status"], r["worker"]) for r in done] == [("success", "a-0")], world.log(0)
    assert results(world, second)[0]["status"] == "success"
    wait_for(lambda: world.pending(INTERACTIVE) == 0, what="nothing left pending")
    assert len(world.results_of(first)) == 1
    assert "taken over" not in world.log(0) and "newer job committed" not in world.log(0)


@pytest.mark.parametrize("ttl, idle, timeout, bad", [
    (30000, 45000, 30000, "CALSYNC_LOCK_TTL_MS"),
    (45000, 20000, 30000, "CALSYNC_CLAIM_IDLE_MS")])
def test_a_lock_that_cannot_outlive_a_request_is_refused_at_start(world, ttl, idle, timeout, bad):
    proc = world.worker("w", CALSYNC_LOCK_TTL_MS=ttl, CALSYNC_CLAIM_IDLE_MS=idle,
                        CALSYNC_HTTP_TIMEOUT_MS=timeout)
    assert proc.wait(timeout=30) != 0
    lines = [line for line in world.log(0).splitlines() if bad in line]
    assert len(lines) == 1 and "CALSYNC_HTTP_TIMEOUT_MS" in lines[0], world.log(0)


def test_a_job_that_lost_its_calendar_makes_no_more_provider_writes(world, emu):
    """Redis loses the lock while a push job waits for its token: the job
    does not write; the next sync pushes the event, with no conflict."""
    ev = hub_event(world, "Dinner", 5)
    emu.faults({"method": "POST", "path_regex": "/token$", "action": "delay", "delay_ms": 1500,
                "times": 1})
    world.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300)
    before = inserts(emu)
    world.enqueue(INTERACTIVE, "push", calendar_id=world.cal, event_id=ev)
    wait_for(lambda: emu.call("GET", "/_emu/faults")["rules"][0]["fired"] == 1,
             what="the push job waits for its token")
    world.r.flushdb()                       # the lock goes with everything else
    wait_for(lambda: "lost" in world.log(0), what="the job sees that it lost its calendar")
    assert inserts(emu) == before, world.log(0)
    job, res = sync(world)
    assert res["status"] == "success" and res["pushed"] == 1 and res["conflicts"] == 0, res
    assert [e["summary"] for e in emu.events(world.remote)] == ["Dinner"]
    assert query(world.db_url, "SELECT count(*) FROM calendar_conflicts")[0][0] == 0


def test_a_job_that_lost_its_calendar_raises_no_conflict(world, emu):
    """Both sides changed, and Redis loses the lock while the pull waits for its
    page: the stale job stores no conflict; the next sync raises it once."""
    (a,) = emu.add(world.remote, event("Dentist", 10))
    world.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300)
    assert sync(world)[1]["status"] == "success"
    query(world.db_url, "UPDATE events SET location = 'Dr. Smith', updated_at = NOW()")
    emu.patch(world.remote, a["id"], location="Dr. Jones")
    emu.faults({"method": "GET", "path_regex": "/events$", "action": "delay", "delay_ms": 1500,
                "times": 1})
    world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    wait_for(lambda: emu.call("GET", "/_emu/faults")["rules"][0]["fired"] == 1,
             what="the pull waits for its page")
    world.r.flushdb()
    wait_for(lambda: "lost" in world.log(0), what="the job sees that it lost its calendar")
    assert query(world.db_url, "SELECT count(*) FROM calendar_conflicts")[0][0] == 0
    job, res = sync(world)
    assert res["conflicts"] == 1, res
    assert query(world.db_url, "SELECT count(*) FROM calendar_conflicts")[0][0] == 1


@pytest.mark.parametrize("status", [429, 403])
def test_retry_after_is_waited_for_and_uses_no_attempt(world, emu, status):
    """Two rate limits asking for 2 s each: the job waits each time and still
    succeeds within its two attempts."""
    emu.add(world.remote, event("Swim", 2))
    emu.faults({"method": "GET", "path_regex": "/events$", "status": status,
                "reason": "rateLimitExceeded", "retry_after": 2, "times": 2})
    world.worker("w", CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300, CALSYNC_MAX_ATTEMPTS=2)
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    done = wait_for(lambda: [r for r in world.results_of(job) if r["status"] != "retrying"],
                    timeout=60, what="the job ends")
    every = world.results_of(job)
    assert done[-1]["status"] == "success", every
    assert [r["attempt"] for r in every] == [1, 1, 1]
    stamps = [datetime.datetime.fromisoformat(r["finished_at"].replace("Z", "+00:00")) for r in every]
    assert all((b - a).total_seconds() >= 2 for a, b in zip(stamps, stamps[1:])), every


def test_a_conflict_announced_again_carries_the_same_conflict_id(world, emu):
    """Announcements are at least once (README): when recording that one was
    made is lost, the next job announces it again with the same conflict_id
    and detected_at, so a consumer deduplicates by conflict_id."""
    (a,) = emu.add(world.remote, event("Dentist", 10))
    world.worker("w")
    assert sync(world)[1]["status"] == "success"
    query(world.db_url, "UPDATE events SET location = 'Dr. Smith', updated_at = NOW()")
    emu.patch(world.remote, a["id"], location="Dr. Jones")
    assert sync(world)[1]["conflicts"] == 1
    # as a worker that died between publishing and recording it leaves it
    query(world.db_url, "UPDATE calendar_conflicts SET announced_at = NULL")
    sync(world)
    announced = [d for t, d in world.results("calsync:conflicts")]
    assert len(announced) == 2 and announced[0] == announced[1], announced
    (cid,) = query(world.db_url, "SELECT id::text FROM calendar_conflicts")[0]
    assert announced[0]["conflict_id"] == cid
