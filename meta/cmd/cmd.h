/*
 * meta/cmd/cmd.h — what the subcommands of vaultfs-meta share: the global
 * options, the command table entry, the auditor's session (read-only
 * database plus unlocked metadata key), and usage errors.
 *
 * A session is opened in two steps so that every mistake in the command line
 * is reported before the passphrase is asked for: cmd_session_open() opens
 * the database (some options, like level names, need it to be parsed), then
 * cmd_session_unlock() reads the passphrase and unlocks the auditor's keys.
 * Both print their own error line and return an exit code (0 on success).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/keydb.h"
#include "keytool/crypto.h"
#include "keytool/keystore.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Shown for a record path or folder name that fails to decrypt. */
#define CMD_UNDECRYPTABLE "<undecryptable>"

/* Global options (before the subcommand). */
struct cmd_global {
	const char *vault;	     /* --vault DIR, else $VAULTFS_VAULT; NULL if neither */
	const char *as;		     /* --as USER: whose keys unlock the metadata; NULL = by uid */
	const char *passphrase_file; /* --passphrase-file F; NULL = ask on the terminal */
};

struct cmd_command {
	const char *name; /* "log", "inventory", ... */
	int (*run)(const struct cmd_global *g, const struct cmd_command *cmd, int argc,
		   char **argv); /* argv[0] is the command name; returns an exit code */
	const char *usage;	 /* options after the name, one line */
	const char *summary;	 /* one line for the command list */
	const char *help;	 /* option descriptions for --help */
};

/* An auditor's view of a vault. */
struct cmd_session {
	struct meta_db *db;	      /* opened read-only */
	char user[META_NAME_MAX + 1]; /* the auditor: --as, else the one mapped to our uid */
	struct kt_keyring *keyring;   /* the --as user's unlocked keys */
	const struct kt_meta_keys *meta_keys; /* owned by keyring */
	char
	    *level_names[META_LEVEL_REFUSED + 1]; /* configured names (raw bytes, NUL-terminated) */
	size_t undecryptable;			  /* paths/names that failed to decrypt so far */
};

int cmd_session_open(const struct cmd_global *g, struct cmd_session *s);
int cmd_session_unlock(const struct cmd_global *g, struct cmd_session *s);
void cmd_session_close(struct cmd_session *s);

/*
 * Report what failed to decrypt: one warning line on stderr when
 * s->undecryptable > 0, naming it as one (singular) or many (plural). Returns the exit code the
 * command should end with (1 then, else ok).
 */
int cmd_session_finish(const struct cmd_session *s, const char *one, const char *many);

/* The configured name of level (0..4), or NULL for none (-1, out of range). */
const char *cmd_level_name(const struct cmd_session *s, int level);

/*
 * Parse a --level argument: a number 0..4 or a configured level name.
 * Prints a usage error and returns 2 when it is neither.
 */
int cmd_level_arg(const struct cmd_session *s, const struct cmd_command *cmd, const char *text,
		  int *ret_level);

/*
 * Decrypt a metadata ciphertext (purpose and context as in docs/format.md §6)
 * into a malloc'd NUL-terminated string; *ret_len gets its length. Returns 0,
 * -EBADMSG when it does not decrypt (counted in s->undecryptable), -ENOMEM.
 */
int cmd_decrypt(struct cmd_session *s, enum kt_meta_purpose purpose, uint64_t context,
		const uint8_t *enc, size_t enc_len, char **ret_plain, size_t *ret_len);

/* Print "vaultfs-meta: <message>" and the command's usage line to stderr;
 * returns CLI_EXIT_USAGE. */
int cmd_usage_error(const struct cmd_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The command's usage line and option help on stdout (for --help). */
void cmd_help(const struct cmd_command *cmd);

/* Parse a non-negative decimal integer argument; false if malformed. */
bool cmd_parse_u64(const char *text, uint64_t *ret_val);

/* The commands (records.c, inventory.c). */
int cmd_log(const struct cmd_global *g, const struct cmd_command *cmd, int argc, char **argv);
int cmd_incidents(const struct cmd_global *g, const struct cmd_command *cmd, int argc, char **argv);
int cmd_inventory(const struct cmd_global *g, const struct cmd_command *cmd, int argc, char **argv);
