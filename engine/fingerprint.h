/*
 * fingerprint.h - the content fingerprint of an event: SHA-256 over its
 * normalised fields (title, description, location, times, zone,
 * recurrence, occurrence it overrides, attendees, status, cancelled).
 * Ids, etags and links are left out: two sides hold the same content
 * when their fingerprints are equal, so calsync compares each side with
 * what it held at the last sync instead of trusting clocks - that is
 * what keeps a second sync from writing anything.
 */
#ifndef CS_FINGERPRINT_H
#define CS_FINGERPRINT_H

#include "provider.h"

#define CS_FINGERPRINT_LEN 64

/* out receives 64 lowercase hex digits and a NUL. */
void cs_fingerprint(const cs_event *ev, char out[CS_FINGERPRINT_LEN + 1]);

#endif
