/*
 * httpd.c - routes libmicrohttpd's requests to the handlers of httpd.h,
 * with each request's body collected under its route's cap.
 */
#include "httpd.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "banned.h"

#define CS_HTTPD_CONN_TIMEOUT_S 10
#define CS_HTTPD_CONN_LIMIT 1000

struct cs_httpd {
	struct MHD_Daemon *daemon;
	cs_httpd_route *routes;
	size_t nroutes;
};

/* What a request collects between libmicrohttpd's calls. */
struct pending {
	const cs_httpd_route *route;
	int refusal;           /* answered at once without the handler; 0: none */
	cs_dynbuf body;
};

static const char TEXT[] = "text/plain; charset=utf-8";

static const cs_httpd_route *find_route(const cs_httpd *h, const char *method,
					const char *path, int *refusal)
{
	bool path_known = false;

	for (size_t i = 0; i < h->nroutes; i++) {
		if (strcmp(h->routes[i].path, path) != 0)
			continue;
		path_known = true;
		if (strcmp(h->routes[i].method, method) == 0)
			return &h->routes[i];
	}
	*refusal = path_known ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
	return NULL;
}

static enum MHD_Result send_answer(struct MHD_Connection *conn, int status,
				   const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result refuse(struct MHD_Connection *conn, int status)
{
	const char *text = status == MHD_HTTP_NOT_FOUND ? "not found\n"
			 : status == MHD_HTTP_METHOD_NOT_ALLOWED ? "method not allowed\n"
			 : status == MHD_HTTP_CONTENT_TOO_LARGE ? "body too large\n"
			 : "refused\n";
	return send_answer(conn, status, TEXT, text, strlen(text));
}

/* A Content-Length over the cap is refused before any byte of the body is read. */
static bool declared_too_large(struct MHD_Connection *conn, size_t cap)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl)
		return false;
	n = strtoull(cl, &end, 10);
	return end != cl && n > cap;
}

static enum MHD_Result start_request(cs_httpd *h, struct MHD_Connection *conn,
				     const char *url, const char *method, void **con_cls)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return MHD_NO;
	p->route = find_route(h, method, url, &p->refusal);
	cs_dynbuf_init(&p->body, p->route ? p->route->body_cap : 0);
	if (p->route && declared_too_large(conn, p->route->body_cap))
		p->refusal = MHD_HTTP_CONTENT_TOO_LARGE;
	*con_cls = p;
	return p->refusal ? refuse(conn, p->refusal) : MHD_YES;
}

static enum MHD_Result run_handler(struct MHD_Connection *conn, const char *url,
				   const char *method, struct pending *p)
{
	cs_httpd_request req = {
		.method = method, .path = url, .body = cs_dynbuf_str(&p->body),
		.body_len = p->body.len, .conn = conn,
	};
	cs_httpd_response resp = { .status = MHD_HTTP_OK, .content_type = TEXT };
	enum MHD_Result ret;

	cs_dynbuf_init(&resp.body, CS_HTTPD_ANSWER_CAP);
	p->route->handler(p->route->ctx, &req, &resp);
	ret = send_answer(conn, resp.status, resp.content_type,
			  cs_dynbuf_str(&resp.body), resp.body.len);
	cs_dynbuf_release(&resp.body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct pending *p = *con_cls;

	(void)version;
	if (!p)
		return start_request(cls, conn, url, method, con_cls);
	if (p->refusal)
		return MHD_YES;
	if (*upload_size) {
		/* a body that grows past the cap without saying so: hang up */
		if (cs_dynbuf_add(&p->body, upload, *upload_size, NULL) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	return run_handler(conn, url, method, p);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct pending *p = *con_cls;

	(void)cls; (void)conn; (void)why;
	if (!p)
		return;
	cs_dynbuf_release(&p->body);
	free(p);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	cs_warn("http server: %s", line);
}

/* addr "host:port" or "[v6]:port" into the address to bind. */
static int resolve_addr(const char *addr, struct addrinfo **out, cs_err *err)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t hlen;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	int rc;

	if (!colon || colon[1] == '\0')
		return cs_err_set(err, CS_EINVAL, false,
				  "'%s' is not host:port", addr);
	hlen = (size_t)(colon - addr);
	if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
		h = addr + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return cs_err_set(err, CS_EINVAL, false, "host of '%s' is too long", addr);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	rc = getaddrinfo(hlen ? host : NULL, colon + 1, &hints, out);
	if (rc != 0)
		return cs_err_set(err, CS_EINVAL, false, "address '%s': %s", addr,
				  gai_strerror(rc));
	return 0;
}

int cs_httpd_start(cs_httpd **out, const char *addr, unsigned threads,
		   const cs_httpd_route *routes, size_t nroutes, cs_err *err)
{
	struct addrinfo *ai = NULL;
	cs_httpd *h = calloc(1, sizeof(*h));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	int rc = -1;

	if (!h || !(h->routes = calloc(nroutes ? nroutes : 1, sizeof(*routes)))) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory for the http server");
		goto done;
	}
	memcpy(h->routes, routes, nroutes * sizeof(*routes));
	h->nroutes = nroutes;
	if (resolve_addr(addr, &ai, err) < 0)
		goto done;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				     MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads > 1 ? threads : 0),
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CS_HTTPD_CONN_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)CS_HTTPD_CONN_LIMIT,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				     MHD_OPTION_END);
	if (!h->daemon) {
		cs_err_set(err, CS_EINVAL, false, "cannot serve HTTP on '%s' (in use, or not an address of this host)",
			   addr);
		goto done;
	}
	*out = h;
	h = NULL;
	rc = 0;
done:
	if (ai)
		freeaddrinfo(ai);
	if (h) {
		free(h->routes);
		free(h);
	}
	return rc;
}

unsigned cs_httpd_port(const cs_httpd *h)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon,
							       MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

void cs_httpd_stop(cs_httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h->routes);
	free(h);
}

const char *cs_httpd_header(const cs_httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *cs_httpd_query(const cs_httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
