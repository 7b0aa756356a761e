/*
 * ical.h - iCalendar resources (RFC 5545) <-> cs_event, through libical,
 * for the CalDAV provider. Pure functions: no I/O.
 *
 * Mapping decisions:
 * - one resource holds a series and its overrides (one UID): the master
 *   VEVENT (no RECURRENCE-ID) is the cs_event with id = the resource's
 *   URL; each override is the cs_event with id = URL + "#" + its
 *   original start (cs_event form, see below) and series_id = the URL.
 *   Every one carries the resource's etag and the whole resource as raw.
 * - times: DTSTART/DTEND (or DTSTART + DURATION; neither: one day for a
 *   date, zero length for a date-time) -> UTC instants, the zone from
 *   DTSTART's TZID when it names an IANA zone (resolved through the
 *   resource's own VTIMEZONE first, so any TZID converts exactly); DATE
 *   values -> an all-day event; floating times are read as UTC. Written
 *   back as wall time with TZID and a VTIMEZONE for every zone used, as
 *   UTC when the event has no zone, as DATE values when all-day.
 * - RECURRENCE-ID -> original_start (same forms); RRULE/RDATE/EXDATE/
 *   EXRULE lines -> recurrence, one line each, unfolded.
 * - ATTENDEE of the VEVENT (never those inside a VALARM) -> attendees
 *   without "mailto:"; STATUS:TENTATIVE -> "tentative"; an override with
 *   STATUS:CANCELLED -> cancelled.
 * - X-FAMILYHUB-EVENT-ID <-> hub_id, X-FAMILYHUB-WRITTEN <-> written.
 * - A resource without a VEVENT (a VTODO, a VJOURNAL) gives no event and
 *   no error; one that does not parse gives one event with bad set.
 * - Writing merges into the base resource: only the properties calsync
 *   models are replaced (keeping their parameters), so VALARM,
 *   CATEGORIES, URL, X-APPLE-* and every other property survive;
 *   SEQUENCE is raised, DTSTAMP and LAST-MODIFIED set to now.
 *
 * Ownership: cs_ical_to_events() appends caller-owned items to page
 * (released with cs_page_release()); cs_ical_merge() and
 * cs_ical_cancel() return a malloc()ed text in *out that the caller
 * frees. All arguments are borrowed.
 */
#ifndef CS_ICAL_H
#define CS_ICAL_H

#include "err.h"
#include "provider.h"

#define CS_ICAL_HUB_PROP "X-FAMILYHUB-EVENT-ID"
#define CS_ICAL_WRITTEN_PROP "X-FAMILYHUB-WRITTEN"
#define CS_ICAL_MAX ((size_t)4 << 20)   /* the largest resource read or written */

/*
 * Every VEVENT of the resource text (at url, with etag; etag may be NULL)
 * appended to page. -1 only when out of memory.
 */
int cs_ical_to_events(const char *text, const char *url, const char *etag, cs_page *page,
		      cs_err *err);

/*
 * The resource base (NULL: a new one with UID uid) with ev's fields
 * merged into its master VEVENT, or - ev->series_id set - into the
 * override of ev->original_start (added when absent; with ev->cancelled
 * the occurrence is removed as cs_ical_cancel() does). hub_id (may be
 * NULL) and ev->written are stamped. CS_EINVAL when ev is incomplete or
 * base does not parse.
 */
int cs_ical_merge(const char *base, const char *uid, const cs_event *ev, const char *hub_id,
		  char **out, cs_err *err);

/*
 * The resource base with the occurrence original_start removed: an
 * EXDATE on the master, the override (if any) dropped.
 */
int cs_ical_cancel(const char *base, const char *original_start, char **out, cs_err *err);

#endif
