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
/*
 * As an administrator (admin, refreshed afterwards), give a vault that has
 * no signing keys its two (recorded as op "sign-keys-new"): 1 made, 0 it had
 * them.
 */
int kt_sign_keys_ensure(struct meta_db *db, struct kt_keyring *admin);

/* The Ed25519 secret key (seed || public key) of a seed, into secure memory
 * from kt_secure_alloc (free with kt_secure_free); NULL when out of memory. */
uint8_t *kt_sign_secret_from_seed(const uint8_t seed[KT_KEY_BYTES]);
