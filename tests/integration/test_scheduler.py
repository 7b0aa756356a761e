"""test_scheduler.py - calsync-scheduler against real PostgreSQL, Redis and Kafka:
periodic and nightly sync jobs, the leader lease, Kafka event-changed messages
turned into push jobs (or dead letters), at-least-once across broker restarts
and Redis outages, reconcile after Redis lost everything, retries and trimming.

Each test gets a fresh database, its own Kafka topic and group, and Redis
database 5 (emptied before and after; other suites use database 0). Tests that
restart or stop a shared service bring it back before they end. Waiting is
always polling with a deadline; "several ticks" are counted in the
scheduler's debug log, not slept through.
"""

import json
import os
import pathlib
import signal
import subprocess
import threading
import time
import uuid

import pytest
import redis
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from calsync_helpers import fresh_database, query, run_tool, wait_for

REPO = pathlib.Path(__file__).resolve().parents[2]
REDIS_DB = 5
LEASE_MS = 1000
LEADER_KEY = "calsync:scheduler:leader"
INTERACTIVE = "calsync:jobs:interactive"
BACKGROUND = "calsync:jobs:background"
OCCURRED = "2026-11-25T10:00:00Z"


# ------------------------------------------------------------------ fixtures

def redis_url(services):
    return services.env["CALSYNC_REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"


@pytest.fixture
def rdb(services):
    """Redis database 5, empty; Redis itself running again at the end."""
    r = redis.Redis.from_url(redis_url(services), decode_responses=True, socket_timeout=10)
    r.flushdb()
    yield r
    if services.pid("redis") is None:
        services.restart("redis")
    redis.Redis.from_url(redis_url(services), socket_timeout=10).flushdb()


@pytest.fixture
def db(services, bin_dir):
    url = fresh_database(services)
    run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url,
                                      "CALSYNC_MIGRATIONS_DIR": str(REPO / "migrations")},
             check=True)
    return url


@pytest.fixture
def kafka(services):
    """This test's topic and consumer group (the topic is not created here);
    the broker running again at the end."""
    tag = uuid.uuid4().hex[:10]
    yield {"brokers": services.env["CALSYNC_KAFKA_BROKERS"],
           "topic": f"sched-test-{tag}", "group": f"sched-test-{tag}"}
    if services.pid("kafka") is None:
        services.restart("kafka")


class Scheduler:
    """One calsync-scheduler process with its log in a file."""

    def __init__(self, bin_dir, env, log_path):
        self.log_path = log_path
        full_env = dict(os.environ)
        full_env.update(env)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen([str(bin_dir / "calsync-scheduler")], env=full_env,
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def count(self, text):
        return self.log().count(text)

    def wait_log(self, text, count=1, timeout=30):
        wait_for(lambda: self.count(text) >= count, timeout=timeout,
                 what=f"{count} x '{text}' in {self.log_path}")

    def stop(self, timeout=10):
        """SIGTERM; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def start_scheduler(bin_dir, services, tmp_path, db, kafka):
    """start_scheduler(**env) -> Scheduler; every one is killed at the end."""
    started = []

    def start(**extra):
        env = {"CALSYNC_DATABASE_URL": db, "CALSYNC_REDIS_URL": redis_url(services),
               "CALSYNC_KAFKA_BROKERS": services.env["CALSYNC_KAFKA_BROKERS"],
               "CALSYNC_KAFKA_TOPIC": kafka["topic"], "CALSYNC_KAFKA_GROUP": kafka["group"],
               "CALSYNC_LEADER_LEASE_MS": str(LEASE_MS), "CALSYNC_LOG_LEVEL": "debug"}
        env.update({k: str(v) for k, v in extra.items()})
        s = Scheduler(bin_dir, env, tmp_path / f"scheduler-{len(started)}.log")
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


# ------------------------------------------------------------------ data

def new_tenant(db, tz="UTC"):
    tid = str(uuid.uuid4())
    query(db, "INSERT INTO tenants (id, name, timezone) VALUES (%s, 'family', %s)", (tid, tz))
    return tid


def new_user(db, tenant):
    uid = str(uuid.uuid4())
    query(db, "INSERT INTO users (id, tenant_id, email) VALUES (%s, %s, %s)",
          (uid, tenant, f"{uid[:8]}@example.org"))
    return uid


def new_calendar(db, tenant, user, direction="bidirectional", primary=False, active=True):
    cid = str(uuid.uuid4())
    query(db, "INSERT INTO external_calendars (id, tenant_id, user_id, provider,"
              " provider_calendar_id, sync_direction, is_primary, is_active)"
              " VALUES (%s, %s, %s, 'google', %s, %s, %s, %s)",
          (cid, tenant, user, cid, direction, primary, active))
    return cid


def set_state(db, calendar, sync_ago=None, full_ago=None):
    """A sync state row; *_ago in seconds before now, None for NULL."""
    query(db, "INSERT INTO calendar_sync_states (external_calendar_id, last_sync_at,"
              " last_full_sync_at) VALUES (%s,"
              " CASE WHEN %s::float IS NULL THEN NULL ELSE now() - %s::float * interval '1 second' END,"
              " CASE WHEN %s::float IS NULL THEN NULL ELSE now() - %s::float * interval '1 second' END)"
              " ON CONFLICT (external_calendar_id) DO UPDATE"
              " SET last_sync_at = EXCLUDED.last_sync_at, last_full_sync_at = EXCLUDED.last_full_sync_at",
          (calendar, sync_ago, sync_ago, full_ago, full_ago))


def new_event(db, tenant, updated_ago=120, deleted=False, series=None):
    eid = str(uuid.uuid4())
    query(db, "INSERT INTO events (id, tenant_id, title, start_time, end_time, updated_at,"
              " deleted_at, recurring_event_id)"
              " VALUES (%s, %s, 'event', now(), now() + interval '1 hour',"
              " now() - %s * interval '1 second',"
              " CASE WHEN %s THEN now() - %s * interval '1 second' END, %s)",
          (eid, tenant, updated_ago, deleted, updated_ago, series))
    return eid


def new_mapping(db, event, calendar, direction, synced_after_update=True, is_deleted=False):
    """A mapping synced just after (or a minute before) the event's last change."""
    query(db, "INSERT INTO calendar_event_mappings (event_id, external_calendar_id,"
              " external_event_id, sync_direction, is_deleted, last_synced_at)"
              " SELECT %s, %s, %s, %s, %s,"
              " e.updated_at + CASE WHEN %s THEN interval '1 second' ELSE interval '-1 minute' END"
              " FROM events e WHERE e.id = %s",
          (event, calendar, "remote-" + event, direction, is_deleted, synced_after_update, event))


# ------------------------------------------------------------------ redis and kafka

def entries(r, stream, type_=None):
    """[(entry id, type, data dict)] of a stream."""
    out = []
    for entry_id, fields in r.xrange(stream):
        if type_ is None or fields.get("type") == type_:
            out.append((entry_id, fields.get("type"), json.loads(fields.get("data", "{}"))))
    return out


def sync_jobs(r, mode):
    return [d for _, _, d in entries(r, BACKGROUND, "sync") if d["mode"] == mode]


def push_pairs(r):
    """Sorted (calendar, event) pairs of the push jobs on the interactive stream."""
    return sorted((d["calendar_id"], d["event_id"]) for _, _, d in entries(r, INTERACTIVE, "push"))


def has_groups(r):
    try:
        return all(any(g["name"] == "calsync-workers" for g in r.xinfo_groups(s))
                   for s in (INTERACTIVE, BACKGROUND))
    except redis.ResponseError:
        return False


def create_topic(kafka, partitions=1):
    admin = AdminClient({"bootstrap.servers": kafka["brokers"]})
    for future in admin.create_topics([NewTopic(kafka["topic"], partitions, 1)]).values():
        future.result(30)


class Sender:
    """A Kafka producer that remembers every failed delivery."""

    def __init__(self, kafka):
        self.topic = kafka["topic"]
        self.producer = Producer({"bootstrap.servers": kafka["brokers"],
                                  "enable.idempotence": True, "message.timeout.ms": 120000})
        self.failures = []

    def _delivered(self, err, msg):
        if err is not None:
            self.failures.append(err)

    def send(self, messages, flush=True):
        """Send [(key, value)] (str or bytes); with flush, wait for every delivery."""
        for key, value in messages:
            self.producer.produce(self.topic, key=key, value=value, on_delivery=self._delivered)
            self.producer.poll(0)
        if flush:
            assert self.producer.flush(120) == 0, "messages still undelivered"
            assert not self.failures, self.failures


def produce(kafka, messages):
    Sender(kafka).send(messages)


def changed(event, tenant, op="updated"):
    return json.dumps({"event_id": event, "tenant_id": tenant, "op": op,
                       "occurred_at": OCCURRED})


def committed(kafka, partition=0):
    c = Consumer({"bootstrap.servers": kafka["brokers"], "group.id": kafka["group"],
                  "enable.auto.commit": False})
    try:
        return c.committed([TopicPartition(kafka["topic"], partition)], timeout=10)[0].offset
    finally:
        c.close()


# ------------------------------------------------------------------ periodic and nightly

def test_due_calendars_get_exactly_one_sync_job(db, rdb, start_scheduler):
    tenant = new_tenant(db)
    user = new_user(db, tenant)
    no_state = new_calendar(db, tenant, user)
    never = new_calendar(db, tenant, user)
    old = new_calendar(db, tenant, user)
    fresh = new_calendar(db, tenant, user)
    inactive = new_calendar(db, tenant, user, active=False)
    set_state(db, never, sync_ago=None, full_ago=0)
    set_state(db, old, sync_ago=3600, full_ago=0)
    set_state(db, fresh, sync_ago=10, full_ago=0)
    set_state(db, inactive, sync_ago=None, full_ago=0)
    due = sorted([no_state, never, old])

    s = start_scheduler(CALSYNC_SYNC_INTERVAL=900)
    wait_for(lambda: has_groups(rdb), what="consumer groups on both job streams")
    wait_for(lambda: len(sync_jobs(rdb, "incremental")) >= 3, what="three sync jobs")
    ticks = s.count("periodic sync tick")
    s.wait_log("periodic sync tick", count=ticks + 3)
    jobs = sync_jobs(rdb, "incremental")
    assert sorted(j["calendar_id"] for j in jobs) == due
    for j in jobs:
        assert uuid.UUID(j["job_id"]) and j["dedup"] == f"calsync:queued:sync:{j['calendar_id']}"
        assert 0 < rdb.ttl(j["dedup"]) <= 6 * 3600
    assert "leader lease acquired" in s.log()

    # A worker finished `old` (state updated, key deleted): nothing more for it.
    # `never` lost its key but is still due: it gets a second job.
    set_state(db, old, sync_ago=0, full_ago=0)
    rdb.delete(f"calsync:queued:sync:{old}", f"calsync:queued:sync:{never}")
    wait_for(lambda: len(sync_jobs(rdb, "incremental")) == 4, what="a new job for `never`")
    ticks = s.count("periodic sync tick")
    s.wait_log("periodic sync tick", count=ticks + 2)
    ids = sorted(j["calendar_id"] for j in sync_jobs(rdb, "incremental"))
    assert ids == sorted(due + [never])
    assert s.stop() == 0


def pick_nightly_setup(db):
    """An hour H and zones whose local time is past H:00 today / not yet at H:00
    (each at least a few minutes away from H:00 and from midnight)."""
    zones = ["Pacific/Kiritimati", "Pacific/Auckland", "Asia/Tokyo", "Asia/Kolkata",
             "Europe/Berlin", "UTC", "America/Sao_Paulo", "America/New_York",
             "America/Los_Angeles", "Pacific/Honolulu", "Pacific/Pago_Pago"]
    rows = query(db, "SELECT z, extract(hour FROM now() AT TIME ZONE z) * 60"
                     " + extract(minute FROM now() AT TIME ZONE z) FROM unnest(%s::text[]) z",
                 (zones,))
    minutes = {z: int(m) for z, m in rows}
    for hour in range(1, 24):
        if abs(minutes["UTC"] - hour * 60) < 5:
            continue
        past = [z for z, m in minutes.items() if hour * 60 + 3 <= m <= 23 * 60 + 50]
        before = [z for z, m in minutes.items() if 10 <= m <= hour * 60 - 5]
        if past and before:
            return hour, past[0], before[0], minutes["UTC"] >= hour * 60
    pytest.fail(f"no usable hour for local times {minutes}")


def test_nightly_full_sync_once_after_the_local_boundary(db, rdb, start_scheduler):
    hour, tz_past, tz_before, utc_past = pick_nightly_setup(db)
    past = new_tenant(db, tz_past)
    before = new_tenant(db, tz_before)
    bogus = new_tenant(db, "Mars/Olympus_Mons")  # unknown zone: counts as UTC
    u_past, u_before, u_bogus = new_user(db, past), new_user(db, before), new_user(db, bogus)
    never = new_calendar(db, past, u_past)
    yesterday = new_calendar(db, past, u_past)
    done = new_calendar(db, past, u_past)
    waiting = new_calendar(db, before, u_before)
    in_bogus = new_calendar(db, bogus, u_bogus)
    set_state(db, never, sync_ago=0, full_ago=None)
    set_state(db, yesterday, sync_ago=0, full_ago=25 * 3600)
    set_state(db, done, sync_ago=0, full_ago=60)
    set_state(db, waiting, sync_ago=0, full_ago=None)
    set_state(db, in_bogus, sync_ago=0, full_ago=None)
    expected = sorted([never, yesterday] + ([in_bogus] if utc_past else []))

    s = start_scheduler(CALSYNC_NIGHTLY_HOUR=hour)
    wait_for(lambda: len(sync_jobs(rdb, "full")) >= len(expected), what="nightly jobs")
    s.wait_log("nightly full sync tick")
    jobs = sync_jobs(rdb, "full")
    assert sorted(j["calendar_id"] for j in jobs) == expected
    assert all(j["dedup"] == f"calsync:queued:full:{j['calendar_id']}" for j in jobs)
    assert not sync_jobs(rdb, "incremental")

    # The worker completed `never` (last_full_sync_at set, key deleted);
    # `yesterday` is still queued. A new leader's first tick adds nothing.
    set_state(db, never, sync_ago=0, full_ago=0)
    rdb.delete(f"calsync:queued:full:{never}")
    assert s.stop() == 0
    s2 = start_scheduler(CALSYNC_NIGHTLY_HOUR=hour)
    s2.wait_log("nightly full sync tick")
    assert sorted(j["calendar_id"] for j in sync_jobs(rdb, "full")) == expected
    assert s2.stop() == 0


# ------------------------------------------------------------------ leader lease

def leader_pid(r):
    value = r.get(LEADER_KEY)
    return int(value.split(":")[-2]) if value else None


def test_one_leader_and_failover_after_kill9(db, rdb, start_scheduler):
    tenant = new_tenant(db)
    cal = new_calendar(db, tenant, new_user(db, tenant))
    set_state(db, cal, sync_ago=None, full_ago=0)
    s1, s2 = start_scheduler(), start_scheduler()
    by_pid = {s1.pid: s1, s2.pid: s2}
    first = wait_for(lambda: leader_pid(rdb), what="a leader")
    assert first in by_pid
    leader, follower = by_pid[first], by_pid[s1.pid + s2.pid - first]
    wait_for(lambda: sync_jobs(rdb, "incremental"), what="the leader's sync job")
    # Over several renewals the lease stays with the same instance.
    ticks = leader.count("periodic sync tick")
    leader.wait_log("periodic sync tick", count=ticks + 2)
    assert leader_pid(rdb) == first and 0 < rdb.pttl(LEADER_KEY) <= LEASE_MS
    assert leader.count("leader lease acquired") == 1
    assert follower.count("leader lease acquired") == 0
    assert follower.count("periodic sync tick") == 0
    assert len(sync_jobs(rdb, "incremental")) == 1

    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(timeout=10)
    killed_at = time.monotonic()
    wait_for(lambda: leader_pid(rdb) == follower.pid, timeout=10, interval=0.01,
             what="the follower taking the lease")
    took = time.monotonic() - killed_at
    assert took <= LEASE_MS / 1000 + 0.5, f"took over after {took:.2f} s"
    follower.wait_log("periodic sync tick")
    assert len(sync_jobs(rdb, "incremental")) == 1  # dedup across leaders

    began = time.monotonic()
    assert follower.stop() == 0
    assert time.monotonic() - began < 3
    assert rdb.get(LEADER_KEY) is None
    log = follower.log()
    assert "leader lease released" in log and "Kafka consumer closed" in log


# ------------------------------------------------------------------ kafka

def test_kafka_message_pushes_to_every_target(db, rdb, kafka, start_scheduler):
    tenant = new_tenant(db)
    u1, u2, u3 = new_user(db, tenant), new_user(db, tenant), new_user(db, tenant)
    g1 = new_calendar(db, tenant, u1, primary=True)
    g2 = new_calendar(db, tenant, u1)
    new_calendar(db, tenant, u1, primary=True, active=False)
    o1 = new_calendar(db, tenant, u2, direction="push_only")     # u2's only push-capable one
    p1 = new_calendar(db, tenant, u2, direction="pull_only", primary=True)
    new_calendar(db, tenant, u3, direction="pull_only", primary=True)
    other = new_tenant(db)
    new_calendar(db, other, new_user(db, other), primary=True)

    hub = new_event(db, tenant, updated_ago=0)
    pulled = new_event(db, tenant, updated_ago=0)
    new_mapping(db, pulled, g2, "from_external")
    override = new_event(db, tenant, updated_ago=0, series=pulled)
    from_pull_only = new_event(db, tenant, updated_ago=0)
    new_mapping(db, from_pull_only, p1, "from_external")
    copied = new_event(db, tenant, updated_ago=0)
    new_mapping(db, copied, g2, "to_external")
    tombstone = new_event(db, tenant, updated_ago=0, deleted=True)
    sentinel = new_event(db, tenant, updated_ago=0)
    expected = {hub: {g1, o1}, pulled: {g2}, override: {g2}, copied: {g1, o1, g2},
                tombstone: {g1, o1}, sentinel: {g1, o1}}

    s = start_scheduler()  # the topic does not exist yet
    s.wait_log("does not exist (yet)")
    produce(kafka, [(tenant, changed(hub, tenant, "created")), (tenant, changed(pulled, tenant)),
                    (tenant, changed(override, tenant)), (tenant, changed(from_pull_only, tenant)),
                    (tenant, changed(copied, tenant)),
                    (tenant, changed(tombstone, tenant, "deleted")),
                    (tenant, changed(sentinel, tenant))])
    wait_for(lambda: {c for c, e in push_pairs(rdb) if e == sentinel} == expected[sentinel],
             timeout=60, what="the push jobs of the last message")
    got = {}
    for _, _, d in entries(rdb, INTERACTIVE, "push"):
        assert set(d) == {"job_id", "calendar_id", "event_id"} and uuid.UUID(d["job_id"])
        got.setdefault(d["event_id"], set()).add(d["calendar_id"])
    assert got == expected  # nothing for the event of the pull-only calendar
    assert "-> 0 push job(s)" in s.log()
    assert not entries(rdb, "calsync:dead")


def test_bad_messages_are_dead_lettered_and_do_not_block(db, rdb, kafka, start_scheduler):
    tenant, other = new_tenant(db), new_tenant(db)
    cal = new_calendar(db, tenant, new_user(db, tenant))
    event, foreign = new_event(db, tenant, updated_ago=0), new_event(db, other, updated_ago=0)
    unknown = str(uuid.uuid4())
    create_topic(kafka)
    bad = [
        (tenant, "not json{", "not valid JSON"),
        (tenant, json.dumps({"event_id": "42", "tenant_id": tenant, "op": "created",
                             "occurred_at": OCCURRED}), "event_id is not a UUID"),
        (None, json.dumps({"event_id": event, "tenant_id": tenant, "op": "moved",
                           "occurred_at": OCCURRED}), "op is not one of"),
        (tenant, changed(unknown, tenant), f"event {unknown} not found"),
        (tenant, changed(foreign, tenant), f"event {foreign} does not belong to tenant"),
        (tenant, b"\xff\xfe{", "not valid JSON"),
    ]
    s = start_scheduler()
    produce(kafka, [(k, v) for k, v, _ in bad] + [(tenant, changed(event, tenant))])
    wait_for(lambda: push_pairs(rdb) == [(cal, event)], timeout=60, what="the good message's job")
    dead = entries(rdb, "calsync:dead")
    assert [t for _, t, _ in dead] == ["dead_letter"] * len(bad)
    for offset, ((key, value, reason), (_, _, d)) in enumerate(zip(bad, dead)):
        assert reason in d["reason"], (d["reason"], reason)
        assert d["source"] == "kafka" and d["topic"] == kafka["topic"]
        assert d["partition"] == 0 and d["offset"] == offset and d["dead_at"].endswith("Z")
        assert d["key"] == key
        assert d["value"] == (value if isinstance(value, str) else "\ufffd\ufffd{")
    wait_for(lambda: committed(kafka) == len(bad) + 1, what="all offsets committed")
    began = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - began < 3, "SIGTERM with partitions assigned took long"
    assert "Kafka consumer closed" in s.log()


def test_broker_restart_loses_no_message(db, rdb, kafka, services, start_scheduler):
    tenant = new_tenant(db)
    cal = new_calendar(db, tenant, new_user(db, tenant), primary=True)
    create_topic(kafka, partitions=3)
    start_scheduler()
    events = [new_event(db, tenant, updated_ago=0) for _ in range(5)]
    sender = Sender(kafka)
    sender.send([(tenant, changed(e, tenant)) for e in events])
    wait_for(lambda: len(push_pairs(rdb)) == 5, timeout=60, what="the first jobs")

    # Keep producing, one message every 50 ms, while the broker stops and starts.
    restart = threading.Thread(target=services.restart, args=("kafka",))
    restart.start()
    try:
        while restart.is_alive():
            events.append(new_event(db, tenant, updated_ago=0))
            sender.send([(tenant, changed(events[-1], tenant))], flush=False)
            sender.producer.poll(0.05)
    finally:
        restart.join(180)
    more = [new_event(db, tenant, updated_ago=0) for _ in range(5)]
    events += more
    sender.send([(tenant, changed(e, tenant)) for e in more])
    assert len(events) > 20, "the restart was too quick to produce during it"
    wait_for(lambda: {e for _, e in push_pairs(rdb)} == set(events), timeout=120,
             what="a push job for every message")
    assert all(c == cal for c, _ in push_pairs(rdb))


def test_offset_not_committed_while_redis_is_down(db, rdb, kafka, services, start_scheduler):
    tenant = new_tenant(db)
    cal = new_calendar(db, tenant, new_user(db, tenant), primary=True)
    first, second = new_event(db, tenant, updated_ago=0), new_event(db, tenant, updated_ago=0)
    create_topic(kafka)
    s = start_scheduler()
    produce(kafka, [(tenant, changed(first, tenant))])
    wait_for(lambda: push_pairs(rdb) == [(cal, first)], timeout=60, what="the first job")
    wait_for(lambda: committed(kafka) == 1, what="offset 1 committed")

    services.kill("redis")
    produce(kafka, [(tenant, changed(second, tenant))])
    s.wait_log(f"message at {kafka['topic']}/0/1 kept in hand")
    # Several commit intervals (1 s) pass: the offset stays where it was.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert committed(kafka) == 1
        time.sleep(0.2)  # poll: the offset must hold until the deadline

    services.restart("redis")
    r = redis.Redis.from_url(redis_url(services), decode_responses=True, socket_timeout=10)
    wait_for(lambda: (cal, second) in push_pairs(r), timeout=30, what="the held message's job")
    wait_for(lambda: committed(kafka) == 2, what="offset 2 committed")
    assert "handled after waiting" in s.log()


# ------------------------------------------------------------------ reconcile, retries, trimming

def test_redis_flush_then_reconcile_finds_the_work_again(db, rdb, services, start_scheduler):
    tenant = new_tenant(db)
    u1, u2 = new_user(db, tenant), new_user(db, tenant)
    g1 = new_calendar(db, tenant, u1, primary=True)
    g2 = new_calendar(db, tenant, u1)
    o1 = new_calendar(db, tenant, u2)
    for c in (g1, g2, o1):
        set_state(db, c, sync_ago=0, full_ago=0)
    due = new_calendar(db, tenant, new_user(db, tenant), direction="pull_only")
    set_state(db, due, sync_ago=None, full_ago=0)

    unpushed = new_event(db, tenant)                     # -> g1, o1
    synced = new_event(db, tenant)                       # up to date: nothing
    new_mapping(db, synced, g1, "to_external")
    new_mapping(db, synced, o1, "to_external")
    stale = new_event(db, tenant)                        # changed since pushed to g1
    new_mapping(db, stale, g1, "to_external", synced_after_update=False)
    new_mapping(db, stale, o1, "to_external")
    tomb = new_event(db, tenant, deleted=True)           # g1 copy still there
    new_mapping(db, tomb, g1, "to_external")
    new_mapping(db, tomb, o1, "to_external", is_deleted=True)
    new_event(db, tenant, deleted=True)                  # never pushed: nothing
    pulled = new_event(db, tenant)                       # edited in the Hub -> back to g2
    new_mapping(db, pulled, g2, "from_external", synced_after_update=False)
    fresh = new_event(db, tenant, updated_ago=0)         # left to the Kafka path for now
    # 2500 events pushed everywhere already: the pass spans several chunks of 1000.
    query(db, "WITH e AS (INSERT INTO events (tenant_id, title, start_time, end_time, updated_at)"
              " SELECT %s, 'old', now(), now(), now() - interval '1 day'"
              " FROM generate_series(1, 2500) RETURNING id)"
              " INSERT INTO calendar_event_mappings (event_id, external_calendar_id,"
              " external_event_id, sync_direction, last_synced_at)"
              " SELECT e.id, c, e.id::text || c::text, 'to_external', now()"
              " FROM e, unnest(%s::uuid[]) c", (tenant, [g1, o1]))
    expected = sorted([(g1, unpushed), (o1, unpushed), (g1, stale), (g1, tomb), (g2, pulled)])

    s = start_scheduler()
    wait_for(lambda: push_pairs(rdb) == expected, what="reconcile's push jobs")
    passes = s.count("reconcile pass done")
    s.wait_log("reconcile pass done", count=passes + 1)
    assert push_pairs(rdb) == expected  # dedup: not again on the next pass
    assert all(fresh != e for _, e in push_pairs(rdb))
    assert rdb.ttl(f"calsync:queued:push:{g1}:{unpushed}") > 0
    assert [j["calendar_id"] for j in sync_jobs(rdb, "incremental")] == [due]

    ready = s.count("consumer group calsync-workers is ready")
    services.restart("redis", flush=True)
    r = redis.Redis.from_url(redis_url(services), decode_responses=True, socket_timeout=10)
    s.wait_log("consumer group calsync-workers is ready", count=ready + 1)
    wait_for(lambda: has_groups(r), what="groups created again")
    wait_for(lambda: {p for p in push_pairs(r)} >= set(expected), what="pushes enqueued again")
    wait_for(lambda: [j["calendar_id"] for j in sync_jobs(r, "incremental")] == [due],
             what="the due sync enqueued again")
    assert s.stop() == 0


def test_due_retries_move_back_and_acked_heads_are_trimmed(db, rdb, start_scheduler):
    rdb.xgroup_create(BACKGROUND, "calsync-workers", id="0", mkstream=True)
    for i in range(3):
        rdb.xadd(BACKGROUND, {"type": "noop", "data": json.dumps({"job_id": str(i)})})
    read = rdb.xreadgroup("calsync-workers", "w1", {BACKGROUND: ">"}, count=10)
    rdb.xack(BACKGROUND, "calsync-workers", *[entry_id for entry_id, _ in read[0][1]])
    job = json.dumps({"job_id": str(uuid.uuid4()), "calendar_id": str(uuid.uuid4()),
                      "event_id": str(uuid.uuid4())})
    now_ms = int(time.time() * 1000)
    due = json.dumps({"s": INTERACTIVE, "t": "push", "d": job, "n": "1-0"})
    later = json.dumps({"s": INTERACTIVE, "t": "push", "d": job, "n": "2-0"})
    rdb.zadd("calsync:delayed", {due: now_ms - 1000, later: now_ms + 3_600_000})

    s = start_scheduler()
    wait_for(lambda: entries(rdb, INTERACTIVE), what="the due retry back on its stream")
    assert [(t, d) for _, t, d in entries(rdb, INTERACTIVE)] == [("push", json.loads(job))]
    assert rdb.zrange("calsync:delayed", 0, -1) == [later]
    s.wait_log("released 1 due retry")
    wait_for(lambda: rdb.xlen(BACKGROUND) == 1, what="the acknowledged head trimmed")
    assert s.stop() == 0


def test_consumers_that_went_away_are_forgotten(services, bin_dir):
    """A consumer with nothing pending and silent longer than CALSYNC_CONSUMER_IDLE_MS
    leaves the group; one that still holds a job stays."""
    url = services.env["CALSYNC_REDIS_URL"].rsplit("/", 1)[0] + "/6"
    r = redis.Redis.from_url(url, decode_responses=True)
    db = fresh_database(services)
    run_tool(str(bin_dir), "migrate", env={"CALSYNC_DATABASE_URL": db}, check=True)
    r.flushdb()
    stream = "calsync:jobs:background"
    r.xgroup_create(stream, "calsync-workers", id="0", mkstream=True)
    r.xadd(stream, {"type": "noop", "data": "{}"})
    r.xadd(stream, {"type": "noop", "data": "{}"})
    gone = r.xreadgroup("calsync-workers", "gone-worker", {stream: ">"}, count=1)
    r.xack(stream, "calsync-workers", gone[0][1][0][0])
    r.xreadgroup("calsync-workers", "busy-worker", {stream: ">"}, count=1)
    wait_for(lambda: all(c["idle"] > 1000 for c in r.xinfo_consumers(stream, "calsync-workers")),
             what="both consumers silent for a second")   # the leader prunes at once
    env = dict(os.environ, CALSYNC_REDIS_URL=url, CALSYNC_CONSUMER_IDLE_MS="1000",
               CALSYNC_DATABASE_URL=db, CALSYNC_KAFKA_TOPIC="prune-" + uuid.uuid4().hex[:6])
    proc = subprocess.Popen([os.path.join(str(bin_dir), "calsync-scheduler")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: [c["name"] for c in r.xinfo_consumers(stream, "calsync-workers")]
                 == ["busy-worker"], timeout=45, what="the idle consumer removed")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        r.flushdb()
