/*
 * httpd.h - the small HTTP server of every program, on libmicrohttpd:
 * /healthz, /readyz and /metrics everywhere, and the hooks of
 * calsync-hooks. No HTTP is parsed here: libmicrohttpd does that; this
 * module routes a request to a handler, collects its body under a cap and
 * sends the handler's answer.
 *
 * A server runs its own threads (libmicrohttpd's internal polling thread,
 * or a pool of them): handlers run on those threads, at the same time as
 * the program's own, and whatever ctx they share with the program must be
 * safe for that. A body over the route's cap is answered 413 without the
 * handler; an unknown path 404, a known path with another method 405.
 *
 * Ownership: cs_httpd_start() copies the routes (their ctx pointers are
 * borrowed and must outlive the server); cs_httpd_stop() stops the server
 * and frees it. A request and everything it points to is borrowed for the
 * handler's call only. The handler fills the response's body buffer,
 * which the server frees.
 */
#ifndef CS_HTTPD_H
#define CS_HTTPD_H

#include <stddef.h>

#include "dynbuf.h"
#include "err.h"

#define CS_HTTPD_ANSWER_CAP ((size_t)8 << 20) /* the most a handler may answer */

typedef struct cs_httpd cs_httpd;
struct MHD_Connection;

typedef struct cs_httpd_request {
	const char *method;      /* "GET", "POST", ... */
	const char *path;        /* without the query string */
	const char *body;        /* NUL-terminated (the NUL not counted); "" when none */
	size_t body_len;
	struct MHD_Connection *conn; /* for cs_httpd_header() and cs_httpd_query() */
} cs_httpd_request;

typedef struct cs_httpd_response {
	int status;               /* 200 unless the handler sets it */
	const char *content_type; /* a static string; "text/plain; charset=utf-8" unless set */
	cs_dynbuf body;           /* capped at CS_HTTPD_ANSWER_CAP */
} cs_httpd_response;

typedef void (*cs_httpd_handler_fn)(void *ctx, const cs_httpd_request *req,
				    cs_httpd_response *resp);

typedef struct cs_httpd_route {
	const char *method;
	const char *path;         /* matched exactly */
	cs_httpd_handler_fn handler;
	void *ctx;
	size_t body_cap;          /* the largest body accepted; 0: none */
} cs_httpd_route;

/*
 * Serve routes on addr ("host:port", "[v6]:port"; port 0 picks a free
 * one) with threads polling threads (1 or more). Fails with CS_EINVAL
 * naming the address when it cannot be parsed or bound.
 */
int cs_httpd_start(cs_httpd **out, const char *addr, unsigned threads,
		   const cs_httpd_route *routes, size_t nroutes, cs_err *err);
/* The port the server listens on. */
unsigned cs_httpd_port(const cs_httpd *h);
/* Stop serving (waits for handlers in progress) and free the server; NULL is fine. */
void cs_httpd_stop(cs_httpd *h);

/* A request header (case-insensitive name) or a query argument (decoded), or NULL. */
const char *cs_httpd_header(const cs_httpd_request *req, const char *name);
const char *cs_httpd_query(const cs_httpd_request *req, const char *name);

#endif
