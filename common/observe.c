/*
 * observe.c - the metrics of calsync and the calls that move them (see
 * observe.h). The README's metrics table describes each one.
 */
#include "observe.h"

#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "queue.h"
#include "banned.h"

static const char *const L_TYPE[] = {"type", NULL};
static const char *const L_TYPE_STATUS[] = {"type", "status", NULL};
static const char *const L_PROVIDER[] = {"provider", NULL};
static const char *const L_PROVIDER_CODE[] = {"provider", "code", NULL};
static const char *const L_CONFLICT[] = {"conflict_type", NULL};
static const char *const L_STREAM[] = {"stream", NULL};
static const char *const L_TOPIC[] = {"topic", NULL};

static const double JOB_BUCKETS[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
static const double REQUEST_BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
					 10, 30};
#define NB(a) (sizeof(a) / sizeof((a)[0]))

static cs_metric jobs_started = CS_METRIC_COUNTER("calsync_jobs_started_total",
	"Jobs whose handler started, by job type.", L_TYPE);
static cs_metric jobs_finished = CS_METRIC_COUNTER("calsync_jobs_finished_total",
	"Jobs whose end was recorded, by job type and status (success, partial, failed, retrying, dead).",
	L_TYPE_STATUS);
static cs_metric job_duration = CS_METRIC_HISTOGRAM("calsync_job_duration_seconds",
	"Time a job's handler ran, by job type.", L_TYPE, JOB_BUCKETS, NB(JOB_BUCKETS));
static cs_metric job_retries = CS_METRIC_COUNTER("calsync_job_retries_total",
	"Jobs scheduled for another attempt, by job type.", L_TYPE);
static cs_metric dead_letters = CS_METRIC_COUNTER("calsync_dead_letters_total",
	"Entries written to calsync:dead, by job type (event_changed: a Kafka message).", L_TYPE);
static cs_metric provider_requests = CS_METRIC_COUNTER("calsync_provider_requests_total",
	"HTTP requests to the providers, by provider and status code (0: no answer).",
	L_PROVIDER_CODE);
static cs_metric provider_latency = CS_METRIC_HISTOGRAM("calsync_provider_request_duration_seconds",
	"Time of one provider request, answered or not, by provider.", L_PROVIDER,
	REQUEST_BUCKETS, NB(REQUEST_BUCKETS));
static cs_metric conflicts_raised = CS_METRIC_COUNTER("calsync_conflicts_raised_total",
	"Conflicts stored, by conflict type.", L_CONFLICT);
static cs_metric refresh_failures = CS_METRIC_COUNTER("calsync_token_refresh_failures_total",
	"Access-token refreshes that failed, by provider.", L_PROVIDER);
static cs_metric pg_in_use = CS_METRIC_GAUGE("calsync_pg_connections_in_use",
	"PostgreSQL connections of the process's pool lent out now.", NULL);
static cs_metric stream_length = CS_METRIC_GAUGE("calsync_stream_length",
	"Entries in a calsync stream (XLEN), as the scheduler last measured.", L_STREAM);
static cs_metric stream_pending = CS_METRIC_GAUGE("calsync_stream_group_pending",
	"Entries of a job stream delivered to the group calsync-workers and not acknowledged.",
	L_STREAM);
static cs_metric stream_lag = CS_METRIC_GAUGE("calsync_stream_group_lag",
	"Entries of a job stream not yet delivered to the group calsync-workers.", L_STREAM);
static cs_metric kafka_lag = CS_METRIC_GAUGE("calsync_kafka_consumer_lag",
	"Event-changed messages not yet consumed on the partitions this scheduler holds.",
	L_TOPIC);
static cs_metric auth_required = CS_METRIC_GAUGE("calsync_calendars_auth_required",
	"Calendars whose credentials the provider refused (the user must reconnect), by provider.",
	L_PROVIDER);
static cs_metric leader = CS_METRIC_GAUGE("calsync_scheduler_leader",
	"1 while this scheduler holds the leader lease.", NULL);

static cs_metric *const all[] = {
	&jobs_started, &jobs_finished, &job_duration, &job_retries, &dead_letters,
	&provider_requests, &provider_latency, &conflicts_raised, &refresh_failures,
	&pg_in_use, &stream_length, &stream_pending, &stream_lag, &kafka_lag,
	&auth_required, &leader,
};

/* s if it is one of list, else fallback: label values stay a short known list. */
static const char *known(const char *s, const char *const *list, const char *fallback)
{
	for (size_t i = 0; s && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return list[i];
	return fallback;
}

static const char *job_type(const char *t)
{
	static const char *const types[] = {"sync", "push", "resolve", "discover", "disconnect",
					    "noop", "event_changed", NULL};
	return known(t, types, "unknown");
}

static const char *provider_name(const char *p)
{
	static const char *const names[] = {"google", "outlook", "icloud", "caldav", "test", NULL};
	return known(p, names, "other");
}

void cs_observe_job_started(const char *type)
{
	const char *v[] = {job_type(type)};

	cs_metric_add(&jobs_started, v, 1);
}

void cs_observe_pg_lent(int delta)
{
	cs_metric_add(&pg_in_use, NULL, delta);
}

void cs_observe_job_ran(const char *type, long long started_ms)
{
	const char *v[] = {job_type(type)};

	cs_metric_observe(&job_duration, v, (double)(cs_now_ms() - started_ms) / 1000);
}

void cs_observe_job_finished(const char *type, const char *status)
{
	static const char *const statuses[] = {"success", "partial", "failed", "retrying", "dead",
					       NULL};
	const char *st = known(status, statuses, "other");
	const char *v[] = {job_type(type), st};

	cs_metric_add(&jobs_finished, v, 1);
	if (strcmp(st, "retrying") == 0)
		cs_metric_add(&job_retries, v, 1);
	else if (strcmp(st, "dead") == 0)
		cs_observe_dead_letter(type);
}

void cs_observe_dead_letter(const char *type)
{
	const char *v[] = {job_type(type)};

	cs_metric_add(&dead_letters, v, 1);
}

void cs_observe_provider_request(const char *provider, long code, double seconds)
{
	char c[16];
	const char *pv[] = {provider_name(provider)};
	const char *v[] = {pv[0], c};

	snprintf(c, sizeof(c), "%ld", code >= 100 && code <= 599 ? code : 0);
	cs_metric_add(&provider_requests, v, 1);
	cs_metric_observe(&provider_latency, pv, seconds);
}

void cs_observe_conflicts_raised(const char *conflict_type, int n)
{
	static const char *const types[] = {"update_conflict", "delete_conflict", "time_overlap",
					    NULL};
	const char *v[] = {known(conflict_type, types, "other")};

	if (n > 0)
		cs_metric_add(&conflicts_raised, v, n);
}

void cs_observe_token_refresh_failed(const char *provider)
{
	const char *v[] = {provider_name(provider)};

	cs_metric_add(&refresh_failures, v, 1);
}

void cs_observe_stream(const char *stream, long long length, long long pending, long long lag)
{
	const char *v[] = {stream};

	cs_metric_set(&stream_length, v, (double)length);
	if (pending >= 0)
		cs_metric_set(&stream_pending, v, (double)pending);
	if (lag >= 0)
		cs_metric_set(&stream_lag, v, (double)lag);
}

void cs_observe_kafka_lag(const char *topic, long long lag)
{
	const char *v[] = {topic};

	cs_metric_set(&kafka_lag, v, (double)lag);
}

void cs_observe_auth_required_reset(void)
{
	cs_metric_zero(&auth_required);
}

void cs_observe_auth_required(const char *provider, long long n)
{
	const char *v[] = {provider_name(provider)};

	cs_metric_set(&auth_required, v, (double)n);
}

void cs_observe_leader(bool is_leader)
{
	cs_metric_set(&leader, NULL, is_leader ? 1 : 0);
}

int cs_observe_write(cs_dynbuf *out, cs_err *err)
{
	return cs_metrics_write(all, NB(all), out, err);
}
