/*
 * main.c - entry of the admin tool `calsync`: loads the settings, finds
 * the subcommand in the table and runs it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "log.h"
#include "banned.h"

static const struct cli_cmd commands[] = {
	{"migrate", cmd_migrate, "", "apply the SQL files of CALSYNC_MIGRATIONS_DIR that are not applied yet"},
	{"config", cmd_config, "[--markdown]", "show the settings in force (secrets masked), or the settings table"},
	{"secret", cmd_secret, "seal|open --tenant <uuid> | rotate [--batch N]",
	 "seal or open a secret (value on stdin), or re-seal every stored secret under the first key"},
	{"enqueue", cmd_enqueue, "sync <calendar-id> [--full]",
	 "queue a sync of one calendar now (interactive stream)"},
	{"status", cmd_status, "[<calendar-id>]", "calendars with their last sync (status, counts, error, token health), and the queues"},
	{"conflicts", cmd_conflicts, "[--tenant <id>]", "pending conflicts"},
	{"resolve", cmd_resolve, "<conflict-id> local|external|merge|ignore [--merged JSON] [--by <user-id>]",
	 "queue the resolution of a conflict"},
	{"deletions", cmd_deletions, "<calendar-id> [--approve | --reject] [--by <user-id>]",
	 "deletions the mass-deletion guard held: show them, apply them once, or keep the Hub events"},
	{"agenda", cmd_agenda, "--tenant <id> [--from YYYY-MM-DD] [--days N]",
	 "the unified calendar of a tenant, with provider badges"},
	{"history", cmd_history, "<calendar-id> [--event <id>] [--limit N]",
	 "the audit of a calendar: its jobs and every change of its events, newest first"},
	{"watch", cmd_watch,
	 "[--tenant <id>] [--calendar <id>] [--provider <name>] [--status <status>] [--count N] [--from-start]",
	 "follow calsync:results (with progress) and calsync:conflicts live, filtered"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("calsync: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_usage(const struct cli_cmd *cmd)
{
	fprintf(stderr, "usage: calsync %s %s\n  %s\n", cmd->name, cmd->usage, cmd->summary);
	return 2;
}

bool cli_wants_help(int argc, char **argv)
{
	return cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h");
}

const char *cli_opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

bool cli_flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

static void usage_all(FILE *out)
{
	fprintf(out, "usage: calsync <command> [arguments]   (--help on each)\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nSettings come from CALSYNC_* environment variables: calsync config --markdown\n");
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd = NULL;
	cs_config cfg;
	cs_err err;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_all(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		usage_all(stderr);
		return cli_fail("unknown command '%s'", argv[1]) + 1;
	}
	if (cli_wants_help(argc - 2, argv + 2)) {
		printf("usage: calsync %s %s\n  %s\n", cmd->name, cmd->usage, cmd->summary);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cs_config_load(&cfg, CS_PROG_TOOL, &err))
		return cli_fail("%s", err.msg);
	if (cs_log_init(cfg.log_level, cfg.log_format, "calsync", &err)) {
		cs_config_release(&cfg);
		return cli_fail("%s", err.msg);
	}
	rc = cmd->run(&cfg, argc - 2, argv + 2);
	if (rc == 2)
		cli_usage(cmd);
	cs_config_release(&cfg);
	curl_global_cleanup();
	return rc;
}
