/*
 * sync.c - the `sync` and `push` jobs. A sync pulls the calendar's remote
 * changes (pull.c), pushes the Hub's pending changes (push.c), and
 * records how it went in calendar_sync_states. A push writes one Hub
 * event to one calendar now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "ids.h"
#include "pull.h"
#include "push.h"
#include "targets.h"
#include "banned.h"

static int record(cs_worker *w, cs_job *job, cs_calendar *cal, const char *status,
		  const char *error, cs_err *err)
{
	char c[4][16];
	const char *params[8] = {cal->id, status, error && *error ? error : NULL, job->job_id,
				 c[0], c[1], c[2], c[3]};
	int counts[4] = {job->counts.created, job->counts.updated, job->counts.deleted,
			 job->counts.pushed};

	for (int i = 0; i < 4; i++)
		snprintf(c[i], sizeof(c[i]), "%d", counts[i]);
	if (cs_db_begin(w->db, err))
		return -1;
	if (cs_worker_fence(w, job, err) ||
	    cs_db_exec(w->db, NULL, err,
		       "UPDATE calendar_sync_states SET last_sync_at = NOW(), last_sync_status = $2,"
		       " last_sync_error = $3, last_job_id = $4,"
		       " events_created = events_created + $5::int,"
		       " events_updated = events_updated + $6::int,"
		       " events_deleted = events_deleted + $7::int,"
		       " events_synced = events_synced + $5::int + $6::int + $7::int + $8::int,"
		       " updated_at = NOW() WHERE external_calendar_id = $1",
		       8, params) ||
	    cs_db_commit(w->db, err)) {
		cs_db_rollback(w->db);
		return -1;
	}
	return 0;
}

static int sync_calendar(cs_worker *w, cs_job *job, cs_calendar *cal, cs_err *err)
{
	const char *mode = cs_job_str(job, "mode");
	bool full = mode && strcmp(mode, "full") == 0;
	int rc = 0;

	if (mode && !full && strcmp(mode, "incremental") != 0)
		return cs_err_set(err, CS_EINVAL, false, "sync job: mode '%.32s' is not incremental or full",
				  mode);
	if (!cal->active) {
		snprintf(job->error, sizeof(job->error), "calendar is not active: nothing to do");
		return 0;
	}
	if (cs_calendar_pulls(cal))
		rc = cs_pull(w, job, cal, full, err);
	if (rc == 0 && cs_calendar_pushes(cal))
		rc = cs_push_pending(w, job, cal, full || !cal->sync_token, err);
	if (rc == 0)
		return record(w, job, cal, job->status ? job->status : "success", job->error, err);
	if (err->code != CS_EFENCED && err->code != CS_EAUTH)
		record(w, job, cal, "failed", err->msg, NULL);
	return -1;
}

int cs_handle_sync(cs_worker *w, cs_job *job, cs_err *err)
{
	return cs_calendar_run(w, job, true, sync_calendar, err);
}

static int push_one(cs_worker *w, cs_job *job, cs_calendar *cal, cs_err *err)
{
	const char *event_id = cs_job_str(job, "event_id");
	cs_idlist targets = {0};
	bool target = false;

	if (cs_targets_for_event(w->db, event_id, &targets, err))
		return -1;
	for (int i = 0; i < targets.n; i++)
		target = target || strcmp(targets.ids[i], cal->id) == 0;
	cs_idlist_release(&targets);
	if (!target) {
		snprintf(job->error, sizeof(job->error),
			 "event %s does not go to this calendar: nothing to do", event_id);
		return 0;
	}
	return cs_push_event(w, job, cal, event_id, err);
}

int cs_handle_push(cs_worker *w, cs_job *job, cs_err *err)
{
	if (!cs_is_uuid(cs_job_str(job, "event_id")))
		return cs_err_set(err, CS_EINVAL, false, "push job: event_id is missing or not a UUID");
	return cs_calendar_run(w, job, true, push_one, err);
}
