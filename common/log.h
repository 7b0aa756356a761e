/*
 * log.h - one record per line on stderr, as text or JSON, with the job and
 * calendar of the calling thread in every line.
 *
 * The job/calendar context is per thread: a worker thread sets it when it
 * takes a job and clears it when done. Callers never pass secrets to the
 * logger; messages name ids, counts and status codes only.
 */
#ifndef CS_LOG_H
#define CS_LOG_H

#include "err.h"

enum cs_log_level { CS_LOG_DEBUG, CS_LOG_INFO, CS_LOG_WARN, CS_LOG_ERROR };

/* level: "debug".."error"; format: "text" or "json"; prog: program name. */
int cs_log_init(const char *level, const char *format, const char *prog,
		cs_err *err);
/* Set (or with NULLs clear) this thread's job and calendar context. */
void cs_log_context(const char *job_id, const char *calendar_id);
void cs_log(enum cs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define cs_debug(...) cs_log(CS_LOG_DEBUG, __VA_ARGS__)
#define cs_info(...) cs_log(CS_LOG_INFO, __VA_ARGS__)
#define cs_warn(...) cs_log(CS_LOG_WARN, __VA_ARGS__)
#define cs_error(...) cs_log(CS_LOG_ERROR, __VA_ARGS__)

#endif
