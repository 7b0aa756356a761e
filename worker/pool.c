/*
 * pool.c - worker threads. Each thread owns its connections and loops:
 * housekeeping (release due retries, take over jobs of silent workers),
 * read a batch (interactive first), lock the batch's calendars, run each
 * job through its handler, end them all in one atomic script.
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

#include "commit.h"
#include "fetch.h"
#include "log.h"
#include "queue.h"
#include "run.h"
#include "worker.h"
#include "banned.h"

#define HOUSEKEEPING_MS 1000
/* After deferring a job (its calendar was busy), release due jobs this soon. */
#define DEFER_RECHECK_MS 60
#define BLOCK_MS 500

struct thread_ctx {
	pthread_t tid;
	int index;
	const cs_config *cfg;
	const cs_keyring *keys;
	volatile sig_atomic_t *stop;
	atomic_int *running;
};

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void consumer_name(const cs_config *cfg, int index, char *buf, size_t n)
{
	char host[64] = "host";

	if (cfg->worker_name && *cfg->worker_name) {
		snprintf(buf, n, "%s-%d", cfg->worker_name, index);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, n, "%s-%ld-%d", host, (long)getpid(), index);
}

/* Wait before trying Redis again: 100 ms doubling to 2 s, stop-aware. */
static void backoff(struct thread_ctx *t, long *delay)
{
	for (long waited = 0; waited < *delay && !*t->stop; waited += 50)
		nap_ms(50);
	*delay = *delay < 2000 ? *delay * 2 : 2000;
}

static bool any_deferred(const cs_joblist *jobs)
{
	for (int i = 0; i < jobs->n; i++)
		if (jobs->items[i]->outcome == CS_OUT_DEFER)
			return true;
	return false;
}

static int housekeeping(cs_worker *w, cs_joblist *jobs, cs_err *err)
{
	if (cs_queue_release_due(w->redis, 100, NULL, err))
		return -1;
	return cs_fetch_claim(w->redis, w->cfg, w->consumer, (int)w->cfg->batch_size, jobs, err);
}

static void *thread_main(void *arg)
{
	struct thread_ctx *t = arg;
	cs_worker w = {.cfg = t->cfg, .keys = t->keys};
	cs_joblist jobs = {0};
	long long next_house = 0;
	bool groups_ok = false, drained_own = false;
	long delay = 100;
	cs_err err;

	consumer_name(t->cfg, t->index, w.consumer, sizeof(w.consumer));
	if (cs_redis_new(&w.redis, t->cfg->redis_url, &err) ||
	    cs_db_new(&w.db, t->cfg->database_url, &err) ||
	    cs_http_new(&w.http, t->cfg->http_timeout_ms, t->cfg->ca_file, &err) ||
	    cs_keeper_new(&w.keeper, t->cfg, w.consumer, w.http, &err)) {
		cs_error("worker thread %d cannot start: %s", t->index, err.msg);
		goto out;
	}
	cs_http_set_guard(w.http, cs_keeper_guard, w.keeper);
	while (!*t->stop) {
		int rc;

		cs_err_clear(&err);
		if (!groups_ok)
			groups_ok = cs_queue_ensure_groups(w.redis, &err) == 0;
		if (groups_ok && !drained_own) {
			rc = cs_fetch_own_pending(w.redis, w.consumer, (int)t->cfg->batch_size, &jobs, &err);
			drained_own = rc == 0 && jobs.n == 0;
		} else if (groups_ok && cs_now_ms() >= next_house) {
			rc = housekeeping(&w, &jobs, &err);
			next_house = cs_now_ms() + HOUSEKEEPING_MS;
		} else if (groups_ok) {
			rc = cs_fetch_new(w.redis, w.consumer, (int)t->cfg->batch_size, BLOCK_MS, &jobs, &err);
		} else {
			rc = -1;
		}
		if (rc == 0 && jobs.n > 0)
			rc = cs_run_batch(&w, &jobs, t->stop, &err);
		if (rc == 0 && any_deferred(&jobs))
			next_house = cs_now_ms() + DEFER_RECHECK_MS; /* release them soon */
		cs_joblist_clear(&jobs);
		if (rc == 0) {
			delay = 100;
			continue;
		}
		cs_warn("worker %s: %s", w.consumer, err.msg);
		groups_ok = false;     /* Redis may have restarted empty */
		drained_own = false;   /* our unfinished entries are pending again */
		backoff(t, &delay);
	}
out:
	cs_joblist_release(&jobs);
	cs_redis_free(w.redis);
	cs_db_free(w.db);
	cs_keeper_free(w.keeper);
	cs_http_free(w.http);
	atomic_fetch_sub(t->running, 1);
	return NULL;
}

int cs_pool_run(const cs_config *cfg, const cs_keyring *keys, volatile sig_atomic_t *stop,
		bool *abandoned, cs_err *err)
{
	int n = (int)cfg->worker_concurrency;
	struct thread_ctx *threads = calloc((size_t)n, sizeof(*threads));
	atomic_int running = 0;
	long long deadline;
	int started = 0;

	if (!threads)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	for (int i = 0; i < n; i++) {
		threads[i] = (struct thread_ctx){.index = i, .cfg = cfg, .keys = keys,
						 .stop = stop, .running = &running};
		atomic_fetch_add(&running, 1);
		if (pthread_create(&threads[i].tid, NULL, thread_main, &threads[i]) != 0) {
			atomic_fetch_sub(&running, 1);
			*stop = 1;
			cs_err_set(err, CS_ENOMEM, false, "cannot start worker thread %d", i);
			break;
		}
		started++;
	}
	cs_info("worker started: %d threads, batch %ld", started, cfg->batch_size);
	while (!*stop)
		nap_ms(50);
	cs_info("draining: finishing the jobs in hand (at most %ld ms)", cfg->drain_timeout_ms);
	deadline = cs_now_ms() + cfg->drain_timeout_ms;
	while (atomic_load(&running) > 0 && cs_now_ms() < deadline)
		nap_ms(10);
	if (atomic_load(&running) > 0) {
		cs_warn("drain deadline passed with %d threads busy: their jobs stay pending "
			"and will be taken over", atomic_load(&running));
		*abandoned = true; /* threads still run: their contexts stay allocated */
		return 0;
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i].tid, NULL);
	free(threads);
	return started == n ? 0 : -1;
}
