/*
 * keytool/cmd/cmd.h — what the source files of vaultfs-keytool share: the
 * global options, the command table's entries, the helpers of
 * keytool/main.c (usage, opening the vault, unlocking, errors, JSON), and
 * the commands of the key lifecycle (lifecycle.c: revoke, user remove,
 * rotate, expire, list keys; recover.c: recovery setup, recover).
 *
 * Only the command uses this; the libraries never print.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "keytool/cli.h"
#include "keytool/keystore.h"

#define PROGRAM		"vaultfs-keytool"
#define HINT_LIST_USERS "see '" PROGRAM " list users'"
#define HINT_LIST_ROLES "see '" PROGRAM " list roles'"

/* Global options, parsed before the command. */
struct globals {
	const char *vault;	     /* --vault or $VAULTFS_VAULT, else NULL */
	const char *as;		     /* --as: the acting user, else NULL */
	const char *passphrase_file; /* --passphrase-file: the acting user's passphrase */
};

struct command {
	const char *name;
	int (*run)(const struct globals *g, int argc, char **argv);
	const char *usage;   /* after "usage: vaultfs-keytool " */
	const char *summary; /* one line for the command list */
	const char *options; /* option help, may be NULL */
};

/* ---- keytool/main.c ---------------------------------------------------- */

const struct command *find_command(const char *name);
void print_help(const struct command *c);
/* A usage error: one line saying what is wrong, then the usage line; returns 2. */
int usage_error(const struct command *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* getopt_long returned '?' or ':' (opterr is off): say which option. */
int bad_option(const struct command *c, int opt, char **argv);
/* Reset getopt for a command's argv (argv[0] is the command name). */
void getopt_reset(void);
int need_vault(const struct globals *g, const struct command *c);
/* Open the vault; on failure print why and return the exit code. */
int open_vault(const struct globals *g, enum meta_open_mode mode, struct meta_db **ret_db);
/* Ask for user's passphrase (--passphrase-file or terminal) and unlock their keys. */
int unlock_user(const struct globals *g, struct meta_db *db, const char *user,
		struct kt_keyring **ret_keyring);
/* Open the vault read-write and find the acting user (no passphrase yet). */
int admin_session(const struct globals *g, const struct command *c, struct meta_db **ret_db,
		  struct meta_user *ret_user);
/* The error of an administration, as one line and an exit code. */
int admin_error(const char *admin, const char *what, int r);
bool valid_name_or_complain(const struct command *c, const char *kind, const char *name,
			    int *ret_exit);
/* Read a new passphrase for user (from file or twice from the terminal). */
char *new_passphrase(const char *file, const char *user);
/* Both names exist; else print which one does not. */
int check_user_role(struct meta_db *db, const char *user, const char *role_name,
		    struct meta_user *ret_user, struct meta_role *ret_role);
json_t *json_time(int64_t ns);
/* Print root (and drop it); 0 or -EIO. */
int json_print(json_t *root);
/* Print s left-aligned in width columns (UTF-8 characters), then a space. */
void print_cell(const char *s, int width);

/* ---- lifecycle.c ------------------------------------------------------- */

int cmd_revoke(const struct globals *g, int argc, char **argv);
int cmd_rotate(const struct globals *g, int argc, char **argv);
int cmd_expire(const struct globals *g, int argc, char **argv);
/* "user remove NAME" (argv[0] is "remove"), from cmd_user. */
int cmd_user_remove(const struct globals *g, const struct command *c, int argc, char **argv);
/* "list keys": versions, fingerprints, holders, expiry, files; never key bytes. */
int list_keys(struct meta_db *db, bool json);
/*
 * Finish the rotations the vault has running, as administrator kr, showing
 * progress on a terminal; print one line of what was done or went wrong.
 * Returns an exit code.
 */
int run_rotations(struct meta_db *db, struct kt_keyring *kr);

/* ---- recover.c --------------------------------------------------------- */

/* Options of a recovery setup as given (init's --recovery-* or "recovery setup"). */
struct recovery_args {
	const char *shares;    /* N */
	const char *threshold; /* M */
	const char *officers;  /* "a,b,c" */
	const char *out_dir;   /* default "." */
};

/* Check the options before anything is created; prints and sets *ret_exit if bad. */
bool recovery_args_valid(const struct command *c, const struct recovery_args *a, int *ret_exit);
/* After init: unlock the new administrator with pass and set up recovery. */
int init_recovery(const struct globals *g, const char *admin, const char *pass,
		  const struct recovery_args *a);
int cmd_recovery(const struct globals *g, int argc, char **argv);
int cmd_recover(const struct globals *g, int argc, char **argv);
