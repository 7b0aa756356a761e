/*
 * pull_ahead.c - the pages of a pull read ahead on a helper thread (see
 * pull_ahead.h). The thread carries the job's log context, follows the
 * page tokens while no read waits to be taken, and ends after a last page,
 * a failed read, or when the pull asks it to stop.
 */
#include "pull_ahead.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

int cs_pull_fetch(cs_pull_run *run, const char *sync_token, const char *page_token,
		  cs_page *page, cs_err *err)
{
	memset(page, 0, sizeof(*page));
	return run->cal->ops->fetch(run->cal->provider, run->cal->remote_id, sync_token,
				    page_token, page, err);
}

/* Read one page into the slot (a->mu held on entry and on return). */
static void read_one(cs_pull_ahead *a)
{
	char *token = a->page_token;
	struct cs_read r = {0};
	bool changed;

	a->page_token = NULL;
	pthread_mutex_unlock(&a->mu);
	pthread_mutex_lock(&a->provider);
	r.rc = cs_pull_fetch(a->run, a->sync_token, token, &r.page, &r.err);
	changed = a->run->cal->creds.changed;
	pthread_mutex_unlock(&a->provider);
	free(token);
	pthread_mutex_lock(&a->mu);
	a->creds_changed = a->creds_changed || changed;
	if (r.rc == 0 && r.page.next_page && !(a->page_token = strdup(r.page.next_page))) {
		cs_page_release(&r.page);
		r.rc = cs_err_set(&r.err, CS_ENOMEM, true, "out of memory");
	}
	a->read = r;
	a->waiting = true;
	pthread_cond_broadcast(&a->cv);
}

static void *reader(void *arg)
{
	cs_pull_ahead *a = arg;

	cs_log_context(a->run->job->job_id, a->run->cal->id);
	pthread_mutex_lock(&a->mu);
	while (!a->stop && a->page_token) {
		if (a->waiting)
			pthread_cond_wait(&a->cv, &a->mu);
		else
			read_one(a);
	}
	a->ended = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	cs_log_context(NULL, NULL);
	return NULL;
}

bool cs_pull_ahead_start(cs_pull_ahead *a, cs_pull_run *run, const char *sync_token,
			 const char *page_token)
{
	memset(a, 0, sizeof(*a));
	a->run = run;
	a->sync_token = sync_token;
	a->page_token = strdup(page_token);
	if (!a->page_token)
		return false;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->provider, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (pthread_create(&a->thread, NULL, reader, a) != 0) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->provider);
		pthread_mutex_destroy(&a->mu);
		free(a->page_token);
		memset(a, 0, sizeof(*a));
		return false;
	}
	a->running = true;
	return true;
}

bool cs_pull_ahead_take(cs_pull_ahead *a, cs_page *page, int *rc, cs_err *err)
{
	if (!a->running)
		return false;
	pthread_mutex_lock(&a->mu);
	while (!a->waiting && !a->ended)
		pthread_cond_wait(&a->cv, &a->mu);
	if (!a->waiting) {      /* the reader ended without a read: nothing to take */
		pthread_mutex_unlock(&a->mu);
		return false;
	}
	*page = a->read.page;
	*rc = a->read.rc;
	if (a->read.rc)
		*err = a->read.err;
	memset(&a->read, 0, sizeof(a->read));
	a->waiting = false;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return true;
}

bool cs_pull_ahead_hold(cs_pull_ahead *a)
{
	bool wanted;

	if (!a->running)
		return true;
	if (pthread_mutex_trylock(&a->provider) != 0) {
		pthread_mutex_lock(&a->mu);
		wanted = a->creds_changed;
		pthread_mutex_unlock(&a->mu);
		if (!wanted)
			return false;
		pthread_mutex_lock(&a->provider);
	}
	pthread_mutex_lock(&a->mu);
	a->creds_changed = false;       /* stored now */
	pthread_mutex_unlock(&a->mu);
	return true;
}

void cs_pull_ahead_unhold(cs_pull_ahead *a)
{
	if (a->running)
		pthread_mutex_unlock(&a->provider);
}

void cs_pull_ahead_release(cs_pull_ahead *a)
{
	if (!a->running)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	if (a->waiting)
		cs_page_release(&a->read.page);
	free(a->page_token);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->provider);
	pthread_mutex_destroy(&a->mu);
	memset(a, 0, sizeof(*a));
}
