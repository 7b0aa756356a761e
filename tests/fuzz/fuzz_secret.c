/*
 * fuzz_secret.c - opening sealed secrets (common/secret.h) from rows
 * anyone with database access could have written: a sealed text opens
 * only to what was sealed, anything else is refused with a readable
 * reason; and a keyring setting is parsed or refused.
 */
#include <stdint.h>

#include "fuzz.h"
#include "secret.h"

#define KEYS "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=," \
	     "k0:Hx4dHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA="
#define TENANT "2a0c6d4e-1b7f-4c3a-9e5d-0f1e2d3c4b5a"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static cs_keyring *kr;
	char *text = fuzz_strndup(data, len), *plain = NULL, *sealed = NULL, *again = NULL;
	cs_keyring *other = NULL;
	size_t plen = 0;
	cs_err err;

	if (!kr && cs_keyring_parse(&kr, KEYS, &err))
		abort();
	if (cs_secret_open(kr, TENANT, text, &plain, &plen, &err) == 0) {
		FUZZ_ASSERT(strlen(plain) == plen);
	} else {
		FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
	}
	cs_secret_free(plain);
	/* what is sealed opens to itself, for this tenant only */
	if (len <= 4096 && !memchr(data, 0, len) &&
	    cs_secret_seal(kr, TENANT, text, len, &sealed, &err) == 0) {
		FUZZ_ASSERT(cs_secret_open(kr, TENANT, sealed, &again, &plen, &err) == 0);
		FUZZ_ASSERT(plen == len && memcmp(again, data, len) == 0);
		cs_secret_free(again);
		FUZZ_ASSERT(cs_secret_open(kr, "00000000-0000-4000-8000-000000000000", sealed,
					   &again, NULL, &err) == -1);
		free(sealed);
	}
	if (cs_keyring_parse(&other, text, &err) == 0)
		cs_keyring_free(other);
	else
		FUZZ_ASSERT(fuzz_text_ok(err.msg));
	free(text);
	return 0;
}
