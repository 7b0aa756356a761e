/*
 * worker.h - what a job handler gets: the thread's connections and
 * settings (cs_worker), and the handler table entry (dispatch.c).
 *
 * Each thread of the pool (reader, slot, finisher) owns one cs_worker: its
 * PostgreSQL handle (borrowing a connection of the process's pool per
 * statement or transaction, dbpool.h), its Redis connection and, in a
 * slot, its HTTP client are never used by two threads at once (a pull's
 * helper thread borrows the client while the pull itself works on the
 * database). The settings and the keyring are shared read-only.
 */
#ifndef CS_WORKER_H
#define CS_WORKER_H

#include "config.h"
#include "db.h"
#include "http.h"
#include "job.h"
#include "keeper.h"
#include "pacer.h"
#include "redisconn.h"
#include "secret.h"

typedef struct cs_worker {
	const cs_config *cfg;
	const cs_keyring *keys;
	cs_db *db;
	cs_redis *redis;
	cs_http *http;          /* providers borrow it: connections outlive a job */
	char consumer[160];     /* this thread's consumer name in the group */
	cs_keeper *keeper;      /* keeps the running job's lock and claims (keeper.h) */
	cs_pace pace;           /* the running job's account at the process's pacer (pacer.h) */
	long long last_progress_ms;
	bool stale_statistics;  /* a pull created many rows: see cs_pull_refresh_statistics() */
} cs_worker;

/*
 * A handler runs one job. It returns 0 when the job is done (job->status
 * "success" or "partial"), or -1 with err saying what failed and whether
 * trying again may help.
 */
typedef int (*cs_handler_fn)(cs_worker *w, cs_job *job, cs_err *err);
/* Find the calendar the job locks (job->calendar_id), before locking. */
typedef int (*cs_calendar_fn)(cs_worker *w, cs_job *job, cs_err *err);

struct cs_handler {
	const char *type;
	cs_calendar_fn calendar;   /* NULL: the job locks no calendar */
	cs_handler_fn run;
};

/* The handler of a job type, or NULL. */
const struct cs_handler *cs_dispatch_find(const char *type);

/*
 * Called by long-running handlers: at most once a second it keeps the
 * job's lock and claims alive and, once the job has run a second,
 * publishes sync_progress. Fails with CS_EFENCED when the job was taken
 * over: the handler must stop without committing. While a provider
 * request is in flight, the keeper renews the lock instead (keeper.h).
 */
int cs_worker_progress(cs_worker *w, cs_job *job, int events_done,
		       const char *phase, cs_err *err);

/*
 * When a job that holds its calendar's lock starts: read the calendar's
 * fence counter in PostgreSQL (job->fence_seen; a read, no write). Its
 * first commit raises it by one from that value (cs_worker_fence), which
 * fails when another holder raised it meanwhile; every later holder gets
 * a higher one, so from then on a job that lost the lock cannot commit.
 */
int cs_worker_read_fence(cs_worker *w, cs_job *job, cs_err *err);

/*
 * Inside the handler's PostgreSQL transaction, before COMMIT: take the
 * job's fencing token (its first commit) or record it on the calendar's
 * state row. Fails with CS_EFENCED when a newer holder of the calendar
 * lock has committed already.
 */
int cs_worker_fence(cs_worker *w, cs_job *job, cs_err *err);

#endif
