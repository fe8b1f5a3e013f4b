/*
 * meta/users.h — storage of the vault's users: name, OS uid, public key and
 * passphrase-sealed secret key, disabled or not; and the vault user of an OS
 * uid (meta_user_for_uid), as the daemon and both commands find it.
 *
 * The key blobs are opaque here; what they mean is keytool's business
 * (keytool/keystore.h). Every function is one SQL statement or a short
 * sequence inside the caller's transaction, if one is open.
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

#define META_NAME_MAX	       64  /* user and role names: [a-z_][a-z0-9_.-]*, ≤ 64 */
#define META_USER_SECRET_BYTES 100 /* keytool user secret blob, docs/format.md §3 */

struct meta_user {
	int64_t id;			       /* users.id */
	char name[META_NAME_MAX + 1];	       /* login-like name, unique */
	int64_t uid;			       /* OS uid mapped to this user, -1 = by login name */
	uint8_t public_key[META_PUBKEY_BYTES]; /* X25519 public key */
	uint8_t secret_sealed[META_USER_SECRET_BYTES]; /* passphrase-sealed secret key */
	int64_t created_ns;			       /* UTC ns */
	bool disabled;				       /* refused at unlock */
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
int meta_user_set_secret(struct meta_db *db, int64_t id,
			 const uint8_t secret_sealed[META_USER_SECRET_BYTES]);
/* All users ordered by name; *ret_users is malloc'd (free()), *ret_n its count. */
int meta_user_list(struct meta_db *db, struct meta_user **ret_users, size_t *ret_n);
/* Mark a user disabled (refused at unlock) or enabled again. */
int meta_user_set_disabled(struct meta_db *db, int64_t id, bool disabled);
/* Replace a user's key pair: new public key and its passphrase-sealed secret. */
int meta_user_set_keys(struct meta_db *db, int64_t id, const uint8_t public_key[META_PUBKEY_BYTES],
		       const uint8_t secret_sealed[META_USER_SECRET_BYTES]);
