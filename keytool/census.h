/*
 * keytool/census.h — the key census behind `vaultfs-keytool list keys`
 * (keytool/census.c): every level and metadata key version with its seals
 * and the files wrapped under it, every role's key versions and members,
 * and the rotations, read in one snapshot. Only public data: fingerprints,
 * never a key. The command formats it (table or JSON).
 *
 * Errors: 0 or -errno from the database (-EBUSY, -EIO, -ENOMEM).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/roles.h"
#include "meta/rotations.h"

/* The key versions of one role (census.roles[i]), oldest first. */
struct kt_census_role_keys {
	struct meta_role_key *keys;
	size_t n;
};

struct kt_key_census {
	struct meta_key_version *versions; /* level and metadata key versions */
	size_t n_versions;
	struct meta_key_seal *seals; /* every sealed level and metadata key */
	size_t n_seals;
	struct meta_role *roles;
	size_t n_roles;
	struct kt_census_role_keys *role_keys; /* role_keys[i]: the key pairs of roles[i] */
	struct meta_grant *grants;	       /* every grant, expired ones included */
	size_t n_grants;
	struct meta_file_key_group *files; /* file keys counted by wrapped-key prefix */
	size_t n_files;
	struct meta_rotation *rotations; /* every rotation, finished ones included */
	size_t n_rotations;
	int64_t admin_role_id; /* the admin role, -1 if there is none */
};

/* The state of a level or metadata key version. */
enum kt_key_state {
	KT_KEY_CURRENT,	  /* the newest version, sealed */
	KT_KEY_OLD,	  /* an older version still sealed: files not yet re-wrapped */
	KT_KEY_DESTROYED, /* no seal left: only its fingerprint stays */
};

/* Read the census in one read transaction; *ret is cleared first and, on
 * error, left empty. Free with kt_key_census_free. */
int kt_key_census_read(struct meta_db *db, struct kt_key_census *ret);
/* Free what kt_key_census_read allocated and clear *c; takes an empty one. */
void kt_key_census_free(struct kt_key_census *c);

/* The name of role id, "?" if it is not in the census. */
const char *kt_key_census_role_name(const struct kt_key_census *c, int64_t role_id);
/* How many files have their key wrapped under level key (level, version). */
uint64_t kt_key_census_files(const struct kt_key_census *c, uint8_t level, uint32_t version);
/* The state of version k (one of c->versions). */
enum kt_key_state kt_key_census_state(const struct kt_key_census *c,
				      const struct meta_key_version *k);
/* "current", "old", "destroyed". */
const char *kt_key_state_name(enum kt_key_state state);
