"""tests/integration/test_cli_views.py - the admin tool for people (issue 15,
item 5): `calsync watch` filtered by tenant, calendar, provider and status,
with the progress of long jobs live; `calsync status` with counts and token
health."""

import json
import os
import subprocess
import uuid

import pytest

from calsync_helpers import query, run_tool
from pool_helpers import INTERACTIVE, World, wait_result


@pytest.fixture
def world(services, bin_dir):
    w = World(services, bin_dir, redis_db=11)
    yield w
    w.stop()


def watch(world, *args, timeout=30):
    out = run_tool(world.bin_dir, "watch", "--from-start", *args, env=world.env, check=True,
                   timeout=timeout).stdout
    lines = [line.split(" ", 2) for line in out.splitlines()]
    return [(stream, mtype, json.loads(data)) for stream, mtype, data in lines]


def test_watch_filters_by_calendar_status_provider_and_tenant(world):
    slow = world.calendar(remote_id="slow-cal")
    quick = world.calendar(remote_id="quick-cal")
    google = str(uuid.uuid4())      # a calendar of another provider, without credentials
    query(world.db_url, "INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                        " provider_calendar_id, calendar_name) VALUES (%s, %s, %s, 'google', 'g', 'G')",
          (google, world.tenant, world.user))
    world.control("slow-cal.latency_ms", 1200)
    world.worker(CALSYNC_MAX_ATTEMPTS=1)
    jobs = [world.enqueue(INTERACTIVE, "sync", calendar_id=c) for c in (slow, quick, google)]
    for job in jobs[:2]:
        wait_result(world, job, "success")
    wait_result(world, jobs[2])

    mine = watch(world, "--calendar", slow, "--count", "2")
    assert [(s, t) for s, t, _ in mine] == [("calsync:results", "sync_progress"),
                                            ("calsync:results", "sync_result")]
    assert all(d["calendar_id"] == slow for _, _, d in mine)
    assert mine[0][2]["phase"] == "pull" and "events_done" in mine[0][2]

    running = watch(world, "--status", "running", "--count", "1")
    assert running[0][1] == "sync_progress" and running[0][2]["calendar_id"] == slow

    tested = watch(world, "--provider", "test", "--tenant", world.tenant, "--count", "3")
    assert {d["calendar_id"] for _, _, d in tested} == {slow, quick}
    other = watch(world, "--provider", "google", "--count", "1")
    assert other[0][2]["calendar_id"] == google and other[0][2]["status"] != "success"


def test_watch_shows_progress_live(world):
    cal = world.calendar(remote_id="slow-cal")
    world.control("slow-cal.latency_ms", 1500)
    world.worker()
    live = subprocess.Popen([os.path.join(world.bin_dir, "calsync"), "watch", "--status",
                             "running", "--count", "1"], env=dict(os.environ, **world.env),
                            stdout=subprocess.PIPE, text=True)
    try:
        world.enqueue(INTERACTIVE, "sync", calendar_id=cal)
        out, _ = live.communicate(timeout=30)
    finally:
        live.kill()
    stream, mtype, data = out.strip().split(" ", 2)
    assert (stream, mtype) == ("calsync:results", "sync_progress")
    assert json.loads(data)["calendar_id"] == cal


def test_watch_refuses_bad_filters(world):
    for args, what in ((["--status", "great"], "--status"), (["--tenant", "x"], "--tenant"),
                       (["--calendar", "x"], "--calendar")):
        p = run_tool(world.bin_dir, "watch", *args, env=world.env)
        assert p.returncode == 1 and what in p.stderr, p.stderr


def test_status_shows_counts_error_and_token_health(world):
    ok = world.calendar(remote_id="test-cal")
    refused = world.calendar(remote_id="refused-cal")
    world.control("refused-cal.fail", "5 EAUTH")
    world.worker()
    wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=ok), "success")
    wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=refused), "failed")
    out = run_tool(world.bin_dir, "status", env=world.env, check=True).stdout.splitlines()
    header = out[0].split("\t")
    assert header[:6] == ["id", "provider", "name", "direction", "active", "last_sync_at"]
    assert {"status", "created", "updated", "deleted", "token", "error"} <= set(header)
    rows = {line.split("\t")[0]: dict(zip(header, line.split("\t"))) for line in out[1:]
            if line[:36] in (ok, refused)}
    assert rows[ok]["status"] == "success" and rows[ok]["error"] == "-"
    assert rows[ok]["created"] == "0" and rows[ok]["token"] == "none"
    assert rows[refused]["status"] == "auth_required" and rows[refused]["token"] == "reconnect"
    assert rows[refused]["error"] != "-"
    one = run_tool(world.bin_dir, "status", refused, env=world.env, check=True).stdout.splitlines()
    assert len(one) == 2 and one[1].startswith(refused)
