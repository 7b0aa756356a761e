/*
 * fuzz_graph.c - Microsoft Graph's answers, through the provider "outlook"
 * (providers/graph*.c) with a scripted HTTP layer (scripted_http.h), and
 * the RRULE reader of graph_recur.c: any answer to any call the engine
 * makes gives a result whose every text is valid UTF-8 and every item
 * mapped or marked bad, or an error with a readable message; any RRULE
 * text is either mapped to a Graph recurrence or refused by name. Never a
 * crash, a leak or a signed overflow.
 *
 * Input: a byte choosing the call (bit 7: a subscription's watch and
 * unwatch), then the script of answers (or, for the recurrence call,
 * 0xff, the recurrence text).
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fuzz.h"
#include "fuzz_event.h"
#include "graph_recur.h"
#include "graph_zones.h"
#include "provider.h"
#include "scripted_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static cs_config cfg = {
	.graph_api_url = "https://graph.microsoft.com/v1.0",
	.ms_token_url = "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	.ms_client_id = "client", .ms_client_secret = "secret",
	.graph_delta = "events", .graph_window_days = 365,
	.http_timeout_ms = 30000,
};

static void series(cs_event *ev, char *recurrence)
{
	*ev = (cs_event){.id = "AAMk1", .etag = "W/\"1\"", .title = "Swim",
			 .start = "2026-12-01T17:30:00Z", .end = "2026-12-01T18:30:00Z",
			 .timezone = "Europe/London", .recurrence = recurrence, .status = "confirmed",
			 .hub_id = "2a0c6d4e-1b7f-4c3a-9e5d-0f1e2d3c4b5a", .written = "w1"};
}

static int recurrence(const uint8_t *data, size_t len, cs_err *err)
{
	char *text = fuzz_strndup(data, len);
	json_t *rec = cs_graph_rrule_to_json(text, "2026-12-01", "GMT Standard Time", "Europe/London",
					     err);
	char *back = NULL;
	int rc = rec ? 0 : -1;

	if (rec) {
		if (cs_graph_rrule_from_json(rec, false, "Europe/London", &back, err) == 0)
			FUZZ_ASSERT(back && strncmp(back, "RRULE:", 6) == 0 && fuzz_text_ok(back));
		else
			FUZZ_ASSERT(err->code == CS_ENOMEM);   /* what we wrote we can read */
	} else {
		FUZZ_ASSERT(err->code == CS_EREFUSED || err->code == CS_EINVAL ||
			    err->code == CS_ENOMEM);
	}
	free(back);
	json_decref(rec);
	free(text);
	return rc;
}

/* Subscriptions (graph_watch.c): make, renew in place (op & 1), end. */
static int subscription(const struct cs_provider_ops *ops, cs_provider *p, uint8_t op, cs_err *err)
{
	cs_watch_channel cur = {.id = "sub-1"}, out;
	cs_watch_request req = {.address = "https://h.example/hooks/graph",
				.lifecycle_address = "https://h.example/hooks/graph/lifecycle",
				.secret = "CS-secret-7a1b", .current = op & 1 ? &cur : NULL};
	int rc = ops->watch(p, "AAMkcal", &req, &out, err);

	if (rc == 0)
		FUZZ_ASSERT(out.id && fuzz_text_ok(out.id) && out.expires_at > time(NULL));
	cs_watch_channel_release(&out);
	return rc ? rc : ops->unwatch(p, &cur, err);
}

static int call(const struct cs_provider_ops *ops, cs_provider *p, uint8_t op, cs_err *err)
{
	cs_event ev, out = {0};
	int rc;

	if (op & 128)
		return subscription(ops, p, op, err);
	series(&ev, op & 32 ? "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:20261208T173000Z" : NULL);
	switch (op % 7) {
	case 0:
		return fuzz_list_calendars(ops, p, err);
	case 1:
	case 2:
		return fuzz_fetch(ops, p, "AAMkcal", op % 7 == 2 ? "https://graph.microsoft.com/d" : NULL,
				  op & 8 ? "https://graph.microsoft.com/s" : NULL, err);
	case 3:
		if (op & 64) {
			ev.series_id = "AAMkmaster";
			ev.original_start = "2026-12-08T17:30:00Z";
			ev.recurrence = NULL;
		}
		rc = ops->create(p, "AAMkcal", &ev, ev.hub_id, &out, err);
		break;
	case 4:
		rc = ops->update(p, "AAMkcal", &ev, &out, err);
		break;
	case 5:
		return ops->remove(p, "AAMkcal", ev.id, ev.etag, err);
	default:
		rc = ops->get(p, "AAMkcal", ev.id, &out, err);
		break;
	}
	if (rc == 0)
		fuzz_check_event(&out);
	cs_event_release(&out);
	return rc;
}

static int input_has(const uint8_t *data, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(data + i, s, n) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct cs_provider_ops *ops = cs_provider_find("outlook");
	uint8_t op = len ? data[0] : 0;
	cs_creds creds = {0};
	cs_provider *p = NULL;
	cs_http *http = NULL;
	cs_err err;

	if (op == 0xff) {
		cs_graph_zones_load(CS_WINDOWS_ZONES_DEFAULT, &err);
		if (recurrence(data + 1, len - 1, &err))
			FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
		return 0;
	}
	cs_err_clear(&err);
	creds.access_token = strdup("AT-secret-5d1e");
	creds.refresh_token = strdup("RT-secret-9f2c");
	creds.expires_at = op & 16 ? 0 : (long long)time(NULL) + 3600;   /* 0: refresh first */
	fuzz_http_script(data + (len > 0), len - (len > 0));
	if (!ops || cs_http_new(&http, cfg.http_timeout_ms, NULL, &err) ||
	    ops->open(&p, &cfg, &creds, http, &err))
		abort();
	if (call(ops, p, op, &err))
		FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
	if (!input_has(data, len, "secret"))   /* an answer may echo what it likes */
		FUZZ_ASSERT(!strstr(err.msg, "RT-secret") && !strstr(err.msg, "AT-secret") &&
			    !strstr(err.msg, "CS-secret"));
	ops->close(p);
	cs_http_free(http);
	cs_creds_release(&creds);
	return 0;
}
