/*
 * pacer.c - accounts' request budgets (see pacer.h): one entry per
 * account seen, a token bucket, a count of requests in flight and a pause.
 * One mutex and one condition variable for the process: waiters re-check
 * when any request of any account ends.
 */
#include "pacer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banned.h"

#define BUCKETS 1024
/* An account idle this long with a full budget is forgotten. */
#define FORGET_MS 60000

struct account {
	struct account *next;
	char key[CS_PACE_ACCOUNT_MAX];
	unsigned in_flight;
	double tokens;
	long long refilled_ms;
	long long paused_until_ms;
	long long used_ms;
};

struct cs_pacer {
	pthread_mutex_t mu;
	pthread_cond_t changed;
	struct account *buckets[BUCKETS];
	long long swept_ms;
};

int cs_pacer_new(cs_pacer **out, cs_err *err)
{
	cs_pacer *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	*out = p;
	if (!p)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->changed, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void cs_pacer_free(cs_pacer *p)
{
	if (!p)
		return;
	for (int i = 0; i < BUCKETS; i++)
		while (p->buckets[i]) {
			struct account *a = p->buckets[i];

			p->buckets[i] = a->next;
			free(a);
		}
	pthread_cond_destroy(&p->changed);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void cs_pacer_account(const char *provider, const char *owner, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", provider ? provider : "", owner ? owner : "");
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % BUCKETS;
}

static double capacity(const cs_provider_limits *l)
{
	return l->burst > l->per_second ? l->burst : l->per_second;
}

/* With p->mu held: forget accounts idle long enough (at most once a second). */
static void sweep(cs_pacer *p, long long now)
{
	if (now - p->swept_ms < 1000)
		return;
	p->swept_ms = now;
	for (int i = 0; i < BUCKETS; i++)
		for (struct account **a = &p->buckets[i]; *a;) {
			struct account *old = *a;

			if (old->in_flight == 0 && old->paused_until_ms <= now &&
			    now - old->used_ms > FORGET_MS) {
				*a = old->next;
				free(old);
			} else {
				a = &old->next;
			}
		}
}

/* With p->mu held: the account's entry, made when new (NULL: out of memory). */
static struct account *find(cs_pacer *p, const cs_pace *pace, long long now)
{
	unsigned b = hash(pace->account);
	struct account *a;

	for (a = p->buckets[b]; a; a = a->next)
		if (strcmp(a->key, pace->account) == 0)
			return a;
	sweep(p, now);
	if (!(a = calloc(1, sizeof(*a))))
		return NULL;
	snprintf(a->key, sizeof(a->key), "%s", pace->account);
	a->tokens = capacity(&pace->limits);
	a->refilled_ms = now;
	a->next = p->buckets[b];
	p->buckets[b] = a;
	return a;
}

static void wait_ms(cs_pacer *p, long long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->changed, &p->mu, &until);
}

/*
 * With p->mu held: 0 when a request may go now (counted), else how many
 * ms to wait; -1 in *handback when the pause is too long to wait out.
 */
static long long admit(struct account *a, const cs_provider_limits *l, long long now,
		       bool *handback)
{
	*handback = false;
	if (l->per_second) {
		a->tokens += (double)(now - a->refilled_ms) * l->per_second / 1000.0;
		if (a->tokens > capacity(l))
			a->tokens = capacity(l);
	}
	a->refilled_ms = now;
	if (a->paused_until_ms > now) {
		*handback = a->paused_until_ms - now > CS_PACE_HANDBACK_MS;
		return a->paused_until_ms - now;
	}
	if (l->max_in_flight && a->in_flight >= l->max_in_flight)
		return 1000;   /* woken when one ends */
	if (l->per_second && a->tokens < 1.0)
		return (long long)((1.0 - a->tokens) * 1000.0 / l->per_second) + 1;
	if (l->per_second)
		a->tokens -= 1.0;
	a->in_flight++;
	a->used_ms = now;
	return 0;
}

static int start(cs_pace *pace, cs_err *err)
{
	cs_pacer *p = pace->pacer;
	struct account *a;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		long long now = mono_ms(), wait;
		bool handback;

		if (!(a = find(p, pace, now))) {
			rc = cs_err_set(err, CS_ENOMEM, true, "out of memory");
			break;
		}
		wait = admit(a, &pace->limits, now, &handback);
		if (wait == 0)
			break;
		if (handback) {
			rc = cs_err_set(err, CS_ERATELIMIT, true,
					"the provider asked to pause this account for %lld ms more",
					wait);
			err->retry_after_ms = (int)wait;
			break;
		}
		wait_ms(p, wait);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void end(cs_pace *pace, int retry_after_ms)
{
	cs_pacer *p = pace->pacer;
	struct account *a;
	long long now = mono_ms();

	pthread_mutex_lock(&p->mu);
	a = find(p, pace, now);
	if (a && a->in_flight > 0)
		a->in_flight--;
	if (a && retry_after_ms > 0 && now + retry_after_ms > a->paused_until_ms)
		a->paused_until_ms = now + retry_after_ms;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->mu);
}

int cs_pace_request(void *ctx, bool is_start, int retry_after_ms, cs_err *err)
{
	cs_pace *pace = ctx;

	if (!pace->pacer || !pace->account[0])
		return 0;
	if (is_start)
		return start(pace, err);
	end(pace, retry_after_ms);
	return 0;
}
