/*
 * test_recur.c - occurrences in a window (common/recur.h): every EXDATE
 * and RDATE value, zones across DST, and rules that would take for ever
 * or leak when expanded naively.
 */
#include "unit.h"

#include "recur.h"
#include "timefmt.h"

#define CAP 5000

static long long at(const char *rfc3339)
{
	long long t = 0;
	cs_err err;

	CHECK(cs_time_parse_rfc3339(rfc3339, &t, &err) == 0);
	return t;
}

static long long out[CAP];

static size_t expand(const char *rec, const char *dtstart, const char *tz, const char *from,
		     const char *to)
{
	size_t n = 99;
	cs_err err;

	CHECK(cs_recur_expand(rec, at(dtstart), tz, at(from), at(to), out, CAP, &n, &err) == 0);
	return n;
}

TEST(recur_every_exdate_value_and_rdate_count)
{
	size_t n = expand("RRULE:FREQ=WEEKLY;COUNT=5\n"
			  "EXDATE:20261208T090000Z,20261215T090000Z\n"
			  "RDATE;TZID=Europe/London:20261210T100000,20261211T100000",
			  "2026-12-01T09:00:00Z", "UTC", "2026-11-01T00:00:00Z",
			  "2027-02-01T00:00:00Z");

	CHECK(n == 5);
	CHECK(out[0] == at("2026-12-01T09:00:00Z"));
	CHECK(out[1] == at("2026-12-10T10:00:00Z"));
	CHECK(out[2] == at("2026-12-11T10:00:00Z"));
	CHECK(out[3] == at("2026-12-22T09:00:00Z"));
	CHECK(out[4] == at("2026-12-29T09:00:00Z"));
}

TEST(recur_keeps_wall_time_across_dst)
{
	size_t n = expand("RRULE:FREQ=WEEKLY", "2026-10-17T16:30:00Z", "Europe/London",
			  "2026-10-17T00:00:00Z", "2026-10-31T00:00:00Z");

	CHECK(n == 2);
	CHECK(out[0] == at("2026-10-17T16:30:00Z"));   /* 17:30 BST */
	CHECK(out[1] == at("2026-10-24T16:30:00Z"));
	n = expand("RRULE:FREQ=WEEKLY", "2026-10-17T16:30:00Z", "Europe/London",
		   "2026-10-30T00:00:00Z", "2026-11-06T00:00:00Z");
	CHECK(n == 1 && out[0] == at("2026-10-31T17:30:00Z"));  /* 17:30 GMT */
}

TEST(recur_secondly_rule_from_long_ago_starts_at_the_window)
{
	size_t n = expand("RRULE:FREQ=SECONDLY;INTERVAL=7", "1970-01-01T00:00:00Z", "UTC",
			  "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z");

	CHECK(n == CAP);                            /* capped, not walked from 1970 */
	CHECK(out[0] >= at("2026-12-01T00:00:00Z") && out[0] < at("2026-12-01T00:00:07Z"));
	CHECK(out[0] % 7 == 0 && out[1] - out[0] == 7);   /* the rule's phase is kept */
	n = expand("RRULE:FREQ=MINUTELY;INTERVAL=13", "1971-03-04T05:06:00Z", "Europe/Paris",
		   "2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z");
	CHECK(n == 5 && (out[0] - at("1971-03-04T05:06:00Z")) % 780 == 0);
}

TEST(recur_count_rule_is_bounded_in_steps)
{
	size_t n = expand("RRULE:FREQ=HOURLY;COUNT=2000000000", "2000-01-01T00:00:00Z", "UTC",
			  "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z");

	CHECK(n == 0);    /* past CS_RECUR_STEPS_MAX steps: given up, not walked for ever */
}

TEST(recur_far_exdate_and_rscale_are_harmless)
{
	size_t n = expand("RRULE:FREQ=DAILY\nEXDATE;TZID=Europe/London:99991231T090000,"
			  "20261202T090000", "2026-12-01T09:00:00Z", "Europe/London",
			  "2026-12-01T00:00:00Z", "2026-12-05T00:00:00Z");

	CHECK(n == 3 && out[1] == at("2026-12-03T09:00:00Z"));
	n = expand("RRULE:RSCALE=GREGORIAN;FREQ=YEARLY", "2020-02-29T09:00:00Z", "UTC",
		   "2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z");
	CHECK(n <= 4);   /* what matters here: no leak (the ASan build checks) */
}

TEST(recur_unreadable_lines_are_named)
{
	size_t n;
	cs_err err;

	CHECK(cs_recur_expand("END:VEVENT\nBEGIN:VTODO", 0, "UTC", 0, 86400, out, CAP, &n,
			      &err) == -1);
	CHECK(strstr(err.msg, "'END:VEVENT") != NULL);
	CHECK(cs_recur_expand("RRULE:FREQ=SOMETIMES", 0, "UTC", 0, 86400, out, CAP, &n,
			      &err) == -1 || n <= 1);
	CHECK(expand(NULL, "2026-12-01T09:00:00Z", "", "2026-12-01T00:00:00Z",
		     "2026-12-02T00:00:00Z") == 1);
}

TEST(recur_rules_libical_would_scan_for_ever_are_refused)
{
	const char *rules[] = {
		"RRULE:FREQ=SECONDLY;INTERVAL=7;BYDAY=-2FR;COUNT=4",  /* found by fuzz_time */
		"RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=29",
		"RRULE:FREQ=MINUTELY;BYYEARDAY=366",
		"RRULE:FREQ=SECONDLY;BYDAY=FR;COUNT=3",               /* walked from 2000 */
		"RRULE:FREQ=DAILY;BYWEEKNO=20",
		"RRULE:FREQ=WEEKLY;BYMONTHDAY=3",
	};
	size_t n;
	cs_err err;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		CHECK(cs_recur_expand(rules[i], at("2000-01-07T00:00:00Z"), "UTC",
				      at("2026-12-01T00:00:00Z"), at("2026-12-08T00:00:00Z"), out, CAP,
				      &n, &err) == -1);
		CHECK(err.code == CS_EINVAL && strncmp(err.msg, "recurrence: ", 12) == 0);
	}
	CHECK(expand("RRULE:FREQ=HOURLY;BYDAY=SA", "2026-11-01T10:00:00Z", "UTC",
		     "2026-12-01T00:00:00Z", "2026-12-08T00:00:00Z") == 24);
}
