/* fetch.c - reading job entries from the streams (see fetch.h). */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "banned.h"

static const char *const streams[2] = {CS_STREAM_INTERACTIVE, CS_STREAM_BACKGROUND};

void cs_joblist_clear(cs_joblist *l)
{
	for (int i = 0; i < l->n; i++) {
		if (!l->items[i])
			continue;   /* taken out by its new owner */
		cs_job_release(l->items[i]);
		free(l->items[i]);
	}
	l->n = 0;
}

void cs_joblist_release(cs_joblist *l)
{
	cs_joblist_clear(l);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int cs_joblist_push(cs_joblist *l, cs_job *job)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		cs_job **items = realloc(l->items, sizeof(*items) * (size_t)cap);

		if (!items)
			return -1;
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n++] = job;
	return 0;
}

static const char *static_stream(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(name, streams[i]) == 0)
			return streams[i];
	return NULL;
}

static const char *field(const redisReply *fields, const char *name)
{
	if (!fields || fields->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, name) == 0 &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING)
			return fields->element[i + 1]->str;
	return NULL;
}

/* Append one [id, [field, value...]] entry. */
static int add_entry(cs_joblist *out, const char *stream, const redisReply *e, cs_err *err)
{
	const redisReply *fields;
	cs_job *job;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return cs_err_set(err, CS_EREDIS, false, "odd stream entry from Redis");
	fields = e->element[1];
	job = malloc(sizeof(*job));
	if (!job)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (cs_job_parse(job, stream, e->element[0]->str, field(fields, "type"),
			 field(fields, "data"), err)) {
		free(job);
		return -1;
	}
	if (cs_joblist_push(out, job)) {
		cs_job_release(job);
		free(job);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	return 0;
}

/* Append the entries of an XREADGROUP reply: [[stream, [entry...]]...]. */
static int add_read_reply(cs_joblist *out, const redisReply *rep, int *added, cs_err *err)
{
	*added = 0;
	if (rep->type == REDIS_REPLY_NIL)
		return 0;
	if (rep->type != REDIS_REPLY_ARRAY)
		return cs_err_set(err, CS_EREDIS, false, "odd XREADGROUP reply");
	/* interactive entries first, whatever order Redis answered in */
	for (int want = 0; want < 2; want++) {
		for (size_t i = 0; i < rep->elements; i++) {
			const redisReply *s = rep->element[i];
			const char *name;

			if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
			    s->element[0]->type != REDIS_REPLY_STRING)
				return cs_err_set(err, CS_EREDIS, false, "odd XREADGROUP reply");
			name = static_stream(s->element[0]->str);
			if (name != streams[want] || s->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t k = 0; k < s->element[1]->elements; k++) {
				if (add_entry(out, name, s->element[1]->element[k], err))
					return -1;
				(*added)++;
			}
		}
	}
	return 0;
}

static int xreadgroup(cs_redis *r, const char *consumer, int count, int block_ms,
		      int nstreams, const char *const *names, const char *const *ids,
		      cs_joblist *out, int *added, cs_err *err)
{
	char cnt[16], blk[16];
	const char *argv[16];
	size_t lens[16];
	redisReply *rep = NULL;
	int argc = 0, rc;

	snprintf(cnt, sizeof(cnt), "%d", count);
	snprintf(blk, sizeof(blk), "%d", block_ms);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = CS_GROUP;
	argv[argc++] = consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = cnt;
	if (block_ms > 0) {
		argv[argc++] = "BLOCK";
		argv[argc++] = blk;
	}
	argv[argc++] = "STREAMS";
	for (int i = 0; i < nstreams; i++)
		argv[argc++] = names[i];
	for (int i = 0; i < nstreams; i++)
		argv[argc++] = ids[i];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (cs_redis_cmd(r, &rep, err, argc, argv, lens))
		return -1;
	rc = cs_redis_check_reply(rep, "XREADGROUP", err);
	if (rc == 0)
		rc = add_read_reply(out, rep, added, err);
	freeReplyObject(rep);
	return rc;
}

int cs_fetch_own_pending(cs_redis *r, const char *consumer, int count,
			 cs_joblist *out, cs_err *err)
{
	const char *const zero[2] = {"0", "0"};
	int added;

	return xreadgroup(r, consumer, count, 0, 2, streams, zero, out, &added, err);
}

int cs_fetch_new(cs_redis *r, const char *consumer, int count, int block_ms,
		 cs_joblist *out, cs_err *err)
{
	const char *const fresh[2] = {">", ">"};
	int added = out->n;

	if (cs_fetch_interactive(r, consumer, count, out, err))
		return -1;
	if (out->n > added)
		return 0;
	return xreadgroup(r, consumer, count, block_ms, 2, streams, fresh, out, &added, err);
}

int cs_fetch_interactive(cs_redis *r, const char *consumer, int count, cs_joblist *out,
			 cs_err *err)
{
	const char *const fresh[1] = {">"};
	int added;

	return xreadgroup(r, consumer, count, 0, 1, streams, fresh, out, &added, err);
}

/* How often the entry was delivered (XPENDING), 0 when unknown. */
static long long deliveries(cs_redis *r, const char *stream, const char *id)
{
	redisReply *rep = NULL;
	long long n = 0;

	if (cs_redis_cmdf(r, &rep, NULL, "XPENDING %s %s %s %s 1", stream, CS_GROUP, id, id))
		return 0;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
	    rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 4)
		n = rep->element[0]->element[3]->integer;
	freeReplyObject(rep);
	return n;
}

int cs_fetch_claim(cs_redis *r, const cs_config *cfg, const char *consumer,
		   int count, cs_joblist *out, cs_err *err)
{
	for (int s = 0; s < 2; s++) {
		redisReply *rep = NULL;
		int before = out->n;
		char why[128];

		if (cs_redis_cmdf(r, &rep, err, "XAUTOCLAIM %s %s %s %ld 0-0 COUNT %d",
				  streams[s], CS_GROUP, consumer, cfg->claim_idle_ms, count))
			return -1;
		if (cs_redis_check_reply(rep, "XAUTOCLAIM", err)) {
			freeReplyObject(rep);
			return -1;
		}
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
		    rep->element[1]->type == REDIS_REPLY_ARRAY) {
			for (size_t k = 0; k < rep->element[1]->elements; k++)
				if (add_entry(out, streams[s], rep->element[1]->element[k], err)) {
					freeReplyObject(rep);
					return -1;
				}
		}
		freeReplyObject(rep);
		for (int i = before; i < out->n; i++) {
			cs_job *job = out->items[i];
			long long d = deliveries(r, job->stream, job->entry_id);

			if (d <= cfg->max_attempts + 1 || job->bad)
				continue;
			snprintf(why, sizeof(why), "taken over %lld times from workers that stopped",
				 d - 1);
			job->bad = strdup(why);
		}
	}
	return 0;
}
