/*
 * handler_push.c - the `push` job: one Hub event written to one calendar
 * now (engine/sync.h).
 */
#include "handlers.h"
#include "ids.h"
#include "sync.h"
#include "banned.h"

static int push_job(cs_sync *s, cs_job *job, cs_calendar *cal, cs_err *err)
{
	return cs_sync_event(s, cal, cs_job_str(job, "event_id"), err);
}

int cs_handle_push(cs_worker *w, cs_job *job, cs_err *err)
{
	if (!cs_is_uuid(cs_job_str(job, "event_id")))
		return cs_err_set(err, CS_EINVAL, false, "push job: event_id is missing or not a UUID");
	return cs_handle_with_calendar(w, job, true, push_job, err);
}
