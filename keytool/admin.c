/*
 * keytool/admin.c — what every administration shares: the transaction that
 * begins with the check that the keyring is still an administrator's (and
 * ends with its access record), denials, custody of role secrets, the last
 * administrator check, and the vault's KDF profile.
 *
 * Every change commits with its access record in one transaction; a refused
 * administration (not an administrator) writes only its denial record.
 */
#include "keytool/keystore.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meta/grants.h"
#include "meta/records.h"
#include "meta/roles.h"
#include "meta/rowsig.h"
#include "meta/users.h"

/*
 * Inside the transaction: kr's user is still an enabled administrator with an
 * unexpired grant of the current admin role key (-EACCES if not), and kr was
 * unlocked or refreshed at the current key epoch with that admin key
 * (-ESTALE if not: refresh and try again). A recovery keyring needs only
 * the current admin role key.
 */
static int check_admin(struct meta_db *db, const struct kt_keyring *kr)
{
	struct meta_grant *grants = NULL;
	struct meta_user u;
	struct meta_role role;
	int64_t now = meta_now_ns(), epoch;
	size_t n = 0;
	bool ok = false;
	int r;

	if (!kr->admin)
		return -EACCES;
	r = kt_key_epoch(db, &epoch);
	if (r < 0)
		return r;
	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &role);
	if (r == -ENOENT || (r == 0 && role.id != kr->admin_role_id))
		return -EACCES;
	if (r < 0)
		return r;
	if (!kr->recovery) {
		r = meta_user_get_by_id(db, kr->user.id, &u);
		if (r == -ENOENT || (r == 0 && u.disabled))
			return -EACCES;
		if (r < 0)
			return r;
		if (sodium_memcmp(u.public_key, kr->user.public_key, KT_KEY_BYTES) != 0)
			return -EACCES;
		r = meta_grant_list_user(db, kr->user.id, &grants, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (grants[i].role_id == role.id &&
			    grants[i].role_version == role.key_version &&
			    (grants[i].expires_ns == 0 || grants[i].expires_ns > now))
				ok = true;
		free(grants);
		if (!ok)
			return -EACCES;
	}
	if (role.key_version != kr->admin_role_version || epoch != kr->epoch)
		return -ESTALE; /* keys changed since this keyring was unlocked */
	return 0;
}

int kt_deny(struct meta_db *db, const struct kt_keyring *kr, const char *op, const char *detail)
{
	(void)kt_record(db, kr->user.name, op, detail, -EACCES);
	return -EACCES;
}

#define ADMIN_BEGIN_TRIES 5

int kt_admin_begin(struct meta_db *db, struct kt_keyring *kr, const char *op, const char *detail)
{
	int r;

	for (int attempt = 0;; attempt++) {
		if (!kr->admin)
			return kt_deny(db, kr, op, detail);
		r = meta_tx_begin(db);
		if (r < 0)
			return r;
		r = check_admin(db, kr);
		if (r == 0)
			r = meta_row_track(db); /* the rows written now are signed at the end */
		if (r == 0)
			r = meta_row_dirty_clear(db); /* and only those */
		if (r == 0)
			return 0;
		meta_tx_rollback(db);
		if (r == -EACCES)
			return kt_deny(db, kr, op, detail);
		if (r != -ESTALE)
			return r;
		if (attempt + 1 >= ADMIN_BEGIN_TRIES)
			return -EBUSY; /* keys keep changing under us: let the caller retry */
		r = kt_keyring_refresh(db, kr);
		if (r == -EACCES)
			return kt_deny(db, kr, op, detail);
		if (r < 0)
			return r;
	}
}

int kt_admin_end(struct meta_db *db, const struct kt_keyring *kr, const char *op,
		 const char *detail, int r)
{
	if (r == 0)
		r = kt_rows_sign_dirty(db, kr);
	if (r == 0)
		r = kt_record(db, kr->user.name, op, detail, META_OUTCOME_OK);
	return meta_tx_end(db, r);
}

/* The vault's KDF profile for new user secrets (interactive if unset). */
int kt_vault_kdf_profile(struct meta_db *db, enum kt_kdf_profile *ret_profile)
{
	char buf[32];
	size_t n = sizeof(buf) - 1;
	int r;

	r = meta_config_get_blob(db, KT_KDF_PROFILE_KEY, buf, &n);
	if (r == -ENOENT) {
		*ret_profile = KT_KDF_INTERACTIVE;
		return 0;
	}
	if (r == -ENOBUFS)
		return -EINVAL;
	if (r < 0)
		return r;
	buf[n] = '\0';
	return kt_kdf_profile_parse(buf, ret_profile);
}

/* The current secret key of role, from custody (or the admin's own key). */
int kt_role_secret(struct meta_db *db, const struct kt_keyring *admin, const struct meta_role *role,
		   uint8_t ret_sk[KT_KEY_BYTES])
{
	struct meta_role_key rk;
	uint8_t pk_check[KT_KEY_BYTES];
	int r;

	if (role->id == admin->admin_role_id) {
		if (role->key_version != admin->admin_role_version)
			return -ENOKEY;
		memcpy(ret_sk, admin->admin_sk, KT_KEY_BYTES);
		return 0;
	}
	if (role->id < 0 || role->id > (int64_t)KT_SEAL_FIELD_MAX ||
	    role->key_version > KT_SEAL_FIELD_MAX)
		return -EOVERFLOW;
	r = meta_role_key_get(db, role->id, role->key_version, &rk);
	if (r == -ENOENT || (r == 0 && !rk.has_custody))
		return -ENOKEY;
	if (r < 0)
		return r;
	r = kt_unseal(KT_SEAL_ROLE, (uint16_t)role->id, (uint16_t)role->key_version,
		      rk.custody_sealed, admin->admin_pk, admin->admin_sk, ret_sk);
	if (r < 0)
		return -EBADMSG;
	crypto_scalarmult_base(pk_check, ret_sk);
	if (sodium_memcmp(pk_check, rk.public_key, KT_KEY_BYTES) != 0) {
		sodium_memzero(ret_sk, KT_KEY_BYTES);
		return -EBADMSG;
	}
	return 0;
}
/* Whether some enabled user other than user_id holds an unexpired admin grant. */
int kt_other_admin_exists(struct meta_db *db, int64_t admin_role_id, int64_t user_id,
			  bool *ret_exists)
{
	struct meta_grant *grants = NULL;
	int64_t now = meta_now_ns();
	bool exists = false;
	size_t n = 0;
	int r;

	r = meta_grant_list_all(db, &grants, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && !exists; i++) {
		const struct meta_grant *g = &grants[i];
		struct meta_user u;

		if (g->role_id != admin_role_id || g->user_id == user_id ||
		    (g->expires_ns != 0 && g->expires_ns <= now))
			continue;
		r = meta_user_get_by_id(db, g->user_id, &u);
		if (r < 0 && r != -ENOENT)
			goto out;
		exists = r == 0 && !u.disabled;
	}
	r = 0;
	*ret_exists = exists;
out:
	free(grants);
	return r;
}
