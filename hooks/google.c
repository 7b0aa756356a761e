/*
 * google.c - POST /hooks/google: a notification of a Google channel
 * (events.watch). Google sends no body, only headers: the channel id and
 * token calsync gave the channel, the watched resource's id, its state
 * (`sync` once when the channel is made, then `exists` or `not_exists`)
 * and a message number. The channel id must name a live channel, the
 * resource id must be the one Google granted it, and the token must hash
 * to the stored hash (constant-time compare); then a change becomes one
 * incremental sync job (deduplicated per calendar while it waits) and the
 * answer is 200. Anything else is refused without a reason (Google stops
 * retrying a refused message); Redis or PostgreSQL trouble is a 503, so
 * that Google tries again.
 */
#include <string.h>

#include "hooks.h"
#include "log.h"
#include "notice.h"
#include "banned.h"

void cs_hooks_google(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	cs_hooks *h = ctx;
	cs_google_notice n = {
		.channel_id = cs_httpd_header(req, "X-Goog-Channel-ID"),
		.token = cs_httpd_header(req, "X-Goog-Channel-Token"),
		.resource_id = cs_httpd_header(req, "X-Goog-Resource-ID"),
		.state_text = cs_httpd_header(req, "X-Goog-Resource-State"),
		.number_text = cs_httpd_header(req, "X-Goog-Message-Number"),
	};
	cs_hooks_channel ch;
	cs_hooks_conns *c;
	bool found = false, added = false;
	cs_err err;

	if (cs_google_notice_check(&n, &err)) {
		cs_info("google hook: %s", err.msg);
		cs_hooks_answer(resp, 400, "refused");
		return;
	}
	if (!(c = cs_hooks_thread(h, &err)) ||
	    cs_hooks_find_channel(c, "google", n.channel_id, &found, &ch, &err)) {
		cs_warn("google hook: %s", err.msg);
		cs_hooks_answer(resp, 503, "try again");
		return;
	}
	if (!found || strcmp(ch.state, "live") != 0 || strcmp(ch.resource, n.resource_id) != 0 ||
	    !cs_watch_secret_matches(n.token, ch.hash)) {
		cs_info("google hook: refused a notification for channel %.64s (%s)", n.channel_id,
			!found ? "unknown channel" : strcmp(ch.state, "live") != 0 ? "channel not live"
			: strcmp(ch.resource, n.resource_id) != 0 ? "another resource"
			: "wrong token");
		cs_hooks_answer(resp, 403, "refused");
		return;
	}
	if (n.state != CS_GOOGLE_SYNC &&
	    cs_watch_enqueue(c->redis, CS_WJ_SYNC, ch.calendar, &added, &err)) {
		cs_warn("google hook: calendar %s: %s", ch.calendar, err.msg);
		cs_hooks_answer(resp, 503, "try again");
		return;
	}
	cs_debug("google hook: calendar %s, message %lld (%s)%s", ch.calendar, n.number, n.state_text,
		 added ? ": sync queued" : "");
	cs_hooks_answer(resp, 200, "ok");
}
