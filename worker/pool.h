/*
 * pool.h - the worker process: a reader, CALSYNC_WORKER_CONCURRENCY slot
 * threads and a finisher around an in-process queue, sharing a pool of
 * PostgreSQL connections and a per-account pacer (see pool.c).
 */
#ifndef CS_POOL_H
#define CS_POOL_H

#include <stdbool.h>

#include <signal.h>

#include "config.h"
#include "secret.h"

/*
 * Run until stop is set (by a signal handler), then drain: the reader
 * stops reading, the slots hand back the jobs not started and finish the
 * ones in hand, the finisher ends them;
 * returns after all threads ended, or when the drain deadline passed with
 * *abandoned set: threads still run then, and the caller must exit at once.
 */
int cs_pool_run(const cs_config *cfg, const cs_keyring *keys,
		volatile sig_atomic_t *stop, bool *abandoned, cs_err *err);

#endif
