/*
 * keytool/journal.h — the system journal: a second home for the access
 * record's signed checkpoints, and a feed of the records for a SIEM.
 *
 * A checkpoint (keytool/note.h) sent to the journal is out of reach of
 * someone who rewrites the vault directory: at mount the daemon and the
 * auditor's `vaultfs-meta verify --journal` read back the newest one for the
 * vault and check the record against it. Records sent to the journal
 * (the daemon's `-o journal`) reach a SIEM through journald's forwarding.
 *
 * Entries go to journald through libsystemd's native protocol: every field
 * is its own binary-safe item, so a newline or '=' in a value (a process
 * name, a path) stays part of that value and cannot forge another field.
 * Where no journald listens (no /run/systemd/journal/socket, or nobody
 * behind it), the same fields go to syslog(3) as LOG_AUTHPRIV, identifier
 * "vaultfs", on one line "vaultfs checkpoint …" or "vaultfs record …"
 * followed by NAME=VALUE items separated by single spaces. In a VALUE every
 * byte 0x00–0x20 (controls, newline, space), 0x7f and the backslash is
 * written as \xHH (two lowercase hex digits) and every other byte as itself:
 * a line splits into items at spaces, an item into name and value at its
 * first '=', and kt_journal_unescape gives the exact bytes back.
 *
 * Anyone on the host can write a journal entry with any of these fields
 * (except journald's own, which begin with '_'): what is read back is data
 * to verify, never to trust. Reading is bounded: a checkpoint note larger
 * than KT_NOTE_MAX_BYTES is skipped.
 *
 * Errors: -EINVAL a bad argument; -ENOMEM; -ENOTCONN neither journald nor a
 * syslog socket (/dev/log) to send to; -ENOENT no checkpoint for the origin;
 * -ENOMEDIUM no journal file that this process can read (none exists, or
 * it may not read them: root or the group systemd-journal may); other
 * -errno from libsystemd.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytool/note.h"
#include "meta/records.h"

/* The way an entry went (positive results of the senders). */
enum kt_journal_via {
	KT_JOURNAL_VIA_JOURNAL = 1, /* journald, structured fields */
	KT_JOURNAL_VIA_SYSLOG = 2,  /* syslog(3), one escaped line */
};

/*
 * Send a signed checkpoint (note, len bytes: the whole signed note) of the
 * log named origin. The tree size is read from the note's second line
 * (-EINVAL when the note is not a checkpoint of origin, or is empty or larger
 * than KT_NOTE_MAX_BYTES). Fields: MESSAGE "vaultfs checkpoint ORIGIN size
 * N", SYSLOG_IDENTIFIER=vaultfs, PRIORITY notice, SYSLOG_FACILITY authpriv,
 * VAULTFS_ORIGIN, VAULTFS_TREE_SIZE, VAULTFS_CHECKPOINT (the note, newlines
 * and all). Returns the kt_journal_via it went by, or -errno.
 */
int kt_journal_send_checkpoint(const char *origin, const char *note, size_t len);

/*
 * The newest checkpoint sent for origin that the local journal holds
 * (system and local journals): its VAULTFS_CHECKPOINT, malloc'd and NUL-
 * terminated, into *ret_note (its length, without the NUL, into *ret_len).
 * Not verified: the caller checks the note's signature. -ENOENT none,
 * -ENOMEDIUM no journal to read.
 */
int kt_journal_latest_checkpoint(const char *origin, char **ret_note, size_t *ret_len);

/* Journal entries looked at by one search, at most: a journal flooded with
 * entries for one origin costs a bounded time, never a hang. */
#define KT_JOURNAL_SCAN_MAX 10000

/*
 * Call fn(arg, note, len) for the checkpoints sent for origin by root (the
 * journal's own _UID field: entries other accounts wrote are never seen),
 * newest first, looking at no more than KT_JOURNAL_SCAN_MAX entries,
 * at most max of them (0: no limit), until fn returns non-zero: then that
 * value is returned. Lets a caller take the newest note that verifies, so
 * that a forged newer entry does not hide the real one. 0 when fn never
 * stopped (-ENOENT when there was none at all); -ENOMEDIUM no journal.
 */
int kt_journal_each_checkpoint(const char *origin, size_t max,
			       int (*fn)(void *arg, const char *note, size_t len), void *arg);

/*
 * The newest checkpoint of origin in the journal that v signed (entries not
 * signed by v are passed over: anyone on the machine can write such an
 * entry, and a forged newer one must not hide the real one): the note
 * (malloc'd, NUL-terminated, may be NULL) and the parsed checkpoint (free
 * with kt_checkpoint_clear; may be NULL). -ENOENT none signed by v;
 * -ENOMEDIUM no journal to read; -ENOMEM.
 */
int kt_journal_newest_signed(const struct kt_note_verifier *v, char **ret_note, size_t *ret_len,
			     struct kt_checkpoint *ret_cp);

/*
 * Send one access record (as stored; a close record carries its byte counts).
 * path and path2 are the record's decrypted paths, or NULL to leave them out
 * (the daemon sends them only with -o journal_paths). vault names the vault
 * (its directory), or NULL. Fields: MESSAGE (one readable line),
 * SYSLOG_IDENTIFIER=vaultfs, PRIORITY (warning for an integrity failure,
 * notice for a refusal, else info), SYSLOG_FACILITY authpriv, VAULTFS_VAULT,
 * VAULTFS_RECORD_ID, VAULTFS_TIME (ISO-8601 UTC), VAULTFS_USER, VAULTFS_UID,
 * VAULTFS_PID, VAULTFS_COMM, VAULTFS_OP, VAULTFS_INO, VAULTFS_LEVEL,
 * VAULTFS_OUTCOME ("ok" or the errno name), VAULTFS_DETAIL, VAULTFS_CLOSES,
 * VAULTFS_BYTES_READ, VAULTFS_BYTES_WRITTEN, VAULTFS_PATH, VAULTFS_PATH2
 * (each only when the record has it). Returns the kt_journal_via or -errno.
 */
int kt_journal_send_record(const char *vault, const struct meta_record *r, const char *path,
			   const char *path2);

/*
 * The syslog line of a checkpoint and of a record, as the fallback sends
 * them (without syslog's own header); malloc'd into *ret. For tests and for
 * anyone who wants to see exactly what is sent.
 */
int kt_journal_checkpoint_line(const char *origin, const char *note, size_t len, char **ret);
int kt_journal_record_line(const char *vault, const struct meta_record *r, const char *path,
			   const char *path2, char **ret);

/*
 * Escape len bytes of value as the syslog line does (see above): malloc'd,
 * NUL-terminated. kt_journal_unescape reverses it: the bytes (malloc'd, with
 * a NUL after them) and their number; -EINVAL for a backslash that is not
 * followed by 'x' and two hex digits, or a raw byte that escaping never
 * leaves (a control, a space).
 */
int kt_journal_escape(const char *value, size_t len, char **ret);
int kt_journal_unescape(const char *text, size_t len, char **ret, size_t *ret_len);

/* The errno name of a record's outcome: "ok" for 0, "EACCES", …, or "E<n>". */
const char *kt_journal_outcome_name(int outcome, char *buf, size_t size);
