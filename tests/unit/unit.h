/*
 * unit.h - the C unit test runner's interface (after libuv's runner).
 *
 * A test is `TEST(name) { ... }` in any tests/unit/test_*.c file; it
 * registers itself at start-up. runner.c runs each test in its own forked
 * child, so a crash or a leak in one test cannot touch another, prints one
 * line per test and ends with "N passed, N failed".
 *
 * Inside a test, CHECK(cond) and CHECK_STR(a, b) fail the test (exit 1 of
 * the child) with the file, line and expression.
 */
#ifndef CS_UNIT_H
#define CS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);

#define TEST(name)                                                     \
	static void test_##name(void);                                 \
	__attribute__((constructor)) static void reg_##name(void)      \
	{                                                              \
		unit_register(#name, test_##name);                     \
	}                                                              \
	static void test_##name(void)

#define CHECK(cond)                                                    \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", \
				__FILE__, __LINE__, #cond);            \
			exit(1);                                       \
		}                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                   \
	do {                                                              \
		const char *a_ = (a), *b_ = (b);                          \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                  \
			fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n",    \
				__FILE__, __LINE__, a_ ? a_ : "(null)",   \
				b_ ? b_ : "(null)");                      \
			exit(1);                                          \
		}                                                         \
	} while (0)

#endif
