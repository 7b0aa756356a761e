/* test_metrics.c - the exposition format, bounded label values, histograms (metrics.h). */
#include "unit.h"

#include <pthread.h>

#include "metrics.h"

static const char *const L_AB[] = {"a", "b", NULL};
static const double BUCKETS[] = {0.1, 1};

/* The exposition of one family; the caller frees it. */
static char *expose(cs_metric *m)
{
	cs_dynbuf b;
	cs_err err;

	cs_dynbuf_init(&b, 1 << 20);
	CHECK(cs_metrics_write(&m, 1, &b, &err) == 0);
	return cs_dynbuf_detach(&b);
}

TEST(metrics_counter_with_labels_in_text_format)
{
	static cs_metric m = CS_METRIC_COUNTER("t_requests_total", "Requests.", L_AB);
	char *out;

	cs_metric_add(&m, (const char *const[]){"x", "1"}, 1);
	cs_metric_add(&m, (const char *const[]){"x", "1"}, 2);
	cs_metric_add(&m, (const char *const[]){"y", "q\"\\\n"}, 1);
	cs_metric_add(&m, (const char *const[]){"x", "1"}, -5);   /* a counter never goes down */
	out = expose(&m);
	CHECK_STR(out, "# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\n"
		       "t_requests_total{a=\"x\",b=\"1\"} 3\n"
		       "t_requests_total{a=\"y\",b=\"q\\\"\\\\\\n\"} 1\n");
	free(out);
}

TEST(metrics_unlabelled_families_always_show)
{
	static cs_metric g = CS_METRIC_GAUGE("t_in_use", "In use.", NULL);
	char *out = expose(&g);

	CHECK_STR(out, "# HELP t_in_use In use.\n# TYPE t_in_use gauge\nt_in_use 0\n");
	free(out);
	cs_metric_add(&g, NULL, 2);
	cs_metric_add(&g, NULL, -1);
	out = expose(&g);
	CHECK(strstr(out, "\nt_in_use 1\n") != NULL);
	free(out);
}

TEST(metrics_label_values_are_bounded)
{
	static cs_metric m = CS_METRIC_COUNTER("t_bounded_total", "Bounded.", L_AB);
	char v[32], *out, *p;
	int lines = 0;

	for (int i = 0; i < 1000; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		cs_metric_add(&m, (const char *const[]){v, "z"}, 1);
	}
	out = expose(&m);
	for (p = out; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK(lines == 2 + CS_METRIC_MAX_SERIES);
	/* everything past the cap went to the one series whose labels read "other" */
	CHECK(strstr(out, "t_bounded_total{a=\"other\",b=\"other\"} 937\n") != NULL);
	CHECK(strstr(out, "a=\"v62\"") != NULL && strstr(out, "a=\"v63\"") == NULL);
	free(out);
}

TEST(metrics_histogram_buckets_are_cumulative)
{
	static cs_metric h = CS_METRIC_HISTOGRAM("t_seconds", "Time.", NULL, BUCKETS, 2);
	char *out;

	cs_metric_observe(&h, NULL, 0.05);
	cs_metric_observe(&h, NULL, 0.5);
	cs_metric_observe(&h, NULL, 7);
	out = expose(&h);
	CHECK_STR(out, "# HELP t_seconds Time.\n# TYPE t_seconds histogram\n"
		       "t_seconds_bucket{le=\"0.1\"} 1\nt_seconds_bucket{le=\"1\"} 2\n"
		       "t_seconds_bucket{le=\"+Inf\"} 3\nt_seconds_sum 7.55\nt_seconds_count 3\n");
	free(out);
}

static cs_metric shared = CS_METRIC_COUNTER("t_shared_total", "Shared.", NULL);

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10000; i++)
		cs_metric_add(&shared, NULL, 1);
	return NULL;
}

TEST(metrics_are_safe_from_many_threads)
{
	pthread_t t[4];
	char *out;

	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, adder, NULL) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	out = expose(&shared);
	CHECK(strstr(out, "\nt_shared_total 40000\n") != NULL);
	free(out);
}
