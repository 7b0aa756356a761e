/*
 * pushes.c - one event-changed message becomes one push job per target
 * calendar of its event (targets.h), or, when it is malformed or names no
 * event of its tenant, an entry in calsync:dead (see sched.h).
 *
 * Push jobs from messages carry no dedup key: pushing an event twice is
 * harmless (the worker pushes its current state), losing a push is not.
 * Reconcile's push jobs carry theirs ("dedup"), which the worker deletes
 * when the job ends, as for sync jobs.
 */
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ids.h"
#include "kafkamsg.h"
#include "log.h"
#include "queue.h"
#include "targets.h"
#include "observe.h"
#include "banned.h"

static const char sql_event_tenant[] = "SELECT tenant_id::text FROM events WHERE id = $1::uuid";

int cs_pushes_enqueue(cs_sched *s, const char *calendar_id, const char *event_id,
		      const char *dedup_key, bool *added, cs_err *err)
{
	char job_id[CS_UUID_LEN + 1];
	char *data = NULL;
	json_t *o;
	int rc;

	cs_uuid_v4(job_id);
	o = json_pack("{s:s, s:s, s:s, s:s*}", "job_id", job_id, "calendar_id", calendar_id,
		      "event_id", event_id, "dedup", dedup_key);
	if (o)
		data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!data)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	rc = cs_queue_enqueue(s->redis, CS_STREAM_INTERACTIVE, "push", data, dedup_key,
			      CS_PUSH_DEDUP_TTL_S, added, err);
	free(data);
	return rc;
}

static int dead_letter(cs_sched *s, const rd_kafka_message_t *m, const char *reason,
		       cs_err *err)
{
	const char *topic = rd_kafka_topic_name(m->rkt);
	cs_kafkamsg_origin origin = {topic, (int)m->partition, (long long)m->offset,
				     m->key, m->key_len, m->payload, m->len};
	char *data = cs_kafkamsg_dead_json(&origin, reason, cs_now_ms());
	int rc;

	if (!data)
		return cs_err_set(err, CS_ENOMEM, true, "out of memory");
	rc = cs_queue_publish(s->redis, CS_STREAM_DEAD, "dead_letter", data, err);
	if (rc == 0)
		cs_observe_dead_letter("event_changed");
	free(data);
	if (rc)
		return cs_err_prefix(err, "dead-lettering");
	cs_warn("dead-lettered message at %s/%d/%lld: %s", topic, (int)m->partition,
		(long long)m->offset, reason);
	return 0;
}

/* The tenant of an event into tenant (empty when there is no such event). */
static int event_tenant(cs_sched *s, const char *event_id, char tenant[CS_UUID_LEN + 1],
			cs_err *err)
{
	const char *params[1] = {event_id};
	PGresult *res = NULL;

	tenant[0] = '\0';
	if (cs_db_exec(s->db, &res, err, sql_event_tenant, 1, params))
		return cs_err_prefix(err, "looking up the event");
	if (PQntuples(res) == 1)
		snprintf(tenant, CS_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int cs_pushes_handle(cs_sched *s, const rd_kafka_message_t *m, cs_err *err)
{
	char tenant[CS_UUID_LEN + 1], reason[CS_ERR_MSG_MAX];
	cs_idlist targets = {0};
	cs_kafkamsg msg;
	cs_err why;
	int rc = 0;

	if (cs_kafkamsg_parse(m->payload, m->len, &msg, &why))
		return dead_letter(s, m, why.msg, err);
	if (event_tenant(s, msg.event_id, tenant, err))
		return -1;
	if (!tenant[0]) {
		snprintf(reason, sizeof(reason), "event %s not found", msg.event_id);
		return dead_letter(s, m, reason, err);
	}
	if (strcmp(tenant, msg.tenant_id) != 0) {
		snprintf(reason, sizeof(reason), "event %s does not belong to tenant %s",
			 msg.event_id, msg.tenant_id);
		return dead_letter(s, m, reason, err);
	}
	if (cs_targets_for_event(s->db, msg.event_id, &targets, err))
		return -1;
	for (int i = 0; i < targets.n && rc == 0; i++)
		rc = cs_pushes_enqueue(s, targets.ids[i], msg.event_id, NULL, NULL, err);
	if (rc == 0)
		cs_info("message at %s/%d/%lld: event %s %s -> %d push job(s)",
			rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
			msg.event_id, msg.op, targets.n);
	cs_idlist_release(&targets);
	return rc;
}
