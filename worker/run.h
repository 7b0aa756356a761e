/*
 * run.h - running one batch of jobs: validate, find each job's calendar,
 * take the calendar locks, run the handlers (interactive jobs first),
 * decide each job's outcome, end them all in Redis.
 */
#ifndef CS_RUN_H
#define CS_RUN_H

#include <signal.h>

#include "fetch.h"
#include "worker.h"

/* 0 when the batch was ended in Redis; -1 (Redis trouble) leaves it pending. */
int cs_run_batch(cs_worker *w, cs_joblist *jobs, volatile sig_atomic_t *stop, cs_err *err);

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
