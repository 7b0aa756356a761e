/* job.c - parsing a job entry and building its result records (see job.h). */
#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue.h"
#include "utf8.h"
#include "banned.h"

#define JOB_DATA_MAX (64 * 1024)

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* The type as records may quote it: valid UTF-8, "" when absent. */
static char *type_copy(const char *type)
{
	return type ? cs_utf8_dup(type) : strdup("");
}

int cs_job_parse(cs_job *job, const char *stream, const char *entry_id,
		 const char *type, const char *raw, cs_err *err)
{
	json_error_t jerr;
	json_t *attempt;
	char why[CS_ERR_MSG_MAX] = "";

	memset(job, 0, sizeof(*job));
	job->stream = stream;
	job->entry_id = dup_or_empty(entry_id);
	job->type = type_copy(type);
	job->raw = dup_or_empty(raw);
	job->job_id = "";
	job->attempt = 1;
	if (!job->entry_id || !job->type || !job->raw) {
		cs_job_release(job);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	if (!type)
		snprintf(why, sizeof(why), "entry has no 'type' field");
	else if (!cs_utf8_valid(type, strlen(type)))
		snprintf(why, sizeof(why), "the 'type' field is not valid UTF-8 ('%s')", job->type);
	else if (!raw)
		snprintf(why, sizeof(why), "entry has no 'data' field");
	else if (strlen(raw) > JOB_DATA_MAX)
		snprintf(why, sizeof(why), "data is larger than %d bytes", JOB_DATA_MAX);
	else if (!(job->data = json_loads(raw, JSON_REJECT_DUPLICATES, &jerr)))
		snprintf(why, sizeof(why), "data is not JSON: %s at line %d column %d",
			 jerr.text, jerr.line, jerr.column);
	else if (!json_is_object(job->data))
		snprintf(why, sizeof(why), "data is not a JSON object");
	if (why[0]) {
		job->bad = strdup(why);
		return 0;
	}
	if (cs_job_str(job, "job_id"))
		job->job_id = cs_job_str(job, "job_id");
	attempt = json_object_get(job->data, "attempt");
	if (json_is_integer(attempt) && json_integer_value(attempt) > 0 &&
	    json_integer_value(attempt) < 1000)
		job->attempt = (int)json_integer_value(attempt);
	return 0;
}

void cs_job_release(cs_job *job)
{
	free(job->entry_id);
	free(job->type);
	free(job->raw);
	free(job->calendar_id);
	free(job->tenant_id);
	free(job->bad);
	json_decref(job->data);
	json_decref(job->conflicts);
	json_decref(job->conflict_ids);
	free(job->answer);
	memset(job, 0, sizeof(*job));
}

const char *cs_job_str(const cs_job *job, const char *key)
{
	json_t *v = job->data ? json_object_get(job->data, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

void cs_job_end(cs_job *job, enum cs_outcome outcome, const char *status,
		const char *error)
{
	job->outcome = outcome;
	job->status = status;
	if (error != job->error)
		snprintf(job->error, sizeof(job->error), "%s", error ? error : "");
	cs_utf8_fix(job->error, sizeof(job->error));
	job->duration_ms = job->started_ms ? cs_now_ms() - job->started_ms : 0;
}

static void iso_now(char *buf, size_t n)
{
	long long ms = cs_now_ms();
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + 19, n - 19, ".%03dZ", (int)(ms % 1000));
}

static json_t *nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *cs_job_result_json(const cs_job *job, const char *worker)
{
	char now[40];
	json_t *o;
	char *s;

	iso_now(now, sizeof(now));
	o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:o, s:s, s:s, s:i}",
		      "job_id", job->job_id, "job_type", job->type,
		      "calendar_id", nullable(job->calendar_id),
		      "tenant_id", nullable(job->tenant_id),
		      "status", job->status ? job->status : "failed",
		      "created", job->counts.created, "updated", job->counts.updated,
		      "deleted", job->counts.deleted, "pushed", job->counts.pushed,
		      "conflicts", job->counts.conflicts,
		      "duration_ms", (json_int_t)job->duration_ms,
		      "error", job->error[0] ? json_string(job->error) : json_null(),
		      "worker", worker, "finished_at", now, "attempt", job->attempt);
	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *cs_job_retry_data(const cs_job *job)
{
	json_t *d = json_deep_copy(job->data);
	char *s;

	if (!d)
		return NULL;
	json_object_set_new(d, "attempt", json_integer(job->attempt + (job->rate_limited ? 0 : 1)));
	json_object_set_new(d, "last_error", json_string(job->error));
	s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return s;
}

char *cs_job_dead_json(const cs_job *job, const char *worker)
{
	char now[40];
	json_t *o;
	char *s;

	iso_now(now, sizeof(now));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}",
		      "job_id", job->job_id, "source", job->stream, "job_type", job->type,
		      "reason", job->error, "entry_id", job->entry_id,
		      "attempts", job->attempt, "worker", worker, "dead_at", now);
	if (!o)
		return NULL;
	if (job->data) {
		json_object_set(o, "job", job->data);
	} else {
		char *raw = cs_utf8_dup(job->raw);

		json_object_set_new(o, "job", raw ? json_string(raw) : json_null());
		free(raw);
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
