/*
 * sync.c - a calendar's sync and a push of one event (see sync.h): the
 * pull, then the push, then the calendar's sync state, in a transaction
 * only the holder of the calendar may commit.
 */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "pull.h"
#include "push.h"
#include "targets.h"
#include "banned.h"

static int record(cs_sync *s, cs_calendar *cal, const char *status, const char *error,
		  cs_err *err)
{
	const cs_counts *n = &s->report.counts;
	char c[4][16];
	const char *params[8] = {cal->id, status, error && *error ? error : NULL, s->run_id,
				 c[0], c[1], c[2], c[3]};
	int counts[4] = {n->created, n->updated, n->deleted, n->pushed};

	for (int i = 0; i < 4; i++)
		snprintf(c[i], sizeof(c[i]), "%d", counts[i]);
	if (cs_db_begin(s->db, err))
		return -1;
	if (s->fence(s, err) ||
	    cs_db_exec(s->db, NULL, err,
		       "UPDATE calendar_sync_states SET last_sync_at = NOW(), last_sync_status = $2,"
		       " last_sync_error = $3, last_job_id = $4,"
		       " events_created = events_created + $5::int,"
		       " events_updated = events_updated + $6::int,"
		       " events_deleted = events_deleted + $7::int,"
		       " events_synced = events_synced + $5::int + $6::int + $7::int + $8::int,"
		       " updated_at = NOW() WHERE external_calendar_id = $1",
		       8, params) ||
	    cs_db_commit(s->db, err)) {
		cs_db_rollback(s->db);
		return -1;
	}
	return 0;
}

/* Nothing changed, nothing to say, and the state row says so already. */
static bool quiet(const cs_sync *s, const cs_calendar *cal)
{
	const cs_counts *n = &s->report.counts;

	return cal->last_clean && !s->report.status && !s->report.error[0] && n->created == 0 &&
	       n->updated == 0 && n->deleted == 0 && n->pushed == 0;
}

int cs_sync_stamp_quiet(cs_db *db, const char *stamps, cs_err *err)
{
	return cs_db_exec(db, NULL, err,
			  "UPDATE calendar_sync_states s SET last_sync_at = NOW(), last_job_id = v.job"
			  " FROM json_to_recordset($1::json) AS v(cal uuid, job text)"
			  " WHERE s.external_calendar_id = v.cal AND s.last_sync_status = 'success'",
			  1, &stamps);
}

int cs_sync_calendar(cs_sync *s, cs_calendar *cal, bool full, cs_err *err)
{
	cs_sync_report *r = &s->report;
	int rc = 0;

	if (!cal->active) {
		snprintf(r->error, sizeof(r->error), "calendar is not active: nothing to do");
		return 0;
	}
	if (cs_calendar_pulls(cal))
		rc = cs_pull(s, cal, full, err);
	if (rc == 0 && cs_calendar_pushes(cal))
		rc = cs_push_pending(s, cal, full || !cal->sync_token, err);
	if (rc == 0 && quiet(s, cal)) {
		r->quiet = true;
		return 0;
	}
	if (rc == 0)
		return record(s, cal, r->status ? r->status : "success", r->error, err);
	if (err->code == CS_EAUTH && cs_calendar_token_moved(s, cal)) {
		err->code = CS_EIO;   /* another calendar of the mailbox rotated it: retry with it */
		err->retryable = true;
		cs_err_prefix(err, "the refresh token was rotated meanwhile, retrying");
	}
	if (err->code != CS_EFENCED && err->code != CS_EAUTH)
		record(s, cal, "failed", err->msg, NULL);
	return -1;
}

int cs_sync_event(cs_sync *s, cs_calendar *cal, const char *event_id, cs_err *err)
{
	cs_idlist targets = {0};
	bool target = false;

	if (cs_targets_for_event(s->db, event_id, &targets, err))
		return -1;
	for (int i = 0; i < targets.n; i++)
		target = target || strcmp(targets.ids[i], cal->id) == 0;
	cs_idlist_release(&targets);
	if (!target) {
		snprintf(s->report.error, sizeof(s->report.error),
			 "event %s does not go to this calendar: nothing to do", event_id);
		return 0;
	}
	return cs_push_event(s, cal, event_id, err);
}
