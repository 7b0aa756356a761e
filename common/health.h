/*
 * health.h - /healthz, /readyz and /metrics of every program, served
 * through httpd.h.
 *
 *   GET /healthz  200 "ok" while the process serves at all (liveness).
 *   GET /readyz   200 "ready" when every check passes; else 503 with one
 *                 line per failed check naming it and why (never a secret:
 *                 the checks' errors name hosts, not URLs with passwords).
 *   GET /metrics  the metrics of observe.h, Prometheus text format 0.0.4.
 *
 * A program lists its checks (the ones below, or its own) and either
 * serves these routes alone (cs_health_serve) or adds them to its own
 * routes (cs_health_routes, for calsync-hooks). Checks run on the
 * server's thread, at each probe: each must be safe to call from there.
 *
 * Ownership: the caller owns the cs_health; cs_health_init() copies the
 * checks array (the ctx pointers are borrowed and must outlive the
 * server); cs_health_serve() starts a server that cs_health_stop() stops
 * and frees.
 */
#ifndef CS_HEALTH_H
#define CS_HEALTH_H

#include <signal.h>
#include <stddef.h>

#include "err.h"
#include "httpd.h"

#define CS_HEALTH_MAX_CHECKS 8
#define CS_HEALTH_NROUTES 3

/* Default CALSYNC_HTTP_ADDR of each program (README). */
#define CS_HTTP_ADDR_WORKER "0.0.0.0:9460"
#define CS_HTTP_ADDR_SCHEDULER "0.0.0.0:9461"
#define CS_HTTP_ADDR_HOOKS "0.0.0.0:8090"  /* hooks/hooks.h: CS_HOOKS_DEFAULT_ADDR */

typedef int (*cs_health_check_fn)(void *ctx, cs_err *err);

typedef struct cs_health_check {
	const char *name;           /* "postgres", "redis", "kafka", "draining" ... */
	cs_health_check_fn fn;
	void *ctx;
} cs_health_check;

typedef struct cs_health {
	cs_health_check checks[CS_HEALTH_MAX_CHECKS];
	size_t nchecks;
	cs_httpd *httpd;
} cs_health;

/* Checks for the usual needs. ctx: a libpq conninfo / a Redis URL / the stop flag. */
int cs_health_check_postgres(void *conninfo, cs_err *err);
int cs_health_check_redis(void *url, cs_err *err);
int cs_health_check_not_stopping(void *stop_flag, cs_err *err);

/* Fill h with the checks (at most CS_HEALTH_MAX_CHECKS). */
int cs_health_init(cs_health *h, const cs_health_check *checks, size_t n, cs_err *err);
/*
 * The three routes, for a program that serves more (out: CS_HEALTH_NROUTES
 * entries: /healthz, /readyz, /metrics in that order; calsync-hooks takes
 * /metrics alone).
 */
void cs_health_routes(cs_health *h, cs_httpd_route *out);

/*
 * Serve the three routes on addr, or default_addr when addr is empty, and
 * log where ("<prog>: serving /healthz, /readyz and /metrics on host:port").
 * Fails with a message naming CALSYNC_HTTP_ADDR.
 */
int cs_health_serve(cs_health *h, const char *addr, const char *default_addr, cs_err *err);
void cs_health_stop(cs_health *h);

#endif
