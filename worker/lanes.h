/*
 * lanes.h - the worker process's in-process queue: groups of jobs read
 * and locked by the reader wait here for a free slot, interactive ones
 * before background ones; jobs that ended wait for the finisher.
 *
 * Every function but cs_lanes_init/destroy takes the lanes' mutex itself.
 * Ownership: a group (cs_joblist, fetch.h) put in belongs to the lanes
 * until a slot takes it out; an ended job moved to the finisher belongs
 * to it; cs_lanes_destroy() frees whatever is still inside.
 */
#ifndef CS_LANES_H
#define CS_LANES_H

#include <pthread.h>
#include <stdbool.h>

#include "fetch.h"

typedef struct cs_lane {
	cs_joblist **items;
	int head, n, cap;
} cs_lane;

typedef struct cs_lanes {
	pthread_mutex_t mu;
	pthread_cond_t work;      /* a group came, or the pool stops */
	pthread_cond_t room;      /* a slot became idle */
	pthread_cond_t ended_cv;  /* a job ended */
	cs_lane lane[2];          /* 0 interactive, 1 background */
	cs_joblist ended;         /* ended jobs, not yet ended in Redis */
	cs_joblist in_hand;       /* every job queued, running or ended, until the finisher frees it */
	int idle;                 /* slots waiting for a group */
	int slots;                /* slot threads still running */
	bool closed;              /* the reader stopped: slots leave once the lanes are empty */
} cs_lanes;

int cs_lanes_init(cs_lanes *l);
void cs_lanes_destroy(cs_lanes *l);

/* Queue a group (interactive: its first job came from the interactive stream). */
int cs_lanes_put(cs_lanes *l, cs_joblist *group, bool interactive);

/*
 * Count freshly read jobs as in hand. taken_over (entries read again or
 * taken over, not new ones): first remove those already in hand - the
 * same stream entry, a job of ours whose idle time ran out. -1 when out
 * of memory (the rest stays pending).
 */
int cs_lanes_hold(cs_lanes *l, cs_joblist *jobs, bool taken_over);
/* The finisher is done with these jobs: no longer in hand. */
void cs_lanes_forget(cs_lanes *l, const cs_joblist *jobs);

/* Groups waiting, slots idle, and jobs in hand (queued, running, or ended but not yet in Redis). */
void cs_lanes_load(cs_lanes *l, int *queued, int *idle, int *in_hand);

/* Wait up to ms for a slot to become idle (a reader with nothing to do). */
void cs_lanes_wait_room(cs_lanes *l, long ms);

/* A slot: the next group, waiting for one; NULL when closed and empty. */
cs_joblist *cs_lanes_take(cs_lanes *l);

/* Hand the jobs of a run group to the finisher; frees the group itself. */
int cs_lanes_ended(cs_lanes *l, cs_joblist *group);

/*
 * The finisher: move every ended job into out, waiting up to ms for one.
 * *done is set once the slots are gone and nothing is left.
 */
void cs_lanes_take_ended(cs_lanes *l, cs_joblist *out, long ms, bool *done);

/* The reader is done: no more groups come; slots leave when the lanes are empty. */
void cs_lanes_close(cs_lanes *l);
/* A slot thread ends. */
void cs_lanes_slot_gone(cs_lanes *l);

#endif
