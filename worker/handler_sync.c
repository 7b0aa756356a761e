/*
 * handler_sync.c - the `sync` job: its mode read, then the engine's sync
 * of the calendar (engine/sync.h). A sync a push notification queued
 * releases its dedup key first (watch.h), so that a change made while it
 * runs queues the next one.
 */
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "sync.h"
#include "watch.h"
#include "banned.h"

static int sync_job(cs_sync *s, cs_job *job, cs_calendar *cal, cs_err *err)
{
	const char *mode = cs_job_str(job, "mode");
	bool full = mode && strcmp(mode, "full") == 0;

	if (mode && !full && strcmp(mode, "incremental") != 0)
		return cs_err_set(err, CS_EINVAL, false, "sync job: mode '%.32s' is not incremental or full",
				  mode);
	return cs_sync_calendar(s, cal, full, err);
}

int cs_handle_sync(cs_worker *w, cs_job *job, cs_err *err)
{
	cs_err rerr;

	if (cs_watch_release_hook(w->redis, cs_job_str(job, "hook_dedup"), &rerr))
		cs_warn("calendar %s: releasing the notification's dedup key: %s (it expires)",
			job->calendar_id, rerr.msg);
	return cs_handle_with_calendar(w, job, true, sync_job, err);
}
