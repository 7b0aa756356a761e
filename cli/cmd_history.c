/*
 * cmd_history.c - `calsync history <calendar-id> [--event <id>] [--limit N]`:
 * the audit of a calendar (migration 050), newest first, in one timeline -
 * the jobs that ran on it (type, status, counts, error) and every change of
 * its events (which side, which fields, by which job, or in Family Hub
 * itself) - or, with --event, the changes of one event and the jobs that
 * made them: "what moved my dentist appointment?".
 */
#include <stdlib.h>

#include "cli.h"
#include "ids.h"
#include "banned.h"

#define DEFAULT_LIMIT "50"

/* $1 calendar, $2 event or NULL, $3 limit. */
static const char sql_history[] =
	"WITH ch AS (SELECT c.* FROM sync_audit_changes c"
	"  WHERE ($2::uuid IS NULL AND (c.calendar_id = $1 OR c.event_id IN"
	"    (SELECT m.event_id FROM calendar_event_mappings m WHERE m.external_calendar_id = $1)))"
	"   OR c.event_id = $2::uuid)"
	" SELECT * FROM ("
	"  SELECT to_char(ch.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS at_utc,"
	"   'change' AS what,"
	"   CASE WHEN ch.side = 'provider' THEN 'calsync wrote ' || COALESCE(ec.provider, 'the provider')"
	"        WHEN ch.job_id IS NULL THEN 'changed in Family Hub'"
	"        ELSE 'calsync wrote Family Hub' END AS side,"
	"   ch.action, ch.event_id::text AS event, e.title,"
	"   NULLIF(array_to_string(ch.fields, ','), '') AS fields, ch.job_id AS job,"
	"   j.job_type || ' ' || j.status AS detail"
	"  FROM ch LEFT JOIN events e ON e.id = ch.event_id"
	"  LEFT JOIN external_calendars ec ON ec.id = ch.calendar_id"
	"  LEFT JOIN LATERAL (SELECT job_type, status FROM sync_audit_jobs aj"
	"   WHERE aj.job_id = ch.job_id ORDER BY aj.finished_at DESC LIMIT 1) j ON TRUE"
	"  UNION ALL"
	"  SELECT to_char(j.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), 'job',"
	"   'job on ' || COALESCE(j.worker, '?'), j.job_type, NULL, NULL, NULL, j.job_id,"
	"   j.status || ' created=' || j.created || ' updated=' || j.updated"
	"   || ' deleted=' || j.deleted || ' pushed=' || j.pushed || ' conflicts=' || j.conflicts"
	"   || ' ' || j.duration_ms || 'ms' || COALESCE(': ' || j.error, '')"
	"  FROM sync_audit_jobs j WHERE j.calendar_id = $1"
	"   AND ($2::uuid IS NULL OR j.job_id IN (SELECT job_id FROM ch))"
	" ) t ORDER BY at_utc DESC, what LIMIT $3::int";

int cmd_history(const cs_config *cfg, int argc, char **argv)
{
	const char *event = cli_opt(argc, argv, "--event");
	const char *limit = cli_opt(argc, argv, "--limit");
	const char *params[3] = {argc > 0 ? argv[0] : NULL, event, limit ? limit : DEFAULT_LIMIT};
	char *end = NULL;
	PGresult *res = NULL;

	if (!params[0] || !cs_is_uuid(params[0]))
		return cli_fail("history: '%s' is not a calendar id (a UUID)",
				params[0] ? params[0] : "");
	if (event && !cs_is_uuid(event))
		return cli_fail("history: --event must be an event id (a UUID)");
	if (strtol(params[2], &end, 10) < 1 || *end)
		return cli_fail("history: --limit must be a positive number");
	if (cli_query(cfg, sql_history, 3, params, &res))
		return 1;
	cli_print_rows(res);
	PQclear(res);
	return 0;
}
