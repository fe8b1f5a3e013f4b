/*
 * keytool/cmd/user.c — "vaultfs-keytool user add" and "user remove": a new
 * user with their own passphrase; a user disabled at once, their roles
 * revoked and rotated.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include <sodium.h>

#include "keytool/cmd/cmd.h"
#include "keytool/rotation.h"

/* ---- user remove ------------------------------------------------------- */

static int user_remove(struct cli_context *ctx, int argc, char **argv)
{
	struct meta_user u;
	int x, r;

	if (argc != 2)
		return cli_usage_error(ctx, argc < 2 ? "missing user name" : "too many arguments");
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	r = meta_user_get_by_name(ctx->db, argv[1], &u);
	if (r == -ENOENT) {
		cli_error("unknown user '%s' (" HINT_LIST_USERS ")", argv[1]);
		return CLI_EXIT_FAILED;
	}
	if (r == 0 && u.disabled) {
		cli_error("user '%s' was already removed", u.name);
		return CLI_EXIT_FAILED;
	}
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	r = kt_user_remove(ctx->db, ctx->keyring, u.name);
	if (r == -EPERM) {
		cli_error("'%s' is the last administrator: grant the admin role to another user "
			  "first",
			  u.name);
		x = CLI_EXIT_DENIED;
	} else if (r == -EALREADY) {
		cli_error("user '%s' was already removed", u.name);
		x = CLI_EXIT_FAILED;
	} else {
		x = admin_error(ctx->user.name, "remove the user", r);
	}
	if (x != CLI_EXIT_OK)
		return x;
	printf("removed user '%s': they can no longer unlock, and the roles they held have new "
	       "key versions\n",
	       u.name);
	x = run_rotations(ctx->db, ctx->keyring);
	return x;
}

int cmd_user(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"uid", required_argument, NULL, 'u'},
	    {"new-passphrase-file", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *new_file = NULL, *name;
	struct meta_user u;
	int64_t uid = -1;
	char *pass = NULL;
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			if (!parse_uid(optarg, &uid))
				return cli_usage_error(ctx, "invalid uid '%s'", optarg);
			break;
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
	if (optind >= argc)
		return cli_usage_error(ctx, "missing 'add' or 'remove'");
	if (strcmp(argv[optind], "remove") == 0)
		return user_remove(ctx, argc - optind, argv + optind);
	if (strcmp(argv[optind], "add") != 0)
		return cli_usage_error(
		    ctx, "unknown user command '%s' ('user add' or 'user remove')", argv[optind]);
	if (argc - optind != 2)
		return cli_usage_error(ctx, argc - optind < 2 ? "missing user name"
							      : "too many arguments");
	name = argv[optind + 1];
	if (!valid_name_or_complain(ctx, "user", name, &x))
		return x;

	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	if (meta_user_get_by_name(ctx->db, name, &u) == 0) {
		cli_error("user '%s' already exists", name);
		return CLI_EXIT_FAILED;
	}
	if (uid >= 0 && meta_user_get_by_uid(ctx->db, uid, &u) == 0) {
		cli_error("uid %lld is already mapped to user '%s'", (long long)uid, u.name);
		return CLI_EXIT_FAILED;
	}
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	if (!(kt_keyring_flags(ctx->keyring) & META_ROLE_ADMIN)) {
		/* let the library record the denial, without asking for a passphrase */
		x = admin_error(ctx->user.name, "add a user",
				kt_user_add(ctx->db, ctx->keyring, name, uid, "", 0));
		return x;
	}
	pass = new_passphrase(new_file, name);
	if (!pass) {
		return CLI_EXIT_FAILED;
	}
	r = kt_user_add(ctx->db, ctx->keyring, name, uid, pass, strlen(pass));
	pass = cli_passphrase_free(pass);
	if (r == -EEXIST) {
		cli_error("user '%s' (or uid %lld) already exists", name, (long long)uid);
		return CLI_EXIT_FAILED;
	}
	x = admin_error(ctx->user.name, "add the user", r);
	if (x == CLI_EXIT_OK && meta_user_get_by_name(ctx->db, name, &u) == 0) {
		uint8_t fp[KT_FINGERPRINT_BYTES];
		char hex[2 * KT_FINGERPRINT_BYTES + 1];

		kt_fingerprint(u.public_key, fp);
		sodium_bin2hex(hex, sizeof(hex), fp, sizeof(fp));
		printf("added user '%s' (key fingerprint %s); grant roles with '" PROGRAM
		       " grant %s ROLE'\n",
		       name, hex, name);
	}
	return x;
}
