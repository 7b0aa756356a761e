/*
 * pull_page.h - applying one page of remote changes (pull_page.c), used
 * by pull.c inside the page's transaction.
 */
#ifndef CS_PULL_PAGE_H
#define CS_PULL_PAGE_H

#include <jansson.h>

#include "calendar.h"

typedef struct cs_pull_run {
	cs_worker *w;
	cs_job *job;
	cs_calendar *cal;
	bool full;
	long long generation;
	int done;               /* items seen */
	int bad;                /* items skipped as unreadable */
	int orphans;            /* overrides stored before their series was known */
	char first_bad[256];
} cs_pull_run;

/* Apply the items of page (in the caller's transaction). */
int cs_pull_apply_page(cs_pull_run *run, cs_page *page, cs_err *err);

/*
 * Raise time_overlap conflicts (informational) for the pulled events in
 * events (the JSON text of an array of {id, title, start_time, end_time}:
 * Hub id and the times now stored) that overlap a Hub-created event of the
 * calendar's owner (pull_overlap.c).
 */
int cs_pull_overlaps(cs_pull_run *run, const char *events, cs_err *err);

#endif
