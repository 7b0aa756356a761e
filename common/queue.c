/*
 * queue.c - job queue operations on Redis (see queue.h). Every operation
 * that touches more than one key is one Lua script, so a crash between
 * two steps cannot leave a job half-moved.
 */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "banned.h"

static cs_script enqueue_script = {
	"enqueue",
	"if #KEYS > 1 then\n"
	"  if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 0 end\n"
	"end\n"
	"redis.call('XADD', KEYS[1], '*', 'type', ARGV[2], 'data', ARGV[3])\n"
	"return 1\n",
	""};

static cs_script enqueue_later_script = {
	"enqueue_later",
	"if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end\n"
	"redis.call('ZADD', KEYS[2], ARGV[5], cjson.encode({s = ARGV[2], t = ARGV[3], d = ARGV[4]}))\n"
	"return 1\n",
	""};

static cs_script release_script = {
	"release_due",
	"local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
	"for _, m in ipairs(due) do\n"
	"  local j = cjson.decode(m)\n"
	"  local s = j.s == KEYS[2] and KEYS[2] or KEYS[3]\n"
	"  redis.call('XADD', s, '*', 'type', j.t, 'data', j.d)\n"
	"  redis.call('ZREM', KEYS[1], m)\n"
	"end\n"
	"return #due\n",
	""};

static cs_script trim_script = {
	"trim_acked",
	"local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])\n"
	"if not ok then return 0 end\n"
	"local min = nil\n"
	"local function older(a, b)\n"
	"  local am, as = string.match(a, '(%d+)-(%d+)')\n"
	"  local bm, bs = string.match(b, '(%d+)-(%d+)')\n"
	"  if #am ~= #bm then return #am < #bm end\n"
	"  if am ~= bm then return am < bm end\n"
	"  return tonumber(as) < tonumber(bs)\n"
	"end\n"
	"for _, g in ipairs(groups) do\n"
	"  local last = nil\n"
	"  for i = 1, #g, 2 do if g[i] == 'last-delivered-id' then last = g[i + 1] end end\n"
	"  local name = nil\n"
	"  for i = 1, #g, 2 do if g[i] == 'name' then name = g[i + 1] end end\n"
	"  local p = redis.call('XPENDING', KEYS[1], name)\n"
	"  local cand = last\n"
	"  if p[1] > 0 and older(p[2], cand) then cand = p[2] end\n"
	"  if min == nil or older(cand, min) then min = cand end\n"
	"end\n"
	"if min == nil or min == '0-0' then return 0 end\n"
	"return redis.call('XTRIM', KEYS[1], 'MINID', min)\n",
	""};

static cs_script prune_script = {
	"prune_consumers",
	"local ok, list = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])\n"
	"if not ok then return 0 end\n"
	"local n = 0\n"
	"for _, c in ipairs(list) do\n"
	"  local f = {}\n"
	"  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
	"  if f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then\n"
	"    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"return n\n",
	""};

long long cs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cs_queue_enqueue_later(cs_redis *r, const char *stream, const char *type,
			   const char *data_json, const char *dedup_key, int ttl_s, int delay_ms,
			   bool *added, cs_err *err)
{
	char ttl[16], due[24];
	/* KEYS: the dedup key, calsync:delayed (the stream is only named: released later) */
	const char *argv[7] = {dedup_key, CS_DELAYED, ttl, stream, type, data_json, due};
	redisReply *rep = NULL;
	int rc;

	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	snprintf(due, sizeof(due), "%lld", cs_now_ms() + delay_ms);
	rc = cs_script_run(r, &enqueue_later_script, 2, 7, argv, &rep, err);
	if (rc == 0 && added)
		*added = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
	if (rep)
		freeReplyObject(rep);
	return rc;
}

/* Scripts are shared by all threads; their cached digest is set under this lock. */
static pthread_mutex_t sha_lock = PTHREAD_MUTEX_INITIALIZER;

static void script_sha(cs_script *s, char out[41])
{
	pthread_mutex_lock(&sha_lock);
	memcpy(out, s->sha, 41);
	pthread_mutex_unlock(&sha_lock);
}

static int load_script(cs_redis *r, cs_script *s, cs_err *err)
{
	redisReply *rep = NULL;

	if (cs_redis_cmdf(r, &rep, err, "SCRIPT LOAD %s", s->src))
		return -1;
	if (cs_redis_check_reply(rep, s->name, err) || rep->type != REDIS_REPLY_STRING ||
	    rep->len != 40) {
		freeReplyObject(rep);
		return err && err->code ? -1 :
			cs_err_set(err, CS_EREDIS, false, "loading script %s: odd reply", s->name);
	}
	pthread_mutex_lock(&sha_lock);
	memcpy(s->sha, rep->str, 40);
	s->sha[40] = '\0';
	pthread_mutex_unlock(&sha_lock);
	freeReplyObject(rep);
	return 0;
}

int cs_script_run(cs_redis *r, cs_script *s, int nkeys, int argc, const char **argv,
		  redisReply **reply, cs_err *err)
{
	char numkeys[16];

	const char **args = malloc(sizeof(*args) * (size_t)(argc + 3));
	size_t *lens = malloc(sizeof(*lens) * (size_t)(argc + 3));
	redisReply *rep = NULL;
	char sha[41];
	int rc = -1;

	*reply = NULL;
	if (!args || !lens) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		goto out;
	}
	snprintf(numkeys, sizeof(numkeys), "%d", nkeys);
	for (int i = 0; i < argc; i++) {
		args[3 + i] = argv[i];
		lens[3 + i] = strlen(argv[i]);
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		script_sha(s, sha);
		if (!sha[0]) {
			if (load_script(r, s, err))
				goto out;
			script_sha(s, sha);
		}
		args[0] = "EVALSHA";
		args[1] = sha;
		args[2] = numkeys;
		lens[0] = 7;
		lens[1] = 40;
		lens[2] = strlen(numkeys);
		if (cs_redis_cmd(r, &rep, err, argc + 3, args, lens))
			goto out;
		if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(rep);
			pthread_mutex_lock(&sha_lock);
			s->sha[0] = '\0';
			pthread_mutex_unlock(&sha_lock);
			continue;
		}
		if (cs_redis_check_reply(rep, s->name, err)) {
			freeReplyObject(rep);
			goto out;
		}
		*reply = rep;
		rc = 0;
		goto out;
	}
	cs_err_set(err, CS_EREDIS, true, "script %s could not be loaded", s->name);
out:
	free(args);
	free(lens);
	return rc;
}

static int ensure_group(cs_redis *r, const char *stream, cs_err *err)
{
	redisReply *rep = NULL;
	int rc = 0;

	if (cs_redis_cmdf(r, &rep, err, "XGROUP CREATE %s %s 0 MKSTREAM", stream, CS_GROUP))
		return -1;
	if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0)
		rc = cs_redis_check_reply(rep, "XGROUP CREATE", err);
	freeReplyObject(rep);
	return rc;
}

int cs_queue_ensure_groups(cs_redis *r, cs_err *err)
{
	if (ensure_group(r, CS_STREAM_INTERACTIVE, err) ||
	    ensure_group(r, CS_STREAM_BACKGROUND, err))
		return -1;
	return 0;
}

int cs_queue_enqueue(cs_redis *r, const char *stream, const char *type,
		     const char *data_json, const char *dedup_key, int ttl_s,
		     bool *added, cs_err *err)
{
	char ttl[16];
	const char *argv[5];
	redisReply *rep;
	int nkeys = dedup_key && *dedup_key ? 2 : 1;

	snprintf(ttl, sizeof(ttl), "%d", ttl_s > 0 ? ttl_s : 1);
	argv[0] = stream;
	argv[1] = dedup_key;   /* not sent when there is none */
	argv[nkeys] = ttl;
	argv[nkeys + 1] = type;
	argv[nkeys + 2] = data_json;
	if (cs_script_run(r, &enqueue_script, nkeys, nkeys + 3, argv, &rep, err))
		return -1;
	if (added)
		*added = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
	freeReplyObject(rep);
	return 0;
}

int cs_queue_publish(cs_redis *r, const char *stream, const char *type,
		     const char *data_json, cs_err *err)
{
	redisReply *rep = NULL;
	int rc;

	if (cs_redis_cmdf(r, &rep, err, "XADD %s MAXLEN ~ %s * type %s data %s", stream,
			  CS_OUTPUT_MAXLEN, type, data_json))
		return -1;
	rc = cs_redis_check_reply(rep, "XADD", err);
	freeReplyObject(rep);
	return rc;
}

int cs_queue_release_due(cs_redis *r, int limit, int *released, cs_err *err)
{
	char now[24], lim[16];
	const char *argv[5] = {CS_DELAYED, CS_STREAM_INTERACTIVE, CS_STREAM_BACKGROUND, now, lim};
	redisReply *rep;

	snprintf(now, sizeof(now), "%lld", cs_now_ms());
	snprintf(lim, sizeof(lim), "%d", limit);
	if (cs_script_run(r, &release_script, 3, 5, argv, &rep, err))
		return -1;
	if (released)
		*released = rep->type == REDIS_REPLY_INTEGER ? (int)rep->integer : 0;
	freeReplyObject(rep);
	return 0;
}

int cs_queue_trim_acked(cs_redis *r, const char *stream, cs_err *err)
{
	const char *argv[1] = {stream};
	redisReply *rep;

	if (cs_script_run(r, &trim_script, 1, 1, argv, &rep, err))
		return -1;
	freeReplyObject(rep);
	return 0;
}

int cs_queue_prune_consumers(cs_redis *r, const char *stream, long idle_ms, int *pruned,
			     cs_err *err)
{
	char idle[24];
	const char *argv[3] = {stream, CS_GROUP, idle};
	redisReply *rep;

	snprintf(idle, sizeof(idle), "%ld", idle_ms);
	if (cs_script_run(r, &prune_script, 1, 3, argv, &rep, err))
		return -1;
	if (pruned)
		*pruned = rep->type == REDIS_REPLY_INTEGER ? (int)rep->integer : 0;
	freeReplyObject(rep);
	return 0;
}
