/*
 * cli/command.c — the subcommand framework of vaultfs-keytool and
 * vaultfs-meta: the global options, dispatch from the command table, the
 * setup a table entry asks for (open the vault, find the acting user,
 * unlock their keys), usage errors and help. See cli/command.h.
 */
#include "cli/command.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "keytool/crypto.h"

/* ---- usage and help ------------------------------------------------------ */

int cli_usage_error(const struct cli_context *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_error("%s", msg);
	if (ctx->cmd)
		fprintf(stderr, "usage: %s %s%s\n", ctx->prog->name, ctx->prog->usage_prefix,
			ctx->cmd->usage);
	else
		ctx->prog->usage(stderr);
	return CLI_EXIT_USAGE;
}

int cli_bad_option(const struct cli_context *ctx, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return cli_usage_error(ctx, "option '%s' needs a value", arg);
	if (optopt)
		return cli_usage_error(ctx, "unknown option '-%c'", optopt);
	return cli_usage_error(ctx, "unknown option '%s'", arg);
}

void cli_command_help(const struct cli_program *prog, const struct cli_command *cmd)
{
	printf("usage: %s %s%s\n\n%c%s.\n", prog->name, prog->usage_prefix, cmd->usage,
	       toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->help && cmd->help[0])
		printf("\n%s", cmd->help);
}

const struct cli_command *cli_command_find(const struct cli_program *prog, const char *name)
{
	for (size_t i = 0; i < prog->n_commands; i++)
		if (strcmp(prog->commands[i].name, name) == 0)
			return &prog->commands[i];
	return NULL;
}

/* ---- setup --------------------------------------------------------------- */

int cli_open_vault(struct cli_context *ctx, enum meta_open_mode mode)
{
	char why[META_OPEN_WHY_MAX];
	int r = meta_db_open_why(ctx->vault, mode, &ctx->db, why);

	if (r == -EPROTO && why[0]) { /* the same line from every program */
		cli_error_schema(ctx->vault, why);
		return CLI_EXIT_FAILED;
	}
	return r == 0 ? CLI_EXIT_OK : ctx->prog->fail(ctx, CLI_FAIL_OPEN, ctx->vault, r);
}

/* Open read-only for inspection: a tampered schema is a finding, not a refusal. */
static int cli_inspect_vault(struct cli_context *ctx)
{
	int r = meta_db_open_why(ctx->vault, META_OPEN_RO_INSPECT, &ctx->db, ctx->schema_finding);

	if (r == -EPROTO && ctx->schema_finding[0]) {
		cli_error_schema(ctx->vault, ctx->schema_finding);
		return CLI_EXIT_FAILED;
	}
	return r == 0 ? CLI_EXIT_OK : ctx->prog->fail(ctx, CLI_FAIL_OPEN, ctx->vault, r);
}

/* The acting user: --as, else the vault user of our uid. */
static int find_user(struct cli_context *ctx)
{
	bool check = ctx->cmd->setup & CLI_CHECKS_USER;
	struct meta_user u;
	int r;

	if (ctx->as && !check) {
		snprintf(ctx->user_name, sizeof(ctx->user_name), "%s", ctx->as);
		return CLI_EXIT_OK;
	}
	if (ctx->as) {
		r = meta_user_get_by_name(ctx->db, ctx->as, &u);
		if (r == -ENOENT) {
			cli_error("unknown user '%s' (see 'vaultfs-keytool list users')", ctx->as);
			return CLI_EXIT_DENIED;
		}
	} else {
		r = meta_user_for_uid(ctx->db, (int64_t)getuid(), &u);
		if (r == -ENOENT)
			return ctx->prog->fail(ctx, CLI_FAIL_USER_UNMAPPED, NULL, r);
	}
	if (r < 0) {
		cli_error("cannot read the users of the vault: %s", strerror(-r));
		return CLI_EXIT_FAILED;
	}
	if (check && u.disabled) {
		cli_error("user '%s' is disabled", u.name);
		return CLI_EXIT_DENIED;
	}
	ctx->user = u;
	snprintf(ctx->user_name, sizeof(ctx->user_name), "%s", u.name);
	return CLI_EXIT_OK;
}

int cli_setup(struct cli_context *ctx)
{
	unsigned int f = ctx->cmd->setup;
	int x = CLI_EXIT_OK;

	if ((f & (CLI_NEEDS_VAULT | CLI_OPENS_RO | CLI_OPENS_RW)) && !ctx->vault)
		return ctx->prog->fail(ctx, CLI_FAIL_NO_VAULT_GIVEN, NULL, 0);
	if (f & (CLI_OPENS_RO | CLI_OPENS_RW))
		x = (f & CLI_INSPECTS)
			? cli_inspect_vault(ctx)
			: cli_open_vault(ctx, (f & CLI_OPENS_RW) ? META_OPEN_RW : META_OPEN_RO);
	if (x == CLI_EXIT_OK && (f & (CLI_FINDS_USER | CLI_CHECKS_USER)))
		x = find_user(ctx);
	return x;
}

int cli_unlock(struct cli_context *ctx)
{
	char prompt[META_NAME_MAX + 32];
	char *pass;
	int r;

	snprintf(prompt, sizeof(prompt), "Passphrase for '%s': ", ctx->user_name);
	pass = cli_passphrase_read(ctx->passphrase_file, prompt, false);
	if (!pass)
		return CLI_EXIT_FAILED; /* cli_passphrase_read said why */
	r = kt_unlock(ctx->db, ctx->user_name, pass, strlen(pass), &ctx->keyring);
	pass = cli_passphrase_free(pass);
	if (r < 0)
		return ctx->prog->fail(ctx, CLI_FAIL_UNLOCK, ctx->user_name, r);
	if (!(ctx->cmd->setup & CLI_AUDITS))
		return CLI_EXIT_OK;
	ctx->meta_keys = kt_keyring_meta(ctx->keyring);
	if (!ctx->meta_keys) {
		cli_error("user '%s' holds no role with the metadata key (grant the auditor role)",
			  ctx->user_name);
		return CLI_EXIT_DENIED;
	}
	/* The trail says who read what: only auditors and administrators see it,
	 * not every member who holds the metadata key for names. */
	if (!(kt_keyring_flags(ctx->keyring) & (META_ROLE_AUDITOR | META_ROLE_ADMIN))) {
		cli_error("user '%s' is neither an auditor nor an administrator (grant the auditor "
			  "role to read access records)",
			  ctx->user_name);
		return CLI_EXIT_DENIED;
	}
	return CLI_EXIT_OK;
}

/* ---- main ---------------------------------------------------------------- */

enum { OPT_VAULT = 256, OPT_AS, OPT_PASSPHRASE_FILE, OPT_WITNESS };

int cli_main(const struct cli_program *prog, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vault", required_argument, NULL, OPT_VAULT},
	    {"as", required_argument, NULL, OPT_AS},
	    {"passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE},
	    {"witness", required_argument, NULL, OPT_WITNESS},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	struct cli_context ctx = {.prog = prog};
	const char *arg_vault = NULL;
	char shortopts[16];
	int opt, x;

	x = cli_start(prog->name);
	if (x != 0)
		return x;

	snprintf(shortopts, sizeof(shortopts), "+:%s", prog->short_options);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (opt) {
		case OPT_VAULT:
			arg_vault = optarg;
			break;
		case OPT_AS:
			ctx.as = optarg;
			break;
		case OPT_PASSPHRASE_FILE:
			ctx.passphrase_file = optarg;
			break;
		case OPT_WITNESS:
			ctx.witness = optarg;
			break;
		case 'h':
			prog->help();
			return CLI_EXIT_OK;
		case 'V':
			printf("%s %s\n", prog->name, VAULTFS_VERSION);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(&ctx, "option '%s' needs a value", argv[optind - 1]);
		default:
			return prog->fail(&ctx, CLI_FAIL_UNKNOWN_OPTION, argv[optind - 1], 0);
		}
	}
	if (optind >= argc)
		return prog->fail(&ctx, CLI_FAIL_NO_COMMAND, NULL, 0);
	ctx.vault = cli_vault_dir(arg_vault);
	if (!ctx.witness) {
		const char *w = getenv("VAULTFS_WITNESS");

		ctx.witness = w && *w ? w : NULL;
	}
	ctx.cmd = cli_command_find(prog, argv[optind]);
	if (!ctx.cmd)
		return prog->fail(&ctx, CLI_FAIL_UNKNOWN_COMMAND, argv[optind], 0);

	argc -= optind;
	argv += optind;
	optind = 0; /* GNU: full re-initialisation for the command's options */
	opterr = 0;
	x = ctx.cmd->run(&ctx, argc, argv);
	if (x == CLI_EXIT_OK && (ctx.cmd->setup & CLI_ANCHORS) && prog->anchor && ctx.keyring &&
	    ctx.db)
		prog->anchor(&ctx);
	ctx.meta_keys = NULL;
	ctx.keyring = kt_keyring_free(ctx.keyring);
	ctx.db = meta_db_close(ctx.db);

	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write the output: %s", strerror(errno));
		if (x == CLI_EXIT_OK)
			x = CLI_EXIT_FAILED;
	}
	return x;
}
