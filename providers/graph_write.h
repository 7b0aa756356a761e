/*
 * graph_write.h - the writes of the Graph provider (graph.c holds the
 * reads): create with transactionId, PATCH and DELETE under If-Match,
 * exceptions and cancelled occurrences of a series, and get.
 *
 * - create: POST /me/calendars/{cal}/events; the transactionId derived
 *   from the Hub id makes a retried create return the first event, which
 *   is then reported as existed when its content is not ev's. An override
 *   (ev->series_id) is written on the occurrence it replaces (found among
 *   the series' instances by its original start): PATCHed into an
 *   exception, or DELETEd when the Hub cancelled it.
 * - update/remove: PATCH/DELETE /me/events/{id} with If-Match; 412 ->
 *   CS_ECONFLICT; a delete of an event already gone is a success.
 * - a master's EXDATE lines cancel those occurrences (DELETE of each
 *   instance still there), after the master is written.
 * - get: GET /me/events/{id} with calsync's extended properties; Graph
 *   keeps no deleted events, so a deleted one is CS_ENOTFOUND.
 *
 * Ownership as in provider.h.
 */
#ifndef CS_GRAPH_WRITE_H
#define CS_GRAPH_WRITE_H

#include "graph_api.h"

int cs_graph_create(cs_provider *g, const char *cal, const cs_event *ev, const char *hub_id,
		    cs_event *out, cs_err *err);
int cs_graph_update(cs_provider *g, const char *cal, const cs_event *ev, cs_event *out,
		    cs_err *err);
int cs_graph_get(cs_provider *g, const char *cal, const char *id, cs_event *out, cs_err *err);
int cs_graph_remove(cs_provider *g, const char *cal, const char *id, const char *etag,
		    cs_err *err);

#endif
