/* conflict.c - storing and announcing conflicts (see conflict.h). */
#include "conflict.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

int cs_conflict_announce(cs_job *job, const cs_calendar *cal, const char *id, const char *type,
		    const char *event_id, const char *remote_id, const char *detected_at,
		    cs_err *err)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:s}", "conflict_id", id,
			      "tenant_id", cal->tenant_id, "calendar_id", cal->id,
			      "event_id", event_id, "external_event_id", remote_id,
			      "conflict_type", type, "detected_at", detected_at);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!s)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	if (!job->conflicts)
		job->conflicts = json_array();
	json_array_append_new(job->conflicts, json_string(s));
	free(s);
	job->counts.conflicts++;
	return 0;
}

int cs_conflict_raise(cs_worker *w, cs_job *job, const cs_calendar *cal, const char *type,
		      const char *event_id, const char *remote_id, json_t *local,
		      json_t *external, cs_err *err)
{
	char *ljson = local ? json_dumps(local, JSON_COMPACT) : NULL;
	char *ejson = external ? json_dumps(external, JSON_COMPACT) : NULL;
	const char *params[7] = {cal->tenant_id, event_id, cal->id, remote_id, type, ljson, ejson};
	PGresult *res = NULL;
	int rc = -1;

	if (cs_db_exec(w->db, &res, err,
		       "INSERT INTO calendar_conflicts (tenant_id, event_id, external_calendar_id,"
		       " external_event_id, conflict_type, local_data, external_data)"
		       " SELECT $1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::jsonb, $7::jsonb"
		       " WHERE NOT EXISTS (SELECT 1 FROM calendar_conflicts WHERE status = 'pending'"
		       "  AND event_id IS NOT DISTINCT FROM $2::uuid AND external_calendar_id = $3::uuid"
		       "  AND conflict_type = $5::text)"
		       " RETURNING id, to_char(created_at AT TIME ZONE 'UTC',"
		       "  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
		       7, params))
		goto out;
	rc = 0;
	if (PQntuples(res) == 1)
		rc = cs_conflict_announce(job, cal, PQgetvalue(res, 0, 0), type, event_id, remote_id,
			      PQgetvalue(res, 0, 1), err);
out:
	PQclear(res);
	free(ljson);
	free(ejson);
	return rc;
}
