/*
 * migrate.c - the migration runner (see migrate.h). This is the only place
 * that sends a whole SQL file (simple-query protocol, several statements);
 * the file is project code, never data.
 */
#include "migrate.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dynbuf.h"
#include "log.h"
#include "banned.h"

#define MIGRATION_MAX_BYTES (4u << 20)
#define MIGRATION_MAX_FILES 1000
#define MIGRATE_LOCK_KEY "7386210001"

struct mfile {
	char *name;
	char *sql;
	char sha[crypto_hash_sha256_BYTES * 2 + 1];
};

static bool valid_name(const char *n)
{
	size_t len = strlen(n);

	if (len < 9 || strcmp(n + len - 4, ".sql") != 0)
		return false;
	for (int i = 0; i < 3; i++)
		if (n[i] < '0' || n[i] > '9')
			return false;
	return n[3] == '_';
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct mfile *)a)->name, ((const struct mfile *)b)->name);
}

static int read_file(const char *dir, struct mfile *m, cs_err *err)
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	char path[4096], chunk[8192];
	cs_dynbuf b;
	size_t n;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	f = fopen(path, "rb");
	if (!f)
		return cs_err_set(err, CS_EINVAL, false, "cannot read migration %s", path);
	cs_dynbuf_init(&b, MIGRATION_MAX_BYTES);
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = cs_dynbuf_add(&b, chunk, n, err);
	fclose(f);
	if (rc) {
		cs_dynbuf_release(&b);
		return cs_err_prefix(err, "migration %s", m->name);
	}
	crypto_hash_sha256(hash, (const unsigned char *)cs_dynbuf_str(&b), b.len);
	sodium_bin2hex(m->sha, sizeof(m->sha), hash, sizeof(hash));
	m->sql = b.len ? cs_dynbuf_detach(&b) : strdup("");
	cs_dynbuf_release(&b);
	return m->sql ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

static void free_files(struct mfile *files, int n)
{
	for (int i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].sql);
	}
	free(files);
}

static int list_files(const char *dir, struct mfile **out, int *count, cs_err *err)
{
	struct mfile *files = calloc(MIGRATION_MAX_FILES, sizeof(*files));
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (!files)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	d = opendir(dir);
	if (!d) {
		free(files);
		return cs_err_set(err, CS_EINVAL, false,
				  "CALSYNC_MIGRATIONS_DIR: cannot open '%s'", dir);
	}
	while ((de = readdir(d)) && n < MIGRATION_MAX_FILES)
		if (valid_name(de->d_name) && (files[n].name = strdup(de->d_name)))
			n++;
	closedir(d);
	qsort(files, (size_t)n, sizeof(*files), cmp_names);
	for (int i = 0; i < n; i++) {
		if (read_file(dir, &files[i], err)) {
			free_files(files, n);
			return -1;
		}
	}
	*out = files;
	*count = n;
	return 0;
}

static const char *recorded_sha(PGresult *rec, const char *name)
{
	for (int i = 0; i < PQntuples(rec); i++)
		if (strcmp(PQgetvalue(rec, i, 0), name) == 0)
			return PQgetvalue(rec, i, 1);
	return NULL;
}

/* Refuse when an applied file changed or vanished. */
static int verify_applied(PGresult *rec, struct mfile *files, int n, cs_err *err)
{
	for (int i = 0; i < PQntuples(rec); i++) {
		const char *name = PQgetvalue(rec, i, 0);
		bool found = false;

		for (int j = 0; j < n; j++) {
			if (strcmp(files[j].name, name) != 0)
				continue;
			found = true;
			if (strcmp(files[j].sha, PQgetvalue(rec, i, 1)) != 0)
				return cs_err_set(err, CS_EINVAL, false,
						  "migration %s was changed after it was applied "
						  "(recorded sha256 %.12s..., file has %.12s...); "
						  "add a new migration instead", name,
						  PQgetvalue(rec, i, 1), files[j].sha);
		}
		if (!found)
			return cs_err_set(err, CS_EINVAL, false,
					  "migration %s was applied but is missing from the migrations folder",
					  name);
	}
	return 0;
}

/*
 * One file in its own transaction, under the migration lock (a
 * transaction-level advisory lock: nothing outlives the transaction, so
 * this also works behind pgbouncer in transaction mode). *done is false
 * when another run applied it meanwhile.
 */
static int apply_one(cs_db *db, struct mfile *m, bool *done, cs_err *err)
{
	const char *params[2] = {m->name, m->sha};
	PGresult *r = NULL;
	PGconn *conn;

	*done = false;
	if (cs_db_begin(db, err))
		return -1;
	if (cs_db_exec(db, NULL, err, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) ||
	    cs_db_exec(db, &r, err, "SELECT 1 FROM calsync_schema_migrations WHERE version = $1",
		       1, params))
		goto fail;
	if (PQntuples(r) == 1) {
		PQclear(r);
		return cs_db_commit(db, err);
	}
	PQclear(r);
	conn = cs_db_conn(db, err);
	if (!conn)
		goto fail;
	r = PQexec(conn, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[CS_ERR_MSG_MAX];
		char *nl;

		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
		if ((nl = strchr(msg, '\n')))
			*nl = '\0';
		PQclear(r);
		cs_err_set(err, CS_EDB, false, "migration %s failed: %s", m->name, msg);
		goto fail;
	}
	PQclear(r);
	if (cs_db_exec(db, NULL, err,
		       "INSERT INTO calsync_schema_migrations(version, sha256) VALUES ($1, $2)",
		       2, params))
		goto fail;
	*done = true;
	return cs_db_commit(db, err);
fail:
	cs_db_rollback(db);
	return -1;
}

int cs_migrate(cs_db *db, const char *dir, int *applied, cs_err *err)
{
	struct mfile *files = NULL;
	PGresult *rec = NULL;
	int n = 0, done = 0, rc = -1;

	if (sodium_init() < 0)
		return cs_err_set(err, CS_ECRYPTO, false, "libsodium failed to start");
	if (list_files(dir, &files, &n, err))
		return -1;
	if (cs_db_begin(db, err))
		goto out;
	if (cs_db_exec(db, NULL, err, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) ||
	    cs_db_exec(db, NULL, err,
		       "CREATE TABLE IF NOT EXISTS calsync_schema_migrations ("
		       " version TEXT PRIMARY KEY, sha256 TEXT NOT NULL,"
		       " applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW())",
		       0, NULL) ||
	    cs_db_exec(db, &rec, err,
		       "SELECT version, sha256 FROM calsync_schema_migrations ORDER BY version",
		       0, NULL) ||
	    cs_db_commit(db, err)) {
		cs_db_rollback(db);
		goto out;
	}
	if (verify_applied(rec, files, n, err))
		goto out;
	for (int i = 0; i < n; i++) {
		bool applied_now;

		if (recorded_sha(rec, files[i].name))
			continue;
		if (apply_one(db, &files[i], &applied_now, err))
			goto out;
		if (!applied_now)
			continue;
		cs_info("applied migration %s", files[i].name);
		done++;
	}
	rc = 0;
out:
	PQclear(rec);
	free_files(files, n);
	if (applied)
		*applied = done;
	return rc;
}
