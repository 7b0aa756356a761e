/*
 * pull_overlap.c - time_overlap conflicts (contract 5.5): informational,
 * they block nothing. A pulled timed event that overlaps a live
 * Hub-created event (source_calendar_id NULL: it came from no external
 * calendar) of the calendar's owner, not longer than OVERLAP_REACH, is
 * stored once per event and announced.
 */
#include "conflict.h"
#include "pull_page.h"
#include "observe.h"
#include "banned.h"

/*
 * How far back a Hub event may start and still overlap: the check walks
 * the index of the owner's Hub events over this span before each pulled
 * event, so a Hub event longer than this is not compared.
 */
#define OVERLAP_REACH "2 days"

int cs_pull_overlaps(cs_pull_run *run, const char *events, cs_err *err)
{
	const char *params[4] = {events, run->cal->user_id, run->cal->tenant_id, run->cal->id};
	PGresult *res = NULL;

	if (cs_db_exec(run->s->db, &res, err,
		       "WITH hit AS MATERIALIZED (SELECT p.id, h.id AS hid, h.title AS htitle,"
		       "  h.start_time AS hs, h.end_time AS he, p.title, p.start_time, p.end_time"
		       "  FROM jsonb_to_recordset($1::jsonb) AS p(id uuid, title text,"
		       "   start_time timestamptz, end_time timestamptz)"
		       "  JOIN LATERAL (SELECT h.id, h.title, h.start_time, h.end_time FROM events h"
		       "   WHERE h.tenant_id = $3 AND h.created_by = $2 AND h.source_calendar_id IS NULL"
		       "   AND h.deleted_at IS NULL AND h.start_time > p.start_time - interval '" OVERLAP_REACH "'"
		       "   AND h.start_time < p.end_time AND h.end_time > p.start_time"
		       "   AND h.status <> 'cancelled' AND NOT h.is_all_day AND h.id <> p.id"
		       "   ORDER BY h.start_time LIMIT 1) h ON TRUE)"
		       " INSERT INTO calendar_conflicts (tenant_id, event_id, external_calendar_id,"
		       " external_event_id, conflict_type, local_data, external_data)"
		       " SELECT $3, hit.id, $4, m.external_event_id, 'time_overlap',"
		       "  jsonb_build_object('id', hit.hid, 'title', hit.htitle, 'start', hit.hs, 'end', hit.he),"
		       "  jsonb_build_object('id', hit.id, 'title', hit.title, 'start', hit.start_time,"
		       "   'end', hit.end_time)"
		       " FROM hit JOIN calendar_event_mappings m ON m.event_id = hit.id"
		       "  AND m.external_calendar_id = $4"
		       " WHERE NOT EXISTS (SELECT 1 FROM calendar_conflicts c WHERE"
		       "  c.event_id = hit.id AND c.external_calendar_id = $4"
		       "  AND c.conflict_type = 'time_overlap' AND c.status = 'pending')",
		       4, params))
		return -1;
	run->s->report.counts.conflicts += cs_db_rows(res);
	cs_observe_conflicts_raised("time_overlap", cs_db_rows(res));
	PQclear(res);
	return 0;
}
