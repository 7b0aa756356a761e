/*
 * log.c - line-per-record logging (see log.h). JSON records are built with
 * jansson; a whole line is written with one fputs under stdio's lock, so
 * lines of different threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "utf8.h"
#include "banned.h"

#define LOG_LINE_MAX 2048
#define CTX_MAX 64

static enum cs_log_level min_level = CS_LOG_INFO;
static bool json_format;
static const char *program = "calsync";
static _Thread_local char ctx_job[CTX_MAX];
static _Thread_local char ctx_cal[CTX_MAX];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int cs_log_init(const char *level, const char *format, const char *prog,
		cs_err *err)
{
	int found = -1;

	for (int i = 0; i < 4; i++)
		if (level && strcmp(level, level_names[i]) == 0)
			found = i;
	if (found < 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "CALSYNC_LOG_LEVEL: '%s' is not debug, info, warn or error",
				  level ? level : "");
	if (format && strcmp(format, "json") != 0 && strcmp(format, "text") != 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "CALSYNC_LOG_FORMAT: '%s' is not text or json", format);
	min_level = (enum cs_log_level)found;
	json_format = format && strcmp(format, "json") == 0;
	program = prog;
	return 0;
}

static void copy_ctx(char *dst, const char *src)
{
	snprintf(dst, CTX_MAX, "%s", src ? src : "");
	cs_utf8_fix(dst, CTX_MAX);
}

void cs_log_context(const char *job_id, const char *calendar_id)
{
	copy_ctx(ctx_job, job_id);
	copy_ctx(ctx_cal, calendar_id);
}

/* n must be at least 32 */
static void timestamp(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + 19, n - 19, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static void emit_json(const char *ts, enum cs_log_level level, const char *msg)
{
	json_t *o = json_object();
	char *line;

	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level_names[level]));
	json_object_set_new(o, "prog", json_string(program));
	if (ctx_job[0])
		json_object_set_new(o, "job", json_string(ctx_job));
	if (ctx_cal[0])
		json_object_set_new(o, "calendar", json_string(ctx_cal));
	json_object_set_new(o, "msg", json_string(msg));
	line = json_dumps(o, JSON_COMPACT);
	if (line) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	json_decref(o);
}

void cs_log(enum cs_log_level level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	char ts[40];
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cs_utf8_fix(msg, sizeof(msg));
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	timestamp(ts, sizeof(ts));
	if (json_format)
		emit_json(ts, level, msg);
	else
		fprintf(stderr, "%s %-5s %s job=%s calendar=%s %s\n", ts,
			level_names[level], program, ctx_job[0] ? ctx_job : "-",
			ctx_cal[0] ? ctx_cal : "-", msg);
}
