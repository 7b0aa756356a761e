/*
 * fingerprint.c - content fingerprints (see fingerprint.h). Normalising:
 * NULL and "" are the same; a status is confirmed, tentative or cancelled; an all-day
 * event has no zone; recurrence lines lose surrounding blanks and empty
 * lines; attendees are compared lowercased and in sorted order.
 */
#include "fingerprint.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "banned.h"

static void feed(crypto_hash_sha256_state *st, const char *s)
{
	static const unsigned char sep = 0x1f;

	if (s)
		crypto_hash_sha256_update(st, (const unsigned char *)s, strlen(s));
	crypto_hash_sha256_update(st, &sep, 1);
}

static void feed_lower(crypto_hash_sha256_state *st, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*s);

		crypto_hash_sha256_update(st, &c, 1);
	}
	feed(st, NULL);
}

/* Recurrence lines, each trimmed, empty ones dropped. */
static void feed_recurrence(crypto_hash_sha256_state *st, const char *r)
{
	while (r && *r) {
		const char *end = strchr(r, '\n');
		size_t len = end ? (size_t)(end - r) : strlen(r);

		while (len && isspace((unsigned char)*r)) {
			r++;
			len--;
		}
		while (len && isspace((unsigned char)r[len - 1]))
			len--;
		if (len) {
			crypto_hash_sha256_update(st, (const unsigned char *)r, len);
			feed(st, NULL);
		}
		if (!end)
			break;
		r = end + 1;
	}
	feed(st, NULL);
}

static int cmp_ci(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

static void feed_attendees(crypto_hash_sha256_state *st, const cs_event *ev)
{
	char **sorted = ev->nattendees ? malloc(ev->nattendees * sizeof(char *)) : NULL;

	if (sorted) {
		memcpy(sorted, ev->attendees, ev->nattendees * sizeof(char *));
		qsort(sorted, ev->nattendees, sizeof(char *), cmp_ci);
		for (size_t i = 0; i < ev->nattendees; i++)
			feed_lower(st, sorted[i]);
		free(sorted);
	}
	feed(st, NULL);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* confirmed, tentative or cancelled, whatever the provider calls it */
static const char *status_of(const cs_event *ev)
{
	if (ev->cancelled || (ev->status && strcmp(ev->status, "cancelled") == 0))
		return "cancelled";
	return ev->status && strcmp(ev->status, "tentative") == 0 ? "tentative" : "confirmed";
}

void cs_fingerprint(const cs_event *ev, char out[CS_FINGERPRINT_LEN + 1])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	feed(&st, nonempty(ev->title));
	feed(&st, nonempty(ev->description));
	feed(&st, nonempty(ev->location));
	feed(&st, ev->all_day ? "all-day" : "timed");
	feed(&st, ev->start);
	feed(&st, ev->end);
	feed(&st, ev->all_day ? NULL : nonempty(ev->timezone));
	feed_recurrence(&st, ev->recurrence);
	feed(&st, ev->original_start);
	feed_attendees(&st, ev);
	feed(&st, status_of(ev));
	crypto_hash_sha256_final(&st, digest);
	sodium_bin2hex(out, CS_FINGERPRINT_LEN + 1, digest, sizeof(digest));
}
