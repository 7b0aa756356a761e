/*
 * google_api.h - the plumbing under the Google provider (google.c): the
 * provider handle, OAuth token refresh and revocation, authenticated
 * calls with one refresh-and-retry on 401, and the mapping of Google's
 * error answers to cs_err. Internal to providers/google*.c.
 *
 * Ownership: the handle owns its cs_http; it borrows cfg and creds (see
 * provider.h) and writes refreshed tokens into creds (creds->changed).
 * Responses are caller-owned cs_http_response objects.
 */
#ifndef CS_GOOGLE_API_H
#define CS_GOOGLE_API_H

#include <jansson.h>

#include "dynbuf.h"
#include "http.h"
#include "provider.h"

#define CS_GOOGLE_URL_CAP ((size_t)64 << 10)
#define CS_GOOGLE_REFRESH_MARGIN_S 60   /* refresh when expiring sooner */
#define CS_GOOGLE_TOKEN_LIFETIME_MAX_S 86400 /* a longer expires_in is read as a day */

struct cs_provider {
	const cs_config *cfg;
	cs_creds *creds;
	cs_http *http;          /* borrowed: the calling thread's client */
};

/*
 * Take the token endpoint's answer root into g->creds: the access token,
 * a new refresh token if any, the expiry (expires_in, at most
 * CS_GOOGLE_TOKEN_LIFETIME_MAX_S; 3600 when absent).
 */
int cs_google_take_token(cs_provider *g, json_t *root, cs_err *err);

/* Refresh the access token now (POST google_token_url). */
int cs_google_refresh(cs_provider *g, cs_err *err);

/* Refresh when the token is missing or expires within the margin. */
int cs_google_ensure_token(cs_provider *g, cs_err *err);

/*
 * One Calendar API call with "Authorization: Bearer". body: JSON text or
 * NULL; if_match: an etag or NULL. On 401 the token is refreshed and the
 * call made once more; a second 401 is CS_EAUTH. Returns 0 with any other
 * status in resp (the caller decides), -1 on transport/auth failure.
 */
int cs_google_call(cs_provider *g, const char *method, const char *url,
		   const char *body, const char *if_match,
		   cs_http_response *resp, cs_err *err);

/*
 * Fill err for a Google error answer (any status >= 300) and return -1:
 * 403 rate/quota reasons and 429 -> CS_ERATELIMIT, 5xx -> CS_EIO (both
 * retryable, with retry_after_ms), 404/410 -> CS_ENOTFOUND, 409/412 ->
 * CS_ECONFLICT, 401 -> CS_EAUTH, 403 requiredAccessLevel -> CS_EREADONLY
 * (the account may only read the calendar), other 400/403 -> CS_EREFUSED
 * (Google refuses this one item), other 4xx -> CS_EINVAL; never retryable
 * unless said.
 */
int cs_google_api_error(const cs_http_response *resp, const char *method,
			const char *url, cs_err *err);

/* Parse a JSON object answer; CS_EPROTO (retryable) when it is not one. */
int cs_google_parse(const cs_http_response *resp, const char *method,
		    const char *url, json_t **out, cs_err *err);

/* The reason of a Google error answer ("" when none), into buf. */
void cs_google_error_reason(const cs_http_response *resp, char *buf, size_t n);

/* POST google_revoke_url token=<refresh token, else access token>. */
int cs_google_revoke(cs_provider *g, cs_err *err);

/* Append the API base URL (without a trailing '/'). */
int cs_google_api_base(cs_provider *g, cs_dynbuf *url, cs_err *err);

/* Append the API base + "/calendars/<cal>/events[/<event>]" to url. */
int cs_google_events_url(cs_provider *g, cs_dynbuf *url, const char *cal,
			 const char *event_id, cs_err *err);

#endif
