/*
 * keeper.c - the helper thread that keeps a running job's lock and claims
 * alive while its provider requests are in flight (see keeper.h).
 */
#include "keeper.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "commit.h"
#include "log.h"
#include "redisconn.h"
#include "banned.h"

struct cs_keeper {
	const cs_config *cfg;
	const char *consumer;
	const cs_http *http;
	cs_redis *redis;          /* the keeper's own: the thread's is busy */
	long interval_ms;
	pthread_t tid;
	bool started;
	pthread_mutex_t mu;       /* guards everything below and the Redis connection */
	pthread_cond_t wake;
	bool stop;
	cs_job *running;
	cs_job **batch;
	int nbatch;
	bool lost;
};

/* With k->mu held: one heartbeat of the running job (and the batch's claims when all). */
static int beat_locked(cs_keeper *k, bool all, cs_err *err)
{
	bool alive = true;

	if (!k->running)
		return 0;
	if (!k->lost) {
		if (cs_commit_heartbeat(k->redis, k->cfg, k->consumer, k->running,
					all ? k->batch : &k->running, all ? k->nbatch : 1, &alive, err))
			return -1;
		k->lost = !alive;
	}
	if (k->lost)
		return cs_err_set(err, CS_EFENCED, false,
				  "job %s lost its calendar's lock or its claim to another worker"
				  " (or Redis lost them): it stops here", k->running->job_id);
	return 0;
}

static void *keeper_main(void *arg)
{
	cs_keeper *k = arg;
	struct timespec until;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		cs_err err;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += k->interval_ms / 1000;
		until.tv_nsec += (k->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!k->stop && pthread_cond_timedwait(&k->wake, &k->mu, &until) != ETIMEDOUT)
			;
		if (k->stop || !k->running || k->lost || !cs_http_in_flight(k->http))
			continue;
		cs_err_clear(&err);
		if (beat_locked(k, true, &err) && err.code != CS_EFENCED)
			cs_warn("job %s: renewing its lock during a request: %s", k->running->job_id,
				err.msg);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

int cs_keeper_new(cs_keeper **out, const cs_config *cfg, const char *consumer,
		  const cs_http *http, cs_err *err)
{
	cs_keeper *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	long shorter = cfg->lock_ttl_ms < cfg->claim_idle_ms ? cfg->lock_ttl_ms : cfg->claim_idle_ms;

	*out = NULL;
	if (!k)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	k->cfg = cfg;
	k->consumer = consumer;
	k->http = http;
	k->interval_ms = shorter / 3 > 0 ? shorter / 3 : 1;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (cs_redis_new(&k->redis, cfg->redis_url, err))
		goto fail;
	if (pthread_create(&k->tid, NULL, keeper_main, k) != 0) {
		cs_err_set(err, CS_ENOMEM, false, "cannot start the lock keeper thread");
		goto fail;
	}
	k->started = true;
	*out = k;
	return 0;
fail:
	cs_keeper_free(k);
	return -1;
}

void cs_keeper_free(cs_keeper *k)
{
	if (!k)
		return;
	if (k->started) {
		pthread_mutex_lock(&k->mu);
		k->stop = true;
		pthread_cond_signal(&k->wake);
		pthread_mutex_unlock(&k->mu);
		pthread_join(k->tid, NULL);
	}
	cs_redis_free(k->redis);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

void cs_keeper_begin(cs_keeper *k, cs_job *running, cs_job **batch, int n)
{
	pthread_mutex_lock(&k->mu);
	k->running = running;
	k->batch = batch;
	k->nbatch = n;
	k->lost = false;
	pthread_mutex_unlock(&k->mu);
}

void cs_keeper_end(cs_keeper *k)
{
	pthread_mutex_lock(&k->mu);
	k->running = NULL;
	k->batch = NULL;
	k->nbatch = 0;
	pthread_mutex_unlock(&k->mu);
}

static int beat(cs_keeper *k, bool all, cs_err *err)
{
	int rc;

	pthread_mutex_lock(&k->mu);
	rc = beat_locked(k, all, err);
	pthread_mutex_unlock(&k->mu);
	return rc;
}

int cs_keeper_beat(cs_keeper *k, cs_err *err)
{
	return beat(k, true, err);
}

int cs_keeper_check(cs_keeper *k, cs_err *err)
{
	return beat(k, false, err);
}

int cs_keeper_guard(void *ctx, cs_err *err)
{
	return cs_keeper_check(ctx, err);
}
