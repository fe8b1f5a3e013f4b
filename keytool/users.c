/*
 * keytool/users.c — users and their passphrases: adding a user (a fresh key
 * pair, its secret sealed under the passphrase) and changing a passphrase.
 * Argon2id runs before the transaction so the write lock is held briefly.
 */
#include "keytool/keystore.h"
#include "keytool/internal.h"
#include "keytool/signing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meta/records.h"

/* A fresh user key pair with its secret sealed under passphrase. */
int kt_user_make(const char *name, int64_t uid, const char *passphrase, size_t pass_len,
		 enum kt_kdf_profile profile, const uint8_t *admin_pk, struct meta_user *ret_user)
{
	uint8_t *sk = kt_secure_alloc(KT_KEY_BYTES);
	struct meta_user u;
	int r;

	if (!sk)
		return -ENOMEM;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	u.uid = uid;
	kt_keypair(u.public_key, sk);
	r = kt_user_secret_seal(passphrase, pass_len, profile, u.public_key, sk, admin_pk,
				u.secret_sealed);
	kt_secure_free(sk);
	if (r < 0)
		return r;
	*ret_user = u;
	return 0;
}

int kt_user_add(struct meta_db *db, struct kt_keyring *admin, const char *name, int64_t uid,
		const char *passphrase, size_t pass_len)
{
	char detail[META_DETAIL_MAX + 1];
	enum kt_kdf_profile profile;
	struct meta_user u, existing;
	uint8_t admin_pk[KT_SIGN_PK_BYTES];
	bool bind = false;
	int r;

	if (!db || !admin || !name || !passphrase)
		return -EINVAL;
	if (uid >= 0)
		snprintf(detail, sizeof(detail), "user=%s uid=%lld", name, (long long)uid);
	else
		snprintf(detail, sizeof(detail), "user=%s", name);
	if (!admin->admin)
		return kt_deny(db, admin, "user-add", detail);
	if (!kt_name_valid(name) || uid < -1 || uid > UINT32_MAX || pass_len == 0)
		return -EINVAL;
	/* cheap refusals before the slow KDF; checked again by the insert */
	r = meta_user_get_by_name(db, name, &existing);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	if (uid >= 0) {
		r = meta_user_get_by_uid(db, uid, &existing);
		if (r == 0)
			return -EEXIST;
		if (r != -ENOENT)
			return r;
	}
	r = kt_vault_kdf_profile(db, &profile);
	if (r < 0)
		return r;
	/* version 2 (§3) once the vault's rows are signed, bound to the
	 * administration key this administrator holds */
	r = kt_rows_signed(db, &bind);
	if (r == 0 && bind)
		bind = kt_keyring_admin_pk(admin, admin_pk) == 0;
	if (r < 0)
		return r;
	r = kt_user_make(name, uid, passphrase, pass_len, profile, bind ? admin_pk : NULL, &u);
	if (r < 0)
		return r;

	r = kt_admin_begin(db, admin, "user-add", detail);
	if (r < 0)
		return r;
	u.created_ns = meta_now_ns();
	r = meta_user_add(db, &u);
	return kt_admin_end(db, admin, "user-add", detail, r);
}

int kt_passwd(struct meta_db *db, const char *user, const char *old_pass, size_t old_len,
	      const char *new_pass, size_t new_len)
{
	enum kt_kdf_profile profile;
	_cleanup_(kt_secure_freep) uint8_t *sk = NULL;
	struct meta_user u, now_u;
	uint8_t blob[KT_USER_SECRET_BYTES], admin_pk[KT_SIGN_PK_BYTES];
	bool bind = false;
	int r;

	if (!db || !user || !old_pass || !new_pass)
		return -EINVAL;
	r = meta_user_get_by_name(db, user, &u);
	if (r < 0)
		return r;
	if (new_len == 0)
		return -EINVAL;
	sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;
	if (u.disabled) {
		(void)kt_record(db, user, "passwd", "user disabled", -EACCES);
		return -EACCES;
	}
	/* the key a version 2 secret opens with is the one it stays bound to;
	 * a version 1 secret becomes version 2 once the vault's rows are signed */
	if (kt_user_secret_version(u.secret_sealed) == KT_USER_SECRET_V2) {
		bind = kt_admin_sign_pk(db, admin_pk) == 0;
	} else if (kt_secret_admin_pk(db, admin_pk, &bind) == 0 && bind) {
		/* as at unlock (secret-upgrade): only a key that signed the
		 * user's own row */
		struct meta_row_ref ref = {.table = META_ROW_USERS, .key = {u.id}};

		bind = kt_row_verify(db, admin_pk, &ref) == 0;
	}
	r = kt_user_secret_open(old_pass, old_len, u.public_key, bind ? admin_pk : NULL,
				u.secret_sealed, sk);
	if (r == -EACCES || r == -EINVAL || r == -ENOKEY) {
		(void)kt_record(db, user, "passwd", "wrong passphrase", -EACCES);
		return -EACCES;
	}
	if (r == 0)
		r = kt_vault_kdf_profile(db, &profile);
	if (r == 0)
		r = kt_user_secret_seal(new_pass, new_len, profile, u.public_key, sk,
					bind ? admin_pk : NULL, blob);
	sodium_memzero(sk, KT_KEY_BYTES);
	if (r < 0)
		return r;

	r = meta_tx_begin(db);
	if (r < 0)
		return r;
	/* a concurrent passwd between our read and now: let the caller retry */
	r = meta_user_get_by_id(db, u.id, &now_u);
	if (r == 0 && sodium_memcmp(now_u.secret_sealed, u.secret_sealed, KT_USER_SECRET_BYTES))
		r = -EBUSY;
	if (r == 0)
		r = meta_user_set_secret(db, u.id, blob);
	if (r == 0)
		r = kt_record(db, user, "passwd", "", META_OUTCOME_OK);
	r = meta_tx_end(db, r);
	return r;
}
