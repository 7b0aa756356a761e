/*
 * db.c - PostgreSQL connection with reconnect on next use, or borrowed
 * from the process's pool per statement or transaction (see db.h).
 */
#include "db.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

#define TAG_MAX 128

struct cs_db {
	char *conninfo;         /* NULL when pooled */
	cs_dbpool *pool;        /* NULL: the handle owns its one connection */
	PGconn *conn;           /* pooled: borrowed, NULL between borrowings */
	bool in_tx;
	char tag_job[TAG_MAX], tag_calendar[TAG_MAX];  /* cs_db_tag(); "": none */
	bool hold;              /* pooled: keep the borrowed connection (BEGIN to its end) */
};

int cs_db_new(cs_db **out, const char *conninfo, cs_err *err)
{
	cs_db *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db || !(db->conninfo = strdup(conninfo))) {
		free(db);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	*out = db;
	return 0;
}

int cs_db_new_pooled(cs_db **out, cs_dbpool *pool, cs_err *err)
{
	cs_db *db = calloc(1, sizeof(*db));

	*out = db;
	if (!db)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	db->pool = pool;
	return 0;
}

static void drop(cs_db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	if (db->pool && db->conn)
		cs_dbpool_give(db->pool, NULL);
	db->conn = NULL;
	db->in_tx = false;
}

/* Pooled, outside a transaction: the statement is done, give the connection back. */
static void give_back(cs_db *db)
{
	if (db->pool && db->conn && !db->in_tx && !db->hold) {
		cs_dbpool_give(db->pool, db->conn);
		db->conn = NULL;
	}
}

void cs_db_free(cs_db *db)
{
	if (!db)
		return;
	db->in_tx = db->hold = false;
	if (db->pool)
		give_back(db);
	else if (db->conn)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

static void first_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl)
		*nl = '\0';
}

/* Server NOTICEs ("already exists, skipping") go to the debug log. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	cs_debug("PostgreSQL notice: %s", message);
}

PGconn *cs_db_conn(cs_db *db, cs_err *err)
{
	char msg[CS_ERR_MSG_MAX];

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return db->conn;
	drop(db);
	if (db->pool) {
		db->conn = cs_dbpool_take(db->pool);
		if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
			return db->conn;
		if (db->conn)
			PQfinish(db->conn);   /* broke while idle: its place is ours */
	}
	db->conn = PQconnectdb(db->pool ? cs_dbpool_conninfo(db->pool) : db->conninfo);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
		first_line(msg);
		cs_err_set(err, CS_EDB, true,
			   "cannot connect to PostgreSQL (CALSYNC_DATABASE_URL): %s", msg);
		drop(db);
		return NULL;
	}
	PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
	return db->conn;
}

static bool retryable_state(const char *state)
{
	return !state || strncmp(state, "08", 2) == 0 ||
	       strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	       strncmp(state, "57P", 3) == 0 || strcmp(state, "55P03") == 0;
}

/* A failed statement: err says what and whether to retry; a broken link is dropped. */
static int failed(cs_db *db, PGconn *conn, PGresult *r, cs_err *err)
{
	char msg[CS_ERR_MSG_MAX];
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	bool retry = retryable_state(state) || PQstatus(conn) != CONNECTION_OK;

	snprintf(msg, sizeof(msg), "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
	first_line(msg);
	cs_err_set(err, CS_EDB, retry, "PostgreSQL: %s%s%s%s", msg,
		   state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
	PQclear(r);
	/* broken, or still busy with an earlier statement: start afresh */
	if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) == PQTRANS_ACTIVE) {
		bool was_in_tx = db->in_tx;

		drop(db);
		db->in_tx = was_in_tx;
	}
	return -1;
}

int cs_db_send(cs_db *db, cs_err *err, const char *sql, int n, const char *const *params)
{
	PGconn *conn;

	if (!db->conn && db->in_tx)
		return cs_err_set(err, CS_EDB, true, "the connection broke inside a transaction");
	conn = cs_db_conn(db, err);
	if (!conn)
		return -1;
	if (!PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0)) {
		failed(db, conn, NULL, err);
		give_back(db);
		return -1;
	}
	return 0;
}

int cs_db_wait(cs_db *db, PGresult **res, cs_err *err)
{
	PGconn *conn = db->conn;
	PGresult *r, *first = NULL;
	ExecStatusType st;

	if (res)
		*res = NULL;
	if (!conn)
		return cs_err_set(err, CS_EDB, true, "the connection broke before the result");
	/* one statement, one result; read to the end so the link is free again */
	while ((r = PQgetResult(conn)) != NULL) {
		if (first)
			PQclear(r);
		else
			first = r;
	}
	st = PQresultStatus(first);
	if (first && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
		if (res)
			*res = first;
		else
			PQclear(first);
		give_back(db);
		return 0;
	}
	failed(db, conn, first, err);
	give_back(db);
	return -1;
}

int cs_db_exec(cs_db *db, PGresult **res, cs_err *err, const char *sql,
	       int n, const char *const *params)
{
	if (res)
		*res = NULL;
	if (cs_db_send(db, err, sql, n, params))
		return -1;
	return cs_db_wait(db, res, err);
}

void cs_db_tag(cs_db *db, const char *job_id, const char *calendar_id)
{
	snprintf(db->tag_job, TAG_MAX, "%s", job_id ? job_id : "");
	snprintf(db->tag_calendar, TAG_MAX, "%s", job_id && calendar_id ? calendar_id : "");
}

int cs_db_begin(cs_db *db, cs_err *err)
{
	const char *tag[2] = {db->tag_job, db->tag_calendar};
	int rc;

	db->in_tx = false;
	db->hold = true;   /* pooled: the connection BEGIN borrows stays for the transaction */
	rc = cs_db_exec(db, NULL, err, "BEGIN", 0, NULL);
	db->in_tx = rc == 0;
	db->hold = rc == 0;
	if (rc == 0 && db->tag_job[0] &&
	    cs_db_exec(db, NULL, err, "SELECT set_config('calsync.job_id', $1, true),"
		       " set_config('calsync.calendar_id', $2, true)", 2, tag)) {
		cs_db_rollback(db);
		return -1;
	}
	give_back(db);
	return rc;
}

int cs_db_commit(cs_db *db, cs_err *err)
{
	int rc = cs_db_exec(db, NULL, err, "COMMIT", 0, NULL);

	db->in_tx = db->hold = false;
	give_back(db);
	return rc;
}

void cs_db_rollback(cs_db *db)
{
	if (db->in_tx && db->conn) {
		PGresult *r = PQexecParams(db->conn, "ROLLBACK", 0, NULL, NULL,
					   NULL, NULL, 0);

		PQclear(r);
	}
	db->in_tx = db->hold = false;
	give_back(db);
}

const char *cs_db_get(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int cs_db_rows(PGresult *res)
{
	return (int)strtol(PQcmdTuples(res), NULL, 10);
}
