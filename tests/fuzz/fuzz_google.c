/*
 * fuzz_google.c - Google's answers, through the provider (providers/google*.c)
 * with a scripted HTTP layer (scripted_http.h): any answer - JSON or not,
 * any status, any Retry-After - to any call the engine makes gives either
 * a result whose every text is valid UTF-8 and every item either mapped or
 * marked bad, or an error with a readable message; never a crash, a leak
 * or a signed overflow.
 *
 * Input: a byte choosing the call, then the script of answers.
 */
#include <stdint.h>
#include <time.h>

#include "fuzz.h"
#include "fuzz_event.h"
#include "provider.h"
#include "scripted_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static cs_config cfg = {
	.google_api_url = "https://www.googleapis.com/calendar/v3",
	.google_token_url = "https://oauth2.googleapis.com/token",
	.google_revoke_url = "https://oauth2.googleapis.com/revoke",
	.google_client_id = "client", .google_client_secret = "secret",
	.http_timeout_ms = 30000,
};

static void sample(cs_event *ev)
{
	static char *attendees[] = {"a@example.com", "b@example.com"};

	*ev = (cs_event){.id = "ev1", .etag = "\"1\"", .title = "Swim", .description = "pool",
			 .start = "2026-12-01T17:30:00Z", .end = "2026-12-01T18:30:00Z",
			 .timezone = "Europe/London", .recurrence = "RRULE:FREQ=WEEKLY",
			 .attendees = attendees, .nattendees = 2, .status = "confirmed",
			 .hub_id = "2a0c6d4e-1b7f-4c3a-9e5d-0f1e2d3c4b5a"};
}

static int call(const struct cs_provider_ops *ops, cs_provider *p, uint8_t op, cs_err *err)
{
	cs_event ev, out = {0};
	int rc;

	sample(&ev);
	switch (op % 8) {
	case 0:
		return fuzz_list_calendars(ops, p, err);
	case 1:
	case 2:
		return fuzz_fetch(ops, p, "primary", op % 8 == 2 ? "sync-token" : NULL,
				  op & 8 ? "page-token" : NULL, err);
	case 3:
		rc = ops->create(p, "primary", &ev, ev.hub_id, &out, err);
		break;
	case 4:
		rc = ops->update(p, "primary", &ev, &out, err);
		break;
	case 5:
		return ops->remove(p, "primary", ev.id, ev.etag, err);
	case 6:
		rc = ops->get(p, "primary", ev.id, &out, err);
		break;
	default:
		return ops->revoke(p, err);
	}
	if (rc == 0)
		fuzz_check_event(&out);
	cs_event_release(&out);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct cs_provider_ops *ops = cs_provider_find("google");
	uint8_t op = len ? data[0] : 0;
	cs_creds creds = {0};
	cs_provider *p = NULL;
	cs_http *http = NULL;
	cs_err err;

	creds.access_token = strdup("access");
	creds.refresh_token = strdup("refresh");
	creds.expires_at = op & 16 ? 0 : (long long)time(NULL) + 3600;  /* 0: refresh first */
	fuzz_http_script(data + (len > 0), len - (len > 0));
	if (!ops || cs_http_new(&http, cfg.http_timeout_ms, NULL, &err) ||
	    ops->open(&p, &cfg, &creds, http, &err))
		abort();
	if (call(ops, p, op, &err))
		FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
	FUZZ_ASSERT(creds.expires_at == 0 || creds.expires_at <= (long long)time(NULL) + 86400 + 5);
	ops->close(p);
	cs_http_free(http);
	cs_creds_release(&creds);
	return 0;
}
