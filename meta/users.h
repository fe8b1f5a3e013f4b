/*
 * meta/users.h — storage of users, roles, grants and sealed keys.
 *
 * These tables hold only public keys and sealed (encrypted) keys; what the
 * blobs mean and how they are made is keytool's business (keytool/keystore.h).
 * Every function here is one SQL statement or a short sequence inside the
 * caller's transaction.
 *
 * Errors: 0 on success; -ENOENT no such row; -EEXIST unique name taken;
 * -EIO SQLite failure; -EBUSY database locked.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "meta/db.h"

#define META_NAME_MAX 64	 /* user and role names: [a-z_][a-z0-9_.-]*, ≤ 64 */
#define META_PUBKEY_BYTES 32
#define META_SEALED_BYTES 89	 /* keytool sealed-key format, docs/format.md §4 */
#define META_USER_SECRET_BYTES 100 /* keytool user secret blob, §3 */
#define META_FINGERPRINT_BYTES 8

/* Role flags (roles.flags). */
#define META_ROLE_READ_ONLY 0x01  /* levels may be read, not written */
#define META_ROLE_ADMIN 0x02	  /* administration: users, roles, grants, keys */
#define META_ROLE_DECLASSIFY 0x04 /* may lower a file's level */
#define META_ROLE_AUDITOR 0x08	  /* auditors' role (metadata key, no levels) */
#define META_ROLE_EXPIRING 0x10	  /* grants of this role must carry an expiry */

/* Kinds of symmetric key sealed to roles (key_seals.kind; also format §4). */
#define META_KEY_LEVEL 2
#define META_KEY_METADATA 3

struct meta_user {
	int64_t id;			/* users.id */
	char name[META_NAME_MAX + 1];	/* login-like name, unique */
	int64_t uid;			/* OS uid mapped to this user, -1 = by login name */
	uint8_t public_key[META_PUBKEY_BYTES];	/* X25519 public key */
	uint8_t secret_sealed[META_USER_SECRET_BYTES]; /* passphrase-sealed secret key */
	int64_t created_ns;		/* UTC ns */
	bool disabled;			/* refused at unlock */
};

struct meta_role {
	int64_t id;			/* roles.id */
	char name[META_NAME_MAX + 1];	/* unique */
	uint32_t levels;		/* bit L set: the role holds level L */
	uint32_t flags;			/* META_ROLE_* */
	uint32_t key_version;		/* current version of the role key pair */
	int64_t created_ns;
};

struct meta_role_key {
	int64_t role_id;
	uint32_t version;
	uint8_t public_key[META_PUBKEY_BYTES];
	bool has_custody;		/* false for the administration role */
	uint8_t custody_sealed[META_SEALED_BYTES]; /* role secret sealed to admin role */
	int64_t created_ns;
};

struct meta_grant {
	int64_t user_id;
	int64_t role_id;
	uint32_t role_version;
	uint8_t sealed[META_SEALED_BYTES]; /* role secret sealed to the user */
	int64_t granted_by;		/* users.id of the granting admin, 0 at init */
	int64_t granted_at_ns;
	int64_t expires_ns;		/* 0 = never */
	/* filled by listings only: */
	char user_name[META_NAME_MAX + 1];
	char role_name[META_NAME_MAX + 1];
};

struct meta_key_version {
	int kind;			/* META_KEY_LEVEL or META_KEY_METADATA */
	uint32_t id;			/* level, or 0 for metadata */
	uint32_t version;
	uint8_t fingerprint[META_FINGERPRINT_BYTES];
	int64_t created_ns;
};

struct meta_key_seal {
	int kind;
	uint32_t id;
	uint32_t version;
	int64_t role_id;
	uint32_t role_version;
	uint8_t sealed[META_SEALED_BYTES];
};

/* Users. add sets u->id (input id ignored). */
int meta_user_add(struct meta_db *db, struct meta_user *u);
int meta_user_get_by_name(struct meta_db *db, const char *name, struct meta_user *ret_user);
int meta_user_get_by_id(struct meta_db *db, int64_t id, struct meta_user *ret_user);
/* The user whose uid column equals uid; -ENOENT if none. */
int meta_user_get_by_uid(struct meta_db *db, int64_t uid, struct meta_user *ret_user);
/*
 * The vault user of an OS uid, as every program finds it: the user whose uid
 * column equals uid, else the user named like uid's login name who has no
 * uid of their own. -ENOENT if neither; other errors as the lookups give
 * them. *ret_user is written only on success.
 */
int meta_user_for_uid(struct meta_db *db, int64_t uid, struct meta_user *ret_user);
int meta_user_set_secret(struct meta_db *db, int64_t id, const uint8_t secret_sealed[META_USER_SECRET_BYTES]);
/* All users ordered by name; *ret_users is malloc'd (free()), *ret_n its count. */
int meta_user_list(struct meta_db *db, struct meta_user **ret_users, size_t *ret_n);

/* Roles. add sets r->id. */
int meta_role_add(struct meta_db *db, struct meta_role *r);
int meta_role_get_by_name(struct meta_db *db, const char *name, struct meta_role *ret_role);
int meta_role_get_by_id(struct meta_db *db, int64_t id, struct meta_role *ret_role);
/* The (first) role carrying this flag, e.g. META_ROLE_ADMIN. */
int meta_role_get_by_flag(struct meta_db *db, uint32_t flag, struct meta_role *ret_role);
int meta_role_list(struct meta_db *db, struct meta_role **ret_roles, size_t *ret_n);

/* Role key pairs, one row per version. */
int meta_role_key_add(struct meta_db *db, const struct meta_role_key *k);
int meta_role_key_get(struct meta_db *db, int64_t role_id, uint32_t version, struct meta_role_key *ret_key);

/* Grants. add replaces an existing row with the same (user, role, version). */
int meta_grant_add(struct meta_db *db, const struct meta_grant *g);
/* Remove every version of user's grant of role; -ENOENT if there was none. */
int meta_grant_remove(struct meta_db *db, int64_t user_id, int64_t role_id);
/* The user's grants (all roles, all versions), ordered by role id, version. */
int meta_grant_list_user(struct meta_db *db, int64_t user_id, struct meta_grant **ret, size_t *ret_n);
/* Every grant with user and role names filled, ordered by user name, role name. */
int meta_grant_list_all(struct meta_db *db, struct meta_grant **ret, size_t *ret_n);

/* Versions of level and metadata keys. */
int meta_key_version_add(struct meta_db *db, const struct meta_key_version *v);
/* The highest version of (kind, id); -ENOENT if none. */
int meta_key_version_current(struct meta_db *db, int kind, uint32_t id, struct meta_key_version *ret);
int meta_key_version_list(struct meta_db *db, struct meta_key_version **ret, size_t *ret_n);

/* Sealed symmetric keys. add replaces an existing identical key row. */
int meta_key_seal_add(struct meta_db *db, const struct meta_key_seal *s);
/* Every seal addressed to (role_id, role_version), any kind. */
int meta_key_seal_list_role(struct meta_db *db, int64_t role_id, uint32_t role_version,
			    struct meta_key_seal **ret, size_t *ret_n);
