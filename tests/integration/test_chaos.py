"""test_chaos.py - the whole pool under chaos (issue 9): calsync-scheduler
(Kafka consumer and leader), three calsync-worker processes, PostgreSQL,
Redis, the Kafka broker and the Google emulator, two Google calendars of one
family. Changes are made on both sides - Hub rows written and announced on
Kafka as the backend does (contract 3), remote events added, patched and
deleted behind calsync's back - while a worker is killed with SIGKILL every
2 s and started again, Redis is restarted, the Kafka broker is restarted and
Redis is flushed (FLUSHALL). Then the changes stop and syncs are enqueued
until both sides agree with the model of chaos_helpers (or the deadline):
every live event has exactly one live copy on the other side with the
owner's last content, no duplicate, no lost deletion, nothing pending, no
job left in the queues, no conflict of any type (each event is changed on
one side only, and no two events share an hour).

One implementation for both sizes, set by the environment:
  CALSYNC_CHAOS_CHANGES   changes on both sides (default 300; `make chaos`: 10,000)
  CALSYNC_CHAOS_SECONDS   how long the changes are spread over (default 20)
  CALSYNC_CHAOS_SETTLE_S  deadline for convergence after the changes (default 120)
  CALSYNC_CHAOS_SEED      seed of the random changes (default 9)
  CALSYNC_CHAOS_DISRUPT   the disruptions besides the kills, comma-separated
                          (default and for the suite: redis-restart,kafka-restart,redis-flush;
                          fewer only to tell which one a failure follows)
The figures are printed at the end, passed or not.
"""

import collections
import os
import re
import threading
import time

from calsync_helpers import query, run_tool
from chaos_helpers import Changes, Disruptions, Pool, settle
from google_helpers import Emulator, connect_google
from pool_helpers import DEAD, World

CHANGES = int(os.environ.get("CALSYNC_CHAOS_CHANGES", "300"))
SECONDS = float(os.environ.get("CALSYNC_CHAOS_SECONDS", "20"))
SETTLE_S = float(os.environ.get("CALSYNC_CHAOS_SETTLE_S", "120"))
SEED = int(os.environ.get("CALSYNC_CHAOS_SEED", "9"))
DISRUPT = os.environ.get("CALSYNC_CHAOS_DISRUPT", "redis-restart,kafka-restart,redis-flush").split(",")
WORKERS = 3
KILL_EVERY_S = 2.0
# every provider request on events waits this long, as over a real network, so
# that a job takes long enough for a kill to land in it now and then
PROVIDER_DELAY = {"path_regex": "/events", "action": "delay", "delay_ms": 100}


def log_digest(texts, top=12):
    """The most frequent warnings, errors, failed jobs and conflicts of the logs,
    ids and numbers folded."""
    seen = collections.Counter()
    for text in texts:
        for line in text.splitlines():
            if re.search(r"\b(warn|error|fatal)\b|ended (failed|dead|retrying)|conflict", line):
                msg = re.sub(r"^\S+ \S+ ", "", line)
                msg = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\b[0-9a-v]{20,}\b|\d+", "#", msg)
                seen[msg[:160]] += 1
    return "\n".join(f"  {n:5d} x {m}" for m, n in seen.most_common(top)) or "  (none)"


def figures(changes, pool, disruptions, snap, converge_s, rounds):
    lines = [f"chaos: {sum(changes.counts.values())} changes in {changes.elapsed:.1f} s "
             f"({', '.join(f'{k} {n}' for k, n in sorted(changes.counts.items()))})",
             f"  kills (SIGKILL): {pool.kills}, {pool.in_hand} of a worker holding jobs;"
             " disruptions (start after the first change, length): " + ", ".join(f"{k} at {at:.1f} s for {n:.1f} s"
                         for k, (at, n) in disruptions.timings.items()),
             f"  converged: " + (f"after {converge_s:.1f} s ({rounds} sync rounds)" if converge_s
                                 is not None else f"NO, not within {SETTLE_S:.0f} s ({rounds} rounds)"),
             f"  conflicts (all false): {dict(snap.conflicts) or 0}; " + snap.conflict_digest()]
    for kind in ("duplicates", "lost updates", "lost deletions", "lost events", "pending", "queued"):
        items = snap.problems.get(kind, [])
        lines.append(f"  {kind}: {len(items)}" + "".join(f"\n      {p}" for p in items[:8]))
    return "\n".join(lines)


def test_chaos_converges_with_nothing_lost(services, bin_dir, tmp_path, capsys):
    emu = Emulator()
    world = World(services, bin_dir, redis_db=6)
    pool = None
    try:
        cals = dict(connect_google(world, emu) for _ in range(2))
        query(world.db_url, "UPDATE external_calendars SET is_primary = FALSE WHERE id = %s",
              (list(cals)[1],))
        pool = Pool(world, bin_dir, services, tmp_path, WORKERS)
        pool.wait_consuming(world.tenant)
        emu.faults(PROVIDER_DELAY)
        changes = Changes(world, emu, pool, cals, SEED)
        disruptions = Disruptions([d for d in [
            (0.15, 0.45, "redis-restart", lambda: services.restart("redis")),
            (0.30, 0.80, "kafka-restart", lambda: services.restart("kafka")),
            (0.60, 0.90, "redis-flush", lambda: world.r.flushall())] if d[2] in DISRUPT])
        stop_kills = threading.Event()

        def killer():
            while not stop_kills.wait(KILL_EVERY_S):  # the chaos' own rhythm
                pool.kill()
        kills = threading.Thread(target=killer, daemon=True)
        began = disruptions.began = time.monotonic()
        disruptions.start()
        kills.start()
        for i in range(CHANGES):
            ahead = began + SECONDS * i / CHANGES - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # the delay between changes that paces the load
            changes.step()
            disruptions.advance((i + 1) / CHANGES)
        changes.elapsed = time.monotonic() - began
        stop_kills.set()
        kills.join(30)
        disruptions.join(300)
        assert disruptions.error is None, f"a disruption failed: {disruptions.error!r}"
        assert pool.sender.producer.flush(120) == 0 and not pool.sender.failures
        changes.close()

        snap, converge_s, rounds, statuses = settle(world, emu, cals, changes.events, SETTLE_S)
        report = figures(changes, pool, disruptions, snap, converge_s, rounds)
        dead = sum(pool.probe not in f.get("data", "") for _, f in world.r.xrange(DEAD))
        status = run_tool(bin_dir, "status", env=world.env).stdout
        report += (f"\n  last sync statuses: {statuses}; dead letters (kept since the flush): {dead}"
                   f"\n  calsync status:\n{status}"
                   f"\n  worker and scheduler logs ({world.provider_dir}, {tmp_path}):\n"
                   + log_digest(pool.logs()))
        with capsys.disabled():
            print("\n" + report)
        assert snap.converged(), report
        assert snap.false_conflicts == 0, report
        assert statuses == ["success"] * len(cals), report
    finally:
        if pool:
            pool.stop()
        world.stop()
        emu.stop()
