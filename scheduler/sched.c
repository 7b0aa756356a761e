/*
 * sched.c - small helpers shared by the parts of the scheduler (see
 * sched.h): the monotonic clock, throttled trouble logging and what a
 * failed Redis step means for the rest.
 */
#include "sched.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "banned.h"

long long cs_sched_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cs_sched_trouble(cs_throttle *t, const char *fmt, ...)
{
	long long now = cs_sched_now();
	char msg[1024];
	va_list ap;

	if (t->last_at && now - t->last_at < CS_TROUBLE_LOG_MS) {
		t->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->suppressed)
		cs_warn("%s (%d more like this since the last report)", msg, t->suppressed);
	else
		cs_warn("%s", msg);
	t->last_at = now;
	t->suppressed = 0;
}

void cs_sched_redis_failed(cs_sched *s, const cs_err *err)
{
	if (err->code == CS_EREDIS)
		s->groups_ok = false;
}
