/*
 * timefmt.h - the time forms of cs_event (provider.h): RFC 3339 instants,
 * dates, and wall time in IANA zones.
 *
 * A timed event's start/end in calsync are UTC instants written
 * "YYYY-MM-DDTHH:MM:SSZ"; providers answer with any offset and with
 * fractional seconds, so everything coming in goes through
 * cs_time_parse_rfc3339() / cs_time_normalize(). An all-day event's times
 * are dates "YYYY-MM-DD" (cs_time_parse_date()).
 *
 * Zone math uses libical's builtin time zones (icaltimezone), never the
 * process-wide TZ variable: workers are multi-threaded. Every function
 * here is thread-safe.
 *
 * Instants are unix seconds (long long, UTC). Fractional seconds are
 * dropped (truncated): calendars work in whole seconds.
 *
 * Ownership: nothing here allocates; output goes to caller buffers of
 * CS_TIME_BUFSZ bytes.
 */
#ifndef CS_TIMEFMT_H
#define CS_TIMEFMT_H

#include <stdbool.h>

#include "err.h"

#define CS_TIME_BUFSZ 40   /* fits every string these functions write */

/* A wall-clock time (proleptic Gregorian, years 1..9999). */
typedef struct cs_walltime {
	int year, month, day;      /* month 1..12, day 1..31 */
	int hour, minute, second;
	int utc_offset_s;          /* of the zone at that instant (output only) */
} cs_walltime;

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" ('t'/'z' also
 * accepted, as RFC 3339 allows) into unix seconds. A second of 60 (a leap
 * second) counts as the first second of the next minute. Anything else -
 * missing offset, out-of-range field, trailing text - is CS_EINVAL with
 * a message quoting (a short prefix of) the input.
 */
int cs_time_parse_rfc3339(const char *s, long long *out, cs_err *err);

/* Write t as "YYYY-MM-DDTHH:MM:SSZ". Years outside 1..9999 are clamped. */
void cs_time_format_utc(long long t, char buf[CS_TIME_BUFSZ]);

/* Parse any RFC 3339 date-time and write it back in UTC "...Z" form. */
int cs_time_normalize(const char *s, char buf[CS_TIME_BUFSZ], cs_err *err);

/*
 * As cs_time_normalize(), and also a date-time without an offset
 * ("YYYY-MM-DDTHH:MM:SS[.fff]") when tzid (may be NULL) names its zone:
 * that wall time in tzid, read as cs_time_from_local() does.
 */
int cs_time_normalize_in(const char *s, const char *tzid, char buf[CS_TIME_BUFSZ],
			 cs_err *err);

/* Check a date "YYYY-MM-DD" (a real calendar day); the parts may be NULL. */
int cs_time_parse_date(const char *s, int *year, int *month, int *day,
		       cs_err *err);

/* Unix seconds of 00:00:00 UTC of a date; days may be out of range (normalised). */
long long cs_time_from_civil(int year, int month, int day);

/* Whether tzid names a zone libical knows ("UTC" always does). */
bool cs_time_zone_known(const char *tzid);

/* The wall time in zone tzid at instant t (utc_offset_s filled in). */
int cs_time_to_local(long long t, const char *tzid, cs_walltime *out,
		     cs_err *err);

/*
 * The instant of a wall time in zone tzid (wt->utc_offset_s is ignored).
 * As RFC 5545 says for DTSTART with TZID: a time that happens twice (the
 * autumn change) means the first one; a time that does not exist (the
 * spring gap) is read with the offset from before the gap - so 01:30 in
 * London on the spring-forward day is 01:30Z, shown as 02:30 BST.
 */
int cs_time_from_local(const cs_walltime *wt, const char *tzid, long long *out,
		       cs_err *err);

/* Write t as local time in tzid with its offset: "2026-03-29T02:30:00+01:00". */
int cs_time_format_local(long long t, const char *tzid,
			 char buf[CS_TIME_BUFSZ], cs_err *err);

#endif
