/*
 * pull_page.c - one page of remote changes into Family Hub (see
 * pull_page.h). New events and their mappings are inserted in one
 * statement for the whole page; changes are compared by fingerprint
 * with what each side held at the last sync: a remote change updates the
 * Hub copy unless the Hub copy changed too (then an update_conflict -
 * unless both now hold the same content, which is never a conflict);
 * a remote deletion is only marked here and applied when the pull ends.
 */
#include "pull_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflict.h"
#include "decide.h"
#include "fingerprint.h"
#include "hub.h"
#include "ids.h"
#include "log.h"
#include "mapping.h"
#include "banned.h"

struct page_ctx {
	cs_pull_run *run;
	cs_mapset maps;
	json_t *new_ids;        /* remote id -> new Hub id, this page */
	json_t *hub_rows;
	json_t *map_rows;
	json_t *deleted;        /* remote ids the remote says are gone */
	json_t *revived;        /* remote ids marked gone before, live again */
	json_t *seen;           /* remote ids seen by a full sync */
	json_t *touched;        /* Hub events created or moved: overlap candidates */
	json_t *listed;         /* remote ids applied: a second listing is skipped */
};

static void report_bad(cs_pull_run *run, const cs_event *ev)
{
	if (run->bad++ == 0)
		snprintf(run->first_bad, sizeof(run->first_bad), "%s", ev->bad);
	cs_warn("calendar %s: skipped an item: %s", run->cal->id, ev->bad);
}

/* Hub id of a remote series: new on this page, already mapped, or NULL. */
static int hub_series(struct page_ctx *c, const char *remote_series, char **out, cs_err *err)
{
	json_t *fresh = json_object_get(c->new_ids, remote_series);
	cs_mapping *m = cs_mapset_find(&c->maps, remote_series);
	cs_mapping found;
	bool ok;

	*out = NULL;
	if (fresh)
		return (*out = strdup(json_string_value(fresh))) ? 0 :
			cs_err_set(err, CS_ENOMEM, true, "out of memory");
	if (m)
		return (*out = strdup(m->event_id)) ? 0 :
			cs_err_set(err, CS_ENOMEM, true, "out of memory");
	if (cs_mapping_by_remote(c->run->s->db, c->run->cal->id, remote_series, &found, &ok, err))
		return -1;
	if (ok) {
		*out = found.event_id;
		found.event_id = NULL;
	}
	cs_mapping_release(&found);
	return 0;
}

/* A removed occurrence has no times of its own: it stands at its original start. */
static void fill_cancelled_times(cs_event *ev)
{
	if (!ev->start && ev->original_start)
		ev->start = strdup(ev->original_start);
	if (!ev->end && ev->start)
		ev->end = strdup(ev->start);
	if (ev->original_start && strlen(ev->original_start) == 10)
		ev->all_day = true;
}

/*
 * A new mapping of remote ev to our own Hub event hub: the remote holds
 * ev's content; a Hub copy that differs from it (edited since it was
 * written there) is pending, so the newer Hub version is pushed.
 */
static void add_mapping(struct page_ctx *c, const cs_event *ev, const cs_event *hub)
{
	char fp[CS_FINGERPRINT_LEN + 1], lh[CS_FINGERPRINT_LEN + 1];
	cs_mapping m = {0};

	cs_fingerprint(ev, fp);
	cs_fingerprint(hub, lh);
	m.event_id = hub->id;             /* borrowed: m is never released */
	m.remote_id = ev->id;
	m.etag = ev->etag;
	m.direction = (char *)"to_external";
	m.local_hash = fp;
	m.remote_hash = fp;
	m.raw = ev->raw;
	if (strcmp(fp, lh) != 0)
		m.synced_at = CS_MAPPING_UNSYNCED;
	json_array_append_new(c->map_rows, cs_mapping_row(&m, ev->series_id, c->run->generation));
}

/* Hub event hub_id now holds ev: a timed live one is checked for overlaps. */
static void touch(struct page_ctx *c, const char *hub_id, const cs_event *ev)
{
	if (ev->all_day || ev->cancelled || !ev->start || !ev->end)
		return;
	json_array_append_new(c->touched, json_pack("{s:s, s:s, s:s, s:s}", "id", hub_id,
						    "title", ev->title ? ev->title : "",
						    "start_time", ev->start,
						    "end_time", ev->end));
}

/* Our own pushed event whose mapping was lost (a crash after the create): link it. */
static int relink(struct page_ctx *c, cs_event *ev, bool *done, cs_err *err)
{
	const char *params[3] = {ev->hub_id, c->run->cal->tenant_id, c->run->cal->id};
	PGresult *res = NULL;
	cs_hubevent hub;

	*done = false;
	if (!cs_is_uuid(ev->hub_id))
		return 0;
	if (cs_db_exec(c->run->s->db, &res, err,
		       "SELECT 1 FROM events e WHERE e.id = $1 AND e.tenant_id = $2 AND NOT EXISTS"
		       " (SELECT 1 FROM calendar_event_mappings m WHERE m.event_id = e.id"
		       "  AND m.external_calendar_id = $3)",
		       3, params))
		return -1;
	*done = PQntuples(res) == 1;
	PQclear(res);
	if (!*done)
		return 0;
	if (cs_hub_load(c->run->s->db, ev->hub_id, &hub, err))
		return -1;
	add_mapping(c, ev, &hub.ev);
	cs_hubevent_release(&hub);
	return 0;
}

/* A remote event new to the Hub: a row of the events insert, which maps it too. */
static int add_new(struct page_ctx *c, cs_event *ev, cs_err *err)
{
	char id[CS_UUID_LEN + 1], fp[CS_FINGERPRINT_LEN + 1];
	json_t *row;
	char *series = NULL;
	bool linked;

	if (ev->hub_id && (relink(c, ev, &linked, err) || linked))
		return linked ? 0 : -1;
	if (ev->cancelled && !ev->series_id)
		return 0; /* a deletion of something we never had */
	if (ev->series_id && hub_series(c, ev->series_id, &series, err))
		return -1;
	if (ev->series_id && !series)
		c->run->orphans++; /* linked when the pull ends (or by the next full sync) */
	if (ev->cancelled)
		fill_cancelled_times(ev);
	cs_uuid_v7(id);
	row = cs_hub_row(ev, id, series);
	cs_fingerprint(ev, fp);
	json_object_set_new(row, "remote_id", json_string(ev->id));
	cs_json_put(row, "etag", ev->etag);
	json_object_set_new(row, "hash", json_string(fp));
	cs_json_put(row, "remote_series", ev->series_id);
	cs_json_put(row, "raw", ev->raw);
	json_array_append_new(c->hub_rows, row);
	json_object_set_new(c->new_ids, ev->id, json_string(id));
	touch(c, id, ev);
	c->run->s->report.counts.created++;
	free(series);
	return 0;
}

/* Both sides changed (or the Hub copy was deleted): a conflict with both versions. */
static int conflict(struct page_ctx *c, enum cs_action act, const cs_hubevent *hub,
		    const cs_mapping *m, const cs_event *ev, cs_err *err)
{
	cs_pull_run *run = c->run;
	json_t *local = cs_event_json(&hub->ev), *ext = cs_event_json(ev);
	int rc;

	json_object_set_new(local, "deleted", json_boolean(hub->deleted));
	rc = cs_conflict_raise(run->s, run->cal,
			       act == CS_ACT_DELETE_CONFLICT ? "delete_conflict" : "update_conflict",
			       m->event_id, ev->id, local, ext, err);
	json_decref(local);
	json_decref(ext);
	return rc;
}

/* A remote change, or a restore: the Hub copy (its tombstone lifted) follows. */
static int update_hub(struct page_ctx *c, const cs_event *ev, const cs_hubevent *hub,
		      cs_mapping *upd, char *rh, cs_err *err)
{
	cs_pull_run *run = c->run;
	char *series = NULL;
	int rc = -1;

	if (ev->series_id && hub_series(c, ev->series_id, &series, err))
		return -1;
	if (cs_hub_update(run->s->db, upd->event_id, ev, series ? series : hub->ev.series_id, err))
		goto out;
	upd->local_hash = rh;
	upd->remote_hash = rh;
	json_array_append_new(c->map_rows, cs_mapping_row(upd, ev->series_id, run->generation));
	touch(c, upd->event_id, ev);
	run->s->report.counts.updated++;
	rc = 0;
out:
	free(series);
	return rc;
}

/*
 * A listed remote event that is mapped: a change (or a restore, when its
 * mapping says it was deleted) compared by fingerprint with what each side
 * held at the last sync (decide.h).
 */
static int change(struct page_ctx *c, cs_event *ev, cs_mapping *m, cs_err *err)
{
	char rh[CS_FINGERPRINT_LEN + 1], lh[CS_FINGERPRINT_LEN + 1];
	cs_pull_run *run = c->run;
	cs_hubevent hub = {0};
	cs_mapping upd = *m;
	cs_pull_facts f = {.remote_cancelled = ev->cancelled, .occurrence = ev->series_id != NULL,
			   .mapped_deleted = m->is_deleted, .left_alone = m->left_alone};
	enum cs_action act;
	int rc = 0;

	if (m->pending_delete && (!ev->cancelled || ev->series_id))
		json_array_append_new(c->revived, json_string(ev->id)); /* live again */
	if (ev->cancelled)
		fill_cancelled_times(ev);
	cs_fingerprint(ev, rh);
	f.remote = cs_change_of(rh, m->remote_hash);
	f.etag_moved = ev->etag && (!m->etag || strcmp(ev->etag, m->etag) != 0);
	f.own_write = !ev->cancelled && ev->written && strcmp(ev->written, rh) == 0;
	upd.etag = ev->etag;
	upd.raw = ev->raw;
	upd.is_deleted = m->is_deleted && ev->cancelled;
	upd.left_alone = false;
	act = cs_decide_pull(&f);
	if (act == CS_ACT_LOAD_HUB) {
		if (cs_hub_load(run->s->db, m->event_id, &hub, err)) {
			if (err->code != CS_ENOTFOUND)
				return -1;
			f.hub = CS_HUB_MISSING;
		} else {
			cs_fingerprint(&hub.ev, lh);
			f.hub = hub.deleted ? CS_HUB_DELETED : CS_HUB_LIVE;
			f.local = cs_change_of(lh, m->local_hash);
			f.equal = strcmp(lh, rh) == 0;
		}
		act = cs_decide_pull(&f);
	}
	switch (act) {
	case CS_ACT_TOMBSTONE_HUB:
		json_array_append_new(c->deleted, json_string(ev->id));
		break;
	case CS_ACT_RECORD_ETAG:
		upd.left_alone = m->left_alone;
		json_array_append_new(c->map_rows, cs_mapping_row(&upd, NULL, run->generation));
		break;
	case CS_ACT_LEAVE_ALONE:
		upd.remote_hash = rh;
		upd.left_alone = true;
		json_array_append_new(c->map_rows, cs_mapping_row(&upd, NULL, run->generation));
		break;
	case CS_ACT_RELINK:
		json_array_append_new(c->map_rows, cs_mapping_row(&upd, NULL, run->generation));
		break;
	case CS_ACT_SETTLE_EQUAL:
	case CS_ACT_OWN_WRITE:
		/* synced at the remote's content: equal, or calsync's own write whose answer
		 * was lost (a newer Hub version stays pending: synced_at is kept) */
		upd.local_hash = rh;
		upd.remote_hash = rh;
		json_array_append_new(c->map_rows, cs_mapping_row(&upd, ev->series_id, run->generation));
		break;
	case CS_ACT_UPDATE_CONFLICT:
	case CS_ACT_DELETE_CONFLICT:
		rc = conflict(c, act, &hub, m, ev, err);
		break;
	case CS_ACT_UPDATE_HUB:
		rc = update_hub(c, ev, &hub, &upd, rh, err);
		break;
	default: /* nothing to do */
		break;
	}
	cs_hubevent_release(&hub);
	return rc;
}

static int apply_item(struct page_ctx *c, cs_event *ev, cs_err *err)
{
	cs_mapping *m;

	c->run->done++;
	if (ev->bad || !ev->id) {
		if (!ev->bad)
			ev->bad = strdup("an item without an id");
		report_bad(c->run, ev);
		return 0;
	}
	if (json_object_get(c->listed, ev->id)) {
		cs_info("calendar %s: %s is listed twice on one page; the first is applied",
			c->run->cal->id, ev->id);
		return 0;
	}
	if (json_object_set_new(c->listed, ev->id, json_true()))
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	m = cs_mapset_find(&c->maps, ev->id);
	if (m && c->run->full)
		json_array_append_new(c->seen, json_string(ev->id));
	return m ? change(c, ev, m, err) : add_new(c, ev, err);
}

/* Mark, revive and see mappings by remote id, and record the time overlaps. */
static int bookkeeping(struct page_ctx *c, cs_err *err)
{
	static const char *const sql[3] = {
		"UPDATE calendar_event_mappings SET pending_delete = TRUE WHERE"
		" external_calendar_id = $1 AND external_event_id IN"
		" (SELECT jsonb_array_elements_text($2::jsonb))",
		"UPDATE calendar_event_mappings SET pending_delete = FALSE WHERE"
		" external_calendar_id = $1 AND external_event_id IN"
		" (SELECT jsonb_array_elements_text($2::jsonb))",
		"UPDATE calendar_event_mappings SET seen_generation = $3::bigint WHERE"
		" external_calendar_id = $1 AND external_event_id IN"
		" (SELECT jsonb_array_elements_text($2::jsonb))",
	};
	json_t *lists[3] = {c->deleted, c->revived, c->seen};
	char gen[24];

	snprintf(gen, sizeof(gen), "%lld", c->run->generation);
	for (int i = 0; i < 3; i++) {
		char *ids;
		int rc;

		if (json_array_size(lists[i]) == 0)
			continue;
		ids = json_dumps(lists[i], JSON_COMPACT);
		rc = cs_db_exec(c->run->s->db, NULL, err, sql[i], i == 2 ? 3 : 2,
				(const char *const[]){c->run->cal->id, ids, gen});
		free(ids);
		if (rc)
			return -1;
	}
	return 0;
}

/* The page's JSON trees, no longer needed once their texts are built. */
static void drop_trees(struct page_ctx *c)
{
	cs_mapset_release(&c->maps);
	json_decref(c->new_ids);
	json_decref(c->hub_rows);
	json_decref(c->map_rows);
	json_decref(c->touched);
	c->new_ids = c->hub_rows = c->map_rows = c->touched = NULL;
}

static char *text_of(json_t *rows)
{
	return json_array_size(rows) ? json_dumps(rows, JSON_COMPACT) : NULL;
}

/*
 * Write what the page's items produced: the new events are sent first,
 * and while the server inserts them the other statements' parameters are
 * built and the trees freed.
 */
static int write_rows(struct page_ctx *c, cs_err *err)
{
	cs_pull_run *run = c->run;
	cs_db *db = run->s->db;
	bool want_maps = json_array_size(c->map_rows), want_touched = json_array_size(c->touched);
	char *hub = text_of(c->hub_rows), *maps = NULL, *touched = NULL;
	int rc = -1;

	if (json_array_size(c->hub_rows) && !hub)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	if (hub && cs_hub_insert_send(db, run->cal->tenant_id, run->cal->user_id, run->cal->id,
				      run->generation, hub, err))
		goto out;
	maps = text_of(c->map_rows);
	touched = text_of(c->touched);
	drop_trees(c);
	if (hub && cs_db_wait(db, NULL, err))
		goto out;
	if ((want_maps && !maps) || (want_touched && !touched)) {
		cs_err_set(err, CS_ENOMEM, true, "out of memory");
		goto out;
	}
	if ((maps && cs_mapping_insert(db, run->cal->id, maps, err)) || bookkeeping(c, err) ||
	    (touched && cs_pull_overlaps(run, touched, err)))
		goto out;
	rc = 0;
out:
	free(hub);
	free(maps);
	free(touched);
	return rc;
}

int cs_pull_apply_page(cs_pull_run *run, cs_page *page, cs_err *err)
{
	struct page_ctx c = {.run = run};
	json_t *ids = json_array();
	int rc = -1;

	c.new_ids = json_object();
	c.hub_rows = json_array();
	c.map_rows = json_array();
	c.deleted = json_array();
	c.revived = json_array();
	c.seen = json_array();
	c.touched = json_array();
	c.listed = json_object();
	for (size_t i = 0; i < page->n; i++)
		if (page->items[i].id)
			json_array_append_new(ids, json_string(page->items[i].id));
	if (cs_mapset_load(run->s->db, run->cal->id, ids, &c.maps, err))
		goto out;
	json_decref(ids);
	ids = NULL;
	/* series before their overrides, so an override finds its series */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < page->n; i++)
			if ((page->items[i].series_id != NULL) == pass &&
			    apply_item(&c, &page->items[i], err))
				goto out;
	rc = write_rows(&c, err);
out:
	drop_trees(&c);
	json_decref(ids);
	json_decref(c.deleted);
	json_decref(c.revived);
	json_decref(c.seen);
	json_decref(c.listed);
	return rc;
}
