/*
 * leader.c - the scheduler's leader lease (see sched.h). The key
 * calsync:scheduler:leader holds the leader's id with a lifetime of
 * CALSYNC_LEADER_LEASE_MS: taken with SET NX PX, renewed every third of
 * the lease by a script that extends it only while it is still ours, and
 * deleted on shutdown only when it is ours. A leader that cannot renew
 * stops acting at once; followers try to take the key every tenth of the
 * lease, so a dead leader is replaced soon after its lease runs out.
 *
 * The lease is measured from before each request was sent, so this
 * process stops acting no later than the key expires in Redis.
 */
#include "sched.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "queue.h"
#include "banned.h"

/* KEYS: the lease key; ARGV: id, lease ms. 1 when extended, 0 when the key is not ours. */
static cs_script renew_script = {
	"leader_renew",
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"end\n"
	"return 0\n",
	""};

/* KEYS: the lease key; ARGV: id. 1 when deleted, 0 when the key was not ours. */
static cs_script release_script = {
	"leader_release",
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  return redis.call('DEL', KEYS[1])\n"
	"end\n"
	"return 0\n",
	""};

bool cs_leader_active(const cs_sched *s)
{
	return s->leader && cs_sched_now() < s->lease_until;
}

static long long follower_period(const cs_sched *s)
{
	long long p = s->cfg->leader_lease_ms / 10;

	return p < 50 ? 50 : p > 1000 ? 1000 : p;
}

static void lost(cs_sched *s, const char *why)
{
	s->leader = false;
	s->lease_until = 0;
	s->next_lease = cs_sched_now() + follower_period(s);
	cs_warn("leader lease lost (%s): stopped acting as leader", why);
}

static void renew(cs_sched *s)
{
	char lease[24];
	const char *argv[3] = {CS_LEADER_KEY, s->id, lease};
	long long sent = cs_sched_now();
	redisReply *rep = NULL;
	cs_err err;

	snprintf(lease, sizeof(lease), "%ld", s->cfg->leader_lease_ms);
	if (cs_script_run(s->redis, &renew_script, 1, 3, argv, &rep, &err)) {
		cs_sched_redis_failed(s, &err);
		lost(s, err.msg);
		return;
	}
	if (rep->type != REDIS_REPLY_INTEGER || rep->integer != 1) {
		freeReplyObject(rep);
		lost(s, "the key is no longer ours");
		return;
	}
	freeReplyObject(rep);
	s->lease_until = sent + s->cfg->leader_lease_ms;
	s->next_lease = sent + s->cfg->leader_lease_ms / 3;
}

/* true when the lease was just taken: this process became the leader. */
static bool acquire(cs_sched *s)
{
	long long sent = cs_sched_now();
	redisReply *rep = NULL;
	bool taken;
	cs_err err;

	s->next_lease = sent + follower_period(s);
	if (cs_redis_cmdf(s->redis, &rep, &err, "SET %s %s NX PX %ld", CS_LEADER_KEY, s->id,
			  s->cfg->leader_lease_ms) ||
	    cs_redis_check_reply(rep, "SET leader", &err)) {
		freeReplyObject(rep);
		cs_sched_redis_failed(s, &err);
		cs_sched_trouble(&s->lease_trouble, "cannot try the leader lease: %s", err.msg);
		return false;
	}
	taken = rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "OK") == 0;
	if (taken) {
		s->leader = true;
		s->lease_until = sent + s->cfg->leader_lease_ms;
		s->next_lease = sent + s->cfg->leader_lease_ms / 3;
		cs_info("leader lease acquired as %s (lease %ld ms)", s->id,
			s->cfg->leader_lease_ms);
	}
	freeReplyObject(rep);
	return taken;
}

bool cs_leader_tick(cs_sched *s)
{
	if (cs_sched_now() < s->next_lease)
		return false;
	if (!s->leader)
		return acquire(s);
	renew(s);
	return false;
}

void cs_leader_release(cs_sched *s)
{
	const char *argv[2] = {CS_LEADER_KEY, s->id};
	redisReply *rep = NULL;
	cs_err err;

	if (!s->leader)
		return;
	s->leader = false;
	if (cs_script_run(s->redis, &release_script, 1, 2, argv, &rep, &err)) {
		cs_warn("could not release the leader lease (it expires on its own): %s",
			err.msg);
		return;
	}
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
		cs_info("leader lease released");
	freeReplyObject(rep);
}
