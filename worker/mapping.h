/*
 * mapping.h - calendar_event_mappings: which remote event is which Hub
 * event on one calendar, with the etag and content fingerprints of both
 * sides at the last sync.
 *
 * Ownership: lookups fill caller-owned cs_mapping structs, freed with
 * cs_mapping_release(); cs_mapset holds many, freed with cs_mapset_release().
 */
#ifndef CS_MAPPING_H
#define CS_MAPPING_H

#include <stdbool.h>

#include <jansson.h>

#include "db.h"

typedef struct cs_mapping {
	char *event_id;
	char *remote_id;
	char *etag;
	char *direction;        /* from_external or to_external */
	char *local_hash;
	char *remote_hash;
	bool is_deleted;
	bool pending_delete;
	bool left_alone;        /* an ignored delete_conflict: neither side is written */
	/* for saving: the Hub updated_at written; NULL: now; CS_MAPPING_UNSYNCED: never */
	const char *synced_at;
} cs_mapping;

/*
 * synced_at of a mapping whose Hub side still has to be pushed: the two
 * sides' contents differ, whatever the clocks say (a push is pending).
 */
#define CS_MAPPING_UNSYNCED "-infinity"

typedef struct cs_mapset {
	cs_mapping *items;
	int n;
	json_t *by_remote;      /* remote id -> index */
} cs_mapset;

/* Mappings of the given remote ids (a JSON array of strings) on calendar cal. */
int cs_mapset_load(cs_db *db, const char *cal, json_t *remote_ids, cs_mapset *out, cs_err *err);
/* The mapping of a remote id in the set, or NULL. */
cs_mapping *cs_mapset_find(const cs_mapset *set, const char *remote_id);
void cs_mapset_release(cs_mapset *set);

/* By Hub event; *found false (and m empty) when there is none. */
int cs_mapping_by_event(cs_db *db, const char *cal, const char *event_id, cs_mapping *m,
			bool *found, cs_err *err);
/* By remote id. */
int cs_mapping_by_remote(cs_db *db, const char *cal, const char *remote_id, cs_mapping *m,
			 bool *found, cs_err *err);

/*
 * Insert or replace the mapping of (event, calendar) with m's fields and
 * last_synced_at = m->synced_at (or now). series: the remote series id of
 * an override, or NULL.
 */
int cs_mapping_save(cs_db *db, const char *cal, const cs_mapping *m, const char *series,
		    long long generation, cs_err *err);
/*
 * A push that wrote nothing still settles: the mapping of (event, calendar)
 * counts as synced with the Hub version of updated_at (everything else
 * stays as it was). No mapping: nothing to do.
 */
int cs_mapping_settle(cs_db *db, const char *cal, const char *event_id, const char *updated_at,
		      cs_err *err);
/* Insert (or update) many: rows is the JSON text of an array of cs_mapping_row() objects. */
int cs_mapping_insert(cs_db *db, const char *cal, const char *rows, cs_err *err);
json_t *cs_mapping_row(const cs_mapping *m, const char *series, long long generation);

/*
 * Leave the pair of (event, cal) alone after an ignored delete_conflict;
 * remote_gone: the remote copy is the side that is gone.
 */
int cs_mapping_leave_alone(cs_db *db, const char *cal, const char *event_id, bool remote_gone,
			   cs_err *err);

/*
 * Held deletions a person rejected (ids: a JSON array of remote ids): the
 * Hub events stay, their remote copies count as gone and are pending, so
 * the push re-creates (or, where it still exists, finds) them. *n: how many.
 */
int cs_mapping_keep_held(cs_db *db, const char *cal, const char *ids, int *n, cs_err *err);

/*
 * Disconnecting cal with its events kept: set its mappings aside by
 * (tenant, provider, provider calendar id), as they leave with the
 * connection.
 */
int cs_mapping_detach(cs_db *db, const char *cal, cs_err *err);
/*
 * Take back, for cal, the mappings set aside when a connection of the same
 * provider calendar was removed (their events kept), with the state they
 * had; the events it pulled count as pulled from cal. *n: how many.
 */
int cs_mapping_reattach(cs_db *db, const char *cal, int *n, cs_err *err);

void cs_mapping_release(cs_mapping *m);

#endif
