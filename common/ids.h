/*
 * ids.h - identifiers: random UUIDs for job ids (libsodium's generator),
 * time-ordered ones for the rows calsync inserts in bulk, and the check
 * that a string is a canonical UUID before it goes near SQL or a Redis
 * key.
 */
#ifndef CS_IDS_H
#define CS_IDS_H

#include <stdbool.h>

#define CS_UUID_LEN 36

/* A random version-4 UUID, lowercase, NUL-terminated (out has 37 bytes). */
void cs_uuid_v4(char out[CS_UUID_LEN + 1]);
/*
 * A version-7 UUID (RFC 9562): the Unix time in ms, then random bits. Ids
 * made one after another sort together, so a bulk insert adds to the end
 * of the primary key's index instead of all over it.
 */
void cs_uuid_v7(char out[CS_UUID_LEN + 1]);
/* True for 8-4-4-4-12 hex digits (either case). */
bool cs_is_uuid(const char *s);

#endif
