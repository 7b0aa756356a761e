/*
 * cmd_jobs.c - the tool's commands that talk to the job queue:
 * `enqueue sync` and `resolve` (both put a job on the interactive stream).
 * `watch` is in cmd_watch.c.
 */
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
