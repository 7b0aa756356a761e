/*
 * main.c - entry of calsync-worker: settings, logging, keys, signals, then
 * the pool (pool.c). SIGTERM and SIGINT only set a flag: the pool stops
 * taking jobs, hands back the ones not started, finishes the one in hand
 * and the process exits 0 within CALSYNC_DRAIN_TIMEOUT_MS.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "health.h"
#include "log.h"
#include "pool.h"
#include "secret.h"
#include "signals.h"
#include "banned.h"

/*
 * A pull builds and frees JSON trees of thousands of small blocks next to
 * buffers of hundreds of kB, on three threads. glibc's fast bins make it
 * merge every freed small block each time a large one comes or goes, and
 * its heaps grow and shrink a little at a time: a quarter of the worker's
 * CPU in a 10,000-event pull. Without fast bins (small blocks still have
 * each thread's cache) and growing 16 MB at a time, that pull's worker CPU
 * fell from about 0.22 s to 0.17 s.
 */
static void tune_malloc(void)
{
	mallopt(M_MXFAST, 0);
	mallopt(M_TOP_PAD, 16 << 20);
}

/* /healthz, /readyz (PostgreSQL, Redis, not draining) and /metrics. */
static int serve_health(cs_health *h, const cs_config *cfg, cs_err *err)
{
	const cs_health_check checks[] = {
		{"postgres", cs_health_check_postgres, cfg->database_url},
		{"redis", cs_health_check_redis, cfg->redis_url},
		{"draining", cs_health_check_not_stopping, (void *)&cs_stop_requested},
	};

	if (cs_health_init(h, checks, sizeof(checks) / sizeof(checks[0]), err))
		return -1;
	return cs_health_serve(h, cfg->http_addr, CS_HTTP_ADDR_WORKER, err);
}

int main(int argc, char **argv)
{
	cs_health health;
	cs_keyring *keys = NULL;
	cs_config cfg;
	bool abandoned = false;
	cs_err err;
	int rc;

	tune_malloc();
	if (argc > 1) {
		printf("usage: calsync-worker\n  runs jobs from the Redis job streams; "
		       "settings from CALSYNC_* variables (calsync config --markdown)\n");
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	if (cs_config_load(&cfg, CS_PROG_WORKER, &err)) {
		fprintf(stderr, "calsync-worker: %s\n", err.msg);
		return 1;
	}
	if (cs_log_init(cfg.log_level, cfg.log_format, "calsync-worker", &err)) {
		fprintf(stderr, "calsync-worker: %s\n", err.msg);
		cs_config_release(&cfg);
		return 1;
	}
	if (sodium_init() < 0 || cs_keyring_parse(&keys, cfg.secret_keys, &err)) {
		fprintf(stderr, "calsync-worker: CALSYNC_SECRET_KEYS: %s\n", err.msg);
		cs_config_release(&cfg);
		return 1;
	}
	json_object_seed(0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cs_signals_install(&err) || serve_health(&health, &cfg, &err)) {
		cs_error("%s", err.msg);
		cs_keyring_free(keys);
		cs_config_release(&cfg);
		return 1;
	}
	rc = cs_pool_run(&cfg, keys, &cs_stop_requested, &abandoned, &err);
	cs_health_stop(&health);
	if (rc)
		cs_error("worker: %s", err.msg);
	if (abandoned) {
		/* threads still hold jobs: they stay pending and are taken over */
		fflush(NULL);
		_exit(0);
	}
	cs_info("worker stopped");
	cs_keyring_free(keys);
	cs_config_release(&cfg);
	curl_global_cleanup();
	return rc ? 1 : 0;
}
