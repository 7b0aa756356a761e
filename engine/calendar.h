/*
 * calendar.h - one connected calendar as the engine needs it: its row of
 * external_calendars, its sync state, its credentials opened from their
 * sealed form, and its provider opened with them.
 *
 * Ownership: cs_calendar_load() fills a caller-owned cs_calendar;
 * cs_calendar_release() closes the provider and frees everything,
 * zeroing the credentials.
 */
#ifndef CS_CALENDAR_H
#define CS_CALENDAR_H

#include <stdbool.h>

#include "provider.h"
#include "engine.h"

typedef struct cs_calendar {
	char *id;
	char *tenant_id;
	char *user_id;
	char *provider_name;
	char *remote_id;        /* provider_calendar_id */
	char *direction;        /* bidirectional, pull_only, push_only */
	bool active;
	char *sync_token;       /* NULL: the next sync is a full one */
	char *page_token;       /* a sync interrupted between pages resumes here */
	long long generation;   /* of the full sync in progress or last done */
	bool full_running;      /* page_token belongs to a full sync */
	bool last_clean;        /* the last sync recorded was a success without a note */
	cs_creds creds;         /* stored the moment the provider refreshes them */
	char *refresh_stored;   /* the refresh token as last opened or stored (plain; wiped) */
	cs_sync *owner;         /* the context that connected it, for the credentials hook */
	const struct cs_provider_ops *ops;
	cs_provider *provider;
} cs_calendar;

/* Load the calendar id (CS_ENOTFOUND when it does not exist). */
int cs_calendar_load(cs_sync *s, const char *id, cs_calendar *cal, cs_err *err);
/* Open the credentials and the provider (CS_EINVAL/CS_ECRYPTO: cannot, and why). */
int cs_calendar_connect(cs_sync *s, cs_calendar *cal, cs_err *err);
/*
 * Storing refreshed credentials also stores them on every calendar of the
 * same tenant, user and provider that held the same refresh token: a
 * provider that rotates refresh tokens (Outlook) kills the old one, which
 * the other calendars of that mailbox share.
 *
 * When the provider refreshed the credentials and they are not stored yet
 * (the hook that stores them at once failed), seal and store them (inside
 * the caller's transaction).
 */
int cs_calendar_store_creds(cs_sync *s, cs_calendar *cal, cs_err *err);
/*
 * Record that the provider refused the credentials: the user must
 * reconnect - unless the stored refresh token moved on since this run
 * loaded it (a calendar of the same mailbox rotated it): nothing then.
 */
int cs_calendar_mark_auth_required(cs_sync *s, const cs_calendar *cal, const char *why,
				   cs_err *err);
/*
 * Whether the refresh token stored for cal is no longer the one this run
 * used: another calendar of the mailbox rotated it meanwhile (and stored
 * it on cal's row too), so a refusal of the old one is no reason to
 * reconnect - the sync is tried again with the new one.
 */
bool cs_calendar_token_moved(cs_sync *s, const cs_calendar *cal);
bool cs_calendar_pulls(const cs_calendar *cal);
/* The connected provider declares cap (a CS_CAP_* flag, provider.h). */
bool cs_calendar_can(const cs_calendar *cal, enum cs_provider_cap cap);
bool cs_calendar_pushes(const cs_calendar *cal);
void cs_calendar_release(cs_calendar *cal);

#endif
