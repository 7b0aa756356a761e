/*
 * pull.c - the pull loop (see pull.h): pages in, each in its own
 * transaction with the token that follows it, on the context's one
 * connection (the page after it is read on a helper thread meanwhile,
 * pull_ahead.c); in the last page's transaction the end of the pull: deletions found
 * (marked by the pages, or by a full sync's comparison) go through the
 * mass-deletion guard, overrides are linked to their series, and the new
 * sync token is stored.
 */
#include "pull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflict.h"
#include "fingerprint.h"
#include "hub.h"
#include "log.h"
#include "mapping.h"
#include "pull_ahead.h"
#include "pull_page.h"
#include "banned.h"

#define MAX_PAGES 100000
/* A pull that created this many events refreshes the planner's statistics. */
#define ANALYZE_AFTER 1000

/*
 * In the page's transaction, as its last statements: check that the run
 * still holds the calendar (the fence: CS_EFENCED when a newer holder took
 * over), then store where the pull stands - the next page's token, or when
 * the pull ended the new sync token (NULL: keep the old one).
 */
static int save_state(cs_pull_run *run, const char *page_token, const char *sync_token,
		      bool ended, cs_err *err)
{
	char gen[24];
	const char *params[6] = {run->cal->id, page_token, sync_token, gen,
				 run->full && !ended ? "t" : "f",
				 ended && run->full ? "t" : "f"};

	if (run->s->fence(run->s, err))
		return -1;
	snprintf(gen, sizeof(gen), "%lld", run->generation);
	return cs_db_exec(run->s->db, NULL, err,
			  "UPDATE calendar_sync_states SET page_token = $2,"
			  " sync_token = CASE WHEN $3::text IS NOT NULL THEN $3 ELSE sync_token END,"
			  " generation = $4::bigint, full_sync_running = $5::boolean,"
			  " last_full_sync_at = CASE WHEN $6::boolean THEN NOW() ELSE last_full_sync_at END,"
			  " updated_at = NOW() WHERE external_calendar_id = $1",
			  6, params);
}

/*
 * The page's PostgreSQL COMMIT, with the credentials the provider
 * refreshed: at once when the reader is not using the provider, after its
 * read when an earlier read refreshed them; one its current read
 * refreshes, a later commit stores (the last page's, at the latest).
 */
static int db_commit_page(cs_pull_run *run, cs_pull_ahead *ahead, cs_err *err)
{
	int rc = 0;

	if (cs_pull_ahead_hold(ahead)) {
		rc = cs_calendar_store_creds(run->s, run->cal, err);
		cs_pull_ahead_unhold(ahead);
	}
	if (rc || cs_db_commit(run->s->db, err)) {
		cs_db_rollback(run->s->db);
		return -1;
	}
	return 0;
}

/* One pending deletion: tombstone the Hub copy, or a delete_conflict when it changed. */
static int delete_one(cs_pull_run *run, const char *remote_id, cs_err *err)
{
	char lh[CS_FINGERPRINT_LEN + 1] = "";
	cs_hubevent hub = {0};
	bool found, changed;
	cs_mapping m;
	int rc = -1;

	if (cs_mapping_by_remote(run->s->db, run->cal->id, remote_id, &m, &found, err))
		return -1;
	if (!found)
		return 0;
	if (cs_hub_load(run->s->db, m.event_id, &hub, err) && err->code != CS_ENOTFOUND)
		goto out;
	if (hub.ev.id)
		cs_fingerprint(&hub.ev, lh);
	changed = hub.ev.id && !hub.deleted && m.local_hash && strcmp(lh, m.local_hash) != 0;
	if (changed) {
		json_t *local = cs_event_json(&hub.ev);
		json_t *ext = json_pack("{s:s, s:b}", "id", remote_id, "deleted", 1);

		rc = cs_conflict_raise(run->s, run->cal, "delete_conflict", m.event_id,
				       remote_id, local, ext, err);
		json_decref(local);
		json_decref(ext);
		if (rc == 0)
			rc = cs_db_exec(run->s->db, NULL, err,
					"UPDATE calendar_event_mappings SET pending_delete = FALSE"
					" WHERE external_calendar_id = $1 AND external_event_id = $2",
					2, (const char *const[]){run->cal->id, remote_id});
		goto out;
	}
	if (hub.ev.id && !hub.deleted) {
		if (cs_hub_tombstone(run->s->db, m.event_id, err))
			goto out;
		run->s->report.counts.deleted++;
	}
	m.is_deleted = true;
	rc = cs_mapping_save(run->s->db, run->cal->id, &m, NULL, 0, err);
out:
	cs_hubevent_release(&hub);
	cs_mapping_release(&m);
	return rc;
}

/*
 * The latest decision of a person on held deletions (`calsync deletions`),
 * applied once to those of its remote ids still held: approved ones are
 * deleted, rejected ones kept. Every open decision is then recorded as
 * applied.
 */
static int apply_review(cs_pull_run *run, cs_err *err)
{
	const char *params[2] = {run->cal->id, NULL};
	PGresult *res = NULL, *held = NULL;
	json_t *ids = NULL, *v;
	char count[16];
	size_t i;
	int rc = -1, n = 0;

	if (cs_db_exec(run->s->db, &res, err,
		       "SELECT decision, external_event_ids::text FROM calendar_deletion_reviews"
		       " WHERE external_calendar_id = $1 AND applied_at IS NULL"
		       " ORDER BY decided_at DESC LIMIT 1",
		       1, params))
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	params[1] = PQgetvalue(res, 0, 1);
	if (strcmp(PQgetvalue(res, 0, 0), "reject") == 0) {
		if (cs_mapping_keep_held(run->s->db, run->cal->id, params[1], &n, err))
			goto out;
	} else {
		if (cs_db_exec(run->s->db, &held, err,
			       "SELECT COALESCE(json_agg(external_event_id), '[]')::text"
			       " FROM calendar_event_mappings WHERE external_calendar_id = $1"
			       " AND pending_delete AND external_event_id IN"
			       " (SELECT jsonb_array_elements_text($2::jsonb))",
			       2, params))
			goto out;
		ids = json_loads(PQgetvalue(held, 0, 0), 0, NULL);
		json_array_foreach(ids, i, v) {
			if (delete_one(run, json_string_value(v), err))
				goto out;
			n++;
		}
	}
	snprintf(count, sizeof(count), "%d", n);
	params[1] = count;
	rc = cs_db_exec(run->s->db, NULL, err,
			"UPDATE calendar_deletion_reviews SET applied_at = NOW(),"
			" applied_count = $2::int WHERE external_calendar_id = $1 AND applied_at IS NULL",
			2, params);
	if (rc == 0)
		cs_info("calendar %s: a person's decision on held deletions applied to %d events",
			run->cal->id, n);
out:
	json_decref(ids);
	PQclear(held);
	PQclear(res);
	return rc;
}

/* Deletions behind the guard; true in *held when the guard held them back. */
static int apply_deletions(cs_pull_run *run, bool *held, cs_err *err)
{
	char gen[24];
	const char *params[2] = {run->cal->id, gen};
	PGresult *res = NULL;
	long pending, live;
	json_t *ids, *v;
	size_t i;
	int rc;

	*held = false;
	snprintf(gen, sizeof(gen), "%lld", run->generation);
	if (run->full && cs_calendar_can(run->cal, CS_CAP_LISTS_ALL) && /* absence is deletion */
	    cs_db_exec(run->s->db, NULL, err,
		       "UPDATE calendar_event_mappings SET pending_delete = TRUE"
		       " WHERE external_calendar_id = $1 AND seen_generation < $2::bigint"
		       " AND NOT COALESCE(is_deleted, FALSE) AND NOT pending_delete",
		       2, params))
		return -1;
	if (apply_review(run, err) ||
	    cs_db_exec(run->s->db, &res, err,
		       "SELECT array_to_json(array_agg(external_event_id)) FROM calendar_event_mappings"
		       " WHERE external_calendar_id = $1 AND pending_delete",
		       1, params))
		return -1;
	ids = cs_db_get(res, 0, 0) ? json_loads(cs_db_get(res, 0, 0), 0, NULL) : NULL;
	PQclear(res);
	res = NULL;
	if (json_array_size(ids) > 0 &&
	    cs_db_exec(run->s->db, &res, err,
		       "SELECT count(*) FROM calendar_event_mappings"
		       " WHERE external_calendar_id = $1 AND NOT COALESCE(is_deleted, FALSE)",
		       1, params)) {
		json_decref(ids);
		return -1;
	}
	pending = (long)json_array_size(ids);
	live = res ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	rc = 0;
	if (live >= run->s->cfg->mass_delete_min &&
	    pending * 100 > live * run->s->cfg->mass_delete_percent) {
		*held = true;
		snprintf(run->s->report.error, sizeof(run->s->report.error),
			 "mass-deletion guard: the provider would delete %ld of %ld events at"
			 " once; nothing was deleted and the sync token was kept"
			 " (calsync deletions %s [--approve|--reject])", pending, live, run->cal->id);
		cs_warn("calendar %s: %s", run->cal->id, run->s->report.error);
	} else {
		json_array_foreach(ids, i, v)
			if (rc == 0)
				rc = delete_one(run, json_string_value(v), err);
	}
	json_decref(ids);
	PQclear(res);
	return rc;
}

static int link_overrides(cs_pull_run *run, cs_err *err)
{
	return cs_db_exec(run->s->db, NULL, err,
			  "UPDATE events e SET recurring_event_id = sm.event_id, updated_at = NOW()"
			  " FROM calendar_event_mappings m JOIN calendar_event_mappings sm"
			  " ON sm.external_calendar_id = m.external_calendar_id"
			  " AND sm.external_event_id = m.remote_series_id"
			  " WHERE m.external_calendar_id = $1 AND m.event_id = e.id"
			  " AND m.remote_series_id IS NOT NULL AND e.recurring_event_id IS NULL",
			  1, (const char *const[]){run->cal->id});
}

/*
 * The end of the pull, in the last page's transaction: the deletions go
 * through the guard, overrides are linked to their series, and the new
 * sync token is stored.
 */
static int finish(cs_pull_run *run, const char *sync_token, cs_err *err)
{
	bool held;

	if (apply_deletions(run, &held, err) ||
	    ((run->orphans || run->full) && link_overrides(run, err)) ||
	    save_state(run, NULL, held ? NULL : sync_token, true, err))
		return -1;
	if (held)
		run->s->report.status = "partial";
	return 0;
}

/*
 * An incremental pull that found nothing: its one page is empty, the
 * provider kept the sync token and the credentials, and no deletion waits
 * behind the guard or for a review. Then there is nothing to write (one read, no transaction,
 * no fence) - the common case of a periodic sync. *quiet is false when
 * the page must take the normal way.
 */
static int quiet_page(const cs_pull_run *run, const cs_page *page, bool *quiet, cs_err *err)
{
	PGresult *res = NULL;

	*quiet = false;
	if (run->full || page->n > 0 || page->next_page || !page->sync_token ||
	    !run->cal->sync_token || run->cal->page_token || run->cal->creds.changed ||
	    strcmp(page->sync_token, run->cal->sync_token) != 0)
		return 0;
	if (cs_db_exec(run->s->db, &res, err,
		       "SELECT NOT EXISTS (SELECT 1 FROM calendar_event_mappings"
		       "  WHERE external_calendar_id = $1 AND pending_delete)"
		       " AND NOT EXISTS (SELECT 1 FROM calendar_deletion_reviews"
		       "  WHERE external_calendar_id = $1 AND applied_at IS NULL)",
		       1, (const char *const[]){run->cal->id}))
		return -1;
	*quiet = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

/*
 * A page in one transaction: its items, then the fence and the next
 * page's token - or, after the last page, the end of the pull.
 */
static int apply(cs_pull_run *run, cs_page *page, cs_pull_ahead *ahead, cs_err *err)
{
	bool quiet;

	if (quiet_page(run, page, &quiet, err))
		return -1;
	if (quiet)
		return 0;
	if (cs_db_begin(run->s->db, err))
		return -1;
	if (cs_pull_apply_page(run, page, err) ||
	    (page->next_page ? save_state(run, page->next_page, NULL, false, err)
			     : finish(run, page->sync_token, err))) {
		cs_db_rollback(run->s->db);
		return -1;
	}
	return db_commit_page(run, ahead, err);
}

/*
 * After a bulk load the planner still believes the tables small and picks
 * poor plans for the next syncs until autovacuum catches up: analyze now
 * the columns calsync's queries select and join on (autovacuum does the
 * rest later). Best effort: a failure costs speed, not correctness.
 */
void cs_pull_refresh_statistics(cs_db *db)
{
	cs_err err;

	if (cs_db_exec(db, NULL, &err,
		       "ANALYZE calendar_event_mappings (external_calendar_id, event_id,"
		       " external_event_id, sync_direction, last_synced_at, is_deleted,"
		       " pending_delete)", 0, NULL) ||
	    cs_db_exec(db, NULL, &err,
		       "ANALYZE events (id, tenant_id, created_by, source_calendar_id,"
		       " recurring_event_id, start_time, updated_at, deleted_at)", 0, NULL))
		cs_warn("refreshing statistics: %s", err.msg);
}

/*
 * Before a full sync starts: the mappings a removed connection of the same
 * provider calendar left (its events kept) are this calendar's again, so
 * the pull finds the kept events instead of creating second copies. One
 * statement of its own, without the fence: moving the rows set aside is
 * the same whichever run of the calendar does it, and it holds no lock
 * that a stalled run could keep.
 */
static int reattach(cs_pull_run *run, cs_err *err)
{
	int n = 0;

	if (cs_mapping_reattach(run->s->db, run->cal->id, &n, err))
		return -1;
	if (n)
		cs_info("calendar %s: %d events kept from an earlier connection are linked again",
			run->cal->id, n);
	return 0;
}

int cs_pull(cs_sync *s, cs_calendar *cal, bool full, cs_err *err)
{
	cs_pull_run run = {.s = s, .cal = cal};
	char *page_token = cal->page_token ? strdup(cal->page_token) : NULL;
	cs_pull_ahead ahead = {0};
	const char *token;
	cs_page page;
	int rc = -1, got;

	if (page_token && cal->full_running) {
		run.full = true;                /* resume the full sync in progress */
	} else if (page_token && !full && cal->sync_token) {
		run.full = false;               /* resume the incremental pull */
	} else {
		free(page_token);
		page_token = NULL;
		run.full = full || !cal->sync_token;
	}
	run.generation = cal->generation + (page_token ? 0 : run.full);
	if (run.full && !page_token && reattach(&run, err))
		return -1;
	for (int n = 0; n < MAX_PAGES; n++) {
		token = run.full ? NULL : cal->sync_token;
		if (!cs_pull_ahead_take(&ahead, &page, &got, err)) {
			cs_pull_ahead_release(&ahead);
			got = cs_pull_fetch(&run, token, page_token, &page, err);
			/* the page after it is read while this one is applied */
			if (!got && page.next_page)
				cs_pull_ahead_start(&ahead, &run, token, page.next_page);
		}
		if (got) {
			cs_page_release(&page);
			cs_pull_ahead_release(&ahead);
			if (err->code != CS_EGONE || run.full)
				goto out;
			cs_info("calendar %s: sync token refused; doing a full sync", cal->id);
			run.full = true;
			run.generation = cal->generation + 1;
			free(page_token);
			page_token = NULL;
			continue;
		}
		if (apply(&run, &page, &ahead, err) ||
		    s->progress(s, run.done, "pull", err)) {
			cs_page_release(&page);
			goto out;
		}
		free(page_token);
		page_token = page.next_page;
		page.next_page = NULL;
		cs_page_release(&page);
		if (!page_token) {
			rc = 0;
			goto out;
		}
	}
	cs_err_set(err, CS_EPROTO, true, "calendar %s: more than %d pages", cal->id, MAX_PAGES);
out:
	cs_pull_ahead_release(&ahead);
	if (s->report.counts.created >= ANALYZE_AFTER)
		s->report.stale_statistics = true;
	free(page_token);
	if (rc == 0 && run.bad) {
		s->report.status = "partial";
		snprintf(s->report.error, sizeof(s->report.error), "%d item%s could not be read (first: %s)",
			 run.bad, run.bad == 1 ? "" : "s", run.first_bad);
	}
	return rc;
}
