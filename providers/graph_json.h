/*
 * graph_json.h - Microsoft Graph event resources <-> cs_event, as pure
 * functions (no I/O), shared by graph.c, the unit tests and the fuzz target.
 *
 * Mapping decisions:
 * - the Hub event id and the fingerprint of what calsync wrote
 *   (cs_event.written) are single-value extended properties of calsync's
 *   own property set (CS_GRAPH_HUB_PROP, CS_GRAPH_WRITTEN_PROP); a create
 *   carries transactionId "fh" + the 32 hex digits of the Hub id, so that
 *   Graph makes no second event when a create is retried. Delta rounds
 *   carry no extended properties (Graph does not $expand there): their
 *   items give the Hub id from transactionId, and no written stamp; get()
 *   reads both.
 * - times are asked for in UTC (Prefer: outlook.timezone="UTC"), and read
 *   as wall time in whatever start.timeZone says (a Windows or IANA name)
 *   so an answer in another zone is still exact; the event's own zone is
 *   originalStartTimeZone (a Windows name) turned into IANA by CLDR.
 *   Written back as wall time in the event's zone under its Windows name
 *   (UTC when CLDR maps none). isAllDay: the dates of start and end
 *   (midnight to midnight), written as midnight in the event's zone.
 * - subject, body.content, location.displayName, attendees' addresses,
 *   showAs tentative <-> status tentative; recurrence <-> RRULE
 *   (graph_recur.h); type exception: seriesMasterId <-> series_id,
 *   originalStart <-> original_start; @removed or isCancelled: cancelled.
 *   A master's cancelledOccurrences ("OID.<master>.<date>") become removed
 *   occurrences of their own (cs_graph_cancelled_from_json), as the
 *   engine keeps them; a Hub EXDATE cancels that occurrence on Outlook.
 * - a PATCH body names only the fields calsync owns (subject, body,
 *   location, start, end, isAllDay, recurrence, attendees, showAs and the
 *   two extended properties), with empty values for what the Hub cleared;
 *   categories, reminders and other apps' properties are never sent.
 *
 * Ownership: cs_graph_event_from_json() fills a caller-owned cs_event
 * (release with cs_event_release(), also after a failure);
 * cs_graph_event_to_json() returns a new reference. Arguments are borrowed.
 */
#ifndef CS_GRAPH_JSON_H
#define CS_GRAPH_JSON_H

#include <jansson.h>

#include "err.h"
#include "provider.h"

#define CS_GRAPH_PROPSET "{5b0b4a8c-3c2e-4f8e-9d61-6a2f1c7e0b94}"
#define CS_GRAPH_HUB_PROP "String " CS_GRAPH_PROPSET " Name familyhub_event_id"
#define CS_GRAPH_WRITTEN_PROP "String " CS_GRAPH_PROPSET " Name familyhub_written"
/* $expand that brings both properties along with each event */
#define CS_GRAPH_EXPAND                                                              \
	"singleValueExtendedProperties($filter=id eq '" CS_GRAPH_HUB_PROP "' or id eq '" \
	CS_GRAPH_WRITTEN_PROP "')"
#define CS_GRAPH_TXN_BUFSZ 40

/* The transactionId of a Hub event id (a UUID, any case, hyphens optional). */
int cs_graph_transaction_id(const char *hub_id, char out[CS_GRAPH_TXN_BUFSZ], cs_err *err);

/*
 * Map one item of a delta page (or a GET/POST/PATCH answer) into *out
 * (zeroed first). An item that cannot be understood is not a failure:
 * out->bad says why, naming the item. -1 only when out of memory.
 */
int cs_graph_event_from_json(json_t *item, cs_event *out, cs_err *err);

/*
 * The body of a create (create: with transactionId from hub_id) or of a
 * PATCH of ev. NULL with CS_EREFUSED when Graph cannot hold ev (a rule it
 * cannot express), CS_EINVAL when ev is incomplete.
 */
json_t *cs_graph_event_to_json(const cs_event *ev, const char *hub_id, bool create,
			       cs_err *err);

/*
 * The i-th of item's cancelledOccurrences (item: a series master, mapped
 * into master) as a removed occurrence: id, series_id, original_start,
 * cancelled - as the engine keeps a removed occurrence. Unreadable: bad.
 * -1 only when out of memory.
 */
int cs_graph_cancelled_from_json(json_t *item, const cs_event *master, size_t i, cs_event *out,
				 cs_err *err);

/*
 * The original start of the occurrence an occurrence id names
 * ("OID.<master>.<YYYY-MM-DD>"), for a series starting at master_start
 * (UTC) in tzid: that date at the master's wall-clock time. 0 when found.
 */
int cs_graph_occurrence_start(const char *occurrence_id, const char *master_start,
			      const char *tzid, bool all_day, char buf[40], cs_err *err);

#endif
