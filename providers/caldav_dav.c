/*
 * caldav_dav.c - CalDAV transport, status mapping and discovery (see
 * caldav_dav.h).
 */
#include "caldav_dav.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "banned.h"

#define ORIGIN_MAX 16

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* "scheme://host:port" of url (lowercase host, the port always there), or NULL. */
static char *origin_of(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		size_t n = strlen(scheme) + strlen(host) + strlen(port) + 5;

		if ((out = malloc(n))) {
			snprintf(out, n, "%s://%s:%s", scheme, host, port);
			for (char *c = out; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/* Does url carry a user name or password in it (https://user:pw@host/)? */
static bool has_userinfo(const char *url)
{
	CURLU *u = curl_url();
	char *user = NULL;
	bool has = false;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
		has = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user;
	curl_free(user);
	curl_url_cleanup(u);
	return has;
}

static bool origin_known(const cs_provider *p, const char *origin)
{
	for (size_t i = 0; i < p->norigins; i++)
		if (strcmp(p->origins[i], origin) == 0)
			return true;
	return false;
}

static int learn_origin(cs_provider *p, const char *url, cs_err *err)
{
	char *o = origin_of(url);

	if (!o)
		return cs_err_set(err, CS_EINVAL, false, "CalDAV: '%.100s' is not a URL", url);
	if (origin_known(p, o) || p->norigins == ORIGIN_MAX) {
		free(o);
		return 0;
	}
	p->origins[p->norigins++] = o;
	return 0;
}

int cs_dav_open(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		const char *entry, cs_err *err)
{
	cs_provider *p;

	*out = NULL;
	if (!creds || !creds->username || !*creds->username || !creds->password)
		return cs_err_set(err, CS_EAUTH, false, "CalDAV: no user name or app password");
	if (!entry || !*entry)
		return cs_err_set(err, CS_EINVAL, false, "CalDAV: no entry point URL");
	if (has_userinfo(entry))   /* it would end up in ids, rows and logs */
		return cs_err_set(err, CS_EINVAL, false, "CalDAV: the entry point URL holds a user"
				  " name or password; give them as the credentials instead");
	if (!(p = calloc(1, sizeof(*p))))
		return oom(err);
	p->cfg = cfg;
	p->creds = creds;
	p->http = http;
	p->opts = (cs_http_opts){.username = creds->username, .password = creds->password,
				 .allow_http = cfg->caldav_allow_http != 0,
				 .allow_private = cfg->caldav_allow_private != 0};
	if (!(p->entry = strdup(entry)) || !(p->origins = calloc(ORIGIN_MAX, sizeof(char *)))) {
		cs_dav_close(p);
		return oom(err);
	}
	if (learn_origin(p, entry, err)) {
		cs_dav_close(p);
		return -1;
	}
	*out = p;
	return 0;
}

void cs_dav_close(cs_provider *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->norigins; i++)
		free(p->origins[i]);
	free(p->origins);
	free(p->entry);
	free(p->home);
	free(p);
}

int cs_dav_resolve(const char *base, const char *href, char **out, cs_err *err)
{
	CURLU *u = curl_url();
	char *s = NULL;
	int rc = -1;

	*out = NULL;
	if (!u)
		return oom(err);
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, href, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		cs_err_set(err, CS_EPROTO, false, "CalDAV: href '%.100s' does not resolve", href);
	else if (!(*out = strdup(s)))
		oom(err);
	else
		rc = 0;
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

bool cs_dav_same(const char *base, const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	bool same;

	if (cs_dav_resolve(base, a, &x, NULL) || cs_dav_resolve(base, b, &y, NULL)) {
		free(x);
		return false;
	}
	same = strcmp(x, y) == 0;
	if (!same) {   /* a collection with and without its trailing slash */
		size_t lx = strlen(x), ly = strlen(y);

		same = (lx + 1 == ly && y[lx] == '/' && strncmp(x, y, lx) == 0) ||
		       (ly + 1 == lx && x[ly] == '/' && strncmp(x, y, ly) == 0);
	}
	free(x);
	free(y);
	return same;
}

/* May credentials go to url? Runs the discovery once when its origin is new. */
static int check_origin(cs_provider *p, const char *url, cs_err *err)
{
	char *o = origin_of(url);
	bool ok;

	if (!o)
		return cs_err_set(err, CS_EINVAL, false, "CalDAV: '%.100s' is not a URL", url);
	ok = origin_known(p, o);
	if (!ok && !p->discovered) {
		if (cs_dav_discover(p, err)) {
			free(o);
			return cs_err_prefix(err, "CalDAV: checking where the calendar is");
		}
		ok = origin_known(p, o);
	}
	free(o);
	if (ok)
		return 0;
	return cs_err_set(err, CS_EINVAL, false,
			  "CalDAV: the calendar is on a host that the account's entry point does"
			  " not lead to; no credentials sent there");
}

static int send_request(cs_provider *p, const char *method, const char *url, const char *depth,
			const char *precond, const char *ctype, const char *body,
			cs_http_response *resp, cs_err *err)
{
	char dh[32], ch[96];
	const char *hdrs[5];
	size_t n = 0;

	if (depth) {
		snprintf(dh, sizeof(dh), "Depth: %s", depth);
		hdrs[n++] = dh;
	}
	if (ctype) {
		snprintf(ch, sizeof(ch), "Content-Type: %s", ctype);
		hdrs[n++] = ch;
	}
	if (precond)
		hdrs[n++] = precond;
	hdrs[n] = NULL;
	return cs_http_request_opt(p->http, &p->opts, method, url, hdrs, body,
				   body ? strlen(body) : 0, resp, err);
}

int cs_dav_request(cs_provider *p, const char *method, const char *url, const char *depth,
		   const char *precond, const char *ctype, const char *body,
		   cs_http_response *resp, cs_err *err)
{
	if (has_userinfo(url))
		return cs_err_set(err, CS_EINVAL, false,
				  "CalDAV: a URL with a user name or password in it is not used");
	if (check_origin(p, url, err))
		return -1;
	return send_request(p, method, url, depth, precond, ctype, body, resp, err);
}

int cs_dav_status_error(const cs_http_response *resp, const char *method, const char *url,
			cs_err *err)
{
	char what[300];
	long st = resp->status;
	int rc;

	cs_http_describe(method, url, what, sizeof(what));
	if (st == 401)
		return cs_err_set(err, CS_EAUTH, false,
				  "CalDAV: %s: the server refused the user name or app password", what);
	if (st == 404 || st == 410)
		return cs_err_set(err, CS_ENOTFOUND, false, "CalDAV: %s: not found (%ld)", what, st);
	if (st == 412)
		return cs_err_set(err, CS_ECONFLICT, false,
				  "CalDAV: %s: the resource changed (412)", what);
	if (st == 429 || st == 503) {
		rc = cs_err_set(err, CS_ERATELIMIT, true, "CalDAV: %s: the server asks to slow"
				" down (%ld)", what, st);
		if (err)
			err->retry_after_ms = resp->retry_after_ms > 0 ? resp->retry_after_ms : 0;
		return rc;
	}
	if (st >= 500)
		return cs_err_set(err, CS_EIO, true, "CalDAV: %s: server error %ld", what, st);
	if ((st == 400 || st == 403 || st == 409 || st == 415) && strcmp(method, "PUT") == 0)
		return cs_err_set(err, CS_EREFUSED, false,
				  "CalDAV: %s: the server refused the event (%ld)", what, st);
	if (st == 403)
		return cs_err_set(err, CS_EREADONLY, false, "CalDAV: %s: not allowed (403)", what);
	return cs_err_set(err, CS_EPROTO, false, "CalDAV: %s: unexpected answer %ld", what, st);
}

int cs_dav_report(cs_provider *p, const char *method, const char *url, const char *depth,
		       const char *body, cs_dav_multistatus *ms, cs_err *err)
{
	cs_http_response resp;
	int rc = -1;

	memset(ms, 0, sizeof(*ms));
	cs_http_response_init(&resp);
	if (cs_dav_request(p, method, url, depth, NULL, "application/xml; charset=utf-8", body,
			   &resp, err))
		goto out;
	if (resp.status != 207) {
		cs_dav_status_error(&resp, method, url, err);
		goto out;
	}
	rc = cs_dav_parse(resp.body.data ? resp.body.data : "", resp.body.len, ms, err);
	if (rc)
		cs_err_prefix(err, "CalDAV %s", method);
out:
	cs_http_response_release(&resp);
	return rc;
}

char *cs_dav_etag(cs_provider *p)
{
	char buf[512];

	return cs_http_header(p->http, "ETag", buf, sizeof(buf)) == 0 && *buf ? strdup(buf) : NULL;
}

/* ---- discovery ---------------------------------------------------------- */

static const char PRINCIPAL_BODY[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propfind xmlns:D=\"DAV:\">"
	"<D:prop><D:current-user-principal/></D:prop></D:propfind>";
static const char HOME_BODY[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propfind xmlns:D=\"DAV:\""
	" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><C:calendar-home-set/></D:prop>"
	"</D:propfind>";

/*
 * PROPFIND body at *url (Depth 0), following redirects (each target's
 * origin is learnt: the entry point led there); *url becomes the URL
 * that answered and *href the first response's principal or home.
 */
static int propfind_follow(cs_provider *p, char **url, const char *body, bool home,
			   char **href, cs_err *err)
{
	cs_http_response resp;
	cs_dav_multistatus ms = {0};
	char loc[2048];
	int rc = -1;

	*href = NULL;
	cs_http_response_init(&resp);
	for (int hops = 0;; hops++) {
		if (learn_origin(p, *url, err) ||
		    send_request(p, "PROPFIND", *url, "0", NULL, "application/xml; charset=utf-8",
				 body, &resp, err))
			goto out;
		if (resp.status < 300 || resp.status >= 400 || resp.status == 304)
			break;
		if (hops == CS_DAV_MAX_REDIRECTS ||
		    cs_http_header(p->http, "Location", loc, sizeof(loc))) {
			cs_err_set(err, CS_EPROTO, false, "CalDAV discovery: a redirect without end"
				   " or without a Location");
			goto out;
		}
		{
			char *next;

			if (cs_dav_resolve(*url, loc, &next, err))
				goto out;
			if (has_userinfo(next)) {
				free(next);
				cs_err_set(err, CS_EPROTO, false, "CalDAV discovery: a redirect to a URL"
					   " with a user name or password in it");
				goto out;
			}
			free(*url);
			*url = next;
		}
	}
	if (resp.status != 207) {
		cs_dav_status_error(&resp, "PROPFIND", *url, err);
		goto out;
	}
	if (cs_dav_parse(resp.body.data ? resp.body.data : "", resp.body.len, &ms, err))
		goto out;
	for (size_t i = 0; i < ms.n && !*href; i++) {
		const char *h = home ? ms.items[i].home : ms.items[i].principal;

		if (h && cs_dav_resolve(*url, h, href, err))
			goto out;
	}
	rc = 0;
out:
	cs_dav_multistatus_release(&ms);
	cs_http_response_release(&resp);
	return rc;
}

/* The principal, from /.well-known/caldav first, then from the entry point itself. */
static int find_principal(cs_provider *p, char **principal, cs_err *err)
{
	char *url = NULL;
	int rc;

	if (cs_dav_resolve(p->entry, "/.well-known/caldav", &url, err))
		return -1;
	rc = propfind_follow(p, &url, PRINCIPAL_BODY, false, principal, err);
	if ((rc == 0 && *principal) || (rc && err->code == CS_EAUTH)) {
		free(url);
		return rc;
	}
	free(url);
	if (!(url = strdup(p->entry)))
		return oom(err);
	rc = propfind_follow(p, &url, PRINCIPAL_BODY, false, principal, err);
	free(url);
	if (rc == 0 && !*principal)
		return cs_err_set(err, CS_EPROTO, false,
				  "CalDAV discovery: the server names no current-user-principal");
	return rc;
}

int cs_dav_discover(cs_provider *p, cs_err *err)
{
	char *principal = NULL, *home = NULL;
	int rc = -1;

	p->discovered = true;
	if (find_principal(p, &principal, err) ||
	    propfind_follow(p, &principal, HOME_BODY, true, &home, err))
		goto out;
	if (!home) {
		cs_err_set(err, CS_EPROTO, false,
			   "CalDAV discovery: the principal names no calendar-home-set");
		goto out;
	}
	if (learn_origin(p, home, err))
		goto out;
	free(p->home);
	p->home = home;
	home = NULL;
	rc = 0;
out:
	free(principal);
	free(home);
	return rc;
}
