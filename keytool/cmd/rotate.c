/*
 * keytool/cmd/rotate.c — "vaultfs-keytool rotate": finish the running
 * rotations, make new level key versions, re-encrypt content; and the
 * finishing of rotations that revoke, expire and user remove start.
 *
 * The work is keytool/rotation.c's; this file parses, checks names before
 * asking for a passphrase, shows progress on a terminal ("re-wrapped
 * 12000/50000 file keys", on stderr, nothing when stderr is not a
 * terminal), and turns errors into one line and an exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keytool/cmd/cmd.h"
#include "keytool/content.h"
#include "keytool/rotation.h"

#define LEVEL_NAME_BUF 256

/* ---- progress ---------------------------------------------------------- */

struct progress {
	bool tty;   /* stderr is a terminal */
	bool shown; /* a line is open */
};

static void show_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	if (!p->tty)
		return;
	fprintf(stderr, "\r%s %llu/%llu %s", what, (unsigned long long)done,
		(unsigned long long)total, strcmp(what, "re-wrapped") == 0 ? "file keys" : "files");
	fflush(stderr);
	p->shown = true;
}

static void progress_end(struct progress *p)
{
	if (p->shown)
		fputc('\n', stderr);
	p->shown = false;
}

/* The hint for a rotation left unfinished. */
#define HINT_FINISH "run '" PROGRAM " rotate' to finish it; every file stays readable meanwhile"

int run_rotations(struct meta_db *db, struct kt_keyring *kr)
{
	struct progress p = {.tty = isatty(STDERR_FILENO) == 1};
	struct kt_rotation_options o = {.progress = show_progress, .progress_ctx = &p};
	struct kt_rotation_result res = {0};
	const char *name = kt_keyring_user(kr)->name;
	int r;

	r = kt_rotation_run(db, kr, &o, &res);
	progress_end(&p);
	switch (r) {
	case 0:
		if (res.rotations)
			printf(
			    "rotation finished: %llu file keys re-wrapped, %llu old key versions "
			    "destroyed\n",
			    (unsigned long long)res.files, (unsigned long long)res.destroyed);
		return CLI_EXIT_OK;
	case -EBADMSG:
		cli_error("%llu file keys do not open (damaged or tampered): the other files are "
			  "re-wrapped, the old key versions those need are kept; see "
			  "'vaultfs-meta incidents'",
			  (unsigned long long)res.failed);
		return CLI_EXIT_FAILED;
	case -EACCES:
		cli_error("'%s' is no longer an administrator: another administrator must finish "
			  "the rotation with '" PROGRAM " rotate'",
			  name);
		return CLI_EXIT_DENIED;
	case -EBUSY:
		cli_error("the vault is busy; the rotation is not finished: " HINT_FINISH);
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot finish the rotation: %s; " HINT_FINISH, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

/* ---- rotate ------------------------------------------------------------ */

/* "0,2" / level names → mask; prints and returns false if bad. */
static bool levels_arg(const struct cli_context *ctx, struct meta_db *db, const char *text,
		       uint32_t *ret_levels, int *ret_exit)
{
	char *copy = strdup(text), *p, *tok;
	uint32_t levels = 0;
	bool ok = true;

	if (!copy) {
		cli_error("out of memory");
		*ret_exit = CLI_EXIT_FAILED;
		return false;
	}
	for (p = copy; ok && (tok = strsep(&p, ",")) != NULL;) {
		uint8_t level;

		if (kt_level_parse(db, tok, &level) < 0 || level == META_LEVEL_REFUSED) {
			*ret_exit =
			    cli_usage_error(ctx,
					    "unknown level '%s' (use 0-3 or a level name; see "
					    "'" PROGRAM " list levels')",
					    tok);
			ok = false;
		} else {
			levels |= 1u << level;
		}
	}
	free(copy);
	if (ok)
		*ret_levels = levels;
	return ok;
}

static int reencrypt(struct cli_context *ctx, struct meta_db *db, struct kt_keyring *kr,
		     uint32_t levels, size_t batch)
{
	struct progress p = {.tty = isatty(STDERR_FILENO) == 1};
	struct kt_rotation_options o = {
	    .batch = batch, .progress = show_progress, .progress_ctx = &p};
	struct kt_content_store store = {.objects = NULL};
	struct kt_rotation_result res = {0};
	struct kt_content_ops ops;
	int r;

	/* Works while mounted: a file the daemon has open is replaced once it
	 * is closed (the blobs' locks coordinate the two, see keytool/chunk.h). */
	r = kt_content_open(ctx->vault, &store, &ops);
	if (r < 0) {
		cli_error("cannot use the vault directory %s: %s", ctx->vault, strerror(-r));
		return CLI_EXIT_FAILED;
	}
	r = kt_reencrypt_run(db, kr, levels, &ops, &o, &res);
	progress_end(&p);
	kt_content_close(&store);
	switch (r) {
	case 0:
		printf("re-encrypted %llu files (%llu bytes) under fresh file keys\n",
		       (unsigned long long)res.files, (unsigned long long)res.bytes);
		return CLI_EXIT_OK;
	case -EBADMSG:
		printf("re-encrypted %llu files (%llu bytes) under fresh file keys\n",
		       (unsigned long long)res.files, (unsigned long long)res.bytes);
		cli_error("%llu files could not be re-encrypted (their key or blob does not "
			  "authenticate) and were left as they were; see 'vaultfs-meta incidents'",
			  (unsigned long long)res.failed);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		printf("re-encrypted %llu files (%llu bytes) under fresh file keys\n",
		       (unsigned long long)res.files, (unsigned long long)res.bytes);
		cli_error(
		    "a file stayed open on the mounted vault for a minute: close it and run the "
		    "same command again to finish (it resumes where it stopped)");
		return CLI_EXIT_FAILED;
	default:
		return admin_error(kt_keyring_user(kr)->name,
				   "re-encrypt (run the same command again to resume)", r);
	}
}

int cmd_rotate(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resume", no_argument, NULL, 'r'},	   {"level", required_argument, NULL, 'l'},
	    {"reencrypt", no_argument, NULL, 'e'}, {"batch", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},	   {0},
	};
	const char *arg_levels = NULL;
	bool resume = false, re = false;
	uint32_t levels = 0;
	size_t batch = 0, pending = 0;
	char lv[LEVEL_NAME_BUF];
	int opt, x, r;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			resume = true;
			break;
		case 'l':
			arg_levels = optarg;
			break;
		case 'e':
			re = true;
			break;
		case 'b': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > 100000)
				return cli_usage_error(ctx, "invalid --batch '%s' (1-100000)",
						       optarg);
			batch = v;
			break;
		}
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (resume && arg_levels && !re)
		return cli_usage_error(ctx,
				       "--resume finishes what is running; it takes no --level");
	x = cli_setup(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	if (arg_levels && !levels_arg(ctx, ctx->db, arg_levels, &levels, &x))
		return x;
	x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	if (re) {
		return reencrypt(ctx, ctx->db, ctx->keyring, levels, batch);
	}
	if (levels) {
		snprintf(lv, sizeof(lv), "rotate levels=%s", arg_levels);
		r = kt_rotate_levels(ctx->db, ctx->keyring, levels, lv);
		x = admin_error(ctx->user.name, "make new level key versions", r);
		if (x != CLI_EXIT_OK)
			return x;
		printf("new key versions for levels %s are in use from now on\n", arg_levels);
	} else {
		r = kt_rotation_pending(ctx->db, &pending);
		if (r < 0) {
			return admin_error(ctx->user.name, "read the rotations", r);
		}
		if (pending == 0) {
			printf("no rotation is running: nothing to do\n");
			return x;
		}
	}
	x = run_rotations(ctx->db, ctx->keyring);
	return x;
}
