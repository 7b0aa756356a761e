/*
 * provider_check.c - build/provider-check: drives one provider operation
 * from the command line, for the integration tests of the providers
 * (tests/integration/test_google_provider.py) and for trying a provider
 * by hand.
 *
 *   provider-check <provider> calendars
 *   provider-check <provider> fetch <calendar> [sync_token]
 *   provider-check <provider> create <calendar> <hub_uuid>   < event.json
 *   provider-check <provider> update <calendar> <id> <etag>  < event.json
 *   provider-check <provider> delete <calendar> <id> <etag>
 *   provider-check <provider> revoke
 *
 * Settings come from the CALSYNC_* variables (cs_config_load), the
 * credentials from CALSYNC_CHECK_ACCESS_TOKEN, CALSYNC_CHECK_REFRESH_TOKEN
 * and CALSYNC_CHECK_EXPIRES_AT (unix seconds), for CalDAV from
 * CALSYNC_CHECK_USERNAME, CALSYNC_CHECK_PASSWORD and CALSYNC_CHECK_URL (the
 * entry point). An etag of "-" means none.
 *
 * Output on stdout, one line each:
 * - results as JSON objects: a calendar, an event, or for fetch one event
 *   per item (all pages) and then {"sync_token","pages","items"};
 *   delete/revoke print {"ok":true};
 * - on failure: error <CODE> retryable=<0|1> retry_after_ms=<n> <message>
 *   (exit status 1);
 * - always last: creds changed=<0|1> expires_at=<n> refresh_token_changed=<0|1>
 *   (whether the provider refreshed the credentials - never the tokens).
 *
 * Events in and out use a neutral JSON form with cs_event's field names:
 * id, etag, title, description, location, all_day, start, end, timezone,
 * recurrence (lines joined by "\n"), series_id, original_start,
 * attendees (array of e-mail addresses), status, cancelled, hub_id, bad.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "provider.h"
#include "banned.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: provider-check <provider> calendars\n"
		"       provider-check <provider> fetch <calendar> [sync_token]\n"
		"       provider-check <provider> create <calendar> <hub_uuid>  (event JSON on stdin)\n"
		"       provider-check <provider> update <calendar> <id> <etag> (event JSON on stdin)\n"
		"       provider-check <provider> delete <calendar> <id> <etag>\n"
		"       provider-check <provider> revoke\n");
}

static void put_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(o);
}

static void print_event(const cs_event *ev)
{
	json_t *o = json_object(), *att = json_array();

	put_str(o, "id", ev->id);
	put_str(o, "etag", ev->etag);
	put_str(o, "title", ev->title);
	put_str(o, "description", ev->description);
	put_str(o, "location", ev->location);
	json_object_set_new(o, "all_day", json_boolean(ev->all_day));
	put_str(o, "start", ev->start);
	put_str(o, "end", ev->end);
	put_str(o, "timezone", ev->timezone);
	put_str(o, "recurrence", ev->recurrence);
	put_str(o, "series_id", ev->series_id);
	put_str(o, "original_start", ev->original_start);
	for (size_t i = 0; i < ev->nattendees; i++)
		json_array_append_new(att, json_string(ev->attendees[i]));
	json_object_set_new(o, "attendees", att);
	put_str(o, "status", ev->status);
	json_object_set_new(o, "cancelled", json_boolean(ev->cancelled));
	put_str(o, "hub_id", ev->hub_id);
	put_str(o, "bad", ev->bad);
	print_json(o);
}

static int take(json_t *in, const char *key, char **dst, cs_err *err)
{
	json_t *v = json_object_get(in, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cs_err_set(err, CS_EINVAL, false, "stdin: %s is not a string", key);
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* The neutral event JSON on stdin -> ev. */
static int read_event(cs_event *ev, cs_err *err)
{
	static const char *const keys[] = {"title", "description", "location", "start", "end",
					   "timezone", "recurrence", "series_id",
					   "original_start", "status", "hub_id"};
	char **dsts[] = {&ev->title, &ev->description, &ev->location, &ev->start, &ev->end,
			 &ev->timezone, &ev->recurrence, &ev->series_id,
			 &ev->original_start, &ev->status, &ev->hub_id};
	json_error_t jerr;
	json_t *in = json_loadf(stdin, 0, &jerr), *att, *a;
	size_t i;
	int ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(in)) {
		cs_err_set(err, CS_EINVAL, false, "stdin: expected an event JSON object (%s)",
			   in ? "not an object" : jerr.text);
		goto done;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (take(in, keys[i], dsts[i], err))
			goto done;
	ev->all_day = json_is_true(json_object_get(in, "all_day"));
	ev->cancelled = json_is_true(json_object_get(in, "cancelled"));
	att = json_object_get(in, "attendees");
	if (json_array_size(att)) {
		ev->attendees = calloc(json_array_size(att), sizeof(char *));
		if (!ev->attendees) {
			cs_err_set(err, CS_ENOMEM, false, "out of memory");
			goto done;
		}
		json_array_foreach(att, i, a) {
			if (!json_is_string(a) || !(ev->attendees[i] = strdup(json_string_value(a)))) {
				cs_err_set(err, CS_EINVAL, false, "stdin: attendees[%zu] is not a string", i);
				goto done;
			}
			ev->nattendees++;
		}
	}
	ret = 0;
done:
	json_decref(in);
	return ret;
}

static int op_calendars(const struct cs_provider_ops *ops, cs_provider *p, cs_err *err)
{
	cs_calendar_list list = {0};

	if (ops->list_calendars(p, &list, err))
		return -1;
	for (size_t i = 0; i < list.n; i++) {
		json_t *o = json_object();

		put_str(o, "id", list.items[i].id);
		put_str(o, "name", list.items[i].name);
		put_str(o, "color", list.items[i].color);
		json_object_set_new(o, "primary", json_boolean(list.items[i].primary));
		json_object_set_new(o, "writable", json_boolean(list.items[i].writable));
		print_json(o);
	}
	cs_calendar_list_release(&list);
	return 0;
}

/* Every page to the end, like a sync's pull does. */
static int op_fetch(const struct cs_provider_ops *ops, cs_provider *p, const char *cal,
		    const char *sync_token, cs_err *err)
{
	char *page_token = NULL;
	long pages = 0, items = 0;
	cs_page page;
	json_t *o;

	for (;;) {
		if (ops->fetch(p, cal, sync_token, page_token, &page, err)) {
			free(page_token);
			return -1;
		}
		pages++;
		for (size_t i = 0; i < page.n; i++, items++)
			print_event(&page.items[i]);
		free(page_token);
		page_token = page.next_page;
		page.next_page = NULL;
		if (!page_token)
			break;
		cs_page_release(&page);
	}
	o = json_object();
	put_str(o, "sync_token", page.sync_token);
	json_object_set_new(o, "pages", json_integer(pages));
	json_object_set_new(o, "items", json_integer(items));
	print_json(o);
	cs_page_release(&page);
	return 0;
}

static int op_write(const struct cs_provider_ops *ops, cs_provider *p, const char *op,
		    char **argv, cs_err *err)
{
	cs_event ev, out = {0};
	int rc;

	if (read_event(&ev, err)) {
		cs_event_release(&ev);
		return -1;
	}
	if (strcmp(op, "create") == 0) {
		rc = ops->create(p, argv[0], &ev, argv[1], &out, err);
	} else {
		free(ev.id);
		free(ev.etag);
		ev.id = strdup(argv[1]);
		ev.etag = strcmp(argv[2], "-") ? strdup(argv[2]) : NULL;
		rc = ops->update(p, argv[0], &ev, &out, err);
	}
	if (rc == 0)
		print_event(&out);
	cs_event_release(&ev);
	cs_event_release(&out);
	return rc;
}

static long long env_ll(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? strtoll(v, NULL, 10) : 0;
}

static char *env_dup(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? strdup(v) : NULL;
}

static void print_error(const cs_err *err)
{
	printf("error %s retryable=%d retry_after_ms=%d ", cs_err_name(err->code),
	       err->retryable ? 1 : 0, err->retry_after_ms);
	for (const char *c = err->msg; *c; c++)
		putchar(*c == '\n' || *c == '\r' ? ' ' : *c);
	putchar('\n');
}

static int run(const struct cs_provider_ops *ops, cs_provider *p, int argc, char **argv,
	       cs_err *err)
{
	const char *op = argv[2];

	if (strcmp(op, "calendars") == 0 && argc == 3)
		return op_calendars(ops, p, err);
	if (strcmp(op, "fetch") == 0 && (argc == 4 || argc == 5))
		return op_fetch(ops, p, argv[3], argc == 5 ? argv[4] : NULL, err);
	if ((strcmp(op, "create") == 0 && argc == 5) || (strcmp(op, "update") == 0 && argc == 6))
		return op_write(ops, p, op, argv + 3, err);
	if (strcmp(op, "delete") == 0 && argc == 6) {
		if (ops->remove(p, argv[3], argv[4], strcmp(argv[5], "-") ? argv[5] : NULL, err))
			return -1;
		printf("{\"ok\":true}\n");
		return 0;
	}
	if (strcmp(op, "revoke") == 0 && argc == 3) {
		if (ops->revoke(p, err))
			return -1;
		printf("{\"ok\":true}\n");
		return 0;
	}
	return cs_err_set(err, CS_EINVAL, false, "unknown operation or wrong arguments: %s", op);
}

int main(int argc, char **argv)
{
	const struct cs_provider_ops *ops;
	cs_provider *p = NULL;
	cs_http *http = NULL;
	cs_creds creds = {0};
	cs_config cfg;
	cs_err err;
	char *old_refresh;
	int rc = 1;

	if (argc < 3 || strcmp(argv[1], "--help") == 0) {
		usage();
		return 2;
	}
	cs_err_clear(&err);
	if (cs_config_load(&cfg, CS_PROG_TOOL, &err)) {
		print_error(&err);
		return 1;
	}
	creds.access_token = env_dup("CALSYNC_CHECK_ACCESS_TOKEN");
	creds.refresh_token = env_dup("CALSYNC_CHECK_REFRESH_TOKEN");
	creds.expires_at = env_ll("CALSYNC_CHECK_EXPIRES_AT");
	creds.username = env_dup("CALSYNC_CHECK_USERNAME");
	creds.password = env_dup("CALSYNC_CHECK_PASSWORD");
	creds.url = env_dup("CALSYNC_CHECK_URL");
	old_refresh = env_dup("CALSYNC_CHECK_REFRESH_TOKEN");
	ops = cs_provider_find(argv[1]);
	if (!ops)
		cs_err_set(&err, CS_EINVAL, false, "no provider named '%s'", argv[1]);
	else if (cs_http_new(&http, cfg.http_timeout_ms, cfg.ca_file, &err) == 0 &&
		 ops->open(&p, &cfg, &creds, http, &err) == 0)
		rc = run(ops, p, argc, argv, &err) ? 1 : 0;
	if (rc)
		print_error(&err);
	printf("creds changed=%d expires_at=%lld refresh_token_changed=%d\n",
	       creds.changed ? 1 : 0, creds.expires_at,
	       (old_refresh == NULL) != (creds.refresh_token == NULL) ||
	       (old_refresh && strcmp(old_refresh, creds.refresh_token) != 0));
	if (p)
		ops->close(p);
	cs_http_free(http);
	free(old_refresh);
	cs_creds_release(&creds);
	cs_config_release(&cfg);
	return rc;
}
