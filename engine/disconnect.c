/* disconnect.c - removing a calendar's connection (see disconnect.h). */
#include "disconnect.h"

#include <stdlib.h>

#include "log.h"
#include "mapping.h"
#include "banned.h"

/* Does another connection of the same user use the same provider account? */
static int shares_grant(cs_sync *s, const cs_calendar *cal, bool *shared, cs_err *err)
{
	PGresult *res = NULL;

	if (cs_db_exec(s->db, &res, err,
		       "SELECT 1 FROM external_calendars WHERE user_id = $1 AND provider = $2"
		       " AND id <> $3 LIMIT 1",
		       3, (const char *const[]){cal->user_id, cal->provider_name, cal->id}))
		return -1;
	*shared = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

int cs_disconnect(cs_sync *s, cs_calendar *cal, bool remove_events, cs_err *err)
{
	const char *params[2] = {cal->id, remove_events ? "t" : "f"};
	PGresult *res = NULL;
	bool shared = false;
	cs_err rerr;

	if (shares_grant(s, cal, &shared, err))
		return -1;
	if (!shared && (cs_calendar_connect(s, cal, &rerr) ||
			cal->ops->revoke(cal->provider, &rerr))) {
		if (rerr.retryable) {
			*err = rerr;
			return -1;
		}
		cs_warn("calendar %s: revoking the grant failed (%s); removing the connection anyway",
			cal->id, rerr.msg);
	}
	if (cs_db_begin(s->db, err))
		return -1;
	if ((!remove_events && cs_mapping_detach(s->db, cal->id, err)) ||
	    cs_db_exec(s->db, &res, err,
		       "WITH gone AS (UPDATE events e SET deleted_at = NOW(), updated_at = NOW()"
		       " FROM calendar_event_mappings m WHERE $2::boolean AND m.event_id = e.id"
		       " AND m.external_calendar_id = $1 AND m.sync_direction = 'from_external'"
		       " AND e.deleted_at IS NULL RETURNING e.id)"
		       " SELECT count(*) FROM gone",
		       2, params) ||
	    cs_db_exec(s->db, NULL, err, "DELETE FROM external_calendars WHERE id = $1", 1, params) ||
	    cs_db_commit(s->db, err)) {
		PQclear(res);
		cs_db_rollback(s->db);
		return -1;
	}
	s->report.counts.deleted = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}
