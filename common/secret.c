/*
 * secret.c - sealing and opening secrets with libsodium's
 * XChaCha20-Poly1305 (see secret.h for the API, docs/secrets.md for the
 * format). All crypto and base64 is libsodium's; this file only parses,
 * checks bounds and builds the associated data.
 */
#include "secret.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "banned.h"

#define SEAL_PREFIX     "csv1."
#define SEAL_PREFIX_LEN 5
#define AD_FMT          "calsync-secret-v1|%.*s|%s"
#define AD_MAX          96      /* 18 + kid 32 + 1 + uuid 36, plus NUL */
#define UUID_LEN        36
#define KEY_B64_MAX     64      /* a 32-byte key is 44 base64 characters */
#define B64_STD         sodium_base64_VARIANT_ORIGINAL
#define B64_URL         sodium_base64_VARIANT_URLSAFE_NO_PADDING

struct cs_key {
	char kid[CS_SECRET_KID_MAX + 1];
	unsigned char key[CS_SECRET_KEY_BYTES];
};

struct cs_keyring {
	size_t n;
	struct cs_key keys[CS_SECRET_KEYS_MAX];
};

/* The parts of a sealed text, pointing into it. */
struct sealed_parts {
	const char *kid;
	size_t kidlen;
	const char *data;
	size_t datalen;
};

static const char not_sealed[] =
	"not a calsync sealed secret (expected csv1.<kid>.<data>)";

static int sodium_ready(cs_err *err)
{
	if (sodium_init() < 0)
		return cs_err_set(err, CS_ECRYPTO, false,
				  "libsodium failed to initialise");
	return 0;
}

static bool kid_ok(const char *s, size_t n)
{
	if (n == 0 || n > CS_SECRET_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Whether s[0..n) uses only the base64 alphabet (url: A-Z a-z 0-9 - _;
 * otherwise A-Z a-z 0-9 + / =). Checked before sodium_base642bin(), which
 * in libsodium 1.0.18 maps some bytes >= 0x80 to valid digits - a changed
 * byte would then still decode to the same data.
 */
static bool b64_chars_ok(const char *s, size_t n, bool url)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (url ? (c != '-' && c != '_') :
			  (c != '+' && c != '/' && c != '='))
			return false;
	}
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const struct cs_key *find_key(const cs_keyring *kr, const char *kid,
				     size_t kidlen)
{
	for (size_t i = 0; i < kr->n; i++)
		if (strlen(kr->keys[i].kid) == kidlen &&
		    memcmp(kr->keys[i].kid, kid, kidlen) == 0)
			return &kr->keys[i];
	return NULL;
}

/* One `kid:base64key` entry (n bytes at s), the idx-th (from 1). */
static int parse_entry(cs_keyring *kr, const char *s, size_t n, size_t idx,
		       cs_err *err)
{
	unsigned char buf[KEY_B64_MAX];
	struct cs_key *k;
	const char *colon;
	size_t kidlen, binlen;
	int rc;

	while (n && is_blank(s[0]))
		s++, n--;
	while (n && is_blank(s[n - 1]))
		n--;
	if (n == 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "key entry %zu is empty", idx);
	colon = memchr(s, ':', n);
	if (!colon)
		return cs_err_set(err, CS_EINVAL, false,
				  "key entry %zu has no ':' between key id and key",
				  idx);
	kidlen = (size_t)(colon - s);
	if (!kid_ok(s, kidlen))
		return cs_err_set(err, CS_EINVAL, false,
				  "key entry %zu has a bad key id (1-%d characters of A-Z a-z 0-9 _ -)",
				  idx, CS_SECRET_KID_MAX);
	if (find_key(kr, s, kidlen))
		return cs_err_set(err, CS_EINVAL, false,
				  "duplicate key id '%.*s'", (int)kidlen, s);
	if (kr->n == CS_SECRET_KEYS_MAX)
		return cs_err_set(err, CS_EINVAL, false,
				  "too many keys (at most %d)", CS_SECRET_KEYS_MAX);
	k = &kr->keys[kr->n];
	memcpy(k->kid, s, kidlen);
	k->kid[kidlen] = '\0';
	s = colon + 1;
	n -= kidlen + 1;
	if (n == 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "key '%s' is empty", k->kid);
	if (n > KEY_B64_MAX)
		return cs_err_set(err, CS_EINVAL, false,
				  "key '%s' is not %d bytes", k->kid,
				  CS_SECRET_KEY_BYTES);
	rc = -1;
	if (b64_chars_ok(s, n, false))
		rc = sodium_base642bin(buf, sizeof(buf), s, n, NULL, &binlen,
				       NULL, B64_STD);
	if (rc == 0 && binlen == CS_SECRET_KEY_BYTES)
		memcpy(k->key, buf, CS_SECRET_KEY_BYTES);
	sodium_memzero(buf, sizeof(buf));
	if (rc != 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "key '%s' is not valid base64 (standard alphabet with '=' padding)",
				  k->kid);
	if (binlen != CS_SECRET_KEY_BYTES)
		return cs_err_set(err, CS_EINVAL, false,
				  "key '%s' is %zu bytes, expected %d", k->kid,
				  binlen, CS_SECRET_KEY_BYTES);
	kr->n++;
	return 0;
}

int cs_keyring_parse(cs_keyring **out, const char *spec, cs_err *err)
{
	cs_keyring *kr;
	const char *p, *comma;
	size_t idx = 1;

	if (out)
		*out = NULL;
	if (!out)
		return cs_err_set(err, CS_EINVAL, false,
				  "cs_keyring_parse: no output");
	if (sodium_ready(err) < 0)
		return -1;
	for (p = spec; p && *p && is_blank(*p); p++)
		;
	if (!p || !*p)
		return cs_err_set(err, CS_EINVAL, false,
				  "no keys (expected kid:base64key[,kid:base64key...])");
	kr = calloc(1, sizeof(*kr));
	if (!kr)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	for (p = spec;; p = comma + 1, idx++) {
		comma = strchr(p, ',');
		if (parse_entry(kr, p, comma ? (size_t)(comma - p) : strlen(p),
				idx, err) < 0) {
			cs_keyring_free(kr);
			return -1;
		}
		if (!comma)
			break;
	}
	*out = kr;
	return 0;
}

int cs_keyring_from_env(cs_keyring **out, cs_err *err)
{
	const char *spec = getenv("CALSYNC_SECRET_KEYS");

	if (out)
		*out = NULL;
	if (!spec)
		return cs_err_set(err, CS_EINVAL, false,
				  "CALSYNC_SECRET_KEYS is not set (expected kid:base64key[,kid:base64key...])");
	if (cs_keyring_parse(out, spec, err) < 0)
		return cs_err_prefix(err, "CALSYNC_SECRET_KEYS");
	return 0;
}

void cs_keyring_free(cs_keyring *kr)
{
	if (!kr)
		return;
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
}

const char *cs_keyring_primary_kid(const cs_keyring *kr)
{
	return kr && kr->n ? kr->keys[0].kid : NULL;
}

/* Check a UUID (any case) and write it lowercase into out. */
static int tenant_norm(const char *t, char out[UUID_LEN + 1], cs_err *err)
{
	for (int i = 0; t && i < UUID_LEN; i++) {
		char c = t[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (dash ? c != '-' :
			   !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			break;
		out[i] = c;
		if (i == UUID_LEN - 1 && t[UUID_LEN] == '\0') {
			out[UUID_LEN] = '\0';
			return 0;
		}
	}
	return cs_err_set(err, CS_EINVAL, false,
			  "bad tenant id (expected a UUID such as 3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b)");
}

/* Split `csv1.<kid>.<data>` without decoding anything. */
static int parse_sealed(const char *s, struct sealed_parts *p, cs_err *err)
{
	const char *dot;
	size_t n, v;

	if (!s)
		return cs_err_set(err, CS_EINVAL, false, "%s", not_sealed);
	n = strnlen(s, CS_SECRET_SEALED_MAX + 1);
	if (n > CS_SECRET_SEALED_MAX)
		return cs_err_set(err, CS_EINVAL, false,
				  "sealed secret is too long (more than %d characters)",
				  CS_SECRET_SEALED_MAX);
	if (strncmp(s, SEAL_PREFIX, SEAL_PREFIX_LEN) != 0) {
		v = 3;
		if (strncmp(s, "csv", 3) == 0)
			while (v < 12 && s[v] >= '0' && s[v] <= '9')
				v++;
		if (v > 3 && s[v] == '.')
			return cs_err_set(err, CS_EINVAL, false,
					  "unsupported sealed secret version '%.*s' (this build reads csv1)",
					  (int)v, s);
		return cs_err_set(err, CS_EINVAL, false, "%s", not_sealed);
	}
	p->kid = s + SEAL_PREFIX_LEN;
	dot = strchr(p->kid, '.');
	if (!dot)
		return cs_err_set(err, CS_EINVAL, false, "%s", not_sealed);
	p->kidlen = (size_t)(dot - p->kid);
	if (!kid_ok(p->kid, p->kidlen))
		return cs_err_set(err, CS_EINVAL, false,
				  "sealed secret has a bad key id (1-%d characters of A-Z a-z 0-9 _ -)",
				  CS_SECRET_KID_MAX);
	p->data = dot + 1;
	p->datalen = n - (size_t)(p->data - s);
	return 0;
}

int cs_secret_seal_with_nonce(const cs_keyring *kr, const char *tenant_id,
			      const char *plain, size_t plain_len,
			      const unsigned char nonce[CS_SECRET_NONCE_BYTES],
			      char **out, cs_err *err)
{
	char tenant[UUID_LEN + 1], ad[AD_MAX];
	const struct cs_key *k;
	unsigned char *bin;
	size_t kidlen, binlen, b64sz;
	int adlen;
	char *s;

	if (out)
		*out = NULL;
	if (!kr || !kr->n || !nonce || !out || (!plain && plain_len))
		return cs_err_set(err, CS_EINVAL, false,
				  "cs_secret_seal: missing argument");
	if (sodium_ready(err) < 0 || tenant_norm(tenant_id, tenant, err) < 0)
		return -1;
	if (plain_len > CS_SECRET_PLAIN_MAX)
		return cs_err_set(err, CS_ENOMEM, false,
				  "secret too long (%zu bytes, at most %d)",
				  plain_len, CS_SECRET_PLAIN_MAX);
	if (plain_len && memchr(plain, '\0', plain_len))
		return cs_err_set(err, CS_EINVAL, false,
				  "secret contains a NUL byte");
	k = &kr->keys[0];
	kidlen = strlen(k->kid);
	adlen = snprintf(ad, sizeof(ad), AD_FMT, (int)kidlen, k->kid, tenant);
	binlen = CS_SECRET_NONCE_BYTES + plain_len + CS_SECRET_TAG_BYTES;
	b64sz = sodium_base64_ENCODED_LEN(binlen, B64_URL);
	bin = malloc(binlen);
	s = malloc(SEAL_PREFIX_LEN + kidlen + 1 + b64sz);
	if (!bin || !s) {
		free(bin);
		free(s);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	memcpy(bin, nonce, CS_SECRET_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		bin + CS_SECRET_NONCE_BYTES, NULL,
		(const unsigned char *)(plain ? plain : ""), plain_len,
		(const unsigned char *)ad, (unsigned long long)adlen, NULL,
		nonce, k->key);
	memcpy(s, SEAL_PREFIX, SEAL_PREFIX_LEN);
	memcpy(s + SEAL_PREFIX_LEN, k->kid, kidlen);
	s[SEAL_PREFIX_LEN + kidlen] = '.';
	sodium_bin2base64(s + SEAL_PREFIX_LEN + kidlen + 1, b64sz, bin, binlen,
			  B64_URL);
	free(bin);
	*out = s;
	return 0;
}

int cs_secret_seal(const cs_keyring *kr, const char *tenant_id,
		   const char *plain, size_t plain_len, char **out, cs_err *err)
{
	unsigned char nonce[CS_SECRET_NONCE_BYTES];

	if (sodium_ready(err) < 0)
		return -1;
	randombytes_buf(nonce, sizeof(nonce));
	return cs_secret_seal_with_nonce(kr, tenant_id, plain, plain_len,
					 nonce, out, err);
}

int cs_secret_open(const cs_keyring *kr, const char *tenant_id,
		   const char *sealed, char **out_plain, size_t *out_len,
		   cs_err *err)
{
	char tenant[UUID_LEN + 1], ad[AD_MAX];
	struct sealed_parts p;
	const struct cs_key *k;
	unsigned char *bin;
	unsigned long long mlen;
	size_t binlen, maxbin;
	char *m;
	int adlen;

	if (out_plain)
		*out_plain = NULL;
	if (out_len)
		*out_len = 0;
	if (!kr || !out_plain)
		return cs_err_set(err, CS_EINVAL, false,
				  "cs_secret_open: missing argument");
	if (sodium_ready(err) < 0 || parse_sealed(sealed, &p, err) < 0 ||
	    tenant_norm(tenant_id, tenant, err) < 0)
		return -1;
	k = find_key(kr, p.kid, p.kidlen);
	if (!k)
		return cs_err_set(err, CS_ECRYPTO, false,
				  "unknown key id '%.*s'", (int)p.kidlen, p.kid);
	maxbin = p.datalen / 4 * 3 + 3;
	bin = malloc(maxbin);
	if (!bin)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	if (!b64_chars_ok(p.data, p.datalen, true) ||
	    sodium_base642bin(bin, maxbin, p.data, p.datalen, NULL, &binlen,
			      NULL, B64_URL) != 0) {
		free(bin);
		return cs_err_set(err, CS_EINVAL, false,
				  "sealed secret data is not base64url without padding");
	}
	if (binlen < CS_SECRET_NONCE_BYTES + CS_SECRET_TAG_BYTES ||
	    binlen > CS_SECRET_NONCE_BYTES + CS_SECRET_PLAIN_MAX +
			     CS_SECRET_TAG_BYTES) {
		free(bin);
		return cs_err_set(err, CS_EINVAL, false,
				  "sealed secret is %s",
				  binlen < CS_SECRET_NONCE_BYTES +
						   CS_SECRET_TAG_BYTES ?
					  "truncated" : "too long");
	}
	adlen = snprintf(ad, sizeof(ad), AD_FMT, (int)p.kidlen, p.kid, tenant);
	m = malloc(binlen - CS_SECRET_NONCE_BYTES - CS_SECRET_TAG_BYTES + 1);
	if (!m) {
		free(bin);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (unsigned char *)m, &mlen, NULL, bin + CS_SECRET_NONCE_BYTES,
		    binlen - CS_SECRET_NONCE_BYTES, (const unsigned char *)ad,
		    (unsigned long long)adlen, bin, k->key) != 0) {
		free(bin);
		free(m);
		return cs_err_set(err, CS_ECRYPTO, false,
				  "sealed secret does not open (wrong key, wrong tenant or changed bytes)");
	}
	free(bin);
	if (memchr(m, '\0', (size_t)mlen)) {
		sodium_memzero(m, (size_t)mlen);
		free(m);
		return cs_err_set(err, CS_EINVAL, false,
				  "sealed secret holds a NUL byte (not allowed)");
	}
	m[mlen] = '\0';
	*out_plain = m;
	if (out_len)
		*out_len = (size_t)mlen;
	return 0;
}

void cs_secret_free(char *plain)
{
	if (!plain)
		return;
	sodium_memzero(plain, strlen(plain));
	free(plain);
}

int cs_secret_kid(const char *sealed, char *kid, size_t kidsz, cs_err *err)
{
	struct sealed_parts p;

	if (!kid || kidsz == 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "cs_secret_kid: no output buffer");
	kid[0] = '\0';
	if (parse_sealed(sealed, &p, err) < 0)
		return -1;
	if (p.kidlen >= kidsz)
		return cs_err_set(err, CS_EINVAL, false,
				  "cs_secret_kid: buffer of %zu bytes is too small",
				  kidsz);
	memcpy(kid, p.kid, p.kidlen);
	kid[p.kidlen] = '\0';
	return 0;
}
