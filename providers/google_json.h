/*
 * google_json.h - Google Calendar v3 event resources <-> cs_event, as pure
 * functions (no I/O), shared by google.c and the unit tests.
 *
 * Mapping decisions:
 * - ids: an event calsync creates gets the client-supplied id
 *   "fh" + the 32 lowercase hex digits of the Hub event's UUID (hex digits
 *   are base32hex, so the id is valid; the same Hub event always gives the
 *   same id, which makes a retried insert a 409 instead of a duplicate).
 * - the Hub event id is also stamped as
 *   extendedProperties.private.familyhub_event_id (CS_GOOGLE_HUB_KEY), and
 *   the fingerprint of what calsync wrote as familyhub_written.
 * - times: all-day {date} <-> all_day + "YYYY-MM-DD"; timed {dateTime with
 *   any offset, timeZone?} <-> UTC "YYYY-MM-DDTHH:MM:SSZ" + timezone (the
 *   start's timeZone). Written back as dateTime in UTC plus timeZone;
 *   recurring events and overrides get timeZone "UTC" when the event has
 *   none, as Google requires one for them.
 * - recurrence[] <-> lines joined by '\n'; recurringEventId <-> series_id;
 *   originalStartTime <-> original_start (same normalisation);
 *   attendees[].email <-> attendees; status "cancelled" <-> cancelled.
 *
 * Ownership: cs_google_event_from_json() fills a caller-owned cs_event
 * (release it with cs_event_release(), also after a failure);
 * cs_google_event_to_json() returns a new reference the caller
 * json_decref()s. The json_t arguments are borrowed.
 */
#ifndef CS_GOOGLE_JSON_H
#define CS_GOOGLE_JSON_H

#include <jansson.h>

#include "err.h"
#include "provider.h"

#define CS_GOOGLE_HUB_KEY "familyhub_event_id"
#define CS_GOOGLE_WRITTEN_KEY "familyhub_written"  /* cs_event.written */

/*
 * The partial response (`fields`) events.list asks for: exactly what
 * cs_google_event_from_json() reads, so Google sends and the worker
 * parses nothing else. Keep the two in step.
 */
#define CS_GOOGLE_LIST_FIELDS                                                       \
	"nextPageToken,nextSyncToken,items(id,etag,status,summary,description,"     \
	"location,start,end,recurrence,recurringEventId,originalStartTime,"         \
	"attendees/email,extendedProperties/private)"
#define CS_GOOGLE_ID_BUFSZ 40

/* The Google event id for a Hub event id (a UUID, any case, hyphens optional). */
int cs_google_event_id(const char *hub_id, char out[CS_GOOGLE_ID_BUFSZ],
		       cs_err *err);

/*
 * Map one item of an events list (or an events.get/insert answer) into
 * *out (zeroed first). An item that cannot be understood is not a
 * failure: out->bad says why (with the item's id when it has one) and
 * only out->id / out->etag are kept. Returns -1 only when out of memory.
 */
int cs_google_event_from_json(json_t *item, cs_event *out, cs_err *err);

/*
 * The request body for events.insert/update of ev (without "id"), with
 * hub_id (may be NULL) stamped under CS_GOOGLE_HUB_KEY and ev->written
 * (may be NULL) under CS_GOOGLE_WRITTEN_KEY. NULL with
 * CS_EINVAL when ev is not complete (start/end missing or malformed).
 */
json_t *cs_google_event_to_json(const cs_event *ev, const char *hub_id,
				cs_err *err);

/*
 * Make body (from cs_google_event_to_json) a PATCH that also clears what
 * ev lacks among the fields calsync owns (summary, description, location,
 * recurrence: null; attendees: []), so that Google keeps only the fields
 * calsync does not model.
 */
int cs_google_patch_clears(json_t *body, const cs_event *ev, cs_err *err);

/*
 * Make body's attendees (from cs_google_event_to_json) keep what Google
 * holds for each address (responseStatus, displayName, ...): an address
 * also in remote (the stored event's attendees array, may be NULL) is
 * sent as its remote object; new addresses go as {email}; remote
 * attendees no longer listed are left out. Addresses compare
 * case-insensitively.
 */
int cs_google_keep_attendees(json_t *body, json_t *remote, cs_err *err);

#endif
