/*
 * pull.h - bringing a calendar's remote changes into Family Hub
 * (contract 5.1, 5.6-5.8). Each page of changes is applied in one
 * transaction together with the page token that follows it; deletions
 * are marked per page and applied at the end, behind the mass-deletion
 * guard, in one transaction with the new sync token. A crash at any point
 * resumes without loss or duplicates.
 */
#ifndef CS_PULL_H
#define CS_PULL_H

#include "calendar.h"

/* full: ignore the stored sync token. Counts and notes go to s->report. */
int cs_pull(cs_sync *s, cs_calendar *cal, bool full, cs_err *err);

/*
 * A pull that created many events sets s->report.stale_statistics: the
 * planner's statistics are to be refreshed here, after the run's result
 * is published, so that the result does not wait for it.
 */
void cs_pull_refresh_statistics(cs_db *db);

#endif
