/*
 * metrics.c - the series of a family, found or made by their label
 * values under the family's mutex, and their exposition (see metrics.h).
 */
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "banned.h"

struct cs_metric_series {
	char values[CS_METRIC_MAX_LABELS][CS_METRIC_LABEL_MAX + 1];
	double value;                               /* counter, gauge */
	double sum;                                 /* histogram */
	unsigned long long count;
	unsigned long long in_bucket[CS_METRIC_MAX_BUCKETS]; /* not cumulative */
};

static const char OTHER[] = "other";

static size_t nlabels(const cs_metric *m)
{
	size_t n = 0;

	while (m->labels && m->labels[n] && n < CS_METRIC_MAX_LABELS)
		n++;
	return n;
}

static void copy_value(char *dst, const char *src)
{
	src = src ? src : "";
	cs_utf8_clean(dst, CS_METRIC_LABEL_MAX + 1, src, strlen(src));
}

static bool matches(const struct cs_metric_series *s, const char *const *values, size_t n)
{
	char v[CS_METRIC_LABEL_MAX + 1];

	for (size_t i = 0; i < n; i++) {
		copy_value(v, values ? values[i] : NULL);
		if (strcmp(s->values[i], v) != 0)
			return false;
	}
	return true;
}

static bool is_other(const struct cs_metric_series *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->values[i], OTHER) != 0)
			return false;
	return n > 0;
}

/* The series of these values, made when new; the "other" series once full. Locked. */
static struct cs_metric_series *series_of(cs_metric *m, const char *const *values)
{
	size_t n = nlabels(m);
	struct cs_metric_series *s;

	for (size_t i = 0; i < m->nseries; i++)
		if (matches(m->series[i], values, n))
			return m->series[i];
	if (m->nseries >= CS_METRIC_MAX_SERIES - 1 && n > 0) {
		for (size_t i = 0; i < m->nseries; i++)
			if (is_other(m->series[i], n))
				return m->series[i];
	}
	if (m->nseries == CS_METRIC_MAX_SERIES)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy_value(s->values[i], m->nseries == CS_METRIC_MAX_SERIES - 1 ? OTHER
					 : values ? values[i] : NULL);
	m->series[m->nseries++] = s;
	return s;
}

void cs_metric_add(cs_metric *m, const char *const *values, double v)
{
	struct cs_metric_series *s;

	if (m->kind == CS_METRIC_COUNTER && !(v >= 0))
		return;
	pthread_mutex_lock(&m->lock);
	if ((s = series_of(m, values)))
		s->value += v;
	pthread_mutex_unlock(&m->lock);
}

void cs_metric_set(cs_metric *m, const char *const *values, double v)
{
	struct cs_metric_series *s;

	pthread_mutex_lock(&m->lock);
	if ((s = series_of(m, values)))
		s->value = v;
	pthread_mutex_unlock(&m->lock);
}

void cs_metric_observe(cs_metric *m, const char *const *values, double v)
{
	struct cs_metric_series *s;

	if (isnan(v))
		return;
	pthread_mutex_lock(&m->lock);
	if ((s = series_of(m, values))) {
		size_t b = 0;

		while (b < m->nbuckets && v > m->buckets[b])
			b++;
		if (b < m->nbuckets)
			s->in_bucket[b]++;
		s->sum += v;
		s->count++;
	}
	pthread_mutex_unlock(&m->lock);
}

void cs_metric_zero(cs_metric *m)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nseries; i++)
		m->series[i]->value = 0;
	pthread_mutex_unlock(&m->lock);
}

/* ---- exposition --------------------------------------------------------- */

/* A label value escaped as the format asks: backslash, double quote, newline. */
static int add_escaped(cs_dynbuf *out, const char *v, cs_err *err)
{
	for (; *v; v++) {
		const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;
		int rc = esc ? cs_dynbuf_addstr(out, esc, err) : cs_dynbuf_add(out, v, 1, err);

		if (rc)
			return -1;
	}
	return 0;
}

/* {a="x",b="y"[,le="..."]}; nothing when there are no labels and no le. */
static int add_labels(cs_dynbuf *out, const cs_metric *m, const struct cs_metric_series *s,
		      const char *le, cs_err *err)
{
	size_t n = nlabels(m);

	if (n == 0 && !le)
		return 0;
	if (cs_dynbuf_addstr(out, "{", err))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cs_dynbuf_printf(out, err, "%s%s=\"", i ? "," : "", m->labels[i]) ||
		    add_escaped(out, s->values[i], err) || cs_dynbuf_addstr(out, "\"", err))
			return -1;
	if (le && cs_dynbuf_printf(out, err, "%sle=\"%s\"", n ? "," : "", le))
		return -1;
	return cs_dynbuf_addstr(out, "}", err);
}

static int add_sample(cs_dynbuf *out, const cs_metric *m, const char *suffix,
		      const struct cs_metric_series *s, const char *le, double v, cs_err *err)
{
	if (cs_dynbuf_printf(out, err, "%s%s", m->name, suffix) || add_labels(out, m, s, le, err))
		return -1;
	return cs_dynbuf_printf(out, err, " %.15g\n", v);
}

static int write_histogram(cs_dynbuf *out, const cs_metric *m,
			   const struct cs_metric_series *s, cs_err *err)
{
	unsigned long long cum = 0;
	char le[32];

	for (size_t b = 0; b < m->nbuckets; b++) {
		cum += s->in_bucket[b];
		snprintf(le, sizeof(le), "%.15g", m->buckets[b]);
		if (add_sample(out, m, "_bucket", s, le, (double)cum, err))
			return -1;
	}
	if (add_sample(out, m, "_bucket", s, "+Inf", (double)s->count, err) ||
	    add_sample(out, m, "_sum", s, NULL, s->sum, err))
		return -1;
	return add_sample(out, m, "_count", s, NULL, (double)s->count, err);
}

static int write_family(cs_dynbuf *out, cs_metric *m, cs_err *err)
{
	static const char *const kinds[] = {"counter", "gauge", "histogram"};
	static const struct cs_metric_series none;
	int rc;

	if (cs_dynbuf_printf(out, err, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
			     m->name, kinds[m->kind]))
		return -1;
	pthread_mutex_lock(&m->lock);
	rc = 0;
	if (m->nseries == 0 && nlabels(m) == 0) /* an unlabelled family is always there */
		rc = m->kind == CS_METRIC_HISTOGRAM ? write_histogram(out, m, &none, err)
						    : add_sample(out, m, "", &none, NULL, 0, err);
	for (size_t i = 0; rc == 0 && i < m->nseries; i++)
		rc = m->kind == CS_METRIC_HISTOGRAM
			     ? write_histogram(out, m, m->series[i], err)
			     : add_sample(out, m, "", m->series[i], NULL, m->series[i]->value, err);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int cs_metrics_write(cs_metric *const *families, size_t n, cs_dynbuf *out, cs_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (write_family(out, families[i], err))
			return -1;
	return 0;
}
