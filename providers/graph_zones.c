/*
 * graph_zones.c - the CLDR windowsZones.xml table (see graph_zones.h):
 * every <mapZone other="Windows name" territory=".." type="IANA ..."/>
 * kept as one row, looked up linearly (about 500 rows, read once).
 */
#include "graph_zones.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "timefmt.h"
#include "banned.h"

#define MAX_ZONES 2048

struct zone_row {
	char *windows;
	char *territory;
	char *types;      /* space-separated IANA names */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct zone_row rows[MAX_ZONES];
static size_t nrows;
static bool loaded;

static char *attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static int add_row(xmlNode *n, cs_err *err)
{
	struct zone_row *r;

	if (nrows == MAX_ZONES)
		return cs_err_set(err, CS_EINVAL, false, "windowsZones.xml: more than %d mapZone rows",
				  MAX_ZONES);
	r = &rows[nrows];
	r->windows = attr(n, "other");
	r->territory = attr(n, "territory");
	r->types = attr(n, "type");
	if (!r->windows || !r->territory || !r->types) {
		free(r->windows);
		free(r->territory);
		free(r->types);
		memset(r, 0, sizeof(*r));
		return 0;   /* a row without its three attributes maps nothing */
	}
	nrows++;
	return 0;
}

static int walk(xmlNode *n, cs_err *err)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, (const xmlChar *)"mapZone") == 0) {
			if (add_row(n, err))
				return -1;
		} else if (walk(n->children, err)) {
			return -1;
		}
	}
	return 0;
}

int cs_graph_zones_load(const char *path, cs_err *err)
{
	xmlDoc *doc;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (loaded)
		goto out;
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		rc = cs_err_set(err, CS_EINVAL, false,
				"cannot read the Windows zone table %.200s (CALSYNC_WINDOWS_ZONES_FILE)",
				path);
		goto out;
	}
	rc = walk(xmlDocGetRootElement(doc), err);
	xmlFreeDoc(doc);
	if (rc == 0 && nrows == 0)
		rc = cs_err_set(err, CS_EINVAL, false, "%.200s holds no mapZone rows", path);
	loaded = rc == 0;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Is name one of the space-separated words of list? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		size_t w = strcspn(p, " ");

		if (w == n && strncmp(p, name, n) == 0)
			return true;
		p += w;
		p += strspn(p, " ");
	}
	return false;
}

const char *cs_graph_zone_to_iana(const char *name, cs_err *err)
{
	if (!name || !*name) {
		cs_err_set(err, CS_EINVAL, false, "no time zone given");
		return NULL;
	}
	if (strcmp(name, "UTC") == 0 || strcmp(name, "tzone://Microsoft/Utc") == 0)
		return "UTC";
	for (size_t i = 0; i < nrows; i++)
		if (strcmp(rows[i].windows, name) == 0 && strcmp(rows[i].territory, "001") == 0)
			return rows[i].types;   /* a golden zone's type is one name */
	if (strchr(name, '/') && cs_time_zone_known(name))
		return name;
	cs_err_set(err, CS_EINVAL, false, "unknown time zone '%.80s' (neither in windowsZones.xml"
		   " nor an IANA zone)", name);
	return NULL;
}

const char *cs_graph_zone_to_windows(const char *iana)
{
	if (!iana || !*iana)
		return NULL;
	if (strcmp(iana, "UTC") == 0 || strcmp(iana, "Etc/UTC") == 0)
		return "UTC";
	for (size_t i = 0; i < nrows; i++)
		if (in_list(rows[i].types, iana))
			return rows[i].windows;
	return NULL;
}
