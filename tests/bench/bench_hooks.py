"""tests/bench/bench_hooks.py - push notifications, run by `make bench`
(tests/bench/run.sh): a change on the Google stand-in to its Hub row through
the channel, calsync-hooks, the interactive stream and a worker (p50/p99 over
60 changes, with and without 10,000 background jobs waiting; no poll runs),
the same on the Outlook stand-in through a Graph subscription (idle queue),
and the provider requests an idle calendar costs a day with a live channel
against polling every 15 minutes: each kind of run (an idle incremental sync
with a fresh and with an expired access token, a nightly full sync, a channel
renewal) is measured on the emulator's request counters, then multiplied by
how often the schedule runs it.

Prints a Markdown table; measurements, never assertions."""

import os
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from bench import BIN, Services, fill_noop, row, rows  # noqa: E402
from calsync_helpers import query, wait_for  # noqa: E402
from google_helpers import Emulator, connect_google  # noqa: E402
from graph_helpers import GraphEmulator, connect_outlook, timed  # noqa: E402
from hooks_helpers import start_hooks, stop_hooks  # noqa: E402
from pool_helpers import BACKGROUND, INTERACTIVE, World  # noqa: E402

CHANGES = 60
DAY = 86400


def requests(emu):
    return sum(emu.stats()["by_kind"].values())


def run_job(world, jtype, **data):
    job = world.enqueue(INTERACTIVE, jtype, calendar_id=world.cal, **data)
    return wait_for(lambda: [r for r in world.results_of(job) if r["status"] != "retrying"],
                    timeout=120, what=jtype)[-1]


def cost(emu, world, jtype, expired=False, **data):
    """Provider requests of one job; expired: the access token is past its lifetime
    (the provider refreshes it first, as after any pause longer than an hour)."""
    if expired:
        query(world.db_url, "UPDATE external_calendars SET token_expires_at = now() - interval"
                            " '1 minute' WHERE id = %s", (world.cal,))
    before = requests(emu)
    run_job(world, jtype, **data)
    return requests(emu) - before


def google_event(title):
    return {"summary": title, "start": {"dateTime": "2027-03-01T09:00:00Z", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-01T10:00:00Z", "timeZone": "UTC"}}


def outlook_event(title):
    return timed(title, "2027-03-01T09:00:00", "2027-03-01T10:00:00", tz="UTC")


def latency(world, emu, backlog, event=google_event, what="the Google stand-in -> Hub row "
            "through its channel"):
    world.r.delete(BACKGROUND)
    if backlog:
        fill_noop(world, BACKGROUND, backlog, "bg-%s-" % uuid.uuid4().hex[:6])
    lat = []
    for i in range(CHANGES):
        title = "L%d-%s" % (i, uuid.uuid4().hex[:6])
        t0 = time.monotonic()
        emu.add(world.remote, event(title))
        wait_for(lambda: query(world.db_url, "SELECT 1 FROM events WHERE title = %s", (title,)),
                 timeout=60, interval=0.005, what="the Hub row")
        lat.append((time.monotonic() - t0) * 1000)
    lat.sort()
    p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    label = f"with {backlog:,} background jobs waiting" if backlog else "idle queue"
    row(f"change on {what}, {label}",
        f"p50 {p50:.0f} / p99 {p99:.0f}", "ms", f"({CHANGES} changes, one at a time, no poll)")


def per_day(emu, world, cfg):
    """Requests a day of an idle calendar: the day's syncs (the nightly full sync
    among them; it restarts the interval too), each refreshing the hour-long
    access token first when the last request is an hour old, and with a channel
    its renewals (watch + stop, Google's week renewed CALSYNC_WATCH_RENEW_BEFORE early)."""
    fresh = cost(emu, world, "sync")
    expired = cost(emu, world, "sync", expired=True)
    full = cost(emu, world, "sync", expired=True, mode="full")
    renew = cost(emu, world, "watch", expired=True, reason="renew")
    token_s = 3600

    def day(interval):
        polls = DAY // interval - 1                         # between two nightly full syncs
        refreshing = polls if interval >= token_s else (DAY // token_s) - 1
        return (polls - refreshing) * fresh + refreshing * expired + full

    polling = day(900)
    row("provider requests per idle calendar per day, polling every 15 min", f"{polling:.1f}",
        "requests", f"(idle sync {fresh}, after an hour {expired} with the token refresh,"
        f" nightly full sync {full})")
    for net_s in (cfg["CALSYNC_WATCH_POLL_INTERVAL"], 21600):
        channels = day(net_s) + renew * DAY / (604800 - cfg["CALSYNC_WATCH_RENEW_BEFORE"])
        row(f"provider requests per idle calendar per day, live channel (safety net "
            f"{net_s // 3600} h)", f"{channels:.1f}", "requests",
            f"(a renewal {renew}: refresh, watch, stop; {polling / channels:.0f} times fewer)")


def scheduler(world, name):
    """calsync-scheduler for world: its leader moves the settled syncs to their stream."""
    env = dict(os.environ, **world.env, CALSYNC_KAFKA_TOPIC="bench-hooks",
               CALSYNC_KAFKA_GROUP="bench-hooks-" + uuid.uuid4().hex[:6])
    return subprocess.Popen([os.path.join(BIN, "calsync-scheduler")], env=env,
                            stderr=open(os.path.join(world.provider_dir, name + ".log"), "w"))


def stop(proc):
    if proc:
        proc.terminate()
        proc.wait()


def watched(world, name, **settings):
    """calsync-hooks, a worker, the first sync, the channel, a scheduler; (hooks, scheduler)."""
    hooks, url = start_hooks(BIN, world.env, os.path.join(world.provider_dir, name + "-hooks.log"))
    world.env.update({"CALSYNC_HOOKS_PUBLIC_URL": url, "CALSYNC_HOOKS_ALLOW_HTTP": "1",
                      "CALSYNC_LOG_LEVEL": "warn", **{k: str(v) for k, v in settings.items()}})
    world.worker(name, CALSYNC_WORKER_CONCURRENCY=2)
    run_job(world, "sync")
    run_job(world, "watch", reason="renew")
    return hooks, scheduler(world, name + "-sched")


def outlook_latency():
    """The Outlook calendar's figure: a world of its own on the Graph emulator."""
    graph = GraphEmulator()
    world = World(Services, BIN, redis_db=11)
    hooks = sched = None
    try:
        graph.call("POST", "/_emu/subscriptions/config", {"allow_http": True})
        (world.cal,), (world.remote,) = connect_outlook(world, graph)
        hooks, sched = watched(world, "hooks-bench-outlook")
        latency(world, graph, 0, outlook_event,
                "the Outlook stand-in -> Hub row through its Graph subscription")
    finally:
        stop(sched)
        if hooks:
            stop_hooks(hooks)
        world.stop()
        graph.stop()


def main():
    emu = Emulator()
    world = World(Services, BIN, redis_db=10)
    hooks = sched = None
    try:
        emu.call("POST", "/_emu/config", {"channel_allow_http": 1})
        world.cal, world.remote = connect_google(world, emu)
        cfg = {"CALSYNC_WATCH_POLL_INTERVAL": 43200, "CALSYNC_WATCH_RENEW_BEFORE": 86400}
        hooks, sched = watched(world, "hooks-bench", **cfg)
        latency(world, emu, 0)
        latency(world, emu, 10000)
        world.r.delete(BACKGROUND)
        per_day(emu, world, cfg)
    finally:
        stop(sched)
        if hooks:
            stop_hooks(hooks)
        world.stop()
        emu.stop()
    outlook_latency()
    print("\n| benchmark | result | unit | notes |\n|---|---|---|---|")
    for name, value, unit, note in rows:
        print(f"| {name} | {value} | {unit} | {note} |")


if __name__ == "__main__":
    main()
