/*
 * metrics.h - counters, gauges and histograms with labels, thread-safe,
 * written in the Prometheus text exposition format 0.0.4.
 *
 * A family (cs_metric) is defined statically with CS_METRIC_*() and needs
 * no set-up: its series are made on first use. Label values are bounded:
 * a family holds at most CS_METRIC_MAX_SERIES series, and a value set past
 * that lands in one series whose labels all read "other"; a label value is
 * cut to CS_METRIC_LABEL_MAX bytes. So no input can make a family grow
 * without end. Every call may come from any thread (one mutex a family).
 *
 * Ownership: a family owns its series (allocated on first use, kept for
 * the life of the process: metrics live as long as the program).
 * cs_metrics_write() appends to the caller's buffer. Labels passed in are
 * borrowed for the call only.
 */
#ifndef CS_METRICS_H
#define CS_METRICS_H

#include <pthread.h>
#include <stddef.h>

#include "dynbuf.h"
#include "err.h"

#define CS_METRIC_MAX_LABELS 3
#define CS_METRIC_MAX_SERIES 64
#define CS_METRIC_LABEL_MAX 48
#define CS_METRIC_MAX_BUCKETS 14

enum cs_metric_kind { CS_METRIC_COUNTER, CS_METRIC_GAUGE, CS_METRIC_HISTOGRAM };

struct cs_metric_series;

typedef struct cs_metric {
	enum cs_metric_kind kind;
	const char *name;               /* e.g. "calsync_jobs_finished_total" */
	const char *help;
	const char *const *labels;      /* NULL-terminated label names; NULL: none */
	const double *buckets;          /* histograms: upper bounds, ascending */
	size_t nbuckets;                /* at most CS_METRIC_MAX_BUCKETS */
	pthread_mutex_t lock;
	struct cs_metric_series *series[CS_METRIC_MAX_SERIES];
	size_t nseries;
} cs_metric;

#define CS_METRIC_INIT_(k, n, h, l, b, nb) \
	{.kind = (k), .name = (n), .help = (h), .labels = (l), .buckets = (b), \
	 .nbuckets = (nb), .lock = PTHREAD_MUTEX_INITIALIZER}
#define CS_METRIC_COUNTER(name, help, labels) \
	CS_METRIC_INIT_(CS_METRIC_COUNTER, name, help, labels, NULL, 0)
#define CS_METRIC_GAUGE(name, help, labels) \
	CS_METRIC_INIT_(CS_METRIC_GAUGE, name, help, labels, NULL, 0)
#define CS_METRIC_HISTOGRAM(name, help, labels, buckets, nbuckets) \
	CS_METRIC_INIT_(CS_METRIC_HISTOGRAM, name, help, labels, buckets, nbuckets)

/*
 * values: one label value per label name of the family, in order (NULL
 * when the family has no labels; a NULL value reads ""). A counter only
 * grows: cs_metric_add() ignores a negative v on a counter.
 */
void cs_metric_add(cs_metric *m, const char *const *values, double v);
void cs_metric_set(cs_metric *m, const char *const *values, double v);   /* gauges */
void cs_metric_observe(cs_metric *m, const char *const *values, double v); /* histograms */
/* Set every series of a gauge to 0 (before setting the ones that still exist). */
void cs_metric_zero(cs_metric *m);

/* Append the families in the exposition format (text/plain; version=0.0.4). */
int cs_metrics_write(cs_metric *const *families, size_t n, cs_dynbuf *out, cs_err *err);

#define CS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
