"""tests/integration/test_audit.py - the audit of sync operations (issue 15,
item 6): a row per job attempt (written in batches, flushed on drain), a row
per event change with its side, fields and job in the transaction of the
change, nothing for a sync that changed nothing, `calsync history`, and the
scheduler's pruning past CALSYNC_AUDIT_RETENTION_DAYS."""

import os
import signal
import subprocess
import uuid

import pytest

from calsync_helpers import query, run_tool, wait_for
from google_helpers import connect_google, emu  # noqa: F401 (a fixture)
from pool_helpers import INTERACTIVE, World, wait_result


@pytest.fixture
def world(services, bin_dir, emu):
    w = World(services, bin_dir, redis_db=12)
    w.cal, w.remote = connect_google(w, emu)
    w.proc = w.worker("w")
    yield w
    w.stop()


def sync(world):
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    wait_result(world, job, "success")
    return job


def changes(world):
    return query(world.db_url, "SELECT job_id, side, action, array_to_string(fields, ','), event_id::text"
                               " FROM sync_audit_changes ORDER BY changed_at")


def history(world, *args):
    out = run_tool(world.bin_dir, "history", world.cal, *args, env=world.env, check=True).stdout
    lines = [line.split("\t") for line in out.splitlines()]
    return [dict(zip(lines[0], row)) for row in lines[1:]]


def test_what_moved_my_dentist_appointment(world, emu):
    (a,) = emu.add(world.remote, dict(summary="Dentist", start={"dateTime": "2026-12-10T14:00:00Z"},
                                      end={"dateTime": "2026-12-10T15:00:00Z"}))
    first = sync(world)
    (ev,) = query(world.db_url, "SELECT id::text FROM events WHERE title = 'Dentist'")[0]
    ((job, side, action, fields, event),) = changes(world)
    assert (job, side, action, event) == (first, "hub", "created", ev)
    assert {"title", "start_time", "end_time"} <= set(fields.split(","))

    before = len(changes(world))
    sync(world)                                   # nothing changed: no change row
    assert len(changes(world)) == before

    emu.patch(world.remote, a["id"], start={"dateTime": "2026-12-10T16:00:00Z"},
              end={"dateTime": "2026-12-10T17:00:00Z"})
    moved = sync(world)
    assert changes(world)[-1] == (moved, "hub", "updated", "end_time,start_time", ev)

    query(world.db_url, "UPDATE events SET title = 'Dentist (Emma)', updated_at = NOW() WHERE id = %s",
          (ev,))
    assert changes(world)[-1] == (None, "hub", "updated", "title", ev)   # in Family Hub itself
    pushed = sync(world)
    assert changes(world)[-1] == (pushed, "provider", "updated", "title", ev)

    rows = wait_for(lambda: (lambda h: h if sum(r["what"] == "job" for r in h) >= 3 else None)(
        history(world, "--event", ev)), what="the job rows of the event's changes")
    change_rows = [r for r in rows if r["what"] == "change"]
    assert [(r["side"], r["fields"], r["job"]) for r in change_rows] == [
        ("calsync wrote google", "title", pushed),
        ("changed in Family Hub", "title", "-"),
        ("calsync wrote Family Hub", "end_time,start_time", moved),
        ("calsync wrote Family Hub", change_rows[-1]["fields"], first)]
    assert all(r["title"] == "Dentist (Emma)" for r in change_rows)
    jobs = {r["job"]: r for r in rows if r["what"] == "job"}
    assert set(jobs) == {first, moved, pushed}
    assert jobs[moved]["detail"].startswith("success created=0 updated=1")
    everything = history(world)
    assert len(everything) > len(rows) and any(r["job"] not in jobs for r in everything
                                               if r["what"] == "job")
    assert len(history(world, "--limit", "2")) == 2
    bad = run_tool(world.bin_dir, "history", "nope", env=world.env)
    assert bad.returncode == 1 and "not a calendar id" in bad.stderr


def test_job_rows_are_batched_and_flushed_on_drain(world):
    jobs = [sync(world) for _ in range(3)]
    world.proc.send_signal(signal.SIGTERM)
    assert world.proc.wait(timeout=30) == 0
    rows = query(world.db_url, "SELECT job_id, job_type, status, calendar_id::text, tenant_id::text,"
                               " worker IS NOT NULL FROM sync_audit_jobs ORDER BY finished_at")
    assert rows == [(j, "sync", "success", world.cal, world.tenant, True) for j in jobs]


def test_the_leader_prunes_old_audit_rows_in_batches(world, services):
    query(world.db_url, "INSERT INTO sync_audit_jobs (job_id, job_type, calendar_id, status, finished_at)"
                        " SELECT 'old-' || i, 'sync', %s, 'success', NOW() - interval '40 days'"
                        " FROM generate_series(1, 6000) i", (world.cal,))
    query(world.db_url, "INSERT INTO sync_audit_changes (calendar_id, side, action, changed_at)"
                        " SELECT %s, 'hub', 'updated', NOW() - interval '40 days'"
                        " FROM generate_series(1, 10) i", (world.cal,))
    recent = sync(world)
    wait_for(lambda: query(world.db_url, "SELECT count(*) FROM sync_audit_jobs WHERE job_id = %s",
                           (recent,))[0][0] == 1, what="the recent job's row")
    topic = "audit-" + uuid.uuid4().hex[:8]
    env = dict(os.environ, **world.env, CALSYNC_AUDIT_RETENTION_DAYS="30",
               CALSYNC_KAFKA_TOPIC=topic, CALSYNC_KAFKA_GROUP=topic)
    world.procs.append(subprocess.Popen([os.path.join(world.bin_dir, "calsync-scheduler")],
                                        env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
    wait_for(lambda: query(world.db_url, "SELECT count(*) FROM sync_audit_jobs"
                                         " WHERE job_id LIKE 'old-%%'")[0][0] == 0,
             timeout=60, what="old job rows pruned")
    assert query(world.db_url, "SELECT count(*) FROM sync_audit_changes WHERE changed_at < NOW()"
                               " - interval '30 days'") == [(0,)]
    assert query(world.db_url, "SELECT count(*) FROM sync_audit_jobs WHERE job_id = %s",
                 (recent,)) == [(1,)]
