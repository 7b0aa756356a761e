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

/* Push the Hub event event_id to cal now, when it goes to cal (else a note). */
int cs_sync_event(cs_sync *s, cs_calendar *cal, const char *event_id, cs_err *err);

#endif
