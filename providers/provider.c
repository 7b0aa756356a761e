/*
 * provider.c - the registry of providers and the memory helpers of the
 * provider-neutral structs (see provider.h). The production programs know
 * only the providers listed here; test builds add theirs (cs_provider_add).
 */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

#define MAX_ADDED 4

extern const struct cs_provider_ops cs_google_provider;
extern const struct cs_provider_ops cs_graph_provider;
extern const struct cs_provider_ops cs_caldav_provider;
extern const struct cs_provider_ops cs_icloud_provider;

static const struct cs_provider_ops *const registry[] = {
	&cs_google_provider,
	&cs_graph_provider,
	&cs_caldav_provider,
	&cs_icloud_provider,
};
static const struct cs_provider_ops *added[MAX_ADDED];
static size_t nadded;

int cs_provider_add(const struct cs_provider_ops *ops, cs_err *err)
{
	if (nadded == MAX_ADDED)
		return cs_err_set(err, CS_ENOMEM, false, "more than %d providers added", MAX_ADDED);
	added[nadded++] = ops;
	return 0;
}

const struct cs_provider_ops *cs_provider_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	for (size_t i = 0; i < nadded; i++)
		if (strcmp(added[i]->name, name) == 0)
			return added[i];
	return NULL;
}

/* Append the name of ops to out (a "{a,b}" list) when it pushes notifications. */
static void add_push_name(const struct cs_provider_ops *ops, char *out, size_t n)
{
	size_t len = strlen(out);

	if (ops->watch && len + strlen(ops->name) + 2 < n)
		snprintf(out + len, n - len, "%s%s", len > 1 ? "," : "", ops->name);
}

void cs_provider_push_names(char *out, size_t n)
{
	snprintf(out, n, "{");
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		add_push_name(registry[i], out, n);
	for (size_t i = 0; i < nadded; i++)
		add_push_name(added[i], out, n);
	snprintf(out + strlen(out), n - strlen(out), "}");
}

void cs_event_release(cs_event *ev)
{
	char **strs[] = {&ev->id, &ev->etag, &ev->title, &ev->description,
			 &ev->location, &ev->start, &ev->end, &ev->timezone,
			 &ev->recurrence, &ev->series_id, &ev->original_start,
			 &ev->status, &ev->hub_id, &ev->bad, &ev->raw, &ev->written};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	for (size_t i = 0; i < ev->nattendees; i++)
		free(ev->attendees[i]);
	free(ev->attendees);
	memset(ev, 0, sizeof(*ev));
}

static int dup_str(char **dst, const char *src, cs_err *err)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

int cs_event_copy(cs_event *dst, const cs_event *src, cs_err *err)
{
	char **d[] = {&dst->id, &dst->etag, &dst->title, &dst->description,
		      &dst->location, &dst->start, &dst->end, &dst->timezone,
		      &dst->recurrence, &dst->series_id, &dst->original_start,
		      &dst->status, &dst->hub_id, &dst->bad, &dst->raw, &dst->written};
	const char *s[] = {src->id, src->etag, src->title, src->description,
			   src->location, src->start, src->end, src->timezone,
			   src->recurrence, src->series_id, src->original_start,
			   src->status, src->hub_id, src->bad, src->raw, src->written};

	memset(dst, 0, sizeof(*dst));
	dst->all_day = src->all_day;
	dst->cancelled = src->cancelled;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (dup_str(d[i], s[i], err))
			goto fail;
	if (src->nattendees) {
		dst->attendees = calloc(src->nattendees, sizeof(char *));
		if (!dst->attendees)
			goto oom;
		for (; dst->nattendees < src->nattendees; dst->nattendees++)
			if (dup_str(&dst->attendees[dst->nattendees],
				    src->attendees[dst->nattendees], err))
				goto fail;
	}
	return 0;
oom:
	cs_err_set(err, CS_ENOMEM, false, "out of memory");
fail:
	cs_event_release(dst);
	return -1;
}

cs_event *cs_page_add(cs_page *page, cs_err *err)
{
	if (page->n == page->cap) {
		size_t cap = page->cap ? page->cap * 2 : 64;
		cs_event *items = realloc(page->items, cap * sizeof(*items));

		if (!items) {
			cs_err_set(err, CS_ENOMEM, false, "out of memory");
			return NULL;
		}
		page->items = items;
		page->cap = cap;
	}
	memset(&page->items[page->n], 0, sizeof(cs_event));
	return &page->items[page->n++];
}

void cs_page_release(cs_page *page)
{
	for (size_t i = 0; i < page->n; i++)
		cs_event_release(&page->items[i]);
	free(page->items);
	free(page->next_page);
	free(page->sync_token);
	memset(page, 0, sizeof(*page));
}

void cs_calendar_list_release(cs_calendar_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].id);
		free(list->items[i].name);
		free(list->items[i].color);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

cs_calendar_info *cs_calendar_list_add(cs_calendar_list *list, size_t *cap, cs_err *err)
{
	if (list->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		cs_calendar_info *items = realloc(list->items, ncap * sizeof(*items));

		if (!items) {
			cs_err_set(err, CS_ENOMEM, false, "out of memory");
			return NULL;
		}
		list->items = items;
		*cap = ncap;
	}
	memset(&list->items[list->n], 0, sizeof(cs_calendar_info));
	return &list->items[list->n++];
}

static void free_secret(char *s)
{
	if (!s)
		return;
	memset(s, 0, strlen(s));
	free(s);
}

void cs_creds_release(cs_creds *creds)
{
	free_secret(creds->access_token);
	free_secret(creds->refresh_token);
	free_secret(creds->password);
	free(creds->username);
	free(creds->url);
	memset(creds, 0, sizeof(*creds));
}

int cs_creds_take(cs_creds *creds, const char *access, const char *refresh,
		  long long expires_at, cs_err *err)
{
	char *a = strdup(access), *r = refresh && *refresh ? strdup(refresh) : NULL;

	if (!a || (refresh && *refresh && !r)) {
		free_secret(a);
		free_secret(r);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	free_secret(creds->access_token);
	creds->access_token = a;
	if (r) {
		free_secret(creds->refresh_token);
		creds->refresh_token = r;
	}
	creds->expires_at = expires_at;
	return 0;
}

void cs_creds_refreshed(cs_creds *creds)
{
	cs_err err = {0};

	creds->changed = true;
	if (creds->store && creds->store(creds, creds->store_ctx, &err))
		cs_warn("refreshed credentials not stored yet (the next commit stores them): %s",
			err.msg);
}

void cs_watch_channel_release(cs_watch_channel *ch)
{
	free(ch->id);
	free(ch->resource_id);
	memset(ch, 0, sizeof(*ch));
}
