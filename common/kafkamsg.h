/*
 * kafkamsg.h - the backend's event-changed message (contract section 3):
 * parsing and validating the value, and the dead-letter entry of a
 * message that cannot be handled. Pure functions: no I/O, no Kafka.
 *
 * A valid value is a UTF-8 JSON object of at most CS_KAFKAMSG_MAX bytes
 * with "event_id" and "tenant_id" (8-4-4-4-12 UUIDs, either case),
 * "op" (created, updated or deleted) and "occurred_at" (an RFC 3339
 * date-time string). Other members are ignored.
 *
 * Ownership: cs_kafkamsg is a plain value the caller owns (fixed-size
 * fields, nothing to free). cs_kafkamsg_printable() and
 * cs_kafkamsg_dead_json() return strings the caller frees with free().
 */
#ifndef CS_KAFKAMSG_H
#define CS_KAFKAMSG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "ids.h"

/* The largest message value accepted (an event-changed message is ~200 bytes). */
#define CS_KAFKAMSG_MAX 65536
/* How much of a message's value (and key) a dead-letter entry keeps. */
#define CS_KAFKAMSG_DEAD_VALUE_MAX 4096

typedef struct cs_kafkamsg {
	char event_id[CS_UUID_LEN + 1];   /* lowercased */
	char tenant_id[CS_UUID_LEN + 1];  /* lowercased */
	char op[8];                       /* "created", "updated" or "deleted" */
	char occurred_at[64];             /* as sent, syntax checked */
} cs_kafkamsg;

/*
 * Parse and check one message value (len bytes, not NUL-terminated; may
 * be NULL when len is 0). On failure: CS_EINVAL (not retryable), or
 * CS_ENOMEM for a value over the cap, with err->msg the reason in a few
 * words naming the field, e.g. "event_id is not a UUID".
 */
int cs_kafkamsg_parse(const void *value, size_t len, cs_kafkamsg *out, cs_err *err);

/* True for an RFC 3339 date-time: 2026-11-25T10:00:00Z, fractions and offsets allowed. */
bool cs_kafkamsg_is_rfc3339(const char *s);

/*
 * Bytes as a valid UTF-8 C string of at most cap bytes (plus the NUL):
 * invalid sequences and NUL bytes become U+FFFD, and a cut value ends
 * with "..." (within the cap). NULL only when out of memory.
 */
char *cs_kafkamsg_printable(const void *p, size_t len, size_t cap);

/* Where a message came from, for its dead-letter entry. */
typedef struct cs_kafkamsg_origin {
	const char *topic;
	int partition;
	long long offset;
	const void *key;     /* may be NULL */
	size_t key_len;
	const void *value;   /* may be NULL */
	size_t value_len;
} cs_kafkamsg_origin;

/*
 * The data of the calsync:dead entry of a message that cannot be handled:
 * {"source":"kafka","topic","partition","offset","key","value","reason",
 * "dead_at"} with key and value as printable strings (capped at
 * CS_KAFKAMSG_DEAD_VALUE_MAX; key null when the message had none) and
 * dead_at the RFC 3339 UTC time of now_ms. NULL only when out of memory.
 */
char *cs_kafkamsg_dead_json(const cs_kafkamsg_origin *origin, const char *reason,
			    long long now_ms);

#endif
