/*
 * redisconn.c - Redis connection with reconnect on next use (see
 * redisconn.h). The URL is taken apart by libcurl's URL parser.
 */
#include "redisconn.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <curl/curl.h>

#include "banned.h"

#define REDIS_TIMEOUT_S 5

struct cs_redis {
	cs_redis_addr addr;
	redisContext *ctx;
};

static int url_part(CURLU *u, CURLUPart part, char **out)
{
	*out = NULL;
	return curl_url_get(u, part, out, CURLU_URLDECODE) == CURLUE_OK;
}

int cs_redis_parse_url(const char *url, cs_redis_addr *out, cs_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *pw = NULL, *path = NULL;
	char *end;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!u)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME)) {
		cs_err_set(err, CS_EINVAL, false,
			   "not a URL of the form redis://[:password@]host:port[/db]");
		goto out;
	}
	if (!url_part(u, CURLUPART_SCHEME, &scheme) || strcmp(scheme, "redis") != 0) {
		cs_err_set(err, CS_EINVAL, false, "the scheme must be redis://");
		goto out;
	}
	if (!url_part(u, CURLUPART_HOST, &host) || !*host) {
		cs_err_set(err, CS_EINVAL, false, "no host in the Redis URL");
		goto out;
	}
	out->port = 6379;
	if (url_part(u, CURLUPART_PORT, &port)) {
		long p = strtol(port, &end, 10);

		if (*end || p < 1 || p > 65535) {
			cs_err_set(err, CS_EINVAL, false, "bad port in the Redis URL");
			goto out;
		}
		out->port = (int)p;
	}
	if (url_part(u, CURLUPART_PATH, &path) && strcmp(path, "/") != 0 && *path) {
		long db = strtol(path + 1, &end, 10);

		if (*end || end == path + 1 || db < 0 || db > 1023) {
			cs_err_set(err, CS_EINVAL, false,
				   "the path of the Redis URL must be a database number");
			goto out;
		}
		out->db = (int)db;
	}
	if (url_part(u, CURLUPART_PASSWORD, &pw) && *pw)
		out->password = strdup(pw);
	out->host = strdup(host);
	if (!out->host) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		cs_redis_addr_release(out);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	if (pw)
		memset(pw, 0, strlen(pw));
	curl_free(pw);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

void cs_redis_addr_release(cs_redis_addr *a)
{
	free(a->host);
	if (a->password) {
		memset(a->password, 0, strlen(a->password));
		free(a->password);
	}
	memset(a, 0, sizeof(*a));
}

static void drop(cs_redis *r)
{
	if (r->ctx)
		redisFree(r->ctx);
	r->ctx = NULL;
}

static int setup_cmd(redisContext *ctx, const char *what, cs_err *err,
		     const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	reply = redisvCommand(ctx, fmt, ap);
	va_end(ap);
	if (!reply)
		return cs_err_set(err, CS_EREDIS, true, "redis %s: connection lost", what);
	rc = cs_redis_check_reply(reply, what, err);
	freeReplyObject(reply);
	return rc;
}

static int ensure(cs_redis *r, cs_err *err)
{
	struct timeval tv = {REDIS_TIMEOUT_S, 0};

	if (r->ctx)
		return 0;
	r->ctx = redisConnectWithTimeout(r->addr.host, r->addr.port, tv);
	if (!r->ctx || r->ctx->err) {
		cs_err_set(err, CS_EREDIS, true, "cannot connect to Redis at %s:%d: %s",
			   r->addr.host, r->addr.port,
			   r->ctx ? r->ctx->errstr : "out of memory");
		drop(r);
		return -1;
	}
	if (redisSetTimeout(r->ctx, tv) != REDIS_OK)
		goto fail;
	if (r->addr.password &&
	    setup_cmd(r->ctx, "AUTH", err, "AUTH %s", r->addr.password))
		goto fail;
	if (r->addr.db && setup_cmd(r->ctx, "SELECT", err, "SELECT %d", r->addr.db))
		goto fail;
	return 0;
fail:
	drop(r);
	return -1;
}

int cs_redis_new(cs_redis **out, const char *url, cs_err *err)
{
	cs_redis *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (cs_redis_parse_url(url, &r->addr, err)) {
		free(r);
		return cs_err_prefix(err, "CALSYNC_REDIS_URL");
	}
	*out = r;
	return 0;
}

void cs_redis_free(cs_redis *r)
{
	if (!r)
		return;
	drop(r);
	cs_redis_addr_release(&r->addr);
	free(r);
}

static int lost(cs_redis *r, cs_err *err)
{
	cs_err_set(err, CS_EREDIS, true, "Redis connection lost: %s",
		   r->ctx && r->ctx->errstr[0] ? r->ctx->errstr : "no reply");
	drop(r);
	return -1;
}

static int deliver(cs_redis *r, redisReply *rep, redisReply **reply, cs_err *err)
{
	if (!rep)
		return lost(r, err);
	if (reply)
		*reply = rep;
	else
		freeReplyObject(rep);
	return 0;
}

int cs_redis_cmd(cs_redis *r, redisReply **reply, cs_err *err, int argc,
		 const char **argv, const size_t *argvlen)
{
	if (reply)
		*reply = NULL;
	if (ensure(r, err))
		return -1;
	return deliver(r, redisCommandArgv(r->ctx, argc, argv, argvlen), reply, err);
}

int cs_redis_cmdf(cs_redis *r, redisReply **reply, cs_err *err,
		  const char *fmt, ...)
{
	redisReply *rep;
	va_list ap;

	if (reply)
		*reply = NULL;
	if (ensure(r, err))
		return -1;
	va_start(ap, fmt);
	rep = redisvCommand(r->ctx, fmt, ap);
	va_end(ap);
	return deliver(r, rep, reply, err);
}

int cs_redis_append(cs_redis *r, cs_err *err, int argc, const char **argv,
		    const size_t *argvlen)
{
	if (ensure(r, err))
		return -1;
	if (redisAppendCommandArgv(r->ctx, argc, argv, argvlen) != REDIS_OK)
		return lost(r, err);
	return 0;
}

int cs_redis_pipe_reply(cs_redis *r, redisReply **reply, cs_err *err)
{
	void *rep = NULL;

	*reply = NULL;
	if (!r->ctx)
		return lost(r, err);
	if (redisGetReply(r->ctx, &rep) != REDIS_OK)
		return lost(r, err);
	*reply = rep;
	return 0;
}

int cs_redis_check_reply(const redisReply *reply, const char *what, cs_err *err)
{
	if (reply && reply->type == REDIS_REPLY_ERROR)
		return cs_err_set(err, CS_EREDIS,
				  strncmp(reply->str, "LOADING", 7) == 0 ||
					  strncmp(reply->str, "BUSY", 4) == 0,
				  "redis %s: %s", what, reply->str);
	return 0;
}
