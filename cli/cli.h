/*
 * cli/cli.h — what the three commands share: exit codes, passphrase input,
 * error lines, vault location, and JSON output helpers.
 *
 * Only the commands (vaultfs, vaultfs-keytool, vaultfs-meta) use this; the
 * libraries never print.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes, documented in every man page. */
#define CLI_EXIT_OK	  0
#define CLI_EXIT_FAILED	  1
#define CLI_EXIT_USAGE	  2
#define CLI_EXIT_DENIED	  3 /* refused, or wrong passphrase */
#define CLI_EXIT_NO_VAULT 4
#define CLI_EXIT_TAMPERED 5 /* vaultfs-meta verify, verify-proof: the evidence does not hold */

#define CLI_PASSPHRASE_MAX 1024

/*
 * Read a passphrase: from file (first line, without its newline; the file
 * must not be readable by group/other unless it is a pipe/fd) when file is
 * non-NULL, else from /dev/tty with echo off, showing prompt. With confirm,
 * asks twice on a terminal and refuses a mismatch. Returns a sodium_malloc'd
 * NUL-terminated string (free with cli_passphrase_free) or NULL with errno
 * set and a message already printed.
 */
char *cli_passphrase_read(const char *file, const char *prompt, bool confirm);
char *cli_passphrase_free(char *p);

/* Print "PROG: message" (printf-style) to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The one error line of a vault refused because its database schema is not
 * the one vaultfs makes: "DIR/vault.db: WHY in the database schema
 * (tampered?) ...", why from meta_db_open_why ("unexpected trigger 'x'").
 */
void cli_error_schema(const char *dir, const char *why);
/* The program name used by cli_error (set once in main). */
void cli_set_program(const char *name);
/*
 * The start of every main: the program name, libsodium initialised first,
 * then no core dumps or same-uid ptrace of a process about to hold keys
 * (prctl PR_SET_DUMPABLE 0, checked). 0, or after one error line the exit
 * code to return.
 */
int cli_start(const char *program);

/* Map a library -errno to an exit code (EACCES/EPERM → 3, ENOENT of the
 * vault → 4 by the caller, EINVAL → 2, else 1). */
int cli_exit_code(int neg_errno);

/* The vault directory: the --vault argument, else $VAULTFS_VAULT, else NULL. */
const char *cli_vault_dir(const char *arg);

/* Format UTC ns as ISO-8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (≥ 32 bytes). */
char *cli_time_iso(int64_t ns, char *buf, size_t len);
/* Parse ISO-8601 ("2026-11-22", "2026-11-22T10:00", "…:SSZ") or "@SECONDS"
 * (decimal digits only, seconds since 1970) into UTC ns; -EINVAL if
 * malformed or before 1970. */
int cli_time_parse(const char *text, int64_t *ret_ns);
