/*
 * resolve.c - the `resolve` job (contract 5.5): `local` writes the Hub
 * version to the provider, `external` the provider version to the Hub,
 * `merge` the given fields to both, `ignore` leaves both and stops asking
 * (the mapping takes both current versions as the synced state; after a
 * delete_conflict the pair is left alone: the side that is gone stays gone). The
 * conflict row records who resolved it and how.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "fingerprint.h"
#include "handlers.h"
#include "hub.h"
#include "ids.h"
#include "mapping.h"
#include "push.h"
#include "banned.h"

struct conflict {
	PGresult *res;          /* owns the strings below */
	const char *id, *type, *event_id, *remote_id, *status;
	json_t *external;
};

static int load(cs_worker *w, const char *id, struct conflict *c, cs_err *err)
{
	memset(c, 0, sizeof(*c));
	if (cs_db_exec(w->db, &c->res, err,
		       "SELECT id, conflict_type, event_id, external_event_id, status,"
		       " COALESCE(external_data, '{}'::jsonb)::text"
		       " FROM calendar_conflicts WHERE id = $1 FOR UPDATE",
		       1, &id))
		return -1;
	if (PQntuples(c->res) != 1) {
		PQclear(c->res);
		c->res = NULL;
		return cs_err_set(err, CS_ENOTFOUND, false, "conflict %s does not exist", id);
	}
	c->id = PQgetvalue(c->res, 0, 0);
	c->type = PQgetvalue(c->res, 0, 1);
	c->event_id = cs_db_get(c->res, 0, 2);
	c->remote_id = cs_db_get(c->res, 0, 3);
	c->status = PQgetvalue(c->res, 0, 4);
	c->external = json_loads(PQgetvalue(c->res, 0, 5), 0, NULL);
	return 0;
}

static void release(struct conflict *c)
{
	PQclear(c->res);
	json_decref(c->external);
}

/* Overlay the fields a person chose onto base. */
static int merge_into(cs_event *base, json_t *merged, cs_err *err)
{
	cs_event m;
	const char *keys[] = {"title", "description", "location", "start", "end", "timezone",
			      "recurrence"};
	char **dst[] = {&base->title, &base->description, &base->location, &base->start,
			&base->end, &base->timezone, &base->recurrence};
	char **src[] = {&m.title, &m.description, &m.location, &m.start, &m.end, &m.timezone,
			&m.recurrence};

	if (!json_is_object(merged))
		return cs_err_set(err, CS_EINVAL, false, "resolve job: merge needs a 'merged' object");
	if (cs_event_from_json(merged, &m, err))
		return cs_err_prefix(err, "resolve job: merged");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!json_object_get(merged, keys[i]))
			continue;
		free(*dst[i]);
		*dst[i] = *src[i];
		*src[i] = NULL;
	}
	if (json_object_get(merged, "all_day"))
		base->all_day = m.all_day;
	cs_event_release(&m);
	return 0;
}

/* The mapping as "synced" with the current Hub version and the given remote version. */
static int settle(cs_worker *w, cs_calendar *cal, const struct conflict *c, const cs_event *hub,
		  const cs_event *ext, bool force_push, cs_err *err)
{
	char lh[CS_FINGERPRINT_LEN + 1], rh[CS_FINGERPRINT_LEN + 1];
	cs_mapping m;
	bool found;
	int rc;

	if (cs_mapping_by_event(w->db, cal->id, c->event_id, &m, &found, err))
		return -1;
	if (!found) {
		cs_mapping_release(&m);
		return 0;
	}
	cs_fingerprint(hub, lh);
	free(m.local_hash);
	m.local_hash = strdup(force_push ? "" : lh);
	if (ext->start) {
		cs_fingerprint(ext, rh);
		free(m.remote_hash);
		m.remote_hash = strdup(rh);
	}
	if (ext->etag) {
		free(m.etag);
		m.etag = strdup(ext->etag);
	}
	m.is_deleted = false;
	rc = cs_mapping_save(w->db, cal->id, &m, NULL, 0, err);
	cs_mapping_release(&m);
	return rc;
}

static const char *apply(cs_worker *w, cs_job *job, cs_calendar *cal, struct conflict *c,
			 const char *resolution, cs_err *err)
{
	bool remote_gone = json_is_true(json_object_get(c->external, "deleted"));
	cs_hubevent hub = {0};
	cs_event ext = {0};
	const char *status = NULL;

	if (strcmp(c->type, "time_overlap") == 0)
		return strcmp(resolution, "ignore") == 0 ? "ignored" : "resolved_local";
	if (!c->event_id || cs_hub_load(w->db, c->event_id, &hub, err) ||
	    cs_event_from_json(c->external, &ext, err))
		goto out;
	if (strcmp(resolution, "ignore") == 0) {
		/* a deletion ignored stays one-sided: neither tombstoned nor re-created */
		if (settle(w, cal, c, &hub.ev, &ext, false, err) == 0 &&
		    (strcmp(c->type, "delete_conflict") != 0 ||
		     cs_mapping_leave_alone(w->db, cal->id, c->event_id, remote_gone, err) == 0))
			status = "ignored";
	} else if (strcmp(resolution, "external") == 0) {
		if (remote_gone ? cs_hub_tombstone(w->db, c->event_id, err) == 0 :
				  cs_hub_update(w->db, c->event_id, &ext, hub.ev.series_id, err) == 0 &&
					  settle(w, cal, c, &ext, &ext, false, err) == 0)
			status = "resolved_external";
		job->counts.updated++;
	} else {
		if (strcmp(resolution, "merge") == 0 &&
		    (merge_into(remote_gone ? &hub.ev : &ext, json_object_get(job->data, "merged"), err) ||
		     cs_hub_update(w->db, c->event_id, remote_gone ? &hub.ev : &ext, hub.ev.series_id, err)))
			goto out;
		if (settle(w, cal, c, &hub.ev, &ext, true, err) == 0 &&
		    cs_db_exec(w->db, NULL, err, "UPDATE events SET updated_at = NOW() WHERE id = $1",
			       1, &c->event_id) == 0)
			status = strcmp(resolution, "merge") == 0 ? "resolved_merge" : "resolved_local";
	}
out:
	cs_event_release(&ext);
	cs_hubevent_release(&hub);
	return status;
}

static int resolve(cs_worker *w, cs_job *job, cs_calendar *cal, cs_err *err)
{
	const char *resolution = cs_job_str(job, "resolution");
	const char *by = cs_job_str(job, "resolved_by");
	struct conflict c;
	const char *status;
	bool push;
	int rc = -1;

	if (!resolution || (strcmp(resolution, "local") && strcmp(resolution, "external") &&
			    strcmp(resolution, "merge") && strcmp(resolution, "ignore")))
		return cs_err_set(err, CS_EINVAL, false,
				  "resolve job: resolution must be local, external, merge or ignore");
	if (cs_db_begin(w->db, err))
		return -1;
	if (cs_worker_fence(w, job, err) || load(w, cs_job_str(job, "conflict_id"), &c, err))
		goto fail;
	if (strcmp(c.status, "pending") != 0) {
		snprintf(job->error, sizeof(job->error), "conflict already %s", c.status);
		release(&c);
		cs_db_rollback(w->db);
		return 0;
	}
	status = apply(w, job, cal, &c, resolution, err);
	if (!status ||
	    cs_db_exec(w->db, NULL, err,
		       "UPDATE calendar_conflicts SET status = $2, resolved_at = NOW(),"
		       " resolved_by = $3, resolution_notes = $4 WHERE id = $1",
		       4, (const char *const[]){c.id, status, cs_is_uuid(by) ? by : NULL,
						resolution}) ||
	    cs_db_commit(w->db, err))
		goto fail_release;
	push = strcmp(c.type, "time_overlap") != 0 && c.event_id &&
	       (strcmp(status, "resolved_local") == 0 || strcmp(status, "resolved_merge") == 0);
	rc = push && cs_calendar_pushes(cal) ? cs_push_event(w, job, cal, c.event_id, err) : 0;
	release(&c);
	return rc;
fail_release:
	release(&c);
fail:
	cs_db_rollback(w->db);
	return -1;
}

int cs_handle_resolve(cs_worker *w, cs_job *job, cs_err *err)
{
	return cs_calendar_run(w, job, true, resolve, err);
}
