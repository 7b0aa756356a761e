/*
 * engine.h - the sync context: what the provider-independent sync rules
 * (engine/) get from whoever runs them, and the report they leave.
 *
 * The engine knows no job, stream or Redis. Its caller (a job handler of
 * the worker) fills a cs_sync with the thread's PostgreSQL connection, the
 * settings, the keyring, the HTTP client providers borrow, and three
 * callbacks:
 *   fence     inside a transaction, just before COMMIT: record that this
 *             run still holds the calendar; CS_EFENCED when a newer holder
 *             committed already (nothing of the transaction may stay);
 *   holds     before a provider write or raising a conflict: CS_EFENCED
 *             when the run lost its calendar (its view may be stale);
 *   progress  after each page or pushed event: how far the run got; may
 *             fail (CS_EFENCED: stop without committing).
 * The engine writes how the run went into s->report, which the caller
 * copies where it belongs.
 *
 * Ownership: everything a cs_sync points at is borrowed for the run; the
 * report owns no heap memory.
 */
#ifndef CS_ENGINE_H
#define CS_ENGINE_H

#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "secret.h"

typedef struct cs_counts {
	int created, updated, deleted, pushed, conflicts;
} cs_counts;

typedef struct cs_sync_report {
	const char *status;          /* static; NULL: success, or "partial" */
	char error[CS_ERR_MSG_MAX];  /* what the run wants said: why partial, or a note */
	cs_counts counts;
	bool stale_statistics;       /* a pull created many rows: cs_pull_refresh_statistics() */
	/*
	 * The sync changed nothing and the calendar's last recorded sync was a
	 * clean success too: its state row was not written. The caller stamps
	 * last_sync_at and last_job_id of such calendars in batches
	 * (cs_sync_stamp_quiet(), sync.h).
	 */
	bool quiet;
} cs_sync_report;

typedef struct cs_sync cs_sync;
struct cs_sync {
	cs_db *db;
	const cs_config *cfg;
	const cs_keyring *keys;
	cs_http *http;
	const char *run_id;     /* recorded as the calendar's last job; the log context of helpers */
	int (*fence)(cs_sync *s, cs_err *err);
	int (*holds)(cs_sync *s, cs_err *err);
	int (*progress)(cs_sync *s, int events_done, const char *phase, cs_err *err);
	cs_sync_report report;
};

#endif
