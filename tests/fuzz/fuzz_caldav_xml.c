/*
 * fuzz_caldav_xml.c - WebDAV multistatus answers (providers/caldav_xml.h),
 * as any CalDAV server might send them. Invariants: a parse either fails
 * with a readable message or gives responses whose every text is valid
 * UTF-8 and whose every response has an href; never a crash or a leak;
 * building a multiget of the hrefs read never fails but over its cap.
 */
#include <stdint.h>

#include "caldav_xml.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	cs_dav_multistatus ms;
	cs_err err = {0};
	cs_dynbuf body;
	const char **hrefs;

	if (cs_dav_parse((const char *)data, len, &ms, &err)) {
		FUZZ_ASSERT(err.code != CS_OK && fuzz_text_ok(err.msg));
		cs_dav_multistatus_release(&ms);
		return 0;
	}
	FUZZ_ASSERT(fuzz_text_ok(ms.sync_token));
	hrefs = calloc(ms.n ? ms.n : 1, sizeof(char *));
	FUZZ_ASSERT(hrefs);
	for (size_t i = 0; i < ms.n; i++) {
		const cs_dav_response *r = &ms.items[i];
		const char *texts[] = {r->href, r->etag, r->calendar_data, r->displayname, r->color,
				       r->ctag, r->sync_token, r->principal, r->home};

		FUZZ_ASSERT(r->href && *r->href);
		for (size_t j = 0; j < sizeof(texts) / sizeof(texts[0]); j++)
			FUZZ_ASSERT(fuzz_text_ok(texts[j]));
		FUZZ_ASSERT(r->status >= 0 && r->status < 600);
		hrefs[i] = r->href;
	}
	cs_dynbuf_init(&body, (size_t)1 << 24);
	FUZZ_ASSERT(cs_dav_multiget_body(&body, hrefs, ms.n, &err) == 0 || err.code == CS_ENOMEM);
	cs_dynbuf_release(&body);
	free(hrefs);
	cs_dav_multistatus_release(&ms);
	return 0;
}
