/*
 * keytool/cmd/main.c — vaultfs-keytool: create a vault, manage its users, roles
 * and grants, change passphrases, list what is public.
 *
 *   vaultfs-keytool [--vault DIR] [--as USER] [--passphrase-file FILE] COMMAND [ARGS]
 *
 * Git-style: global options, then a command from the table below, each with
 * its own option parsing, one-line usage and --help (cli/command.h runs
 * them). This file holds the table, the help and how the setup's failures
 * are worded; the verbs are in the other files of keytool/cmd/, one per
 * family. They parse, check the arguments against the vault before asking
 * for a passphrase (bad input changes nothing and costs no passphrase), and
 * turn errors into one line and an exit code: 0 ok, 1 failed, 2 usage,
 * 3 denied or wrong passphrase, 4 no vault.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keytool/cmd/cmd.h"

/* The administrations: the vault read-write, the acting user existing and
 * enabled, and a signed checkpoint of the access record after success. */
#define ACTING (CLI_OPENS_RW | CLI_CHECKS_USER | CLI_ANCHORS)

static int cmd_help(struct cli_context *ctx, int argc, char **argv);

static const struct cli_command commands[] = {
    {"init", cmd_init, CLI_NEEDS_VAULT,
     "--vault DIR init --admin NAME [--kdf interactive|moderate|sensitive] "
     "[--level-names N0,N1,N2,N3] [--uid N] [--recovery-shares N --recovery-threshold M "
     "--officers A,B,C [--recovery-out-dir DIR]]",
     "Create a vault: keys for levels 0-3 and the metadata key, the default roles (admin, "
     "owner, member, auditor, external) and the first administrator, who is asked for a "
     "passphrase twice (or it is read from --passphrase-file)",
     "  --admin NAME              the first administrator\n"
     "  --kdf PROFILE             Argon2id cost for passphrases: interactive (default),\n"
     "                            moderate or sensitive; kept for later users\n"
     "  --level-names N0,N1,N2,N3 names of levels 0-3 (default Öppen,Intern,Känslig,\n"
     "                            Mycket känslig)\n"
     "  --uid N                   the administrator's OS uid (default: by login name)\n"
     "  --recovery-shares N       also set up recovery by quorum: N share files ...\n"
     "  --recovery-threshold M    ... of which M restore administration\n"
     "  --officers A,B,C          the N officers who keep one share each\n"
     "  --recovery-out-dir DIR    where the share files go (default: .)\n"},
    {"user", cmd_user, ACTING,
     "--vault DIR --as ADMIN user add NAME [--uid N] [--new-passphrase-file FILE] | "
     "user remove NAME",
     "Add a user with their own passphrase (asked twice, or read from "
     "--new-passphrase-file); they hold no role until granted one. Remove a user: "
     "disabled at once, every role they held revoked and its keys rotated",
     "  --uid N                    the user's OS uid (default: by login name)\n"
     "  --new-passphrase-file FILE the new user's passphrase (first line)\n"},
    {"role", cmd_role, ACTING,
     "--vault DIR --as ADMIN role add ROLE --levels LEVELS [--read-only] [--declassify] "
     "[--expiring]",
     "Add a role holding the given levels (numbers 0-3 or level names, comma-separated, "
     "or 'none')",
     "  --levels LEVELS  e.g. 0,1,2 or Intern,Känslig or none\n"
     "  --read-only      members may read these levels, not write\n"
     "  --declassify     members may lower a file's level\n"
     "  --expiring       grants of this role must carry --expires\n"},
    {"grant", cmd_grant, ACTING, "--vault DIR --as ADMIN grant USER ROLE [--expires DATE]",
     "Grant a role to a user: its key is sealed to the user, no passphrase of theirs needed",
     "  --expires DATE  YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] (UTC unless an\n"
     "                  offset is given) or @SECONDS; required for expiring roles\n"},
    {"revoke", cmd_revoke, ACTING, "--vault DIR --as ADMIN revoke USER ROLE [--no-wait]",
     "Remove a user's grant of a role at once, then rotate: new role and level key "
     "versions for the remaining members, every file key of those levels re-wrapped "
     "(the last administrator's admin grant cannot be removed)",
     "  --no-wait  start the rotation and return; finish it later with 'rotate'\n"},
    {"rotate", cmd_rotate, ACTING,
     "--vault DIR --as ADMIN rotate [--resume] [--level LEVELS] [--reencrypt] [--batch N]",
     "Finish running rotations (re-wrap file keys, destroy old key versions); with "
     "--level, first make new versions of those level keys; with --reencrypt, "
     "re-encrypt content under fresh file keys (the vault must not be mounted)",
     "  --resume         only finish what is running (the default without --level)\n"
     "  --level LEVELS   new key versions for these levels (0-3 or names, comma-separated)\n"
     "  --reencrypt      re-encrypt file content of LEVELS (default all) under fresh file\n"
     "                   keys and new blobs; resumable; refused while mounted\n"
     "  --batch N        files per transaction (default 500)\n"},
    {"expire", cmd_expire, ACTING, "--vault DIR --as ADMIN expire",
     "Remove every grant whose expiry has passed and rotate those roles' keys as a "
     "revocation does (run hourly by vaultfs-expire@.timer)",
     NULL},
    {"restore-accept", cmd_restore_accept, CLI_OPENS_RW | CLI_CHECKS_USER,
     "--vault DIR --as ADMIN [--witness DIR] restore-accept --reason TEXT",
     "State that the vault was put back to an earlier state on purpose (a backup restored): "
     "recorded; the witness directory (if given) keeps what it held under history.N/ and "
     "takes the restored vault's checkpoints from now on, with a statement signed by the "
     "administration key; the restored vault's checkpoint goes to the system journal",
     "  --reason TEXT  why (kept in the access record)\n"},
    {"recovery", cmd_recovery, ACTING,
     "--vault DIR --as ADMIN recovery setup --shares N --threshold M --officers A,B,C "
     "[--out-dir DIR]",
     "Set up recovery by quorum: a recovery key holding the admin role key, split into N "
     "share files (one per officer), any M of which restore administration; replaces an "
     "earlier setup",
     "  --shares N        how many shares (one per officer, at most 32)\n"
     "  --threshold M     how many are needed (2..N)\n"
     "  --officers A,B,C  the officers' names, N of them\n"
     "  --out-dir DIR     where the share files go (default: .)\n"},
    {"recover", cmd_recover, CLI_OPENS_RW,
     "--vault DIR recover --share FILE --share FILE ... reset-passphrase USER "
     "[--new-passphrase-file FILE] | grant USER ROLE [--expires DATE]",
     "Restore administration with M officers' shares: give USER a new passphrase (their "
     "roles granted again), or grant USER a role",
     "  --share FILE               an officer's share file (repeat, at least M)\n"
     "  --new-passphrase-file FILE the new passphrase (first line)\n"
     "  --expires DATE             for grant: as for 'grant'\n"},
    {"passwd", cmd_passwd, ACTING, "--vault DIR --as USER passwd [--new-passphrase-file FILE]",
     "Change a user's passphrase: the current one from --passphrase-file or the terminal, "
     "the new one from --new-passphrase-file or the terminal (twice)",
     "  --new-passphrase-file FILE  the new passphrase (first line)\n"},
    {"list", cmd_list, CLI_OPENS_RO, "--vault DIR list users|roles|grants|levels|keys [--json]",
     "List users, roles, grants, levels, or keys (versions, fingerprints, holders, expiry, "
     "rotations, recovery): names and key fingerprints only, never keys; no passphrase "
     "needed",
     "  --json  JSON on stdout (times in ISO-8601 UTC)\n"},
    {"unlock", cmd_unlock, 0, "[--passphrase-file FILE] unlock MOUNTPOINT",
     "Unlock your own keys in a running multi-user mount (the daemon knows you by your uid)", NULL},
    {"lock", cmd_lock, 0, "lock MOUNTPOINT",
     "Wipe your keys from a running multi-user mount: your files are refused until you "
     "unlock again",
     NULL},
    {"status", cmd_status, 0, "status MOUNTPOINT",
     "Show whether your keys are unlocked in a running multi-user mount, and which levels", NULL},
    {"help", cmd_help, 0, "help [COMMAND]", "Show the help of a command, or the list of commands",
     NULL},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The vault at dir does not open (meta_db_open's r). */
static int open_failed(const char *dir, int r)
{
	switch (r) {
	case -ENOENT:
		cli_error("no vault at %s (create one with '" PROGRAM
			  " --vault %s init --admin NAME')",
			  dir, dir);
		return CLI_EXIT_NO_VAULT;
	case -EPROTO:
		cli_error("%s/" META_DB_NAME " is not a vault this version of " PROGRAM
			  " understands",
			  dir);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("the vault at %s is busy (another command holds it); try again", dir);
		return CLI_EXIT_FAILED;
	case -EACCES:
	case -EPERM:
		cli_error("no permission to open the vault at %s", dir);
		return CLI_EXIT_DENIED;
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
		cli_error("wrong passphrase for user '%s'", user);
		return CLI_EXIT_DENIED;
	case -ENOENT:
		cli_error("unknown user '%s' (" HINT_LIST_USERS ")", user);
		return CLI_EXIT_DENIED;
	case -EBUSY:
		cli_error("the vault is busy (another command holds it); try again");
		return CLI_EXIT_FAILED;
	case -EBADMSG:
		cli_error("the keys of '%s' are refused: their user row is not as the "
			  "administration key signed it (an incident is recorded)",
			  user);
		return CLI_EXIT_DENIED;
	default:
		cli_error("cannot unlock the keys of '%s': %s", user, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

static void main_usage(FILE *f)
{
	fprintf(f, "usage: " PROGRAM " [--vault DIR] [--as USER] [--passphrase-file FILE] "
		   "COMMAND [ARGS]\n");
}

static void main_help(void)
{
	main_usage(stdout);
	printf("\nManage the keys, users, roles and grants of a vaultfs vault.\n\n"
	       "Global options (before the command):\n"
	       "  --vault DIR             the vault (default: $VAULTFS_VAULT)\n"
	       "  --as USER               the vault user running the command (default: the\n"
	       "                          user mapped to your uid or login name)\n"
	       "  --passphrase-file FILE  that user's passphrase (first line; mode 0600)\n"
	       "  --help, --version\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  " PROGRAM " %s\n", commands[i].usage);
	printf("\nExit status: 0 ok, 1 failed, 2 usage, 3 denied or wrong passphrase, 4 no vault.\n"
	       "'" PROGRAM " help COMMAND' shows a command's options.\n");
}

static int cmd_help(struct cli_context *ctx, int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		main_help();
		return CLI_EXIT_OK;
	}
	c = cli_command_find(ctx->prog, argv[1]);
	if (!c || argc > 2)
		return cli_usage_error(ctx, "%s", c ? "too many arguments" : "unknown command");
	cli_command_help(ctx->prog, c);
	return CLI_EXIT_OK;
}

/* The setup's failures, worded for vaultfs-keytool. */
static int fail(const struct cli_context *ctx, enum cli_failure what, const char *arg, int r)
{
	switch (what) {
	case CLI_FAIL_UNKNOWN_OPTION:
		cli_error("unknown option '%s' (global options come before the command)", arg);
		break;
	case CLI_FAIL_NO_COMMAND:
		cli_error("no command given");
		break;
	case CLI_FAIL_UNKNOWN_COMMAND:
		cli_error("unknown command '%s' (see '" PROGRAM " --help')", arg);
		break;
	case CLI_FAIL_NO_VAULT_GIVEN:
		return cli_usage_error(ctx,
				       "no vault given (use --vault DIR or set VAULTFS_VAULT)");
	case CLI_FAIL_USER_UNMAPPED:
		return cli_usage_error(ctx, "who is running this? give --as USER");
	case CLI_FAIL_OPEN:
		return open_failed(arg, r);
	case CLI_FAIL_UNLOCK:
		return unlock_failed(arg, r);
	}
	main_usage(stderr);
	return CLI_EXIT_USAGE;
}

static const struct cli_program program = {
    .name = PROGRAM,
    .commands = commands,
    .n_commands = N_COMMANDS,
    .usage_prefix = "",
    .short_options = "hV",
    .usage = main_usage,
    .help = main_help,
    .fail = fail,
    .anchor = anchor_after_key_operation,
};

int main(int argc, char **argv)
{
	return cli_main(&program, argc, argv);
}
