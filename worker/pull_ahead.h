/*
 * pull_ahead.h - reading the next page of a pull on a helper thread while
 * the current page is applied to PostgreSQL (pull_ahead.c), so that the
 * provider's answer and its parsing overlap the database work.
 *
 * Only one thread uses the provider at a time: the pull starts the read
 * after its own provider call and collects it (cs_pull_ahead_wait) before
 * it touches the provider again - storing refreshed credentials included.
 *
 * Ownership: the cs_pull_ahead is the caller's (usually on its stack);
 * cs_pull_ahead_take() moves the page read into the caller's cs_page;
 * cs_pull_ahead_release() waits for a running read and frees a page not
 * taken.
 */
#ifndef CS_PULL_AHEAD_H
#define CS_PULL_AHEAD_H

#include <pthread.h>

#include "pull_page.h"

typedef struct cs_pull_ahead {
	pthread_t thread;
	bool running;           /* the helper thread is reading */
	bool ready;             /* a result waits to be taken */
	cs_pull_run *run;
	const char *sync_token; /* borrowed from the calendar; NULL: a full sync */
	char *page_token;       /* owned copy */
	cs_page page;
	cs_err err;
	int rc;
} cs_pull_ahead;

/* Read the page at page_token on a helper thread (no thread: false, read later). */
bool cs_pull_ahead_start(cs_pull_ahead *a, cs_pull_run *run, const char *sync_token,
			 const char *page_token);

/* Wait until a started read ended (its result then waits to be taken). */
void cs_pull_ahead_wait(cs_pull_ahead *a);

/*
 * When a read ended: true, with its page moved into *page and its return
 * code in *rc (and the error in *err); false when none was started.
 */
bool cs_pull_ahead_take(cs_pull_ahead *a, cs_page *page, int *rc, cs_err *err);

/* Wait for a running read and drop what it read. */
void cs_pull_ahead_release(cs_pull_ahead *a);

/* One page of the run's calendar, read in the calling thread. */
int cs_pull_fetch(cs_pull_run *run, const char *sync_token, const char *page_token,
		  cs_page *page, cs_err *err);

#endif
