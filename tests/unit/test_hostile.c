/*
 * test_hostile.c - what outside input must not do: texts that are not
 * UTF-8 in records and errors, dedup keys that are not calsync's,
 * numbers from providers that would overflow.
 */
#include "unit.h"

#include <limits.h>
#include <time.h>

#include <jansson.h>

#include "commit.h"
#include "google_api.h"
#include "google_json.h"
#include "http.h"
#include "job.h"
#include "queue.h"
#include "utf8.h"

static bool valid(const char *s)
{
	return s && cs_utf8_valid(s, strlen(s));
}

TEST(utf8_clean_replaces_bad_bytes_and_cuts_on_characters)
{
	char buf[16];

	CHECK(cs_utf8_valid("Zoë 日本 🎉", strlen("Zoë 日本 🎉")));
	CHECK(!cs_utf8_valid("\xff", 1));
	CHECK(!cs_utf8_valid("\xc0\xaf", 2));            /* overlong '/' */
	CHECK(!cs_utf8_valid("\xed\xa0\x80", 3));        /* a surrogate */
	CHECK(!cs_utf8_valid("\xf4\x90\x80\x80", 4));    /* above U+10FFFF */
	CHECK(!cs_utf8_valid("\xe6\x97", 2));            /* cut short */
	cs_utf8_clean(buf, sizeof(buf), "a\xffz", 3);
	CHECK_STR(buf, "a\xEF\xBF\xBDz");
	cs_utf8_clean(buf, 5, "ab日本", strlen("ab日本"));   /* no room for 本 */
	CHECK_STR(buf, "ab");
	cs_utf8_clean(buf, 6, "ab日本", strlen("ab日本"));
	CHECK_STR(buf, "ab日");
}

TEST(utf8_error_texts_cut_inside_a_character_stay_valid)
{
	char name[600];
	cs_err err;

	memset(name, 'x', sizeof(name));
	memcpy(name + 61, "日本", 6);
	name[sizeof(name) - 1] = '\0';
	cs_err_set(&err, CS_EINVAL, false, "unknown type '%.64s'", name); /* cuts 本 */
	CHECK(valid(err.msg));
	cs_err_set(&err, CS_EINVAL, false, "%s", name);                   /* cut at 512 */
	CHECK(valid(err.msg));
	cs_err_set(&err, CS_EINVAL, false, "bad byte \xff here");
	CHECK(valid(err.msg) && strstr(err.msg, "bad byte "));
	cs_err_prefix(&err, "%.3s", "日本");
	CHECK(valid(err.msg));
}

/* Every record of a job ends up built, valid, and touching no foreign key. */
static void check_records(const char *type, const char *raw, enum cs_outcome outcome,
			  const char *error)
{
	cs_config cfg = {.retry_base_ms = 1000, .retry_max_ms = 60000};
	char *args[FINISH_ARGS] = {0};
	cs_job job;
	cs_err err;

	CHECK(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1-0", type, raw, &err) == 0);
	cs_job_end(&job, job.bad ? CS_OUT_DEAD : outcome, "failed", job.bad ? job.bad : error);
	CHECK(cs_commit_end_args(&cfg, "worker-1", &job, args) == 0);
	for (int i = 0; i < FINISH_ARGS; i++) {
		if (!valid(args[i]))
			fprintf(stderr, "  record part %d of %s: not valid\n", i, raw);
		CHECK(valid(args[i]));
		free(args[i]);
	}
	cs_job_release(&job);
}

TEST(job_records_are_built_for_hostile_entries)
{
	check_records("sync\xff\xfe", "{}", CS_OUT_DEAD, NULL);
	check_records("sync", "{\"job_id\":\"\xff\"}", CS_OUT_DEAD, NULL);
	check_records("sync", "{\"job_id\":\"a\\ud800\"}", CS_OUT_DEAD, NULL);
	check_records("sync", "{\"job_id\":\"j\"}", CS_OUT_RETRY, "Google said \xe6\x97");
	check_records("sync", "{\"job_id\":\"j\"}", CS_OUT_ACK, "partial: caf\xc3");
}

TEST(job_type_not_utf8_is_dead_with_a_readable_reason)
{
	cs_job job;
	cs_err err;

	CHECK(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1-0", "sy\xffnc", "{}", &err) == 0);
	CHECK(job.bad && strstr(job.bad, "'type' field is not valid UTF-8"));
	CHECK(valid(job.type));
	cs_job_release(&job);
}

static const char *dedup_of(const char *raw)
{
	static char out[128];
	cs_job job;
	cs_err err;
	const char *k;

	CHECK(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1-0", "sync", raw, &err) == 0);
	k = cs_job_dedup_key(&job);
	snprintf(out, sizeof(out), "%s", k ? k : "(none)");
	cs_job_release(&job);
	return out;
}

TEST(only_calsyncs_own_dedup_keys_are_deleted)
{
	CHECK_STR(dedup_of("{\"dedup\":\"calsync:queued:sync:c1\"}"), "calsync:queued:sync:c1");
	CHECK_STR(dedup_of("{\"dedup\":\"calsync:scheduler:leader\"}"), "(none)");
	CHECK_STR(dedup_of("{\"dedup\":\"calsync:jobs:background\"}"), "(none)");
	CHECK_STR(dedup_of("{\"dedup\":\"calsync:queued:\"}"), "(none)");
	CHECK_STR(dedup_of("{\"dedup\":\"other\"}"), "(none)");
	CHECK_STR(dedup_of("{\"dedup\":7}"), "(none)");
}

TEST(retry_after_dates_far_ahead_or_behind_are_bounded)
{
	long long now = 1445412480;   /* 2015-10-21T07:28:00Z */

	CHECK(cs_http_parse_retry_after("Fri, 31 Dec 2147483647 23:59:59 GMT", now) == 3600000);
	CHECK(cs_http_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == 3600000);
	CHECK(cs_http_parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", LLONG_MIN) == 3600000);
	CHECK(cs_http_parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", LLONG_MAX) == 0);
}

TEST(token_lifetime_from_the_endpoint_is_bounded)
{
	cs_creds creds = {0};
	cs_provider g = {.creds = &creds};
	json_t *root = json_pack("{s:s, s:I}", "access_token", "at",
				 "expires_in", (json_int_t)LLONG_MAX);
	long long now = (long long)time(NULL);
	cs_err err;

	CHECK(cs_google_take_token(&g, root, &err) == 0);
	CHECK(creds.expires_at > now && creds.expires_at <= now + 86400 + 5);
	json_decref(root);
	free(creds.access_token);
}

TEST(bad_item_reason_cut_inside_a_character_stays_valid)
{
	char id[200], text[400];
	json_t *item;
	cs_event ev = {0};
	cs_err err;

	memset(id, 'e', 79);
	memcpy(id + 79, "\xe6\x97\xa5", 3);   /* 日 across the 80-byte cut */
	id[82] = '\0';
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"status\":\"confirmed\",\"start\":{},\"end\":{}}", id);
	item = json_loads(text, 0, NULL);
	CHECK(item);
	CHECK(cs_google_event_from_json(item, &ev, &err) == 0);
	CHECK(ev.bad && valid(ev.bad));
	cs_event_release(&ev);
	json_decref(item);
}
