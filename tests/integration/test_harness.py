"""tests/integration/test_harness.py - the test harness itself (tests/harness/svc.py).

Checks that each real service answers with the settings it publishes, that
restart keeps ports and data (Kafka keeps a produced message, Redis keeps keys
unless --flush), that a failed start cleans up after itself, and that stop
leaves no process behind. Lifecycle tests use private service sets so that
the shared `services` of the session are never disturbed.
"""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

import psycopg2
import pytest
import redis
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

import svc

SVC = pathlib.Path(svc.__file__).resolve()
ENV_NAMES = [
    "CALSYNC_DATABASE_URL", "CALSYNC_REDIS_URL", "CALSYNC_KAFKA_BROKERS",
    "CALSYNC_TEST_RADICALE_URL", "CALSYNC_TEST_RADICALE_USER",
    "CALSYNC_TEST_RADICALE_PASSWORD", "CALSYNC_TEST_PG_PORT", "CALSYNC_TEST_REDIS_PORT",
    "CALSYNC_TEST_KAFKA_PORT", "CALSYNC_TEST_RADICALE_PORT", "CALSYNC_TEST_RUN_DIR",
]


# ------------------------------------------------------------ helpers

def new_run_dir():
    # Not pytest's tmp_path: that is mode 0700, which the postgres user cannot enter.
    return tempfile.mkdtemp(prefix="calsync-harness-")


def run_svc(*args, env=None):
    return subprocess.run([sys.executable, str(SVC), *args], capture_output=True,
                          text=True, env=env, timeout=300)


def pg_query(env, sql):
    conn = psycopg2.connect(env["CALSYNC_DATABASE_URL"], connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def redis_client(env):
    return redis.Redis.from_url(env["CALSYNC_REDIS_URL"], socket_timeout=10)


def http_status(env, method="PROPFIND", password=None):
    url = urllib.parse.urlsplit(env["CALSYNC_TEST_RADICALE_URL"])
    user = env["CALSYNC_TEST_RADICALE_USER"]
    password = env["CALSYNC_TEST_RADICALE_PASSWORD"] if password is None else password
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
                          "-H", "Depth: 0", "-u", f"{user}:{password}",
                          f"http://{url.netloc}/{user}/"],
                         capture_output=True, text=True, timeout=30)
    return int(out.stdout or 0)


def kafka_produce(env, topic, value):
    producer = Producer({"bootstrap.servers": env["CALSYNC_KAFKA_BROKERS"]})
    producer.produce(topic, value=value, partition=0)
    assert producer.flush(30) == 0, "message not acknowledged"


def kafka_read_first(env, topic, deadline_s=60):
    consumer = Consumer({"bootstrap.servers": env["CALSYNC_KAFKA_BROKERS"],
                         "group.id": f"harness-{uuid.uuid4()}", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                return msg.value()
        return None
    finally:
        consumer.close()


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def group_members(pids):
    """All live processes in the process groups of pids (the services' sessions)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp in pids and state != "Z":
            found.add(int(entry))
    return found


def service_pids(run_dir):
    pids = set()
    for name in svc.NAMES:
        path = pathlib.Path(run_dir, f"{name}.pid")
        if path.exists():
            pids.add(int(path.read_text()))
    return pids


def wait_until(check, seconds):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)  # poll interval, bounded by the deadline
    return True


# ------------------------------------------------------------ the shared services

def test_env_names_are_published(services):
    env = services.env
    missing = [n for n in ENV_NAMES if n not in env]
    assert not missing, f"env.json lacks {missing}"
    sh = pathlib.Path(services.run_dir, "env.sh").read_text()
    for name in ENV_NAMES:
        assert f"export {name}=" in sh
    assert env["CALSYNC_DATABASE_URL"].endswith("/calsync")
    assert env["CALSYNC_KAFKA_BROKERS"] == f"127.0.0.1:{env['CALSYNC_TEST_KAFKA_PORT']}"


def test_postgres_answers(services):
    rows = pg_query(services.env, "SELECT current_database(), current_setting("
                    "'server_encoding'), current_setting('server_version_num')::int")
    assert rows[0][0] == "calsync"
    assert rows[0][1] == "UTF8"
    assert rows[0][2] >= 150000


def test_redis_answers(services):
    client = redis_client(services.env)
    assert client.ping()
    key = f"harness:{uuid.uuid4()}"
    client.set(key, "1", ex=60)
    assert client.get(key) == b"1"


def test_kafka_answers(services):
    env = services.env
    meta = AdminClient({"bootstrap.servers": env["CALSYNC_KAFKA_BROKERS"]}).list_topics(timeout=30)
    assert len(meta.brokers) == 1
    topic = f"harness-{uuid.uuid4()}"
    kafka_produce(env, topic, b"ping")
    assert kafka_read_first(env, topic) == b"ping"


def test_radicale_answers_with_auth(services):
    env = services.env
    assert http_status(env) == 207
    assert http_status(env, password="wrong") == 401


# ------------------------------------------------------------ lifecycle (private set)

@pytest.fixture(scope="module")
def private():
    services = svc.Services(new_run_dir())
    try:
        services.start()
    except svc.ServiceError as e:
        services.stop()
        pytest.fail(e.report(), pytrace=False)
    yield services
    services.stop()
    shutil.rmtree(services.run_dir, ignore_errors=True)


@pytest.mark.parametrize("name", svc.NAMES)
def test_restart_keeps_port_and_answers(private, name):
    port_var = f"CALSYNC_TEST_{name.upper()}_PORT"
    before = private.env[port_var]
    old_pid = private.pid(name)
    private.restart(name)
    assert private.env[port_var] == before
    assert private.pid(name) not in (None, old_pid)
    assert answers(int(before))


def test_kafka_keeps_message_across_restart(private):
    topic = f"harness-{uuid.uuid4()}"
    kafka_produce(private.env, topic, b"survives")
    private.restart("kafka")
    assert kafka_read_first(private.env, topic) == b"survives"


def test_postgres_keeps_data_across_restart(private):
    pg_query(private.env, "CREATE TABLE IF NOT EXISTS harness_t (v int); "
             "INSERT INTO harness_t VALUES (42)")
    private.restart("pg")
    assert pg_query(private.env, "SELECT v FROM harness_t") == [(42,)]


def test_redis_restart_keeps_keys_unless_flushed(private):
    redis_client(private.env).set("harness:kept", "yes")
    private.restart("redis")
    assert redis_client(private.env).get("harness:kept") == b"yes"
    private.restart("redis", flush=True)
    assert redis_client(private.env).get("harness:kept") is None
    assert redis_client(private.env).dbsize() == 0


def test_kill_stops_one_service(private):
    port = int(private.env["CALSYNC_TEST_RADICALE_PORT"])
    private.kill("radicale")
    assert private.pid("radicale") is None
    assert not answers(port)
    assert "radicale" not in private.running()
    private.start(only=["radicale"])
    assert private.env["CALSYNC_TEST_RADICALE_PORT"] == str(port)
    assert http_status(private.env) == 207


# ------------------------------------------------------------ the CLI

def test_cli_start_env_stop_leaves_no_process():
    run_dir = new_run_dir()
    try:
        started = run_svc("start", "--dir", run_dir)
        assert started.returncode == 0, started.stderr
        pids = service_pids(run_dir)
        assert len(pids) == 4
        env = json.loads(pathlib.Path(run_dir, "env.json").read_text())
        ports = [int(env[f"CALSYNC_TEST_{n.upper()}_PORT"]) for n in svc.NAMES]
        printed = run_svc("env", "--dir", run_dir)
        assert printed.returncode == 0 and "CALSYNC_REDIS_URL" in printed.stdout
        members = group_members(pids)
        assert pids <= members

        stopped = run_svc("stop", "--dir", run_dir)
        assert stopped.returncode == 0, stopped.stderr
        assert wait_until(lambda: not group_members(members | pids), 10), \
            f"left behind: {group_members(members | pids)}"
        assert not [p for p in ports if answers(p)]
        assert not list(pathlib.Path(run_dir).glob("*.pid"))
        again = run_svc("stop", "--dir", run_dir)
        assert again.returncode == 0, again.stderr
    finally:
        run_svc("stop", "--dir", run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_cli_failed_start_names_service_and_cleans_up(tmp_path):
    run_dir = new_run_dir()
    env = dict(os.environ, CALSYNC_CACHE=str(tmp_path / "no-cache"))
    try:
        result = run_svc("start", "--dir", run_dir, "--only", "redis,kafka", env=env)
        assert result.returncode != 0
        assert "kafka failed" in result.stderr
        assert svc.Services(run_dir).running() == []
    finally:
        run_svc("stop", "--dir", run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_cli_restart_unknown_dir_fails_cleanly():
    run_dir = new_run_dir()
    try:
        result = run_svc("restart", "redis", "--dir", run_dir)
        assert result.returncode != 0
        assert "redis" in result.stderr and "Traceback" not in result.stderr
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
