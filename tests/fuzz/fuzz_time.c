/*
 * fuzz_time.c - the time forms of outside input (common/timefmt.h) and
 * recurrences expanded for the agenda (common/recur.h). Input: a zone
 * name, a newline, then a time text or recurrence lines. Invariants: a
 * parsed time writes back to the same instant; occurrences are sorted,
 * inside the window and within the cap; errors are readable.
 */
#include <stdint.h>

#include "fuzz.h"
#include "recur.h"
#include "timefmt.h"

#define WINDOW_FROM 1796083200LL   /* 2026-12-01T00:00:00Z */
#define WINDOW_DAYS 7
#define CAP 200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void times(const char *tz, const char *s)
{
	char buf[CS_TIME_BUFSZ], local[CS_TIME_BUFSZ];
	long long t, back;
	cs_walltime wt;
	cs_err err;

	if (cs_time_parse_rfc3339(s, &t, &err) == 0) {
		FUZZ_ASSERT(cs_time_normalize(s, buf, &err) == 0);
		FUZZ_ASSERT(cs_time_parse_rfc3339(buf, &back, &err) == 0 && back == t);
		if (cs_time_to_local(t, tz, &wt, &err) == 0) {
			FUZZ_ASSERT(cs_time_from_local(&wt, tz, &back, &err) == 0);
			FUZZ_ASSERT(cs_time_format_local(t, tz, local, &err) == 0);
		} else {
			FUZZ_ASSERT(fuzz_text_ok(err.msg));
		}
	} else {
		FUZZ_ASSERT(fuzz_text_ok(err.msg));
	}
	if (cs_time_parse_date(s, NULL, NULL, NULL, &err))
		FUZZ_ASSERT(fuzz_text_ok(err.msg));
	if (cs_time_normalize_in(s, tz, buf, &err) == 0)   /* a wall time in the zone, too */
		FUZZ_ASSERT(cs_time_parse_rfc3339(buf, &back, &err) == 0);
	else
		FUZZ_ASSERT(fuzz_text_ok(err.msg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = fuzz_strndup(data, len), *nl = strchr(text, '\n');
	const char *tz = text, *rest = nl ? nl + 1 : "";
	long long out[CAP], to = WINDOW_FROM + WINDOW_DAYS * 86400;
	size_t n = 0;
	cs_err err;

	if (nl)
		*nl = '\0';
	times(tz, rest);
	if (cs_recur_expand(rest, WINDOW_FROM - 86400 * (long long)(len % 4000), tz, WINDOW_FROM,
			    to, out, CAP, &n, &err) == 0) {
		FUZZ_ASSERT(n <= CAP);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(out[i] >= WINDOW_FROM && out[i] < to && (i == 0 || out[i - 1] < out[i]));
	} else {
		FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
	}
	free(text);
	return 0;
}
