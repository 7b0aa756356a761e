/*
 * audit.c - a push's change row, the gathered job rows and their batched
 * INSERT, and pruning (see audit.h).
 */
#include "audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "queue.h"
#include "banned.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *gathered;          /* array of sync_result objects */
static long long last_flush_ms;
static long dropped;

int cs_audit_push(cs_db *db, const char *job_id, const char *calendar_id,
		  const char *event_id, const char *remote_id, const char *action, cs_err *err)
{
	const char *params[5] = {job_id, calendar_id, event_id, remote_id, action};

	/* the fields: what Family Hub's own changes touched since calsync last synced the pair */
	return cs_db_exec(db, NULL, err,
			  "INSERT INTO sync_audit_changes (job_id, calendar_id, event_id,"
			  " external_event_id, side, action, fields)"
			  " SELECT $1, $2::uuid, $3::uuid, $4, 'provider', $5,"
			  "  COALESCE((SELECT array_agg(DISTINCT f ORDER BY f) FROM sync_audit_changes h,"
			  "   unnest(h.fields) f WHERE h.event_id = $3::uuid AND h.job_id IS NULL"
			  "   AND h.changed_at >= COALESCE((SELECT max(p.changed_at) FROM sync_audit_changes p"
			  "    WHERE p.event_id = $3::uuid AND p.calendar_id = $2::uuid"
			  "    AND p.job_id IS NOT NULL), '-infinity')), '{}')",
			  5, params);
}

void cs_audit_job_ended(char *result_json)
{
	json_t *row = result_json ? json_loads(result_json, 0, NULL) : NULL;

	free(result_json);
	if (!row)
		return;
	pthread_mutex_lock(&lock);
	if (!gathered)
		gathered = json_array();
	if (gathered && json_array_size(gathered) >= CS_AUDIT_MAX_ROWS) {
		json_array_remove(gathered, 0);
		dropped++;
	}
	if (gathered)
		json_array_append(gathered, row);
	pthread_mutex_unlock(&lock);
	json_decref(row);
}

/* Take the gathered rows when due; NULL when there is nothing to write. */
static json_t *take(bool force)
{
	json_t *rows = NULL;
	long long now = cs_now_ms();

	pthread_mutex_lock(&lock);
	if (gathered && json_array_size(gathered) > 0 &&
	    (force || now - last_flush_ms >= CS_AUDIT_FLUSH_MS ||
	     json_array_size(gathered) >= CS_AUDIT_FLUSH_ROWS)) {
		rows = gathered;
		gathered = NULL;
		last_flush_ms = now;
	}
	if (dropped) {
		cs_warn("audit: %ld job rows dropped while PostgreSQL did not take them", dropped);
		dropped = 0;
	}
	pthread_mutex_unlock(&lock);
	return rows;
}

/* Put rows that could not be written back in front of the ones gathered since. */
static void give_back(json_t *rows)
{
	pthread_mutex_lock(&lock);
	if (gathered)
		json_array_extend(rows, gathered);
	json_decref(gathered);
	while (json_array_size(rows) > CS_AUDIT_MAX_ROWS) {
		json_array_remove(rows, 0);
		dropped++;
	}
	gathered = rows;
	pthread_mutex_unlock(&lock);
}

int cs_audit_flush(cs_db *db, bool force, cs_err *err)
{
	json_t *rows = take(force);
	char *text;
	int rc;

	if (!rows)
		return 0;
	text = json_dumps(rows, JSON_COMPACT);
	if (!text) {
		give_back(rows);
		return cs_err_set(err, CS_ENOMEM, true, "out of memory for the audit rows");
	}
	rc = cs_db_exec(db, NULL, err,
			"INSERT INTO sync_audit_jobs (job_id, job_type, calendar_id, tenant_id, status,"
			" created, updated, deleted, pushed, conflicts, duration_ms, error, worker,"
			" attempt, finished_at)"
			" SELECT job_id, job_type, calendar_id, tenant_id, status, created, updated,"
			"  deleted, pushed, conflicts, duration_ms, error, worker, attempt, finished_at"
			" FROM jsonb_to_recordset($1::jsonb) AS r(job_id text, job_type text,"
			"  calendar_id uuid, tenant_id uuid, status text, created int, updated int,"
			"  deleted int, pushed int, conflicts int, duration_ms bigint, error text,"
			"  worker text, attempt int, finished_at timestamptz)",
			1, (const char *const[]){text});
	free(text);
	if (rc) {
		give_back(rows);
		return cs_err_prefix(err, "writing the audit of ended jobs");
	}
	json_decref(rows);
	return 0;
}

static struct {
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running, stop;
	cs_db *db;
} flusher = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void *flusher_main(void *arg)
{
	cs_err err;

	(void)arg;
	pthread_mutex_lock(&flusher.lock);
	while (!flusher.stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += CS_AUDIT_FLUSH_MS / 1000;
		pthread_cond_timedwait(&flusher.wake, &flusher.lock, &until);
		pthread_mutex_unlock(&flusher.lock);
		if (cs_audit_flush(flusher.db, false, &err))
			cs_warn("%s (kept for the next flush)", err.msg);
		pthread_mutex_lock(&flusher.lock);
	}
	pthread_mutex_unlock(&flusher.lock);
	if (cs_audit_flush(flusher.db, true, &err))
		cs_warn("%s: the audit rows of the last jobs are lost", err.msg);
	return NULL;
}

int cs_audit_flusher_start(cs_dbpool *pool, cs_err *err)
{
	if (cs_db_new_pooled(&flusher.db, pool, err))
		return -1;
	if (pthread_create(&flusher.tid, NULL, flusher_main, NULL) != 0) {
		cs_db_free(flusher.db);
		flusher.db = NULL;
		return cs_err_set(err, CS_ENOMEM, false, "cannot start the audit flusher thread");
	}
	flusher.running = true;
	return 0;
}

void cs_audit_flusher_stop(void)
{
	if (!flusher.running)
		return;
	pthread_mutex_lock(&flusher.lock);
	flusher.stop = true;
	pthread_cond_signal(&flusher.wake);
	pthread_mutex_unlock(&flusher.lock);
	pthread_join(flusher.tid, NULL);
	cs_db_free(flusher.db);
	flusher.db = NULL;
	flusher.running = false;
}

int cs_audit_prune(cs_db *db, long days, long *deleted, cs_err *err)
{
	static const char *const sql[] = {
		"DELETE FROM sync_audit_jobs WHERE id IN (SELECT id FROM sync_audit_jobs"
		" WHERE finished_at < NOW() - $1::int * interval '1 day' ORDER BY finished_at LIMIT $2::int)",
		"DELETE FROM sync_audit_changes WHERE id IN (SELECT id FROM sync_audit_changes"
		" WHERE changed_at < NOW() - $1::int * interval '1 day' ORDER BY changed_at LIMIT $2::int)",
	};
	char d[24], limit[24];
	const char *params[2] = {d, limit};

	snprintf(d, sizeof(d), "%ld", days);
	snprintf(limit, sizeof(limit), "%d", CS_AUDIT_PRUNE_BATCH);
	*deleted = 0;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		PGresult *res = NULL;

		if (cs_db_exec(db, &res, err, sql[i], 2, params))
			return -1;
		*deleted += cs_db_rows(res);
		PQclear(res);
	}
	return 0;
}
