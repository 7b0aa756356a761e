/*
 * test_timefmt.c - RFC 3339 parsing/formatting, dates and zone math
 * (common/timefmt.h), incl. the DST change days of London and New York;
 * and the Retry-After parser of common/http.h, which is time parsing too.
 */
#include "unit.h"

#include <pthread.h>

#include "http.h"
#include "timefmt.h"

static long long parse(const char *s)
{
	long long t = -1;
	cs_err err;

	cs_err_clear(&err);
	if (cs_time_parse_rfc3339(s, &t, &err)) {
		fprintf(stderr, "  parse(%s): %s\n", s, err.msg);
		exit(1);
	}
	return t;
}

static const char *norm(const char *s)
{
	static char buf[CS_TIME_BUFSZ];
	static cs_err err;

	if (cs_time_normalize(s, buf, &err))
		return err.msg;
	return buf;
}

TEST(timefmt_parse_utc_and_offsets)
{
	CHECK(parse("1970-01-01T00:00:00Z") == 0);
	CHECK(parse("2026-03-29T00:30:00Z") == 1774744200LL);
	CHECK(parse("2026-03-29T01:30:00+01:00") == 1774744200LL);
	CHECK(parse("2026-03-28T19:30:00-05:00") == 1774744200LL);
	CHECK(parse("2026-03-29T06:00:00+05:30") == 1774744200LL);
	CHECK(parse("2026-03-29T00:30:00-00:00") == 1774744200LL);
	CHECK(parse("2026-03-29t00:30:00z") == 1774744200LL);
	CHECK(parse("1969-12-31T23:59:59Z") == -1);
	CHECK(parse("2000-02-29T12:00:00Z") == 951825600LL);
}

TEST(timefmt_fractional_seconds_truncate)
{
	CHECK(parse("2025-03-01T10:00:00.123Z") == parse("2025-03-01T10:00:00Z"));
	CHECK(parse("2025-03-01T10:00:00.999999+02:00") == parse("2025-03-01T08:00:00Z"));
	CHECK_STR(norm("2025-03-01T10:00:00.5-01:00"), "2025-03-01T11:00:00Z");
}

TEST(timefmt_normalize_to_z)
{
	CHECK_STR(norm("2025-03-03T17:00:00+01:00"), "2025-03-03T16:00:00Z");
	CHECK_STR(norm("2025-12-31T23:30:00-01:00"), "2026-01-01T00:30:00Z");
	CHECK_STR(norm("2024-03-01T00:30:00+01:00"), "2024-02-29T23:30:00Z");
	CHECK_STR(norm("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
	CHECK_STR(norm("9999-12-31T23:59:59Z"), "9999-12-31T23:59:59Z");
	/* a leap second is the next minute's first second */
	CHECK_STR(norm("2016-12-31T23:59:60Z"), "2017-01-01T00:00:00Z");
}

TEST(timefmt_normalize_in_a_zone)
{
	char buf[CS_TIME_BUFSZ];
	cs_err err;

	/* wall time in the zone, the spring gap read with the offset before it */
	CHECK(cs_time_normalize_in("2026-07-01T09:00:00", "Europe/London", buf, &err) == 0);
	CHECK_STR(buf, "2026-07-01T08:00:00Z");
	CHECK(cs_time_normalize_in("2026-03-29T01:30:00", "Europe/London", buf, &err) == 0);
	CHECK_STR(buf, "2026-03-29T01:30:00Z");
	/* an offset wins over the zone; no zone: an offset is needed */
	CHECK(cs_time_normalize_in("2026-07-01T09:00:00+02:00", "Europe/London", buf, &err) == 0);
	CHECK_STR(buf, "2026-07-01T07:00:00Z");
	CHECK(cs_time_normalize_in("2026-07-01T09:00:00", NULL, buf, &err) == -1);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "offset"));
	CHECK(cs_time_normalize_in("2026-07-01T09:00:00", "Nowhere/Else", buf, &err) == -1);
	CHECK(strstr(err.msg, "Nowhere/Else") != NULL);
	CHECK(cs_time_normalize_in("2026-07-01T09:00", "UTC", buf, &err) == -1);
}

TEST(timefmt_format_utc)
{
	char buf[CS_TIME_BUFSZ];

	cs_time_format_utc(0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	cs_time_format_utc(-86401, buf);
	CHECK_STR(buf, "1969-12-30T23:59:59Z");
	cs_time_format_utc(1774744200LL, buf);
	CHECK_STR(buf, "2026-03-29T00:30:00Z");
}

TEST(timefmt_garbage_is_einval)
{
	static const char *const bad[] = {
		"", "garbage", "2025-03-01", "2025-03-01T10:00:00",
		"2025-03-01 10:00:00Z", "2025-13-01T10:00:00Z",
		"2025-02-29T10:00:00Z", "2025-04-31T10:00:00Z",
		"2025-03-01T24:00:00Z", "2025-03-01T10:60:00Z",
		"2025-03-01T10:00:61Z", "2025-03-01T10:00Z",
		"2025-03-01T10:00:00+0100", "2025-03-01T10:00:00+24:00",
		"2025-03-01T10:00:00.Z", "2025-03-01T10:00:00Zjunk",
		"25-03-01T10:00:00Z", "2025-3-01T10:00:00Z", "0000-01-01T00:00:00Z",
		"2025-03-01T10:00:00+01", "+2025-03-01T10:00:00Z",
	};
	cs_err err;
	long long t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cs_err_clear(&err);
		if (cs_time_parse_rfc3339(bad[i], &t, &err) == 0) {
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
			exit(1);
		}
		CHECK(err.code == CS_EINVAL && !err.retryable);
		CHECK(strstr(err.msg, "date-time") != NULL);
	}
	CHECK(cs_time_parse_rfc3339(NULL, &t, &err) == -1);
	/* long garbage is quoted shortened, not whole */
	CHECK(cs_time_parse_rfc3339("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &t, &err) == -1);
	CHECK(strstr(err.msg, "...") != NULL);
}

TEST(timefmt_dates)
{
	int y, m, d;
	cs_err err;

	CHECK(cs_time_parse_date("2024-02-29", &y, &m, &d, &err) == 0);
	CHECK(y == 2024 && m == 2 && d == 29);
	CHECK(cs_time_parse_date("2026-12-31", NULL, NULL, NULL, &err) == 0);
	CHECK(cs_time_parse_date("2025-02-29", NULL, NULL, NULL, &err) == -1);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "2025-02-29"));
	CHECK(cs_time_parse_date("2100-02-29", NULL, NULL, NULL, &err) == -1);
	CHECK(cs_time_parse_date("2000-02-29", NULL, NULL, NULL, &err) == 0);
	CHECK(cs_time_parse_date("2025-03-01T00:00:00Z", NULL, NULL, NULL, &err) == -1);
	CHECK(cs_time_parse_date("2025-00-10", NULL, NULL, NULL, &err) == -1);
	CHECK(cs_time_parse_date("2025-01-00", NULL, NULL, NULL, &err) == -1);
	CHECK(cs_time_parse_date("20250101", NULL, NULL, NULL, &err) == -1);
	CHECK(cs_time_parse_date(NULL, NULL, NULL, NULL, &err) == -1);
	CHECK(cs_time_from_civil(1970, 1, 1) == 0);
	CHECK(cs_time_from_civil(2026, 13, 1) == cs_time_from_civil(2027, 1, 1));
	CHECK(cs_time_from_civil(2026, 0, 1) == cs_time_from_civil(2025, 12, 1));
	CHECK(cs_time_from_civil(2026, 3, 32) == cs_time_from_civil(2026, 4, 1));
}

static const char *local(const char *utc, const char *tz)
{
	static char buf[CS_TIME_BUFSZ];
	static cs_err err;

	if (cs_time_format_local(parse(utc), tz, buf, &err))
		return err.msg;
	return buf;
}

static const char *from_local(int y, int mo, int d, int h, int mi, const char *tz)
{
	static char buf[CS_TIME_BUFSZ];
	cs_walltime wt = {y, mo, d, h, mi, 0, 0};
	long long t;
	static cs_err err;

	if (cs_time_from_local(&wt, tz, &t, &err))
		return err.msg;
	cs_time_format_utc(t, buf);
	return buf;
}

TEST(timefmt_london_dst_days)
{
	/* spring forward 2026-03-29 01:00 GMT -> 02:00 BST */
	CHECK_STR(local("2026-03-29T00:30:00Z", "Europe/London"), "2026-03-29T00:30:00+00:00");
	CHECK_STR(local("2026-03-29T00:59:59Z", "Europe/London"), "2026-03-29T00:59:59+00:00");
	CHECK_STR(local("2026-03-29T01:00:00Z", "Europe/London"), "2026-03-29T02:00:00+01:00");
	CHECK_STR(local("2026-03-29T01:30:00Z", "Europe/London"), "2026-03-29T02:30:00+01:00");
	/* 01:30 does not exist that day: read with the offset before (GMT) */
	CHECK_STR(from_local(2026, 3, 29, 1, 30, "Europe/London"), "2026-03-29T01:30:00Z");
	CHECK_STR(from_local(2026, 3, 29, 0, 30, "Europe/London"), "2026-03-29T00:30:00Z");
	CHECK_STR(from_local(2026, 3, 29, 2, 30, "Europe/London"), "2026-03-29T01:30:00Z");
	/* fall back 2026-10-25 02:00 BST -> 01:00 GMT: 01:30 happens twice */
	CHECK_STR(local("2026-10-25T00:30:00Z", "Europe/London"), "2026-10-25T01:30:00+01:00");
	CHECK_STR(local("2026-10-25T01:30:00Z", "Europe/London"), "2026-10-25T01:30:00+00:00");
	CHECK_STR(from_local(2026, 10, 25, 1, 30, "Europe/London"), "2026-10-25T00:30:00Z");
	CHECK_STR(from_local(2026, 10, 25, 2, 30, "Europe/London"), "2026-10-25T02:30:00Z");
	CHECK_STR(from_local(2026, 7, 1, 12, 0, "Europe/London"), "2026-07-01T11:00:00Z");
	CHECK_STR(from_local(2026, 1, 1, 12, 0, "Europe/London"), "2026-01-01T12:00:00Z");
}

TEST(timefmt_new_york_dst_days)
{
	/* spring forward 2026-03-08 02:00 EST -> 03:00 EDT; 01:30 is plain EST */
	CHECK_STR(from_local(2026, 3, 8, 1, 30, "America/New_York"), "2026-03-08T06:30:00Z");
	CHECK_STR(local("2026-03-08T06:30:00Z", "America/New_York"), "2026-03-08T01:30:00-05:00");
	CHECK_STR(local("2026-03-08T07:30:00Z", "America/New_York"), "2026-03-08T03:30:00-04:00");
	/* 02:30 does not exist: read as EST, that is 03:30 EDT */
	CHECK_STR(from_local(2026, 3, 8, 2, 30, "America/New_York"), "2026-03-08T07:30:00Z");
	/* fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 twice, first is EDT */
	CHECK_STR(from_local(2026, 11, 1, 1, 30, "America/New_York"), "2026-11-01T05:30:00Z");
	CHECK_STR(local("2026-11-01T05:30:00Z", "America/New_York"), "2026-11-01T01:30:00-04:00");
	CHECK_STR(local("2026-11-01T06:30:00Z", "America/New_York"), "2026-11-01T01:30:00-05:00");
	CHECK_STR(from_local(2026, 11, 1, 3, 0, "America/New_York"), "2026-11-01T08:00:00Z");
}

TEST(timefmt_other_zones_and_errors)
{
	cs_walltime wt = {2026, 2, 30, 10, 0, 0, 0};
	long long t;
	cs_err err;

	CHECK_STR(local("2026-06-01T00:00:00Z", "Asia/Kolkata"), "2026-06-01T05:30:00+05:30");
	CHECK_STR(local("2026-06-01T00:00:00Z", "UTC"), "2026-06-01T00:00:00+00:00");
	CHECK_STR(local("2026-01-15T12:00:00Z", "Australia/Sydney"), "2026-01-15T23:00:00+11:00");
	CHECK_STR(from_local(2026, 6, 1, 5, 30, "Asia/Kolkata"), "2026-06-01T00:00:00Z");
	CHECK(cs_time_zone_known("Europe/Berlin"));
	CHECK(cs_time_zone_known("UTC"));
	CHECK(!cs_time_zone_known("Mars/Olympus_Mons"));
	CHECK(!cs_time_zone_known(""));
	CHECK(!cs_time_zone_known(NULL));
	CHECK(cs_time_format_local(0, "Mars/Olympus_Mons", (char[CS_TIME_BUFSZ]){0}, &err) == -1);
	CHECK(err.code == CS_EINVAL && strstr(err.msg, "Mars/Olympus_Mons"));
	CHECK(cs_time_from_local(&wt, "Europe/London", &t, &err) == -1);
	CHECK(err.code == CS_EINVAL);
}

TEST(timefmt_round_trip_every_hour_of_dst_weeks)
{
	/* UTC -> local -> UTC is exact for every instant except the second
	 * copy of a repeated hour, which maps to the first copy */
	static const char *const zones[] = {"Europe/London", "America/New_York"};
	static const char *const weeks[] = {"2026-03-05T00:00:00Z", "2026-03-26T00:00:00Z",
					    "2026-10-22T00:00:00Z", "2026-10-29T00:00:00Z"};
	cs_err err;

	for (size_t z = 0; z < 2; z++)
		for (size_t w = 0; w < 4; w++)
			for (long long t = parse(weeks[w]); t < parse(weeks[w]) + 7 * 86400; t += 900) {
				cs_walltime wt;
				long long back;

				CHECK(cs_time_to_local(t, zones[z], &wt, &err) == 0);
				CHECK(cs_time_from_local(&wt, zones[z], &back, &err) == 0);
				CHECK(back == t || back == t - 3600);
				if (back != t) {
					cs_walltime again;

					CHECK(cs_time_to_local(back, zones[z], &again, &err) == 0);
					CHECK(again.hour == wt.hour && again.minute == wt.minute);
					CHECK(again.utc_offset_s == wt.utc_offset_s + 3600);
				}
			}
}

static void *zone_worker(void *arg)
{
	static const char *const zones[] = {"Europe/London", "America/New_York",
					    "Asia/Tokyo", "Australia/Sydney", "Europe/Berlin"};
	long long base = *(const long long *)arg;
	cs_err err;

	for (int i = 0; i < 2000; i++) {
		const char *zone = zones[i % 5];
		long long t = base + i * 3600LL, back;
		cs_walltime wt;

		if (cs_time_to_local(t, zone, &wt, &err) ||
		    cs_time_from_local(&wt, zone, &back, &err) ||
		    (back != t && back != t - 3600))
			return (void *)1;
	}
	return NULL;
}

TEST(timefmt_zones_from_many_threads)
{
	/* workers convert times concurrently: libical's zone cache must cope */
	long long bases[4] = {parse("2026-01-01T00:00:00Z"), parse("2026-03-01T00:00:00Z"),
			      parse("2026-09-01T00:00:00Z"), parse("2030-10-01T00:00:00Z")};
	pthread_t th[4];
	void *res;

	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&th[i], NULL, zone_worker, &bases[i]) == 0);
	for (int i = 0; i < 4; i++) {
		CHECK(pthread_join(th[i], &res) == 0);
		CHECK(res == NULL);
	}
}

TEST(http_retry_after_parse)
{
	long long now = parse("2015-10-21T07:28:00Z");

	CHECK(cs_http_parse_retry_after("1", now) == 1000);
	CHECK(cs_http_parse_retry_after(" 120 ", now) == 120000);
	CHECK(cs_http_parse_retry_after("0", now) == 0);
	CHECK(cs_http_parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30000);
	CHECK(cs_http_parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0);
	CHECK(cs_http_parse_retry_after("soon", now) == -1);
	CHECK(cs_http_parse_retry_after("", now) == -1);
	CHECK(cs_http_parse_retry_after("-5", now) == -1);
	CHECK(cs_http_parse_retry_after(NULL, now) == -1);
	/* absurd values are capped at an hour */
	CHECK(cs_http_parse_retry_after("99999999999", now) == 3600000);
}
