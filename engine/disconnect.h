/*
 * disconnect.h - removing a calendar's connection (contract section 4,
 * `disconnect`): the grant is revoked where the provider allows it and no
 * other connection of the user shares it (a failure that trying again
 * cannot help is logged, and the connection removed anyway), the
 * connection is deleted, and either the events that came from it are
 * tombstoned (remove_events) or they are kept and their mappings set
 * aside for a later reconnect (cs_mapping_detach, mapping.h).
 */
#ifndef CS_DISCONNECT_H
#define CS_DISCONNECT_H

#include "calendar.h"

/* cal loaded, not connected; the tombstoned events count as deleted in s->report. */
int cs_disconnect(cs_sync *s, cs_calendar *cal, bool remove_events, cs_err *err);

#endif
