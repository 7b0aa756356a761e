/*
 * gauges.c - what the scheduler measures every CS_GAUGES_PERIOD_MS for
 * /metrics (observe.h), each replica on its own connections: the length
 * of every calsync stream and, for the job streams, the pending count and
 * lag of the group calsync-workers (XLEN, XINFO GROUPS); the calendars in
 * auth_required by provider (one grouped query); the Kafka lag of the
 * partitions this replica holds (positions against the high watermarks
 * librdkafka keeps from its fetches, no request). A metadata request to
 * the brokers tells /readyz whether Kafka answers (cs_gauges_kafka_check).
 */
#include "sched.h"

#include <string.h>

#include "log.h"
#include "observe.h"
#include "queue.h"
#include "banned.h"

#define KAFKA_METADATA_TIMEOUT_MS 500
/* Kafka counts as reachable this long after its last answer. */
#define KAFKA_FRESH_MS (3 * CS_GAUGES_PERIOD_MS + KAFKA_METADATA_TIMEOUT_MS)

static long long field_int(const redisReply *map, const char *name)
{
	for (size_t i = 0; map && map->type == REDIS_REPLY_ARRAY && i + 1 < map->elements; i += 2) {
		const redisReply *k = map->element[i], *v = map->element[i + 1];

		if (k->type != REDIS_REPLY_STRING || strcmp(k->str, name) != 0)
			continue;
		return v->type == REDIS_REPLY_INTEGER ? v->integer : -1; /* lag may be nil */
	}
	return -1;
}

/* pending and lag of the group calsync-workers on a job stream; -1 when unknown. */
static void group_figures(cs_sched *s, const char *stream, long long *pending, long long *lag)
{
	redisReply *r = NULL;

	*pending = *lag = -1;
	if (cs_redis_cmdf(s->redis, &r, NULL, "XINFO GROUPS %s", stream) == 0 &&
	    r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *g = r->element[i];

			for (size_t k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2)
				if (g->element[k]->type == REDIS_REPLY_STRING &&
				    strcmp(g->element[k]->str, "name") == 0 &&
				    g->element[k + 1]->type == REDIS_REPLY_STRING &&
				    strcmp(g->element[k + 1]->str, CS_GROUP) == 0) {
					*pending = field_int(g, "pending");
					*lag = field_int(g, "lag");
				}
		}
	}
	freeReplyObject(r);
}

static void measure_streams(cs_sched *s)
{
	static const char *const streams[] = {CS_STREAM_INTERACTIVE, CS_STREAM_BACKGROUND,
					      CS_STREAM_RESULTS, CS_STREAM_CONFLICTS,
					      CS_STREAM_DEAD};
	cs_err err;

	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		redisReply *r = NULL;
		long long pending = -1, lag = -1;

		if (cs_redis_cmdf(s->redis, &r, &err, "XLEN %s", streams[i])) {
			cs_sched_redis_failed(s, &err);
			return;
		}
		if (i < 2)
			group_figures(s, streams[i], &pending, &lag);
		cs_observe_stream(streams[i], r->integer, pending, lag);
		freeReplyObject(r);
	}
}

static void measure_auth_required(cs_sched *s)
{
	PGresult *res = NULL;
	cs_err err;

	if (cs_db_exec(s->db, &res, &err,
		       "SELECT c.provider, count(*) FROM external_calendars c"
		       " JOIN calendar_sync_states st ON st.external_calendar_id = c.id"
		       " WHERE st.last_sync_status = 'auth_required' GROUP BY c.provider",
		       0, NULL)) {
		cs_sched_trouble(&s->duty_trouble, "measuring calendars in auth_required: %s", err.msg);
		return;
	}
	cs_observe_auth_required_reset();
	for (int i = 0; i < PQntuples(res); i++)
		cs_observe_auth_required(PQgetvalue(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10));
	PQclear(res);
}

static void measure_kafka(cs_sched *s)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	const struct rd_kafka_metadata *md = NULL;
	long long lag = 0;

	if (rd_kafka_metadata(s->rk, 0, NULL, &md, KAFKA_METADATA_TIMEOUT_MS) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		atomic_store(&s->kafka_seen_ms, cs_sched_now());
		rd_kafka_metadata_destroy(md);
	}
	if (rd_kafka_assignment(s->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	rd_kafka_position(s->rk, parts);
	for (int i = 0; i < parts->cnt; i++) {
		int64_t low, high;

		if (rd_kafka_get_watermark_offsets(s->rk, parts->elems[i].topic,
						   parts->elems[i].partition, &low, &high) ||
		    high < 0)
			continue;
		if (parts->elems[i].offset >= 0 && high > parts->elems[i].offset)
			lag += high - parts->elems[i].offset;
		else if (parts->elems[i].offset < 0 && high > low)
			lag += high - low;  /* nothing consumed yet on this partition */
	}
	rd_kafka_topic_partition_list_destroy(parts);
	cs_observe_kafka_lag(s->cfg->kafka_topic, lag);
}

void cs_gauges_step(cs_sched *s)
{
	long long now = cs_sched_now();

	if (now < s->next_gauges)
		return;
	s->next_gauges = now + CS_GAUGES_PERIOD_MS;
	cs_observe_leader(cs_leader_active(s));
	measure_streams(s);
	measure_auth_required(s);
	if (s->rk)
		measure_kafka(s);
}

int cs_gauges_kafka_check(void *sched, cs_err *err)
{
	const cs_sched *s = sched;
	long long seen = atomic_load(&s->kafka_seen_ms);

	if (seen > 0 && cs_sched_now() - seen <= KAFKA_FRESH_MS)
		return 0;
	return cs_err_set(err, CS_EIO, true, "Kafka brokers (CALSYNC_KAFKA_BROKERS) do not answer");
}
