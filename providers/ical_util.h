/*
 * ical_util.h - small libical helpers shared by ical_read.c and
 * ical_write.c (the iCalendar mapping itself is described in ical.h).
 *
 * Ownership: cs_ical_parse() gives a component the caller frees with
 * icalcomponent_free(); cs_ical_override_id() a malloc()ed string.
 */
#ifndef CS_ICAL_UTIL_H
#define CS_ICAL_UTIL_H

#include <libical/ical.h>

#include "dynbuf.h"
#include "err.h"
#include "timefmt.h"

/* text parsed as one VCALENDAR into *out; -1 when it is not one. */
int cs_ical_parse(const char *text, icalcomponent **out);

/* Append property p as one unfolded line without its CRLF; -1 over b's cap. */
int cs_ical_line(icalproperty *p, cs_dynbuf *b);

/* "url#original_start", the id of an override; -1 when out of memory. */
int cs_ical_override_id(const char *url, const char *original_start, char **out);

/*
 * The instant of a date-time: in an IANA zone as timefmt.h reads wall
 * times (a repeated one is the first, a skipped one keeps the offset
 * before the gap), else through the zone libical resolved (a floating
 * time: as UTC).
 */
long long cs_ical_instant(struct icaltimetype t);

/* A time value in cs_event form: "YYYY-MM-DD" for a date, else the UTC instant. */
void cs_ical_time_str(struct icaltimetype t, char buf[CS_TIME_BUFSZ]);

/*
 * The IANA zone a TZID names: itself when libical knows it, else the
 * shortest known tail of a path-like TZID ("/mozilla.org/x/Europe/London");
 * NULL when none.
 */
const char *cs_ical_iana(const char *tzid);

#endif
