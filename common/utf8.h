/*
 * utf8.h - text that goes out (records, log lines, error messages) is
 * valid UTF-8 (RFC 3629), whatever came in.
 *
 * A byte that does not start a well-formed character (a stray
 * continuation byte, an overlong form, a surrogate, a code point above
 * U+10FFFF, a sequence cut short) is replaced by U+FFFD; a text cut to
 * fit a buffer is cut before a character, never inside one.
 *
 * Ownership: cs_utf8_dup() returns heap memory the caller frees; the
 * other functions write into caller buffers and allocate nothing.
 */
#ifndef CS_UTF8_H
#define CS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the well-formed character at s (at most len bytes), or 0. */
size_t cs_utf8_char_len(const unsigned char *s, size_t len);

/* Whether the len bytes at s are valid UTF-8 with no NUL byte. */
bool cs_utf8_valid(const char *s, size_t len);

/*
 * Write the valid form of the len bytes at src into dst (n > 0 bytes, NUL
 * terminated, cut on a character boundary). dst and src may not overlap.
 * Returns the bytes written, without the NUL.
 */
size_t cs_utf8_clean(char *dst, size_t n, const char *src, size_t len);

/* The length cs_utf8_clean() gives the len bytes at src when nothing is cut. */
size_t cs_utf8_clean_len(const char *src, size_t len);

/* Make the NUL-terminated text in buf (n bytes) valid in place. */
void cs_utf8_fix(char *buf, size_t n);

/* A valid copy of s (NULL: NULL); NULL when out of memory. */
char *cs_utf8_dup(const char *s);

#endif
