/*
 * graph_zones.h - Windows time zone names ("W. Europe Standard Time", as
 * Microsoft Graph writes them) to IANA names ("Europe/Berlin") and back,
 * from Unicode CLDR's windowsZones.xml (Debian's unicode-cldr-core), read
 * with libxml2 once per process - never a hand-written table.
 *
 * Windows -> IANA takes the zone of territory "001" (CLDR's golden zone).
 * IANA -> Windows takes the mapZone whose type list holds the IANA name
 * (any territory). Names that already are IANA names, and "UTC", pass
 * through cs_graph_zone_to_iana() unchanged.
 *
 * Thread-safe: the table is loaded under a lock on first use and then only
 * read. Ownership: the returned strings belong to the table and live until
 * the process ends (or, for a name that passes through, are the caller's
 * own); callers never free them.
 */
#ifndef CS_GRAPH_ZONES_H
#define CS_GRAPH_ZONES_H

#include "err.h"

#define CS_WINDOWS_ZONES_DEFAULT "/usr/share/unicode/cldr/common/supplemental/windowsZones.xml"

/* Load path (the first call wins; later paths are ignored). */
int cs_graph_zones_load(const char *path, cs_err *err);

/*
 * The IANA name for a Graph timeZone value (a Windows name, an IANA name
 * or "UTC"); NULL when the table does not know it (CS_EINVAL, naming it).
 */
const char *cs_graph_zone_to_iana(const char *name, cs_err *err);

/* The Windows name of an IANA zone, or NULL when CLDR maps none. */
const char *cs_graph_zone_to_windows(const char *iana);

#endif
