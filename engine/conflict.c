/* conflict.c - storing conflicts and gathering their announcements (see conflict.h). */
#include "conflict.h"

#include <stdlib.h>
#include <string.h>

#include "observe.h"
#include "banned.h"

/* At most this many announcements are collected at once; the rest by the next call. */
#define COLLECT_MAX "500"

int cs_conflict_raise(cs_sync *s, const cs_calendar *cal, const char *type,
		      const char *event_id, const char *remote_id, json_t *local,
		      json_t *external, cs_err *err)
{
	char *ljson = local ? json_dumps(local, JSON_COMPACT) : NULL;
	char *ejson = external ? json_dumps(external, JSON_COMPACT) : NULL;
	const char *params[7] = {cal->tenant_id, event_id, cal->id, remote_id, type, ljson, ejson};
	PGresult *res = NULL;
	int rc;

	/* a run that lost its calendar raises nothing: its view may be stale */
	rc = s->holds(s, err);
	if (rc == 0)
		rc = cs_db_exec(s->db, &res, err,
				"INSERT INTO calendar_conflicts (tenant_id, event_id, external_calendar_id,"
				" external_event_id, conflict_type, local_data, external_data)"
				" SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::jsonb, $7::jsonb"
				" WHERE NOT EXISTS (SELECT 1 FROM calendar_conflicts WHERE status = 'pending'"
				"  AND event_id IS NOT DISTINCT FROM $2::uuid AND external_calendar_id = $3::uuid"
				"  AND conflict_type = $5::text)",
				7, params);
	if (rc == 0)
		s->report.counts.conflicts += cs_db_rows(res);
	if (rc == 0)
		cs_observe_conflicts_raised(type, cs_db_rows(res));
	PQclear(res);
	free(ljson);
	free(ejson);
	return rc;
}

int cs_conflicts_collect(cs_db *db, const char *calendar_id, json_t **announcements,
			 json_t **ids, cs_err *err)
{
	const char *params[2] = {calendar_id, COLLECT_MAX};
	PGresult *res = NULL;
	int rc = -1;

	if (cs_db_exec(db, &res, err,
		       "SELECT json_build_object('conflict_id', id, 'tenant_id', tenant_id,"
		       "  'calendar_id', external_calendar_id, 'event_id', event_id,"
		       "  'external_event_id', external_event_id, 'conflict_type', conflict_type,"
		       "  'detected_at', to_char(created_at AT TIME ZONE 'UTC',"
		       "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))::text, id::text"
		       " FROM calendar_conflicts WHERE external_calendar_id = $1::uuid"
		       " AND announced_at IS NULL AND status = 'pending'"
		       " ORDER BY created_at, id LIMIT $2::int",
		       2, params))
		goto out;
	if (PQntuples(res) > 0) {
		*announcements = json_array();
		*ids = json_array();
		if (!*announcements || !*ids) {
			cs_err_set(err, CS_ENOMEM, true, "out of memory");
			goto out;
		}
	}
	for (int i = 0; i < PQntuples(res); i++) {
		json_array_append_new(*announcements, json_string(PQgetvalue(res, i, 0)));
		json_array_append_new(*ids, json_string(PQgetvalue(res, i, 1)));
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int cs_conflicts_announced(cs_db *db, const json_t *ids, cs_err *err)
{
	char *text;
	int rc;

	if (json_array_size(ids) == 0)
		return 0;
	text = json_dumps(ids, JSON_COMPACT);
	if (!text)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	rc = cs_db_exec(db, NULL, err,
			"UPDATE calendar_conflicts SET announced_at = NOW() WHERE id IN"
			" (SELECT (jsonb_array_elements_text($1::jsonb))::uuid)",
			1, (const char *const[]){text});
	free(text);
	return rc;
}
