/*
 * keytool/signing.h — the vault's two signing identities (Ed25519;
 * docs/key-hierarchy.md, docs/format.md §11).
 *
 *   checkpoint key  signs checkpoints of the access record; sealed to every
 *                   role (kind 4), so a running daemon, a key tool and an
 *                   auditor can all sign: its signature shows a checkpoint
 *                   came from inside the vault, the anchors outside the
 *                   vault show the past was not rewritten.
 *   admin key       signs key and policy rows; sealed to the admin role
 *                   alone (kind 5).
 *
 * Each is a 32-byte seed sealed like the other keys (§4), with its public
 * key in sign_keys; unlock checks that the seed gives that public key.
 *
 * Errors: -EACCES not an administrator; -EEXIST already there; -ENOKEY no
 * role key to seal to; -EIO, -EBUSY from the database; -ENOMEM.
 */
#pragma once

#include <stdint.h>

#include "keytool/crypto.h"
#include "keytool/keyring.h"
#include "meta/db.h"
#include "meta/rowsig.h"

#define KT_SIGN_PK_BYTES 32
#define KT_SIGN_SK_BYTES 64 /* libsodium's Ed25519 secret key: seed || public key */

/*
 * Make both signing keys (version 1) in the caller's transaction: random
 * seeds, their sign_keys rows, and their seals to the current key of every
 * role (the checkpoint key) or of the admin role (the admin key). Used by
 * vault creation, and by kt_sign_keys_ensure for a vault made before
 * signing keys existed. -EEXIST if the vault has them.
 */
int kt_sign_keys_create(struct meta_db *db);
/* The same with the administration key's seed given (vault creation binds
 * its public key into the first administrator's secret first); NULL random. */
int kt_sign_keys_create_seeded(struct meta_db *db, const uint8_t *admin_seed);
/*
 * As an administrator (admin, refreshed afterwards), give a vault that has
 * no signing keys its two (recorded as op "sign-keys-new"), then sign every
 * row of a vault whose rows were never signed (kt_rows_ensure): 1 something
 * was done, 0 nothing to do.
 */
int kt_sign_keys_ensure(struct meta_db *db, struct kt_keyring *admin);

/* The Ed25519 secret key (seed || public key) of a seed, into secure memory
 * from kt_secure_alloc (free with kt_secure_free); NULL when out of memory. */
uint8_t *kt_sign_secret_from_seed(const uint8_t seed[KT_KEY_BYTES]);

/*
 * Row signatures (docs/format.md §13). Check the administration key's
 * signature of one row: 0 valid, -ENODATA unsigned, -EBADMSG a bad
 * signature (or a stored value the schema does not allow), -ENOENT no such
 * row, -EIO, -EBUSY.
 */
int kt_row_verify(struct meta_db *db, const uint8_t admin_pk[KT_SIGN_PK_BYTES],
		  const struct meta_row_ref *ref);
/* In the caller's transaction: sign every signed row of the vault with the
 * administration key's seed, and mark the vault as signed (vault_config
 * rows_signed = 1). For vault creation and kt_rows_ensure. */
int kt_rows_sign_all(struct meta_db *db, const uint8_t seed[KT_KEY_BYTES]);
/* Whether every row of the vault was signed once (vault_config rows_signed). */
int kt_rows_signed(struct meta_db *db, bool *ret);
/*
 * As an administrator (admin), sign every row of a vault from before row
 * signatures, once (recorded as op "rows-sign"): 1 signed, 0 nothing to do
 * (already signed, or no administration key held yet). -EBADMSG when the
 * vault says it was never signed but admin's user secret binds the
 * administration key (version 2): someone reset the mark; nothing is signed.
 */
int kt_rows_ensure(struct meta_db *db, struct kt_keyring *admin);
/* The public key of the newest administration signing key (sign_keys kind
 * 5; unauthenticated: as the database says). -ENOENT none. */
int kt_admin_sign_pk(struct meta_db *db, uint8_t ret_pk[KT_SIGN_PK_BYTES]);
