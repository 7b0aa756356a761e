/*
 * graph_write.c - create, update, delete and get of the Graph provider,
 * with the exceptions and cancelled occurrences of a series (see
 * graph_write.h).
 */
#include "graph_write.h"

#include <stdlib.h>
#include <string.h>

#include "graph_json.h"
#include "recur.h"
#include "timefmt.h"
#include "banned.h"

#define MAX_EXDATES 1000
#define EXDATE_HORIZON_S (10LL * 366 * 86400)

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* Map a 2xx answer (the stored event) into *out. */
static int answer(const cs_http_response *resp, const char *method, const char *url,
		  cs_event *out, cs_err *err)
{
	json_t *root;
	int rc;

	if (cs_graph_parse(resp, method, url, &root, err))
		return -1;
	rc = cs_graph_event_from_json(root, out, err);
	json_decref(root);
	if (rc == 0 && out->bad)
		return cs_err_set(err, CS_EPROTO, true, "%s", out->bad);
	return rc;
}

/* One write of body (a JSON object) to url; 2xx -> *out (when out is not NULL). */
static int send_json(cs_provider *g, const char *method, const char *url, json_t *body,
		     const char *etag, cs_event *out, cs_err *err)
{
	cs_http_response resp;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc = -1;

	if (body && !text)
		return oom(err);
	cs_http_response_init(&resp);
	if (cs_graph_call(g, method, url, text, etag && *etag ? etag : NULL, &resp, err))
		goto done;
	if (resp.status / 100 != 2) {
		cs_graph_api_error(&resp, method, url, err);
		if (resp.status == 412)
			cs_err_prefix(err, "the event changed on Outlook since etag %.64s", etag);
		goto done;
	}
	rc = out ? answer(&resp, method, url, out, err) : 0;
done:
	free(text);
	cs_http_response_release(&resp);
	return rc;
}

static int event_url(cs_provider *g, cs_dynbuf *url, const char *id, cs_err *err)
{
	if (!id || !*id)
		return cs_err_set(err, CS_EINVAL, false, "Outlook: no event id given");
	return cs_graph_url(g, url, "/me/events/", id, err);
}

int cs_graph_get(cs_provider *g, const char *cal, const char *id, cs_event *out, cs_err *err)
{
	cs_dynbuf url;
	json_t *root = NULL;
	int rc = -1;

	(void)cal;
	memset(out, 0, sizeof(*out));
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (event_url(g, &url, id, err) == 0 && cs_dynbuf_addstr(&url, "?$expand=", err) == 0 &&
	    cs_http_escape(&url, CS_GRAPH_EXPAND, err) == 0 &&
	    cs_graph_get_json(g, url.data, &root, err) == 0)
		rc = cs_graph_event_from_json(root, out, err);
	json_decref(root);
	cs_dynbuf_release(&url);
	return rc;
}

int cs_graph_remove(cs_provider *g, const char *cal, const char *id, const char *etag,
		    cs_err *err)
{
	cs_dynbuf url;
	int rc;

	(void)cal;
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	rc = event_url(g, &url, id, err);
	if (rc == 0 && (rc = send_json(g, "DELETE", url.data, NULL, etag, NULL, err)) &&
	    err->code == CS_ENOTFOUND)
		rc = 0;   /* already gone */
	cs_dynbuf_release(&url);
	return rc;
}

/* ---- occurrences -------------------------------------------------------- */

/*
 * The id of the occurrence of series that starts at start (an instant or,
 * all-day, a date) into *id; NULL when the series has none there (a
 * cancelled one).
 */
static int find_occurrence(cs_provider *g, const char *series, const char *start, bool all_day,
			   char **id, cs_err *err)
{
	char from[CS_TIME_BUFSZ], to[CS_TIME_BUFSZ];
	cs_dynbuf url;
	json_t *root = NULL, *item;
	long long t;
	size_t i;
	int rc = -1;

	*id = NULL;
	if (all_day ? cs_time_parse_date(start, NULL, NULL, NULL, err) :
	    cs_time_parse_rfc3339(start, &t, err))
		return cs_err_prefix(err, "original start of the override");
	if (all_day) {
		int y, m, d;

		cs_time_parse_date(start, &y, &m, &d, NULL);
		t = cs_time_from_civil(y, m, d);
	}
	cs_time_format_utc(t - 14 * 3600, from);   /* an all-day occurrence is midnight somewhere */
	cs_time_format_utc(t + 14 * 3600 + 1, to);
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (event_url(g, &url, series, err) ||
	    cs_dynbuf_printf(&url, err, "/instances?startDateTime=%s&endDateTime=%s", from, to) ||
	    cs_graph_get_json(g, url.data, &root, err))
		goto done;
	json_array_foreach(json_object_get(root, "value"), i, item) {
		const char *orig = json_string_value(json_object_get(item, "originalStart"));
		const char *oid = json_string_value(json_object_get(item, "id"));
		long long o;

		if (!orig || !oid || cs_time_parse_rfc3339(orig, &o, NULL))
			continue;
		if (all_day ? strncmp(orig, start, 10) == 0 : o == t) {
			if (!(*id = strdup(oid))) {
				oom(err);
				goto done;
			}
			break;
		}
	}
	rc = 0;
done:
	json_decref(root);
	cs_dynbuf_release(&url);
	return rc;
}

/* The starts the master's EXDATE lines remove: rule-only expansion minus the full one. */
static int cancelled_starts(const cs_event *ev, long long *out, size_t *n, cs_err *err)
{
	long long *all = NULL, *kept = NULL, start;
	size_t nall = 0, nkept = 0, k = 0;
	cs_dynbuf rule;
	int rc = -1;

	*n = 0;
	if (!ev->recurrence || !strstr(ev->recurrence, "EXDATE"))
		return 0;
	if (ev->all_day) {
		int y, m, d;

		if (cs_time_parse_date(ev->start, &y, &m, &d, err))
			return -1;
		start = cs_time_from_civil(y, m, d);
	} else if (cs_time_parse_rfc3339(ev->start, &start, err)) {
		return -1;
	}
	cs_dynbuf_init(&rule, 1 << 16);
	all = calloc(MAX_EXDATES, sizeof(*all));
	kept = calloc(MAX_EXDATES, sizeof(*kept));
	if (!all || !kept) {
		oom(err);
		goto done;
	}
	for (const char *p = ev->recurrence; *p;) {
		size_t len = strcspn(p, "\n");

		if (strncasecmp(p, "EXDATE", 6) != 0 &&
		    (cs_dynbuf_add(&rule, p, len, err) || cs_dynbuf_addstr(&rule, "\n", err)))
			goto done;
		p += len;
		p += *p == '\n';
	}
	if (cs_recur_expand(rule.data, start, ev->all_day ? "UTC" : ev->timezone, start,
			    start + EXDATE_HORIZON_S, all, MAX_EXDATES, &nall, err) ||
	    cs_recur_expand(ev->recurrence, start, ev->all_day ? "UTC" : ev->timezone, start,
			    start + EXDATE_HORIZON_S, kept, MAX_EXDATES, &nkept, err))
		goto done;
	for (size_t i = 0, j = 0; i < nall; i++) {   /* both sorted */
		while (j < nkept && kept[j] < all[i])
			j++;
		if (j == nkept || kept[j] != all[i])
			out[k++] = all[i];
	}
	*n = k;
	rc = 0;
done:
	free(all);
	free(kept);
	cs_dynbuf_release(&rule);
	return rc;
}

/*
 * Cancel on Outlook each occurrence of master that an EXDATE of ev
 * removes; when one was, *out (the master's answer) is read again, as its
 * etag moved.
 */
static int cancel_occurrences(cs_provider *g, const char *master, const cs_event *ev,
			      cs_event *out, cs_err *err)
{
	size_t cancelled = 0;
	long long *starts = calloc(MAX_EXDATES, sizeof(*starts));
	char when[CS_TIME_BUFSZ], *oid = NULL;
	size_t n = 0;
	int rc = -1;

	if (!starts)
		return oom(err);
	if (cancelled_starts(ev, starts, &n, err))
		goto done;
	for (size_t i = 0; i < n; i++) {
		cs_time_format_utc(starts[i], when);
		if (ev->all_day)
			when[10] = '\0';
		if (find_occurrence(g, master, when, ev->all_day, &oid, err) ||
		    (oid && cs_graph_remove(g, NULL, oid, NULL, err)))
			goto done;
		cancelled += oid != NULL;
		free(oid);
		oid = NULL;
	}
	rc = 0;
	if (cancelled) {   /* master may be out->id: read into a fresh event first */
		cs_event fresh;

		rc = cs_graph_get(g, NULL, master, &fresh, err);
		cs_event_release(out);
		*out = fresh;
	}
done:
	free(oid);
	free(starts);
	return rc;
}

/* An override: PATCH the occurrence it replaces into an exception, or delete it. */
static int write_override(cs_provider *g, const cs_event *ev, cs_event *out, cs_err *err)
{
	cs_dynbuf url;
	json_t *body = NULL;
	char *oid = NULL;
	int rc = -1;

	if (!ev->original_start)
		return cs_err_set(err, CS_EINVAL, false, "Outlook: an override without its original "
				  "start");
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (find_occurrence(g, ev->series_id, ev->original_start, ev->all_day, &oid, err))
		goto done;
	if (!oid) {
		cs_err_set(err, CS_ENOTFOUND, false, "Outlook: the series %.80s has no occurrence at "
			   "%.40s (cancelled there already)", ev->series_id, ev->original_start);
		goto done;
	}
	if (event_url(g, &url, oid, err))
		goto done;
	if (ev->cancelled) {
		rc = cs_graph_remove(g, NULL, oid, NULL, err);
		if (rc == 0 && !(out->id = strdup(oid)))
			rc = oom(err);
		out->cancelled = true;
		goto done;
	}
	if ((body = cs_graph_event_to_json(ev, ev->hub_id, false, err)))
		rc = send_json(g, "PATCH", url.data, body, NULL, out, err);
done:
	json_decref(body);
	free(oid);
	cs_dynbuf_release(&url);
	return rc;
}

static bool same_text(const char *a, const char *b)
{
	return (!a || !*a) ? (!b || !*b) : (b && strcmp(a, b) == 0);
}

/* A retried create came back with the first attempt's event: does it hold other content? */
static bool differs(const cs_event *a, const cs_event *b)
{
	return !same_text(a->title, b->title) || !same_text(a->description, b->description) ||
	       !same_text(a->location, b->location) || !same_text(a->start, b->start) ||
	       !same_text(a->end, b->end) || a->all_day != b->all_day;
}

int cs_graph_create(cs_provider *g, const char *cal, const cs_event *ev, const char *hub_id,
		    cs_event *out, cs_err *err)
{
	cs_dynbuf url;
	json_t *body = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (ev->series_id)
		return write_override(g, ev, out, err);
	if (!cal || !*cal)
		return cs_err_set(err, CS_EINVAL, false, "Outlook: no calendar id given");
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (!(body = cs_graph_event_to_json(ev, hub_id, true, err)) ||
	    cs_graph_url(g, &url, "/me/calendars/", cal, err) ||
	    cs_dynbuf_addstr(&url, "/events", err) ||
	    send_json(g, "POST", url.data, body, NULL, out, err) ||
	    cancel_occurrences(g, out->id, ev, out, err))
		goto done;
	out->existed = differs(out, ev);
	rc = 0;
done:
	json_decref(body);
	cs_dynbuf_release(&url);
	return rc;
}

int cs_graph_update(cs_provider *g, const char *cal, const cs_event *ev, cs_event *out,
		    cs_err *err)
{
	cs_dynbuf url;
	json_t *body = NULL;
	int rc = -1;

	(void)cal;
	memset(out, 0, sizeof(*out));
	cs_dynbuf_init(&url, CS_GRAPH_URL_CAP);
	if (event_url(g, &url, ev->id, err) == 0 &&
	    (body = cs_graph_event_to_json(ev, ev->hub_id, false, err)) &&
	    send_json(g, "PATCH", url.data, body, ev->etag, out, err) == 0)
		rc = ev->series_id ? 0 : cancel_occurrences(g, ev->id, ev, out, err);
	json_decref(body);
	cs_dynbuf_release(&url);
	return rc;
}
