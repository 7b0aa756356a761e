/*
 * cmd_secret.c - `calsync secret seal|open|rotate`.
 *
 * seal and open read the value from standard input (never from the
 * command line, where `ps` would show it). rotate re-seals every stored
 * secret of external_calendars under the first key of
 * CALSYNC_SECRET_KEYS, a batch per transaction with the rows locked, so it
 * can be interrupted and run again at any point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "db.h"
#include "dynbuf.h"
#include "secret.h"
#include "banned.h"

#define STDIN_MAX (CS_SECRET_SEALED_MAX + 2)
#define NCOLS 3

static const char *const columns[NCOLS] = {
	"access_token_encrypted", "refresh_token_encrypted", "icloud_app_password_encrypted",
};

static int read_stdin(cs_dynbuf *b, cs_err *err)
{
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (cs_dynbuf_add(b, chunk, n, err))
			return cs_err_prefix(err, "standard input");
	while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
		b->data[--b->len] = '\0';
	return 0;
}

static int seal_or_open(const cs_keyring *kr, bool seal, const char *tenant)
{
	cs_dynbuf in;
	cs_err err;
	char *out = NULL;
	size_t len = 0;
	int rc;

	cs_dynbuf_init(&in, STDIN_MAX);
	if (read_stdin(&in, &err)) {
		cs_dynbuf_release(&in);
		return cli_fail("%s", err.msg);
	}
	if (seal)
		rc = cs_secret_seal(kr, tenant, cs_dynbuf_str(&in), in.len, &out, &err);
	else
		rc = cs_secret_open(kr, tenant, cs_dynbuf_str(&in), &out, &len, &err);
	sodium_memzero(in.data ? in.data : (char *)"", in.len);
	cs_dynbuf_release(&in);
	if (rc)
		return cli_fail("secret %s: %s", seal ? "seal" : "open", err.msg);
	fwrite(out, 1, seal ? strlen(out) : len, stdout);
	fputc('\n', stdout);
	if (seal)
		free(out);
	else
		cs_secret_free(out);
	return 0;
}

/* Re-seal one value under the primary key; *out NULL when already current. */
static int reseal(const cs_keyring *kr, const char *tenant, const char *sealed,
		  char **out, cs_err *err)
{
	char kid[CS_SECRET_KID_MAX + 1];
	char *plain = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (!sealed || cs_secret_kid(sealed, kid, sizeof(kid), err))
		return sealed ? -1 : 0;
	if (strcmp(kid, cs_keyring_primary_kid(kr)) == 0)
		return 0;
	if (cs_secret_open(kr, tenant, sealed, &plain, &len, err))
		return -1;
	rc = cs_secret_seal(kr, tenant, plain, len, out, err);
	cs_secret_free(plain);
	return rc;
}

static int rotate_row(cs_db *db, const cs_keyring *kr, PGresult *res, int row,
		      int *changed, cs_err *err)
{
	const char *id = PQgetvalue(res, row, 0);
	const char *tenant = PQgetvalue(res, row, 1);
	char *fresh[NCOLS] = {0};
	const char *params[NCOLS + 1];
	int rc = -1;

	for (int c = 0; c < NCOLS; c++) {
		if (reseal(kr, tenant, cs_db_get(res, row, 2 + c), &fresh[c], err)) {
			cs_err_prefix(err, "calendar %s, %s", id, columns[c]);
			goto out;
		}
		params[c] = fresh[c] ? fresh[c] : cs_db_get(res, row, 2 + c);
		*changed += fresh[c] != NULL;
	}
	params[NCOLS] = id;
	rc = cs_db_exec(db, NULL, err,
			"UPDATE external_calendars SET access_token_encrypted = $1,"
			" refresh_token_encrypted = $2, icloud_app_password_encrypted = $3,"
			" updated_at = NOW() WHERE id = $4",
			NCOLS + 1, params);
out:
	for (int c = 0; c < NCOLS; c++)
		free(fresh[c]);
	return rc;
}

/*
 * One batch: rows with a value not sealed under the primary key, locked,
 * skipping the rows listed in `failed` ("id,id,..."), which a value that
 * does not open keeps from ever rotating. Returns the rows seen, or -1.
 */
static int rotate_batch(cs_db *db, const cs_keyring *kr, const char *limit,
			cs_dynbuf *failed, int *changed, cs_err *err)
{
	char prefix[CS_SECRET_KID_MAX + 8];
	const char *params[3];
	PGresult *res = NULL;
	cs_dynbuf skip;
	int n = -1;

	snprintf(prefix, sizeof(prefix), "csv1.%s.", cs_keyring_primary_kid(kr));
	cs_dynbuf_init(&skip, failed->cap + 2);
	if (cs_dynbuf_printf(&skip, err, "{%s}", cs_dynbuf_str(failed)))
		goto out;
	params[0] = prefix;
	params[1] = limit;
	params[2] = cs_dynbuf_str(&skip);
	if (cs_db_begin(db, err))
		goto out;
	if (cs_db_exec(db, &res, err,
		       "SELECT id, tenant_id, access_token_encrypted, refresh_token_encrypted,"
		       " icloud_app_password_encrypted FROM external_calendars"
		       " WHERE id <> ALL($3::uuid[]) AND ("
		       "  left(access_token_encrypted, length($1)) <> $1 OR"
		       "  left(refresh_token_encrypted, length($1)) <> $1 OR"
		       "  left(icloud_app_password_encrypted, length($1)) <> $1)"
		       " ORDER BY id LIMIT $2::int FOR UPDATE SKIP LOCKED",
		       3, params))
		goto fail;
	for (int i = 0; i < PQntuples(res); i++) {
		cs_err rowerr;

		if (rotate_row(db, kr, res, i, changed, &rowerr) == 0)
			continue;
		if (rowerr.code == CS_EDB) {
			*err = rowerr;
			goto fail;
		}
		fprintf(stderr, "calsync: secret rotate: %s\n", rowerr.msg);
		if (cs_dynbuf_printf(failed, err, "%s%s", failed->len ? "," : "",
				     PQgetvalue(res, i, 0)))
			goto fail;
	}
	if (cs_db_commit(db, err))
		goto out;
	n = PQntuples(res);
	goto out;
fail:
	cs_db_rollback(db);
out:
	PQclear(res);
	cs_dynbuf_release(&skip);
	return n;
}

static int rotate(const cs_config *cfg, const cs_keyring *kr, const char *batch)
{
	cs_dynbuf failed;
	cs_db *db = NULL;
	cs_err err;
	int changed = 0, nfailed = 0, n;
	char *end;
	long b = strtol(batch, &end, 10);

	if (*end || b < 1 || b > 10000)
		return cli_fail("secret rotate: --batch must be 1..10000");
	if (cs_db_new(&db, cfg->database_url, &err))
		return cli_fail("%s", err.msg);
	cs_dynbuf_init(&failed, 1u << 20);
	do
		n = rotate_batch(db, kr, batch, &failed, &changed, &err);
	while (n > 0);
	for (size_t i = 0; i < failed.len; i++)
		nfailed += failed.data[i] == ',';
	nfailed += failed.len > 0;
	cs_dynbuf_release(&failed);
	cs_db_free(db);
	if (n < 0)
		return cli_fail("secret rotate: %s (run it again to continue)", err.msg);
	printf("secret rotate: %d secrets re-sealed under key '%s', %d calendars failed\n",
	       changed, cs_keyring_primary_kid(kr), nfailed);
	return nfailed ? 1 : 0;
}

int cmd_secret(const cs_config *cfg, int argc, char **argv)
{
	const char *tenant = cli_opt(argc, argv, "--tenant");
	const char *batch = cli_opt(argc, argv, "--batch");
	bool rotating = argc >= 1 && strcmp(argv[0], "rotate") == 0;
	bool sealing = argc >= 1 && strcmp(argv[0], "seal") == 0;
	bool opening = argc >= 1 && strcmp(argv[0], "open") == 0;
	cs_keyring *kr = NULL;
	cs_err err;
	int rc;

	if (!rotating && !((sealing || opening) && tenant))
		return 2;
	if (!cfg->secret_keys)
		return cli_fail("CALSYNC_SECRET_KEYS is not set and has no default");
	if (cs_keyring_parse(&kr, cfg->secret_keys, &err))
		return cli_fail("CALSYNC_SECRET_KEYS: %s", err.msg);
	if (rotating)
		rc = rotate(cfg, kr, batch ? batch : "100");
	else
		rc = seal_or_open(kr, sealing, tenant);
	cs_keyring_free(kr);
	return rc;
}
