/*
 * keytool/recovery.h — recovery by quorum: the organisation never loses its
 * own vault because the last administrator's passphrase was forgotten.
 *
 * Setting up makes a recovery X25519 key pair, seals the admin role's secret
 * key to its public half (table recovery; sealed again whenever the admin
 * role key is rotated), splits the secret half M-of-N with libgfshare
 * (Shamir's scheme over GF(2^8)) into one share file per named officer, and
 * wipes it. Recovering combines at least M share files: the combined secret
 * is checked against the stored public key (fewer than M shares, a share
 * from another vault or an older setup, or a corrupted share is refused with
 * what is wrong, never turned into a wrong key), opens the admin role
 * secret, and gives a keyring that acts as an administrator without a user
 * (its records name "(recovery)" and the officers whose shares were used).
 *
 * Share file (docs/format.md §9), 168 bytes, mode 0600, written O_EXCL |
 * O_NOFOLLOW: magic, version, threshold, share count, share number, setup
 * id, vault id, recovery key fingerprint, the 32-byte share, the officer's
 * name, and a BLAKE2b-256 checksum of all of it. One share reveals nothing
 * of the secret; M of them reveal the admin role key: store each as the
 * secret it is, apart from the others.
 *
 * Errors as in keystore.h, and for recovery: -ENOENT no recovery set up;
 * -EBADMSG a malformed or damaged share file; -EXDEV a share of another
 * vault; -ESTALE a share of an older setup (or set up before the admin role
 * key changed and not sealed again); -EEXIST the same share twice;
 * -ENOKEY fewer than M shares; -EACCES the shares do not combine to the
 * recovery key (one is forged or of another setup).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "keytool/keystore.h"

#define KT_SHARE_BYTES	       168
#define KT_SHARE_SUFFIX	       ".vaultfs-share"
#define KT_RECOVERY_SHARES_MAX 32	    /* = META_RECOVERY_SHARES_MAX */
#define KT_RECOVERY_NAME       "(recovery)" /* the acting "user" of a recovery keyring */

struct kt_recovery_setup_options {
	unsigned int threshold;	     /* M: shares needed, 2..shares */
	unsigned int shares;	     /* N: shares made, one per officer, ≤ 32 */
	const char *const *officers; /* N distinct names ([a-z_][a-z0-9_.-]*) */
	const char *out_dir;	     /* existing directory for the share files */
};

/*
 * Set up (or replace: older shares become useless) the vault's recovery,
 * as administrator admin. Writes out_dir/vaultfs-<vault id>-<officer>.vaultfs-share
 * for each officer; -EEXIST if one exists (nothing is written then). On
 * success *ret_paths is a malloc'd array of shares malloc'd paths (free with
 * kt_strv_free). Recorded as op "recovery-setup".
 */
int kt_recovery_setup(struct meta_db *db, struct kt_keyring *admin,
		      const struct kt_recovery_setup_options *opt, char ***ret_paths);
char **kt_strv_free(char **v, size_t n);

/* Which share a refusal is about, and the quorum. */
struct kt_recovery_error {
	int share;	   /* index into paths of the share at fault, -1 none */
	unsigned int have; /* valid distinct shares given */
	unsigned int need; /* threshold */
};

/*
 * Combine the share files paths[0..n) into a recovery keyring (an
 * administrator without a user, kt_keyring_free when done). Every attempt is
 * recorded (op "recover"); *err (may be NULL) says which share was refused.
 */
int kt_recovery_unlock(struct meta_db *db, const char *const *paths, size_t n,
		       struct kt_recovery_error *err, struct kt_keyring **ret_keyring);

/*
 * Give user a new key pair sealed under a new passphrase and grant them
 * again, from custody, every role they hold (unexpired), at its current
 * version; their old passphrase and key pair no longer open anything. For an
 * administrator (a recovery keyring is one). -EPERM the user was removed.
 * Recorded as op "passwd-reset".
 */
int kt_user_reset(struct meta_db *db, struct kt_keyring *admin, const char *user,
		  const char *passphrase, size_t pass_len);

/* The current setup's public facts (for listings); -ENOENT if none. */
struct kt_recovery_info {
	unsigned int threshold, shares;
	char officers[KT_RECOVERY_SHARES_MAX * 65 + 1];
	uint32_t admin_role_version;
	uint8_t fingerprint[KT_FINGERPRINT_BYTES]; /* of the recovery public key */
	int64_t created_ns;
	char created_by[65];
};
int kt_recovery_info(struct meta_db *db, struct kt_recovery_info *ret);
