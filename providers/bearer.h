/*
 * bearer.h - one authenticated call of an OAuth provider (Google, Outlook):
 * "Authorization: Bearer" with the current access token, the provider's
 * extra headers, an optional JSON body and If-Match; a 401 refreshes the
 * token and tries once more, a second 401 is CS_EAUTH ("the user must
 * reconnect"). Shared by providers/google_api.c and providers/graph_api.c.
 *
 * Tokens travel only in the Authorization header, whose buffer is wiped;
 * no error text contains one. Ownership: everything is borrowed for the
 * call; resp is the caller's (provider.h, http.h).
 */
#ifndef CS_BEARER_H
#define CS_BEARER_H

#include "http.h"
#include "provider.h"

#define CS_BEARER_HEADERS_MAX 4

typedef struct cs_bearer {
	const char *who;                 /* "Google": error texts */
	const char *account;             /* "Google account": what the user reconnects */
	const char *content_type;        /* header line sent with a body */
	const char *headers[CS_BEARER_HEADERS_MAX + 1];  /* more header lines, NULL-ended */
	cs_http *http;
	cs_creds *creds;
	int (*ensure)(void *ctx, cs_err *err);    /* make creds->access_token usable */
	int (*refresh)(void *ctx, cs_err *err);   /* a new access token now */
	void *ctx;
} cs_bearer;

/*
 * Send the call. 0 whenever the provider answered anything but a second
 * 401 (the caller decides what the status means); -1 on transport
 * failure, a failed refresh, a line break in the etag or token
 * (CS_EINVAL), or a refused fresh token (CS_EAUTH).
 */
int cs_bearer_call(const cs_bearer *b, const char *method, const char *url, const char *body,
		   const char *if_match, cs_http_response *resp, cs_err *err);

#endif
