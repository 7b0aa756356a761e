/* cmd_admin.c - `calsync migrate` and `calsync config`. */
#include <stdio.h>

#include "cli.h"
#include "db.h"
#include "migrate.h"
#include "banned.h"

int cmd_migrate(const cs_config *cfg, int argc, char **argv)
{
	cs_db *db = NULL;
	cs_err err;
	int applied = 0, rc;

	(void)argv;
	if (argc > 0)
		return 2;
	if (cs_db_new(&db, cfg->database_url, &err))
		return cli_fail("%s", err.msg);
	rc = cs_migrate(db, cfg->migrations_dir, &applied, &err);
	cs_db_free(db);
	if (rc)
		return cli_fail("migrate: %s", err.msg);
	printf("migrate: %d applied, schema up to date\n", applied);
	return 0;
}

int cmd_config(const cs_config *cfg, int argc, char **argv)
{
	if (argc == 1 && cli_flag(argc, argv, "--markdown"))
		cs_config_print_markdown(stdout);
	else if (argc == 0)
		cs_config_print_effective(cfg, stdout);
	else
		return 2;
	return 0;
}
