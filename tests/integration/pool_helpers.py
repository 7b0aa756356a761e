"""tests/integration/pool_helpers.py - a private world for a worker-pool test:
a fresh migrated database, its own Redis database number (flushed), a control
folder for the `test` provider, a tenant with a calendar, and worker processes
that are always stopped at the end."""

import json
import os
import signal
import subprocess
import tempfile
import uuid

import psycopg2
import redis

from calsync_helpers import TEST_KEYS, fresh_database, query, run_tool, wait_for

RESULTS = "calsync:results"
DEAD = "calsync:dead"
INTERACTIVE = "calsync:jobs:interactive"
BACKGROUND = "calsync:jobs:background"


class World:
    def __init__(self, services, bin_dir, redis_db):
        self.bin_dir = str(bin_dir)
        self.db_url = fresh_database(services)
        base = services.env["CALSYNC_REDIS_URL"].rsplit("/", 1)[0]
        self.redis_url = f"{base}/{redis_db}"
        self.r = redis.Redis.from_url(self.redis_url, decode_responses=True)
        self.r.flushdb()
        self.provider_dir = tempfile.mkdtemp(prefix="calsync-testprov-")
        # the test provider is in the test build of the worker only (connect_google
        # switches a world of real providers back to the production worker)
        self.worker_program = "calsync-worker-test"
        self.env = {
            "CALSYNC_DATABASE_URL": self.db_url,
            "CALSYNC_REDIS_URL": self.redis_url,
            "CALSYNC_SECRET_KEYS": TEST_KEYS,
            "CALSYNC_TEST_PROVIDER": self.provider_dir,
            "CALSYNC_LOG_LEVEL": "info",
        }
        run_tool(self.bin_dir, "migrate", env=self.env, check=True)
        self.procs = []
        self.tenant = str(uuid.uuid4())
        self.user = str(uuid.uuid4())
        query(self.db_url, "INSERT INTO tenants(id, name, timezone) VALUES (%s, 'Test family', 'Europe/London')",
              (self.tenant,))
        query(self.db_url, "INSERT INTO users(id, tenant_id, email) VALUES (%s, %s, 'p@example.com')",
              (self.user, self.tenant))

    def calendar(self, remote_id="test-cal", primary=True, direction="bidirectional"):
        cal = str(uuid.uuid4())
        query(self.db_url, "INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                           " provider_calendar_id, calendar_name, is_primary, sync_direction)"
                           " VALUES (%s, %s, %s, 'test', %s, 'Test', %s, %s)",
              (cal, self.tenant, self.user, remote_id, primary, direction))
        return cal

    def hub_event(self, title="Dinner"):
        ev = str(uuid.uuid4())
        query(self.db_url, "INSERT INTO events(id, tenant_id, created_by, title, start_time, end_time)"
                           " VALUES (%s, %s, %s, %s, '2026-12-01T18:00Z', '2026-12-01T19:00Z')",
              (ev, self.tenant, self.user, title))
        return ev

    def control(self, name, value):
        with open(os.path.join(self.provider_dir, name), "w") as f:
            f.write(str(value))

    def calls(self):
        path = os.path.join(self.provider_dir, "calls.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [line.split() for line in f if line.strip()]

    def enqueue(self, stream, jtype, **data):
        data.setdefault("job_id", str(uuid.uuid4()))
        self.r.xadd(stream, {"type": jtype, "data": json.dumps(data)})
        return data["job_id"]

    def results(self, stream=RESULTS):
        out = []
        for _id, fields in self.r.xrange(stream):
            out.append((fields.get("type"), json.loads(fields["data"])))
        return out

    def results_of(self, job_id):
        return [d for t, d in self.results() if t == "sync_result" and d.get("job_id") == job_id]

    def worker(self, name=None, **settings):
        env = dict(os.environ)
        env.update(self.env)
        env.update({k: str(v) for k, v in settings.items()})
        if name:
            env["CALSYNC_WORKER_NAME"] = name
        log = open(os.path.join(self.provider_dir, f"worker-{len(self.procs)}.log"), "w")
        proc = subprocess.Popen([os.path.join(self.bin_dir, self.worker_program)], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        self.procs.append(proc)
        return proc

    def log(self, index):
        with open(os.path.join(self.provider_dir, f"worker-{index}.log")) as f:
            return f.read()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait()
        self.r.flushdb()

    def pending(self, stream):
        try:
            return self.r.xpending(stream, "calsync-workers")["pending"]
        except redis.exceptions.ResponseError:  # no group yet: nothing taken
            return 0


def wait_result(world, job_id, status=None, timeout=30):
    def found():
        res = world.results_of(job_id)
        return [r for r in res if status is None or r["status"] == status]
    return wait_for(found, timeout=timeout, what=f"result of job {job_id}")
