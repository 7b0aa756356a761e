/*
 * testprov.c - provider "test": a stand-in whose latency and failures the
 * tests control, for exercising the worker pool without a real provider.
 * Only test builds contain it (build/calsync-worker-test: linked in, it
 * registers itself before main), and it is refused unless
 * CALSYNC_TEST_PROVIDER names its control folder.
 *
 * In that folder, read at every call:
 *   latency_ms, <calendar>.latency_ms   milliseconds each call takes
 *   limit_in_flight, limit_per_second,   the provider's limits (cs_provider_limits),
 *   limit_burst                          read once when the worker starts
 *   <calendar>.retry_after_ms            the Retry-After of an injected ERATELIMIT
 *   <calendar>.fail                      "N CODE": the next N calls fail with
 *                                        CODE (EIO, EAUTH, EINVAL, ERATELIMIT)
 *   windowed                             "1": a full sync does not list everything
 *                                        (caps() without CS_CAP_LISTS_ALL)
 *   series_one_resource                  "1": caps() with CS_CAP_SERIES_ONE_RESOURCE
 *   calls.log                            one line appended per call, when it ends:
 *                                        "<start ms> <end ms> <op> <calendar> <hub id|->"
 *   update.raw                           written by update: the representation
 *                                        (cs_event.raw) the engine handed back
 * It stores nothing: fetch finds no changes, create answers id "t<hub id>",
 * get knows no event. Its representation of an item is "test:<hub id>:<etag>".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "provider.h"
#include "queue.h"
#include "banned.h"

struct cs_provider {
	char dir[1024];
	cs_http *http;   /* borrowed: a call's wait counts as a request in flight */
};

static long read_long(const char *dir, const char *cal, const char *name)
{
	char path[1400];
	long v = 0;
	FILE *f;

	if (cal)
		snprintf(path, sizeof(path), "%s/%s.%s", dir, cal, name);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static void take_time(cs_provider *p, const char *cal)
{
	long ms = read_long(p->dir, NULL, "latency_ms") + read_long(p->dir, cal, "latency_ms");
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (p->http)
		cs_http_set_in_flight(p->http, true);
	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	if (p->http)
		cs_http_set_in_flight(p->http, false);
}

static enum cs_errcode code_named(const char *s, bool *retry)
{
	*retry = false;
	if (strcmp(s, "EAUTH") == 0)
		return CS_EAUTH;
	if (strcmp(s, "EINVAL") == 0)
		return CS_EINVAL;
	*retry = true;
	return strcmp(s, "ERATELIMIT") == 0 ? CS_ERATELIMIT : CS_EIO;
}

/* Count down <calendar>.fail under a file lock; fail when it was > 0. */
static int injected_failure(const char *dir, const char *cal, cs_err *err)
{
	char path[1400], code[32] = "EIO";
	long n = 0;
	bool retry;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s.fail", dir, cal);
	f = fopen(path, "r+");
	if (!f)
		return 0;
	flock(fileno(f), LOCK_EX);
	if (fscanf(f, "%ld %31s", &n, code) >= 1 && n > 0) {
		rewind(f);
		if (ftruncate(fileno(f), 0) == 0)
			fprintf(f, "%ld %s\n", n - 1, code);
		enum cs_errcode c = code_named(code, &retry);

		rc = cs_err_set(err, c, retry, "test provider: injected %s", code);
		if (c == CS_ERATELIMIT)
			err->retry_after_ms = (int)read_long(dir, cal, "retry_after_ms");
	}
	fclose(f);
	return rc;
}

static int call(cs_provider *p, const char *op, const char *cal,
		const char *hub_id, cs_err *err)
{
	char path[1100], line[512];
	long long start;
	int fd, n, rc;

	if (p->http && cs_http_pace(p->http, true, -1, err))
		return -1;
	start = cs_now_ms();
	take_time(p, cal);
	snprintf(path, sizeof(path), "%s/calls.log", p->dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd >= 0) {
		n = snprintf(line, sizeof(line), "%lld %lld %s %s %s\n", start, cs_now_ms(), op,
			     cal, hub_id ? hub_id : "-");
		if (n > 0 && write(fd, line, (size_t)n) < 0)
			n = -1;
		close(fd);
	}
	rc = injected_failure(p->dir, cal, err);
	if (p->http)
		cs_http_pace(p->http, false, rc ? err->retry_after_ms : -1, NULL);
	return rc;
}

static int t_open(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		  cs_err *err)
{
	cs_provider *p;

	(void)creds;
	*out = NULL;
	if (!cfg->test_provider || !*cfg->test_provider)
		return cs_err_set(err, CS_EINVAL, false,
				  "provider 'test' is for tests only (CALSYNC_TEST_PROVIDER is not set)");
	p = calloc(1, sizeof(*p));
	if (!p)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	snprintf(p->dir, sizeof(p->dir), "%s", cfg->test_provider);
	p->http = http;
	*out = p;
	return 0;
}

static void t_close(cs_provider *p)
{
	free(p);
}

static unsigned t_caps(const cs_provider *p)
{
	return (read_long(p->dir, NULL, "windowed") == 1 ? 0u : CS_CAP_LISTS_ALL) |
	       (read_long(p->dir, NULL, "series_one_resource") == 1 ? CS_CAP_SERIES_ONE_RESOURCE : 0u);
}

static int t_list(cs_provider *p, cs_calendar_list *out, cs_err *err)
{
	if (call(p, "list", "account", NULL, err))
		return -1;
	out->items = calloc(1, sizeof(*out->items));
	if (!out->items)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	out->n = 1;
	out->items[0].id = strdup("test-primary");
	out->items[0].name = strdup("Test calendar");
	out->items[0].color = strdup("#336699");
	out->items[0].primary = true;
	out->items[0].writable = true;
	if (!out->items[0].id || !out->items[0].name || !out->items[0].color)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	return 0;
}

static int t_fetch(cs_provider *p, const char *cal, const char *sync_token,
		   const char *page_token, cs_page *out, cs_err *err)
{
	(void)sync_token;
	(void)page_token;
	if (call(p, "fetch", cal, NULL, err))
		return -1;
	out->sync_token = strdup("test-sync-token");
	return out->sync_token ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* out's representation: "test:<hub id>:<etag>". */
static int set_raw(cs_event *out, const char *hub_id, cs_err *err)
{
	char raw[256];

	snprintf(raw, sizeof(raw), "test:%s:%s", hub_id ? hub_id : "-", out->etag);
	free(out->raw);
	out->raw = strdup(raw);
	return out->raw ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* Keep the representation update was handed in <dir>/update.raw. */
static void keep_handed_raw(const cs_provider *p, const cs_event *ev)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/update.raw", p->dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs(ev->raw ? ev->raw : "", f);
	fclose(f);
}

static int t_create(cs_provider *p, const char *cal, const cs_event *ev,
		    const char *hub_id, cs_event *out, cs_err *err)
{
	char id[128];

	if (call(p, "create", cal, hub_id, err) || cs_event_copy(out, ev, err))
		return -1;
	snprintf(id, sizeof(id), "t%s", hub_id);
	free(out->id);
	free(out->etag);
	out->id = strdup(id);
	out->etag = strdup("1");
	if (!out->id || !out->etag)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	return set_raw(out, hub_id, err);
}

static int t_update(cs_provider *p, const char *cal, const cs_event *ev,
		    cs_event *out, cs_err *err)
{
	char etag[32];

	if (call(p, "update", cal, ev->hub_id, err) || cs_event_copy(out, ev, err))
		return -1;
	keep_handed_raw(p, ev);
	snprintf(etag, sizeof(etag), "%ld", (ev->etag ? strtol(ev->etag, NULL, 10) : 0) + 1);
	free(out->etag);
	out->etag = strdup(etag);
	if (!out->etag)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	return set_raw(out, ev->hub_id, err);
}

static int t_get(cs_provider *p, const char *cal, const char *id, cs_event *out, cs_err *err)
{
	memset(out, 0, sizeof(*out));
	if (call(p, "get", cal, id, err))
		return -1;
	return cs_err_set(err, CS_ENOTFOUND, false, "test provider: it stores nothing, %s is unknown",
			  id);
}

static int t_remove(cs_provider *p, const char *cal, const char *id,
		    const char *etag, cs_err *err)
{
	(void)etag;
	return call(p, "delete", cal, id, err);
}

static int t_revoke(cs_provider *p, cs_err *err)
{
	return call(p, "revoke", "account", NULL, err);
}

/* limits: set at start from the control folder (register_test_provider) */
static struct cs_provider_ops cs_test_provider = {
	.name = "test",
	.open = t_open,
	.close = t_close,
	.caps = t_caps,
	.list_calendars = t_list,
	.fetch = t_fetch,
	.create = t_create,
	.update = t_update,
	.get = t_get,
	.remove = t_remove,
	.revoke = t_revoke,
};

__attribute__((constructor)) static void register_test_provider(void)
{
	const char *dir = getenv("CALSYNC_TEST_PROVIDER");
	cs_err err = {0};

	if (dir && *dir) {
		cs_test_provider.limits.max_in_flight = (unsigned)read_long(dir, NULL, "limit_in_flight");
		cs_test_provider.limits.per_second = (unsigned)read_long(dir, NULL, "limit_per_second");
		cs_test_provider.limits.burst = (unsigned)read_long(dir, NULL, "limit_burst");
	}
	if (cs_provider_add(&cs_test_provider, &err)) {
		fprintf(stderr, "test provider: %s\n", err.msg);
		abort();
	}
}
