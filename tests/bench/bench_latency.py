"""tests/bench/bench_latency.py - the latency scenario of `make bench`
(tests/bench/run.sh): no-change incremental syncs per second of one worker
process against a provider that answers every call after 150 ms (the
`test` provider's latency_ms, so that the stand-in is not the bottleneck),
at the worker's defaults and at a few concurrency settings, and the same at
0 ms. For each run: PostgreSQL connections held (the most seen in
pg_stat_activity), worker CPU and PostgreSQL CPU per sync, worker RSS; and
once, the Redis round trips per job (MONITOR, commands run by scripts not
counted). Measurements, never assertions."""

import collections
import json
import os
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import psycopg2  # noqa: E402
import redis  # noqa: E402

from calsync_helpers import query, wait_for  # noqa: E402
from pool_helpers import BACKGROUND, World  # noqa: E402

BIN = os.environ.get("CALSYNC_BIN_DIR", "build")
RUN_DIR = os.environ.get("CALSYNC_BENCH_RUN_DIR", "")
CALENDARS = 2000
ROUNDS = 2
rows = []


class Services:
    env = {k: v for k, v in os.environ.items() if k.startswith("CALSYNC_")}


def row(name, value, unit, note=""):
    rows.append((name, value, unit, note))
    print(f"  {name}: {value} {unit} {note}", flush=True)


def ticks(pid, children=False):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if children else 0)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) / 1024


def pg_ticks():
    """CPU of the harness's PostgreSQL: the postmaster, its live children and the reaped ones."""
    try:
        with open(os.path.join(RUN_DIR, "pg.pid")) as f:
            master = int(f.read().split()[0])
    except (OSError, ValueError):
        return 0
    total = ticks(master, children=True)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        total += ticks(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return total


def calendars(world, n):
    """n calendars, four to a family (one user each, the first calendar primary)."""
    conn = psycopg2.connect(world.db_url)
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO tenants(id, name, timezone) SELECT gen_random_uuid(), 'F' || g,"
                    " 'Europe/London' FROM generate_series(1, %s) g", (n // 4,))
        cur.execute("INSERT INTO users(id, tenant_id, email) SELECT gen_random_uuid(), id,"
                    " name || '@example.com' FROM tenants WHERE name LIKE 'F%%'")
        cur.execute("INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                    " provider_calendar_id, calendar_name, is_primary, sync_direction)"
                    " SELECT gen_random_uuid(), u.tenant_id, u.id, 'test', 'c' || g, 'Test', g = 1,"
                    " 'bidirectional' FROM users u JOIN tenants t ON t.id = u.tenant_id,"
                    " generate_series(1, 4) g WHERE t.name LIKE 'F%%' RETURNING id")
        ids = [r[0] for r in cur.fetchall()]
        cur.execute("ANALYZE")
    conn.close()
    return ids


def enqueue_syncs(world, cals, rounds):
    pipe = world.r.pipeline(transaction=False)
    for k in range(rounds):
        for cal in cals:
            pipe.xadd(BACKGROUND, {"type": "sync", "data": '{"job_id":"%s","calendar_id":"%s",'
                                   '"mode":"incremental"}' % (uuid.uuid4(), cal)})
    pipe.execute()


class ConnSampler(threading.Thread):
    """The most connections to the world's database seen, every 20 ms."""
    def __init__(self, db_url, dbname):
        super().__init__(daemon=True)
        self.conn = psycopg2.connect(db_url)
        self.conn.autocommit = True
        self.dbname, self.peak, self.done = dbname, 0, False

    def run(self):
        with self.conn.cursor() as cur:
            while not self.done:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                            " AND backend_type = 'client backend'"
                            " AND pid <> pg_backend_pid()", (self.dbname,))
                self.peak = max(self.peak, cur.fetchone()[0])
                time.sleep(0.02)
        self.conn.close()


def settle(world, cals):
    """The first sync of every calendar (a full pull), so that the measured ones are incremental."""
    world.r.delete("calsync:results")
    w = world.worker("warm", CALSYNC_WORKER_CONCURRENCY=256, CALSYNC_LOG_LEVEL="warn")
    enqueue_syncs(world, cals, 1)
    wait_for(lambda: world.r.xlen("calsync:results") >= len(cals), timeout=600, interval=0.1,
             what="the first syncs")
    w.terminate()
    w.wait()


def one_run(world, cals, latency, settings, label):
    world.control("latency_ms", latency)
    world.r.delete("calsync:results")
    dbname = world.db_url.rsplit("/", 1)[1].split("?")[0]
    sampler = ConnSampler(world.db_url, dbname)
    w = world.worker(f"lat{uuid.uuid4().hex[:6]}", CALSYNC_LOG_LEVEL="warn", **settings)
    time.sleep(0.5)  # let it start: its start is no sync
    sampler.start()
    n = len(cals) * ROUNDS
    cpu0, pg0, t0 = ticks(w.pid), pg_ticks(), time.monotonic()
    enqueue_syncs(world, cals, ROUNDS)
    wait_for(lambda: world.r.xlen("calsync:results") >= n, timeout=900, interval=0.02,
             what="all syncs")
    secs = time.monotonic() - t0
    cpu, pg = ticks(w.pid) - cpu0, pg_ticks() - pg0
    rss = rss_mb(w.pid)
    sampler.done = True
    sampler.join()
    w.terminate()
    w.wait()
    hz = os.sysconf("SC_CLK_TCK")
    bad = collections.Counter()
    for _id, f in world.r.xrange("calsync:results"):
        d = json.loads(f["data"])
        if f.get("type") == "sync_result" and d.get("status") != "success":
            bad[f'{d.get("status")}: {(d.get("error") or "")[:80]}'] += 1
    row(f"no-change incremental syncs/s, {latency} ms provider, {label}", f"{n / secs:,.0f}",
        "syncs/s", f"({n:,} syncs of {len(cals):,} calendars; PostgreSQL connections "
        f"{sampler.peak} at most; worker CPU {cpu / hz / n * 1e6:,.0f} us/sync, "
        f"PostgreSQL CPU {pg / hz / n * 1e6:,.0f} us/sync; RSS {rss:.0f} MB"
        f"{'; %d not success, most: %s' % (sum(bad.values()), bad.most_common(1)[0][0]) if bad else ''})")


def redis_round_trips(world, cals):
    """Commands sent to Redis per job (MONITOR; commands inside scripts are not round trips)."""
    world.control("latency_ms", 0)
    world.r.delete("calsync:results")
    w = world.worker("rt", CALSYNC_LOG_LEVEL="warn")
    time.sleep(1.0)
    mon_conn = redis.Redis.from_url(world.redis_url)
    counts, stop = {}, threading.Event()

    def watch():
        with mon_conn.monitor() as m:
            for cmd in m.listen():
                if stop.is_set():
                    return
                if cmd.get("client_type") == "lua" or "lua" in str(cmd.get("client_address")):
                    continue
                words = cmd.get("command", "").split()
                if words:   # a MONITOR line it could not parse has none
                    counts[words[0].upper()] = counts.get(words[0].upper(), 0) + 1

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    time.sleep(0.3)
    before = dict(counts)
    enqueue_syncs(world, cals[:500], 1)
    wait_for(lambda: world.r.xlen("calsync:results") >= 500, timeout=300, interval=0.05,
             what="the counted syncs")
    time.sleep(0.2)
    stop.set()
    world.r.ping()
    w.terminate()
    w.wait()
    mine = {"XLEN", "XADD", "PING", "DEL", "MONITOR"}   # the benchmark's own
    worker = {k: v - before.get(k, 0) for k, v in counts.items() if k not in mine}
    total = sum(worker.values())
    detail = ", ".join(f"{k} {v / 500:.2f}" for k, v in sorted(worker.items(), key=lambda kv: -kv[1]) if v)
    row("Redis round trips per no-change sync (500 syncs, 0 ms, defaults)", f"{total / 500:.2f}",
        "commands/job", f"({detail})")


def main():
    print("calsync latency benchmark (2 cores; measurements, not assertions)", flush=True)
    world = World(Services, BIN, redis_db=9)
    try:
        cals = calendars(world, CALENDARS)
        settle(world, cals)
        for latency in (150, 0):
            one_run(world, cals, latency, {}, "defaults")
            for conc in (64, 256, 512):
                one_run(world, cals, latency, {"CALSYNC_WORKER_CONCURRENCY": conc},
                        f"{conc} slots")
        redis_round_trips(world, cals)
    finally:
        world.stop()
    print("\n| benchmark | result | unit | notes |\n|---|---|---|---|")
    for name, value, unit, note in rows:
        print(f"| {name} | {value} | {unit} | {note} |")


if __name__ == "__main__":
    main()
