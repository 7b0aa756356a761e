/*
 * push.c - Hub events out to a calendar (see push.h). Every attempt ends
 * by recording what it decided, in one transaction only our lock may
 * commit (record()), so that only a real change is pending again
 * (targets.h): a write stores the mapping; no change, a pending
 * conflict or a remote copy gone for good settle the mapping as synced
 * with this version; a refusal by the provider is stored against this
 * version; a calendar the account may only read becomes pull-only.
 */
#include "push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflict.h"
#include "decide.h"
#include "fingerprint.h"
#include "hub.h"
#include "audit.h"
#include "log.h"
#include "mapping.h"
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

/* What one push attempt decided (see record()). */
struct outcome {
	enum { WROTE, SETTLED, CONFLICT, REFUSED, READ_ONLY } kind;
	const cs_hubevent *hub;      /* the version decided on (not READ_ONLY) */
	const cs_mapping *mapping;   /* WROTE: the mapping as synced now */
	const char *series;          /* WROTE: the remote series of an override, or NULL */
	const char *action;          /* WROTE: created, updated, deleted (audit.h); NULL: no write */
	const char *type, *remote_id; /* CONFLICT */
	json_t *local, *external;    /* CONFLICT: both versions */
	const char *why;             /* REFUSED: the provider's answer */
};

static int push_depth(cs_sync *s, cs_calendar *cal, const char *event_id,
		      int depth, cs_err *err);

static int record_one(cs_sync *s, cs_calendar *cal, const struct outcome *o,
		      cs_err *err)
{
	switch (o->kind) {
	case WROTE:
		if (cs_mapping_save(s->db, cal->id, o->mapping, o->series, 0, err) ||
		    (o->action && cs_audit_push(s->db, s->run_id, cal->id, o->hub->ev.id,
						o->mapping->remote_id, o->action, err)))
			return -1;
		if (o->mapping->is_deleted || !cs_calendar_can(cal, CS_CAP_SERIES_ONE_RESOURCE))
			return 0;
		/* the write moved the etag of the series' whole resource */
		return cs_mapping_share_resource(s->db, cal->id,
						 o->series ? o->series : o->mapping->remote_id,
						 o->mapping->etag, o->mapping->raw, err);
	case CONFLICT:  /* raised, and the push settled until a person decides */
		if (cs_conflict_raise(s, cal, o->type, o->hub->ev.id, o->remote_id, o->local,
				      o->external, err))
			return -1;
		return cs_mapping_settle(s->db, cal->id, o->hub->ev.id, o->hub->updated_at, err);
	case SETTLED:
		return cs_mapping_settle(s->db, cal->id, o->hub->ev.id, o->hub->updated_at, err);
	case REFUSED:
		return cs_db_exec(s->db, NULL, err,
				  "INSERT INTO calendar_push_refusals (event_id, external_calendar_id,"
				  " event_updated_at, error) VALUES ($1, $2, $3::timestamptz, $4)"
				  " ON CONFLICT (event_id, external_calendar_id) DO UPDATE SET"
				  " event_updated_at = EXCLUDED.event_updated_at, error = EXCLUDED.error,"
				  " refused_at = NOW()",
				  4, (const char *const[]){o->hub->ev.id, cal->id, o->hub->updated_at,
							   o->why});
	case READ_ONLY:
		return cs_db_exec(s->db, NULL, err,
				  "UPDATE external_calendars SET sync_direction = 'pull_only',"
				  " updated_at = NOW() WHERE id = $1",
				  1, (const char *const[]){cal->id});
	}
	return cs_err_set(err, CS_EINVAL, false, "push: unknown outcome %d", (int)o->kind);
}

/* Record what a push attempt decided, in a transaction only our lock may commit. */
static int record(cs_sync *s, cs_calendar *cal, const struct outcome *o,
		  cs_err *err)
{
	if (cs_db_begin(s->db, err))
		return -1;
	if (s->fence(s, err) || record_one(s, cal, o, err) ||
	    cs_calendar_store_creds(s, cal, err) || cs_db_commit(s->db, err)) {
		cs_db_rollback(s->db);
		return -1;
	}
	return 0;
}

static int settle(cs_sync *s, cs_calendar *cal, const cs_hubevent *hub,
		  cs_err *err)
{
	return record(s, cal, &(struct outcome){.kind = SETTLED, .hub = hub}, err);
}

/* What holds a push back: a pending conflict, or a refusal of this version. */
static int held_back(cs_sync *s, const cs_calendar *cal, const cs_hubevent *hub,
		     bool *conflicted, bool *refused, cs_err *err)
{
	PGresult *res = NULL;

	if (cs_db_exec(s->db, &res, err,
		       "SELECT EXISTS (SELECT 1 FROM calendar_conflicts WHERE event_id = $1"
		       "  AND external_calendar_id = $2 AND status = 'pending'"
		       "  AND conflict_type IN ('update_conflict', 'delete_conflict')),"
		       " EXISTS (SELECT 1 FROM calendar_push_refusals WHERE event_id = $1"
		       "  AND external_calendar_id = $2 AND event_updated_at >= $3::timestamptz)",
		       3, (const char *const[]){hub->ev.id, cal->id, hub->updated_at}))
		return -1;
	*conflicted = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	*refused = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return 0;
}

/*
 * After a failed precondition: read the remote copy again and decide
 * (decide.h) against lh (the Hub's content) and the remote content of
 * the last sync. A copy that cannot be understood is CS_EREFUSED.
 */
static int reread(cs_calendar *cal, const cs_mapping *m, const char *lh, bool deleting,
		  cs_event *remote, enum cs_action *act, cs_err *err)
{
	char rh[CS_FINGERPRINT_LEN + 1];
	cs_reread_facts f = {.deleting = deleting, .remote_gone = true};

	if (cal->ops->get(cal->provider, cal->remote_id, m->remote_id, remote, err)) {
		if (err->code != CS_ENOTFOUND)
			return -1;
	} else if (remote->bad) { /* isolated like a bad pulled item */
		return cs_err_set(err, CS_EREFUSED, false, "the remote copy cannot be read: %s",
				  remote->bad);
	} else {
		cs_fingerprint(remote, rh);
		f.remote_gone = remote->cancelled;
		f.equal = strcmp(rh, lh) == 0;
		f.own_write = remote->written && strcmp(remote->written, rh) == 0;
		f.remote = cs_change_of(rh, m->remote_hash);
	}
	*act = cs_decide_reread(&f);
	return 0;
}

/*
 * The remote copy changed what calsync models, or is gone (cancelled, or
 * unknown: remote empty) while the Hub changed it: a conflict with both
 * full versions.
 */
static int raise_conflict(cs_sync *s, cs_calendar *cal, const cs_hubevent *hub,
			  const cs_mapping *m, const cs_event *remote, enum cs_action act, cs_err *err)
{
	bool gone = !hub->deleted && act == CS_ACT_DELETE_CONFLICT;
	struct outcome o = {.kind = CONFLICT, .hub = hub, .remote_id = m->remote_id,
			    .type = act == CS_ACT_DELETE_CONFLICT ? "delete_conflict" : "update_conflict",
			    .local = cs_event_json(&hub->ev), .external = cs_event_json(remote)};
	int rc;

	cs_info("calendar %s: the remote copy of event %s changed since the last sync: a conflict",
		cal->id, hub->ev.id);
	json_object_set_new(o.local, "deleted", json_boolean(hub->deleted));
	json_object_set_new(o.external, "deleted", json_boolean(gone));
	rc = record(s, cal, &o, err);
	json_decref(o.local);
	json_decref(o.external);
	return rc;
}

/* A write refused under the fresh etag too: the remote changes right now; try later. */
static int still_changing(cs_err *err)
{
	err->retryable = true;
	return cs_err_prefix(err, "the remote copy changed again while it was re-read");
}

/* The remote copy is deleted: the mapping says so. */
static int deleted(cs_sync *s, cs_calendar *cal, const cs_hubevent *hub,
		   cs_mapping *m, cs_err *err)
{
	m->is_deleted = true;
	m->synced_at = hub->updated_at;
	s->report.counts.pushed++;
	return record(s, cal, &(struct outcome){.kind = WROTE, .hub = hub, .mapping = m,
						.action = "deleted"}, err);
}

/*
 * Delete the remote copy under the stored etag. When that fails its
 * precondition, the copy is read again: gone already - done; holding
 * what calsync wrote or the Hub held (only what calsync does not model
 * changed) - deleted under the fresh etag; changed - a conflict.
 */
static int push_delete(cs_sync *s, cs_calendar *cal, const cs_hubevent *hub,
		       cs_mapping *m, cs_err *err)
{
	char lh[CS_FINGERPRINT_LEN + 1];
	enum cs_action act;
	cs_event remote = {0};
	int rc = -1;

	if (cal->ops->remove(cal->provider, cal->remote_id, m->remote_id, m->etag, err) == 0)
		return deleted(s, cal, hub, m, err);
	cs_fingerprint(&hub->ev, lh);
	if (err->code != CS_ECONFLICT || reread(cal, m, lh, true, &remote, &act, err))
		goto out;
	if (act == CS_ACT_DELETE_CONFLICT)
		rc = raise_conflict(s, cal, hub, m, &remote, act, err);
	else if (act == CS_ACT_SETTLE_EQUAL ||
		 cal->ops->remove(cal->provider, cal->remote_id, m->remote_id, remote.etag, err) == 0)
		rc = deleted(s, cal, hub, m, err);
	else if (err->code == CS_ECONFLICT)
		rc = still_changing(err);
out:
	cs_event_release(&remote);
	return rc;
}

/* The remote id of the series of an override, pushing the series first. */
static int remote_series(cs_sync *s, cs_calendar *cal, const char *hub_series,
			 int depth, char **out, cs_err *err)
{
	cs_mapping sm;
	bool found;

	*out = NULL;
	if (depth >= MAX_SERIES_DEPTH)
		return cs_err_set(err, CS_EREFUSED, false, "series %s is itself an override",
				  hub_series);
	if (cs_mapping_by_event(s->db, cal->id, hub_series, &sm, &found, err))
		return -1;
	if (!found) {
		if (push_depth(s, cal, hub_series, depth + 1, err) ||
		    cs_mapping_by_event(s->db, cal->id, hub_series, &sm, &found, err))
			return -1;
	}
	if (found && !sm.is_deleted) {
		*out = sm.remote_id;
		sm.remote_id = NULL;
	}
	cs_mapping_release(&sm);
	return *out ? 0 : cs_err_set(err, CS_EREFUSED, false, "series %s is not on the calendar",
				     hub_series);
}

/*
 * Write the Hub's content over the remote copy base (its id, under its
 * etag, merged into the provider's own representation of it); *out the answer.
 */
static int update_remote(cs_calendar *cal, cs_hubevent *hub, const cs_event *base,
			 cs_event *out, cs_err *err)
{
	char *hub_id = hub->ev.id;
	int rc;

	cs_event_release(out);
	hub->ev.id = base->id;  /* borrowed for the call */
	hub->ev.etag = base->etag;
	hub->ev.raw = base->raw;
	rc = cal->ops->update(cal->provider, cal->remote_id, &hub->ev, out, err);
	hub->ev.id = hub_id;
	hub->ev.etag = hub->ev.raw = NULL;
	return rc;
}

/*
 * The update of a mapped event failed its precondition. Read the remote
 * copy again: it holds the Hub's content already (our own write got
 * through: *out is it, nothing to write); it changed only what calsync
 * does not model (write again under the fresh etag); it changed, or is
 * gone while the Hub changed it (a conflict, *conflicted).
 */
static int precondition_failed(cs_sync *s, cs_calendar *cal, cs_hubevent *hub,
			       const cs_mapping *m, const char *lh, cs_event *out, bool *wrote,
			       bool *conflicted, cs_err *err)
{
	enum cs_action act;
	cs_event remote = {0};
	int rc = -1;

	if (reread(cal, m, lh, false, &remote, &act, err))
		goto out;
	if (act == CS_ACT_SETTLE_EQUAL) {
		cs_event_release(out);
		*out = remote;
		memset(&remote, 0, sizeof(remote));
		*wrote = false;
		rc = 0;
	} else if (act == CS_ACT_UPDATE_REMOTE) {
		rc = update_remote(cal, hub,
				   &(cs_event){.id = m->remote_id, .etag = remote.etag, .raw = remote.raw},
				   out, err);
		if (rc && err->code == CS_ECONFLICT)
			rc = still_changing(err);
	} else {
		*conflicted = true;
		rc = raise_conflict(s, cal, hub, m, &remote, act, err);
	}
out:
	cs_event_release(&remote);
	return rc;
}

/*
 * Create the event (made idempotent by its Hub id). A retried create
 * adopts the copy its first attempt made: when that holds other content
 * (the Hub changed in between), the current version is written over it.
 */
static int create_remote(cs_calendar *cal, cs_hubevent *hub, const char *lh, cs_event *out,
			 cs_err *err)
{
	char rh[CS_FINGERPRINT_LEN + 1];
	cs_event first;
	int rc;

	cs_event_release(out);
	if (cal->ops->create(cal->provider, cal->remote_id, &hub->ev, hub->ev.hub_id, out, err))
		return -1;
	cs_fingerprint(out, rh);
	if (!out->existed || strcmp(rh, lh) == 0)
		return 0;
	cs_info("calendar %s: event %s was created before with other content; writing it again",
		cal->id, hub->ev.id);
	first = *out;
	memset(out, 0, sizeof(*out));
	rc = update_remote(cal, hub, &first, out, err);
	cs_event_release(&first);
	return rc;
}

static int push_write(cs_sync *s, cs_calendar *cal, cs_hubevent *hub,
		      cs_mapping *m, bool mapped, int depth, cs_err *err)
{
	char lh[CS_FINGERPRINT_LEN + 1], rh[CS_FINGERPRINT_LEN + 1];
	char *series = NULL, *hub_series = hub->ev.series_id;
	const char *direction = mapped ? m->direction : "to_external";
	bool wrote = true, conflicted = false;
	cs_event out = {0};
	int rc = -1;

	cs_fingerprint(&hub->ev, lh);
	free(hub->ev.written);
	hub->ev.written = strdup(lh);   /* the remote copy keeps what calsync wrote */
	if (!hub->ev.written)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (hub_series && remote_series(s, cal, hub_series, depth, &series, err))
		return -1;
	hub->ev.series_id = series;
	if (mapped) {
		rc = update_remote(cal, hub,
				   &(cs_event){.id = m->remote_id, .etag = m->etag, .raw = m->raw},
				   &out, err);
		if (rc && err->code == CS_ECONFLICT)
			rc = precondition_failed(s, cal, hub, m, lh, &out, &wrote, &conflicted, err);
	}
	if (!mapped || (rc && err->code == CS_ENOTFOUND)) {
		mapped = false; /* never there, or deleted there: (re)create it */
		rc = create_remote(cal, hub, lh, &out, err);
	}
	hub->ev.series_id = hub_series;
	if (rc || conflicted)
		goto out;
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
			.raw = out.raw,
		}; /* borrows every string: never released */

		s->report.counts.pushed += wrote;
		rc = record(s, cal,
			    &(struct outcome){.kind = WROTE, .hub = hub, .mapping = &rec,
					      .series = series,
					      .action = !wrote ? NULL : mapped ? "updated" : "created"},
			    err);
	}
out:
	cs_event_release(&out);
	free(series);
	return rc;
}

/* The Hub copy against the last sync (no mapping: nothing stored). */
static enum cs_change local_change(const cs_hubevent *hub, const cs_mapping *m)
{
	char lh[CS_FINGERPRINT_LEN + 1];

	cs_fingerprint(&hub->ev, lh);
	return cs_change_of(lh, m->local_hash);
}

/* Carry out what the push decides (decide.h). */
static int act_on(cs_sync *s, cs_calendar *cal, cs_hubevent *hub, cs_mapping *m,
		  const cs_push_facts *f, int depth, cs_err *err)
{
	switch (cs_decide_push(f)) {
	case CS_ACT_SETTLE:
		return settle(s, cal, hub, err);
	case CS_ACT_DELETE_REMOTE:
		return push_delete(s, cal, hub, m, err);
	case CS_ACT_UPDATE_REMOTE:
		return push_write(s, cal, hub, m, true, depth, err);
	case CS_ACT_CREATE_REMOTE: /* never there, or live again after its remote copy was deleted */
		return push_write(s, cal, hub, m, false, depth, err);
	default: /* nothing to do */
		return 0;
	}
}

static int push_depth(cs_sync *s, cs_calendar *cal, const char *event_id,
		      int depth, cs_err *err)
{
	cs_hubevent hub = {0};
	cs_mapping m = {0};
	bool found = false, conflicted = false, refused = false;
	int rc = -1;

	if (cs_hub_load(s->db, event_id, &hub, err))
		return err->code == CS_ENOTFOUND ? 0 : -1;
	if (strcmp(hub.tenant_id, cal->tenant_id) != 0) {
		rc = cs_err_set(err, CS_EINVAL, false, "event %s belongs to another tenant", event_id);
		goto out;
	}
	if (cs_mapping_by_event(s->db, cal->id, event_id, &m, &found, err) ||
	    held_back(s, cal, &hub, &conflicted, &refused, err))
		goto out;
	rc = act_on(s, cal, &hub, &m,
		    &(cs_push_facts){.refused = refused, .conflicted = conflicted, .mapped = found,
				     .remote_deleted = m.is_deleted, .left_alone = m.left_alone,
				     .hub_deleted = hub.deleted, .local = local_change(&hub, &m)},
		    depth, err);
	if (rc && err->code == CS_EREFUSED &&
	    record(s, cal, &(struct outcome){.kind = REFUSED, .hub = &hub, .why = err->msg},
		   &(cs_err){0}))
		cs_warn("calendar %s: the refusal of event %s was not recorded; it is tried again",
			cal->id, event_id);
out:
	cs_mapping_release(&m);
	cs_hubevent_release(&hub);
	return rc;
}

/* Add a note to the run's report: it ends partial. */
static void note(cs_sync_report *r, const char *text)
{
	size_t n = strlen(r->error);

	r->status = "partial";
	snprintf(r->error + n, sizeof(r->error) - n, "%s%s", n ? "; " : "", text);
}

/*
 * Push one event, isolating what concerns it alone: a refusal of this
 * event (*refused; err says why) or of every write to the calendar (the
 * calendar becomes pull-only, reported once) ends the attempt with 0.
 */
static int push_isolated(cs_sync *s, cs_calendar *cal, const char *event_id,
			 bool *refused, cs_err *err)
{
	char text[CS_ERR_MSG_MAX + 128];
	char *pull_only;

	*refused = false;
	if (push_depth(s, cal, event_id, 0, err) == 0)
		return 0;
	if (err->code == CS_EREFUSED) {
		cs_warn("calendar %s: event %s is not pushed until it changes: %s", cal->id,
			event_id, err->msg);
		*refused = true;
		return 0;
	}
	if (err->code != CS_EREADONLY)
		return -1;
	snprintf(text, sizeof(text), "the account may only read this calendar: it is synced"
		 " pull-only from now on (%s)", err->msg);
	if (!(pull_only = strdup("pull_only")))
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	if (record(s, cal, &(struct outcome){.kind = READ_ONLY}, err)) {
		free(pull_only);
		return -1;
	}
	free(cal->direction);
	cal->direction = pull_only;
	cs_warn("calendar %s: %s", cal->id, text);
	note(&s->report, text);
	return 0;
}

int cs_push_event(cs_sync *s, cs_calendar *cal, const char *event_id,
		  cs_err *err)
{
	char text[CS_ERR_MSG_MAX + 128];
	bool refused;

	if (push_isolated(s, cal, event_id, &refused, err))
		return -1;
	if (refused) {
		snprintf(text, sizeof(text), "the provider refused event %s: %s", event_id, err->msg);
		note(&s->report, text);
	}
	return 0;
}

int cs_push_pending(cs_sync *s, cs_calendar *cal, bool all, cs_err *err)
{
	char first[CS_ERR_MSG_MAX + 128] = "";
	cs_idlist list = {0};
	int rc = 0, done = 0, refused = 0;

	if (cs_targets_pending_for_calendar(s->db, cal->id, PUSH_BATCH,
					    all ? 0 : RECENT_CHANGES_S, &list, err))
		return -1;
	for (int i = 0; rc == 0 && i < list.n && cs_calendar_pushes(cal); i++) {
		bool one;

		rc = push_isolated(s, cal, list.ids[i], &one, err);
		if (one && refused++ == 0)
			snprintf(first, sizeof(first), "event %s: %s", list.ids[i], err->msg);
		if (rc == 0)
			rc = s->progress(s, ++done, "push", err);
	}
	cs_idlist_release(&list);
	if (rc == 0 && refused) {
		char text[sizeof(first) + 64];

		snprintf(text, sizeof(text), "the provider refused %d event%s (first: %s)", refused,
			 refused == 1 ? "" : "s", first);
		note(&s->report, text);
	}
	return rc;
}
