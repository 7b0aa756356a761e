/*
 * fuzz_hooks.c - what calsync-hooks parses of outside input
 * (hooks/notice.h): the first byte picks Google's headers or Graph's
 * body. Google: the rest is split at newlines into the five X-Goog-*
 * values; an accepted notice has a known state, a positive message number
 * and values within their length caps. Graph: the rest is a notification
 * body; a parsed one has 1..CS_GRAPH_NOTICES_MAX items, each with a
 * subscription id. Every refusal has a readable reason that never quotes
 * the token or clientState (Google: the same reason with another token).
 */
#include <stdint.h>

#include "fuzz.h"
#include "notice.h"
#include "watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void google(char *text)
{
	const char *parts[5] = {NULL};
	cs_google_notice n;
	char *p = text;
	cs_err err;

	for (int i = 0; i < 5 && p; i++) {
		parts[i] = p;
		if ((p = strchr(p, '\n')))
			*p++ = '\0';
	}
	n = (cs_google_notice){.channel_id = parts[0], .token = parts[1], .resource_id = parts[2],
			       .state_text = parts[3], .number_text = parts[4]};
	if (cs_google_notice_check(&n, &err) == 0) {
		FUZZ_ASSERT(n.state <= CS_GOOGLE_NOT_EXISTS && n.number >= 1);
		FUZZ_ASSERT(strlen(n.channel_id) <= CS_WATCH_ID_MAX);
		FUZZ_ASSERT(strlen(n.token) <= CS_WATCH_SECRET_MAX);
		return;
	}
	FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
	if (!strstr(err.msg, "X-Goog-Channel-Token")) {
		/* the reason never depends on the token: another one gives the same */
		cs_google_notice other = n;
		cs_err again;

		other.token = "another-token";
		FUZZ_ASSERT(cs_google_notice_check(&other, &again) < 0);
		FUZZ_ASSERT(strcmp(again.msg, err.msg) == 0);
	}
}

static void graph(const char *body, size_t len)
{
	cs_graph_notices notes;
	cs_err err;

	if (cs_graph_notices_parse(body, len, &notes, &err) == 0) {
		FUZZ_ASSERT(notes.n >= 1 && notes.n <= CS_GRAPH_NOTICES_MAX);
		for (size_t i = 0; i < notes.n; i++) {
			FUZZ_ASSERT(notes.items[i].subscription_id && *notes.items[i].subscription_id);
			FUZZ_ASSERT(fuzz_text_ok(notes.items[i].subscription_id));
			FUZZ_ASSERT(!notes.items[i].client_state ||
				    strlen(notes.items[i].client_state) <= CS_WATCH_SECRET_MAX);
		}
		cs_graph_notices_release(&notes);
		return;
	}
	FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text;

	if (len == 0)
		return 0;
	text = fuzz_strndup(data + 1, len - 1);
	if (data[0] & 1)
		google(text);
	else
		graph(text, len - 1);
	free(text);
	return 0;
}
