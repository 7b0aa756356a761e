/*
 * conflict.h - recording a conflict (contract 5.5): it changes neither
 * side and is stored with both versions as JSON. A pair (event, calendar)
 * that already has a pending conflict of the same type is not asked about
 * again. A job that no longer holds its calendar's lock raises none
 * (CS_EFENCED, keeper.h).
 *
 * Announcing: before a job's end, cs_conflicts_collect() gathers its
 * calendar's stored conflicts not yet announced - committed ones only, so
 * a conflict rolled back with its transaction is never announced - and
 * the job's atomic end publishes them on calsync:conflicts (commit.c);
 * cs_conflicts_announced() then records that. A worker that dies in
 * between leaves them unannounced, and the calendar's next job announces
 * them: an announcement may come twice, never not at all.
 *
 * Ownership: job->conflicts and job->conflict_ids belong to the job
 * (cs_job_release frees them).
 */
#ifndef CS_CONFLICT_H
#define CS_CONFLICT_H

#include <jansson.h>

#include "calendar.h"

/* local and external are JSON objects (or NULL); the references stay the caller's. */
int cs_conflict_raise(cs_worker *w, cs_job *job, const cs_calendar *cal, const char *type,
		      const char *event_id, const char *remote_id, json_t *local,
		      json_t *external, cs_err *err);

/* Into job: the announcements of its calendar's unannounced conflicts. */
int cs_conflicts_collect(cs_db *db, cs_job *job, cs_err *err);

/* Record the job's collected conflicts as announced. */
int cs_conflicts_announced(cs_db *db, const cs_job *job, cs_err *err);

#endif
