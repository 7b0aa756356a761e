/*
 * test_httpd.c - the HTTP server of httpd.c answered by the project's own
 * HTTP client: routing, 404/405, query and header lookups, the body cap.
 */
#include "unit.h"

#include "dynbuf.h"
#include "http.h"
#include "httpd.h"

static void echo(void *ctx, const cs_httpd_request *req, cs_httpd_response *resp)
{
	const char *q = cs_httpd_query(req, "token");
	const char *h = cs_httpd_header(req, "x-probe");

	resp->status = *(int *)ctx;
	resp->content_type = "text/plain";
	cs_dynbuf_printf(&resp->body, NULL, "%s %s q=%s h=%s body=%s", req->method, req->path,
			 q ? q : "-", h ? h : "-", req->body);
}

static int created = 201;
static int ok = 200;

static const cs_httpd_route routes[] = {
	{ "POST", "/hooks/x", echo, &created, 16 },
	{ "GET", "/healthz", echo, &ok, 0 },
};

static long ask(cs_http *c, const char *method, const char *url, const char *body,
		cs_http_response *r)
{
	static const char *const headers[] = { "X-Probe: yes", NULL };
	cs_err err;

	if (cs_http_request(c, method, url, headers, body, body ? strlen(body) : 0, r,
			    &err) < 0)
		fprintf(stderr, "  %s %s: %s\n", method, url, err.msg);
	return r->status;
}

TEST(httpd_routes_answers_and_caps_bodies)
{
	cs_httpd *s = NULL;
	cs_http *c = NULL;
	cs_http_response r;
	cs_err err;
	char base[64], url[128];

	CHECK(cs_httpd_start(&s, "127.0.0.1:0", 2, routes, 2, &err) == 0);
	CHECK(cs_httpd_port(s) > 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u", cs_httpd_port(s));
	CHECK(cs_http_new(&c, 5000, NULL, &err) == 0);
	cs_http_response_init(&r);

	snprintf(url, sizeof(url), "%s/hooks/x?token=a%%20b", base);
	CHECK(ask(c, "POST", url, "hello", &r) == 201);
	CHECK_STR(cs_dynbuf_str(&r.body), "POST /hooks/x q=a b h=yes body=hello");

	CHECK(ask(c, "POST", url, "more than sixteen bytes", &r) == 413);
	snprintf(url, sizeof(url), "%s/healthz", base);
	CHECK(ask(c, "GET", url, NULL, &r) == 200);
	CHECK_STR(cs_dynbuf_str(&r.body), "GET /healthz q=- h=yes body=");
	CHECK(ask(c, "POST", url, "x", &r) == 405);
	snprintf(url, sizeof(url), "%s/nothing", base);
	CHECK(ask(c, "GET", url, NULL, &r) == 404);

	cs_http_response_release(&r);
	cs_http_free(c);
	cs_httpd_stop(s);
}

TEST(httpd_refuses_bad_addresses_by_name)
{
	cs_httpd *s = NULL;
	cs_err err;

	CHECK(cs_httpd_start(&s, "no-port", 1, routes, 2, &err) < 0);
	CHECK(strstr(err.msg, "no-port") != NULL);
	CHECK(cs_httpd_start(&s, "256.1.1.1:80", 1, routes, 2, &err) < 0);
	CHECK(strstr(err.msg, "256.1.1.1:80") != NULL);
}
