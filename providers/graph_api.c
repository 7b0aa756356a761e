/*
 * graph_api.c - OAuth refresh, authenticated calls and error mapping of
 * the Graph provider (see graph_api.h). Tokens travel only in the form
 * body and the Authorization header; buffers that held them are wiped,
 * and no error text ever contains one.
 */
#include "graph_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bearer.h"
#include "observe.h"
#include "banned.h"

#define FORM_CAP ((size_t)64 << 10)
#define ROTATIONS 64

/*
 * Refresh tokens this process rotated lately, with what replaced them:
 * the calendars of one mailbox share a refresh token, and once one of
 * them rotated it the old one is dead - another thread holding the old
 * one takes the new tokens from here instead of being refused. Refreshes
 * are serialised (they are rare: about one an hour per mailbox).
 */
struct rotation {
	char *old_refresh, *access, *refresh;
	long long expires_at;
};
static struct rotation rotations[ROTATIONS];
static size_t next_rotation;
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;

/* {"error":{"code","message"}} (Graph) or {"error":"..","error_description"} (OAuth). */
static void error_parts(const cs_http_response *resp, char *code, size_t cn, char *msg,
			size_t mn)
{
	json_t *root = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
	json_t *e = json_object_get(root, "error");
	const char *c = NULL, *m = NULL;

	if (json_is_object(e)) {
		c = json_string_value(json_object_get(e, "code"));
		m = json_string_value(json_object_get(e, "message"));
	} else if (json_is_string(e)) {
		c = json_string_value(e);
		m = json_string_value(json_object_get(root, "error_description"));
	}
	snprintf(code, cn, "%s", c ? c : "");
	snprintf(msg, mn, "%s", m ? m : "");
	json_decref(root);
}

int cs_graph_api_error(const cs_http_response *resp, const char *method, const char *url,
		       cs_err *err)
{
	char what[300], code[64], msg[200];
	long st = resp->status;
	enum cs_errcode ec = CS_EINVAL;
	bool retry = false;

	cs_http_describe(method, url, what, sizeof(what));
	error_parts(resp, code, sizeof(code), msg, sizeof(msg));
	if (st == 429 || (st == 503 && resp->retry_after_ms > 0)) {
		ec = CS_ERATELIMIT;   /* Graph throttles with 429, and with 503 + Retry-After */
		retry = true;
	} else if (st >= 500) {
		ec = CS_EIO;
		retry = st == 500 || st == 502 || st == 503 || st == 504;
	} else if (st == 410 && (strcasecmp(code, "SyncStateNotFound") == 0 ||
				 strcasecmp(code, "resyncRequired") == 0 ||
				 strcasecmp(code, "SyncStateInvalid") == 0)) {
		ec = CS_EGONE;
	} else if (st == 404 || st == 410) {
		ec = CS_ENOTFOUND;
	} else if (st == 409 || st == 412) {
		ec = CS_ECONFLICT;
	} else if (st == 401) {
		ec = CS_EAUTH;
	} else if (st == 403 && strcmp(code, "ErrorAccessDenied") == 0) {
		ec = CS_EREADONLY;
	} else if (st == 400 || st == 403) {
		ec = CS_EREFUSED;
	}
	cs_err_set(err, ec, retry, "Outlook answered %ld%s%s to %s%s%s", st, *code ? " " : "", code,
		   what, *msg ? ": " : "", msg);
	if (err && resp->retry_after_ms > 0)
		err->retry_after_ms = resp->retry_after_ms;
	return -1;
}

int cs_graph_parse(const cs_http_response *resp, const char *method, const char *url,
		   json_t **out, cs_err *err)
{
	char what[300];
	json_error_t jerr;

	*out = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &jerr);
	if (json_is_object(*out))
		return 0;
	cs_http_describe(method, url, what, sizeof(what));
	json_decref(*out);
	*out = NULL;
	return cs_err_set(err, CS_EPROTO, true, "Outlook answered %s with a body that is not a JSON "
			  "object (%s)", what, jerr.text[0] ? jerr.text : "another JSON value");
}

/* ---- OAuth -------------------------------------------------------------- */

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static int token_error(const cs_http_response *resp, cs_err *err)
{
	char code[64], msg[200];
	bool retry = resp->status == 429 || resp->status >= 500;

	error_parts(resp, code, sizeof(code), msg, sizeof(msg));
	if (strcmp(code, "invalid_grant") == 0 || strcmp(code, "invalid_client") == 0 ||
	    strcmp(code, "unauthorized_client") == 0 || strcmp(code, "interaction_required") == 0)
		return cs_err_set(err, CS_EAUTH, false, "Microsoft refused the refresh (%s): the user "
				  "must reconnect the Outlook account", code);
	cs_err_set(err, retry ? (resp->status == 429 ? CS_ERATELIMIT : CS_EIO) : CS_EINVAL, retry,
		   "Microsoft token endpoint answered %ld%s%s", resp->status, *code ? " " : "", code);
	if (err && resp->retry_after_ms > 0)
		err->retry_after_ms = resp->retry_after_ms;
	return -1;
}

/* Take access_token, the rotated refresh_token and expires_in into creds. */
static int take_token(cs_provider *g, json_t *root, cs_err *err)
{
	const char *access = json_string_value(json_object_get(root, "access_token"));
	const char *refresh = json_string_value(json_object_get(root, "refresh_token"));
	json_t *expires = json_object_get(root, "expires_in");
	long long life = 3600;

	if (!access || !*access)
		return cs_err_set(err, CS_EPROTO, true,
				  "Microsoft token endpoint answered without an access_token");
	if (json_is_integer(expires) && json_integer_value(expires) > 0)
		life = json_integer_value(expires) < CS_GRAPH_TOKEN_LIFETIME_MAX_S ?
		       json_integer_value(expires) : CS_GRAPH_TOKEN_LIFETIME_MAX_S;
	return cs_creds_take(g->creds, access, refresh, (long long)time(NULL) + life, err);
}

static int refresh_now(cs_provider *g, cs_err *err);

static void forget(struct rotation *r)
{
	wipe_free(r->old_refresh);
	wipe_free(r->access);
	wipe_free(r->refresh);
	memset(r, 0, sizeof(*r));
}

/* Remember that old was replaced by creds' tokens (under refresh_lock). */
static void remember(const char *old, const cs_creds *c)
{
	struct rotation *r = &rotations[next_rotation++ % ROTATIONS];

	forget(r);
	r->old_refresh = strdup(old);
	r->access = strdup(c->access_token);
	r->refresh = c->refresh_token ? strdup(c->refresh_token) : NULL;
	r->expires_at = c->expires_at;
	if (!r->old_refresh || !r->access || (c->refresh_token && !r->refresh))
		forget(r);   /* out of memory: a later refresh asks the endpoint */
}

/* Take the successor of g's refresh token when this process rotated it (under refresh_lock). */
static bool adopt_rotated(cs_provider *g)
{
	cs_creds *c = g->creds;

	for (size_t i = 0; i < ROTATIONS; i++) {
		struct rotation *r = &rotations[i];

		if (r->old_refresh && strcmp(r->old_refresh, c->refresh_token) == 0 &&
		    r->expires_at - (long long)time(NULL) >= CS_GRAPH_REFRESH_MARGIN_S)
			return cs_creds_take(c, r->access, r->refresh, r->expires_at, NULL) == 0;
	}
	return false;
}

int cs_graph_refresh(cs_provider *g, cs_err *err)
{
	char *old;
	int rc;

	if (!g->creds->refresh_token || !*g->creds->refresh_token)
		return cs_err_set(err, CS_EAUTH, false, "Outlook: no refresh token is stored: the "
				  "user must reconnect the Outlook account");
	if (!(old = strdup(g->creds->refresh_token)))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	pthread_mutex_lock(&refresh_lock);
	if (adopt_rotated(g)) {
		pthread_mutex_unlock(&refresh_lock);
		wipe_free(old);
		cs_creds_refreshed(g->creds);
		return 0;
	}
	rc = refresh_now(g, err);
	if (rc == 0 && g->creds->refresh_token && strcmp(old, g->creds->refresh_token) != 0)
		remember(old, g->creds);
	pthread_mutex_unlock(&refresh_lock);
	wipe_free(old);
	if (rc == 0)
		cs_creds_refreshed(g->creds);   /* sealed and stored now: the old token is dead */
	else
		cs_observe_token_refresh_failed("outlook");
	return rc;
}

/* POST the refresh to the token endpoint (under refresh_lock). */
static int refresh_now(cs_provider *g, cs_err *err)
{
	static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
					   "Accept: application/json", NULL};
	const cs_config *cfg = g->cfg;
	cs_http_response resp;
	cs_dynbuf form;
	json_t *root = NULL;
	int ret = -1;

	if (!cfg->ms_client_id || !*cfg->ms_client_id)
		return cs_err_set(err, CS_EINVAL, false, "Outlook: CALSYNC_MS_CLIENT_ID is not set: "
				  "cannot refresh the access token");
	cs_dynbuf_init(&form, FORM_CAP);
	cs_http_response_init(&resp);
	if (cs_http_form_add(&form, "client_id", cfg->ms_client_id, err) ||
	    cs_http_form_add(&form, "grant_type", "refresh_token", err) ||
	    cs_http_form_add(&form, "refresh_token", g->creds->refresh_token, err) ||
	    cs_http_form_add(&form, "scope", CS_GRAPH_SCOPE, err) ||
	    (cfg->ms_client_secret && *cfg->ms_client_secret &&
	     cs_http_form_add(&form, "client_secret", cfg->ms_client_secret, err)))
		goto done;
	if (cs_http_request(g->http, "POST", cfg->ms_token_url, hdrs, form.data, form.len, &resp,
			    err)) {
		cs_err_prefix(err, "Outlook token refresh");
		goto done;
	}
	if (resp.status != 200)
		token_error(&resp, err);
	else if (cs_graph_parse(&resp, "POST", cfg->ms_token_url, &root, err) == 0)
		ret = take_token(g, root, err);
done:
	json_decref(root);
	cs_http_wipe(&form);
	cs_http_wipe(&resp.body);
	return ret;
}

static int ensure_token(cs_provider *g, cs_err *err)
{
	cs_creds *c = g->creds;

	if (!c->access_token || !*c->access_token ||
	    (c->expires_at && c->expires_at - (long long)time(NULL) < CS_GRAPH_REFRESH_MARGIN_S))
		return cs_graph_refresh(g, err);
	return 0;
}

/* ---- calls -------------------------------------------------------------- */

static int ensure(void *g, cs_err *err)
{
	return ensure_token(g, err);
}

static int refresh(void *g, cs_err *err)
{
	return cs_graph_refresh(g, err);
}

int cs_graph_call(cs_provider *g, const char *method, const char *url, const char *body,
		  const char *if_match, cs_http_response *resp, cs_err *err)
{
	const cs_bearer b = {
		.who = "Outlook", .account = "Outlook account",
		.content_type = "Content-Type: application/json",
		.headers = {"Prefer: outlook.timezone=\"UTC\"", "Prefer: odata.maxpagesize=200"},
		.http = g->http, .creds = g->creds, .ensure = ensure, .refresh = refresh, .ctx = g,
	};

	return cs_bearer_call(&b, method, url, body, if_match, resp, err);
}

int cs_graph_get_json(cs_provider *g, const char *url, json_t **out, cs_err *err)
{
	cs_http_response resp;
	int rc = -1;

	*out = NULL;
	cs_http_response_init(&resp);
	if (cs_graph_call(g, "GET", url, NULL, NULL, &resp, err) == 0)
		rc = resp.status == 200 ? cs_graph_parse(&resp, "GET", url, out, err) :
		     cs_graph_api_error(&resp, "GET", url, err);
	cs_http_response_release(&resp);
	return rc;
}

int cs_graph_url(cs_provider *g, cs_dynbuf *url, const char *path, const char *seg,
		 cs_err *err)
{
	const char *base = g->cfg->graph_api_url;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if (cs_dynbuf_add(url, base, n, err) || cs_dynbuf_addstr(url, path, err))
		return -1;
	return seg ? cs_http_escape(url, seg, err) : 0;
}
