"""tests/integration/test_pgbouncer.py - calsync behind Debian's pgbouncer
in transaction pool mode (tests/harness/svc.py starts it on demand in front
of the private PostgreSQL): no session state may outlive a transaction, so
migrate, the worker's pooled connections and its jobs must all work there."""

import os
import subprocess

import pytest

from calsync_helpers import TEST_KEYS, fresh_database, query, wait_for
from pool_helpers import BACKGROUND, INTERACTIVE, World, wait_result

MIGRATIONS = sorted(f for f in os.listdir(os.path.join(os.path.dirname(__file__), "..", "..",
                                                        "migrations")) if f.endswith(".sql"))


@pytest.fixture(scope="module")
def bouncer(services):
    services.start(only=["pgbouncer"])
    yield services.service("pgbouncer").env()["CALSYNC_TEST_PGBOUNCER_URL"]
    services.stop(only=["pgbouncer"])


def through(bouncer, direct_url):
    return f"{bouncer}/{direct_url.rsplit('/', 1)[1]}"


def test_two_migrations_at_once_through_pgbouncer_apply_each_file_once(services, bin_dir, bouncer):
    direct = fresh_database(services)
    env = dict(os.environ, CALSYNC_DATABASE_URL=through(bouncer, direct),
               CALSYNC_SECRET_KEYS=TEST_KEYS)
    runs = [subprocess.Popen([os.path.join(str(bin_dir), "calsync"), "migrate"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outs
    rows = query(direct, "SELECT version, count(*) FROM calsync_schema_migrations GROUP BY version"
                         " ORDER BY version")
    assert [r[0] for r in rows] == MIGRATIONS
    assert all(r[1] == 1 for r in rows)


def test_the_worker_syncs_and_pushes_through_pgbouncer_with_a_small_pool(services, bin_dir,
                                                                         bouncer):
    world = World(services, bin_dir, redis_db=12)
    try:
        primary = world.calendar(remote_id="home")
        others = [world.calendar(remote_id=f"c{i}", primary=False) for i in range(24)]
        events = [world.hub_event(title=f"Dinner {i}") for i in range(3)]
        world.env["CALSYNC_DATABASE_URL"] = through(bouncer, world.db_url)
        world.worker("bouncer", CALSYNC_WORKER_CONCURRENCY=32, CALSYNC_DB_POOL_SIZE=3)
        jobs = [world.enqueue(BACKGROUND, "sync", calendar_id=c, mode="incremental")
                for c in others]
        jobs.append(world.enqueue(INTERACTIVE, "sync", calendar_id=primary, mode="full"))
        for job in jobs:
            wait_result(world, job, status="success", timeout=60)
        created = {c[4] for c in world.calls() if c[2] == "create" and c[3] == "home"}
        assert created == set(events), world.log(0)
        mapped = query(world.db_url, "SELECT count(*) FROM calendar_event_mappings"
                                     " WHERE external_calendar_id = %s", (primary,))[0][0]
        assert mapped == len(events)
        states = query(world.db_url, "SELECT last_sync_status, count(*) FROM calendar_sync_states"
                                     " GROUP BY last_sync_status")
        assert states == [("success", len(others) + 1)], states
        assert "prepared statement" not in world.log(0)
    finally:
        world.stop()
