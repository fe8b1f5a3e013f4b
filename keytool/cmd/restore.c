/*
 * keytool/cmd/restore.c — restore-accept: an administrator states that the
 * vault was put back to an earlier state on purpose (a backup restored), so
 * that its witness directory takes the restored vault's checkpoints again.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/anchor.h"
#include "keytool/journal.h"
#include "keytool/cmd/cmd.h"

int cmd_restore_accept(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct kt_checkpoint held = {0};
	struct kt_note_verifier v;
	const char *reason = NULL;
	uint64_t from = 0, to = 0;
	char *note = NULL;
	int opt, x, r = 0;

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
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	if (!ctx->witness) {
		/* the system journal is the anchor that refuses the restored vault */
		r = kt_log_verifier(ctx->db, &v);
		if (r == 0)
			r = kt_journal_newest_signed(&v, NULL, NULL, &held);
		if (r == -ENOENT || r == -ENOMEDIUM) {
			cli_error(
			    "nothing to accept: no witness given (--witness DIR), and the system "
			    "journal holds no checkpoint of this vault");
			return CLI_EXIT_FAILED;
		}
	}
	if (r == 0)
		r = kt_log_restore(ctx->db, ctx->keyring, ctx->witness, ctx->witness ? NULL : &held,
				   reason, &from, &to, &note);
	kt_checkpoint_clear(&held);
	if (r == 0 && kt_log_verifier(ctx->db, &v) == 0) {
		/* the restored vault's first checkpoint, over what the journal held */
		int e = kt_journal_send_checkpoint(v.name, note, strlen(note));

		if (e < 0 && e != -ENOTCONN)
			cli_error("warning: cannot send the checkpoint to the system journal: %s",
				  strerror(-e));
	}
	free(note);
	if (r == -EALREADY) {
		cli_error("nothing to accept: the vault's access record extends the checkpoint %s "
			  "holds",
			  ctx->witness ? ctx->witness : "the system journal");
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
	if (ctx->witness)
		printf("restore accepted: the witness %s held a checkpoint of %llu records and now "
		       "holds the restored vault's, of %llu; what it held before is kept under "
		       "%s/history.*\n",
		       ctx->witness, (unsigned long long)from, (unsigned long long)to,
		       ctx->witness);
	else
		printf(
		    "restore accepted: the system journal held a checkpoint of %llu records; the "
		    "restored vault's, of %llu, is sent after it\n",
		    (unsigned long long)from, (unsigned long long)to);
	return CLI_EXIT_OK;
}
