/* dbpool.c - the process's PostgreSQL connections, lent out (see dbpool.h). */
#include "dbpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "observe.h"
#include "banned.h"

struct cs_dbpool {
	char *conninfo;
	int size;
	pthread_mutex_t mu;     /* guards everything below */
	pthread_cond_t freed;
	PGconn **idle;          /* size entries, nidle used */
	int nidle;
	int open;               /* idle + borrowed + being opened */
	int peak;
};

int cs_dbpool_new(cs_dbpool **out, const char *conninfo, int size, cs_err *err)
{
	cs_dbpool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p || !(p->conninfo = strdup(conninfo)) ||
	    !(p->idle = calloc((size_t)size, sizeof(PGconn *)))) {
		if (p)
			free(p->conninfo);
		free(p);
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	}
	p->size = size;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->freed, NULL);
	*out = p;
	return 0;
}

void cs_dbpool_free(cs_dbpool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nidle; i++)
		PQfinish(p->idle[i]);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->mu);
	free(p->idle);
	free(p->conninfo);
	free(p);
}

const char *cs_dbpool_conninfo(const cs_dbpool *p)
{
	return p->conninfo;
}

PGconn *cs_dbpool_take(cs_dbpool *p)
{
	PGconn *conn = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0 && p->open >= p->size)
		pthread_cond_wait(&p->freed, &p->mu);
	if (p->nidle > 0) {
		conn = p->idle[--p->nidle];
	} else {
		p->open++;
		if (p->open > p->peak)
			p->peak = p->open;
	}
	pthread_mutex_unlock(&p->mu);
	cs_observe_pg_lent(1);
	return conn;
}

/* Whether a connection coming back can serve the next borrower. */
static bool reusable(PGconn *conn)
{
	PGTransactionStatusType st;

	if (PQstatus(conn) != CONNECTION_OK)
		return false;
	st = PQtransactionStatus(conn);
	if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR) {
		PGresult *r = PQexecParams(conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);

		PQclear(r);
		st = PQtransactionStatus(conn);
	}
	return st == PQTRANS_IDLE;
}

void cs_dbpool_give(cs_dbpool *p, PGconn *conn)
{
	if (conn && !reusable(conn)) {
		PQfinish(conn);
		conn = NULL;
	}
	pthread_mutex_lock(&p->mu);
	if (conn)
		p->idle[p->nidle++] = conn;
	else
		p->open--;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
	cs_observe_pg_lent(-1);
}

void cs_dbpool_counts(cs_dbpool *p, int *open, int *peak)
{
	pthread_mutex_lock(&p->mu);
	*open = p->open;
	*peak = p->peak;
	pthread_mutex_unlock(&p->mu);
}
