/*
 * google_watch.c - Google push channels for the provider interface
 * (provider.h, watch/unwatch): events.watch makes a web_hook channel on
 * a calendar's events, with calsync's channel id (at most 64 characters)
 * and the random token Google sends back in X-Goog-Channel-Token with
 * every notification; Google grants the expiration (its `expiration`, ms
 * since the epoch, a string in JSON). A channel cannot be renewed in
 * place: a new one is made and the old one stopped (channels.stop with
 * its id and resourceId). The token never appears in an error text.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "google_api.h"
#include "google_watch.h"
#include "watch.h"
#include "banned.h"

#define WATCH_BODY_CAP ((size_t)8 << 10)

/* "expiration": ms since the epoch as Google writes it (a string), or a number. */
static long long expiration_s(json_t *v)
{
	const char *s = json_string_value(v);

	if (json_is_integer(v))
		return (long long)(json_integer_value(v) / 1000);
	return s ? strtoll(s, NULL, 10) / 1000 : 0;
}

static int take_channel(json_t *root, const char *url, cs_watch_channel *out, cs_err *err)
{
	const char *id = json_string_value(json_object_get(root, "id"));
	const char *rid = json_string_value(json_object_get(root, "resourceId"));
	long long exp = expiration_s(json_object_get(root, "expiration"));

	if (!id || !rid || exp <= 0)
		return cs_err_set(err, CS_EPROTO, true,
				  "Google answered POST %.200s without a channel id, resourceId"
				  " and expiration", url);
	out->id = strdup(id);
	out->resource_id = strdup(rid);
	out->expires_at = exp;
	if (!out->id || !out->resource_id) {
		cs_watch_channel_release(out);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	return 0;
}

/*
 * POST body to url: a 2xx is success (*root gets its JSON object when
 * root is not NULL); without root a 404 is success too (the channel was
 * stopped or expired already).
 */
static int post_json(cs_provider *g, const char *url, json_t *body, json_t **root, cs_err *err)
{
	cs_http_response resp;
	char *text = json_dumps(body, JSON_COMPACT);
	int rc = -1;

	cs_http_response_init(&resp);
	if (!text)
		rc = cs_err_set(err, CS_ENOMEM, false, "out of memory");
	else if (cs_google_call(g, "POST", url, text, NULL, &resp, err))
		rc = -1;
	else if (resp.status / 100 == 2)
		rc = root ? cs_google_parse(&resp, "POST", url, root, err) : 0;
	else if (!root && resp.status == 404)
		rc = 0;
	else
		rc = cs_google_api_error(&resp, "POST", url, err);
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	cs_http_response_release(&resp);
	return rc;
}

int cs_google_watch(cs_provider *g, const char *cal, const cs_watch_request *req,
		    cs_watch_channel *out, cs_err *err)
{
	cs_dynbuf url;
	json_t *body = NULL, *root = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!req->channel_id || strlen(req->channel_id) > CS_WATCH_ID_MAX || !req->secret ||
	    !req->address)
		return cs_err_set(err, CS_EINVAL, false,
				  "Google watch: a channel id of at most %d characters, a token and"
				  " an address are needed", CS_WATCH_ID_MAX);
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	body = json_pack("{s:s, s:s, s:s, s:s}", "id", req->channel_id, "type", "web_hook",
			 "address", req->address, "token", req->secret);
	if (!body) {
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
		goto done;
	}
	if (cs_google_events_url(g, &url, cal, NULL, err) ||
	    cs_dynbuf_addstr(&url, "/watch", err) ||
	    post_json(g, url.data, body, &root, err))
		goto done;
	rc = take_channel(root, url.data, out, err);
done:
	json_decref(body);
	json_decref(root);
	cs_dynbuf_release(&url);
	return rc;
}

int cs_google_unwatch(cs_provider *g, const cs_watch_channel *ch, cs_err *err)
{
	cs_dynbuf url;
	json_t *body;
	int rc = -1;

	if (!ch->id || !ch->resource_id)
		return 0;   /* never made: nothing to stop */
	cs_dynbuf_init(&url, CS_GOOGLE_URL_CAP);
	body = json_pack("{s:s, s:s}", "id", ch->id, "resourceId", ch->resource_id);
	if (!body)
		cs_err_set(err, CS_ENOMEM, false, "out of memory");
	else if (cs_google_api_base(g, &url, err) == 0 &&
		 cs_dynbuf_addstr(&url, "/channels/stop", err) == 0)
		rc = post_json(g, url.data, body, NULL, err);
	json_decref(body);
	cs_dynbuf_release(&url);
	return rc;
}
