/*
 * pull_lane.h - a page of a pull applied on the worker's second
 * PostgreSQL connection by a helper thread (pull_lane.c), while the pull
 * applies the next page on its own connection: PostgreSQL works on two
 * pages at once.
 *
 * Order is kept: the lane is handed page N only when every page before N
 * has committed, and the pull commits page N+1 only after the lane has
 * ended (cs_pull_lane_wait). Both transactions check the fence and store
 * the token that follows their page at their end, so a crash at any
 * point leaves the stored token at the last page committed in order.
 *
 * The two pages must not touch the same rows: the pull applies a page
 * next to the lane's only when no remote id or Hub id occurs in both and
 * none of its overrides belongs to a series on the lane's page
 * (cs_pull_lane_shares); otherwise it waits for the lane first. As a
 * backstop against a lock wait nobody foresaw (the lane waiting for the
 * pull, the pull waiting for the lane), the lane's transaction gives up
 * on a lock after LANE_LOCK_TIMEOUT and the pull fails retryably; a retry
 * applies its pages one at a time (run->single), and so does a pull whose
 * second connection cannot be opened.
 *
 * The lane never calls the provider and never stores credentials: the
 * pull's own commits do. Its counts are added to the pull's by
 * cs_pull_lane_wait().
 *
 * Ownership: the cs_pull_lane is the caller's (on its stack, zeroed);
 * cs_pull_lane_start() takes the page; cs_pull_lane_wait() ends the lane
 * and frees the page; call it before the lane goes out of scope.
 */
#ifndef CS_PULL_LANE_H
#define CS_PULL_LANE_H

#include <pthread.h>

#include "pull_page.h"

typedef struct cs_pull_lane {
	pthread_t thread;
	bool running;
	cs_worker w;            /* the pull's worker, on the second connection */
	cs_job job;             /* the pull's job, with counts of its own */
	cs_pull_run run;        /* the pull's run, with counts of its own */
	cs_page page;
	json_t *keys;           /* the page's remote and Hub ids */
	int bad_before;         /* the pull's unreadable items before this page */
	int rc;
	cs_err err;
} cs_pull_lane;

/*
 * Apply page (taken: *page is emptied) on a helper thread; false: apply
 * it yourself (run->single, or the second connection cannot be opened:
 * run->single is then set).
 */
bool cs_pull_lane_start(cs_pull_lane *l, cs_pull_run *run, cs_page *page);

/*
 * true when the lane holds a page that shares a remote or Hub id with
 * page, or the series of one of page's overrides.
 */
bool cs_pull_lane_shares(const cs_pull_lane *l, const cs_page *page);

/*
 * Wait until the lane ended (at once when it holds nothing); its counts
 * go to run. -1 with the lane's error when its page did not commit.
 */
int cs_pull_lane_wait(cs_pull_lane *l, cs_pull_run *run, cs_err *err);

#endif
