/* mapping.c - reading and writing calendar_event_mappings (see mapping.h). */
#include "mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "banned.h"

#define MAPPING_COLUMNS                                                              \
	"event_id, external_event_id, external_etag, sync_direction, local_hash,"    \
	" remote_hash, COALESCE(is_deleted, FALSE), pending_delete, left_alone"

static char *col(PGresult *res, int row, int c)
{
	const char *v = cs_db_get(res, row, c);

	return v ? strdup(v) : NULL;
}

static void fill(cs_mapping *m, PGresult *res, int row)
{
	m->event_id = col(res, row, 0);
	m->remote_id = col(res, row, 1);
	m->etag = col(res, row, 2);
	m->direction = col(res, row, 3);
	m->local_hash = col(res, row, 4);
	m->remote_hash = col(res, row, 5);
	m->is_deleted = strcmp(PQgetvalue(res, row, 6), "t") == 0;
	m->pending_delete = strcmp(PQgetvalue(res, row, 7), "t") == 0;
	m->left_alone = strcmp(PQgetvalue(res, row, 8), "t") == 0;
}

void cs_mapping_release(cs_mapping *m)
{
	free(m->event_id);
	free(m->remote_id);
	free(m->etag);
	free(m->direction);
	free(m->local_hash);
	free(m->remote_hash);
	memset(m, 0, sizeof(*m));
}

/*
 * Up to this many ids are looked up one index probe each; more are
 * matched by a hash join, which stays cheap also when the statistics
 * still describe an empty table (the first pages of an initial pull).
 */
#define FEW_IDS 64
/* The mappings of calendar $1 whose remote id matches (the ids in JSON array $2). */
#define BY_REMOTE_IDS(match) \
	"SELECT " MAPPING_COLUMNS " FROM calendar_event_mappings" \
	" WHERE external_calendar_id = $1 AND external_event_id " match

int cs_mapset_load(cs_db *db, const char *cal, json_t *remote_ids, cs_mapset *out, cs_err *err)
{
	char *ids = json_dumps(remote_ids, JSON_COMPACT);
	const char *params[2] = {cal, ids};
	PGresult *res = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!ids)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	if (cs_db_exec(db, &res, err, json_array_size(remote_ids) <= FEW_IDS ?
		       BY_REMOTE_IDS("= ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))") :
		       BY_REMOTE_IDS("IN (SELECT jsonb_array_elements_text($2::jsonb))"),
		       2, params))
		goto out;
	out->n = PQntuples(res);
	out->items = calloc((size_t)out->n + 1, sizeof(cs_mapping));
	out->by_remote = json_object();
	if (!out->items || !out->by_remote) {
		cs_err_set(err, CS_ENOMEM, true, "out of memory");
		goto out;
	}
	for (int i = 0; i < out->n; i++) {
		fill(&out->items[i], res, i);
		json_object_set_new(out->by_remote, out->items[i].remote_id, json_integer(i));
	}
	rc = 0;
out:
	PQclear(res);
	free(ids);
	if (rc)
		cs_mapset_release(out);
	return rc;
}

cs_mapping *cs_mapset_find(const cs_mapset *set, const char *remote_id)
{
	json_t *i = set->by_remote ? json_object_get(set->by_remote, remote_id) : NULL;

	return i ? &set->items[json_integer_value(i)] : NULL;
}

void cs_mapset_release(cs_mapset *set)
{
	for (int i = 0; set->items && i < set->n; i++)
		cs_mapping_release(&set->items[i]);
	free(set->items);
	json_decref(set->by_remote);
	memset(set, 0, sizeof(*set));
}

static int lookup(cs_db *db, const char *sql, const char *cal, const char *key,
		  cs_mapping *m, bool *found, cs_err *err)
{
	const char *params[2] = {cal, key};
	PGresult *res = NULL;

	memset(m, 0, sizeof(*m));
	*found = false;
	if (cs_db_exec(db, &res, err, sql, 2, params))
		return -1;
	if (PQntuples(res) == 1) {
		fill(m, res, 0);
		*found = true;
	}
	PQclear(res);
	return 0;
}

int cs_mapping_by_event(cs_db *db, const char *cal, const char *event_id, cs_mapping *m,
			bool *found, cs_err *err)
{
	return lookup(db, "SELECT " MAPPING_COLUMNS " FROM calendar_event_mappings"
			  " WHERE external_calendar_id = $1 AND event_id = $2",
		      cal, event_id, m, found, err);
}

int cs_mapping_by_remote(cs_db *db, const char *cal, const char *remote_id, cs_mapping *m,
			 bool *found, cs_err *err)
{
	return lookup(db, "SELECT " MAPPING_COLUMNS " FROM calendar_event_mappings"
			  " WHERE external_calendar_id = $1 AND external_event_id = $2",
		      cal, remote_id, m, found, err);
}

json_t *cs_mapping_row(const cs_mapping *m, const char *series, long long generation)
{
	json_t *o = json_object();

	json_object_set_new(o, "event_id", json_string(m->event_id));
	json_object_set_new(o, "remote_id", json_string(m->remote_id));
	cs_json_put(o, "etag", m->etag);
	json_object_set_new(o, "direction", json_string(m->direction));
	cs_json_put(o, "local_hash", m->local_hash);
	cs_json_put(o, "remote_hash", m->remote_hash);
	json_object_set_new(o, "is_deleted", json_boolean(m->is_deleted));
	json_object_set_new(o, "left_alone", json_boolean(m->left_alone));
	cs_json_put(o, "series", series);
	json_object_set_new(o, "generation", json_integer(generation));
	cs_json_put(o, "synced_at", m->synced_at);
	return o;
}

int cs_mapping_insert(cs_db *db, const char *cal, const char *rows, cs_err *err)
{
	return cs_db_exec(db, NULL, err,
			  "INSERT INTO calendar_event_mappings (event_id, external_calendar_id,"
			  " external_event_id, external_etag, sync_direction, local_hash, remote_hash,"
			  " is_deleted, remote_series_id, seen_generation, last_synced_at, left_alone)"
			  " SELECT x.event_id, $1, x.remote_id, x.etag, x.direction, x.local_hash,"
			  " x.remote_hash, x.is_deleted, x.series, x.generation,"
			  " COALESCE(x.synced_at, NOW()), COALESCE(x.left_alone, FALSE)"
			  " FROM jsonb_to_recordset($2::jsonb) AS x(event_id uuid, remote_id text,"
			  " etag text, direction text, local_hash text, remote_hash text,"
			  " is_deleted boolean, series text, generation bigint, synced_at timestamptz,"
			  " left_alone boolean)"
			  " ON CONFLICT (event_id, external_calendar_id) DO UPDATE SET"
			  " external_event_id = EXCLUDED.external_event_id,"
			  " external_etag = EXCLUDED.external_etag, local_hash = EXCLUDED.local_hash,"
			  " remote_hash = EXCLUDED.remote_hash, is_deleted = EXCLUDED.is_deleted,"
			  " remote_series_id = COALESCE(EXCLUDED.remote_series_id,"
			  "  calendar_event_mappings.remote_series_id),"
			  " seen_generation = GREATEST(EXCLUDED.seen_generation,"
			  "  calendar_event_mappings.seen_generation),"
			  " pending_delete = FALSE, last_synced_at = EXCLUDED.last_synced_at,"
			  " left_alone = EXCLUDED.left_alone,"
			  " updated_at = NOW()",
			  2, (const char *const[]){cal, rows});
}

int cs_mapping_save(cs_db *db, const char *cal, const cs_mapping *m, const char *series,
		    long long generation, cs_err *err)
{
	json_t *rows = json_array();
	char *text;
	int rc;

	json_array_append_new(rows, cs_mapping_row(m, series, generation));
	text = json_dumps(rows, JSON_COMPACT);
	json_decref(rows);
	if (!text)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	rc = cs_mapping_insert(db, cal, text, err);
	free(text);
	return rc;
}

int cs_mapping_leave_alone(cs_db *db, const char *cal, const char *event_id, bool remote_gone,
			   cs_err *err)
{
	return cs_db_exec(db, NULL, err,
			  "UPDATE calendar_event_mappings SET left_alone = TRUE, is_deleted = $3::boolean,"
			  " pending_delete = FALSE, updated_at = NOW()"
			  " WHERE external_calendar_id = $1 AND event_id = $2",
			  3, (const char *const[]){cal, event_id, remote_gone ? "t" : "f"});
}

int cs_mapping_keep_held(cs_db *db, const char *cal, const char *ids, int *n, cs_err *err)
{
	PGresult *res = NULL;

	if (cs_db_exec(db, &res, err,
		       "UPDATE calendar_event_mappings SET pending_delete = FALSE, is_deleted = TRUE,"
		       " left_alone = FALSE, last_synced_at = '" CS_MAPPING_UNSYNCED "', updated_at = NOW()"
		       " WHERE external_calendar_id = $1 AND pending_delete"
		       " AND external_event_id IN (SELECT jsonb_array_elements_text($2::jsonb))",
		       2, (const char *const[]){cal, ids}))
		return -1;
	*n = cs_db_rows(res);
	PQclear(res);
	return 0;
}

int cs_mapping_detach(cs_db *db, const char *cal, cs_err *err)
{
	return cs_db_exec(db, NULL, err,
			  "INSERT INTO calendar_detached_mappings (tenant_id, provider,"
			  " provider_calendar_id, external_event_id, event_id, source_calendar_id,"
			  " external_etag, sync_direction, local_hash, remote_hash, is_deleted,"
			  " left_alone, remote_series_id, last_synced_at)"
			  " SELECT c.tenant_id, c.provider, c.provider_calendar_id, m.external_event_id,"
			  " m.event_id, c.id, m.external_etag, m.sync_direction, m.local_hash,"
			  " m.remote_hash, COALESCE(m.is_deleted, FALSE), m.left_alone,"
			  " m.remote_series_id, m.last_synced_at"
			  " FROM calendar_event_mappings m JOIN external_calendars c"
			  " ON c.id = m.external_calendar_id WHERE c.id = $1"
			  " ON CONFLICT (tenant_id, provider, provider_calendar_id, external_event_id)"
			  " DO UPDATE SET event_id = EXCLUDED.event_id,"
			  " source_calendar_id = EXCLUDED.source_calendar_id,"
			  " external_etag = EXCLUDED.external_etag,"
			  " sync_direction = EXCLUDED.sync_direction, local_hash = EXCLUDED.local_hash,"
			  " remote_hash = EXCLUDED.remote_hash, is_deleted = EXCLUDED.is_deleted,"
			  " left_alone = EXCLUDED.left_alone,"
			  " remote_series_id = EXCLUDED.remote_series_id,"
			  " last_synced_at = EXCLUDED.last_synced_at, detached_at = NOW()",
			  1, &cal);
}

int cs_mapping_reattach(cs_db *db, const char *cal, int *n, cs_err *err)
{
	PGresult *res = NULL;

	*n = 0;
	if (cs_db_exec(db, &res, err,
		       "WITH d AS (DELETE FROM calendar_detached_mappings d USING external_calendars c"
		       "  WHERE c.id = $1 AND d.tenant_id = c.tenant_id AND d.provider = c.provider"
		       "  AND d.provider_calendar_id = c.provider_calendar_id RETURNING d.*),"
		       " m AS (INSERT INTO calendar_event_mappings (event_id, external_calendar_id,"
		       "  external_event_id, external_etag, sync_direction, local_hash, remote_hash,"
		       "  is_deleted, left_alone, remote_series_id, seen_generation, last_synced_at)"
		       "  SELECT d.event_id, $1, d.external_event_id, d.external_etag, d.sync_direction,"
		       "  d.local_hash, d.remote_hash, d.is_deleted, d.left_alone, d.remote_series_id, 0,"
		       "  d.last_synced_at FROM d ON CONFLICT DO NOTHING RETURNING event_id),"
		       " e AS (UPDATE events e SET source_calendar_id = $1 FROM d"
		       "  WHERE e.id = d.event_id AND e.source_calendar_id = d.source_calendar_id"
		       "  AND e.id IN (SELECT event_id FROM m))"
		       " SELECT count(*) FROM m",
		       1, &cal))
		return -1;
	*n = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int cs_mapping_settle(cs_db *db, const char *cal, const char *event_id, const char *updated_at,
		      cs_err *err)
{
	return cs_db_exec(db, NULL, err,
			  "UPDATE calendar_event_mappings SET last_synced_at = GREATEST(last_synced_at,"
			  " $3::timestamptz), updated_at = NOW()"
			  " WHERE external_calendar_id = $1 AND event_id = $2",
			  3, (const char *const[]){cal, event_id, updated_at});
}
