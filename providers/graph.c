/*
 * graph.c - provider "outlook": Microsoft Graph v1.0 calendars behind the
 * provider interface (provider.h). The reads live here, the writes in
 * graph_write.c, the transport in graph_api.c, the event mapping in
 * graph_json.c, recurrence in graph_recur.c, zone names in graph_zones.c.
 *
 * - list_calendars: GET /me/calendars, every @odata.nextLink page; name,
 *   hexColor, isDefaultCalendar, canEdit.
 * - fetch: a delta round. CALSYNC_GRAPH_DELTA (checked by config.c) chooses the path: `events`
 *   (/me/calendars/{id}/events/delta: every event of the calendar, so a
 *   full round lists all and absence is deletion: CS_CAP_LISTS_ALL) or
 *   `calendarView` (/me/calendars/{id}/calendarView/delta over the
 *   CALSYNC_GRAPH_WINDOW_DAYS before and after now: an item leaving the
 *   window is no deletion, so no CS_CAP_LISTS_ALL, and an @removed item
 *   Outlook still has is skipped; occurrences are read as their series
 *   master, fetched once a page). Only the first
 *   request carries query options; @odata.nextLink is followed (also
 *   through empty pages) as the page token, and @odata.deltaLink is the
 *   next sync token. @removed and isCancelled are deletions; an item
 *   repeated within a page counts once (its last version). 410
 *   SyncStateNotFound / resyncRequired -> CS_EGONE (a full sync).
 * - revoke: Graph has no endpoint to revoke one app's refresh token;
 *   disconnecting forgets the tokens (nothing is sent).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph_api.h"
#include "graph_json.h"
#include "graph_watch.h"
#include "graph_write.h"
#include "graph_zones.h"
#include "timefmt.h"
#include "banned.h"

#define MAX_LIST_PAGES 1000

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

static bool calendar_view(const cs_provider *g)
{
	return g->cfg->graph_delta && strcmp(g->cfg->graph_delta, "calendarView") == 0;
}

static int g_open(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		  cs_err *err)
{
	cs_provider *g;

	*out = NULL;
	if (!creds)
		return cs_err_set(err, CS_EINVAL, false, "Outlook: no credentials given");
	if (cs_graph_zones_load(cfg->windows_zones_file ? cfg->windows_zones_file :
				CS_WINDOWS_ZONES_DEFAULT, err))
		return -1;
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

static unsigned g_caps(const cs_provider *g)
{
	return calendar_view(g) ? 0 : CS_CAP_LISTS_ALL;
}

static int g_revoke(cs_provider *g, cs_err *err)
{
	(void)g;
	(void)err;
	return 0;
}

/* "value" of a collection answer: an array (absent: empty). */
static json_t *values_of(json_t *root, const char *url, cs_err *err)
{
	json_t *v = json_object_get(root, "value");
	char what[300];

	if (json_is_array(v))
		return v;
	cs_http_describe("GET", url, what, sizeof(what));
	cs_err_set(err, CS_EPROTO, true, "Outlook answered %s without a 'value' array", what);
	return NULL;
}

/* ---- list_calendars ----------------------------------------------------- */

static int add_calendar(cs_calendar_list *out, size_t *cap, json_t *item, cs_err *err)
{
	const char *id = json_string_value(json_object_get(item, "id"));
	const char *name = json_string_value(json_object_get(item, "name"));
	const char *color = json_string_value(json_object_get(item, "hexColor"));
	cs_calendar_info *c;

	if (!id || !*id)
		return 0;
	if (!(c = cs_calendar_list_add(out, cap, err)))
		return -1;
	c->id = strdup(id);
	c->name = strdup(name ? name : id);
	c->color = color && *color ? strdup(color) : NULL;
	c->primary = json_is_true(json_object_get(item, "isDefaultCalendar"));
	c->writable = json_is_true(json_object_get(item, "canEdit"));
	return !c->id || !c->name || (color && *color && !c->color) ? oom(err) : 0;
}

static int g_list(cs_provider *g, cs_calendar_list *out, cs_err *err)
{
	cs_dynbuf url;
	json_t *root = NULL, *items, *item;
	const char *next;
	size_t cap = 0, i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (cs_graph_url(g, &url, "/me/calendars?$top=100", NULL, err))
		goto done;
	for (int pages = 0;; pages++) {
		if (pages == MAX_LIST_PAGES) {
			cs_err_set(err, CS_EPROTO, true, "Outlook calendar list: more than %d pages",
				   MAX_LIST_PAGES);
			goto done;
		}
		json_decref(root);
		if (cs_graph_get_json(g, url.data, &root, err) ||
		    !(items = values_of(root, url.data, err)))
			goto done;
		json_array_foreach(items, i, item)
			if (json_is_object(item) && add_calendar(out, &cap, item, err))
				goto done;
		next = json_string_value(json_object_get(root, "@odata.nextLink"));
		if (!next)
			break;
		cs_dynbuf_reset(&url);
		if (cs_dynbuf_addstr(&url, next, err))
			goto done;
	}
	ret = 0;
done:
	if (ret)
		cs_calendar_list_release(out);
	json_decref(root);
	cs_dynbuf_release(&url);
	return ret;
}

/* ---- fetch -------------------------------------------------------------- */

/* The first request of a round: the delta path with its query options. */
static int first_url(cs_provider *g, const char *cal, cs_dynbuf *url, cs_err *err)
{
	char from[CS_TIME_BUFSZ], to[CS_TIME_BUFSZ];
	long long now = (long long)time(NULL), span = g->cfg->graph_window_days * 86400LL;

	if (cs_graph_url(g, url, "/me/calendars/", cal, err))
		return -1;
	if (!calendar_view(g))
		return cs_dynbuf_addstr(url, "/events/delta", err);
	cs_time_format_utc(now - span, from);
	cs_time_format_utc(now + span, to);
	return cs_dynbuf_printf(url, err, "/calendarView/delta?startDateTime=%s&endDateTime=%s",
				from, to);
}

/* An earlier item of the page with this id (a replay within the round), or NULL. */
static cs_event *same_id(cs_page *page, const char *id)
{
	for (size_t i = 0; id && i < page->n; i++)
		if (page->items[i].id && strcmp(page->items[i].id, id) == 0)
			return &page->items[i];
	return NULL;
}

/* calendarView: an occurrence stands for its series, read once per page. */
static int add_master(cs_provider *g, cs_page *out, const char *master_id, cs_err *err)
{
	cs_event ev, *slot;

	if (same_id(out, master_id))
		return 0;
	if (cs_graph_get(g, NULL, master_id, &ev, err)) {
		cs_event_release(&ev);
		return err->code == CS_ENOTFOUND ? 0 : -1;   /* deleted since: its removal follows */
	}
	if (!(slot = cs_page_add(out, err))) {
		cs_event_release(&ev);
		return -1;
	}
	*slot = ev;
	return 0;
}

/* ev into the page (taken over), in place of an earlier copy with its id. */
static int put_item(cs_page *out, cs_event *ev, cs_err *err)
{
	cs_event *slot = same_id(out, ev->id);

	if (slot)
		cs_event_release(slot);   /* replayed: the later version counts */
	else if (!(slot = cs_page_add(out, err))) {
		cs_event_release(ev);
		return -1;
	}
	*slot = *ev;
	return 0;
}

/* A master's cancelled occurrences, each a removed occurrence after it. */
static int add_cancelled(cs_page *out, json_t *item, cs_err *err)
{
	size_t n = json_array_size(json_object_get(item, "cancelledOccurrences"));
	const cs_event *master = same_id(out, json_string_value(json_object_get(item, "id")));
	cs_event ev;

	if (!master || master->bad || !master->start)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (cs_graph_cancelled_from_json(item, master, i, &ev, err) || put_item(out, &ev, err))
			return -1;
		master = same_id(out, json_string_value(json_object_get(item, "id")));
	}
	return 0;
}

/*
 * calendarView: an item that left the window comes as @removed too; only
 * one that Outlook no longer has is a deletion.
 */
static int left_window(cs_provider *g, json_t *item, bool *left, cs_err *err)
{
	const char *id = json_string_value(json_object_get(item, "id"));
	cs_event ev;
	int rc;

	*left = false;
	if (!calendar_view(g) || !id || !json_object_get(item, "@removed"))
		return 0;
	rc = cs_graph_get(g, NULL, id, &ev, err);
	cs_event_release(&ev);
	if (rc == 0)
		*left = true;
	return rc == 0 || err->code == CS_ENOTFOUND ? 0 : -1;
}

static int add_item(cs_provider *g, cs_page *out, json_t *item, cs_err *err)
{
	const char *type = json_string_value(json_object_get(item, "type"));
	cs_event ev;
	bool left;

	if (type && strcmp(type, "occurrence") == 0 && !json_object_get(item, "@removed")) {
		const char *master = json_string_value(json_object_get(item, "seriesMasterId"));

		return master ? add_master(g, out, master, err) : 0;
	}
	if (left_window(g, item, &left, err))
		return -1;
	if (left)
		return 0;   /* still there, outside the window: no news */
	if (cs_graph_event_from_json(item, &ev, err))
		return -1;
	return put_item(out, &ev, err) ? -1 : add_cancelled(out, item, err);
}

static int take_link(json_t *root, const char *key, char **dst, cs_err *err)
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
	cs_dynbuf url;
	json_t *root = NULL, *items, *item;
	char what[300];
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!cal || !*cal)
		return cs_err_set(err, CS_EINVAL, false, "Outlook: no calendar id given");
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (page_token || sync_token) {
		if (cs_dynbuf_addstr(&url, page_token ? page_token : sync_token, err))
			goto done;
	} else if (first_url(g, cal, &url, err)) {
		goto done;
	}
	if (cs_graph_get_json(g, url.data, &root, err)) {
		if (err->code == CS_EGONE)
			cs_err_prefix(err, "the delta state expired, a full sync is needed");
		goto done;
	}
	if (!(items = values_of(root, url.data, err)))
		goto done;
	json_array_foreach(items, i, item)
		if (add_item(g, out, item, err))
			goto done;
	if (take_link(root, "@odata.nextLink", &out->next_page, err) ||
	    (!out->next_page && take_link(root, "@odata.deltaLink", &out->sync_token, err)))
		goto done;
	if (!out->next_page && !out->sync_token) {
		cs_http_describe("GET", url.data, what, sizeof(what));
		cs_err_set(err, CS_EPROTO, true, "Outlook answered %s without @odata.nextLink or "
			   "@odata.deltaLink", what);
		goto done;
	}
	ret = 0;
done:
	if (ret)
		cs_page_release(out);
	json_decref(root);
	cs_dynbuf_release(&url);
	return ret;
}

const struct cs_provider_ops cs_graph_provider = {
	.name = "outlook",
	/* Outlook: 4 concurrent requests per app per mailbox */
	.limits = { .max_in_flight = 4 },
	.open = g_open,
	.close = g_close,
	.caps = g_caps,
	.list_calendars = g_list,
	.fetch = g_fetch,
	.create = cs_graph_create,
	.update = cs_graph_update,
	.get = cs_graph_get,
	.remove = cs_graph_remove,
	.revoke = g_revoke,
	.watch = cs_graph_watch,
	.unwatch = cs_graph_unwatch,
	.hook_path = CS_HOOK_GRAPH,
};
