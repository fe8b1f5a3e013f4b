/*
 * keytool/cmd/grant.c — the grants of roles to users: "grant", "revoke"
 * (then the rotation of the role's keys) and "expire" (every grant past its
 * expiry removed and rotated as a revocation).
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "keytool/cmd/cmd.h"
#include "keytool/rotation.h"

int cmd_grant(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"expires", required_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct meta_user u;
	struct meta_role role;
	int64_t expires = 0;
	char when[40];
	int opt, x;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (cli_time_parse(optarg, &expires) < 0)
				return cli_usage_error(
				    ctx,
				    "invalid date '%s' (use YYYY-MM-DD, "
				    "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] in UTC unless "
				    "an offset is given, or @SECONDS)",
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
	if (argc - optind != 2)
		return cli_usage_error(ctx, argc - optind < 2 ? "grant needs a user and a role"
							      : "too many arguments");
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	x = check_user_role(ctx->db, argv[optind], argv[optind + 1], &u, &role);
	if (x != CLI_EXIT_OK)
		return x;
	if (u.disabled) {
		cli_error("user '%s' was removed; add a new user instead", u.name);
		return CLI_EXIT_FAILED;
	}
	if ((role.flags & META_ROLE_EXPIRING) && !expires) {
		return cli_usage_error(
		    ctx, "role '%s' needs --expires DATE (its grants must expire)", role.name);
	}
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	x = admin_error(ctx->user.name, "grant the role",
			kt_grant(ctx->db, ctx->keyring, u.name, role.name, expires));
	if (x == CLI_EXIT_OK) {
		if (expires)
			printf("granted role '%s' to '%s' until %s\n", role.name, u.name,
			       cli_time_iso(expires, when, sizeof(when)));
		else
			printf("granted role '%s' to '%s'\n", role.name, u.name);
	}
	return x;
}
/* ---- revoke ------------------------------------------------------------ */

int cmd_revoke(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-wait", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct meta_user u;
	struct meta_role role;
	bool no_wait = false;
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			no_wait = true;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(ctx, argc - optind < 2 ? "revoke needs a user and a role"
							      : "too many arguments");
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	x = check_user_role(ctx->db, argv[optind], argv[optind + 1], &u, &role);
	if (x != CLI_EXIT_OK)
		return x;
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	r = kt_revoke(ctx->db, ctx->keyring, u.name, role.name);
	if (r == -ENOENT) {
		cli_error("'%s' does not hold role '%s' (see '" PROGRAM " list grants')", u.name,
			  role.name);
		x = CLI_EXIT_FAILED;
	} else if (r == -EPERM) {
		cli_error("'%s' is the last administrator: grant the admin role to another user "
			  "first",
			  u.name);
		x = CLI_EXIT_DENIED;
	} else {
		x = admin_error(ctx->user.name, "revoke the role", r);
	}
	if (x != CLI_EXIT_OK)
		return x;
	printf("revoked role '%s' from '%s': new key versions are in use from now on\n", role.name,
	       u.name);
	if (no_wait) {
		printf("the file keys are re-wrapped when '" PROGRAM " rotate' runs\n");
		return x;
	}
	x = run_rotations(ctx->db, ctx->keyring);
	return x;
}
/* ---- expire ------------------------------------------------------------ */

int cmd_expire(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	size_t expired = 0, pending = 0;
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
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
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	r = kt_expire(ctx->db, ctx->keyring, meta_now_ns(), &expired);
	x = admin_error(ctx->user.name, "expire grants", r);
	if (x != CLI_EXIT_OK)
		return x;
	if (expired)
		printf(
		    "removed %zu expired grants (see 'vaultfs-meta log --op grant-expire'); their "
		    "roles have new key versions\n",
		    expired);
	r = kt_rotation_pending(ctx->db, &pending);
	if (r == 0 && pending == 0) {
		if (!expired)
			printf("no grant has expired\n");
		return x;
	}
	x = run_rotations(ctx->db, ctx->keyring);
	return x;
}
