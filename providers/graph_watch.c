/*
 * graph_watch.c - Graph subscriptions for the provider interface
 * (provider.h, watch/unwatch), over graph_api.c's transport.
 *
 * - watch: POST /subscriptions on me/calendars/{cal}/events, changeType
 *   created,updated,deleted, notificationUrl and lifecycleNotificationUrl
 *   (calsync-hooks), clientState (the request's random secret), and an
 *   expiration a few minutes short of the longest Graph allows for Outlook
 *   events (10,080 minutes), so that clock skew cannot make Graph refuse
 *   it. Graph validates both URLs before it answers (calsync-hooks echoes
 *   the validationToken). With req->current, the subscription is renewed
 *   in place: PATCH /subscriptions/{id} with the new expiration (the
 *   clientState stays); one Graph no longer knows (404) is made anew.
 *   The expiration Graph answers is the one granted.
 * - unwatch: DELETE /subscriptions/{id}; one already gone is success.
 *
 * The clientState travels only in the request body and Graph's answer,
 * both wiped; it never appears in an error text.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "graph_watch.h"
#include "timefmt.h"
#include "banned.h"

#define SKEW_MARGIN_S (5 * 60)
#define CLIENT_STATE_MAX 128   /* Graph's limit on clientState */
#define SUBSCRIPTION_ID_MAX 256
#define CHANGE_TYPES "created,updated,deleted"

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* The expiration to ask for, as Graph writes it. */
static void wanted_expiration(char buf[CS_TIME_BUFSZ])
{
	cs_time_format_utc((long long)time(NULL) + CS_GRAPH_SUBSCRIPTION_MAX_S - SKEW_MARGIN_S, buf);
}

/* The subscription in Graph's answer: its id and expirationDateTime. */
static int take_subscription(json_t *root, const char *method, const char *url,
			     cs_watch_channel *out, cs_err *err)
{
	const char *id = json_string_value(json_object_get(root, "id"));
	const char *exp = json_string_value(json_object_get(root, "expirationDateTime"));
	char what[300];
	long long t;

	cs_http_describe(method, url, what, sizeof(what));
	if (!id || !*id || strlen(id) > SUBSCRIPTION_ID_MAX || !exp || cs_time_parse_rfc3339(exp, &t, NULL) ||
	    t <= (long long)time(NULL))
		return cs_err_set(err, CS_EPROTO, true, "Outlook answered %s without a subscription"
				  " id and a future expirationDateTime", what);
	if (!(out->id = strdup(id)))
		return oom(err);
	out->expires_at = t;
	return 0;
}

/*
 * One call with a JSON body (may be NULL): a 2xx with a JSON object goes to
 * *root (when root is not NULL); *status gets the HTTP status. An answer
 * that is no success is an error, except the statuses the caller accepts
 * (ok_404).
 */
static int call(cs_provider *g, const char *method, const char *url, json_t *body, bool ok_404,
		json_t **root, long *status, cs_err *err)
{
	cs_http_response resp;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc = -1;

	cs_http_response_init(&resp);
	*status = 0;
	if (body && !text)
		rc = oom(err);
	else if (cs_graph_call(g, method, url, text, NULL, &resp, err) == 0) {
		*status = resp.status;
		if (resp.status / 100 == 2)
			rc = root ? cs_graph_parse(&resp, method, url, root, err) : 0;
		else if (ok_404 && resp.status == 404)
			rc = 0;
		else
			rc = cs_graph_api_error(&resp, method, url, err);
	}
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	cs_http_wipe(&resp.body);   /* Graph's answer to a subscribe echoes the clientState */
	return rc;
}

static int subscription_url(cs_provider *g, cs_dynbuf *url, const char *id, cs_err *err)
{
	return cs_graph_url(g, url, id ? "/subscriptions/" : "/subscriptions", id, err);
}

/* PATCH the expiration of current; *gone when Graph no longer knows it. */
static int renew(cs_provider *g, const cs_watch_channel *current, cs_watch_channel *out,
		 bool *gone, cs_err *err)
{
	char exp[CS_TIME_BUFSZ];
	cs_dynbuf url;
	json_t *body, *root = NULL;
	long status;
	int rc = -1;

	*gone = false;
	wanted_expiration(exp);
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (!(body = json_pack("{s:s}", "expirationDateTime", exp)))
		oom(err);
	else if (subscription_url(g, &url, current->id, err) == 0 &&
		 call(g, "PATCH", url.data, body, true, &root, &status, err) == 0) {
		*gone = status == 404;
		rc = *gone ? 0 : take_subscription(root, "PATCH", url.data, out, err);
	}
	json_decref(body);
	json_decref(root);
	cs_dynbuf_release(&url);
	return rc;
}

static int subscribe(cs_provider *g, const char *cal, const cs_watch_request *req,
		     cs_watch_channel *out, cs_err *err)
{
	char exp[CS_TIME_BUFSZ];
	cs_dynbuf url, resource;
	json_t *body = NULL, *root = NULL;
	long status;
	int rc = -1;

	wanted_expiration(exp);
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	cs_dynbuf_init(&resource, CS_GRAPH_URL_CAP);
	if (cs_dynbuf_addstr(&resource, "me/calendars/", err) ||
	    cs_http_escape(&resource, cal, err) || cs_dynbuf_addstr(&resource, "/events", err) ||
	    subscription_url(g, &url, NULL, err))
		goto done;
	body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "changeType", CHANGE_TYPES,
			 "notificationUrl", req->address, "lifecycleNotificationUrl",
			 req->lifecycle_address, "resource", resource.data,
			 "expirationDateTime", exp, "clientState", req->secret);
	if (!body) {
		oom(err);
		goto done;
	}
	if (call(g, "POST", url.data, body, false, &root, &status, err) == 0)
		rc = take_subscription(root, "POST", url.data, out, err);
done:
	json_decref(body);
	json_decref(root);
	cs_dynbuf_release(&resource);
	cs_dynbuf_release(&url);
	return rc;
}

int cs_graph_watch(cs_provider *g, const char *cal, const cs_watch_request *req,
		   cs_watch_channel *out, cs_err *err)
{
	bool gone = false;

	memset(out, 0, sizeof(*out));
	if (!req->address || !req->lifecycle_address || !req->secret ||
	    strlen(req->secret) > CLIENT_STATE_MAX)
		return cs_err_set(err, CS_EINVAL, false, "Outlook watch: a notification URL, a "
				  "lifecycle URL and a clientState of at most %d characters are needed",
				  CLIENT_STATE_MAX);
	if (req->current && req->current->id) {
		if (renew(g, req->current, out, &gone, err))
			return -1;
		if (!gone)
			return 0;
	}
	return subscribe(g, cal, req, out, err);
}

int cs_graph_unwatch(cs_provider *g, const cs_watch_channel *ch, cs_err *err)
{
	cs_dynbuf url;
	long status;
	int rc = -1;

	if (!ch->id)
		return 0;   /* never made: nothing to delete */
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (subscription_url(g, &url, ch->id, err) == 0)
		rc = call(g, "DELETE", url.data, NULL, true, NULL, &status, err);
	cs_dynbuf_release(&url);
	return rc;
}
