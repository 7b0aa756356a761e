/*
 * queue.h - the Redis side of calsync's job queue, shared by the worker,
 * the scheduler and the admin tool: stream names, enqueueing with
 * de-duplication, the delayed-retry set, the Lua scripts that make a
 * job's end atomic, and trimming that never drops an unacknowledged job.
 *
 * Contract (section 4): every stream entry has the fields `type` and
 * `data` (a JSON object). Job streams are read in the consumer group
 * `calsync-workers`.
 */
#ifndef CS_QUEUE_H
#define CS_QUEUE_H

#include <stdbool.h>

#include "err.h"
#include "redisconn.h"

#define CS_STREAM_INTERACTIVE "calsync:jobs:interactive"
#define CS_STREAM_BACKGROUND "calsync:jobs:background"
#define CS_STREAM_RESULTS "calsync:results"
#define CS_STREAM_CONFLICTS "calsync:conflicts"
#define CS_STREAM_DEAD "calsync:dead"
#define CS_GROUP "calsync-workers"
#define CS_DELAYED "calsync:delayed"
#define CS_DEDUP_PREFIX "calsync:queued:"   /* every dedup key of calsync's own */
#define CS_LOCK_PREFIX "calsync:lock:"     /* + calendar id: the calendar lock */
/* Results, conflicts and dead letters keep about this many entries. */
#define CS_OUTPUT_MAXLEN "1000000"

/* Create the consumer group on both job streams (reading from the start). */
int cs_queue_ensure_groups(cs_redis *r, cs_err *err);

/*
 * Add a job. With dedup_key, the job is added only when that key does
 * not exist yet (it is set, with ttl_s, in the same atomic step);
 * *added says whether it was. The worker deletes the key when the job
 * ends (the job's data carries it as "dedup").
 */
int cs_queue_enqueue(cs_redis *r, const char *stream, const char *type,
		     const char *data_json, const char *dedup_key, int ttl_s,
		     bool *added, cs_err *err);

/*
 * Add a job that becomes due delay_ms from now (through the delayed set,
 * like a retry), only when dedup_key (required) does not exist yet: it is
 * set with ttl_s in the same atomic step; *added says whether it was.
 * Whoever runs the job releases the key (the job's data names it).
 */
int cs_queue_enqueue_later(cs_redis *r, const char *stream, const char *type,
			   const char *data_json, const char *dedup_key, int ttl_s, int delay_ms,
			   bool *added, cs_err *err);

/* Add an entry to an output stream (results, conflicts, dead), capped. */
int cs_queue_publish(cs_redis *r, const char *stream, const char *type,
		     const char *data_json, cs_err *err);

/* Move up to `limit` delayed jobs whose time has come back to their stream. */
int cs_queue_release_due(cs_redis *r, int limit, int *released, cs_err *err);

/*
 * Trim the acknowledged head of a job stream: only entries older than
 * both the oldest pending entry and the group's last delivered one go.
 */
int cs_queue_trim_acked(cs_redis *r, const char *stream, cs_err *err);

/*
 * Remove consumers of the group on stream that hold no pending entry and
 * were idle longer than idle_ms (workers that went away: a restarted
 * worker without CALSYNC_WORKER_NAME comes back under a new name).
 */
int cs_queue_prune_consumers(cs_redis *r, const char *stream, long idle_ms, int *pruned,
			     cs_err *err);

/* A Lua script run by EVALSHA, loaded again when Redis forgot it. */
typedef struct cs_script {
	const char *name;
	const char *src;
	char sha[41];
} cs_script;

/*
 * Run script with argc string arguments, the first nkeys of them its KEYS
 * (every key a script touches is one of its KEYS, as Redis Cluster
 * requires; none is built inside Lua); *reply is the caller's.
 */
int cs_script_run(cs_redis *r, cs_script *s, int nkeys, int argc, const char **argv,
		  redisReply **reply, cs_err *err);

/* Milliseconds since the epoch, by the clock of this host. */
long long cs_now_ms(void);

#endif
