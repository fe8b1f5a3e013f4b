/*
 * keytool/cmd/init.c — "vaultfs-keytool init": create a vault with its first
 * administrator (and, with --recovery-*, its recovery by quorum).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keytool/cmd/cmd.h"

int cmd_init(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"admin", required_argument, NULL, 'a'},
	    {"kdf", required_argument, NULL, 'k'},
	    {"level-names", required_argument, NULL, 'l'},
	    {"uid", required_argument, NULL, 'u'},
	    {"recovery-shares", required_argument, NULL, 'S'},
	    {"recovery-threshold", required_argument, NULL, 'T'},
	    {"officers", required_argument, NULL, 'O'},
	    {"recovery-out-dir", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct kt_init_options o = {.kdf = KT_KDF_INTERACTIVE, .admin_uid = -1};
	struct recovery_args rec = {0};
	char *names = NULL, *pass = NULL, path[4096];
	const char *arg_levels = NULL;
	struct stat st;
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			o.admin = optarg;
			break;
		case 'k':
			if (kt_kdf_profile_parse(optarg, &o.kdf) < 0 || o.kdf == KT_KDF_TEST)
				return cli_usage_error(ctx,
						       "unknown KDF profile '%s' (use interactive, "
						       "moderate or sensitive)",
						       optarg);
			break;
		case 'l':
			arg_levels = optarg;
			break;
		case 'u':
			if (!parse_uid(optarg, &o.admin_uid))
				return cli_usage_error(ctx, "invalid uid '%s'", optarg);
			break;
		case 'S':
			rec.shares = optarg;
			break;
		case 'T':
			rec.threshold = optarg;
			break;
		case 'O':
			rec.officers = optarg;
			break;
		case 'D':
			rec.out_dir = optarg;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (!o.admin)
		return cli_usage_error(ctx, "init needs --admin NAME (the first administrator)");
	if ((rec.shares || rec.threshold || rec.officers || rec.out_dir) &&
	    !recovery_args_valid(ctx, &rec, &x))
		return x;
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	if (!valid_name_or_complain(ctx, "user", o.admin, &x))
		return x;
	snprintf(path, sizeof(path), "%s/" META_DB_NAME, ctx->vault);
	if (stat(path, &st) == 0) {
		cli_error("a vault already exists at %s", ctx->vault);
		return CLI_EXIT_FAILED;
	}
	if (arg_levels) {
		char *tok;
		int n = 0;

		names = strdup(arg_levels);
		if (!names) {
			cli_error("out of memory");
			return CLI_EXIT_FAILED;
		}
		/* strsep keeps empty fields, so "a,,c,d" is refused below */
		for (char *p = names; (tok = strsep(&p, ",")) != NULL; n++) {
			if (n < META_LEVELS)
				o.level_names[n] = tok;
		}
		for (int l = 0; l < META_LEVELS && n == META_LEVELS; l++)
			if (!o.level_names[l][0])
				n = -1;
		if (n != META_LEVELS) {
			free(names);
			return cli_usage_error(
			    ctx, "--level-names needs four non-empty names for levels "
				 "0-3, separated by commas");
		}
	}

	pass = new_passphrase(ctx->passphrase_file, o.admin);
	if (!pass) {
		free(names);
		return CLI_EXIT_FAILED;
	}
	o.passphrase = pass;
	o.passphrase_len = strlen(pass);
	r = kt_vault_init(ctx->vault, &o);
	if (r == 0) {
		printf("created a vault at %s with administrator '%s'\n", ctx->vault, o.admin);
		if (rec.shares)
			x = init_recovery(ctx, o.admin, pass, &rec);
	}
	pass = cli_passphrase_free(pass);
	free(names);
	switch (r) {
	case 0:
		return x;
	case -EEXIST:
		cli_error("a vault already exists at %s", ctx->vault);
		return CLI_EXIT_FAILED;
	case -EINVAL:
		return cli_usage_error(ctx,
				       "invalid level names '%s' (four distinct names of printable "
				       "UTF-8, at most 64 bytes, no commas, not numbers)",
				       arg_levels ? arg_levels : "");
	default:
		cli_error("cannot create a vault at %s: %s", ctx->vault, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}
