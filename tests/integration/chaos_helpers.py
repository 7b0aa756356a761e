"""tests/integration/chaos_helpers.py - the pieces of the chaos test
(test_chaos.py, issue 9): a pool of the real programs, a stream of changes
on both sides with a model of what each event must end as, the disruptions
(kill -9, Redis restart, Kafka broker restart, Redis FLUSHALL) and the
convergence check that compares the model, PostgreSQL and the emulator.

Every event is changed on one side only (its owner): created on one side,
then changed and maybe deleted by its owner, which is the creating side or,
once the event has reached it, the other side. So no conflict is legitimate
(not even a time_overlap notice: no two events ever share an hour) and the
owner's last write is the content both sides must end with.
"""

import collections
import datetime
import json
import random
import threading
import time
import uuid

import psycopg2
import redis

from calsync_helpers import query, run_tool, wait_for
from pool_helpers import BACKGROUND, DEAD, INTERACTIVE, RESULTS
from test_scheduler import Scheduler, Sender, changed, create_topic

UTC = datetime.timezone.utc
ZONE = "Europe/London"
BASE = datetime.datetime(2027, 1, 4, tzinfo=UTC)
DELAYED = "calsync:delayed"
GROUP = "calsync-workers"
# Settings that let a pool recover from a kill -9 within seconds instead of
# the production 30 s, keeping a request shorter than the lock (issue 9.7).
WORKER_SETTINGS = {"CALSYNC_WORKER_CONCURRENCY": 2, "CALSYNC_CLAIM_IDLE_MS": 3000,
                   "CALSYNC_LOCK_TTL_MS": 5000, "CALSYNC_HTTP_TIMEOUT_MS": 2000,
                   "CALSYNC_RETRY_BASE_MS": 200, "CALSYNC_RETRY_MAX_MS": 2000,
                   "CALSYNC_MAX_ATTEMPTS": 10,
                   # the guard is not under test: an early pull may see most of
                   # a young calendar deleted, legitimately
                   "CALSYNC_MASS_DELETE_MIN": 1000000}


# ------------------------------------------------------------------ the pool

class Pool:
    """calsync-scheduler and `size` workers of world; kill() SIGKILLs one
    worker and starts it again under the same name, as a container
    restarted in place."""

    def __init__(self, world, bin_dir, services, tmp_path, size):
        self.world, self.size, self.probe = world, size, None
        self.kills = self.in_hand = 0
        self.kafka = {"brokers": services.env["CALSYNC_KAFKA_BROKERS"],
                      "topic": "chaos-" + uuid.uuid4().hex[:10]}
        create_topic(self.kafka, partitions=3)
        env = dict(world.env, CALSYNC_KAFKA_BROKERS=self.kafka["brokers"],
                   CALSYNC_KAFKA_TOPIC=self.kafka["topic"],
                   CALSYNC_KAFKA_GROUP=self.kafka["topic"], CALSYNC_LEADER_LEASE_MS="1000",
                   CALSYNC_SYNC_INTERVAL="5", CALSYNC_LOG_LEVEL="info")
        self.scheduler = Scheduler(bin_dir, env, tmp_path / "scheduler.log")
        self.workers = [world.worker(f"chaos-{i}", **WORKER_SETTINGS) for i in range(size)]
        self.sender = Sender(self.kafka)

    def wait_consuming(self, tenant):
        """The scheduler consumes the topic: a message for an unknown event is
        dead-lettered (the partitions are assigned, nothing is created)."""
        self.probe = probe = str(uuid.uuid4())
        self.sender.send([(tenant, changed(probe, tenant))])
        wait_for(lambda: any(probe in f.get("data", "") for _, f in self.world.r.xrange(DEAD)),
                 timeout=90, interval=0.2, what="the scheduler consuming Kafka")

    def kill(self):
        """SIGKILL a worker that holds jobs if one does (the next in turn if none)."""
        turn = [(self.kills + k) % self.size for k in range(self.size)]
        busy = [i for i in turn if self.holds_jobs(f"chaos-{i}")]
        i = (busy or turn)[0]
        self.in_hand += bool(busy)
        self.workers[i].kill()
        self.workers[i].wait()
        self.workers[i] = self.world.worker(f"chaos-{i}", **WORKER_SETTINGS)
        self.kills += 1

    def holds_jobs(self, name):
        """A thread of the process (consumer <name>-<thread>) has entries
        pending (read, not acknowledged) right now."""
        try:
            return any(c["name"].startswith(name + "-") and c["pending"]
                       for stream in (INTERACTIVE, BACKGROUND)
                       for c in self.world.r.xinfo_consumers(stream, GROUP))
        except redis.RedisError:  # no stream or group (just flushed), or Redis restarting
            return False

    def logs(self):
        """Every worker log (one per start) and the scheduler's."""
        texts = [self.world.log(i) for i in range(len(self.world.procs))]
        return texts + [self.scheduler.log()]

    def stop(self):
        self.scheduler.kill()
        self.sender.producer.flush(30)


# ------------------------------------------------------------------ the changes

class Ev:
    """One event of the model: where it lives, who may change it, what it must be."""

    def __init__(self, n, cal, origin, owner, content):
        self.n, self.cal, self.origin, self.owner = n, cal, origin, owner
        self.content, self.deleted, self.ready = content, False, origin == owner
        self.hub_id = self.remote_id = None


def slot_times(n, origin, moved=0):
    """An hour of event n that no other event ever has: Hub-created ones on
    even hours, remote-created ones on odd hours; moved: 52 weeks later per step."""
    start = BASE + datetime.timedelta(weeks=52 * moved, days=n // 12,
                                      hours=2 * (n % 12) + (origin == "remote"))
    return start, start + datetime.timedelta(hours=1)


def remote_time(t):
    return {"dateTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "timeZone": ZONE}


class Changes:
    """Random changes on both sides (seeded), applied through the backend's
    path (PostgreSQL row, then the event-changed message) and the emulator's
    control API; self.events is the model, self.counts what was applied."""

    WEIGHTS = (("create_hub", 2), ("create_remote", 2), ("update", 5), ("delete", 1))

    def __init__(self, world, emu, pool, calendars, seed):
        """calendars: {calendar id: remote id}, the primary one first."""
        self.world, self.emu, self.pool, self.cals = world, emu, pool, calendars
        self.rnd = random.Random(seed)
        self.events, self.live, self.counts, self.elapsed = [], [], collections.Counter(), 0.0
        self.db = psycopg2.connect(world.db_url)
        self.db.autocommit = True

    def close(self):
        self.db.close()

    def sql(self, text, params):
        with self.db.cursor() as cur:
            cur.execute(text, params)
            return cur.fetchall() if cur.description else None

    def publish(self, ev, op):
        self.pool.sender.send([(self.world.tenant, changed(ev.hub_id, self.world.tenant, op))],
                              flush=False)
        self.pool.sender.producer.poll(0)

    def content(self, n, origin, version, moved=0):
        start, end = slot_times(n, origin, moved)
        desc = f"note {version}" if self.rnd.random() < 0.5 else None
        return {"title": f"{origin} {n} v{version}", "description": desc,
                "location": self.rnd.choice([None, "Home", "School", "Pool"]),
                "start": start, "end": end}

    def step(self):
        kinds = [k for k, w in self.WEIGHTS for _ in range(w)]
        kind = self.rnd.choice(kinds)
        if kind in ("update", "delete") and self.change(kind):
            return
        if kind == "delete":
            kind = "update"
            if self.change(kind):
                return
        self.create(self.rnd.choice(["hub", "remote"]) if kind.startswith("update")
                    else kind.split("_")[1])

    def create(self, origin):
        n = len(self.events)
        cal = next(iter(self.cals)) if origin == "hub" else self.rnd.choice(list(self.cals))
        other = "remote" if origin == "hub" else "hub"
        ev = Ev(n, cal, origin, origin if self.rnd.random() < 0.75 else other,
                self.content(n, origin, 0))
        c = ev.content
        if origin == "hub":
            ev.hub_id = str(uuid.uuid4())
            self.sql("INSERT INTO events (id, tenant_id, created_by, title, description, location,"
                     " start_time, end_time, timezone) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                     (ev.hub_id, self.world.tenant, self.world.user, c["title"], c["description"],
                      c["location"], c["start"], c["end"], ZONE))
            self.publish(ev, "created")
        else:
            body = {"summary": c["title"], "start": remote_time(c["start"]),
                    "end": remote_time(c["end"])}
            body.update({k: c[k] for k in ("description", "location") if c[k]})
            ev.remote_id = self.emu.add(self.cals[cal], body)[0]["id"]
        self.events.append(ev)
        self.live.append(ev)
        self.counts["create " + origin] += 1

    def change(self, kind):
        """Update or delete a live event whose owner may act now; False: none found."""
        for ev in self.rnd.sample(self.live, min(len(self.live), 5)):
            if self.is_ready(ev):
                getattr(self, f"{kind}_{ev.owner}")(ev)
                self.counts[f"{kind} {ev.owner}"] += 1
                return True
        return False

    def is_ready(self, ev):
        """The owner may change ev: it created it, or ev has reached it and is settled."""
        if not ev.ready and ev.owner == "hub":
            row = self.sql("SELECT event_id::text FROM calendar_event_mappings"
                           " WHERE external_calendar_id = %s AND external_event_id = %s",
                           (ev.cal, ev.remote_id))
            if row:
                ev.hub_id, ev.ready = row[0][0], True
        elif not ev.ready:
            row = self.sql("SELECT m.external_event_id FROM calendar_event_mappings m"
                           " JOIN events e ON e.id = m.event_id WHERE m.event_id = %s"
                           " AND m.external_calendar_id = %s AND m.last_synced_at >= e.updated_at",
                           (ev.hub_id, ev.cal))
            if row:
                ev.remote_id, ev.ready = row[0][0], True
        return ev.ready

    def next_content(self, ev):
        version = int(ev.content["title"].rsplit("v", 1)[1]) + 1
        c = self.content(ev.n, ev.origin, version, moved=self.rnd.choice([0, 0, 1, 2]))
        ev.content = c
        return c

    def update_hub(self, ev):
        c = self.next_content(ev)
        self.sql("UPDATE events SET title = %s, description = %s, location = %s, start_time = %s,"
                 " end_time = %s, updated_at = now() WHERE id = %s",
                 (c["title"], c["description"], c["location"], c["start"], c["end"], ev.hub_id))
        self.publish(ev, "updated")

    def update_remote(self, ev):
        c = self.next_content(ev)
        self.emu.patch(self.cals[ev.cal], ev.remote_id, summary=c["title"],
                       description=c["description"], location=c["location"],
                       start=remote_time(c["start"]), end=remote_time(c["end"]))

    def gone(self, ev):
        ev.deleted = True
        self.live.remove(ev)

    def delete_hub(self, ev):
        self.gone(ev)
        self.sql("UPDATE events SET deleted_at = now(), updated_at = now() WHERE id = %s",
                 (ev.hub_id,))
        self.publish(ev, "deleted")

    def delete_remote(self, ev):
        self.gone(ev)
        self.emu.delete(self.cals[ev.cal], ev.remote_id)


# ------------------------------------------------------------------ the disruptions

class Disruptions(threading.Thread):
    """Runs each (start, due, name, action) once the changes reach `start`
    (a share of them); the changes wait at `due` until it is done, so every
    disruption happens while changes are still being made."""

    def __init__(self, plan):
        super().__init__(daemon=True)
        self.plan = plan
        self.progress = 0.0
        self.moved = threading.Condition()
        self.done = {name: threading.Event() for _, _, name, _ in plan}
        self.timings, self.error, self.began = {}, None, time.monotonic()

    def advance(self, share):
        with self.moved:
            self.progress = share
            self.moved.notify_all()
        for _, due, name, _ in self.plan:
            if share >= due and not self.done[name].wait(300):
                raise AssertionError(f"disruption {name} did not end within 300 s")

    def run(self):
        try:
            for start, _, name, action in self.plan:
                with self.moved:
                    self.moved.wait_for(lambda: self.progress >= start)
                began = time.monotonic()
                action()
                self.timings[name] = (began - self.began, time.monotonic() - began)
                self.done[name].set()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
            for ev in self.done.values():
                ev.set()


# ------------------------------------------------------------------ the check

def normal(v):
    return v or None


def remote_content(item):
    return {"title": normal(item.get("summary")), "description": normal(item.get("description")),
            "location": normal(item.get("location")),
            "start": datetime.datetime.fromisoformat(item["start"]["dateTime"]).astimezone(UTC),
            "end": datetime.datetime.fromisoformat(item["end"]["dateTime"]).astimezone(UTC)}


def model_content(c):
    return {k: normal(v) for k, v in c.items()}


class Snapshot:
    """PostgreSQL, Redis and the emulator at one moment, compared with the model."""

    def __init__(self, world, emu, calendars, events):
        self.problems = collections.defaultdict(list)
        url = world.db_url
        hub = query(url, "SELECT id::text, title, description, location, start_time, end_time,"
                         " deleted_at IS NOT NULL, updated_at FROM events WHERE tenant_id = %s",
                    (world.tenant,))
        self.hub = {r[0]: r for r in hub}
        maps = query(url, "SELECT event_id::text, external_calendar_id::text, external_event_id,"
                          " is_deleted, last_synced_at FROM calendar_event_mappings")
        self.by_event = {(m[0], m[1]): m for m in maps}
        self.by_remote = {(m[1], m[2]): m for m in maps}
        self.remote = {cal: {i["id"]: i for i in emu.events(rid, live_only=False)}
                       for cal, rid in calendars.items()}
        # every conflict is a false one here (see the top of this file)
        self.false = query(url, "SELECT conflict_type, local_data, external_data FROM"
                                " calendar_conflicts WHERE tenant_id = %s ORDER BY created_at",
                           (world.tenant,))
        self.conflicts = collections.Counter(t for t, _, _ in self.false)
        self.compare(events)
        self.duplicates(events)
        self.queues(world.r)

    def note(self, kind, ev, detail=""):
        self.problems[kind].append(f"{ev.origin} {ev.n} ({ev.owner}-owned) {detail}".strip())

    def compare(self, events):
        for ev in events:
            hub_id = ev.hub_id or (self.by_remote.get((ev.cal, ev.remote_id)) or [None])[0]
            m = self.by_event.get((hub_id, ev.cal))
            remote_id = ev.remote_id or (m[2] if m else None)
            row, item = self.hub.get(hub_id), self.remote[ev.cal].get(remote_id)
            hub_live = row is not None and not row[6]
            remote_live = item is not None and item.get("status") != "cancelled"
            if ev.deleted:
                if hub_live or remote_live:
                    self.note("lost deletions", ev, "live in the " + ("Hub" if hub_live else "remote"))
                if row is not None and row[6] and m and not m[3]:
                    self.note("pending", ev, "tombstone not marked pushed")
                continue
            want = model_content(ev.content)
            for side, live, got in (("Hub", hub_live, row and dict(zip(want, row[1:6]))),
                                    ("remote", remote_live, remote_live and remote_content(item))):
                if not live:
                    self.note("lost events", ev, "missing or deleted in the " + side)
                elif model_content(got) != want:
                    self.note("lost updates", ev, f"{side} has {got['title']!r}, want {want['title']!r}")
            if hub_live and (m is None or m[4] is None or m[4] < row[7]):
                self.note("pending", ev, "mapping behind the Hub event")

    def duplicates(self, events):
        """Live events on either side that are no copy of a model event, and
        remote events stamped with the same Hub id (one copy per event)."""
        remote_ids = {(e.cal, e.remote_id) for e in events}
        known_hub = {e.hub_id for e in events} | {m[0] for k, m in self.by_remote.items()
                                                   if k in remote_ids}
        for hub_id, row in self.hub.items():
            if not row[6] and hub_id not in known_hub:
                self.problems["duplicates"].append(f"Hub event {hub_id} ({row[1]!r}) not in the model")
        stamps = collections.Counter()
        for cal, items in self.remote.items():
            for rid, item in items.items():
                if item.get("status") == "cancelled":
                    continue
                stamp = item.get("extendedProperties", {}).get("private", {}).get("familyhub_event_id")
                stamps[stamp] += stamp is not None
                if (cal, rid) not in remote_ids and stamp not in known_hub:
                    self.problems["duplicates"].append(f"remote {rid} ({item.get('summary')!r})"
                                                       " not in the model")
        for stamp, n in stamps.items():
            if n > 1:
                self.problems["duplicates"].append(f"{n} remote copies of Hub event {stamp}")

    def queues(self, r):
        for stream in (INTERACTIVE, BACKGROUND):
            groups = {g["name"]: g for g in r.xinfo_groups(stream)} if r.exists(stream) else {}
            g = groups.get(GROUP)
            if g is None or g["pending"] or g.get("lag"):
                self.problems["queued"].append(f"{stream}: {g and (g['pending'], g.get('lag'))}")
        if r.zcard(DELAYED):
            self.problems["queued"].append(f"{DELAYED}: {r.zcard(DELAYED)}")

    @property
    def false_conflicts(self):
        return len(self.false)

    def conflict_digest(self, top=5):
        """The false conflicts by what they stored of the remote copy: nothing
        of its content (a stub), content equal to the Hub's, or different."""
        def fields(d):
            out = [normal(d.get(k)) for k in ("title", "description", "location")]
            for k in ("start", "end"):
                try:
                    out.append(datetime.datetime.fromisoformat(d[k]).astimezone(UTC))
                except (KeyError, TypeError, ValueError):
                    out.append(d.get(k))
            return out
        kinds = collections.Counter(
            "stub" if "title" not in (ext or {}) else
            "equal" if fields(loc or {}) == fields(ext) else "differing"
            for _, loc, ext in self.false)
        shown = [f"{t}: Hub {(loc or {}).get('title')!r}, remote "
                 + (repr(ext["title"]) if "title" in (ext or {}) else f"a stub of {sorted(ext or {})}")
                 for t, loc, ext in self.false[:top]]
        return (f"remote copy stored as a stub {kinds['stub']}, equal to the Hub's "
                f"{kinds['equal']}, differing {kinds['differing']}"
                + "".join("\n      " + s for s in shown))

    def converged(self):
        return not self.problems


def settle(world, emu, calendars, events, deadline_s):
    """Sync rounds until the snapshot converged or deadline_s passed; the
    last snapshot, the seconds it took (None: not converged), the number of
    rounds and the statuses of the last round's syncs."""
    began, rounds = time.monotonic(), 0
    while True:
        left = began + deadline_s - time.monotonic()
        try:
            statuses = [r["status"] for r in sync_round(world, calendars, timeout=max(left, 5))]
        except AssertionError:
            statuses = ["no result"]
        rounds += 1
        snap = Snapshot(world, emu, calendars, events)
        if snap.converged():
            return snap, time.monotonic() - began, rounds, statuses
        if left <= 0:
            return snap, None, rounds, statuses


def sync_round(world, calendars, timeout):
    """`calsync enqueue sync` for each calendar; their results once ended."""
    last = world.r.xrevrange(RESULTS, count=1)
    since = last[0][0] if last else "-"
    jobs = {run_tool(world.bin_dir, "enqueue", "sync", cal, env=world.env, check=True).stdout.strip()
            for cal in calendars}

    def ended():
        found = {}
        for _, f in world.r.xrange(RESULTS, min=since):
            d = json.loads(f["data"])
            if f.get("type") == "sync_result" and d.get("job_id") in jobs \
                    and d["status"] != "retrying":
                found[d["job_id"]] = d
        return list(found.values()) if len(found) == len(jobs) else None
    return wait_for(ended, timeout=timeout, interval=0.2, what="the settling syncs")
