/*
 * dbpool.h - a per-process pool of PostgreSQL connections, at most
 * CALSYNC_DB_POOL_SIZE of them, shared by all the worker's threads.
 *
 * A cs_db handle made on a pool (cs_db_new_pooled(), db.h) borrows a
 * connection for one statement, or from BEGIN to COMMIT or ROLLBACK, and
 * gives it back at once: a thread waiting on a provider holds none, and
 * the number of connections does not grow with the jobs in flight. A
 * connection carries no session state from one borrower to the next (no
 * named prepared statements, no session locks, no SET), so the pool also
 * works behind pgbouncer in transaction mode.
 *
 * Ownership: cs_dbpool_new() returns a pool freed with cs_dbpool_free(),
 * after every handle made on it was freed; it closes the idle connections.
 * A connection taken is the borrower's until given back (or closed by the
 * borrower, which gives back NULL).
 */
#ifndef CS_DBPOOL_H
#define CS_DBPOOL_H

#include <libpq-fe.h>

#include "err.h"

typedef struct cs_dbpool cs_dbpool;

int cs_dbpool_new(cs_dbpool **out, const char *conninfo, int size, cs_err *err);
void cs_dbpool_free(cs_dbpool *p);

/* The connection string (borrowed, for opening a new connection). */
const char *cs_dbpool_conninfo(const cs_dbpool *p);

/*
 * Wait until a connection is free: an idle one, or NULL when the caller
 * may open a new one (it counts against the size from now on).
 */
PGconn *cs_dbpool_take(cs_dbpool *p);

/*
 * Give a taken connection back. NULL: the borrower closed it or never
 * opened it, its place is free. A connection still inside a transaction
 * is rolled back first; one still busy or broken is closed.
 */
void cs_dbpool_give(cs_dbpool *p, PGconn *conn);

/* Connections open now (idle and borrowed), and the most ever open. */
void cs_dbpool_counts(cs_dbpool *p, int *open, int *peak);

#endif
