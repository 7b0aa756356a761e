/*
 * targets.h - where Hub events are pushed (contract section 5.2), shared
 * by the scheduler (Kafka messages, reconcile) and the worker's sync
 * engine (what a push or sync still has to write), so that both follow
 * one rule, written once in SQL.
 *
 * The rule. A calendar is push-capable when is_active AND sync_direction
 * IN ('bidirectional', 'push_only'); only push-capable calendars of the
 * event's tenant are ever targets. The targets of a Hub event E (of an
 * override: of its series root R = E.recurring_event_id, plus E itself):
 *   - when E or R came from an external calendar (events.source_calendar_id,
 *     or a 'from_external' mapping): that calendar only - none once it is
 *     disconnected, so its events never spread to other calendars;
 *   - otherwise (a Hub-created event): for each user of the tenant, the
 *     user's primary calendars (is_primary), or, for a user with exactly
 *     one push-capable calendar, that one;
 *   - in both cases also every calendar already holding a 'to_external'
 *     mapping of E or R, so that changes and tombstones reach copies made
 *     before.
 *
 * A push of E to target C is pending when:
 *   - E is live (deleted_at IS NULL) and has no mapping to C, or its
 *     mapping's last_synced_at is NULL or older than E.updated_at; or
 *   - E is tombstoned (deleted_at set) and its mapping to C exists and is
 *     not is_deleted;
 * and C's provider has not refused this version of E
 * (calendar_push_refusals: a refusal stands until E.updated_at passes it).
 * So every push attempt (or pull) must settle what it decided: set the
 * mapping's last_synced_at to at least E.updated_at (and is_deleted after
 * deleting the remote copy), or record the refusal - also when it wrote
 * nothing (no change, a conflict, a remote copy gone) - or the push stays
 * pending.
 *
 * Ownership: the lists are the caller's; fill an empty list
 * (zero-initialised, or after release) and free it with its release
 * function. Ids are canonical lowercase UUID strings.
 */
#ifndef CS_TARGETS_H
#define CS_TARGETS_H

#include "db.h"
#include "err.h"
#include "ids.h"

typedef struct cs_idlist {
	char (*ids)[CS_UUID_LEN + 1];  /* ids[0] .. ids[n - 1] */
	int n;
} cs_idlist;

typedef struct cs_idpair {
	char calendar_id[CS_UUID_LEN + 1];
	char event_id[CS_UUID_LEN + 1];
} cs_idpair;

typedef struct cs_idpairs {
	cs_idpair *items;
	int n;
} cs_idpairs;

void cs_idlist_release(cs_idlist *l);
void cs_idpairs_release(cs_idpairs *p);

/*
 * The target calendars of one Hub event (tombstoned or not), sorted.
 * An event that does not exist has none (an empty list, not an error).
 */
int cs_targets_for_event(cs_db *db, const char *event_id, cs_idlist *out, cs_err *err);

/*
 * Up to `limit` events whose push to calendar_id is pending, oldest
 * change first, among the events changed in the last changed_within_s
 * seconds (0: all). Empty when the calendar is not push-capable.
 */
int cs_targets_pending_for_calendar(cs_db *db, const char *calendar_id, int limit,
				    int changed_within_s, cs_idlist *out, cs_err *err);

/*
 * One step of a scan over all events in id order, for the scheduler's
 * reconcile: the pending (calendar, event) pushes among the next `chunk`
 * events after event id `after` (NULL or "" to start), counting only
 * events last changed at least settle_s seconds ago (fresher changes are
 * left to the Kafka path). next receives the id to continue after, or ""
 * when this step reached the last event (next may be the after buffer).
 * Each step costs index lookups for `chunk` events, however large the
 * table.
 */
int cs_targets_pending_scan(cs_db *db, const char *after, int chunk, int settle_s,
			    cs_idpairs *out, char next[CS_UUID_LEN + 1], cs_err *err);

#endif
