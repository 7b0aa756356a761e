/*
 * handler_calendar.c - running the engine on a job's calendar (see
 * handlers.h): the sync context's callbacks are the worker's fence and
 * keeper checks and its progress report, and the engine's report ends up
 * in the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "provider.h"
#include "banned.h"

/* The context of one job: the engine sees s, the callbacks the rest. */
struct job_sync {
	cs_sync s;              /* first: a cs_sync * is a struct job_sync * */
	cs_worker *w;
	cs_job *job;
};

static int fence(cs_sync *s, cs_err *err)
{
	struct job_sync *js = (struct job_sync *)s;

	return cs_worker_fence(js->w, js->job, err);
}

static int holds(cs_sync *s, cs_err *err)
{
	return cs_keeper_check(((struct job_sync *)s)->w->keeper, err);
}

static int progress(cs_sync *s, int events_done, const char *phase, cs_err *err)
{
	struct job_sync *js = (struct job_sync *)s;

	return cs_worker_progress(js->w, js->job, events_done, phase, err);
}

/* The engine's report into the job. */
static void report(struct job_sync *js)
{
	const cs_sync_report *r = &js->s.report;

	js->job->counts = r->counts;
	if (r->status)
		js->job->status = r->status;
	if (r->error[0])
		snprintf(js->job->error, sizeof(js->job->error), "%s", r->error);
	js->w->stale_statistics = js->w->stale_statistics || r->stale_statistics;
	js->job->quiet = r->quiet;
}

/* The job's requests are paced as its calendar's account (pacer.h). */
static void pace_account(cs_worker *w, const cs_calendar *cal)
{
	const struct cs_provider_ops *ops = cs_provider_find(cal->provider_name);

	w->pace.account[0] = '\0';
	if (!ops)
		return;
	w->pace.limits = ops->limits;
	cs_pacer_account(cal->provider_name, cal->user_id, w->pace.account,
			 sizeof(w->pace.account));
}

int cs_handle_with_calendar(cs_worker *w, cs_job *job, bool connect, cs_calendar_handler_fn fn,
			    cs_err *err)
{
	struct job_sync js = {
		.s = {.db = w->db, .cfg = w->cfg, .keys = w->keys, .http = w->http,
		      .run_id = job->job_id, .fence = fence, .holds = holds, .progress = progress},
		.w = w,
		.job = job,
	};
	cs_calendar cal;
	int rc;

	if (cs_calendar_load(&js.s, job->calendar_id, &cal, err))
		return -1;
	free(job->tenant_id);
	job->tenant_id = strdup(cal.tenant_id);
	pace_account(w, &cal);
	rc = connect ? cs_calendar_connect(&js.s, &cal, err) : 0;
	cs_db_tag(w->db, job->job_id, cal.id);   /* the audit of its changes names the job */
	if (rc == 0)
		rc = fn(&js.s, job, &cal, err);
	cs_db_tag(w->db, NULL, NULL);
	w->pace.account[0] = '\0';
	report(&js);
	if (rc && err->code == CS_EAUTH)
		cs_calendar_mark_auth_required(&js.s, &cal, err->msg, NULL);
	cs_calendar_release(&cal);
	return rc;
}
