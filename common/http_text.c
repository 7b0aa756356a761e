/*
 * http_text.c - the parts of the HTTP client that do not touch the
 * network (see http.h): responses, escaping, forms, descriptions of a
 * request for error texts, Retry-After values. The fuzz targets link
 * these with a scripted transport instead of http.c.
 */
#include "http.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "banned.h"

void cs_http_response_init(cs_http_response *r)
{
	r->status = 0;
	r->retry_after_ms = -1;
	cs_dynbuf_init(&r->body, CS_HTTP_BODY_CAP);
}

void cs_http_response_release(cs_http_response *r)
{
	cs_dynbuf_release(&r->body);
	r->status = 0;
	r->retry_after_ms = -1;
}

int cs_http_escape(cs_dynbuf *b, const char *s, cs_err *err)
{
	char *e;
	int rc;

	/* the handle argument is ignored since libcurl 7.82 */
	e = curl_easy_escape(NULL, s ? s : "", 0);
	if (!e)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	rc = cs_dynbuf_addstr(b, e, err);
	curl_free(e);
	return rc;
}

int cs_http_form_add(cs_dynbuf *form, const char *name, const char *value,
		     cs_err *err)
{
	if ((form->len && cs_dynbuf_addstr(form, "&", err)) ||
	    cs_http_escape(form, name, err) || cs_dynbuf_addstr(form, "=", err) ||
	    cs_http_escape(form, value, err))
		return -1;
	return 0;
}

void cs_http_wipe(cs_dynbuf *b)
{
	if (b->data)
		memset(b->data, 0, b->alloc);
	cs_dynbuf_release(b);
}

void cs_http_describe(const char *method, const char *url, char *buf, size_t n)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url ? url : "", 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
	}
	snprintf(buf, n, "%s %s%s%s%s", method, host ? host : "(bad url)",
		 port ? ":" : "", port ? port : "", path ? path : "");
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
}

int cs_http_parse_retry_after(const char *value, long long now_s)
{
	const char *p = value, *end;
	long long ms;

	if (!value)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == p)
		return -1;
	if (isdigit((unsigned char)*p)) {
		const char *q = p;
		long long s = 0;

		while (q < end && isdigit((unsigned char)*q)) {
			if (s < CS_HTTP_RETRY_AFTER_MAX_MS)
				s = s * 10 + (*q - '0');
			q++;
		}
		if (q == end) {
			ms = s * 1000;
			return (int)(ms > CS_HTTP_RETRY_AFTER_MAX_MS ? CS_HTTP_RETRY_AFTER_MAX_MS : ms);
		}
	}
	if (!isalpha((unsigned char)*p))
		return -1;      /* an HTTP date starts with the day name */
	{
		time_t when = curl_getdate(p, NULL);
		long long secs;

		if (when == (time_t)-1)
			return -1;
		if (__builtin_sub_overflow((long long)when, now_s, &secs))
			secs = (long long)when > now_s ? LLONG_MAX : LLONG_MIN;
		if (secs <= 0)
			return 0;   /* a date in the past */
		return secs > CS_HTTP_RETRY_AFTER_MAX_MS / 1000 ? CS_HTTP_RETRY_AFTER_MAX_MS
								 : (int)(secs * 1000);
	}
}

static bool v4_private(const unsigned char *a)
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
	       (a[0] == 100 && (a[1] & 0xc0) == 64) ||      /* 100.64/10, shared */
	       (a[0] == 169 && a[1] == 254) ||              /* link-local */
	       (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	       (a[0] == 192 && a[1] == 168);
}

bool cs_http_addr_private(const void *addr)
{
	const struct sockaddr *sa = addr;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (sa->sa_family == AF_INET)
		return v4_private((const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr);
	if (sa->sa_family == AF_INET6) {
		const unsigned char *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
		static const unsigned char zero[15] = {0};

		if (memcmp(a, mapped, 12) == 0)
			return v4_private(a + 12);
		return memcmp(a, zero, 15) == 0 ||              /* :: and ::1 */
		       a[0] == 0xff ||                          /* multicast */
		       (a[0] & 0xfe) == 0xfc ||                 /* fc00::/7 unique local */
		       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80); /* fe80::/10 link-local */
	}
	return true;   /* no other family is for a provider */
}
