/*
 * push.h - writing Hub events to a calendar (contract 5.2-5.4, 5.11):
 * creates made idempotent by the Hub event id, updates and deletes under
 * the provider's precondition (a failed one is never an overwrite: the
 * remote copy is read again, and only a change of what calsync models is
 * a conflict), nothing at all when the Hub copy did not change since the
 * last sync (no echo). Every attempt settles what it decided, so that
 * only a real change is pending again (targets.h).
 *
 * One event the provider refuses is isolated (rule 5.11): it is recorded
 * against its version and not pushed again until it changes, and the job
 * ends partial naming it; a calendar the account may only read becomes
 * pull_only, reported once in the job's result. Neither fails the call.
 */
#ifndef CS_PUSH_H
#define CS_PUSH_H

#include "calendar.h"

/* Push one Hub event to cal (cal must be connected). */
int cs_push_event(cs_worker *w, cs_job *job, cs_calendar *cal, const char *event_id,
		  cs_err *err);
/*
 * Push the pending Hub changes of cal (targets.h decides what is pending):
 * all of them, or (all false) those of the last hour.
 */
int cs_push_pending(cs_worker *w, cs_job *job, cs_calendar *cal, bool all, cs_err *err);

#endif
