/*
 * run.h - the three steps of a job in the pool (pool.c): prepared and
 * locked with the batch it was read in (validate, find its calendar, take
 * the calendar locks), run in a slot with the jobs of the batch that share
 * its lock (a group), and ended in Redis with whatever other jobs ended
 * meanwhile.
 */
#ifndef CS_RUN_H
#define CS_RUN_H

#include <signal.h>

#include "fetch.h"
#include "worker.h"

/*
 * Prepare every job of a freshly read batch and take their calendar locks
 * (one script). -1 (Redis trouble) leaves the batch pending.
 */
int cs_run_lock(cs_worker *w, cs_joblist *jobs, cs_err *err);

/*
 * Run a group: the jobs of one batch under one calendar lock (or one job
 * without a calendar), one after the other; afterwards each calendar's
 * unannounced conflicts ride on the end of its first job that ran.
 */
void cs_run_group(cs_worker *w, cs_joblist *group, volatile sig_atomic_t *stop);

/*
 * End every job of the list that has an outcome, in one script, and
 * record the conflicts their ends announced. 0 when they were ended in
 * Redis; -1 (Redis trouble) leaves them pending.
 */
int cs_run_end(cs_worker *w, cs_joblist *ended, cs_err *err);

/*
 * Before a job runs: end what cannot run at all (a bad entry, an unknown
 * type: dead) and find the calendar the job locks (the dispatch table).
 */
void cs_run_prepare(cs_worker *w, cs_job *job);

/*
 * The outcome of a handler's error: retry, dead, or a plain failure. A
 * rate limit the provider announced (CS_ERATELIMIT with Retry-After) is
 * always retried, after the time it asked for, without using an attempt.
 */
void cs_run_classify(const cs_config *cfg, cs_job *job, const cs_err *err);

#endif
