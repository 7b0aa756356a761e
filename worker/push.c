/* push.c - Hub events out to a calendar (see push.h). */
#include "push.h"

#include <stdlib.h>
#include <string.h>

#include "conflict.h"
#include "fingerprint.h"
#include "hub.h"
#include "log.h"
#include "mapping.h"
#include "pull.h"
#include "targets.h"
#include "banned.h"

#define PUSH_BATCH 500
/*
 * An incremental sync looks for pending pushes among the last hour's
 * changes only (an index range, not the whole calendar); older ones are
 * found by full syncs and the scheduler's reconcile.
 */
#define RECENT_CHANGES_S 3600
#define MAX_SERIES_DEPTH 2

static int push_depth(cs_worker *w, cs_job *job, cs_calendar *cal, const char *event_id,
		      int depth, cs_err *err);

/* Is a Hub change of this event on this calendar waiting for a person's decision? */
static int in_conflict(cs_worker *w, const cs_calendar *cal, const char *event_id, bool *yes,
		       cs_err *err)
{
	PGresult *res = NULL;

	if (cs_db_exec(w->db, &res, err,
		       "SELECT 1 FROM calendar_conflicts WHERE event_id = $1"
		       " AND external_calendar_id = $2 AND status = 'pending'"
		       " AND conflict_type IN ('update_conflict', 'delete_conflict')",
		       2, (const char *const[]){event_id, cal->id}))
		return -1;
	*yes = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

/* Record the mapping after a write, in a transaction only our lock may commit. */
static int save(cs_worker *w, cs_job *job, cs_calendar *cal, cs_mapping *m, const char *series,
		cs_err *err)
{
	if (cs_db_begin(w->db, err))
		return -1;
	if (cs_worker_fence(w, job, err) || cs_mapping_save(w->db, cal->id, m, series, 0, err) ||
	    cs_calendar_store_creds(w, cal, err) || cs_db_commit(w->db, err)) {
		cs_db_rollback(w->db);
		return -1;
	}
	return 0;
}

/* The remote said its copy changed since our last sync: a conflict, found by a pull. */
static int precondition_failed(cs_worker *w, cs_job *job, cs_calendar *cal,
			       const cs_hubevent *hub, const cs_mapping *m, cs_err *err)
{
	cs_err pull_err;
	bool pending = false;
	json_t *local, *ext;
	int rc;

	cs_info("calendar %s: the remote copy of event %s changed; looking for the conflict",
		cal->id, hub->ev.id);
	if (cs_calendar_pulls(cal) && cs_pull(w, job, cal, false, &pull_err) == 0 &&
	    in_conflict(w, cal, hub->ev.id, &pending, err))
		return -1;
	if (pending)
		return 0;
	local = cs_event_json(&hub->ev);
	ext = json_pack("{s:s, s:s?, s:s}", "id", m->remote_id, "etag", m->etag, "note",
			"the provider refused the change: its copy changed since the last sync");
	rc = cs_conflict_raise(w, job, cal, hub->deleted ? "delete_conflict" : "update_conflict",
			       hub->ev.id, m->remote_id, local, ext, err);
	json_decref(local);
	json_decref(ext);
	return rc;
}

static int push_delete(cs_worker *w, cs_job *job, cs_calendar *cal, const cs_hubevent *hub,
		       cs_mapping *m, cs_err *err)
{
	if (cal->ops->remove(cal->provider, cal->remote_id, m->remote_id, m->etag, err))
		return err->code == CS_ECONFLICT ? precondition_failed(w, job, cal, hub, m, err) : -1;
	m->is_deleted = true;
	m->synced_at = hub->updated_at;
	job->counts.pushed++;
	return save(w, job, cal, m, NULL, err);
}

/* The remote id of the series of an override, pushing the series first. */
static int remote_series(cs_worker *w, cs_job *job, cs_calendar *cal, const char *hub_series,
			 int depth, char **out, cs_err *err)
{
	cs_mapping sm;
	bool found;

	*out = NULL;
	if (depth >= MAX_SERIES_DEPTH)
		return cs_err_set(err, CS_EINVAL, false, "series %s is itself an override", hub_series);
	if (cs_mapping_by_event(w->db, cal->id, hub_series, &sm, &found, err))
		return -1;
	if (!found) {
		if (push_depth(w, job, cal, hub_series, depth + 1, err) ||
		    cs_mapping_by_event(w->db, cal->id, hub_series, &sm, &found, err))
			return -1;
	}
	if (found && !sm.is_deleted) {
		*out = sm.remote_id;
		sm.remote_id = NULL;
	}
	cs_mapping_release(&sm);
	return *out ? 0 : cs_err_set(err, CS_EINVAL, false, "series %s is not on the calendar",
				     hub_series);
}

static int push_write(cs_worker *w, cs_job *job, cs_calendar *cal, cs_hubevent *hub,
		      cs_mapping *m, bool mapped, int depth, cs_err *err)
{
	char lh[CS_FINGERPRINT_LEN + 1], rh[CS_FINGERPRINT_LEN + 1];
	char *series = NULL, *hub_series = hub->ev.series_id;
	const char *direction = mapped ? m->direction : "to_external";
	cs_event out = {0};
	int rc = -1;

	cs_fingerprint(&hub->ev, lh);
	if (mapped && m->local_hash && strcmp(lh, m->local_hash) == 0)
		return 0; /* nothing changed since the last sync */
	if (hub_series && remote_series(w, job, cal, hub_series, depth, &series, err))
		return -1;
	hub->ev.series_id = series;
	if (mapped) {
		char *hub_id = hub->ev.id;

		hub->ev.id = m->remote_id;  /* borrowed for the call */
		hub->ev.etag = m->etag;
		rc = cal->ops->update(cal->provider, cal->remote_id, &hub->ev, &out, err);
		hub->ev.id = hub_id;
		hub->ev.etag = NULL;
	}
	if (!mapped || (rc && err->code == CS_ENOTFOUND)) {
		mapped = false; /* never there, or deleted there: (re)create it */
		rc = cal->ops->create(cal->provider, cal->remote_id, &hub->ev, hub->ev.hub_id, &out,
				      err);
	}
	hub->ev.series_id = hub_series;
	if (rc) {
		if (mapped && err->code == CS_ECONFLICT)
			rc = precondition_failed(w, job, cal, hub, m, err);
		goto out;
	}
	cs_fingerprint(&out, rh);
	{
		cs_mapping rec = {
			.event_id = hub->ev.hub_id,
			.remote_id = mapped ? m->remote_id : out.id,
			.etag = out.etag,
			.direction = (char *)direction,
			.local_hash = lh,
			.remote_hash = rh,
			.synced_at = hub->updated_at,
		}; /* borrows every string: never released */

		job->counts.pushed++;
		rc = save(w, job, cal, &rec, series, err);
	}
out:
	cs_event_release(&out);
	free(series);
	return rc;
}

static int push_depth(cs_worker *w, cs_job *job, cs_calendar *cal, const char *event_id,
		      int depth, cs_err *err)
{
	cs_hubevent hub = {0};
	cs_mapping m = {0};
	bool found = false, conflicted = false;
	int rc = -1;

	if (cs_hub_load(w->db, event_id, &hub, err))
		return err->code == CS_ENOTFOUND ? 0 : -1;
	if (strcmp(hub.tenant_id, cal->tenant_id) != 0) {
		rc = cs_err_set(err, CS_EINVAL, false, "event %s belongs to another tenant", event_id);
		goto out;
	}
	if (cs_mapping_by_event(w->db, cal->id, event_id, &m, &found, err) ||
	    in_conflict(w, cal, event_id, &conflicted, err))
		goto out;
	if (conflicted || (found && m.left_alone && (hub.deleted || m.is_deleted)))
		rc = 0; /* waiting for a decision, or an ignored deletion */
	else if (hub.deleted)
		rc = found && !m.is_deleted ? push_delete(w, job, cal, &hub, &m, err) : 0;
	else /* live again after its remote copy was deleted: (re)created there */
		rc = push_write(w, job, cal, &hub, &m, found && !m.is_deleted, depth, err);
out:
	cs_mapping_release(&m);
	cs_hubevent_release(&hub);
	return rc;
}

int cs_push_event(cs_worker *w, cs_job *job, cs_calendar *cal, const char *event_id,
		  cs_err *err)
{
	return push_depth(w, job, cal, event_id, 0, err);
}

int cs_push_pending(cs_worker *w, cs_job *job, cs_calendar *cal, bool all, cs_err *err)
{
	cs_idlist list = {0};
	int rc = 0, done = 0;

	if (cs_targets_pending_for_calendar(w->db, cal->id, PUSH_BATCH,
					    all ? 0 : RECENT_CHANGES_S, &list, err))
		return -1;
	for (int i = 0; rc == 0 && i < list.n; i++) {
		rc = cs_push_event(w, job, cal, list.ids[i], err);
		if (rc == 0)
			rc = cs_worker_progress(w, job, ++done, "push", err);
	}
	cs_idlist_release(&list);
	return rc;
}
