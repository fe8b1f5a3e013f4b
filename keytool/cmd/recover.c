/*
 * keytool/cmd/recover.c — vaultfs-keytool's recovery by quorum: "recovery
 * setup" (and init's --recovery-* options) and "recover".
 *
 * The work is keytool/recovery.c's; this file parses, checks the options
 * before anything is made, and says precisely why shares are refused:
 * which file, and what is wrong with it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/cmd/cmd.h"
#include "keytool/recovery.h"

/* Officer names from "a,b,c" into names (pointing into copy, strdup'd). */
static bool split_officers(const char *text, char **ret_copy, const char **names,
			   unsigned int *ret_n)
{
	char *copy = strdup(text), *p, *tok;
	unsigned int n = 0;

	if (!copy)
		return false;
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		if (n == KT_RECOVERY_SHARES_MAX || !kt_name_valid(tok)) {
			free(copy);
			return false;
		}
		for (unsigned int i = 0; i < n; i++)
			if (strcmp(names[i], tok) == 0) {
				free(copy);
				return false;
			}
		names[n++] = tok;
	}
	*ret_copy = copy;
	*ret_n = n;
	return true;
}

static bool parse_count(const char *text, unsigned int *ret)
{
	char *end;
	unsigned long v;

	if (!text)
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v > 255)
		return false;
	*ret = (unsigned int)v;
	return true;
}

bool recovery_args_valid(const struct cli_context *ctx, const struct recovery_args *a,
			 int *ret_exit)
{
	const char *names[KT_RECOVERY_SHARES_MAX];
	unsigned int shares, threshold, n;
	char *copy = NULL;

	if (!a->shares || !a->threshold || !a->officers) {
		*ret_exit =
		    cli_usage_error(ctx, "recovery needs the number of shares, the threshold and "
					 "the officers (all three)");
		return false;
	}
	if (!parse_count(a->shares, &shares) || shares < 2 || shares > KT_RECOVERY_SHARES_MAX) {
		*ret_exit = cli_usage_error(ctx, "invalid number of shares '%s' (2-%d)", a->shares,
					    KT_RECOVERY_SHARES_MAX);
		return false;
	}
	if (!parse_count(a->threshold, &threshold) || threshold < 2 || threshold > shares) {
		*ret_exit = cli_usage_error(
		    ctx, "invalid threshold '%s' (2 up to the number of shares, %u)", a->threshold,
		    shares);
		return false;
	}
	if (!split_officers(a->officers, &copy, names, &n)) {
		*ret_exit =
		    cli_usage_error(ctx,
				    "invalid officers '%s' (distinct names of a-z 0-9 _ . -, "
				    "separated by commas)",
				    a->officers);
		return false;
	}
	free(copy);
	if (n != shares) {
		*ret_exit = cli_usage_error(
		    ctx, "%u officers for %u shares: give one officer per share", n, shares);
		return false;
	}
	return true;
}

/* Set up recovery as administrator kr; print where the shares went. */
static int setup(struct meta_db *db, struct kt_keyring *kr, const struct recovery_args *a)
{
	const char *names[KT_RECOVERY_SHARES_MAX];
	struct kt_recovery_setup_options o = {0};
	char **paths = NULL, *copy = NULL;
	unsigned int n = 0;
	int r, x;

	parse_count(a->shares, &o.shares);
	parse_count(a->threshold, &o.threshold);
	if (!split_officers(a->officers, &copy, names, &n)) {
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	o.officers = names;
	o.out_dir = a->out_dir ? a->out_dir : ".";
	r = kt_recovery_setup(db, kr, &o, &paths);
	switch (r) {
	case 0:
		printf("recovery set up: any %u of these %u share files restore administration "
		       "(earlier shares no longer work):\n",
		       o.threshold, o.shares);
		for (unsigned int i = 0; i < o.shares; i++)
			printf("  %-20s %s\n", names[i], paths[i]);
		printf("give each officer their own file and delete it here; keep them apart\n");
		x = CLI_EXIT_OK;
		break;
	case -EEXIST:
		cli_error("a share file already exists in %s (move it away, or choose another "
			  "--out-dir); nothing was changed",
			  o.out_dir);
		x = CLI_EXIT_FAILED;
		break;
	case -ENOENT:
	case -ENOTDIR:
		cli_error("no directory %s for the share files", o.out_dir);
		x = CLI_EXIT_FAILED;
		break;
	default:
		x = admin_error(kt_keyring_user(kr)->name, "set up recovery", r);
		break;
	}
	kt_strv_free(paths, o.shares);
	free(copy);
	return x;
}

int init_recovery(struct cli_context *ctx, const char *admin, const char *pass,
		  const struct recovery_args *a)
{
	int x, r;

	x = cli_open_vault(ctx, META_OPEN_RW);
	if (x != CLI_EXIT_OK)
		return x;
	r = kt_unlock(ctx->db, admin, pass, strlen(pass), &ctx->keyring);
	if (r < 0) {
		cli_error("the vault was created but recovery was not set up (%s): run '" PROGRAM
			  " recovery setup'",
			  strerror(-r));
		return CLI_EXIT_FAILED;
	}
	x = setup(ctx->db, ctx->keyring, a);
	if (x != CLI_EXIT_OK)
		cli_error("the vault was created without recovery: run '" PROGRAM
			  " recovery setup' once the problem is fixed");
	return x;
}

int cmd_recovery(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"shares", required_argument, NULL, 'S'},	{"threshold", required_argument, NULL, 'T'},
	    {"officers", required_argument, NULL, 'O'}, {"out-dir", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},		{0},
	};
	struct recovery_args a = {0};
	int opt, x;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			a.shares = optarg;
			break;
		case 'T':
			a.threshold = optarg;
			break;
		case 'O':
			a.officers = optarg;
			break;
		case 'D':
			a.out_dir = optarg;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(ctx, "missing 'setup'");
	if (strcmp(argv[optind], "setup") != 0)
		return cli_usage_error(ctx, "unknown recovery command '%s' (only 'recovery setup')",
				       argv[optind]);
	if (argc - optind != 1)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind + 1]);
	if (!recovery_args_valid(ctx, &a, &x))
		return x;
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	x = cli_unlock(ctx);
	if (x == CLI_EXIT_OK)
		x = setup(ctx->db, ctx->keyring, &a);
	return x;
}

/* Why the shares were refused, as one line; the exit code. */
static int recovery_refused(int r, const struct kt_recovery_error *e, const char *const *paths)
{
	const char *file = e->share >= 0 ? paths[e->share] : NULL;

	switch (r) {
	case -ENOENT:
		if (file)
			break;
		cli_error("no recovery is set up for this vault (an administrator sets it up with "
			  "'" PROGRAM " recovery setup')");
		return CLI_EXIT_FAILED;
	case -EBADMSG:
		cli_error("%s is not a valid share file (damaged, truncated or not a share); "
			  "nothing was changed",
			  file);
		return CLI_EXIT_DENIED;
	case -EXDEV:
		cli_error("%s is a share of another vault; nothing was changed", file);
		return CLI_EXIT_DENIED;
	case -ESTALE:
		cli_error(
		    "%s is a share of an earlier recovery setup, replaced since (see '" PROGRAM
		    " list keys'); nothing was changed",
		    file);
		return CLI_EXIT_DENIED;
	case -EEXIST:
		cli_error(
		    "%s is the same share as one given before it: each officer's share counts "
		    "once",
		    file);
		return CLI_EXIT_DENIED;
	case -ENOKEY:
		cli_error("%u share%s given, %u needed: recovery needs that many officers' shares; "
			  "nothing was changed",
			  e->have, e->have == 1 ? "" : "s", e->need);
		return CLI_EXIT_DENIED;
	case -EACCES:
		cli_error(
		    "the shares do not combine to this vault's recovery key (one is forged or "
		    "from elsewhere); nothing was changed, the attempt is recorded");
		return CLI_EXIT_DENIED;
	default:
		break;
	}
	if (file)
		cli_error("cannot read share file %s: %s", file, strerror(-r));
	else
		cli_error("cannot recover: %s", strerror(-r));
	return CLI_EXIT_FAILED;
}

int cmd_recover(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"share", required_argument, NULL, 's'},
	    {"new-passphrase-file", required_argument, NULL, 'n'},
	    {"expires", required_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *paths[KT_RECOVERY_SHARES_MAX + 1], *new_file = NULL, *action;
	struct kt_recovery_error e;
	struct meta_user u;
	struct meta_role role;
	int64_t expires = 0;
	size_t n = 0;
	char *pass = NULL, when[40];
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (n > KT_RECOVERY_SHARES_MAX)
				return cli_usage_error(ctx, "too many --share (at most %d)",
						       KT_RECOVERY_SHARES_MAX);
			paths[n++] = optarg;
			break;
		case 'n':
			new_file = optarg;
			break;
		case 'e':
			if (cli_time_parse(optarg, &expires) < 0)
				return cli_usage_error(
				    ctx,
				    "invalid date '%s' (use YYYY-MM-DD, "
				    "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] or @SECONDS)",
				    optarg);
			if (expires <= meta_now_ns())
				return cli_usage_error(ctx, "--expires %s is in the past", optarg);
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(ctx,
				       "recover what? (reset-passphrase USER or grant USER ROLE)");
	action = argv[optind];
	if (strcmp(action, "reset-passphrase") == 0) {
		if (argc - optind != 2)
			return cli_usage_error(ctx, "reset-passphrase needs one user");
		if (expires)
			return cli_usage_error(ctx, "--expires is for grant");
	} else if (strcmp(action, "grant") == 0) {
		if (argc - optind != 3)
			return cli_usage_error(ctx, "grant needs a user and a role");
		if (new_file)
			return cli_usage_error(ctx,
					       "--new-passphrase-file is for reset-passphrase");
	} else {
		return cli_usage_error(ctx, "unknown action '%s' (reset-passphrase or grant)",
				       action);
	}
	if (n == 0)
		return cli_usage_error(ctx,
				       "give the officers' share files with --share FILE (one per "
				       "share)");
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	/* names first: bad input costs nobody's share */
	if (action[0] == 'g')
		x = check_user_role(ctx->db, argv[optind + 1], argv[optind + 2], &u, &role);
	else if ((r = meta_user_get_by_name(ctx->db, argv[optind + 1], &u)) < 0) {
		cli_error("unknown user '%s' (" HINT_LIST_USERS ")", argv[optind + 1]);
		x = CLI_EXIT_FAILED;
	}
	if (x == CLI_EXIT_OK && action[0] == 'r' && u.disabled) {
		cli_error("user '%s' was removed; add a new user instead", u.name);
		x = CLI_EXIT_FAILED;
	}
	if (x == CLI_EXIT_OK && action[0] == 'g' && (role.flags & META_ROLE_EXPIRING) && !expires)
		x = cli_usage_error(ctx, "role '%s' needs --expires DATE (its grants must expire)",
				    role.name);
	if (x != CLI_EXIT_OK)
		return x;

	r = kt_recovery_unlock(ctx->db, paths, n, &e, &ctx->keyring);
	if (r < 0) {
		return recovery_refused(r, &e, paths);
	}
	if (action[0] == 'r') {
		pass = new_passphrase(new_file, u.name);
		if (!pass) {
			return CLI_EXIT_FAILED;
		}
		r = kt_user_reset(ctx->db, ctx->keyring, u.name, pass, strlen(pass));
		pass = cli_passphrase_free(pass);
		x = admin_error(KT_RECOVERY_NAME, "reset the passphrase", r);
		if (x == CLI_EXIT_OK)
			printf("recovered: '%s' has a new passphrase and holds their roles again "
			       "(see '" PROGRAM " list grants')\n",
			       u.name);
	} else {
		r = kt_grant(ctx->db, ctx->keyring, u.name, role.name, expires);
		x = admin_error(KT_RECOVERY_NAME, "grant the role", r);
		if (x == CLI_EXIT_OK && expires)
			printf("recovered: granted role '%s' to '%s' until %s\n", role.name, u.name,
			       cli_time_iso(expires, when, sizeof(when)));
		else if (x == CLI_EXIT_OK)
			printf("recovered: granted role '%s' to '%s'\n", role.name, u.name);
	}
	return x;
}
