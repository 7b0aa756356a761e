/*
 * channels.c - the leader's duty for push channels (watch.h): with
 * CALSYNC_HOOKS_PUBLIC_URL set, every active calendar of a provider that
 * pushes notifications gets a `watch` job when it has no channel, when
 * its channel expires within CALSYNC_WATCH_RENEW_BEFORE seconds, when the
 * provider removed it, or - CS_WATCH_RETRY_S after a failure (to make or
 * to renew one) - to try again. The job's dedup key keeps one per calendar waiting.
 */
#include "sched.h"

#include <stdio.h>

#include "log.h"
#include "provider.h"
#include "watch.h"
#include "banned.h"

/* $1 providers (text[]), $2 CALSYNC_WATCH_RENEW_BEFORE, $3 CS_WATCH_RETRY_S, $4 limit. */
static const char sql_due[] =
	"SELECT c.id::text FROM external_calendars c"
	" LEFT JOIN calendar_watch_channels w ON w.external_calendar_id = c.id"
	" WHERE c.is_active IS TRUE AND c.provider = ANY($1::text[])"
	"   AND (w.external_calendar_id IS NULL OR w.state = 'removed'"
	"        OR (w.state = 'live' AND w.expires_at < now() + $2::int * interval '1 second'"
	"            AND (w.last_error IS NULL OR w.updated_at < now() - $3::int * interval '1 second'))"
	"        OR (w.state = 'failed' AND w.updated_at < now() - $3::int * interval '1 second'))"
	" ORDER BY w.expires_at NULLS FIRST, c.id LIMIT $4::int";

int cs_channels_renew(cs_sched *s, cs_err *err)
{
	char providers[256], renew[24], retry[24], lim[16];
	const char *params[4] = {providers, renew, retry, lim};
	PGresult *res = NULL;
	int due, added = 0, rc = 0;

	if (!s->cfg->hooks_public_url || !*s->cfg->hooks_public_url)
		return 0;
	cs_provider_push_names(providers, sizeof(providers));
	snprintf(renew, sizeof(renew), "%ld", s->cfg->watch_renew_before_s);
	snprintf(retry, sizeof(retry), "%d", CS_WATCH_RETRY_S);
	snprintf(lim, sizeof(lim), "%d", CS_SCAN_LIMIT);
	if (cs_db_exec(s->db, &res, err, sql_due, 4, params))
		return -1;
	due = PQntuples(res);
	for (int i = 0; i < due && cs_leader_active(s); i++) {
		bool one = false;

		if (cs_watch_enqueue(s->redis, CS_WJ_RENEW, PQgetvalue(res, i, 0), &one, err)) {
			rc = -1;
			break;
		}
		added += one;
	}
	PQclear(res);
	if (added)
		cs_info("push channels: enqueued %d watch job(s) for %d calendar(s)", added, due);
	return rc;
}
