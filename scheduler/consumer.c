/*
 * consumer.c - the Kafka side of the scheduler (see sched.h): a
 * high-level consumer in group CALSYNC_KAFKA_GROUP on topic
 * CALSYNC_KAFKA_TOPIC, run by every replica (the group spreads the
 * partitions).
 *
 * At-least-once: offsets are stored by hand (enable.auto.offset.store is
 * off), offset+1 of a message only after its push jobs or its dead letter
 * are in Redis; stored offsets are committed every second and once more,
 * synchronously, on shutdown. A message whose work cannot be enqueued
 * (PostgreSQL or Redis down) stays in hand and is tried again with
 * backoff; no other message is read meanwhile, so nothing after it is
 * committed either. The eager range assignor is used: the cooperative one
 * has known hangs in librdkafka 2.0.
 */
#include "sched.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "banned.h"

#define HELD_BACKOFF_FIRST_MS 100
#define HELD_BACKOFF_MAX_MS 5000
/* On shutdown, the longest waits for the final commit and for leaving the group. */
#define CLOSE_COMMIT_MS 2000
#define CLOSE_LEAVE_MS 3000

static const char *const kafka_settings[][2] = {
	{"client.id", "calsync-scheduler"},
	{"enable.auto.offset.store", "false"},
	{"enable.auto.commit", "true"},
	{"auto.commit.interval.ms", "1000"},
	{"auto.offset.reset", "earliest"},
	{"partition.assignment.strategy", "range"},
	{"session.timeout.ms", "6000"},
	{"heartbeat.interval.ms", "2000"},
	/* notice soon a topic that did not exist at start */
	{"topic.metadata.refresh.interval.ms", "5000"},
	{"log.connection.close", "false"},
	/* log lines are served by rd_kafka_consumer_poll() in the loop's thread */
	{"log.queue", "true"},
};

/* Errors of the client (brokers down, ...), served from rd_kafka_consumer_poll(). */
static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	cs_sched *s = opaque;

	(void)rk;
	cs_sched_trouble(&s->kafka_trouble, "Kafka: %s: %s",
			 rd_kafka_err2name((rd_kafka_resp_err_t)code), reason);
}

/*
 * librdkafka's own log lines, served in the loop's thread. Warnings repeat
 * every second while a broker is away (failed commits): throttled.
 * Connection failures also reach on_error.
 */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	cs_sched *s = rd_kafka_opaque(rk);

	if (level <= 4 && strcmp(fac, "FAIL") != 0)
		cs_sched_trouble(&s->kafka_log_trouble, "Kafka %s: %s", fac, buf);
	else
		cs_debug("Kafka %s: %s", fac, buf);
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value,
	       const char *setting, cs_err *err)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return cs_err_set(err, CS_EINVAL, false, "%s: %s", setting, errstr);
	return 0;
}

int cs_consumer_open(cs_sched *s, cs_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *topics = NULL;
	rd_kafka_resp_err_t rerr;
	char errstr[512];
	int rc = -1;

	if (set(conf, "bootstrap.servers", s->cfg->kafka_brokers, "CALSYNC_KAFKA_BROKERS", err) ||
	    set(conf, "group.id", s->cfg->kafka_group, "CALSYNC_KAFKA_GROUP", err))
		goto out;
	for (size_t i = 0; i < sizeof(kafka_settings) / sizeof(kafka_settings[0]); i++)
		if (set(conf, kafka_settings[i][0], kafka_settings[i][1], kafka_settings[i][0], err))
			goto out;
	rd_kafka_conf_set_opaque(conf, s);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!s->rk) {
		cs_err_set(err, CS_EINVAL, false, "cannot create the Kafka consumer: %s", errstr);
		goto out;
	}
	conf = NULL;  /* the client owns it now */
	rd_kafka_set_log_queue(s->rk, NULL);
	rd_kafka_poll_set_consumer(s->rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, s->cfg->kafka_topic, RD_KAFKA_PARTITION_UA);
	rerr = rd_kafka_subscribe(s->rk, topics);
	if (rerr) {
		cs_err_set(err, CS_EINVAL, false, "CALSYNC_KAFKA_TOPIC: cannot subscribe to '%s': %s",
			   s->cfg->kafka_topic, rd_kafka_err2str(rerr));
		goto out;
	}
	rc = 0;
out:
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (topics)
		rd_kafka_topic_partition_list_destroy(topics);
	return rc;
}

static void store_offset(cs_sched *s, const rd_kafka_message_t *m)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_resp_err_t e;

	rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
		m->offset + 1;
	e = rd_kafka_offsets_store(s->rk, l);
	if (!e)
		e = l->elems[0].err;
	if (e)
		cs_warn("offset of %s/%d/%lld not stored (the message will come again): %s",
			rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
			rd_kafka_err2str(e));
	rd_kafka_topic_partition_list_destroy(l);
}

/* Try the work of the message in hand; on success store its offset and let it go. */
static void try_held(cs_sched *s)
{
	rd_kafka_message_t *m = s->held;
	cs_err err;

	cs_err_clear(&err);
	if (cs_pushes_handle(s, m, &err) == 0) {
		store_offset(s, m);
		if (s->held_backoff_ms)
			cs_info("message at %s/%d/%lld handled after waiting",
				rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
		rd_kafka_message_destroy(m);
		s->held = NULL;
		return;
	}
	cs_sched_redis_failed(s, &err);
	s->held_backoff_ms = s->held_backoff_ms ? s->held_backoff_ms * 2 : HELD_BACKOFF_FIRST_MS;
	if (s->held_backoff_ms > HELD_BACKOFF_MAX_MS)
		s->held_backoff_ms = HELD_BACKOFF_MAX_MS;
	s->held_retry_at = cs_sched_now() + s->held_backoff_ms;
	cs_sched_trouble(&s->held_trouble,
			 "message at %s/%d/%lld kept in hand, its offset not stored: %s",
			 rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
			 err.msg);
}

/* Sleep up to ms, cut short by a signal (the stop flag). */
static void nap(long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (ms > 0 && nanosleep(&ts, NULL) != 0 && errno != EINTR)
		cs_debug("nanosleep: %s", strerror(errno));
}

static void report(cs_sched *s, const rd_kafka_message_t *m)
{
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		return;
	if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
	    m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
		cs_sched_trouble(&s->kafka_trouble, "Kafka topic %s does not exist (yet): waiting",
				 s->cfg->kafka_topic);
	else
		cs_sched_trouble(&s->kafka_trouble, "Kafka consumer: %s: %s",
				 rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
}

void cs_consumer_step(cs_sched *s, int timeout_ms)
{
	rd_kafka_message_t *m;
	long long wait;

	if (s->held) {
		wait = s->held_retry_at - cs_sched_now();
		if (wait > 0) {
			nap(wait < timeout_ms ? wait : timeout_ms);
			return;
		}
		try_held(s);
		return;
	}
	m = rd_kafka_consumer_poll(s->rk, timeout_ms);
	if (!m)
		return;
	if (m->err) {
		report(s, m);
		rd_kafka_message_destroy(m);
		return;
	}
	s->held = m;
	s->held_backoff_ms = 0;
	try_held(s);
}

/* Commit the stored offsets, waiting at most CLOSE_COMMIT_MS. */
static void commit_final(cs_sched *s)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(s->rk);
	rd_kafka_event_t *ev = NULL;
	rd_kafka_resp_err_t e;

	e = rd_kafka_commit_queue(s->rk, NULL, q, NULL, NULL);
	if (!e) {
		ev = rd_kafka_queue_poll(q, CLOSE_COMMIT_MS);
		e = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
	}
	if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
		cs_warn("final commit of the Kafka offsets failed (they come again): %s",
			rd_kafka_err2str(e));
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
}

/* Leave the group, waiting at most CLOSE_LEAVE_MS (a broker may be away). */
static bool leave_group(cs_sched *s)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(s->rk);
	long long deadline = cs_sched_now() + CLOSE_LEAVE_MS;
	rd_kafka_error_t *error = rd_kafka_consumer_close_queue(s->rk, q);
	rd_kafka_event_t *ev;

	if (error) {
		cs_warn("closing the Kafka consumer: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	while (!error && !rd_kafka_consumer_closed(s->rk) && cs_sched_now() < deadline) {
		ev = rd_kafka_queue_poll(q, 100);
		if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
			rd_kafka_assign(s->rk, NULL);
		if (ev)
			rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	return !error && rd_kafka_consumer_closed(s->rk);
}

void cs_consumer_close(cs_sched *s)
{
	bool left;

	if (!s->rk)
		return;
	if (s->held) {
		cs_info("message at %s/%d/%lld left unhandled: it will be delivered again",
			rd_kafka_topic_name(s->held->rkt), (int)s->held->partition,
			(long long)s->held->offset);
		rd_kafka_message_destroy(s->held);
		s->held = NULL;
	}
	commit_final(s);
	left = leave_group(s);
	rd_kafka_destroy_flags(s->rk, left ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	s->rk = NULL;
	if (left)
		cs_info("Kafka consumer closed");
	else
		cs_warn("Kafka consumer closed without leaving its group (it times out there)");
}
