/*
 * timefmt.c - RFC 3339 instants, dates and IANA-zone wall time for
 * cs_event times (see timefmt.h). Calendar arithmetic is Howard Hinnant's
 * days_from_civil; zone offsets come from libical's builtin zones.
 */
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "banned.h"

/* ---- civil calendar ------------------------------------------------- */

long long cs_time_from_civil(int year, int month, int day)
{
	long long y = year, m = month, era, yoe, doy, doe;

	/* normalise the month into 1..12 first */
	y += (m - 1) >= 0 ? (m - 1) / 12 : -((12 - m) / 12);
	m = ((m - 1) % 12 + 12) % 12 + 1;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400;
}

static void civil_from_days(long long z, int *year, int *month, int *day)
{
	long long era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(y + (m <= 2));
	*month = (int)m;
	*day = (int)d;
}

static void split_instant(long long t, cs_walltime *wt)
{
	long long days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	long long secs = t - days * 86400;

	civil_from_days(days, &wt->year, &wt->month, &wt->day);
	wt->hour = (int)(secs / 3600);
	wt->minute = (int)(secs / 60 % 60);
	wt->second = (int)(secs % 60);
}

static long long join_walltime(const cs_walltime *wt)
{
	return cs_time_from_civil(wt->year, wt->month, wt->day) +
	       wt->hour * 3600LL + wt->minute * 60LL + wt->second;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* ---- parsing -------------------------------------------------------- */

/* Read exactly n digits at *p into *out and advance. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* Parse "YYYY-MM-DD" at *p; checks the day exists. */
static bool parse_ymd(const char **p, int *y, int *m, int *d)
{
	if (!digits(p, 4, y) || !expect(p, '-') || !digits(p, 2, m) ||
	    !expect(p, '-') || !digits(p, 2, d))
		return false;
	return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 &&
	       *d <= days_in_month(*y, *m);
}

static int bad_input(cs_err *err, const char *what, const char *s, const char *why)
{
	return cs_err_set(err, CS_EINVAL, false, "%s '%.40s%s': %s", what, s,
			  strlen(s) > 40 ? "..." : "", why);
}

/*
 * "YYYY-MM-DDTHH:MM:SS[.fff]" at *p (a second of 60 allowed); *p is left
 * after it. NULL, or the reason it is not one.
 */
static const char *parse_wall(const char **p, cs_walltime *wt)
{
	memset(wt, 0, sizeof(*wt));
	if (!parse_ymd(p, &wt->year, &wt->month, &wt->day))
		return "expected a valid YYYY-MM-DD date first";
	if (**p != 'T' && **p != 't')
		return "expected 'T' after the date";
	(*p)++;
	if (!digits(p, 2, &wt->hour) || !expect(p, ':') || !digits(p, 2, &wt->minute) ||
	    !expect(p, ':') || !digits(p, 2, &wt->second))
		return "expected HH:MM:SS after 'T'";
	if (wt->hour > 23 || wt->minute > 59 || wt->second > 60)
		return "hour, minute or second out of range";
	if (**p == '.') {
		(*p)++;
		if (!isdigit((unsigned char)**p))
			return "expected digits after '.'";
		while (isdigit((unsigned char)**p))
			(*p)++;
	}
	return NULL;
}

int cs_time_parse_rfc3339(const char *s, long long *out, cs_err *err)
{
	const char *p = s, *why;
	int oh = 0, om = 0, sign = 0;
	cs_walltime wt;

	if (!s)
		return cs_err_set(err, CS_EINVAL, false, "date-time missing");
	if ((why = parse_wall(&p, &wt)))
		return bad_input(err, "date-time", s, why);
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
			return bad_input(err, "date-time", s, "expected the offset as +HH:MM or -HH:MM");
		if (oh > 23 || om > 59)
			return bad_input(err, "date-time", s, "offset out of range");
	} else {
		return bad_input(err, "date-time", s,
				 "expected a time zone offset (Z, +HH:MM or -HH:MM)");
	}
	if (*p)
		return bad_input(err, "date-time", s, "unexpected text after the offset");
	*out = join_walltime(&wt) - sign * (oh * 3600LL + om * 60LL);
	return 0;
}

int cs_time_parse_date(const char *s, int *year, int *month, int *day,
		       cs_err *err)
{
	const char *p = s;
	int y, m, d;

	if (!s)
		return cs_err_set(err, CS_EINVAL, false, "date missing");
	if (!parse_ymd(&p, &y, &m, &d) || *p)
		return bad_input(err, "date", s, "expected a valid YYYY-MM-DD date");
	if (year)
		*year = y;
	if (month)
		*month = m;
	if (day)
		*day = d;
	return 0;
}

/* ---- formatting ----------------------------------------------------- */

#define CS_TIME_MIN (-62135596800LL)   /* 0001-01-01T00:00:00Z */
#define CS_TIME_MAX 253402300799LL     /* 9999-12-31T23:59:59Z */

void cs_time_format_utc(long long t, char buf[CS_TIME_BUFSZ])
{
	cs_walltime wt;

	if (t < CS_TIME_MIN)
		t = CS_TIME_MIN;
	if (t > CS_TIME_MAX)
		t = CS_TIME_MAX;
	split_instant(t, &wt);
	snprintf(buf, CS_TIME_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02dZ", wt.year,
		 wt.month, wt.day, wt.hour, wt.minute, wt.second);
}

int cs_time_normalize(const char *s, char buf[CS_TIME_BUFSZ], cs_err *err)
{
	long long t;

	if (cs_time_parse_rfc3339(s, &t, err))
		return -1;
	cs_time_format_utc(t, buf);
	return 0;
}

int cs_time_normalize_in(const char *s, const char *tzid, char buf[CS_TIME_BUFSZ],
			 cs_err *err)
{
	const char *p = s;
	cs_walltime wt;
	long long t;

	if (!s || !tzid || parse_wall(&p, &wt) || *p)
		return cs_time_normalize(s, buf, err);
	if (cs_time_from_local(&wt, tzid, &t, err))
		return cs_err_prefix(err, "date-time '%.40s' in %.64s", s, tzid);
	cs_time_format_utc(t, buf);
	return 0;
}

/* ---- zones ---------------------------------------------------------- */

static bool is_utc_name(const char *tzid)
{
	return strcmp(tzid, "UTC") == 0 || strcmp(tzid, "Etc/UTC") == 0 ||
	       strcmp(tzid, "GMT") == 0 || strcmp(tzid, "Etc/GMT") == 0 ||
	       strcmp(tzid, "Z") == 0;
}

/* The zone, or NULL for UTC; CS_EINVAL for an unknown name. */
static int find_zone(const char *tzid, icaltimezone **zone, cs_err *err)
{
	*zone = NULL;
	if (!tzid || !*tzid)
		return cs_err_set(err, CS_EINVAL, false, "time zone missing");
	if (is_utc_name(tzid))
		return 0;
	*zone = icaltimezone_get_builtin_timezone(tzid);
	if (!*zone)
		return cs_err_set(err, CS_EINVAL, false,
				  "unknown time zone '%.64s'", tzid);
	return 0;
}

bool cs_time_zone_known(const char *tzid)
{
	icaltimezone *zone;

	return find_zone(tzid, &zone, NULL) == 0;
}

/* UTC offset in seconds of zone at instant t. */
static int offset_at(icaltimezone *zone, long long t)
{
	struct icaltimetype tt;
	int is_daylight = 0;

	if (!zone)
		return 0;
	tt = icaltime_from_timet_with_zone((time_t)t, 0,
					   icaltimezone_get_utc_timezone());
	return icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &is_daylight);
}

static int check_range(long long t, cs_err *err)
{
	if (t < CS_TIME_MIN || t > CS_TIME_MAX)
		return cs_err_set(err, CS_EINVAL, false,
				  "time outside the years 1..9999");
	return 0;
}

int cs_time_to_local(long long t, const char *tzid, cs_walltime *out,
		     cs_err *err)
{
	icaltimezone *zone;
	int off;

	if (find_zone(tzid, &zone, err) || check_range(t, err))
		return -1;
	off = offset_at(zone, t);
	split_instant(t + off, out);
	out->utc_offset_s = off;
	return 0;
}

int cs_time_from_local(const cs_walltime *wt, const char *tzid, long long *out,
		       cs_err *err)
{
	icaltimezone *zone;
	long long local, before_t, after_t;
	int before, after;
	bool before_ok, after_ok;

	if (find_zone(tzid, &zone, err))
		return -1;
	if (wt->year < 1 || wt->year > 9999 || wt->month < 1 || wt->month > 12 ||
	    wt->day < 1 || wt->day > days_in_month(wt->year, wt->month) ||
	    wt->hour < 0 || wt->hour > 23 || wt->minute < 0 || wt->minute > 59 ||
	    wt->second < 0 || wt->second > 59)
		return cs_err_set(err, CS_EINVAL, false,
				  "wall time %04d-%02d-%02d %02d:%02d:%02d is not valid",
				  wt->year, wt->month, wt->day, wt->hour,
				  wt->minute, wt->second);
	local = join_walltime(wt);
	/* the offsets in force a day before and a day after: zones change
	 * their offset at most once within two days */
	before = offset_at(zone, local - 86400);
	after = offset_at(zone, local + 86400);
	before_t = local - before;
	after_t = local - after;
	before_ok = offset_at(zone, before_t) == before;
	after_ok = offset_at(zone, after_t) == after;
	if (before_ok && after_ok)
		*out = before_t < after_t ? before_t : after_t; /* the first one */
	else if (before_ok)
		*out = before_t;
	else if (after_ok)
		*out = after_t;
	else
		*out = before_t; /* in the gap: the offset from before it */
	return 0;
}

int cs_time_format_local(long long t, const char *tzid,
			 char buf[CS_TIME_BUFSZ], cs_err *err)
{
	cs_walltime wt;
	int off;

	if (cs_time_to_local(t, tzid, &wt, err))
		return -1;
	off = wt.utc_offset_s < 0 ? -wt.utc_offset_s : wt.utc_offset_s;
	snprintf(buf, CS_TIME_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		 wt.year, wt.month, wt.day, wt.hour, wt.minute, wt.second,
		 wt.utc_offset_s < 0 ? '-' : '+', off / 3600, off / 60 % 60);
	return 0;
}
