"""test_migrate.py - `calsync migrate` against a real PostgreSQL: empty
database, a Family Hub database that already has its own tables, two runs at
once, a tampered applied file."""

import os
import shutil
import subprocess

from calsync_helpers import fresh_database, query, run_tool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SQL_FILES = [f for f in os.listdir(os.path.join(REPO, "migrations")) if f.endswith(".sql")]
FILES = len(SQL_FILES)
NEXT = "%03d" % (max(int(f[:3]) for f in SQL_FILES) + 1)   # the number a new migration would take


def columns(url, table):
    rows = query(url, "SELECT column_name FROM information_schema.columns "
                      "WHERE table_name = %s", (table,))
    return {r[0] for r in rows}


def test_empty_database_gets_every_table_column_and_index(services, bin_dir):
    url = fresh_database(services)
    out = run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url}, check=True)
    assert "%d applied" % FILES in out.stdout
    assert {"id", "tenant_id", "user_id", "provider", "provider_calendar_id", "calendar_name",
            "calendar_color", "access_token_encrypted", "refresh_token_encrypted",
            "token_expires_at", "caldav_url", "icloud_app_password_encrypted",
            "caldav_username", "sync_direction", "is_primary", "is_active",
            "created_at", "updated_at"} <= columns(url, "external_calendars")
    assert {"last_sync_at", "last_sync_status", "last_sync_error", "sync_token", "ctag",
            "events_synced", "events_created", "events_updated",
            "events_deleted"} <= columns(url, "calendar_sync_states")
    assert {"event_id", "external_calendar_id", "external_event_id", "external_etag",
            "last_synced_at", "sync_direction", "is_deleted"} <= columns(url, "calendar_event_mappings")
    assert {"conflict_type", "local_data", "external_data", "status", "resolved_at",
            "resolved_by", "resolution_notes"} <= columns(url, "calendar_conflicts")
    indexes = {r[0] for r in query(url, "SELECT indexname FROM pg_indexes")}
    assert {"idx_external_calendars_tenant", "idx_external_calendars_user",
            "idx_event_mappings_event", "idx_event_mappings_external",
            "idx_calendar_conflicts_tenant"} <= indexes
    defaults = dict(query(url, "SELECT column_name, column_default FROM information_schema.columns "
                               "WHERE table_name = 'external_calendars'"))
    assert defaults["sync_direction"].startswith("'bidirectional'")
    assert defaults["is_active"] == "true" and defaults["is_primary"] == "false"
    # the unique constraints of the seed hold
    uniques = query(url, "SELECT conname FROM pg_constraint WHERE contype = 'u' "
                         "AND conrelid = 'calendar_event_mappings'::regclass")
    assert len(uniques) == 2
    # the unified view answers
    assert query(url, "SELECT provider FROM unified_calendar_events") == []


def test_second_run_applies_nothing(services, bin_dir):
    url = fresh_database(services)
    run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url}, check=True)
    out = run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url}, check=True)
    assert "0 applied" in out.stdout


def test_existing_family_hub_tables_are_kept_and_completed(services, bin_dir):
    url = fresh_database(services)
    query(url, """
        CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL, plan text DEFAULT 'free');
        CREATE TABLE users (id uuid PRIMARY KEY, tenant_id uuid REFERENCES tenants(id),
                            email text NOT NULL, avatar text);
        CREATE TABLE events (id uuid PRIMARY KEY, tenant_id uuid REFERENCES tenants(id),
                             title text NOT NULL, start_time timestamptz NOT NULL,
                             end_time timestamptz NOT NULL, colour text);
        INSERT INTO tenants VALUES ('11111111-1111-1111-1111-111111111111', 'Family', 'pro');
        INSERT INTO events VALUES ('22222222-2222-2222-2222-222222222222',
            '11111111-1111-1111-1111-111111111111', 'Dentist', '2026-12-01T10:00Z',
            '2026-12-01T11:00Z', 'red');
    """)
    run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url}, check=True)
    assert {"plan", "timezone"} <= columns(url, "tenants")      # own column kept, ours added
    assert {"avatar", "display_name"} <= columns(url, "users")
    assert {"colour", "deleted_at", "recurrence", "is_all_day", "updated_at",
            "recurring_event_id", "original_start_time"} <= columns(url, "events")
    assert query(url, "SELECT title, colour, is_all_day FROM events") == [("Dentist", "red", False)]
    assert query(url, "SELECT plan, timezone FROM tenants") == [("pro", "UTC")]
    assert query(url, "SELECT provider, title FROM unified_calendar_events") == [("hub", "Dentist")]


def test_two_concurrent_runs_apply_each_file_once(services, bin_dir):
    url = fresh_database(services)
    env = dict(os.environ, CALSYNC_DATABASE_URL=url)
    procs = [subprocess.Popen([os.path.join(bin_dir, "calsync"), "migrate"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    applied = [int(o[0].split()[1]) for o in outs]
    # each file under the lock in its own transaction: the runs may share the files out
    assert sum(applied) == FILES
    assert query(url, "SELECT count(*) FROM calsync_schema_migrations") == [(FILES,)]


def test_tampered_applied_file_stops_the_run(services, bin_dir, tmp_path):
    url = fresh_database(services)
    mig = tmp_path / "migrations"
    shutil.copytree(os.path.join(REPO, "migrations"), mig)
    env = {"CALSYNC_DATABASE_URL": url, "CALSYNC_MIGRATIONS_DIR": str(mig)}
    run_tool(bin_dir, "migrate", env=env, check=True)
    (mig / (NEXT + "_new.sql")).write_text("CREATE TABLE calsync_probe (x int);\n")
    with open(mig / "002_calsync_tables.sql", "a") as f:
        f.write("-- an innocent-looking edit\n")
    out = run_tool(bin_dir, "migrate", env=env)
    assert out.returncode == 1
    assert "002_calsync_tables.sql was changed after it was applied" in out.stderr
    # nothing new was applied
    assert query(url, "SELECT to_regclass('calsync_probe')") == [(None,)]


def test_a_failing_migration_is_rolled_back_and_not_recorded(services, bin_dir, tmp_path):
    url = fresh_database(services)
    mig = tmp_path / "migrations"
    shutil.copytree(os.path.join(REPO, "migrations"), mig)
    (mig / (NEXT + "_broken.sql")).write_text("CREATE TABLE calsync_half (x int);\nSELECT nonsense FROM nowhere;\n")
    out = run_tool(bin_dir, "migrate", env={"CALSYNC_DATABASE_URL": url, "CALSYNC_MIGRATIONS_DIR": str(mig)})
    assert out.returncode == 1 and NEXT + "_broken.sql failed" in out.stderr
    assert query(url, "SELECT to_regclass('calsync_half')") == [(None,)]
    assert query(url, "SELECT count(*) FROM calsync_schema_migrations") == [(FILES,)]
