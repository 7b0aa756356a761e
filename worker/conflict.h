/*
 * conflict.h - recording a conflict (contract 5.5): it changes neither
 * side, is stored with both versions as JSON, and is announced on
 * calsync:conflicts when the job ends (the announcement rides on the
 * job's atomic end, see commit.c). A pair (event, calendar) that already
 * has a pending conflict of the same type is not asked about again.
 */
#ifndef CS_CONFLICT_H
#define CS_CONFLICT_H

#include <jansson.h>

#include "calendar.h"

/* local and external are JSON objects (or NULL); the references stay the caller's. */
int cs_conflict_raise(cs_worker *w, cs_job *job, const cs_calendar *cal, const char *type,
		      const char *event_id, const char *remote_id, json_t *local,
		      json_t *external, cs_err *err);

/* Queue the announcement of a stored conflict on the job's end. */
int cs_conflict_announce(cs_job *job, const cs_calendar *cal, const char *id, const char *type,
			 const char *event_id, const char *remote_id, const char *detected_at,
			 cs_err *err);

#endif
