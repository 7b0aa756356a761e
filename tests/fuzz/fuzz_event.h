/*
 * fuzz_event.h - the invariant of every provider answer mapped into a
 * cs_event, shared by the provider fuzz targets: every text is valid
 * UTF-8, and an item is either mapped (it has an id) or marked bad.
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

#endif
