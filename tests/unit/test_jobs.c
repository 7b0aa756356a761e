/* test_jobs.c - job parsing, result records and retry backoff. */
#include "unit.h"

#include <jansson.h>

#include "commit.h"
#include "job.h"
#include "queue.h"
#include "run.h"

TEST(job_parse_takes_attempt_and_id)
{
	cs_job job;
	cs_err err;

	CHECK(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1-0", "sync",
			   "{\"job_id\":\"j1\",\"calendar_id\":\"c\",\"attempt\":3}", &err) == 0);
	CHECK(!job.bad);
	CHECK_STR(job.job_id, "j1");
	CHECK(job.attempt == 3);
	CHECK_STR(cs_job_str(&job, "calendar_id"), "c");
	cs_job_release(&job);
}

TEST(job_parse_names_what_is_wrong)
{
	const char *cases[][2] = {
		{"not json", "not JSON"},
		{"[1,2]", "not a JSON object"},
		{"{\"a\":1,\"a\":2}", "not JSON"},
	};
	cs_job job;
	cs_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1-0", "sync", cases[i][0], &err) == 0);
		CHECK(job.bad && strstr(job.bad, cases[i][1]));
		cs_job_release(&job);
	}
	CHECK(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1-0", NULL, "{}", &err) == 0);
	CHECK(job.bad && strstr(job.bad, "no 'type'"));
	cs_job_release(&job);
}

TEST(job_result_has_the_contract_fields)
{
	const char *fields[] = {"job_id", "job_type", "calendar_id", "tenant_id", "status",
				"created", "updated", "deleted", "pushed", "conflicts",
				"duration_ms", "error", "worker", "finished_at"};
	cs_job job;
	cs_err err;
	json_t *o;
	char *s;

	CHECK(cs_job_parse(&job, CS_STREAM_INTERACTIVE, "1-0", "push", "{\"job_id\":\"j\"}", &err) == 0);
	job.counts.pushed = 2;
	cs_job_end(&job, CS_OUT_ACK, "success", NULL);
	s = cs_job_result_json(&job, "w1");
	o = json_loads(s, 0, NULL);
	CHECK(o);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		CHECK(json_object_get(o, fields[i]));
	CHECK(json_integer_value(json_object_get(o, "pushed")) == 2);
	CHECK(json_is_null(json_object_get(o, "error")));
	json_decref(o);
	free(s);
	cs_job_release(&job);
}

TEST(retry_data_counts_the_attempt)
{
	cs_job job;
	cs_err err;
	json_t *o;
	char *s;

	CHECK(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1-0", "sync", "{\"job_id\":\"j\"}", &err) == 0);
	cs_job_end(&job, CS_OUT_RETRY, "retrying", "provider down");
	s = cs_job_retry_data(&job);
	o = json_loads(s, 0, NULL);
	CHECK(json_integer_value(json_object_get(o, "attempt")) == 2);
	CHECK_STR(json_string_value(json_object_get(o, "last_error")), "provider down");
	json_decref(o);
	free(s);
	cs_job_release(&job);
}

TEST(retry_waits_at_least_what_the_provider_asked)
{
	cs_config cfg = {0};
	cs_job job = {0};

	cfg.retry_base_ms = 1000;
	cfg.retry_max_ms = 5000;
	job.attempt = 1;
	CHECK(cs_job_retry_wait_ms(&cfg, &job, 0) == 500);
	job.retry_after_ms = 20000;
	CHECK(cs_job_retry_wait_ms(&cfg, &job, 0) == 20000);
	CHECK(cs_job_retry_wait_ms(&cfg, &job, 500) == 20000);
	job.retry_after_ms = 100;
	CHECK(cs_job_retry_wait_ms(&cfg, &job, 500) == 1000);
}

TEST(an_announced_rate_limit_is_retried_without_using_an_attempt)
{
	cs_config cfg = {0};
	cs_job job;
	cs_err err;
	json_t *o;
	char *s;

	cfg.max_attempts = 2;
	CHECK(cs_job_parse(&job, CS_STREAM_INTERACTIVE, "1-0", "sync",
			   "{\"job_id\":\"j\",\"attempt\":2}", &err) == 0);
	cs_err_set(&err, CS_ERATELIMIT, true, "Google answered 429");
	err.retry_after_ms = 20000;
	cs_run_classify(&cfg, &job, &err);
	CHECK(job.outcome == CS_OUT_RETRY && job.retry_after_ms == 20000);
	s = cs_job_retry_data(&job);
	o = json_loads(s, 0, NULL);
	CHECK(json_integer_value(json_object_get(o, "attempt")) == 2);
	json_decref(o);
	free(s);
	cs_job_release(&job);

	CHECK(cs_job_parse(&job, CS_STREAM_INTERACTIVE, "1-0", "sync",
			   "{\"job_id\":\"j\",\"attempt\":2}", &err) == 0);
	cs_err_set(&err, CS_ERATELIMIT, true, "Google answered 429"); /* no Retry-After */
	cs_run_classify(&cfg, &job, &err);
	CHECK(job.outcome == CS_OUT_DEAD);
	cs_job_release(&job);
}

TEST(retry_backoff_doubles_with_jitter_and_cap)
{
	cs_config cfg = {0};

	cfg.retry_base_ms = 1000;
	cfg.retry_max_ms = 5000;
	CHECK(cs_retry_delay_ms(&cfg, 1, 0) == 500);
	CHECK(cs_retry_delay_ms(&cfg, 1, 500) == 1000);
	CHECK(cs_retry_delay_ms(&cfg, 2, 0) == 1000);
	CHECK(cs_retry_delay_ms(&cfg, 3, 0) == 2000);
	CHECK(cs_retry_delay_ms(&cfg, 10, 0) == 2500);
	for (long r = 0; r < 10000; r += 7) {
		long long d = cs_retry_delay_ms(&cfg, 2, r);

		CHECK(d >= 1000 && d <= 2000);
	}
}
