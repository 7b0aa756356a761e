"""test_tool.py - the admin tool's settings, logging and sealed secrets,
driven through build/calsync against a real PostgreSQL."""

import json
import os
import re
import subprocess

from calsync_helpers import TEST_KEYS, TEST_KEYS_ROTATED, fresh_database, query, run_tool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TENANT = "0b6f3f0e-6a55-4d6e-9a43-3d3f1b2a0c11"
OTHER_TENANT = "5d1c0c2e-7a1b-4f55-8d6e-2c9b8a7f6e01"


def test_bad_settings_stop_with_one_line_naming_the_variable(bin_dir):
    cases = {
        "CALSYNC_REDIS_URL": ("http://localhost", "CALSYNC_REDIS_URL"),
        "CALSYNC_SYNC_INTERVAL": ("soon", "CALSYNC_SYNC_INTERVAL"),
        "CALSYNC_WORKER_CONCURRENCY": ("0", "CALSYNC_WORKER_CONCURRENCY"),
        "CALSYNC_GOOGLE_API_URL": ("ftp://x", "CALSYNC_GOOGLE_API_URL"),
        "CALSYNC_LOG_FORMAT": ("xml", "CALSYNC_LOG_FORMAT"),
    }
    for var, (value, name) in cases.items():
        out = run_tool(bin_dir, "config", env={var: value})
        assert out.returncode == 1, var
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], out.stderr


def test_a_redis_password_never_shows_in_errors_or_config(bin_dir):
    out = run_tool(bin_dir, "config", env={"CALSYNC_REDIS_URL": "redis://:hunter2@h:notaport/0"})
    assert out.returncode == 1 and "hunter2" not in out.stderr
    out = run_tool(bin_dir, "config", env={"CALSYNC_REDIS_URL": "redis://:hunter2@h:6379/0",
                                           "CALSYNC_SECRET_KEYS": TEST_KEYS}, check=True)
    assert "hunter2" not in out.stdout and "QUFB" not in out.stdout


def test_readme_settings_table_is_the_one_in_the_code(bin_dir):
    table = run_tool(bin_dir, "config", "--markdown", check=True).stdout
    with open(os.path.join(REPO, "README.md")) as f:
        assert table in f.read(), "README settings table is stale: paste `calsync config --markdown`"


def test_help_on_each_command(bin_dir):
    out = run_tool(bin_dir, "--help", check=True)
    for cmd in re.findall(r"^  (\w+) ", out.stdout, re.M):
        sub = run_tool(bin_dir, cmd, "--help")
        assert sub.returncode == 0 and sub.stdout.startswith(f"usage: calsync {cmd}"), cmd
    assert run_tool(bin_dir, "frobnicate").returncode == 2


def test_json_logs_are_one_record_per_line(services, bin_dir):
    url = fresh_database(services)
    out = run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url,
                                             "CALSYNC_LOG_FORMAT": "json"}, check=True)
    records = [json.loads(line) for line in out.stderr.splitlines()]
    assert records and all(r["level"] == "info" and r["prog"] == "calsync" for r in records)
    assert any("applied migration 001" in r["msg"] for r in records)


def seal(bin_dir, plain, tenant=TENANT, keys=TEST_KEYS):
    out = run_tool(bin_dir, "secret", "seal", "--tenant", tenant,
                   env={"CALSYNC_SECRET_KEYS": keys}, input=plain, check=True)
    return out.stdout.strip()


def test_seal_open_round_trip_and_refusals(bin_dir):
    sealed = seal(bin_dir, "ya29.refresh-token")
    assert sealed.startswith("csv1.k1.") and "refresh" not in sealed
    ok = run_tool(bin_dir, "secret", "open", "--tenant", TENANT,
                  env={"CALSYNC_SECRET_KEYS": TEST_KEYS}, input=sealed, check=True)
    assert ok.stdout.strip() == "ya29.refresh-token"
    other = run_tool(bin_dir, "secret", "open", "--tenant", OTHER_TENANT,
                     env={"CALSYNC_SECRET_KEYS": TEST_KEYS}, input=sealed)
    assert other.returncode == 1 and "does not open" in other.stderr
    missing = run_tool(bin_dir, "secret", "seal", "--tenant", TENANT, env={"CALSYNC_SECRET_KEYS": ""},
                       input="x")
    assert missing.returncode == 1 and "CALSYNC_SECRET_KEYS" in missing.stderr
    bad = run_tool(bin_dir, "secret", "open", "--tenant", TENANT,
                   env={"CALSYNC_SECRET_KEYS": "k1:notbase64!"}, input=sealed)
    assert bad.returncode == 1 and "CALSYNC_SECRET_KEYS" in bad.stderr
    assert run_tool(bin_dir, "secret", "seal").returncode == 2


def make_calendar(url, bin_dir, n):
    query(url, "INSERT INTO tenants(id, name) VALUES (%s, 'F'), (%s, 'G')", (TENANT, OTHER_TENANT))
    query(url, "INSERT INTO users(id, tenant_id, email) VALUES (gen_random_uuid(), %s, 'a@x')", (TENANT,))
    for i in range(n):
        query(url, "INSERT INTO external_calendars(tenant_id, user_id, provider, provider_calendar_id,"
                   " access_token_encrypted, refresh_token_encrypted)"
                   " SELECT %s, id, 'google', %s, %s, %s FROM users LIMIT 1",
              (TENANT, f"cal{i}", seal(bin_dir, f"access-{i}"), seal(bin_dir, f"refresh-{i}")))


def test_rotate_reseals_everything_in_batches_and_can_run_again(services, bin_dir):
    url = fresh_database(services)
    run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url}, check=True)
    make_calendar(url, bin_dir, 7)
    env = {"CALSYNC_DATABASE_URL": url, "CALSYNC_SECRET_KEYS": TEST_KEYS_ROTATED}
    out = run_tool(bin_dir, "secret", "rotate", "--batch", "3", env=env, check=True)
    assert "14 secrets re-sealed under key 'k2'" in out.stdout
    rows = query(url, "SELECT access_token_encrypted, refresh_token_encrypted FROM external_calendars")
    assert all(a.startswith("csv1.k2.") and r.startswith("csv1.k2.") for a, r in rows)
    # the new values still open, with the new key alone
    opened = run_tool(bin_dir, "secret", "open", "--tenant", TENANT,
                      env={"CALSYNC_SECRET_KEYS": TEST_KEYS_ROTATED.split(",")[0]},
                      input=rows[0][1], check=True)
    assert opened.stdout.strip().startswith("refresh-")
    again = run_tool(bin_dir, "secret", "rotate", env=env, check=True)
    assert "0 secrets re-sealed" in again.stdout


def test_rotate_reports_a_value_that_does_not_open_and_goes_on(services, bin_dir):
    url = fresh_database(services)
    run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url}, check=True)
    make_calendar(url, bin_dir, 3)
    # copied from another tenant's row: bound to the wrong tenant
    query(url, "UPDATE external_calendars SET access_token_encrypted = %s WHERE provider_calendar_id = 'cal1'",
          (seal(bin_dir, "stolen", tenant=OTHER_TENANT),))
    env = {"CALSYNC_DATABASE_URL": url, "CALSYNC_SECRET_KEYS": TEST_KEYS_ROTATED}
    out = run_tool(bin_dir, "secret", "rotate", "--batch", "1", env=env)
    assert out.returncode == 1
    assert "1 calendars failed" in out.stdout and "does not open" in out.stderr
    kids = query(url, "SELECT provider_calendar_id, refresh_token_encrypted FROM external_calendars ORDER BY 1")
    assert all(r.startswith("csv1.k2.") for c, r in kids if c != "cal1")


def test_rotate_can_be_interrupted_and_resumed(services, bin_dir):
    url = fresh_database(services)
    run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url}, check=True)
    make_calendar(url, bin_dir, 40)
    env = dict(os.environ, CALSYNC_DATABASE_URL=url, CALSYNC_SECRET_KEYS=TEST_KEYS_ROTATED)
    proc = subprocess.Popen([os.path.join(bin_dir, "calsync"), "secret", "rotate", "--batch", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.kill()
    proc.wait()
    out = run_tool(bin_dir, "secret", "rotate", "--batch", "5",
                   env={"CALSYNC_DATABASE_URL": url, "CALSYNC_SECRET_KEYS": TEST_KEYS_ROTATED}, check=True)
    assert "calendars failed" in out.stdout
    rows = query(url, "SELECT count(*) FROM external_calendars WHERE refresh_token_encrypted LIKE 'csv1.k2.%%'")
    assert rows == [(40,)]


def test_the_daemons_refuse_to_start_without_keys_or_with_bad_settings(bin_dir):
    env = dict(os.environ)
    env.pop("CALSYNC_SECRET_KEYS", None)
    worker = subprocess.run([os.path.join(bin_dir, "calsync-worker")], env=env,
                            capture_output=True, text=True, timeout=30)
    assert worker.returncode == 1
    assert worker.stderr.strip().splitlines() == [
        "calsync-worker: CALSYNC_SECRET_KEYS is not set and has no default"]
    env["CALSYNC_LEADER_LEASE_MS"] = "soon"
    sched = subprocess.run([os.path.join(bin_dir, "calsync-scheduler")], env=env,
                           capture_output=True, text=True, timeout=30)
    assert sched.returncode == 1
    lines = sched.stderr.strip().splitlines()
    assert len(lines) == 1 and "CALSYNC_LEADER_LEASE_MS" in lines[0]
