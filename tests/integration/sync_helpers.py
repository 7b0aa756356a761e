"""tests/integration/sync_helpers.py - what the sync suites of every provider
share (test_sync_google.py, test_sync_caldav.py): run a job through the real
worker and wait for its end, read the Hub's events, write a Hub event."""

import uuid

from calsync_helpers import query, wait_for
from pool_helpers import INTERACTIVE


def run(world, jtype="sync", **data):
    """Enqueue a job and wait until it ended (not retrying); its last result."""
    data.setdefault("calendar_id", world.cal)
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
