/*
 * cmd_jobs.c - the tool's commands that talk to the job queue:
 * `enqueue sync`, `resolve` (both put a job on the interactive stream) and
 * `watch` (follows calsync:results and calsync:conflicts live).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "ids.h"
#include "queue.h"
#include "redisconn.h"
#include "banned.h"

int cli_enqueue(const cs_config *cfg, const char *type, json_t *data)
{
	char job_id[CS_UUID_LEN + 1];
	cs_redis *r = NULL;
	cs_err err;
	char *s;
	int rc;

	cs_uuid_v4(job_id);
	json_object_set_new(data, "job_id", json_string(job_id));
	s = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!s)
		return cli_fail("out of memory");
	rc = cs_redis_new(&r, cfg->redis_url, &err) ||
	     cs_queue_ensure_groups(r, &err) ||
	     cs_queue_enqueue(r, CS_STREAM_INTERACTIVE, type, s, NULL, 0, NULL, &err);
	cs_redis_free(r);
	free(s);
	if (rc)
		return cli_fail("%s", err.msg);
	printf("%s\n", job_id);
	return 0;
}

int cmd_enqueue(const cs_config *cfg, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[0], "sync") != 0)
		return 2;
	if (!cs_is_uuid(argv[1]))
		return cli_fail("enqueue: '%s' is not a calendar id (a UUID)", argv[1]);
	return cli_enqueue(cfg, "sync", json_pack("{s:s, s:s}", "calendar_id", argv[1], "mode",
					      cli_flag(argc, argv, "--full") ? "full" : "incremental"));
}

int cmd_resolve(const cs_config *cfg, int argc, char **argv)
{
	const char *merged = cli_opt(argc, argv, "--merged");
	const char *by = cli_opt(argc, argv, "--by");
	json_error_t jerr;
	json_t *data, *m = NULL;

	if (argc < 2)
		return 2;
	if (!cs_is_uuid(argv[0]))
		return cli_fail("resolve: '%s' is not a conflict id (a UUID)", argv[0]);
	if (strcmp(argv[1], "local") && strcmp(argv[1], "external") && strcmp(argv[1], "merge") &&
	    strcmp(argv[1], "ignore"))
		return 2;
	if (strcmp(argv[1], "merge") == 0) {
		if (!merged)
			return cli_fail("resolve: merge needs --merged '{\"title\": ...}'");
		m = json_loads(merged, 0, &jerr);
		if (!json_is_object(m)) {
			json_decref(m);
			return cli_fail("resolve: --merged is not a JSON object: %s", jerr.text);
		}
	}
	if (by && !cs_is_uuid(by)) {
		json_decref(m);
		return cli_fail("resolve: --by must be a user id (a UUID)");
	}
	data = json_pack("{s:s, s:s, s:s?}", "conflict_id", argv[0], "resolution", argv[1],
			 "resolved_by", by);
	if (m)
		json_object_set_new(data, "merged", m);
	return cli_enqueue(cfg, "resolve", data);
}

static volatile sig_atomic_t watch_stop;

static void on_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

/* Print one XREAD reply; returns the entries printed. Updates the last ids. */
static int print_entries(redisReply *rep, char last[2][64])
{
	int printed = 0;

	for (size_t s = 0; rep && rep->type == REDIS_REPLY_ARRAY && s < rep->elements; s++) {
		redisReply *st = rep->element[s], *entries = st->element[1];
		int k = strcmp(st->element[0]->str, CS_STREAM_RESULTS) == 0 ? 0 : 1;

		for (size_t i = 0; i < entries->elements; i++) {
			redisReply *e = entries->element[i], *f = e->element[1];
			const char *type = "?", *data = "{}";

			for (size_t j = 0; j + 1 < f->elements; j += 2) {
				if (strcmp(f->element[j]->str, "type") == 0)
					type = f->element[j + 1]->str;
				else if (strcmp(f->element[j]->str, "data") == 0)
					data = f->element[j + 1]->str;
			}
			printf("%s %s %s\n", st->element[0]->str, type, data);
			snprintf(last[k], 64, "%s", e->element[0]->str);
			printed++;
		}
	}
	fflush(stdout);
	return printed;
}

/* Where to start following a stream: its current end, or its start. */
static int last_id(cs_redis *r, const char *stream, bool from_start, char out[64], cs_err *err)
{
	redisReply *rep = NULL;

	snprintf(out, 64, "0-0");
	if (from_start)
		return 0;
	if (cs_redis_cmdf(r, &rep, err, "XREVRANGE %s + - COUNT 1", stream))
		return -1;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1)
		snprintf(out, 64, "%s", rep->element[0]->element[0]->str);
	freeReplyObject(rep);
	return 0;
}

int cmd_watch(const cs_config *cfg, int argc, char **argv)
{
	const char *count_s = cli_opt(argc, argv, "--count");
	long count = count_s ? strtol(count_s, NULL, 10) : -1;
	char last[2][64];
	cs_redis *r = NULL;
	cs_err err;
	long seen = 0;

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (cs_redis_new(&r, cfg->redis_url, &err))
		return cli_fail("%s", err.msg);
	for (int k = 0; k < 2; k++)
		if (last_id(r, k ? CS_STREAM_CONFLICTS : CS_STREAM_RESULTS,
			    cli_flag(argc, argv, "--from-start"), last[k], &err)) {
			cs_redis_free(r);
			return cli_fail("watch: %s", err.msg);
		}
	while (!watch_stop && (count < 0 || seen < count)) {
		redisReply *rep = NULL;

		if (cs_redis_cmdf(r, &rep, &err, "XREAD COUNT 100 BLOCK 1000 STREAMS %s %s %s %s",
				  CS_STREAM_RESULTS, CS_STREAM_CONFLICTS, last[0], last[1])) {
			cs_redis_free(r);
			return cli_fail("watch: %s", err.msg);
		}
		seen += print_entries(rep, last);
		freeReplyObject(rep);
	}
	cs_redis_free(r);
	return 0;
}
