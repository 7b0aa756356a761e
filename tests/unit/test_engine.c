/*
 * test_engine.c - the engine runs on a sync context alone (engine.h): no
 * worker, no job, no Redis, and here no database either. What it may do
 * is asked of the context's callbacks.
 */
#include "unit.h"

#include "conflict.h"
#include "sync.h"

static int calls;

static int lost(cs_sync *s, cs_err *err)
{
	(void)s;
	calls++;
	return cs_err_set(err, CS_EFENCED, false, "lost the calendar");
}

TEST(engine_conflict_raise_asks_the_context_first)
{
	cs_sync s = {.holds = lost, .fence = lost};
	cs_calendar cal = {.id = "c", .tenant_id = "t"};
	cs_err err;

	calls = 0;
	CHECK(cs_conflict_raise(&s, &cal, "update_conflict", "e", "r", NULL, NULL, &err) == -1);
	CHECK(err.code == CS_EFENCED);
	CHECK(calls == 1);
	CHECK(s.report.counts.conflicts == 0);
}

TEST(engine_sync_of_inactive_calendar_is_a_note)
{
	cs_sync s = {.holds = lost, .fence = lost};
	cs_calendar cal = {.id = "c", .tenant_id = "t", .direction = "bidirectional"};
	cs_err err;

	calls = 0;
	CHECK(cs_sync_calendar(&s, &cal, true, &err) == 0);
	CHECK_STR(s.report.error, "calendar is not active: nothing to do");
	CHECK(s.report.status == NULL);
	CHECK(calls == 0);
}
