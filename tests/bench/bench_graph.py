"""tests/bench/bench_graph.py - the Outlook benchmarks of `make bench`, against
the Graph emulator: the initial sync of a 5,000-event Outlook calendar (delta
pages of 200, Windows zone names) and the incremental sync when nothing
changed - each with the worker's CPU time per event and its RSS. Hooked into
tests/bench/run.sh; prints its rows and a Markdown table. Measurements, never
assertions."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from bench import BIN, Services, proc_cpu_rss, row, rows, sync_and_wait  # noqa: E402
from graph_helpers import GraphEmulator, connect_outlook, timed  # noqa: E402
from pool_helpers import World  # noqa: E402

EVENTS = 5000


def main():
    emu = GraphEmulator()
    world = World(Services, BIN, redis_db=10)
    try:
        (world.cal,), (remote,) = connect_outlook(world, emu)
        batch = []
        for i in range(EVENTS):
            day, hour = 1 + i % 28, 8 + i % 10
            batch.append(timed("Event %d" % i, "2027-01-%02dT%02d:00:00" % (day, hour),
                               "2027-01-%02dT%02d:30:00" % (day, hour), tz="W. Europe Standard Time"))
            if len(batch) == 500:
                emu.add(remote, *batch)
                batch = []
        w = world.worker("graph", CALSYNC_LOG_LEVEL="warn", CALSYNC_WORKER_CONCURRENCY=1,
                         CALSYNC_MASS_DELETE_MIN=1000000)
        cpu0 = proc_cpu_rss(w.pid)[0]
        res, ms = sync_and_wait(world)
        cpu1, rss = proc_cpu_rss(w.pid)
        row("Outlook initial sync of a %d-event calendar" % EVENTS,
            f"{res['created'] / (ms / 1000):,.0f}", "events/s",
            f"({ms:,.0f} ms; worker CPU {cpu1 - cpu0:.2f} s = "
            f"{(cpu1 - cpu0) * 1e6 / EVENTS:.0f} µs per event; RSS {rss} MB)")
        times, cpus = [], []
        for _ in range(5):
            cpu0 = proc_cpu_rss(w.pid)[0]
            res, ms = sync_and_wait(world)
            cpus.append(proc_cpu_rss(w.pid)[0] - cpu0)
            times.append(ms)
            assert res["status"] == "success", res
        rss = proc_cpu_rss(w.pid)[1]
        cpu = sorted(cpus)[2]
        tick = 1 / os.sysconf("SC_CLK_TCK")
        spent = f"{cpu * 1000:.0f} ms = {cpu * 1e6 / EVENTS:.1f} µs per event of the calendar" \
            if cpu else f"under one clock tick ({tick * 1000:.0f} ms) = under {tick * 1e6 / EVENTS:.0f} µs per event"
        row("Outlook incremental sync, nothing changed (%d-event calendar)" % EVENTS,
            f"{sorted(times)[2]:.1f}", "ms", f"(median of 5 from enqueue to result; worker CPU "
            f"{spent}; RSS {rss} MB)")
    finally:
        world.stop()
        emu.stop()
    print("\n| benchmark | result | unit | notes |\n|---|---|---|---|")
    for name, value, unit, note in rows:
        print(f"| {name} | {value} | {unit} | {note} |")


if __name__ == "__main__":
    main()
