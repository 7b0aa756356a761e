/*
 * caldav_xml.h - WebDAV multistatus answers (RFC 4918 13, RFC 6578,
 * RFC 4791) parsed with libxml2 into the few properties calsync reads,
 * and the request bodies it sends. Pure functions: no I/O.
 *
 * Only properties inside a propstat whose status is 2xx count; a
 * response with its own status (a member answered 404 by
 * sync-collection, the 507 of a truncated answer) has status set and no
 * properties. The parser never loads external entities or DTDs and
 * refuses documents nested deeper than libxml2's default limit.
 *
 * Ownership: cs_dav_parse() fills a caller-owned cs_dav_multistatus
 * (release it with cs_dav_multistatus_release(), also after a failure);
 * cs_dav_multiget_body() appends to a caller's buffer.
 */
#ifndef CS_CALDAV_XML_H
#define CS_CALDAV_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "dynbuf.h"
#include "err.h"

typedef struct cs_dav_response {
	char *href;           /* as the server wrote it (may be relative) */
	int status;           /* the response's own status; 0: propstats instead */
	char *etag;           /* DAV:getetag */
	char *calendar_data;  /* CALDAV:calendar-data */
	char *displayname;
	char *color;          /* Apple's calendar-color, "#rrggbb[aa]" */
	char *ctag;           /* CalendarServer's getctag */
	char *sync_token;     /* DAV:sync-token as a property */
	char *principal;      /* DAV:current-user-principal href */
	char *home;           /* CALDAV:calendar-home-set href */
	bool collection;      /* resourcetype has DAV:collection */
	bool calendar;        /* resourcetype has CALDAV:calendar */
	bool comp_set;        /* supported-calendar-component-set was given */
	bool comp_vevent;     /* ... and lists VEVENT */
	bool privs;           /* current-user-privilege-set was given */
	bool can_write;       /* ... and grants write, write-content or all */
} cs_dav_response;

typedef struct cs_dav_multistatus {
	cs_dav_response *items;
	size_t n;
	char *sync_token;     /* the sync-collection answer's DAV:sync-token */
} cs_dav_multistatus;

/* Parse a 207 body; CS_EPROTO naming what is wrong when it is not a multistatus. */
int cs_dav_parse(const char *xml, size_t len, cs_dav_multistatus *out, cs_err *err);
void cs_dav_multistatus_release(cs_dav_multistatus *ms);

/* A calendar-multiget REPORT body for the n hrefs (escaped as XML text). */
int cs_dav_multiget_body(cs_dynbuf *b, const char *const *hrefs, size_t n, cs_err *err);

/* A sync-collection REPORT body for token (NULL or "": the initial sync). */
int cs_dav_sync_body(cs_dynbuf *b, const char *token, cs_err *err);

#endif
