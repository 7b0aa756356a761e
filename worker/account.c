/*
 * account.c - the jobs about a connection rather than its events:
 * `discover` (list the calendars an account offers, for the backend's
 * calendar-selection step), `disconnect` (revoke the grant where the
 * provider allows it, remove the connection, optionally tombstone the
 * events that came from it - kept, their mappings are set aside for a
 * later reconnect), and `noop`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "handlers.h"
#include "ids.h"
#include "log.h"
#include "mapping.h"
#include "banned.h"

int cs_handle_noop(cs_worker *w, cs_job *job, cs_err *err)
{
	(void)w;
	(void)err;
	job->status = "success";
	return 0;
}

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

/* Does another connection of the same user use the same provider account? */
static int shares_grant(cs_worker *w, const cs_calendar *cal, bool *shared, cs_err *err)
{
	PGresult *res = NULL;

	if (cs_db_exec(w->db, &res, err,
		       "SELECT 1 FROM external_calendars WHERE user_id = $1 AND provider = $2"
		       " AND id <> $3 LIMIT 1",
		       3, (const char *const[]){cal->user_id, cal->provider_name, cal->id}))
		return -1;
	*shared = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

static int disconnect(cs_worker *w, cs_job *job, cs_calendar *cal, cs_err *err)
{
	json_t *remove = json_object_get(job->data, "remove_events");
	const char *params[2] = {cal->id, json_is_true(remove) ? "t" : "f"};
	PGresult *res = NULL;
	bool shared = false;
	cs_err rerr;

	if (shares_grant(w, cal, &shared, err))
		return -1;
	if (!shared && (cs_calendar_connect(w, cal, &rerr) ||
			cal->ops->revoke(cal->provider, &rerr))) {
		if (rerr.retryable) {
			*err = rerr;
			return -1;
		}
		cs_warn("calendar %s: revoking the grant failed (%s); removing the connection anyway",
			cal->id, rerr.msg);
	}
	if (cs_db_begin(w->db, err))
		return -1;
	if ((!json_is_true(remove) && cs_mapping_detach(w->db, cal->id, err)) ||
	    cs_db_exec(w->db, &res, err,
		       "WITH gone AS (UPDATE events e SET deleted_at = NOW(), updated_at = NOW()"
		       " FROM calendar_event_mappings m WHERE $2::boolean AND m.event_id = e.id"
		       " AND m.external_calendar_id = $1 AND m.sync_direction = 'from_external'"
		       " AND e.deleted_at IS NULL RETURNING e.id)"
		       " SELECT count(*) FROM gone",
		       2, params) ||
	    cs_db_exec(w->db, NULL, err, "DELETE FROM external_calendars WHERE id = $1", 1, params) ||
	    cs_db_commit(w->db, err)) {
		PQclear(res);
		cs_db_rollback(w->db);
		return -1;
	}
	job->counts.deleted = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int cs_handle_disconnect(cs_worker *w, cs_job *job, cs_err *err)
{
	return cs_calendar_run(w, job, false, disconnect, err);
}
