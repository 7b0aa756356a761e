/*
 * cmd_deletions.c - `calsync deletions <calendar-id> [--approve | --reject]`:
 * the deletions that the mass-deletion guard held on a calendar (contract
 * 5.8). Without a flag it shows them. --approve or --reject records a
 * person's decision (calendar_deletion_reviews) and queues a full sync of
 * the calendar, whose pull applies the decision once, under the
 * calendar's lock: approved deletions tombstone the Hub copies; rejected
 * ones keep the Hub events, and the push links or re-creates their remote
 * copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ids.h"
#include "banned.h"

static int show(const cs_config *cfg, const char *cal)
{
	PGresult *res = NULL;

	if (cli_query(cfg,
		      "SELECT m.external_event_id AS remote_id, e.id AS event_id, e.title,"
		      " e.start_time, e.deleted_at IS NOT NULL AS hub_deleted"
		      " FROM calendar_event_mappings m LEFT JOIN events e ON e.id = m.event_id"
		      " WHERE m.external_calendar_id = $1::uuid AND m.pending_delete"
		      " ORDER BY e.start_time, m.external_event_id",
		      1, &cal, &res))
		return 1;
	printf("%d deletion%s held on calendar %s\n", PQntuples(res), PQntuples(res) == 1 ? "" : "s",
	       cal);
	if (PQntuples(res))
		cli_print_rows(res);
	PQclear(res);
	if (cli_query(cfg,
		      "SELECT decision, decided_at, jsonb_array_length(external_event_ids) AS events"
		      " FROM calendar_deletion_reviews WHERE external_calendar_id = $1::uuid"
		      " AND applied_at IS NULL ORDER BY decided_at DESC LIMIT 1",
		      1, &cal, &res))
		return 1;
	if (PQntuples(res))
		printf("decision waiting for the next sync: %s of %s (recorded %s)\n",
		       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

static int decide(const cs_config *cfg, const char *cal, const char *decision, const char *by)
{
	const char *params[3] = {cal, decision, by};
	PGresult *res = NULL;
	int n;

	if (cli_query(cfg,
		      "INSERT INTO calendar_deletion_reviews (external_calendar_id, decision,"
		      " external_event_ids, decided_by)"
		      " SELECT $1::uuid, $2, jsonb_agg(external_event_id), $3::uuid"
		      " FROM calendar_event_mappings WHERE external_calendar_id = $1::uuid"
		      " AND pending_delete HAVING count(*) > 0"
		      " RETURNING jsonb_array_length(external_event_ids)",
		      3, params, &res))
		return 1;
	n = PQntuples(res) ? (int)strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	if (n == 0)
		return cli_fail("deletions: nothing is held on calendar %s", cal);
	printf("%s recorded for %d held deletion%s; the next sync applies it:\n", decision, n,
	       n == 1 ? "" : "s");
	return cli_enqueue(cfg, "sync", json_pack("{s:s, s:s}", "calendar_id", cal, "mode", "full"));
}

int cmd_deletions(const cs_config *cfg, int argc, char **argv)
{
	bool approve = cli_flag(argc, argv, "--approve"), reject = cli_flag(argc, argv, "--reject");
	const char *by = cli_opt(argc, argv, "--by");
	PGresult *res = NULL;
	bool known;

	if (argc < 1 || (approve && reject))
		return 2;
	if (!cs_is_uuid(argv[0]))
		return cli_fail("deletions: '%s' is not a calendar id (a UUID)", argv[0]);
	if (by && !cs_is_uuid(by))
		return cli_fail("deletions: --by must be a user id (a UUID)");
	if (cli_query(cfg, "SELECT 1 FROM external_calendars WHERE id = $1::uuid", 1,
		      (const char *const[]){argv[0]}, &res))
		return 1;
	known = PQntuples(res) == 1;
	PQclear(res);
	if (!known)
		return cli_fail("deletions: there is no calendar %s", argv[0]);
	if (approve || reject)
		return decide(cfg, argv[0], approve ? "approve" : "reject", by);
	return show(cfg, argv[0]);
}
