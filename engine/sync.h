/*
 * sync.h - one sync of a calendar (contract 5.1-5.4): its remote changes
 * pulled (pull.h), the Hub's pending changes pushed (push.h), and how it
 * went recorded in calendar_sync_states; or one Hub event pushed now.
 */
#ifndef CS_SYNC_H
#define CS_SYNC_H

#include "calendar.h"

/*
 * Sync cal (connected): full ignores the stored sync token and pushes
 * every pending change. An inactive calendar is left alone, with a note.
 */
int cs_sync_calendar(cs_sync *s, cs_calendar *cal, bool full, cs_err *err);

/*
 * The bookkeeping of quiet syncs (cs_sync_report.quiet), many in one
 * statement: stamps is a JSON array of {"cal": calendar id, "job": run id};
 * each calendar whose recorded status is still success gets last_sync_at
 * now and that last_job_id.
 */
int cs_sync_stamp_quiet(cs_db *db, const char *stamps, cs_err *err);

/* Push the Hub event event_id to cal now, when it goes to cal (else a note). */
int cs_sync_event(cs_sync *s, cs_calendar *cal, const char *event_id, cs_err *err);

#endif
