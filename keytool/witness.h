/*
 * keytool/witness.h — a witness directory: checkpoints of a vault's access
 * record kept where a tamperer of the vault cannot reach (another server's
 * share), each accepted only if it extends the last one.
 *
 * Like a C2SP tlog-witness, the directory never accepts a checkpoint that is
 * smaller than, or inconsistent with, the newest it holds: a new one must
 * come with a consistency proof from that size (meta/tlog.h). It keeps every
 * checkpoint it accepted (checkpoint.<size>, twenty digits) and the newest
 * as `latest`, written to a temporary file, synced and renamed, under an
 * flock of the directory. Files are opened with O_NOFOLLOW and read up to
 * KT_NOTE_MAX_BYTES; a `latest` that does not verify is reported, never
 * replaced.
 *
 * The checkpoint's origin line must be the verifier key's name.
 *
 * The directory's lock is waited for at most 5 s (another process on the
 * share may hold it): then -EBUSY, never a hang.
 *
 * Errors: -ESTALE a checkpoint smaller than the newest held (a rollback);
 * -EBADMSG one inconsistent with it (a fork, or a wrong proof), or a stored
 * checkpoint that fails to verify; -ENOKEY, -EPROTO as kt_note_open; -ENOENT
 * (kt_witness_latest) none held yet; other -errno from the filesystem.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "keytool/note.h"

/*
 * Offer a signed checkpoint (note, len bytes) to the witness directory dir,
 * with the consistency proof (proof_len hashes of 32 bytes) from the size of
 * the newest checkpoint held (ignored when there is none, or it is empty or
 * of the same size). 0 when it is held now (also when it was already).
 */
int kt_witness_add(const char *dir, const struct kt_note_verifier *v, const char *note, size_t len,
		   const uint8_t *proof, size_t proof_len);

/*
 * A restore: a vault deliberately put back to an earlier state (a backup
 * restored) no longer extends what its witness holds, and every checkpoint
 * it offers is refused. An administrator states the restore in a note
 * signed by the vault's administration key (key name: the origin followed
 * by "/admin"), whose text is
 *
 *   vaultfs-restore v1
 *   <origin>
 *   from <size> <base64 root>     the newest checkpoint the witness holds
 *   to <size> <base64 root>       the first checkpoint of the restored vault
 *
 * The administration key is the one the witness's newest checkpoint names
 * in its extension line "admin-key <base64 Ed25519 public key>" (checkpoints
 * carry it: docs/format.md §11), so a key planted in vault.db does not sign
 * restores. kt_witness_restore checks the statement and the new checkpoint,
 * moves everything the witness held into history.<n>/ (kept, never
 * deleted), keeps the statement as restore.<n>, and takes the new
 * checkpoint as its newest. -ENOKEY the newest checkpoint names no
 * administration key, or the statement is not signed by it; -EPROTO a
 * malformed statement; -ESTALE "from" is not what the witness holds (it
 * moved on meanwhile); -EINVAL "to" is not the checkpoint offered.
 */
#define KT_RESTORE_KEY_SUFFIX	"/admin"
#define KT_CHECKPOINT_ADMIN_EXT "admin-key "
/* The text of a restore statement, malloc'd. */
int kt_restore_format(const char *origin, const struct kt_checkpoint *from,
		      const struct kt_checkpoint *to, char **ret);
int kt_witness_restore(const char *dir, const struct kt_note_verifier *v, const char *note,
		       size_t len, const char *restore, size_t restore_len);

/* The newest checkpoint held, verified with v; free with kt_checkpoint_clear. */
int kt_witness_latest(const char *dir, const struct kt_note_verifier *v, struct kt_checkpoint *ret);
