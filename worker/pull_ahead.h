/*
 * pull_ahead.h - the next page of a pull read ahead on a helper thread
 * (pull_ahead.c) while the page before it is applied to PostgreSQL, so
 * that the provider's answers and their parsing overlap the database work.
 *
 * The reader follows the page tokens on its own and keeps at most one
 * page waiting; it stops after a last page (no next token) or a failed
 * read, whose error the pull takes in order.
 *
 * The provider is used by one thread at a time: the reader holds the
 * provider lock while it reads, and the pull stores refreshed credentials
 * only when cs_pull_ahead_hold() got that lock (the pull's last page is
 * committed after the reader stopped, so refreshed credentials are stored
 * by then at the latest). Lock order: the provider lock, then a->mu.
 *
 * Ownership: the cs_pull_ahead is the caller's (on its stack, zeroed);
 * cs_pull_ahead_take() moves a page into the caller's cs_page;
 * cs_pull_ahead_release() stops the reader and frees pages not taken.
 */
#ifndef CS_PULL_AHEAD_H
#define CS_PULL_AHEAD_H

#include <pthread.h>

#include "pull_page.h"

struct cs_read {
	cs_page page;
	int rc;
	cs_err err;
};

typedef struct cs_pull_ahead {
	pthread_t thread;
	bool running;           /* a reader thread was started (join it) */
	pthread_mutex_t mu;     /* guards what follows */
	pthread_cond_t cv;
	pthread_mutex_t provider;
	cs_pull_run *run;
	const char *sync_token; /* borrowed from the calendar; NULL: a full sync */
	char *page_token;       /* the next page to read; NULL: the reader stops */
	bool stop;              /* the pull asks the reader to stop */
	bool ended;             /* the reader stopped */
	bool creds_changed;     /* a read refreshed the credentials */
	struct cs_read read;    /* the read waiting to be taken, when waiting */
	bool waiting;
} cs_pull_ahead;

/*
 * Read the pages from page_token on (sync_token: NULL for a full sync) on
 * a helper thread. false: no thread (the caller reads them itself).
 */
bool cs_pull_ahead_start(cs_pull_ahead *a, cs_pull_run *run, const char *sync_token,
			 const char *page_token);

/*
 * The next page read: true with it moved into *page, its return code in
 * *rc (and the error in *err); false when the reader was not started or
 * stopped with nothing left to take (release it before reading yourself).
 */
bool cs_pull_ahead_take(cs_pull_ahead *a, cs_page *page, int *rc, cs_err *err);

/*
 * Take the provider lock (true; release it with cs_pull_ahead_unhold):
 * at once when the reader is not reading, or after its read ends when an
 * earlier read refreshed the credentials. false: the reader is reading
 * and no refreshed credentials wait to be stored.
 */
bool cs_pull_ahead_hold(cs_pull_ahead *a);
void cs_pull_ahead_unhold(cs_pull_ahead *a);

/* Stop the reader and drop what it read; the cs_pull_ahead is zeroed. */
void cs_pull_ahead_release(cs_pull_ahead *a);

/* One page of the run's calendar, read in the calling thread. */
int cs_pull_fetch(cs_pull_run *run, const char *sync_token, const char *page_token,
		  cs_page *page, cs_err *err);

#endif
