/*
 * keytool/keystore.h — the key hierarchy: creating a vault, users, roles,
 * grants, revocation, passphrase change, and unlocking a user's keys (and
 * refreshing them when the vault's keys change). Rotation of key versions
 * is in rotation.h, recovery by quorum in recovery.h.
 *
 *   passphrase ─Argon2id─► user secret ─unseals─► role secrets (grants)
 *   role secret ─unseals─► level keys (roles holding the level) and metadata key
 *   admin role secret ─unseals─► every role secret and level key (custody)
 *
 * The administration role is the key custodian: it can reach every key, as
 * it must to grant roles without the members' passphrases. Its own levels
 * are empty, so the daemon gives an administrator no content unless they are
 * also granted a role that holds levels (see docs/threat-model.md).
 *
 * Every operation that changes keys or grants appends an access record (op
 * "init", "user-add", "user-remove", "role-add", "grant", "revoke", "passwd",
 * and rotation.h's ops) in the same transaction; a refused one (not an
 * administrator, wrong passphrase) is recorded as a denial and changes
 * nothing else.
 *
 * The key epoch (vault_config "key_epoch", an integer) grows in the same
 * transaction as every change that alters what some keyring would hold: a
 * grant, a revocation, new key versions, destroyed key versions, a reset
 * passphrase. A process holding a keyring (the daemon) compares it with
 * kt_keyring_epoch() and calls kt_keyring_refresh() when it moved.
 * Administration functions refresh the administrator's own keyring
 * themselves when it is behind (which is why they take it non-const).
 *
 * Errors: 0 or -errno: -EACCES wrong passphrase / not allowed; -ENOENT unknown
 * user or role; -EEXIST name taken; -EINVAL bad name or argument; -ENOKEY a
 * key the operation needs is not reachable; -EBUSY database busy; -EIO storage.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytool/crypto.h"
#include "meta/db.h"
#include "meta/keydb.h"

/* Default level names (DESIGN.md §3); level 4 is refused, never stored. */
extern const char *const kt_default_level_names[META_LEVELS];

struct kt_init_options {
	const char *admin;	/* name of the first administrator */
	const char *passphrase; /* their passphrase */
	size_t passphrase_len;
	enum kt_kdf_profile kdf;	      /* stored in the vault for later users */
	const char *level_names[META_LEVELS]; /* NULL entries take the defaults */
	int64_t admin_uid;		      /* -1: by login name */
};

/*
 * Create a vault in dir (created if missing, must not hold a vault): schema,
 * level keys 0..3 and metadata key (version 1), the default roles (admin,
 * owner, member, auditor, external: DESIGN.md §3) with their key pairs, and
 * the administrator user granted the admin role.
 */
int kt_vault_init(const char *dir, const struct kt_init_options *opt);

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
 * Re-read the keyring's user, grants and sealed keys with the user secret it
 * keeps (no passphrase): roles no longer granted, or whose grant expired, are
 * dropped; new key versions and new grants are picked up. A user who was
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

/* Administration; admin must hold the admin role (else -EACCES, recorded). */
int kt_user_add(struct meta_db *db, struct kt_keyring *admin, const char *name, int64_t uid,
		const char *passphrase, size_t pass_len);
/* levels: bit mask of 0..3; flags: META_ROLE_READ_ONLY | META_ROLE_DECLASSIFY | ... */
int kt_role_add(struct meta_db *db, struct kt_keyring *admin, const char *name, uint32_t levels,
		uint32_t flags);
/* expires_ns 0 = never; roles with META_ROLE_EXPIRING require one (-EINVAL);
 * -EPERM the user was removed. */
int kt_grant(struct meta_db *db, struct kt_keyring *admin, const char *user, const char *role,
	     int64_t expires_ns);
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
/* Change user's passphrase (needs the old one; -EACCES if wrong). */
int kt_passwd(struct meta_db *db, const char *user, const char *old_pass, size_t old_len,
	      const char *new_pass, size_t new_len);

/*
 * The identity (uid, pid, process name) recorded for key operations that
 * this thread performs: by default this process's own. A daemon acting for
 * another process (the unlock socket of a multi-user mount) sets the peer's
 * identity around the call, so a refused unlock names who tried. Thread-local.
 */
void kt_actor_set(int64_t uid, int64_t pid, const char *comm);
void kt_actor_clear(void);

/* Name rules for users and roles: [a-z_][a-z0-9_.-]{0,63}. */
bool kt_name_valid(const char *name);
/* The configured name of level 0..3 (vault_config level_name.N, else the
 * default) into buf; -EINVAL for another level, -ENOBUFS if buf is too small. */
int kt_level_name(struct meta_db *db, uint8_t level, char *buf, size_t len);
/* Parse a level given as a number or a (configured) level name; -EINVAL if
 * neither; returns 4 for the refused level so the caller can record it. */
int kt_level_parse(struct meta_db *db, const char *text, uint8_t *ret_level);
