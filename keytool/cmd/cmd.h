/*
 * keytool/cmd/cmd.h — what the source files of vaultfs-keytool share: the
 * verbs (one file per family, gathered in the table of main.c), the steps
 * and output helpers they have in common (common.c), and the few things one
 * verb family lends another (finishing rotations, recovery setup at init).
 *
 * Only the command uses this; the libraries never print.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/command.h"
#include "keytool/keystore.h"

#define PROGRAM		"vaultfs-keytool"
#define HINT_LIST_USERS "see '" PROGRAM " list users'"
#define HINT_LIST_ROLES "see '" PROGRAM " list roles'"

/* ---- common.c: steps and output the verbs share ------------------------ */

/* The error of an administration, as one line and an exit code. */
int admin_error(const char *admin, const char *what, int r);
bool valid_name_or_complain(const struct cli_context *ctx, const char *kind, const char *name,
			    int *ret_exit);
/* Read a new passphrase for user (from file or twice from the terminal). */
char *new_passphrase(const char *file, const char *user);
/* An OS uid argument; false if malformed. */
bool parse_uid(const char *text, int64_t *ret_uid);
/* Both names exist; else print which one does not. */
int check_user_role(struct meta_db *db, const char *user, const char *role_name,
		    struct meta_user *ret_user, struct meta_role *ret_role);
json_t *json_time(int64_t ns);
/* Print root (and drop it); 0 or -EIO. */
int json_print(json_t *root);
/* Print s left-aligned in width columns (UTF-8 characters), then a space. */
void print_cell(const char *s, int width);
/* The program's anchor hook (CLI_ANCHORS): sign a checkpoint of the access
 * record after a key operation, keep it, and offer it to --witness. */
void anchor_after_key_operation(struct cli_context *ctx);

/* ---- the verbs (run from the table in main.c) -------------------------- */

int cmd_init(struct cli_context *ctx, int argc, char **argv);		/* init.c */
int cmd_user(struct cli_context *ctx, int argc, char **argv);		/* user.c: add, remove */
int cmd_role(struct cli_context *ctx, int argc, char **argv);		/* role.c */
int cmd_grant(struct cli_context *ctx, int argc, char **argv);		/* grant.c */
int cmd_revoke(struct cli_context *ctx, int argc, char **argv);		/* grant.c */
int cmd_expire(struct cli_context *ctx, int argc, char **argv);		/* grant.c */
int cmd_rotate(struct cli_context *ctx, int argc, char **argv);		/* rotate.c */
int cmd_recovery(struct cli_context *ctx, int argc, char **argv);	/* recover.c */
int cmd_recover(struct cli_context *ctx, int argc, char **argv);	/* recover.c */
int cmd_passwd(struct cli_context *ctx, int argc, char **argv);		/* passwd.c */
int cmd_restore_accept(struct cli_context *ctx, int argc, char **argv); /* restore.c */
int cmd_list(struct cli_context *ctx, int argc, char **argv);		/* list.c */
int cmd_unlock(struct cli_context *ctx, int argc, char **argv);		/* mount.c */
int cmd_lock(struct cli_context *ctx, int argc, char **argv);		/* mount.c */
int cmd_status(struct cli_context *ctx, int argc, char **argv);		/* mount.c */

/* ---- rotate.c, for revoke, expire and user remove ---------------------- */

/*
 * Finish the rotations the vault has running, as administrator kr, showing
 * progress on a terminal; print one line of what was done or went wrong.
 * Returns an exit code.
 */
int run_rotations(struct meta_db *db, struct kt_keyring *kr);

/* ---- recover.c, for init's --recovery-* options ------------------------ */

/* Options of a recovery setup as given (init's --recovery-* or "recovery setup"). */
struct recovery_args {
	const char *shares;    /* N */
	const char *threshold; /* M */
	const char *officers;  /* "a,b,c" */
	const char *out_dir;   /* default "." */
};

/* Check the options before anything is created; prints and sets *ret_exit if bad. */
bool recovery_args_valid(const struct cli_context *ctx, const struct recovery_args *a,
			 int *ret_exit);
/* After init: unlock the new administrator with pass and set up recovery. */
int init_recovery(struct cli_context *ctx, const char *admin, const char *pass,
		  const struct recovery_args *a);
