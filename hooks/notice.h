/*
 * notice.h - what a provider's notification says, checked before anything
 * is looked up (pure parsing, no I/O; fuzzed by tests/fuzz/fuzz_hooks.c):
 *   Google: the X-Goog-* headers of a channel's POST (its body is empty);
 *   Graph: the JSON body {"value": [...]} of change and lifecycle
 *   notifications.
 * A notification that is malformed is refused with a reason for the log
 * (never for the answer, never with a secret in it).
 *
 * Ownership: cs_google_notice borrows the header values it points to;
 * cs_graph_notices owns its strings (cs_graph_notices_release(), which
 * wipes the clientState values).
 */
#ifndef CS_NOTICE_H
#define CS_NOTICE_H

#include <stddef.h>

#include "err.h"

#define CS_GRAPH_NOTICES_MAX 1000  /* notifications in one Graph POST */

enum cs_google_state {
	CS_GOOGLE_SYNC,       /* the channel was made: nothing changed */
	CS_GOOGLE_EXISTS,     /* the resource changed */
	CS_GOOGLE_NOT_EXISTS, /* the resource was deleted */
};

typedef struct cs_google_notice {
	const char *channel_id;   /* X-Goog-Channel-ID */
	const char *token;        /* X-Goog-Channel-Token (a secret) */
	const char *resource_id;  /* X-Goog-Resource-ID */
	const char *state_text;   /* X-Goog-Resource-State */
	const char *number_text;  /* X-Goog-Message-Number */
	enum cs_google_state state;
	long long number;
} cs_google_notice;

/* Check the headers already pointed to and fill state and number; CS_EINVAL naming what is wrong. */
int cs_google_notice_check(cs_google_notice *n, cs_err *err);

typedef struct cs_graph_notice {
	char *subscription_id;
	char *client_state;       /* a secret; NULL when absent */
	char *lifecycle;          /* lifecycleEvent; NULL for a change notification */
} cs_graph_notice;

typedef struct cs_graph_notices {
	cs_graph_notice *items;
	size_t n;
} cs_graph_notices;

/* Parse a Graph notification body; CS_EINVAL naming what is wrong. */
int cs_graph_notices_parse(const char *body, size_t len, cs_graph_notices *out, cs_err *err);
void cs_graph_notices_release(cs_graph_notices *out);

#endif
