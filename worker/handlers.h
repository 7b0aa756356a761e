/*
 * handlers.h - the job handlers of the dispatch table (dispatch.c), one
 * per job type of contract section 4, plus `noop` (a job that does
 * nothing, for benchmarks and health checks). Each turns its job into a
 * call of the engine (engine/) and copies the engine's report into the job.
 */
#ifndef CS_HANDLERS_H
#define CS_HANDLERS_H

#include "calendar.h"
#include "worker.h"

int cs_handle_sync(cs_worker *w, cs_job *job, cs_err *err);       /* handler_sync.c */
int cs_handle_push(cs_worker *w, cs_job *job, cs_err *err);       /* handler_push.c */
int cs_handle_resolve(cs_worker *w, cs_job *job, cs_err *err);    /* handler_resolve.c */
int cs_handle_discover(cs_worker *w, cs_job *job, cs_err *err);   /* handler_account.c */
int cs_handle_disconnect(cs_worker *w, cs_job *job, cs_err *err); /* handler_account.c */
int cs_handle_noop(cs_worker *w, cs_job *job, cs_err *err);       /* handler_noop.c */
int cs_handle_watch(cs_worker *w, cs_job *job, cs_err *err);      /* handler_watch.c */

typedef int (*cs_calendar_handler_fn)(cs_sync *s, cs_job *job, cs_calendar *cal, cs_err *err);
/*
 * What the handlers of a calendar's jobs share (handler_calendar.c): a
 * sync context made from the worker thread and the job (the fence and
 * keeper checks, cs_worker_progress), the calendar of job->calendar_id
 * loaded (and, with connect, its credentials and provider opened), fn run
 * on it, the engine's report copied into the job, the calendar released.
 * A refusal of the credentials (CS_EAUTH) marks the calendar
 * auth_required before the error is returned.
 */
int cs_handle_with_calendar(cs_worker *w, cs_job *job, bool connect, cs_calendar_handler_fn fn,
			    cs_err *err);

/*
 * Stop the calendar's live push channel at the provider (handler_watch.c),
 * before its connection goes; a failure is logged (the channel expires
 * on its own) and never stops the caller.
 */
void cs_watch_stop(cs_sync *s, const char *calendar_id);

#endif
