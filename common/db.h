/*
 * db.h - a PostgreSQL connection that comes back after the server
 * restarts. Every statement goes through PQexecParams: SQL text is
 * constant, data travels as parameters.
 *
 * A statement that fails because the connection broke returns a
 * retryable CS_EDB error; the next statement reconnects first. Inside a
 * transaction nothing is repeated on its own: the caller retries the
 * whole unit of work.
 *
 * A handle made on the process's pool (cs_db_new_pooled(), dbpool.h)
 * holds a connection only for one statement (cs_db_send() to
 * cs_db_wait()) or from cs_db_begin() to cs_db_commit() or
 * cs_db_rollback(); one handle is used by one thread at a time.
 *
 * Ownership: cs_db_new() and cs_db_new_pooled() return a handle freed
 * with cs_db_free() (a pooled one gives its connection back; the pool is
 * borrowed and must outlive it).
 * Results handed out (PGresult *) belong to the caller: PQclear() them.
 */
#ifndef CS_DB_H
#define CS_DB_H

#include <libpq-fe.h>

#include "dbpool.h"
#include "err.h"

typedef struct cs_db cs_db;

int cs_db_new(cs_db **out, const char *conninfo, cs_err *err);
int cs_db_new_pooled(cs_db **out, cs_dbpool *pool, cs_err *err);
void cs_db_free(cs_db *db);

/*
 * Run one statement with n text parameters (NULL entries are SQL NULL).
 * *res (when res is not NULL) receives the result on success.
 */
int cs_db_exec(cs_db *db, PGresult **res, cs_err *err, const char *sql,
	       int n, const char *const *params);

/*
 * cs_db_exec() in two halves, so that the caller works while the server
 * does: cs_db_send() hands the statement over (the parameters may be
 * freed on return), cs_db_wait() collects its result as cs_db_exec()
 * would. Nothing else may use the connection in between.
 */
int cs_db_send(cs_db *db, cs_err *err, const char *sql, int n, const char *const *params);
int cs_db_wait(cs_db *db, PGresult **res, cs_err *err);

/*
 * Name the job (and its calendar) that the following transactions work
 * for, or none (job_id NULL): every cs_db_begin() then sets them as the
 * transaction's calsync.job_id and calsync.calendar_id, which the audit
 * triggers of migration 050 record. Transaction-local, so a pooled
 * connection never carries them to another client. No round trip here.
 */
void cs_db_tag(cs_db *db, const char *job_id, const char *calendar_id);
int cs_db_begin(cs_db *db, cs_err *err);
int cs_db_commit(cs_db *db, cs_err *err);
/* Roll back if a transaction is open; never fails (a broken link is dropped). */
void cs_db_rollback(cs_db *db);

/*
 * The raw connection, connecting first; NULL with err filled on failure.
 * For a handle of its own only (a pooled handle's is lent per statement).
 */
PGconn *cs_db_conn(cs_db *db, cs_err *err);

/* A field of a result, NULL when SQL NULL. */
const char *cs_db_get(const PGresult *res, int row, int col);

/* How many rows an INSERT, UPDATE or DELETE result touched. */
int cs_db_rows(PGresult *res);

#endif
