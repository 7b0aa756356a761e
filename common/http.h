/*
 * http.h - a small HTTP client for the providers, on libcurl.
 *
 * One cs_http holds one CURL easy handle that is reused for every request,
 * so connections to a provider stay open (keep-alive) across the requests
 * of a sync. TLS is always verified: peer and host name, against the
 * system CA store, plus CALSYNC_CA_FILE when set (it takes the place of
 * libcurl's default bundle file; the system CA directory stays in use, so
 * on Debian the file adds to the system store). A cs_http is used by one
 * thread at a time (cs_http_in_flight() excepted).
 *
 * cs_http_request() returns 0 whenever the server answered, whatever the
 * status: the caller decides what a status means. It fails (-1) only when
 * no answer came: connection refused, timeout, connection dropped, TLS
 * failure (CS_EIO, retryable), a malformed URL (CS_EINVAL), or an answer
 * over the body cap (CS_EPROTO). Error texts name the method, host and
 * path - never the query string, user info or any header, as those may
 * carry tokens.
 *
 * Ownership: cs_http_new() allocates the client, cs_http_free() frees it.
 * A cs_http_response is caller-owned: cs_http_response_init() before use,
 * cs_http_response_release() after (it frees the body). The request's
 * url, headers and body are borrowed for the call only.
 */
#ifndef CS_HTTP_H
#define CS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"
#include "err.h"

#define CS_HTTP_BODY_CAP ((size_t)32 << 20)   /* 32 MiB per answer */
#define CS_HTTP_RETRY_AFTER_MAX_MS 3600000    /* Retry-After is capped at 1 h */

typedef struct cs_http cs_http;

typedef struct cs_http_response {
	long status;           /* HTTP status, e.g. 200 */
	cs_dynbuf body;        /* the answer's body, capped at CS_HTTP_BODY_CAP */
	int retry_after_ms;    /* from Retry-After (seconds or HTTP date); -1: absent */
} cs_http_response;

/*
 * A client whose requests time out after timeout_ms (whole request), with
 * ca_file (may be NULL or "") as an extra CA bundle.
 */
int cs_http_new(cs_http **out, long timeout_ms, const char *ca_file, cs_err *err);
void cs_http_free(cs_http *h);

void cs_http_response_init(cs_http_response *r);
void cs_http_response_release(cs_http_response *r);

/*
 * A guard the client asks before every request that is not a read (GET,
 * PROPFIND, REPORT: a write, or a token refresh): when it fails, the request is not sent and
 * cs_http_request() fails with the guard's error. It may be called from
 * whichever thread uses the client. cs_http_set_guard(h, NULL, NULL)
 * removes it.
 */
typedef int (*cs_http_guard_fn)(void *ctx, cs_err *err);
void cs_http_set_guard(cs_http *h, cs_http_guard_fn fn, void *ctx);

/*
 * Name the provider whose requests follow (a static string of the
 * provider registry; NULL: "other"), for the request metrics (observe.h).
 * h may be NULL (nothing to name).
 */
void cs_http_set_label(cs_http *h, const char *provider);

/*
 * The pacer of the client's requests (the worker's per-account pacer):
 * called with start true before every request - it may wait, or fail the
 * request (a rate limit: err with retry_after_ms) - and with start false
 * after it, with the Retry-After it was answered (ms, -1: none). NULL
 * removes it.
 */
typedef int (*cs_http_pace_fn)(void *ctx, bool start, int retry_after_ms, cs_err *err);
void cs_http_set_pacer(cs_http *h, cs_http_pace_fn fn, void *ctx);
/* Call the pacer, if any (for a provider that waits another way: the test stand-in). */
int cs_http_pace(cs_http *h, bool start, int retry_after_ms, cs_err *err);

/* Is a request of this client in flight now? Safe to ask from any thread. */
bool cs_http_in_flight(const cs_http *h);
/*
 * Say that a request is in flight (or no longer) without cs_http_request:
 * for a provider that waits on its answer another way (the test stand-in),
 * so that the job's lock is kept meanwhile as for any request.
 */
void cs_http_set_in_flight(cs_http *h, bool on);

/*
 * Send one request. method: "GET", "POST", "PUT", "PATCH", "DELETE" (or
 * WebDAV's "PROPFIND", "REPORT").
 * headers: NULL-terminated "Name: value" strings (may be NULL). body may
 * be NULL (no body). resp is reset first and then filled.
 */
int cs_http_request(cs_http *h, const char *method, const char *url,
		    const char *const *headers, const char *body, size_t body_len,
		    cs_http_response *resp, cs_err *err);

/*
 * Per-request options for requests to user-given hosts (CalDAV):
 * cs_http_request_opt(). Basic auth with username/password (libcurl
 * sends it to the URL's host only: redirects are never followed here);
 * only https:// unless allow_http; the address libcurl actually connects
 * to (after name resolution) is refused when it is loopback, link-local,
 * private (RFC 1918, fc00::/7), unspecified or multicast, unless
 * allow_private. The strings are borrowed for the call.
 */
typedef struct cs_http_opts {
	const char *username;
	const char *password;
	bool allow_http;
	bool allow_private;
} cs_http_opts;

/* cs_http_request() with opts (NULL: as cs_http_request()). */
int cs_http_request_opt(cs_http *h, const cs_http_opts *opts, const char *method,
			const char *url, const char *const *headers, const char *body,
			size_t body_len, cs_http_response *resp, cs_err *err);

/*
 * The value of header name in the last answer of h (the last one of that
 * name), copied into buf (always NUL-terminated); 0 when present, -1 when
 * absent or longer than buf.
 */
int cs_http_header(cs_http *h, const char *name, char *buf, size_t n);

/* Is addr (a struct sockaddr of family AF_INET or AF_INET6) one no user-given host may have? */
bool cs_http_addr_private(const void *addr);

/*
 * Append s percent-encoded (everything but A-Z a-z 0-9 - . _ ~), for a
 * path segment or a query/form value: "a@b#c" -> "a%40b%23c".
 */
int cs_http_escape(cs_dynbuf *b, const char *s, cs_err *err);

/* Append "name=value" (both escaped) to a form body, with '&' when not first. */
int cs_http_form_add(cs_dynbuf *form, const char *name, const char *value,
		     cs_err *err);

/* Zero a buffer that held secrets (a form, a header), then release it. */
void cs_http_wipe(cs_dynbuf *b);

/*
 * "method host[:port]/path" of a URL - without scheme, user info, query
 * and fragment - for error messages. Always NUL-terminates buf.
 */
void cs_http_describe(const char *method, const char *url, char *buf, size_t n);

/*
 * Milliseconds a Retry-After value asks for: delta seconds ("120") or an
 * HTTP date relative to now_s (unix seconds); capped at
 * CS_HTTP_RETRY_AFTER_MAX_MS, a date in the past is 0; -1 when value is
 * NULL or not understood.
 */
int cs_http_parse_retry_after(const char *value, long long now_s);

#endif
