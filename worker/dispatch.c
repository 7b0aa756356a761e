/*
 * dispatch.c - the table from job type to handler, and how each type
 * finds the calendar it locks. Adding a job type is one row here.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "ids.h"
#include "worker.h"
#include "banned.h"

/* "calendar_id" of the data, which must be a UUID. */
static int calendar_from_data(cs_worker *w, cs_job *job, cs_err *err)
{
	const char *cal = cs_job_str(job, "calendar_id");

	(void)w;
	if (!cs_is_uuid(cal))
		return cs_err_set(err, CS_EINVAL, false, "%s job: calendar_id is %s", job->type,
				  cal ? "not a UUID" : "missing");
	job->calendar_id = strdup(cal);
	return job->calendar_id ? 0 : cs_err_set(err, CS_ENOMEM, true, "out of memory");
}

/* A noop job locks its calendar only when it names one. */
static int calendar_if_named(cs_worker *w, cs_job *job, cs_err *err)
{
	return cs_job_str(job, "calendar_id") ? calendar_from_data(w, job, err) : 0;
}

/* A resolve job locks the calendar of its conflict. */
static int calendar_of_conflict(cs_worker *w, cs_job *job, cs_err *err)
{
	const char *id = cs_job_str(job, "conflict_id");
	PGresult *res = NULL;
	int rc = 0;

	if (!cs_is_uuid(id))
		return cs_err_set(err, CS_EINVAL, false, "resolve job: conflict_id is %s",
				  id ? "not a UUID" : "missing");
	if (cs_db_exec(w->db, &res, err,
		       "SELECT external_calendar_id FROM calendar_conflicts WHERE id = $1", 1, &id))
		return -1;
	if (PQntuples(res) != 1 || !cs_db_get(res, 0, 0))
		rc = cs_err_set(err, CS_ENOTFOUND, false, "conflict %s does not exist", id);
	else if (!(job->calendar_id = strdup(cs_db_get(res, 0, 0))))
		rc = cs_err_set(err, CS_ENOMEM, true, "out of memory");
	PQclear(res);
	return rc;
}

static const struct cs_handler handlers[] = {
	{"sync", calendar_from_data, cs_handle_sync},
	{"push", calendar_from_data, cs_handle_push},
	{"resolve", calendar_of_conflict, cs_handle_resolve},
	{"discover", NULL, cs_handle_discover},
	{"disconnect", calendar_from_data, cs_handle_disconnect},
	{"noop", calendar_if_named, cs_handle_noop},
	{"watch", calendar_from_data, cs_handle_watch},
};

const struct cs_handler *cs_dispatch_find(const char *type)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (type && strcmp(handlers[i].type, type) == 0)
			return &handlers[i];
	return NULL;
}
