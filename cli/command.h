/*
 * cli/command.h — the subcommand framework of vaultfs-keytool and
 * vaultfs-meta: a command table whose entries say what setup they need (in
 * the manner of git's RUN_SETUP), one loop over the global options, and one
 * way to report usage errors and print help.
 *
 *   prog [--vault DIR] [--as USER] [--passphrase-file FILE] [--witness DIR] COMMAND [ARGS]
 *
 * cli_main() parses the global options, finds the command, resets getopt and
 * runs it. The command parses its own options first (so every mistake in the
 * command line is reported before the vault is touched), then calls
 * cli_setup() — the vault opened, the acting user found, as its entry's
 * flags say — makes its own checks against the vault, and only then
 * cli_unlock() (which asks for the passphrase). Whatever the setup opened is
 * closed by cli_main() after the command returns.
 *
 * What the programs word differently (how a vault that does not open is
 * reported, say) goes through the program's fail() hook; the mechanics are
 * here. Whether the acting user is an administrator is decided by the
 * keytool library, which records the denial, so there is no flag for it.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "keytool/keystore.h"
#include "meta/db.h"
#include "meta/users.h"

/* Setup flags of a command table entry. */
enum {
	CLI_NEEDS_VAULT = 1 << 0, /* a vault must be given (--vault or $VAULTFS_VAULT) */
	CLI_OPENS_RO = 1 << 1,	  /* opens the vault read-only */
	CLI_OPENS_RW = 1 << 2,	  /* opens the vault read-write */
	CLI_FINDS_USER = 1 << 3,  /* names the acting user: --as, else the user of our uid */
	CLI_CHECKS_USER = 1 << 4, /* ... who must exist and be enabled (fills ctx->user) */
	CLI_AUDITS = 1 << 5,	  /* cli_unlock: the user must hold the metadata key and be an
				     auditor or an administrator */
	CLI_ANCHORS = 1 << 6,	  /* after success with keys unlocked: the program's anchor hook
				     (a signed checkpoint of the access record) */
	CLI_INSPECTS = 1 << 7,	  /* with CLI_OPENS_RO: a tampered schema is opened anyway and
				     said in ctx->schema_finding (vaultfs-meta verify) */
};

/* What went wrong, for the program's fail() hook. */
enum cli_failure {
	CLI_FAIL_UNKNOWN_OPTION,  /* a global option is not known (arg: the option) */
	CLI_FAIL_NO_COMMAND,	  /* no command given */
	CLI_FAIL_UNKNOWN_COMMAND, /* arg: the name given */
	CLI_FAIL_NO_VAULT_GIVEN,  /* CLI_NEEDS_VAULT without a vault */
	CLI_FAIL_OPEN,		  /* meta_db_open failed with r */
	CLI_FAIL_USER_UNMAPPED,	  /* no --as, and no vault user is ours */
	CLI_FAIL_UNLOCK,	  /* kt_unlock of ctx->user_name failed with r */
};

struct cli_context;

struct cli_command {
	const char *name; /* "init", "log", ... */
	int (*run)(struct cli_context *ctx, int argc,
		   char **argv); /* argv[0] is the name; returns an exit code */
	unsigned int setup;	 /* CLI_* flags, done by cli_setup() and cli_unlock() */
	const char *usage;	 /* after "usage: PROG " and the program's usage_prefix */
	const char *summary;	 /* one line, no final period */
	const char *help;	 /* option help for --help, or NULL */
};

struct cli_program {
	const char *name;		    /* "vaultfs-keytool" */
	const struct cli_command *commands; /* the table */
	size_t n_commands;		    /* its length */
	const char *usage_prefix;  /* before a command's usage: "" or "[global options] " */
	const char *short_options; /* of the global loop, after "+:" (e.g. "hV") */
	void (*usage)(FILE *f);	   /* the program's usage line(s) */
	void (*help)(void);	   /* --help: on stdout */
	/* Print the line(s) for what went wrong (arg or r as documented above);
	 * return the exit code. */
	int (*fail)(const struct cli_context *ctx, enum cli_failure what, const char *arg, int r);
	/* After a CLI_ANCHORS command succeeded with ctx->keyring and ctx->db
	 * set (NULL: none). Reports its own problems; cannot fail the command. */
	void (*anchor)(struct cli_context *ctx);
};

/* What a command runs with: the global options and what the setup made. */
struct cli_context {
	const struct cli_program *prog;
	const struct cli_command *cmd; /* the command running; NULL in the global loop */
	const char *vault;	       /* --vault or $VAULTFS_VAULT, else NULL */
	const char *as;		       /* --as: the acting user, else NULL */
	const char *passphrase_file;   /* --passphrase-file: the acting user's passphrase */
	const char *witness;	       /* --witness or $VAULTFS_WITNESS: a witness directory */
	struct meta_db *db;	       /* opened by cli_setup/cli_open_vault; closed by cli_main */
	char schema_finding[META_OPEN_WHY_MAX]; /* CLI_INSPECTS: how the schema differs, or "" */
	char user_name[META_NAME_MAX + 1];	/* the acting user (CLI_FINDS_USER) */
	struct meta_user user;			/* their record (CLI_CHECKS_USER) */
	struct kt_keyring *keyring;		/* their keys (cli_unlock); freed by cli_main */
	const struct kt_meta_keys *meta_keys;	/* with CLI_AUDITS: owned by keyring */
};

/* Run the program: sodium, no core dumps, the global options, the command.
 * Returns the exit code. */
int cli_main(const struct cli_program *prog, int argc, char **argv);

/* The setup the command's flags ask for; prints what went wrong and returns
 * the exit code (0 when all is set up). */
int cli_setup(struct cli_context *ctx);
/* Open ctx->vault in mode (reporting like cli_setup); for a command that
 * opens the vault it has just made. */
int cli_open_vault(struct cli_context *ctx, enum meta_open_mode mode);
/* Ask for the acting user's passphrase (--passphrase-file or the terminal)
 * and unlock their keys into ctx->keyring; then CLI_AUDITS. Exit code. */
int cli_unlock(struct cli_context *ctx);

/* A usage error: "PROG: message", then the command's usage line (or the
 * program's), on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* getopt_long returned '?' or ':' (opterr is off): say which option. */
int cli_bad_option(const struct cli_context *ctx, int opt, char **argv);
/* The usage line, summary and option help of cmd, on stdout (for --help). */
void cli_command_help(const struct cli_program *prog, const struct cli_command *cmd);
/* The command of the table named name, or NULL. */
const struct cli_command *cli_command_find(const struct cli_program *prog, const char *name);
