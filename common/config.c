/*
 * config.c - the one settings table of calsync (see config.h).
 *
 * Each row: the variable, where it lands in cs_config, its kind, its
 * default (NULL: none), which programs require it, and a sentence for the
 * README. Loading checks every value against its kind and stops at the
 * first bad one with a message that names the variable.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "redisconn.h"
#include "utf8.h"
#include "banned.h"

enum kind { K_STR, K_URL, K_REDIS_URL, K_INT, K_LEVEL, K_FORMAT, K_GRAPH_DELTA };

struct setting {
	const char *name;
	size_t off;
	enum kind kind;
	const char *def;
	unsigned required;  /* mask of enum cs_program */
	bool secret;
	long min, max;      /* K_INT only */
	const char *doc;
};

#define S(field) offsetof(cs_config, field)
#define ALL (CS_PROG_TOOL | CS_PROG_WORKER | CS_PROG_SCHEDULER)

static const struct setting settings[] = {
	{"CALSYNC_DATABASE_URL", S(database_url), K_STR, "postgresql:///calsync", 0, true, 0, 0,
	 "libpq connection string or URI of the PostgreSQL database; session settings go in"
	 " its `options`, e.g. `?options=-c%20statement_timeout%3D30000`"},
	{"CALSYNC_REDIS_URL", S(redis_url), K_REDIS_URL, "redis://127.0.0.1:6379/0", 0, true, 0, 0,
	 "`redis://[:password@]host:port[/db]`"},
	{"CALSYNC_KAFKA_BROKERS", S(kafka_brokers), K_STR, "127.0.0.1:9092", 0, false, 0, 0,
	 "Kafka bootstrap servers"},
	{"CALSYNC_KAFKA_TOPIC", S(kafka_topic), K_STR, "familyhub.events", 0, false, 0, 0,
	 "topic of the backend's event-changed messages"},
	{"CALSYNC_KAFKA_GROUP", S(kafka_group), K_STR, "calsync-scheduler", 0, false, 0, 0,
	 "Kafka consumer group of the schedulers"},
	{"CALSYNC_SECRET_KEYS", S(secret_keys), K_STR, NULL, CS_PROG_WORKER, true, 0, 0,
	 "`kid:base64key[,kid:base64key...]`; the first seals, all open (32-byte keys)"},
	{"CALSYNC_GOOGLE_API_URL", S(google_api_url), K_URL, "https://www.googleapis.com/calendar/v3", 0, false, 0, 0,
	 "Google Calendar API base"},
	{"CALSYNC_GOOGLE_TOKEN_URL", S(google_token_url), K_URL, "https://oauth2.googleapis.com/token", 0, false, 0, 0,
	 "Google OAuth token endpoint"},
	{"CALSYNC_GOOGLE_REVOKE_URL", S(google_revoke_url), K_URL, "https://oauth2.googleapis.com/revoke", 0, false, 0, 0,
	 "Google OAuth revocation endpoint"},
	{"CALSYNC_GOOGLE_CLIENT_ID", S(google_client_id), K_STR, "", 0, false, 0, 0,
	 "Google OAuth client id"},
	{"CALSYNC_GOOGLE_CLIENT_SECRET", S(google_client_secret), K_STR, "", 0, true, 0, 0,
	 "Google OAuth client secret"},
	{"CALSYNC_GRAPH_API_URL", S(graph_api_url), K_URL, "https://graph.microsoft.com/v1.0", 0, false, 0, 0,
	 "Microsoft Graph base"},
	{"CALSYNC_MS_TOKEN_URL", S(ms_token_url), K_URL, "https://login.microsoftonline.com/common/oauth2/v2.0/token", 0, false, 0, 0,
	 "Microsoft token endpoint"},
	{"CALSYNC_MS_CLIENT_ID", S(ms_client_id), K_STR, "", 0, false, 0, 0,
	 "Microsoft OAuth client id"},
	{"CALSYNC_MS_CLIENT_SECRET", S(ms_client_secret), K_STR, "", 0, true, 0, 0,
	 "Microsoft OAuth client secret"},
	{"CALSYNC_GRAPH_DELTA", S(graph_delta), K_GRAPH_DELTA, "events", 0, false, 0, 0,
	 "Outlook delta path: `events` (`/me/calendars/{id}/events/delta`, every event; a full"
	 " sync lists all) or `calendarView` (`/me/calendars/{id}/calendarView/delta` over a"
	 " window: an event leaving it is not deleted)"},
	{"CALSYNC_GRAPH_WINDOW_DAYS", S(graph_window_days), K_INT, "365", 0, false, 1, 3650,
	 "with `CALSYNC_GRAPH_DELTA=calendarView`: days before and after now in the window"},
	{"CALSYNC_WINDOWS_ZONES_FILE", S(windows_zones_file), K_STR,
	 "/usr/share/unicode/cldr/common/supplemental/windowsZones.xml", 0, false, 0, 0,
	 "Unicode CLDR's windowsZones.xml (Debian `unicode-cldr-core`): Outlook's Windows zone"
	 " names to IANA and back"},
	{"CALSYNC_ICLOUD_URL", S(icloud_url), K_URL, "https://caldav.icloud.com", 0, false, 0, 0,
	 "CalDAV entry point used for discovery"},
	{"CALSYNC_CA_FILE", S(ca_file), K_STR, "", 0, false, 0, 0,
	 "extra CA bundle; TLS is always verified (empty: system store)"},
	{"CALSYNC_HTTP_ADDR", S(http_addr), K_STR, "", 0, false, 0, 0,
	 "`host:port` where the program serves `/healthz`, `/readyz` and `/metrics`"
	 " (`calsync-hooks` its hooks too); empty: the program's own default (README)"},
	{"CALSYNC_HOOKS_PUBLIC_URL", S(hooks_public_url), K_STR, "", 0, false, 0, 0,
	 "https base URL at which the providers reach `calsync-hooks`; empty: no channels,"
	 " polling only"},
	{"CALSYNC_LOG_LEVEL", S(log_level), K_LEVEL, "info", 0, false, 0, 0,
	 "`debug`, `info`, `warn` or `error`"},
	{"CALSYNC_LOG_FORMAT", S(log_format), K_FORMAT, "text", 0, false, 0, 0,
	 "`text` or `json` (one record per line)"},
	{"CALSYNC_MIGRATIONS_DIR", S(migrations_dir), K_STR, "migrations", 0, false, 0, 0,
	 "folder of the numbered SQL files that `calsync migrate` applies"},
	{"CALSYNC_WORKER_NAME", S(worker_name), K_STR, "", 0, false, 0, 0,
	 "consumer name of this process (empty: host name and pid)"},
	{"CALSYNC_TEST_PROVIDER", S(test_provider), K_STR, "", 0, false, 0, 0,
	 "test builds only (`build/calsync-worker-test`): the folder that scripts the test"
	 " provider; the production programs have no test provider"},
	{"CALSYNC_WORKER_CONCURRENCY", S(worker_concurrency), K_INT, "64", 0, false, 1, 1024,
	 "jobs in flight per worker process (one slot thread each); they share the"
	 " `CALSYNC_DB_POOL_SIZE` PostgreSQL connections"},
	{"CALSYNC_DB_POOL_SIZE", S(db_pool_size), K_INT, "8", 0, false, 1, 256,
	 "PostgreSQL connections of one worker process at most; a job borrows one per"
	 " statement or transaction, none while it waits on a provider"},
	{"CALSYNC_BATCH_SIZE", S(batch_size), K_INT, "64", 0, false, 1, 10000,
	 "jobs read from a stream in one call (XREADGROUP COUNT)"},
	{"CALSYNC_SYNC_INTERVAL", S(sync_interval_s), K_INT, "900", 0, false, 1, 86400,
	 "seconds between periodic incremental syncs of a calendar"},
	{"CALSYNC_NIGHTLY_HOUR", S(nightly_hour), K_INT, "3", 0, false, 0, 23,
	 "local hour (tenant's time zone) of the nightly full sync"},
	{"CALSYNC_MAX_ATTEMPTS", S(max_attempts), K_INT, "5", 0, false, 1, 100,
	 "attempts of a failing job before it goes to `calsync:dead` (a rate limit the provider"
	 " announced with `Retry-After` uses none: the retry waits what it asked)"},
	{"CALSYNC_RETRY_BASE_MS", S(retry_base_ms), K_INT, "1000", 0, false, 1, 3600000,
	 "first retry delay; doubles each attempt, with jitter"},
	{"CALSYNC_RETRY_MAX_MS", S(retry_max_ms), K_INT, "300000", 0, false, 1, 86400000,
	 "longest retry delay"},
	{"CALSYNC_CLAIM_IDLE_MS", S(claim_idle_ms), K_INT, "45000", 0, false, 100, 86400000,
	 "a job pending this long on a silent worker is taken over; more than"
	 " `CALSYNC_HTTP_TIMEOUT_MS`"},
	{"CALSYNC_CONSUMER_IDLE_MS", S(consumer_idle_ms), K_INT, "3600000", 0, false, 1000, 604800000,
	 "a consumer of the group with no pending job, silent this long, is removed"},
	{"CALSYNC_LOCK_TTL_MS", S(lock_ttl_ms), K_INT, "45000", 0, false, 100, 86400000,
	 "lifetime of a calendar lock, renewed while its job runs (also during a request);"
	 " more than `CALSYNC_HTTP_TIMEOUT_MS`"},
	{"CALSYNC_LEADER_LEASE_MS", S(leader_lease_ms), K_INT, "10000", 0, false, 100, 3600000,
	 "scheduler leader lease; a dead leader loses it after this"},
	{"CALSYNC_DRAIN_TIMEOUT_MS", S(drain_timeout_ms), K_INT, "20000", 0, false, 0, 3600000,
	 "on SIGTERM, how long a worker may finish jobs in hand"},
	{"CALSYNC_HTTP_TIMEOUT_MS", S(http_timeout_ms), K_INT, "30000", 0, false, 100, 600000,
	 "timeout of one provider request"},
	{"CALSYNC_MASS_DELETE_MIN", S(mass_delete_min), K_INT, "20", 0, false, 1, 1000000,
	 "the mass-deletion guard applies to calendars with at least this many events"},
	{"CALSYNC_MASS_DELETE_PERCENT", S(mass_delete_percent), K_INT, "50", 0, false, 1, 100,
	 "a pull that would delete more than this share of them stops instead"},
	{"CALSYNC_CALDAV_ALLOW_HTTP", S(caldav_allow_http), K_INT, "0", 0, false, 0, 1,
	 "1: CalDAV entry points and calendars may use plain `http://` (tests only); 0: https only"},
	{"CALSYNC_CALDAV_ALLOW_PRIVATE", S(caldav_allow_private), K_INT, "0", 0, false, 0, 1,
	 "1: CalDAV requests may go to loopback, link-local and private addresses (tests, a"
	 " home server on the LAN); 0: refused, checked on the address actually connected to"},
	{"CALSYNC_WATCH_POLL_INTERVAL", S(watch_poll_interval_s), K_INT, "43200", 0, false, 1, 604800,
	 "seconds between the safety-net syncs of a calendar with a live push channel (it still"
	 " gets the nightly full sync)"},
	{"CALSYNC_WATCH_RENEW_BEFORE", S(watch_renew_before_s), K_INT, "86400", 0, false, 1, 2592000,
	 "a push channel is renewed when it expires within this many seconds"},
	{"CALSYNC_HOOKS_ALLOW_HTTP", S(hooks_allow_http), K_INT, "0", 0, false, 0, 1,
	 "tests only: `1` lets `CALSYNC_HOOKS_PUBLIC_URL` be http:// (the emulators); the"
	 " providers require https"},
	{"CALSYNC_AUDIT_RETENTION_DAYS", S(audit_retention_days), K_INT, "90", 0, false, 1, 36500,
	 "days the audit of sync operations is kept (`calsync history`); older rows are pruned"
	 " in batches by the scheduler's leader"},
};

static int check_url(const struct setting *s, const char *v, cs_err *err)
{
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		return cs_err_set(err, CS_EINVAL, false,
				  "%s: expected an http:// or https:// URL",
				  s->name);
	return 0;
}

static int parse_int(const struct setting *s, const char *v, long *out,
		     cs_err *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end)
		return cs_err_set(err, CS_EINVAL, false,
				  "%s: expected a whole number, got '%s'",
				  s->name, v);
	if (n < s->min || n > s->max)
		return cs_err_set(err, CS_EINVAL, false,
				  "%s: %ld is out of range %ld..%ld", s->name,
				  n, s->min, s->max);
	*out = n;
	return 0;
}

static int check_one_of(const struct setting *s, const char *v,
			const char *const *allowed, cs_err *err)
{
	for (int i = 0; allowed[i]; i++)
		if (strcmp(v, allowed[i]) == 0)
			return 0;
	return cs_err_set(err, CS_EINVAL, false, "%s: '%s' is not one of the allowed values",
			  s->name, v);
}

static int load_one(cs_config *cfg, const struct setting *s,
		    enum cs_program prog, cs_err *err)
{
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	static const char *const formats[] = {"text", "json", NULL};
	static const char *const graph_deltas[] = {"events", "calendarView", NULL};
	const char *v = getenv(s->name);
	char *copy;

	if (!v || !*v) {
		if (s->required & prog)
			return cs_err_set(err, CS_EINVAL, false,
					  "%s is not set and has no default",
					  s->name);
		if (!s->def)
			return 0; /* optional and unset: stays NULL */
		v = s->def;
	}
	if (!cs_utf8_valid(v, strlen(v)))
		return cs_err_set(err, CS_EINVAL, false, "%s: the value is not valid UTF-8", s->name);
	switch (s->kind) {
	case K_INT:
		return parse_int(s, v, (long *)((char *)cfg + s->off), err);
	case K_URL:
		if (check_url(s, v, err))
			return -1;
		break;
	case K_REDIS_URL: {
		cs_redis_addr addr;

		if (cs_redis_parse_url(v, &addr, err))
			return cs_err_prefix(err, "%s", s->name);
		cs_redis_addr_release(&addr);
		break;
	}
	case K_LEVEL:
		if (check_one_of(s, v, levels, err))
			return -1;
		break;
	case K_FORMAT:
		if (check_one_of(s, v, formats, err))
			return -1;
		break;
	case K_GRAPH_DELTA:
		if (check_one_of(s, v, graph_deltas, err))
			return -1;
		break;
	case K_STR:
		break;
	}
	copy = strdup(v);
	if (!copy)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	*(char **)((char *)cfg + s->off) = copy;
	return 0;
}

/*
 * A worker's lock and claim must outlive one provider request, so that
 * neither lapses while a request waits even when a renewal comes late.
 */
static int check_timing(const cs_config *cfg, cs_err *err)
{
	if (cfg->lock_ttl_ms <= cfg->http_timeout_ms)
		return cs_err_set(err, CS_EINVAL, false,
				  "CALSYNC_LOCK_TTL_MS (%ld) must be more than CALSYNC_HTTP_TIMEOUT_MS"
				  " (%ld): a calendar lock must outlive a provider request",
				  cfg->lock_ttl_ms, cfg->http_timeout_ms);
	if (cfg->claim_idle_ms <= cfg->http_timeout_ms)
		return cs_err_set(err, CS_EINVAL, false,
				  "CALSYNC_CLAIM_IDLE_MS (%ld) must be more than CALSYNC_HTTP_TIMEOUT_MS"
				  " (%ld): a job's claim must outlive a provider request",
				  cfg->claim_idle_ms, cfg->http_timeout_ms);
	return 0;
}

/* The providers post notifications only to https addresses. */
static int check_hooks_url(const cs_config *cfg, cs_err *err)
{
	const char *u = cfg->hooks_public_url;

	if (!u || !*u || strncmp(u, "https://", 8) == 0 ||
	    (cfg->hooks_allow_http && strncmp(u, "http://", 7) == 0))
		return 0;
	return cs_err_set(err, CS_EINVAL, false,
			  "CALSYNC_HOOKS_PUBLIC_URL: expected an https:// URL");
}

int cs_config_load(cs_config *cfg, enum cs_program prog, cs_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (load_one(cfg, &settings[i], prog, err)) {
			cs_config_release(cfg);
			return -1;
		}
	}
	if (check_hooks_url(cfg, err)) {
		cs_config_release(cfg);
		return -1;
	}
	if ((prog & CS_PROG_WORKER) && check_timing(cfg, err)) {
		cs_config_release(cfg);
		return -1;
	}
	return 0;
}

void cs_config_release(cs_config *cfg)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		char **p;

		if (settings[i].kind == K_INT)
			continue;
		p = (char **)((char *)cfg + settings[i].off);
		free(*p);
		*p = NULL;
	}
}

void cs_config_print_effective(const cs_config *cfg, FILE *out)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];
		const void *p = (const char *)cfg + s->off;

		if (s->kind == K_INT)
			fprintf(out, "%s=%ld\n", s->name, *(const long *)p);
		else if (s->secret && *(char *const *)p && **(char *const *)p)
			fprintf(out, "%s=(set, not shown)\n", s->name);
		else
			fprintf(out, "%s=%s\n", s->name,
				*(char *const *)p ? *(char *const *)p : "");
	}
}

void cs_config_print_markdown(FILE *out)
{
	fprintf(out, "| variable | meaning | default |\n|---|---|---|\n");
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];
		const char *def = s->def && *s->def ? s->def : "";

		if (!s->def)
			fprintf(out, "| `%s` | %s | none: required |\n", s->name, s->doc);
		else if (!*def)
			fprintf(out, "| `%s` | %s | empty |\n", s->name, s->doc);
		else
			fprintf(out, "| `%s` | %s | `%s` |\n", s->name, s->doc, def);
	}
}
