/*
 * meta/cmd/main.c — vaultfs-meta, the auditors' command.
 *
 * Auditors (revisor, CISO, dataskyddsombud) answer "who did what with which
 * information, when, and with what outcome" from a vault's access records,
 * and list the inventory of information per level and per folder. They hold
 * the metadata key (through the auditor role) and no level key: they read
 * names and records, never content.
 *
 * This file holds the global options, the subcommand table and the session
 * every subcommand starts from: the database opened read-only (so it works
 * while the vault is mounted and can change nothing), the --as user's keys
 * unlocked, and the configured level names. The subcommands are in
 * records.c (log, incidents) and inventory.c; text output in out.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "keytool/cli.h"
#include "keytool/crypto.h"
#include "keytool/keyring.h"
#include "keytool/names.h"
#include "meta/cmd/cmd.h"

#define PROGRAM "vaultfs-meta"

static int cmd_help_command(const struct cmd_global *g, const struct cmd_command *cmd, int argc,
			    char **argv);

/* clang-format off */
static const struct cmd_command commands[] = {
	{
		.name = "log",
		.run = cmd_log,
		.usage = "log [--user U] [--path PREFIX] [--ino N] [--op OP] [--level N] [--denied] "
			 "[--since T] [--until T] [--limit N] [--json|--csv]",
		.summary = "list access records: who did what, when, with what outcome",
		.help = "  --user U         only records of vault user U\n"
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
		.usage = "incidents [--since T] [--until T] [--user U] [--path PREFIX] [--limit N] "
			 "[--json|--csv]",
		.summary = "list incidents: denials, refused level 4, integrity failures",
		.help = "  --since T        from time T: 2026-11-22, 2026-11-22T10:00[:SS[.mmm]][Z|+01:00],\n"
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
		.usage = "inventory [--level N] [--json]",
		.summary = "count files and bytes per level and per top-level folder",
		.help = "  --level N        only level N (a number or a level name)\n"
			"  --json           {\"levels\": [...], \"folders\": [...]}\n"
			"  -h, --help       show this help\n",
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

static const struct cmd_command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

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
	       "\nCommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		printf("  %-11s %s\n", commands[i].name, commands[i].summary);
	printf("\nGlobal options:\n"
	       "  --vault DIR             the vault directory (default: $VAULTFS_VAULT)\n"
	       "  --as USER               the auditor whose keys decrypt paths and names\n"
	       "                          (default: the user mapped to your uid or login)\n"
	       "  --passphrase-file F     read USER's passphrase from the first line of F\n"
	       "                          (default: ask on the terminal)\n"
	       "  -h, --help              show this help\n"
	       "  --version               show the version\n"
	       "\nExit status: 0 ok, 1 failed (also: a record that does not decrypt),\n"
	       "2 usage, 3 denied or wrong passphrase, 4 no vault.\n"
	       "'" PROGRAM " COMMAND --help' describes a command; see also vaultfs-meta(1).\n");
}

void cmd_help(const struct cmd_command *cmd)
{
	printf("usage: " PROGRAM " [global options] %s\n\n%c%s.\n", cmd->usage,
	       toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->help[0])
		printf("\nOptions:\n%s", cmd->help);
}

int cmd_usage_error(const struct cmd_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROGRAM ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage: " PROGRAM " [global options] %s\n", cmd->usage);
	else
		usage_line(stderr);
	return CLI_EXIT_USAGE;
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

static int cmd_help_command(const struct cmd_global *g, const struct cmd_command *self, int argc,
			    char **argv)
{
	const struct cmd_command *cmd;

	if (argc > 2)
		return cmd_usage_error(self, "help takes one command name");
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help_global();
		return CLI_EXIT_OK;
	}
	cmd = command_find(argv[1]);
	if (!cmd)
		return cmd_usage_error(self, "'%s' is not a command (see '" PROGRAM " --help')",
				       argv[1]);
	cmd_help(cmd);
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

/*
 * The auditor, as vaultfs-keytool finds the acting user: --as, else the vault
 * user mapped to our uid, else the vault user named like our login (unless
 * that name is mapped to another uid).
 */
static int session_user(const struct cmd_global *g, struct cmd_session *s)
{
	struct meta_user u;
	struct passwd *pw;
	int r;

	if (g->as) {
		snprintf(s->user, sizeof(s->user), "%s", g->as);
		return CLI_EXIT_OK;
	}
	r = meta_user_get_by_uid(s->db, (int64_t)getuid(), &u);
	if (r == -ENOENT) {
		pw = getpwuid(getuid());
		r = pw ? meta_user_get_by_name(s->db, pw->pw_name, &u) : -ENOENT;
		if (r == 0 && u.uid >= 0 && u.uid != (int64_t)getuid())
			r = -ENOENT;
	}
	if (r == -ENOENT) {
		cli_error("no vault user is mapped to your account: give --as USER (a user granted "
			  "the auditor role)");
		r = CLI_EXIT_USAGE;
	} else if (r < 0) {
		cli_error("cannot read the users of the vault: %s", strerror(-r));
		r = CLI_EXIT_FAILED;
	} else {
		snprintf(s->user, sizeof(s->user), "%s", u.name);
		r = CLI_EXIT_OK;
	}
	return r;
}

int cmd_session_open(const struct cmd_global *g, struct cmd_session *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	if (!g->vault) {
		cli_error("no vault given: use --vault DIR or set VAULTFS_VAULT");
		return CLI_EXIT_USAGE;
	}
	r = meta_db_open(g->vault, META_OPEN_RO, &s->db);
	switch (r) {
	case 0:
		break;
	case -ENOENT:
		cli_error("no vault at %s: check --vault or VAULTFS_VAULT", g->vault);
		return CLI_EXIT_NO_VAULT;
	case -EPROTO:
		cli_error("the vault at %s has a database version this vaultfs-meta does not know: "
			  "use the vaultfs release that last wrote it",
			  g->vault);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("the vault database at %s is locked: try again in a moment", g->vault);
		return CLI_EXIT_FAILED;
	case -EACCES:
	case -EPERM:
		cli_error("no permission to read the vault at %s: auditors need read access to "
			  "its vault.db (ask the system administrator)",
			  g->vault);
		return CLI_EXIT_FAILED;
	case -EROFS:
		/* WAL: a reader must find vault.db-shm or be able to create it */
		cli_error("cannot open the vault at %s read-only: its vault.db-shm is missing and "
			  "cannot be created; run while the vault is mounted, or ask the system "
			  "administrator for write access to the vault directory",
			  g->vault);
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot open the vault at %s: %s", g->vault, strerror(-r));
		return CLI_EXIT_FAILED;
	}
	r = session_user(g, s);
	if (r != CLI_EXIT_OK)
		return r;
	return load_level_names(s);
}

int cmd_session_unlock(const struct cmd_global *g, struct cmd_session *s)
{
	char prompt[META_NAME_MAX + 32];
	char *pass;
	int r;

	snprintf(prompt, sizeof(prompt), "Passphrase for '%s': ", s->user);
	pass = cli_passphrase_read(g->passphrase_file, prompt, false);
	if (!pass)
		return CLI_EXIT_FAILED; /* cli_passphrase_read said why */
	r = kt_unlock(s->db, s->user, pass, strlen(pass), &s->keyring);
	pass = cli_passphrase_free(pass);
	switch (r) {
	case 0:
		break;
	case -EACCES:
		cli_error("wrong passphrase for user '%s', or the user is disabled: try again, "
			  "or ask an administrator",
			  s->user);
		return CLI_EXIT_DENIED;
	case -ENOENT:
		cli_error("no user '%s' in this vault: check --as ('vaultfs-keytool list users' "
			  "shows the users)",
			  s->user);
		return CLI_EXIT_DENIED;
	case -EINVAL:
		cli_error("'%s' is not a valid user name: check --as", s->user);
		return CLI_EXIT_USAGE;
	case -EBADMSG:
		cli_error("the keys of user '%s' do not open: the vault's key tables may have been "
			  "tampered with; report an incident",
			  s->user);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("the vault database is locked: try again in a moment");
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot unlock the keys of user '%s': %s", s->user, strerror(-r));
		return cli_exit_code(r);
	}
	s->meta_keys = kt_keyring_meta(s->keyring);
	if (!s->meta_keys) {
		cli_error("user '%s' holds no role with the metadata key (grant the auditor role)",
			  s->user);
		return CLI_EXIT_DENIED;
	}
	/* The trail says who read what: only auditors and administrators see it,
	 * not every member who holds the metadata key for names. */
	if (!(kt_keyring_flags(s->keyring) & (META_ROLE_AUDITOR | META_ROLE_ADMIN))) {
		cli_error("user '%s' is neither an auditor nor an administrator (grant the auditor "
			  "role to read access records)",
			  s->user);
		return CLI_EXIT_DENIED;
	}
	return CLI_EXIT_OK;
}

void cmd_session_close(struct cmd_session *s)
{
	size_t i;

	s->meta_keys = NULL;
	s->keyring = kt_keyring_free(s->keyring);
	s->db = meta_db_close(s->db);
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

int cmd_level_arg(const struct cmd_session *s, const struct cmd_command *cmd, const char *text,
		  int *ret_level)
{
	uint8_t level;
	int r = kt_level_parse(s->db, text, &level);

	if (r < 0 || level > META_LEVEL_REFUSED)
		return cmd_usage_error(cmd,
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

int main(int argc, char **argv)
{
	/* clang-format off */
	static const struct option options[] = {
		{"vault", required_argument, NULL, 'V'},
		{"as", required_argument, NULL, 'u'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	/* clang-format on */
	struct cmd_global g = {0};
	const struct cmd_command *cmd;
	const char *arg_vault = NULL;
	int c, ret;

	cli_set_program(PROGRAM);
	/* No core dumps: they would hold the auditor's keys. */
	prctl(PR_SET_DUMPABLE, 0);
	if (kt_crypto_init() < 0) {
		cli_error("cannot initialise libsodium");
		return CLI_EXIT_FAILED;
	}

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) != -1) {
		switch (c) {
		case 'V':
			arg_vault = optarg;
			break;
		case 'u':
			g.as = optarg;
			break;
		case 'p':
			g.passphrase_file = optarg;
			break;
		case 'h':
			help_global();
			return CLI_EXIT_OK;
		case 'v':
			printf(PROGRAM " %s\n", VAULTFS_VERSION);
			return CLI_EXIT_OK;
		case ':':
			return cmd_usage_error(NULL, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cmd_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	g.vault = cli_vault_dir(arg_vault);
	if (optind >= argc)
		return cmd_usage_error(NULL, "no command given (see '" PROGRAM " --help')");
	cmd = command_find(argv[optind]);
	if (!cmd)
		return cmd_usage_error(NULL, "'%s' is not a command (see '" PROGRAM " --help')",
				       argv[optind]);

	ret = cmd->run(&g, cmd, argc - optind, argv + optind);

	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write the output: %s", strerror(errno));
		return CLI_EXIT_FAILED;
	}
	return ret;
}
