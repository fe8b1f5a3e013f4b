/*
 * keytool/main.c — vaultfs-keytool: create a vault, manage its users, roles
 * and grants, change passphrases, list what is public.
 *
 *   vaultfs-keytool [--vault DIR] [--as USER] [--passphrase-file FILE] COMMAND [ARGS]
 *
 * Git-style: global options, then a command from the table below, each with
 * its own option parsing, one-line usage and --help. The work is done by
 * keytool/keystore.c; this file parses, asks for passphrases, checks the
 * arguments against the vault before asking (bad input changes nothing and
 * costs no passphrase), and turns errors into one line and an exit code:
 * 0 ok, 1 failed, 2 usage, 3 denied or wrong passphrase, 4 no vault.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "keytool/cli.h"
#include "keytool/mountctl.h"
#include "keytool/keystore.h"
#include "keytool/cmd/cmd.h"
#include "meta/log.h"

#define LEVEL_NAME_BUF 256

/* ---- usage ----------------------------------------------------------- */

static void print_usage(FILE *f, const struct command *c)
{
	fprintf(f, "usage: " PROGRAM " %s\n", c->usage);
}

void print_help(const struct command *c)
{
	print_usage(stdout, c);
	printf("\n%s.\n", c->summary);
	if (c->options)
		printf("\n%s", c->options);
}

/* A usage error: one line saying what is wrong, then the usage line. */
int usage_error(const struct command *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_error("%s", msg);
	print_usage(stderr, c);
	return CLI_EXIT_USAGE;
}

/* getopt_long returned '?' or ':' (opterr is off): say which option. */
int bad_option(const struct command *c, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return usage_error(c, "option '%s' needs a value", arg);
	if (optopt)
		return usage_error(c, "unknown option '-%c'", optopt);
	return usage_error(c, "unknown option '%s'", arg);
}

/* Reset getopt for a command's argv (argv[0] is the command name). */
void getopt_reset(void)
{
	optind = 0; /* GNU: full re-initialisation */
	opterr = 0;
}

/* ---- shared steps ---------------------------------------------------- */

int need_vault(const struct globals *g, const struct command *c)
{
	if (g->vault)
		return 0;
	return usage_error(c, "no vault given (use --vault DIR or set VAULTFS_VAULT)");
}

/* Open the vault; on failure print why and return the exit code. */
int open_vault(const struct globals *g, enum meta_open_mode mode, struct meta_db **ret_db)
{
	int r = meta_db_open(g->vault, mode, ret_db);

	switch (r) {
	case 0:
		return CLI_EXIT_OK;
	case -ENOENT:
		cli_error("no vault at %s (create one with '" PROGRAM
			  " --vault %s init --admin NAME')",
			  g->vault, g->vault);
		return CLI_EXIT_NO_VAULT;
	case -EPROTO:
		cli_error("%s/" META_DB_NAME " is not a vault this version of " PROGRAM
			  " understands",
			  g->vault);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("the vault at %s is busy (another command holds it); try again",
			  g->vault);
		return CLI_EXIT_FAILED;
	case -EACCES:
	case -EPERM:
		cli_error("no permission to open the vault at %s", g->vault);
		return CLI_EXIT_DENIED;
	default:
		cli_error("cannot open the vault at %s: %s", g->vault, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

/* The acting user: --as, else the vault user mapped to our uid, else the
 * vault user named like our login. */
static int acting_user(const struct globals *g, const struct command *c, struct meta_db *db,
		       struct meta_user *ret_user)
{
	struct passwd *pw;
	int r;

	if (g->as) {
		r = meta_user_get_by_name(db, g->as, ret_user);
		if (r == -ENOENT) {
			cli_error("unknown user '%s' (" HINT_LIST_USERS ")", g->as);
			return CLI_EXIT_DENIED;
		}
	} else {
		r = meta_user_get_by_uid(db, (int64_t)getuid(), ret_user);
		if (r == -ENOENT) {
			pw = getpwuid(getuid());
			r = pw ? meta_user_get_by_name(db, pw->pw_name, ret_user) : -ENOENT;
			if (r == 0 && ret_user->uid >= 0 && ret_user->uid != (int64_t)getuid())
				r = -ENOENT; /* that name is mapped to another uid */
		}
		if (r == -ENOENT)
			return usage_error(c, "who is running this? give --as USER");
	}
	if (r < 0) {
		cli_error("cannot read the users of the vault: %s", strerror(-r));
		return CLI_EXIT_FAILED;
	}
	if (ret_user->disabled) {
		cli_error("user '%s' is disabled", ret_user->name);
		return CLI_EXIT_DENIED;
	}
	return CLI_EXIT_OK;
}

/* Ask for user's passphrase and unlock their keys. */
int unlock_user(const struct globals *g, struct meta_db *db, const char *user,
		struct kt_keyring **ret_keyring)
{
	char prompt[128];
	char *pass;
	int r;

	snprintf(prompt, sizeof(prompt), "Passphrase for '%s': ", user);
	pass = cli_passphrase_read(g->passphrase_file, prompt, false);
	if (!pass)
		return CLI_EXIT_FAILED; /* cli_passphrase_read said why */
	r = kt_unlock(db, user, pass, strlen(pass), ret_keyring);
	pass = cli_passphrase_free(pass);
	switch (r) {
	case 0:
		return CLI_EXIT_OK;
	case -EACCES:
		cli_error("wrong passphrase for user '%s'", user);
		return CLI_EXIT_DENIED;
	case -ENOENT:
		cli_error("unknown user '%s' (" HINT_LIST_USERS ")", user);
		return CLI_EXIT_DENIED;
	case -EBUSY:
		cli_error("the vault is busy (another command holds it); try again");
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot unlock the keys of '%s': %s", user, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

/* Open the vault read-write and unlock the acting user. */
int admin_session(const struct globals *g, const struct command *c, struct meta_db **ret_db,
		  struct meta_user *ret_user)
{
	int x = need_vault(g, c);

	if (x == CLI_EXIT_OK)
		x = open_vault(g, META_OPEN_RW, ret_db);
	if (x == CLI_EXIT_OK) {
		x = acting_user(g, c, *ret_db, ret_user);
		if (x != CLI_EXIT_OK)
			*ret_db = meta_db_close(*ret_db);
	}
	return x;
}

/* The error of an administration, as one line and an exit code. */
int admin_error(const char *admin, const char *what, int r)
{
	switch (r) {
	case 0:
		return CLI_EXIT_OK;
	case -EACCES:
		cli_error("'%s' is not an administrator (needs the admin role)", admin);
		return CLI_EXIT_DENIED;
	case -ENOKEY:
		cli_error(
		    "cannot %s: a key it needs is not reachable from '%s' (was the admin role "
		    "key rotated? run the command again)",
		    what, admin);
		return CLI_EXIT_FAILED;
	case -EBADMSG:
		cli_error(
		    "cannot %s: a sealed key in the vault does not open (the vault database may "
		    "have been tampered with; the incident is recorded)",
		    what);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("cannot %s: the vault is busy (another command holds it); try again",
			  what);
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot %s: %s", what, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

bool valid_name_or_complain(const struct command *c, const char *kind, const char *name,
			    int *ret_exit)
{
	if (kt_name_valid(name))
		return true;
	*ret_exit = usage_error(c,
				"invalid %s name '%s' (1-64 of a-z 0-9 _ . -, starting with a "
				"letter or _)",
				kind, name);
	return false;
}

/* Read a new passphrase for user (from file or twice from the terminal). */
char *new_passphrase(const char *file, const char *user)
{
	char prompt[128];

	snprintf(prompt, sizeof(prompt), "New passphrase for '%s': ", user);
	return cli_passphrase_read(file, prompt, true);
}

static bool parse_uid(const char *text, int64_t *ret_uid)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > 4294967294LL)
		return false;
	*ret_uid = v;
	return true;
}

/* ---- init ------------------------------------------------------------ */

static int cmd_init(const struct globals *g, int argc, char **argv)
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
	const struct command *c = find_command("init");
	struct kt_init_options o = {.kdf = KT_KDF_INTERACTIVE, .admin_uid = -1};
	struct recovery_args rec = {0};
	char *names = NULL, *pass = NULL, path[4096];
	const char *arg_levels = NULL;
	struct stat st;
	int opt, x, r;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			o.admin = optarg;
			break;
		case 'k':
			if (kt_kdf_profile_parse(optarg, &o.kdf) < 0 || o.kdf == KT_KDF_TEST)
				return usage_error(c,
						   "unknown KDF profile '%s' (use interactive, "
						   "moderate or sensitive)",
						   optarg);
			break;
		case 'l':
			arg_levels = optarg;
			break;
		case 'u':
			if (!parse_uid(optarg, &o.admin_uid))
				return usage_error(c, "invalid uid '%s'", optarg);
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
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (!o.admin)
		return usage_error(c, "init needs --admin NAME (the first administrator)");
	if ((rec.shares || rec.threshold || rec.officers || rec.out_dir) &&
	    !recovery_args_valid(c, &rec, &x))
		return x;
	x = need_vault(g, c);
	if (x != CLI_EXIT_OK)
		return x;
	if (!valid_name_or_complain(c, "user", o.admin, &x))
		return x;
	snprintf(path, sizeof(path), "%s/" META_DB_NAME, g->vault);
	if (stat(path, &st) == 0) {
		cli_error("a vault already exists at %s", g->vault);
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
			return usage_error(c, "--level-names needs four non-empty names for levels "
					      "0-3, separated by commas");
		}
	}

	pass = new_passphrase(g->passphrase_file, o.admin);
	if (!pass) {
		free(names);
		return CLI_EXIT_FAILED;
	}
	o.passphrase = pass;
	o.passphrase_len = strlen(pass);
	r = kt_vault_init(g->vault, &o);
	if (r == 0) {
		printf("created a vault at %s with administrator '%s'\n", g->vault, o.admin);
		if (rec.shares)
			x = init_recovery(g, o.admin, pass, &rec);
	}
	pass = cli_passphrase_free(pass);
	free(names);
	switch (r) {
	case 0:
		return x;
	case -EEXIST:
		cli_error("a vault already exists at %s", g->vault);
		return CLI_EXIT_FAILED;
	case -EINVAL:
		return usage_error(c,
				   "invalid level names '%s' (four distinct names of printable "
				   "UTF-8, at most 64 bytes, no commas, not numbers)",
				   arg_levels ? arg_levels : "");
	default:
		cli_error("cannot create a vault at %s: %s", g->vault, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

/* ---- user add (user remove: cmd/lifecycle.c) ---------------------------- */

static int cmd_user(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"uid", required_argument, NULL, 'u'},
	    {"new-passphrase-file", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const struct command *c = find_command("user");
	const char *new_file = NULL, *name;
	struct kt_keyring *kr = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin, u;
	int64_t uid = -1;
	char *pass = NULL;
	int opt, x, r;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			if (!parse_uid(optarg, &uid))
				return usage_error(c, "invalid uid '%s'", optarg);
			break;
		case 'n':
			new_file = optarg;
			break;
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (optind >= argc)
		return usage_error(c, "missing 'add' or 'remove'");
	if (strcmp(argv[optind], "remove") == 0)
		return cmd_user_remove(g, c, argc - optind, argv + optind);
	if (strcmp(argv[optind], "add") != 0)
		return usage_error(c, "unknown user command '%s' ('user add' or 'user remove')",
				   argv[optind]);
	if (argc - optind != 2)
		return usage_error(c,
				   argc - optind < 2 ? "missing user name" : "too many arguments");
	name = argv[optind + 1];
	if (!valid_name_or_complain(c, "user", name, &x))
		return x;

	x = admin_session(g, c, &db, &admin);
	if (x != CLI_EXIT_OK)
		return x;
	if (meta_user_get_by_name(db, name, &u) == 0) {
		cli_error("user '%s' already exists", name);
		x = CLI_EXIT_FAILED;
		goto out;
	}
	if (uid >= 0 && meta_user_get_by_uid(db, uid, &u) == 0) {
		cli_error("uid %lld is already mapped to user '%s'", (long long)uid, u.name);
		x = CLI_EXIT_FAILED;
		goto out;
	}
	x = unlock_user(g, db, admin.name, &kr);
	if (x != CLI_EXIT_OK)
		goto out;
	if (!(kt_keyring_flags(kr) & META_ROLE_ADMIN)) {
		/* let the library record the denial, without asking for a passphrase */
		x = admin_error(admin.name, "add a user", kt_user_add(db, kr, name, uid, "", 0));
		goto out;
	}
	pass = new_passphrase(new_file, name);
	if (!pass) {
		x = CLI_EXIT_FAILED;
		goto out;
	}
	r = kt_user_add(db, kr, name, uid, pass, strlen(pass));
	pass = cli_passphrase_free(pass);
	if (r == -EEXIST) {
		cli_error("user '%s' (or uid %lld) already exists", name, (long long)uid);
		x = CLI_EXIT_FAILED;
		goto out;
	}
	x = admin_error(admin.name, "add the user", r);
	if (x == CLI_EXIT_OK && meta_user_get_by_name(db, name, &u) == 0) {
		uint8_t fp[KT_FINGERPRINT_BYTES];
		char hex[2 * KT_FINGERPRINT_BYTES + 1];

		kt_fingerprint(u.public_key, fp);
		sodium_bin2hex(hex, sizeof(hex), fp, sizeof(fp));
		printf("added user '%s' (key fingerprint %s); grant roles with '" PROGRAM
		       " grant %s ROLE'\n",
		       name, hex, name);
	}
out:
	kt_keyring_free(kr);
	meta_db_close(db);
	return x;
}

/* ---- role add -------------------------------------------------------- */

/* "0,1,Känslig" / "none" → bit mask; prints the error and returns -1 if bad. */
static int parse_levels(const struct command *c, struct meta_db *db, const char *text,
			uint32_t *ret_levels, int *ret_exit)
{
	char *copy, *p, *tok;
	uint32_t levels = 0;
	int r = 0;

	if (strcmp(text, "none") == 0) {
		*ret_levels = 0;
		return 0;
	}
	copy = strdup(text);
	if (!copy) {
		cli_error("out of memory");
		*ret_exit = CLI_EXIT_FAILED;
		return -1;
	}
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		uint8_t level;

		if (kt_level_parse(db, tok, &level) < 0) {
			*ret_exit = usage_error(c,
						"unknown level '%s' (use 0-3, a level name, "
						"or 'none'; see '" PROGRAM " list levels')",
						tok);
			r = -1;
			break;
		}
		if (level == META_LEVEL_REFUSED) {
			*ret_exit = usage_error(c, "level 4 (säkerhetsskydd) must never be stored "
						   "in a vault");
			r = -1;
			break;
		}
		levels |= 1u << level;
	}
	free(copy);
	if (r == 0)
		*ret_levels = levels;
	return r;
}

static int cmd_role(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"levels", required_argument, NULL, 'l'}, {"read-only", no_argument, NULL, 'r'},
	    {"declassify", no_argument, NULL, 'd'},   {"expiring", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	const struct command *c = find_command("role");
	const char *arg_levels = NULL, *name;
	struct kt_keyring *kr = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin;
	struct meta_role role;
	uint32_t flags = 0, levels = 0;
	int opt, x;

	getopt_reset();
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
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (optind >= argc)
		return usage_error(c, "missing 'add'");
	if (strcmp(argv[optind], "add") != 0)
		return usage_error(c, "unknown role command '%s' (only 'role add')", argv[optind]);
	if (argc - optind != 2)
		return usage_error(c,
				   argc - optind < 2 ? "missing role name" : "too many arguments");
	name = argv[optind + 1];
	if (!valid_name_or_complain(c, "role", name, &x))
		return x;
	if (!arg_levels)
		return usage_error(c,
				   "role add needs --levels (e.g. --levels 0,1 or --levels none)");

	x = admin_session(g, c, &db, &admin);
	if (x != CLI_EXIT_OK)
		return x;
	if (parse_levels(c, db, arg_levels, &levels, &x) < 0)
		goto out;
	if (meta_role_get_by_name(db, name, &role) == 0) {
		cli_error("role '%s' already exists (" HINT_LIST_ROLES ")", name);
		x = CLI_EXIT_FAILED;
		goto out;
	}
	x = unlock_user(g, db, admin.name, &kr);
	if (x != CLI_EXIT_OK)
		goto out;
	x = admin_error(admin.name, "add the role", kt_role_add(db, kr, name, levels, flags));
	if (x == CLI_EXIT_OK)
		printf("added role '%s'; grant it with '" PROGRAM " grant USER %s'\n", name, name);
out:
	kt_keyring_free(kr);
	meta_db_close(db);
	return x;
}

/* ---- grant (revoke: cmd/lifecycle.c) ------------------------------------ */

/* Both names exist; else print which one does not. */
int check_user_role(struct meta_db *db, const char *user, const char *role_name,
		    struct meta_user *ret_user, struct meta_role *ret_role)
{
	int r = meta_user_get_by_name(db, user, ret_user);

	if (r == -ENOENT) {
		cli_error("unknown user '%s' (" HINT_LIST_USERS ")", user);
		return CLI_EXIT_FAILED;
	}
	if (r == 0)
		r = meta_role_get_by_name(db, role_name, ret_role);
	if (r == -ENOENT) {
		cli_error("unknown role '%s' (" HINT_LIST_ROLES ")", role_name);
		return CLI_EXIT_FAILED;
	}
	if (r < 0) {
		cli_error("cannot read the vault: %s", strerror(-r));
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

static int cmd_grant(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"expires", required_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const struct command *c = find_command("grant");
	struct kt_keyring *kr = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin, u;
	struct meta_role role;
	int64_t expires = 0;
	char when[40];
	int opt, x;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (cli_time_parse(optarg, &expires) < 0)
				return usage_error(c,
						   "invalid date '%s' (use YYYY-MM-DD, "
						   "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] in UTC unless "
						   "an offset is given, or @SECONDS)",
						   optarg);
			if (expires <= meta_now_ns())
				return usage_error(c, "--expires %s is in the past", optarg);
			break;
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (argc - optind != 2)
		return usage_error(c, argc - optind < 2 ? "grant needs a user and a role"
							: "too many arguments");
	x = admin_session(g, c, &db, &admin);
	if (x != CLI_EXIT_OK)
		return x;
	x = check_user_role(db, argv[optind], argv[optind + 1], &u, &role);
	if (x != CLI_EXIT_OK)
		goto out;
	if (u.disabled) {
		cli_error("user '%s' was removed; add a new user instead", u.name);
		x = CLI_EXIT_FAILED;
		goto out;
	}
	if ((role.flags & META_ROLE_EXPIRING) && !expires) {
		x = usage_error(c, "role '%s' needs --expires DATE (its grants must expire)",
				role.name);
		goto out;
	}
	x = unlock_user(g, db, admin.name, &kr);
	if (x != CLI_EXIT_OK)
		goto out;
	x = admin_error(admin.name, "grant the role", kt_grant(db, kr, u.name, role.name, expires));
	if (x == CLI_EXIT_OK) {
		if (expires)
			printf("granted role '%s' to '%s' until %s\n", role.name, u.name,
			       cli_time_iso(expires, when, sizeof(when)));
		else
			printf("granted role '%s' to '%s'\n", role.name, u.name);
	}
out:
	kt_keyring_free(kr);
	meta_db_close(db);
	return x;
}

/* ---- passwd ---------------------------------------------------------- */

static int cmd_passwd(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"new-passphrase-file", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const struct command *c = find_command("passwd");
	const char *new_file = NULL;
	char *old = NULL, *new = NULL, prompt[128];
	struct meta_db *db = NULL;
	struct meta_user u;
	int opt, x, r;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			new_file = optarg;
			break;
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	x = admin_session(g, c, &db, &u);
	if (x != CLI_EXIT_OK)
		return x;
	snprintf(prompt, sizeof(prompt), "Current passphrase for '%s': ", u.name);
	old = cli_passphrase_read(g->passphrase_file, prompt, false);
	if (old)
		new = new_passphrase(new_file, u.name);
	if (!old || !new) {
		x = CLI_EXIT_FAILED;
		goto out;
	}
	r = kt_passwd(db, u.name, old, strlen(old), new, strlen(new));
	old = cli_passphrase_free(old);
	new = cli_passphrase_free(new);
	if (r == -EACCES) {
		cli_error("wrong passphrase for user '%s'; the passphrase is unchanged", u.name);
		x = CLI_EXIT_DENIED;
	} else if (r == -EBUSY) {
		cli_error(
		    "the passphrase of '%s' changed meanwhile, or the vault is busy; try again",
		    u.name);
		x = CLI_EXIT_FAILED;
	} else if (r < 0) {
		cli_error("cannot change the passphrase of '%s': %s", u.name, strerror(-r));
		x = CLI_EXIT_FAILED;
	} else {
		printf("changed the passphrase of '%s'\n", u.name);
	}
out:
	cli_passphrase_free(old);
	cli_passphrase_free(new);
	meta_db_close(db);
	return x;
}

/* ---- list ------------------------------------------------------------ */

static void fingerprint_hex(const uint8_t key[KT_KEY_BYTES], char hex[2 * KT_FINGERPRINT_BYTES + 1])
{
	uint8_t fp[KT_FINGERPRINT_BYTES];

	kt_fingerprint(key, fp);
	sodium_bin2hex(hex, 2 * KT_FINGERPRINT_BYTES + 1, fp, sizeof(fp));
}

/* Print s left-aligned in width columns (counting UTF-8 characters, not
 * bytes), then a space. */
void print_cell(const char *s, int width)
{
	int chars = 0;

	for (const char *p = s; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			chars++;
	fputs(s, stdout);
	for (; chars < width; chars++)
		putchar(' ');
	putchar(' ');
}

json_t *json_time(int64_t ns)
{
	char buf[40];

	return json_string(cli_time_iso(ns, buf, sizeof(buf)));
}

/* Print root (and drop it); 0 or -EIO. */
int json_print(json_t *root)
{
	int r = root ? json_dumpf(root, stdout, JSON_INDENT(2)) : -1;

	json_decref(root);
	if (r == 0)
		putchar('\n');
	return r == 0 ? 0 : -EIO;
}

static int list_users(struct meta_db *db, bool json)
{
	struct meta_user *users = NULL;
	json_t *arr = json ? json_array() : NULL;
	char fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	size_t n = 0;
	int r;

	r = meta_user_list(db, &users, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-24s %-10s %-16s %-24s %s\n", "USER", "UID", "FINGERPRINT", "CREATED",
		       "STATE");
	for (size_t i = 0; i < n; i++) {
		const struct meta_user *u = &users[i];

		fingerprint_hex(u->public_key, fp);
		if (json) {
			json_array_append_new(
			    arr, json_pack("{s:s, s:o, s:s, s:o, s:b}", "name", u->name, "uid",
					   u->uid >= 0 ? json_integer(u->uid) : json_null(),
					   "fingerprint", fp, "created", json_time(u->created_ns),
					   "disabled", u->disabled));
		} else {
			char uid[24];

			snprintf(uid, sizeof(uid), "%lld", (long long)u->uid);
			printf("%-24s %-10s %-16s %-24s %s\n", u->name, u->uid >= 0 ? uid : "-", fp,
			       cli_time_iso(u->created_ns, when, sizeof(when)),
			       u->disabled ? "disabled" : "enabled");
		}
	}
	if (json) {
		r = json_print(json_pack("{s:o}", "users", arr));
		arr = NULL;
	}
out:
	json_decref(arr);
	free(users);
	return r;
}

static const struct {
	uint32_t flag;
	const char *name;
} role_flag_names[] = {
    {META_ROLE_READ_ONLY, "read-only"},	  {META_ROLE_ADMIN, "admin"},
    {META_ROLE_DECLASSIFY, "declassify"}, {META_ROLE_AUDITOR, "auditor"},
    {META_ROLE_EXPIRING, "expiring"},
};
#define N_ROLE_FLAGS (sizeof(role_flag_names) / sizeof(role_flag_names[0]))

static int list_roles(struct meta_db *db, bool json)
{
	struct meta_role *roles = NULL;
	json_t *arr = json ? json_array() : NULL;
	char fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	size_t n = 0;
	int r;

	r = meta_role_list(db, &roles, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-20s %-9s %-26s %-7s %-16s %s\n", "ROLE", "LEVELS", "FLAGS", "VERSION",
		       "FINGERPRINT", "CREATED");
	for (size_t i = 0; i < n; i++) {
		const struct meta_role *ro = &roles[i];
		struct meta_role_key rk;
		char levels[16] = "", flags[96] = "";
		json_t *jl = json ? json_array() : NULL, *jf = json ? json_array() : NULL;
		size_t o = 0;

		if (meta_role_key_get(db, ro->id, ro->key_version, &rk) == 0)
			fingerprint_hex(rk.public_key, fp);
		else
			snprintf(fp, sizeof(fp), "-");
		for (unsigned int l = 0; l < META_LEVELS; l++) {
			if (!(ro->levels & (1u << l)))
				continue;
			o += (size_t)snprintf(levels + o, sizeof(levels) - o, "%s%u", o ? "," : "",
					      l);
			if (jl)
				json_array_append_new(jl, json_integer(l));
		}
		o = 0;
		for (size_t f = 0; f < N_ROLE_FLAGS; f++) {
			if (!(ro->flags & role_flag_names[f].flag))
				continue;
			o += (size_t)snprintf(flags + o, sizeof(flags) - o, "%s%s", o ? "," : "",
					      role_flag_names[f].name);
			if (jf)
				json_array_append_new(jf, json_string(role_flag_names[f].name));
		}
		if (json)
			json_array_append_new(
			    arr,
			    json_pack("{s:s, s:o, s:o, s:I, s:s, s:o}", "name", ro->name, "levels",
				      jl, "flags", jf, "key_version", (json_int_t)ro->key_version,
				      "fingerprint", fp, "created", json_time(ro->created_ns)));
		else
			printf("%-20s %-9s %-26s %-7u %-16s %s\n", ro->name,
			       levels[0] ? levels : "none", flags[0] ? flags : "-", ro->key_version,
			       fp, cli_time_iso(ro->created_ns, when, sizeof(when)));
	}
	if (json) {
		r = json_print(json_pack("{s:o}", "roles", arr));
		arr = NULL;
	}
out:
	json_decref(arr);
	free(roles);
	return r;
}

static int list_grants(struct meta_db *db, bool json)
{
	struct meta_grant *grants = NULL;
	json_t *arr = json ? json_array() : NULL;
	char granted[40], expires[40];
	int64_t now = meta_now_ns();
	size_t n = 0;
	int r;

	r = meta_grant_list_all(db, &grants, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-20s %-20s %-7s %-16s %-24s %s\n", "USER", "ROLE", "VERSION", "GRANTED BY",
		       "GRANTED", "EXPIRES");
	for (size_t i = 0; i < n; i++) {
		const struct meta_grant *gr = &grants[i];
		bool expired = gr->expires_ns != 0 && gr->expires_ns <= now;
		struct meta_user by;
		const char *by_name = NULL;

		if (gr->granted_by != 0 && meta_user_get_by_id(db, gr->granted_by, &by) == 0)
			by_name = by.name;
		cli_time_iso(gr->granted_at_ns, granted, sizeof(granted));
		if (gr->expires_ns)
			cli_time_iso(gr->expires_ns, expires, sizeof(expires));
		if (json)
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:I, s:o, s:s, s:o, s:b}", "user",
					   gr->user_name, "role", gr->role_name, "role_version",
					   (json_int_t)gr->role_version, "granted_by",
					   by_name ? json_string(by_name) : json_null(),
					   "granted_at", granted, "expires",
					   gr->expires_ns ? json_string(expires) : json_null(),
					   "expired", expired));
		else
			printf("%-20s %-20s %-7u %-16s %-24s %s%s\n", gr->user_name, gr->role_name,
			       gr->role_version, by_name ? by_name : "(init)", granted,
			       gr->expires_ns ? expires : "never", expired ? " (expired)" : "");
	}
	if (json) {
		r = json_print(json_pack("{s:o}", "grants", arr));
		arr = NULL;
	}
out:
	json_decref(arr);
	free(grants);
	return r;
}

static int list_levels(struct meta_db *db, bool json)
{
	struct meta_key_version *v = NULL;
	json_t *levels = json ? json_array() : NULL, *metas = json ? json_array() : NULL;
	char name[LEVEL_NAME_BUF], fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	size_t n = 0;
	int r;

	r = meta_key_version_list(db, &v, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-5s %-20s %-7s %-16s %s\n", "LEVEL", "NAME", "VERSION", "FINGERPRINT",
		       "CREATED");
	for (int l = 0; l <= META_LEVELS; l++) {
		bool meta = l == META_LEVELS;
		json_t *versions = json ? json_array() : NULL;
		bool any = false;

		if (!meta) {
			r = kt_level_name(db, (uint8_t)l, name, sizeof(name));
			if (r < 0)
				goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (v[i].kind != (meta ? META_KEY_METADATA : META_KEY_LEVEL) ||
			    (!meta && v[i].id != (uint32_t)l))
				continue;
			sodium_bin2hex(fp, sizeof(fp), v[i].fingerprint, KT_FINGERPRINT_BYTES);
			cli_time_iso(v[i].created_ns, when, sizeof(when));
			if (json) {
				json_array_append_new(
				    versions, json_pack("{s:I, s:s, s:s}", "version",
							(json_int_t)v[i].version, "fingerprint", fp,
							"created", when));
			} else if (meta) {
				printf("%-5s %-20s %-7u %-16s %s\n", "-", "(metadata key)",
				       v[i].version, fp, when);
			} else {
				printf("%-5d ", l);
				print_cell(any ? "" : name, 20);
				printf("%-7u %-16s %s\n", v[i].version, fp, when);
			}
			any = true;
		}
		if (json && meta) {
			json_array_extend(metas, versions);
			json_decref(versions);
		} else if (json) {
			json_array_append_new(levels,
					      json_pack("{s:i, s:s, s:o}", "level", l, "name", name,
							"versions", versions));
		} else if (!any && !meta) {
			printf("%-5d ", l);
			print_cell(name, 20);
			printf("%-7s %-16s %s\n", "-", "-", "-");
		}
	}
	if (json) {
		r = json_print(json_pack("{s:o, s:o, s:{s:i, s:b}}", "levels", levels,
					 "metadata_keys", metas, "refused", "level",
					 META_LEVEL_REFUSED, "stored", 0));
		levels = metas = NULL;
	} else {
		printf("%-5d ", META_LEVEL_REFUSED);
		print_cell("Säkerhetsskydd", 20);
		printf("(never stored: refused)\n");
	}
out:
	json_decref(levels);
	json_decref(metas);
	free(v);
	return r;
}

static int cmd_list(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	static const struct {
		const char *what;
		int (*fn)(struct meta_db *db, bool json);
	} lists[] = {
	    {"users", list_users},   {"roles", list_roles}, {"grants", list_grants},
	    {"levels", list_levels}, {"keys", list_keys},
	};
	const struct command *c = find_command("list");
	struct meta_db *db = NULL;
	bool json = false;
	int opt, x, r = -EINVAL;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (argc - optind != 1)
		return usage_error(c, argc - optind < 1 ? "list what? (users, roles, grants, "
							  "levels or keys)"
							: "too many arguments");
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (strcmp(argv[optind], lists[i].what) != 0)
			continue;
		x = need_vault(g, c);
		if (x == CLI_EXIT_OK)
			x = open_vault(g, META_OPEN_RO, &db);
		if (x != CLI_EXIT_OK)
			return x;
		r = lists[i].fn(db, json);
		meta_db_close(db);
		if (r < 0) {
			cli_error("cannot list %s: %s", lists[i].what, strerror(-r));
			return CLI_EXIT_FAILED;
		}
		return CLI_EXIT_OK;
	}
	return usage_error(c, "cannot list '%s' (users, roles, grants, levels or keys)",
			   argv[optind]);
}

/* ---- help and the table --------------------------------------------- */

/* ---- a running multi-user mount: unlock, lock, status ------------------- */

/* unlock/lock/status MOUNTPOINT: talk to the daemon; no --vault needed. */
static int mount_command(const struct globals *g, int argc, char **argv, const char *name)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const struct command *c = find_command(name);
	int opt;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (argc - optind != 1)
		return usage_error(c, argc - optind < 1 ? "which mount? give its MOUNTPOINT"
							: "too many arguments");
	if (strcmp(name, "unlock") == 0)
		return mountctl_unlock(argv[optind], g->passphrase_file);
	if (strcmp(name, "lock") == 0)
		return mountctl_lock(argv[optind]);
	return mountctl_status(argv[optind]);
}

static int cmd_unlock(const struct globals *g, int argc, char **argv)
{
	return mount_command(g, argc, argv, "unlock");
}

static int cmd_lock(const struct globals *g, int argc, char **argv)
{
	return mount_command(g, argc, argv, "lock");
}

static int cmd_status(const struct globals *g, int argc, char **argv)
{
	return mount_command(g, argc, argv, "status");
}

static int cmd_help(const struct globals *g, int argc, char **argv);

static const struct command commands[] = {
    {"init", cmd_init,
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
    {"user", cmd_user,
     "--vault DIR --as ADMIN user add NAME [--uid N] [--new-passphrase-file FILE] | "
     "user remove NAME",
     "Add a user with their own passphrase (asked twice, or read from "
     "--new-passphrase-file); they hold no role until granted one. Remove a user: "
     "disabled at once, every role they held revoked and its keys rotated",
     "  --uid N                    the user's OS uid (default: by login name)\n"
     "  --new-passphrase-file FILE the new user's passphrase (first line)\n"},
    {"role", cmd_role,
     "--vault DIR --as ADMIN role add ROLE --levels LEVELS [--read-only] [--declassify] "
     "[--expiring]",
     "Add a role holding the given levels (numbers 0-3 or level names, comma-separated, "
     "or 'none')",
     "  --levels LEVELS  e.g. 0,1,2 or Intern,Känslig or none\n"
     "  --read-only      members may read these levels, not write\n"
     "  --declassify     members may lower a file's level\n"
     "  --expiring       grants of this role must carry --expires\n"},
    {"grant", cmd_grant, "--vault DIR --as ADMIN grant USER ROLE [--expires DATE]",
     "Grant a role to a user: its key is sealed to the user, no passphrase of theirs needed",
     "  --expires DATE  YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] (UTC unless an\n"
     "                  offset is given) or @SECONDS; required for expiring roles\n"},
    {"revoke", cmd_revoke, "--vault DIR --as ADMIN revoke USER ROLE [--no-wait]",
     "Remove a user's grant of a role at once, then rotate: new role and level key "
     "versions for the remaining members, every file key of those levels re-wrapped "
     "(the last administrator's admin grant cannot be removed)",
     "  --no-wait  start the rotation and return; finish it later with 'rotate'\n"},
    {"rotate", cmd_rotate,
     "--vault DIR --as ADMIN rotate [--resume] [--level LEVELS] [--reencrypt] [--batch N]",
     "Finish running rotations (re-wrap file keys, destroy old key versions); with "
     "--level, first make new versions of those level keys; with --reencrypt, "
     "re-encrypt content under fresh file keys (the vault must not be mounted)",
     "  --resume         only finish what is running (the default without --level)\n"
     "  --level LEVELS   new key versions for these levels (0-3 or names, comma-separated)\n"
     "  --reencrypt      re-encrypt file content of LEVELS (default all) under fresh file\n"
     "                   keys and new blobs; resumable; refused while mounted\n"
     "  --batch N        files per transaction (default 500)\n"},
    {"expire", cmd_expire, "--vault DIR --as ADMIN expire",
     "Remove every grant whose expiry has passed and rotate those roles' keys as a "
     "revocation does (run hourly by vaultfs-expire@.timer)",
     NULL},
    {"recovery", cmd_recovery,
     "--vault DIR --as ADMIN recovery setup --shares N --threshold M --officers A,B,C "
     "[--out-dir DIR]",
     "Set up recovery by quorum: a recovery key holding the admin role key, split into N "
     "share files (one per officer), any M of which restore administration; replaces an "
     "earlier setup",
     "  --shares N        how many shares (one per officer, at most 32)\n"
     "  --threshold M     how many are needed (2..N)\n"
     "  --officers A,B,C  the officers' names, N of them\n"
     "  --out-dir DIR     where the share files go (default: .)\n"},
    {"recover", cmd_recover,
     "--vault DIR recover --share FILE --share FILE ... reset-passphrase USER "
     "[--new-passphrase-file FILE] | grant USER ROLE [--expires DATE]",
     "Restore administration with M officers' shares: give USER a new passphrase (their "
     "roles granted again), or grant USER a role",
     "  --share FILE               an officer's share file (repeat, at least M)\n"
     "  --new-passphrase-file FILE the new passphrase (first line)\n"
     "  --expires DATE             for grant: as for 'grant'\n"},
    {"passwd", cmd_passwd, "--vault DIR --as USER passwd [--new-passphrase-file FILE]",
     "Change a user's passphrase: the current one from --passphrase-file or the terminal, "
     "the new one from --new-passphrase-file or the terminal (twice)",
     "  --new-passphrase-file FILE  the new passphrase (first line)\n"},
    {"list", cmd_list, "--vault DIR list users|roles|grants|levels|keys [--json]",
     "List users, roles, grants, levels, or keys (versions, fingerprints, holders, expiry, "
     "rotations, recovery): names and key fingerprints only, never keys; no passphrase "
     "needed",
     "  --json  JSON on stdout (times in ISO-8601 UTC)\n"},
    {"unlock", cmd_unlock, "[--passphrase-file FILE] unlock MOUNTPOINT",
     "Unlock your own keys in a running multi-user mount (the daemon knows you by your uid)", NULL},
    {"lock", cmd_lock, "lock MOUNTPOINT",
     "Wipe your keys from a running multi-user mount: your files are refused until you "
     "unlock again",
     NULL},
    {"status", cmd_status, "status MOUNTPOINT",
     "Show whether your keys are unlocked in a running multi-user mount, and which levels", NULL},
    {"help", cmd_help, "help [COMMAND]", "Show the help of a command, or the list of commands",
     NULL},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
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

static int cmd_help(const struct globals *g, int argc, char **argv)
{
	const struct command *c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		main_help();
		return CLI_EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c || argc > 2)
		return usage_error(find_command("help"), "%s",
				   c ? "too many arguments" : "unknown command");
	print_help(c);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vault", required_argument, NULL, 'v'},
	    {"as", required_argument, NULL, 'a'},
	    {"passphrase-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	struct globals g = {0};
	const char *arg_vault = NULL;
	const struct command *c;
	int opt, x;

	cli_set_program(PROGRAM);
	if (kt_crypto_init() < 0) {
		cli_error("cannot initialise libsodium");
		return CLI_EXIT_FAILED;
	}
	/* no core dumps (or ptrace by the same uid) of a process about to hold keys */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		cli_error("cannot disable core dumps: %s", strerror(errno));
		return CLI_EXIT_FAILED;
	}

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			arg_vault = optarg;
			break;
		case 'a':
			g.as = optarg;
			break;
		case 'p':
			g.passphrase_file = optarg;
			break;
		case 'h':
			main_help();
			return CLI_EXIT_OK;
		case 'V':
			printf(PROGRAM " " VAULTFS_VERSION "\n");
			return CLI_EXIT_OK;
		case ':':
			cli_error("option '%s' needs a value", argv[optind - 1]);
			main_usage(stderr);
			return CLI_EXIT_USAGE;
		default:
			cli_error("unknown option '%s' (global options come before the command)",
				  argv[optind - 1]);
			main_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("no command given");
		main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	g.vault = cli_vault_dir(arg_vault);
	c = find_command(argv[optind]);
	if (!c) {
		cli_error("unknown command '%s' (see '" PROGRAM " --help')", argv[optind]);
		main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	x = c->run(&g, argc - optind, argv + optind);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write the output: %s", strerror(errno));
		if (x == CLI_EXIT_OK)
			x = CLI_EXIT_FAILED;
	}
	return x;
}
