/*
 * main.c - entry of calsync-hooks (see hooks.h): loads the settings,
 * serves the hooks and /healthz, /readyz on CALSYNC_HTTP_ADDR (empty:
 * CS_HOOKS_DEFAULT_ADDR) until SIGTERM/SIGINT, then stops the server
 * (handlers in progress finish) and exits 0. It keeps no state of its
 * own: PostgreSQL and Redis may be down at start; /readyz says so and
 * notifications are answered 503 until they are back. The line
 * "listening on port N" tells tests and operators the port it got.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "hooks.h"
#include "log.h"
#include "signals.h"
#include "watch.h"
#include "banned.h"

static void healthz(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	(void)ctx; (void)req;
	cs_hooks_answer(resp, 200, "ok");
}

/* Ready when this thread reaches PostgreSQL and Redis. */
static void readyz(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	cs_hooks_conns *c;
	cs_err err;

	(void)req;
	if (!(c = cs_hooks_thread(ctx, &err)) ||
	    cs_db_exec(c->db, NULL, &err, "SELECT 1", 0, NULL) ||
	    cs_redis_cmdf(c->redis, NULL, &err, "PING")) {
		cs_hooks_answer(resp, 503, "not ready");
		return;
	}
	cs_hooks_answer(resp, 200, "ready");
}

static int usage(FILE *out)
{
	fputs("usage: calsync-hooks\n"
	      "  receives the providers' change notifications (POST " CS_HOOK_GOOGLE ", "
	      CS_HOOK_GRAPH ",\n  " CS_HOOK_GRAPH_LIFECYCLE ") and serves /healthz and /readyz on"
	      " CALSYNC_HTTP_ADDR\n  (default " CS_HOOKS_DEFAULT_ADDR "), behind a TLS ingress.\n"
	      "  Settings come from CALSYNC_* environment variables: calsync config --markdown\n",
	      out);
	return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	cs_hooks h;
	cs_httpd *server = NULL;
	cs_config cfg;
	cs_err err;
	bool keyed = false;
	int rc = 1;

	if (argc > 1)
		return usage(strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ?
				     stdout : stderr);
	memset(&cfg, 0, sizeof(cfg));
	if (sodium_init() < 0) {
		fputs("calsync-hooks: cannot initialise libsodium\n", stderr);
		return 1;
	}
	if (cs_config_load(&cfg, CS_PROG_HOOKS, &err) ||
	    cs_log_init(cfg.log_level, cfg.log_format, "calsync-hooks", &err)) {
		fprintf(stderr, "calsync-hooks: %s\n", err.msg);
		goto cleanup;
	}
	if (cs_signals_install(&err) || cs_hooks_init(&h, &cfg, &err)) {
		cs_error("%s", err.msg);
		goto cleanup;
	}
	keyed = true;
	{
		const cs_httpd_route routes[] = {
			{"POST", CS_HOOK_GOOGLE, cs_hooks_google, &h, CS_HOOKS_GOOGLE_BODY_CAP},
			{"POST", CS_HOOK_GRAPH, cs_hooks_graph, &h, CS_HOOKS_GRAPH_BODY_CAP},
			{"POST", CS_HOOK_GRAPH_LIFECYCLE, cs_hooks_graph_lifecycle, &h,
			 CS_HOOKS_GRAPH_BODY_CAP},
			{"GET", "/healthz", healthz, &h, 0},
			{"GET", "/readyz", readyz, &h, 0},
		};
		const char *addr = cfg.http_addr && *cfg.http_addr ? cfg.http_addr
								   : CS_HOOKS_DEFAULT_ADDR;

		if (cs_httpd_start(&server, addr, CS_HOOKS_THREADS, routes,
				   sizeof(routes) / sizeof(routes[0]), &err)) {
			cs_error("CALSYNC_HTTP_ADDR: %s", err.msg);
			goto cleanup;
		}
	}
	cs_info("listening on port %u", cs_httpd_port(server));
	while (!cs_stop_requested)
		pause();
	cs_info("stopping");
	rc = 0;
cleanup:
	cs_httpd_stop(server);
	if (keyed)
		cs_hooks_destroy(&h);
	cs_config_release(&cfg);
	return rc;
}
