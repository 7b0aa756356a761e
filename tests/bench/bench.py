"""tests/bench/bench.py - calsync's benchmarks, run by `make bench`.

Pool: no-op jobs/s through 1, 2 and 4 worker processes (each job read,
acknowledged and its sync_result published); push latency from a Kafka
produce to the provider call, p50/p99, with and without 10,000 background
jobs waiting; worker RSS. Engine, against the Google emulator: the initial
pull of a 10,000-event calendar, an incremental sync with one change (right
after that pull, and in steady state: the calendar's data aged two hours, as
if the pull were that old), a push burst of 1,000 Hub events - each with the
worker's CPU time and RSS.

Prints a Markdown table (paste the latest into docs/benchmarks.md). These are
measurements, never assertions: a slow machine makes slow numbers, not a
failed build."""

import json
import os
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from calsync_helpers import query, wait_for  # noqa: E402
from google_helpers import Emulator, connect_google  # noqa: E402
from pool_helpers import BACKGROUND, INTERACTIVE, World  # noqa: E402


class Services:
    """The already-running services of tests/bench/run.sh, as pool_helpers expects."""
    env = {k: v for k, v in os.environ.items() if k.startswith("CALSYNC_")}


BIN = os.environ.get("CALSYNC_BIN_DIR", "build")
rows = []


def row(name, value, unit, note=""):
    rows.append((name, value, unit, note))
    print(f"  {name}: {value} {unit} {note}", flush=True)


def proc_cpu_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        rss = int(f.read().split("VmRSS:")[1].split()[0]) // 1024
    return cpu, rss


def fill_noop(world, stream, n, prefix):
    pipe = world.r.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd(stream, {"type": "noop", "data": '{"job_id":"%s%d"}' % (prefix, i)})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def bench_pool(world):
    n = 100000
    for procs in (1, 2, 4):
        world.r.flushdb()
        fill_noop(world, BACKGROUND, n, "b")
        started = [world.worker(f"p{procs}-{i}", CALSYNC_WORKER_CONCURRENCY=2, CALSYNC_BATCH_SIZE=256,
                                CALSYNC_LOG_LEVEL="warn") for i in range(procs)]
        wait_for(lambda: world.r.xlen("calsync:results") > 0, what="first result")
        t0, n0 = time.monotonic(), world.r.xlen("calsync:results")
        wait_for(lambda: world.r.xlen("calsync:results") >= n, timeout=300, interval=0.01,
                 what="all no-op jobs")
        rate = (n - n0) / (time.monotonic() - t0)
        rss = max(proc_cpu_rss(p.pid)[1] for p in started)
        row(f"no-op jobs/s, {procs} worker process{'es' if procs > 1 else ''}", f"{rate:,.0f}",
            "jobs/s", f"(max RSS {rss} MB)")
        for p in started:
            p.terminate()
            p.wait()


def bench_push_latency(world, backlog):
    from confluent_kafka import Producer
    world.r.flushdb()
    topic = "bench-" + uuid.uuid4().hex[:8]
    world.calendar(remote_id="lat-" + uuid.uuid4().hex[:8])
    env = dict(os.environ)
    env.update(world.env)
    env.update(CALSYNC_KAFKA_TOPIC=topic, CALSYNC_KAFKA_GROUP="bench-" + topic, CALSYNC_LOG_LEVEL="warn")
    sched = subprocess.Popen([os.path.join(BIN, "calsync-scheduler")], env=env,
                             stderr=open(os.path.join(world.provider_dir, "sched.log"), "w"))
    if backlog:
        fill_noop(world, BACKGROUND, backlog, "bg")
    worker = world.worker("lat", CALSYNC_WORKER_CONCURRENCY=2, CALSYNC_BATCH_SIZE=64,
                          CALSYNC_LOG_LEVEL="warn")
    producer = Producer({"bootstrap.servers": os.environ["CALSYNC_KAFKA_BROKERS"]})
    sent = {}
    warmup = 20                         # not counted: the group forms, the first sync runs
    for i in range(warmup + 200):
        ev = world.hub_event(f"E{i}")   # just before its message: the Kafka path pushes it
        msg = {"event_id": ev, "tenant_id": world.tenant, "op": "created",
               "occurred_at": "2026-11-25T10:00:00Z"}
        sent[ev] = time.time() * 1000 if i >= warmup else None
        producer.produce(topic, key=world.tenant, value=json.dumps(msg))
        producer.flush()
        if i == warmup - 1:
            wait_for(lambda: len([c for c in world.calls() if c[2] == "create" and c[4] in sent])
                     >= warmup, timeout=60, what="the warm-up pushes")
        time.sleep(0.02)    # pacing delay: a steady stream of changes (50/s), not one burst
    wait_for(lambda: len([c for c in world.calls() if c[2] == "create" and c[4] in sent]) >= len(sent),
             timeout=120, what="all pushes")
    by_event = {c[4]: int(c[0]) - sent[c[4]] for c in world.calls()
                if c[2] == "create" and sent.get(c[4])}
    if os.environ.get("CALSYNC_BENCH_VERBOSE"):
        print("  latencies in send order:", [round(by_event[e]) for e in sent if e in by_event])
    lat = sorted(by_event.values())
    p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    label = f"with {backlog:,} background jobs waiting" if backlog else "idle queue"
    row(f"push latency Kafka -> provider, {label}", f"p50 {p50:.0f} / p99 {p99:.0f}", "ms")
    for p in (sched, worker):
        p.terminate()
        p.wait()


def google_world(emu):
    world = World(Services, BIN, redis_db=9)
    world.cal, world.remote = connect_google(world, emu)
    return world


def sync_and_wait(world):
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    t0 = time.monotonic()
    res = wait_for(lambda: [r for r in world.results_of(job) if r["status"] != "retrying"],
                   timeout=600, interval=0.002, what="sync")[-1]
    return res, (time.monotonic() - t0) * 1000


def incremental(world, emu, w, event, when):
    """Median of 5 syncs of the calendar, each after one change to event in the emulator."""
    times, in_worker = [], []
    for _ in range(5):
        emu.patch(world.remote, event["id"], summary="changed %d" % len(times))
        cpu0 = proc_cpu_rss(w.pid)[0]
        res, ms = sync_and_wait(world)
        times.append(ms)
        in_worker.append(res["duration_ms"])
    cpu1, rss = proc_cpu_rss(w.pid)
    row(f"incremental sync with one change (10,000-event calendar, {when})",
        f"{sorted(times)[2]:.1f}", "ms", f"(median of 5 from enqueue to result;"
        f" {sorted(in_worker)[2]} ms inside the job; worker CPU {(cpu1 - cpu0) * 1000:.0f} ms"
        f" for the last, RSS {rss} MB)")


def age_calendar(world, hours):
    """Move the Hub side's clock marks back, as if the initial pull were `hours` old."""
    shift = "interval '%d hours'" % hours
    query(world.db_url, f"UPDATE events SET updated_at = updated_at - {shift},"
                        f" created_at = created_at - {shift} WHERE tenant_id = %s", (world.tenant,))
    query(world.db_url, f"UPDATE calendar_event_mappings SET last_synced_at = last_synced_at - {shift},"
                        f" updated_at = updated_at - {shift} WHERE external_calendar_id = %s", (world.cal,))
    query(world.db_url, "VACUUM ANALYZE events")
    query(world.db_url, "VACUUM ANALYZE calendar_event_mappings")


def bench_engine():
    emu = Emulator()
    try:
        world = google_world(emu)
        start = "2027-01-01T%02d:00:00Z"
        batch = []
        for i in range(10000):
            h = i % 20
            batch.append({"summary": f"Event {i}",
                          "start": {"dateTime": start % h, "timeZone": "Europe/London"},
                          "end": {"dateTime": start % (h + 1), "timeZone": "Europe/London"}})
            if len(batch) == 1000:
                emu.add(world.remote, *batch)
                batch = []
        w = world.worker("eng", CALSYNC_LOG_LEVEL="warn", CALSYNC_WORKER_CONCURRENCY=1,
                         CALSYNC_MASS_DELETE_MIN=1000000)
        res, ms = sync_and_wait(world)
        cpu, rss = proc_cpu_rss(w.pid)
        row("initial pull of a 10,000-event calendar", f"{res['created'] / (ms / 1000):,.0f}",
            "events/s", f"({ms:,.0f} ms, worker CPU {cpu:.2f} s, RSS {rss} MB)")
        first = emu.events(world.remote)[0]
        incremental(world, emu, w, first, "right after the initial pull")
        age_calendar(world, hours=2)
        incremental(world, emu, w, first, "steady state, last changes 2 h old")
        for i in range(1000):
            query(world.db_url, "INSERT INTO events(tenant_id, created_by, title, start_time, end_time)"
                                " VALUES (%s, %s, %s, '2027-02-01T10:00Z', '2027-02-01T11:00Z')",
                  (world.tenant, world.user, f"Hub {i}"))
        cpu0 = proc_cpu_rss(w.pid)[0]
        res, ms = sync_and_wait(world)
        cpu1, rss = proc_cpu_rss(w.pid)
        row("push burst of 1,000 Hub events", f"{res['pushed'] / (ms / 1000):,.0f}", "events/s",
            f"({ms:,.0f} ms, worker CPU {cpu1 - cpu0:.2f} s, RSS {rss} MB)")
        world.stop()
    finally:
        emu.stop()


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else "all"   # all, pool or engine
    print("calsync benchmarks (2 cores; measurements, not assertions)", flush=True)
    if only in ("all", "pool"):
        world = World(Services, BIN, redis_db=8)
        try:
            bench_pool(world)
            bench_push_latency(world, 0)
            bench_push_latency(world, 10000)
        finally:
            world.stop()
    if only in ("all", "engine"):
        bench_engine()
    print("\n| benchmark | result | unit | notes |\n|---|---|---|---|")
    for name, value, unit, note in rows:
        print(f"| {name} | {value} | {unit} | {note} |")


if __name__ == "__main__":
    main()
