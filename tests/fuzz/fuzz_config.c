/*
 * fuzz_config.c - settings (common/config.h): any environment either
 * loads, or stops the program with one line that names the variable.
 * Input: lines "CALSYNC_NAME=value" (the last byte of the input picks the
 * program).
 */
#include <stdint.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const enum cs_program progs[] = {CS_PROG_TOOL, CS_PROG_WORKER, CS_PROG_SCHEDULER};
	char *text = fuzz_strndup(data, len);
	enum cs_program prog = progs[len ? data[len - 1] % 3 : 0];
	cs_config cfg;
	cs_err err;

	clearenv();
	for (char *line = text; line && *line;) {   /* putenv: nothing copied, nothing leaks */
		char *nl = strchr(line, '\n'), *eq;

		if (nl)
			*nl = '\0';
		eq = strchr(line, '=');
		if (eq && eq != line)
			putenv(line);
		line = nl ? nl + 1 : NULL;
	}
	if (cs_config_load(&cfg, prog, &err) == 0) {
		FUZZ_ASSERT(cfg.database_url && cfg.redis_url && cfg.log_level);
		FUZZ_ASSERT(fuzz_text_ok(cfg.worker_name));
		cs_config_release(&cfg);
	} else {
		FUZZ_ASSERT(strstr(err.msg, "CALSYNC_") != NULL);
		FUZZ_ASSERT(!strchr(err.msg, '\n') && fuzz_text_ok(err.msg));
	}
	clearenv();   /* before the strings it points into go */
	free(text);
	return 0;
}
