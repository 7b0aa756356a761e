/*
 * test_decide.c - the sync decisions (decide.h) as tables: local changed /
 * remote changed / equal / deleted / restored / ignored -> the action.
 */
#include "unit.h"

#include "decide.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *act_name(enum cs_action a)
{
	static const char *const names[] = {
		"nothing", "load_hub", "record_etag", "settle", "settle_equal", "relink",
		"leave_alone", "update_hub", "tombstone_hub", "create_remote", "update_remote",
		"delete_remote", "update_conflict", "delete_conflict",
	};

	return (size_t)a < N(names) ? names[a] : "?";
}

#define CHECK_ACT(what, got, want)                                                  \
	do {                                                                        \
		if ((got) != (want)) {                                              \
			fprintf(stderr, "  %s:%d: %s: %s, want %s\n", __FILE__,     \
				__LINE__, (what), act_name(got), act_name(want));  \
			exit(1);                                                    \
		}                                                                   \
	} while (0)

/* A table of facts -> the action wanted, and walking it. */
#define TABLE(facts)                  \
	struct {                      \
		const char *what;     \
		facts f;              \
		enum cs_action want;  \
	}
#define CHECK_TABLE(rows, decide)                                              \
	do {                                                                   \
		for (size_t i = 0; i < N(rows); i++)                           \
			CHECK_ACT((rows)[i].what, decide(&(rows)[i].f), (rows)[i].want); \
	} while (0)

TEST(decide_change_of)
{
	CHECK(cs_change_of("a", "a") == CS_SAME);
	CHECK(cs_change_of("a", "b") == CS_CHANGED);
	CHECK(cs_change_of("a", NULL) == CS_UNKNOWN);
}

TEST(decide_pull_table)
{
	static const TABLE(cs_pull_facts) rows[] = {
		{"unchanged remote", {.remote = CS_SAME}, CS_ACT_NOTHING},
		{"unchanged remote, new etag", {.remote = CS_SAME, .etag_moved = true},
		 CS_ACT_RECORD_ETAG},
		{"remote changed: the hub is needed", {.remote = CS_CHANGED}, CS_ACT_LOAD_HUB},
		{"remote changed, hub unchanged",
		 {.remote = CS_CHANGED, .hub = CS_HUB_LIVE, .local = CS_SAME}, CS_ACT_UPDATE_HUB},
		{"remote changed, hub fingerprint unknown",
		 {.remote = CS_CHANGED, .hub = CS_HUB_LIVE, .local = CS_UNKNOWN}, CS_ACT_UPDATE_HUB},
		{"both changed",
		 {.remote = CS_CHANGED, .hub = CS_HUB_LIVE, .local = CS_CHANGED},
		 CS_ACT_UPDATE_CONFLICT},
		{"both changed to equal content",
		 {.remote = CS_CHANGED, .hub = CS_HUB_LIVE, .local = CS_CHANGED, .equal = true},
		 CS_ACT_SETTLE_EQUAL},
		{"no fingerprint stored, equal content",
		 {.remote = CS_UNKNOWN, .hub = CS_HUB_LIVE, .local = CS_UNKNOWN, .equal = true},
		 CS_ACT_SETTLE_EQUAL},
		{"remote changed, hub deleted",
		 {.remote = CS_CHANGED, .hub = CS_HUB_DELETED, .local = CS_SAME},
		 CS_ACT_DELETE_CONFLICT},
		{"both changed, the remote by calsync's own write (its answer lost)",
		 {.remote = CS_CHANGED, .hub = CS_HUB_LIVE, .local = CS_CHANGED, .own_write = true},
		 CS_ACT_OWN_WRITE},
		{"remote back at an earlier write of calsync's, hub unchanged: a remote change",
		 {.remote = CS_CHANGED, .hub = CS_HUB_LIVE, .local = CS_SAME, .own_write = true},
		 CS_ACT_UPDATE_HUB},
		{"remote changed by calsync's own write, hub deleted since",
		 {.remote = CS_CHANGED, .hub = CS_HUB_DELETED, .local = CS_CHANGED, .own_write = true},
		 CS_ACT_OWN_WRITE},
		{"remote changed, hub deleted and ignored",
		 {.remote = CS_CHANGED, .hub = CS_HUB_DELETED, .left_alone = true},
		 CS_ACT_LEAVE_ALONE},
		{"remote changed, hub gone for good", {.remote = CS_CHANGED, .hub = CS_HUB_MISSING},
		 CS_ACT_NOTHING},
		{"remote deleted", {.remote_cancelled = true}, CS_ACT_TOMBSTONE_HUB},
		{"remote deleted again", {.remote_cancelled = true, .mapped_deleted = true},
		 CS_ACT_NOTHING},
		{"occurrence removed: a change of the override",
		 {.remote_cancelled = true, .occurrence = true, .remote = CS_CHANGED,
		  .hub = CS_HUB_LIVE, .local = CS_SAME}, CS_ACT_UPDATE_HUB},
		{"occurrence removed where the mapping is deleted",
		 {.remote_cancelled = true, .occurrence = true, .mapped_deleted = true,
		  .remote = CS_CHANGED}, CS_ACT_NOTHING},
		{"restored remote, as it was, hub live",
		 {.mapped_deleted = true, .remote = CS_SAME, .hub = CS_HUB_LIVE, .local = CS_CHANGED},
		 CS_ACT_RELINK},
		{"restored remote: the hub is needed even when unchanged",
		 {.mapped_deleted = true, .remote = CS_SAME}, CS_ACT_LOAD_HUB},
		{"restored remote, changed, hub unchanged",
		 {.mapped_deleted = true, .remote = CS_CHANGED, .hub = CS_HUB_LIVE, .local = CS_SAME},
		 CS_ACT_UPDATE_HUB},
		{"restored remote, changed, hub changed",
		 {.mapped_deleted = true, .remote = CS_CHANGED, .hub = CS_HUB_LIVE,
		  .local = CS_CHANGED}, CS_ACT_UPDATE_CONFLICT},
		{"restored remote, hub tombstoned: the tombstone is lifted",
		 {.mapped_deleted = true, .remote = CS_SAME, .hub = CS_HUB_DELETED},
		 CS_ACT_UPDATE_HUB},
		{"restored remote, hub tombstoned and ignored",
		 {.mapped_deleted = true, .remote = CS_SAME, .hub = CS_HUB_DELETED,
		  .left_alone = true}, CS_ACT_LEAVE_ALONE},
	};

	CHECK_TABLE(rows, cs_decide_pull);
}

TEST(decide_push_table)
{
	static const TABLE(cs_push_facts) rows[] = {
		{"new hub event", {.local = CS_UNKNOWN}, CS_ACT_CREATE_REMOTE},
		{"hub unchanged", {.mapped = true, .local = CS_SAME}, CS_ACT_SETTLE},
		{"hub changed", {.mapped = true, .local = CS_CHANGED}, CS_ACT_UPDATE_REMOTE},
		{"mapped, no fingerprint stored", {.mapped = true, .local = CS_UNKNOWN},
		 CS_ACT_UPDATE_REMOTE},
		{"hub changed, a conflict pending",
		 {.mapped = true, .local = CS_CHANGED, .conflicted = true}, CS_ACT_SETTLE},
		{"hub changed, this version refused before",
		 {.mapped = true, .local = CS_CHANGED, .refused = true}, CS_ACT_NOTHING},
		{"hub deleted", {.mapped = true, .hub_deleted = true}, CS_ACT_DELETE_REMOTE},
		{"hub deleted, remote deleted too",
		 {.mapped = true, .hub_deleted = true, .remote_deleted = true}, CS_ACT_NOTHING},
		{"hub deleted, never pushed", {.hub_deleted = true}, CS_ACT_NOTHING},
		{"hub deleted and ignored", {.mapped = true, .hub_deleted = true, .left_alone = true},
		 CS_ACT_SETTLE},
		{"remote deleted and ignored",
		 {.mapped = true, .remote_deleted = true, .left_alone = true, .local = CS_CHANGED},
		 CS_ACT_SETTLE},
		{"hub restored after the remote was deleted",
		 {.mapped = true, .remote_deleted = true, .local = CS_SAME}, CS_ACT_CREATE_REMOTE},
		{"ignored pair, both live: pushed as usual",
		 {.mapped = true, .left_alone = true, .local = CS_CHANGED}, CS_ACT_UPDATE_REMOTE},
	};

	CHECK_TABLE(rows, cs_decide_push);
}

TEST(decide_reread_table)
{
	static const TABLE(cs_reread_facts) rows[] = {
		{"update: our own write got through", {.equal = true, .remote = CS_CHANGED},
		 CS_ACT_SETTLE_EQUAL},
		{"update: only what calsync does not model changed", {.remote = CS_SAME},
		 CS_ACT_UPDATE_REMOTE},
		{"update: the remote changed", {.remote = CS_CHANGED}, CS_ACT_UPDATE_CONFLICT},
		{"update: the remote holds an earlier write of calsync's",
		 {.remote = CS_CHANGED, .own_write = true}, CS_ACT_UPDATE_REMOTE},
		{"delete: the remote holds an earlier write of calsync's",
		 {.deleting = true, .remote = CS_CHANGED, .own_write = true}, CS_ACT_DELETE_REMOTE},
		{"update: no fingerprint stored", {.remote = CS_UNKNOWN}, CS_ACT_UPDATE_CONFLICT},
		{"update: the remote is gone", {.remote_gone = true}, CS_ACT_DELETE_CONFLICT},
		{"delete: gone already", {.deleting = true, .remote_gone = true},
		 CS_ACT_SETTLE_EQUAL},
		{"delete: the remote holds the hub's content", {.deleting = true, .equal = true},
		 CS_ACT_DELETE_REMOTE},
		{"delete: only what calsync does not model changed",
		 {.deleting = true, .remote = CS_SAME}, CS_ACT_DELETE_REMOTE},
		{"delete: the remote changed", {.deleting = true, .remote = CS_CHANGED},
		 CS_ACT_DELETE_CONFLICT},
	};

	CHECK_TABLE(rows, cs_decide_reread);
}
