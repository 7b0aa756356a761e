/*
 * handler_account.c - the jobs about a connection rather than its events:
 * `discover` (list the calendars an account offers, for the backend's
 * calendar-selection step; when the provider refreshed the credentials
 * meanwhile, the answer carries them sealed as "credentials") and
 * `disconnect` (engine/disconnect.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disconnect.h"
#include "handlers.h"
#include "ids.h"
#include "banned.h"

/* Open credentials[key] (sealed with the tenant) into *out; absent stays NULL. */
static int open_field(cs_worker *w, const char *tenant, json_t *creds, const char *key,
		      char **out, cs_err *err)
{
	json_t *v = json_object_get(creds, key);
	size_t len;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cs_err_set(err, CS_EINVAL, false, "discover job: credentials.%s is not a string", key);
	if (cs_secret_open(w->keys, tenant, json_string_value(v), out, &len, err))
		return cs_err_prefix(err, "discover job: credentials.%s", key);
	return 0;
}

/*
 * The credentials the provider refreshed during the listing, sealed with
 * the tenant, for the answer: a provider that rotates refresh tokens
 * (Outlook) killed the one the backend holds.
 */
static int refreshed_credentials(cs_worker *w, const char *tenant, const cs_creds *creds,
				 json_t *answer, cs_err *err)
{
	char *access = NULL, *refresh = NULL;
	int rc = -1;

	if (!creds->changed)
		return 0;
	if ((creds->access_token && cs_secret_seal(w->keys, tenant, creds->access_token,
						   strlen(creds->access_token), &access, err)) ||
	    (creds->refresh_token && cs_secret_seal(w->keys, tenant, creds->refresh_token,
						    strlen(creds->refresh_token), &refresh, err)))
		goto out;
	if (json_object_set_new(answer, "credentials",
				json_pack("{s:s?, s:s?, s:I}", "access_token", access, "refresh_token",
					  refresh, "expires_at", (json_int_t)creds->expires_at)))
		cs_err_set(err, CS_ENOMEM, true, "out of memory");
	else
		rc = 0;
out:
	free(access);
	free(refresh);
	return rc;
}

static json_t *calendar_array(const cs_calendar_list *list)
{
	json_t *a = json_array();

	for (size_t i = 0; i < list->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s?, s:s?, s:b, s:b}",
						   "id", list->items[i].id,
						   "name", list->items[i].name,
						   "color", list->items[i].color,
						   "is_primary", list->items[i].primary,
						   "writable", list->items[i].writable));
	return a;
}

int cs_handle_discover(cs_worker *w, cs_job *job, cs_err *err)
{
	const char *tenant = cs_job_str(job, "tenant_id");
	const char *provider = cs_job_str(job, "provider");
	json_t *creds_json = json_object_get(job->data, "credentials");
	const struct cs_provider_ops *ops = cs_provider_find(provider);
	cs_calendar_list list = {0};
	cs_provider *p = NULL;
	cs_creds creds = {0};
	json_t *answer = NULL;
	json_t *v;
	int rc = -1;

	if (!cs_is_uuid(tenant))
		return cs_err_set(err, CS_EINVAL, false, "discover job: tenant_id is missing or not a UUID");
	if (!ops)
		return cs_err_set(err, CS_EINVAL, false, "discover job: unknown provider '%.32s'",
				  provider ? provider : "");
	if (!json_is_object(creds_json))
		return cs_err_set(err, CS_EINVAL, false, "discover job: credentials is not an object");
	job->tenant_id = strdup(tenant);
	if (open_field(w, tenant, creds_json, "access_token", &creds.access_token, err) ||
	    open_field(w, tenant, creds_json, "refresh_token", &creds.refresh_token, err) ||
	    open_field(w, tenant, creds_json, "password", &creds.password, err))
		goto out;
	if ((v = json_object_get(creds_json, "username")) && json_is_string(v))
		creds.username = strdup(json_string_value(v));
	if ((v = json_object_get(creds_json, "url")) && json_is_string(v))
		creds.url = strdup(json_string_value(v));
	if (ops->open(&p, w->cfg, &creds, w->http, err) || ops->list_calendars(p, &list, err))
		goto out;
	answer = json_pack("{s:s, s:s, s:o}", "job_id", job->job_id, "provider", ops->name,
			   "calendars", calendar_array(&list));
	if (answer && refreshed_credentials(w, tenant, &creds, answer, err))
		goto out;
	job->answer = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	job->answer_type = "calendars";
	rc = job->answer ? 0 : cs_err_set(err, CS_ENOMEM, true, "out of memory");
out:
	json_decref(answer);
	cs_calendar_list_release(&list);
	if (p)
		ops->close(p);
	cs_creds_release(&creds);
	return rc;
}

static int disconnect_job(cs_sync *s, cs_job *job, cs_calendar *cal, cs_err *err)
{
	cs_watch_stop(s, cal->id);
	return cs_disconnect(s, cal, json_is_true(json_object_get(job->data, "remove_events")), err);
}

int cs_handle_disconnect(cs_worker *w, cs_job *job, cs_err *err)
{
	return cs_handle_with_calendar(w, job, false, disconnect_job, err);
}
