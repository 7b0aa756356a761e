/*
 * fuzz.h - what every fuzz target shares: the invariant check (a broken
 * invariant aborts, which libFuzzer reports as a crash and keeps the
 * input) and the text checks the invariants use.
 */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define FUZZ_ASSERT(cond)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
				__LINE__, #cond);                                  \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* NULL, or a valid UTF-8 text. */
static inline int fuzz_text_ok(const char *s)
{
	return !s || cs_utf8_valid(s, strlen(s));
}

/* A NUL-terminated copy of the fuzz input (caller frees). */
static inline char *fuzz_strndup(const void *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

#endif
