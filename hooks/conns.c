/*
 * conns.c - the connections of calsync-hooks' server threads (see
 * hooks.h): made on a thread's first request, kept for its next ones
 * (they come back after a server restart, db.h and redisconn.h), freed
 * when the thread ends; and the lookup of a channel row they serve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "banned.h"

static void free_conns(void *p)
{
	cs_hooks_conns *c = p;

	cs_db_free(c->db);
	cs_redis_free(c->redis);
	free(c);
}

int cs_hooks_init(cs_hooks *h, const cs_config *cfg, cs_err *err)
{
	h->cfg = cfg;
	if (pthread_key_create(&h->conns, free_conns) != 0)
		return cs_err_set(err, CS_ENOMEM, false, "cannot make the per-thread connections key");
	return 0;
}

void cs_hooks_destroy(cs_hooks *h)
{
	cs_hooks_conns *c = pthread_getspecific(h->conns);

	if (c)
		free_conns(c);
	pthread_key_delete(h->conns);
}

cs_hooks_conns *cs_hooks_thread(cs_hooks *h, cs_err *err)
{
	cs_hooks_conns *c = pthread_getspecific(h->conns);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c) {
		cs_err_set(err, CS_ENOMEM, true, "out of memory");
		return NULL;
	}
	if (cs_db_new(&c->db, h->cfg->database_url, err) ||
	    cs_redis_new(&c->redis, h->cfg->redis_url, err) ||
	    pthread_setspecific(h->conns, c) != 0) {
		free_conns(c);
		return NULL;
	}
	return c;
}

void cs_hooks_answer(cs_httpd_response *resp, int status, const char *text)
{
	resp->status = status;
	cs_dynbuf_reset(&resp->body);
	cs_dynbuf_printf(&resp->body, NULL, "%s\n", text);
}

int cs_hooks_find_channel(cs_hooks_conns *c, const char *provider, const char *channel_id,
			  bool *found, cs_hooks_channel *ch, cs_err *err)
{
	PGresult *res = NULL;

	if (cs_db_exec(c->db, &res, err,
		       "SELECT external_calendar_id::text, token_hash, COALESCE(resource_id, ''),"
		       " state FROM calendar_watch_channels WHERE provider = $1 AND channel_id = $2"
		       " AND token_hash IS NOT NULL",
		       2, (const char *const[]){provider, channel_id}))
		return -1;
	*found = PQntuples(res) == 1;
	if (*found) {
		snprintf(ch->calendar, sizeof(ch->calendar), "%s", PQgetvalue(res, 0, 0));
		snprintf(ch->hash, sizeof(ch->hash), "%s", PQgetvalue(res, 0, 1));
		snprintf(ch->resource, sizeof(ch->resource), "%s", PQgetvalue(res, 0, 2));
		snprintf(ch->state, sizeof(ch->state), "%s", PQgetvalue(res, 0, 3));
	}
	PQclear(res);
	return 0;
}
