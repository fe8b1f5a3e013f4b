/*
 * keytool/anchor.h — signed checkpoints of a vault's access record, and
 * checking the record against them (docs/format.md §11).
 *
 * A checkpoint is a C2SP tlog-checkpoint (keytool/note.h) whose origin line
 * is the vault's: "vaultfs/" and the hex of its vault_id. It is signed with
 * the vault's checkpoint key (keytool/signing.h), whose verifier has that
 * origin as its name. The vault keeps each one it makes (meta/checkpoints.h);
 * what makes a checkpoint evidence is a copy kept outside the vault: a
 * witness directory (keytool/witness.h), the system journal, a file an
 * auditor keeps. Checking the record against such a copy is what detects a
 * vault rolled back (the record is shorter than the checkpoint) or rewritten
 * (its first records no longer hash to the checkpoint's root).
 *
 * Errors: -ENOKEY no checkpoint key (held, or in the vault), or a note not
 * signed by it; -EBADMSG a signature that fails, or a record inconsistent
 * with the checkpoint; -ESTALE the record is shorter than the checkpoint;
 * -EPROTO a malformed note or one of another vault; -EIO, -EBUSY database;
 * -ENOMEM.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "keytool/keyring.h"
#include "keytool/note.h"
#include "meta/db.h"

#define KT_LOG_ORIGIN_MAX 64

/* "vaultfs/<32 hex digits of vault_id>". */
int kt_log_origin(struct meta_db *db, char ret[KT_LOG_ORIGIN_MAX]);
/* The verifier of the vault's (newest) checkpoint key. */
int kt_log_verifier(struct meta_db *db, struct kt_note_verifier *ret);

/*
 * Sign the record's tree head as it stands with kr's checkpoint key, and keep
 * the checkpoint in the vault unless db is read-only: the signed note
 * (malloc'd, NUL-terminated) into *ret_note and its size into *ret_size.
 * Takes its own transaction (one snapshot of the head) unless the caller has
 * one open.
 */
int kt_log_checkpoint(struct meta_db *db, const struct kt_keyring *kr, char **ret_note,
		      uint64_t *ret_size);
/* The same with the checkpoint key's seed (kt_keyring_sign_seed) itself, for
 * a process that keeps a copy of it (the daemon's anchor thread). */
int kt_log_checkpoint_seed(struct meta_db *db, const uint8_t seed[KT_KEY_BYTES], char **ret_note,
			   uint64_t *ret_size);

/*
 * Check the record against a signed checkpoint (note, len bytes) by v: the
 * signature, the origin, and that the first size records hash to its root
 * (O(records)). 0 when the record extends it; *ret (may be NULL) gets the
 * checkpoint, to free with kt_checkpoint_clear.
 */
int kt_log_check(struct meta_db *db, const struct kt_note_verifier *v, const char *note, size_t len,
		 struct kt_checkpoint *ret);

/* The records part of kt_log_check, for a checkpoint already verified
 * (kt_witness_latest): 0, -ESTALE or -EBADMSG. */
int kt_log_extends(struct meta_db *db, const struct kt_checkpoint *cp);

/*
 * Offer a signed checkpoint of this vault to the witness directory dir, with
 * the consistency proof from the newest one it holds, computed from the
 * records (kt_witness_add's errors: -ESTALE, -EBADMSG when the witness holds
 * a checkpoint the record does not extend).
 */
int kt_log_witness(struct meta_db *db, const char *dir, const struct kt_note_verifier *v,
		   const char *note);

/*
 * Accept, as administrator admin, that this vault was deliberately put back
 * to an earlier state (a backup restored) although an anchor holds a
 * checkpoint its record does not extend: the witness directory dir, or (dir
 * NULL) held_elsewhere, the newest checkpoint another anchor (the system
 * journal) holds. Record it (op "restore-accept", with reason), sign a
 * checkpoint of the record as it now is (into *ret_note, malloc'd, may be
 * NULL: the caller sends it to the journal), and with dir hand the witness
 * that checkpoint with a restore statement signed by the administration key
 * (keytool/witness.h: kt_witness_restore; the witness keeps what it held
 * under history.<n>/). *ret_from and *ret_to: the sizes of the anchor's
 * checkpoint before and after. -EALREADY when the record extends what the
 * anchor holds (nothing to accept); -EACCES not an administrator;
 * kt_witness_restore's errors.
 */
int kt_log_restore(struct meta_db *db, struct kt_keyring *admin, const char *dir,
		   const struct kt_checkpoint *held_elsewhere, const char *reason,
		   uint64_t *ret_from, uint64_t *ret_to, char **ret_note);
