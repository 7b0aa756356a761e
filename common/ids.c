/* ids.c - random and time-ordered UUIDs, UUID syntax checks (see ids.h). */
#include "ids.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "banned.h"

/* b as 8-4-4-4-12 lowercase hex digits. */
static void format_uuid(const unsigned char b[16], char out[CS_UUID_LEN + 1])
{
	char hex[33];
	size_t o = 0;

	sodium_bin2hex(hex, sizeof(hex), b, 16);
	for (int i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[i];
	}
	out[o] = '\0';
}

/* Set the version nibble and the RFC 9562 variant bits. */
static void mark(unsigned char b[16], unsigned version)
{
	b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
}

void cs_uuid_v4(char out[CS_UUID_LEN + 1])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	mark(b, 4);
	format_uuid(b, out);
}

void cs_uuid_v7(char out[CS_UUID_LEN + 1])
{
	unsigned char b[16];
	struct timespec now;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &now);
	ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	randombytes_buf(b + 6, sizeof(b) - 6);
	mark(b, 7);
	format_uuid(b, out);
}

bool cs_is_uuid(const char *s)
{
	if (!s || strlen(s) != CS_UUID_LEN)
		return false;
	for (int i = 0; i < CS_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}
