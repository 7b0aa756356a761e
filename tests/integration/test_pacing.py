"""tests/integration/test_pacing.py - provider requests are paced per
account across the slots of a worker process (worker/pacer.c): the test
provider's limits (limit_in_flight, limit_per_second, limit_burst in its
control folder, read when the worker starts) hold for the calendars of one
user, another user's calendars are not held up, and a Retry-After pauses
that account only."""

import uuid

import pytest

from calsync_helpers import query
from pool_helpers import BACKGROUND, World, wait_result


@pytest.fixture
def world(services, bin_dir):
    w = World(services, bin_dir, redis_db=13)
    yield w
    w.stop()


def other_user(world):
    user = str(uuid.uuid4())
    query(world.db_url, "INSERT INTO users(id, tenant_id, email) VALUES (%s, %s, 'q@example.com')",
          (user, world.tenant))
    return user


def calendar_of(world, user, remote_id):
    cal = world.calendar(remote_id=remote_id, primary=False)
    query(world.db_url, "UPDATE external_calendars SET user_id = %s WHERE id = %s", (user, cal))
    return cal


def fetches(world, prefix):
    return sorted((int(c[0]), int(c[1])) for c in world.calls() if c[2] == "fetch" and c[3].startswith(prefix))


def most_at_once(spans):
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    now = peak = 0
    for _, d in edges:
        now += d
        peak = max(peak, now)
    return peak


def test_one_accounts_requests_stay_within_its_limits_and_other_accounts_go_on(world):
    world.control("limit_in_flight", 2)
    world.control("latency_ms", 300)
    mine = [world.calendar(remote_id=f"a{i}", primary=i == 0) for i in range(6)]
    theirs = [calendar_of(world, other_user(world), f"b{i}") for i in range(2)]
    world.worker("p", CALSYNC_WORKER_CONCURRENCY=16)
    jobs = [world.enqueue(BACKGROUND, "sync", calendar_id=c) for c in mine + theirs]
    for job in jobs:
        wait_result(world, job, status="success")
    a, b = fetches(world, "a"), fetches(world, "b")
    assert len(a) == 6 and len(b) == 2
    assert most_at_once(a) <= 2, a                   # never more than two at once
    assert most_at_once(a) == 2, a                   # but two: the slots did run side by side
    assert max(s for s, _ in b) < max(s for s, _ in a), (a, b)  # b was not queued behind a


def test_a_retry_after_pauses_that_account_only(world):
    world.control("latency_ms", 50)
    first, second = world.calendar(remote_id="a0"), world.calendar(remote_id="a1", primary=False)
    other = calendar_of(world, other_user(world), "b0")
    world.control("a0.fail", "1 ERATELIMIT")
    world.control("a0.retry_after_ms", 3000)
    world.worker("p", CALSYNC_WORKER_CONCURRENCY=8)
    job = world.enqueue(BACKGROUND, "sync", calendar_id=first)
    wait_result(world, job, status="retrying")
    paused_at = max(e for _, e in fetches(world, "a0"))
    later = world.enqueue(BACKGROUND, "sync", calendar_id=second)
    theirs = world.enqueue(BACKGROUND, "sync", calendar_id=other)
    wait_result(world, theirs, status="success")
    wait_result(world, later, status="success", timeout=40)
    wait_result(world, job, status="success", timeout=40)
    (b_start, _), = fetches(world, "b0")
    (a1_start, _), = fetches(world, "a1")
    assert b_start - paused_at < 2000                  # the other account went on at once
    assert a1_start - paused_at >= 2900, (paused_at, a1_start)   # this one waited out the pause
