/*
 * pool.c - the worker process: one reader, CALSYNC_WORKER_CONCURRENCY
 * slot threads, one finisher, around the lanes (lanes.h).
 *
 * The reader reads a batch (interactive first) only when a slot is idle or
 * less than half a batch waits, prepares and locks it, and queues it as groups (the jobs sharing one
 * calendar lock); it also releases due retries and takes over jobs of
 * silent workers. Each slot takes the next group (interactive lane first)
 * and runs it with blocking provider calls; its stack is small, its
 * PostgreSQL connection borrowed per statement or transaction from the
 * process's pool (dbpool.h), its Redis connection opened only when a job
 * reports progress. The finisher ends every job that ended meanwhile in
 * one script. All of them use the process's one consumer name; the slots'
 * provider requests share one per-account pacer (pacer.h).
 */
#include <signal.h>

#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_scripts.h"
#include "audit.h"
#include "dbpool.h"
#include "fetch.h"
#include "lanes.h"
#include "log.h"
#include "queue.h"
#include "run.h"
#include "worker.h"
#include "banned.h"

#define HOUSEKEEPING_MS 1000
/* After deferring a job (its calendar was busy), release due jobs this soon: just after
 * the longest defer delay (50-100 ms, batch_scripts.c), so it runs again at once. */
#define DEFER_RECHECK_MS 110
#define BLOCK_MS 500
/* While every slot is busy, look at the interactive stream this often. */
#define INTERACTIVE_POLL_MS 20
/* A slot's stack: the engine keeps its big buffers on the heap. */
#define SLOT_STACK (256 * 1024)

struct pool {
	const cs_config *cfg;
	const cs_keyring *keys;
	volatile sig_atomic_t *stop;
	cs_dbpool *dbpool;
	cs_pacer *pacer;
	cs_lanes lanes;
	char consumer[160];
	atomic_int running;       /* threads not ended yet */
	atomic_bool reread_own;   /* an end failed: our pending entries are to be read again */
	atomic_bool defer_seen;   /* a job was deferred: release due jobs soon */
};

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void consumer_name(const cs_config *cfg, char *buf, size_t n)
{
	char host[64] = "host";

	if (cfg->worker_name && *cfg->worker_name) {
		snprintf(buf, n, "%s-0", cfg->worker_name);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, n, "%s-%ld-0", host, (long)getpid());
}

/* A thread's connections: Redis (opened on first use), pooled PostgreSQL, HTTP, keeper. */
static int worker_open(struct pool *p, cs_worker *w, bool slot, cs_err *err)
{
	*w = (cs_worker){.cfg = p->cfg, .keys = p->keys};
	snprintf(w->consumer, sizeof(w->consumer), "%s", p->consumer);
	if (cs_redis_new(&w->redis, p->cfg->redis_url, err) ||
	    cs_db_new_pooled(&w->db, p->dbpool, err))
		return -1;
	if (!slot)
		return 0;
	if (cs_http_new(&w->http, p->cfg->http_timeout_ms, p->cfg->ca_file, err) ||
	    cs_keeper_new(&w->keeper, p->cfg, w->consumer, w->http, err))
		return -1;
	cs_http_set_guard(w->http, cs_keeper_guard, w->keeper);
	w->pace.pacer = p->pacer;
	cs_http_set_pacer(w->http, cs_pace_request, &w->pace);
	return 0;
}

static void worker_close(cs_worker *w)
{
	cs_redis_free(w->redis);
	cs_db_free(w->db);
	cs_keeper_free(w->keeper);
	cs_http_free(w->http);
}

/* Wait before trying Redis again: 100 ms doubling to 2 s, stop-aware. */
static void backoff(struct pool *p, long *delay)
{
	for (long waited = 0; waited < *delay && !*p->stop; waited += 50)
		nap_ms(50);
	*delay = *delay < 2000 ? *delay * 2 : 2000;
}

/*
 * Queue a prepared, locked batch: one group per calendar lock (jobs
 * sharing a lock run one after the other in one slot), jobs that need no
 * slot (ended already, or deferred: their calendar is busy) straight to
 * the finisher.
 */
static int queue_batch(struct pool *p, cs_joblist *jobs)
{
	cs_joblist *done = calloc(1, sizeof(*done));
	int rc = done ? 0 : -1;

	for (int i = 0; i < jobs->n && rc == 0; i++) {
		cs_job *job = jobs->items[i];
		cs_joblist *g;

		if (!job)
			continue;
		if (job->outcome != CS_OUT_NONE || (job->calendar_id && !job->has_lock)) {
			if (job->outcome == CS_OUT_NONE) {
				job->outcome = CS_OUT_DEFER;
				atomic_store(&p->defer_seen, true);
			}
			rc = cs_joblist_push(done, job);
			jobs->items[i] = NULL;
			continue;
		}
		if (!(g = calloc(1, sizeof(*g)))) {
			rc = -1;
			break;
		}
		for (int k = i; k < jobs->n && rc == 0; k++) {
			cs_job *other = jobs->items[k];

			if (other && (other == job || other->lock_job == job)) {
				rc = cs_joblist_push(g, other);
				jobs->items[k] = NULL;
			}
		}
		if (rc == 0)
			rc = cs_lanes_put(&p->lanes, g, strcmp(job->stream, CS_STREAM_INTERACTIVE) == 0);
	}
	if (done)
		cs_lanes_ended(&p->lanes, done);
	return rc;
}

/*
 * Whether the reader may read another batch: a slot waits for work, or
 * less than half a batch is queued (so that a run of quick jobs never
 * waits for the next read; at most a batch and a half wait in the process)
 * - and the finisher is not behind by more than two batches.
 */
static bool room(const struct pool *p, int queued, int idle, int in_hand)
{
	return (idle > queued || queued < p->cfg->batch_size / 2) &&
	       in_hand < p->cfg->worker_concurrency + 2 * p->cfg->batch_size;
}

/* One read: what to read depends on what is in hand. */
static int read_some(struct pool *p, cs_worker *w, cs_joblist *jobs, long long *next_house,
		     bool *drained_own, bool *taken_over, cs_err *err)
{
	int queued, idle, in_hand, count = (int)p->cfg->batch_size;
	long long block;

	*taken_over = true;
	cs_lanes_load(&p->lanes, &queued, &idle, &in_hand);
	if (!*drained_own || atomic_load(&p->reread_own)) {
		int busy = (int)p->cfg->worker_concurrency - idle + queued;

		if (busy > 0) {   /* own pending entries are only safe to read with nothing in hand */
			cs_lanes_wait_room(&p->lanes, INTERACTIVE_POLL_MS);
			return 0;
		}
		atomic_store(&p->reread_own, false);
		if (cs_fetch_own_pending(w->redis, w->consumer, count, jobs, err))
			return -1;
		*drained_own = jobs->n == 0;
		return 0;
	}
	if (atomic_exchange(&p->defer_seen, false))
		*next_house = cs_now_ms() + DEFER_RECHECK_MS;
	if (cs_now_ms() >= *next_house) {
		*next_house = cs_now_ms() + HOUSEKEEPING_MS;
		if (cs_queue_release_due(w->redis, 100, NULL, err))
			return -1;
		return cs_fetch_claim(w->redis, p->cfg, w->consumer, count, jobs, err);
	}
	*taken_over = false;
	if (!room(p, queued, idle, in_hand)) {
		/* every slot busy: only interactive work may join the queue meanwhile */
		cs_lanes_wait_room(&p->lanes, INTERACTIVE_POLL_MS);
		cs_lanes_load(&p->lanes, &queued, &idle, &in_hand);
		if (room(p, queued, idle, in_hand))
			return cs_fetch_new(w->redis, w->consumer, count, 0, jobs, err);
		return cs_fetch_interactive(w->redis, w->consumer, count, jobs, err);
	}
	/* wait for new entries, but not past the next housekeeping (a deferred job's release) */
	block = queued > 0 ? 0 : BLOCK_MS;
	if (*next_house - cs_now_ms() < block)
		block = *next_house - cs_now_ms() > 0 ? *next_house - cs_now_ms() : 0;
	return cs_fetch_new(w->redis, w->consumer, count, (int)block, jobs, err);
}

static void *reader_main(void *arg)
{
	struct pool *p = arg;
	cs_worker w;
	cs_joblist jobs = {0};
	long long next_house = 0;
	bool groups_ok = false, drained_own = false, taken_over = false;
	long delay = 100;
	cs_err err;

	if (worker_open(p, &w, false, &err)) {
		cs_error("worker reader cannot start: %s", err.msg);
		*p->stop = 1;
	}
	while (!*p->stop) {
		int rc;

		cs_err_clear(&err);
		if (!groups_ok)
			groups_ok = cs_queue_ensure_groups(w.redis, &err) == 0;
		rc = groups_ok ? read_some(p, &w, &jobs, &next_house, &drained_own, &taken_over, &err)
			       : -1;
		if (rc == 0 && jobs.n > 0 && cs_lanes_hold(&p->lanes, &jobs, taken_over))
			rc = cs_err_set(&err, CS_ENOMEM, false, "out of memory reading jobs");
		if (rc == 0 && jobs.n > 0)
			rc = cs_run_lock(&w, &jobs, &err);
		if (rc == 0 && jobs.n > 0 && queue_batch(p, &jobs))
			rc = cs_err_set(&err, CS_ENOMEM, false, "out of memory queueing jobs");
		cs_lanes_forget(&p->lanes, &jobs); /* what was not queued stays pending in Redis */
		cs_joblist_clear(&jobs);
		if (rc == 0) {
			delay = 100;
			continue;
		}
		cs_warn("worker %s: %s", w.consumer, err.msg);
		groups_ok = false;     /* Redis may have restarted empty */
		drained_own = false;   /* our unfinished entries are pending again */
		backoff(p, &delay);
	}
	cs_lanes_close(&p->lanes);
	cs_joblist_release(&jobs);
	worker_close(&w);
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

static void *slot_main(void *arg)
{
	struct pool *p = arg;
	cs_joblist *g;
	cs_worker w;
	cs_err err;

	if (worker_open(p, &w, true, &err)) {
		cs_error("worker slot cannot start: %s", err.msg);
		*p->stop = 1;
		cs_lanes_close(&p->lanes);
	}
	while ((g = cs_lanes_take(&p->lanes)) != NULL) {
		cs_run_group(&w, g, p->stop);
		if (cs_lanes_ended(&p->lanes, g))
			cs_warn("out of memory ending jobs: they stay pending and will be taken over");
	}
	worker_close(&w);
	cs_lanes_slot_gone(&p->lanes);
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

static void *finisher_main(void *arg)
{
	struct pool *p = arg;
	cs_joblist ended = {0};
	bool done = false;
	long delay = 100;
	cs_worker w;
	cs_err err;

	if (worker_open(p, &w, false, &err)) {
		cs_error("worker finisher cannot start: %s", err.msg);
		*p->stop = 1;
	}
	while (!done) {
		cs_lanes_take_ended(&p->lanes, &ended, 100, &done);
		if (ended.n == 0)
			continue;
		cs_err_clear(&err);
		if (cs_run_end(&w, &ended, &err) == 0) {
			delay = 100;
		} else {
			cs_warn("worker %s: ending %d jobs: %s (they stay pending)", w.consumer, ended.n,
				err.msg);
			atomic_store(&p->reread_own, true);
			backoff(p, &delay);
		}
		cs_lanes_forget(&p->lanes, &ended);
		cs_joblist_clear(&ended);
	}
	cs_joblist_release(&ended);
	worker_close(&w);
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

static int start(struct pool *p, pthread_attr_t *attr, void *(*fn)(void *))
{
	pthread_t tid;

	atomic_fetch_add(&p->running, 1);
	if (pthread_create(&tid, attr, fn, p) != 0) {
		atomic_fetch_sub(&p->running, 1);
		return -1;
	}
	pthread_detach(tid);
	return 0;
}

int cs_pool_run(const cs_config *cfg, const cs_keyring *keys, volatile sig_atomic_t *stop,
		bool *abandoned, cs_err *err)
{
	struct pool *p = calloc(1, sizeof(*p));
	pthread_attr_t attr;
	long long deadline;
	int slots = 0, rc = 0;

	if (!p)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	*p = (struct pool){.cfg = cfg, .keys = keys, .stop = stop};
	consumer_name(cfg, p->consumer, sizeof(p->consumer));
	cs_lanes_init(&p->lanes);
	if (cs_dbpool_new(&p->dbpool, cfg->database_url, (int)cfg->db_pool_size, err) ||
	    cs_pacer_new(&p->pacer, err) || cs_audit_flusher_start(p->dbpool, err)) {
		cs_pacer_free(p->pacer);
		cs_dbpool_free(p->dbpool);
		cs_lanes_destroy(&p->lanes);
		free(p);
		return -1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SLOT_STACK);
	p->lanes.slots = (int)cfg->worker_concurrency;
	for (int i = 0; i < cfg->worker_concurrency; i++) {
		if (start(p, &attr, slot_main))
			break;
		slots++;
	}
	p->lanes.slots = slots;   /* the threads started count themselves out */
	if (slots < cfg->worker_concurrency || start(p, NULL, finisher_main) ||
	    start(p, NULL, reader_main)) {
		*stop = 1;
		cs_lanes_close(&p->lanes);
		rc = cs_err_set(err, CS_ENOMEM, false, "cannot start the worker's threads");
	}
	pthread_attr_destroy(&attr);
	cs_info("worker started: %d slots, %ld PostgreSQL connections at most, batch %ld",
		slots, cfg->db_pool_size, cfg->batch_size);
	while (!*stop)
		nap_ms(50);
	cs_info("draining: finishing the jobs in hand (at most %ld ms)", cfg->drain_timeout_ms);
	deadline = cs_now_ms() + cfg->drain_timeout_ms;
	while (atomic_load(&p->running) > 0 && cs_now_ms() < deadline)
		nap_ms(10);
	cs_audit_flusher_stop();   /* what the drained jobs left to write */
	if (atomic_load(&p->running) > 0) {
		cs_warn("drain deadline passed with %d threads busy: their jobs stay pending "
			"and will be taken over", atomic_load(&p->running));
		*abandoned = true; /* threads still run: the pool stays allocated */
		return rc;
	}
	cs_lanes_destroy(&p->lanes);
	cs_dbpool_free(p->dbpool);
	cs_pacer_free(p->pacer);
	free(p);
	return rc;
}
