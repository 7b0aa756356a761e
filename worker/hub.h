/*
 * hub.h - Family Hub's own events (the `events` table) in the
 * provider-neutral form: loading one, writing what was pulled, tombstones.
 *
 * In a cs_hubevent, ev.id is the Hub event id and ev.series_id the Hub id
 * of its series (for an override). A timed event's times are UTC
 * instants; an all-day event is stored as midnight UTC of its dates (end
 * exclusive), so its dates never move with a zone. A timed series (or
 * override) stored without a zone is loaded in its series' zone, else the
 * tenant's (tenants.timezone), so that its wall time holds across DST.
 *
 * Ownership: cs_hub_load() fills a caller-owned cs_hubevent, freed with
 * cs_hubevent_release(). JSON values returned are new references.
 */
#ifndef CS_HUB_H
#define CS_HUB_H

#include <stdbool.h>

#include <jansson.h>

#include "db.h"
#include "provider.h"

typedef struct cs_hubevent {
	cs_event ev;
	char *tenant_id;
	char *created_by;
	bool deleted;           /* tombstoned (deleted_at set) */
	char *updated_at;       /* as PostgreSQL text, full precision */
} cs_hubevent;

/* CS_ENOTFOUND when there is no such event. */
int cs_hub_load(cs_db *db, const char *id, cs_hubevent *out, cs_err *err);
void cs_hubevent_release(cs_hubevent *h);

/* Set key to the string s in o, or leave it absent when s is NULL (read as NULL by SQL). */
void cs_json_put(json_t *o, const char *key, const char *s);
/*
 * One row of a Hub event: ev's content under hub_id (series: Hub id or
 * NULL); what ev lacks is left out (NULL in SQL).
 */
json_t *cs_hub_row(const cs_event *ev, const char *hub_id, const char *hub_series);
/*
 * Send the insert of new pulled events with their mappings: rows is the
 * JSON text of an array of cs_hub_row() objects that also carry their
 * remote event's remote_id, etag, hash (the fingerprint both sides now
 * hold) and remote_series (an override's remote series id, or absent).
 * They become events of tenant, created by user, pulled from calendar
 * source, mapped in generation. The caller collects the result with
 * cs_db_wait().
 */
int cs_hub_insert_send(cs_db *db, const char *tenant, const char *user, const char *source,
		       long long generation, const char *rows, cs_err *err);
/* Overwrite the content of a Hub event with ev (a pulled change). */
int cs_hub_update(cs_db *db, const char *hub_id, const cs_event *ev, const char *hub_series,
		  cs_err *err);
/* Tombstone a Hub event and its overrides (deleted_at), so the deletion can be pushed on. */
int cs_hub_tombstone(cs_db *db, const char *hub_id, cs_err *err);

/* The event as a JSON object (for conflicts' local_data / external_data). */
json_t *cs_event_json(const cs_event *ev);
/* Back from such an object (fields absent stay NULL); ev is the caller's to release. */
int cs_event_from_json(json_t *o, cs_event *ev, cs_err *err);

#endif
