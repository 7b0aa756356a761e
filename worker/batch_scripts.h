/*
 * batch_scripts.h - the Redis steps around running a batch of jobs, each one Lua
 * script so that it is atomic: take the calendar locks (with fencing
 * tokens), keep them and the stream claims alive while a job runs, and end
 * the jobs (acknowledge, publish results and conflicts, schedule retries,
 * dead-letter, release locks).
 *
 * A job's end is "fenced": it takes effect only while the stream entry is
 * still pending for this consumer. A worker whose job was taken over by
 * another (XAUTOCLAIM after it stalled) cannot acknowledge it or publish a
 * result afterwards.
 */
#ifndef CS_BATCH_SCRIPTS_H
#define CS_BATCH_SCRIPTS_H

#include "config.h"
#include "job.h"
#include "redisconn.h"

/*
 * Delay before attempt+1 of a failed job: CALSYNC_RETRY_BASE_MS doubling
 * per attempt, capped at CALSYNC_RETRY_MAX_MS, with jitter: a random
 * point (rnd >= 0) in the upper half of that.
 */
long long cs_retry_delay_ms(const cs_config *cfg, int attempt, long rnd);

/*
 * When a failed job is tried again, in ms from now: the backoff of its
 * attempt, or longer when the provider asked for it (Retry-After, capped
 * at CS_HTTP_RETRY_AFTER_MAX_MS where it was read).
 */
long long cs_job_retry_wait_ms(const cs_config *cfg, const cs_job *job, long rnd);

/* The lock owner string of a job: "<consumer>/<entry id>". */
void cs_lock_owner(const char *consumer, const cs_job *job, char *buf, size_t n);

/*
 * Try the calendar lock of every job that has a calendar and no lock yet;
 * jobs that get it have has_lock set (their fencing token comes from
 * PostgreSQL at their first commit: cs_worker_fence). Jobs whose calendar
 * is busy (also by an earlier job of the same batch) are left without.
 */
int cs_batch_lock(cs_redis *r, const cs_config *cfg, const char *consumer,
		   cs_job **jobs, int n, cs_err *err);

/*
 * Extend the running job's lock and reset the idle time of the batch's
 * entries still pending for us. *alive is false when the running job's
 * claim or lock was lost (it must stop and not commit).
 */
int cs_batch_heartbeat(cs_redis *r, const cs_config *cfg, const char *consumer,
			cs_job *running, cs_job **pending, int n, bool *alive,
			cs_err *err);

/*
 * The dedup key the end of the job deletes (data.dedup), or NULL: only a
 * key of calsync's own (CS_DEDUP_PREFIX...) is ever deleted, whatever the
 * producer put in the job.
 */
const char *cs_job_dedup_key(const cs_job *job);

/*
 * The FINISH_ARGS strings the finish script takes for one ended job, into
 * args (the caller frees each). A job whose records cannot be built is
 * sent to calsync:dead instead (its outcome changes); -1 only when not
 * even that can be built (out of memory).
 */
#define FINISH_ARGS 13
int cs_batch_end_args(const cs_config *cfg, const char *consumer, cs_job *job, char **args);

/*
 * End every job that has an outcome; fenced[i] (may be NULL) tells which
 * were refused because their claim was lost.
 */
int cs_batch_finish(cs_redis *r, const cs_config *cfg, const char *consumer,
		     cs_job **jobs, int n, bool *fenced, cs_err *err);

#endif
