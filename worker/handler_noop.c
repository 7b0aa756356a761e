/* handler_noop.c - the `noop` job: it does nothing (benchmarks, health checks). */
#include "handlers.h"
#include "banned.h"

int cs_handle_noop(cs_worker *w, cs_job *job, cs_err *err)
{
	(void)w;
	(void)err;
	job->status = "success";
	return 0;
}
