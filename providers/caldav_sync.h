/*
 * caldav_sync.h - the CalDAV provider's fetch: changes of one calendar
 * collection as cs_events.
 *
 * Tokens (opaque to the engine): "sync:<server token>" where the server
 * has sync-collection (RFC 6578), "ctag:<getctag>" where it has not.
 * - incremental, sync: REPORT sync-collection with the token; members
 *   answered 404 are deletions (cancelled); a 507 for the collection
 *   (a truncated answer) gives next_page "sync:<new token>" to go on
 *   with; a token the server refuses in any way (403/409/400/412, a
 *   missing report) is CS_EGONE: the engine does a full sync, which
 *   finds deletions by comparison (CS_CAP_LISTS_ALL).
 * - incremental, ctag: PROPFIND the ctag (one request); unchanged -> no
 *   changes, changed -> CS_EGONE (a full listing compares everything).
 * - full: sync-collection with an empty token; where the server has no
 *   sync-collection, calendar-query (VEVENT filter) lists every member
 *   with its etag and the token becomes the ctag.
 * Bodies missing from an answer are fetched with calendar-multiget in
 * batches of CS_CALDAV_MULTIGET hrefs.
 *
 * Ownership: out is caller-owned (cs_page_release()).
 */
#ifndef CS_CALDAV_SYNC_H
#define CS_CALDAV_SYNC_H

#include "caldav_dav.h"

#define CS_CALDAV_MULTIGET 100

int cs_caldav_fetch(cs_provider *p, const char *calendar, const char *sync_token,
		    const char *page_token, cs_page *out, cs_err *err);

#endif
