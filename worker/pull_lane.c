/*
 * pull_lane.c - a page of a pull applied on the worker's second
 * connection by a helper thread (see pull_lane.h): its own transaction,
 * the page's items, then the fence and the token that follows the page.
 */
#include "pull_lane.h"

#include <string.h>

#include "log.h"
#include "banned.h"

/* How long the lane's transaction waits for a row lock before it gives up. */
#define LANE_LOCK_TIMEOUT "5s"

/* The remote and Hub ids of page's items, as the keys of an object. */
static json_t *keys_of(const cs_page *page)
{
	json_t *keys = json_object();

	for (size_t i = 0; keys && i < page->n; i++) {
		const cs_event *ev = &page->items[i];

		if ((ev->id && json_object_set_new(keys, ev->id, json_true())) ||
		    (ev->hub_id && json_object_set_new(keys, ev->hub_id, json_true()))) {
			json_decref(keys);
			return NULL;
		}
	}
	return keys;
}

static int apply(cs_pull_lane *l)
{
	cs_db *db = l->w.db;

	if (cs_db_begin(db, &l->err))
		return -1;
	if (cs_db_exec(db, NULL, &l->err, "SET LOCAL lock_timeout = '" LANE_LOCK_TIMEOUT "'",
		       0, NULL) ||
	    cs_pull_apply_page(&l->run, &l->page, &l->err) ||
	    cs_pull_save_state(&l->run, l->page.next_page, NULL, false, &l->err) ||
	    cs_db_commit(db, &l->err)) {
		cs_db_rollback(db);
		return -1;
	}
	return 0;
}

static void *lane_main(void *arg)
{
	cs_pull_lane *l = arg;

	cs_log_context(l->job.job_id, l->run.cal->id);
	l->rc = apply(l);
	if (l->rc == 0)
		cs_debug("calendar %s: a page of %zu items applied on the second connection",
			 l->run.cal->id, l->page.n);
	cs_log_context(NULL, NULL);
	return NULL;
}

bool cs_pull_lane_start(cs_pull_lane *l, cs_pull_run *run, cs_page *page)
{
	cs_err err;

	memset(l, 0, sizeof(*l));
	if (run->single)
		return false;
	if (!cs_db_conn(run->w->side_db, &err)) {
		cs_warn("calendar %s: pages are applied one at a time: %s", run->cal->id, err.msg);
		run->single = true;
		return false;
	}
	l->keys = keys_of(page);
	if (!l->keys)
		return false;
	l->w = *run->w;
	l->w.db = run->w->side_db;
	l->job = *run->job;
	memset(&l->job.counts, 0, sizeof(l->job.counts));
	l->run = *run;
	l->run.w = &l->w;
	l->run.job = &l->job;
	l->run.done = l->run.bad = l->run.orphans = 0;
	l->run.first_bad[0] = '\0';
	l->bad_before = run->bad;
	l->page = *page;
	if (pthread_create(&l->thread, NULL, lane_main, l) != 0) {
		json_decref(l->keys);
		memset(l, 0, sizeof(*l));
		return false;
	}
	memset(page, 0, sizeof(*page));
	l->running = true;
	return true;
}

bool cs_pull_lane_shares(const cs_pull_lane *l, const cs_page *page)
{
	if (!l->running)
		return false;
	for (size_t i = 0; i < page->n; i++) {
		const cs_event *ev = &page->items[i];

		if ((ev->id && json_object_get(l->keys, ev->id)) ||
		    (ev->hub_id && json_object_get(l->keys, ev->hub_id)) ||
		    (ev->series_id && json_object_get(l->keys, ev->series_id)))
			return true;
	}
	return false;
}

static void add_counts(cs_pull_run *to, const cs_pull_lane *l)
{
	cs_counts *c = &to->job->counts;
	const cs_counts *from = &l->job.counts;

	c->created += from->created;
	c->updated += from->updated;
	c->deleted += from->deleted;
	c->pushed += from->pushed;
	c->conflicts += from->conflicts;
	to->done += l->run.done;
	to->orphans += l->run.orphans;
	if (l->run.bad && !l->bad_before)     /* the lane's page came first */
		memcpy(to->first_bad, l->run.first_bad, sizeof(to->first_bad));
	to->bad += l->run.bad;
}

int cs_pull_lane_wait(cs_pull_lane *l, cs_pull_run *run, cs_err *err)
{
	int rc;

	if (!l->running)
		return 0;
	pthread_join(l->thread, NULL);
	rc = l->rc;
	if (rc == 0)
		add_counts(run, l);
	else
		*err = l->err;
	cs_page_release(&l->page);
	json_decref(l->keys);
	memset(l, 0, sizeof(*l));
	return rc;
}
