/*
 * google_api.c - OAuth refresh/revoke, authenticated calls and error
 * mapping for the Google provider (see google_api.h). Tokens travel only
 * in request bodies and the Authorization header; buffers that held them
 * are wiped, and no error text ever contains one.
 */
#include "google_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bearer.h"
#include "observe.h"
#include "banned.h"

#define FORM_CAP ((size_t)64 << 10)

/* ---- error answers ------------------------------------------------------ */

/* Google's {"error":{"message","errors":[{"reason"}]}} or OAuth's
 * {"error":"code","error_description"}: reason and message, "" if none. */
static void error_parts(const cs_http_response *resp, char *reason, size_t rn,
			char *message, size_t mn)
{
	json_t *root = json_loadb(resp->body.data ? resp->body.data : "",
				  resp->body.len, 0, NULL);
	json_t *e = json_object_get(root, "error"), *first;
	const char *r = NULL, *m = NULL;

	if (json_is_object(e)) {
		first = json_array_get(json_object_get(e, "errors"), 0);
		r = json_string_value(json_object_get(first, "reason"));
		m = json_string_value(json_object_get(e, "message"));
	} else if (json_is_string(e)) {
		r = json_string_value(e);
		m = json_string_value(json_object_get(root, "error_description"));
	}
	snprintf(reason, rn, "%s", r ? r : "");
	snprintf(message, mn, "%s", m ? m : "");
	json_decref(root);
}

void cs_google_error_reason(const cs_http_response *resp, char *buf, size_t n)
{
	char message[8];

	error_parts(resp, buf, n, message, sizeof(message));
}

int cs_google_api_error(const cs_http_response *resp, const char *method,
			const char *url, cs_err *err)
{
	char what[300], reason[64], message[200];
	long st = resp->status;
	enum cs_errcode code = CS_EINVAL;
	bool retry = false;

	cs_http_describe(method, url, what, sizeof(what));
	error_parts(resp, reason, sizeof(reason), message, sizeof(message));
	if (st == 429 ||
	    (st == 403 && (strcmp(reason, "rateLimitExceeded") == 0 ||
			   strcmp(reason, "userRateLimitExceeded") == 0 ||
			   strcmp(reason, "quotaExceeded") == 0))) {
		code = CS_ERATELIMIT;
		retry = true;
	} else if (st == 500 || st == 502 || st == 503 || st == 504) {
		code = CS_EIO;
		retry = true;
	} else if (st >= 500) {
		code = CS_EIO;
	} else if (st == 404 || st == 410) {
		code = CS_ENOTFOUND;
	} else if (st == 409 || st == 412) {
		code = CS_ECONFLICT;
	} else if (st == 401) {
		code = CS_EAUTH;
	} else if (st == 403 && strcmp(reason, "requiredAccessLevel") == 0) {
		code = CS_EREADONLY;   /* "You need to have writer access to this calendar." */
	} else if (st == 400 || st == 403) {
		code = CS_EREFUSED;    /* this request's item: a bad attendee, a refused rule */
	}
	cs_err_set(err, code, retry, "Google answered %ld%s%s to %s%s%s", st,
		   *reason ? " " : "", reason, what, *message ? ": " : "", message);
	if (err && resp->retry_after_ms > 0)
		err->retry_after_ms = resp->retry_after_ms;
	return -1;
}

int cs_google_parse(const cs_http_response *resp, const char *method,
		    const char *url, json_t **out, cs_err *err)
{
	char what[300];
	json_error_t jerr;

	*out = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &jerr);
	if (*out && json_is_object(*out))
		return 0;
	cs_http_describe(method, url, what, sizeof(what));
	if (*out) {
		json_decref(*out);
		*out = NULL;
		return cs_err_set(err, CS_EPROTO, true,
				  "Google answered %s with JSON that is not an object", what);
	}
	return cs_err_set(err, CS_EPROTO, true,
			  "Google answered %s with a body that is not JSON (%s at byte %d)",
			  what, jerr.text, jerr.position);
}

/* ---- OAuth -------------------------------------------------------------- */

static int token_error(const cs_http_response *resp, cs_err *err)
{
	char reason[64], message[200];

	error_parts(resp, reason, sizeof(reason), message, sizeof(message));
	if (strcmp(reason, "invalid_grant") == 0)
		return cs_err_set(err, CS_EAUTH, false,
				  "Google refused the refresh token (invalid_grant%s%s): "
				  "the user must reconnect the Google account",
				  *message ? ": " : "", message);
	if (strcmp(reason, "invalid_client") == 0 || strcmp(reason, "unauthorized_client") == 0)
		return cs_err_set(err, CS_EAUTH, false,
				  "Google refused the OAuth client (%s): the user must reconnect "
				  "the Google account (or CALSYNC_GOOGLE_CLIENT_ID/SECRET are wrong)",
				  reason);
	if (resp->status == 429 || (resp->status >= 500 && resp->status != 501)) {
		cs_err_set(err, resp->status == 429 ? CS_ERATELIMIT : CS_EIO, true,
			   "Google token endpoint answered %ld%s%s", resp->status,
			   *reason ? " " : "", reason);
		if (err && resp->retry_after_ms > 0)
			err->retry_after_ms = resp->retry_after_ms;
		return -1;
	}
	return cs_err_set(err, CS_EINVAL, false, "Google token endpoint answered %ld%s%s%s%s",
			  resp->status, *reason ? " " : "", reason,
			  *message ? ": " : "", message);
}

int cs_google_take_token(cs_provider *g, json_t *root, cs_err *err)
{
	json_t *access = json_object_get(root, "access_token");
	json_t *expires = json_object_get(root, "expires_in");
	json_t *refresh = json_object_get(root, "refresh_token");
	long long lifetime = 3600;

	if (!json_is_string(access) || !*json_string_value(access))
		return cs_err_set(err, CS_EPROTO, true,
				  "Google token endpoint answered without an access_token");
	if (json_is_integer(expires) && json_integer_value(expires) > 0)
		lifetime = json_integer_value(expires) < CS_GOOGLE_TOKEN_LIFETIME_MAX_S ?
			   json_integer_value(expires) : CS_GOOGLE_TOKEN_LIFETIME_MAX_S;
	else if (expires && !json_is_null(expires))
		return cs_err_set(err, CS_EPROTO, true,
				  "Google token endpoint answered a bad expires_in");
	if (cs_creds_take(g->creds, json_string_value(access), json_string_value(refresh),
			  (long long)time(NULL) + lifetime, err))
		return -1;
	cs_creds_refreshed(g->creds);
	return 0;
}

static int google_refresh(cs_provider *g, cs_err *err);

int cs_google_refresh(cs_provider *g, cs_err *err)
{
	int rc = google_refresh(g, err);

	if (rc)
		cs_observe_token_refresh_failed("google");
	return rc;
}

static int google_refresh(cs_provider *g, cs_err *err)
{
	static const char *const hdrs[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json", NULL};
	const cs_config *cfg = g->cfg;
	cs_http_response resp;
	cs_dynbuf form;
	json_t *root = NULL;
	int ret = -1;

	if (!g->creds->refresh_token || !*g->creds->refresh_token)
		return cs_err_set(err, CS_EAUTH, false,
				  "Google: no refresh token is stored: the user must reconnect the Google account");
	if (!cfg->google_client_id || !*cfg->google_client_id)
		return cs_err_set(err, CS_EINVAL, false,
				  "Google: CALSYNC_GOOGLE_CLIENT_ID is not set: cannot refresh the access token");
	cs_dynbuf_init(&form, FORM_CAP);
	cs_http_response_init(&resp);
	if (cs_http_form_add(&form, "grant_type", "refresh_token", err) ||
	    cs_http_form_add(&form, "client_id", cfg->google_client_id, err) ||
	    cs_http_form_add(&form, "client_secret",
			     cfg->google_client_secret ? cfg->google_client_secret : "", err) ||
	    cs_http_form_add(&form, "refresh_token", g->creds->refresh_token, err))
		goto done;
	if (cs_http_request(g->http, "POST", cfg->google_token_url, hdrs, form.data,
			    form.len, &resp, err)) {
		cs_err_prefix(err, "Google token refresh");
		goto done;
	}
	if (resp.status != 200) {
		token_error(&resp, err);
		goto done;
	}
	if (cs_google_parse(&resp, "POST", cfg->google_token_url, &root, err))
		goto done;
	ret = cs_google_take_token(g, root, err);
done:
	json_decref(root);
	cs_http_wipe(&form);
	cs_http_wipe(&resp.body);
	return ret;
}

int cs_google_ensure_token(cs_provider *g, cs_err *err)
{
	cs_creds *c = g->creds;

	if (!c->access_token || !*c->access_token ||
	    (c->expires_at && c->expires_at - (long long)time(NULL) < CS_GOOGLE_REFRESH_MARGIN_S))
		return cs_google_refresh(g, err);
	return 0;
}

int cs_google_revoke(cs_provider *g, cs_err *err)
{
	static const char *const hdrs[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL};
	const char *token = g->creds->refresh_token;
	cs_http_response resp;
	cs_dynbuf form;
	char reason[64];
	int ret = -1;

	if (!token || !*token)
		token = g->creds->access_token;
	if (!token || !*token)
		return 0;   /* nothing was granted */
	cs_dynbuf_init(&form, FORM_CAP);
	cs_http_response_init(&resp);
	if (cs_http_form_add(&form, "token", token, err))
		goto done;
	if (cs_http_request(g->http, "POST", g->cfg->google_revoke_url, hdrs, form.data,
			    form.len, &resp, err)) {
		cs_err_prefix(err, "Google revoke");
		goto done;
	}
	cs_google_error_reason(&resp, reason, sizeof(reason));
	if (resp.status == 200 || (resp.status == 400 && strcmp(reason, "invalid_token") == 0))
		ret = 0;   /* revoked now, or already */
	else
		cs_google_api_error(&resp, "POST", g->cfg->google_revoke_url, err);
done:
	cs_http_wipe(&form);
	cs_http_response_release(&resp);
	return ret;
}

/* ---- authenticated calls ------------------------------------------------ */

static int ensure(void *g, cs_err *err)
{
	return cs_google_ensure_token(g, err);
}

static int refresh(void *g, cs_err *err)
{
	return cs_google_refresh(g, err);
}

int cs_google_call(cs_provider *g, const char *method, const char *url,
		   const char *body, const char *if_match,
		   cs_http_response *resp, cs_err *err)
{
	const cs_bearer b = {
		.who = "Google", .account = "Google account",
		.content_type = "Content-Type: application/json; charset=UTF-8",
		.http = g->http, .creds = g->creds, .ensure = ensure, .refresh = refresh, .ctx = g,
	};

	return cs_bearer_call(&b, method, url, body, if_match, resp, err);
}

int cs_google_api_base(cs_provider *g, cs_dynbuf *url, cs_err *err)
{
	const char *base = g->cfg->google_api_url;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	return cs_dynbuf_add(url, base, n, err);
}

int cs_google_events_url(cs_provider *g, cs_dynbuf *url, const char *cal,
			 const char *event_id, cs_err *err)
{
	if (!cal || !*cal)
		return cs_err_set(err, CS_EINVAL, false, "Google: no calendar id given");
	if (cs_google_api_base(g, url, err) || cs_dynbuf_addstr(url, "/calendars/", err) ||
	    cs_http_escape(url, cal, err) || cs_dynbuf_addstr(url, "/events", err))
		return -1;
	if (event_id && (cs_dynbuf_addstr(url, "/", err) || cs_http_escape(url, event_id, err)))
		return -1;
	return 0;
}
