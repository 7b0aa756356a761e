/*
 * job.h - one job as read from a job stream, and what became of it.
 *
 * Ownership: cs_job_parse() fills a caller-owned cs_job from stream
 * strings it copies; cs_job_release() frees everything the job holds
 * (the parsed data, the result and the conflict announcements).
 */
#ifndef CS_JOB_H
#define CS_JOB_H

#include <stdbool.h>

#include <jansson.h>

#include "engine.h"
#include "err.h"

/* What the end of a job does in Redis (see batch_scripts.c). */
enum cs_outcome {
	CS_OUT_NONE,     /* not run yet */
	CS_OUT_ACK,      /* done: acknowledge, publish the result */
	CS_OUT_RETRY,    /* failed, will be tried again later */
	CS_OUT_DEAD,     /* failed for good: to calsync:dead */
	CS_OUT_DEFER,    /* its calendar is busy: try again shortly, no attempt counted */
	CS_OUT_REQUEUE,  /* shutting down: hand it back untouched */
};

typedef struct cs_job {
	const char *stream;     /* static: one of the CS_STREAM_* names */
	char *entry_id;         /* stream entry id */
	char *type;             /* job type, "" when the entry had none */
	char *raw;              /* the data field as it came */
	json_t *data;           /* parsed data object, NULL when malformed */
	const char *job_id;     /* in data; "" when absent */
	char *calendar_id;      /* the calendar the job locks, NULL when none */
	char *tenant_id;        /* known after the handler looked the calendar up */
	int attempt;            /* 1 for the first run */
	long long fence;        /* fencing token of the calendar lock, 0 until its first commit */
	long long fence_seen;   /* the calendar's counter when the job started */
	bool has_lock;
	const struct cs_job *lock_job; /* the job of the batch that took the lock (maybe itself) */
	char *bad;              /* why the entry cannot run at all, or NULL */

	enum cs_outcome outcome;
	const char *status;     /* success, partial, failed, retrying, dead */
	cs_counts counts;       /* the handler copies the engine's (engine.h) */
	char error[CS_ERR_MSG_MAX];
	int retry_after_ms;     /* >0: the provider asked to wait this long before a retry */
	bool rate_limited;      /* the provider announced a rate limit: the retry costs no attempt */
	bool quiet;             /* a sync that changed nothing: its bookkeeping is batched (run.c) */
	int hand_ix;            /* 1 + its place among the process's jobs in hand (lanes.c), 0: none */
	long long started_ms;
	long long duration_ms;
	json_t *conflicts;      /* array of conflict announcements, or NULL */
	json_t *conflict_ids;   /* the ids of those conflicts, or NULL */
	const char *answer_type; /* static; with answer: published instead of sync_result */
	char *answer;           /* JSON data of that entry, or NULL */
} cs_job;

/* Take a stream entry (copies the strings). Never fails for bad data: sets job->bad. */
int cs_job_parse(cs_job *job, const char *stream, const char *entry_id,
		 const char *type, const char *raw, cs_err *err);
void cs_job_release(cs_job *job);

/* A string member of the job's data, or NULL. */
const char *cs_job_str(const cs_job *job, const char *key);

/* The sync_result JSON of an ended job (caller frees). */
char *cs_job_result_json(const cs_job *job, const char *worker);
/*
 * The data to store when the job is tried again (caller frees): the next
 * attempt number, or the same one after an announced rate limit.
 */
char *cs_job_retry_data(const cs_job *job);
/* The calsync:dead entry of the job (caller frees). */
char *cs_job_dead_json(const cs_job *job, const char *worker);

/* Record how the job ended. */
void cs_job_end(cs_job *job, enum cs_outcome outcome, const char *status,
		const char *error);

#endif
