/*
 * keeper.h - keeping the running job's calendar lock and stream claims
 * alive while one of its provider requests is in flight, and telling
 * whether the job still holds its calendar.
 *
 * Each slot thread has one keeper: a helper thread with its own Redis
 * connection that wakes every third of the shorter of CALSYNC_LOCK_TTL_MS
 * and CALSYNC_CLAIM_IDLE_MS and, while a request of the thread's HTTP
 * client is in flight, renews the lock and the claims (one heartbeat
 * script, batch_scripts.h). Between requests the job renews them itself
 * (cs_worker_progress). Once a heartbeat finds the lock or the claim gone,
 * the job is "lost" for good: cs_keeper_check() fails with CS_EFENCED, so
 * the job makes no provider write and raises no conflict after it.
 *
 * Ownership: cs_keeper_new() starts the helper thread, cs_keeper_free()
 * stops it and frees everything. The job and batch given to
 * cs_keeper_begin() are borrowed until cs_keeper_end(); the keeper reads
 * them only while the job runs, when nothing else changes them.
 */
#ifndef CS_KEEPER_H
#define CS_KEEPER_H

#include "config.h"
#include "http.h"
#include "job.h"

typedef struct cs_keeper cs_keeper;

/* consumer and http are borrowed for the keeper's lifetime. */
int cs_keeper_new(cs_keeper **out, const cs_config *cfg, const char *consumer,
		  const cs_http *http, cs_err *err);
void cs_keeper_free(cs_keeper *k);

/* The job starts running (batch: the other jobs whose claims to keep). */
void cs_keeper_begin(cs_keeper *k, cs_job *running, cs_job **batch, int n);
/* The running job ended: nothing to keep until the next begin. */
void cs_keeper_end(cs_keeper *k);

/*
 * Renew the running job's lock and claims now and confirm that it still
 * holds them: CS_EFENCED when it lost them (now or earlier), CS_EREDIS
 * when Redis cannot tell. 0 when no job runs. Any thread may call it.
 */
int cs_keeper_beat(cs_keeper *k, cs_err *err);

/*
 * The same for the running job alone (its lock and its own claim), the
 * cheap check before a provider write or a conflict.
 */
int cs_keeper_check(cs_keeper *k, cs_err *err);

/* cs_keeper_check() as an HTTP guard (http.h): ctx is the keeper. */
int cs_keeper_guard(void *ctx, cs_err *err);

#endif
