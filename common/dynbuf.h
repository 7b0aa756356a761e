/*
 * dynbuf.h - a growable byte buffer with a hard size cap (after curl's
 * dynbuf). Every buffer filled from the network has a cap, so a peer that
 * answers without end cannot exhaust memory.
 *
 * Ownership: the dynbuf owns its memory. cs_dynbuf_init() allocates
 * nothing; cs_dynbuf_release() frees the memory and leaves an empty, still
 * usable buffer. The content is always NUL-terminated (the NUL is not
 * counted in len).
 */
#ifndef CS_DYNBUF_H
#define CS_DYNBUF_H

#include <stddef.h>

#include "err.h"

typedef struct cs_dynbuf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;     /* the most bytes len may ever reach */
} cs_dynbuf;

void cs_dynbuf_init(cs_dynbuf *b, size_t cap);
void cs_dynbuf_release(cs_dynbuf *b);
/* Empty the buffer, keeping its memory. */
void cs_dynbuf_reset(cs_dynbuf *b);
/* Append n bytes; CS_ENOMEM when the cap would be passed. */
int cs_dynbuf_add(cs_dynbuf *b, const void *p, size_t n, cs_err *err);
int cs_dynbuf_addstr(cs_dynbuf *b, const char *s, cs_err *err);
int cs_dynbuf_printf(cs_dynbuf *b, cs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The content as a C string ("" for an empty buffer, never NULL). */
const char *cs_dynbuf_str(const cs_dynbuf *b);
/* Take the memory out; the caller frees it with free(). May be NULL. */
char *cs_dynbuf_detach(cs_dynbuf *b);

#endif
