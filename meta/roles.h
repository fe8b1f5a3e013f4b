/*
 * meta/roles.h — storage of roles (the levels and powers they carry) and of
 * their key pairs, one row per version: the public key and, for every role
 * but the administration role, the role secret sealed to the administration
 * role (custody).
 *
 * The key blobs are opaque here; what they mean is keytool's business
 * (keytool/keystore.h). Every function is one SQL statement inside the
 * caller's transaction, if one is open.
 *
 * Errors: 0 on success; -ENOENT no such row; -EEXIST unique name taken;
 * -EINVAL bad argument; -EIO SQLite failure or a row that does not hold what
 * the schema promises; -EBUSY database locked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/keys.h"
#include "meta/users.h"

/* Role flags (roles.flags). */
#define META_ROLE_READ_ONLY  0x01 /* levels may be read, not written */
#define META_ROLE_ADMIN	     0x02 /* administration: users, roles, grants, keys */
#define META_ROLE_DECLASSIFY 0x04 /* may lower a file's level */
#define META_ROLE_AUDITOR    0x08 /* auditors' role (metadata key, no levels) */
#define META_ROLE_EXPIRING   0x10 /* grants of this role must carry an expiry */

struct meta_role {
	int64_t id;		      /* roles.id */
	char name[META_NAME_MAX + 1]; /* unique */
	uint32_t levels;	      /* bit L set: the role holds level L */
	uint32_t flags;		      /* META_ROLE_* */
	uint32_t key_version;	      /* current version of the role key pair */
	int64_t created_ns;
};

struct meta_role_key {
	int64_t role_id;
	uint32_t version;
	uint8_t public_key[META_PUBKEY_BYTES];
	bool has_custody;			   /* false for the administration role */
	uint8_t custody_sealed[META_SEALED_BYTES]; /* role secret sealed to admin role */
	int64_t created_ns;
};

/* Roles. add sets r->id. */
int meta_role_add(struct meta_db *db, struct meta_role *r);
int meta_role_get_by_name(struct meta_db *db, const char *name, struct meta_role *ret_role);
int meta_role_get_by_id(struct meta_db *db, int64_t id, struct meta_role *ret_role);
/* The (first) role carrying this flag, e.g. META_ROLE_ADMIN. */
int meta_role_get_by_flag(struct meta_db *db, uint32_t flag, struct meta_role *ret_role);
int meta_role_list(struct meta_db *db, struct meta_role **ret_roles, size_t *ret_n);

/* Role key pairs, one row per version. */
int meta_role_key_add(struct meta_db *db, const struct meta_role_key *k);
int meta_role_key_get(struct meta_db *db, int64_t role_id, uint32_t version,
		      struct meta_role_key *ret_key);
/* Set roles.key_version (the role's current key pair). */
int meta_role_set_key_version(struct meta_db *db, int64_t role_id, uint32_t version);
/* Every key pair row of a role, ordered by version; *ret malloc'd. */
int meta_role_key_list(struct meta_db *db, int64_t role_id, struct meta_role_key **ret,
		       size_t *ret_n);
/* Replace a role key row's custody seal. -ENOENT no such row. */
int meta_role_key_set_custody(struct meta_db *db, int64_t role_id, uint32_t version,
			      const uint8_t sealed[META_SEALED_BYTES]);
/* Delete a role's key pair rows with version < below (none is fine). */
int meta_role_key_remove_below(struct meta_db *db, int64_t role_id, uint32_t below);
