/*
 * config.h - every setting of calsync, read from CALSYNC_* environment
 * variables through one table (config.c) that also carries each
 * setting's default and documentation; the README's settings table is
 * printed from it (`calsync config --markdown`).
 *
 * Ownership: cs_config_load() fills a caller-owned cs_config whose strings
 * it allocates; cs_config_release() frees them. Secrets (the secret keys,
 * OAuth client secrets) are held here but never logged or printed.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

/* Which program loads the settings: decides which are required. */
enum cs_program {
	CS_PROG_TOOL = 1,
	CS_PROG_WORKER = 2,
	CS_PROG_SCHEDULER = 4,
	CS_PROG_HOOKS = 8,
};

typedef struct cs_config {
	char *database_url;
	char *redis_url;
	char *kafka_brokers;
	char *kafka_topic;
	char *kafka_group;
	char *secret_keys;
	char *google_api_url;
	char *google_token_url;
	char *google_revoke_url;
	char *google_client_id;
	char *google_client_secret;
	char *graph_api_url;
	char *ms_token_url;
	char *ms_client_id;
	char *ms_client_secret;
	char *graph_delta;
	char *windows_zones_file;
	long graph_window_days;
	char *icloud_url;
	char *ca_file;
	char *http_addr;
	char *hooks_public_url;
	char *log_level;
	char *log_format;
	char *migrations_dir;
	char *worker_name;
	char *test_provider;
	long worker_concurrency;
	long db_pool_size;
	long batch_size;
	long sync_interval_s;
	long nightly_hour;
	long max_attempts;
	long retry_base_ms;
	long retry_max_ms;
	long claim_idle_ms;
	long consumer_idle_ms;
	long lock_ttl_ms;
	long leader_lease_ms;
	long drain_timeout_ms;
	long http_timeout_ms;
	long mass_delete_min;
	long mass_delete_percent;
	long caldav_allow_http;
	long caldav_allow_private;
	long watch_poll_interval_s;
	long watch_renew_before_s;
	long hooks_allow_http;
	long audit_retention_days;
} cs_config;

/*
 * Read every setting for program `prog`. A malformed value, or a missing
 * required one, fails with a message naming the variable.
 */
int cs_config_load(cs_config *cfg, enum cs_program prog, cs_err *err);
void cs_config_release(cs_config *cfg);

/* Print the values in force, one VAR=value a line, secrets masked. */
void cs_config_print_effective(const cs_config *cfg, FILE *out);

/* Print the settings table as Markdown (for the README). */
void cs_config_print_markdown(FILE *out);

#endif
