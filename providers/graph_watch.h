/*
 * graph_watch.h - Microsoft Graph subscriptions (graph_watch.c): the watch
 * and unwatch operations of the provider "outlook". Internal to
 * providers/graph*.c.
 */
#ifndef CS_GRAPH_WATCH_H
#define CS_GRAPH_WATCH_H

#include "graph_api.h"
#include "watch.h"   /* CS_HOOK_GRAPH, for the ops table */

/* The longest life Graph grants a subscription on Outlook events: 10,080 minutes. */
#define CS_GRAPH_SUBSCRIPTION_MAX_S (10080LL * 60)

int cs_graph_watch(cs_provider *g, const char *cal, const cs_watch_request *req,
		   cs_watch_channel *out, cs_err *err);
int cs_graph_unwatch(cs_provider *g, const cs_watch_channel *ch, cs_err *err);

#endif
