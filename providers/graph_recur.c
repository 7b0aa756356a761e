/*
 * graph_recur.c - RRULE <-> Graph patternedRecurrence (see graph_recur.h).
 */
#include "graph_recur.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "timefmt.h"
#include "banned.h"

#define END (ICAL_RECURRENCE_ARRAY_MAX)

static const char *const day_names[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
static const char *const index_names[] = {"first", "second", "third", "fourth", "last"};

/* "monday" -> ICAL_MONDAY_WEEKDAY; ICAL_NO_WEEKDAY when unknown. */
static enum icalrecurrencetype_weekday weekday_of(const char *name)
{
	for (int i = 0; name && i < 7; i++)
		if (strcmp(name, day_names[i]) == 0)
			return (enum icalrecurrencetype_weekday)(ICAL_SUNDAY_WEEKDAY + i);
	return ICAL_NO_WEEKDAY;
}

static int json_int(json_t *o, const char *key, int lo, int hi, int def, int *out, cs_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return cs_err_set(err, CS_EINVAL, false, "recurrence %s is not a number in %d..%d",
				  key, lo, hi);
	*out = (int)json_integer_value(v);
	return 0;
}

static int set_pos_of(json_t *pattern, short *pos, cs_err *err)
{
	const char *idx = json_string_value(json_object_get(pattern, "index"));

	if (!idx) {
		*pos = 1;   /* Graph's default index is first */
		return 0;
	}
	for (int i = 0; i < 5; i++)
		if (strcmp(idx, index_names[i]) == 0) {
			*pos = (short)(i == 4 ? -1 : i + 1);
			return 0;
		}
	return cs_err_set(err, CS_EINVAL, false, "recurrence pattern index '%.20s' is unknown", idx);
}

static int days_of(json_t *pattern, struct icalrecurrencetype *r, cs_err *err)
{
	json_t *days = json_object_get(pattern, "daysOfWeek"), *d;
	size_t i, n = 0;

	if (!json_is_array(days) || json_array_size(days) == 0)
		return cs_err_set(err, CS_EINVAL, false, "recurrence pattern has no daysOfWeek");
	json_array_foreach(days, i, d) {
		enum icalrecurrencetype_weekday w = weekday_of(json_string_value(d));

		if (w == ICAL_NO_WEEKDAY || n == 7)
			return cs_err_set(err, CS_EINVAL, false, "recurrence daysOfWeek[%zu] is not a day",
					  i);
		r->by_day[n++] = (short)w;
	}
	r->by_day[n] = END;
	return 0;
}

static int pattern_from_json(json_t *p, struct icalrecurrencetype *r, cs_err *err)
{
	const char *type = json_string_value(json_object_get(p, "type"));
	int interval, day, month;

	if (!json_is_object(p) || !type)
		return cs_err_set(err, CS_EINVAL, false, "recurrence pattern has no type");
	if (json_int(p, "interval", 1, 1000, 1, &interval, err) ||
	    json_int(p, "dayOfMonth", 0, 31, 0, &day, err) ||
	    json_int(p, "month", 0, 12, 0, &month, err))
		return -1;
	r->interval = (short)interval;
	if (strcmp(type, "daily") == 0) {
		r->freq = ICAL_DAILY_RECURRENCE;
		return 0;
	}
	if (strcmp(type, "weekly") == 0) {
		r->freq = ICAL_WEEKLY_RECURRENCE;
		r->week_start = weekday_of(json_string_value(json_object_get(p, "firstDayOfWeek")));
		if (r->week_start == ICAL_NO_WEEKDAY)
			r->week_start = ICAL_SUNDAY_WEEKDAY;   /* Graph's default */
		return days_of(p, r, err);
	}
	if (strncmp(type, "absolute", 8) == 0 || strncmp(type, "relative", 8) == 0) {
		bool yearly = strcmp(type + 8, "Yearly") == 0;

		if (!yearly && strcmp(type + 8, "Monthly") != 0)
			goto unknown;
		r->freq = yearly ? ICAL_YEARLY_RECURRENCE : ICAL_MONTHLY_RECURRENCE;
		if (yearly) {
			if (!month)
				return cs_err_set(err, CS_EINVAL, false, "recurrence %s has no month", type);
			r->by_month[0] = (short)month;
			r->by_month[1] = END;
		}
		if (type[0] == 'a') {
			if (!day)
				return cs_err_set(err, CS_EINVAL, false, "recurrence %s has no dayOfMonth",
						  type);
			r->by_month_day[0] = (short)day;
			r->by_month_day[1] = END;
			return 0;
		}
		r->by_set_pos[1] = END;
		return set_pos_of(p, &r->by_set_pos[0], err) || days_of(p, r, err) ? -1 : 0;
	}
unknown:
	return cs_err_set(err, CS_EINVAL, false, "recurrence pattern type '%.30s' is unknown", type);
}

static int range_from_json(json_t *range, bool all_day, const char *tzid,
			   struct icalrecurrencetype *r, cs_err *err)
{
	const char *type = json_string_value(json_object_get(range, "type"));
	const char *end = json_string_value(json_object_get(range, "endDate"));
	int y, m, d, count;

	if (!json_is_object(range) || !type || strcmp(type, "noEnd") == 0)
		return 0;
	if (strcmp(type, "numbered") == 0) {
		if (json_int(range, "numberOfOccurrences", 1, 1000000, 0, &count, err))
			return -1;
		if (!count)
			return cs_err_set(err, CS_EINVAL, false, "numbered recurrence has no "
					  "numberOfOccurrences");
		r->count = count;
		return 0;
	}
	if (strcmp(type, "endDate") != 0)
		return cs_err_set(err, CS_EINVAL, false, "recurrence range type '%.30s' is unknown",
				  type);
	if (!end || cs_time_parse_date(end, &y, &m, &d, err))
		return cs_err_set(err, CS_EINVAL, false, "recurrence range endDate is not a date");
	if (all_day) {
		r->until = icaltime_from_day_of_year(1, y);
		r->until.month = m;
		r->until.day = d;
		r->until.is_date = 1;
		return 0;
	}
	{
		cs_walltime wt = {.year = y, .month = m, .day = d, .hour = 23, .minute = 59,
				  .second = 59};
		long long t;

		if (cs_time_from_local(&wt, tzid && *tzid ? tzid : "UTC", &t, err))
			return cs_err_prefix(err, "recurrence range endDate");
		r->until = icaltime_from_timet_with_zone((time_t)t, 0, icaltimezone_get_utc_timezone());
	}
	return 0;
}

int cs_graph_rrule_from_json(json_t *rec, bool all_day, const char *tzid, char **out,
			     cs_err *err)
{
	struct icalrecurrencetype r;
	char *text;

	*out = NULL;
	icalrecurrencetype_clear(&r);
	if (!json_is_object(rec))
		return cs_err_set(err, CS_EINVAL, false, "recurrence is not an object");
	if (pattern_from_json(json_object_get(rec, "pattern"), &r, err) ||
	    range_from_json(json_object_get(rec, "range"), all_day, tzid, &r, err))
		return -1;
	text = icalrecurrencetype_as_string_r(&r);
	if (!text)
		return cs_err_set(err, CS_EINVAL, false, "recurrence cannot be written as an RRULE");
	*out = malloc(strlen(text) + 7);
	if (*out)
		snprintf(*out, strlen(text) + 7, "RRULE:%s", text);
	free(text);
	return *out ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* ---- RRULE -> Graph ----------------------------------------------------- */

static size_t count_of(const short *a, size_t max)
{
	size_t n = 0;

	while (n < max && a[n] != END)
		n++;
	return n;
}

__attribute__((format(printf, 2, 3)))
static int refuse(cs_err *err, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return cs_err_set(err, CS_EREFUSED, false, "Outlook cannot express this recurrence: %s",
			  why);
}

/* The single RRULE line of recurrence into *rule; other lines checked. */
static int find_rule(const char *recurrence, char *rule, size_t n, cs_err *err)
{
	bool found = false;

	for (const char *p = recurrence; p && *p;) {
		size_t len = strcspn(p, "\n");

		while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		if (len > 6 && strncasecmp(p, "RRULE:", 6) == 0) {
			if (found)
				return refuse(err, "more than one RRULE");
			if (len - 6 >= n)
				return cs_err_set(err, CS_EINVAL, false, "the RRULE is too long");
			memcpy(rule, p + 6, len - 6);
			rule[len - 6] = '\0';
			found = true;
		} else if (len && strncasecmp(p, "EXDATE", 6) != 0) {
			return refuse(err, "the line '%.40s' (Graph has RRULE-like patterns only)", p);
		}
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	if (!found)
		return refuse(err, "no RRULE");
	return 0;
}

static int check_expressible(const struct icalrecurrencetype *r)
{
	if (r->freq != ICAL_DAILY_RECURRENCE && r->freq != ICAL_WEEKLY_RECURRENCE &&
	    r->freq != ICAL_MONTHLY_RECURRENCE && r->freq != ICAL_YEARLY_RECURRENCE)
		return 1;
	if (r->by_second[0] != END || r->by_minute[0] != END || r->by_hour[0] != END ||
	    r->by_year_day[0] != END || r->by_week_no[0] != END)
		return 2;
	if (count_of(r->by_month_day, ICAL_BY_MONTHDAY_SIZE) > 1 ||
	    (r->by_month_day[0] != END && r->by_month_day[0] < 1))
		return 3;
	if (count_of(r->by_month, ICAL_BY_MONTH_SIZE) > 1)
		return 4;
	if (count_of(r->by_set_pos, ICAL_BY_SETPOS_SIZE) > 1 ||
	    (r->by_set_pos[0] != END && (r->by_set_pos[0] < -1 || r->by_set_pos[0] == 0 ||
					 r->by_set_pos[0] > 4)))
		return 5;
	if (r->count && !icaltime_is_null_time(r->until))
		return 6;
	return 0;
}

static const char *const why_not[] = {
	"", "only DAILY, WEEKLY, MONTHLY and YEARLY rules",
	"BYSECOND/BYMINUTE/BYHOUR/BYYEARDAY/BYWEEKNO", "several or negative BYMONTHDAY values",
	"several BYMONTH values", "BYSETPOS other than one of 1..4 or -1", "both COUNT and UNTIL"};

static int add_days(json_t *pattern, const struct icalrecurrencetype *r, short *pos, cs_err *err)
{
	json_t *days = json_array();
	size_t n = count_of(r->by_day, ICAL_BY_DAY_SIZE);

	if (!days || json_object_set_new(pattern, "daysOfWeek", days))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int w = icalrecurrencetype_day_day_of_week(r->by_day[i]);
		int p = icalrecurrencetype_day_position(r->by_day[i]);

		if (p && !pos)
			return refuse(err, "a numbered BYDAY in a weekly rule");
		if (p) {
			if (*pos && *pos != p)
				return refuse(err, "BYDAY days with different positions");
			if (p < -1 || p > 4)
				return refuse(err, "BYDAY position %d (Graph has first..fourth, last)", p);
			*pos = (short)p;
		}
		if (json_array_append_new(days, json_string(day_names[w - 1])))
			return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	return 0;
}

static int weekday_of_date(int y, int m, int d)
{
	long long days = cs_time_from_civil(y, m, d) / 86400;

	return (int)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday (4) */
}

static int fill_pattern(json_t *pat, const struct icalrecurrencetype *r, int y, int m, int d,
			cs_err *err)
{
	bool yearly = r->freq == ICAL_YEARLY_RECURRENCE;
	bool days = r->by_day[0] != END;
	short pos = r->by_set_pos[0] != END ? r->by_set_pos[0] : 0;
	const char *type;

	if (json_object_set_new(pat, "interval", json_integer(r->interval > 0 ? r->interval : 1)))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (r->freq == ICAL_DAILY_RECURRENCE) {
		if (days || r->by_month[0] != END || r->by_month_day[0] != END || pos)
			return refuse(err, "a DAILY rule limited by BYDAY/BYMONTH/BYMONTHDAY/BYSETPOS");
		return json_object_set_new(pat, "type", json_string("daily")) ?
		       cs_err_set(err, CS_ENOMEM, false, "out of memory") : 0;
	}
	if (r->freq == ICAL_WEEKLY_RECURRENCE) {
		enum icalrecurrencetype_weekday ws = r->week_start == ICAL_NO_WEEKDAY ?
						     ICAL_MONDAY_WEEKDAY : r->week_start;

		if (r->by_month[0] != END || r->by_month_day[0] != END || pos)
			return refuse(err, "a WEEKLY rule limited by BYMONTH/BYMONTHDAY/BYSETPOS");
		if (json_object_set_new(pat, "type", json_string("weekly")) ||
		    json_object_set_new(pat, "firstDayOfWeek", json_string(day_names[ws - 1])))
			return cs_err_set(err, CS_ENOMEM, false, "out of memory");
		if (!days) {   /* RFC 5545: the weekday of the start */
			json_t *one = json_pack("[s]", day_names[weekday_of_date(y, m, d)]);

			if (!one || json_object_set_new(pat, "daysOfWeek", one))
				return cs_err_set(err, CS_ENOMEM, false, "out of memory");
			return 0;
		}
		return add_days(pat, r, NULL, err);
	}
	if (!yearly && r->by_month[0] != END)
		return refuse(err, "a MONTHLY rule limited by BYMONTH");
	if (yearly && json_object_set_new(pat, "month", json_integer(r->by_month[0] != END ?
								   r->by_month[0] : m)))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (days && r->by_month_day[0] != END)
		return refuse(err, "BYDAY together with BYMONTHDAY");
	if (!days) {
		if (pos)
			return refuse(err, "BYSETPOS without BYDAY");
		type = yearly ? "absoluteYearly" : "absoluteMonthly";
		if (json_object_set_new(pat, "dayOfMonth", json_integer(r->by_month_day[0] != END ?
									r->by_month_day[0] : d)))
			return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	} else {
		type = yearly ? "relativeYearly" : "relativeMonthly";
		if (add_days(pat, r, &pos, err))
			return -1;
		if (!pos)
			return refuse(err, "BYDAY every week of the month (Graph needs an index)");
		if (json_object_set_new(pat, "index", json_string(index_names[pos < 0 ? 4 : pos - 1])))
			return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	return json_object_set_new(pat, "type", json_string(type)) ?
	       cs_err_set(err, CS_ENOMEM, false, "out of memory") : 0;
}

static int fill_range(json_t *range, const struct icalrecurrencetype *r, const char *start_date,
		      const char *zone, const char *tzid, cs_err *err)
{
	char end[CS_TIME_BUFSZ];

	if (json_object_set_new(range, "startDate", json_string(start_date)) ||
	    (zone && json_object_set_new(range, "recurrenceTimeZone", json_string(zone))))
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (r->count)
		return json_object_set_new(range, "type", json_string("numbered")) ||
		       json_object_set_new(range, "numberOfOccurrences", json_integer(r->count)) ?
		       cs_err_set(err, CS_ENOMEM, false, "out of memory") : 0;
	if (icaltime_is_null_time(r->until))
		return json_object_set_new(range, "type", json_string("noEnd")) ?
		       cs_err_set(err, CS_ENOMEM, false, "out of memory") : 0;
	if (r->until.is_date || !icaltime_is_utc(r->until)) {
		snprintf(end, sizeof(end), "%04d-%02d-%02d", r->until.year, r->until.month,
			 r->until.day);
		if (cs_time_parse_date(end, NULL, NULL, NULL, err))
			return cs_err_prefix(err, "UNTIL");
	} else {
		cs_walltime wt;

		if (cs_time_to_local((long long)icaltime_as_timet(r->until),
				     tzid && *tzid ? tzid : "UTC", &wt, err))
			return cs_err_prefix(err, "UNTIL");
		snprintf(end, sizeof(end), "%04d-%02d-%02d", wt.year, wt.month, wt.day);
	}
	return json_object_set_new(range, "type", json_string("endDate")) ||
	       json_object_set_new(range, "endDate", json_string(end)) ?
	       cs_err_set(err, CS_ENOMEM, false, "out of memory") : 0;
}

json_t *cs_graph_rrule_to_json(const char *recurrence, const char *start_date,
			       const char *zone, const char *tzid, cs_err *err)
{
	struct icalrecurrencetype r;
	char rule[1024];
	json_t *rec = NULL, *pat, *range;
	int y, m, d, why;

	if (cs_time_parse_date(start_date, &y, &m, &d, err) ||
	    find_rule(recurrence, rule, sizeof(rule), err))
		return NULL;
	icalerror_clear_errno();
	r = icalrecurrencetype_from_string(rule);
	if (r.freq == ICAL_NO_RECURRENCE) {
		cs_err_set(err, CS_EINVAL, false, "the RRULE '%.80s' does not parse", rule);
		return NULL;
	}
	if ((why = check_expressible(&r))) {
		refuse(err, "%s (RRULE:%.80s)", why_not[why], rule);
		return NULL;
	}
	rec = json_pack("{s:{}, s:{}}", "pattern", "range");
	if (!rec) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		return NULL;
	}
	pat = json_object_get(rec, "pattern");
	range = json_object_get(rec, "range");
	if (fill_pattern(pat, &r, y, m, d, err) ||
	    fill_range(range, &r, start_date, zone, tzid, err)) {
		if (err && err->code == CS_EREFUSED)
			cs_err_prefix(err, "RRULE:%.80s", rule);
		json_decref(rec);
		return NULL;
	}
	return rec;
}
