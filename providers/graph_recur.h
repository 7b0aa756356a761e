/*
 * graph_recur.h - recurrence both ways between RFC 5545 (the RRULE of
 * cs_event.recurrence) and Microsoft Graph's patternedRecurrence
 * {pattern, range}, as pure functions (no I/O); rules are read and written
 * by libical (icalrecurrencetype), never by hand.
 *
 *   daily            FREQ=DAILY;INTERVAL=n
 *   weekly           FREQ=WEEKLY;INTERVAL=n;BYDAY=..;WKST=firstDayOfWeek
 *   absoluteMonthly  FREQ=MONTHLY;BYMONTHDAY=d
 *   relativeMonthly  FREQ=MONTHLY;BYDAY=..;BYSETPOS=i   (first..fourth 1..4, last -1)
 *   absoluteYearly   FREQ=YEARLY;BYMONTH=m;BYMONTHDAY=d
 *   relativeYearly   FREQ=YEARLY;BYMONTH=m;BYDAY=..;BYSETPOS=i
 *   range numbered   COUNT=n; endDate: UNTIL (the end date's last second in
 *                    the event's zone, a DATE for all-day events); noEnd: none.
 * The other way a numbered BYDAY (BYDAY=2TU) reads as BYDAY=TU;BYSETPOS=2,
 * and a MONTHLY/YEARLY rule without BYMONTHDAY/BYDAY/BYMONTH takes them
 * from the start date, as RFC 5545 does.
 *
 * A rule Graph cannot express - HOURLY and finer, several BYMONTHDAY or
 * BYMONTH values, a negative BYMONTHDAY, BYSETPOS other than one of
 * 1..4/-1, BYYEARDAY, BYWEEKNO, BYHOUR.., BYDAY on a DAILY rule, RDATE or
 * EXRULE lines - is refused with CS_EREFUSED naming what, never changed
 * to a rule that means something else. EXDATE lines are left to the
 * caller (Graph cancels single occurrences instead).
 *
 * Ownership: *out strings are malloc'd (the caller frees); json_t results
 * are new references; arguments are borrowed.
 */
#ifndef CS_GRAPH_RECUR_H
#define CS_GRAPH_RECUR_H

#include <stdbool.h>

#include <jansson.h>

#include "err.h"

/*
 * The "RRULE:..." line of a Graph recurrence object; tzid (IANA, NULL:
 * UTC) places an endDate's last second. CS_EINVAL naming the field when
 * rec is not a recurrence Graph would send.
 */
int cs_graph_rrule_from_json(json_t *rec, bool all_day, const char *tzid, char **out,
			     cs_err *err);

/*
 * The Graph recurrence object for the RRULE among the lines of
 * recurrence, for an event starting on start_date ("YYYY-MM-DD", local to
 * the event); range.recurrenceTimeZone is zone (a Windows name, may be
 * NULL); tzid (IANA, NULL: UTC) turns a UTC UNTIL into a local end date.
 * NULL with CS_EREFUSED when Graph cannot express the rule, CS_EINVAL when
 * it does not parse.
 */
json_t *cs_graph_rrule_to_json(const char *recurrence, const char *start_date,
			       const char *zone, const char *tzid, cs_err *err);

#endif
