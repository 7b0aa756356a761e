"""tests/integration/test_schemas.py - every message that the real programs
write fits its schema in docs/asyncapi.yaml (issue 15, item 4): the jobs the
tool and the scheduler enqueue (and the worker's retries of them), results,
progress, conflicts and dead letters of the worker and the scheduler; and a
message that breaks its schema fails the check."""

import copy
import json
import uuid

import pytest
from confluent_kafka import Producer

from calsync_helpers import query, run_tool, wait_for
from google_helpers import connect_google, emu  # noqa: F401 (a fixture)
from observe_helpers import Scheduler, new_topic
from pool_helpers import INTERACTIVE, World, wait_result
from schema_helpers import check, check_stream

STREAMS = ["calsync:jobs:interactive", "calsync:jobs:background", "calsync:results",
           "calsync:conflicts", "calsync:dead"]


@pytest.fixture
def world(services, bin_dir):
    w = World(services, bin_dir, redis_db=10)
    yield w
    w.stop()


def check_all(world):
    """Check every stream; {type: [data]} of what was there."""
    seen = {}
    for stream in STREAMS:
        for mtype, data in check_stream(world.r, stream):
            seen.setdefault(mtype, []).append(data)
    return seen


def test_worker_and_tool_messages_fit_their_schemas(world):
    cal = world.calendar(remote_id="test-cal")
    bad = world.calendar(remote_id="bad-cal")
    world.control("test-cal.latency_ms", 1200)          # long enough for progress
    world.control("bad-cal.fail", "10 EIO")
    world.worker(CALSYNC_MAX_ATTEMPTS=2, CALSYNC_RETRY_BASE_MS=50, CALSYNC_RETRY_MAX_MS=100)
    job = run_tool(world.bin_dir, "enqueue", "sync", cal, "--full", env=world.env,
                   check=True).stdout.strip()
    wait_result(world, job, "success")
    failing = run_tool(world.bin_dir, "enqueue", "sync", bad, env=world.env,
                       check=True).stdout.strip()
    wait_result(world, failing, "dead")
    world.r.xadd(INTERACTIVE, {"type": "sync", "data": "{not json"})
    world.enqueue(INTERACTIVE, "sync", calendar_id="not-a-uuid")
    wait_for(lambda: world.r.xlen("calsync:dead") == 3, what="three dead letters")
    # the tool's resolve job (run by the worker: the conflict does not exist)
    run_tool(world.bin_dir, "resolve", str(uuid.uuid4()), "merge", "--merged",
             '{"title": "Dentist"}', "--by", world.user, env=world.env, check=True)

    # the hand-written bad entries are not the programs' messages: out of the stream
    for entry_id, fields in world.r.xrange(INTERACTIVE):
        if fields["data"] == "{not json" or "not-a-uuid" in fields["data"]:
            world.r.xdel(INTERACTIVE, entry_id)
    wait_for(lambda: sum(1 for t, d in world.results() if t == "sync_result"
                         and d["job_type"] == "resolve") == 1, what="the resolve job's end")
    seen = check_all(world)
    assert {d["status"] for d in seen["sync_result"]} >= {"success", "retrying", "dead"}
    assert seen["sync_progress"] and len(seen["dead_letter"]) == 4   # the resolve's too
    assert any("attempt" in d for d in seen["sync"])    # the worker's retry of a job
    assert [d["resolution"] for d in seen["resolve"]] == ["merge"]


def test_scheduler_messages_fit_their_schemas(world, services):
    brokers = services.env["CALSYNC_KAFKA_BROKERS"]
    topic = new_topic(brokers, "schema-")
    cal = world.calendar(remote_id="test-cal")
    ev = world.hub_event("Swimming")
    Scheduler(world, topic)
    changed = {"event_id": ev, "tenant_id": world.tenant, "op": "created",
               "occurred_at": "2026-12-01T10:00:00Z"}
    check("familyhub.events", "event_changed", changed)   # what the test sends is valid too
    p = Producer({"bootstrap.servers": brokers})
    p.produce(topic, key=world.tenant, value=json.dumps(changed))
    p.produce(topic, key=world.tenant, value=b'{"event_id": 7}')
    assert p.flush(30) == 0
    wait_for(lambda: world.r.xlen("calsync:dead") == 1 and world.r.xlen("calsync:jobs:background")
             and any(f["type"] == "push" for _, f in world.r.xrange(INTERACTIVE)),
             what="a periodic sync, a push and a dead letter from the scheduler")
    seen = check_all(world)
    assert {d["calendar_id"] for d in seen["sync"]} == {cal}   # periodic (and nightly) syncs
    assert [d["event_id"] for d in seen["push"]] == [ev]
    assert seen["dead_letter"][0]["source"] == "kafka"


def test_conflicts_fit_their_schema(services, bin_dir, emu):
    world = World(services, bin_dir, redis_db=10)
    try:
        world.cal, world.remote = connect_google(world, emu)
        world.worker("w")
        (a,) = emu.add(world.remote, dict(summary="Dentist",
                                          start={"dateTime": "2026-12-10T14:00:00Z"},
                                          end={"dateTime": "2026-12-10T15:00:00Z"}))
        wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal), "success")
        query(world.db_url, "UPDATE events SET location = 'Dr. Smith', updated_at = NOW()")
        emu.patch(world.remote, a["id"], location="Dr. Jones")
        wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal), "success")
        seen = check_all(world)
        assert [d["conflict_type"] for d in seen["conflict"]] == ["update_conflict"]
    finally:
        world.stop()


def test_a_message_that_breaks_its_schema_fails_the_check(world):
    cal = world.calendar(remote_id="test-cal")
    world.worker()
    wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=cal), "success")
    (good,) = [d for t, d in world.results() if t == "sync_result"]
    check("calsync:results", "sync_result", good)
    broken = [dict(good, status="great"), dict(good, created=-1), dict(good, surprise=1),
              {k: v for k, v in good.items() if k != "worker"},
              dict(good, finished_at="yesterday"), dict(good, calendar_id="cal-1")]
    for b in broken:
        with pytest.raises(AssertionError, match="breaks its schema"):
            check("calsync:results", "sync_result", b)
    with pytest.raises(AssertionError, match="not in docs/asyncapi.yaml"):
        check("calsync:results", "conflict", copy.deepcopy(good))
    world.r.xadd("calsync:results", {"type": "sync_result", "data": json.dumps(broken[0])})
    with pytest.raises(AssertionError, match="breaks its schema"):
        check_stream(world.r, "calsync:results")
