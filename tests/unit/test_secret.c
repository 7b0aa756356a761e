/*
 * test_secret.c - sealed secrets: round trip, every way a value must fail
 * to open, rotation, keyring errors, hostile inputs, and the test vector of
 * docs/secrets.md (tests/integration/test_secret_vector.py greps the
 * VECTOR_* constants below and checks that Python and the doc agree).
 */
#include "unit.h"

#include <sodium.h>

#include "secret.h"

#include "banned.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define KEY_C "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="
#define TENANT "3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b"
#define TENANT2 "0b5e2a43-1c7d-4f00-8e9a-6d3c2b1a0f99"
#define TOKEN "ya29.a0AfB_byC-example-access-token"

/* The documented test vector (docs/secrets.md). */
#define VECTOR_KID "k2026-11"
#define VECTOR_KEY_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define VECTOR_TENANT "3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b"
#define VECTOR_NONCE_HEX "404142434445464748494a4b4c4d4e4f5051525354555657"
#define VECTOR_PLAINTEXT "calsync test vector: not a real token"
#define VECTOR_SEALED "csv1.k2026-11.QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXt1hpA6mOGjb7kfTKj-oA8ebV3_4zNzzuSlDdN2xlT7BilmkLO4Dq6ypdscfIEZG3lhkOcU8"

static cs_keyring *ring(const char *spec)
{
	cs_keyring *kr = NULL;
	cs_err err;

	if (cs_keyring_parse(&kr, spec, &err) != 0) {
		fprintf(stderr, "  keyring '%s': %s\n", spec, err.msg);
		exit(1);
	}
	return kr;
}

static char *seal(cs_keyring *kr, const char *tenant, const char *plain)
{
	char *out = NULL;
	cs_err err;

	CHECK(cs_secret_seal(kr, tenant, plain, strlen(plain), &out, &err) == 0);
	return out;
}

/* Opening must fail with the code and a message containing msg_part. */
static void open_fails(cs_keyring *kr, const char *tenant, const char *sealed,
		       enum cs_errcode code, const char *msg_part)
{
	char *plain = (char *)"untouched";
	size_t len = 99;
	cs_err err;

	cs_err_clear(&err);
	CHECK(cs_secret_open(kr, tenant, sealed, &plain, &len, &err) == -1);
	CHECK(plain == NULL && len == 0);
	if (err.code != code || (msg_part && !strstr(err.msg, msg_part))) {
		fprintf(stderr, "  opening '%.60s': got %s '%s'\n",
			sealed ? sealed : "(null)", cs_err_name(err.code),
			err.msg);
		exit(1);
	}
}

TEST(secret_round_trip)
{
	cs_keyring *kr = ring("k1:" KEY_A);
	char *sealed = seal(kr, TENANT, TOKEN), *again = seal(kr, TENANT, TOKEN);
	char *plain = NULL, kid[CS_SECRET_KID_MAX + 1];
	size_t len = 0;
	cs_err err;

	CHECK(strncmp(sealed, "csv1.k1.", 8) == 0);
	CHECK(strcmp(sealed, again) != 0); /* random nonce */
	CHECK(cs_secret_open(kr, TENANT, sealed, &plain, &len, &err) == 0);
	CHECK_STR(plain, TOKEN);
	CHECK(len == strlen(TOKEN));
	cs_secret_free(plain);
	/* the tenant id is case-insensitive (it is lowercased for the AD) */
	CHECK(cs_secret_open(kr, "3F2B8C1E-5A4D-4E6F-9B7A-0C1D2E3F4A5B", sealed,
			     &plain, NULL, &err) == 0);
	CHECK_STR(plain, TOKEN);
	cs_secret_free(plain);
	CHECK(cs_secret_kid(sealed, kid, sizeof(kid), &err) == 0);
	CHECK_STR(kid, "k1");
	CHECK_STR(cs_keyring_primary_kid(kr), "k1");
	free(sealed);
	free(again);
	cs_keyring_free(kr);
}

TEST(secret_empty_and_largest_plaintext)
{
	cs_keyring *kr = ring("k1:" KEY_A);
	char *big = malloc(CS_SECRET_PLAIN_MAX + 2), *sealed, *plain;
	size_t len;
	cs_err err;

	sealed = seal(kr, TENANT, "");
	CHECK(cs_secret_open(kr, TENANT, sealed, &plain, &len, &err) == 0);
	CHECK(len == 0 && plain[0] == '\0');
	cs_secret_free(plain);
	free(sealed);

	memset(big, 'x', CS_SECRET_PLAIN_MAX + 1);
	big[CS_SECRET_PLAIN_MAX + 1] = '\0';
	CHECK(cs_secret_seal(kr, TENANT, big, CS_SECRET_PLAIN_MAX + 1, &sealed,
			     &err) == -1);
	CHECK(err.code == CS_ENOMEM && sealed == NULL);
	/* the largest plaintext with the longest kid fits the sealed cap */
	cs_keyring_free(kr);
	kr = ring("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk:" KEY_A);
	CHECK(cs_secret_seal(kr, TENANT, big, CS_SECRET_PLAIN_MAX, &sealed,
			     &err) == 0);
	CHECK(strlen(sealed) == CS_SECRET_SEALED_MAX);
	CHECK(cs_secret_open(kr, TENANT, sealed, &plain, &len, &err) == 0);
	CHECK(len == CS_SECRET_PLAIN_MAX);
	cs_secret_free(plain);
	free(sealed);
	/* a NUL inside is refused (the plaintext comes back as a C string) */
	CHECK(cs_secret_seal(kr, TENANT, "a\0b", 3, &sealed, &err) == -1);
	CHECK(err.code == CS_EINVAL);
	free(big);
	cs_keyring_free(kr);
}

TEST(secret_wrong_key_same_kid)
{
	cs_keyring *a = ring("k1:" KEY_A), *b = ring("k1:" KEY_B);
	char *sealed = seal(a, TENANT, TOKEN);

	open_fails(b, TENANT, sealed, CS_ECRYPTO,
		   "sealed secret does not open (wrong key, wrong tenant or changed bytes)");
	free(sealed);
	cs_keyring_free(a);
	cs_keyring_free(b);
}

TEST(secret_other_tenant)
{
	cs_keyring *kr = ring("k1:" KEY_A);
	char *sealed = seal(kr, TENANT, TOKEN);

	open_fails(kr, TENANT2, sealed, CS_ECRYPTO, "does not open");
	open_fails(kr, "not-a-uuid", sealed, CS_EINVAL, "bad tenant id");
	open_fails(kr, TENANT "0", sealed, CS_EINVAL, "bad tenant id");
	open_fails(kr, "3f2b8c1e5a4d4e6f9b7a0c1d2e3f4a5b", sealed, CS_EINVAL,
		   "bad tenant id");
	open_fails(kr, "", sealed, CS_EINVAL, "bad tenant id");
	open_fails(kr, NULL, sealed, CS_EINVAL, "bad tenant id");
	free(sealed);
	cs_keyring_free(kr);
}

TEST(secret_kid_is_bound)
{
	/* the same key under another kid: the AD differs, so it fails */
	cs_keyring *kr = ring("k1:" KEY_A ",k2:" KEY_A);
	char *sealed = seal(kr, TENANT, TOKEN);

	sealed[6] = '2'; /* csv1.k1. -> csv1.k2. */
	open_fails(kr, TENANT, sealed, CS_ECRYPTO, "does not open");
	free(sealed);
	cs_keyring_free(kr);
}

TEST(secret_changed_byte_anywhere)
{
	cs_keyring *kr = ring("k1:" KEY_A);
	char *sealed = seal(kr, TENANT, TOKEN), *plain;
	size_t n = strlen(sealed);
	cs_err err;

	/* every position, every other byte value (bytes >= 0x80 included) */
	for (size_t i = 0; i < n; i++) {
		char orig = sealed[i];

		for (int c = 1; c < 256; c++) {
			if ((char)c == orig)
				continue;
			sealed[i] = (char)c;
			plain = NULL;
			if (cs_secret_open(kr, TENANT, sealed, &plain, NULL,
					   &err) == 0) {
				fprintf(stderr, "  opened with byte %zu = %#x\n",
					i, (unsigned)c);
				exit(1);
			}
			CHECK(plain == NULL);
			CHECK(err.code == CS_EINVAL || err.code == CS_ECRYPTO);
		}
		sealed[i] = orig;
	}
	CHECK(cs_secret_open(kr, TENANT, sealed, &plain, NULL, &err) == 0);
	cs_secret_free(plain);
	free(sealed);
	cs_keyring_free(kr);
}

TEST(secret_unknown_kid)
{
	cs_keyring *a = ring("k9:" KEY_A), *b = ring("k1:" KEY_A);
	char *sealed = seal(a, TENANT, TOKEN);

	open_fails(b, TENANT, sealed, CS_ECRYPTO, "unknown key id 'k9'");
	free(sealed);
	cs_keyring_free(a);
	cs_keyring_free(b);
}

TEST(secret_rotation)
{
	cs_keyring *old = ring("A:" KEY_A);
	cs_keyring *rot = ring("B:" KEY_B ", A:" KEY_A);
	cs_keyring *only_b = ring("B:" KEY_B);
	char *sealed_a = seal(old, TENANT, TOKEN), *sealed_b, *plain;
	char kid[CS_SECRET_KID_MAX + 1];
	cs_err err;

	/* the rotated keyring opens old values ... */
	CHECK(cs_secret_kid(sealed_a, kid, sizeof(kid), &err) == 0);
	CHECK_STR(kid, "A");
	CHECK(strcmp(kid, cs_keyring_primary_kid(rot)) != 0); /* needs resealing */
	CHECK(cs_secret_open(rot, TENANT, sealed_a, &plain, NULL, &err) == 0);
	CHECK_STR(plain, TOKEN);
	/* ... and reseals them with B */
	CHECK(cs_secret_seal(rot, TENANT, plain, strlen(plain), &sealed_b,
			     &err) == 0);
	cs_secret_free(plain);
	CHECK(strncmp(sealed_b, "csv1.B.", 7) == 0);
	CHECK(cs_secret_kid(sealed_b, kid, sizeof(kid), &err) == 0);
	CHECK_STR(kid, cs_keyring_primary_kid(rot));
	/* once A is retired, the resealed value still opens, the old does not */
	CHECK(cs_secret_open(only_b, TENANT, sealed_b, &plain, NULL, &err) == 0);
	CHECK_STR(plain, TOKEN);
	cs_secret_free(plain);
	open_fails(only_b, TENANT, sealed_a, CS_ECRYPTO, "unknown key id 'A'");
	/* the old keyring does not know B */
	open_fails(old, TENANT, sealed_b, CS_ECRYPTO, "unknown key id 'B'");
	free(sealed_a);
	free(sealed_b);
	cs_keyring_free(old);
	cs_keyring_free(rot);
	cs_keyring_free(only_b);
}

static void parse_fails(const char *spec, const char *msg)
{
	cs_keyring *kr = (cs_keyring *)&kr; /* must be reset to NULL */
	cs_err err;

	CHECK(cs_keyring_parse(&kr, spec, &err) == -1);
	CHECK(kr == NULL);
	CHECK(err.code == CS_EINVAL);
	CHECK_STR(err.msg, msg);
	/* no key material ever appears in a message */
	CHECK(!strstr(err.msg, "AAECAw") && !strstr(err.msg, "ICEiIy") &&
	      !strstr(err.msg, "paWlpa"));
}

TEST(secret_keyring_parse_errors)
{
	cs_keyring *kr;
	cs_err err;

	parse_fails(NULL, "no keys (expected kid:base64key[,kid:base64key...])");
	parse_fails("", "no keys (expected kid:base64key[,kid:base64key...])");
	parse_fails("  \n", "no keys (expected kid:base64key[,kid:base64key...])");
	parse_fails(KEY_A, "key entry 1 has no ':' between key id and key");
	parse_fails("k1:" KEY_A ",", "key entry 2 is empty");
	parse_fails("k1:" KEY_A ",," "k2:" KEY_B, "key entry 2 is empty");
	parse_fails(":" KEY_A,
		    "key entry 1 has a bad key id (1-32 characters of A-Z a-z 0-9 _ -)");
	parse_fails("k1:" KEY_A ",k.2:" KEY_B,
		    "key entry 2 has a bad key id (1-32 characters of A-Z a-z 0-9 _ -)");
	parse_fails("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk:" KEY_A,
		    "key entry 1 has a bad key id (1-32 characters of A-Z a-z 0-9 _ -)");
	parse_fails(KEY_A ":k1",
		    "key entry 1 has a bad key id (1-32 characters of A-Z a-z 0-9 _ -)");
	parse_fails("k1:", "key 'k1' is empty");
	parse_fails("k1:not base64!",
		    "key 'k1' is not valid base64 (standard alphabet with '=' padding)");
	parse_fails("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		    "key 'k1' is not valid base64 (standard alphabet with '=' padding)");
	parse_fails("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8_",
		    "key 'k1' is not valid base64 (standard alphabet with '=' padding)");
	parse_fails("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh\x80=",
		    "key 'k1' is not valid base64 (standard alphabet with '=' padding)");
	parse_fails("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw=",
		    "key 'k1' is 29 bytes, expected 32");
	parse_fails("k1:" KEY_A KEY_A, "key 'k1' is not 32 bytes");
	parse_fails("k1:" KEY_A ",k2:" KEY_B ",k1:" KEY_C,
		    "duplicate key id 'k1'");
	parse_fails("k1:" KEY_A ",k2: " KEY_B,
		    "key 'k2' is not valid base64 (standard alphabet with '=' padding)");

	/* accepted: blanks around entries, the full kid alphabet, 16 keys */
	CHECK(cs_keyring_parse(&kr, " aZ09_-:" KEY_A " ,\n B:" KEY_B "\n",
			       &err) == 0);
	CHECK_STR(cs_keyring_primary_kid(kr), "aZ09_-");
	cs_keyring_free(kr);
	cs_keyring_free(NULL);
	CHECK(cs_keyring_primary_kid(NULL) == NULL);
}

TEST(secret_keyring_limit_and_env)
{
	char spec[2048] = "";
	cs_keyring *kr;
	cs_err err;
	size_t off = 0;

	for (int i = 0; i < CS_SECRET_KEYS_MAX + 1; i++)
		off += (size_t)snprintf(spec + off, sizeof(spec) - off,
					"%sk%d:%s", i ? "," : "", i, KEY_A);
	CHECK(cs_keyring_parse(&kr, spec, &err) == -1);
	CHECK_STR(err.msg, "too many keys (at most 16)");
	*strrchr(spec, ',') = '\0';
	CHECK(cs_keyring_parse(&kr, spec, &err) == 0);
	cs_keyring_free(kr);

	unsetenv("CALSYNC_SECRET_KEYS");
	CHECK(cs_keyring_from_env(&kr, &err) == -1 && kr == NULL);
	CHECK(strncmp(err.msg, "CALSYNC_SECRET_KEYS is not set", 30) == 0);
	setenv("CALSYNC_SECRET_KEYS", "k1", 1);
	CHECK(cs_keyring_from_env(&kr, &err) == -1);
	CHECK_STR(err.msg,
		  "CALSYNC_SECRET_KEYS: key entry 1 has no ':' between key id and key");
	setenv("CALSYNC_SECRET_KEYS", "k7:" KEY_A, 1);
	CHECK(cs_keyring_from_env(&kr, &err) == 0);
	CHECK_STR(cs_keyring_primary_kid(kr), "k7");
	cs_keyring_free(kr);
}

TEST(secret_malformed_inputs)
{
	cs_keyring *kr = ring("k1:" KEY_A);
	char *sealed = seal(kr, TENANT, TOKEN), *plain;
	char *huge = malloc(CS_SECRET_SEALED_MAX + 100);
	char kid[8];
	size_t n = strlen(sealed);
	cs_err err;
	const char *nots = "not a calsync sealed secret (expected csv1.<kid>.<data>)";

	open_fails(kr, TENANT, NULL, CS_EINVAL, nots);
	open_fails(kr, TENANT, "", CS_EINVAL, nots);
	open_fails(kr, TENANT, ".", CS_EINVAL, nots);
	open_fails(kr, TENANT, "....", CS_EINVAL, nots);
	open_fails(kr, TENANT, "cs", CS_EINVAL, nots);
	open_fails(kr, TENANT, "csv1", CS_EINVAL, nots);
	open_fails(kr, TENANT, "csv1.", CS_EINVAL, nots);
	open_fails(kr, TENANT, "csv1.k1", CS_EINVAL, nots);
	open_fails(kr, TENANT, "CSV1.k1.AAAA", CS_EINVAL, nots);
	open_fails(kr, TENANT, "csv2.k1.AAAA", CS_EINVAL,
		   "unsupported sealed secret version 'csv2'");
	open_fails(kr, TENANT, "csv1..AAAA", CS_EINVAL, "bad key id");
	open_fails(kr, TENANT, "csv1.k1/x.AAAA", CS_EINVAL, "bad key id");
	open_fails(kr, TENANT, "csv1.k1.", CS_EINVAL, "truncated");
	open_fails(kr, TENANT, "csv1.k1.!!!!", CS_EINVAL, "not base64url");
	open_fails(kr, TENANT, "csv1.k1.AAAA==", CS_EINVAL, "not base64url");
	open_fails(kr, TENANT, "csv1.k1.AAAA", CS_EINVAL, "truncated");
	open_fails(kr, TENANT, "csv1.k1.a.b", CS_EINVAL, "not base64url");
	memset(huge, 'k', CS_SECRET_SEALED_MAX + 99);
	memcpy(huge, "csv1.", 5);
	huge[CS_SECRET_SEALED_MAX + 99] = '\0';
	open_fails(kr, TENANT, huge, CS_EINVAL, "too long");
	huge[200] = '\0';
	open_fails(kr, TENANT, huge, CS_EINVAL, nots);
	huge[100] = '.';
	open_fails(kr, TENANT, huge, CS_EINVAL, "bad key id");

	/* every truncation fails cleanly */
	for (size_t i = 0; i < n; i++) {
		memcpy(huge, sealed, i);
		huge[i] = '\0';
		CHECK(cs_secret_open(kr, TENANT, huge, &plain, NULL, &err) == -1);
		CHECK(err.code == CS_EINVAL || err.code == CS_ECRYPTO);
	}
	/* random junk from the sealed alphabet never crashes */
	for (int i = 0; i < 20000; i++) {
		static const char abc[] = "csv1.k-_AZaz09=+/";
		size_t start = (i & 1) ? 5 : 0; /* odd: a valid prefix */
		size_t len = start + randombytes_uniform(80);

		memcpy(huge, "csv1.", 5);
		for (size_t j = start; j < len; j++)
			huge[j] = abc[randombytes_uniform(sizeof(abc) - 1)];
		huge[len] = '\0';
		(void)cs_secret_open(kr, TENANT, huge, &plain, NULL, &err);
		(void)cs_secret_kid(huge, kid, sizeof(kid), &err);
	}

	CHECK(cs_secret_kid("csv1.k1.x", kid, sizeof(kid), &err) == 0);
	CHECK_STR(kid, "k1");
	CHECK(cs_secret_kid("csv1.k1.x", kid, 2, &err) == -1);
	CHECK(cs_secret_kid("nope", kid, sizeof(kid), &err) == -1);
	CHECK(err.code == CS_EINVAL && kid[0] == '\0');
	CHECK(cs_secret_kid(NULL, kid, sizeof(kid), &err) == -1);
	CHECK(cs_secret_seal(NULL, TENANT, "x", 1, &plain, &err) == -1);
	CHECK(cs_secret_seal(kr, "bad", "x", 1, &plain, &err) == -1);
	CHECK(err.code == CS_EINVAL && plain == NULL);
	cs_secret_free(NULL);
	free(huge);
	free(sealed);
	cs_keyring_free(kr);
}

TEST(secret_documented_vector)
{
	cs_keyring *kr = ring(VECTOR_KID ":" VECTOR_KEY_B64);
	unsigned char nonce[CS_SECRET_NONCE_BYTES];
	char *sealed, *plain;
	size_t nlen;
	cs_err err;

	CHECK(sodium_hex2bin(nonce, sizeof(nonce), VECTOR_NONCE_HEX,
			     strlen(VECTOR_NONCE_HEX), NULL, &nlen, NULL) == 0);
	CHECK(nlen == sizeof(nonce));
	CHECK(cs_secret_seal_with_nonce(kr, VECTOR_TENANT, VECTOR_PLAINTEXT,
					strlen(VECTOR_PLAINTEXT), nonce,
					&sealed, &err) == 0);
	CHECK_STR(sealed, VECTOR_SEALED);
	CHECK(cs_secret_open(kr, VECTOR_TENANT, VECTOR_SEALED, &plain, NULL,
			     &err) == 0);
	CHECK_STR(plain, VECTOR_PLAINTEXT);
	cs_secret_free(plain);
	free(sealed);
	cs_keyring_free(kr);
}
