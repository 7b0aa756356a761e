/*
 * cli.h - the admin tool `calsync`: a table of subcommands (main.c), each
 * in a cmd_*.c file. A subcommand returns the process exit code: 0 done,
 * 1 failed (one line on stderr says why), 2 wrong usage.
 */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "config.h"

struct cli_cmd {
	const char *name;
	int (*run)(const cs_config *cfg, int argc, char **argv);
	const char *usage;    /* arguments after the name */
	const char *summary;
};

/* Print "calsync: <msg>" to stderr and return 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the usage line of cmd and return 2. */
int cli_usage(const struct cli_cmd *cmd);
/* True when argv holds -h or --help. */
bool cli_wants_help(int argc, char **argv);
/* The value after option `name` in argv (e.g. --tenant X), or NULL. */
const char *cli_opt(int argc, char **argv, const char *name);
bool cli_flag(int argc, char **argv, const char *name);
/* Run one query on CALSYNC_DATABASE_URL; on failure print why and return 1. */
int cli_query(const cs_config *cfg, const char *sql, int n, const char *const *params,
	      PGresult **res);

/* Print res as a header line and tab-separated rows ("-" for NULL). */
void cli_print_rows(PGresult *res);
/*
 * Put a job of type with data (taken: a job_id is added) on the
 * interactive stream and print its job id; returns the exit code.
 */
int cli_enqueue(const cs_config *cfg, const char *type, json_t *data);

int cmd_migrate(const cs_config *cfg, int argc, char **argv);
int cmd_config(const cs_config *cfg, int argc, char **argv);
int cmd_secret(const cs_config *cfg, int argc, char **argv);
int cmd_enqueue(const cs_config *cfg, int argc, char **argv);
int cmd_resolve(const cs_config *cfg, int argc, char **argv);
int cmd_watch(const cs_config *cfg, int argc, char **argv);
int cmd_status(const cs_config *cfg, int argc, char **argv);
int cmd_conflicts(const cs_config *cfg, int argc, char **argv);
int cmd_agenda(const cs_config *cfg, int argc, char **argv);
int cmd_deletions(const cs_config *cfg, int argc, char **argv);
int cmd_history(const cs_config *cfg, int argc, char **argv);

#endif
