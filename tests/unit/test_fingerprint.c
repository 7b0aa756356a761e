/* test_fingerprint.c - what changes an event's fingerprint and what does not. */
#include "unit.h"

#include "fingerprint.h"

static cs_event sample(void)
{
	static char *att[] = {"Bob@example.com", "alice@example.com"};
	cs_event ev = {0};

	ev.title = "Dentist";
	ev.start = "2026-03-29T00:30:00Z";
	ev.end = "2026-03-29T01:30:00Z";
	ev.timezone = "Europe/London";
	ev.recurrence = "RRULE:FREQ=WEEKLY\nEXDATE:20260405T003000Z";
	ev.attendees = att;
	ev.nattendees = 2;
	return ev;
}

TEST(fingerprint_ignores_ids_order_and_empties)
{
	static char *att[] = {"ALICE@example.com", "bob@example.com"};
	cs_event a = sample(), b = sample();
	char fa[65], fb[65];

	b.id = "remote-1";
	b.etag = "\"42\"";
	b.hub_id = "x";
	b.description = "";
	b.status = "confirmed";
	b.attendees = att;
	b.recurrence = "  RRULE:FREQ=WEEKLY \n\nEXDATE:20260405T003000Z\n";
	cs_fingerprint(&a, fa);
	cs_fingerprint(&b, fb);
	CHECK_STR(fa, fb);
	CHECK(strlen(fa) == 64);
}

TEST(fingerprint_sees_every_content_change)
{
	cs_event base = sample(), ev;
	char f0[65], f1[65];

	cs_fingerprint(&base, f0);
	ev = base; ev.title = "Dentist!"; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
	ev = base; ev.start = "2026-03-29T01:30:00Z"; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
	ev = base; ev.timezone = "America/New_York"; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
	ev = base; ev.recurrence = "RRULE:FREQ=WEEKLY"; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
	ev = base; ev.cancelled = true; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
	ev = base; ev.nattendees = 1; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
	ev = base; ev.location = "Main St"; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
	/* moving text between fields is a change too */
	ev = base; ev.title = "Dent"; ev.description = "ist"; cs_fingerprint(&ev, f1); CHECK(strcmp(f0, f1) != 0);
}

TEST(fingerprint_all_day_has_no_zone)
{
	cs_event a = {0}, b;
	char fa[65], fb[65];

	a.title = "Holiday";
	a.all_day = true;
	a.start = "2026-12-24";
	a.end = "2026-12-27";
	b = a;
	b.timezone = "Europe/Paris";
	cs_fingerprint(&a, fa);
	cs_fingerprint(&b, fb);
	CHECK_STR(fa, fb);
}
