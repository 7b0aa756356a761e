/*
 * fuzz_job.c - job entries as any producer may write them, through the
 * worker's path to their end: parsing (worker/job.c), the dispatch table
 * and each type's calendar lookup (worker/dispatch.c, run.c; a database
 * that cannot be reached stands in for PostgreSQL), the outcome of an
 * error with any text, and the records the finish script would write
 * (worker/batch_scripts.c). Invariants: every job gets its records; every record
 * is valid UTF-8 and a record JSON parses back; the only key a job's end
 * may delete is one of calsync's own dedup keys.
 *
 * Input: a control byte, the type, NUL, the data, NUL, an error text (no
 * NUL at all: an entry without a type).
 */
#include <stdint.h>

#include <jansson.h>

#include "batch_scripts.h"
#include "fuzz.h"
#include "queue.h"
#include "run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static cs_config cfg = {.max_attempts = 5, .retry_base_ms = 1000, .retry_max_ms = 300000};

static void end_job(cs_job *job, uint8_t ctl, const char *text)
{
	static const enum cs_errcode codes[] = {CS_EINVAL, CS_EIO, CS_EDB, CS_EAUTH,
						CS_ERATELIMIT, CS_EFENCED, CS_EPROTO};
	cs_err err;

	if (job->outcome != CS_OUT_NONE)
		return;
	switch (ctl % 4) {
	case 0:
		cs_job_end(job, CS_OUT_ACK, ctl & 4 ? "partial" : "success", text);
		break;
	case 1:
		cs_err_set(&err, codes[(ctl >> 2) % 7], ctl & 0x80, "%s", text);
		cs_run_classify(&cfg, job, &err);
		break;
	case 2:
		job->outcome = CS_OUT_DEFER;
		break;
	default:
		job->outcome = CS_OUT_REQUEUE;
		break;
	}
}

static void check_record(const char *s, bool json)
{
	json_t *back;

	FUZZ_ASSERT(s && fuzz_text_ok(s));
	if (!json || !*s)
		return;
	back = json_loads(s, 0, NULL);
	FUZZ_ASSERT(json_is_object(back) || json_is_array(back));
	json_decref(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static cs_db *db;
	char *copy = fuzz_strndup(data + (len > 0), len - (len > 0));
	size_t rest = len - (len > 0), tlen = strlen(copy);
	const char *type = tlen < rest ? copy : NULL;
	const char *raw = type ? copy + tlen + 1 : copy;
	const char *text = type && tlen + 1 + strlen(raw) < rest ? raw + strlen(raw) + 1 : "";
	char *args[FINISH_ARGS] = {0};
	cs_worker w = {.cfg = &cfg};
	cs_job job;
	cs_err err;

	if (!db && cs_db_new(&db, "host=/nonexistent-calsync-fuzz dbname=none", &err))
		abort();
	w.db = db;
	FUZZ_ASSERT(cs_job_parse(&job, CS_STREAM_BACKGROUND, "1700000000000-0", type, raw, &err) == 0);
	cs_run_prepare(&w, &job);
	end_job(&job, len ? data[0] : 0, text);
	FUZZ_ASSERT(job.outcome != CS_OUT_NONE);
	FUZZ_ASSERT(cs_batch_end_args(&cfg, "fuzz-worker", &job, args) == 0);
	for (int i = 0; i < FINISH_ARGS; i++) {
		if (i != 10 || job.outcome == CS_OUT_RETRY) /* else the data as it came */
			check_record(args[i], i == 6 || i == 7 || i == 10 || i == 12);
		FUZZ_ASSERT(args[i]);
	}
	FUZZ_ASSERT(!*args[8] || strncmp(args[8], CS_DEDUP_PREFIX, strlen(CS_DEDUP_PREFIX)) == 0);
	for (int i = 0; i < FINISH_ARGS; i++)
		free(args[i]);
	cs_job_release(&job);
	free(copy);
	return 0;
}
