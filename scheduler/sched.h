/*
 * sched.h - one calsync-scheduler process: its connections and the state
 * of its parts, all owned by the one thread that runs the main loop
 * (main.c):
 *   leader.c    the leader lease in Redis (only the leader runs duties)
 *   duties.c    the leader's periodic duties (syncs, nightly full syncs,
 *               retries, trimming, reconcile from PostgreSQL)
 *   consumer.c  the Kafka consumer of event-changed messages (every replica)
 *   pushes.c    one message -> push jobs, or a dead letter
 *   channels.c  push channels to make or renew (a leader duty)
 *
 * Times named *_at or next_* are CLOCK_MONOTONIC milliseconds (cs_sched_now).
 *
 * Dependencies go one way: duties.c asks leader.c whether the lease still
 * holds, and main.c tells duties.c when this process became the leader.
 *
 * Ownership: main.c creates the connections and frees them; the parts
 * only borrow them. A message in hand (held) is owned by consumer.c.
 */
#ifndef CS_SCHED_H
#define CS_SCHED_H

#include <stdbool.h>
#include <signal.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "db.h"
#include "redisconn.h"

#define CS_LEADER_KEY "calsync:scheduler:leader"

/* Leader duty periods (ms) and sizes; see duties.c. */
#define CS_SYNC_PERIOD_MS 2000        /* periodic incremental syncs */
#define CS_NIGHTLY_PERIOD_MS 30000    /* nightly full syncs */
#define CS_RECONCILE_PERIOD_MS 5000   /* between passes over the events (pending pushes) */
#define CS_RECONCILE_STEP_MS 500      /* between chunks of one pass */
#define CS_RECONCILE_CHUNK 1000       /* events looked at per chunk */
#define CS_RELEASE_PERIOD_MS 150      /* due retries back to their streams */
#define CS_TRIM_PERIOD_MS 30000       /* acknowledged heads of the job streams */
#define CS_SCAN_LIMIT 1000            /* calendars enqueued per sync run */
#define CS_RECONCILE_SETTLE_S 30      /* fresher changes are the Kafka path's */
#define CS_SYNC_DEDUP_TTL_S 21600     /* calsync:queued:sync|full:<cal>, 6 h */
#define CS_PUSH_DEDUP_TTL_S 300       /* calsync:queued:push:<cal>:<event>, 5 min */
#define CS_WATCH_PERIOD_MS 5000       /* push channels to make or renew (channels.c) */
#define CS_WATCH_RETRY_S 3600         /* a channel that could not be made is tried again */

/* A log line that repeats while a trouble lasts is written at most this often. */
#define CS_TROUBLE_LOG_MS 10000

/* Throttle for repeated log lines: cs_sched_trouble() logs when due. */
typedef struct cs_throttle {
	long long last_at;
	int suppressed;
} cs_throttle;

typedef struct cs_sched {
	const cs_config *cfg;
	cs_db *db;
	cs_redis *redis;
	volatile sig_atomic_t *stop;   /* set by SIGTERM/SIGINT */
	char id[160];                  /* this instance: host:pid:random */

	/* leader.c */
	bool leader;
	long long lease_until;         /* acting as leader only before this */
	long long next_lease;          /* next renewal or acquisition attempt */
	cs_throttle lease_trouble;

	/* duties.c */
	long long next_sync, next_nightly, next_reconcile, next_release, next_trim;
	long long next_watch;          /* channels.c */
	char reconcile_after[40];      /* the pass continues after this event id ("": start) */
	int reconcile_pending, reconcile_added;  /* counts of the pass so far */
	bool groups_ok;                /* job-stream groups exist (since the last Redis error) */
	long long next_groups;
	cs_throttle duty_trouble;

	/* consumer.c, pushes.c */
	rd_kafka_t *rk;
	rd_kafka_message_t *held;      /* a message whose work is not enqueued yet */
	long long held_retry_at;
	int held_backoff_ms;
	cs_throttle kafka_trouble;
	cs_throttle kafka_log_trouble;
	cs_throttle held_trouble;
} cs_sched;

/* Monotonic milliseconds. */
long long cs_sched_now(void);

/*
 * Log a warning about trouble that may repeat: the first time at once,
 * then at most every CS_TROUBLE_LOG_MS with the number of lines left out.
 */
void cs_sched_trouble(cs_throttle *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Note a failed Redis step: the groups are made sure of again (Redis may have been flushed). */
void cs_sched_redis_failed(cs_sched *s, const cs_err *err);

/* leader.c */
/* Renew or try the lease when due; true when this process just became the leader. */
bool cs_leader_tick(cs_sched *s);
bool cs_leader_active(const cs_sched *s);
void cs_leader_release(cs_sched *s);

/* duties.c */
void cs_duties_reset(cs_sched *s);       /* every duty due now (new leader) */
void cs_duties_run(cs_sched *s);         /* the leader's due duties */
void cs_groups_maintain(cs_sched *s);    /* make sure of the groups after Redis errors */

/* channels.c: watch jobs for channels to make or renew (a leader duty) */
int cs_channels_renew(cs_sched *s, cs_err *err);

/* consumer.c */
int cs_consumer_open(cs_sched *s, cs_err *err);
/* Handle the message in hand or wait up to timeout_ms for the next one. */
void cs_consumer_step(cs_sched *s, int timeout_ms);
void cs_consumer_close(cs_sched *s);

/*
 * pushes.c: turn one message into push jobs (or a dead letter when it is
 * malformed or names no event of its tenant). 0 when that is enqueued,
 * -1 when PostgreSQL or Redis failed and the message must be tried again.
 */
int cs_pushes_handle(cs_sched *s, const rd_kafka_message_t *m, cs_err *err);
/* Enqueue one push job on the interactive stream (dedup_key may be NULL). */
int cs_pushes_enqueue(cs_sched *s, const char *calendar_id, const char *event_id,
		      const char *dedup_key, bool *added, cs_err *err);

#endif
