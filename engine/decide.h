/*
 * decide.h - the sync decisions, as pure functions (decide.c): what one
 * side holds now against what it held at the last sync (fingerprints,
 * compared by the caller into cs_change values) and against the other
 * side, in, the action to take, out. No database, no provider: pull_page.c
 * and push.c gather the facts, ask, and carry the action out; the unit
 * tests (tests/unit/test_decide.c) walk the table.
 */
#ifndef CS_DECIDE_H
#define CS_DECIDE_H

#include <stdbool.h>

/* One side's content now against the last sync. */
enum cs_change {
	CS_SAME,        /* the fingerprint of the last sync */
	CS_CHANGED,     /* another fingerprint */
	CS_UNKNOWN      /* no fingerprint of the last sync is stored */
};

/* The Hub copy of a mapped event, as far as the decision knows it. */
enum cs_hub_state {
	CS_HUB_UNKNOWN, /* not loaded yet */
	CS_HUB_MISSING, /* no such Hub event */
	CS_HUB_LIVE,
	CS_HUB_DELETED  /* tombstoned */
};

enum cs_action {
	CS_ACT_NOTHING,         /* nothing to write, nothing to record */
	CS_ACT_LOAD_HUB,        /* (pull) load the Hub copy and decide again */
	CS_ACT_RECORD_ETAG,     /* (pull) the remote etag moved, its content did not */
	CS_ACT_SETTLE,          /* (push) nothing to write: the version counts as synced */
	CS_ACT_SETTLE_EQUAL,    /* both sides hold the same content: record it as synced */
	CS_ACT_OWN_WRITE,       /* (pull) the remote holds calsync's own last write, its
				   answer lost: recorded as synced; the Hub decides the rest */
	CS_ACT_RELINK,          /* (pull) restored as it was: mapped again, the Hub decides */
	CS_ACT_LEAVE_ALONE,     /* (pull) an ignored deletion: the remote goes on alone */
	CS_ACT_UPDATE_HUB,      /* (pull) the Hub copy follows the remote (a restore too) */
	CS_ACT_TOMBSTONE_HUB,   /* (pull) the remote is gone: marked, applied at the end */
	CS_ACT_CREATE_REMOTE,   /* (push) never there, or deleted there and live again */
	CS_ACT_UPDATE_REMOTE,   /* (push) the Hub's content over the remote copy */
	CS_ACT_DELETE_REMOTE,   /* (push) the Hub copy is deleted */
	CS_ACT_UPDATE_CONFLICT, /* both sides changed what calsync models */
	CS_ACT_DELETE_CONFLICT  /* one side deleted what the other changed */
};

/* Compare a fingerprint now with the one of the last sync (NULL: none stored). */
enum cs_change cs_change_of(const char *now, const char *last);

/* A listed remote item that is mapped, on pull. */
typedef struct cs_pull_facts {
	bool remote_cancelled;  /* the item is cancelled (deleted, or a removed occurrence) */
	bool occurrence;        /* the item overrides an occurrence of a series */
	bool mapped_deleted;    /* the mapping says the remote copy was deleted */
	bool etag_moved;        /* the item's etag differs from the mapping's */
	bool left_alone;        /* a person ignored a delete_conflict of the pair */
	enum cs_change remote;  /* the item against the last sync */
	enum cs_change local;   /* the Hub copy against the last sync (when loaded) */
	bool equal;             /* the Hub copy holds the item's content (when loaded) */
	bool own_write;         /* the item holds what calsync last wrote (cs_event.written);
				   counts only while the Hub has a change of its own to push,
				   so that a remote copy set back to an older write is a change */
	enum cs_hub_state hub;
} cs_pull_facts;

enum cs_action cs_decide_pull(const cs_pull_facts *f);

/* A Hub event to push. */
typedef struct cs_push_facts {
	bool refused;           /* the provider refused this version before */
	bool conflicted;        /* a conflict of the event waits for a person */
	bool mapped;            /* a mapping exists */
	bool remote_deleted;    /* the mapping says the remote copy was deleted */
	bool left_alone;        /* a person ignored a delete_conflict of the pair */
	bool hub_deleted;
	enum cs_change local;   /* the Hub copy against the last sync */
} cs_push_facts;

enum cs_action cs_decide_push(const cs_push_facts *f);

/* The remote copy read again after a write failed its precondition. */
typedef struct cs_reread_facts {
	bool deleting;          /* the failed write was a delete */
	bool remote_gone;       /* not found, or cancelled */
	bool equal;             /* it holds the Hub's content */
	bool own_write;         /* it holds what calsync last wrote (cs_event.written) */
	enum cs_change remote;  /* it against the last sync */
} cs_reread_facts;

/*
 * SETTLE_EQUAL (our own write got through, or both are deleted), the
 * write again under the fresh etag (only what calsync does not model
 * changed), or a conflict.
 */
enum cs_action cs_decide_reread(const cs_reread_facts *f);

#endif
