/*
 * fuzz_ical.c - iCalendar resources into cs_events and back
 * (providers/ical.h), as a phone or another client might write them.
 * Invariants: reading never fails but out of memory; every event is
 * either bad (with a reason) or has an id, a start and an end that is not
 * before it, all texts valid UTF-8; an override names its series and
 * occurrence. Merging an event into its own resource either fails with a
 * readable message or gives a resource that reads back to an event of the
 * same id with the same times; never a crash or a leak.
 */
#include <stdint.h>

#include "fuzz.h"
#include "ical.h"

#define URL "https://p01-caldav.example.com/1/calendars/home/ev.ics"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void check(const cs_event *ev)
{
	const char *texts[] = {ev->id, ev->title, ev->description, ev->location, ev->start,
			       ev->end, ev->timezone, ev->recurrence, ev->series_id,
			       ev->original_start, ev->status, ev->hub_id, ev->written, ev->bad};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		FUZZ_ASSERT(fuzz_text_ok(texts[i]));
	for (size_t i = 0; i < ev->nattendees; i++)
		FUZZ_ASSERT(fuzz_text_ok(ev->attendees[i]));
	FUZZ_ASSERT(ev->id);
	if (ev->bad)
		return;
	FUZZ_ASSERT(ev->start && ev->end && strcmp(ev->start, ev->end) <= 0);
	FUZZ_ASSERT(!ev->series_id || ev->original_start);
}

static void round_trip(const cs_event *ev)
{
	cs_page back = {0};
	cs_err err = {0};
	char *text = NULL;

	if (cs_ical_merge(ev->raw, NULL, ev, ev->hub_id, &text, &err)) {
		FUZZ_ASSERT(err.code != CS_OK && fuzz_text_ok(err.msg));
		return;
	}
	FUZZ_ASSERT(cs_ical_to_events(text, URL, "\"2\"", &back, &err) == 0);
	for (size_t i = 0; i < back.n; i++) {
		check(&back.items[i]);
		if (!back.items[i].bad && !ev->cancelled && strcmp(back.items[i].id, ev->id) == 0 &&
		    ev->timezone == NULL)
			FUZZ_ASSERT(strcmp(back.items[i].start, ev->start) == 0);
	}
	cs_page_release(&back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = fuzz_strndup(data, len);
	cs_page page = {0};
	cs_err err = {0};

	FUZZ_ASSERT(cs_ical_to_events(text, URL, "\"1\"", &page, &err) == 0);
	for (size_t i = 0; i < page.n; i++) {
		check(&page.items[i]);
		if (!page.items[i].bad && i < 4)
			round_trip(&page.items[i]);
	}
	cs_page_release(&page);
	free(text);
	return 0;
}
