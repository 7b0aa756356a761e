/*
 * signals.h - the daemons' signal handling: SIGTERM and SIGINT only set
 * cs_stop_requested, which the main loops poll; SIGPIPE is ignored (a
 * closed socket is an error to handle, not a death). No SA_RESTART, so a
 * sleep ends at the signal.
 */
#ifndef CS_SIGNALS_H
#define CS_SIGNALS_H

#include <signal.h>

#include "err.h"

extern volatile sig_atomic_t cs_stop_requested;

int cs_signals_install(cs_err *err);

#endif
