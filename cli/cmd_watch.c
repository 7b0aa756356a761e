/*
 * cmd_watch.c - `calsync watch`: follows calsync:results and
 * calsync:conflicts live (XREAD BLOCK), one line per entry:
 * "<stream> <type> <data JSON>", so that results, conflicts and the
 * progress of long jobs (sync_progress: "Syncing 45 events...") can be
 * read by a person and by a script alike. Filters (all must match):
 * --tenant, --calendar, --provider (looked up once per calendar in
 * PostgreSQL), --status (a result's status; "running" for progress,
 * "conflict" for a conflict).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "db.h"
#include "ids.h"
#include "queue.h"
#include "redisconn.h"
#include "banned.h"

#define PROVIDER_CACHE 256   /* calendars whose provider is remembered */
#define ID_MAX 64

struct filter {
	const char *tenant, *calendar, *provider, *status;
	cs_db *db;                         /* for --provider only */
	struct { char calendar[ID_MAX]; char provider[32]; } cache[PROVIDER_CACHE];
	int ncache;
};

static volatile sig_atomic_t watch_stop;

static void on_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static const char *str_of(json_t *d, const char *key)
{
	return json_string_value(json_object_get(d, key));
}

/* The status an entry counts as for --status. */
static const char *status_of(const char *type, json_t *d)
{
	if (strcmp(type, "sync_progress") == 0)
		return "running";
	if (strcmp(type, "conflict") == 0)
		return "conflict";
	return str_of(d, "status") ? str_of(d, "status") : "success";
}

/* The provider of the entry's calendar ("" when unknown), remembered. */
static const char *provider_of(struct filter *f, json_t *d)
{
	const char *cal = str_of(d, "calendar_id");
	PGresult *res = NULL;
	cs_err err;
	int slot;

	if (str_of(d, "provider"))
		return str_of(d, "provider");
	if (!cal || !cs_is_uuid(cal))
		return "";
	for (int i = 0; i < f->ncache; i++)
		if (strcmp(f->cache[i].calendar, cal) == 0)
			return f->cache[i].provider;
	slot = f->ncache < PROVIDER_CACHE ? f->ncache++ : 0;
	snprintf(f->cache[slot].calendar, ID_MAX, "%s", cal);
	f->cache[slot].provider[0] = '\0';
	if (cs_db_exec(f->db, &res, &err, "SELECT provider FROM external_calendars WHERE id = $1",
		       1, &cal) == 0 && PQntuples(res) == 1)
		snprintf(f->cache[slot].provider, sizeof(f->cache[slot].provider), "%s",
			 PQgetvalue(res, 0, 0));
	else if (res == NULL)
		fprintf(stderr, "calsync: watch: %s\n", err.msg);
	PQclear(res);
	return f->cache[slot].provider;
}

static bool same(const char *want, const char *have)
{
	return !want || (have && strcmp(want, have) == 0);
}

static bool wanted(struct filter *f, const char *type, const char *data)
{
	json_t *d;
	bool ok;

	if (!f->tenant && !f->calendar && !f->provider && !f->status)
		return true;
	d = json_loads(data, 0, NULL);
	ok = d && same(f->tenant, str_of(d, "tenant_id")) &&
	     same(f->calendar, str_of(d, "calendar_id")) &&
	     same(f->status, status_of(type, d)) &&
	     (!f->provider || same(f->provider, provider_of(f, d)));
	json_decref(d);
	return ok;
}

/* Print the entries of one XREAD reply that pass the filter; updates the last ids. */
static long print_entries(struct filter *f, redisReply *rep, char last[2][ID_MAX])
{
	long printed = 0;

	for (size_t s = 0; rep && rep->type == REDIS_REPLY_ARRAY && s < rep->elements; s++) {
		redisReply *st = rep->element[s], *entries = st->element[1];
		int k = strcmp(st->element[0]->str, CS_STREAM_RESULTS) == 0 ? 0 : 1;

		for (size_t i = 0; i < entries->elements; i++) {
			redisReply *e = entries->element[i], *fields = e->element[1];
			const char *type = "?", *data = "{}";

			for (size_t j = 0; j + 1 < fields->elements; j += 2) {
				if (strcmp(fields->element[j]->str, "type") == 0)
					type = fields->element[j + 1]->str;
				else if (strcmp(fields->element[j]->str, "data") == 0)
					data = fields->element[j + 1]->str;
			}
			snprintf(last[k], ID_MAX, "%s", e->element[0]->str);
			if (!wanted(f, type, data))
				continue;
			printf("%s %s %s\n", st->element[0]->str, type, data);
			printed++;
		}
	}
	fflush(stdout);
	return printed;
}

/* Where to start following a stream: its current end, or its start. */
static int last_id(cs_redis *r, const char *stream, bool from_start, char out[ID_MAX], cs_err *err)
{
	redisReply *rep = NULL;

	snprintf(out, ID_MAX, "0-0");
	if (from_start)
		return 0;
	if (cs_redis_cmdf(r, &rep, err, "XREVRANGE %s + - COUNT 1", stream))
		return -1;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1)
		snprintf(out, ID_MAX, "%s", rep->element[0]->element[0]->str);
	freeReplyObject(rep);
	return 0;
}

static int check_filter(const struct filter *f)
{
	static const char *const statuses[] = {"success", "partial", "failed", "retrying", "dead",
					       "running", "conflict"};
	bool known = !f->status;

	if ((f->tenant && !cs_is_uuid(f->tenant)) || (f->calendar && !cs_is_uuid(f->calendar)))
		return cli_fail("watch: --%s must be a UUID",
				f->tenant && !cs_is_uuid(f->tenant) ? "tenant" : "calendar");
	for (size_t i = 0; !known && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		known = strcmp(f->status, statuses[i]) == 0;
	if (!known)
		return cli_fail("watch: --status must be success, partial, failed, retrying, dead,"
				" running or conflict");
	return 0;
}

int cmd_watch(const cs_config *cfg, int argc, char **argv)
{
	const char *count_s = cli_opt(argc, argv, "--count");
	long count = count_s ? strtol(count_s, NULL, 10) : -1, seen = 0;
	struct filter *f = calloc(1, sizeof(*f));
	char last[2][ID_MAX];
	cs_redis *r = NULL;
	cs_err err;
	int rc = 1;

	if (!f)
		return cli_fail("out of memory");
	*f = (struct filter){.tenant = cli_opt(argc, argv, "--tenant"),
			     .calendar = cli_opt(argc, argv, "--calendar"),
			     .provider = cli_opt(argc, argv, "--provider"),
			     .status = cli_opt(argc, argv, "--status")};
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (check_filter(f))
		goto cleanup;
	if (cs_db_new(&f->db, cfg->database_url, &err) || cs_redis_new(&r, cfg->redis_url, &err)) {
		cli_fail("%s", err.msg);
		goto cleanup;
	}
	for (int k = 0; k < 2; k++)
		if (last_id(r, k ? CS_STREAM_CONFLICTS : CS_STREAM_RESULTS,
			    cli_flag(argc, argv, "--from-start"), last[k], &err)) {
			cli_fail("watch: %s", err.msg);
			goto cleanup;
		}
	while (!watch_stop && (count < 0 || seen < count)) {
		redisReply *rep = NULL;

		if (cs_redis_cmdf(r, &rep, &err, "XREAD COUNT 100 BLOCK 1000 STREAMS %s %s %s %s",
				  CS_STREAM_RESULTS, CS_STREAM_CONFLICTS, last[0], last[1])) {
			cli_fail("watch: %s", err.msg);
			goto cleanup;
		}
		seen += print_entries(f, rep, last);
		freeReplyObject(rep);
	}
	rc = 0;
cleanup:
	cs_redis_free(r);
	cs_db_free(f->db);
	free(f);
	return rc;
}
