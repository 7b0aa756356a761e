/*
 * audit.h - the durable record of every sync operation (migration 050):
 * one row per job attempt that ended (sync_audit_jobs) and one per change
 * of an event (sync_audit_changes).
 *
 * Changes of the Hub copy are recorded by the triggers of migration 050 in
 * the transaction of the change; they name the job that made them when
 * the job tagged its connection (cs_db_tag, db.h). A push's write of the
 * provider's copy is recorded by cs_audit_push(), in the push's own
 * transaction. Job rows are gathered in memory (cs_audit_job_ended) and
 * written in one multi-row INSERT at most every CS_AUDIT_FLUSH_MS or
 * CS_AUDIT_FLUSH_ROWS rows (cs_audit_flush, on the flusher thread), so a
 * sync that changed nothing costs its job no write; the rows of the last second are lost if the
 * process is killed before a flush (the results stream still has them).
 *
 * Ownership: the gathered rows are process-wide (one mutex); strings
 * passed in are borrowed for the call only; cs_audit_job_ended() takes
 * the result JSON text and frees it.
 */
#ifndef CS_AUDIT_H
#define CS_AUDIT_H

#include <stdbool.h>

#include "db.h"
#include "dbpool.h"
#include "err.h"

#define CS_AUDIT_FLUSH_MS 1000
#define CS_AUDIT_FLUSH_ROWS 500
#define CS_AUDIT_MAX_ROWS 20000      /* gathered while PostgreSQL is away; the oldest go first */
#define CS_AUDIT_PRUNE_BATCH 5000    /* rows one prune statement deletes */

/* In the caller's transaction: calsync wrote the provider's copy of an event. */
int cs_audit_push(cs_db *db, const char *job_id, const char *calendar_id,
		  const char *event_id, const char *remote_id, const char *action, cs_err *err);

/* Gather the row of a job attempt that ended: result_json (taken) is its sync_result. */
void cs_audit_job_ended(char *result_json);
/* Write the gathered rows when due (or now, with force); on failure they stay gathered. */
int cs_audit_flush(cs_db *db, bool force, cs_err *err);
/*
 * A thread of its own that flushes every CS_AUDIT_FLUSH_MS on a handle of
 * the worker's PostgreSQL pool (borrowed for each flush only); stop
 * writes what is left (the worker's drain). pool must outlive the stop.
 */
int cs_audit_flusher_start(cs_dbpool *pool, cs_err *err);
void cs_audit_flusher_stop(void);

/* Delete up to CS_AUDIT_PRUNE_BATCH rows of each table older than days; *deleted: how many. */
int cs_audit_prune(cs_db *db, long days, long *deleted, cs_err *err);

#endif
