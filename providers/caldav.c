/*
 * caldav.c - providers "icloud" and "caldav": any CalDAV server (RFC 4791)
 * behind the provider interface (provider.h), one code for both; icloud's
 * entry point is CALSYNC_ICLOUD_URL unless the row names one.
 *
 * - list_calendars: discovery (caldav_dav.c), then PROPFIND Depth 1 on
 *   the calendar home: calendar collections that can hold VEVENTs, with
 *   displayname, Apple's calendar-color and the write privilege.
 * - fetch: caldav_sync.c.
 * - create: PUT If-None-Match: * of "<calendar>familyhub-<hub id>.ics"
 *   with UID "familyhub-<hub id>": a retry finds it there (412) and
 *   returns it (existed). An override of a series is a write of the
 *   series' resource (GET, merge, PUT If-Match).
 * - update: the stored resource (ev->raw, or read again) is the base, the
 *   Hub's fields are merged into it (ical_write.c), PUT If-Match; 412 ->
 *   CS_ECONFLICT. The etag is read again when the PUT answer has none.
 * - remove: DELETE If-Match (gone already: success); an override is
 *   removed as an EXDATE in its series' resource.
 * - revoke: nothing to revoke (an app password is revoked by its owner).
 * Limits: 4 requests at once per account, 10/s, bursts of 20 - modest,
 * as iCloud publishes no limits and home servers are small.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caldav_sync.h"
#include "ical.h"
#include "ical_util.h"
#include "banned.h"

#define UID_PREFIX "familyhub-"
#define ICAL_TYPE "text/calendar; charset=utf-8"

static const char LIST_BODY[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propfind xmlns:D=\"DAV:\""
	" xmlns:C=\"urn:ietf:params:xml:ns:caldav\" xmlns:A=\"http://apple.com/ns/ical/\">"
	"<D:prop><D:resourcetype/><D:displayname/><C:supported-calendar-component-set/>"
	"<A:calendar-color/><D:current-user-privilege-set/></D:prop></D:propfind>";

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

static int open_caldav(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		       cs_err *err)
{
	return cs_dav_open(out, cfg, creds, http, creds ? creds->url : NULL, err);
}

static int open_icloud(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		       cs_err *err)
{
	const char *entry = creds && creds->url && *creds->url ? creds->url : cfg->icloud_url;

	return cs_dav_open(out, cfg, creds, http, entry, err);
}

static unsigned dav_caps(const cs_provider *p)
{
	(void)p;
	return CS_CAP_LISTS_ALL | CS_CAP_SERIES_ONE_RESOURCE;
}

/* ---- list_calendars ----------------------------------------------------- */

static int add_calendar(cs_calendar_list *out, const char *home, const cs_dav_response *r,
			cs_err *err)
{
	cs_calendar_info *c;
	cs_calendar_info *items = realloc(out->items, (out->n + 1) * sizeof(*items));

	if (!items)
		return oom(err);
	out->items = items;
	c = &out->items[out->n++];
	memset(c, 0, sizeof(*c));
	if (cs_dav_resolve(home, r->href, &c->id, err))
		return -1;
	c->name = strdup(r->displayname ? r->displayname : c->id);
	if (r->color && r->color[0] == '#' && strlen(r->color) >= 7)
		c->color = strndup(r->color, 7);
	c->writable = !r->privs || r->can_write;
	if (!c->name || (r->color && r->color[0] == '#' && strlen(r->color) >= 7 && !c->color))
		return oom(err);
	return 0;
}

static int dav_list(cs_provider *p, cs_calendar_list *out, cs_err *err)
{
	cs_dav_multistatus ms = {0};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((!p->home && cs_dav_discover(p, err)) ||
	    cs_dav_report(p, "PROPFIND", p->home, "1", LIST_BODY, &ms, err))
		goto out;
	for (size_t i = 0; i < ms.n; i++) {
		const cs_dav_response *r = &ms.items[i];

		if (!r->calendar || (r->comp_set && !r->comp_vevent))
			continue;   /* the home itself, address books, task lists */
		if (add_calendar(out, p->home, r, err))
			goto out;
	}
	rc = 0;
out:
	if (rc)
		cs_calendar_list_release(out);
	cs_dav_multistatus_release(&ms);
	return rc;
}

/* ---- reading one resource ----------------------------------------------- */

/* The resource URL of an event id (an override's id is URL#occurrence). */
static int resource_of(const char *id, char **url, cs_err *err)
{
	const char *hash = strchr(id, '#');

	*url = hash ? strndup(id, (size_t)(hash - id)) : strdup(id);
	return *url ? 0 : oom(err);
}

/* GET url: *text and *etag (NULL when the answer has none). */
static int get_resource(cs_provider *p, const char *url, char **text, char **etag, cs_err *err)
{
	cs_http_response resp;
	int rc = -1;

	*text = *etag = NULL;
	cs_http_response_init(&resp);
	if (cs_dav_request(p, "GET", url, NULL, NULL, NULL, NULL, &resp, err))
		goto out;
	if (resp.status != 200) {
		cs_dav_status_error(&resp, "GET", url, err);
		goto out;
	}
	*etag = cs_dav_etag(p);
	if (!(*text = cs_dynbuf_detach(&resp.body)) && !(*text = strdup("")))
		goto nomem;
	rc = 0;
	goto out;
nomem:
	oom(err);
out:
	cs_http_response_release(&resp);
	return rc;
}

/*
 * The event id out of resource text: found, or - an override that is not
 * there while its series is - the removed occurrence; else CS_ENOTFOUND.
 */
static int pick(const char *text, const char *url, const char *etag, const char *id,
		cs_event *out, cs_err *err)
{
	cs_page page = {0};
	const char *hash = strchr(id, '#');
	bool series = false;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (cs_ical_to_events(text, url, etag, &page, err))
		return -1;
	for (size_t i = 0; i < page.n; i++) {
		series = series || (!page.items[i].series_id && !page.items[i].bad);
		if (page.items[i].id && strcmp(page.items[i].id, id) == 0) {
			*out = page.items[i];
			memset(&page.items[i], 0, sizeof(page.items[i]));
			rc = 0;
			goto out;
		}
	}
	if (!hash || !series) {
		cs_err_set(err, CS_ENOTFOUND, false, "CalDAV: %.200s holds no such event", url);
		goto out;
	}
	out->cancelled = true;
	if (!(out->id = strdup(id)) || !(out->series_id = strdup(url)) ||
	    !(out->original_start = strdup(hash + 1)) || (etag && !(out->etag = strdup(etag)))) {
		cs_event_release(out);
		oom(err);
		goto out;
	}
	rc = 0;
out:
	cs_page_release(&page);
	return rc;
}

static int dav_get(cs_provider *p, const char *calendar, const char *id, cs_event *out,
		   cs_err *err)
{
	char *url = NULL, *text = NULL, *etag = NULL;
	int rc = -1;

	(void)calendar;
	memset(out, 0, sizeof(*out));
	if (resource_of(id, &url, err) || get_resource(p, url, &text, &etag, err))
		goto out;
	rc = pick(text, url, etag, id, out, err);
out:
	free(url);
	free(text);
	free(etag);
	return rc;
}

/* ---- writing ------------------------------------------------------------ */

/*
 * PUT text to url under precond; *out the event id as stored (the PUT's
 * ETag with what was sent, or the resource read again without one).
 */
static int put(cs_provider *p, const char *url, const char *precond, const char *text,
	       const char *id, cs_event *out, cs_err *err)
{
	cs_http_response resp;
	char *etag = NULL, *stored = NULL;
	int rc = -1;

	cs_http_response_init(&resp);
	if (cs_dav_request(p, "PUT", url, NULL, precond, ICAL_TYPE, text, &resp, err))
		goto out;
	if (resp.status != 200 && resp.status != 201 && resp.status != 204) {
		cs_dav_status_error(&resp, "PUT", url, err);
		goto out;
	}
	etag = cs_dav_etag(p);
	if (!etag || etag[0] == 'W') {   /* none, or weak: the server changed what it keeps */
		free(etag);
		if (get_resource(p, url, &stored, &etag, err))
			goto out;
	}
	rc = pick(stored ? stored : text, url, etag, id, out, err);
out:
	free(etag);
	free(stored);
	cs_http_response_release(&resp);
	return rc;
}

static int if_match(char *buf, size_t n, const char *etag, cs_err *err)
{
	if (!etag || !*etag)
		return cs_err_set(err, CS_ECONFLICT, false, "CalDAV: no etag to write under");
	if ((size_t)snprintf(buf, n, "If-Match: %s", etag) >= n)
		return cs_err_set(err, CS_EPROTO, false, "CalDAV: the etag is too long");
	return 0;
}

/* Merge ev into the resource at url (base text under etag) and PUT it If-Match. */
static int write_series(cs_provider *p, const char *url, const char *base, const char *etag,
			const cs_event *ev, const char *hub_id, cs_event *out, cs_err *err)
{
	char precond[600], *text = NULL, *id = NULL;
	int rc = -1;

	if (if_match(precond, sizeof(precond), etag, err) ||
	    cs_ical_merge(base, NULL, ev, hub_id, &text, err))
		goto out;
	if (ev->series_id ? cs_ical_override_id(url, ev->original_start, &id) :
	    !(id = strdup(url))) {
		oom(err);
		goto out;
	}
	rc = put(p, url, precond, text, id, out, err);
out:
	free(text);
	free(id);
	return rc;
}

static int dav_update(cs_provider *p, const char *calendar, const cs_event *ev, cs_event *out,
		      cs_err *err)
{
	char *url = NULL, *text = NULL, *etag = NULL;
	int rc = -1;

	(void)calendar;
	memset(out, 0, sizeof(*out));
	if (resource_of(ev->id, &url, err))
		return -1;
	if (!ev->raw) {   /* nothing kept: the base is read, under the etag given */
		if (get_resource(p, url, &text, &etag, err))
			goto out;
		if (!etag || !ev->etag || strcmp(etag, ev->etag) != 0) {
			cs_err_set(err, CS_ECONFLICT, false, "CalDAV: %.200s changed", url);
			goto out;
		}
	}
	rc = write_series(p, url, ev->raw ? ev->raw : text, ev->etag, ev, ev->hub_id, out, err);
out:
	free(url);
	free(text);
	free(etag);
	return rc;
}

/* A new override of a series calsync or another client made: a write of the series. */
static int create_override(cs_provider *p, const cs_event *ev, const char *hub_id,
			   cs_event *out, cs_err *err)
{
	char *text = NULL, *etag = NULL, *id = NULL;
	int rc = -1;

	if (!ev->original_start)
		return cs_err_set(err, CS_EINVAL, false, "CalDAV: an override without its original start");
	if (get_resource(p, ev->series_id, &text, &etag, err))
		goto out;
	if (cs_ical_override_id(ev->series_id, ev->original_start, &id)) {
		oom(err);
		goto out;
	}
	if (pick(text, ev->series_id, etag, id, out, err) == 0 && !out->cancelled) {
		out->existed = true;   /* a retry: it is there already */
		rc = 0;
		goto out;
	}
	cs_event_release(out);
	cs_err_clear(err);
	rc = write_series(p, ev->series_id, text, etag, ev, hub_id, out, err);
out:
	free(text);
	free(etag);
	free(id);
	return rc;
}

static int dav_create(cs_provider *p, const char *calendar, const cs_event *ev,
		      const char *hub_id, cs_event *out, cs_err *err)
{
	char uid[128], *url = NULL, *text = NULL;
	size_t n;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!hub_id || strlen(hub_id) > 64 || strspn(hub_id, "0123456789abcdefABCDEF-") !=
							   strlen(hub_id))
		return cs_err_set(err, CS_EINVAL, false, "CalDAV: Hub event id is not a UUID");
	if (ev->series_id)
		return create_override(p, ev, hub_id, out, err);
	snprintf(uid, sizeof(uid), UID_PREFIX "%s", hub_id);
	n = strlen(calendar) + strlen(uid) + 6;
	if (!(url = malloc(n)))
		return oom(err);
	snprintf(url, n, "%s%s%s.ics", calendar,
		 *calendar && calendar[strlen(calendar) - 1] == '/' ? "" : "/", uid);
	if (cs_ical_merge(NULL, uid, ev, hub_id, &text, err))
		goto out;
	rc = put(p, url, "If-None-Match: *", text, url, out, err);
	if (rc && err->code == CS_ECONFLICT) {   /* made by an earlier attempt */
		cs_err_clear(err);
		rc = dav_get(p, calendar, url, out, err);
		out->existed = rc == 0;
	}
out:
	free(url);
	free(text);
	return rc;
}

static int dav_remove(cs_provider *p, const char *calendar, const char *id, const char *etag,
		      cs_err *err)
{
	cs_http_response resp;
	char precond[600], *url = NULL, *text = NULL, *now = NULL, *cancelled = NULL;
	cs_event out = {0};
	int rc = -1;

	(void)calendar;
	cs_http_response_init(&resp);
	if (resource_of(id, &url, err))
		goto out;
	if (strchr(id, '#')) {   /* one occurrence: an EXDATE in the series */
		if (get_resource(p, url, &text, &now, err)) {
			if (err->code == CS_ENOTFOUND) {   /* the whole series is gone */
				cs_err_clear(err);
				rc = 0;
			}
			goto out;
		}
		if (etag && (!now || strcmp(now, etag) != 0)) {
			cs_err_set(err, CS_ECONFLICT, false, "CalDAV: %.200s changed", url);
			goto out;
		}
		if (if_match(precond, sizeof(precond), now, err) ||
		    cs_ical_cancel(text, strchr(id, '#') + 1, &cancelled, err))
			goto out;
		rc = put(p, url, precond, cancelled, id, &out, err);
		goto out;
	}
	if (etag && if_match(precond, sizeof(precond), etag, err))
		goto out;
	if (cs_dav_request(p, "DELETE", url, NULL, etag ? precond : NULL, NULL, NULL, &resp, err))
		goto out;
	if (resp.status == 404 || resp.status == 410 || (resp.status >= 200 && resp.status < 300))
		rc = 0;
	else
		cs_dav_status_error(&resp, "DELETE", url, err);
out:
	cs_event_release(&out);
	cs_http_response_release(&resp);
	free(url);
	free(text);
	free(now);
	free(cancelled);
	return rc;
}

static int dav_revoke(cs_provider *p, cs_err *err)
{
	(void)p;
	(void)err;
	return 0;
}

static int dav_fetch(cs_provider *p, const char *calendar, const char *sync_token,
		     const char *page_token, cs_page *out, cs_err *err)
{
	return cs_caldav_fetch(p, calendar, sync_token, page_token, out, err);
}

/* caldav and icloud differ only in their name and where the entry point comes from */
#define DAV_OPS(provider, open_fn)                                               \
	{                                                                        \
		.name = provider,                                                \
		.limits = {.max_in_flight = 4, .per_second = 10, .burst = 20},   \
		.open = open_fn, .close = cs_dav_close, .caps = dav_caps,        \
		.list_calendars = dav_list, .fetch = dav_fetch, .create = dav_create, \
		.update = dav_update, .get = dav_get, .remove = dav_remove,      \
		.revoke = dav_revoke,                                            \
	}

const struct cs_provider_ops cs_caldav_provider = DAV_OPS("caldav", open_caldav);
const struct cs_provider_ops cs_icloud_provider = DAV_OPS("icloud", open_icloud);
