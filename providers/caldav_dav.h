/*
 * caldav_dav.h - the CalDAV provider's transport and discovery (shared by
 * caldav.c and caldav_sync.c): requests with Basic auth to hosts the
 * user's entry point led to, WebDAV status codes -> cs_err codes,
 * discovery (RFC 6764 well-known, current-user-principal,
 * calendar-home-set, following redirects to other hosts as iCloud's
 * partition hosts need) and URL resolution.
 *
 * Credentials go only to the entry point's origin and to origins the
 * discovery was led to (redirects, principal and home hrefs); a calendar
 * URL on another origin runs the discovery first, and is refused when it
 * does not lead there. Every request uses the settings
 * CALSYNC_CALDAV_ALLOW_HTTP / CALSYNC_CALDAV_ALLOW_PRIVATE (cs_http_opts).
 *
 * Ownership: the cs_provider owns its strings and the list of origins
 * (cs_dav_close()); it borrows cfg, creds and http. URLs returned through
 * char ** are malloc()ed for the caller.
 */
#ifndef CS_CALDAV_DAV_H
#define CS_CALDAV_DAV_H

#include <stdbool.h>

#include "caldav_xml.h"
#include "provider.h"

#define CS_DAV_MAX_REDIRECTS 5

struct cs_provider {
	const cs_config *cfg;
	cs_creds *creds;
	cs_http *http;
	cs_http_opts opts;
	char *entry;          /* the discovery entry point */
	char **origins;       /* scheme://host:port the discovery led to */
	size_t norigins;
	bool discovered;
	char *home;           /* calendar-home-set, once discovered */
};

int cs_dav_open(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		const char *entry, cs_err *err);
void cs_dav_close(cs_provider *p);

/*
 * One request to url (which must be on an allowed origin): depth and
 * precond ("If-Match: ..." or "If-None-Match: *") may be NULL; body with
 * its content type ctype. 0 whenever the server answered.
 */
int cs_dav_request(cs_provider *p, const char *method, const char *url, const char *depth,
		   const char *precond, const char *ctype, const char *body,
		   cs_http_response *resp, cs_err *err);

/* An answer that is not the expected one, as a cs_err (401 auth, 404, 412, 5xx, ...). */
int cs_dav_status_error(const cs_http_response *resp, const char *method, const char *url,
			cs_err *err);

/* A 207 answer (PROPFIND or REPORT) parsed; any other status is an error by cs_dav_status_error(). */
int cs_dav_report(cs_provider *p, const char *method, const char *url, const char *depth,
		   const char *body, cs_dav_multistatus *ms, cs_err *err);

/* href resolved against base into an absolute URL. */
int cs_dav_resolve(const char *base, const char *href, char **out, cs_err *err);

/* Do a and b name the same resource (absolute URLs, or a path against base)? */
bool cs_dav_same(const char *base, const char *a, const char *b);

/* Discover the calendar home (p->home), learning the origins on the way. */
int cs_dav_discover(cs_provider *p, cs_err *err);

/* The ETag of h's last answer, or NULL; malloc()ed. */
char *cs_dav_etag(cs_provider *p);

#endif
