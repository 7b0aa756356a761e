/*
 * duties.c - what the leader does, each on its own period (see sched.h
 * for the periods): enqueue periodic incremental syncs and nightly full
 * syncs of due calendars, move due retries back to their streams, trim
 * the acknowledged heads of the job streams, and reconcile pending pushes
 * from PostgreSQL so that work lost in Redis is found again.
 *
 * Sync jobs and reconcile's push jobs carry their dedup key ("dedup"):
 * the worker deletes it when the job ends, so a calendar never has two
 * waiting sync jobs of a mode, nor an event two waiting pushes; a job
 * whose end was lost leaves its key to expire (CS_PUSH_DEDUP_TTL_S for
 * pushes). Every push attempt settles what it decided, so a push that
 * ended is not found pending again unless the event changed.
 * Reconcile walks all events in chunks (one chunk per step), so that its
 * cost per step stays small however many events there are.
 */
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "ids.h"
#include "log.h"
#include "queue.h"
#include "targets.h"
#include "banned.h"

/*
 * $1 CALSYNC_SYNC_INTERVAL, $2 limit, $3 CALSYNC_WATCH_POLL_INTERVAL: the
 * safety-net interval of a calendar whose push channel is live.
 */
static const char sql_periodic[] =
	"SELECT c.id::text FROM external_calendars c"
	" LEFT JOIN calendar_sync_states s ON s.external_calendar_id = c.id"
	" LEFT JOIN calendar_watch_channels w ON w.external_calendar_id = c.id"
	"   AND w.state = 'live' AND w.expires_at > now()"
	" WHERE c.is_active IS TRUE"
	"   AND (s.last_sync_at IS NULL OR s.last_sync_at < now()"
	"        - CASE WHEN w.external_calendar_id IS NULL THEN $1::int ELSE $3::int END"
	"          * interval '1 second')"
	" ORDER BY s.last_sync_at NULLS FIRST, c.id LIMIT $2::int";

/*
 * $1 CALSYNC_NIGHTLY_HOUR, $2 limit. The boundary is today's hour $1:00
 * in the tenant's time zone; a zone name PostgreSQL does not know counts
 * as UTC rather than failing the whole query.
 */
static const char sql_nightly[] =
	"SELECT c.id::text FROM external_calendars c"
	" JOIN tenants t ON t.id = c.tenant_id"
	" LEFT JOIN pg_timezone_names z ON lower(z.name) = lower(t.timezone)"
	" LEFT JOIN calendar_sync_states s ON s.external_calendar_id = c.id"
	" CROSS JOIN LATERAL (SELECT (date_trunc('day', now() AT TIME ZONE COALESCE(z.name, 'UTC'))"
	"                             + $1::int * interval '1 hour')"
	"                            AT TIME ZONE COALESCE(z.name, 'UTC') AS boundary) b"
	" WHERE c.is_active IS TRUE AND now() >= b.boundary"
	"   AND (s.last_full_sync_at IS NULL OR s.last_full_sync_at < b.boundary)"
	" ORDER BY c.id LIMIT $2::int";

struct sync_kind {
	const char *name;
	const char *sql;
	const char *mode;
	const char *dedup_prefix;
	int nparams;
};

static const struct sync_kind periodic = {"periodic sync", sql_periodic, "incremental",
					  CS_DEDUP_PREFIX "sync:", 3};
static const struct sync_kind nightly = {"nightly full sync", sql_nightly, "full",
					 CS_DEDUP_PREFIX "full:", 2};

static int enqueue_sync(cs_sched *s, const struct sync_kind *k, const char *calendar_id,
			bool *added, cs_err *err)
{
	char job_id[CS_UUID_LEN + 1], dedup[128];
	char *data = NULL;
	json_t *o;
	int rc;

	cs_uuid_v4(job_id);
	snprintf(dedup, sizeof(dedup), "%s%s", k->dedup_prefix, calendar_id);
	o = json_pack("{s:s, s:s, s:s, s:s}", "job_id", job_id, "calendar_id", calendar_id,
		      "mode", k->mode, "dedup", dedup);
	if (o)
		data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!data)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	rc = cs_queue_enqueue(s->redis, CS_STREAM_BACKGROUND, "sync", data, dedup,
			      CS_SYNC_DEDUP_TTL_S, added, err);
	free(data);
	return rc;
}

/* Enqueue a sync job of kind k for each calendar the query finds due. */
static int run_syncs(cs_sched *s, const struct sync_kind *k, long value, cs_err *err)
{
	char v[24], lim[16], watched[24];
	const char *params[3] = {v, lim, watched};
	PGresult *res = NULL;
	int due, added = 0, rc = 0;

	snprintf(v, sizeof(v), "%ld", value);
	snprintf(lim, sizeof(lim), "%d", CS_SCAN_LIMIT);
	snprintf(watched, sizeof(watched), "%ld", s->cfg->watch_poll_interval_s);
	if (cs_db_exec(s->db, &res, err, k->sql, k->nparams, params))
		return -1;
	due = PQntuples(res);
	for (int i = 0; i < due && cs_leader_active(s); i++) {
		bool one = false;

		if (enqueue_sync(s, k, PQgetvalue(res, i, 0), &one, err)) {
			rc = -1;
			break;
		}
		added += one;
	}
	PQclear(res);
	if (added)
		cs_info("%s: enqueued %d job(s) for %d due calendar(s)", k->name, added, due);
	cs_debug("%s tick: %d due, %d enqueued", k->name, due, added);
	return rc;
}

static int periodic_syncs(cs_sched *s, cs_err *err)
{
	return run_syncs(s, &periodic, s->cfg->sync_interval_s, err);
}

static int nightly_syncs(cs_sched *s, cs_err *err)
{
	return run_syncs(s, &nightly, s->cfg->nightly_hour, err);
}

/*
 * One chunk of the pass over all events: enqueue the pending pushes found.
 * The next chunk follows after CS_RECONCILE_STEP_MS, the next pass after
 * CS_RECONCILE_PERIOD_MS; a failed chunk is tried again at the next step.
 */
static int reconcile(cs_sched *s, cs_err *err)
{
	char next[CS_UUID_LEN + 1], dedup[160];
	cs_idpairs pending = {0};
	bool done;
	int i, rc = 0;

	s->next_reconcile = cs_sched_now() + CS_RECONCILE_STEP_MS;
	if (cs_targets_pending_scan(s->db, s->reconcile_after, CS_RECONCILE_CHUNK,
				    CS_RECONCILE_SETTLE_S, &pending, next, err))
		return -1;
	for (i = 0; i < pending.n && cs_leader_active(s); i++) {
		const cs_idpair *p = &pending.items[i];
		bool one = false;

		snprintf(dedup, sizeof(dedup), CS_DEDUP_PREFIX "push:%s:%s", p->calendar_id,
			 p->event_id);
		if (cs_pushes_enqueue(s, p->calendar_id, p->event_id, dedup, &one, err)) {
			rc = -1;
			break;
		}
		s->reconcile_added += one;
	}
	done = rc == 0 && i == pending.n;  /* the chunk is done: on to the next */
	if (done) {
		s->reconcile_pending += pending.n;
		snprintf(s->reconcile_after, sizeof(s->reconcile_after), "%s", next);
	}
	cs_idpairs_release(&pending);
	if (done && !next[0]) {
		if (s->reconcile_added)
			cs_info("reconcile: enqueued %d push job(s) for %d pending push(es)",
				s->reconcile_added, s->reconcile_pending);
		cs_debug("reconcile pass done: %d pending, %d enqueued", s->reconcile_pending,
			 s->reconcile_added);
		s->reconcile_pending = s->reconcile_added = 0;
		s->next_reconcile = cs_sched_now() + CS_RECONCILE_PERIOD_MS;
	}
	return rc;
}

static int release_due(cs_sched *s, cs_err *err)
{
	enum { BATCH = 100, MOST = 1000 };
	int n, total = 0;

	do {
		if (cs_queue_release_due(s->redis, BATCH, &n, err))
			return -1;
		total += n;
	} while (n == BATCH && total < MOST);
	if (total)
		cs_info("released %d due retr%s to their streams", total, total == 1 ? "y" : "ies");
	return 0;
}

/* Trim acknowledged stream heads and forget consumers that went away. */
static int trim(cs_sched *s, cs_err *err)
{
	long idle = s->cfg->consumer_idle_ms;

	if (cs_queue_trim_acked(s->redis, CS_STREAM_INTERACTIVE, err) ||
	    cs_queue_trim_acked(s->redis, CS_STREAM_BACKGROUND, err) ||
	    cs_queue_prune_consumers(s->redis, CS_STREAM_INTERACTIVE, idle, NULL, err) ||
	    cs_queue_prune_consumers(s->redis, CS_STREAM_BACKGROUND, idle, NULL, err))
		return -1;
	return 0;
}

/* Start a new reconcile pass now (Redis may have lost queued work). */
static void restart_reconcile(cs_sched *s, long long now)
{
	s->reconcile_after[0] = '\0';
	s->reconcile_pending = s->reconcile_added = 0;
	s->next_reconcile = now;
}

void cs_duties_reset(cs_sched *s)
{
	long long now = cs_sched_now();

	s->next_sync = s->next_nightly = now;
	s->next_release = s->next_trim = now;
	s->next_watch = now;
	restart_reconcile(s, now);
}

struct duty {
	const char *name;
	long long *next;
	int period_ms;
	int (*run)(cs_sched *s, cs_err *err);
};

void cs_duties_run(cs_sched *s)
{
	const struct duty duties[] = {
		{"releasing due retries", &s->next_release, CS_RELEASE_PERIOD_MS, release_due},
		{"periodic sync", &s->next_sync, CS_SYNC_PERIOD_MS, periodic_syncs},
		{"nightly full sync", &s->next_nightly, CS_NIGHTLY_PERIOD_MS, nightly_syncs},
		{"reconcile", &s->next_reconcile, CS_RECONCILE_STEP_MS, reconcile},
		{"trimming job streams", &s->next_trim, CS_TRIM_PERIOD_MS, trim},
		{"push channels", &s->next_watch, CS_WATCH_PERIOD_MS, cs_channels_renew},
	};
	cs_err err;

	for (size_t i = 0; i < sizeof(duties) / sizeof(duties[0]); i++) {
		long long now = cs_sched_now();

		if (!cs_leader_active(s))
			return;
		if (now < *duties[i].next)
			continue;
		*duties[i].next = now + duties[i].period_ms;  /* a duty may choose another */
		cs_err_clear(&err);
		if (duties[i].run(s, &err)) {
			cs_sched_redis_failed(s, &err);
			cs_sched_trouble(&s->duty_trouble, "%s failed: %s", duties[i].name, err.msg);
		}
	}
}

void cs_groups_maintain(cs_sched *s)
{
	long long now = cs_sched_now();
	cs_err err;

	if (s->groups_ok || now < s->next_groups)
		return;
	s->next_groups = now + 1000;
	if (cs_queue_ensure_groups(s->redis, &err)) {
		cs_sched_trouble(&s->duty_trouble, "cannot make sure of the job-stream groups: %s",
				 err.msg);
		return;
	}
	s->groups_ok = true;
	cs_info("consumer group %s is ready on %s and %s", CS_GROUP, CS_STREAM_INTERACTIVE,
		CS_STREAM_BACKGROUND);
	/* Redis may have lost its keys: look for lost work now rather than later. */
	s->next_sync = s->next_nightly = now;
	restart_reconcile(s, now);
}
