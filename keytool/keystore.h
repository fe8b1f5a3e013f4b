/*
 * keytool/keystore.h — the administration door to the key hierarchy:
 * creating a vault (keytool/init.c), users and passphrases (users.c), roles
 * and grants (roles.c). With keyring.h (unlocking, included) and names.h
 * (name rules, included) it is what an administration command needs;
 * revocation, user removal and rotation are rotation.h's, recovery by quorum
 * recovery.h's.
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
 * nothing else. Each moves the key epoch (keyring.h) when it changes what a
 * keyring would hold. Administration functions refresh the administrator's
 * own keyring themselves when it is behind (which is why they take it
 * non-const).
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
#include "keytool/keyring.h"
#include "keytool/names.h"
#include "meta/db.h"
#include "meta/roles.h"

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
/* Change user's passphrase (needs the old one; -EACCES if wrong). */
int kt_passwd(struct meta_db *db, const char *user, const char *old_pass, size_t old_len,
	      const char *new_pass, size_t new_len);
