/* signals.c - flag-setting signal handlers (see signals.h). */
#include "signals.h"

#include <string.h>

#include "banned.h"

volatile sig_atomic_t cs_stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	cs_stop_requested = 1;
}

int cs_signals_install(cs_err *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return cs_err_set(err, CS_EINVAL, false, "cannot install the signal handlers");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return cs_err_set(err, CS_EINVAL, false, "cannot ignore SIGPIPE");
	return 0;
}
