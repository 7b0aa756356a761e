/*
 * notice.c - checking Google's notification headers and parsing Graph's
 * notification bodies (see notice.h); JSON is jansson's.
 */
#include "notice.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "watch.h"
#include "banned.h"

#define ID_MAX 256

static int bad(cs_err *err, const char *what)
{
	return cs_err_set(err, CS_EINVAL, false, "notification refused: %s", what);
}

/* A header value present, printable ASCII, at most max bytes. */
static bool plain(const char *v, size_t max)
{
	size_t n;

	if (!v || !*v || (n = strnlen(v, max + 1)) > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

int cs_google_notice_check(cs_google_notice *n, cs_err *err)
{
	static const char *const states[] = {"sync", "exists", "not_exists"};
	char *end;
	size_t i;

	if (!plain(n->channel_id, CS_WATCH_ID_MAX))
		return bad(err, "X-Goog-Channel-ID is missing or not a channel id");
	if (!plain(n->token, CS_WATCH_SECRET_MAX))
		return bad(err, "X-Goog-Channel-Token is missing or malformed");
	if (!plain(n->resource_id, ID_MAX))
		return bad(err, "X-Goog-Resource-ID is missing or malformed");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (n->state_text && strcmp(n->state_text, states[i]) == 0)
			break;
	if (i == sizeof(states) / sizeof(states[0]))
		return bad(err, "X-Goog-Resource-State is not sync, exists or not_exists");
	n->state = (enum cs_google_state)i;
	if (!plain(n->number_text, 20) || n->number_text[0] == '-')
		return bad(err, "X-Goog-Message-Number is missing or not a number");
	n->number = strtoll(n->number_text, &end, 10);
	if (*end || n->number < 1)
		return bad(err, "X-Goog-Message-Number is not a positive number");
	return 0;
}

static int take(json_t *o, const char *key, size_t max, bool required, char **out, cs_err *err)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	*out = NULL;
	if (!v || json_is_null(v))
		return required ? cs_err_set(err, CS_EINVAL, false,
					     "notification refused: %s is missing", key) : 0;
	if (!s || !*s || json_string_length(v) > max || strlen(s) != json_string_length(v))
		return cs_err_set(err, CS_EINVAL, false,
				  "notification refused: %s is not a string of 1..%zu bytes", key, max);
	*out = strdup(s);
	return *out ? 0 : cs_err_set(err, CS_ENOMEM, true, "out of memory");
}

static int take_notice(json_t *item, cs_graph_notice *n, cs_err *err)
{
	if (!json_is_object(item))
		return bad(err, "an item of value is not an object");
	return take(item, "subscriptionId", ID_MAX, true, &n->subscription_id, err) ||
	       take(item, "clientState", CS_WATCH_SECRET_MAX, false, &n->client_state, err) ||
	       take(item, "lifecycleEvent", 64, false, &n->lifecycle, err) ? -1 : 0;
}

int cs_graph_notices_parse(const char *body, size_t len, cs_graph_notices *out, cs_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *value = json_object_get(root, "value");
	size_t n = json_array_size(value);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!root)
		rc = bad(err, "the body is not JSON");
	else if (!json_is_array(value) || n == 0)
		rc = bad(err, "the body has no value array of notifications");
	else if (n > CS_GRAPH_NOTICES_MAX)
		rc = bad(err, "too many notifications in one body");
	else if (!(out->items = calloc(n, sizeof(*out->items))))
		rc = cs_err_set(err, CS_ENOMEM, true, "out of memory");
	else
		for (rc = 0; rc == 0 && out->n < n; out->n++)
			rc = take_notice(json_array_get(value, out->n), &out->items[out->n], err);
	json_decref(root);
	if (rc)
		cs_graph_notices_release(out);
	return rc;
}

void cs_graph_notices_release(cs_graph_notices *out)
{
	for (size_t i = 0; i < out->n; i++) {
		free(out->items[i].subscription_id);
		if (out->items[i].client_state) {
			sodium_memzero(out->items[i].client_state, strlen(out->items[i].client_state));
			free(out->items[i].client_state);
		}
		free(out->items[i].lifecycle);
	}
	free(out->items);
	memset(out, 0, sizeof(*out));
}
