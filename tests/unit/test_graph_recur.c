/*
 * test_graph_recur.c - recurrence between RRULE and Graph's
 * {pattern, range} (providers/graph_recur.h), table-driven: every pattern
 * type, every index, firstDayOfWeek, every range type, both ways; and the
 * rules Graph cannot express, refused by name.
 */
#include "unit.h"

#include <jansson.h>

#include "graph_recur.h"
#include "graph_zones.h"

struct both_ways {
	const char *graph;   /* {pattern, range} as Graph sends it */
	const char *rrule;   /* what calsync keeps */
};

static const struct both_ways table[] = {
	{"{\"pattern\":{\"type\":\"daily\",\"interval\":1},"
	 "\"range\":{\"type\":\"noEnd\",\"startDate\":\"2026-12-01\"}}",
	 "RRULE:FREQ=DAILY"},
	{"{\"pattern\":{\"type\":\"daily\",\"interval\":3},"
	 "\"range\":{\"type\":\"numbered\",\"startDate\":\"2026-12-01\",\"numberOfOccurrences\":10}}",
	 "RRULE:FREQ=DAILY;COUNT=10;INTERVAL=3"},
	{"{\"pattern\":{\"type\":\"weekly\",\"interval\":1,\"daysOfWeek\":[\"monday\",\"wednesday\"],"
	 "\"firstDayOfWeek\":\"sunday\"},"
	 "\"range\":{\"type\":\"endDate\",\"startDate\":\"2026-12-01\",\"endDate\":\"2027-01-31\"}}",
	 "RRULE:FREQ=WEEKLY;UNTIL=20270131T235959Z;BYDAY=MO,WE;WKST=SU"},
	{"{\"pattern\":{\"type\":\"weekly\",\"interval\":2,\"daysOfWeek\":[\"friday\"],"
	 "\"firstDayOfWeek\":\"monday\"},"
	 "\"range\":{\"type\":\"noEnd\",\"startDate\":\"2026-12-04\"}}",
	 "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"},
	{"{\"pattern\":{\"type\":\"absoluteMonthly\",\"interval\":1,\"dayOfMonth\":15},"
	 "\"range\":{\"type\":\"noEnd\",\"startDate\":\"2026-12-15\"}}",
	 "RRULE:FREQ=MONTHLY;BYMONTHDAY=15"},
	{"{\"pattern\":{\"type\":\"relativeMonthly\",\"interval\":1,\"daysOfWeek\":[\"tuesday\"],"
	 "\"index\":\"first\"},\"range\":{\"type\":\"noEnd\",\"startDate\":\"2026-12-01\"}}",
	 "RRULE:FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1"},
	{"{\"pattern\":{\"type\":\"relativeMonthly\",\"interval\":1,\"daysOfWeek\":[\"tuesday\"],"
	 "\"index\":\"second\"},\"range\":{\"type\":\"noEnd\",\"startDate\":\"2026-12-08\"}}",
	 "RRULE:FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2"},
	{"{\"pattern\":{\"type\":\"relativeMonthly\",\"interval\":2,\"daysOfWeek\":[\"saturday\","
	 "\"sunday\"],\"index\":\"third\"},\"range\":{\"type\":\"noEnd\",\"startDate\":\"2026-12-12\"}}",
	 "RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=SA,SU;BYSETPOS=3"},
	{"{\"pattern\":{\"type\":\"relativeMonthly\",\"interval\":1,\"daysOfWeek\":[\"thursday\"],"
	 "\"index\":\"fourth\"},\"range\":{\"type\":\"noEnd\",\"startDate\":\"2026-12-24\"}}",
	 "RRULE:FREQ=MONTHLY;BYDAY=TH;BYSETPOS=4"},
	{"{\"pattern\":{\"type\":\"relativeMonthly\",\"interval\":1,\"daysOfWeek\":[\"friday\"],"
	 "\"index\":\"last\"},\"range\":{\"type\":\"numbered\",\"startDate\":\"2026-12-25\","
	 "\"numberOfOccurrences\":6}}",
	 "RRULE:FREQ=MONTHLY;COUNT=6;BYDAY=FR;BYSETPOS=-1"},
	{"{\"pattern\":{\"type\":\"absoluteYearly\",\"interval\":1,\"month\":3,\"dayOfMonth\":29},"
	 "\"range\":{\"type\":\"noEnd\",\"startDate\":\"2027-03-29\"}}",
	 "RRULE:FREQ=YEARLY;BYMONTHDAY=29;BYMONTH=3"},
	{"{\"pattern\":{\"type\":\"relativeYearly\",\"interval\":1,\"month\":11,"
	 "\"daysOfWeek\":[\"thursday\"],\"index\":\"fourth\"},"
	 "\"range\":{\"type\":\"endDate\",\"startDate\":\"2026-11-26\",\"endDate\":\"2030-12-31\"}}",
	 "RRULE:FREQ=YEARLY;UNTIL=20301231T235959Z;BYDAY=TH;BYMONTH=11;BYSETPOS=4"},
};

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (!j) {
		fprintf(stderr, "  bad test JSON: %s\n", jerr.text);
		exit(1);
	}
	return j;
}

/* Graph's defaults filled in, so that two objects compare by meaning. */
static char *canonical(json_t *rec)
{
	json_t *pat = json_object_get(rec, "pattern"), *range = json_object_get(rec, "range");

	if (!json_object_get(pat, "interval"))
		json_object_set_new(pat, "interval", json_integer(1));
	if (json_object_get(pat, "daysOfWeek") && !json_object_get(pat, "firstDayOfWeek") &&
	    strcmp(json_string_value(json_object_get(pat, "type")), "weekly") == 0)
		json_object_set_new(pat, "firstDayOfWeek", json_string("sunday"));
	json_object_del(range, "recurrenceTimeZone");
	return json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
}

TEST(graph_recurrence_every_pattern_and_range_both_ways)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		json_t *in = parse(table[i].graph), *back;
		const char *start = json_string_value(json_object_get(json_object_get(in, "range"),
								      "startDate"));
		char *rrule = NULL, *a, *b;
		cs_err err;

		cs_err_clear(&err);
		if (cs_graph_rrule_from_json(in, false, "UTC", &rrule, &err))
			fprintf(stderr, "  row %zu: %s\n", i, err.msg);
		CHECK(rrule != NULL);
		if (strcmp(rrule, table[i].rrule) != 0)
			fprintf(stderr, "  row %zu: got %s\n", i, rrule);
		CHECK_STR(rrule, table[i].rrule);
		back = cs_graph_rrule_to_json(rrule, start, "UTC", "UTC", &err);
		if (!back)
			fprintf(stderr, "  row %zu: %s\n", i, err.msg);
		CHECK(back != NULL);
		a = canonical(in);
		b = canonical(back);
		if (strcmp(a, b) != 0)
			fprintf(stderr, "  row %zu:\n   in   %s\n   back %s\n", i, a, b);
		CHECK_STR(a, b);
		free(a);
		free(b);
		free(rrule);
		json_decref(in);
		json_decref(back);
	}
}

TEST(graph_recurrence_rfc5545_forms_graph_reads_differently)
{
	static const struct { const char *rrule, *start, *pattern; } rows[] = {
		{"RRULE:FREQ=MONTHLY;BYDAY=2TU", "2026-12-08",
		 "{\"daysOfWeek\":[\"tuesday\"],\"index\":\"second\",\"interval\":1,"
		 "\"type\":\"relativeMonthly\"}"},
		{"RRULE:FREQ=MONTHLY;BYDAY=-1FR", "2026-12-25",
		 "{\"daysOfWeek\":[\"friday\"],\"index\":\"last\",\"interval\":1,"
		 "\"type\":\"relativeMonthly\"}"},
		{"RRULE:FREQ=MONTHLY", "2026-12-15",
		 "{\"dayOfMonth\":15,\"interval\":1,\"type\":\"absoluteMonthly\"}"},
		{"RRULE:FREQ=YEARLY", "2027-03-29",
		 "{\"dayOfMonth\":29,\"interval\":1,\"month\":3,\"type\":\"absoluteYearly\"}"},
		{"RRULE:FREQ=WEEKLY", "2026-12-02",   /* a Wednesday; RFC 5545's WKST is MO */
		 "{\"daysOfWeek\":[\"wednesday\"],\"firstDayOfWeek\":\"monday\",\"interval\":1,"
		 "\"type\":\"weekly\"}"},
		{"RRULE:FREQ=WEEKLY;BYDAY=SA;WKST=SA\nEXDATE:20261212T090000Z", "2026-12-05",
		 "{\"daysOfWeek\":[\"saturday\"],\"firstDayOfWeek\":\"saturday\",\"interval\":1,"
		 "\"type\":\"weekly\"}"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cs_err err;
		json_t *rec = cs_graph_rrule_to_json(rows[i].rrule, rows[i].start, NULL, NULL, &err);
		char *p;

		if (!rec)
			fprintf(stderr, "  row %zu: %s\n", i, err.msg);
		CHECK(rec != NULL);
		p = json_dumps(json_object_get(rec, "pattern"), JSON_COMPACT | JSON_SORT_KEYS);
		CHECK_STR(p, rows[i].pattern);
		free(p);
		json_decref(rec);
	}
}

TEST(graph_recurrence_until_is_the_local_end_date)
{
	cs_err err;
	json_t *rec, *in;
	char *rrule = NULL;

	/* 23:59:59 on 31 January in Los Angeles is 07:59:59Z on 1 February */
	in = parse("{\"pattern\":{\"type\":\"daily\"},\"range\":{\"type\":\"endDate\","
		   "\"startDate\":\"2027-01-01\",\"endDate\":\"2027-01-31\"}}");
	CHECK(cs_graph_rrule_from_json(in, false, "America/Los_Angeles", &rrule, &err) == 0);
	CHECK_STR(rrule, "RRULE:FREQ=DAILY;UNTIL=20270201T075959Z");
	rec = cs_graph_rrule_to_json(rrule, "2027-01-01", "Pacific Standard Time",
				     "America/Los_Angeles", &err);
	CHECK(rec != NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(rec, "range"), "endDate")),
		  "2027-01-31");
	CHECK_STR(json_string_value(json_object_get(json_object_get(rec, "range"),
						    "recurrenceTimeZone")), "Pacific Standard Time");
	json_decref(rec);
	free(rrule);
	/* an all-day series ends on a DATE */
	CHECK(cs_graph_rrule_from_json(in, true, NULL, &rrule, &err) == 0);
	CHECK_STR(rrule, "RRULE:FREQ=DAILY;UNTIL=20270131");
	free(rrule);
	json_decref(in);
}

TEST(graph_recurrence_inexpressible_rules_are_refused_by_name)
{
	static const struct { const char *rrule, *why; } rows[] = {
		{"RRULE:FREQ=HOURLY;INTERVAL=2", "only DAILY"},
		{"RRULE:FREQ=MINUTELY", "only DAILY"},
		{"RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15", "several or negative BYMONTHDAY"},
		{"RRULE:FREQ=MONTHLY;BYMONTHDAY=-1", "several or negative BYMONTHDAY"},
		{"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,-1", "BYSETPOS"},
		{"RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5", "BYSETPOS"},
		{"RRULE:FREQ=MONTHLY;BYDAY=1MO,3WE", "different positions"},
		{"RRULE:FREQ=MONTHLY;BYDAY=MO", "needs an index"},
		{"RRULE:FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1", "several BYMONTH"},
		{"RRULE:FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO"},
		{"RRULE:FREQ=DAILY;BYHOUR=9,17", "BYHOUR"},
		{"RRULE:FREQ=DAILY;BYDAY=MO,TU", "DAILY rule limited"},
		{"RRULE:FREQ=WEEKLY;BYDAY=2MO", "numbered BYDAY"},
		{"RRULE:FREQ=WEEKLY\nRDATE:20261224T090000Z", "RDATE"},
		{"RRULE:FREQ=WEEKLY\nRRULE:FREQ=DAILY", "more than one RRULE"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cs_err err;
		json_t *rec;

		cs_err_clear(&err);
		rec = cs_graph_rrule_to_json(rows[i].rrule, "2026-12-07", NULL, NULL, &err);
		if (rec || err.code != CS_EREFUSED || !strstr(err.msg, rows[i].why))
			fprintf(stderr, "  row %zu (%s): %s\n", i, rows[i].rrule, err.msg);
		CHECK(rec == NULL);
		CHECK(err.code == CS_EREFUSED);
		CHECK(strstr(err.msg, rows[i].why) != NULL);
		CHECK(strstr(err.msg, "Outlook cannot express") != NULL);
	}
}

TEST(graph_recurrence_garbage_from_graph_is_named)
{
	static const struct { const char *json, *why; } rows[] = {
		{"{\"pattern\":{\"type\":\"hourly\"}}", "unknown"},
		{"{\"pattern\":{\"type\":\"weekly\"}}", "daysOfWeek"},
		{"{\"pattern\":{\"type\":\"weekly\",\"daysOfWeek\":[\"funday\"]}}", "daysOfWeek[0]"},
		{"{\"pattern\":{\"type\":\"absoluteYearly\",\"dayOfMonth\":3}}", "month"},
		{"{\"pattern\":{\"type\":\"relativeMonthly\",\"daysOfWeek\":[\"monday\"],"
		 "\"index\":\"fifth\"}}", "index"},
		{"{\"pattern\":{\"type\":\"daily\",\"interval\":0}}", "interval"},
		{"{\"pattern\":{\"type\":\"daily\"},\"range\":{\"type\":\"endDate\"}}", "endDate"},
		{"{\"pattern\":{\"type\":\"daily\"},\"range\":{\"type\":\"numbered\"}}",
		 "numberOfOccurrences"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *in = parse(rows[i].json);
		char *rrule = NULL;
		cs_err err;

		cs_err_clear(&err);
		CHECK(cs_graph_rrule_from_json(in, false, NULL, &rrule, &err) == -1);
		if (!strstr(err.msg, rows[i].why))
			fprintf(stderr, "  row %zu: %s\n", i, err.msg);
		CHECK(err.code == CS_EINVAL && strstr(err.msg, rows[i].why));
		CHECK(rrule == NULL);
		json_decref(in);
	}
}

TEST(graph_windows_zone_names_from_cldr)
{
	cs_err err;

	CHECK(cs_graph_zones_load("/usr/share/unicode/cldr/common/supplemental/windowsZones.xml",
				  &err) == 0);
	CHECK_STR(cs_graph_zone_to_iana("Pacific Standard Time", &err), "America/Los_Angeles");
	CHECK_STR(cs_graph_zone_to_iana("W. Europe Standard Time", &err), "Europe/Berlin");
	CHECK_STR(cs_graph_zone_to_iana("GMT Standard Time", &err), "Europe/London");
	CHECK_STR(cs_graph_zone_to_iana("UTC", &err), "UTC");
	CHECK_STR(cs_graph_zone_to_iana("Europe/Paris", &err), "Europe/Paris");
	CHECK(cs_graph_zone_to_iana("Mars Standard Time", &err) == NULL);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "Mars Standard Time"));
	CHECK_STR(cs_graph_zone_to_windows("Europe/London"), "GMT Standard Time");
	CHECK_STR(cs_graph_zone_to_windows("Europe/Paris"), "Romance Standard Time");
	CHECK_STR(cs_graph_zone_to_windows("America/Los_Angeles"), "Pacific Standard Time");
	CHECK(cs_graph_zone_to_windows("Nowhere/Special") == NULL);
}
