/*
 * pull_ahead.c - the next page of a pull read on a helper thread (see
 * pull_ahead.h). The thread carries the job's log context, reads one page
 * through the provider and ends; the pull collects it before its next use
 * of the provider.
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

static void *read_page(void *arg)
{
	cs_pull_ahead *a = arg;

	cs_log_context(a->run->job->job_id, a->run->cal->id);
	a->rc = cs_pull_fetch(a->run, a->sync_token, a->page_token, &a->page, &a->err);
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
	if (a->page_token && pthread_create(&a->thread, NULL, read_page, a) == 0) {
		a->running = true;
		return true;
	}
	free(a->page_token);
	a->page_token = NULL;
	return false;
}

void cs_pull_ahead_wait(cs_pull_ahead *a)
{
	if (!a->running)
		return;
	pthread_join(a->thread, NULL);
	a->running = false;
	a->ready = true;
	free(a->page_token);
	a->page_token = NULL;
}

bool cs_pull_ahead_take(cs_pull_ahead *a, cs_page *page, int *rc, cs_err *err)
{
	cs_pull_ahead_wait(a);
	if (!a->ready)
		return false;
	*page = a->page;
	*rc = a->rc;
	if (a->rc)
		*err = a->err;
	memset(&a->page, 0, sizeof(a->page));
	a->ready = false;
	return true;
}

void cs_pull_ahead_release(cs_pull_ahead *a)
{
	cs_pull_ahead_wait(a);
	if (a->ready)
		cs_page_release(&a->page);
	a->ready = false;
}
