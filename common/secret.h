/*
 * secret.h - sealed secrets: OAuth tokens and app passwords at rest.
 *
 * A secret is sealed with libsodium's XChaCha20-Poly1305 (IETF AEAD) into
 * the text `csv1.<kid>.<base64url-no-padding(nonce || ciphertext+tag)>`,
 * bound by its associated data `calsync-secret-v1|<kid>|<tenant uuid>` to
 * the tenant and to the key id. docs/secrets.md gives the format precisely,
 * with a test vector, so that the Family Hub backend can seal values itself.
 *
 * The keyring comes from CALSYNC_SECRET_KEYS = `kid:base64key[,...]`: the
 * first key seals, every key opens (rotation).
 *
 * Ownership:
 *  - cs_keyring_parse() / cs_keyring_from_env() allocate the keyring; the
 *    caller frees it with cs_keyring_free(), which zeroes the keys.
 *  - cs_secret_seal() returns a malloc'd string; the caller free()s it
 *    (sealed text is not secret).
 *  - cs_secret_open() returns the plaintext NUL-terminated in malloc'd
 *    memory; the caller frees it with cs_secret_free(), which zeroes it.
 *  - Nothing is kept from the input strings.
 *
 * Errors: CS_EINVAL for bad settings, a bad tenant id or text that is not a
 * well-formed sealed secret; CS_ECRYPTO for an unknown key id or a value
 * that does not authenticate; CS_ENOMEM for out of memory or a plaintext
 * over CS_SECRET_PLAIN_MAX. No message ever contains key or plaintext bytes.
 * All functions are thread-safe (the keyring is read-only after parsing).
 */
#ifndef CS_SECRET_H
#define CS_SECRET_H

#include <stddef.h>

#include "err.h"

#define CS_SECRET_KEY_BYTES   32        /* XChaCha20-Poly1305 key */
#define CS_SECRET_NONCE_BYTES 24
#define CS_SECRET_TAG_BYTES   16
#define CS_SECRET_KID_MAX     32        /* 1..32 chars of [A-Za-z0-9_-] */
#define CS_SECRET_KEYS_MAX    16        /* keys in one keyring */
#define CS_SECRET_PLAIN_MAX   16384     /* bytes of plaintext */
/* The longest sealed text: "csv1." kid "." base64url(24 + 16384 + 16). */
#define CS_SECRET_SEALED_MAX                                              \
	(5 + CS_SECRET_KID_MAX + 1 +                                      \
	 ((CS_SECRET_NONCE_BYTES + CS_SECRET_PLAIN_MAX +                   \
	   CS_SECRET_TAG_BYTES) * 4 + 2) / 3)

typedef struct cs_keyring cs_keyring;

/*
 * Parse `kid:base64key[,kid:base64key...]` (standard base64 with '='
 * padding of 32 bytes; blanks around entries are ignored). Errors name
 * the entry and what is wrong; the caller may prefix the variable name.
 */
int cs_keyring_parse(cs_keyring **out, const char *spec, cs_err *err);
/* The same from $CALSYNC_SECRET_KEYS; errors start with the variable name. */
int cs_keyring_from_env(cs_keyring **out, cs_err *err);
/* Zero the keys and free. NULL is fine. */
void cs_keyring_free(cs_keyring *kr);
/* The key id that seals (the first entry). Owned by the keyring. */
const char *cs_keyring_primary_kid(const cs_keyring *kr);

/*
 * Seal plain_len bytes (no NUL byte inside, at most CS_SECRET_PLAIN_MAX)
 * for the tenant (a UUID, any case) with the primary key and a random
 * nonce. *out: malloc'd sealed text, the caller free()s it.
 */
int cs_secret_seal(const cs_keyring *kr, const char *tenant_id,
		   const char *plain, size_t plain_len, char **out,
		   cs_err *err);

/*
 * Open a sealed text for the tenant. *out_plain: the plaintext, NUL-
 * terminated, *out_len bytes (out_len may be NULL); free it with
 * cs_secret_free().
 */
int cs_secret_open(const cs_keyring *kr, const char *tenant_id,
		   const char *sealed, char **out_plain, size_t *out_len,
		   cs_err *err);

/* Zero and free a plaintext from cs_secret_open(). NULL is fine. */
void cs_secret_free(char *plain);

/*
 * Copy the key id of a sealed text into kid (kidsz bytes, at least
 * CS_SECRET_KID_MAX + 1 is always enough) without opening it - for
 * rotation: a value whose kid is not the primary one needs re-sealing.
 */
int cs_secret_kid(const char *sealed, char *kid, size_t kidsz, cs_err *err);

/*
 * For tests and the documented vector only: cs_secret_seal() with the
 * given nonce. Never use it for real secrets - a repeated nonce breaks
 * the encryption.
 */
int cs_secret_seal_with_nonce(const cs_keyring *kr, const char *tenant_id,
			      const char *plain, size_t plain_len,
			      const unsigned char nonce[CS_SECRET_NONCE_BYTES],
			      char **out, cs_err *err);

#endif
