/*
 * meta/grants.h — storage of grants: a role's secret key sealed to a user,
 * one row per (user, role, role key version), with who granted it, when,
 * and its expiry. Users and roles are named by id (users.h, roles.h).
 *
 * The seal is opaque here; what it means is keytool's business
 * (keytool/keystore.h). Every function is one SQL statement inside the
 * caller's transaction, if one is open.
 *
 * Errors: 0 on success; -ENOENT no such row; -EEXIST unique name taken;
 * -EINVAL bad argument; -EIO SQLite failure or a row that does not hold what
 * the schema promises; -EBUSY database locked.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/keys.h"
#include "meta/users.h"

struct meta_grant {
	int64_t user_id;
	int64_t role_id;
	uint32_t role_version;
	uint8_t sealed[META_SEALED_BYTES]; /* role secret sealed to the user */
	int64_t granted_by;		   /* users.id of the granting admin, 0 at init */
	int64_t granted_at_ns;
	int64_t expires_ns; /* 0 = never */
	/* filled by listings only: */
	char user_name[META_NAME_MAX + 1];
	char role_name[META_NAME_MAX + 1];
};

/* Grants. add replaces an existing row with the same (user, role, version). */
int meta_grant_add(struct meta_db *db, const struct meta_grant *g);
/* Remove every version of user's grant of role; -ENOENT if there was none. */
int meta_grant_remove(struct meta_db *db, int64_t user_id, int64_t role_id);
/* The user's grants (all roles, all versions), ordered by role id, version. */
int meta_grant_list_user(struct meta_db *db, int64_t user_id, struct meta_grant **ret,
			 size_t *ret_n);
/* Every grant with user and role names filled, ordered by user name, role name. */
int meta_grant_list_all(struct meta_db *db, struct meta_grant **ret, size_t *ret_n);
/* Every grant of a role (all versions), names filled, ordered by user name. */
int meta_grant_list_role(struct meta_db *db, int64_t role_id, struct meta_grant **ret,
			 size_t *ret_n);
/* Delete a role's grants with role_version < below (none is fine). */
int meta_grant_remove_below(struct meta_db *db, int64_t role_id, uint32_t below);
