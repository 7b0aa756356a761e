/*
 * decide.c - the sync decisions (see decide.h): each side compared with
 * what it held at the last sync, never by clocks. Equal content on both
 * sides is never a conflict; an ignored pair is left alone on both
 * sides; a restore on either side brings the pair back (contract 5.10).
 */
#include "decide.h"

#include <string.h>

#include "banned.h"

enum cs_change cs_change_of(const char *now, const char *last)
{
	if (!last)
		return CS_UNKNOWN;
	return strcmp(now, last) == 0 ? CS_SAME : CS_CHANGED;
}

enum cs_action cs_decide_pull(const cs_pull_facts *f)
{
	bool restored = f->mapped_deleted && !f->remote_cancelled;
	bool hub_deleted = f->hub == CS_HUB_DELETED;

	if (f->remote_cancelled && !f->occurrence)
		return f->mapped_deleted ? CS_ACT_NOTHING : CS_ACT_TOMBSTONE_HUB;
	if (!restored && f->remote == CS_SAME)
		return f->etag_moved ? CS_ACT_RECORD_ETAG : CS_ACT_NOTHING;
	if (f->mapped_deleted && !restored)
		return CS_ACT_NOTHING;
	if (f->hub == CS_HUB_UNKNOWN)
		return CS_ACT_LOAD_HUB;
	if (f->hub == CS_HUB_MISSING)
		return CS_ACT_NOTHING;
	if (f->left_alone && hub_deleted)
		return CS_ACT_LEAVE_ALONE;
	if (restored && !hub_deleted && f->remote == CS_SAME)
		return CS_ACT_RELINK;
	if (!restored && f->own_write && f->local == CS_CHANGED)
		return CS_ACT_OWN_WRITE; /* the Hub's newer change was being pushed: no conflict */
	if (!hub_deleted && f->equal)
		return CS_ACT_SETTLE_EQUAL;
	if (restored && hub_deleted)
		return CS_ACT_UPDATE_HUB; /* restored on both sides: the remote's version wins */
	if (hub_deleted)
		return CS_ACT_DELETE_CONFLICT;
	return f->local == CS_CHANGED ? CS_ACT_UPDATE_CONFLICT : CS_ACT_UPDATE_HUB;
}

enum cs_action cs_decide_push(const cs_push_facts *f)
{
	bool live = f->mapped && !f->remote_deleted;

	if (f->refused)
		return CS_ACT_NOTHING; /* refused before, unchanged since: not tried again */
	if (f->conflicted || (f->mapped && f->left_alone && (f->hub_deleted || f->remote_deleted)))
		return CS_ACT_SETTLE; /* a person decides first, or decided to ignore */
	if (f->hub_deleted)
		return live ? CS_ACT_DELETE_REMOTE : CS_ACT_NOTHING;
	if (live && f->local == CS_SAME)
		return CS_ACT_SETTLE; /* nothing changed since the last sync: no echo */
	return live ? CS_ACT_UPDATE_REMOTE : CS_ACT_CREATE_REMOTE;
}

enum cs_action cs_decide_reread(const cs_reread_facts *f)
{
	if (f->remote_gone)
		return f->deleting ? CS_ACT_SETTLE_EQUAL : CS_ACT_DELETE_CONFLICT;
	if (f->deleting)
		return f->equal || f->own_write || f->remote == CS_SAME ? CS_ACT_DELETE_REMOTE :
			CS_ACT_DELETE_CONFLICT;
	if (f->equal)
		return CS_ACT_SETTLE_EQUAL;
	return f->own_write || f->remote == CS_SAME ? CS_ACT_UPDATE_REMOTE : CS_ACT_UPDATE_CONFLICT;
}
