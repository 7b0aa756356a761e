/*
 * cmd_view.c - the tool's read-only views: `status` (calendars and their
 * last sync, the queues), `conflicts` (pending conflicts) and `agenda`
 * (the unified calendar of a tenant, recurring series expanded with
 * libical).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "cli.h"
#include "db.h"
#include "ids.h"
#include "queue.h"
#include "redisconn.h"
#include "banned.h"

static int query(const cs_config *cfg, const char *sql, int n, const char *const *params,
		 PGresult **res)
{
	cs_db *db = NULL;
	cs_err err;
	int rc;

	rc = cs_db_new(&db, cfg->database_url, &err) || cs_db_exec(db, res, &err, sql, n, params);
	cs_db_free(db);
	return rc ? cli_fail("%s", err.msg) : 0;
}

static void print_rows(PGresult *res)
{
	int cols = PQnfields(res);

	for (int c = 0; c < cols; c++)
		printf("%s%s", c ? "\t" : "", PQfname(res, c));
	printf("\n");
	for (int r = 0; r < PQntuples(res); r++)
		for (int c = 0; c < cols; c++)
			printf("%s%s", PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c),
			       c + 1 == cols ? "\n" : "\t");
}

static void print_queue(const cs_config *cfg)
{
	const char *streams[] = {CS_STREAM_INTERACTIVE, CS_STREAM_BACKGROUND, CS_STREAM_DEAD};
	cs_redis *r = NULL;
	cs_err err;

	if (cs_redis_new(&r, cfg->redis_url, &err))
		return;
	printf("\nqueue\tlength\tpending\n");
	for (int i = 0; i < 3; i++) {
		redisReply *len = NULL, *pend = NULL;

		if (cs_redis_cmdf(r, &len, &err, "XLEN %s", streams[i]) == 0 &&
		    cs_redis_cmdf(r, &pend, &err, "XPENDING %s %s", streams[i], CS_GROUP) == 0)
			printf("%s\t%lld\t%lld\n", streams[i], len->integer,
			       pend->type == REDIS_REPLY_ARRAY ? pend->element[0]->integer : 0LL);
		if (len)
			freeReplyObject(len);
		if (pend)
			freeReplyObject(pend);
	}
	if (cs_redis_cmdf(r, NULL, &err, "PING") == 0) {
		redisReply *z = NULL;

		if (cs_redis_cmdf(r, &z, &err, "ZCARD %s", CS_DELAYED) == 0)
			printf("%s\t%lld\t-\n", CS_DELAYED, z->integer);
		if (z)
			freeReplyObject(z);
	}
	cs_redis_free(r);
}

int cmd_status(const cs_config *cfg, int argc, char **argv)
{
	const char *cal = argc > 0 ? argv[0] : NULL;
	PGresult *res = NULL;

	if (cal && !cs_is_uuid(cal))
		return cli_fail("status: '%s' is not a calendar id (a UUID)", cal);
	if (query(cfg,
		  "SELECT ec.id, ec.provider, ec.calendar_name AS name, ec.sync_direction AS direction,"
		  " ec.is_active AS active, s.last_sync_at, s.last_sync_status AS status,"
		  " s.events_synced AS synced, s.last_sync_error AS error"
		  " FROM external_calendars ec"
		  " LEFT JOIN calendar_sync_states s ON s.external_calendar_id = ec.id"
		  " WHERE $1::uuid IS NULL OR ec.id = $1::uuid ORDER BY ec.created_at",
		  1, &cal, &res))
		return 1;
	print_rows(res);
	PQclear(res);
	if (!cal)
		print_queue(cfg);
	return 0;
}

int cmd_conflicts(const cs_config *cfg, int argc, char **argv)
{
	const char *tenant = cli_opt(argc, argv, "--tenant");
	PGresult *res = NULL;

	if (tenant && !cs_is_uuid(tenant))
		return cli_fail("conflicts: --tenant must be a UUID");
	if (query(cfg,
		  "SELECT c.id, c.conflict_type AS type, c.event_id, c.external_calendar_id AS calendar,"
		  " c.local_data->>'title' AS hub_title, c.external_data->>'title' AS external_title,"
		  " c.created_at FROM calendar_conflicts c WHERE c.status = 'pending'"
		  " AND ($1::uuid IS NULL OR c.tenant_id = $1::uuid) ORDER BY c.created_at",
		  1, &tenant, &res))
		return 1;
	print_rows(res);
	PQclear(res);
	return 0;
}

/* Occurrence starts of a series within [from, to), as unix times. */
static int expand(const char *rrule, time_t start, time_t from, time_t to, time_t *out, int max)
{
	struct icalrecurrencetype recur = icalrecurrencetype_from_string(rrule);
	icaltimetype dt = icaltime_from_timet_with_zone(start, 0, icaltimezone_get_utc_timezone());
	icalrecur_iterator *it;
	int n = 0;

	if (recur.freq == ICAL_NO_RECURRENCE)
		return 0;
	it = icalrecur_iterator_new(recur, dt);
	for (icaltimetype t = icalrecur_iterator_next(it); it && !icaltime_is_null_time(t) && n < max;
	     t = icalrecur_iterator_next(it)) {
		time_t tt = icaltime_as_timet_with_zone(t, icaltimezone_get_utc_timezone());

		if (tt >= to)
			break;
		if (tt >= from)
			out[n++] = tt;
	}
	icalrecur_iterator_free(it);
	return n;
}

static void print_occurrences(PGresult *res, int row, time_t from, time_t to)
{
	const char *rec = cs_db_get(res, row, 4);
	time_t start = (time_t)strtoll(PQgetvalue(res, row, 5), NULL, 10);
	time_t starts[512];
	int n = 1;

	starts[0] = start;
	if (rec && strncmp(rec, "RRULE:", 6) == 0)
		n = expand(rec + 6, start, from, to, starts, 512);
	for (int i = 0; i < n; i++) {
		char when[32];
		struct tm tm;

		gmtime_r(&starts[i], &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		printf("%s UTC\t%-8s\t%s\t%s\n", when, PQgetvalue(res, row, 1),
		       PQgetvalue(res, row, 2), PQgetvalue(res, row, 3));
	}
}

int cmd_agenda(const cs_config *cfg, int argc, char **argv)
{
	const char *tenant = cli_opt(argc, argv, "--tenant");
	const char *from = cli_opt(argc, argv, "--from");
	const char *days = cli_opt(argc, argv, "--days");
	const char *params[3];
	PGresult *res = NULL;
	time_t t0, t1;

	if (!tenant)
		return 2;
	if (!cs_is_uuid(tenant))
		return cli_fail("agenda: --tenant must be a UUID");
	params[0] = tenant;
	params[1] = from;
	params[2] = days ? days : "7";
	if (query(cfg,
		  "WITH w AS (SELECT COALESCE($2::date, CURRENT_DATE)::timestamp AT TIME ZONE 'UTC' AS t0,"
		  " $3::int AS d)"
		  " SELECT v.id, v.provider, v.calendar_name, v.title, v.recurrence,"
		  " extract(epoch FROM v.start_time)::bigint, extract(epoch FROM w.t0)::bigint,"
		  " extract(epoch FROM w.t0 + make_interval(days => w.d))::bigint"
		  " FROM unified_calendar_events v, w WHERE v.tenant_id = $1"
		  " AND v.recurring_event_id IS NULL"
		  " AND ((v.recurrence IS NULL AND v.start_time >= w.t0"
		  "   AND v.start_time < w.t0 + make_interval(days => w.d))"
		  "  OR (v.recurrence IS NOT NULL AND v.start_time < w.t0 + make_interval(days => w.d)))"
		  " ORDER BY v.start_time",
		  3, params, &res))
		return 1;
	printf("when\tbadge\tcalendar\ttitle\n");
	for (int i = 0; i < PQntuples(res); i++) {
		t0 = (time_t)strtoll(PQgetvalue(res, i, 6), NULL, 10);
		t1 = (time_t)strtoll(PQgetvalue(res, i, 7), NULL, 10);
		print_occurrences(res, i, t0, t1);
	}
	PQclear(res);
	return 0;
}
