/*
 * google_json.c - Google Calendar v3 event JSON <-> cs_event (see
 * google_json.h for the mapping decisions). Pure functions: no I/O.
 */
#include "google_json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "timefmt.h"
#include "utf8.h"
#include "banned.h"

int cs_google_event_id(const char *hub_id, char out[CS_GOOGLE_ID_BUFSZ],
		       cs_err *err)
{
	size_t n = 0;

	if (!hub_id)
		return cs_err_set(err, CS_EINVAL, false, "no Hub event id to derive a Google id from");
	out[n++] = 'f';
	out[n++] = 'h';
	for (const char *p = hub_id; *p; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 34)
			goto bad;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != 34)
		goto bad;
	out[n] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return cs_err_set(err, CS_EINVAL, false, "Hub event id '%.64s' is not a UUID", hub_id);
}

/* ---- Google -> cs_event ------------------------------------------------- */

/* Mapping state: MAP_BAD with why[] filled, or MAP_OOM. */
enum { MAP_OK = 0, MAP_BAD = 1, MAP_OOM = -1 };

struct mapper {
	char why[200];
};

__attribute__((format(printf, 2, 3)))
static int bad(struct mapper *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	return MAP_BAD;
}

static int dup_into(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? MAP_OK : MAP_OOM;
}

/* An optional string member; absent or null leaves *dst NULL. */
static int opt_string(struct mapper *m, json_t *item, const char *key, char **dst)
{
	json_t *v = json_object_get(item, key);

	if (!v || json_is_null(v))
		return MAP_OK;
	if (!json_is_string(v))
		return bad(m, "%s is not a string", key);
	return dup_into(dst, json_string_value(v));
}

/*
 * A start/end/originalStartTime object -> a date or a UTC instant.
 * *all_day says which; *tz (may be NULL) gets timeZone of a timed value.
 */
static int map_time(struct mapper *m, json_t *item, const char *key, char **out,
		    bool *all_day, char **tz)
{
	json_t *obj = json_object_get(item, key), *date, *dt, *zone;
	const char *zname;
	char buf[CS_TIME_BUFSZ];
	cs_err err;

	if (!obj || json_is_null(obj))
		return bad(m, "%s is missing", key);
	if (!json_is_object(obj))
		return bad(m, "%s is not an object", key);
	date = json_object_get(obj, "date");
	dt = json_object_get(obj, "dateTime");
	if (date && json_is_null(date))
		date = NULL;
	if (dt && json_is_null(dt))
		dt = NULL;
	if (date && dt)
		return bad(m, "%s has both date and dateTime", key);
	if (date) {
		if (!json_is_string(date))
			return bad(m, "%s.date is not a string", key);
		if (cs_time_parse_date(json_string_value(date), NULL, NULL, NULL, &err))
			return bad(m, "%s.date: %s", key, err.msg);
		*all_day = true;
		return dup_into(out, json_string_value(date));
	}
	if (!dt)
		return bad(m, "%s has neither date nor dateTime", key);
	if (!json_is_string(dt))
		return bad(m, "%s.dateTime is not a string", key);
	zone = json_object_get(obj, "timeZone");
	if (zone && !json_is_null(zone) && !json_is_string(zone))
		return bad(m, "%s.timeZone is not a string", key);
	zname = json_is_string(zone) && *json_string_value(zone) ? json_string_value(zone) : NULL;
	/* without an offset, dateTime is wall time in timeZone (the Event resource allows it) */
	if (cs_time_normalize_in(json_string_value(dt), zname, buf, &err))
		return bad(m, "%s.dateTime: %s", key, err.msg);
	*all_day = false;
	if (tz && zname && dup_into(tz, zname))
		return MAP_OOM;
	return dup_into(out, buf);
}

static int map_recurrence(struct mapper *m, json_t *item, cs_event *ev)
{
	json_t *rec = json_object_get(item, "recurrence"), *line;
	cs_dynbuf b;
	size_t i;

	if (!rec || json_is_null(rec))
		return MAP_OK;
	if (!json_is_array(rec))
		return bad(m, "recurrence is not an array");
	if (json_array_size(rec) == 0)
		return MAP_OK;
	cs_dynbuf_init(&b, 1 << 20);
	json_array_foreach(rec, i, line) {
		if (!json_is_string(line)) {
			cs_dynbuf_release(&b);
			return bad(m, "recurrence[%zu] is not a string", i);
		}
		if ((i && cs_dynbuf_addstr(&b, "\n", NULL)) ||
		    cs_dynbuf_addstr(&b, json_string_value(line), NULL)) {
			cs_dynbuf_release(&b);
			return bad(m, "recurrence is too long");
		}
	}
	ev->recurrence = cs_dynbuf_detach(&b);
	return ev->recurrence ? MAP_OK : MAP_OOM;
}

static int map_attendees(struct mapper *m, json_t *item, cs_event *ev)
{
	json_t *list = json_object_get(item, "attendees"), *a, *email;
	size_t i;

	if (!list || json_is_null(list))
		return MAP_OK;
	if (!json_is_array(list))
		return bad(m, "attendees is not an array");
	if (json_array_size(list) == 0)
		return MAP_OK;
	ev->attendees = calloc(json_array_size(list), sizeof(char *));
	if (!ev->attendees)
		return MAP_OOM;
	json_array_foreach(list, i, a) {
		if (!json_is_object(a))
			return bad(m, "attendees[%zu] is not an object", i);
		email = json_object_get(a, "email");
		if (!email || json_is_null(email))
			continue;   /* nothing calsync can keep */
		if (!json_is_string(email))
			return bad(m, "attendees[%zu].email is not a string", i);
		if (dup_into(&ev->attendees[ev->nattendees], json_string_value(email)))
			return MAP_OOM;
		ev->nattendees++;
	}
	return MAP_OK;
}

static int map_hub_id(struct mapper *m, json_t *item, cs_event *ev)
{
	json_t *ext = json_object_get(item, "extendedProperties"), *priv;
	int rc;

	if (!ext || json_is_null(ext))
		return MAP_OK;
	if (!json_is_object(ext))
		return bad(m, "extendedProperties is not an object");
	priv = json_object_get(ext, "private");
	if (!priv || json_is_null(priv))
		return MAP_OK;
	if (!json_is_object(priv))
		return bad(m, "extendedProperties.private is not an object");
	rc = opt_string(m, priv, CS_GOOGLE_HUB_KEY, &ev->hub_id);
	return rc ? rc : opt_string(m, priv, CS_GOOGLE_WRITTEN_KEY, &ev->written);
}

/* The series and occurrence of an override or a removed occurrence. */
static int map_series(struct mapper *m, json_t *item, cs_event *ev)
{
	bool all_day = false;
	int rc = opt_string(m, item, "recurringEventId", &ev->series_id);

	if (rc)
		return rc;
	if (!json_object_get(item, "originalStartTime") ||
	    json_is_null(json_object_get(item, "originalStartTime")))
		return MAP_OK;
	return map_time(m, item, "originalStartTime", &ev->original_start, &all_day, NULL);
}

static int map_live(struct mapper *m, json_t *item, cs_event *ev)
{
	bool start_all_day = false, end_all_day = false;
	int rc;

	if ((rc = opt_string(m, item, "summary", &ev->title)) ||
	    (rc = opt_string(m, item, "description", &ev->description)) ||
	    (rc = opt_string(m, item, "location", &ev->location)) ||
	    (rc = map_time(m, item, "start", &ev->start, &start_all_day, &ev->timezone)) ||
	    (rc = map_time(m, item, "end", &ev->end, &end_all_day, NULL)))
		return rc;
	if (start_all_day != end_all_day)
		return bad(m, "start and end are not both dates or both date-times");
	ev->all_day = start_all_day;
	if (ev->all_day) {
		free(ev->timezone);   /* an all-day event has no zone in cs_event */
		ev->timezone = NULL;
	}
	if ((rc = map_recurrence(m, item, ev)) || (rc = map_series(m, item, ev)) ||
	    (rc = map_attendees(m, item, ev)) || (rc = map_hub_id(m, item, ev)))
		return rc;
	if (!ev->status)
		return dup_into(&ev->status, "confirmed");
	return MAP_OK;
}

int cs_google_event_from_json(json_t *item, cs_event *out, cs_err *err)
{
	struct mapper m = {{0}};
	char *id = NULL, *etag = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(item)) {
		rc = bad(&m, "the item is not a JSON object");
		goto done;
	}
	if ((rc = opt_string(&m, item, "id", &out->id)))
		goto done;
	if (!out->id || !*out->id) {
		rc = bad(&m, "the item has no id");
		goto done;
	}
	if ((rc = opt_string(&m, item, "etag", &out->etag)) ||
	    (rc = opt_string(&m, item, "status", &out->status)))
		goto done;
	if (out->status && strcmp(out->status, "cancelled") == 0) {
		/* a deletion: only id (and for a removed occurrence the
		 * series and original start) are guaranteed */
		out->cancelled = true;
		if ((rc = map_series(&m, item, out)) == MAP_OK)
			rc = map_hub_id(&m, item, out);
		goto done;
	}
	rc = map_live(&m, item, out);
done:
	if (rc == MAP_OK)
		return 0;
	if (rc == MAP_BAD) {
		char reason[320];

		id = out->id;
		etag = out->etag;
		out->id = out->etag = NULL;
		cs_event_release(out);
		out->id = id;
		out->etag = etag;
		if (id)
			snprintf(reason, sizeof(reason), "Google event '%.80s': %s", id, m.why);
		else
			snprintf(reason, sizeof(reason), "Google event without usable id: %s", m.why);
		cs_utf8_fix(reason, sizeof(reason));   /* the id may have been cut inside a character */
		out->bad = strdup(reason);
		if (out->bad)
			return 0;
	}
	cs_event_release(out);
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* ---- cs_event -> Google ------------------------------------------------- */

/* {date} or {dateTime (UTC), timeZone?} for a time of ev. */
static json_t *time_to_json(const char *what, const char *value, bool all_day,
			    const char *tz, cs_err *err)
{
	char buf[CS_TIME_BUFSZ];
	json_t *o;

	if (!value) {
		cs_err_set(err, CS_EINVAL, false, "event %s is missing", what);
		return NULL;
	}
	if (all_day) {
		if (cs_time_parse_date(value, NULL, NULL, NULL, err)) {
			cs_err_prefix(err, "event %s", what);
			return NULL;
		}
		o = json_pack("{s:s}", "date", value);
	} else {
		if (cs_time_normalize(value, buf, err)) {
			cs_err_prefix(err, "event %s", what);
			return NULL;
		}
		if (tz) {
			json_t *zone = json_string(tz);

			if (!zone) {
				cs_err_set(err, CS_EINVAL, false, "event time zone is not valid UTF-8");
				return NULL;
			}
			o = json_pack("{s:s, s:o}", "dateTime", buf, "timeZone", zone);
		} else {
			o = json_pack("{s:s}", "dateTime", buf);
		}
	}
	if (!o)
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
	return o;
}

static json_t *recurrence_to_json(const char *text)
{
	json_t *arr = json_array();
	const char *p = text;

	while (arr && *p) {
		size_t n = strcspn(p, "\n");
		size_t len = n;

		while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		if (len && json_array_append_new(arr, json_stringn(p, len))) {
			json_decref(arr);
			return NULL;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return arr;
}

static int set_new(json_t *o, const char *key, json_t *v, cs_err *err)
{
	if (!v || json_object_set_new(o, key, v))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	return 0;
}

/* A string member; text that is not UTF-8 is refused by name. */
static int put_str(json_t *o, const char *key, const char *s, cs_err *err)
{
	json_t *v = json_string(s);

	if (!v)
		return cs_err_set(err, CS_EINVAL, false, "event %s is not valid UTF-8", key);
	return set_new(o, key, v, err);
}

static int put_attendees(json_t *o, const cs_event *ev, cs_err *err)
{
	json_t *list = json_array();

	if (set_new(o, "attendees", list, err))
		return -1;
	for (size_t i = 0; i < ev->nattendees; i++) {
		json_t *a = json_object();

		if (!ev->attendees[i])
			continue;
		if (!a || json_array_append_new(list, a))
			return cs_err_set(err, CS_ENOMEM, false, "out of memory");
		if (put_str(a, "email", ev->attendees[i], err))
			return cs_err_prefix(err, "attendee %zu", i);
	}
	return 0;
}

json_t *cs_google_event_to_json(const cs_event *ev, const char *hub_id,
				cs_err *err)
{
	json_t *o = json_object(), *v;
	const char *tz = ev->timezone;
	const char *status = "confirmed";

	if (!o) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		return NULL;
	}
	if (!ev->all_day && !tz && (ev->recurrence || ev->series_id))
		tz = "UTC";   /* Google needs a zone for recurring events */
	if ((ev->title && put_str(o, "summary", ev->title, err)) ||
	    (ev->description && put_str(o, "description", ev->description, err)) ||
	    (ev->location && put_str(o, "location", ev->location, err)))
		goto fail;
	if (!(v = time_to_json("start", ev->start, ev->all_day, tz, err)) ||
	    set_new(o, "start", v, err))
		goto fail;
	if (!(v = time_to_json("end", ev->end, ev->all_day, tz, err)) ||
	    set_new(o, "end", v, err))
		goto fail;
	if (ev->recurrence && *ev->recurrence) {
		if (!(v = recurrence_to_json(ev->recurrence))) {
			cs_err_set(err, CS_EINVAL, false, "event recurrence is not valid UTF-8");
			goto fail;
		}
		if (set_new(o, "recurrence", v, err))
			goto fail;
	}
	if (ev->series_id) {
		if (put_str(o, "recurringEventId", ev->series_id, err))
			goto fail;
		if (!(v = time_to_json("original start", ev->original_start,
				       ev->all_day, tz, err)) ||
		    set_new(o, "originalStartTime", v, err))
			goto fail;
	}
	if (ev->cancelled)
		status = "cancelled";
	else if (ev->status && strcmp(ev->status, "tentative") == 0)
		status = "tentative";
	if (put_str(o, "status", status, err))
		goto fail;
	if (ev->nattendees && put_attendees(o, ev, err))
		goto fail;
	if (hub_id || ev->written) {   /* a patch merges these into the other private keys */
		if (!(v = json_pack("{s:{s:s*, s:s*}}", "private", CS_GOOGLE_HUB_KEY, hub_id,
				    CS_GOOGLE_WRITTEN_KEY, ev->written))) {
			cs_err_set(err, CS_EINVAL, false, "Hub event id is not valid UTF-8");
			goto fail;
		}
		if (set_new(o, "extendedProperties", v, err))
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

int cs_google_patch_clears(json_t *body, const cs_event *ev, cs_err *err)
{
	static const char *const owned[] = {"summary", "description", "location", "recurrence"};

	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (!json_object_get(body, owned[i]) &&
		    json_object_set_new(body, owned[i], json_null()))
			return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (!ev->nattendees && json_object_set_new(body, "attendees", json_array()))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	return 0;
}

/* The object of remote whose email is address (any case), or NULL. */
static json_t *attendee_of(json_t *remote, const char *address)
{
	json_t *a;
	size_t i;

	json_array_foreach(remote, i, a) {
		const char *email = json_string_value(json_object_get(a, "email"));

		if (email && strcasecmp(email, address) == 0)
			return a;
	}
	return NULL;
}

int cs_google_keep_attendees(json_t *body, json_t *remote, cs_err *err)
{
	json_t *list = json_object_get(body, "attendees"), *a;
	size_t i;

	if (!json_is_array(list) || !json_is_array(remote))
		return 0;
	json_array_foreach(list, i, a) {
		const char *email = json_string_value(json_object_get(a, "email"));
		json_t *kept = email ? attendee_of(remote, email) : NULL;

		if (kept && json_array_set_new(list, i, json_deep_copy(kept)))
			return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	return 0;
}
