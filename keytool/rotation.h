/*
 * keytool/rotation.h — new key versions and what follows them: re-wrapping
 * every file key under the new level key versions, destroying the old
 * versions once nothing uses them, expiring grants, and re-encrypting content
 * under fresh file keys.
 *
 * A rotation starts in one transaction (kt_revoke, kt_user_remove,
 * kt_expire, kt_rotate_levels): grants removed, new role key pairs sealed to
 * the remaining members and to the admin role (custody), new level key
 * versions sealed to every role holding the level, the key epoch bumped, and
 * a rotations row recording what is left to do. From that commit on, new
 * file keys are wrapped under the new versions (the daemon refreshes its
 * keyring when the epoch moves) and the revoked user can unlock nothing new.
 *
 * kt_rotation_run then re-wraps the file keys still under an old version,
 * in batches of a few hundred files per transaction (the daemon keeps
 * working between batches), recording its progress in the rotations row.
 * Old versions stay sealed until no file key uses them, so an interruption
 * (kill -9 included) at any point leaves every file readable, and running
 * it again continues where it stopped. The last step re-wraps any file key
 * still under an old version and destroys that version (its seals are
 * deleted, only its fingerprint stays in level_keys) in one transaction.
 *
 * What a revoked person can still do, and what they cannot: see
 * docs/threat-model.md ("Revocation") and docs/key-hierarchy.md.
 *
 * Errors as in keystore.h, and: -EINTR stopped by max_batches (resumable);
 * -EBADMSG some file keys or blobs failed authentication (the rest is done,
 * each one is recorded as an incident, the old key versions they need are
 * kept); -EOVERFLOW a role id or key version beyond the format's 16 bits.
 *
 * Defined in keytool/rotation.c (starting, re-wrapping), revoke.c (revoking,
 * removing a user, expiry) and reencrypt.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytool/keyring.h"
#include "meta/db.h"

#define KT_ROTATION_BATCH 500 /* files per transaction */

/* Progress of a long job: what ("re-wrapped", "re-encrypted"), done of total
 * files. Called after every batch. */
typedef void (*kt_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total);

struct kt_rotation_options {
	size_t batch;		 /* files per transaction; 0 = KT_ROTATION_BATCH */
	size_t max_batches;	 /* stop (-EINTR) after this many batches, 0 = no limit;
				  * for re-encryption every file is a batch (tests, crash drills) */
	kt_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	unsigned busy_wait_ms; /* re-encryption: how long to wait for a file open in a
				* running mount; 0 = REENCRYPT_BUSY_WAIT_MS (a minute) */
};

/* What a run did (added to, so one result can gather several runs). */
struct kt_rotation_result {
	uint64_t rotations; /* rotations finished */
	uint64_t files;	    /* file keys re-wrapped, or files re-encrypted */
	uint64_t bytes;	    /* re-encryption: plaintext bytes copied */
	uint64_t failed;    /* files whose key or blob did not authenticate */
	uint64_t destroyed; /* key versions destroyed */
};

/*
 * Start a rotation of the level keys in `levels` (bit L) without any
 * revocation: new versions sealed to every role holding them and to the admin
 * role, file keys to re-wrap (kt_rotation_run). reason goes to the record.
 */
int kt_rotate_levels(struct meta_db *db, struct kt_keyring *admin, uint32_t levels,
		     const char *reason);

/*
 * Finish every running re-wrap rotation, oldest first: batches of re-wrapped
 * file keys, then destruction of the old versions. 0 when nothing is left
 * (also when nothing was running). admin must be an administrator; its
 * keyring is refreshed as needed.
 */
int kt_rotation_run(struct meta_db *db, struct kt_keyring *admin,
		    const struct kt_rotation_options *opt, struct kt_rotation_result *ret);

/* Whether a rotation (re-wrap or re-encryption) is running: *ret_n of them. */
int kt_rotation_pending(struct meta_db *db, size_t *ret_n);

/*
 * Revoke: remove every version of user's grant of role, and in the same
 * transaction start a rotation (rotation.h): a new role key pair sealed to
 * the remaining members, new versions of the role's level keys sealed to
 * every role holding those levels, and a rotations row for re-wrapping the
 * file keys (kt_rotation_run finishes it). Revoking the admin role rotates
 * every role and level key, since the admin role held them all in custody.
 * Refuses to remove the last administrator's admin grant (-EPERM); -ENOENT
 * if user does not hold role. admin's keyring is refreshed afterwards (when
 * admin revoked their own admin grant it unlocks nothing more: -EACCES from
 * what follows, and another administrator finishes the rotation).
 */
int kt_revoke(struct meta_db *db, struct kt_keyring *admin, const char *user, const char *role);
/*
 * Remove a user: disable them (unlock refuses them; their row stays for the
 * access record) and revoke every role they hold, with one rotation of all
 * of them. -EPERM if they are the last administrator; -ENOENT unknown user;
 * -EALREADY already removed.
 */
int kt_user_remove(struct meta_db *db, struct kt_keyring *admin, const char *user);

/*
 * Expire: remove every grant whose expiry is at or before now_ns (each one
 * recorded, op "grant-expire"), and rotate their roles as a revocation does, in
 * one transaction. *ret_expired: grants removed (0: nothing changed).
 * Then run kt_rotation_run.
 */
int kt_expire(struct meta_db *db, struct kt_keyring *admin, int64_t now_ns, size_t *ret_expired);

/*
 * Content operations for re-encryption, provided by the caller (the command
 * uses keytool/chunk.c): this library never opens a blob.
 */
struct kt_copy_result {
	uint64_t bytes;	      /* plaintext size copied */
	uint64_t old_counter; /* write counter of the copied blob's header */
	uint64_t new_counter; /* write counter of the new blob's header: above
			       * old_counter, or equal for an empty file */
};

struct kt_content_ops {
	/* Copy the plaintext of blob old_id (file key old_key) into a new blob
	 * new_id under new_key, durable when it returns, its write counter
	 * carried over from the old blob's. -EBADMSG the old blob does not
	 * authenticate or its write counter is below expected_counter (the
	 * node's: an older copy was put back), -ENOENT it is missing; on error
	 * no new blob is left behind. */
	int (*copy)(void *ctx, const uint8_t old_id[KT_OBJECT_ID_BYTES],
		    const uint8_t old_key[KT_KEY_BYTES], uint64_t expected_counter,
		    const uint8_t new_id[KT_OBJECT_ID_BYTES], const uint8_t new_key[KT_KEY_BYTES],
		    struct kt_copy_result *ret);
	/* Remove a blob; -ENOENT if it is not there. */
	int (*remove)(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES]);
	void *ctx;
};

/*
 * Re-encrypt the content of every regular file of `levels` (bit L; 0 = all)
 * under a fresh file key and a new object id: copy the blob, then in one
 * transaction point the node at the new blob and key (only if it still
 * holds the old ones), then remove the old blob. Resumable: a running
 * re-encryption (its rotations row) is continued rather than a new one
 * started (`levels` is then the running one's), and a blob left behind by an
 * interruption is removed. Running re-wrap rotations are finished first.
 * Works under a running mount: ops->copy answers -EBUSY for a blob the
 * daemon has open, and the file is tried again until it is closed (a minute
 * at most, then -EBUSY: run again to resume).
 */
int kt_reencrypt_run(struct meta_db *db, struct kt_keyring *admin, uint32_t levels,
		     const struct kt_content_ops *ops, const struct kt_rotation_options *opt,
		     struct kt_rotation_result *ret);
