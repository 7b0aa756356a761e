/*
 * targets.c - the push-target rule of contract 5.2 as SQL (see targets.h).
 * The rule and the "pending" test are each one SQL fragment shared by all
 * queries, so the scheduler and the worker cannot drift apart.
 * Fragments are constant text; ids and limits travel as parameters.
 */
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Calendar c may receive pushes. */
#define PUSH_CAPABLE(c) \
	c ".is_active IS TRUE AND " c ".sync_direction IN ('bidirectional', 'push_only')"

/* The columns of CTE ev: the events considered, with their series root. */
#define EV_COLUMNS \
	"SELECT e.id, e.tenant_id, e.updated_at, e.deleted_at," \
	" COALESCE(e.recurring_event_id, e.id) AS root," \
	" COALESCE(e.source_calendar_id, (SELECT r.source_calendar_id FROM events r" \
	"   WHERE r.id = e.recurring_event_id)) AS src FROM events e"

/*
 * WITH clause over the events of EV_SELECT (CTE ev) ending in CTE tgt:
 * (event_id, calendar_id) of every target before the push-capable and
 * same-tenant check of TARGET_ROWS.
 *   dflt    per tenant of ev: the primary calendars, and the calendar of
 *           each user who has exactly one push-capable calendar;
 *   linked  calendars holding a from/to_external mapping of an event or
 *           of its series root;
 *   tgt     linked calendars; the calendar an event was pulled from (src,
 *           kept when its mappings are gone); dflt for events that came
 *           from no external calendar (no src, no from_external mapping).
 * Written as joins on small sets so that a chunk of events costs index
 * lookups only.
 */
#define WITH_TARGETS(EV_SELECT)                                                        \
	"WITH ev AS MATERIALIZED (" EV_SELECT "),"                                     \
	" dflt AS MATERIALIZED (SELECT c.id, c.tenant_id FROM external_calendars c"    \
	"   WHERE c.tenant_id IN (SELECT tenant_id FROM ev) AND " PUSH_CAPABLE("c")    \
	"     AND (c.is_primary IS TRUE OR NOT EXISTS (SELECT 1 FROM external_calendars o" \
	"       WHERE o.user_id = c.user_id AND o.tenant_id = c.tenant_id AND o.id <> c.id" \
	"         AND " PUSH_CAPABLE("o") ")))," \
	" linked AS MATERIALIZED ("                                                    \
	"   SELECT ev.id AS event_id, m.external_calendar_id AS calendar_id, m.sync_direction" \
	"   FROM ev JOIN calendar_event_mappings m ON m.event_id = ev.id"              \
	"   WHERE m.sync_direction IN ('from_external', 'to_external')"                \
	"   UNION ALL SELECT ev.id, m.external_calendar_id, m.sync_direction"         \
	"   FROM ev JOIN calendar_event_mappings m ON m.event_id = ev.root"            \
	"   WHERE ev.root <> ev.id AND m.sync_direction IN ('from_external', 'to_external')),"  \
	" tgt AS (SELECT event_id, calendar_id FROM linked"                            \
	"   UNION SELECT ev.id, ev.src FROM ev WHERE ev.src IS NOT NULL"                \
	"   UNION SELECT ev.id, d.id FROM ev JOIN dflt d ON d.tenant_id = ev.tenant_id" \
	"   LEFT JOIN (SELECT DISTINCT event_id FROM linked"                           \
	"     WHERE sync_direction = 'from_external') lf ON lf.event_id = ev.id"       \
	"   WHERE ev.src IS NULL AND lf.event_id IS NULL) "

/* Rows of (ev, c): target calendars c, push-capable and of the event's tenant. */
#define TARGET_ROWS                                                                    \
	"FROM tgt JOIN ev ON ev.id = tgt.event_id"                                     \
	" JOIN external_calendars c ON c.id = tgt.calendar_id AND c.tenant_id = ev.tenant_id" \
	"   AND " PUSH_CAPABLE("c") " "

/*
 * With m (LEFT JOIN) the mapping of (ev, c): the push of ev to c is
 * pending - and c's provider did not refuse this version of ev.
 */
#define WITH_MAPPING_PENDING                                                           \
	"LEFT JOIN calendar_event_mappings m"                                          \
	"  ON m.event_id = ev.id AND m.external_calendar_id = c.id"                    \
	" WHERE ((ev.deleted_at IS NULL AND (m.id IS NULL OR m.last_synced_at IS NULL" \
	"                                    OR m.last_synced_at < ev.updated_at))"    \
	"   OR (ev.deleted_at IS NOT NULL AND m.id IS NOT NULL AND m.is_deleted IS NOT TRUE))" \
	" AND NOT EXISTS (SELECT 1 FROM calendar_push_refusals r WHERE r.event_id = ev.id"  \
	"   AND r.external_calendar_id = c.id AND r.event_updated_at >= ev.updated_at)"

static const char sql_for_event[] =
	WITH_TARGETS(EV_COLUMNS " WHERE e.id = $1::uuid")
	"SELECT c.id::text " TARGET_ROWS "ORDER BY c.id";

/*
 * The events whose push to calendar $1 can be pending, found by index:
 * those mapped to it whose mapping is behind the event (or whose
 * tombstone is not pushed), and the live Hub-created ones not mapped to
 * it yet (pulled events get their mapping in the same transaction). The
 * target rule then decides among these few, as for every other query.
 * With a window ($3 seconds, 0: none) only events changed within it are
 * candidates, a range of the (tenant_id, updated_at) index.
 */
#define CALENDAR_TENANT "(SELECT tenant_id FROM external_calendars WHERE id = $1::uuid)"
#define CHANGED_WITHIN(x) \
	"($3::int = 0 OR " x ".updated_at > now() - $3::int * interval '1 second')"

#define PENDING_CANDIDATES                                                             \
	" WHERE e.id IN (SELECT m.event_id FROM events x"                              \
	"   JOIN calendar_event_mappings m ON m.event_id = x.id"                       \
	"    AND m.external_calendar_id = $1::uuid"                                     \
	"   WHERE x.tenant_id = " CALENDAR_TENANT                                       \
	"   AND " CHANGED_WITHIN("x")                                                   \
	"   AND ((x.deleted_at IS NULL AND (m.last_synced_at IS NULL"                  \
	"         OR m.last_synced_at < x.updated_at))"                                \
	"        OR (x.deleted_at IS NOT NULL AND m.is_deleted IS NOT TRUE))"          \
	"  UNION SELECT x.id FROM events x WHERE x.tenant_id = " CALENDAR_TENANT        \
	"   AND x.source_calendar_id IS NULL AND x.deleted_at IS NULL"                 \
	"   AND " CHANGED_WITHIN("x")                                                   \
	"   AND NOT EXISTS (SELECT 1 FROM calendar_event_mappings m"                   \
	"    WHERE m.event_id = x.id AND m.external_calendar_id = $1::uuid))"

static const char sql_pending_for_calendar[] =
	WITH_TARGETS(EV_COLUMNS PENDING_CANDIDATES)
	"SELECT ev.id::text " TARGET_ROWS WITH_MAPPING_PENDING
	" AND c.id = $1::uuid ORDER BY ev.updated_at, ev.id LIMIT $2::int";

/*
 * Whether calendar $1 has any candidate at all ($2 unused): the same index
 * probes alone. The query above is large, and PostgreSQL plans it anew
 * every time (no named prepared statements: pgbouncer in transaction
 * mode), milliseconds for a calendar that has nothing pending - the
 * common case of a periodic sync - against tens of microseconds for this.
 */
static const char sql_any_candidate[] =
	"SELECT EXISTS (SELECT 1 FROM events e" PENDING_CANDIDATES ") AND $2::int IS NOT NULL";

/* The last id of the next chunk of $2 events after $1 (none: the chunk reaches the end). */
static const char sql_chunk_end[] =
	"SELECT id::text FROM events WHERE $1::uuid IS NULL OR id > $1::uuid"
	" ORDER BY id OFFSET $2::int - 1 LIMIT 1";

static const char sql_pending_chunk[] =
	WITH_TARGETS(EV_COLUMNS " WHERE ($1::uuid IS NULL OR e.id > $1::uuid)"
		     " AND ($2::uuid IS NULL OR e.id <= $2::uuid)")
	"SELECT c.id::text, ev.id::text " TARGET_ROWS WITH_MAPPING_PENDING
	" AND ev.updated_at <= now() - $3::int * interval '1 second' ORDER BY ev.id, c.id";

void cs_idlist_release(cs_idlist *l)
{
	free(l->ids);
	l->ids = NULL;
	l->n = 0;
}

void cs_idpairs_release(cs_idpairs *p)
{
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

/* Copy column 0 of every row of res into out. */
static int fill_list(PGresult *res, cs_idlist *out, cs_err *err)
{
	int n = PQntuples(res);

	if (n == 0)
		return 0;
	out->ids = calloc((size_t)n, sizeof(*out->ids));
	if (!out->ids)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	for (int i = 0; i < n; i++)
		snprintf(out->ids[i], sizeof(out->ids[i]), "%s", PQgetvalue(res, i, 0));
	out->n = n;
	return 0;
}

static int query_list(cs_db *db, const char *what, const char *sql, int nparams,
		      const char *const *params, cs_idlist *out, cs_err *err)
{
	PGresult *res = NULL;
	int rc;

	out->ids = NULL;
	out->n = 0;
	if (cs_db_exec(db, &res, err, sql, nparams, params))
		return cs_err_prefix(err, "%s", what);
	rc = fill_list(res, out, err);
	PQclear(res);
	return rc;
}

int cs_targets_for_event(cs_db *db, const char *event_id, cs_idlist *out, cs_err *err)
{
	const char *params[1] = {event_id};

	out->ids = NULL;
	out->n = 0;
	if (!cs_is_uuid(event_id))
		return cs_err_set(err, CS_EINVAL, false, "targets: event id is not a UUID");
	return query_list(db, "targets of an event", sql_for_event, 1, params, out, err);
}

int cs_targets_pending_for_calendar(cs_db *db, const char *calendar_id, int limit,
				    int changed_within_s, cs_idlist *out, cs_err *err)
{
	char lim[16], within[16];
	const char *params[3] = {calendar_id, lim, within};
	PGresult *res = NULL;
	bool any;

	out->ids = NULL;
	out->n = 0;
	if (!cs_is_uuid(calendar_id))
		return cs_err_set(err, CS_EINVAL, false, "pending pushes: calendar id is not a UUID");
	snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : 0);
	snprintf(within, sizeof(within), "%d", changed_within_s > 0 ? changed_within_s : 0);
	if (cs_db_exec(db, &res, err, sql_any_candidate, 3, params))
		return cs_err_prefix(err, "pending pushes of a calendar");
	any = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!any)
		return 0;
	return query_list(db, "pending pushes of a calendar", sql_pending_for_calendar, 3,
			  params, out, err);
}

/* Into end: the last event id of the chunk after `after`, "" when it reaches the end. */
static int chunk_end(cs_db *db, const char *after, int chunk, char end[CS_UUID_LEN + 1],
		     cs_err *err)
{
	char n[16];
	const char *params[2] = {after, n};
	PGresult *res = NULL;

	snprintf(n, sizeof(n), "%d", chunk);
	end[0] = '\0';
	if (cs_db_exec(db, &res, err, sql_chunk_end, 2, params))
		return cs_err_prefix(err, "pending pushes");
	if (PQntuples(res) == 1)
		snprintf(end, CS_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int cs_targets_pending_scan(cs_db *db, const char *after, int chunk, int settle_s,
			    cs_idpairs *out, char next[CS_UUID_LEN + 1], cs_err *err)
{
	char settle[16], from[CS_UUID_LEN + 1];
	const char *params[3] = {NULL, NULL, settle};
	PGresult *res = NULL;
	int n;

	out->items = NULL;
	out->n = 0;
	if (after && *after && !cs_is_uuid(after))
		return cs_err_set(err, CS_EINVAL, false, "pending pushes: cursor is not a UUID");
	snprintf(from, sizeof(from), "%s", after ? after : "");  /* after may be next */
	next[0] = '\0';
	params[0] = from[0] ? from : NULL;
	if (chunk_end(db, params[0], chunk > 0 ? chunk : 1, next, err))
		return -1;
	params[1] = next[0] ? next : NULL;
	snprintf(settle, sizeof(settle), "%d", settle_s > 0 ? settle_s : 0);
	if (cs_db_exec(db, &res, err, sql_pending_chunk, 3, params)) {
		next[0] = '\0';
		return cs_err_prefix(err, "pending pushes");
	}
	n = PQntuples(res);
	if (n > 0 && !(out->items = calloc((size_t)n, sizeof(*out->items)))) {
		PQclear(res);
		next[0] = '\0';
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		snprintf(out->items[i].calendar_id, sizeof(out->items[i].calendar_id), "%s",
			 PQgetvalue(res, i, 0));
		snprintf(out->items[i].event_id, sizeof(out->items[i].event_id), "%s",
			 PQgetvalue(res, i, 1));
	}
	out->n = n;
	PQclear(res);
	return 0;
}
