/*
 * graph_json.c - Graph event JSON <-> cs_event (see graph_json.h for the
 * mapping decisions). Pure functions: no I/O.
 */
#include "graph_json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_recur.h"
#include "graph_zones.h"
#include "timefmt.h"
#include "utf8.h"
#include "banned.h"

int cs_graph_transaction_id(const char *hub_id, char out[CS_GRAPH_TXN_BUFSZ], cs_err *err)
{
	size_t n = 2;

	out[0] = 'f';
	out[1] = 'h';
	for (const char *p = hub_id ? hub_id : ""; *p; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 34)
			break;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
	if (n == 34 && hub_id && strlen(hub_id) <= 36)
		return 0;
	out[0] = '\0';
	return cs_err_set(err, CS_EINVAL, false, "Hub event id '%.64s' is not a UUID",
			  hub_id ? hub_id : "(none)");
}

/* ---- Graph -> cs_event -------------------------------------------------- */

struct reader {
	json_t *item;
	cs_event *ev;
	char why[240];
	bool oom;
};

__attribute__((format(printf, 2, 3)))
static int why(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int keep(struct reader *r, char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	if (*dst)
		return 0;
	r->oom = true;
	return -1;
}

/* A string at obj.key (or obj.key.sub); absent/null is fine, another type is not. */
static int text_at(struct reader *r, json_t *obj, const char *key, const char *sub, char **dst)
{
	json_t *v = json_object_get(obj, key);

	if (v && sub && json_is_object(v))
		v = json_object_get(v, sub);
	else if (v && sub && !json_is_null(v))
		return why(r, "%s is not an object", key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return why(r, "%s%s%s is not a string", key, sub ? "." : "", sub ? sub : "");
	return keep(r, dst, json_string_value(v));
}

/* A dateTimeTimeZone {dateTime, timeZone} -> UTC instant or (all_day) its date. */
static int read_time(struct reader *r, const char *key, bool all_day, char **dst)
{
	json_t *o = json_object_get(r->item, key);
	const char *dt = json_string_value(json_object_get(o, "dateTime"));
	const char *zone = json_string_value(json_object_get(o, "timeZone"));
	const char *iana;
	char buf[CS_TIME_BUFSZ];
	cs_err err;

	if (!json_is_object(o) || !dt)
		return why(r, "%s has no dateTime", key);
	if (all_day) {
		if (strlen(dt) < 10 || cs_time_parse_date((snprintf(buf, 11, "%s", dt), buf),
							  NULL, NULL, NULL, &err))
			return why(r, "%s.dateTime '%.40s' does not start with a date", key, dt);
		return keep(r, dst, buf);
	}
	iana = cs_graph_zone_to_iana(zone ? zone : "UTC", &err);
	if (!iana)
		return why(r, "%s.timeZone: %s", key, err.msg);
	if (cs_time_normalize_in(dt, iana, buf, &err))
		return why(r, "%s.dateTime: %s", key, err.msg);
	return keep(r, dst, buf);
}

/* The event's own zone: originalStartTimeZone, else a start.timeZone that is not UTC. */
static int read_zone(struct reader *r)
{
	const char *zone = json_string_value(json_object_get(r->item, "originalStartTimeZone"));
	const char *iana;

	if (!zone || strcmp(zone, "UTC") == 0 || strncmp(zone, "tzone://", 8) == 0)
		zone = json_string_value(json_object_get(json_object_get(r->item, "start"),
							 "timeZone"));
	if (!zone || strcmp(zone, "UTC") == 0)
		return 0;
	iana = cs_graph_zone_to_iana(zone, NULL);
	return iana ? keep(r, &r->ev->timezone, iana) : 0;   /* unknown: no zone, times stay exact */
}

static int read_attendees(struct reader *r)
{
	json_t *list = json_object_get(r->item, "attendees"), *a;
	size_t i;

	if (!list || json_is_null(list) || (json_is_array(list) && !json_array_size(list)))
		return 0;
	if (!json_is_array(list))
		return why(r, "attendees is not an array");
	r->ev->attendees = calloc(json_array_size(list), sizeof(char *));
	if (!r->ev->attendees) {
		r->oom = true;
		return -1;
	}
	json_array_foreach(list, i, a) {
		const char *addr = json_string_value(json_object_get(json_object_get(a, "emailAddress"),
								     "address"));

		if (!addr || !*addr)
			continue;   /* nothing calsync can keep */
		if (keep(r, &r->ev->attendees[r->ev->nattendees], addr))
			return -1;
		r->ev->nattendees++;
	}
	return 0;
}

/*
 * The Hub id of an event calsync created, from its transactionId ("fh" and
 * 32 hex digits): delta rounds carry no extended properties ($expand is
 * not supported there), but they carry transactionId.
 */
static int hub_id_of_transaction(struct reader *r)
{
	const char *t = json_string_value(json_object_get(r->item, "transactionId"));
	char id[37];
	size_t n = 0;

	if (!t || strlen(t) != 34 || strncmp(t, "fh", 2) != 0)
		return 0;
	for (const char *p = t + 2; *p; p++) {
		if (!isxdigit((unsigned char)*p))
			return 0;
		if (n == 8 || n == 13 || n == 18 || n == 23)
			id[n++] = '-';
		id[n++] = (char)tolower((unsigned char)*p);
	}
	id[n] = '\0';
	return keep(r, &r->ev->hub_id, id);
}

static int read_props(struct reader *r)
{
	json_t *props = json_object_get(r->item, "singleValueExtendedProperties"), *p;
	size_t i;

	json_array_foreach(props, i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));
		const char *value = json_string_value(json_object_get(p, "value"));

		if (!id || !value)
			continue;
		if (strcasecmp(id, CS_GRAPH_HUB_PROP) == 0 && keep(r, &r->ev->hub_id, value))
			return -1;
		if (strcasecmp(id, CS_GRAPH_WRITTEN_PROP) == 0 && keep(r, &r->ev->written, value))
			return -1;
	}
	return r->ev->hub_id ? 0 : hub_id_of_transaction(r);
}

static int read_recurrence(struct reader *r)
{
	json_t *rec = json_object_get(r->item, "recurrence");
	cs_err err;

	if (!rec || json_is_null(rec))
		return 0;
	if (cs_graph_rrule_from_json(rec, r->ev->all_day, r->ev->timezone, &r->ev->recurrence, &err))
		return err.code == CS_ENOMEM ? (r->oom = true, -1) : why(r, "%s", err.msg);
	return 0;
}

static int read_series(struct reader *r)
{
	const char *orig = json_string_value(json_object_get(r->item, "originalStart"));
	char buf[CS_TIME_BUFSZ];
	cs_err err;

	if (text_at(r, r->item, "seriesMasterId", NULL, &r->ev->series_id) || !r->ev->series_id ||
	    !orig)
		return r->ev->series_id && !orig ? why(r, "an exception without originalStart") : 0;
	if (cs_time_normalize(orig, buf, &err))
		return why(r, "originalStart: %s", err.msg);
	if (r->ev->all_day)
		buf[10] = '\0';
	return keep(r, &r->ev->original_start, buf);
}

static int read_live(struct reader *r)
{
	cs_event *ev = r->ev;
	json_t *all_day = json_object_get(r->item, "isAllDay");
	const char *show = json_string_value(json_object_get(r->item, "showAs"));

	if (all_day && !json_is_boolean(all_day) && !json_is_null(all_day))
		return why(r, "isAllDay is not a boolean");
	ev->all_day = json_is_true(all_day);
	if (text_at(r, r->item, "subject", NULL, &ev->title) ||
	    text_at(r, r->item, "body", "content", &ev->description) ||
	    text_at(r, r->item, "location", "displayName", &ev->location) ||
	    (!ev->all_day && read_zone(r)) ||
	    read_time(r, "start", ev->all_day, &ev->start) ||
	    read_time(r, "end", ev->all_day, &ev->end) ||
	    read_recurrence(r) || read_series(r) || read_attendees(r) || read_props(r))
		return -1;
	if (ev->description && !*ev->description) {
		free(ev->description);
		ev->description = NULL;
	}
	if (ev->location && !*ev->location) {
		free(ev->location);
		ev->location = NULL;
	}
	return keep(r, &ev->status, show && strcmp(show, "tentative") == 0 ? "tentative" :
						   "confirmed");
}

int cs_graph_event_from_json(json_t *item, cs_event *out, cs_err *err)
{
	struct reader r = {.item = item, .ev = out};
	char *id, *etag, reason[400];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(item))
		rc = why(&r, "the item is not a JSON object");
	else if (text_at(&r, item, "id", NULL, &out->id))
		rc = -1;
	else if (!out->id || !*out->id)
		rc = why(&r, "the item has no id");
	else if (text_at(&r, item, "@odata.etag", NULL, &out->etag))
		rc = -1;
	else if (json_object_get(item, "@removed") || json_is_true(json_object_get(item, "isCancelled")))
		rc = (out->cancelled = true, read_series(&r));
	else
		rc = read_live(&r);
	if (rc == 0)
		return 0;
	if (!r.oom) {
		id = out->id;
		etag = out->etag;
		out->id = out->etag = NULL;
		cs_event_release(out);
		out->id = id;
		out->etag = etag;
		snprintf(reason, sizeof(reason), "Outlook event '%.80s': %s", id ? id : "(no id)", r.why);
		cs_utf8_fix(reason, sizeof(reason));
		if ((out->bad = strdup(reason)))
			return 0;
	}
	cs_event_release(out);
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

int cs_graph_occurrence_start(const char *occurrence_id, const char *master_start,
			      const char *tzid, bool all_day, char buf[40], cs_err *err)
{
	const char *date = occurrence_id ? strrchr(occurrence_id, '.') : NULL;
	cs_walltime wt, at;
	long long t, s;

	if (!date || strncmp(occurrence_id, "OID.", 4) != 0 ||
	    cs_time_parse_date(date + 1, &wt.year, &wt.month, &wt.day, NULL))
		return cs_err_set(err, CS_EINVAL, false, "'%.80s' is not an occurrence id",
				  occurrence_id ? occurrence_id : "");
	if (all_day) {
		snprintf(buf, 40, "%s", date + 1);
		return 0;
	}
	if (cs_time_parse_rfc3339(master_start, &s, err) ||
	    cs_time_to_local(s, tzid ? tzid : "UTC", &at, err))
		return -1;
	wt.hour = at.hour;
	wt.minute = at.minute;
	wt.second = at.second;
	if (cs_time_from_local(&wt, tzid ? tzid : "UTC", &t, err))
		return -1;
	cs_time_format_utc(t, buf);
	return 0;
}

int cs_graph_cancelled_from_json(json_t *item, const cs_event *master, size_t i, cs_event *out,
				 cs_err *err)
{
	const char *oid = json_string_value(json_array_get(json_object_get(item,
								       "cancelledOccurrences"), i));
	char start[40], reason[300];
	cs_err why_not;

	memset(out, 0, sizeof(*out));
	if (!oid || cs_graph_occurrence_start(oid, master->start, master->timezone, master->all_day,
					      start, &why_not)) {
		snprintf(reason, sizeof(reason), "Outlook event '%.80s': cancelledOccurrences[%zu] is "
			 "not an occurrence id", master->id, i);
		cs_utf8_fix(reason, sizeof(reason));
		out->bad = strdup(reason);
		return out->bad ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	out->cancelled = true;
	out->all_day = master->all_day;
	out->id = strdup(oid);
	out->series_id = strdup(master->id);
	out->original_start = strdup(start);
	if (out->id && out->series_id && out->original_start)
		return 0;
	cs_event_release(out);
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* ---- cs_event -> Graph -------------------------------------------------- */

static int set(json_t *o, const char *key, json_t *v, cs_err *err)
{
	if (!v)
		return cs_err_set(err, CS_EINVAL, false, "event %s is not valid UTF-8", key);
	if (json_object_set_new(o, key, v))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	return 0;
}

/* As set(), for a value whose maker already said why it is NULL. */
static int set_made(json_t *o, const char *key, json_t *v, cs_err *err)
{
	return v ? set(o, key, v, err) : -1;
}

/* {dateTime: wall time in the event's zone, timeZone: its Windows name}. */
static json_t *time_to_json(const cs_event *ev, const char *what, const char *value,
			    const char *zone, cs_err *err)
{
	char wall[CS_TIME_BUFSZ];
	long long t;

	if (!value) {
		cs_err_set(err, CS_EINVAL, false, "event %s is missing", what);
		return NULL;
	}
	if (ev->all_day) {
		if (cs_time_parse_date(value, NULL, NULL, NULL, err)) {
			cs_err_prefix(err, "event %s", what);
			return NULL;
		}
		snprintf(wall, sizeof(wall), "%s", value);
		snprintf(wall + 10, sizeof(wall) - 10, "T00:00:00");
	} else {
		if (cs_time_parse_rfc3339(value, &t, err) ||
		    cs_time_format_local(t, strcmp(zone, "UTC") ? ev->timezone : "UTC", wall, err)) {
			cs_err_prefix(err, "event %s", what);
			return NULL;
		}
		wall[19] = '\0';   /* without the offset: Graph reads it in timeZone */
	}
	return json_pack("{s:s, s:s}", "dateTime", wall, "timeZone", zone);
}

static int put_recurrence(json_t *o, const cs_event *ev, const char *zone, cs_err *err)
{
	char date[CS_TIME_BUFSZ];
	json_t *start = json_object_get(o, "start");

	if (ev->series_id)
		return 0;   /* an exception has its series' recurrence */
	if (!ev->recurrence || !*ev->recurrence)
		return set(o, "recurrence", json_null(), err);
	snprintf(date, sizeof(date), "%.10s", json_string_value(json_object_get(start, "dateTime")));
	return set_made(o, "recurrence", cs_graph_rrule_to_json(ev->recurrence, date, zone,
							   ev->timezone, err), err);
}

static int put_attendees(json_t *o, const cs_event *ev, cs_err *err)
{
	json_t *list = json_array();

	if (set(o, "attendees", list, err))
		return -1;
	for (size_t i = 0; i < ev->nattendees; i++)
		if (ev->attendees[i] &&
		    json_array_append_new(list, json_pack("{s:{s:s}, s:s}", "emailAddress", "address",
							  ev->attendees[i], "type", "required")))
			return cs_err_set(err, CS_EINVAL, false, "attendee %zu is not valid UTF-8", i);
	return 0;
}

static int put_props(json_t *o, const cs_event *ev, const char *hub_id, cs_err *err)
{
	json_t *list = json_array();

	if (set(o, "singleValueExtendedProperties", list, err))
		return -1;
	if ((hub_id && json_array_append_new(list, json_pack("{s:s, s:s}", "id", CS_GRAPH_HUB_PROP,
							     "value", hub_id))) ||
	    (ev->written && json_array_append_new(list, json_pack("{s:s, s:s}", "id",
								   CS_GRAPH_WRITTEN_PROP, "value",
								   ev->written))))
		return cs_err_set(err, CS_EINVAL, false, "Hub event id is not valid UTF-8");
	return 0;
}

json_t *cs_graph_event_to_json(const cs_event *ev, const char *hub_id, bool create,
			       cs_err *err)
{
	const char *zone = ev->timezone ? cs_graph_zone_to_windows(ev->timezone) : NULL;
	char txn[CS_GRAPH_TXN_BUFSZ];
	json_t *o = json_object();

	if (!o) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		return NULL;
	}
	if (!zone)
		zone = "UTC";
	if (set(o, "subject", json_string(ev->title ? ev->title : ""), err) ||
	    set(o, "body", json_pack("{s:s, s:s}", "contentType", "text", "content",
				     ev->description ? ev->description : ""), err) ||
	    set(o, "location", json_pack("{s:s}", "displayName", ev->location ? ev->location : ""),
		err) ||
	    set(o, "isAllDay", json_boolean(ev->all_day), err) ||
	    set_made(o, "start", time_to_json(ev, "start", ev->start, zone, err), err) ||
	    set_made(o, "end", time_to_json(ev, "end", ev->end, zone, err), err) ||
	    put_recurrence(o, ev, zone, err) || put_attendees(o, ev, err) ||
	    set(o, "showAs", json_string(ev->status && strcmp(ev->status, "tentative") == 0 ?
					 "tentative" : "busy"), err) ||
	    put_props(o, ev, hub_id, err))
		goto fail;
	if (create && (cs_graph_transaction_id(hub_id, txn, err) ||
		       set(o, "transactionId", json_string(txn), err)))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}
