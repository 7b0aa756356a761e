/*
 * err.h - the one error convention of calsync.
 *
 * Every function that can fail returns int: 0 on success, -1 on failure.
 * On failure it fills the caller's cs_err (when the pointer is not NULL)
 * with a code, a message and whether trying again may help - the way
 * librdkafka's error objects do. A cs_err lives on the caller's stack and
 * owns no heap memory: nothing to free.
 *
 * Messages never contain secrets: callers pass names, ids and status
 * codes, never token values. A message is always valid UTF-8 (utf8.h),
 * also when the text it quotes was not or was cut to fit.
 */
#ifndef CS_ERR_H
#define CS_ERR_H

#include <stdbool.h>

enum cs_errcode {
	CS_OK = 0,
	CS_EINVAL,      /* bad input: setting, message, body, argument */
	CS_ENOMEM,      /* out of memory or over a size cap */
	CS_EIO,         /* network or server trouble; usually retryable */
	CS_EDB,         /* PostgreSQL said no */
	CS_EREDIS,      /* Redis said no */
	CS_ENOTFOUND,   /* the thing named does not exist */
	CS_ECONFLICT,   /* precondition failed (etag/If-Match, 409, 412) */
	CS_EAUTH,       /* credentials refused; the user must reconnect */
	CS_ERATELIMIT,  /* provider asked us to slow down */
	CS_EGONE,       /* sync token expired: do a full sync */
	CS_ECRYPTO,     /* a sealed secret does not open */
	CS_EFENCED,     /* our claim on a job was taken over */
	CS_EPROTO,      /* the peer answered something we cannot understand */
	CS_EREFUSED,    /* the provider refused this one item (400, or 403 for it) */
	CS_EREADONLY    /* the account may only read this calendar */
};

#define CS_ERR_MSG_MAX 512

typedef struct cs_err {
	enum cs_errcode code;
	bool retryable;
	int retry_after_ms;          /* >0 when the peer said when (Retry-After) */
	char msg[CS_ERR_MSG_MAX];
} cs_err;

/* Clear an error object to CS_OK. */
void cs_err_clear(cs_err *e);

/*
 * Fill e (may be NULL) and return -1, so that failing paths can say
 * `return cs_err_set(err, CS_EINVAL, false, "...", ...);`.
 */
int cs_err_set(cs_err *e, enum cs_errcode code, bool retryable,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Prefix the message already in e with more context ("loading x: ..."). */
int cs_err_prefix(cs_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Short stable name of a code, e.g. "EINVAL". */
const char *cs_err_name(enum cs_errcode code);

#endif
