/*
 * hooks.h - calsync-hooks, the receiver of provider change notifications
 * (contract section 1): stateless, as many replicas as needed behind the
 * operators' TLS ingress. Its parts:
 *   main.c    settings, the HTTP server (common/httpd.h), /healthz, /readyz
 *   conns.c   one PostgreSQL and one Redis connection per server thread
 *   google.c  POST /hooks/google: channel id + token against the stored hash
 *   graph.c   POST /hooks/graph and /hooks/graph/lifecycle: the
 *             validationToken handshake, clientState against the stored hash
 *   notice.c  parsing what a notification says (notice.h)
 * A genuine change becomes one incremental sync job on the interactive
 * stream, waiting once per calendar (watch.h). Whatever cannot be
 * authenticated is refused with a bare "refused": the reason goes to the
 * log, never a secret.
 *
 * Ownership: main.c owns the cs_hooks and its settings; handlers borrow
 * them. Each server thread's connections are its own (conns.c), freed
 * when the thread ends.
 */
#ifndef CS_HOOKS_H
#define CS_HOOKS_H

#include <pthread.h>
#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "httpd.h"
#include "ids.h"
#include "redisconn.h"
#include "watch.h"

#define CS_HOOKS_DEFAULT_ADDR "0.0.0.0:8090"
#define CS_HOOKS_THREADS 4
#define CS_HOOKS_GOOGLE_BODY_CAP ((size_t)4 << 10)    /* Google's body is empty */
#define CS_HOOKS_GRAPH_BODY_CAP ((size_t)1 << 20)     /* a batch of notifications */
#define CS_HOOKS_VALIDATION_MAX 1024                  /* the validationToken echoed */

typedef struct cs_hooks {
	const cs_config *cfg;
	pthread_key_t conns;      /* this thread's struct cs_hooks_conns */
} cs_hooks;

typedef struct cs_hooks_conns {
	cs_db *db;
	cs_redis *redis;
} cs_hooks_conns;

/* conns.c */
int cs_hooks_init(cs_hooks *h, const cs_config *cfg, cs_err *err);
void cs_hooks_destroy(cs_hooks *h);
/* The calling thread's connections, made on first use; NULL with err on failure. */
cs_hooks_conns *cs_hooks_thread(cs_hooks *h, cs_err *err);

/* Answer status with a short plain text. */
void cs_hooks_answer(cs_httpd_response *resp, int status, const char *text);
/* A row of calendar_watch_channels as the hooks read it. */
typedef struct cs_hooks_channel {
	char calendar[CS_UUID_LEN + 1];
	char hash[CS_WATCH_HASH_LEN + 1];  /* of the channel's secret */
	char resource[257];                /* Google's resource id; "" for Graph */
	char state[16];                    /* live, failed, removed */
} cs_hooks_channel;

/* The channel row of (provider, channel_id); *found false when there is none. */
int cs_hooks_find_channel(cs_hooks_conns *c, const char *provider, const char *channel_id,
			  bool *found, cs_hooks_channel *ch, cs_err *err);

/* google.c, graph.c: the route handlers (ctx: the cs_hooks) */
void cs_hooks_google(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp);
void cs_hooks_graph(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp);
void cs_hooks_graph_lifecycle(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp);

#endif
