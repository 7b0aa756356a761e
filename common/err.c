/* err.c - filling and naming cs_err error objects (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "banned.h"

void cs_err_clear(cs_err *e)
{
	if (!e)
		return;
	e->code = CS_OK;
	e->retryable = false;
	e->retry_after_ms = 0;
	e->msg[0] = '\0';
}

int cs_err_set(cs_err *e, enum cs_errcode code, bool retryable,
	       const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->code = code;
	e->retryable = retryable;
	e->retry_after_ms = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	cs_utf8_fix(e->msg, sizeof(e->msg));
	return -1;
}

int cs_err_prefix(cs_err *e, const char *fmt, ...)
{
	char prefix[CS_ERR_MSG_MAX];
	char old[CS_ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old) >= (int)sizeof(e->msg))
		e->msg[sizeof(e->msg) - 1] = '\0'; /* cut (maybe inside a character: fixed next) */
	cs_utf8_fix(e->msg, sizeof(e->msg));
	return -1;
}

const char *cs_err_name(enum cs_errcode code)
{
	static const char *const names[] = {
		[CS_OK] = "OK",
		[CS_EINVAL] = "EINVAL",
		[CS_ENOMEM] = "ENOMEM",
		[CS_EIO] = "EIO",
		[CS_EDB] = "EDB",
		[CS_EREDIS] = "EREDIS",
		[CS_ENOTFOUND] = "ENOTFOUND",
		[CS_ECONFLICT] = "ECONFLICT",
		[CS_EAUTH] = "EAUTH",
		[CS_ERATELIMIT] = "ERATELIMIT",
		[CS_EGONE] = "EGONE",
		[CS_ECRYPTO] = "ECRYPTO",
		[CS_EFENCED] = "EFENCED",
		[CS_EPROTO] = "EPROTO",
		[CS_EREFUSED] = "EREFUSED",
		[CS_EREADONLY] = "EREADONLY",
	};

	if ((unsigned)code >= sizeof(names) / sizeof(names[0]) || !names[code])
		return "EUNKNOWN";
	return names[code];
}
