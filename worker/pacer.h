/*
 * pacer.h - per-account pacing of provider requests across all threads of
 * a worker process: each provider's cs_provider_limits (provider.h) - at
 * most max_in_flight requests at once, per_second sustained with a burst
 * - and the pauses its Retry-After answers ask for, per account only.
 *
 * An account is the key cs_pacer_account() makes: the provider and the
 * connection's owner (the user). A request of a paused account waits
 * while the pause is short; when it is longer than CS_PACE_HANDBACK_MS
 * it fails at once with a retryable CS_ERATELIMIT carrying the time left
 * (the job goes back to the queue with that delay and costs no attempt),
 * so a slot never sits on a rate-limited account's job for long and other
 * accounts never wait for it.
 *
 * Ownership: cs_pacer_new() returns a pacer freed with cs_pacer_free()
 * once no thread uses it. A cs_pace (one per slot) borrows the pacer; its
 * account is copied in.
 */
#ifndef CS_PACER_H
#define CS_PACER_H

#include <stdbool.h>

#include "err.h"
#include "provider.h"

#define CS_PACE_HANDBACK_MS 2000
#define CS_PACE_ACCOUNT_MAX 200

typedef struct cs_pacer cs_pacer;

int cs_pacer_new(cs_pacer **out, cs_err *err);
void cs_pacer_free(cs_pacer *p);

/* One slot's pacing of the job it runs: the pacer, the account, its limits. */
typedef struct cs_pace {
	cs_pacer *pacer;
	char account[CS_PACE_ACCOUNT_MAX];  /* "" : the job's requests are not paced */
	cs_provider_limits limits;
} cs_pace;

/* The account key of a calendar's connection: "<provider>/<owner>". */
void cs_pacer_account(const char *provider, const char *owner, char *buf, size_t n);

/* An http.h pacer (cs_http_pace_fn): ctx is the slot's cs_pace. */
int cs_pace_request(void *ctx, bool start, int retry_after_ms, cs_err *err);

#endif
