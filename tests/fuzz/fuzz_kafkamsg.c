/*
 * fuzz_kafkamsg.c - event-changed messages from Kafka (common/kafkamsg.h):
 * a message is accepted with checked fields or refused with a readable
 * reason, and its dead-letter entry is built and valid JSON whatever the
 * bytes.
 */
#include <stdint.h>

#include <jansson.h>

#include "fuzz.h"
#include "kafkamsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	cs_kafkamsg msg;
	cs_kafkamsg_origin origin = {.topic = "familyhub.events", .partition = 0, .offset = 7,
				     .key = data, .key_len = len / 4, .value = data,
				     .value_len = len};
	cs_err err;
	char *dead;
	json_t *back;

	if (cs_kafkamsg_parse(data, len, &msg, &err) == 0) {
		FUZZ_ASSERT(strlen(msg.event_id) == 36 && strlen(msg.tenant_id) == 36);
		FUZZ_ASSERT(cs_kafkamsg_is_rfc3339(msg.occurred_at));
		return 0;
	}
	FUZZ_ASSERT(err.msg[0] && fuzz_text_ok(err.msg));
	dead = cs_kafkamsg_dead_json(&origin, err.msg, 1445412480000LL);
	FUZZ_ASSERT(dead && fuzz_text_ok(dead));
	back = json_loads(dead, 0, NULL);
	FUZZ_ASSERT(json_is_object(back));
	json_decref(back);
	free(dead);
	return 0;
}
