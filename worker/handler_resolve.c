/*
 * handler_resolve.c - the `resolve` job: a person's decision on a
 * conflict, applied by the engine (engine/resolve.h).
 */
#include "handlers.h"
#include "resolve.h"
#include "banned.h"

static int resolve_job(cs_sync *s, cs_job *job, cs_calendar *cal, cs_err *err)
{
	return cs_resolve(s, cal, cs_job_str(job, "conflict_id"), cs_job_str(job, "resolution"),
			  cs_job_str(job, "resolved_by"), json_object_get(job->data, "merged"), err);
}

int cs_handle_resolve(cs_worker *w, cs_job *job, cs_err *err)
{
	return cs_handle_with_calendar(w, job, true, resolve_job, err);
}
