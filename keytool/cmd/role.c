/*
 * keytool/cmd/role.c — "vaultfs-keytool role add": a role holding levels,
 * with its flags (read-only, declassify, expiring).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/cmd/cmd.h"

/* "0,1,Känslig" / "none" → bit mask; prints the error and returns -1 if bad. */
static int parse_levels(const struct cli_context *ctx, struct meta_db *db, const char *text,
			uint32_t *ret_levels, int *ret_exit)
{
	const char *bad = text;
	size_t bad_len = strlen(text);
	int r;

	if (strcmp(text, "none") == 0) {
		*ret_levels = 0;
		return 0;
	}
	r = kt_levels_parse(db, text, ret_levels, &bad, &bad_len);
	if (r == -EPERM)
		*ret_exit = cli_usage_error(ctx, "level 4 (säkerhetsskydd) must never be stored "
						 "in a vault");
	else if (r < 0)
		*ret_exit = cli_usage_error(ctx,
					    "unknown level '%.*s' (use 0-3, a level name, or "
					    "'none'; see '" PROGRAM " list levels')",
					    (int)bad_len, bad);
	return r < 0 ? -1 : 0;
}

int cmd_role(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"levels", required_argument, NULL, 'l'}, {"read-only", no_argument, NULL, 'r'},
	    {"declassify", no_argument, NULL, 'd'},   {"expiring", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	const char *arg_levels = NULL, *name;
	struct meta_role role;
	uint32_t flags = 0, levels = 0;
	int opt, x;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			arg_levels = optarg;
			break;
		case 'r':
			flags |= META_ROLE_READ_ONLY;
			break;
		case 'd':
			flags |= META_ROLE_DECLASSIFY;
			break;
		case 'e':
			flags |= META_ROLE_EXPIRING;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(ctx, "missing 'add'");
	if (strcmp(argv[optind], "add") != 0)
		return cli_usage_error(ctx, "unknown role command '%s' (only 'role add')",
				       argv[optind]);
	if (argc - optind != 2)
		return cli_usage_error(ctx, argc - optind < 2 ? "missing role name"
							      : "too many arguments");
	name = argv[optind + 1];
	if (!valid_name_or_complain(ctx, "role", name, &x))
		return x;
	if (!arg_levels)
		return cli_usage_error(
		    ctx, "role add needs --levels (e.g. --levels 0,1 or --levels none)");

	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	if (parse_levels(ctx, ctx->db, arg_levels, &levels, &x) < 0)
		return x;
	if (meta_role_get_by_name(ctx->db, name, &role) == 0) {
		cli_error("role '%s' already exists (" HINT_LIST_ROLES ")", name);
		return CLI_EXIT_FAILED;
	}
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	x = admin_error(ctx->user.name, "add the role",
			kt_role_add(ctx->db, ctx->keyring, name, levels, flags));
	if (x == CLI_EXIT_OK)
		printf("added role '%s'; grant it with '" PROGRAM " grant USER %s'\n", name, name);
	return x;
}
