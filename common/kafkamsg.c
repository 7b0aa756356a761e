/*
 * kafkamsg.c - parsing and checking event-changed messages, and the
 * dead-letter entry of a message that cannot be handled (see kafkamsg.h).
 * jansson checks the JSON and its UTF-8; the fields are checked here.
 */
#include "kafkamsg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "utf8.h"
#include "banned.h"

char *cs_kafkamsg_printable(const void *p, size_t len, size_t cap)
{
	size_t total = cs_utf8_clean_len(p, len);
	char *out = malloc(cap + 1);
	size_t o;

	if (!out)
		return NULL;
	if (total <= cap || cap < 3) {
		cs_utf8_clean(out, cap + 1, p, len);
	} else {   /* cut: the end says so */
		o = cs_utf8_clean(out, cap - 3 + 1, p, len);
		memcpy(out + o, "...", 4);
	}
	return out;
}

static bool digits(const char *s, int n, int *value)
{
	*value = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*value = *value * 10 + (s[i] - '0');
	}
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

bool cs_kafkamsg_is_rfc3339(const char *s)
{
	int y, mo, d, h, mi, sec, oh, om;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return false;
	s += 19;
	if (*s == '.') {
		if (!isdigit((unsigned char)s[1]))
			return false;
		for (s++; isdigit((unsigned char)*s); s++)
			;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return true;
	if ((*s != '+' && *s != '-') || strlen(s) != 6 || !digits(s + 1, 2, &oh) ||
	    s[3] != ':' || !digits(s + 4, 2, &om))
		return false;
	return oh <= 23 && om <= 59;
}

/* The string member `name` of o, or NULL with err saying why. */
static const char *member(json_t *o, const char *name, cs_err *err)
{
	json_t *v = json_object_get(o, name);

	if (!v) {
		cs_err_set(err, CS_EINVAL, false, "%s is missing", name);
		return NULL;
	}
	if (!json_is_string(v)) {
		cs_err_set(err, CS_EINVAL, false, "%s is not a string", name);
		return NULL;
	}
	return json_string_value(v);
}

static int take_uuid(json_t *o, const char *name, char out[CS_UUID_LEN + 1], cs_err *err)
{
	const char *v = member(o, name, err);

	if (!v)
		return -1;
	if (!cs_is_uuid(v))
		return cs_err_set(err, CS_EINVAL, false, "%s is not a UUID", name);
	for (int i = 0; i <= CS_UUID_LEN; i++)
		out[i] = (char)tolower((unsigned char)v[i]);
	return 0;
}

static int check_fields(json_t *o, cs_kafkamsg *out, cs_err *err)
{
	const char *op, *at;

	if (take_uuid(o, "event_id", out->event_id, err) ||
	    take_uuid(o, "tenant_id", out->tenant_id, err))
		return -1;
	if (!(op = member(o, "op", err)))
		return -1;
	if (strcmp(op, "created") != 0 && strcmp(op, "updated") != 0 &&
	    strcmp(op, "deleted") != 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "op is not one of created, updated, deleted");
	snprintf(out->op, sizeof(out->op), "%s", op);
	if (!(at = member(o, "occurred_at", err)))
		return -1;
	if (strlen(at) >= sizeof(out->occurred_at) || !cs_kafkamsg_is_rfc3339(at))
		return cs_err_set(err, CS_EINVAL, false,
				  "occurred_at is not an RFC 3339 date-time");
	snprintf(out->occurred_at, sizeof(out->occurred_at), "%s", at);
	return 0;
}

int cs_kafkamsg_parse(const void *value, size_t len, cs_kafkamsg *out, cs_err *err)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!value || len == 0)
		return cs_err_set(err, CS_EINVAL, false, "empty message");
	if (len > CS_KAFKAMSG_MAX)
		return cs_err_set(err, CS_ENOMEM, false,
				  "message of %zu bytes is over the cap of %d", len,
				  CS_KAFKAMSG_MAX);
	o = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return cs_err_set(err, CS_EINVAL, false, "not valid JSON: %s (at byte %d)",
				  jerr.text, jerr.position);
	if (!json_is_object(o))
		rc = cs_err_set(err, CS_EINVAL, false, "not a JSON object");
	else
		rc = check_fields(o, out, err);
	json_decref(o);
	return rc;
}

/* printable() of p as a JSON string, or JSON null when p is NULL. */
static json_t *printable_json(const void *p, size_t len)
{
	char *s;
	json_t *v;

	if (!p)
		return json_null();
	s = cs_kafkamsg_printable(p, len, CS_KAFKAMSG_DEAD_VALUE_MAX);
	v = s ? json_string(s) : NULL;
	free(s);
	return v;
}

char *cs_kafkamsg_dead_json(const cs_kafkamsg_origin *origin, const char *reason,
			    long long now_ms)
{
	time_t secs = (time_t)(now_ms / 1000);
	char at[40], stamp[32];
	struct tm tm;
	json_t *o;
	char *s;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(at, sizeof(at), "%s.%03dZ", stamp, (int)(now_ms % 1000));
	o = json_pack("{s:s, s:o, s:i, s:I, s:o, s:o, s:o, s:s}",
		      "source", "kafka",
		      "topic", printable_json(origin->topic, strlen(origin->topic)),
		      "partition", origin->partition,
		      "offset", (json_int_t)origin->offset,
		      "key", printable_json(origin->key, origin->key_len),
		      "value", printable_json(origin->value ? origin->value : "",
					      origin->value_len),
		      "reason", printable_json(reason, strlen(reason)),
		      "dead_at", at);
	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
