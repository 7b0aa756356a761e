/* run.c - a job prepared and locked, run in a slot, ended (see run.h). */
#include <signal.h>

#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "batch_scripts.h"
#include "conflict.h"
#include "log.h"
#include "observe.h"
#include "pull.h"
#include "queue.h"
#include "sync.h"
#include "banned.h"

void cs_run_classify(const cs_config *cfg, cs_job *job, const cs_err *err)
{
	job->retry_after_ms = err->retry_after_ms > 0 ? err->retry_after_ms : 0;
	job->rate_limited = err->code == CS_ERATELIMIT && err->retryable && job->retry_after_ms > 0;
	if (err->code == CS_EFENCED)
		cs_job_end(job, CS_OUT_ACK, "failed", err->msg); /* the finish is refused */
	else if (job->rate_limited || (err->retryable && job->attempt < cfg->max_attempts))
		cs_job_end(job, CS_OUT_RETRY, "retrying", err->msg);
	else if (err->code == CS_EAUTH)
		cs_job_end(job, CS_OUT_ACK, "failed", err->msg);
	else
		cs_job_end(job, CS_OUT_DEAD, "dead", err->msg);
}

void cs_run_prepare(cs_worker *w, cs_job *job)
{
	const struct cs_handler *h;
	char msg[CS_ERR_MSG_MAX];
	cs_err err;

	if (job->bad) {
		cs_job_end(job, CS_OUT_DEAD, "dead", job->bad);
		return;
	}
	h = cs_dispatch_find(job->type);
	if (!h) {
		snprintf(msg, sizeof(msg), "unknown job type '%.64s'", job->type);
		cs_job_end(job, CS_OUT_DEAD, "dead", msg);
		return;
	}
	cs_err_clear(&err);
	if (h->calendar && h->calendar(w, job, &err))
		cs_run_classify(w->cfg, job, &err);
}

static void run_one(cs_worker *w, cs_joblist *jobs, cs_job *job, volatile sig_atomic_t *stop)
{
	const struct cs_handler *h = cs_dispatch_find(job->type);
	cs_err err;
	int rc;

	if (job->outcome != CS_OUT_NONE)
		return;
	if (*stop) {
		job->outcome = CS_OUT_REQUEUE;
		return;
	}
	if (job->calendar_id && !job->has_lock) {
		job->outcome = CS_OUT_DEFER;
		return;
	}
	cs_log_context(job->job_id, job->calendar_id);
	cs_err_clear(&err);
	job->started_ms = cs_now_ms();
	cs_observe_job_started(job->type);
	w->last_progress_ms = job->started_ms;
	cs_keeper_begin(w->keeper, job, jobs->items, jobs->n);
	rc = job->has_lock ? cs_worker_read_fence(w, job, &err) : 0;
	if (rc == 0)
		rc = h->run(w, job, &err);
	cs_keeper_end(w->keeper);
	cs_observe_job_ran(job->type, job->started_ms);
	if (rc == 0)
		cs_job_end(job, CS_OUT_ACK, job->status ? job->status : "success", job->error);
	else
		cs_run_classify(w->cfg, job, &err);
	if (job->outcome != CS_OUT_ACK || strcmp(job->status, "success") != 0)
		cs_info("job %s (%s) ended %s: %s", job->job_id, job->type, job->status, job->error);
	cs_log_context(NULL, NULL);
}

/* The job ran holding its calendar's lock (its end may announce for the calendar). */
static bool ran_locked(const cs_job *job)
{
	return job->calendar_id && job->has_lock &&
	       (job->outcome == CS_OUT_ACK || job->outcome == CS_OUT_RETRY ||
		job->outcome == CS_OUT_DEAD);
}

/*
 * Before the batch ends: each calendar's unannounced conflicts ride on the
 * end of its first job that ran (conflict.h). Best effort: what is not
 * gathered now, the calendar's next job announces.
 */
static void gather_conflicts(cs_worker *w, cs_joblist *jobs)
{
	for (int i = 0; i < jobs->n; i++) {
		cs_job *job = jobs->items[i];
		bool earlier = false;
		cs_err err;

		if (!ran_locked(job))
			continue;
		for (int k = 0; k < i && !earlier; k++)
			earlier = ran_locked(jobs->items[k]) &&
				  strcmp(jobs->items[k]->calendar_id, job->calendar_id) == 0;
		if (!earlier && cs_conflicts_collect(w->db, job->calendar_id, &job->conflicts,
						     &job->conflict_ids, &err))
			cs_warn("job %s: its calendar's conflicts wait for the next job: %s",
				job->job_id, err.msg);
	}
}

/* After the batch ended: count and audit the ends it recorded (observe.h, audit.h). */
static void observe_ends(cs_worker *w, const cs_joblist *jobs, const bool *fenced)
{
	for (int i = 0; i < jobs->n; i++) {
		enum cs_outcome o = jobs->items[i]->outcome;

		if (fenced[i] || (o != CS_OUT_ACK && o != CS_OUT_RETRY && o != CS_OUT_DEAD))
			continue;
		cs_observe_job_finished(jobs->items[i]->type, jobs->items[i]->status);
		cs_audit_job_ended(cs_job_result_json(jobs->items[i], w->consumer));
	}
}

/* After the batch ended: record what its ends announced. */
static void record_announced(cs_worker *w, cs_joblist *jobs, const bool *fenced)
{
	for (int i = 0; i < jobs->n; i++) {
		cs_err err;

		if (!fenced[i] && jobs->items[i]->conflict_ids &&
		    cs_conflicts_announced(w->db, jobs->items[i]->conflict_ids, &err))
			cs_warn("job %s: announced conflicts not recorded (they will be announced"
				" again): %s", jobs->items[i]->job_id, err.msg);
	}
}

int cs_run_lock(cs_worker *w, cs_joblist *jobs, cs_err *err)
{
	for (int i = 0; i < jobs->n; i++)
		cs_run_prepare(w, jobs->items[i]);
	return cs_batch_lock(w->redis, w->cfg, w->consumer, jobs->items, jobs->n, err);
}

void cs_run_group(cs_worker *w, cs_joblist *group, volatile sig_atomic_t *stop)
{
	for (int i = 0; i < group->n; i++)
		run_one(w, group, group->items[i], stop);
	gather_conflicts(w, group);
	if (w->stale_statistics) {
		w->stale_statistics = false;
		cs_pull_refresh_statistics(w->db);
	}
}

/*
 * Before the ends are published: one statement stamps last_sync_at of the
 * calendars whose sync changed nothing. Best effort: a stamp lost leaves
 * the time of an earlier sync.
 */
static void stamp_quiet(cs_worker *w, cs_joblist *ended)
{
	json_t *stamps = json_array();
	char *text = NULL;
	cs_err err;

	for (int i = 0; stamps && i < ended->n; i++) {
		const cs_job *job = ended->items[i];

		if (job->quiet && job->outcome == CS_OUT_ACK && job->calendar_id)
			json_array_append_new(stamps, json_pack("{s:s, s:s}", "cal", job->calendar_id,
							       "job", job->job_id));
	}
	if (json_array_size(stamps) > 0 && (text = json_dumps(stamps, JSON_COMPACT)) != NULL &&
	    cs_sync_stamp_quiet(w->db, text, &err))
		cs_warn("the last sync time of %zu calendars whose sync changed nothing was not"
			" stamped: %s", json_array_size(stamps), err.msg);
	free(text);
	json_decref(stamps);
}

int cs_run_end(cs_worker *w, cs_joblist *ended, cs_err *err)
{
	bool *fenced = calloc((size_t)ended->n, sizeof(bool));
	int rc;

	stamp_quiet(w, ended);
	rc = cs_batch_finish(w->redis, w->cfg, w->consumer, ended->items, ended->n, fenced, err);

	for (int i = 0; rc == 0 && fenced && i < ended->n; i++)
		if (fenced[i])
			cs_warn("job %s was taken over by another worker: its end was not recorded",
				ended->items[i]->job_id);
	if (rc == 0 && fenced)
		observe_ends(w, ended, fenced);
	if (rc == 0 && fenced)
		record_announced(w, ended, fenced);
	free(fenced);
	return rc;
}
