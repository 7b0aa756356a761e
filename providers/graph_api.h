/*
 * graph_api.h - the transport of the Microsoft Graph provider: OAuth
 * refresh against CALSYNC_MS_TOKEN_URL (the rotated refresh token is taken
 * and handed to the credentials hook before anything else can fail),
 * authenticated calls with one refresh-and-retry on 401, and Graph's
 * error answers ({"error":{"code","message"}}) mapped to cs_err.
 * Internal to providers/graph*.c.
 *
 * Ownership: the handle borrows cfg, creds and http (provider.h) and
 * writes refreshed tokens into creds. Responses are caller-owned
 * cs_http_response objects; returned json_t are new references.
 */
#ifndef CS_GRAPH_API_H
#define CS_GRAPH_API_H

#include <stdbool.h>

#include <jansson.h>

#include "dynbuf.h"
#include "http.h"
#include "provider.h"

#define CS_GRAPH_URL_CAP ((size_t)64 << 10)
#define CS_GRAPH_REFRESH_MARGIN_S 60
#define CS_GRAPH_TOKEN_LIFETIME_MAX_S 86400
#define CS_GRAPH_SCOPE "offline_access Calendars.ReadWrite"

struct cs_provider {
	const cs_config *cfg;
	cs_creds *creds;
	cs_http *http;
};

/* Refresh the access token now; invalid_grant -> CS_EAUTH. */
int cs_graph_refresh(cs_provider *g, cs_err *err);

/*
 * One Graph call: "Authorization: Bearer", Prefer: outlook.timezone="UTC"
 * and odata.maxpagesize, JSON body (may be NULL), If-Match (may be NULL).
 * A 401 refreshes the token and tries once more. 0 with any other status
 * in resp; -1 on transport or auth failure.
 */
int cs_graph_call(cs_provider *g, const char *method, const char *url, const char *body,
		  const char *if_match, cs_http_response *resp, cs_err *err);

/*
 * Fill err for an error answer and return -1: 429, and 503 with
 * Retry-After (Graph's throttling) -> CS_ERATELIMIT, 5xx -> CS_EIO (both
 * retryable, with Retry-After), 410 SyncStateNotFound /
 * resyncRequired -> CS_EGONE, 404/410 -> CS_ENOTFOUND, 409/412 ->
 * CS_ECONFLICT, 401 -> CS_EAUTH, 403 ErrorAccessDenied -> CS_EREADONLY,
 * other 400/403 -> CS_EREFUSED, other 4xx -> CS_EINVAL.
 */
int cs_graph_api_error(const cs_http_response *resp, const char *method, const char *url,
		       cs_err *err);

/* Parse a JSON object answer; CS_EPROTO (retryable) otherwise. */
int cs_graph_parse(const cs_http_response *resp, const char *method, const char *url,
		   json_t **out, cs_err *err);

/* GET url and parse the 200 answer (any other status: cs_graph_api_error). */
int cs_graph_get_json(cs_provider *g, const char *url, json_t **out, cs_err *err);

/* Append the API base + path (path starts with '/'), then seg escaped when not NULL. */
int cs_graph_url(cs_provider *g, cs_dynbuf *url, const char *path, const char *seg,
		 cs_err *err);

#endif
