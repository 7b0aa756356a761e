/*
 * test_google_json.c - the Google event <-> cs_event mapping
 * (providers/google_json.h): ids, all-day and timed events, offsets,
 * recurrence, overrides, cancelled items, garbage items and round trips.
 */
#include "unit.h"

#include <jansson.h>

#include "google_json.h"

static json_t *parse_json(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!j) {
		fprintf(stderr, "  bad test JSON: %s\n", jerr.text);
		exit(1);
	}
	return j;
}

/* Map text into *ev; the mapping itself must not fail. */
static void map(const char *text, cs_event *ev)
{
	json_t *j = parse_json(text);
	cs_err err;

	cs_err_clear(&err);
	CHECK(cs_google_event_from_json(j, ev, &err) == 0);
	json_decref(j);
}

static const char *dump_member(json_t *o, const char *key)
{
	static char buf[1024];
	char *s = json_dumps(json_object_get(o, key), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	snprintf(buf, sizeof(buf), "%s", s ? s : "(null)");
	free(s);
	return buf;
}

TEST(google_event_id_from_hub_uuid)
{
	char id[CS_GOOGLE_ID_BUFSZ];
	cs_err err;

	CHECK(cs_google_event_id("3F2504E0-4F89-11D3-9A0C-0305E82C3301", id, &err) == 0);
	CHECK_STR(id, "fh3f2504e04f8911d39a0c0305e82c3301");
	CHECK(strlen(id) == 34);
	CHECK(cs_google_event_id("3f2504e04f8911d39a0c0305e82c3301", id, &err) == 0);
	CHECK_STR(id, "fh3f2504e04f8911d39a0c0305e82c3301");
	/* every character is base32hex [a-v0-9] */
	for (const char *p = id; *p; p++)
		CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'v'));
	CHECK(cs_google_event_id("not-a-uuid", id, &err) == -1);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "not-a-uuid"));
	CHECK(cs_google_event_id("3f2504e04f8911d39a0c0305e82c33", id, &err) == -1);
	CHECK(cs_google_event_id("3f2504e04f8911d39a0c0305e82c330199", id, &err) == -1);
	CHECK(cs_google_event_id("3g2504e04f8911d39a0c0305e82c3301", id, &err) == -1);
	CHECK(cs_google_event_id(NULL, id, &err) == -1);
}

TEST(google_from_json_all_day)
{
	cs_event ev;

	map("{\"kind\":\"calendar#event\",\"id\":\"abc123\",\"etag\":\"\\\"7\\\"\","
	    "\"status\":\"confirmed\",\"summary\":\"Holiday\",\"description\":\"beach\","
	    "\"location\":\"Brighton\",\"start\":{\"date\":\"2026-03-29\"},"
	    "\"end\":{\"date\":\"2026-03-31\"}}", &ev);
	CHECK(ev.bad == NULL);
	CHECK_STR(ev.id, "abc123");
	CHECK_STR(ev.etag, "\"7\"");
	CHECK_STR(ev.title, "Holiday");
	CHECK_STR(ev.description, "beach");
	CHECK_STR(ev.location, "Brighton");
	CHECK(ev.all_day);
	CHECK_STR(ev.start, "2026-03-29");
	CHECK_STR(ev.end, "2026-03-31");
	CHECK(ev.timezone == NULL);
	CHECK_STR(ev.status, "confirmed");
	CHECK(!ev.cancelled && !ev.recurrence && !ev.series_id && ev.nattendees == 0);
	cs_event_release(&ev);
}

TEST(google_from_json_timed_offsets_to_utc)
{
	cs_event ev;

	map("{\"id\":\"t1\",\"etag\":\"\\\"1\\\"\",\"summary\":\"Dentist\","
	    "\"start\":{\"dateTime\":\"2026-03-29T02:30:00+01:00\",\"timeZone\":\"Europe/London\"},"
	    "\"end\":{\"dateTime\":\"2026-03-29T03:15:00.250+01:00\",\"timeZone\":\"Europe/London\"},"
	    "\"attendees\":[{\"email\":\"a@example.com\",\"responseStatus\":\"accepted\"},"
	    "{\"displayName\":\"room without mail\"},{\"email\":\"b@example.com\"}],"
	    "\"extendedProperties\":{\"private\":{\"familyhub_event_id\":"
	    "\"3f2504e0-4f89-11d3-9a0c-0305e82c3301\",\"other\":\"x\"}}}", &ev);
	CHECK(ev.bad == NULL);
	CHECK(!ev.all_day);
	CHECK_STR(ev.start, "2026-03-29T01:30:00Z");
	CHECK_STR(ev.end, "2026-03-29T02:15:00Z");
	CHECK_STR(ev.timezone, "Europe/London");
	CHECK(ev.nattendees == 2);
	CHECK_STR(ev.attendees[0], "a@example.com");
	CHECK_STR(ev.attendees[1], "b@example.com");
	CHECK_STR(ev.hub_id, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
	CHECK_STR(ev.status, "confirmed");
	cs_event_release(&ev);

	/* no timeZone (the calendar's applies): the instant still counts */
	map("{\"id\":\"t2\",\"status\":\"tentative\",\"start\":{\"dateTime\":\"2026-11-01T01:30:00-04:00\"},"
	    "\"end\":{\"dateTime\":\"2026-11-01T01:30:00-05:00\"}}", &ev);
	CHECK(ev.bad == NULL);
	CHECK_STR(ev.start, "2026-11-01T05:30:00Z");
	CHECK_STR(ev.end, "2026-11-01T06:30:00Z");
	CHECK(ev.timezone == NULL);
	CHECK_STR(ev.status, "tentative");
	cs_event_release(&ev);
}

TEST(google_from_json_recurring_with_exdates)
{
	cs_event ev;

	map("{\"id\":\"series1\",\"summary\":\"Weekly swim\","
	    "\"recurrence\":[\"RRULE:FREQ=WEEKLY;COUNT=10\","
	    "\"EXDATE;TZID=Europe/Berlin:20250310T170000\",\"EXDATE:20250317T160000Z\"],"
	    "\"start\":{\"dateTime\":\"2025-03-03T17:00:00+01:00\",\"timeZone\":\"Europe/Berlin\"},"
	    "\"end\":{\"dateTime\":\"2025-03-03T18:00:00+01:00\",\"timeZone\":\"Europe/Berlin\"}}", &ev);
	CHECK(ev.bad == NULL);
	CHECK_STR(ev.recurrence, "RRULE:FREQ=WEEKLY;COUNT=10\n"
		  "EXDATE;TZID=Europe/Berlin:20250310T170000\nEXDATE:20250317T160000Z");
	CHECK_STR(ev.start, "2025-03-03T16:00:00Z");
	CHECK_STR(ev.timezone, "Europe/Berlin");
	cs_event_release(&ev);
}

TEST(google_from_json_override)
{
	cs_event ev;

	map("{\"id\":\"series1_20250310T160000Z\",\"summary\":\"Swim (moved)\","
	    "\"recurringEventId\":\"series1\","
	    "\"originalStartTime\":{\"dateTime\":\"2025-03-10T17:00:00+01:00\",\"timeZone\":\"Europe/Berlin\"},"
	    "\"start\":{\"dateTime\":\"2025-03-10T19:00:00+01:00\",\"timeZone\":\"Europe/Berlin\"},"
	    "\"end\":{\"dateTime\":\"2025-03-10T20:00:00+01:00\",\"timeZone\":\"Europe/Berlin\"}}", &ev);
	CHECK(ev.bad == NULL);
	CHECK_STR(ev.series_id, "series1");
	CHECK_STR(ev.original_start, "2025-03-10T16:00:00Z");
	CHECK_STR(ev.start, "2025-03-10T18:00:00Z");
	cs_event_release(&ev);

	map("{\"id\":\"allday_20250310\",\"recurringEventId\":\"allday\","
	    "\"originalStartTime\":{\"date\":\"2025-03-10\"},"
	    "\"start\":{\"date\":\"2025-03-11\"},\"end\":{\"date\":\"2025-03-12\"}}", &ev);
	CHECK(ev.bad == NULL && ev.all_day);
	CHECK_STR(ev.original_start, "2025-03-10");
	cs_event_release(&ev);
}

TEST(google_from_json_cancelled_minimal)
{
	cs_event ev;

	map("{\"kind\":\"calendar#event\",\"etag\":\"\\\"9\\\"\",\"id\":\"gone1\",\"status\":\"cancelled\"}", &ev);
	CHECK(ev.bad == NULL);
	CHECK(ev.cancelled);
	CHECK_STR(ev.id, "gone1");
	CHECK_STR(ev.etag, "\"9\"");
	CHECK(ev.start == NULL && ev.series_id == NULL && ev.original_start == NULL);
	cs_event_release(&ev);

	/* one removed occurrence of a live series */
	map("{\"id\":\"series1_20250317T160000Z\",\"status\":\"cancelled\",\"recurringEventId\":\"series1\","
	    "\"originalStartTime\":{\"dateTime\":\"2025-03-17T17:00:00+01:00\",\"timeZone\":\"Europe/Berlin\"}}", &ev);
	CHECK(ev.bad == NULL && ev.cancelled);
	CHECK_STR(ev.series_id, "series1");
	CHECK_STR(ev.original_start, "2025-03-17T16:00:00Z");
	cs_event_release(&ev);
}

static void expect_bad(const char *text, const char *id, const char *why)
{
	cs_event ev;

	map(text, &ev);
	if (!ev.bad || !strstr(ev.bad, why) || (id && !strstr(ev.bad, id))) {
		fprintf(stderr, "  %s\n  -> bad = %s (wanted '%s')\n", text,
			ev.bad ? ev.bad : "(null)", why);
		exit(1);
	}
	if (id)
		CHECK_STR(ev.id, id);
	/* nothing half-mapped is left behind */
	CHECK(ev.title == NULL && ev.start == NULL && ev.end == NULL && ev.nattendees == 0);
	cs_event_release(&ev);
}

TEST(google_from_json_date_time_without_offset_is_read_in_its_zone)
{
	cs_event ev;

	/* "A time zone offset is required unless a time zone is explicitly
	 * specified in timeZone": wall time in that zone, across a DST change */
	map("{\"id\":\"w1\",\"start\":{\"dateTime\":\"2026-03-29T09:00:00\",\"timeZone\":\"Europe/London\"},"
	    "\"end\":{\"dateTime\":\"2026-03-28T23:30:00.500\",\"timeZone\":\"America/New_York\"}}", &ev);
	CHECK(ev.bad == NULL);
	CHECK_STR(ev.start, "2026-03-29T08:00:00Z");
	CHECK_STR(ev.end, "2026-03-29T03:30:00Z");
	CHECK_STR(ev.timezone, "Europe/London");
	cs_event_release(&ev);

	/* the same wall time with an offset still means that offset */
	map("{\"id\":\"w2\",\"start\":{\"dateTime\":\"2026-03-29T09:00:00Z\",\"timeZone\":\"Europe/London\"},"
	    "\"end\":{\"dateTime\":\"2026-03-29T10:00:00\",\"timeZone\":\"UTC\"}}", &ev);
	CHECK(ev.bad == NULL);
	CHECK_STR(ev.start, "2026-03-29T09:00:00Z");
	CHECK_STR(ev.end, "2026-03-29T10:00:00Z");
	cs_event_release(&ev);

	/* an unknown zone gives no reading of the wall time */
	expect_bad("{\"id\":\"w3\",\"start\":{\"dateTime\":\"2026-03-29T09:00:00\",\"timeZone\":\"Mars/Olympus\"},"
		   "\"end\":{\"dateTime\":\"2026-03-29T10:00:00Z\"}}", "w3", "Mars/Olympus");
}

TEST(google_from_json_garbage_items_are_bad_not_fatal)
{
	/* what the emulator's garbage_item fault serves */
	expect_bad("{\"id\":\"g1\",\"etag\":\"\\\"3\\\"\",\"summary\":\"x\",\"start\":\"2025-03-01\"}",
		   "g1", "start is not an object");
	expect_bad("{\"id\":\"g2\",\"start\":{\"date\":\"2025-03-01\"}}", "g2", "end is missing");
	expect_bad("{\"id\":\"g3\",\"end\":{\"date\":\"2025-03-01\"}}", "g3", "start is missing");
	expect_bad("{\"id\":\"g4\",\"start\":{\"dateTime\":\"tomorrow\"},\"end\":{\"dateTime\":\"2025-03-01T10:00:00Z\"}}",
		   "g4", "start.dateTime");
	expect_bad("{\"id\":\"g5\",\"start\":{\"dateTime\":\"2025-03-01T10:00:00\"},\"end\":{\"dateTime\":\"2025-03-01T11:00:00Z\"}}",
		   "g5", "offset");
	expect_bad("{\"id\":\"g6\",\"start\":{\"date\":\"2025-02-30\"},\"end\":{\"date\":\"2025-03-01\"}}",
		   "g6", "start.date");
	expect_bad("{\"id\":\"g7\",\"start\":{\"date\":\"2025-03-01\",\"dateTime\":\"2025-03-01T10:00:00Z\"},"
		   "\"end\":{\"date\":\"2025-03-02\"}}", "g7", "both");
	expect_bad("{\"id\":\"g8\",\"start\":{\"date\":\"2025-03-01\"},\"end\":{\"dateTime\":\"2025-03-01T10:00:00Z\"}}",
		   "g8", "not both");
	expect_bad("{\"id\":\"g9\",\"summary\":42,\"start\":{\"date\":\"2025-03-01\"},\"end\":{\"date\":\"2025-03-02\"}}",
		   "g9", "summary is not a string");
	expect_bad("{\"id\":\"g10\",\"recurrence\":\"RRULE:FREQ=DAILY\",\"start\":{\"date\":\"2025-03-01\"},"
		   "\"end\":{\"date\":\"2025-03-02\"}}", "g10", "recurrence is not an array");
	expect_bad("{\"id\":\"g11\",\"recurrence\":[\"RRULE:FREQ=DAILY\",7],\"start\":{\"date\":\"2025-03-01\"},"
		   "\"end\":{\"date\":\"2025-03-02\"}}", "g11", "recurrence[1]");
	expect_bad("{\"id\":\"g12\",\"attendees\":[\"a@example.com\"],\"start\":{\"date\":\"2025-03-01\"},"
		   "\"end\":{\"date\":\"2025-03-02\"}}", "g12", "attendees[0]");
	expect_bad("{\"id\":\"g13\",\"extendedProperties\":{\"private\":{\"familyhub_event_id\":5}},"
		   "\"start\":{\"date\":\"2025-03-01\"},\"end\":{\"date\":\"2025-03-02\"}}", "g13", "familyhub_event_id");
	expect_bad("{\"id\":\"g14\",\"start\":{},\"end\":{\"date\":\"2025-03-02\"}}", "g14", "neither");
	expect_bad("{\"id\":\"g15\",\"start\":{\"date\":20250301},\"end\":{\"date\":\"2025-03-02\"}}",
		   "g15", "start.date is not a string");
	expect_bad("{\"id\":\"g16\",\"status\":\"cancelled\",\"recurringEventId\":\"s\","
		   "\"originalStartTime\":{\"dateTime\":\"nope\"}}", "g16", "originalStartTime");
	expect_bad("{\"summary\":\"no id\",\"start\":{\"date\":\"2025-03-01\"},\"end\":{\"date\":\"2025-03-02\"}}",
		   NULL, "no id");
	expect_bad("{\"id\":17}", NULL, "id is not a string");
	expect_bad("[1,2]", NULL, "not a JSON object");
	expect_bad("\"just a string\"", NULL, "not a JSON object");
}

TEST(google_to_json_shapes)
{
	char *attendees[] = {"a@example.com", "b@example.com"};
	cs_event ev = {0};
	json_t *j;
	cs_err err;

	/* all-day */
	ev.title = "Holiday";
	ev.all_day = true;
	ev.start = "2026-03-29";
	ev.end = "2026-03-30";
	ev.timezone = "Europe/London";   /* ignored for dates */
	j = cs_google_event_to_json(&ev, "3f2504e0-4f89-11d3-9a0c-0305e82c3301", &err);
	CHECK(j);
	CHECK_STR(dump_member(j, "start"), "{\"date\":\"2026-03-29\"}");
	CHECK_STR(dump_member(j, "end"), "{\"date\":\"2026-03-30\"}");
	CHECK_STR(dump_member(j, "summary"), "\"Holiday\"");
	CHECK_STR(dump_member(j, "status"), "\"confirmed\"");
	CHECK_STR(dump_member(j, "extendedProperties"),
		  "{\"private\":{\"familyhub_event_id\":\"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"}}");
	CHECK(!json_object_get(j, "id") && !json_object_get(j, "description") &&
	      !json_object_get(j, "recurrence") && !json_object_get(j, "attendees"));
	json_decref(j);

	/* timed, given with an offset: sent in UTC with the zone */
	ev.all_day = false;
	ev.start = "2026-03-29T02:30:00+01:00";
	ev.end = "2026-03-29T03:30:00+01:00";
	ev.attendees = attendees;
	ev.nattendees = 2;
	ev.status = "tentative";
	j = cs_google_event_to_json(&ev, NULL, &err);
	CHECK(j);
	CHECK_STR(dump_member(j, "start"),
		  "{\"dateTime\":\"2026-03-29T01:30:00Z\",\"timeZone\":\"Europe/London\"}");
	CHECK_STR(dump_member(j, "attendees"),
		  "[{\"email\":\"a@example.com\"},{\"email\":\"b@example.com\"}]");
	CHECK_STR(dump_member(j, "status"), "\"tentative\"");
	CHECK(!json_object_get(j, "extendedProperties"));
	json_decref(j);

	/* timed without a zone: no timeZone, unless it recurs */
	ev.timezone = NULL;
	ev.nattendees = 0;
	j = cs_google_event_to_json(&ev, NULL, &err);
	CHECK_STR(dump_member(j, "start"), "{\"dateTime\":\"2026-03-29T01:30:00Z\"}");
	json_decref(j);
	ev.recurrence = "RRULE:FREQ=DAILY;COUNT=3\r\nEXDATE:20260330T013000Z\n\n";
	j = cs_google_event_to_json(&ev, NULL, &err);
	CHECK_STR(dump_member(j, "start"), "{\"dateTime\":\"2026-03-29T01:30:00Z\",\"timeZone\":\"UTC\"}");
	CHECK_STR(dump_member(j, "recurrence"),
		  "[\"RRULE:FREQ=DAILY;COUNT=3\",\"EXDATE:20260330T013000Z\"]");
	json_decref(j);

	/* an override of one occurrence */
	ev.recurrence = NULL;
	ev.timezone = "America/New_York";
	ev.series_id = "series1";
	ev.original_start = "2026-11-01T01:30:00-04:00";
	j = cs_google_event_to_json(&ev, NULL, &err);
	CHECK_STR(dump_member(j, "recurringEventId"), "\"series1\"");
	CHECK_STR(dump_member(j, "originalStartTime"),
		  "{\"dateTime\":\"2026-11-01T05:30:00Z\",\"timeZone\":\"America/New_York\"}");
	json_decref(j);

	/* a cancelled occurrence */
	ev.cancelled = true;
	j = cs_google_event_to_json(&ev, NULL, &err);
	CHECK_STR(dump_member(j, "status"), "\"cancelled\"");
	json_decref(j);
}

TEST(google_to_json_refuses_incomplete_events)
{
	cs_event ev = {0};
	cs_err err;

	ev.end = "2026-03-29T03:30:00Z";
	CHECK(cs_google_event_to_json(&ev, NULL, &err) == NULL);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "start is missing"));
	ev.start = "2026-03-29 02:30";
	CHECK(cs_google_event_to_json(&ev, NULL, &err) == NULL);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "event start"));
	ev.all_day = true;
	ev.start = "2026-02-30";
	ev.end = "2026-03-01";
	CHECK(cs_google_event_to_json(&ev, NULL, &err) == NULL);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "2026-02-30"));
	ev.start = "2026-02-28";
	ev.series_id = "s";    /* an override needs its original start */
	CHECK(cs_google_event_to_json(&ev, NULL, &err) == NULL);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "original start"));
	ev.series_id = NULL;
	ev.title = "\xff\xfe bad utf-8";
	CHECK(cs_google_event_to_json(&ev, NULL, &err) == NULL);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "UTF-8"));
}

/* ev -> Google JSON -> (as Google answers it) -> cs_event keeps every field */
static void round_trip(const cs_event *ev, const char *hub_id)
{
	cs_event back;
	json_t *j;
	cs_err err;

	j = cs_google_event_to_json(ev, hub_id, &err);
	CHECK(j);
	json_object_set_new(j, "id", json_string("fhround"));
	json_object_set_new(j, "etag", json_string("\"1\""));
	CHECK(cs_google_event_from_json(j, &back, &err) == 0);
	json_decref(j);
	CHECK(back.bad == NULL);
	CHECK_STR(back.id, "fhround");
	CHECK(back.all_day == ev->all_day && back.cancelled == ev->cancelled);
	CHECK_STR(back.title, ev->title);
	CHECK_STR(back.start, ev->start);
	CHECK_STR(back.end, ev->end);
	if (ev->timezone)
		CHECK_STR(back.timezone, ev->timezone);
	if (ev->recurrence)
		CHECK_STR(back.recurrence, ev->recurrence);
	if (ev->series_id) {
		CHECK_STR(back.series_id, ev->series_id);
		CHECK_STR(back.original_start, ev->original_start);
	}
	CHECK(back.nattendees == ev->nattendees);
	for (size_t i = 0; i < ev->nattendees; i++)
		CHECK_STR(back.attendees[i], ev->attendees[i]);
	CHECK_STR(back.hub_id, hub_id);
	cs_event_release(&back);
}

TEST(google_round_trip)
{
	char *attendees[] = {"kid@example.com"};
	cs_event ev = {0};

	ev.title = "Swim";
	ev.description = "lane 3";
	ev.start = "2026-10-25T00:30:00Z";
	ev.end = "2026-10-25T01:30:00Z";
	ev.timezone = "Europe/London";
	ev.recurrence = "RRULE:FREQ=WEEKLY;BYDAY=SU\nEXDATE;TZID=Europe/London:20261101T003000";
	ev.attendees = attendees;
	ev.nattendees = 1;
	ev.status = "confirmed";
	round_trip(&ev, "11111111-2222-3333-4444-555555555555");

	ev.recurrence = NULL;
	ev.series_id = "fhseries";
	ev.original_start = "2026-11-01T01:30:00Z";
	round_trip(&ev, "11111111-2222-3333-4444-666666666666");

	memset(&ev, 0, sizeof(ev));
	ev.title = "Birthday";
	ev.all_day = true;
	ev.start = "2026-02-28";
	ev.end = "2026-03-01";
	ev.recurrence = "RRULE:FREQ=YEARLY";
	round_trip(&ev, "11111111-2222-3333-4444-777777777777");
}

TEST(google_patch_clears_what_the_event_lacks)
{
	cs_event ev = {0};
	cs_err err;
	json_t *j;

	ev.title = "Violin";
	ev.start = "2026-12-19T10:00:00Z";
	ev.end = "2026-12-19T11:00:00Z";
	ev.timezone = "Europe/London";
	j = cs_google_event_to_json(&ev, NULL, &err);
	CHECK(j && cs_google_patch_clears(j, &ev, &err) == 0);
	CHECK_STR(json_string_value(json_object_get(j, "summary")), "Violin");
	CHECK(json_is_null(json_object_get(j, "location")));
	CHECK(json_is_null(json_object_get(j, "description")));
	CHECK(json_is_null(json_object_get(j, "recurrence")));
	CHECK(json_is_array(json_object_get(j, "attendees")) &&
	      json_array_size(json_object_get(j, "attendees")) == 0);
	CHECK(!json_object_get(j, "colorId") && !json_object_get(j, "reminders"));
	json_decref(j);
}

TEST(google_keep_attendees_keeps_responses_of_who_stays)
{
	char *attendees[] = {"Ann@example.com", "new@example.com"};
	cs_event ev = {0};
	json_t *j, *remote;
	cs_err err;

	ev.title = "Dinner";
	ev.start = "2026-12-19T18:00:00Z";
	ev.end = "2026-12-19T20:00:00Z";
	ev.attendees = attendees;
	ev.nattendees = 2;
	remote = parse_json("[{\"email\":\"ann@example.com\",\"responseStatus\":\"accepted\","
			    "\"displayName\":\"Ann\"},"
			    "{\"email\":\"gone@example.com\",\"responseStatus\":\"declined\"}]");
	j = cs_google_event_to_json(&ev, NULL, &err);
	CHECK(j && cs_google_keep_attendees(j, remote, &err) == 0);
	CHECK_STR(dump_member(j, "attendees"),
		  "[{\"displayName\":\"Ann\",\"email\":\"ann@example.com\","
		  "\"responseStatus\":\"accepted\"},{\"email\":\"new@example.com\"}]");
	/* nothing stored remotely: the addresses go as they are */
	CHECK(cs_google_keep_attendees(j, NULL, &err) == 0);
	CHECK(json_array_size(json_object_get(j, "attendees")) == 2);
	json_decref(remote);
	json_decref(j);
}

TEST(google_written_stamp_round_trips_in_private_properties)
{
	cs_event ev = {.title = "Swim", .start = "2026-12-14T17:00:00Z", .end = "2026-12-14T18:00:00Z",
		       .timezone = "Europe/London", .written = "fp-of-what-calsync-wrote"};
	cs_event back = {0};
	cs_err err;
	json_t *j = cs_google_event_to_json(&ev, NULL, &err);

	CHECK(j);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(
			  j, "extendedProperties"), "private"), CS_GOOGLE_WRITTEN_KEY)),
		  "fp-of-what-calsync-wrote");
	CHECK(!json_object_get(json_object_get(json_object_get(j, "extendedProperties"),
					       "private"), CS_GOOGLE_HUB_KEY));
	json_object_set_new(j, "id", json_string("e1"));
	json_object_set_new(j, "status", json_string("confirmed"));
	CHECK(cs_google_event_from_json(j, &back, &err) == 0 && !back.bad);
	CHECK_STR(back.written, "fp-of-what-calsync-wrote");
	cs_event_release(&back);
	json_decref(j);
}
