"""tests/integration/calsync_helpers.py - small helpers shared by the suites:
running the calsync programs, fresh databases, polling with a deadline."""

import os
import selectors
import signal
import subprocess
import time
import uuid

import psycopg2

TEST_KEYS = "k1:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # 32 x 'A'
TEST_KEYS_ROTATED = "k2:" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=," + TEST_KEYS


def wait_for(cond, timeout=30.0, interval=0.02, what="condition"):
    """Poll cond() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)  # poll interval, bounded by the deadline above


def wait_line(proc, pipe, marker, deadline_s, what, copy=None):
    """Read pipe (proc's stdout or stderr) until a line contains marker; that line.
    Every line read is also written to copy when given."""
    sel = selectors.DefaultSelector()
    sel.register(pipe, selectors.EVENT_READ)
    deadline = time.monotonic() + deadline_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                terminate(proc)
                raise RuntimeError(f"{what} did not say '{marker}' in time")
            if sel.select(timeout=left):
                line = pipe.readline()
                if copy:
                    copy.write(line)
                if marker in line:
                    return line
    finally:
        sel.close()


def terminate(proc, timeout=10):
    """SIGTERM, SIGKILL if it lingers; waits for the end."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_tool(bin_dir, *args, env=None, input=None, check=False, timeout=60):
    """Run build/calsync with the current environment plus env."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([os.path.join(bin_dir, "calsync"), *args], env=full_env,
                          input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"calsync {' '.join(args)} failed: {proc.stderr}")
    return proc


def fresh_database(services):
    """Create an empty database; return its URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(services.env["CALSYNC_TEST_PG_ADMIN_URL"])
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # name is generated above, not data
    admin.close()
    base = services.env["CALSYNC_TEST_PG_ADMIN_URL"].rsplit("/", 1)[0]
    return f"{base}/{name}"


def query(url, sql, params=None):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()
