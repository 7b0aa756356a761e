/*
 * ical_read.c - an iCalendar resource -> cs_events (see ical.h for the
 * mapping). libical parses; an item it cannot understand is marked bad,
 * never an error of the page.
 */
#include "ical.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "ical_util.h"
#include "timefmt.h"
#include "utf8.h"
#include "banned.h"

enum { MAP_OK = 0, MAP_BAD = 1, MAP_OOM = -1 };

static int dup_into(char **dst, const char *s)
{
	*dst = NULL;
	if (!s || !*s)
		return MAP_OK;
	*dst = strdup(s);
	return *dst ? MAP_OK : MAP_OOM;
}

/* The value of p, TEXT values unescaped ("a\\, b" -> "a, b"); NULL when absent. */
static const char *value_of(icalproperty *p)
{
	icalvalue *v = p ? icalproperty_get_value(p) : NULL;

	if (!v)
		return NULL;
	if (icalvalue_isa(v) == ICAL_TEXT_VALUE || icalvalue_isa(v) == ICAL_X_VALUE)
		return icalvalue_isa(v) == ICAL_TEXT_VALUE ? icalvalue_get_text(v) : icalvalue_get_x(v);
	return icalproperty_get_value_as_string(p);
}

static const char *text_of(icalcomponent *c, icalproperty_kind kind)
{
	return value_of(icalcomponent_get_first_property(c, kind));
}

/* The value of the X- property name, or NULL. */
static const char *x_value(icalcomponent *c, const char *name)
{
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
		const char *n = icalproperty_get_x_name(p);

		if (n && strcasecmp(n, name) == 0)
			return value_of(p);
	}
	return NULL;
}

static int map_recurrence(icalcomponent *c, cs_event *ev)
{
	static const icalproperty_kind kinds[] = {ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY,
						  ICAL_EXDATE_PROPERTY, ICAL_EXRULE_PROPERTY};
	cs_dynbuf b;
	int rc = MAP_OK;

	cs_dynbuf_init(&b, 1 << 20);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && rc == MAP_OK; k++)
		for (icalproperty *p = icalcomponent_get_first_property(c, kinds[k]);
		     p && rc == MAP_OK; p = icalcomponent_get_next_property(c, kinds[k]))
			if ((b.len && cs_dynbuf_addstr(&b, "\n", NULL)) || cs_ical_line(p, &b))
				rc = MAP_BAD;
	if (rc == MAP_OK && b.len)
		ev->recurrence = cs_dynbuf_detach(&b);
	cs_dynbuf_release(&b);
	return rc;
}

static int map_attendees(icalcomponent *c, cs_event *ev)
{
	int n = icalcomponent_count_properties(c, ICAL_ATTENDEE_PROPERTY);

	if (n <= 0)
		return MAP_OK;
	ev->attendees = calloc((size_t)n, sizeof(char *));
	if (!ev->attendees)
		return MAP_OOM;
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	     p && ev->nattendees < (size_t)n;
	     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		const char *a = icalproperty_get_attendee(p);

		if (a && strncasecmp(a, "mailto:", 7) == 0)
			a += 7;
		if (!a || !*a)
			continue;
		if (!(ev->attendees[ev->nattendees] = strdup(a)))
			return MAP_OOM;
		ev->nattendees++;
	}
	return MAP_OK;
}

static int time_str(struct icaltimetype t, char **out)
{
	char buf[CS_TIME_BUFSZ];

	cs_ical_time_str(t, buf);
	return dup_into(out, buf);
}

/*
 * The end from DTSTART + DURATION (RFC 5545 3.3.6): days and weeks are
 * nominal (wall time in the start's zone), hours, minutes and seconds
 * exact.
 */
static int end_by_duration(struct icaltimetype start, struct icaldurationtype d, char **out)
{
	struct icaltimetype t = start;
	char buf[CS_TIME_BUFSZ];

	icaltime_adjust(&t, (int)(d.days + 7 * d.weeks), 0, 0, 0);
	if (t.is_date) {
		cs_ical_time_str(t, buf);
	} else {
		cs_time_format_utc(cs_ical_instant(t) + (long long)d.hours * 3600 +
				   d.minutes * 60 + d.seconds, buf);
	}
	return dup_into(out, buf);
}

static int map_times(icalcomponent *c, cs_event *ev, char *why, size_t n)
{
	struct icaltimetype start = icalcomponent_get_dtstart(c), end;
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	icalparameter *tz = p ? icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) : NULL;
	icalproperty *dtend = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);
	icalproperty *dur = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY);
	int rc;

	if (icaltime_is_null_time(start) || !icaltime_is_valid_time(start))
		return snprintf(why, n, "DTSTART is missing or not a valid time"), MAP_BAD;
	ev->all_day = start.is_date;
	if (!ev->all_day && tz && dup_into(&ev->timezone, cs_ical_iana(icalparameter_get_tzid(tz))))
		return MAP_OOM;
	if ((rc = time_str(start, &ev->start)))
		return rc;
	if (dtend) {
		end = icalcomponent_get_dtend(c);
		if (icaltime_is_null_time(end) || end.is_date != start.is_date)
			return snprintf(why, n, "DTEND does not match DTSTART"), MAP_BAD;
		rc = time_str(end, &ev->end);
	} else if (dur) {
		struct icaldurationtype d = icalproperty_get_duration(dur);

		if (d.is_neg || icaldurationtype_is_bad_duration(d))
			return snprintf(why, n, "DURATION is negative or not valid"), MAP_BAD;
		rc = end_by_duration(start, d, &ev->end);
	} else {   /* RFC 5545 3.6.1: a day for a date, no length for a date-time */
		end = start;
		if (start.is_date)
			icaltime_adjust(&end, 1, 0, 0, 0);
		rc = time_str(end, &ev->end);
	}
	if (rc)
		return rc;
	if (strcmp(ev->end, ev->start) < 0)
		return snprintf(why, n, "the event ends before it starts"), MAP_BAD;
	return MAP_OK;
}

static int map_override(icalcomponent *c, const char *url, cs_event *ev)
{
	struct icaltimetype rid = icalcomponent_get_recurrenceid(c);
	int rc;

	if (icaltime_is_null_time(rid))
		return dup_into(&ev->id, url);
	if ((rc = time_str(rid, &ev->original_start)) || (rc = dup_into(&ev->series_id, url)))
		return rc;
	return cs_ical_override_id(url, ev->original_start, &ev->id) ? MAP_OOM : MAP_OK;
}

static int map_vevent(icalcomponent *c, const char *url, cs_event *ev, char *why, size_t n)
{
	enum icalproperty_status st = icalcomponent_get_status(c);
	int rc;

	if ((rc = map_override(c, url, ev)) ||
	    (rc = dup_into(&ev->title, text_of(c, ICAL_SUMMARY_PROPERTY))) ||
	    (rc = dup_into(&ev->description, text_of(c, ICAL_DESCRIPTION_PROPERTY))) ||
	    (rc = dup_into(&ev->location, text_of(c, ICAL_LOCATION_PROPERTY))) ||
	    (rc = dup_into(&ev->hub_id, x_value(c, CS_ICAL_HUB_PROP))) ||
	    (rc = dup_into(&ev->written, x_value(c, CS_ICAL_WRITTEN_PROP))))
		return rc;
	if ((rc = map_times(c, ev, why, n)))
		return rc;
	if ((rc = map_recurrence(c, ev)))
		return rc == MAP_BAD ? (snprintf(why, n, "recurrence is too long"), MAP_BAD) : rc;
	if ((rc = map_attendees(c, ev)))
		return rc;
	ev->cancelled = ev->series_id && st == ICAL_STATUS_CANCELLED;
	return dup_into(&ev->status, st == ICAL_STATUS_TENTATIVE ? "tentative" : "confirmed");
}

/* Every text of ev valid UTF-8, or ev is bad. */
static int check_texts(cs_event *ev, char *why, size_t n)
{
	const char *texts[] = {ev->title, ev->description, ev->location, ev->recurrence,
			       ev->hub_id, ev->written};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i] && !cs_utf8_valid(texts[i], strlen(texts[i])))
			return snprintf(why, n, "a text is not valid UTF-8"), MAP_BAD;
	for (size_t i = 0; i < ev->nattendees; i++)
		if (!cs_utf8_valid(ev->attendees[i], strlen(ev->attendees[i])))
			return snprintf(why, n, "an attendee is not valid UTF-8"), MAP_BAD;
	return MAP_OK;
}

/* Replace ev by a bad item: the resource url, its etag and why. */
static int mark_bad(cs_event *ev, const char *url, const char *etag, const char *why)
{
	char msg[400];

	cs_event_release(ev);
	snprintf(msg, sizeof(msg), "%.200s: %s", url, why);
	cs_utf8_fix(msg, sizeof(msg));
	if (dup_into(&ev->id, url) || dup_into(&ev->etag, etag) || dup_into(&ev->bad, msg))
		return MAP_OOM;
	return MAP_OK;
}

/* Is id among the items of page from index first on (this resource's)? */
static bool listed_before(const cs_page *page, size_t first, const char *id)
{
	for (size_t i = first; i + 1 < page->n; i++)
		if (page->items[i].id && strcmp(page->items[i].id, id) == 0)
			return true;
	return false;
}

static int add_event(icalcomponent *vevent, const char *text, const char *url,
		     const char *etag, cs_page *page, size_t first, cs_err *err)
{
	char why[200] = "";
	cs_event *ev = cs_page_add(page, err);
	int rc;

	if (!ev)
		return -1;
	rc = map_vevent(vevent, url, ev, why, sizeof(why));
	if (rc == MAP_OK)
		rc = check_texts(ev, why, sizeof(why));
	if (rc == MAP_OK && listed_before(page, first, ev->id)) {
		snprintf(why, sizeof(why), "a second VEVENT for the same occurrence");
		rc = MAP_BAD;
	}
	if (rc == MAP_OK && (dup_into(&ev->etag, etag) || dup_into(&ev->raw, text)))
		rc = MAP_OOM;
	if (rc == MAP_BAD)
		rc = mark_bad(ev, url, etag, why);
	return rc == MAP_OOM ? cs_err_set(err, CS_ENOMEM, false, "out of memory") : 0;
}

int cs_ical_to_events(const char *text, const char *url, const char *etag, cs_page *page,
		      cs_err *err)
{
	icalcomponent *cal = NULL;
	const char *why = NULL;
	size_t first = page->n;
	int rc = 0;

	if (!text || strlen(text) > CS_ICAL_MAX)
		why = "the resource is empty or too large";
	else if (!cs_utf8_valid(text, strlen(text)))
		why = "the resource is not valid UTF-8";
	else if (cs_ical_parse(text, &cal))
		why = "the resource is not an iCalendar VCALENDAR";
	if (why) {
		cs_event *ev = cs_page_add(page, err);

		if (!ev)
			return -1;
		return mark_bad(ev, url, etag, why) ?
			cs_err_set(err, CS_ENOMEM, false, "out of memory") : 0;
	}
	for (icalcomponent *c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     c && rc == 0; c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		rc = add_event(c, text, url, etag, page, first, err);
	icalcomponent_free(cal);
	return rc;
}
