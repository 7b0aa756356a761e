/*
 * health.c - the probe and scrape routes (see health.h): /readyz runs the
 * program's checks at each probe, /metrics writes observe.h's metrics.
 */
#include "health.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "metrics.h"
#include "observe.h"
#include "redisconn.h"
#include "banned.h"

int cs_health_check_postgres(void *conninfo, cs_err *err)
{
	switch (PQping((const char *)conninfo)) {
	case PQPING_OK:
		return 0;
	case PQPING_REJECT:
		return cs_err_set(err, CS_EDB, true, "PostgreSQL refuses connections (starting or shutting down)");
	case PQPING_NO_ATTEMPT:
		return cs_err_set(err, CS_EINVAL, false, "CALSYNC_DATABASE_URL cannot be used");
	default:
		return cs_err_set(err, CS_EDB, true, "PostgreSQL does not answer");
	}
}

int cs_health_check_redis(void *url, cs_err *err)
{
	cs_redis *r = NULL;
	int rc = cs_redis_new(&r, (const char *)url, err);

	if (rc == 0)
		rc = cs_redis_cmdf(r, NULL, err, "PING");
	cs_redis_free(r);
	return rc;
}

int cs_health_check_not_stopping(void *stop_flag, cs_err *err)
{
	if (*(volatile sig_atomic_t *)stop_flag)
		return cs_err_set(err, CS_EIO, false, "draining after SIGTERM: taking no new work");
	return 0;
}

int cs_health_init(cs_health *h, const cs_health_check *checks, size_t n, cs_err *err)
{
	memset(h, 0, sizeof(*h));
	if (n > CS_HEALTH_MAX_CHECKS)
		return cs_err_set(err, CS_EINVAL, false, "more than %d readiness checks",
				  CS_HEALTH_MAX_CHECKS);
	if (n > 0)
		memcpy(h->checks, checks, n * sizeof(*checks));
	h->nchecks = n;
	return 0;
}

static void on_healthz(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	(void)ctx; (void)req;
	cs_dynbuf_addstr(&resp->body, "ok\n", NULL);
}

static void on_readyz(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	cs_health *h = ctx;
	bool ready = true;

	(void)req;
	for (size_t i = 0; i < h->nchecks; i++) {
		cs_err err;

		cs_err_clear(&err);
		if (h->checks[i].fn(h->checks[i].ctx, &err) == 0)
			continue;
		ready = false;
		cs_dynbuf_printf(&resp->body, NULL, "%s: %s\n", h->checks[i].name, err.msg);
	}
	if (ready)
		cs_dynbuf_addstr(&resp->body, "ready\n", NULL);
	resp->status = ready ? 200 : 503;
}

static void on_metrics(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	cs_err err;

	(void)ctx; (void)req;
	resp->content_type = CS_METRICS_CONTENT_TYPE;
	if (cs_observe_write(&resp->body, &err)) {
		cs_dynbuf_reset(&resp->body);
		cs_dynbuf_printf(&resp->body, NULL, "metrics: %s\n", err.msg);
		resp->content_type = "text/plain; charset=utf-8";
		resp->status = 500;
	}
}

void cs_health_routes(cs_health *h, cs_httpd_route *out)
{
	out[0] = (cs_httpd_route){"GET", "/healthz", on_healthz, h, 0};
	out[1] = (cs_httpd_route){"GET", "/readyz", on_readyz, h, 0};
	out[2] = (cs_httpd_route){"GET", "/metrics", on_metrics, h, 0};
}

int cs_health_serve(cs_health *h, const char *addr, const char *default_addr, cs_err *err)
{
	cs_httpd_route routes[CS_HEALTH_NROUTES];
	const char *where = addr && *addr ? addr : default_addr;

	cs_health_routes(h, routes);
	if (cs_httpd_start(&h->httpd, where, 1, routes, CS_HEALTH_NROUTES, err))
		return cs_err_prefix(err, "CALSYNC_HTTP_ADDR");
	cs_info("serving /healthz, /readyz and /metrics on port %u (%s)", cs_httpd_port(h->httpd),
		where);
	return 0;
}

void cs_health_stop(cs_health *h)
{
	cs_httpd_stop(h->httpd);
	h->httpd = NULL;
}
