/*
 * cmd_view.c - the tool's read-only views: `status` (calendars and their
 * last sync, how they learn of remote changes - a push channel or polling,
 * and why polling when a channel could not be made - the queues) and `conflicts` (pending conflicts). `agenda` is
 * in cmd_agenda.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "ids.h"
#include "queue.h"
#include "redisconn.h"
#include "banned.h"

int cli_query(const cs_config *cfg, const char *sql, int n, const char *const *params,
		 PGresult **res)
{
	cs_db *db = NULL;
	cs_err err;
	int rc;

	rc = cs_db_new(&db, cfg->database_url, &err) || cs_db_exec(db, res, &err, sql, n, params);
	cs_db_free(db);
	return rc ? cli_fail("%s", err.msg) : 0;
}

void cli_print_rows(PGresult *res)
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
	if (cs_redis_cmdf(r, NULL, &err, "PING")) {
		printf("\nqueues: %s\n", err.msg);
		cs_redis_free(r);
		return;
	}
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
	{
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
	if (cli_query(cfg,
		  "SELECT ec.id, ec.provider, ec.calendar_name AS name, ec.sync_direction AS direction,"
		  " ec.is_active AS active, s.last_sync_at, s.last_sync_status AS status,"
		  " s.events_synced AS synced, s.last_sync_error AS error,"
		  " CASE WHEN w.state = 'live' AND w.expires_at > now()"
		  "      THEN 'push until ' || to_char(w.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || 'Z'"
		  "      WHEN w.state = 'failed' THEN 'polling (no push channel: ' || w.last_error || ')'"
		  "      ELSE 'polling' END AS updates"
		  " FROM external_calendars ec"
		  " LEFT JOIN calendar_sync_states s ON s.external_calendar_id = ec.id"
		  " LEFT JOIN calendar_watch_channels w ON w.external_calendar_id = ec.id"
		  " WHERE $1::uuid IS NULL OR ec.id = $1::uuid ORDER BY ec.created_at",
		  1, &cal, &res))
		return 1;
	cli_print_rows(res);
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
	if (cli_query(cfg,
		  "SELECT c.id, c.conflict_type AS type, c.event_id, c.external_calendar_id AS calendar,"
		  " c.local_data->>'title' AS hub_title, c.external_data->>'title' AS external_title,"
		  " c.created_at FROM calendar_conflicts c WHERE c.status = 'pending'"
		  " AND ($1::uuid IS NULL OR c.tenant_id = $1::uuid) ORDER BY c.created_at",
		  1, &tenant, &res))
		return 1;
	cli_print_rows(res);
	PQclear(res);
	return 0;
}
