/*
 * handler_watch.c - the `watch` job: make or renew a calendar's push
 * channel (provider.h watch/unwatch) and record it in
 * calendar_watch_channels (migration 040), so that calsync-hooks can
 * authenticate its notifications. Data: {"job_id", "calendar_id",
 * "reason": "renew"|"recreate"}; `recreate` (the provider removed the
 * channel) makes a new one instead of renewing in place.
 *
 * A channel that cannot be made is recorded `failed` with the reason: the
 * calendar stays on the short polling interval and `calsync status` says
 * so; the job fails as any other (retried when retrying may help), and
 * the scheduler tries again later. When a new channel replaces another,
 * the old one is stopped. Without CALSYNC_HOOKS_PUBLIC_URL, or for a
 * provider without push, there is nothing to do. Disconnecting stops the
 * channel (cs_watch_stop(), called by the disconnect job).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "handlers.h"
#include "ids.h"
#include "log.h"
#include "watch.h"
#include "banned.h"

#define ADDRESS_MAX 1024

/* The channel in force (ch->id NULL when there is none) and its state. */
static int load_current(cs_sync *s, const char *cal_id, cs_watch_channel *ch, char *state,
			size_t state_len, cs_err *err)
{
	PGresult *res = NULL;
	int rc = 0;

	memset(ch, 0, sizeof(*ch));
	state[0] = '\0';
	if (cs_db_exec(s->db, &res, err,
		       "SELECT channel_id, resource_id,"
		       " COALESCE(extract(epoch FROM expires_at)::bigint, 0), state"
		       " FROM calendar_watch_channels WHERE external_calendar_id = $1",
		       1, &cal_id))
		return -1;
	if (PQntuples(res) == 1) {
		snprintf(state, state_len, "%s", PQgetvalue(res, 0, 3));
		ch->expires_at = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		if ((cs_db_get(res, 0, 0) && !(ch->id = strdup(cs_db_get(res, 0, 0)))) ||
		    (cs_db_get(res, 0, 1) && !(ch->resource_id = strdup(cs_db_get(res, 0, 1)))))
			rc = cs_err_set(err, CS_ENOMEM, true, "out of memory");
	}
	PQclear(res);
	return rc;
}

/*
 * A channel that could not be made or renewed: the reason, and when (the
 * scheduler tries again CS_WATCH_RETRY_S later). A live channel stays live
 * until it expires; anything else is `failed`: the calendar polls.
 */
static int record_failure(cs_sync *s, const cs_calendar *cal, const char *why, cs_err *err)
{
	return cs_db_exec(s->db, NULL, err,
			  "INSERT INTO calendar_watch_channels(external_calendar_id, provider, state,"
			  " last_error) VALUES ($1, $2, 'failed', $3)"
			  " ON CONFLICT (external_calendar_id) DO UPDATE SET last_error = $3,"
			  " updated_at = NOW(), state = CASE WHEN calendar_watch_channels.state = 'live'"
			  "   AND calendar_watch_channels.expires_at > NOW() THEN 'live' ELSE 'failed' END",
			  3, (const char *const[]){cal->id, cal->provider_name, why});
}

/*
 * The new channel (hash: its secret's, or NULL when it was renewed in
 * place: then the stored hash stays; the row to insert carries it too, as
 * its CHECK is tested before ON CONFLICT).
 */
static int record_live(cs_sync *s, const cs_calendar *cal, const cs_watch_channel *ch,
		       const char *hash, const char *address, cs_err *err)
{
	char exp[24];

	snprintf(exp, sizeof(exp), "%lld", ch->expires_at);
	return cs_db_exec(s->db, NULL, err,
			  "INSERT INTO calendar_watch_channels(external_calendar_id, provider,"
			  " channel_id, resource_id, token_hash, address, expires_at, state)"
			  " VALUES ($1, $2, $3, $4, COALESCE($5, (SELECT w.token_hash"
			  "   FROM calendar_watch_channels w WHERE w.external_calendar_id = $1)),"
			  " $6, to_timestamp($7::bigint), 'live')"
			  " ON CONFLICT (external_calendar_id) DO UPDATE SET channel_id = $3,"
			  " resource_id = $4, token_hash = EXCLUDED.token_hash,"
			  " address = $6, expires_at = to_timestamp($7::bigint), state = 'live',"
			  " last_error = NULL, updated_at = NOW()",
			  7, (const char *const[]){cal->id, cal->provider_name, ch->id,
						   ch->resource_id, hash, address, exp});
}

static int hook_address(const cs_config *cfg, const char *path, char *out, size_t n,
			cs_err *err)
{
	size_t len = strlen(cfg->hooks_public_url);

	while (len && cfg->hooks_public_url[len - 1] == '/')
		len--;
	if ((size_t)snprintf(out, n, "%.*s%s", (int)len, cfg->hooks_public_url, path) >= n)
		return cs_err_set(err, CS_EINVAL, false, "CALSYNC_HOOKS_PUBLIC_URL is too long");
	return 0;
}

static void stop_old(const cs_calendar *cal, const cs_watch_channel *old)
{
	cs_err err;

	if (cal->ops->unwatch(cal->provider, old, &err))
		cs_warn("calendar %s: stopping the replaced channel failed (it expires on its own): %s",
			cal->id, err.msg);
}

static int make_channel(cs_sync *s, cs_calendar *cal, const cs_watch_channel *current,
			bool recreate, cs_err *err)
{
	char address[ADDRESS_MAX], lifecycle[ADDRESS_MAX], secret[CS_WATCH_TOKEN_LEN + 1];
	char hash[CS_WATCH_HASH_LEN + 1], uuid[CS_UUID_LEN + 1], channel_id[CS_WATCH_ID_MAX + 1];
	cs_watch_channel out = {0};
	cs_watch_request req = {.address = address, .lifecycle_address = lifecycle,
				.channel_id = channel_id, .secret = secret,
				.current = current->id && !recreate ? current : NULL};
	bool in_place;
	int rc = -1;

	cs_uuid_v4(uuid);
	snprintf(channel_id, sizeof(channel_id), "calsync-%s", uuid);
	if (hook_address(s->cfg, cal->ops->hook_path, address, sizeof(address), err) ||
	    hook_address(s->cfg, CS_HOOK_GRAPH_LIFECYCLE, lifecycle, sizeof(lifecycle), err) ||
	    cs_watch_secret_new(secret, hash, err))
		goto done;
	if (cal->ops->watch(cal->provider, cal->remote_id, &req, &out, err)) {
		cs_err ferr;

		if (record_failure(s, cal, err->msg, &ferr))
			cs_warn("calendar %s: recording the failed channel: %s", cal->id, ferr.msg);
		cs_err_prefix(err, "making a push channel (polling meanwhile)");
		goto done;
	}
	in_place = req.current && strcmp(out.id, current->id) == 0;
	if (record_live(s, cal, &out, in_place ? NULL : hash, address, err))
		goto done;
	if (current->id && !in_place)
		stop_old(cal, current);
	cs_info("calendar %s: push channel %s, expires in %lld s", cal->id,
		in_place ? "renewed" : "made", out.expires_at - (long long)time(NULL));
	rc = 0;
done:
	sodium_memzero(secret, sizeof(secret));
	cs_watch_channel_release(&out);
	return rc;
}

static int watch_job(cs_sync *s, cs_job *job, cs_calendar *cal, cs_err *err)
{
	const char *reason = cs_job_str(job, "reason");
	cs_watch_channel current;
	char state[16];
	int rc;

	if (!s->cfg->hooks_public_url || !*s->cfg->hooks_public_url || !cal->ops->watch) {
		snprintf(s->report.error, sizeof(s->report.error), "%s",
			 cal->ops->watch ? "CALSYNC_HOOKS_PUBLIC_URL is not set: polling only"
					 : "the provider pushes no notifications: polling only");
		return 0;
	}
	if (!cal->active)
		return 0;
	if (load_current(s, cal->id, &current, state, sizeof(state), err))
		return -1;
	rc = make_channel(s, cal, &current,
			  (reason && strcmp(reason, "recreate") == 0) || strcmp(state, "removed") == 0,
			  err);
	cs_watch_channel_release(&current);
	return rc;
}

int cs_handle_watch(cs_worker *w, cs_job *job, cs_err *err)
{
	return cs_handle_with_calendar(w, job, true, watch_job, err);
}

void cs_watch_stop(cs_sync *s, const char *calendar_id)
{
	cs_watch_channel current;
	cs_calendar cal;
	char state[16];
	cs_err err;
	int rc = -1;

	if (load_current(s, calendar_id, &current, state, sizeof(state), &err))
		goto log;
	if (!current.id || strcmp(state, "live") != 0) {
		cs_watch_channel_release(&current);
		return;
	}
	if (cs_calendar_load(s, calendar_id, &cal, &err) == 0) {
		if (cs_calendar_connect(s, &cal, &err) == 0)
			rc = cal.ops->unwatch ? cal.ops->unwatch(cal.provider, &current, &err) : 0;
		cs_calendar_release(&cal);
	}
	cs_watch_channel_release(&current);
log:
	if (rc)
		cs_warn("calendar %s: stopping its push channel failed (it expires on its own): %s",
			calendar_id, err.msg);
}
