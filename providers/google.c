/*
 * google.c - provider "google": Google Calendar API v3 behind the
 * provider interface (provider.h).
 *
 * - list_calendars: calendarList, all pages.
 * - fetch: one page of events.list with singleEvents=false,
 *   showDeleted=true, maxResults=2500, the sync/page token and a partial
 *   response (fields: only what the mapping reads); 410 ->
 *   CS_EGONE (the engine then does a full sync). Items that cannot be
 *   mapped come back with ev->bad set; they never fail the page.
 * - create: events.insert with an id derived from the Hub event id; a 409
 *   (an earlier attempt got through) fetches that event and returns it
 *   (existed), and restores it when it had been deleted - so a retried
 *   create never makes a second event.
 * - update/remove: PATCH/DELETE under If-Match; 412 -> CS_ECONFLICT.
 *   PATCH, with explicit nulls for what calsync cleared, keeps the fields
 *   calsync does not model (reminders, colour, other apps' properties);
 *   an event with attendees is read first, so that every attendee who
 *   stays keeps the response Google holds (PATCH replaces arrays). A
 *   delete of an event that is already gone is a success.
 * - get: events.get (a deleted event comes back cancelled).
 * - revoke: the OAuth revocation endpoint.
 * OAuth refresh, 401 handling and error mapping live in google_api.c, the
 * JSON mapping in google_json.c.
 */
#include <stdlib.h>
#include <string.h>

#include "google_api.h"
#include "google_json.h"
#include "google_watch.h"
#include "watch.h"
#include "banned.h"

#define MAX_LIST_PAGES 1000

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

static int g_open(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		  cs_err *err)
{
	cs_provider *g;

	*out = NULL;
	if (!creds)
		return cs_err_set(err, CS_EINVAL, false, "Google: no credentials given");
	g = calloc(1, sizeof(*g));
	if (!g)
		return oom(err);
	g->cfg = cfg;
	g->creds = creds;
	g->http = http;
	*out = g;
	return 0;
}

static void g_close(cs_provider *g)
{
	free(g);
}

/* GET url and parse the JSON object answer; any other status fails. */
static int get_json(cs_provider *g, const char *url, cs_http_response *resp,
		    json_t **root, cs_err *err)
{
	*root = NULL;
	if (cs_google_call(g, "GET", url, NULL, NULL, resp, err))
		return -1;
	if (resp->status != 200)
		return cs_google_api_error(resp, "GET", url, err);
	return cs_google_parse(resp, "GET", url, root, err);
}

/* "items" of a list answer: an array, or NULL when absent. */
static int items_of(json_t *root, const char *url, json_t **items, cs_err *err)
{
	char what[300];

	*items = json_object_get(root, "items");
	if (!*items || json_is_null(*items) || json_is_array(*items))
		return 0;
	cs_http_describe("GET", url, what, sizeof(what));
	return cs_err_set(err, CS_EPROTO, true,
			  "Google answered %s with 'items' that is not an array", what);
}

/* ---- list_calendars ----------------------------------------------------- */

static int add_calendar(cs_calendar_list *out, size_t *cap, json_t *item, cs_err *err)
{
	const char *id = json_string_value(json_object_get(item, "id"));
	const char *name = json_string_value(json_object_get(item, "summaryOverride"));
	const char *color = json_string_value(json_object_get(item, "backgroundColor"));
	const char *role = json_string_value(json_object_get(item, "accessRole"));
	cs_calendar_info *c;

	if (!id || !*id)
		return 0;   /* nothing to select without an id */
	if (!name)
		name = json_string_value(json_object_get(item, "summary"));
	if (!(c = cs_calendar_list_add(out, cap, err)))
		return -1;
	c->id = strdup(id);
	c->name = strdup(name ? name : id);
	c->color = color ? strdup(color) : NULL;
	c->primary = json_is_true(json_object_get(item, "primary"));
	c->writable = role && (strcmp(role, "owner") == 0 || strcmp(role, "writer") == 0);
	if (!c->id || !c->name || (color && !c->color))
		return oom(err);
	return 0;
}

static int g_list(cs_provider *g, cs_calendar_list *out, cs_err *err)
{
	cs_http_response resp;
	cs_dynbuf url;
	json_t *root = NULL, *items, *item;
	char *page = NULL;
	size_t cap = 0, i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	cs_http_response_init(&resp);
	for (int pages = 0;; pages++) {
		if (pages == MAX_LIST_PAGES) {
			cs_err_set(err, CS_EPROTO, true, "Google calendar list: more than %d pages",
				   MAX_LIST_PAGES);
			goto done;
		}
		cs_dynbuf_reset(&url);
		if (cs_google_api_base(g, &url, err) ||
		    cs_dynbuf_addstr(&url, "/users/me/calendarList?maxResults=250", err) ||
		    (page && (cs_dynbuf_addstr(&url, "&pageToken=", err) ||
			      cs_http_escape(&url, page, err))))
			goto done;
		json_decref(root);
		if (get_json(g, url.data, &resp, &root, err) || items_of(root, url.data, &items, err))
			goto done;
		json_array_foreach(items, i, item)
			if (json_is_object(item) && add_calendar(out, &cap, item, err))
				goto done;
		free(page);
		page = NULL;
		if (!json_is_string(json_object_get(root, "nextPageToken")))
			break;
		if (!(page = strdup(json_string_value(json_object_get(root, "nextPageToken"))))) {
			oom(err);
			goto done;
		}
	}
	ret = 0;
done:
	if (ret)
		cs_calendar_list_release(out);
	free(page);
	json_decref(root);
	cs_dynbuf_release(&url);
	cs_http_response_release(&resp);
	return ret;
}

/* ---- fetch -------------------------------------------------------------- */

static int take_string(json_t *root, const char *key, char **dst, cs_err *err)
{
	const char *s = json_string_value(json_object_get(root, key));

	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : oom(err);
}

static int g_fetch(cs_provider *g, const char *cal, const char *sync_token,
		   const char *page_token, cs_page *out, cs_err *err)
{
	cs_http_response resp;
	cs_dynbuf url;
	json_t *root = NULL, *items, *item;
	char what[300];
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	cs_http_response_init(&resp);
	if (cs_google_events_url(g, &url, cal, NULL, err) ||
	    cs_dynbuf_addstr(&url, "?singleEvents=false&showDeleted=true&maxResults=2500", err) ||
	    cs_dynbuf_addstr(&url, "&fields=", err) ||
	    cs_http_escape(&url, CS_GOOGLE_LIST_FIELDS, err) ||
	    (sync_token && (cs_dynbuf_addstr(&url, "&syncToken=", err) ||
			    cs_http_escape(&url, sync_token, err))) ||
	    (page_token && (cs_dynbuf_addstr(&url, "&pageToken=", err) ||
			    cs_http_escape(&url, page_token, err))))
		goto done;
	if (cs_google_call(g, "GET", url.data, NULL, NULL, &resp, err))
		goto done;
	if (resp.status == 410) {
		cs_http_describe("GET", url.data, what, sizeof(what));
		cs_err_set(err, CS_EGONE, false,
			   "Google answered 410 to %s: the sync token is no longer valid, "
			   "a full sync is needed", what);
		goto done;
	}
	if (resp.status != 200) {
		cs_google_api_error(&resp, "GET", url.data, err);
		goto done;
	}
	if (cs_google_parse(&resp, "GET", url.data, &root, err) ||
	    items_of(root, url.data, &items, err))
		goto done;
	json_array_foreach(items, i, item) {
		cs_event *ev = cs_page_add(out, err);

		if (!ev || cs_google_event_from_json(item, ev, err))
			goto done;
	}
	if (take_string(root, "nextPageToken", &out->next_page, err) ||
	    (!out->next_page && take_string(root, "nextSyncToken", &out->sync_token, err)))
		goto done;
	if (!out->next_page && !out->sync_token) {
		cs_http_describe("GET", url.data, what, sizeof(what));
		cs_err_set(err, CS_EPROTO, true,
			   "Google answered %s without nextPageToken or nextSyncToken", what);
		goto done;
	}
	ret = 0;
done:
	if (ret)
		cs_page_release(out);
	json_decref(root);
	cs_dynbuf_release(&url);
	cs_http_response_release(&resp);
	return ret;
}

/* ---- writes ------------------------------------------------------------- */

/* Map a write's answer (the stored event) into *out. */
static int answer_event(const cs_http_response *resp, const char *method,
			const char *url, cs_event *out, cs_err *err)
{
	json_t *root;
	int rc;

	if (cs_google_parse(resp, method, url, &root, err))
		return -1;
	rc = cs_google_event_from_json(root, out, err);
	json_decref(root);
	return rc;
}

/* PUT or PATCH body to url (If-Match: etag when given); 2xx -> *out. */
static int put_event(cs_provider *g, const char *method, const char *url, const char *body,
		     const char *etag, cs_http_response *resp, cs_event *out, cs_err *err)
{
	if (cs_google_call(g, method, url, body, etag, resp, err))
		return -1;
	if (resp->status / 100 == 2)
		return answer_event(resp, method, url, out, err);
	cs_google_api_error(resp, method, url, err);
	if (resp->status == 412)
		return cs_err_prefix(err, "the event changed on Google since etag %.64s",
				     etag ? etag : "(none)");
	if (resp->status == 404 || resp->status == 410)
		return cs_err_prefix(err, "the event is gone from Google");
	return -1;
}

/* GET one event (deleted ones come back cancelled); 404/410 -> CS_ENOTFOUND. */
static int get_event(cs_provider *g, const char *url, cs_http_response *resp, cs_event *out,
		     cs_err *err)
{
	memset(out, 0, sizeof(*out));
	if (cs_google_call(g, "GET", url, NULL, NULL, resp, err))
		return -1;
	if (resp->status != 200)
		return cs_google_api_error(resp, "GET", url, err);
	return answer_event(resp, "GET", url, out, err);
}

/*
 * The insert said 409 duplicate: an earlier attempt got through (or the
 * event was created and later deleted). Return the event with that id as
 * it is (existed: the engine writes the current version when it differs),
 * restoring it when it is cancelled.
 */
static int adopt_existing(cs_provider *g, const char *url, const char *body,
			  cs_http_response *resp, cs_event *out, cs_err *err)
{
	cs_event found;

	if (get_event(g, url, resp, &found, err)) {
		cs_event_release(&found);
		if (err->code != CS_ENOTFOUND)
			return -1;
		return cs_err_set(err, CS_ECONFLICT, false,
				  "Google reported a duplicate on insert but the event is not there "
				  "(the occurrence may already have another exception): %s", err->msg);
	}
	if (!found.cancelled) {
		*out = found;
		out->existed = true;
		return 0;
	}
	/* deleted since: bring it back under its old id */
	{
		char *etag = found.etag ? strdup(found.etag) : NULL;
		int rc;

		cs_event_release(&found);
		if (!etag)
			return oom(err);
		rc = put_event(g, "PUT", url, body, etag, resp, out, err);
		free(etag);
		return rc;
	}
}

static int g_create(cs_provider *g, const char *cal, const cs_event *ev,
		    const char *hub_id, cs_event *out, cs_err *err)
{
	char id[CS_GOOGLE_ID_BUFSZ];
	cs_http_response resp;
	cs_dynbuf url, one;
	json_t *body = NULL;
	char *text = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	cs_dynbuf_init(&one, CS_GOOGLE_URL_CAP);
	cs_http_response_init(&resp);
	if (cs_google_event_id(hub_id, id, err) ||
	    !(body = cs_google_event_to_json(ev, hub_id, err)))
		goto done;
	if (json_object_set_new(body, "id", json_string(id)) ||
	    !(text = json_dumps(body, JSON_COMPACT))) {
		oom(err);
		goto done;
	}
	if (cs_google_events_url(g, &url, cal, NULL, err) ||
	    cs_google_events_url(g, &one, cal, id, err))
		goto done;
	if (cs_google_call(g, "POST", url.data, text, NULL, &resp, err))
		goto done;
	if (resp.status == 409)
		ret = adopt_existing(g, one.data, text, &resp, out, err);
	else if (resp.status / 100 != 2)
		cs_google_api_error(&resp, "POST", url.data, err);
	else
		ret = answer_event(&resp, "POST", url.data, out, err);
done:
	free(text);
	json_decref(body);
	cs_dynbuf_release(&url);
	cs_dynbuf_release(&one);
	cs_http_response_release(&resp);
	return ret;
}

/*
 * A PATCH replaces the attendees array: read the stored one first, so
 * that each attendee who stays keeps the response Google holds.
 */
static int keep_attendees(cs_provider *g, const char *url, json_t *body,
			  cs_http_response *resp, cs_err *err)
{
	json_t *root;
	int rc;

	if (get_json(g, url, resp, &root, err))
		return -1;
	rc = cs_google_keep_attendees(body, json_object_get(root, "attendees"), err);
	json_decref(root);
	return rc;
}

static int g_update(cs_provider *g, const char *cal, const cs_event *ev,
		    cs_event *out, cs_err *err)
{
	cs_http_response resp;
	cs_dynbuf url;
	json_t *body = NULL;
	char *text = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!ev->id || !*ev->id)
		return cs_err_set(err, CS_EINVAL, false, "Google update: the event has no id");
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	cs_http_response_init(&resp);
	if (!(body = cs_google_event_to_json(ev, ev->hub_id, err)) ||
	    cs_google_patch_clears(body, ev, err) ||
	    cs_google_events_url(g, &url, cal, ev->id, err) ||
	    (ev->nattendees && keep_attendees(g, url.data, body, &resp, err)))
		goto done;
	if (!(text = json_dumps(body, JSON_COMPACT))) {
		oom(err);
		goto done;
	}
	ret = put_event(g, "PATCH", url.data, text, ev->etag && *ev->etag ? ev->etag : NULL,
			&resp, out, err);
done:
	free(text);
	json_decref(body);
	cs_dynbuf_release(&url);
	cs_http_response_release(&resp);
	return ret;
}

static int g_get(cs_provider *g, const char *cal, const char *id, cs_event *out, cs_err *err)
{
	cs_http_response resp;
	cs_dynbuf url;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!id || !*id)
		return cs_err_set(err, CS_EINVAL, false, "Google get: no event id given");
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	cs_http_response_init(&resp);
	if (cs_google_events_url(g, &url, cal, id, err) == 0)
		ret = get_event(g, url.data, &resp, out, err);
	cs_dynbuf_release(&url);
	cs_http_response_release(&resp);
	return ret;
}

static int g_remove(cs_provider *g, const char *cal, const char *id,
		    const char *etag, cs_err *err)
{
	cs_http_response resp;
	cs_dynbuf url;
	int ret = -1;

	if (!id || !*id)
		return cs_err_set(err, CS_EINVAL, false, "Google delete: no event id given");
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	cs_http_response_init(&resp);
	if (cs_google_events_url(g, &url, cal, id, err) ||
	    cs_google_call(g, "DELETE", url.data, NULL, etag && *etag ? etag : NULL, &resp, err))
		goto done;
	if (resp.status / 100 == 2 || resp.status == 404 || resp.status == 410) {
		ret = 0;   /* deleted now, or already gone */
	} else {
		cs_google_api_error(&resp, "DELETE", url.data, err);
		if (resp.status == 412)
			cs_err_prefix(err, "the event changed on Google since etag %.64s", etag);
	}
done:
	cs_dynbuf_release(&url);
	cs_http_response_release(&resp);
	return ret;
}

/* events.list without a sync token lists every event, deleted ones too; each has its own etag. */
static unsigned g_caps(const cs_provider *g)
{
	(void)g;
	return CS_CAP_LISTS_ALL;
}

static int g_revoke(cs_provider *g, cs_err *err)
{
	return cs_google_revoke(g, err);
}

const struct cs_provider_ops cs_google_provider = {
	.name = "google",
	/* 600 requests a minute per user per project (Google's default quota) */
	.limits = { .max_in_flight = 0, .per_second = 10, .burst = 20 },
	.open = g_open,
	.close = g_close,
	.caps = g_caps,
	.list_calendars = g_list,
	.fetch = g_fetch,
	.create = g_create,
	.update = g_update,
	.get = g_get,
	.remove = g_remove,
	.revoke = g_revoke,
	.watch = cs_google_watch,
	.unwatch = cs_google_unwatch,
	.hook_path = CS_HOOK_GOOGLE,
};
