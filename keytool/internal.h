/*
 * keytool/internal.h — private to the keytool library's key hierarchy
 * (keyring.c, names.c, record.c, admin.c, users.c, roles.c, init.c,
 * rotation.c, revoke.c, reencrypt.c, recovery.c): the keyring's layout and
 * the helpers the administration code shares (transactions with the admin
 * check, access records, custody, the key epoch, starting a rotation).
 *
 * Locking: a keyring is not locked here; callers serialise its use with its
 * refresh (kt_keyring_refresh replaces its contents).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keytool/keystore.h"
#include "meta/cleanup.h"

#define KT_ALL_LEVELS	   ((1u << META_LEVELS) - 1)
#define KT_SEAL_FIELD_MAX  0xffffu /* id and version fields of a sealed key are u16 (§4) */
#define KT_EPOCH_KEY	   "key_epoch"
#define KT_KDF_PROFILE_KEY "kdf_profile"

/* A level, metadata or signing key (seed) in a keyring. */
struct kt_key_entry {
	uint8_t kind;	  /* KT_SEAL_LEVEL, _METADATA, _CHECKPOINT or _ADMIN_SIGN */
	uint8_t level;	  /* 0..3; 0 for the other kinds */
	bool clearance;	  /* reached through a role holding it: may be used */
	bool custody;	  /* reached through the admin role: may be sealed on */
	uint32_t version; /* key version */
	uint8_t key[KT_KEY_BYTES];
};

struct kt_keyring {
	struct meta_user user;	   /* the unlocked user (public columns only) */
	uint32_t flags;		   /* union of the unlocked roles' flags */
	uint32_t readable;	   /* levels with a key through some role */
	uint32_t writable;	   /* ... through a role that is not read-only */
	struct kt_key_entry *keys; /* kt_secure_allocarray'd, n_keys of cap_keys used */
	size_t n_keys;
	size_t cap_keys;
	struct kt_meta_keys *meta; /* subkeys of the newest metadata key, or NULL */
	bool admin;		   /* holds the current admin role key */
	int64_t admin_role_id;	   /* valid when admin */
	uint32_t admin_role_version;
	uint8_t admin_pk[KT_KEY_BYTES];
	uint8_t *admin_sk; /* kt_secure_alloc'd; NULL unless admin */
	uint8_t *user_sk;  /* kt_secure_alloc'd user secret, kept for refresh; NULL for recovery */
	int64_t epoch;	   /* key_epoch when unlocked or last refreshed */
	int64_t next_expiry;	      /* earliest expiry among the grants unlocked, 0 none */
	bool recovery;		      /* unlocked by recovery shares: an admin without a user */
	bool rows_strict;	      /* row_pk authenticated by a version 2 user secret (§3):
					 every row used must carry its valid signature */
	bool has_row_pk;	      /* row_pk is set (strict, or as sign_keys says) */
	uint8_t row_pk[KT_KEY_BYTES]; /* the administration key rows are checked with */
};

/* Append one key-operation record (inside the caller's transaction, if any). */
int kt_record(struct meta_db *db, const char *user, const char *op, const char *detail,
	      int outcome);
/* The same about one file (inode, level; 0 and -1 for none). */
int kt_record_file(struct meta_db *db, const char *user, const char *op, uint64_t ino, int level,
		   const char *detail, int outcome);
/* "2026-11-22T10:00:00Z" for a detail line. */
void kt_format_utc(int64_t ns, char *buf, size_t size);

/*
 * Begin an administration: the transaction, and the check that kr is still an
 * administrator holding the current admin role key. A keyring unlocked before
 * the vault's keys changed (key_epoch) is refreshed first. On -EACCES the
 * denial is recorded and no transaction is left open.
 */
int kt_admin_begin(struct meta_db *db, struct kt_keyring *kr, const char *op, const char *detail);
/* Finish an administration: on success its record and the commit, else roll
 * everything back. Returns r, or the commit's error. */
int kt_admin_end(struct meta_db *db, const struct kt_keyring *kr, const char *op,
		 const char *detail, int r);
/* Refuse (and record) an administration by someone who is not one: -EACCES. */
int kt_deny(struct meta_db *db, const struct kt_keyring *kr, const char *op, const char *detail);

/* The current secret key of role, from custody (or the admin's own key). */
int kt_role_secret(struct meta_db *db, const struct kt_keyring *admin, const struct meta_role *role,
		   uint8_t ret_sk[KT_KEY_BYTES]);
/* Add key_epoch + 1 (inside the caller's transaction); *ret_epoch the new value. */
int kt_epoch_bump(struct meta_db *db, int64_t *ret_epoch);
/* Whether some enabled user other than user_id holds an unexpired admin grant. */
int kt_other_admin_exists(struct meta_db *db, int64_t admin_role_id, int64_t user_id,
			  bool *ret_exists);
/* The vault's KDF profile for new user secrets (interactive if unset). */
int kt_vault_kdf_profile(struct meta_db *db, enum kt_kdf_profile *ret_profile);

/*
 * Load kr's keys with the admin role's secret (version, key pair) alone, as
 * a recovery keyring: custody of every key sealed to that admin version.
 * kr->user must be set; kr->admin_sk is taken over (set NULL by the caller).
 */
int kt_keyring_load_admin(struct meta_db *db, struct kt_keyring *kr,
			  const struct meta_role *admin_role, uint32_t version,
			  const uint8_t pk[KT_KEY_BYTES], uint8_t *sk);

/* rowsig.c: sign the rows this administration wrote (meta_row_track), if
 * kr holds the administration key; called by kt_admin_end before commit. */
int kt_rows_sign_dirty(struct meta_db *db, const struct kt_keyring *kr);
/* rowsig.c: the Ed25519 public key of the administration seed kr holds. */
int kt_keyring_admin_pk(const struct kt_keyring *kr, uint8_t ret_pk[KT_KEY_BYTES]);
/* rowsig.c: the administration key a user secret sealed now binds (§3
 * version 2): *ret_bind false (version 1) while the vault's rows are not
 * signed yet or it has no administration key. */
int kt_secret_admin_pk(struct meta_db *db, uint8_t ret_pk[KT_KEY_BYTES], bool *ret_bind);

/* names.c: copy text into an access record field: invalid UTF-8 and control
 * characters become '?', and the copy is cut at a character boundary. */
void kt_copy_printable(char *dst, size_t size, const char *src);
/* names.c: -EINVAL unless the four level names of a new vault are valid
 * configurable names, distinct, and none another level's English name. */
int kt_level_names_check(const char *const names[META_LEVELS]);

/* users.c: a fresh user key pair with its secret sealed under passphrase,
 * bound to admin_pk (§3 version 2; NULL: version 1) (Argon2id: call it
 * outside any transaction). */
int kt_user_make(const char *name, int64_t uid, const char *passphrase, size_t pass_len,
		 enum kt_kdf_profile profile, const uint8_t *admin_pk, struct meta_user *ret_user);

/* rotation.c: inside the caller's administration transaction
 * (kt_admin_begin), rotate the roles role_ids[0..n_ids) (every role if the
 * admin role is one of them) and the levels they hold plus extra_levels;
 * record it as a rotations row. */
int kt_rotation_start(struct meta_db *db, struct kt_keyring *admin, const int64_t *role_ids,
		      size_t n_ids, uint32_t extra_levels, const char *reason,
		      int64_t *ret_rotation);
/* rotation.c: the key (kind, id, version) in custody; NULL if not held. */
const uint8_t *kt_custody_key(const struct kt_keyring *admin, uint8_t kind, uint8_t id,
			      uint32_t version);
/* rotation.c: the current version and key of each level in custody. */
struct kt_current_keys {
	uint32_t version[META_LEVELS];
	const uint8_t *key[META_LEVELS]; /* into the admin keyring; NULL if not held */
};
/* -ENOKEY if a level in `levels` has no current key in custody. */
int kt_current_keys(struct meta_db *db, const struct kt_keyring *admin, uint32_t levels,
		    struct kt_current_keys *ret);
