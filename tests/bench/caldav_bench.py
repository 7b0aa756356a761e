"""tests/bench/caldav_bench.py - CalDAV beside its peer, run by `make bench`
(tests/bench/run.sh; argument `all` or `caldav`).

One Radicale calendar of 2,000 events (its own Radicale, started here through
tests/harness/svc.py; two identical copies, one per client), reached through the request-counting front
(tests/emulators/icloud_front.py, on its partition host: no redirect, no
discovery), synced by calsync (the production worker, provider `caldav`)
and by vdirsyncer (Debian's /usr/bin/vdirsyncer, into a local folder), each
an initial sync and then a sync with no change: wall time, the client's own
CPU time (the worker process's, vdirsyncer's as a child) per event, and the
requests each made. Radicale's CPU is neither's. Measurements, never
assertions."""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from caldav_helpers import Dav, Front, connect_caldav  # noqa: E402
from pool_helpers import INTERACTIVE, World  # noqa: E402
from calsync_helpers import wait_for  # noqa: E402

EVENTS = 2000
BIN = os.environ.get("CALSYNC_BIN_DIR", "build")
PY = "/usr/bin/python3"
SVC = os.path.join(ROOT, "tests", "harness", "svc.py")
VDIRSYNCER = "/usr/bin/vdirsyncer"


class Services:
    def __init__(self, env):
        self.env = env


def start_radicale(run_dir):
    subprocess.run([PY, SVC, "start", "--dir", run_dir, "--only", "radicale"], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(run_dir, "env.json")) as f:
        return {k: v for k, v in json.load(f).items() if k.startswith("CALSYNC_TEST_RADICALE")}


def bulk_calendar(dav, name):
    cal = dav.new_calendar(name)
    body = "".join(
        "BEGIN:VEVENT\r\nUID:bench-%d\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART:2027%02d%02dT%02d0000Z\r\nDTEND:2027%02d%02dT%02d3000Z\r\n"
        "SUMMARY:Event %d\r\nLOCATION:Room %d\r\nEND:VEVENT\r\n"
        % (i, i % 12 + 1, i % 28 + 1, i % 20, i % 12 + 1, i % 28 + 1, i % 20, i, i % 7)
        for i in range(EVENTS))
    dav.put(cal, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bench//EN\r\n" + body
            + "END:VCALENDAR\r\n")
    return cal


def worker_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def calsync_sync(world, front, pid):
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    cpu0, req0, t0 = worker_cpu(pid), front.stats()["total"], time.monotonic()
    res = wait_for(lambda: [r for r in world.results_of(job) if r["status"] != "retrying"],
                   timeout=600, interval=0.005, what="the sync")[-1]
    wall = time.monotonic() - t0
    return res, wall, worker_cpu(pid) - cpu0, front.stats()["total"] - req0


def vdirsyncer_config(folder, url, user, password):
    path = os.path.join(folder, "config")
    with open(path, "w") as f:
        f.write(f"""[general]
status_path = "{folder}/status/"

[pair bench]
a = "bench_remote"
b = "bench_local"
collections = null
conflict_resolution = "a wins"

[storage bench_remote]
type = "caldav"
url = "{url}"
username = "{user}"
password = "{password}"

[storage bench_local]
type = "filesystem"
path = "{folder}/local/"
fileext = ".ics"
""")
    os.makedirs(os.path.join(folder, "local"), exist_ok=True)
    return path


def vdirsyncer(config, front, *args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    req0, t0 = front.stats()["total"], time.monotonic()
    proc = subprocess.run([VDIRSYNCER, "-c", config, *args], input="y\n" * 4, text=True,
                          capture_output=True, timeout=1800)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError("vdirsyncer %s failed: %s" % (" ".join(args), proc.stderr[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, front.stats()["total"] - req0


def main():
    if (sys.argv[1] if len(sys.argv) > 1 else "all") not in ("all", "caldav"):
        return
    rows = []
    run_dir = tempfile.mkdtemp(prefix="calsync-bench-radicale.")
    os.chmod(run_dir, 0o755)
    scratch = tempfile.mkdtemp(prefix="calsync-bench-vdir.")
    front = world = None
    try:
        renv = start_radicale(run_dir)
        services = Services(dict(os.environ, **renv))
        dav = Dav.of(services)
        # each client its own copy of the same calendar: both meet a Radicale that has not
        # read the calendar yet (its first full read is the slow one)
        cals = {who: bulk_calendar(dav, "bench-" + who) for who in ("calsync", "vdirsyncer")}
        front = Front(services)
        print(f"CalDAV: {EVENTS} events in Radicale, synced by calsync and vdirsyncer", flush=True)

        world = World(services, BIN, redis_db=9)
        world.cal = connect_caldav(world, front.dav, front.calendar_url(cals["calsync"]),
                                   entry=front.partition)
        pid = world.worker("bench", CALSYNC_WORKER_CONCURRENCY=1).pid
        for name in ("initial sync", "no-change sync"):
            res, wall, cpu, reqs = calsync_sync(world, front, pid)
            rows.append((f"calsync, {name} of {EVENTS:,} events", f"{wall * 1000:,.0f}", "ms",
                         f"CPU {cpu * 1000:,.0f} ms = {cpu * 1e6 / EVENTS:,.1f} us/event,"
                         f" {reqs} requests, created {res['created']}"))
            print("  " + " | ".join(rows[-1]), flush=True)

        config = vdirsyncer_config(scratch, front.calendar_url(cals["vdirsyncer"]), dav.user,
                                   dav.password)
        vdirsyncer(config, front, "discover")
        for name in ("initial sync", "no-change sync"):
            wall, cpu, reqs = vdirsyncer(config, front, "sync")
            rows.append((f"vdirsyncer, {name} of {EVENTS:,} events", f"{wall * 1000:,.0f}", "ms",
                         f"CPU {cpu * 1000:,.0f} ms = {cpu * 1e6 / EVENTS:,.1f} us/event,"
                         f" {reqs} requests"))
            print("  " + " | ".join(rows[-1]), flush=True)
    finally:
        if world:
            world.stop()
        if front:
            front.stop()
        subprocess.run([PY, SVC, "stop", "--dir", run_dir], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n| benchmark | result | unit | notes |\n|---|---|---|---|")
    for name, value, unit, note in rows:
        print(f"| {name} | {value} | {unit} | {note} |")


if __name__ == "__main__":
    main()
