/* hub.c - reading and writing Family Hub events (see hub.h). */
#include "hub.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Text of a timestamptz column in cs_event form, by the all-day flag. */
#define TIME_TEXT(col) \
	"CASE WHEN e.is_all_day THEN to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD')" \
	" ELSE to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') END"

/* A text parameter in cs_event form back to timestamptz, by the all-day flag. */
#define TIME_VALUE(txt, allday) \
	"CASE WHEN " txt " IS NULL THEN NULL WHEN " allday " THEN (" txt "::date)::timestamp" \
	" AT TIME ZONE 'UTC' ELSE " txt "::timestamptz END"

/*
 * The zone of e: its own; for a timed series or override without one, its
 * series' zone or else the tenant's - a series written in UTC would move
 * its wall time at every DST change.
 */
#define ZONE                                                                        \
	"CASE WHEN e.is_all_day OR COALESCE(e.timezone, '') <> '' OR"               \
	" (COALESCE(e.recurrence, '') = '' AND e.recurring_event_id IS NULL) THEN e.timezone" \
	" ELSE COALESCE(NULLIF((SELECT s.timezone FROM events s WHERE s.id = e.recurring_event_id),"\
	" ''), t.timezone) END"

static char *dup_col(PGresult *res, int col)
{
	const char *v = cs_db_get(res, 0, col);

	return v ? strdup(v) : NULL;
}

/* Split "a\nb" into the attendee list. */
static int split_attendees(cs_event *ev, const char *joined, cs_err *err)
{
	size_t n = 1;

	if (!joined || !*joined)
		return 0;
	for (const char *p = joined; *p; p++)
		n += *p == '\n';
	ev->attendees = calloc(n, sizeof(char *));
	if (!ev->attendees)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	while (*joined) {
		const char *end = strchr(joined, '\n');
		size_t len = end ? (size_t)(end - joined) : strlen(joined);

		ev->attendees[ev->nattendees] = strndup(joined, len);
		if (!ev->attendees[ev->nattendees++])
			return cs_err_set(err, CS_ENOMEM, true, "out of memory");
		joined += len + (end ? 1 : 0);
	}
	return 0;
}

int cs_hub_load(cs_db *db, const char *id, cs_hubevent *out, cs_err *err)
{
	PGresult *res = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (cs_db_exec(db, &res, err,
		       "SELECT e.id, e.tenant_id, e.created_by, e.title, e.description, e.location,"
		       " e.is_all_day, " TIME_TEXT("e.start_time") ", " TIME_TEXT("e.end_time") ","
		       " " ZONE ", e.recurrence, e.recurring_event_id,"
		       " " TIME_TEXT("e.original_start_time") ","
		       " array_to_string(e.attendees, E'\\n'), e.status, e.deleted_at IS NOT NULL,"
		       " e.updated_at::text"
		       " FROM events e LEFT JOIN tenants t ON t.id = e.tenant_id WHERE e.id = $1",
		       1, &id))
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cs_err_set(err, CS_ENOTFOUND, false, "event %s does not exist", id);
	}
	out->ev.id = dup_col(res, 0);
	out->tenant_id = dup_col(res, 1);
	out->created_by = dup_col(res, 2);
	out->ev.title = dup_col(res, 3);
	out->ev.description = dup_col(res, 4);
	out->ev.location = dup_col(res, 5);
	out->ev.all_day = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	out->ev.start = dup_col(res, 7);
	out->ev.end = dup_col(res, 8);
	out->ev.timezone = dup_col(res, 9);
	out->ev.recurrence = dup_col(res, 10);
	out->ev.series_id = dup_col(res, 11);
	out->ev.original_start = dup_col(res, 12);
	out->ev.status = dup_col(res, 14);
	out->deleted = strcmp(PQgetvalue(res, 0, 15), "t") == 0;
	out->updated_at = dup_col(res, 16);
	out->ev.cancelled = out->ev.status && strcmp(out->ev.status, "cancelled") == 0;
	out->ev.hub_id = dup_col(res, 0);
	if (!out->ev.id || !out->tenant_id || !out->ev.start || !out->ev.end)
		rc = cs_err_set(err, CS_EINVAL, false, "event %s lacks its tenant or times", id);
	else
		rc = split_attendees(&out->ev, cs_db_get(res, 0, 13), err);
	PQclear(res);
	if (rc)
		cs_hubevent_release(out);
	return rc;
}

void cs_hubevent_release(cs_hubevent *h)
{
	cs_event_release(&h->ev);
	free(h->tenant_id);
	free(h->created_by);
	free(h->updated_at);
	memset(h, 0, sizeof(*h));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *attendee_array(const cs_event *ev)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < ev->nattendees; i++)
		json_array_append_new(a, json_string(ev->attendees[i]));
	return a;
}

/* Hub status of a pulled event: a cancelled override stays as a cancelled row. */
static const char *hub_status(const cs_event *ev)
{
	if (ev->cancelled)
		return "cancelled";
	return ev->status && strcmp(ev->status, "tentative") == 0 ? "tentative" : "confirmed";
}

void cs_json_put(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, json_string(s));
}

json_t *cs_hub_row(const cs_event *ev, const char *hub_id, const char *hub_series)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(hub_id));
	json_object_set_new(o, "title", json_string(ev->title ? ev->title : ""));
	cs_json_put(o, "description", ev->description);
	cs_json_put(o, "location", ev->location);
	json_object_set_new(o, "start", json_string(ev->start));
	json_object_set_new(o, "end", json_string(ev->end));
	json_object_set_new(o, "all_day", json_boolean(ev->all_day));
	cs_json_put(o, "timezone", ev->all_day ? NULL : ev->timezone);
	cs_json_put(o, "recurrence", ev->recurrence);
	cs_json_put(o, "series", hub_series);
	cs_json_put(o, "original_start", ev->original_start);
	if (ev->nattendees)
		json_object_set_new(o, "attendees", attendee_array(ev));
	json_object_set_new(o, "status", json_string(hub_status(ev)));
	return o;
}

/* The attendees of row x as text[]; most events have none: no subquery then. */
#define ATTENDEES \
	"CASE WHEN x.attendees IS NULL THEN '{}'::text[]" \
	" ELSE ARRAY(SELECT jsonb_array_elements_text(x.attendees)) END"

#define ROW_FIELDS                                                                  \
	"x(id uuid, title text, description text, location text, start text, \"end\" text," \
	" all_day boolean, timezone text, recurrence text, series uuid, original_start text," \
	" attendees jsonb, status text"
#define ROW_COLUMNS ROW_FIELDS ")"

int cs_hub_insert_send(cs_db *db, const char *tenant, const char *user, const char *source,
		       long long generation, const char *rows, cs_err *err)
{
	char gen[24];

	snprintf(gen, sizeof(gen), "%lld", generation);
	return cs_db_send(db, err,
			  "WITH x AS MATERIALIZED (SELECT * FROM jsonb_to_recordset($1::jsonb) AS"
			  " " ROW_FIELDS ", remote_id text, etag text, hash text, remote_series text)),"
			  " e AS (INSERT INTO events (id, tenant_id, created_by, title, description,"
			  " location, start_time, end_time, is_all_day, timezone, recurrence,"
			  " recurring_event_id, original_start_time, attendees, status,"
			  " source_calendar_id, updated_at)"
			  " SELECT x.id, $2, $3, x.title, x.description, x.location,"
			  " " TIME_VALUE("x.start", "x.all_day") ", " TIME_VALUE("x.\"end\"", "x.all_day") ","
			  " x.all_day, x.timezone, x.recurrence, x.series,"
			  " " TIME_VALUE("x.original_start", "x.all_day") ","
			  " " ATTENDEES ", x.status, $4, NOW() FROM x)"
			  " INSERT INTO calendar_event_mappings (event_id, external_calendar_id,"
			  " external_event_id, external_etag, sync_direction, local_hash, remote_hash,"
			  " is_deleted, remote_series_id, seen_generation, last_synced_at)"
			  " SELECT x.id, $4, x.remote_id, x.etag, 'from_external', x.hash, x.hash, FALSE,"
			  " x.remote_series, $5::bigint, NOW() FROM x",
			  5, (const char *const[]){rows, tenant, user, source, gen});
}

int cs_hub_update(cs_db *db, const char *hub_id, const cs_event *ev, const char *hub_series,
		  cs_err *err)
{
	json_t *row = cs_hub_row(ev, hub_id, hub_series);
	char *json = row ? json_dumps(row, JSON_COMPACT) : NULL;
	const char *params[1] = {json};
	int rc;

	json_decref(row);
	if (!json)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	rc = cs_db_exec(db, NULL, err,
			"UPDATE events e SET title = x.title, description = x.description,"
			" location = x.location, start_time = " TIME_VALUE("x.start", "x.all_day") ","
			" end_time = " TIME_VALUE("x.\"end\"", "x.all_day") ", is_all_day = x.all_day,"
			" timezone = x.timezone, recurrence = x.recurrence,"
			" recurring_event_id = x.series,"
			" original_start_time = " TIME_VALUE("x.original_start", "x.all_day") ","
			" attendees = " ATTENDEES ","
			" status = x.status, deleted_at = NULL, updated_at = NOW()"
			" FROM jsonb_to_record($1::jsonb) AS " ROW_COLUMNS " WHERE e.id = x.id",
			1, params);
	free(json);
	return rc;
}

int cs_hub_tombstone(cs_db *db, const char *hub_id, cs_err *err)
{
	return cs_db_exec(db, NULL, err,
			  "UPDATE events SET deleted_at = COALESCE(deleted_at, NOW()), updated_at = NOW()"
			  " WHERE (id = $1 OR recurring_event_id = $1) AND deleted_at IS NULL",
			  1, &hub_id);
}

json_t *cs_event_json(const cs_event *ev)
{
	static const char *const optional[] = {"description", "location", "timezone",
					       "recurrence", "original_start"};
	json_t *o = cs_hub_row(ev, ev->id ? ev->id : "", NULL);

	json_object_del(o, "series");
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (!json_object_get(o, optional[i]))
			json_object_set_new(o, optional[i], json_null());
	if (!json_object_get(o, "attendees"))
		json_object_set_new(o, "attendees", json_array());
	json_object_set_new(o, "id", str_or_null(ev->id));
	json_object_set_new(o, "etag", str_or_null(ev->etag));
	json_object_set_new(o, "cancelled", json_boolean(ev->cancelled));
	return o;
}

static int take_str(json_t *o, const char *key, char **out, cs_err *err)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cs_err_set(err, CS_EINVAL, false, "event field '%s' is not a string", key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : cs_err_set(err, CS_ENOMEM, true, "out of memory");
}

int cs_event_from_json(json_t *o, cs_event *ev, cs_err *err)
{
	static const char *const keys[] = {"id", "etag", "title", "description", "location",
					   "start", "end", "timezone", "recurrence",
					   "original_start", "status"};
	char **fields[] = {&ev->id, &ev->etag, &ev->title, &ev->description, &ev->location,
			   &ev->start, &ev->end, &ev->timezone, &ev->recurrence,
			   &ev->original_start, &ev->status};
	json_t *att = json_object_get(o, "attendees");
	json_t *v;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(o))
		return cs_err_set(err, CS_EINVAL, false, "event is not a JSON object");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (take_str(o, keys[i], fields[i], err))
			goto fail;
	ev->all_day = json_is_true(json_object_get(o, "all_day"));
	ev->cancelled = json_is_true(json_object_get(o, "cancelled"));
	if (json_is_array(att) && json_array_size(att)) {
		ev->attendees = calloc(json_array_size(att), sizeof(char *));
		if (!ev->attendees)
			goto oom;
		json_array_foreach(att, i, v)
			if (json_is_string(v) &&
			    !(ev->attendees[ev->nattendees++] = strdup(json_string_value(v))))
				goto oom;
	}
	return 0;
oom:
	cs_err_set(err, CS_ENOMEM, true, "out of memory");
fail:
	cs_event_release(ev);
	return -1;
}
