/*
 * batch_scripts.c - the Lua scripts around a batch of jobs (see batch_scripts.h).
 * Keys used: calsync:lock:<calendar> (owner string, expires). The fencing
 * token of a lock is not kept in Redis: PostgreSQL hands it out
 * (cs_worker_read_fence, cs_worker_fence), so it survives the loss of Redis.
 */
#include "batch_scripts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue.h"
#include "banned.h"

static cs_script lock_script = {
	"lock",
	"local out = {}\n"
	"for i = 1, #KEYS do\n"
	"  out[i] = redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'PX', ARGV[1]) and 1 or 0\n"
	"end\n"
	"return out\n",
	""};

static cs_script heartbeat_script = {
	"heartbeat",
	"local alive, k = 1, 1\n"
	"if ARGV[5] == '1' then\n"
	"  if redis.call('GET', KEYS[1]) == ARGV[4] then redis.call('PEXPIRE', KEYS[1], ARGV[3]) else return 0 end\n"
	"  k = 2\n"
	"end\n"
	"for i = 6, #ARGV, 2 do\n"
	"  local p = redis.call('XPENDING', KEYS[k], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])\n"
	"  if #p == 1 then\n"
	"    redis.call('XCLAIM', KEYS[k], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')\n"
	"  elseif ARGV[i + 1] == '1' then\n"
	"    alive = 0\n"
	"  end\n"
	"  k = k + 1\n"
	"end\n"
	"return alive\n",
	""};

/*
 * KEYS: calsync:delayed, calsync:dead, calsync:results, calsync:conflicts,
 * then per job its stream, its lock key when it has one, its dedup key
 * when it has one. ARGV[1] group, ARGV[2] output cap, ARGV[3] consumer,
 * then FINISH_ARGS per job: action, stream, entry id, calendar locked (or
 * ''), lock owner, result type, result data (or ''), dead letter (or ''),
 * dedup key (or ''), job type, job data, retry time (ms), conflict
 * announcements (a JSON array, or '').
 */
static cs_script finish_script = {
	"finish",
	"local g, cap, c = ARGV[1], ARGV[2], ARGV[3]\n"
	"local out, k = {}, 5\n"
	"for i = 4, #ARGV, 13 do\n"
	"  local a, id, l, o = ARGV[i], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]\n"
	"  local s, lk, dk = KEYS[k], nil, nil\n"
	"  k = k + 1\n"
	"  if l ~= '' then lk = KEYS[k]; k = k + 1 end\n"
	"  if ARGV[i + 8] ~= '' then dk = KEYS[k]; k = k + 1 end\n"
	"  local ok = 0\n"
	"  if #redis.call('XPENDING', s, g, id, id, 1, c) == 1 then\n"
	"    ok = 1\n"
	"    redis.call('XACK', s, g, id)\n"
	"    if a == 'retry' or a == 'defer' then\n"
	"      redis.call('ZADD', KEYS[1], ARGV[i + 11],\n"
	"                 cjson.encode({s = s, t = ARGV[i + 9], d = ARGV[i + 10], n = id}))\n"
	"    elseif a == 'requeue' then\n"
	"      redis.call('XADD', s, '*', 'type', ARGV[i + 9], 'data', ARGV[i + 10])\n"
	"    end\n"
	"    if ARGV[i + 7] ~= '' then\n"
	"      redis.call('XADD', KEYS[2], 'MAXLEN', '~', cap, '*', 'type', 'dead_letter',\n"
	"                 'data', ARGV[i + 7])\n"
	"    end\n"
	"    if ARGV[i + 6] ~= '' then\n"
	"      redis.call('XADD', KEYS[3], 'MAXLEN', '~', cap, '*', 'type', ARGV[i + 5],\n"
	"                 'data', ARGV[i + 6])\n"
	"    end\n"
	"    if ARGV[i + 12] ~= '' then\n"
	"      for _, cf in ipairs(cjson.decode(ARGV[i + 12])) do\n"
	"        redis.call('XADD', KEYS[4], 'MAXLEN', '~', cap, '*', 'type', 'conflict',\n"
	"                   'data', cf)\n"
	"      end\n"
	"    end\n"
	"    if dk and (a == 'ack' or a == 'dead') then redis.call('DEL', dk) end\n"
	"  end\n"
	"  if lk and redis.call('GET', lk) == o then\n"
	"    redis.call('DEL', lk)\n"
	"  end\n"
	"  out[#out + 1] = ok\n"
	"end\n"
	"return out\n",
	""};

void cs_lock_owner(const char *consumer, const cs_job *job, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", consumer, (job->lock_job ? job->lock_job : job)->entry_id);
}

/* An earlier job of the batch that wants the same calendar, or NULL. */
static cs_job *same_calendar(cs_job **jobs, int i)
{
	for (int k = 0; k < i; k++)
		if (jobs[k]->calendar_id && jobs[k]->outcome == CS_OUT_NONE &&
		    strcmp(jobs[k]->calendar_id, jobs[i]->calendar_id) == 0)
			return jobs[k];
	return NULL;
}

static void free_args(char **args, int n)
{
	for (int i = 0; i < n; i++)
		free(args[i]);
	free(args);
}

/* "calsync:lock:<calendar>" (caller frees), NULL when out of memory. */
static char *lock_key(const char *calendar_id)
{
	size_t n = strlen(CS_LOCK_PREFIX) + strlen(calendar_id) + 1;
	char *k = malloc(n);

	if (k)
		snprintf(k, n, "%s%s", CS_LOCK_PREFIX, calendar_id);
	return k;
}

int cs_batch_lock(cs_redis *r, const cs_config *cfg, const char *consumer,
		   cs_job **jobs, int n, cs_err *err)
{
	char **args = calloc((size_t)(2 * n + 1), sizeof(char *));
	cs_job **asked = calloc((size_t)n + 1, sizeof(cs_job *));
	char owner[256], ttl[24];
	redisReply *rep = NULL;
	int argc = 0, nasked = 0, rc = -1;

	if (!args || !asked) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (!jobs[i]->calendar_id || jobs[i]->has_lock || jobs[i]->outcome != CS_OUT_NONE)
			continue;
		jobs[i]->lock_job = same_calendar(jobs, i);
		if (jobs[i]->lock_job)
			continue; /* runs after it, under its lock */
		asked[nasked++] = jobs[i];
	}
	if (nasked == 0) {
		rc = 0;
		goto out;
	}
	/* KEYS: the lock keys; ARGV: the TTL, then each key's owner */
	snprintf(ttl, sizeof(ttl), "%ld", cfg->lock_ttl_ms);
	for (int i = 0; i < nasked; i++)
		args[argc++] = lock_key(asked[i]->calendar_id);
	args[argc++] = strdup(ttl);
	for (int i = 0; i < nasked; i++) {
		cs_lock_owner(consumer, asked[i], owner, sizeof(owner));
		args[argc++] = strdup(owner);
	}
	for (int i = 0; i < argc; i++)
		if (!args[i]) {
			cs_err_set(err, CS_ENOMEM, false, "out of memory");
			goto out;
		}
	if (cs_script_run(r, &lock_script, nasked, argc, (const char **)args, &rep, err))
		goto out;
	if (rep->type != REDIS_REPLY_ARRAY || (int)rep->elements != nasked) {
		cs_err_set(err, CS_EREDIS, true, "lock script: unexpected reply");
		goto out;
	}
	for (int i = 0; i < nasked; i++)
		asked[i]->has_lock = rep->element[i]->integer == 1;
	for (int i = 0; i < n; i++)
		if (jobs[i]->lock_job && jobs[i]->lock_job != jobs[i])
			jobs[i]->has_lock = jobs[i]->lock_job->has_lock;
	rc = 0;
out:
	if (rep)
		freeReplyObject(rep);
	free_args(args, argc);
	free(asked);
	return rc;
}

int cs_batch_heartbeat(cs_redis *r, const cs_config *cfg, const char *consumer,
			cs_job *running, cs_job **pending, int n, bool *alive,
			cs_err *err)
{
	const char **keys = calloc((size_t)(1 + n), sizeof(char *));
	const char **argv = calloc((size_t)(5 + 2 * n), sizeof(char *));
	const char **args = calloc((size_t)(6 + 3 * n), sizeof(char *));
	char ttl[24], owner[256];
	char *lock = running->has_lock ? lock_key(running->calendar_id) : NULL;
	redisReply *rep = NULL;
	int nkeys = 0, nargv = 0, rc = -1;

	*alive = true;
	if (!keys || !argv || !args || (running->has_lock && !lock)) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		goto out;
	}
	/* KEYS: the running job's lock (when it has one), then each entry's stream */
	snprintf(ttl, sizeof(ttl), "%ld", cfg->lock_ttl_ms);
	cs_lock_owner(consumer, running, owner, sizeof(owner));
	if (lock)
		keys[nkeys++] = lock;
	argv[nargv++] = CS_GROUP;
	argv[nargv++] = consumer;
	argv[nargv++] = ttl;
	argv[nargv++] = owner;
	argv[nargv++] = lock ? "1" : "0";
	for (int i = 0; i < n; i++) {
		if (pending[i]->outcome != CS_OUT_NONE && pending[i] != running)
			continue;
		keys[nkeys++] = pending[i]->stream;
		argv[nargv++] = pending[i]->entry_id;
		argv[nargv++] = pending[i] == running ? "1" : "0";
	}
	memcpy(args, keys, sizeof(char *) * (size_t)nkeys);
	memcpy(args + nkeys, argv, sizeof(char *) * (size_t)nargv);
	if (cs_script_run(r, &heartbeat_script, nkeys, nkeys + nargv, args, &rep, err))
		goto out;
	*alive = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
	freeReplyObject(rep);
	rc = 0;
out:
	free(lock);
	free(keys);
	free(argv);
	free(args);
	return rc;
}

static const char *action_name(enum cs_outcome o)
{
	switch (o) {
	case CS_OUT_ACK:
		return "ack";
	case CS_OUT_RETRY:
		return "retry";
	case CS_OUT_DEAD:
		return "dead";
	case CS_OUT_DEFER:
		return "defer";
	case CS_OUT_REQUEUE:
		return "requeue";
	case CS_OUT_NONE:
		break;
	}
	return "none";
}

long long cs_retry_delay_ms(const cs_config *cfg, int attempt, long rnd)
{
	long long d = cfg->retry_base_ms;

	for (int i = 1; i < attempt && d < cfg->retry_max_ms; i++)
		d *= 2;
	if (d > cfg->retry_max_ms)
		d = cfg->retry_max_ms;
	return d / 2 + (long long)(rnd % (d / 2 + 1));
}

long long cs_job_retry_wait_ms(const cs_config *cfg, const cs_job *job, long rnd)
{
	long long d = cs_retry_delay_ms(cfg, job->attempt, rnd);

	return d > job->retry_after_ms ? d : job->retry_after_ms;
}

const char *cs_job_dedup_key(const cs_job *job)
{
	const char *dedup = cs_job_str(job, "dedup");

	return dedup && strncmp(dedup, CS_DEDUP_PREFIX, strlen(CS_DEDUP_PREFIX)) == 0 &&
	       dedup[strlen(CS_DEDUP_PREFIX)] ? dedup : NULL;
}

/* The FINISH_ARGS arguments of one ended job into args (strings the caller frees). */
static int finish_args(const cs_config *cfg, const char *consumer, cs_job *job, char **args)
{
	char owner[256], score[32];
	const char *dedup = cs_job_dedup_key(job);
	bool answered = job->outcome == CS_OUT_ACK && job->answer;
	long long when = cs_now_ms();
	char *data = NULL;

	cs_lock_owner(consumer, job, owner, sizeof(owner));
	args[0] = strdup(action_name(job->outcome));
	args[1] = strdup(job->stream);
	args[2] = strdup(job->entry_id);
	args[3] = strdup(job->has_lock && !job->lock_job ? job->calendar_id : "");
	args[4] = strdup(owner);
	args[5] = strdup(answered ? job->answer_type : "sync_result");
	if (answered)
		args[6] = strdup(job->answer);
	else if (job->outcome == CS_OUT_DEFER || job->outcome == CS_OUT_REQUEUE)
		args[6] = strdup("");
	else
		args[6] = cs_job_result_json(job, consumer);
	args[7] = job->outcome == CS_OUT_DEAD ? cs_job_dead_json(job, consumer) : strdup("");
	args[8] = strdup(dedup ? dedup : "");
	args[9] = strdup(job->type);
	if (job->outcome == CS_OUT_RETRY) {
		data = cs_job_retry_data(job);
		when += cs_job_retry_wait_ms(cfg, job, random());
	} else if (job->outcome == CS_OUT_DEFER) {
		when += 50 + random() % 50;
	}
	if (job->outcome == CS_OUT_RETRY)
		args[10] = data;
	else    /* the job as it came, for the actions that put it back */
		args[10] = strdup(job->outcome == CS_OUT_DEFER || job->outcome == CS_OUT_REQUEUE ?
				  job->raw : "");
	snprintf(score, sizeof(score), "%lld", when);
	args[11] = strdup(score);
	args[12] = job->conflicts ? json_dumps(job->conflicts, JSON_COMPACT) : strdup("");
	for (int i = 0; i < FINISH_ARGS; i++)
		if (!args[i])
			return -1;
	return 0;
}

int cs_batch_end_args(const cs_config *cfg, const char *consumer, cs_job *job, char **args)
{
	if (finish_args(cfg, consumer, job, args) == 0)
		return 0;
	for (int i = 0; i < FINISH_ARGS; i++) {
		free(args[i]);
		args[i] = NULL;
	}
	cs_warn("job %s (%s): its end-of-job records could not be built: sent to calsync:dead",
		job->job_id, job->type);
	json_decref(job->conflicts);   /* the calendar's next job announces them */
	json_decref(job->conflict_ids);
	free(job->answer);
	job->conflicts = job->conflict_ids = NULL;
	job->answer = NULL;
	cs_job_end(job, CS_OUT_DEAD, "dead", "its end-of-job records could not be built");
	return finish_args(cfg, consumer, job, args);
}

int cs_batch_finish(cs_redis *r, const cs_config *cfg, const char *consumer,
		     cs_job **jobs, int n, bool *fenced, cs_err *err)
{
	char **args = calloc((size_t)n * FINISH_ARGS + 3, sizeof(char *));
	const char **all = NULL;
	char **locks = NULL;
	redisReply *rep = NULL;
	int argc = 3, nended = 0, nkeys = 0, nlocks = 0, rc = -1;

	if (!args)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	args[0] = strdup(CS_GROUP);
	args[1] = strdup(CS_OUTPUT_MAXLEN);
	args[2] = strdup(consumer);
	for (int i = 0; i < n; i++) {
		if (fenced)
			fenced[i] = false;
		if (jobs[i]->outcome == CS_OUT_NONE)
			continue;
		if (cs_batch_end_args(cfg, consumer, jobs[i], args + argc) || !args[0] || !args[1] ||
		    !args[2]) {
			argc += FINISH_ARGS;
			cs_err_set(err, CS_ENOMEM, false, "out of memory building job results");
			goto out;
		}
		argc += FINISH_ARGS;
		nended++;
	}
	if (nended == 0) {
		rc = 0;
		goto out;
	}
	/* KEYS: the four output keys, then each job's stream, lock key and dedup key */
	all = calloc((size_t)(4 + 3 * nended + argc), sizeof(char *));
	locks = calloc((size_t)nended + 1, sizeof(char *));
	if (!all || !locks) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		goto out;
	}
	all[nkeys++] = CS_DELAYED;
	all[nkeys++] = CS_STREAM_DEAD;
	all[nkeys++] = CS_STREAM_RESULTS;
	all[nkeys++] = CS_STREAM_CONFLICTS;
	for (int b = 3; b < argc; b += FINISH_ARGS) {
		all[nkeys++] = args[b + 1];
		if (*args[b + 3]) {
			if (!(locks[nlocks] = lock_key(args[b + 3]))) {
				cs_err_set(err, CS_ENOMEM, false, "out of memory");
				goto out;
			}
			all[nkeys++] = locks[nlocks++];
		}
		if (*args[b + 8])
			all[nkeys++] = args[b + 8];
	}
	memcpy(all + nkeys, args, sizeof(char *) * (size_t)argc);
	if (cs_script_run(r, &finish_script, nkeys, nkeys + argc, all, &rep, err))
		goto out;
	if (rep->type != REDIS_REPLY_ARRAY || (int)rep->elements != nended) {
		cs_err_set(err, CS_EREDIS, true, "finish script: unexpected reply");
		goto out;
	}
	for (int i = 0, k = 0; i < n; i++) {
		if (jobs[i]->outcome == CS_OUT_NONE)
			continue;
		if (fenced)
			fenced[i] = rep->element[k]->integer == 0;
		k++;
	}
	rc = 0;
out:
	if (rep)
		freeReplyObject(rep);
	free_args(args, argc);
	if (locks)
		free_args(locks, nlocks);
	free(all);
	return rc;
}
