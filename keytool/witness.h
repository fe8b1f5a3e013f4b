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

/* The newest checkpoint held, verified with v; free with kt_checkpoint_clear. */
int kt_witness_latest(const char *dir, const struct kt_note_verifier *v, struct kt_checkpoint *ret);
