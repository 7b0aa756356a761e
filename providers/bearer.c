/* bearer.c - authenticated calls with one refresh-and-retry on 401 (see bearer.h). */
#include "bearer.h"

#include <string.h>

#include "banned.h"

#define HEADER_CAP ((size_t)64 << 10)

static int no_crlf(const char *s, const char *what, cs_err *err)
{
	if (strpbrk(s, "\r\n"))
		return cs_err_set(err, CS_EINVAL, false, "%s contains a line break", what);
	return 0;
}

int cs_bearer_call(const cs_bearer *b, const char *method, const char *url, const char *body,
		   const char *if_match, cs_http_response *resp, cs_err *err)
{
	const char *hdrs[CS_BEARER_HEADERS_MAX + 5];
	cs_dynbuf auth, match;
	char what[300];
	int rc = -1;

	if (if_match && no_crlf(if_match, "etag", err))
		return -1;
	cs_dynbuf_init(&auth, HEADER_CAP);
	cs_dynbuf_init(&match, HEADER_CAP);
	if (if_match && cs_dynbuf_printf(&match, err, "If-Match: %s", if_match))
		goto done;
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t n = 0;

		if (b->ensure(b->ctx, err) || no_crlf(b->creds->access_token, "access token", err))
			goto done;
		cs_http_wipe(&auth);
		if (cs_dynbuf_addstr(&auth, "Authorization: Bearer ", err) ||
		    cs_dynbuf_addstr(&auth, b->creds->access_token, err))
			goto done;
		hdrs[n++] = auth.data;
		hdrs[n++] = "Accept: application/json";
		for (size_t i = 0; i < CS_BEARER_HEADERS_MAX && b->headers[i]; i++)
			hdrs[n++] = b->headers[i];
		if (body)
			hdrs[n++] = b->content_type;
		if (if_match)
			hdrs[n++] = match.data;
		hdrs[n] = NULL;
		if (cs_http_request(b->http, method, url, hdrs, body, body ? strlen(body) : 0, resp,
				    err)) {
			cs_err_prefix(err, "%s", b->who);
			goto done;
		}
		if (resp->status != 401) {
			rc = 0;
			goto done;
		}
		if (attempt == 0 && b->refresh(b->ctx, err))
			goto done;
	}
	cs_http_describe(method, url, what, sizeof(what));
	cs_err_set(err, CS_EAUTH, false,
		   "%s refused a freshly refreshed access token (401 to %s): "
		   "the user must reconnect the %s", b->who, what, b->account);
done:
	cs_http_wipe(&auth);
	cs_dynbuf_release(&match);
	return rc;
}
