/* calendar.c - loading a calendar, its credentials and its provider (see calendar.h). */
#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static char *dup_field(PGresult *res, int col)
{
	const char *v = cs_db_get(res, 0, col);

	return v ? strdup(v) : NULL;
}

int cs_calendar_load(cs_sync *s, const char *id, cs_calendar *cal, cs_err *err)
{
	PGresult *res = NULL;
	int rc = 0;

	memset(cal, 0, sizeof(*cal));
	if (cs_db_exec(s->db, &res, err,
		       "SELECT ec.id, ec.tenant_id, ec.user_id, ec.provider, ec.provider_calendar_id,"
		       " COALESCE(ec.sync_direction, 'bidirectional'), COALESCE(ec.is_active, TRUE),"
		       " s.sync_token, s.page_token, COALESCE(s.generation, 0),"
		       " COALESCE(s.full_sync_running, FALSE),"
		       " COALESCE(s.last_sync_status = 'success' AND s.last_sync_error IS NULL, FALSE)"
		       " FROM external_calendars ec"
		       " LEFT JOIN calendar_sync_states s ON s.external_calendar_id = ec.id"
		       " WHERE ec.id = $1",
		       1, &id))
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cs_err_set(err, CS_ENOTFOUND, false, "calendar %s does not exist", id);
	}
	cal->id = dup_field(res, 0);
	cal->tenant_id = dup_field(res, 1);
	cal->user_id = dup_field(res, 2);
	cal->provider_name = dup_field(res, 3);
	cal->remote_id = dup_field(res, 4);
	cal->direction = dup_field(res, 5);
	cal->active = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	cal->sync_token = dup_field(res, 7);
	cal->page_token = dup_field(res, 8);
	cal->generation = strtoll(PQgetvalue(res, 0, 9), NULL, 10);
	cal->full_running = strcmp(PQgetvalue(res, 0, 10), "t") == 0;
	cal->last_clean = strcmp(PQgetvalue(res, 0, 11), "t") == 0;
	if (!cal->id || !cal->tenant_id || !cal->user_id || !cal->provider_name ||
	    !cal->remote_id || !cal->direction)
		rc = cs_err_set(err, CS_ENOMEM, true, "out of memory");
	PQclear(res);
	if (rc)
		cs_calendar_release(cal);
	return rc;
}

/* Open one sealed column into *out (NULL stays NULL). */
static int open_secret(cs_sync *s, const cs_calendar *cal, const char *sealed,
		       const char *what, char **out, cs_err *err)
{
	size_t len;

	*out = NULL;
	if (!sealed || !*sealed)
		return 0;
	if (cs_secret_open(s->keys, cal->tenant_id, sealed, out, &len, err))
		return cs_err_prefix(err, "calendar %s: %s", cal->id, what);
	return 0;
}

static int seal_or_null(const cs_keyring *keys, const cs_calendar *cal, const char *plain,
			char **out, cs_err *err)
{
	*out = NULL;
	if (!plain)
		return 0;
	return cs_secret_seal(keys, cal->tenant_id, plain, strlen(plain), out, err);
}

/*
 * The other calendars of cal's tenant, user and provider whose refresh
 * token is the one cal held before it was rotated get the new sealed
 * tokens too (the old one is dead for all of them).
 */
static int store_on_siblings(cs_db *db, const cs_keyring *keys, const cs_calendar *cal,
			     const char *const *sealed, cs_err *err)
{
	const char *params[5] = {cal->tenant_id, cal->user_id, cal->provider_name, cal->id};
	PGresult *res = NULL;
	int rc = 0;

	if (!sealed[1] || !cal->refresh_stored ||
	    strcmp(cal->refresh_stored, cal->creds.refresh_token) == 0)
		return 0;
	if (cs_db_exec(db, &res, err,
		       "SELECT id, refresh_token_encrypted FROM external_calendars"
		       " WHERE tenant_id = $1 AND user_id = $2 AND provider = $3 AND id <> $4"
		       " AND refresh_token_encrypted IS NOT NULL",
		       4, params))
		return -1;
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		const char *row[5] = {cs_db_get(res, i, 0), sealed[0], sealed[1], sealed[2],
				      cs_db_get(res, i, 1)};
		char *plain = NULL;
		bool same;

		if (cs_secret_open(keys, cal->tenant_id, row[4], &plain, NULL, NULL))
			continue;   /* not openable: not the same token */
		same = strcmp(plain, cal->refresh_stored) == 0;
		cs_secret_free(plain);
		if (same)
			rc = cs_db_exec(db, NULL, err,
					"UPDATE external_calendars SET access_token_encrypted = $2,"
					" refresh_token_encrypted = $3,"
					" token_expires_at = CASE WHEN $4::bigint > 0"
					" THEN to_timestamp($4::bigint) END, updated_at = NOW()"
					" WHERE id = $1 AND refresh_token_encrypted = $5",
					5, row);
	}
	PQclear(res);
	return rc;
}

/* Seal cal's credentials and store them on db (cal->creds.changed cleared). */
static int store_on(cs_db *db, const cs_keyring *keys, cs_calendar *cal, cs_err *err)
{
	char *access = NULL, *refresh = NULL;
	char expires[24];
	const char *params[4];
	int rc = -1;

	if (!cal->creds.changed)
		return 0;
	if (seal_or_null(keys, cal, cal->creds.access_token, &access, err) ||
	    seal_or_null(keys, cal, cal->creds.refresh_token, &refresh, err))
		goto out;
	snprintf(expires, sizeof(expires), "%lld", cal->creds.expires_at);
	params[0] = cal->id;
	params[1] = access;
	params[2] = refresh;
	params[3] = expires;
	rc = cs_db_exec(db, NULL, err,
			"UPDATE external_calendars SET access_token_encrypted = $2,"
			" refresh_token_encrypted = COALESCE($3, refresh_token_encrypted),"
			" token_expires_at = CASE WHEN $4::bigint > 0 THEN to_timestamp($4::bigint) END,"
			" updated_at = NOW() WHERE id = $1",
			4, params);
	if (rc == 0)
		rc = store_on_siblings(db, keys, cal, params + 1, err);
	if (rc == 0 && refresh) {
		cs_secret_free(cal->refresh_stored);
		if (!(cal->refresh_stored = strdup(cal->creds.refresh_token)))
			rc = cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	if (rc == 0)
		cal->creds.changed = false;
out:
	free(access);
	free(refresh);
	return rc;
}

/*
 * The credentials hook (provider.h): the provider may call it on a thread
 * that is not the run's, while the run's connection is in a transaction,
 * so they are stored on a connection of their own, in one statement.
 * Refreshes are rare (about once an hour per calendar).
 */
static int store_now(cs_creds *creds, void *ctx, cs_err *err)
{
	cs_calendar *cal = ctx;
	cs_db *db = NULL;
	int rc;

	if (creds != &cal->creds)
		return cs_err_set(err, CS_EINVAL, false, "calendar %s: not its credentials", cal->id);
	if (cs_db_new(&db, cal->owner->cfg->database_url, err))
		return -1;
	rc = store_on(db, cal->owner->keys, cal, err);
	cs_db_free(db);
	return rc;
}

int cs_calendar_connect(cs_sync *s, cs_calendar *cal, cs_err *err)
{
	PGresult *res = NULL;
	const char *id = cal->id;
	int rc = -1;

	cal->ops = cs_provider_find(cal->provider_name);
	if (!cal->ops)
		return cs_err_set(err, CS_EINVAL, false, "calendar %s: unknown provider '%.32s'",
				  cal->id, cal->provider_name);
	if (cs_db_exec(s->db, &res, err,
		       "SELECT access_token_encrypted, refresh_token_encrypted,"
		       " COALESCE(extract(epoch FROM token_expires_at)::bigint, 0),"
		       " caldav_url, caldav_username, icloud_app_password_encrypted"
		       " FROM external_calendars WHERE id = $1",
		       1, &id))
		return -1;
	if (PQntuples(res) != 1) {
		cs_err_set(err, CS_ENOTFOUND, false, "calendar %s does not exist", id);
		goto out;
	}
	if (open_secret(s, cal, cs_db_get(res, 0, 0), "access token", &cal->creds.access_token, err) ||
	    open_secret(s, cal, cs_db_get(res, 0, 1), "refresh token", &cal->creds.refresh_token, err) ||
	    open_secret(s, cal, cs_db_get(res, 0, 5), "app password", &cal->creds.password, err))
		goto out;
	cal->creds.expires_at = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	if (cal->creds.refresh_token && !(cal->refresh_stored = strdup(cal->creds.refresh_token))) {
		cs_err_set(err, CS_ENOMEM, true, "out of memory");
		goto out;
	}
	if (cs_db_get(res, 0, 3))
		cal->creds.url = strdup(cs_db_get(res, 0, 3));
	if (cs_db_get(res, 0, 4))
		cal->creds.username = strdup(cs_db_get(res, 0, 4));
	cal->owner = s;
	cal->creds.store = store_now;
	cal->creds.store_ctx = cal;
	cs_http_set_label(s->http, cal->ops->name);
	rc = cal->ops->open(&cal->provider, s->cfg, &cal->creds, s->http, err);
out:
	PQclear(res);
	return rc;
}

int cs_calendar_store_creds(cs_sync *s, cs_calendar *cal, cs_err *err)
{
	return store_on(s->db, s->keys, cal, err);
}

bool cs_calendar_token_moved(cs_sync *s, const cs_calendar *cal)
{
	const char *id = cal->id;
	PGresult *res = NULL;
	char *plain = NULL;
	bool moved = false;

	if (!cal->refresh_stored || !s->keys ||
	    cs_db_exec(s->db, &res, NULL, "SELECT refresh_token_encrypted FROM external_calendars"
		       " WHERE id = $1", 1, &id))
		return false;
	if (PQntuples(res) == 1 && cs_db_get(res, 0, 0) &&
	    cs_secret_open(s->keys, cal->tenant_id, cs_db_get(res, 0, 0), &plain, NULL, NULL) == 0)
		moved = strcmp(plain, cal->refresh_stored) != 0;
	cs_secret_free(plain);
	PQclear(res);
	return moved;
}

int cs_calendar_mark_auth_required(cs_sync *s, const cs_calendar *cal, const char *why,
				   cs_err *err)
{
	const char *params[2] = {cal->id, why};

	if (cs_calendar_token_moved(s, cal))
		return 0;   /* the next run uses the rotated token */
	return cs_db_exec(s->db, NULL, err,
			  "INSERT INTO calendar_sync_states (external_calendar_id, last_sync_at,"
			  " last_sync_status, last_sync_error) VALUES ($1, NOW(), 'auth_required', $2)"
			  " ON CONFLICT (external_calendar_id) DO UPDATE SET last_sync_at = NOW(),"
			  " last_sync_status = 'auth_required', last_sync_error = $2, updated_at = NOW()",
			  2, params);
}

bool cs_calendar_can(const cs_calendar *cal, enum cs_provider_cap cap)
{
	return (cal->ops->caps(cal->provider) & cap) != 0;
}

bool cs_calendar_pulls(const cs_calendar *cal)
{
	return cal->active && strcmp(cal->direction, "push_only") != 0;
}

bool cs_calendar_pushes(const cs_calendar *cal)
{
	return cal->active && strcmp(cal->direction, "pull_only") != 0;
}

void cs_calendar_release(cs_calendar *cal)
{
	if (cal->provider)
		cal->ops->close(cal->provider);
	cs_creds_release(&cal->creds);
	cs_secret_free(cal->refresh_stored);
	free(cal->id);
	free(cal->tenant_id);
	free(cal->user_id);
	free(cal->provider_name);
	free(cal->remote_id);
	free(cal->direction);
	free(cal->sync_token);
	free(cal->page_token);
	memset(cal, 0, sizeof(*cal));
}
