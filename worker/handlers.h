/*
 * handlers.h - the job handlers of the dispatch table (dispatch.c), one
 * per job type of contract section 4, plus `noop` (a job that does
 * nothing, for benchmarks and health checks).
 */
#ifndef CS_HANDLERS_H
#define CS_HANDLERS_H

#include "worker.h"

int cs_handle_sync(cs_worker *w, cs_job *job, cs_err *err);       /* sync.c */
int cs_handle_push(cs_worker *w, cs_job *job, cs_err *err);       /* sync.c */
int cs_handle_resolve(cs_worker *w, cs_job *job, cs_err *err);    /* resolve.c */
int cs_handle_discover(cs_worker *w, cs_job *job, cs_err *err);   /* account.c */
int cs_handle_disconnect(cs_worker *w, cs_job *job, cs_err *err); /* account.c */
int cs_handle_noop(cs_worker *w, cs_job *job, cs_err *err);       /* account.c */

#endif
