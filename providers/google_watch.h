/*
 * google_watch.h - Google's push channels (google_watch.c): the watch and
 * unwatch operations of the provider "google". Internal to providers/google*.c.
 */
#ifndef CS_GOOGLE_WATCH_H
#define CS_GOOGLE_WATCH_H

#include "provider.h"

int cs_google_watch(cs_provider *g, const char *cal, const cs_watch_request *req,
		    cs_watch_channel *out, cs_err *err);
int cs_google_unwatch(cs_provider *g, const cs_watch_channel *ch, cs_err *err);

#endif
