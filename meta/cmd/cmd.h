/*
 * meta/cmd/cmd.h — what the subcommands of vaultfs-meta share: the
 * auditor's session (read-only database plus unlocked metadata key, set up
 * by cli/command.h as the command table says, and the level names).
 *
 * A session is opened in two steps so that every mistake in the command line
 * is reported before the passphrase is asked for: cmd_session_open() opens
 * the database and finds the auditor (some options, like level names, need it to be parsed), then
 * cmd_session_unlock() reads the passphrase and unlocks the auditor's keys.
 * Both print their own error line and return an exit code (0 on success).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "cli/command.h"
#include "meta/cleanup.h"
#include "meta/db.h"
#include "meta/tlog.h"
#include "keytool/crypto.h"
#include "keytool/keyring.h"
#include "keytool/names.h"
#include "keytool/note.h"

/* Shown for a record path or folder name that fails to decrypt. */
#define CMD_UNDECRYPTABLE "<undecryptable>"

/* An auditor's view of a vault. */
struct cmd_session {
	struct cli_context *ctx; /* the command's: the database, the auditor, their keys */
	struct meta_db *db;	 /* ctx->db, opened read-only */
	const struct kt_meta_keys *meta_keys; /* ctx->meta_keys, owned by ctx->keyring */
	char
	    *level_names[META_LEVEL_REFUSED + 1]; /* configured names (raw bytes, NUL-terminated) */
	size_t undecryptable;			  /* paths/names that failed to decrypt so far */
};

int cmd_session_open(struct cli_context *ctx, struct cmd_session *s);
int cmd_session_unlock(struct cmd_session *s);
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
int cmd_level_arg(const struct cmd_session *s, const char *text, int *ret_level);

/*
 * Decrypt a metadata ciphertext (purpose and context as in docs/format.md §6)
 * into a malloc'd NUL-terminated string; *ret_len gets its length. Returns 0,
 * -EBADMSG when it does not decrypt (counted in s->undecryptable), -ENOMEM.
 */
int cmd_decrypt(struct cmd_session *s, enum kt_meta_purpose purpose, uint64_t context,
		const uint8_t *enc, size_t enc_len, char **ret_plain, size_t *ret_len);

/* A record's outcome as the auditor reads it: "ok", "denied", "integrity" or
 * "error" (records.c). */
const char *cmd_outcome_class(int outcome);
/* Its errno name ("EACCES", or "E<n>" written into buf); NULL for ok. */
const char *cmd_outcome_errno(int outcome, char *buf, size_t len);

/* Parse a non-negative decimal integer argument; false if malformed. */
bool cmd_parse_u64(const char *text, uint64_t *ret_val);

/* ---- what verify.c and evidence.c share (evidence.c) ---- */

/* The base64 of a 32-byte hash, with its NUL. */
#define CMD_ROOT_B64_LEN 45

/* Read a whole file of at most max bytes ("-": standard input) into a
 * malloc'd, NUL-terminated buffer. -EFBIG when larger, else -errno. */
int cmd_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Write len bytes to the new file path (never over an existing one),
 * synced; or to standard output when path is NULL. Prints what failed;
 * returns the exit code. */
int cmd_emit(const char *path, const char *data, size_t len);
/* The verifier key of --vkey TEXT or --vkey-file FILE (its first line) into
 * *ret; prints what is wrong and returns the exit code. */
int cmd_vkey_arg(const struct cli_context *ctx, const char *text, const char *file,
		 struct kt_note_verifier *ret);
/* The vault's checkpoint verifier (kt_log_verifier); prints why not. */
int cmd_vault_verifier(struct meta_db *db, struct kt_note_verifier *ret);
/* The setup of the commands that need the vault and no user: read-only. */
int cmd_open_vault_only(struct cli_context *ctx);
/* A root hash in base64. */
void cmd_root_text(const uint8_t root[META_TLOG_HASH_BYTES], char buf[CMD_ROOT_B64_LEN]);

/* The commands (records.c, inventory.c, verify.c, evidence.c). */
int cmd_log(struct cli_context *ctx, int argc, char **argv);
int cmd_incidents(struct cli_context *ctx, int argc, char **argv);
int cmd_inventory(struct cli_context *ctx, int argc, char **argv);
int cmd_checkpoint(struct cli_context *ctx, int argc, char **argv);
int cmd_verify(struct cli_context *ctx, int argc, char **argv);
int cmd_prove(struct cli_context *ctx, int argc, char **argv);
int cmd_verify_proof(struct cli_context *ctx, int argc, char **argv);
