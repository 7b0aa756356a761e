/*
 * redisconn.h - a Redis connection that comes back after the server
 * restarts (hiredis underneath).
 *
 * A failed command marks the connection broken and returns a retryable
 * CS_EREDIS error; the next command reconnects first. Commands are never
 * re-sent on their own (an XADD sent twice is two entries): the caller
 * decides what is safe to repeat.
 *
 * Ownership: cs_redis_new() returns a connection the caller frees with
 * cs_redis_free(). Replies handed out (redisReply *) belong to the caller
 * and are freed with freeReplyObject().
 */
#ifndef CS_REDISCONN_H
#define CS_REDISCONN_H

#include <stddef.h>

#include <hiredis.h>

#include "err.h"

typedef struct cs_redis_addr {
	char *host;
	int port;
	char *password;  /* NULL when none */
	int db;
} cs_redis_addr;

/* Parse redis://[:password@]host:port[/db]; the error never shows the password. */
int cs_redis_parse_url(const char *url, cs_redis_addr *out, cs_err *err);
void cs_redis_addr_release(cs_redis_addr *a);

typedef struct cs_redis cs_redis;

int cs_redis_new(cs_redis **out, const char *url, cs_err *err);
void cs_redis_free(cs_redis *r);

/* One command from an argv; *reply (may be NULL to discard) is the caller's. */
int cs_redis_cmd(cs_redis *r, redisReply **reply, cs_err *err, int argc,
		 const char **argv, const size_t *argvlen);
/* Same with printf-style hiredis format (%s, %b, %d ...). */
int cs_redis_cmdf(cs_redis *r, redisReply **reply, cs_err *err,
		  const char *fmt, ...);

/*
 * Pipelining: append any number of commands, then read that many
 * replies with cs_redis_pipe_reply() in order. An error reply from Redis
 * is returned as a reply (type REDIS_REPLY_ERROR), not as a failure.
 */
int cs_redis_append(cs_redis *r, cs_err *err, int argc, const char **argv,
		    const size_t *argvlen);
int cs_redis_pipe_reply(cs_redis *r, redisReply **reply, cs_err *err);

/* Turn an error reply into a cs_err (returns -1), or return 0. */
int cs_redis_check_reply(const redisReply *reply, const char *what, cs_err *err);

#endif
