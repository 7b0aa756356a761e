"""tests/integration/sync_helpers.py - what the sync suites of every provider
share (test_sync_google.py, test_sync_caldav.py, test_sync_outlook.py): run a job through the real
worker and wait for its end, read the Hub's events, write a Hub event."""

import uuid

from calsync_helpers import query, wait_for
from pool_helpers import INTERACTIVE


def run(world, jtype="sync", **data):
    """Enqueue a job and wait until it ended (not retrying); its last result."""
    if "calendar_id" not in data:          # a world with several calendars names one
        data["calendar_id"] = world.cal
    job = world.enqueue(INTERACTIVE, jtype, **data)
    try:
        ended = wait_for(lambda: [r for r in world.results_of(job) if r["status"] != "retrying"],
                         timeout=60, what=f"{jtype} job")
    except AssertionError:
        raise AssertionError(f"{jtype} job did not end; worker log:\n{world.log(0)[-3000:]}")
    return ended[-1]


def hub(world, sql_where="TRUE", params=()):
    return query(world.db_url,
                 "SELECT title, start_time::text, end_time::text, is_all_day, timezone, recurrence,"
                 " recurring_event_id IS NOT NULL, status, deleted_at IS NOT NULL"
                 " FROM events WHERE tenant_id = %s AND " + sql_where + " ORDER BY start_time, title",
                 (world.tenant, *params))


def hub_event(world, title, start, end, tz="Europe/London", recurrence=None, all_day=False):
    ev = str(uuid.uuid4())
    query(world.db_url, "INSERT INTO events(id, tenant_id, created_by, title, start_time, end_time,"
                        " timezone, recurrence, is_all_day) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
          (ev, world.tenant, world.user, title, start, end, tz, recurrence, all_day))
    return ev


def pull_moved_and_deleted(world):
    """The sync after "Football" moved to 11:00-12:00 and "Piano" was deleted remotely."""
    res = run(world)
    assert (res["updated"], res["deleted"]) == (1, 1), res
    rows = hub(world)
    assert rows[0][:3] == ("Football (moved)", "2026-12-08 11:00:00+00", "2026-12-08 12:00:00+00")
    assert rows[1][0] == "Piano" and rows[1][8] is True      # tombstoned


def hub_edit_pushed(world, ev, sql_set):
    """Change Hub event ev (an UPDATE ... SET sql_set) and sync: one push."""
    query(world.db_url, "UPDATE events SET " + sql_set + ", updated_at = NOW() WHERE id = %s", (ev,))
    res = run(world)
    assert res["pushed"] == 1, res
    return res


def push_series_with_a_moved_and_a_removed_occurrence(world):
    """A weekly Hub series (one occurrence removed by EXDATE, one moved by an
    override) pushed by one sync; (the series' Hub id, the Hub rows before)."""
    series = hub_event(world, "Swimming lessons", "2026-12-01T17:00Z", "2026-12-01T18:00Z",
                       recurrence="RRULE:FREQ=WEEKLY;COUNT=6\nEXDATE;TZID=Europe/London:20261215T170000")
    moved = str(uuid.uuid4())
    query(world.db_url, "INSERT INTO events(id, tenant_id, created_by, title, start_time, end_time, timezone,"
                        " recurring_event_id, original_start_time) VALUES (%s,%s,%s,'Swimming lessons (pool 2)',"
                        " '2026-12-08T18:00Z', '2026-12-08T19:00Z', 'Europe/London', %s, '2026-12-08T17:00Z')",
          (moved, world.tenant, world.user, series))
    before = hub(world)
    res = run(world)
    assert res["pushed"] == 2, res
    return series, before


def pull_dentist_and_holiday(world):
    """The first sync of a calendar holding a timed "Dentist" (1 December, 10:00-11:00
    UTC, Europe/London) and an all-day "School holiday" (21 December - 4 January)."""
    res = run(world)
    assert res["status"] == "success" and res["created"] == 2, res
    assert hub(world) == [
        ("Dentist", "2026-12-01 10:00:00+00", "2026-12-01 11:00:00+00", False, "Europe/London",
         None, False, "confirmed", False),
        ("School holiday", "2026-12-21 00:00:00+00", "2027-01-05 00:00:00+00", True, None,
         None, False, "confirmed", False)]
