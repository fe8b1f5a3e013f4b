/*
 * keytool/keyring.h — the daemon's door to the key hierarchy: unlocking a
 * user's keys with their passphrase, the keys and rights a keyring holds,
 * and refreshing it when the vault's keys change (keytool/keyring.c).
 * Administration (creating a vault, users, roles, grants) is keystore.h's,
 * rotation and revocation rotation.h's, recovery by quorum recovery.h's.
 *
 *   passphrase ─Argon2id─► user secret ─unseals─► role secrets (grants)
 *   role secret ─unseals─► level keys (roles holding the level) and metadata key
 *   admin role secret ─unseals─► every role secret and level key (custody)
 *
 * The key epoch (vault_config "key_epoch", an integer) grows in the same
 * transaction as every change that alters what some keyring would hold: a
 * grant, a revocation, new key versions, destroyed key versions, a reset
 * passphrase. A process holding a keyring (the daemon) compares it with
 * kt_keyring_epoch() and calls kt_keyring_refresh() when it moved.
 *
 * Errors: 0 or -errno: -EACCES wrong passphrase / not allowed; -ENOENT unknown
 * user; -ENOKEY a key is not held; -EBUSY database busy; -EIO storage.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytool/crypto.h"
#include "meta/db.h"
#include "meta/users.h"

/* A user's unlocked keys. Opaque; all key material in secure memory. */
struct kt_keyring;

/*
 * Unlock user's keys with their passphrase: open the user secret, unseal
 * every granted (unexpired) role, and from those the level and metadata keys.
 * A wrong passphrase is recorded as a denial (when db is writable) and
 * returns -EACCES; an unknown user -ENOENT; a disabled user -EACCES.
 * A grant or sealed key that does not open as exactly what its row says, or
 * whose key does not match the fingerprint in level_keys/meta_keys, is an
 * integrity incident: recorded (op "unlock", outcome -EBADMSG, when db is
 * writable), that role or key left out of the keyring, the rest unlocked.
 * So is a key or policy row (the grant, its role and role key, the seal, its
 * level_keys/meta_keys/sign_keys row) that does not carry the administration
 * key's signature (docs/format.md §13): with a version 2 user secret (§3),
 * the key it binds checks every row and a missing signature is refused too;
 * with a version 1 secret, a bad one is refused and a missing one tolerated,
 * and the secret is sealed again as version 2 when the vault's rows are
 * signed ("secret-upgrade"). The user's own row not as signed: nothing
 * unlocks, -EBADMSG. A version 2 secret whose administration key was
 * replaced in sign_keys does not open: -EACCES, as a wrong passphrase.
 */
int kt_unlock(struct meta_db *db, const char *user, const char *passphrase, size_t pass_len,
	      struct kt_keyring **ret_keyring);
struct kt_keyring *kt_keyring_free(struct kt_keyring *kr);

const struct meta_user *kt_keyring_user(const struct kt_keyring *kr);
/* Union of the flags (META_ROLE_*) of the user's roles. */
uint32_t kt_keyring_flags(const struct kt_keyring *kr);
/* Bit L set: the user holds level L (may read) / holds it through a role
 * that is not read-only (may write). */
uint32_t kt_keyring_readable(const struct kt_keyring *kr);
uint32_t kt_keyring_writable(const struct kt_keyring *kr);
/* A level key by version (reading); -ENOKEY if not held through a role that
 * holds the level (custody does not count). *ret_key stays owned by the keyring. */
int kt_keyring_level_key(const struct kt_keyring *kr, uint8_t level, uint32_t version,
			 const uint8_t **ret_key);
/*
 * Wipe the keys of level that the keyring holds through its roles (custody
 * keys of an administrator stay: they give no content) and clear the level
 * from readable/writable, until the next refresh. Used for idle expiry of one
 * level while others stay unlocked.
 */
void kt_keyring_forget_level(struct kt_keyring *kr, uint8_t level);
/* The current version of a level key (writing, wrapping new file keys). */
int kt_keyring_level_current(const struct kt_keyring *kr, uint8_t level, uint32_t *ret_version,
			     const uint8_t **ret_key);
/* The metadata subkeys, or NULL if no role of the user holds the metadata key. */
const struct kt_meta_keys *kt_keyring_meta(const struct kt_keyring *kr);
/*
 * Administrators only: a level key held in custody through the admin role
 * (what kt_role_add seals to a new role); -ENOKEY if not held. Custody is not
 * a clearance: content is read only with kt_keyring_level_key, which answers
 * for the levels of the user's roles. *ret_key stays owned by the keyring.
 */
int kt_keyring_custody_key(const struct kt_keyring *kr, uint8_t level, uint32_t version,
			   const uint8_t **ret_key);

/*
 * The newest signing key of kind (KT_SEAL_CHECKPOINT: every role holds it;
 * KT_SEAL_ADMIN_SIGN: the admin role) held: its version and 32-byte Ed25519
 * seed (owned by the keyring, valid until the next refresh). -ENOKEY when
 * none is held (a vault made before signing keys existed, until an
 * administrator adds them: kt_sign_keys_ensure).
 */
int kt_keyring_sign_seed(const struct kt_keyring *kr, int kind, uint32_t *ret_version,
			 const uint8_t **ret_seed);

/*
 * Re-read the keyring's user, grants and sealed keys with the user secret it
 * keeps (no passphrase): roles no longer granted, or whose grant expired, are
 * dropped; new key versions and new grants are picked up. Rows are checked
 * as at unlock, with the administration key the unlock authenticated. A user who was
 * removed, disabled or given a new key pair (recovery) loses every key:
 * -EACCES, and the keyring unlocks nothing more. A recovery keyring
 * (recovery.h) is refreshed while the admin role key is unchanged, else
 * -EACCES. On any other error the keyring is left as it was.
 *
 * Pointers returned earlier by kt_keyring_level_key, _level_current and
 * _custody_key are invalid after a refresh; kt_keyring_meta's pointer stays
 * valid while the metadata key version is unchanged and still held (fetch it
 * again after each refresh). Call it outside any transaction of the caller's
 * (it takes its own, to see one consistent state) or inside one.
 * Locking: none here; the caller serialises it with every use of kr.
 */
int kt_keyring_refresh(struct meta_db *db, struct kt_keyring *kr);
/*
 * Refresh kr if the vault's key epoch moved since its unlock or last refresh:
 * 1 refreshed, 0 already current, or kt_keyring_refresh's errors.
 *
 * The daemon's side of rotation (what keeps every file readable while keys
 * rotate under a mount): call this inside the same transaction that stores a
 * newly wrapped file key (create, a level change), before wrapping, so a
 * key is never wrapped under a version the rotation has destroyed; and on
 * -ENOKEY for a file's level key version, call it and try once more.
 */
int kt_keyring_sync(struct meta_db *db, struct kt_keyring *kr);
/* The vault's key epoch (0 if never set); the keyring's, as of its unlock or
 * last refresh. */
int kt_key_epoch(struct meta_db *db, int64_t *ret);
int64_t kt_keyring_epoch(const struct kt_keyring *kr);
/* The earliest expiry (UTC ns) among the grants the keyring unlocked, 0 if
 * none expires: refresh at that time to drop the role. */
int64_t kt_keyring_next_expiry(const struct kt_keyring *kr);
