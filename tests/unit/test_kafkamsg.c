/* test_kafkamsg.c - event-changed messages: what is accepted, what is refused and why. */
#include "unit.h"

#include <jansson.h>

#include "kafkamsg.h"

#define EVENT "0b6f3f0e-6a55-4d6e-9a43-3d3f1b2a0c11"
#define TENANT "5d1c0c2e-7a1b-4f55-8d6e-2c9b8a7f6e01"

static int parse(const char *s, cs_kafkamsg *m, cs_err *err)
{
	return cs_kafkamsg_parse(s, strlen(s), m, err);
}

/* Parse s, expect a refusal whose reason contains want. */
static void refused(const char *s, const char *want)
{
	cs_kafkamsg m;
	cs_err err;

	cs_err_clear(&err);
	if (parse(s, &m, &err) != -1 || !strstr(err.msg, want)) {
		fprintf(stderr, "  input %s: got '%s', want '%s'\n", s, err.msg, want);
		exit(1);
	}
}

TEST(kafkamsg_accepts_the_contract_example)
{
	cs_kafkamsg m;
	cs_err err;

	CHECK(parse("{\"event_id\":\"" EVENT "\",\"tenant_id\":\"" TENANT "\","
		    "\"op\":\"updated\",\"occurred_at\":\"2026-11-25T10:00:00Z\"}", &m, &err) == 0);
	CHECK_STR(m.event_id, EVENT);
	CHECK_STR(m.tenant_id, TENANT);
	CHECK_STR(m.op, "updated");
	CHECK_STR(m.occurred_at, "2026-11-25T10:00:00Z");
}

TEST(kafkamsg_ignores_extra_fields_and_lowercases_ids)
{
	cs_kafkamsg m;
	cs_err err;

	CHECK(parse("{\"schema\":2,\"event_id\":\"0B6F3F0E-6A55-4D6E-9A43-3D3F1B2A0C11\","
		    "\"tenant_id\":\"" TENANT "\",\"op\":\"deleted\",\"extra\":{\"a\":[1]},"
		    "\"occurred_at\":\"2026-11-25T10:00:00.123456+01:00\"}", &m, &err) == 0);
	CHECK_STR(m.event_id, EVENT);
	CHECK_STR(m.op, "deleted");
}

TEST(kafkamsg_refuses_what_is_not_a_json_object)
{
	refused("", "empty message");
	refused("not json", "not valid JSON");
	refused("{\"event_id\":", "not valid JSON");
	refused("[1,2]", "not a JSON object");
	refused("{\"event_id\":\"" EVENT "\",\"event_id\":\"" EVENT "\"}", "not valid JSON");
}

TEST(kafkamsg_refuses_bad_utf8_and_nul_bytes)
{
	const char bad_utf8[] = "{\"event_id\":\"\xff\xfe\"}";
	const char nul[] = "{\"op\":\"x\0y\"}";
	cs_kafkamsg m;
	cs_err err;

	CHECK(cs_kafkamsg_parse(bad_utf8, sizeof(bad_utf8) - 1, &m, &err) == -1);
	CHECK(strstr(err.msg, "not valid JSON") != NULL);
	CHECK(cs_kafkamsg_parse(nul, sizeof(nul) - 1, &m, &err) == -1);
	CHECK(strstr(err.msg, "not valid JSON") != NULL);
}

TEST(kafkamsg_names_the_bad_field)
{
	refused("{\"tenant_id\":\"" TENANT "\",\"op\":\"created\","
		"\"occurred_at\":\"2026-11-25T10:00:00Z\"}", "event_id is missing");
	refused("{\"event_id\":42,\"tenant_id\":\"" TENANT "\",\"op\":\"created\","
		"\"occurred_at\":\"2026-11-25T10:00:00Z\"}", "event_id is not a string");
	refused("{\"event_id\":\"abc\",\"tenant_id\":\"" TENANT "\",\"op\":\"created\","
		"\"occurred_at\":\"2026-11-25T10:00:00Z\"}", "event_id is not a UUID");
	refused("{\"event_id\":\"" EVENT "\",\"tenant_id\":\"" TENANT "'; --\",\"op\":\"created\","
		"\"occurred_at\":\"2026-11-25T10:00:00Z\"}", "tenant_id is not a UUID");
	refused("{\"event_id\":\"" EVENT "\",\"tenant_id\":\"" TENANT "\",\"op\":\"moved\","
		"\"occurred_at\":\"2026-11-25T10:00:00Z\"}", "op is not one of");
	refused("{\"event_id\":\"" EVENT "\",\"tenant_id\":\"" TENANT "\",\"op\":\"created\"}",
		"occurred_at is missing");
	refused("{\"event_id\":\"" EVENT "\",\"tenant_id\":\"" TENANT "\",\"op\":\"created\","
		"\"occurred_at\":\"yesterday\"}", "occurred_at is not an RFC 3339");
}

TEST(kafkamsg_refuses_values_over_the_cap)
{
	size_t n = CS_KAFKAMSG_MAX + 1;
	char *big = malloc(n);
	cs_kafkamsg m;
	cs_err err;

	CHECK(big != NULL);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	CHECK(cs_kafkamsg_parse(big, n, &m, &err) == -1);
	CHECK(err.code == CS_ENOMEM && strstr(err.msg, "over the cap") != NULL);
	CHECK(cs_kafkamsg_parse(big, n - 1, &m, &err) == -1);  /* under the cap: just bad JSON */
	CHECK(err.code == CS_EINVAL);
	free(big);
}

TEST(kafkamsg_rfc3339_syntax)
{
	CHECK(cs_kafkamsg_is_rfc3339("2026-11-25T10:00:00Z"));
	CHECK(cs_kafkamsg_is_rfc3339("2026-11-25t10:00:00z"));
	CHECK(cs_kafkamsg_is_rfc3339("2024-02-29T23:59:60.5-08:00"));
	CHECK(!cs_kafkamsg_is_rfc3339("2025-02-29T10:00:00Z"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-13-01T10:00:00Z"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-11-25 10:00:00Z"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-11-25T24:00:00Z"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-11-25T10:00:00"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-11-25T10:00:00.Z"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-11-25T10:00:00+0100"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-11-25T10:00:00Zjunk"));
	CHECK(!cs_kafkamsg_is_rfc3339("2026-11-25"));
}

TEST(kafkamsg_printable_repairs_and_caps)
{
	char *s;

	s = cs_kafkamsg_printable("caf\xc3\xa9", 5, 100);
	CHECK_STR(s, "caf\xc3\xa9");
	free(s);
	s = cs_kafkamsg_printable("a\xff" "b\0c", 5, 100);
	CHECK_STR(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
	free(s);
	s = cs_kafkamsg_printable("\xed\xa0\x80", 3, 100);  /* a UTF-16 surrogate */
	CHECK_STR(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = cs_kafkamsg_printable("abcdefghij", 10, 10);
	CHECK_STR(s, "abcdefghij");
	free(s);
	s = cs_kafkamsg_printable("abcdefghijk", 11, 10);
	CHECK_STR(s, "abcdefg...");
	free(s);
	s = cs_kafkamsg_printable("abcdef\xc3\xa9xyz", 11, 10);  /* no cut inside a character */
	CHECK_STR(s, "abcdef...");
	free(s);
	s = cs_kafkamsg_printable(NULL, 0, 10);
	CHECK_STR(s, "");
	free(s);
}

TEST(kafkamsg_dead_letter_entry)
{
	cs_kafkamsg_origin origin = {"familyhub.events", 2, 41, TENANT, 36, "\xff{", 2};
	json_t *o;
	char *s;

	s = cs_kafkamsg_dead_json(&origin, "not valid JSON", 1764064800123LL);
	CHECK(s != NULL);
	o = json_loads(s, 0, NULL);
	CHECK(o != NULL);
	CHECK_STR(json_string_value(json_object_get(o, "source")), "kafka");
	CHECK_STR(json_string_value(json_object_get(o, "topic")), "familyhub.events");
	CHECK(json_integer_value(json_object_get(o, "partition")) == 2);
	CHECK(json_integer_value(json_object_get(o, "offset")) == 41);
	CHECK_STR(json_string_value(json_object_get(o, "key")), TENANT);
	CHECK_STR(json_string_value(json_object_get(o, "value")), "\xef\xbf\xbd{");
	CHECK_STR(json_string_value(json_object_get(o, "reason")), "not valid JSON");
	CHECK_STR(json_string_value(json_object_get(o, "dead_at")), "2025-11-25T10:00:00.123Z");
	json_decref(o);
	free(s);
	origin.key = NULL;
	s = cs_kafkamsg_dead_json(&origin, "x", 0);
	o = json_loads(s, 0, NULL);
	CHECK(o != NULL && json_is_null(json_object_get(o, "key")));
	json_decref(o);
	free(s);
}
