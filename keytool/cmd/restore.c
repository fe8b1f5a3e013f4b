/*
 * keytool/cmd/restore.c — restore-accept: an administrator states that the
 * vault was put back to an earlier state on purpose (a backup restored), so
 * that its witness directory takes the restored vault's checkpoints again.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "keytool/anchor.h"
#include "keytool/cmd/cmd.h"

int cmd_restore_accept(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *reason = NULL;
	uint64_t from = 0, to = 0;
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			reason = optarg;
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
	if (!reason || !*reason)
		return cli_usage_error(ctx, "restore-accept needs --reason TEXT (why the vault "
					    "was put back)");
	if (!ctx->witness)
		return cli_usage_error(ctx, "restore-accept needs the witness directory "
					    "(--witness DIR or $VAULTFS_WITNESS)");
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	r = kt_log_restore(ctx->db, ctx->keyring, ctx->witness, reason, &from, &to);
	if (r == -EALREADY) {
		cli_error("nothing to accept: the vault's access record extends the checkpoint the "
			  "witness %s holds",
			  ctx->witness);
		return CLI_EXIT_FAILED;
	}
	if (r == -ENOKEY) {
		cli_error("the witness %s cannot take a restore: its newest checkpoint names no "
			  "administration key, or this vault's administration key is not that one",
			  ctx->witness);
		return CLI_EXIT_FAILED;
	}
	if (r == -ENOENT) {
		cli_error("nothing to accept: the witness %s holds no checkpoint of this vault",
			  ctx->witness);
		return CLI_EXIT_FAILED;
	}
	x = admin_error(ctx->user.name, "accept a restore", r);
	if (x != CLI_EXIT_OK)
		return x;
	printf("restore accepted: the witness %s held a checkpoint of %llu records and now holds "
	       "the restored vault's, of %llu; what it held before is kept under %s/history.*\n",
	       ctx->witness, (unsigned long long)from, (unsigned long long)to, ctx->witness);
	return CLI_EXIT_OK;
}
