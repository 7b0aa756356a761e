/*
 * fetch.h - reading jobs for the worker's reader from the job streams:
 * its own pending entries first (after a restart under the same name),
 * entries of silent consumers taken over with XAUTOCLAIM, and new
 * entries - interactive before background, always.
 *
 * Ownership: every function appends heap cs_job objects to the caller's
 * array (*jobs, *n, grown as needed); the caller releases and frees them.
 */
#ifndef CS_FETCH_H
#define CS_FETCH_H

#include "config.h"
#include "job.h"
#include "redisconn.h"

typedef struct cs_joblist {
	cs_job **items;
	int n;
	int cap;
} cs_joblist;

void cs_joblist_clear(cs_joblist *l);   /* release and free the jobs, keep the array */
void cs_joblist_release(cs_joblist *l); /* and the array */
/* Append a job (the list owns it from then on); -1 when out of memory. */
int cs_joblist_push(cs_joblist *l, cs_job *job);

/* Own pending entries (read from id 0). */
int cs_fetch_own_pending(cs_redis *r, const char *consumer, int count,
			 cs_joblist *out, cs_err *err);
/*
 * New entries: interactive first; only when it has none, both streams
 * with BLOCK block_ms.
 */
int cs_fetch_new(cs_redis *r, const char *consumer, int count, int block_ms,
		 cs_joblist *out, cs_err *err);
/* New entries of the interactive stream only, without waiting. */
int cs_fetch_interactive(cs_redis *r, const char *consumer, int count, cs_joblist *out,
			 cs_err *err);
/*
 * Entries idle longer than claim_idle_ms on any consumer become ours.
 * Entries delivered more than max_deliveries times are marked bad (a job
 * that keeps killing its workers goes to calsync:dead).
 */
int cs_fetch_claim(cs_redis *r, const cs_config *cfg, const char *consumer,
		   int count, cs_joblist *out, cs_err *err);

#endif
