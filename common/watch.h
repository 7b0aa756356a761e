/*
 * watch.h - what the worker, the scheduler and calsync-hooks share about
 * provider push channels (Google channels, Graph subscriptions; table
 * calendar_watch_channels, migration 040):
 *   - the per-channel secret (Google's channel token, Graph's clientState):
 *     made from libsodium's generator, stored only as its BLAKE2b hash
 *     (crypto_generichash, hex), compared in constant time;
 *   - the jobs a notification or a renewal becomes, each under a dedup key
 *     of its own (calsync:queued:hook:<cal>, ...:hookfull:<cal>,
 *     ...:watch:<cal>), so that a burst for one calendar waits as one job.
 *     A notification's sync becomes due CS_WATCH_SETTLE_MS after the first
 *     notification (through the delayed set), so that the notifications of
 *     one burst, which Google sends one per change, share it.
 *
 * Ownership: every out-buffer is the caller's, of the size its macro
 * gives. Secrets never reach a log line or an error text.
 */
#ifndef CS_WATCH_H
#define CS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "redisconn.h"

#define CS_WATCH_TOKEN_LEN 43   /* 32 random bytes, base64url without padding */
#define CS_WATCH_HASH_LEN 64    /* 32-byte BLAKE2b, hex */
#define CS_WATCH_SECRET_MAX 256 /* the longest secret a notification may present */
#define CS_WATCH_ID_MAX 64      /* Google: a channel id has at most 64 characters */
#define CS_WATCH_DEDUP_TTL_S 3600
#define CS_WATCH_SETTLE_MS 300

/* The hooks' paths (contract section 1), appended to CALSYNC_HOOKS_PUBLIC_URL. */
#define CS_HOOK_GOOGLE "/hooks/google"
#define CS_HOOK_GRAPH "/hooks/graph"
#define CS_HOOK_GRAPH_LIFECYCLE "/hooks/graph/lifecycle"

/* A new random secret and its hash. */
int cs_watch_secret_new(char token[CS_WATCH_TOKEN_LEN + 1], char hash[CS_WATCH_HASH_LEN + 1],
			cs_err *err);
/* The hash of a secret as stored. */
void cs_watch_secret_hash(const char *secret, size_t len, char hash[CS_WATCH_HASH_LEN + 1]);
/* Does secret hash to stored_hash? Constant time in the hash; false for NULLs. */
bool cs_watch_secret_matches(const char *secret, const char *stored_hash);

/* What a job for a calendar is about. */
enum cs_watch_job {
	CS_WJ_SYNC,      /* a notification: incremental sync, interactive */
	CS_WJ_FULL,      /* Graph `missed`: full sync, interactive */
	CS_WJ_RENEW,     /* renew the channel (or make one), background */
	CS_WJ_RECREATE,  /* the provider removed it: make a new one, interactive */
	CS_WJ_REAUTHORIZE, /* Graph `reauthorizationRequired`: renew now, interactive */
};

/* Enqueue that job for calendar_id under its dedup key; *added says whether it was new. */
int cs_watch_enqueue(cs_redis *r, enum cs_watch_job what, const char *calendar_id,
		     bool *added, cs_err *err);

/*
 * A sync job a notification queued carries its key as "hook_dedup": the
 * sync releases it as it starts (a key outside calsync:queued:hook... is
 * left alone), so notifications wait as one job, never miss a running one.
 */
int cs_watch_release_hook(cs_redis *r, const char *key, cs_err *err);

#endif
