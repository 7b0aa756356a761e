/*
 * progress.c - what a running job does besides its work: keep its lock
 * and claims alive, tell the UI how far it got (sync_progress), and check
 * its fencing token before it commits (see worker.h). The tokens are
 * handed out by PostgreSQL, the source of truth: a counter on the
 * calendar's state row that each lock holder raises at its first commit,
 * from the value it read when it started, so a holder always commits with
 * a token above anything PostgreSQL has accepted - also after Redis lost
 * its data - and a job that commits nothing writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "batch_scripts.h"
#include "queue.h"
#include "worker.h"
#include "banned.h"

#define PROGRESS_EVERY_MS 1000

int cs_worker_progress(cs_worker *w, cs_job *job, int events_done,
		       const char *phase, cs_err *err)
{
	long long now = cs_now_ms();
	json_t *o;
	char *s;
	int rc = 0;

	if (now - w->last_progress_ms < PROGRESS_EVERY_MS)
		return 0;
	w->last_progress_ms = now;
	if (cs_keeper_beat(w->keeper, err))
		return -1;
	if (now - job->started_ms < PROGRESS_EVERY_MS)
		return 0;
	o = json_pack("{s:s, s:s?, s:s?, s:i, s:s}", "job_id", job->job_id,
		      "calendar_id", job->calendar_id, "tenant_id", job->tenant_id,
		      "events_done", events_done, "phase", phase);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s)
		rc = cs_queue_publish(w->redis, CS_STREAM_RESULTS, "sync_progress", s, err);
	free(s);
	json_decref(o);
	return rc;
}

int cs_worker_read_fence(cs_worker *w, cs_job *job, cs_err *err)
{
	PGresult *res = NULL;

	job->fence = job->fence_seen = 0;
	if (cs_db_exec(w->db, &res, err,
		       "SELECT fence FROM calendar_sync_states WHERE external_calendar_id = $1",
		       1, (const char *const[]){job->calendar_id}))
		return -1;
	if (PQntuples(res) == 1)
		job->fence_seen = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/*
 * The job's first commit raises the counter - only from the value it saw
 * when it started: a holder that came after it and committed first raised
 * it already, and then this job is stale.
 */
static int take_fence(cs_worker *w, cs_job *job, cs_err *err)
{
	char seen[24];
	const char *params[2] = {job->calendar_id, seen};
	PGresult *res = NULL;
	int rc = 0;

	snprintf(seen, sizeof(seen), "%lld", job->fence_seen);
	if (cs_db_exec(w->db, &res, err,
		       "INSERT INTO calendar_sync_states (external_calendar_id, fence)"
		       " SELECT id, $2::bigint + 1 FROM external_calendars WHERE id = $1"
		       " ON CONFLICT (external_calendar_id) DO UPDATE SET fence = calendar_sync_states.fence + 1"
		       " WHERE calendar_sync_states.fence = $2::bigint RETURNING fence",
		       2, params))
		return -1;
	if (PQntuples(res) == 1)
		job->fence = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else
		rc = cs_err_set(err, CS_EFENCED, false,
				"another job took this calendar since this one started: this one is stale");
	PQclear(res);
	return rc;
}

int cs_worker_fence(cs_worker *w, cs_job *job, cs_err *err)
{
	char fence[24];
	const char *params[2] = {job->calendar_id, fence};
	PGresult *res = NULL;
	int rc = 0;

	if (job->has_lock && job->fence == 0)
		return take_fence(w, job, err);
	snprintf(fence, sizeof(fence), "%lld", job->fence);
	if (cs_db_exec(w->db, &res, err,
		       "INSERT INTO calendar_sync_states (external_calendar_id, fence)"
		       " VALUES ($1, $2::bigint)"
		       " ON CONFLICT (external_calendar_id) DO UPDATE SET fence = EXCLUDED.fence"
		       " WHERE calendar_sync_states.fence <= EXCLUDED.fence RETURNING 1",
		       2, params))
		return -1;
	if (PQntuples(res) != 1)
		rc = cs_err_set(err, CS_EFENCED, false,
				"a newer job committed on this calendar: this one is stale");
	PQclear(res);
	return rc;
}
