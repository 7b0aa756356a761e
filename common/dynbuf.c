/* dynbuf.c - growable, capped byte buffer (see dynbuf.h). */
#include "dynbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

void cs_dynbuf_init(cs_dynbuf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void cs_dynbuf_release(cs_dynbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void cs_dynbuf_reset(cs_dynbuf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int grow(cs_dynbuf *b, size_t need, cs_err *err)
{
	size_t want;
	char *p;

	if (need > b->cap)
		return cs_err_set(err, CS_ENOMEM, false,
				  "buffer would exceed its cap of %zu bytes",
				  b->cap);
	if (need + 1 <= b->alloc)
		return 0;
	want = b->alloc ? b->alloc : 256;
	while (want < need + 1)
		want *= 2;
	if (want > b->cap + 1)
		want = b->cap + 1;
	p = realloc(b->data, want);
	if (!p)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	b->data = p;
	b->alloc = want;
	return 0;
}

int cs_dynbuf_add(cs_dynbuf *b, const void *p, size_t n, cs_err *err)
{
	if (n > b->cap || b->len > b->cap - n)
		return cs_err_set(err, CS_ENOMEM, false,
				  "buffer would exceed its cap of %zu bytes",
				  b->cap);
	if (grow(b, b->len + n, err))
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int cs_dynbuf_addstr(cs_dynbuf *b, const char *s, cs_err *err)
{
	return cs_dynbuf_add(b, s, strlen(s), err);
}

int cs_dynbuf_printf(cs_dynbuf *b, cs_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return cs_err_set(err, CS_EINVAL, false, "bad format");
	if (grow(b, b->len + (size_t)n, err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *cs_dynbuf_str(const cs_dynbuf *b)
{
	return b->data ? b->data : "";
}

char *cs_dynbuf_detach(cs_dynbuf *b)
{
	char *p = b->data;

	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
