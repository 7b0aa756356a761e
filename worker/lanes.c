/* lanes.c - the queue between the reader, the slots and the finisher (see lanes.h). */
#include "lanes.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banned.h"

int cs_lanes_init(cs_lanes *l)
{
	pthread_condattr_t ca;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->work, &ca);
	pthread_cond_init(&l->room, &ca);
	pthread_cond_init(&l->ended_cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static void free_group(cs_joblist *g)
{
	cs_joblist_release(g);
	free(g);
}

void cs_lanes_destroy(cs_lanes *l)
{
	for (int k = 0; k < 2; k++) {
		for (int i = l->lane[k].head; i < l->lane[k].n; i++)
			free_group(l->lane[k].items[i]);
		free(l->lane[k].items);
	}
	cs_joblist_release(&l->ended);
	free(l->in_hand.items);   /* the jobs themselves are in the lanes or were freed */
	pthread_cond_destroy(&l->work);
	pthread_cond_destroy(&l->room);
	pthread_cond_destroy(&l->ended_cv);
	pthread_mutex_destroy(&l->mu);
}

static int lane_push(cs_lane *q, cs_joblist *g)
{
	if (q->head > 0 && q->head == q->n)
		q->head = q->n = 0;
	if (q->n == q->cap) {
		int cap = q->cap ? q->cap * 2 : 64;
		cs_joblist **items = realloc(q->items, sizeof(*items) * (size_t)cap);

		if (!items)
			return -1;
		q->items = items;
		q->cap = cap;
	}
	q->items[q->n++] = g;
	return 0;
}

static int queued(const cs_lanes *l)
{
	return l->lane[0].n - l->lane[0].head + l->lane[1].n - l->lane[1].head;
}

int cs_lanes_put(cs_lanes *l, cs_joblist *group, bool interactive)
{
	int rc;

	pthread_mutex_lock(&l->mu);
	rc = lane_push(&l->lane[interactive ? 0 : 1], group);
	if (rc == 0)
		pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static bool held(const cs_lanes *l, const cs_job *job)
{
	for (int i = 0; i < l->in_hand.n; i++)
		if (l->in_hand.items[i]->stream == job->stream &&
		    strcmp(l->in_hand.items[i]->entry_id, job->entry_id) == 0)
			return true;
	return false;
}

int cs_lanes_hold(cs_lanes *l, cs_joblist *jobs, bool taken_over)
{
	int rc = 0, k = 0;

	pthread_mutex_lock(&l->mu);
	for (int i = 0; i < jobs->n; i++) {
		cs_job *job = jobs->items[i];

		if ((taken_over && held(l, job)) || rc ||
		    (rc = cs_joblist_push(&l->in_hand, job)) != 0) {
			cs_job_release(job);
			free(job);
			continue;
		}
		job->hand_ix = l->in_hand.n;
		jobs->items[k++] = job;
	}
	jobs->n = k;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void cs_lanes_forget(cs_lanes *l, const cs_joblist *jobs)
{
	pthread_mutex_lock(&l->mu);
	for (int i = 0; i < jobs->n; i++) {
		cs_job *job = jobs->items[i];
		cs_job *last;

		if (!job || !job->hand_ix)
			continue;
		last = l->in_hand.items[--l->in_hand.n];
		l->in_hand.items[job->hand_ix - 1] = last;
		last->hand_ix = job->hand_ix;
		job->hand_ix = 0;
	}
	pthread_mutex_unlock(&l->mu);
}

void cs_lanes_load(cs_lanes *l, int *nqueued, int *idle, int *in_hand)
{
	pthread_mutex_lock(&l->mu);
	*nqueued = queued(l);
	*idle = l->idle;
	*in_hand = l->in_hand.n;
	pthread_mutex_unlock(&l->mu);
}

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void cs_lanes_wait_room(cs_lanes *l, long ms)
{
	struct timespec until;

	deadline_in(&until, ms);
	pthread_mutex_lock(&l->mu);
	if (l->idle <= queued(l))
		pthread_cond_timedwait(&l->room, &l->mu, &until);
	pthread_mutex_unlock(&l->mu);
}

cs_joblist *cs_lanes_take(cs_lanes *l)
{
	cs_joblist *g = NULL;

	pthread_mutex_lock(&l->mu);
	l->idle++;
	pthread_cond_signal(&l->room);
	while (queued(l) == 0 && !l->closed)
		pthread_cond_wait(&l->work, &l->mu);
	l->idle--;
	for (int k = 0; k < 2 && !g; k++)
		if (l->lane[k].head < l->lane[k].n)
			g = l->lane[k].items[l->lane[k].head++];
	pthread_mutex_unlock(&l->mu);
	return g;
}

int cs_lanes_ended(cs_lanes *l, cs_joblist *group)
{
	bool was_empty;
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	was_empty = l->ended.n == 0;

	for (int i = 0; i < group->n && rc == 0; i++) {
		rc = cs_joblist_push(&l->ended, group->items[i]);
		if (rc == 0)
			group->items[i] = NULL;
	}
	if (was_empty)   /* the finisher sleeps only on an empty list */
		pthread_cond_signal(&l->ended_cv);
	pthread_mutex_unlock(&l->mu);
	if (rc) {  /* out of memory: what was not handed over stays pending in Redis */
		for (int i = 0; i < group->n; i++)
			if (group->items[i]) {
				cs_job_release(group->items[i]);
				free(group->items[i]);
			}
	}
	group->n = 0;
	free_group(group);
	return rc;
}

void cs_lanes_take_ended(cs_lanes *l, cs_joblist *out, long ms, bool *done)
{
	struct timespec until;
	int kept = 0;

	deadline_in(&until, ms);
	pthread_mutex_lock(&l->mu);
	if (l->ended.n == 0 && l->slots > 0)
		pthread_cond_timedwait(&l->ended_cv, &l->mu, &until);
	/* what does not fit (out of memory) stays for the next call */
	for (int i = 0; i < l->ended.n; i++)
		if (cs_joblist_push(out, l->ended.items[i]) == 0)
			l->ended.items[i] = NULL;
		else
			l->ended.items[kept++] = l->ended.items[i];
	l->ended.n = kept;
	*done = l->slots == 0 && l->ended.n == 0;
	pthread_mutex_unlock(&l->mu);
}

void cs_lanes_close(cs_lanes *l)
{
	pthread_mutex_lock(&l->mu);
	l->closed = true;
	pthread_cond_broadcast(&l->work);
	pthread_mutex_unlock(&l->mu);
}

void cs_lanes_slot_gone(cs_lanes *l)
{
	pthread_mutex_lock(&l->mu);
	l->slots--;
	pthread_cond_signal(&l->ended_cv);
	pthread_mutex_unlock(&l->mu);
}
