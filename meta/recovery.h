/*
 * meta/recovery.h — storage of the vault's recovery setup (table recovery,
 * schema version 2; docs/format.md §8): the recovery public key, the quorum
 * (M of N officers) and the administration role's secret sealed to that key.
 * The secret half of the recovery key exists only as the officers' shares,
 * which are never stored here; making and using them is keytool's business
 * (keytool/recovery.h).
 *
 * Every function is one SQL statement (or two) inside the caller's
 * transaction, if one is open.
 *
 * Errors: 0 on success; -ENOENT no such row; -EINVAL bad argument; -EIO
 * SQLite failure or a row that does not hold what the schema promises;
 * -EBUSY database locked.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/keys.h"
#include "meta/users.h"

#define META_RECOVERY_SHARES_MAX   32 /* officers (shares) of a recovery setup */
#define META_RECOVERY_OFFICERS_MAX (META_RECOVERY_SHARES_MAX * (META_NAME_MAX + 1))

/* The vault's recovery setup: the admin role secret sealed to a recovery key
 * pair whose secret half exists only as officers' shares. */
struct meta_recovery {
	int64_t id;				       /* recovery.id, set by set */
	uint8_t public_key[META_PUBKEY_BYTES];	       /* recovery X25519 public key */
	uint32_t threshold;			       /* M shares needed */
	uint32_t shares;			       /* N shares made */
	char officers[META_RECOVERY_OFFICERS_MAX + 1]; /* "a,b,c": share holders, in order */
	uint32_t admin_role_version;		       /* version of the sealed admin secret */
	uint8_t admin_sealed[META_SEALED_BYTES];       /* admin role secret sealed to public_key */
	int64_t created_ns;
	char created_by[META_NAME_MAX + 1];
};

/* Replace the recovery setup (the old one, if any, is deleted); sets r->id. */
int meta_recovery_set(struct meta_db *db, struct meta_recovery *r);
/* The current setup; -ENOENT if none. */
int meta_recovery_get(struct meta_db *db, struct meta_recovery *ret);
/* Re-seal after an admin role rotation. -ENOENT no such setup. */
int meta_recovery_reseal(struct meta_db *db, int64_t id, uint32_t admin_role_version,
			 const uint8_t admin_sealed[META_SEALED_BYTES]);
