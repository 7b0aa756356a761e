/*
 * ical_write.c - a cs_event merged into an iCalendar resource (see ical.h):
 * the resource is the base, only what calsync models is replaced.
 */
#include "ical.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "ical_util.h"
#include "timefmt.h"
#include "banned.h"

#define PRODID "-//Family Hub//calsync//EN"

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* The VEVENT of occurrence rid (cs_event form; NULL: the master). */
static icalcomponent *find_vevent(icalcomponent *cal, const char *rid)
{
	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		struct icaltimetype t = icalcomponent_get_recurrenceid(c);
		char buf[CS_TIME_BUFSZ];

		if (icaltime_is_null_time(t)) {
			if (!rid)
				return c;
			continue;
		}
		cs_ical_time_str(t, buf);
		if (rid && strcmp(buf, rid) == 0)
			return c;
	}
	return NULL;
}

static void remove_all(icalcomponent *c, icalproperty_kind kind)
{
	icalproperty *p;

	while ((p = icalcomponent_get_first_property(c, kind))) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
}

static void remove_x(icalcomponent *c, const char *name)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY), *next;

	for (; p; p = next) {
		next = icalcomponent_get_next_property(c, ICAL_X_PROPERTY);
		if (icalproperty_get_x_name(p) && strcasecmp(icalproperty_get_x_name(p), name) == 0) {
			icalcomponent_remove_property(c, p);
			icalproperty_free(p);
		}
	}
}

static void set_x(icalcomponent *c, const char *name, const char *value)
{
	icalproperty *p;

	remove_x(c, name);
	if (!value || !*value)
		return;
	p = icalproperty_new_x(value);
	icalproperty_set_x_name(p, name);
	icalcomponent_add_property(c, p);
}

/* A text property set to value (its parameters kept), or removed when value is empty. */
static void set_text(icalcomponent *c, icalproperty_kind kind, const char *value)
{
	icalproperty *p = icalcomponent_get_first_property(c, kind);

	if (!value || !*value) {
		remove_all(c, kind);
		return;
	}
	if (!p) {
		p = icalproperty_new(kind);
		icalcomponent_add_property(c, p);
	}
	icalproperty_set_value(p, icalvalue_new_text(value));
}

/*
 * The value of a cs_event time s as iCalendar: a date, a wall time in
 * zone (its TZID parameter is the caller's), or UTC.
 */
static int ical_time(const char *s, bool all_day, icaltimezone *zone, struct icaltimetype *t,
		     cs_err *err)
{
	long long u;
	int y, m, d;

	if (all_day) {
		if (cs_time_parse_date(s, &y, &m, &d, err))
			return -1;
		*t = icaltime_null_date();
		t->year = y;
		t->month = m;
		t->day = d;
		return 0;
	}
	if (cs_time_parse_rfc3339(s, &u, err))
		return -1;
	*t = icaltime_from_timet_with_zone((time_t)u, 0,
					   zone ? zone : icaltimezone_get_utc_timezone());
	if (zone)
		t->zone = NULL;   /* written as wall time with a TZID */
	return 0;
}

/* A new date-time property of kind at s, with TZID tzid when zone is set. */
static int time_prop(icalproperty_kind kind, const char *s, bool all_day, icaltimezone *zone,
		     const char *tzid, icalproperty **out, cs_err *err)
{
	struct icaltimetype t;

	*out = NULL;
	if (!s)
		return cs_err_set(err, CS_EINVAL, false, "event time is missing");
	if (ical_time(s, all_day, all_day ? NULL : zone, &t, err))
		return -1;
	*out = icalproperty_new(kind);
	icalproperty_set_value(*out, t.is_date ? icalvalue_new_date(t) : icalvalue_new_datetime(t));
	if (!all_day && zone)
		icalproperty_add_parameter(*out, icalparameter_new_tzid(tzid));
	return 0;
}

static icaltimezone *zone_of(const cs_event *ev)
{
	return ev->timezone && !ev->all_day && strcmp(ev->timezone, "UTC") != 0 ?
		icaltimezone_get_builtin_timezone(ev->timezone) : NULL;
}

static int set_times(icalcomponent *c, const cs_event *ev, cs_err *err)
{
	icaltimezone *zone = zone_of(ev);
	icalproperty *start, *end;

	if (time_prop(ICAL_DTSTART_PROPERTY, ev->start, ev->all_day, zone, ev->timezone, &start,
		      err))
		return cs_err_prefix(err, "start");
	if (time_prop(ICAL_DTEND_PROPERTY, ev->end, ev->all_day, zone, ev->timezone, &end, err)) {
		icalproperty_free(start);
		return cs_err_prefix(err, "end");
	}
	remove_all(c, ICAL_DTSTART_PROPERTY);
	remove_all(c, ICAL_DTEND_PROPERTY);
	remove_all(c, ICAL_DURATION_PROPERTY);
	icalcomponent_add_property(c, start);
	icalcomponent_add_property(c, end);
	return 0;
}

/* The master's recurrence replaced by ev's lines. */
static int set_recurrence(icalcomponent *c, const char *lines, cs_err *err)
{
	static const icalproperty_kind kinds[] = {ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY,
						  ICAL_EXDATE_PROPERTY, ICAL_EXRULE_PROPERTY};
	icalcomponent *tmp = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	char line[4096];

	for (const char *p = lines; p && *p;) {
		size_t n = strcspn(p, "\r\n");
		icalproperty *prop;

		if (n >= sizeof(line)) {
			icalcomponent_free(tmp);
			return cs_err_set(err, CS_EINVAL, false, "a recurrence line is too long");
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + strspn(p + n, "\r\n");
		if (!n)
			continue;
		prop = icalproperty_new_from_string(line);
		if (!prop || (icalproperty_isa(prop) != kinds[0] && icalproperty_isa(prop) != kinds[1] &&
			      icalproperty_isa(prop) != kinds[2] && icalproperty_isa(prop) != kinds[3])) {
			if (prop)
				icalproperty_free(prop);
			icalcomponent_free(tmp);
			return cs_err_set(err, CS_EINVAL, false,
					  "recurrence line '%.40s' is not an RRULE, RDATE or EXDATE", line);
		}
		icalcomponent_add_property(tmp, prop);
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		remove_all(c, kinds[k]);
	for (icalproperty *p; (p = icalcomponent_get_first_property(tmp, ICAL_ANY_PROPERTY));) {
		icalcomponent_remove_property(tmp, p);
		icalcomponent_add_property(c, p);
	}
	icalcomponent_free(tmp);
	return 0;
}

static bool listed(const cs_event *ev, const char *addr)
{
	for (size_t i = 0; i < ev->nattendees; i++)
		if (strcasecmp(ev->attendees[i], addr) == 0)
			return true;
	return false;
}

static const char *address_of(icalproperty *p)
{
	const char *a = icalproperty_get_attendee(p);

	return a && strncasecmp(a, "mailto:", 7) == 0 ? a + 7 : a;
}

/* Attendees that stay keep their parameters (PARTSTAT, CN, ...); the others go. */
static int set_attendees(icalcomponent *c, const cs_event *ev, cs_err *err)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY), *next;
	cs_dynbuf addr;

	for (; p; p = next) {
		next = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY);
		if (!address_of(p) || !listed(ev, address_of(p))) {
			icalcomponent_remove_property(c, p);
			icalproperty_free(p);
		}
	}
	cs_dynbuf_init(&addr, 4096);
	for (size_t i = 0; i < ev->nattendees; i++) {
		bool there = false;

		for (p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p && !there;
		     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY))
			there = address_of(p) && strcasecmp(address_of(p), ev->attendees[i]) == 0;
		if (there)
			continue;
		cs_dynbuf_reset(&addr);
		if (cs_dynbuf_printf(&addr, err, "mailto:%s", ev->attendees[i])) {
			cs_dynbuf_release(&addr);
			return -1;
		}
		icalcomponent_add_property(c, icalproperty_new_attendee(cs_dynbuf_str(&addr)));
	}
	cs_dynbuf_release(&addr);
	return 0;
}

static void stamp(icalcomponent *c, bool existed)
{
	struct icaltimetype now = icaltime_current_time_with_zone(icaltimezone_get_utc_timezone());
	icalproperty *seq = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY);

	if (existed)
		icalcomponent_set_sequence(c, seq ? icalcomponent_get_sequence(c) + 1 : 1);
	icalcomponent_set_dtstamp(c, now);
	remove_all(c, ICAL_LASTMODIFIED_PROPERTY);
	icalcomponent_add_property(c, icalproperty_new_lastmodified(now));
}

/* Is there a VTIMEZONE of tzid in cal? */
static bool has_vtimezone(icalcomponent *cal, const char *tzid)
{
	for (icalcomponent *z = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT); z;
	     z = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT)) {
		icalproperty *p = icalcomponent_get_first_property(z, ICAL_TZID_PROPERTY);

		if (p && icalproperty_get_tzid(p) && strcmp(icalproperty_get_tzid(p), tzid) == 0)
			return true;
	}
	return false;
}

#define MAX_ZONES 16

/* The TZIDs the events use (at most MAX_ZONES, without repeats) into tzids. */
static size_t used_tzids(icalcomponent *cal, const char *tzids[MAX_ZONES])
{
	size_t n = 0;

	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); c;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p;
		     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
			icalparameter *tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
			const char *tzid = tz ? icalparameter_get_tzid(tz) : NULL;
			bool seen = false;

			for (size_t i = 0; tzid && i < n && !seen; i++)
				seen = strcmp(tzids[i], tzid) == 0;
			if (tzid && !seen && n < MAX_ZONES)
				tzids[n++] = tzid;
		}
	return n;
}

/*
 * A VTIMEZONE for every TZID the events use that libical knows (two
 * passes: libical has one iterator per component, so no nested walks),
 * cut to the rules from a year before the series starts.
 */
static void add_vtimezones(icalcomponent *cal)
{
	const char *tzids[MAX_ZONES];
	size_t n = used_tzids(cal, tzids);
	icalcomponent *master = find_vevent(cal, NULL);
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	struct icaltimetype from = icaltime_null_time();

	if (master && !icaltime_is_null_time(icalcomponent_get_dtstart(master))) {
		struct icaltimetype t = icalcomponent_get_dtstart(master);

		from = icaltime_from_timet_with_zone(icaltime_as_timet_with_zone(t, t.zone) -
						     366 * 86400, 0, utc);
	}

	for (size_t i = 0; i < n; i++) {
		icaltimezone *zone = icaltimezone_get_builtin_timezone(tzids[i]);
		icalcomponent *vtz;

		if (!zone || has_vtimezone(cal, tzids[i]) || !icaltimezone_get_component(zone))
			continue;
		vtz = icalcomponent_new_clone(icaltimezone_get_component(zone));
		remove_all(vtz, ICAL_TZID_PROPERTY);
		icalcomponent_add_property(vtz, icalproperty_new_tzid(tzids[i]));
		if (!icaltime_is_null_time(from))
			icaltimezone_truncate_vtimezone(vtz, from, icaltime_null_time(), 0);
		icalcomponent_add_component(cal, vtz);
	}
}

/*
 * The occurrence rid as a property of kind in the master's form (a date,
 * a wall time with the master's TZID, or UTC).
 */
static int occurrence_prop(icalcomponent *cal, icalcomponent *master, icalproperty_kind kind,
			   const char *rid, icalproperty **out, cs_err *err)
{
	icalproperty *dt = icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);
	icalparameter *tz = dt ? icalproperty_get_first_parameter(dt, ICAL_TZID_PARAMETER) : NULL;
	const char *tzid = tz ? icalparameter_get_tzid(tz) : NULL;
	icaltimezone *zone = NULL;
	bool all_day = icalcomponent_get_dtstart(master).is_date;

	if (tzid && !(zone = icalcomponent_get_timezone(cal, tzid)) && cs_ical_iana(tzid))
		zone = icaltimezone_get_builtin_timezone(cs_ical_iana(tzid));
	return time_prop(kind, rid, all_day, zone, tzid, out, err);
}

static int new_override(icalcomponent *cal, icalcomponent *master, const char *rid,
			icalcomponent **out, cs_err *err)
{
	icalproperty *p;

	*out = NULL;
	if (!master)
		return cs_err_set(err, CS_ENOTFOUND, false,
				  "the series of the occurrence is not in its resource");
	if (occurrence_prop(cal, master, ICAL_RECURRENCEID_PROPERTY, rid, &p, err))
		return cs_err_prefix(err, "original start");
	*out = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalcomponent_set_uid(*out, icalcomponent_get_uid(master));
	icalcomponent_add_property(*out, p);
	icalcomponent_add_component(cal, *out);
	return 0;
}

static int cancel_in(icalcomponent *cal, const char *rid, cs_err *err)
{
	icalcomponent *master = find_vevent(cal, NULL), *over = find_vevent(cal, rid);
	icalproperty *ex;

	if (!master)
		return cs_err_set(err, CS_ENOTFOUND, false,
				  "the series of the occurrence is not in its resource");
	if (over) {
		icalcomponent_remove_component(cal, over);
		icalcomponent_free(over);
	}
	if (occurrence_prop(cal, master, ICAL_EXDATE_PROPERTY, rid, &ex, err))
		return cs_err_prefix(err, "removed occurrence");
	icalcomponent_add_property(master, ex);
	stamp(master, true);
	return 0;
}

static int open_base(const char *base, icalcomponent **cal, cs_err *err)
{
	if (base) {
		if (cs_ical_parse(base, cal))
			return cs_err_set(err, CS_EINVAL, false,
					  "the stored iCalendar resource does not parse");
		return 0;
	}
	*cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(*cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(*cal, icalproperty_new_prodid(PRODID));
	return 0;
}

static int finish(icalcomponent *cal, char **out, cs_err *err)
{
	add_vtimezones(cal);
	*out = icalcomponent_as_ical_string_r(cal);
	icalcomponent_free(cal);
	if (!*out)
		return oom(err);
	if (strlen(*out) > CS_ICAL_MAX) {
		free(*out);
		*out = NULL;
		return cs_err_set(err, CS_EINVAL, false, "the iCalendar resource would be too large");
	}
	return 0;
}

static int merge_into(icalcomponent *cal, const char *uid, const cs_event *ev,
		      const char *hub_id, cs_err *err)
{
	icalcomponent *master = find_vevent(cal, NULL), *c;
	bool existed;

	if (ev->series_id && ev->cancelled)
		return cancel_in(cal, ev->original_start, err);
	c = ev->series_id ? find_vevent(cal, ev->original_start) : master;
	existed = c != NULL;
	if (!c && ev->series_id && new_override(cal, master, ev->original_start, &c, err))
		return -1;
	if (!c) {
		if (!uid)
			return cs_err_set(err, CS_EINVAL, false, "a new event needs a UID");
		c = icalcomponent_new(ICAL_VEVENT_COMPONENT);
		icalcomponent_set_uid(c, uid);
		icalcomponent_add_component(cal, c);
	}
	set_text(c, ICAL_SUMMARY_PROPERTY, ev->title);
	set_text(c, ICAL_DESCRIPTION_PROPERTY, ev->description);
	set_text(c, ICAL_LOCATION_PROPERTY, ev->location);
	if (set_times(c, ev, err) || (!ev->series_id && set_recurrence(c, ev->recurrence, err)) ||
	    set_attendees(c, ev, err))
		return -1;
	if (ev->status && strcmp(ev->status, "tentative") == 0)
		icalcomponent_set_status(c, ICAL_STATUS_TENTATIVE);
	else if (icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY))
		icalcomponent_set_status(c, ICAL_STATUS_CONFIRMED);
	set_x(c, CS_ICAL_HUB_PROP, hub_id ? hub_id : ev->hub_id);
	set_x(c, CS_ICAL_WRITTEN_PROP, ev->written);
	stamp(c, existed);
	return 0;
}

int cs_ical_merge(const char *base, const char *uid, const cs_event *ev, const char *hub_id,
		  char **out, cs_err *err)
{
	icalcomponent *cal;

	*out = NULL;
	if (ev->series_id && !ev->original_start)
		return cs_err_set(err, CS_EINVAL, false, "an override without its original start");
	if (open_base(base, &cal, err))
		return -1;
	if (merge_into(cal, uid, ev, hub_id, err)) {
		icalcomponent_free(cal);
		return -1;
	}
	return finish(cal, out, err);
}

int cs_ical_cancel(const char *base, const char *original_start, char **out, cs_err *err)
{
	icalcomponent *cal;

	*out = NULL;
	if (open_base(base, &cal, err))
		return -1;
	if (!base || cancel_in(cal, original_start, err)) {
		icalcomponent_free(cal);
		return base ? -1 : cs_err_set(err, CS_EINVAL, false, "no resource to cancel in");
	}
	return finish(cal, out, err);
}
