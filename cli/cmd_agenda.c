/*
 * cmd_agenda.c - `calsync agenda`: the unified calendar of a tenant over a
 * few days, in the tenant's time zone, with provider badges. Recurring
 * series are expanded with libical in their own zone (so a weekly 17:30
 * stays 17:30 across a DST change); EXDATEs and cancelled overrides remove
 * an occurrence, other overrides replace it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "cli.h"
#include "ids.h"
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

/* Is t listed by one of the EXDATE lines of the recurrence? */
static bool excluded(const char *recurrence, time_t t, icaltimezone *zone)
{
	const char *line = recurrence;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		char buf[512];
		icalproperty *p;

		snprintf(buf, sizeof(buf), "%.*s", (int)(end ? end - line : (long)strlen(line)), line);
		if (strncmp(buf, "EXDATE", 6) == 0 && (p = icalproperty_new_from_string(buf))) {
			struct icaltimetype ex = icalproperty_get_exdate(p);
			icalparameter *tzid = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
			icaltimezone *z = tzid ? icaltimezone_get_builtin_timezone(
							 icalparameter_get_tzid(tzid)) : NULL;
			bool hit = icaltime_as_timet_with_zone(ex, icaltime_is_utc(ex) ? NULL : (z ? z : zone)) == t;

			icalproperty_free(p);
			if (hit)
				return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

static void expand(struct agenda *a, int row)
{
	const char *rec = PQgetvalue(a->res, row, C_RECURRENCE);
	const char *rrule = strstr(rec, "RRULE:");
	icaltimezone *zone = icaltimezone_get_builtin_timezone(PQgetvalue(a->res, row, C_TZ));
	time_t start = col_time(a->res, row, C_START);
	struct icalrecurrencetype recur;
	icalrecur_iterator *it;
	char rule[512];

	if (!zone)
		zone = icaltimezone_get_utc_timezone();
	if (!rrule) {
		add(a, start, row);
		return;
	}
	snprintf(rule, sizeof(rule), "%.*s", (int)strcspn(rrule + 6, "\n"), rrule + 6);
	recur = icalrecurrencetype_from_string(rule);
	it = icalrecur_iterator_new(recur, icaltime_from_timet_with_zone(start, 0, zone));
	for (struct icaltimetype t = it ? icalrecur_iterator_next(it) : icaltime_null_time();
	     !icaltime_is_null_time(t); t = icalrecur_iterator_next(it)) {
		time_t tt = icaltime_as_timet_with_zone(t, zone);

		if (tt >= a->to)
			break;
		if (!excluded(rec, tt, zone) && !overridden(a->res, row, tt))
			add(a, tt, row);
	}
	if (it)
		icalrecur_iterator_free(it);
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
	if (!a.items) {
		PQclear(a.res);
		return cli_fail("out of memory");
	}
	if (PQntuples(a.res) > 0) {
		a.from = col_time(a.res, 0, C_FROM);
		a.to = col_time(a.res, 0, C_TO);
	}
	for (int i = 0; i < PQntuples(a.res); i++) {
		if (strcmp(PQgetvalue(a.res, i, C_STATUS), "cancelled") == 0)
			continue;
		if (PQgetisnull(a.res, i, C_RECURRENCE))
			add(&a, col_time(a.res, i, C_START), i);
		else
			expand(&a, i);
	}
	qsort(a.items, (size_t)a.n, sizeof(*a.items), by_start);
	print(&a);
	free(a.items);
	PQclear(a.res);
	return 0;
}
