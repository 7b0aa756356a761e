/*
 * cmd_agenda.c - `calsync agenda`: the unified calendar of a tenant over a
 * few days, in the tenant's time zone, with provider badges. Recurring
 * series are expanded in their own zone by recur.c (so a weekly 17:30
 * stays 17:30 across a DST change; EXDATEs remove an occurrence, RDATEs
 * add one); cancelled overrides remove an occurrence, other overrides
 * replace it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "cli.h"
#include "ids.h"
#include "recur.h"
#include "banned.h"

#define MAX_OCCURRENCES 5000

enum { C_ID, C_PROVIDER, C_CALENDAR, C_TITLE, C_RECURRENCE, C_START, C_TZ, C_SERIES,
       C_ORIGINAL, C_STATUS, C_ALLDAY, C_FROM, C_TO, C_TENANT_TZ };

struct occurrence {
	time_t start;
	int row;
};

struct agenda {
	PGresult *res;
	time_t from, to;
	struct occurrence *items;
	int n;
};

static void add(struct agenda *a, time_t start, int row)
{
	if (start < a->from || start >= a->to || a->n == MAX_OCCURRENCES)
		return;
	a->items[a->n].start = start;
	a->items[a->n++].row = row;
}

static time_t col_time(PGresult *res, int row, int col)
{
	return (time_t)strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Is the occurrence of series `row` at t replaced or cancelled by an override? */
static bool overridden(PGresult *res, int row, time_t t)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, C_SERIES) && !PQgetisnull(res, i, C_ORIGINAL) &&
		    strcmp(PQgetvalue(res, i, C_SERIES), PQgetvalue(res, row, C_ID)) == 0 &&
		    col_time(res, i, C_ORIGINAL) == t)
			return true;
	return false;
}

/* The occurrences of row in the window, less those its overrides replace. */
static void expand(struct agenda *a, int row, long long *starts)
{
	const char *rec = PQgetisnull(a->res, row, C_RECURRENCE) ? NULL :
			  PQgetvalue(a->res, row, C_RECURRENCE);
	size_t n = 0;
	cs_err err;

	if (cs_recur_expand(rec, col_time(a->res, row, C_START), PQgetvalue(a->res, row, C_TZ),
			    a->from, a->to, starts, MAX_OCCURRENCES, &n, &err)) {
		fprintf(stderr, "agenda: event %s: %s (shown once)\n",
			PQgetvalue(a->res, row, C_ID), err.msg);
		add(a, col_time(a->res, row, C_START), row);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!rec || !overridden(a->res, row, (time_t)starts[i]))
			add(a, (time_t)starts[i], row);
}

static int by_start(const void *x, const void *y)
{
	const struct occurrence *p = x, *q = y;

	return p->start < q->start ? -1 : p->start > q->start;
}

static void print(const struct agenda *a)
{
	icaltimezone *zone = icaltimezone_get_builtin_timezone(
		PQntuples(a->res) ? PQgetvalue(a->res, 0, C_TENANT_TZ) : "UTC");

	printf("when\tbadge\tcalendar\ttitle\n");
	for (int i = 0; i < a->n; i++) {
		int r = a->items[i].row;
		struct icaltimetype t = icaltime_from_timet_with_zone(
			a->items[i].start, 0, zone ? zone : icaltimezone_get_utc_timezone());

		if (strcmp(PQgetvalue(a->res, r, C_ALLDAY), "t") == 0)
			printf("%04d-%02d-%02d all day", t.year, t.month, t.day);
		else
			printf("%04d-%02d-%02d %02d:%02d", t.year, t.month, t.day, t.hour, t.minute);
		printf("\t%s\t%s\t%s\n", PQgetvalue(a->res, r, C_PROVIDER),
		       PQgetvalue(a->res, r, C_CALENDAR), PQgetvalue(a->res, r, C_TITLE));
	}
}

int cmd_agenda(const cs_config *cfg, int argc, char **argv)
{
	const char *tenant = cli_opt(argc, argv, "--tenant");
	const char *from = cli_opt(argc, argv, "--from");
	const char *days = cli_opt(argc, argv, "--days");
	const char *params[3] = {tenant, from, days ? days : "7"};
	struct agenda a = {0};
	long long *starts;

	if (!tenant)
		return 2;
	if (!cs_is_uuid(tenant))
		return cli_fail("agenda: --tenant must be a UUID");
	if (cli_query(cfg,
		      "WITH w AS (SELECT (COALESCE($2::date, (NOW() AT TIME ZONE t.timezone)::date)"
		      "  ::timestamp AT TIME ZONE t.timezone) AS t0, $3::int AS d, t.timezone"
		      "  FROM tenants t WHERE t.id = $1)"
		      " SELECT v.id, v.provider, v.calendar_name, v.title, v.recurrence,"
		      " extract(epoch FROM v.start_time)::bigint, COALESCE(v.timezone, 'UTC'),"
		      " v.recurring_event_id, extract(epoch FROM e.original_start_time)::bigint,"
		      " e.status, v.is_all_day, extract(epoch FROM w.t0)::bigint,"
		      " extract(epoch FROM w.t0 + make_interval(days => w.d))::bigint, w.timezone"
		      " FROM unified_calendar_events v JOIN events e ON e.id = v.id, w"
		      " WHERE v.tenant_id = $1 AND v.start_time < w.t0 + make_interval(days => w.d)"
		      " UNION ALL SELECT e.id, 'hub', '', e.title, NULL, 0, 'UTC', e.recurring_event_id,"
		      " extract(epoch FROM e.original_start_time)::bigint, e.status, FALSE,"
		      " extract(epoch FROM w.t0)::bigint,"
		      " extract(epoch FROM w.t0 + make_interval(days => w.d))::bigint, w.timezone"
		      " FROM events e, w WHERE e.tenant_id = $1 AND e.status = 'cancelled'"
		      " AND e.recurring_event_id IS NOT NULL AND e.deleted_at IS NULL",
		      3, params, &a.res))
		return 1;
	a.items = calloc(MAX_OCCURRENCES, sizeof(*a.items));
	starts = calloc(MAX_OCCURRENCES, sizeof(*starts));
	if (!a.items || !starts) {
		free(a.items);
		free(starts);
		PQclear(a.res);
		return cli_fail("out of memory");
	}
	if (PQntuples(a.res) > 0) {
		a.from = col_time(a.res, 0, C_FROM);
		a.to = col_time(a.res, 0, C_TO);
	}
	for (int i = 0; i < PQntuples(a.res); i++)
		if (strcmp(PQgetvalue(a.res, i, C_STATUS), "cancelled") != 0)
			expand(&a, i, starts);
	qsort(a.items, (size_t)a.n, sizeof(*a.items), by_start);
	print(&a);
	free(starts);
	free(a.items);
	PQclear(a.res);
	return 0;
}
