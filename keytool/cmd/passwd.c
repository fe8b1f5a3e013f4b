/*
 * keytool/cmd/passwd.c — "vaultfs-keytool passwd": change the acting user's
 * passphrase.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "keytool/cmd/cmd.h"

int cmd_passwd(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"new-passphrase-file", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *new_file = NULL;
	char *old = NULL, *new = NULL, prompt[128];
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			new_file = optarg;
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
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	snprintf(prompt, sizeof(prompt), "Current passphrase for '%s': ", ctx->user.name);
	old = cli_passphrase_read(ctx->passphrase_file, prompt, false);
	if (old)
		new = new_passphrase(new_file, ctx->user.name);
	if (!old || !new) {
		cli_passphrase_free(old);
		cli_passphrase_free(new);
		return CLI_EXIT_FAILED;
	}
	r = kt_passwd(ctx->db, ctx->user.name, old, strlen(old), new, strlen(new));
	old = cli_passphrase_free(old);
	new = cli_passphrase_free(new);
	if (r == -EACCES) {
		cli_error("wrong passphrase for user '%s'; the passphrase is unchanged",
			  ctx->user.name);
		x = CLI_EXIT_DENIED;
	} else if (r == -EBUSY) {
		cli_error(
		    "the passphrase of '%s' changed meanwhile, or the vault is busy; try again",
		    ctx->user.name);
		x = CLI_EXIT_FAILED;
	} else if (r < 0) {
		cli_error("cannot change the passphrase of '%s': %s", ctx->user.name, strerror(-r));
		x = CLI_EXIT_FAILED;
	} else {
		printf("changed the passphrase of '%s'\n", ctx->user.name);
	}
	return x;
}
