/*
 * keytool/rowsig.c — row signatures by the administration key
 * (docs/format.md §13, docs/key-hierarchy.md "Who signs what").
 *
 * Every row that decides who holds which key with which rights (users,
 * roles, role_keys, grants, level_keys, meta_keys, key_seals, sign_keys,
 * and the level names) carries an Ed25519 signature by the vault's
 * administration key over its canonical bytes (meta/rowsig.c). An
 * administration notes the rows it writes (meta_row_track, at
 * kt_admin_begin) and signs exactly those before it commits
 * (kt_rows_sign_dirty, at kt_admin_end); vault creation signs every row.
 * A vault from before row signatures has every existing row signed once, by
 * the first administration after the upgrade (op "rows-sign").
 */
#include "keytool/signing.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meta/keys.h"
#include "meta/rowsig.h"

_Static_assert(META_ROW_SIG_BYTES == crypto_sign_BYTES, "Ed25519 signature");

int kt_row_verify(struct meta_db *db, const uint8_t admin_pk[KT_SIGN_PK_BYTES],
		  const struct meta_row_ref *ref)
{
	uint8_t sig[META_ROW_SIG_BYTES];
	uint8_t *msg = NULL;
	size_t len = 0;
	bool is_signed = false;
	int r;

	if (!db || !admin_pk || !ref)
		return -EINVAL;
	r = meta_row_get(db, ref, &msg, &len, sig, &is_signed);
	if (r == -EIO)
		return -EBADMSG; /* a value the schema does not allow: tampered */
	if (r < 0)
		return r;
	if (!is_signed)
		r = -ENODATA;
	else if (crypto_sign_verify_detached(sig, msg, len, admin_pk) != 0)
		r = -EBADMSG;
	free(msg);
	return r;
}

/* Sign one row with the Ed25519 secret key sk (seed || public key). */
static int row_sign(struct meta_db *db, const uint8_t *sk, const struct meta_row_ref *ref)
{
	uint8_t sig[META_ROW_SIG_BYTES];
	uint8_t *msg = NULL;
	size_t len = 0;
	int r;

	r = meta_row_get(db, ref, &msg, &len, NULL, NULL);
	if (r == -ENOENT)
		return 0; /* written, then deleted in the same administration */
	if (r < 0)
		return r;
	crypto_sign_detached(sig, NULL, msg, len, sk);
	free(msg);
	return meta_row_set_sig(db, ref, sig);
}

static int sign_refs(struct meta_db *db, const uint8_t seed[KT_KEY_BYTES],
		     const struct meta_row_ref *refs, size_t n)
{
	_cleanup_(kt_secure_freep) uint8_t *sk = kt_sign_secret_from_seed(seed);
	int r = 0;

	if (!sk)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = row_sign(db, sk, &refs[i]);
	return r;
}

int kt_rows_sign_all(struct meta_db *db, const uint8_t seed[KT_KEY_BYTES])
{
	struct meta_row_ref *refs = NULL;
	size_t n = 0;
	int r;

	r = meta_row_list_all(db, &refs, &n);
	if (r == 0)
		r = sign_refs(db, seed, refs, n);
	if (r == 0)
		r = meta_config_set_int(db, META_ROWS_SIGNED_KEY, 1);
	free(refs);
	return r;
}

int kt_rows_sign_dirty(struct meta_db *db, const struct kt_keyring *kr)
{
	struct meta_row_ref *refs = NULL;
	const uint8_t *seed;
	uint32_t version;
	size_t n = 0;
	int r;

	r = meta_row_dirty(db, &refs, &n);
	if (r < 0)
		return r;
	/* no administration key held yet (a vault from before signing keys):
	 * the rows stay unsigned until the one-time signing of every row */
	if (n && kt_keyring_sign_seed(kr, KT_SEAL_ADMIN_SIGN, &version, &seed) == 0)
		r = sign_refs(db, seed, refs, n);
	if (r == 0)
		r = meta_row_dirty_clear(db);
	free(refs);
	return r;
}

int kt_rows_signed(struct meta_db *db, bool *ret)
{
	int64_t v;
	int r;

	r = meta_config_get_int(db, META_ROWS_SIGNED_KEY, &v);
	if (r == -ENOENT) {
		*ret = false;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = v == 1;
	return 0;
}

int kt_admin_sign_pk(struct meta_db *db, uint8_t ret_pk[KT_SIGN_PK_BYTES])
{
	struct meta_sign_key k;
	int r;

	r = meta_sign_key_current(db, META_KEY_ADMIN_SIGN, &k);
	if (r == 0)
		memcpy(ret_pk, k.public_key, KT_SIGN_PK_BYTES);
	return r;
}

int kt_keyring_admin_pk(const struct kt_keyring *kr, uint8_t ret_pk[KT_SIGN_PK_BYTES])
{
	uint8_t *sk;
	const uint8_t *seed;
	uint32_t version;
	int r;

	r = kt_keyring_sign_seed(kr, KT_SEAL_ADMIN_SIGN, &version, &seed);
	if (r < 0)
		return r;
	sk = kt_secure_alloc(KT_SIGN_SK_BYTES);
	if (!sk)
		return -ENOMEM;
	crypto_sign_seed_keypair(ret_pk, sk, seed);
	kt_secure_free(sk);
	return 0;
}

int kt_secret_admin_pk(struct meta_db *db, uint8_t ret_pk[KT_SIGN_PK_BYTES], bool *ret_bind)
{
	bool done = false;
	int r;

	*ret_bind = false;
	r = kt_rows_signed(db, &done);
	if (r < 0 || !done)
		return r;
	r = kt_admin_sign_pk(db, ret_pk);
	if (r == -ENOENT)
		return 0;
	*ret_bind = r == 0;
	return r;
}

int kt_rows_ensure(struct meta_db *db, struct kt_keyring *admin)
{
	const uint8_t *seed;
	uint32_t version;
	bool done = false;
	int r;

	r = kt_rows_signed(db, &done);
	if (r < 0 || done)
		return r;
	/* A keyring whose user secret binds the administration key (§3 version
	 * 2) was made after every row was signed: a vault that now says it was
	 * never signed has been edited, and its rows are not signed again. */
	if (admin->rows_strict)
		return -EBADMSG;
	if (kt_keyring_sign_seed(admin, KT_SEAL_ADMIN_SIGN, &version, &seed) < 0)
		return 0;
	r = kt_admin_begin(db, admin, "rows-sign", "");
	if (r < 0)
		return r;
	r = kt_keyring_sign_seed(admin, KT_SEAL_ADMIN_SIGN, &version, &seed);
	if (r == 0)
		r = kt_rows_sign_all(db, seed);
	r = kt_admin_end(db, admin, "rows-sign", "every key and policy row signed", r);
	return r < 0 ? r : 1;
}
