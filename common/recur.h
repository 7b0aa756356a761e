/*
 * recur.h - the occurrences of a (maybe recurring) event in a window of
 * time, for `calsync agenda`: RRULE expanded by libical, every value of
 * every RDATE added, every value of every EXDATE removed (RFC 5545
 * 3.8.5), in the event's zone so that a weekly 17:30 stays 17:30 across
 * a DST change.
 *
 * Bounded whatever the rule: expansion starts at the window where the
 * rule allows it (not at a DTSTART long ago: a SECONDLY rule from 1970
 * costs what its window holds), stops at the window's end, at `cap`
 * occurrences, and after CS_RECUR_STEPS_MAX iterator steps (a COUNT rule
 * must be walked from its start); RDATE and EXDATE values far outside
 * the window are never converted. Rules libical would scan for ever
 * within one step are refused (CS_EINVAL): those RFC 5545 forbids (a
 * numbered BYDAY outside MONTHLY/YEARLY, ...), SECONDLY or MINUTELY rules
 * limited to dates, and COUNT rules shorter than daily that start more
 * than CS_RECUR_SCAN_MAX periods before the window.
 *
 * Ownership: nothing is kept; out is the caller's array of cap entries.
 */
#ifndef CS_RECUR_H
#define CS_RECUR_H

#include <stddef.h>

#include "err.h"

#define CS_RECUR_STEPS_MAX 200000
#define CS_RECUR_SCAN_MAX 1000000

/*
 * The starts (unix seconds) of the event beginning at dtstart in zone tzid
 * (NULL, "" or unknown: UTC) with the recurrence lines in recurrence
 * (RRULE/RDATE/EXDATE lines joined by '\n'; NULL: none), that fall in
 * [from, to); sorted, without repeats, at most cap, into out; *n gets
 * how many. A line libical cannot read is CS_EINVAL naming it.
 */
int cs_recur_expand(const char *recurrence, long long dtstart, const char *tzid,
		    long long from, long long to, long long *out, size_t cap,
		    size_t *n, cs_err *err);

#endif
