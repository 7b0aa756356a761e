/*
 * fuzz_event.h - the invariant of every provider answer mapped into a
 * cs_event, shared by the provider fuzz targets: every text is valid
 * UTF-8, and an item is either mapped (it has an id) or marked bad; and
 * the two reads every provider target drives through its ops, the
 * calendar list and a page of changes, checked against it.
 */
#ifndef FUZZ_FUZZ_EVENT_H
#define FUZZ_FUZZ_EVENT_H

#include "fuzz.h"
#include "provider.h"

static inline void fuzz_check_event(const cs_event *ev)
{
	const char *texts[] = {ev->id, ev->etag, ev->title, ev->description, ev->location,
			       ev->start, ev->end, ev->timezone, ev->recurrence, ev->series_id,
			       ev->original_start, ev->status, ev->hub_id, ev->bad, ev->written};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		FUZZ_ASSERT(fuzz_text_ok(texts[i]));
	for (size_t i = 0; i < ev->nattendees; i++)
		FUZZ_ASSERT(fuzz_text_ok(ev->attendees[i]));
	FUZZ_ASSERT(ev->bad || ev->id);
}

/* list_calendars: every text of every calendar listed is valid UTF-8. */
static inline int fuzz_list_calendars(const struct cs_provider_ops *ops, cs_provider *p,
				      cs_err *err)
{
	cs_calendar_list list = {0};
	int rc = ops->list_calendars(p, &list, err);

	for (size_t i = 0; rc == 0 && i < list.n; i++)
		FUZZ_ASSERT(fuzz_text_ok(list.items[i].id) && fuzz_text_ok(list.items[i].name) &&
			    fuzz_text_ok(list.items[i].color));
	cs_calendar_list_release(&list);
	return rc;
}

/* fetch: every item of the page holds the invariant, and so do its tokens. */
static inline int fuzz_fetch(const struct cs_provider_ops *ops, cs_provider *p, const char *cal,
			     const char *sync_token, const char *page_token, cs_err *err)
{
	cs_page page = {0};
	int rc = ops->fetch(p, cal, sync_token, page_token, &page, err);

	for (size_t i = 0; rc == 0 && i < page.n; i++)
		fuzz_check_event(&page.items[i]);
	FUZZ_ASSERT(fuzz_text_ok(page.next_page) && fuzz_text_ok(page.sync_token));
	cs_page_release(&page);
	return rc;
}

#endif
