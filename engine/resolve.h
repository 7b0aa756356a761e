/*
 * resolve.h - resolving a conflict (contract 5.5): `local` writes the Hub
 * version to the provider, `external` the provider version to the Hub,
 * `merge` the given fields to both, `ignore` leaves both and stops asking
 * (the mapping takes both current versions as the synced state; after a
 * delete_conflict the pair is left alone: the side that is gone stays
 * gone). The conflict row records who resolved it and how.
 */
#ifndef CS_RESOLVE_H
#define CS_RESOLVE_H

#include <jansson.h>

#include "calendar.h"

/*
 * Resolve conflict_id of cal (cal connected) as resolution says;
 * resolved_by: the person's id (recorded when a UUID), merged: the fields
 * of a merge (borrowed). A conflict resolved already is left as it is,
 * with a note in s->report.
 */
int cs_resolve(cs_sync *s, cs_calendar *cal, const char *conflict_id, const char *resolution,
	       const char *resolved_by, json_t *merged, cs_err *err);

#endif
