/*
 * recur.c - occurrences of an event in a window (see recur.h). The
 * recurrence lines are read by libical as the properties of one VEVENT
 * (its parser splits a comma-separated EXDATE or RDATE into one property
 * per value); only RRULE, RDATE, EXDATE and EXRULE lines are taken, so a
 * line cannot end the component early or bring in another.
 */
#include "recur.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "dynbuf.h"
#include "banned.h"

#define RECURRENCE_MAX (64 * 1024)  /* the recurrence text read at most */
#define VALUE_SLACK_S (2 * 86400)   /* a date value this far outside may still be inside */

struct expansion {
	long long dtstart, from, to;
	icaltimezone *zone;
	long long *out;
	size_t cap, n;
	long long *ex;                  /* the excluded instants, sorted */
	size_t nex;
};

static icaltimezone *builtin_zone(const char *tzid)
{
	return tzid && *tzid ? icaltimezone_get_builtin_timezone(tzid) : NULL;
}

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void add(struct expansion *x, long long t)
{
	if (t < x->from || t >= x->to || x->n == x->cap ||
	    (x->nex && bsearch(&t, x->ex, x->nex, sizeof(*x->ex), by_value)))
		return;
	x->out[x->n++] = t;
}

/*
 * The instant of an RDATE/EXDATE value: UTC, in its TZID, or in the
 * event's zone. False when the value is far outside the window (never
 * converted: zone math for the year 9999 is slow) or empty.
 */
static bool value_instant(const struct expansion *x, icalproperty *p, struct icaltimetype t,
			  long long *out)
{
	icalparameter *tzid = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	icaltimezone *z = tzid ? builtin_zone(icalparameter_get_tzid(tzid)) : NULL;
	long long wall;

	if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t))
		return false;
	wall = (long long)icaltime_as_timet(t);
	if (wall < x->from - VALUE_SLACK_S || wall >= x->to + VALUE_SLACK_S)
		return false;
	if (icaltime_is_utc(t))
		z = icaltimezone_get_utc_timezone();
	*out = (long long)icaltime_as_timet_with_zone(t, z ? z : x->zone);
	return true;
}

static struct icaltimetype rdate_time(icalproperty *p)
{
	struct icaldatetimeperiodtype d = icalproperty_get_rdate(p);

	return icaltime_is_null_time(d.time) ? d.period.start : d.time;
}

/* Seconds of one step of a SECONDLY, MINUTELY or HOURLY rule; 0 for longer periods. */
static long long short_period(struct icalrecurrencetype rule)
{
	long long unit = rule.freq == ICAL_SECONDLY_RECURRENCE ? 1 :
			 rule.freq == ICAL_MINUTELY_RECURRENCE ? 60 :
			 rule.freq == ICAL_HOURLY_RECURRENCE ? 3600 : 0;

	return unit * (rule.interval > 0 ? rule.interval : 1);
}

static bool has(const short *list)
{
	return list[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/*
 * Refuse what RFC 5545 (3.3.10) says MUST NOT be, and what libical would
 * scan for ever inside one step: a SECONDLY or MINUTELY rule limited to
 * some dates (it tries every second or minute until one matches), or a
 * shorter-than-daily COUNT rule that starts more than CS_RECUR_SCAN_MAX of
 * its periods before the window (it must be walked from DTSTART).
 */
static int check_rule(const struct expansion *x, struct icalrecurrencetype r, long long period,
		      cs_err *err)
{
	bool numbered_day = false, fine = r.freq == ICAL_SECONDLY_RECURRENCE ||
					  r.freq == ICAL_MINUTELY_RECURRENCE;
	const char *why = NULL;

	for (int i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
		numbered_day = numbered_day || icalrecurrencetype_day_position(r.by_day[i]) != 0;
	if (numbered_day && r.freq != ICAL_MONTHLY_RECURRENCE && r.freq != ICAL_YEARLY_RECURRENCE)
		why = "a numbered BYDAY needs FREQ=MONTHLY or YEARLY";
	else if (has(r.by_week_no) && r.freq != ICAL_YEARLY_RECURRENCE)
		why = "BYWEEKNO needs FREQ=YEARLY";
	else if (has(r.by_year_day) && (r.freq == ICAL_DAILY_RECURRENCE ||
					r.freq == ICAL_WEEKLY_RECURRENCE ||
					r.freq == ICAL_MONTHLY_RECURRENCE))
		why = "BYYEARDAY does not go with FREQ=DAILY, WEEKLY or MONTHLY";
	else if (has(r.by_month_day) && r.freq == ICAL_WEEKLY_RECURRENCE)
		why = "BYMONTHDAY does not go with FREQ=WEEKLY";
	else if (fine && (has(r.by_month) || has(r.by_month_day) || has(r.by_year_day) ||
			  has(r.by_set_pos)))
		why = "a SECONDLY or MINUTELY rule limited to dates is not expanded";
	else if (period && r.count > 0 && (x->from - x->dtstart) / period > CS_RECUR_SCAN_MAX)
		why = "a COUNT rule shorter than daily that starts that long before the window"
		      " is not expanded";
	return why ? cs_err_set(err, CS_EINVAL, false, "recurrence: %s", why) : 0;
}

/*
 * Expand one RRULE. Without COUNT, a window after DTSTART is reached
 * without walking to it: libical's set_start keeps the phase of DAILY
 * and longer rules; a shorter rule starts instead from its first step (in
 * wall time) at the window, which is the same series - every step keeps
 * DTSTART's phase, and its minute and second where the period is whole
 * minutes or hours. A COUNT rule is walked from DTSTART.
 */
static int expand_rule(struct expansion *x, struct icalrecurrencetype rule, cs_err *err)
{
	struct icaltimetype dt = icaltime_from_timet_with_zone((time_t)x->dtstart, 0, x->zone);
	struct icaltimetype from = icaltime_from_timet_with_zone((time_t)x->from, 0, x->zone);
	bool jump = rule.count == 0 && x->from > x->dtstart;
	long long period = short_period(rule);
	icalrecur_iterator *it;

	if (check_rule(x, rule, period, err))
		return -1;
	if (jump && period) {
		long long w0 = (long long)icaltime_as_timet(dt);
		long long steps = ((long long)icaltime_as_timet(from) - w0 + period - 1) / period;
		icaltimezone *zone = (icaltimezone *)dt.zone;

		dt = icaltime_from_timet_with_zone((time_t)(w0 + steps * period), 0,
						   icaltimezone_get_utc_timezone());
		dt.zone = zone;   /* the same wall time, in the event's zone */
	}
	it = icalrecur_iterator_new(rule, dt);
	if (!it)
		return cs_err_set(err, CS_EINVAL, false, "recurrence: an RRULE libical cannot expand");
	if (jump && !period)
		icalrecur_iterator_set_start(it, from);
	for (long steps = 0; steps < CS_RECUR_STEPS_MAX && x->n < x->cap; steps++) {
		struct icaltimetype t = icalrecur_iterator_next(it);
		long long tt;

		if (icaltime_is_null_time(t))
			break;
		tt = (long long)icaltime_as_timet_with_zone(t, x->zone);
		if (tt >= x->to)
			break;
		add(x, tt);
	}
	icalrecur_iterator_free(it);
	return 0;
}

/* The VEVENT of the recurrence lines, or NULL with err set. */
static icalcomponent *parse_lines(const char *recurrence, cs_err *err)
{
	static const char *const kinds[] = {"RRULE", "RDATE", "EXDATE", "EXRULE"};
	icalcomponent *c = NULL;
	cs_dynbuf text;
	const char *line = recurrence;

	cs_dynbuf_init(&text, RECURRENCE_MAX);
	if (cs_dynbuf_addstr(&text, "BEGIN:VEVENT\r\n", err))
		goto out;
	while (line && *line) {
		size_t len = strcspn(line, "\r\n");
		bool known = false;

		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && len; k++) {
			size_t kl = strlen(kinds[k]);

			known = known || (len > kl && strncasecmp(line, kinds[k], kl) == 0 &&
					  (line[kl] == ':' || line[kl] == ';'));
		}
		if (len && !known) {
			cs_err_set(err, CS_EINVAL, false, "recurrence: '%.40s' is not an RRULE, RDATE"
				   " or EXDATE line", line);
			goto out;
		}
		if (len && (cs_dynbuf_add(&text, line, len, err) ||
			    cs_dynbuf_addstr(&text, "\r\n", err)))
			goto out;
		line += len;
		line += strspn(line, "\r\n");
	}
	if (cs_dynbuf_addstr(&text, "END:VEVENT\r\n", err))
		goto out;
	c = icalparser_parse_string(cs_dynbuf_str(&text));
	if (!c)
		cs_err_set(err, CS_EINVAL, false, "recurrence: libical cannot read it");
	else if (icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY)) {
		cs_err_set(err, CS_EINVAL, false, "recurrence: libical cannot read it (%.80s)",
			   icalproperty_get_xlicerror(icalcomponent_get_first_property(
				   c, ICAL_XLICERROR_PROPERTY)));
		icalcomponent_free(c);
		c = NULL;
	}
out:
	cs_dynbuf_release(&text);
	return c;
}

/* Every EXDATE value near the window into x->ex, sorted. */
static int gather_exdates(struct expansion *x, icalcomponent *c, cs_err *err)
{
	int count = icalcomponent_count_properties(c, ICAL_EXDATE_PROPERTY);

	if (count == 0)
		return 0;
	x->ex = calloc((size_t)count, sizeof(*x->ex));
	if (!x->ex)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY); p;
	     p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY))
		if (value_instant(x, p, icalproperty_get_exdate(p), &x->ex[x->nex]))
			x->nex++;
	qsort(x->ex, x->nex, sizeof(*x->ex), by_value);
	return 0;
}

int cs_recur_expand(const char *recurrence, long long dtstart, const char *tzid,
		    long long from, long long to, long long *out, size_t cap,
		    size_t *n, cs_err *err)
{
	struct expansion x = {.dtstart = dtstart, .from = from, .to = to, .out = out, .cap = cap};
	icalcomponent *c = NULL;
	int rc = -1;

	*n = 0;
	x.zone = builtin_zone(tzid);
	if (!x.zone)
		x.zone = icaltimezone_get_utc_timezone();
	if (recurrence && *recurrence) {
		c = parse_lines(recurrence, err);
		if (!c || gather_exdates(&x, c, err))
			goto out;
	}
	add(&x, dtstart);   /* DTSTART is always the first occurrence */
	for (icalproperty *p = c ? icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY) : NULL;
	     p; p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		long long t;

		if (icalproperty_isa(p) == ICAL_RRULE_PROPERTY) {
			if (expand_rule(&x, icalproperty_get_rrule(p), err))
				goto out;
		} else if (icalproperty_isa(p) == ICAL_RDATE_PROPERTY &&
			   value_instant(&x, p, rdate_time(p), &t)) {
			add(&x, t);
		}
	}
	qsort(out, x.n, sizeof(*out), by_value);
	*n = 0;
	for (size_t i = 0; i < x.n; i++)
		if (*n == 0 || out[*n - 1] != out[i])
			out[(*n)++] = out[i];
	rc = 0;
out:
	if (c)
		icalcomponent_free(c);
	free(x.ex);
	return rc;
}
