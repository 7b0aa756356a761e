/*
 * observe.h - what calsync measures: the catalogue of its Prometheus
 * metrics (metrics.h) and one call per thing that happens, so that the
 * programs instrument themselves with one line at the place it happens.
 * Every label value passed in is mapped onto a short known list (job
 * types, statuses, providers of the registry) or cut and capped by
 * metrics.h, so no input can make the metrics grow without end.
 *
 * Ownership: the metrics are process-wide and live as long as the
 * process; strings passed in are borrowed for the call only.
 */
#ifndef CS_OBSERVE_H
#define CS_OBSERVE_H

#include <stdbool.h>

#include "dynbuf.h"
#include "err.h"

/* Worker: a job's handler starts. */
void cs_observe_job_started(const char *type);
/* A connection of the PostgreSQL pool was lent (+1) or given back (-1). */
void cs_observe_pg_lent(int delta);
/* Worker: the handler returned (started_ms: cs_now_ms() at its start). */
void cs_observe_job_ran(const char *type, long long started_ms);
/* Worker: a job's end was recorded with this status (success ... dead). */
void cs_observe_job_finished(const char *type, const char *status);
/* A dead letter was written (type: the job's, or "event_changed" for a Kafka message). */
void cs_observe_dead_letter(const char *type);
/* One provider request: code the HTTP status, 0 when no answer came. */
void cs_observe_provider_request(const char *provider, long code, double seconds);
/* n conflicts of this type were stored (n may be 0). */
void cs_observe_conflicts_raised(const char *conflict_type, int n);
void cs_observe_token_refresh_failed(const char *provider);

/* Scheduler gauges, set by its periodic measurement (scheduler/gauges.c). */
void cs_observe_stream(const char *stream, long long length, long long pending, long long lag);
void cs_observe_kafka_lag(const char *topic, long long lag);
/* Before setting the calendars in auth_required per provider: all back to 0. */
void cs_observe_auth_required_reset(void);
void cs_observe_auth_required(const char *provider, long long n);
void cs_observe_leader(bool leader);

/* Append every metric in the exposition format (metrics.h). */
int cs_observe_write(cs_dynbuf *out, cs_err *err);

#endif
