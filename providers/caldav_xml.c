/*
 * caldav_xml.c - WebDAV multistatus answers and REPORT bodies, on
 * libxml2's tree API (see caldav_xml.h).
 */
#include "caldav_xml.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "utf8.h"
#include "banned.h"

#define NS_DAV "DAV:"
#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define NS_CS "http://calendarserver.org/ns/"
#define NS_APPLE "http://apple.com/ns/ical/"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static bool is(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, ns) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *ns, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, ns, name))
			return c;
	return NULL;
}

static int oom(cs_err *err)
{
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

/* The text of n, surrounding blanks trimmed, into *dst (NULL when empty). */
static int text_into(const xmlNode *n, char **dst, cs_err *err)
{
	xmlChar *t;
	const char *s;
	size_t len;

	free(*dst);
	*dst = NULL;
	if (!n)
		return 0;
	t = xmlNodeGetContent(n);
	if (!t)
		return 0;
	s = (const char *)t;
	s += strspn(s, " \t\r\n");
	len = strlen(s);
	while (len && strchr(" \t\r\n", s[len - 1]))
		len--;
	if (len && !(*dst = strndup(s, len))) {
		xmlFree(t);
		return oom(err);
	}
	xmlFree(t);
	return 0;
}

/* "HTTP/1.1 404 Not Found" -> 404; 0 when it is not a status line. */
static int status_of(const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	const char *s = (const char *)t, *sp;
	int code = 0;

	if (s && (sp = strchr(s, ' ')) && sp[1] >= '1' && sp[1] <= '5' &&
	    sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9')
		code = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
	xmlFree(t);
	return code;
}

static void read_privileges(const xmlNode *set, cs_dav_response *r)
{
	r->privs = true;
	for (xmlNode *p = set->children; p; p = p->next) {
		if (!is(p, NS_DAV, "privilege"))
			continue;
		for (xmlNode *g = p->children; g; g = g->next)
			if (is(g, NS_DAV, "write") || is(g, NS_DAV, "write-content") ||
			    is(g, NS_DAV, "all"))
				r->can_write = true;
	}
}

static void read_comp_set(const xmlNode *set, cs_dav_response *r)
{
	r->comp_set = true;
	for (xmlNode *c = set->children; c; c = c->next) {
		xmlChar *name;

		if (!is(c, NS_CALDAV, "comp"))
			continue;
		name = xmlGetProp(c, (const xmlChar *)"name");
		if (name && strcmp((const char *)name, "VEVENT") == 0)
			r->comp_vevent = true;
		xmlFree(name);
	}
}

/* The properties of one 2xx propstat into r. */
static int read_prop(const xmlNode *prop, cs_dav_response *r, cs_err *err)
{
	xmlNode *t;

	if (text_into(child(prop, NS_DAV, "getetag"), &r->etag, err) ||
	    text_into(child(prop, NS_CALDAV, "calendar-data"), &r->calendar_data, err) ||
	    text_into(child(prop, NS_DAV, "displayname"), &r->displayname, err) ||
	    text_into(child(prop, NS_APPLE, "calendar-color"), &r->color, err) ||
	    text_into(child(prop, NS_CS, "getctag"), &r->ctag, err) ||
	    text_into(child(prop, NS_DAV, "sync-token"), &r->sync_token, err) ||
	    text_into(child(child(prop, NS_DAV, "current-user-principal"), NS_DAV, "href"),
		      &r->principal, err) ||
	    text_into(child(child(prop, NS_CALDAV, "calendar-home-set"), NS_DAV, "href"),
		      &r->home, err))
		return -1;
	if ((t = child(prop, NS_DAV, "resourcetype"))) {
		r->collection = child(t, NS_DAV, "collection") != NULL;
		r->calendar = child(t, NS_CALDAV, "calendar") != NULL;
	}
	if ((t = child(prop, NS_CALDAV, "supported-calendar-component-set")))
		read_comp_set(t, r);
	if ((t = child(prop, NS_DAV, "current-user-privilege-set")))
		read_privileges(t, r);
	return 0;
}

static int read_response(const xmlNode *resp, cs_dav_response *r, cs_err *err)
{
	if (text_into(child(resp, NS_DAV, "href"), &r->href, err))
		return -1;
	if (!r->href)
		return cs_err_set(err, CS_EPROTO, false, "a multistatus response has no href");
	if (child(resp, NS_DAV, "status"))
		r->status = status_of(child(resp, NS_DAV, "status"));
	for (xmlNode *ps = resp->children; ps; ps = ps->next) {
		int st;

		if (!is(ps, NS_DAV, "propstat"))
			continue;
		st = status_of(child(ps, NS_DAV, "status"));
		if (st >= 200 && st < 300 && read_prop(child(ps, NS_DAV, "prop"), r, err))
			return -1;
	}
	return 0;
}

static int all_valid(const cs_dav_response *r)
{
	const char *texts[] = {r->href, r->etag, r->calendar_data, r->displayname, r->color,
			       r->ctag, r->sync_token, r->principal, r->home};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i] && !cs_utf8_valid(texts[i], strlen(texts[i])))
			return 0;
	return 1;
}

int cs_dav_parse(const char *xml, size_t len, cs_dav_multistatus *out, cs_err *err)
{
	xmlDoc *doc;
	xmlNode *root;
	size_t cap = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pthread_once(&xml_once, xml_init);
	if (len > (size_t)1 << 30)
		return cs_err_set(err, CS_EPROTO, false, "the multistatus answer is too large");
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return cs_err_set(err, CS_EPROTO, false, "the answer is not well-formed XML");
	root = xmlDocGetRootElement(doc);
	if (!is(root, NS_DAV, "multistatus")) {
		cs_err_set(err, CS_EPROTO, false, "the answer is not a DAV:multistatus");
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next) {
		cs_dav_response *r;

		if (is(n, NS_DAV, "sync-token") && text_into(n, &out->sync_token, err))
			goto out;
		if (!is(n, NS_DAV, "response"))
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			cs_dav_response *items = realloc(out->items, ncap * sizeof(*items));

			if (!items) {
				oom(err);
				goto out;
			}
			out->items = items;
			cap = ncap;
		}
		r = &out->items[out->n++];
		memset(r, 0, sizeof(*r));
		if (read_response(n, r, err))
			goto out;
		if (!all_valid(r)) {
			cs_err_set(err, CS_EPROTO, false, "a multistatus response is not valid UTF-8");
			goto out;
		}
	}
	if (out->sync_token && !cs_utf8_valid(out->sync_token, strlen(out->sync_token))) {
		cs_err_set(err, CS_EPROTO, false, "the sync-token is not valid UTF-8");
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

void cs_dav_multistatus_release(cs_dav_multistatus *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		cs_dav_response *r = &ms->items[i];
		char *strs[] = {r->href, r->etag, r->calendar_data, r->displayname, r->color,
				r->ctag, r->sync_token, r->principal, r->home};

		for (size_t j = 0; j < sizeof(strs) / sizeof(strs[0]); j++)
			free(strs[j]);
	}
	free(ms->items);
	free(ms->sync_token);
	memset(ms, 0, sizeof(*ms));
}

/* Append s escaped as XML text. */
static int add_text(cs_dynbuf *b, const char *s, cs_err *err)
{
	xmlChar *e = xmlEncodeSpecialChars(NULL, (const xmlChar *)(s ? s : ""));
	int rc;

	if (!e)
		return oom(err);
	rc = cs_dynbuf_addstr(b, (const char *)e, err);
	xmlFree(e);
	return rc;
}

int cs_dav_multiget_body(cs_dynbuf *b, const char *const *hrefs, size_t n, cs_err *err)
{
	if (cs_dynbuf_addstr(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
			     "<C:calendar-multiget xmlns:D=\"DAV:\" xmlns:C=\"" NS_CALDAV "\">"
			     "<D:prop><D:getetag/><C:calendar-data/></D:prop>", err))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cs_dynbuf_addstr(b, "<D:href>", err) || add_text(b, hrefs[i], err) ||
		    cs_dynbuf_addstr(b, "</D:href>", err))
			return -1;
	return cs_dynbuf_addstr(b, "</C:calendar-multiget>", err);
}

int cs_dav_sync_body(cs_dynbuf *b, const char *token, cs_err *err)
{
	if (cs_dynbuf_addstr(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
			     "<D:sync-collection xmlns:D=\"DAV:\" xmlns:C=\"" NS_CALDAV "\">"
			     "<D:sync-token>", err) ||
	    add_text(b, token, err))
		return -1;
	/* etags only: servers answer that fast, the bodies come by calendar-multiget */
	return cs_dynbuf_addstr(b, "</D:sync-token><D:sync-level>1</D:sync-level>"
				"<D:prop><D:getetag/></D:prop></D:sync-collection>", err);
}
