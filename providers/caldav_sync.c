/*
 * caldav_sync.c - fetch for the CalDAV provider: sync-collection, the
 * ctag/etag fallback and calendar-multiget (see caldav_sync.h).
 */
#include "caldav_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ical.h"
#include "banned.h"

#define SYNC_PREFIX "sync:"
#define CTAG_PREFIX "ctag:"

static const char CTAG_BODY[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propfind xmlns:D=\"DAV:\""
	" xmlns:CS=\"http://calendarserver.org/ns/\"><D:prop><CS:getctag/></D:prop></D:propfind>";
static const char QUERY_BODY[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><C:calendar-query xmlns:D=\"DAV:\""
	" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/></D:prop>"
	"<C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\"/>"
	"</C:comp-filter></C:filter></C:calendar-query>";

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

static int prefixed(char **dst, const char *prefix, const char *token, cs_err *err)
{
	size_t n = strlen(prefix) + strlen(token) + 1;

	if (!(*dst = malloc(n)))
		return oom(err);
	snprintf(*dst, n, "%s%s", prefix, token);
	return 0;
}

/* Events of one member's body into out; a body-less member goes to *want. */
static int add_member(const char *calendar, const cs_dav_response *r, cs_page *out,
		      cs_err *err)
{
	char *url = NULL;
	int rc;

	if (cs_dav_resolve(calendar, r->href, &url, err))
		return -1;
	rc = cs_ical_to_events(r->calendar_data, url, r->etag, out, err);
	free(url);
	return rc;
}

static int add_deleted(const char *calendar, const char *href, cs_page *out, cs_err *err)
{
	cs_event *ev = cs_page_add(out, err);

	if (!ev)
		return -1;
	ev->cancelled = true;
	return cs_dav_resolve(calendar, href, &ev->id, err);
}

/* calendar-multiget of n hrefs; their events into out. */
static int multiget(cs_provider *p, const char *calendar, const char *const *hrefs, size_t n,
		    cs_page *out, cs_err *err)
{
	cs_dav_multistatus ms = {0};
	cs_dynbuf body;
	int rc = -1;

	cs_dynbuf_init(&body, (size_t)1 << 22);
	if (cs_dav_multiget_body(&body, hrefs, n, err) ||
	    cs_dav_report(p, "REPORT", calendar, "1", cs_dynbuf_str(&body), &ms, err))
		goto out;
	for (size_t i = 0; i < ms.n; i++) {
		const cs_dav_response *r = &ms.items[i];

		if (r->status == 404) {
			if (add_deleted(calendar, r->href, out, err))
				goto out;
		} else if (r->calendar_data && add_member(calendar, r, out, err)) {
			goto out;
		}
	}
	rc = 0;
out:
	cs_dav_multistatus_release(&ms);
	cs_dynbuf_release(&body);
	return rc;
}

/*
 * The members of a multistatus into out: bodies given or fetched by
 * multiget, 404s as deletions (only when deletions is set), the
 * collection's own entry (its 507) skipped; *truncated when it said 507.
 */
static int take_members(cs_provider *p, const char *calendar, const cs_dav_multistatus *ms,
			bool deletions, bool *truncated, cs_page *out, cs_err *err)
{
	const char **want = calloc(ms->n ? ms->n : 1, sizeof(char *));
	size_t nwant = 0;
	int rc = -1;

	if (!want)
		return oom(err);
	*truncated = false;
	for (size_t i = 0; i < ms->n; i++) {
		const cs_dav_response *r = &ms->items[i];

		if (cs_dav_same(calendar, r->href, calendar)) {
			*truncated = *truncated || r->status == 507;
			continue;
		}
		if (r->status == 404) {
			if (deletions && add_deleted(calendar, r->href, out, err))
				goto out;
		} else if (r->status == 0 || (r->status >= 200 && r->status < 300)) {
			if (r->calendar_data) {
				if (add_member(calendar, r, out, err))
					goto out;
			} else {
				want[nwant++] = r->href;
			}
		}
	}
	for (size_t i = 0; i < nwant; i += CS_CALDAV_MULTIGET)
		if (multiget(p, calendar, want + i,
			     nwant - i < CS_CALDAV_MULTIGET ? nwant - i : CS_CALDAV_MULTIGET, out,
			     err))
			goto out;
	rc = 0;
out:
	free(want);
	return rc;
}

/* A token refused, or a server without sync-collection: the answers that say so. */
static bool sync_refused(const cs_err *err)
{
	return err->code == CS_EREADONLY || err->code == CS_EPROTO || err->code == CS_ECONFLICT ||
	       err->code == CS_ENOTFOUND || err->code == CS_EREFUSED;
}

static int sync_collection(cs_provider *p, const char *calendar, const char *token,
			   cs_page *out, cs_err *err)
{
	cs_dav_multistatus ms = {0};
	cs_dynbuf body;
	bool truncated;
	int rc = -1;

	cs_dynbuf_init(&body, 1 << 16);
	if (cs_dav_sync_body(&body, token, err))
		goto out;
	if (cs_dav_report(p, "REPORT", calendar, "0", cs_dynbuf_str(&body), &ms, err)) {
		if (sync_refused(err))
			cs_err_set(err, CS_EGONE, false, "CalDAV: the server refused the sync token"
				   " or has no sync-collection (%.200s)", err->msg);
		goto out;
	}
	if (!ms.sync_token) {
		cs_err_set(err, CS_EGONE, false, "CalDAV: the sync-collection answer has no token");
		goto out;
	}
	if (take_members(p, calendar, &ms, token && *token, &truncated, out, err))
		goto out;
	rc = prefixed(truncated ? &out->next_page : &out->sync_token, SYNC_PREFIX, ms.sync_token,
		      err);
out:
	cs_dav_multistatus_release(&ms);
	cs_dynbuf_release(&body);
	return rc;
}

static int get_ctag(cs_provider *p, const char *calendar, char **ctag, cs_err *err)
{
	cs_dav_multistatus ms = {0};
	int rc;

	*ctag = NULL;
	rc = cs_dav_report(p, "PROPFIND", calendar, "0", CTAG_BODY, &ms, err);
	for (size_t i = 0; rc == 0 && i < ms.n && !*ctag; i++)
		if (ms.items[i].ctag && !(*ctag = strdup(ms.items[i].ctag)))
			rc = oom(err);
	cs_dav_multistatus_release(&ms);
	return rc;
}

/* The full listing without sync-collection: ctag, then every member by calendar-query. */
static int full_by_query(cs_provider *p, const char *calendar, cs_page *out, cs_err *err)
{
	cs_dav_multistatus ms = {0};
	char *ctag = NULL;
	bool truncated;
	int rc = -1;

	if (get_ctag(p, calendar, &ctag, err) ||
	    cs_dav_report(p, "REPORT", calendar, "1", QUERY_BODY, &ms, err) ||
	    take_members(p, calendar, &ms, false, &truncated, out, err))
		goto out;
	rc = ctag ? prefixed(&out->sync_token, CTAG_PREFIX, ctag, err) : 0;
out:
	free(ctag);
	cs_dav_multistatus_release(&ms);
	return rc;
}

static int by_ctag(cs_provider *p, const char *calendar, const char *old, cs_page *out,
		   cs_err *err)
{
	char *ctag = NULL;
	int rc;

	if (get_ctag(p, calendar, &ctag, err))
		return -1;
	if (ctag && strcmp(ctag, old) == 0)
		rc = prefixed(&out->sync_token, CTAG_PREFIX, ctag, err);
	else
		rc = cs_err_set(err, CS_EGONE, false, "CalDAV: the calendar's ctag moved");
	free(ctag);
	return rc;
}

int cs_caldav_fetch(cs_provider *p, const char *calendar, const char *sync_token,
		    const char *page_token, cs_page *out, cs_err *err)
{
	cs_err first = {0};

	memset(out, 0, sizeof(*out));
	if (page_token && strncmp(page_token, SYNC_PREFIX, strlen(SYNC_PREFIX)) == 0)
		return sync_collection(p, calendar, page_token + strlen(SYNC_PREFIX), out, err);
	if (sync_token && strncmp(sync_token, CTAG_PREFIX, strlen(CTAG_PREFIX)) == 0)
		return by_ctag(p, calendar, sync_token + strlen(CTAG_PREFIX), out, err);
	if (sync_token && strncmp(sync_token, SYNC_PREFIX, strlen(SYNC_PREFIX)) == 0)
		return sync_collection(p, calendar, sync_token + strlen(SYNC_PREFIX), out, err);
	if (sync_token)
		return cs_err_set(err, CS_EGONE, false, "CalDAV: a sync token of another kind");
	if (sync_collection(p, calendar, "", out, &first) == 0)
		return 0;
	if (first.code != CS_EGONE) {
		*err = first;
		return -1;
	}
	cs_page_release(out);
	return full_by_query(p, calendar, out, err);
}
