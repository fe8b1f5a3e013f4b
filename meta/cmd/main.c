/*
 * meta/cmd/main.c — vaultfs-meta, the auditors' command.
 *
 * Auditors (revisor, CISO, dataskyddsombud) answer "who did what with which
 * information, when, and with what outcome" from a vault's access records,
 * and list the inventory of information per level and per folder. They hold
 * the metadata key (through the auditor role) and no level key: they read
 * names and records, never content.
 *
 * This file holds the subcommand table (run by cli/command.h), the help,
 * how the setup's failures are worded, and the session every subcommand
 * starts from: the database opened read-only (so it works while the vault
 * is mounted and can change nothing), the --as user's keys unlocked, and
 * the configured level names. The subcommands are in
 * records.c (log, incidents), inventory.c and verify.c (checkpoint, verify,
 * prove, verify-proof; the proof file in proof.c); text output in out.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/crypto.h"
#include "keytool/keyring.h"
#include "keytool/names.h"
#include "meta/cmd/cmd.h"

#define PROGRAM "vaultfs-meta"

static int cmd_help_command(struct cli_context *ctx, int argc, char **argv);

/* The auditors' commands: the vault read-only, the auditor's keys. */
#define AUDIT (CLI_OPENS_RO | CLI_FINDS_USER | CLI_AUDITS)

/* clang-format off */
static const struct cli_command commands[] = {
	{
		.name = "log",
		.run = cmd_log,
		.setup = AUDIT,
		.usage = "log [--user U] [--path PREFIX] [--ino N] [--op OP] [--level N] [--denied] "
			 "[--since T] [--until T] [--limit N] [--json|--csv]",
		.summary = "list access records: who did what, when, with what outcome",
		.help = "Options:\n"
			"  --user U         only records of vault user U\n"
			"  --path PREFIX    only records whose path (or rename target) is PREFIX\n"
			"                   or lies under it (\"/hr\" matches /hr and /hr/x, not /hrx)\n"
			"  --ino N          only records of inode N (one file, across its renames)\n"
			"  --op OP          only operation OP (open, create, rename, unlock, ...)\n"
			"  --level N        only records at level N (a number or a level name)\n"
			"  --denied         only records whose outcome is not ok\n"
			"  --since T        from time T: 2026-11-22, 2026-11-22T10:00[:SS[.mmm]][Z|+01:00],\n"
			"                   @SECONDS; UTC unless an offset is given\n"
			"  --until T        up to time T; a date alone includes that whole day\n"
			"  --limit N        at most N records (the oldest first)\n"
			"  --json           a JSON array, one object per record\n"
			"  --csv            CSV with a header line (RFC 4180)\n"
			"  -h, --help       show this help\n",
	},
	{
		.name = "incidents",
		.run = cmd_incidents,
		.setup = AUDIT,
		.usage = "incidents [--since T] [--until T] [--user U] [--path PREFIX] [--limit N] "
			 "[--json|--csv]",
		.summary = "list incidents: denials, refused level 4, integrity failures",
		.help = "Options:\n"
			"  --since T        from time T: 2026-11-22, 2026-11-22T10:00[:SS[.mmm]][Z|+01:00],\n"
			"                   @SECONDS; UTC unless an offset is given\n"
			"  --until T        up to time T; a date alone includes that whole day\n"
			"  --user U         only incidents of vault user U\n"
			"  --path PREFIX    only incidents on PREFIX or under it\n"
			"  --limit N        at most N incidents (the oldest first)\n"
			"  --json           a JSON array, one object per incident (fields as for log)\n"
			"  --csv            CSV with a header line (RFC 4180)\n"
			"  -h, --help       show this help\n",
	},
	{
		.name = "inventory",
		.run = cmd_inventory,
		.setup = AUDIT,
		.usage = "inventory [--level N] [--json]",
		.summary = "count files and bytes per level and per top-level folder",
		.help = "Options:\n"
			"  --level N        only level N (a number or a level name)\n"
			"  --json           {\"levels\": [...], \"folders\": [...]}\n"
			"  -h, --help       show this help\n",
	},
	{
		.name = "checkpoint",
		.run = cmd_checkpoint,
		.setup = AUDIT,
		.usage = "checkpoint [--vkey] [--out FILE]",
		.summary = "sign a checkpoint of the access record for you to keep",
		.help = "Options:\n"
			"  --vkey           print the vault's checkpoint verifier key instead\n"
			"                   (no passphrase needed): what checks checkpoints and proofs\n"
			"  --out FILE       write to FILE (a new file) instead of standard output\n"
			"  -h, --help       show this help\n",
	},
	{
		.name = "verify",
		.run = cmd_verify,
		.setup = CLI_OPENS_RO | CLI_INSPECTS,
		.usage = "verify [--checkpoint FILE]... [--witness DIR]... [--vkey KEY|--vkey-file F] "
			 "[--journal] [--json]",
		.summary = "check the access record against its tree head and checkpoints",
		.help = "Options:\n"
			"  --checkpoint FILE\n"
			"                   also check a checkpoint you kept (repeatable)\n"
			"  --witness DIR    also check the newest checkpoint of a witness directory\n"
			"                   (repeatable)\n"
			"  --vkey KEY       the verifier key you kept (else the vault's own is used)\n"
			"  --vkey-file F    ... read from the first line of F\n"
			"  --journal        also the system journal's newest (not yet available)\n"
			"  --json           one JSON object\n"
			"  -h, --help       show this help\n"
			"Exit status: 0 intact, 5 tampering found, 1 a check could not be made.\n",
	},
	{
		.name = "prove",
		.run = cmd_prove,
		.setup = AUDIT,
		.usage = "prove RECORD-ID [--checkpoint FILE] [--out FILE]",
		.summary = "write a proof that a record is in the signed access record",
		.help = "Options:\n"
			"  --checkpoint FILE\n"
			"                   prove against this checkpoint (default: the newest\n"
			"                   kept in the vault, else one signed now)\n"
			"  --out FILE       write to FILE (a new file) instead of standard output\n"
			"  -h, --help       show this help\n",
	},
	{
		.name = "verify-proof",
		.run = cmd_verify_proof,
		.setup = 0,
		.usage = "verify-proof --vkey KEY|--vkey-file FILE PROOF",
		.summary = "check a proof file with the verifier key alone (no vault)",
		.help = "Options:\n"
			"  --vkey KEY       the vault's verifier key (NAME+KEYID+BASE64)\n"
			"  --vkey-file F    ... read from the first line of F\n"
			"  -h, --help       show this help\n"
			"Exit status: 0 valid, 5 invalid, 1 unreadable, 2 usage.\n",
	},
	{
		.name = "help",
		.run = cmd_help_command,
		.usage = "help [COMMAND]",
		.summary = "show help for vaultfs-meta or for one command",
		.help = "",
	},
};
/* clang-format on */

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_line(FILE *f)
{
	fprintf(f, "usage: " PROGRAM " [--vault DIR] [--as USER] [--passphrase-file F] COMMAND "
		   "[OPTIONS]\n"
		   "       " PROGRAM " --help | --version | help [COMMAND]\n");
}

static void help_global(void)
{
	size_t i;

	usage_line(stdout);
	printf("\nThe auditors' tool: query a vault's access records and its inventory.\n"
	       "It opens the vault read-only (it works while the vault is mounted) and needs\n"
	       "a user who holds the metadata key (the auditor role); it never reads content.\n"
	       "verify, verify-proof and checkpoint --vkey need no user and no passphrase.\n"
	       "\nCommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		printf("  %-13s %s\n", commands[i].name, commands[i].summary);
	printf("\nGlobal options:\n"
	       "  --vault DIR             the vault directory (default: $VAULTFS_VAULT)\n"
	       "  --as USER               the auditor whose keys decrypt paths and names\n"
	       "                          (default: the user mapped to your uid or login)\n"
	       "  --passphrase-file F     read USER's passphrase from the first line of F\n"
	       "                          (default: ask on the terminal)\n"
	       "  -h, --help              show this help\n"
	       "  --version               show the version\n"
	       "\nExit status: 0 ok, 1 failed (also: a record that does not decrypt),\n"
	       "2 usage, 3 denied or wrong passphrase, 4 no vault, 5 tampering found\n"
	       "(verify, verify-proof).\n"
	       "'" PROGRAM " COMMAND --help' describes a command; see also vaultfs-meta(1).\n");
}

bool cmd_parse_u64(const char *text, uint64_t *ret_val)
{
	unsigned long long v;
	char *end;

	if (!text[0] || text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end)
		return false;
	*ret_val = v;
	return true;
}

static int cmd_help_command(struct cli_context *ctx, int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc > 2)
		return cli_usage_error(ctx, "help takes one command name");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help_global();
		return CLI_EXIT_OK;
	}
	cmd = cli_command_find(ctx->prog, argv[1]);
	if (!cmd)
		return cli_usage_error(ctx, "'%s' is not a command (see '" PROGRAM " --help')",
				       argv[1]);
	cli_command_help(ctx->prog, cmd);
	return CLI_EXIT_OK;
}

/* The configured level names (kt_level_name: vault_config level_name.N, else
 * the defaults); level 4 is never configured, only refused. */
static int load_level_names(struct cmd_session *s)
{
	int level;

	for (level = 0; level <= META_LEVEL_REFUSED; level++) {
		char buf[256];
		int r = 0;

		if (level < META_LEVELS)
			r = kt_level_name(s->db, (uint8_t)level, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "Säkerhetsskydd");
		if (r < 0) {
			cli_error("cannot read the level names of the vault: %s", strerror(-r));
			return CLI_EXIT_FAILED;
		}
		s->level_names[level] = strdup(buf);
		if (!s->level_names[level]) {
			cli_error("out of memory");
			return CLI_EXIT_FAILED;
		}
	}
	return CLI_EXIT_OK;
}

/* The vault at dir does not open (meta_db_open's r). */
static int open_failed(const char *dir, int r)
{
	switch (r) {
	case -ENOENT:
		cli_error("no vault at %s: check --vault or VAULTFS_VAULT", dir);
		return CLI_EXIT_NO_VAULT;
	case -EPROTO:
		cli_error("the vault at %s has a database version this vaultfs-meta does not know: "
			  "use the vaultfs release that last wrote it",
			  dir);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("the vault database at %s is locked: try again in a moment", dir);
		return CLI_EXIT_FAILED;
	case -EACCES:
	case -EPERM:
		cli_error("no permission to read the vault at %s: auditors need read access to "
			  "its vault.db (ask the system administrator)",
			  dir);
		return CLI_EXIT_FAILED;
	case -EROFS:
		/* WAL: a reader must find vault.db-shm or be able to create it */
		cli_error("cannot open the vault at %s read-only: its vault.db-shm is missing and "
			  "cannot be created; run while the vault is mounted, or ask the system "
			  "administrator for write access to the vault directory",
			  dir);
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot open the vault at %s: %s", dir, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

/* The keys of user do not unlock (kt_unlock's r). */
static int unlock_failed(const char *user, int r)
{
	switch (r) {
	case -EACCES:
		cli_error("wrong passphrase for user '%s', or the user is disabled: try again, "
			  "or ask an administrator",
			  user);
		return CLI_EXIT_DENIED;
	case -ENOENT:
		cli_error("no user '%s' in this vault: check --as ('vaultfs-keytool list users' "
			  "shows the users)",
			  user);
		return CLI_EXIT_DENIED;
	case -EINVAL:
		cli_error("'%s' is not a valid user name: check --as", user);
		return CLI_EXIT_USAGE;
	case -EBADMSG:
		cli_error("the keys of user '%s' do not open: the vault's key tables may have been "
			  "tampered with; report an incident",
			  user);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("the vault database is locked: try again in a moment");
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot unlock the keys of user '%s': %s", user, strerror(-r));
		return cli_exit_code(r);
	}
}

/* The setup's failures, worded for vaultfs-meta. */
static int fail(const struct cli_context *ctx, enum cli_failure what, const char *arg, int r)
{
	switch (what) {
	case CLI_FAIL_UNKNOWN_OPTION:
		return cli_usage_error(ctx, "unknown option '%s'", arg);
	case CLI_FAIL_NO_COMMAND:
		return cli_usage_error(ctx, "no command given (see '" PROGRAM " --help')");
	case CLI_FAIL_UNKNOWN_COMMAND:
		return cli_usage_error(ctx, "'%s' is not a command (see '" PROGRAM " --help')",
				       arg);
	case CLI_FAIL_NO_VAULT_GIVEN:
		cli_error("no vault given: use --vault DIR or set VAULTFS_VAULT");
		return CLI_EXIT_USAGE;
	case CLI_FAIL_USER_UNMAPPED:
		cli_error("no vault user is mapped to your account: give --as USER (a user granted "
			  "the auditor role)");
		return CLI_EXIT_USAGE;
	case CLI_FAIL_OPEN:
		return open_failed(arg, r);
	case CLI_FAIL_UNLOCK:
		return unlock_failed(arg, r);
	}
	return CLI_EXIT_FAILED;
}

int cmd_session_open(struct cli_context *ctx, struct cmd_session *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	r = cli_setup(ctx);
	if (r != CLI_EXIT_OK)
		return r;
	s->db = ctx->db;
	return load_level_names(s);
}

int cmd_session_unlock(struct cmd_session *s)
{
	int r = cli_unlock(s->ctx);

	s->meta_keys = s->ctx->meta_keys;
	return r;
}

void cmd_session_close(struct cmd_session *s)
{
	size_t i;

	s->meta_keys = NULL;
	s->db = NULL; /* closed by cli_main */
	for (i = 0; i <= META_LEVEL_REFUSED; i++) {
		free(s->level_names[i]);
		s->level_names[i] = NULL;
	}
}

int cmd_session_finish(const struct cmd_session *s, const char *one, const char *many)
{
	if (s->undecryptable == 0)
		return CLI_EXIT_OK;
	cli_error("warning: %zu %s did not decrypt (shown as %s): the vault database may have been "
		  "tampered with; keep a copy of the vault directory and report an incident",
		  s->undecryptable, s->undecryptable == 1 ? one : many, CMD_UNDECRYPTABLE);
	return CLI_EXIT_FAILED;
}

const char *cmd_level_name(const struct cmd_session *s, int level)
{
	if (level < 0 || level > META_LEVEL_REFUSED)
		return NULL;
	return s->level_names[level];
}

int cmd_level_arg(const struct cmd_session *s, const char *text, int *ret_level)
{
	uint8_t level;
	int r = kt_level_parse(s->db, text, &level);

	if (r < 0 || level > META_LEVEL_REFUSED)
		return cli_usage_error(s->ctx,
				       "'%s' is not a level: give 0..3 or a level name "
				       "('vaultfs-keytool list levels' shows them)",
				       text);
	*ret_level = level;
	return CLI_EXIT_OK;
}

int cmd_decrypt(struct cmd_session *s, enum kt_meta_purpose purpose, uint64_t context,
		const uint8_t *enc, size_t enc_len, char **ret_plain, size_t *ret_len)
{
	size_t len;
	char *plain;
	int r;

	if (enc_len < KT_META_OVERHEAD) {
		s->undecryptable++;
		return -EBADMSG;
	}
	len = enc_len - KT_META_OVERHEAD;
	plain = malloc(len + 1);
	if (!plain)
		return -ENOMEM;
	r = kt_meta_open(s->meta_keys, purpose, context, enc, enc_len, plain);
	if (r < 0) {
		free(plain);
		if (r == -ENOMEM)
			return r;
		s->undecryptable++;
		return -EBADMSG;
	}
	plain[len] = '\0';
	*ret_plain = plain;
	*ret_len = len;
	return 0;
}

static const struct cli_program program = {
    .name = PROGRAM,
    .commands = commands,
    .n_commands = N_COMMANDS,
    .usage_prefix = "[global options] ",
    .short_options = "h",
    .usage = usage_line,
    .help = help_global,
    .fail = fail,
};

int main(int argc, char **argv)
{
	return cli_main(&program, argc, argv);
}
