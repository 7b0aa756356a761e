"""tests/integration/test_observe.py - /healthz, /readyz and /metrics of the
worker and the scheduler (issue 15, item 1): the values move when work
happens, a draining worker is not ready, readiness names what is missing
without a secret, and the scheduler gauges streams, auth_required and Kafka."""

import json
import os
import signal
import uuid

import pytest
from confluent_kafka import Producer

from calsync_helpers import query, run_tool, wait_for
from google_helpers import connect_google, emu  # noqa: F401 (a fixture)
from observe_helpers import Scheduler, get, metrics, new_topic, port_of, value
from pool_helpers import INTERACTIVE, World, wait_result


@pytest.fixture
def world(services, bin_dir):
    w = World(services, bin_dir, redis_db=9)
    yield w
    w.stop()


def metric_reaches(port, name, target, **labels):
    """Poll /metrics until the sample is target; return the samples."""
    def reached():
        s = metrics(port)
        return s if value(s, name, **labels) == target else None
    return wait_for(reached, timeout=30, what=f"{name}{labels} == {target}")


def test_worker_metrics_move_as_jobs_run_retry_and_die(world):
    cal = world.calendar(remote_id="test-cal")
    world.worker(CALSYNC_MAX_ATTEMPTS=2, CALSYNC_RETRY_BASE_MS=50, CALSYNC_RETRY_MAX_MS=100)
    port = port_of(lambda: world.log(0))
    assert get(port, "/healthz")[:2] == (200, "ok\n")
    wait_for(lambda: get(port, "/readyz")[:2] == (200, "ready\n"), what="worker ready")
    before = metrics(port)
    assert value(before, "calsync_jobs_finished_total", type="sync", status="success") == 0
    assert value(before, "calsync_pg_connections_in_use") == 0

    ok = world.enqueue(INTERACTIVE, "sync", calendar_id=cal, mode="incremental")
    wait_result(world, ok, "success")
    s = metric_reaches(port, "calsync_jobs_finished_total", 1, type="sync", status="success")
    assert value(s, "calsync_jobs_started_total", type="sync") == 1
    assert value(s, "calsync_job_duration_seconds_count", type="sync") == 1
    assert value(s, "calsync_job_duration_seconds_bucket", type="sync", le="+Inf") == 1
    assert value(s, "calsync_pg_connections_in_use") == 0

    world.control("test-cal.fail", "10 EIO")
    failing = world.enqueue(INTERACTIVE, "sync", calendar_id=cal, mode="incremental")
    wait_result(world, failing, "dead")
    s = metric_reaches(port, "calsync_dead_letters_total", 1, type="sync")
    assert value(s, "calsync_job_retries_total", type="sync") == 1
    assert value(s, "calsync_jobs_finished_total", type="sync", status="retrying") == 1
    assert value(s, "calsync_jobs_finished_total", type="sync", status="dead") == 1
    assert value(s, "calsync_jobs_started_total", type="sync") == 3

    # a job type nobody knows is dead-lettered, and its label stays bounded
    for _ in range(3):
        world.enqueue(INTERACTIVE, "x-" + uuid.uuid4().hex, calendar_id=cal)
    s = metric_reaches(port, "calsync_dead_letters_total", 3, type="unknown")
    assert not [k for k in s if any(v.startswith("x-") for _, v in k[1])]


def test_a_draining_worker_is_not_ready_and_still_finishes_its_job(world):
    cal = world.calendar(remote_id="test-cal")
    world.control("test-cal.latency_ms", 1500)
    proc = world.worker()
    port = port_of(lambda: world.log(0))
    wait_for(lambda: get(port, "/readyz")[0] == 200, what="worker ready")
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=cal, mode="incremental")
    metric_reaches(port, "calsync_jobs_started_total", 1, type="sync")
    proc.send_signal(signal.SIGTERM)
    status, body, _ = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(get(port, "/readyz")),
                               what="readyz 503 while draining")
    assert body.startswith("draining: "), body
    assert get(port, "/healthz")[0] == 200
    assert proc.wait(timeout=30) == 0
    wait_result(world, job, "success")


def test_readiness_names_what_is_unreachable_and_never_a_password(world):
    world.worker(CALSYNC_DATABASE_URL="postgresql://calsync:pw-s3cret-x@127.0.0.1:1/calsync",
                 CALSYNC_REDIS_URL="redis://:pw-s3cret-y@127.0.0.1:1/0")
    port = port_of(lambda: world.log(0))
    assert get(port, "/healthz")[0] == 200
    status, body, _ = get(port, "/readyz")
    assert status == 503
    lines = body.splitlines()
    assert [line.split(":")[0] for line in lines] == ["postgres", "redis"], body
    assert "s3cret" not in body and "s3cret" not in get(port, "/metrics")[1]
    assert "s3cret" not in world.log(0)
    assert get(port, "/nothing")[0] == 404


def test_scheduler_gauges_streams_auth_required_kafka_and_dead_letters(world, services):
    brokers = services.env["CALSYNC_KAFKA_BROKERS"]
    topic = new_topic(brokers, "obs-")
    cal = world.calendar(remote_id="test-cal")
    sched = Scheduler(world, topic)
    port = port_of(sched.log)
    wait_for(lambda: get(port, "/readyz")[:2] == (200, "ready\n"), what="scheduler ready")
    s = metric_reaches(port, "calsync_scheduler_leader", 1)

    # no worker runs: the scheduler's periodic sync waits in the background stream
    s = wait_for(lambda: (lambda m: m if value(m, "calsync_stream_group_lag",
                                               stream="calsync:jobs:background") >= 1 else None)(
        metrics(port)), what="background lag")
    assert value(s, "calsync_stream_length", stream="calsync:jobs:background") >= 1
    assert value(s, "calsync_stream_group_pending", stream="calsync:jobs:background") == 0
    world.r.xreadgroup("calsync-workers", "obs-consumer", {"calsync:jobs:background": ">"}, count=1)
    s = metric_reaches(port, "calsync_stream_group_pending", 1, stream="calsync:jobs:background")

    world.r.xadd("calsync:dead", {"type": "dead_letter", "data": "{}"})
    metric_reaches(port, "calsync_stream_length", 1, stream="calsync:dead")

    query(world.db_url, "INSERT INTO calendar_sync_states (external_calendar_id, last_sync_status)"
                        " VALUES (%s, 'auth_required')", (cal,))
    metric_reaches(port, "calsync_calendars_auth_required", 1, provider="test")
    query(world.db_url, "UPDATE calendar_sync_states SET last_sync_status = 'success'")
    metric_reaches(port, "calsync_calendars_auth_required", 0, provider="test")

    p = Producer({"bootstrap.servers": brokers})
    p.produce(topic, key=world.tenant, value=b"not json")
    p.produce(topic, key=world.tenant, value=json.dumps({"event_id": "nope"}))
    assert p.flush(30) == 0
    metric_reaches(port, "calsync_dead_letters_total", 2, type="event_changed")
    metric_reaches(port, "calsync_kafka_consumer_lag", 0, topic=topic)


def test_provider_requests_are_counted_by_provider_and_code(services, bin_dir, emu):
    world = World(services, bin_dir, redis_db=9)
    try:
        world.cal, world.remote = connect_google(world, emu)
        world.worker("w")
        port = port_of(lambda: world.log(0))
        emu.add(world.remote, dict(summary="Dentist", start={"dateTime": "2026-12-10T14:00:00Z"},
                                   end={"dateTime": "2026-12-10T15:00:00Z"}))
        wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal), "success")
        s = wait_for(lambda: (lambda m: m if value(m, "calsync_jobs_finished_total", type="sync",
                                                   status="success") == 1 else None)(metrics(port)),
                     what="the sync counted")
        ok = value(s, "calsync_provider_requests_total", provider="google", code="200")
        assert ok >= 2                                  # the token refresh and the listing
        assert value(s, "calsync_provider_request_duration_seconds_count", provider="google") == \
            sum(v for (n, labels), v in s.items()
                if n == "calsync_provider_requests_total" and ("provider", "google") in labels)
        # a refresh token Google does not know: the refresh fails, counted
        sealed = run_tool(world.bin_dir, "secret", "seal", "--tenant", world.tenant, env=world.env,
                          input="1//unknown-token", check=True).stdout.strip()
        other = str(uuid.uuid4())
        query(world.db_url, "INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                            " provider_calendar_id, calendar_name, refresh_token_encrypted)"
                            " VALUES (%s, %s, %s, 'google', 'other@example.com', 'Other', %s)",
              (other, world.tenant, world.user, sealed))
        wait_result(world, world.enqueue(INTERACTIVE, "sync", calendar_id=other), "failed")
        s = metric_reaches(port, "calsync_token_refresh_failures_total", 1, provider="google")
        assert value(s, "calsync_provider_requests_total", provider="google", code="400") >= 1
    finally:
        world.stop()


def test_hooks_serve_metrics_too(world):
    from hooks_helpers import start_hooks, stop_hooks
    proc, base = start_hooks(world.bin_dir, world.env,
                             os.path.join(world.provider_dir, "hooks.log"))
    try:
        port = int(base.rsplit(":", 1)[1])
        s = metrics(port)
        assert ("calsync_pg_connections_in_use", ()) in s
        assert get(port, "/healthz")[0] == 200
    finally:
        stop_hooks(proc)
