/*
 * graph.c - POST /hooks/graph and POST /hooks/graph/lifecycle: Microsoft
 * Graph's subscription notifications.
 *
 * Both first answer Graph's validation request (a POST with
 * ?validationToken=...: 200, text/plain, the token as it came) at once.
 * Otherwise the body is {"value": [...]}; each notification names its
 * subscription (subscriptionId) and carries the clientState calsync gave
 * it, which must hash to the subscription row's stored hash. On
 * /hooks/graph a genuine change becomes an incremental sync job; on the
 * lifecycle path `reauthorizationRequired` becomes a renewing watch job,
 * `subscriptionRemoved` marks the row removed and queues a watch job that
 * makes a new subscription, and `missed` a full sync. The answer is 202
 * when at least one notification was genuine, a bare 403 otherwise;
 * Redis or PostgreSQL trouble is a 503 (Graph tries again).
 */
#include <string.h>

#include "hooks.h"
#include "log.h"
#include "notice.h"
#include "banned.h"

#define GRAPH_PROVIDER "outlook"

typedef int (*act_fn)(cs_hooks_conns *c, const cs_graph_notice *n, const char *calendar,
		      cs_err *err);

static int on_change(cs_hooks_conns *c, const cs_graph_notice *n, const char *calendar,
		     cs_err *err)
{
	bool added;

	if (n->lifecycle)
		return 0;   /* a lifecycle event belongs on the lifecycle path */
	return cs_watch_enqueue(c->redis, CS_WJ_SYNC, calendar, &added, err);
}

static int on_lifecycle(cs_hooks_conns *c, const cs_graph_notice *n, const char *calendar,
			cs_err *err)
{
	bool added;

	if (!n->lifecycle)
		return 0;
	if (strcmp(n->lifecycle, "reauthorizationRequired") == 0)
		return cs_watch_enqueue(c->redis, CS_WJ_REAUTHORIZE, calendar, &added, err);
	if (strcmp(n->lifecycle, "missed") == 0)
		return cs_watch_enqueue(c->redis, CS_WJ_FULL, calendar, &added, err);
	if (strcmp(n->lifecycle, "subscriptionRemoved") != 0) {
		cs_info("graph hook: calendar %s: lifecycle event '%.64s' ignored", calendar,
			n->lifecycle);
		return 0;
	}
	if (cs_db_exec(c->db, NULL, err,
		       "UPDATE calendar_watch_channels SET state = 'removed', updated_at = NOW()"
		       " WHERE external_calendar_id = $1 AND provider = $2",
		       2, (const char *const[]){calendar, GRAPH_PROVIDER}))
		return -1;
	return cs_watch_enqueue(c->redis, CS_WJ_RECREATE, calendar, &added, err);
}

/* Graph's validation request: the token echoed in plain text. */
static bool validation(const cs_httpd_request *req, cs_httpd_response *resp)
{
	const char *token = cs_httpd_query(req, "validationToken");

	if (!token)
		return false;
	if (!*token || strlen(token) > CS_HOOKS_VALIDATION_MAX) {
		cs_hooks_answer(resp, 400, "refused");
		return true;
	}
	resp->status = 200;
	resp->content_type = "text/plain";
	cs_dynbuf_addstr(&resp->body, token, NULL);
	return true;
}

/* Authenticate one notification and act on it; *genuine says whether it was. */
static int one(cs_hooks_conns *c, const cs_graph_notice *n, act_fn act, bool *genuine,
	       cs_err *err)
{
	cs_hooks_channel ch;
	bool found = false;

	*genuine = false;
	if (cs_hooks_find_channel(c, GRAPH_PROVIDER, n->subscription_id, &found, &ch, err))
		return -1;
	if (!found || !cs_watch_secret_matches(n->client_state, ch.hash)) {
		cs_info("graph hook: refused a notification for subscription %.64s (%s)",
			n->subscription_id, found ? "wrong clientState" : "unknown subscription");
		return 0;
	}
	*genuine = true;
	return act(c, n, ch.calendar, err);
}

static void handle(cs_hooks *h, const cs_httpd_request *req, cs_httpd_response *resp, act_fn act)
{
	cs_graph_notices notes;
	cs_hooks_conns *c;
	size_t genuine = 0;
	cs_err err;
	int rc = 0;

	if (validation(req, resp))
		return;
	if (cs_graph_notices_parse(req->body, req->body_len, &notes, &err)) {
		cs_info("graph hook: %s", err.msg);
		cs_hooks_answer(resp, 400, "refused");
		return;
	}
	if (!(c = cs_hooks_thread(h, &err)))
		rc = -1;
	for (size_t i = 0; rc == 0 && i < notes.n; i++) {
		bool ok;

		rc = one(c, &notes.items[i], act, &ok, &err);
		genuine += ok;
	}
	cs_graph_notices_release(&notes);
	if (rc) {
		cs_warn("graph hook: %s", err.msg);
		cs_hooks_answer(resp, 503, "try again");
	} else if (!genuine) {
		cs_hooks_answer(resp, 403, "refused");
	} else {
		cs_hooks_answer(resp, 202, "accepted");
	}
}

void cs_hooks_graph(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	handle(ctx, req, resp, on_change);
}

void cs_hooks_graph_lifecycle(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	handle(ctx, req, resp, on_lifecycle);
}
