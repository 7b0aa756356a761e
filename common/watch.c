/*
 * watch.c - push-channel secrets and the jobs of notifications and
 * renewals (see watch.h).
 */
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ids.h"
#include "queue.h"
#include "banned.h"

int cs_watch_secret_new(char token[CS_WATCH_TOKEN_LEN + 1], char hash[CS_WATCH_HASH_LEN + 1],
			cs_err *err)
{
	unsigned char raw[32];

	if (sodium_init() < 0)
		return cs_err_set(err, CS_ECRYPTO, false, "libsodium failed to start");
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, CS_WATCH_TOKEN_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	cs_watch_secret_hash(token, strlen(token), hash);
	return 0;
}

void cs_watch_secret_hash(const char *secret, size_t len, char hash[CS_WATCH_HASH_LEN + 1])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)secret, len, NULL, 0);
	sodium_bin2hex(hash, CS_WATCH_HASH_LEN + 1, h, sizeof(h));
}

bool cs_watch_secret_matches(const char *secret, const char *stored_hash)
{
	char h[CS_WATCH_HASH_LEN + 1];
	size_t len;

	if (!secret || !stored_hash || strlen(stored_hash) != CS_WATCH_HASH_LEN)
		return false;
	len = strnlen(secret, CS_WATCH_SECRET_MAX + 1);
	if (len == 0 || len > CS_WATCH_SECRET_MAX)
		return false;
	cs_watch_secret_hash(secret, len, h);
	return sodium_memcmp(h, stored_hash, CS_WATCH_HASH_LEN) == 0;
}

struct job_kind {
	const char *stream;
	const char *type;
	const char *field;   /* "mode" of a sync, "reason" of a watch */
	const char *value;
	const char *dedup;
	/*
	 * "dedup": released when the job ends; "hook_dedup": released when
	 * the sync starts (cs_watch_release_hook()), so that a notification
	 * that comes while the sync runs queues the next one.
	 */
	const char *dedup_field;
	int delay_ms;        /* due this long after the first notification (CS_WATCH_SETTLE_MS) */
};

static const struct job_kind kinds[] = {
	[CS_WJ_SYNC] = {CS_STREAM_INTERACTIVE, "sync", "mode", "incremental", "hook:", "hook_dedup",
		      CS_WATCH_SETTLE_MS},
	[CS_WJ_FULL] = {CS_STREAM_INTERACTIVE, "sync", "mode", "full", "hookfull:", "hook_dedup",
		      CS_WATCH_SETTLE_MS},
	[CS_WJ_RENEW] = {CS_STREAM_BACKGROUND, "watch", "reason", "renew", "watch:", "dedup", 0},
	[CS_WJ_RECREATE] = {CS_STREAM_INTERACTIVE, "watch", "reason", "recreate", "watch:", "dedup", 0},
	[CS_WJ_REAUTHORIZE] = {CS_STREAM_INTERACTIVE, "watch", "reason", "renew", "watch:", "dedup", 0},
};

int cs_watch_enqueue(cs_redis *r, enum cs_watch_job what, const char *calendar_id,
		     bool *added, cs_err *err)
{
	const struct job_kind *k = &kinds[what];
	char job_id[CS_UUID_LEN + 1], dedup[128];
	char *data = NULL;
	json_t *o;
	int rc;

	if (!cs_is_uuid(calendar_id))
		return cs_err_set(err, CS_EINVAL, false, "a %s job needs a calendar UUID", k->type);
	cs_uuid_v4(job_id);
	snprintf(dedup, sizeof(dedup), CS_DEDUP_PREFIX "%s%s", k->dedup, calendar_id);
	o = json_pack("{s:s, s:s, s:s, s:s}", "job_id", job_id, "calendar_id", calendar_id,
		      k->field, k->value, k->dedup_field, dedup);
	if (o)
		data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!data)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	rc = k->delay_ms ? cs_queue_enqueue_later(r, k->stream, k->type, data, dedup,
						  CS_WATCH_DEDUP_TTL_S, k->delay_ms, added, err)
			 : cs_queue_enqueue(r, k->stream, k->type, data, dedup, CS_WATCH_DEDUP_TTL_S,
					    added, err);
	free(data);
	return rc;
}

int cs_watch_release_hook(cs_redis *r, const char *key, cs_err *err)
{
	static const char prefix[] = CS_DEDUP_PREFIX "hook";

	if (!key || strncmp(key, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	return cs_redis_cmdf(r, NULL, err, "DEL %s", key);
}
