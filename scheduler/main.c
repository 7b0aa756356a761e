/*
 * main.c - entry of calsync-scheduler: loads the settings, opens the
 * PostgreSQL and Redis connections and the Kafka consumer, and runs the
 * one loop: keep the leader lease, run the leader's due duties, handle
 * the next Kafka message. SIGTERM/SIGINT only set a flag; the loop then
 * releases the lease, closes the consumer (committing its offsets) and
 * exits 0. PostgreSQL, Redis and Kafka may be down at start or at any
 * time: the loop keeps trying and says so in the log.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "config.h"
#include "health.h"
#include "ids.h"
#include "log.h"
#include "sched.h"
#include "signals.h"
#include "banned.h"

/* Longest wait for a Kafka message per loop turn (bounds the reaction to a signal). */
#define LOOP_POLL_MS 100

static void make_id(char *out, size_t n)
{
	char host[64] = "host", rnd[CS_UUID_LEN + 1];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	cs_uuid_v4(rnd);
	rnd[8] = '\0';
	snprintf(out, n, "%s:%d:%s", host, (int)getpid(), rnd);
}

static void run(cs_sched *s)
{
	while (!*s->stop) {
		cs_groups_maintain(s);
		if (cs_leader_tick(s))
			cs_duties_reset(s);     /* a new leader: every duty is due now */
		if (cs_leader_active(s))
			cs_duties_run(s);
		cs_gauges_step(s);
		cs_consumer_step(s, LOOP_POLL_MS);
	}
}

static int usage(FILE *out)
{
	fputs("usage: calsync-scheduler\n"
	      "  periodic and nightly sync jobs, retries and reconcile (one leader at a time),\n"
	      "  and push jobs from the Kafka event-changed messages (every replica).\n"
	      "  Settings come from CALSYNC_* environment variables: calsync config --markdown\n",
	      out);
	return out == stdout ? 0 : 2;
}

/* /healthz, /readyz (PostgreSQL, Redis, Kafka) and /metrics. */
static int serve_health(cs_health *h, cs_sched *s, cs_err *err)
{
	const cs_health_check checks[] = {
		{"postgres", cs_health_check_postgres, s->cfg->database_url},
		{"redis", cs_health_check_redis, s->cfg->redis_url},
		{"kafka", cs_gauges_kafka_check, s},
	};

	if (cs_health_init(h, checks, sizeof(checks) / sizeof(checks[0]), err))
		return -1;
	return cs_health_serve(h, s->cfg->http_addr, CS_HTTP_ADDR_SCHEDULER, err);
}

int main(int argc, char **argv)
{
	cs_health health = {0};
	cs_sched s;
	cs_config cfg;
	cs_err err;
	int rc = 1;

	if (argc > 1)
		return usage(strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ?
				     stdout : stderr);
	memset(&s, 0, sizeof(s));
	memset(&cfg, 0, sizeof(cfg));
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("calsync-scheduler: cannot initialise libsodium or libcurl\n", stderr);
		return 1;
	}
	if (cs_config_load(&cfg, CS_PROG_SCHEDULER, &err) ||
	    cs_log_init(cfg.log_level, cfg.log_format, "calsync-scheduler", &err)) {
		fprintf(stderr, "calsync-scheduler: %s\n", err.msg);
		goto cleanup;
	}
	if (cs_signals_install(&err)) {
		cs_error("%s", err.msg);
		goto cleanup;
	}
	s.cfg = &cfg;
	s.stop = &cs_stop_requested;
	make_id(s.id, sizeof(s.id));
	if (cs_db_new(&s.db, cfg.database_url, &err) || cs_redis_new(&s.redis, cfg.redis_url, &err) ||
	    cs_consumer_open(&s, &err)) {
		cs_error("%s", err.msg);
		goto cleanup;
	}
	if (serve_health(&health, &s, &err)) {
		cs_error("%s", err.msg);
		goto cleanup;
	}
	cs_info("started as %s: topic %s, group %s, lease %ld ms", s.id, cfg.kafka_topic,
		cfg.kafka_group, cfg.leader_lease_ms);
	run(&s);
	cs_info("stopping");
	cs_leader_release(&s);
	rc = 0;
cleanup:
	cs_health_stop(&health);
	cs_consumer_close(&s);
	cs_redis_free(s.redis);
	cs_db_free(s.db);
	cs_config_release(&cfg);
	curl_global_cleanup();
	return rc;
}
