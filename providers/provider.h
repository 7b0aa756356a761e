/*
 * provider.h - the one interface every calendar provider implements (the
 * seed's CalendarSyncProvider, in C). The engine talks only to this
 * interface; adding a provider means one new file here and one line in
 * the registry (provider.c), and no engine code. What differs between
 * providers the engine learns from caps(), not from their names.
 *
 * Times in cs_event: a timed event's start/end are UTC instants in RFC 3339
 * ("2026-03-29T00:30:00Z") with the IANA zone it is written in; an all-day
 * event's are dates ("2026-03-29"), end exclusive. Providers convert
 * to and from their own forms.
 *
 * Ownership: every char * in these structs is heap memory owned by the
 * struct; cs_event_release(), cs_page_release() and
 * cs_calendar_list_release() free it. A provider handle from open() is
 * freed with close(); it borrows cfg, creds and http, which must outlive
 * it. http is the calling thread's HTTP client, kept across jobs, so the
 * connections (and TLS sessions) to a provider are reused from one job to
 * the next; a provider uses it only while one of its functions runs.
 */
#ifndef CS_PROVIDER_H
#define CS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "http.h"

typedef struct cs_event {
	char *id;             /* the provider's id of this item */
	char *etag;           /* precondition for update and delete */
	char *title;
	char *description;
	char *location;
	bool all_day;
	char *start;
	char *end;
	char *timezone;       /* IANA name; NULL for an all-day or floating event */
	char *recurrence;     /* RRULE/EXRULE/RDATE/EXDATE lines joined by '\n' */
	char *series_id;      /* an override: the provider id of its series */
	char *original_start; /* an override: the occurrence it replaces */
	char **attendees;     /* e-mail addresses */
	size_t nattendees;
	char *status;         /* "confirmed" or "tentative" */
	bool cancelled;       /* deleted; with series_id: one removed occurrence */
	char *hub_id;         /* the Family Hub event id stamped on the remote copy */
	char *bad;            /* not NULL: the item could not be understood, and why */
	bool existed;         /* create's answer: the event was there already (a retry) */
	/*
	 * The provider's own representation of the item (an iCalendar
	 * resource, say), opaque to the engine, or NULL: filled by fetch, get,
	 * create and update; the engine keeps it with the mapping and hands the
	 * last one back in update()'s ev, so that a rewrite merges into it.
	 */
	char *raw;
	/*
	 * The fingerprint (fingerprint.h) of the content calsync wrote, kept
	 * on the remote copy: set by the engine before create() and update(),
	 * and read back by fetch and get where the provider stores it. When it
	 * matches the copy's own fingerprint, the copy holds calsync's own
	 * last write and nobody changed it since - also when the answer to
	 * that write was lost. NULL: none.
	 */
	char *written;
} cs_event;

typedef struct cs_page {
	cs_event *items;
	size_t n;
	size_t cap;
	char *next_page;      /* more to come: pass back as page_token */
	char *sync_token;     /* on the last page: the next incremental token */
} cs_page;

typedef struct cs_calendar_info {
	char *id;
	char *name;
	char *color;          /* #rrggbb or NULL */
	bool primary;
	bool writable;
} cs_calendar_info;

typedef struct cs_calendar_list {
	cs_calendar_info *items;
	size_t n;
} cs_calendar_list;

typedef struct cs_creds cs_creds;

/*
 * The engine's hook for credentials a provider just refreshed: seal and
 * store them at once, in a statement of their own (not with the next data
 * commit, which may never come: a rotated refresh token must not be lost
 * with a failed write). It may run on any thread that calls the provider;
 * 0 when stored, and then creds->changed is cleared.
 */
typedef int (*cs_creds_store_fn)(cs_creds *creds, void *ctx, cs_err *err);

/* Credentials of one connection, opened from their sealed form. */
struct cs_creds {
	char *access_token;
	char *refresh_token;
	long long expires_at; /* unix seconds; 0 when unknown */
	char *username;       /* CalDAV: the Apple ID / user name */
	char *password;       /* CalDAV: the app password */
	char *url;            /* CalDAV: the calendar or the discovery entry point */
	bool changed;         /* the provider refreshed them: seal and store again */
	cs_creds_store_fn store; /* set by the engine (may be NULL); see cs_creds_refreshed() */
	void *store_ctx;
};

typedef struct cs_provider cs_provider;

/* What a provider can do: the flags its caps() answers. */
enum cs_provider_cap {
	/*
	 * A full sync lists every item of the calendar, so one it does not
	 * list is gone. Without it (a windowed listing, a time-range query)
	 * absence is no deletion: only items the provider says are deleted are.
	 */
	CS_CAP_LISTS_ALL = 1u << 0,
	/*
	 * A series and its overrides are one resource with one etag (CalDAV):
	 * each is still its own cs_event, all carrying the series' etag, and a
	 * write to one of them moves the etag of all.
	 */
	CS_CAP_SERIES_ONE_RESOURCE = 1u << 1
};

/*
 * How hard one account of a provider may be driven, across all threads of
 * a process (Google: a per-user quota; Graph: 4 requests at once per
 * mailbox). An account is the connection's owner at that provider: the
 * calendars of one user and provider (and, for CalDAV, one user name)
 * share it. 0 in a field: no limit of that kind. The worker's pacer
 * enforces them; Retry-After answers pause that account only.
 */
typedef struct cs_provider_limits {
	unsigned max_in_flight;   /* requests at once per account */
	unsigned per_second;      /* sustained requests per second per account */
	unsigned burst;           /* requests allowed at once above per_second */
} cs_provider_limits;

/*
 * A push channel (Google: a channel of events.watch; Graph: a
 * subscription on the calendar's events): where the provider posts
 * notifications of changes to one calendar, until expires_at. Strings are
 * heap memory owned by the struct (cs_watch_channel_release()).
 */
typedef struct cs_watch_channel {
	char *id;             /* Google: calsync's channel id; Graph: the subscription id */
	char *resource_id;    /* Google: the watched resource's id (for channels.stop); Graph: NULL */
	long long expires_at; /* unix seconds: the expiration the provider granted */
} cs_watch_channel;

/* What watch() is asked for; every string is borrowed. */
typedef struct cs_watch_request {
	const char *address;  /* the https URL of this provider's hook (CALSYNC_HOOKS_PUBLIC_URL + path) */
	const char *lifecycle_address; /* Graph: the lifecycle hook; others ignore it */
	const char *channel_id; /* a new id (<= 64 characters) for providers that let calsync name it */
	const char *secret;   /* the random secret sent back with every notification (Google's
			       * token, Graph's clientState); never logged */
	const cs_watch_channel *current; /* the channel in force, to renew in place where the
					  * provider can (Graph: PATCH), or NULL */
} cs_watch_request;

struct cs_provider_ops {
	const char *name;     /* the external_calendars.provider value */
	cs_provider_limits limits;
	int (*open)(cs_provider **out, const cs_config *cfg, cs_creds *creds, cs_http *http,
		    cs_err *err);
	void (*close)(cs_provider *p);
	/* CS_CAP_* flags for the calendars of this handle (they may depend on the server). */
	unsigned (*caps)(const cs_provider *p);
	int (*list_calendars)(cs_provider *p, cs_calendar_list *out, cs_err *err);
	/*
	 * One page of changes since sync_token (NULL: everything, a full
	 * sync). CS_EGONE when the provider refused the token.
	 *
	 * Writes fail with CS_EREFUSED when the provider refuses that one
	 * item (it is not tried again until it changes) and CS_EREADONLY
	 * when the account may not write the calendar at all.
	 */
	int (*fetch)(cs_provider *p, const char *calendar, const char *sync_token,
		     const char *page_token, cs_page *out, cs_err *err);
	/*
	 * Create ev, made idempotent by hub_id: a retried create must not make a
	 * second event; it returns the existing one (restored, when it had been
	 * deleted). *out gets the stored event; out->existed says that it
	 * was there already, with the content it had (the engine then
	 * updates it when that differs from ev).
	 */
	int (*create)(cs_provider *p, const char *calendar, const cs_event *ev,
		      const char *hub_id, cs_event *out, cs_err *err);
	/*
	 * Update ev->id under the precondition ev->etag; CS_ECONFLICT when it
	 * fails. What the provider keeps per item that calsync does not
	 * model (an attendee's response, another app's property) is kept.
	 */
	int (*update)(cs_provider *p, const char *calendar, const cs_event *ev,
		      cs_event *out, cs_err *err);
	/* The stored event id, deleted ones too (out->cancelled); CS_ENOTFOUND when unknown. */
	int (*get)(cs_provider *p, const char *calendar, const char *id, cs_event *out,
		   cs_err *err);
	/* Delete under the precondition etag; an already deleted event is success. */
	int (*remove)(cs_provider *p, const char *calendar, const char *id,
		      const char *etag, cs_err *err);
	/* Revoke the grant where the provider allows it. */
	int (*revoke)(cs_provider *p, cs_err *err);
	/*
	 * Push channels; NULL for a provider that pushes to no web hook.
	 * watch() makes a channel on calendar (or renews req->current in
	 * place: then out->id equals current->id and the secret stays the
	 * one it was made with) and fills *out with what the provider
	 * granted. unwatch() ends a channel; one the provider no longer
	 * knows is success.
	 */
	int (*watch)(cs_provider *p, const char *calendar, const cs_watch_request *req,
		     cs_watch_channel *out, cs_err *err);
	int (*unwatch)(cs_provider *p, const cs_watch_channel *ch, cs_err *err);
	const char *hook_path; /* where calsync-hooks takes this provider's notifications */
};

/* The provider registered under name, or NULL. */
const struct cs_provider_ops *cs_provider_find(const char *name);
/*
 * Register one more provider (test builds: tests/provider/testprov.c),
 * before any thread starts; ops must outlive the program.
 */
int cs_provider_add(const struct cs_provider_ops *ops, cs_err *err);
/*
 * The names of the registered providers that push notifications (a
 * watch op), as a PostgreSQL array literal "{google,...}" into out.
 */
void cs_provider_push_names(char *out, size_t n);

void cs_event_release(cs_event *ev);
/* Deep copy of src into dst (dst is overwritten, not released). */
int cs_event_copy(cs_event *dst, const cs_event *src, cs_err *err);
/* A new zeroed item at the end of the page. */
cs_event *cs_page_add(cs_page *page, cs_err *err);
void cs_page_release(cs_page *page);
void cs_calendar_list_release(cs_calendar_list *list);
/* A new zeroed entry at the end of list, whose array holds *cap entries (grown as needed). */
cs_calendar_info *cs_calendar_list_add(cs_calendar_list *list, size_t *cap, cs_err *err);
void cs_creds_release(cs_creds *creds);
void cs_watch_channel_release(cs_watch_channel *ch);
/*
 * Put a token endpoint's answer into creds: access replaces the access
 * token, refresh (NULL or "": none sent) the refresh token, the old ones
 * wiped; expires_at set. CS_ENOMEM leaves creds as they were.
 */
int cs_creds_take(cs_creds *creds, const char *access, const char *refresh,
		  long long expires_at, cs_err *err);
/*
 * A provider calls this right after it refreshed creds: they are marked
 * changed and handed to creds->store. When that fails (logged), they stay
 * changed, and the engine's next commit stores them.
 */
void cs_creds_refreshed(cs_creds *creds);

#endif
