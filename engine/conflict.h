/*
 * conflict.h - recording a conflict (contract 5.5): it changes neither
 * side and is stored with both versions as JSON. A pair (event, calendar)
 * that already has a pending conflict of the same type is not asked about
 * again. A run that no longer holds its calendar raises none
 * (CS_EFENCED from the context's holds check, engine.h).
 *
 * Announcing: before a job's end, the worker has cs_conflicts_collect()
 * gather its calendar's stored conflicts not yet announced - committed
 * ones only, so a conflict rolled back with its transaction is never
 * announced - and the job's atomic end publishes them on calsync:conflicts
 * (worker/batch_scripts.c); cs_conflicts_announced() then records that. A worker
 * that dies in between leaves them unannounced, and the calendar's next
 * job announces them: an announcement may come twice, never not at all.
 *
 * Ownership: the arrays cs_conflicts_collect() makes are the caller's.
 */
#ifndef CS_CONFLICT_H
#define CS_CONFLICT_H

#include <jansson.h>

#include "calendar.h"

/* local and external are JSON objects (or NULL); the references stay the caller's. */
int cs_conflict_raise(cs_sync *s, const cs_calendar *cal, const char *type,
		      const char *event_id, const char *remote_id, json_t *local,
		      json_t *external, cs_err *err);

/*
 * The announcements of the calendar's unannounced conflicts (JSON texts)
 * and their ids, two arrays of the same length; both stay NULL when there
 * is none.
 */
int cs_conflicts_collect(cs_db *db, const char *calendar_id, json_t **announcements,
			 json_t **ids, cs_err *err);

/* Record the conflicts of ids (an array of conflict ids, or NULL) as announced. */
int cs_conflicts_announced(cs_db *db, const json_t *ids, cs_err *err);

#endif
