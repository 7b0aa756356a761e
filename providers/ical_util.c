/* ical_util.c - libical helpers of the iCalendar mapping (see ical_util.h). */
#include "ical_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

int cs_ical_parse(const char *text, icalcomponent **out)
{
	icalcomponent *c = icalparser_parse_string(text);

	*out = NULL;
	if (!c)
		return -1;
	if (icalcomponent_isa(c) != ICAL_VCALENDAR_COMPONENT) {
		icalcomponent_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int cs_ical_line(icalproperty *p, cs_dynbuf *b)
{
	char *s = icalproperty_as_ical_string_r(p);
	int rc = 0;

	if (!s)
		return -1;
	for (const char *q = s; *q && rc == 0; q++) {
		if (q[0] == '\r' && q[1] == '\n' && (q[2] == ' ' || q[2] == '\t'))
			q += 2;      /* a fold: the line goes on */
		else if (q[0] == '\r' || q[0] == '\n')
			continue;
		else
			rc = cs_dynbuf_add(b, q, 1, NULL);
	}
	free(s);
	return rc;
}

int cs_ical_override_id(const char *url, const char *original_start, char **out)
{
	size_t n = strlen(url) + strlen(original_start) + 2;

	*out = malloc(n);
	if (!*out)
		return -1;
	snprintf(*out, n, "%s#%s", url, original_start);
	return 0;
}

long long cs_ical_instant(struct icaltimetype t)
{
	const char *iana = t.zone && t.zone != icaltimezone_get_utc_timezone() ?
		cs_ical_iana(icaltimezone_get_tzid((icaltimezone *)t.zone)) : NULL;
	cs_walltime wt = {t.year, t.month, t.day, t.hour, t.minute, t.second, 0};
	long long u;

	/* an IANA zone: RFC 5545's reading of repeated and skipped wall times (timefmt.h) */
	if (iana && cs_time_from_local(&wt, iana, &u, NULL) == 0)
		return u;
	return (long long)icaltime_as_timet_with_zone(t, t.zone);
}

void cs_ical_time_str(struct icaltimetype t, char buf[CS_TIME_BUFSZ])
{
	if (t.is_date)
		snprintf(buf, CS_TIME_BUFSZ, "%04d-%02d-%02d", t.year, t.month, t.day);
	else
		cs_time_format_utc(cs_ical_instant(t), buf);
}

const char *cs_ical_iana(const char *tzid)
{
	if (!tzid)
		return NULL;
	for (const char *p = tzid; p; p = strchr(p + 1, '/')) {
		const char *cand = *p == '/' ? p + 1 : p;

		if (*cand && cs_time_zone_known(cand))
			return cand;
	}
	return NULL;
}
