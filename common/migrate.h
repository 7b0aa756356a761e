/*
 * migrate.h - applies the numbered SQL files of migrations/ in order.
 *
 * Each file runs in its own transaction and is recorded with its SHA-256
 * in calsync_schema_migrations. A transaction-level advisory lock, taken
 * again by each file's transaction, makes concurrent runs wait for each
 * other, so two replicas migrating at once apply each file exactly once
 * (and nothing holds session state: it works behind pgbouncer in
 * transaction mode). A file changed after it was applied stops the run
 * before anything new is applied.
 */
#ifndef CS_MIGRATE_H
#define CS_MIGRATE_H

#include "db.h"
#include "err.h"

/* Apply what is missing; *applied (may be NULL) counts the files applied. */
int cs_migrate(cs_db *db, const char *dir, int *applied, cs_err *err);

#endif
