"""tests/integration/test_slots.py - the worker's slots (worker/pool.c): a
batch read is shared out to every free slot, so a slow job never holds back
the others read with it; and waiting on a provider holds no PostgreSQL
connection, so many syncs in flight share a pool of a few."""

import psycopg2
import pytest

from calsync_helpers import wait_for
from pool_helpers import BACKGROUND, World, wait_result


@pytest.fixture
def world(services, bin_dir):
    w = World(services, bin_dir, redis_db=14)
    yield w
    w.stop()


def test_a_slow_job_does_not_hold_back_the_rest_of_its_batch(world):
    slow = world.calendar(remote_id="slow")
    fast = [world.calendar(remote_id=f"fast{i}", primary=False) for i in range(5)]
    world.control("slow.latency_ms", 3000)
    jobs = [world.enqueue(BACKGROUND, "sync", calendar_id=c) for c in [slow] + fast]
    world.worker("a", CALSYNC_WORKER_CONCURRENCY=4, CALSYNC_BATCH_SIZE=64)
    for job in jobs[1:]:
        wait_result(world, job, status="success")
    assert world.results_of(jobs[0]) == [], "the fast jobs waited for the slow one"
    wait_result(world, jobs[0], status="success")


def test_syncs_in_flight_share_a_small_postgresql_pool(world):
    cals = [world.calendar(remote_id=f"c{i}", primary=i == 0) for i in range(40)]
    world.control("latency_ms", 400)
    db = world.db_url.rsplit("/", 1)[1]
    conn = psycopg2.connect(world.db_url)
    conn.autocommit = True

    def clients():
        # client backends only: an autovacuum worker of the database is no connection of ours
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                        " AND backend_type = 'client backend'"
                        " AND pid <> pg_backend_pid()", (db,))
            return cur.fetchone()[0]

    before = clients()   # what earlier tests may still hold, not the worker's
    world.worker("a", CALSYNC_WORKER_CONCURRENCY=40, CALSYNC_DB_POOL_SIZE=2)
    jobs = [world.enqueue(BACKGROUND, "sync", calendar_id=c) for c in cals]
    peak = 0

    def sample():
        nonlocal peak
        peak = max(peak, clients() - before)
        return all(world.results_of(j) for j in jobs)

    wait_for(sample, timeout=60, interval=0.02, what="all syncs")
    conn.close()
    assert all(r["status"] == "success" for j in jobs for r in world.results_of(j))
    assert peak <= 2, f"{peak} PostgreSQL connections for a pool of 2"
    spans = sorted((int(c[0]), int(c[1])) for c in world.calls() if c[2] == "fetch")
    at_once = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert at_once > 10, f"only {at_once} provider calls at once"
