/* utf8.c - valid UTF-8 out of any bytes (see utf8.h). */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const char replacement[] = "\xEF\xBF\xBD";   /* U+FFFD */

size_t cs_utf8_char_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (len == 0 || s[0] == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;          /* no overlong three-byte forms */
	else if (s[0] == 0xED)
		hi = 0x9F;          /* no surrogates */
	else if (s[0] == 0xF0)
		lo = 0x90;          /* no overlong four-byte forms */
	else if (s[0] == 0xF4)
		hi = 0x8F;          /* nothing above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

bool cs_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	while (len > 0) {
		size_t c = cs_utf8_char_len(p, len);

		if (c == 0)
			return false;
		p += c;
		len -= c;
	}
	return true;
}

/* The next character of the len bytes at *p as the bytes to write (*w of them); advances *p. */
static const char *next_char(const unsigned char **p, size_t *len, size_t *w)
{
	size_t c = cs_utf8_char_len(*p, *len);
	const char *from = c ? (const char *)*p : replacement;

	*w = c ? c : sizeof(replacement) - 1;
	*p += c ? c : 1;
	*len -= c ? c : 1;
	return from;
}

size_t cs_utf8_clean(char *dst, size_t n, const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t out = 0, w;

	while (len > 0) {
		const char *from = next_char(&p, &len, &w);

		if (out + w >= n)
			break;
		memcpy(dst + out, from, w);
		out += w;
	}
	dst[out] = '\0';
	return out;
}

size_t cs_utf8_clean_len(const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t total = 0, w;

	while (len > 0) {
		next_char(&p, &len, &w);
		total += w;
	}
	return total;
}

void cs_utf8_fix(char *buf, size_t n)
{
	size_t len = strlen(buf);
	char *copy;

	if (cs_utf8_valid(buf, len))
		return;
	copy = malloc(len + 1);
	if (!copy) {     /* keep only the valid ASCII: still valid, never longer */
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)buf[i] >= 0x80)
				buf[i] = '?';
		return;
	}
	memcpy(copy, buf, len + 1);
	cs_utf8_clean(buf, n, copy, len);
	free(copy);
}

char *cs_utf8_dup(const char *s)
{
	size_t len, n;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s);
	n = 3 * len + 1;     /* every byte may become U+FFFD */
	out = malloc(n);
	if (out)
		cs_utf8_clean(out, n, s, len);
	return out;
}
