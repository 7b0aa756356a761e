/* scripted_http.c - cs_http_new/free/request (and the guard) answering from a script (see scripted_http.h). */
#include "scripted_http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct cs_http {
	cs_http_guard_fn guard;
	void *guard_ctx;
};

static const uint8_t *script;
static size_t script_len, script_pos, requests;

void fuzz_http_script(const uint8_t *data, size_t len)
{
	script = data;
	script_len = len;
	script_pos = 0;
	requests = 0;
}

size_t fuzz_http_requests(void)
{
	return requests;
}

int cs_http_new(cs_http **out, long timeout_ms, const char *ca_file, cs_err *err)
{
	(void)timeout_ms;
	(void)ca_file;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

void cs_http_free(cs_http *h)
{
	free(h);
}

void cs_http_set_guard(cs_http *h, cs_http_guard_fn fn, void *ctx)
{
	h->guard = fn;
	h->guard_ctx = ctx;
}

void cs_http_set_label(cs_http *h, const char *provider)
{
	(void)h;
	(void)provider;   /* a scripted answer is counted by no metric */
}

void cs_http_set_pacer(cs_http *h, cs_http_pace_fn fn, void *ctx)
{
	(void)h;
	(void)fn;
	(void)ctx;   /* scripted answers need no pacing */
}

int cs_http_pace(cs_http *h, bool start, int retry_after_ms, cs_err *err)
{
	(void)h;
	(void)start;
	(void)retry_after_ms;
	(void)err;
	return 0;
}

bool cs_http_in_flight(const cs_http *h)
{
	(void)h;
	return false;   /* a scripted answer is there at once */
}

/* "STATUS[ RETRY-AFTER]" at the start of an answer: its length, 0 when it is not one. */
static size_t status_line(const char *a, size_t n, cs_http_response *resp)
{
	const char *nl = memchr(a, '\n', n);
	size_t line = nl ? (size_t)(nl - a) : n;
	char value[128];

	if (line < 3 || !isdigit((unsigned char)a[0]) || !isdigit((unsigned char)a[1]) ||
	    !isdigit((unsigned char)a[2]) || (line > 3 && a[3] != ' '))
		return 0;
	resp->status = (a[0] - '0') * 100 + (a[1] - '0') * 10 + (a[2] - '0');
	if (line > 4) {
		size_t vn = line - 4 < sizeof(value) - 1 ? line - 4 : sizeof(value) - 1;

		memcpy(value, a + 4, vn);
		value[vn] = '\0';
		resp->retry_after_ms = cs_http_parse_retry_after(value, FUZZ_HTTP_NOW);
	}
	return nl ? line + 1 : line;
}

static const uint8_t *find_sep(const uint8_t *p, size_t n)
{
	size_t sl = strlen(FUZZ_HTTP_SEP);

	for (size_t i = 0; i + sl <= n; i++)
		if (memcmp(p + i, FUZZ_HTTP_SEP, sl) == 0)
			return p + i;
	return NULL;
}

int cs_http_request(cs_http *h, const char *method, const char *url,
		    const char *const *headers, const char *body, size_t body_len,
		    cs_http_response *resp, cs_err *err)
{
	const uint8_t *a = script + script_pos, *sep;
	size_t n, skip;
	char what[300];

	(void)headers;
	(void)body;
	(void)body_len;
	cs_dynbuf_reset(&resp->body);
	resp->status = 200;
	resp->retry_after_ms = -1;
	cs_http_describe(method, url, what, sizeof(what));
	if (strcmp(method, "GET") != 0 && strcmp(method, "PROPFIND") != 0 &&
	    strcmp(method, "REPORT") != 0 && h->guard && h->guard(h->guard_ctx, err))
		return cs_err_prefix(err, "%s not sent", what);
	if (!script || script_pos > script_len || (script_pos == script_len && requests > 0))
		return cs_err_set(err, CS_EIO, true, "%s: connection dropped (script ended)", what);
	requests++;
	sep = find_sep(a, script_len - script_pos);
	n = sep ? (size_t)(sep - a) : script_len - script_pos;
	script_pos += n + (sep ? strlen(FUZZ_HTTP_SEP) : 1);
	skip = status_line((const char *)a, n, resp);
	if (cs_dynbuf_add(&resp->body, a + skip, n - skip, err))
		return cs_err_set(err, CS_EPROTO, false, "%s: answer over the body cap", what);
	return 0;
}

int cs_http_request_opt(cs_http *h, const cs_http_opts *opts, const char *method,
			const char *url, const char *const *headers, const char *body,
			size_t body_len, cs_http_response *resp, cs_err *err)
{
	(void)opts;
	return cs_http_request(h, method, url, headers, body, body_len, resp, err);
}

int cs_http_header(cs_http *h, const char *name, char *buf, size_t n)
{
	(void)h;
	(void)name;
	if (n)
		buf[0] = '\0';
	return -1;   /* a scripted answer has no headers */
}
