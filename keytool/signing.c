/*
 * keytool/signing.c — making the vault's signing keys (signing.h).
 */
#include "keytool/signing.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meta/keys.h"
#include "meta/roles.h"

_Static_assert(KT_SIGN_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(KT_SIGN_SK_BYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key");
_Static_assert(KT_KEY_BYTES == crypto_sign_SEEDBYTES, "Ed25519 seed");

uint8_t *kt_sign_secret_from_seed(const uint8_t seed[KT_KEY_BYTES])
{
	uint8_t pk[KT_SIGN_PK_BYTES];
	uint8_t *sk = kt_secure_alloc(KT_SIGN_SK_BYTES);

	if (sk)
		crypto_sign_seed_keypair(pk, sk, seed);
	return sk;
}

/* Seal seed (kind, version 1) to the current key of role. */
static int seal_to_role(struct meta_db *db, int kind, const uint8_t seed[KT_KEY_BYTES],
			const struct meta_role *role)
{
	struct meta_role_key rk;
	struct meta_key_seal s;
	int r;

	if (role->id < 0 || role->id > (int64_t)KT_SEAL_FIELD_MAX)
		return -EOVERFLOW;
	r = meta_role_key_get(db, role->id, role->key_version, &rk);
	if (r == -ENOENT)
		return -ENOKEY;
	if (r < 0)
		return r;
	memset(&s, 0, sizeof(s));
	s.kind = kind;
	s.id = 0;
	s.version = 1;
	s.role_id = role->id;
	s.role_version = role->key_version;
	r = kt_seal((enum kt_seal_kind)kind, 0, 1, seed, rk.public_key, s.sealed);
	return r < 0 ? r : meta_key_seal_add(db, &s);
}

/* One signing key: its row, and its seals to roles (every role, or the
 * admin role alone). */
static int create_one(struct meta_db *db, int kind, const struct meta_role *roles, size_t n,
		      const uint8_t *given_seed)
{
	_cleanup_(kt_secure_freep) uint8_t *seed = kt_secure_alloc(KT_KEY_BYTES);
	_cleanup_(kt_secure_freep) uint8_t *sk = NULL;
	struct meta_sign_key k;
	int r;

	if (!seed)
		return -ENOMEM;
	if (given_seed)
		memcpy(seed, given_seed, KT_KEY_BYTES);
	else
		kt_random(seed, KT_KEY_BYTES);
	sk = kt_secure_alloc(KT_SIGN_SK_BYTES);
	if (!sk)
		return -ENOMEM;
	memset(&k, 0, sizeof(k));
	k.kind = kind;
	k.version = 1;
	crypto_sign_seed_keypair(k.public_key, sk, seed);
	r = meta_sign_key_add(db, &k);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (kind == META_KEY_ADMIN_SIGN && !(roles[i].flags & META_ROLE_ADMIN))
			continue;
		r = seal_to_role(db, kind, seed, &roles[i]);
	}
	return r;
}

int kt_sign_keys_create(struct meta_db *db)
{
	return kt_sign_keys_create_seeded(db, NULL);
}

int kt_sign_keys_create_seeded(struct meta_db *db, const uint8_t *admin_seed)
{
	struct meta_sign_key k;
	struct meta_role *roles = NULL;
	size_t n = 0;
	int r;

	r = meta_sign_key_current(db, META_KEY_CHECKPOINT, &k);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	r = meta_role_list(db, &roles, &n);
	if (r < 0)
		return r;
	r = create_one(db, META_KEY_CHECKPOINT, roles, n, NULL);
	if (r == 0)
		r = create_one(db, META_KEY_ADMIN_SIGN, roles, n, admin_seed);
	free(roles);
	return r;
}

int kt_sign_keys_ensure(struct meta_db *db, struct kt_keyring *admin)
{
	struct meta_sign_key k;
	int r;

	r = meta_sign_key_current(db, META_KEY_CHECKPOINT, &k);
	if (r == 0)
		return kt_rows_ensure(db, admin);
	if (r != -ENOENT)
		return r;
	r = kt_admin_begin(db, admin, "sign-keys-new", "");
	if (r < 0)
		return r;
	r = kt_sign_keys_create(db);
	if (r == 0)
		r = kt_epoch_bump(db, NULL);
	r = kt_admin_end(db, admin, "sign-keys-new", "checkpoint and administration keys", r);
	if (r < 0)
		return r == -EEXIST ? 0 : r;
	r = kt_keyring_refresh(db, admin);
	if (r == 0)
		r = kt_rows_ensure(db, admin);
	return r < 0 ? r : 1;
}
