/*
 * test_graph_json.c - the Graph event <-> cs_event mapping
 * (providers/graph_json.h): Windows zones to exact instants, all-day
 * events, removals, exceptions, the Hub id from transactionId, cancelled
 * occurrences across DST, garbage items, and write bodies that carry only
 * what calsync owns.
 */
#include "unit.h"

#include <jansson.h>

#include "graph_json.h"
#include "graph_zones.h"

static void zones(void)
{
	cs_err err;

	CHECK(cs_graph_zones_load(CS_WINDOWS_ZONES_DEFAULT, &err) == 0);
}

static void map(const char *text, cs_event *ev)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	cs_err err;

	if (!j) {
		fprintf(stderr, "  bad test JSON: %s\n", jerr.text);
		exit(1);
	}
	CHECK(cs_graph_event_from_json(j, ev, &err) == 0);
	json_decref(j);
}

TEST(graph_event_in_a_windows_zone_maps_to_exact_instants)
{
	cs_event ev;

	zones();
	/* 01:30 on the spring-forward day in Berlin does not exist: read as 00:30Z */
	map("{\"id\":\"A1\",\"@odata.etag\":\"W/\\\"7\\\"\",\"subject\":\"Swim\","
	    "\"body\":{\"contentType\":\"text\",\"content\":\"pool\"},"
	    "\"location\":{\"displayName\":\"\"},\"isAllDay\":false,"
	    "\"start\":{\"dateTime\":\"2026-03-29T03:30:00.0000000\",\"timeZone\":\"W. Europe Standard Time\"},"
	    "\"end\":{\"dateTime\":\"2026-03-29T02:30:00.0000000\",\"timeZone\":\"UTC\"},"
	    "\"originalStartTimeZone\":\"W. Europe Standard Time\",\"showAs\":\"tentative\","
	    "\"attendees\":[{\"emailAddress\":{\"address\":\"a@example.com\",\"name\":\"A\"}},"
	    "{\"emailAddress\":{}}],\"transactionId\":\"fh3f2504e04f8911d39a0c0305e82c3301\"}", &ev);
	CHECK(ev.bad == NULL);
	CHECK_STR(ev.id, "A1");
	CHECK_STR(ev.etag, "W/\"7\"");
	CHECK_STR(ev.start, "2026-03-29T01:30:00Z");
	CHECK_STR(ev.end, "2026-03-29T02:30:00Z");
	CHECK_STR(ev.timezone, "Europe/Berlin");
	CHECK_STR(ev.description, "pool");
	CHECK(ev.location == NULL);
	CHECK_STR(ev.status, "tentative");
	CHECK(ev.nattendees == 1);
	CHECK_STR(ev.attendees[0], "a@example.com");
	CHECK_STR(ev.hub_id, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
	cs_event_release(&ev);
}

TEST(graph_all_day_removed_and_exception_items)
{
	cs_event ev;

	zones();
	map("{\"id\":\"D\",\"subject\":\"Holiday\",\"isAllDay\":true,"
	    "\"start\":{\"dateTime\":\"2026-12-21T00:00:00.0000000\",\"timeZone\":\"UTC\"},"
	    "\"end\":{\"dateTime\":\"2027-01-05T00:00:00.0000000\",\"timeZone\":\"UTC\"},"
	    "\"originalStartTimeZone\":\"GMT Standard Time\"}", &ev);
	CHECK(ev.all_day && ev.timezone == NULL);
	CHECK_STR(ev.start, "2026-12-21");
	CHECK_STR(ev.end, "2027-01-05");
	cs_event_release(&ev);
	map("{\"id\":\"R\",\"@removed\":{\"reason\":\"deleted\"}}", &ev);
	CHECK(ev.cancelled && ev.bad == NULL);
	CHECK_STR(ev.id, "R");
	cs_event_release(&ev);
	map("{\"id\":\"X\",\"type\":\"exception\",\"seriesMasterId\":\"M\","
	    "\"originalStart\":\"2026-12-08T17:00:00Z\",\"subject\":\"late\",\"isAllDay\":false,"
	    "\"start\":{\"dateTime\":\"2026-12-08T18:00:00.0000000\",\"timeZone\":\"UTC\"},"
	    "\"end\":{\"dateTime\":\"2026-12-08T19:00:00.0000000\",\"timeZone\":\"UTC\"}}", &ev);
	CHECK_STR(ev.series_id, "M");
	CHECK_STR(ev.original_start, "2026-12-08T17:00:00Z");
	cs_event_release(&ev);
}

TEST(graph_garbage_items_are_marked_bad_by_name)
{
	static const char *const items[] = {
		"{\"id\":\"G1\",\"start\":{\"dateTime\":\"soon\",\"timeZone\":\"UTC\"},"
		"\"end\":{\"dateTime\":\"2026-12-08T19:00:00\",\"timeZone\":\"UTC\"}}",
		"{\"id\":\"G2\",\"start\":{\"dateTime\":\"2026-12-08T18:00:00\",\"timeZone\":\"Mars Time\"},"
		"\"end\":{\"dateTime\":\"2026-12-08T19:00:00\",\"timeZone\":\"UTC\"}}",
		"{\"id\":\"G3\",\"subject\":7}",
		"{\"id\":\"G4\",\"isAllDay\":\"yes\"}",
		"{\"id\":\"G5\",\"start\":{\"dateTime\":\"2026-12-08T18:00:00\"},"
		"\"end\":{\"dateTime\":\"2026-12-08T19:00:00\"},\"recurrence\":{\"pattern\":{\"type\":\"hourly\"}}}",
		"{\"subject\":\"no id\"}",
	};

	zones();
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		cs_event ev;

		map(items[i], &ev);
		if (!ev.bad)
			fprintf(stderr, "  item %zu was not marked bad\n", i);
		CHECK(ev.bad != NULL && strstr(ev.bad, "Outlook event"));
		CHECK(ev.title == NULL && ev.start == NULL);
		cs_event_release(&ev);
	}
}

TEST(graph_cancelled_occurrence_keeps_the_series_wall_time_across_dst)
{
	char start[40];
	cs_err err;

	zones();
	/* a 09:00 London series from January: the occurrence on 1 July is 08:00Z */
	CHECK(cs_graph_occurrence_start("OID.AAMkM=.2026-07-01", "2026-01-07T09:00:00Z",
					"Europe/London", false, start, &err) == 0);
	CHECK_STR(start, "2026-07-01T08:00:00Z");
	CHECK(cs_graph_occurrence_start("OID.M.2026-07-01", "2026-01-07", NULL, true, start, &err) == 0);
	CHECK_STR(start, "2026-07-01");
	CHECK(cs_graph_occurrence_start("M.2026-07-01", "2026-01-07T09:00:00Z", NULL, false, start,
					&err) == -1);
	CHECK(err.code == CS_EINVAL);
}

TEST(graph_write_bodies_carry_only_what_calsync_owns)
{
	cs_event ev = {.title = "Dinner", .start = "2026-07-01T17:00:00Z", .end = "2026-07-01T19:00:00Z",
		       .timezone = "Europe/London", .status = "confirmed", .written = "fp1"};
	const char *owned[] = {"subject", "body", "location", "isAllDay", "start", "end",
			       "recurrence", "attendees", "showAs", "singleValueExtendedProperties",
			       "transactionId"};
	json_t *o, *v;
	const char *key;
	cs_err err;

	zones();
	o = cs_graph_event_to_json(&ev, "3F2504E0-4F89-11D3-9A0C-0305E82C3301", true, &err);
	CHECK(o != NULL);
	json_object_foreach(o, key, v) {
		bool known = false;

		for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
			known = known || strcmp(key, owned[i]) == 0;
		if (!known)
			fprintf(stderr, "  unexpected key %s\n", key);
		CHECK(known);
	}
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "start"), "dateTime")),
		  "2026-07-01T18:00:00");
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "start"), "timeZone")),
		  "GMT Standard Time");
	CHECK_STR(json_string_value(json_object_get(o, "transactionId")),
		  "fh3f2504e04f8911d39a0c0305e82c3301");
	CHECK(json_is_null(json_object_get(o, "recurrence")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "location"), "displayName")), "");
	CHECK(json_array_size(json_object_get(o, "singleValueExtendedProperties")) == 2);
	json_decref(o);
	/* a PATCH has no transactionId; an unexpressible rule refuses the item */
	ev.recurrence = "RRULE:FREQ=HOURLY";
	CHECK(cs_graph_event_to_json(&ev, NULL, false, &err) == NULL);
	CHECK(err.code == CS_EREFUSED && strstr(err.msg, "HOURLY"));
	ev.recurrence = NULL;
	o = cs_graph_event_to_json(&ev, NULL, false, &err);
	CHECK(o && !json_object_get(o, "transactionId"));
	json_decref(o);
	CHECK(cs_graph_event_to_json(&ev, "not-a-uuid", true, &err) == NULL);
	CHECK(err.code == CS_EINVAL);
}
