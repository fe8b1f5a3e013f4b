/*
 * tests/unit/test_crypto.c — keytool/crypto.c: the formats of docs/format.md
 * §2–§6 and §8.
 *
 * Roundtrips of every structure; attacks (a flipped byte at every position, a
 * wrong passphrase, a sealed key opened as another key, a wrapped file key
 * moved to another file, relabelled or unwrapped with another level's key,
 * a metadata ciphertext opened with another purpose, context or key); and
 * golden vectors: tests/vectors/crypto-v1.txt ($VAULTFS_VECTORS) holds fixed
 * keys and blobs made once, which the current code must still open to the
 * expected plaintext, with the layout (version bytes, field offsets) checked
 * byte by byte. Deterministic values (subkeys, name hash, fingerprint) are
 * compared exactly.
 *
 * Regenerate the vectors only for a new format version:
 *   build/tests/test_crypto --generate > tests/vectors/crypto-v1.txt
 * (fixed inputs below; nonces, salts and ephemeral keys are random).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keytool/crypto.h"
#include "tests/unit/testutil.h"

#define PASS	  "correct horse battery staple"
#define OID_BYTES KT_OBJECT_ID_BYTES

/* Deterministic test bytes: start, start+1, ... */
static void fill(uint8_t *buf, size_t len, uint8_t start)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(start + i);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

/* A user key pair with sk = fill(0x01). */
static void fixed_user(uint8_t pk[KT_KEY_BYTES], uint8_t sk[KT_KEY_BYTES])
{
	fill(sk, KT_KEY_BYTES, 0x01);
	crypto_scalarmult_base(pk, sk);
}

/* ---- §3 user secret -------------------------------------------------- */

START_TEST(user_secret_roundtrip)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t blob[KT_USER_SECRET_BYTES], blob2[KT_USER_SECRET_BYTES];

	kt_keypair(pk, sk);
	ck_assert_int_eq(kt_user_secret_seal(PASS, strlen(PASS), KT_KDF_TEST, pk, sk, NULL, blob),
			 0);
	ck_assert_int_eq(blob[0], 1);
	ck_assert_int_eq(blob[1], 1);
	ck_assert_int_eq(le16(blob + 2), 0);
	ck_assert_uint_eq(le32(blob + 4), crypto_pwhash_OPSLIMIT_MIN);
	ck_assert_uint_eq(le32(blob + 8), crypto_pwhash_MEMLIMIT_MIN / 1024);
	ck_assert_int_eq(kt_user_secret_open(PASS, strlen(PASS), pk, NULL, blob, out), 0);
	ck_assert_int_eq(sodium_memcmp(out, sk, KT_KEY_BYTES), 0);

	/* fresh salt and nonce every time */
	ck_assert_int_eq(kt_user_secret_seal(PASS, strlen(PASS), KT_KDF_TEST, pk, sk, NULL, blob2),
			 0);
	ck_assert_int_ne(memcmp(blob + 12, blob2 + 12, 16), 0);
	ck_assert_int_ne(memcmp(blob + 28, blob2 + 28, 24), 0);

	/* the empty passphrase is a passphrase like any other here */
	ck_assert_int_eq(kt_user_secret_seal("", 0, KT_KDF_TEST, pk, sk, NULL, blob), 0);
	ck_assert_int_eq(kt_user_secret_open("", 0, pk, NULL, blob, out), 0);
	ck_assert_int_eq(kt_user_secret_open("x", 1, pk, NULL, blob, out), -EACCES);
}
END_TEST

START_TEST(user_secret_profile_interactive)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t blob[KT_USER_SECRET_BYTES];

	kt_keypair(pk, sk);
	ck_assert_int_eq(
	    kt_user_secret_seal(PASS, strlen(PASS), KT_KDF_INTERACTIVE, pk, sk, NULL, blob), 0);
	ck_assert_uint_eq(le32(blob + 4), crypto_pwhash_OPSLIMIT_INTERACTIVE);
	ck_assert_uint_eq(le32(blob + 8), crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024);
	ck_assert_int_eq(kt_user_secret_open(PASS, strlen(PASS), pk, NULL, blob, out), 0);
	ck_assert_int_eq(sodium_memcmp(out, sk, KT_KEY_BYTES), 0);
	ck_assert_int_eq(
	    kt_user_secret_seal(PASS, strlen(PASS), (enum kt_kdf_profile)9, pk, sk, NULL, blob),
	    -EINVAL);
}
END_TEST

START_TEST(user_secret_wrong_passphrase)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t blob[KT_USER_SECRET_BYTES], zero[KT_KEY_BYTES] = {0};

	kt_keypair(pk, sk);
	ck_assert_int_eq(kt_user_secret_seal(PASS, strlen(PASS), KT_KDF_TEST, pk, sk, NULL, blob),
			 0);
	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(
	    kt_user_secret_open("correct horse battery stapl", 27, pk, NULL, blob, out), -EACCES);
	ck_assert_int_eq(memcmp(out, zero, sizeof(zero)), 0); /* cleared, never partial */
	ck_assert_int_eq(kt_user_secret_open(PASS, strlen(PASS) + 1, pk, NULL, blob, out), -EACCES);
}
END_TEST

START_TEST(user_secret_bound_to_public_key)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], pk2[KT_KEY_BYTES], sk2[KT_KEY_BYTES];
	uint8_t out[KT_KEY_BYTES], blob[KT_USER_SECRET_BYTES];

	kt_keypair(pk, sk);
	kt_keypair(pk2, sk2);
	ck_assert_int_eq(kt_user_secret_seal(PASS, strlen(PASS), KT_KDF_TEST, pk, sk, NULL, blob),
			 0);
	/* a blob copied to another user's row */
	ck_assert_int_eq(kt_user_secret_open(PASS, strlen(PASS), pk2, NULL, blob, out), -EACCES);
}
END_TEST

START_TEST(user_secret_flip_every_byte)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t blob[KT_USER_SECRET_BYTES];

	kt_keypair(pk, sk);
	ck_assert_int_eq(kt_user_secret_seal(PASS, strlen(PASS), KT_KDF_TEST, pk, sk, NULL, blob),
			 0);
	for (size_t i = 0; i < sizeof(blob); i++) {
		/* 0x01 keeps cost fields small enough to run, 0x80 pushes them out of range */
		static const uint8_t masks[] = {0x01, 0x80};

		for (size_t m = 0; m < sizeof(masks); m++) {
			int r;

			blob[i] ^= masks[m];
			r = kt_user_secret_open(PASS, strlen(PASS), pk, NULL, blob, out);
			ck_assert_msg(r == -EACCES || r == -EINVAL, "byte %zu mask %#x: %d", i,
				      masks[m], r);
			blob[i] ^= masks[m];
		}
	}
	ck_assert_int_eq(kt_user_secret_open(PASS, strlen(PASS), pk, NULL, blob, out), 0);
}
END_TEST

/* ---- §4 sealed keys -------------------------------------------------- */

START_TEST(seal_roundtrip)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], key[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t sealed[KT_SEALED_BYTES];

	kt_keypair(pk, sk);
	kt_random(key, sizeof(key));
	for (int kind = KT_SEAL_ROLE; kind <= KT_SEAL_ADMIN_SIGN; kind++) {
		ck_assert_int_eq(kt_seal(kind, 3, 0xbeef, key, pk, sealed), 0);
		ck_assert_int_eq(sealed[0], 1);
		ck_assert_int_eq(kt_unseal(kind, 3, 0xbeef, sealed, pk, sk, out), 0);
		ck_assert_int_eq(sodium_memcmp(out, key, KT_KEY_BYTES), 0);
	}
	ck_assert_int_eq(kt_seal((enum kt_seal_kind)6, 0, 1, key, pk, sealed), -EINVAL);
	ck_assert_int_eq(kt_seal((enum kt_seal_kind)0, 0, 1, key, pk, sealed), -EINVAL);
}
END_TEST

START_TEST(seal_wrong_context)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], key[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t sealed[KT_SEALED_BYTES], zero[KT_KEY_BYTES] = {0};

	kt_keypair(pk, sk);
	kt_random(key, sizeof(key));
	ck_assert_int_eq(kt_seal(KT_SEAL_LEVEL, 2, 1, key, pk, sealed), 0);
	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(kt_unseal(KT_SEAL_METADATA, 2, 1, sealed, pk, sk, out), -EBADMSG);
	ck_assert_int_eq(memcmp(out, zero, sizeof(zero)), 0);
	ck_assert_int_eq(kt_unseal(KT_SEAL_ROLE, 2, 1, sealed, pk, sk, out), -EBADMSG);
	ck_assert_int_eq(kt_unseal(KT_SEAL_LEVEL, 3, 1, sealed, pk, sk, out), -EBADMSG);
	ck_assert_int_eq(kt_unseal(KT_SEAL_LEVEL, 2, 2, sealed, pk, sk, out), -EBADMSG);
	ck_assert_int_eq(kt_unseal(KT_SEAL_LEVEL, 0x0102, 1, sealed, pk, sk, out), -EBADMSG);
	ck_assert_int_eq(kt_unseal(KT_SEAL_LEVEL, 2, 0x0101, sealed, pk, sk, out), -EBADMSG);
	ck_assert_int_eq(kt_unseal(KT_SEAL_LEVEL, 2, 1, sealed, pk, sk, out), 0);
}
END_TEST

START_TEST(seal_wrong_recipient)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], pk2[KT_KEY_BYTES], sk2[KT_KEY_BYTES];
	uint8_t key[KT_KEY_BYTES], out[KT_KEY_BYTES], sealed[KT_SEALED_BYTES];
	uint8_t zero_pk[KT_KEY_BYTES] = {0};

	kt_keypair(pk, sk);
	kt_keypair(pk2, sk2);
	kt_random(key, sizeof(key));
	ck_assert_int_eq(kt_seal(KT_SEAL_ROLE, 7, 1, key, pk, sealed), 0);
	ck_assert_int_eq(kt_unseal(KT_SEAL_ROLE, 7, 1, sealed, pk2, sk2, out), -EBADMSG);
	ck_assert_int_eq(kt_unseal(KT_SEAL_ROLE, 7, 1, sealed, pk2, sk, out), -EBADMSG);
	/* a low-order recipient key is refused */
	ck_assert_int_eq(kt_seal(KT_SEAL_ROLE, 7, 1, key, zero_pk, sealed), -EINVAL);
}
END_TEST

START_TEST(seal_flip_every_byte)
{
	uint8_t pk[KT_KEY_BYTES], sk[KT_KEY_BYTES], key[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t sealed[KT_SEALED_BYTES];

	kt_keypair(pk, sk);
	kt_random(key, sizeof(key));
	ck_assert_int_eq(kt_seal(KT_SEAL_LEVEL, 1, 1, key, pk, sealed), 0);
	for (size_t i = 0; i < sizeof(sealed); i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			int r;

			sealed[i] ^= (uint8_t)(1u << bit);
			r = kt_unseal(KT_SEAL_LEVEL, 1, 1, sealed, pk, sk, out);
			ck_assert_msg(r == -EBADMSG || r == -EINVAL, "byte %zu: %d", i, r);
			sealed[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(kt_unseal(KT_SEAL_LEVEL, 1, 1, sealed, pk, sk, out), 0);
}
END_TEST

/* ---- §5 wrapped file keys ------------------------------------------- */

START_TEST(file_key_roundtrip)
{
	uint8_t lk[KT_KEY_BYTES], fk[KT_KEY_BYTES], out[KT_KEY_BYTES], oid[OID_BYTES];
	uint8_t w[KT_WRAPPED_KEY_BYTES], level;
	uint32_t version;

	kt_random(lk, sizeof(lk));
	kt_random(fk, sizeof(fk));
	kt_random(oid, sizeof(oid));
	ck_assert_int_eq(kt_file_key_wrap(lk, 2, 0x01020304, oid, fk, w), 0);
	ck_assert_int_eq(w[0], 1);
	ck_assert_int_eq(w[1], 2);
	ck_assert_int_eq(le16(w + 2), 0);
	ck_assert_uint_eq(le32(w + 4), 0x01020304);
	ck_assert_int_eq(kt_file_key_info(w, &level, &version), 0);
	ck_assert_int_eq(level, 2);
	ck_assert_uint_eq(version, 0x01020304);
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), 0);
	ck_assert_int_eq(sodium_memcmp(out, fk, KT_KEY_BYTES), 0);
	ck_assert_int_eq(kt_file_key_wrap(lk, 4, 1, oid, fk, w), -EINVAL);
	for (int l = 0; l < 4; l++) {
		ck_assert_int_eq(kt_file_key_wrap(lk, (uint8_t)l, 1, oid, fk, w), 0);
		ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), 0);
	}
}
END_TEST

START_TEST(file_key_attacks)
{
	uint8_t lk[KT_KEY_BYTES], lk2[KT_KEY_BYTES], fk[KT_KEY_BYTES], out[KT_KEY_BYTES];
	uint8_t oid[OID_BYTES], oid2[OID_BYTES], w[KT_WRAPPED_KEY_BYTES];
	uint8_t zero[KT_KEY_BYTES] = {0};

	kt_random(lk, sizeof(lk));
	kt_random(lk2, sizeof(lk2));
	kt_random(fk, sizeof(fk));
	kt_random(oid, sizeof(oid));
	memcpy(oid2, oid, sizeof(oid));
	oid2[15] ^= 1;
	ck_assert_int_eq(kt_file_key_wrap(lk, 1, 1, oid, fk, w), 0);

	/* moved to another file */
	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid2, w, out), -EBADMSG);
	ck_assert_int_eq(memcmp(out, zero, sizeof(zero)), 0);
	/* another level's key */
	ck_assert_int_eq(kt_file_key_unwrap(lk2, oid, w, out), -EBADMSG);
	/* relabelled with another level (the key of level 1 still used) */
	w[1] = 0;
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), -EBADMSG);
	w[1] = 3;
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), -EBADMSG);
	w[1] = 4;
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), -EINVAL);
	w[1] = 1;
	/* another key version claimed */
	w[4] = 2;
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), -EBADMSG);
	w[4] = 1;
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), 0);

	for (size_t i = 0; i < sizeof(w); i++) {
		int r;

		w[i] ^= 0x01;
		r = kt_file_key_unwrap(lk, oid, w, out);
		ck_assert_msg(r == -EBADMSG || r == -EINVAL, "byte %zu: %d", i, r);
		w[i] ^= 0x01;
	}
	ck_assert_int_eq(kt_file_key_unwrap(lk, oid, w, out), 0);
}
END_TEST

/* ---- §6 metadata ----------------------------------------------------- */

static struct kt_meta_keys *random_meta_keys(uint16_t version)
{
	uint8_t mk[KT_KEY_BYTES];
	struct kt_meta_keys *k;

	kt_random(mk, sizeof(mk));
	k = kt_meta_keys_new(mk, version);
	sodium_memzero(mk, sizeof(mk));
	ck_assert_ptr_nonnull(k);
	return k;
}

START_TEST(meta_roundtrip)
{
	struct kt_meta_keys *k = random_meta_keys(0x0102);
	static const char name[] = "Protokoll nämnden 2026.docx";
	uint8_t ct[sizeof(name) - 1 + KT_META_OVERHEAD], pt[sizeof(name) - 1];
	uint8_t empty_ct[KT_META_OVERHEAD];

	for (int p = KT_META_NAME; p <= KT_META_PATH; p++) {
		ck_assert_int_eq(kt_meta_seal(k, p, 42, name, sizeof(name) - 1, ct), 0);
		ck_assert_int_eq(ct[0], 1);
		ck_assert_int_eq(ct[1], p);
		ck_assert_int_eq(le16(ct + 2), 0x0102);
		ck_assert_int_eq(kt_meta_open(k, p, 42, ct, sizeof(ct), pt), 0);
		ck_assert_int_eq(memcmp(pt, name, sizeof(pt)), 0);
	}
	ck_assert_int_eq(kt_meta_seal(k, KT_META_PATH, 0, "", 0, empty_ct), 0);
	ck_assert_int_eq(kt_meta_open(k, KT_META_PATH, 0, empty_ct, sizeof(empty_ct), pt), 0);
	ck_assert_int_eq(kt_meta_seal(k, (enum kt_meta_purpose)6, 0, "", 0, empty_ct), -EINVAL);
	ck_assert_int_eq(kt_meta_open(k, KT_META_PATH, 0, empty_ct, KT_META_OVERHEAD - 1, pt),
			 -EINVAL);
	kt_meta_keys_free(k);
	ck_assert_ptr_null(kt_meta_keys_free(NULL));
}
END_TEST

START_TEST(meta_attacks)
{
	struct kt_meta_keys *k = random_meta_keys(1), *k2 = random_meta_keys(1);
	struct kt_meta_keys *k_v2;
	static const char name[] = "barnavård";
	uint8_t ct[sizeof(name) - 1 + KT_META_OVERHEAD], pt[sizeof(name) - 1];
	uint8_t mk[KT_KEY_BYTES];

	ck_assert_int_eq(kt_meta_seal(k, KT_META_NAME, 7, name, sizeof(name) - 1, ct), 0);
	/* wrong purpose */
	ck_assert_int_eq(kt_meta_open(k, KT_META_XATTR_NAME, 7, ct, sizeof(ct), pt), -EBADMSG);
	/* wrong context: moved to another directory */
	ck_assert_int_eq(kt_meta_open(k, KT_META_NAME, 8, ct, sizeof(ct), pt), -EBADMSG);
	ck_assert_int_eq(kt_meta_open(k, KT_META_NAME, 7ULL | (1ULL << 40), ct, sizeof(ct), pt),
			 -EBADMSG);
	/* wrong key, same version */
	ck_assert_int_eq(kt_meta_open(k2, KT_META_NAME, 7, ct, sizeof(ct), pt), -EBADMSG);
	/* wrong key version */
	kt_random(mk, sizeof(mk));
	k_v2 = kt_meta_keys_new(mk, 2);
	ck_assert_int_eq(kt_meta_open(k_v2, KT_META_NAME, 7, ct, sizeof(ct), pt), -EBADMSG);
	/* the purpose byte rewritten to match the caller */
	ct[1] = KT_META_XATTR_NAME;
	ck_assert_int_eq(kt_meta_open(k, KT_META_XATTR_NAME, 7, ct, sizeof(ct), pt), -EBADMSG);
	ct[1] = KT_META_NAME;
	/* truncated */
	ck_assert_int_eq(kt_meta_open(k, KT_META_NAME, 7, ct, sizeof(ct) - 1, pt), -EBADMSG);
	ck_assert_int_eq(kt_meta_open(k, KT_META_NAME, 7, ct, sizeof(ct), pt), 0);

	for (size_t i = 0; i < sizeof(ct); i++) {
		int r;

		ct[i] ^= 0x20;
		r = kt_meta_open(k, KT_META_NAME, 7, ct, sizeof(ct), pt);
		ck_assert_msg(r == -EBADMSG || r == -EINVAL, "byte %zu: %d", i, r);
		ct[i] ^= 0x20;
	}
	ck_assert_int_eq(kt_meta_open(k, KT_META_NAME, 7, ct, sizeof(ct), pt), 0);
	kt_meta_keys_free(k);
	kt_meta_keys_free(k2);
	kt_meta_keys_free(k_v2);
}
END_TEST

START_TEST(name_hash_separation)
{
	struct kt_meta_keys *k = random_meta_keys(1), *k2 = random_meta_keys(1);
	uint8_t h1[KT_HASH_BYTES], h2[KT_HASH_BYTES], h3[KT_HASH_BYTES], h4[KT_HASH_BYTES];
	uint8_t h5[KT_HASH_BYTES];

	kt_name_hash(k, 1, "a.txt", 5, h1);
	kt_name_hash(k, 1, "a.txt", 5, h2);
	ck_assert_int_eq(memcmp(h1, h2, sizeof(h1)), 0);
	kt_name_hash(k, 2, "a.txt", 5, h3);
	ck_assert_int_ne(memcmp(h1, h3, sizeof(h1)), 0);
	kt_name_hash(k2, 1, "a.txt", 5, h4);
	ck_assert_int_ne(memcmp(h1, h4, sizeof(h1)), 0);
	kt_name_hash(k, 1, "A.txt", 5, h5);
	ck_assert_int_ne(memcmp(h1, h5, sizeof(h1)), 0);
	kt_meta_keys_free(k);
	kt_meta_keys_free(k2);
}
END_TEST

START_TEST(subkeys_distinct)
{
	uint8_t fk[KT_KEY_BYTES], dk[KT_KEY_BYTES], hk[KT_KEY_BYTES];
	struct kt_meta_keys *k;

	kt_random(fk, sizeof(fk));
	kt_file_subkeys(fk, dk, hk);
	ck_assert_int_ne(memcmp(dk, hk, KT_KEY_BYTES), 0);
	ck_assert_int_ne(memcmp(dk, fk, KT_KEY_BYTES), 0);
	/* the same parent key as a metadata key gives other subkeys: contexts differ */
	k = kt_meta_keys_new(fk, 1);
	ck_assert_int_ne(memcmp(k->name_key, dk, KT_KEY_BYTES), 0);
	ck_assert_int_ne(memcmp(k->aead_key, dk, KT_KEY_BYTES), 0);
	ck_assert_int_ne(memcmp(k->aead_key, hk, KT_KEY_BYTES), 0);
	ck_assert_int_ne(memcmp(k->aead_key, k->name_key, KT_KEY_BYTES), 0);
	kt_meta_keys_free(k);
}
END_TEST

START_TEST(secure_memory)
{
	uint8_t *p = kt_secure_alloc(64);

	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(p[i], 0);
	ck_assert_ptr_null(kt_secure_free(p));
	ck_assert_ptr_null(kt_secure_free(NULL));
}
END_TEST

/* ---- golden vectors -------------------------------------------------- */

/* The fixed inputs of the vectors. */
struct golden_inputs {
	uint8_t user_pk[KT_KEY_BYTES], user_sk[KT_KEY_BYTES];
	uint8_t rcpt_pk[KT_KEY_BYTES], rcpt_sk[KT_KEY_BYTES];
	uint8_t sealed_key[KT_KEY_BYTES];
	uint8_t level_key[KT_KEY_BYTES], file_key[KT_KEY_BYTES], object_id[OID_BYTES];
	uint8_t meta_key[KT_KEY_BYTES];
};

#define G_SEAL_KIND    KT_SEAL_LEVEL
#define G_SEAL_ID      2
#define G_SEAL_VERSION 0x0304
#define G_WRAP_LEVEL   3
#define G_WRAP_VERSION 0x05060708u
#define G_META_VERSION 0x0102
#define G_META_PURPOSE KT_META_NAME
#define G_META_CONTEXT 0x1122334455667788ULL
#define G_META_PLAIN   "Känslig rapport.odt"
#define G_HASH_CONTEXT 1
#define G_HASH_NAME    "Protokoll"

static void golden_inputs(struct golden_inputs *g)
{
	fixed_user(g->user_pk, g->user_sk);
	fill(g->rcpt_sk, KT_KEY_BYTES, 0x21);
	crypto_scalarmult_base(g->rcpt_pk, g->rcpt_sk);
	fill(g->sealed_key, KT_KEY_BYTES, 0x41);
	fill(g->level_key, KT_KEY_BYTES, 0x61);
	fill(g->file_key, KT_KEY_BYTES, 0x81);
	fill(g->object_id, OID_BYTES, 0xa1);
	fill(g->meta_key, KT_KEY_BYTES, 0xc1);
}

static void put_hex(FILE *f, const char *name, const uint8_t *b, size_t len)
{
	char hex[2 * 256 + 1];

	sodium_bin2hex(hex, sizeof(hex), b, len);
	fprintf(f, "%s = %s\n", name, hex);
}

/* Print a fresh vectors file (nonces and salts differ each run). */
static int generate(FILE *f)
{
	struct golden_inputs g;
	uint8_t us[KT_USER_SECRET_BYTES], sealed[KT_SEALED_BYTES], w[KT_WRAPPED_KEY_BYTES];
	uint8_t ct[sizeof(G_META_PLAIN) - 1 + KT_META_OVERHEAD], h[KT_HASH_BYTES];
	uint8_t dk[KT_KEY_BYTES], hk[KT_KEY_BYTES], fp[KT_FINGERPRINT_BYTES];
	struct kt_meta_keys *mk;

	golden_inputs(&g);
	mk = kt_meta_keys_new(g.meta_key, G_META_VERSION);
	if (!mk ||
	    kt_user_secret_seal(PASS, strlen(PASS), KT_KDF_TEST, g.user_pk, g.user_sk, NULL, us) ||
	    kt_seal(G_SEAL_KIND, G_SEAL_ID, G_SEAL_VERSION, g.sealed_key, g.rcpt_pk, sealed) ||
	    kt_file_key_wrap(g.level_key, G_WRAP_LEVEL, G_WRAP_VERSION, g.object_id, g.file_key,
			     w) ||
	    kt_meta_seal(mk, G_META_PURPOSE, G_META_CONTEXT, G_META_PLAIN, sizeof(G_META_PLAIN) - 1,
			 ct))
		return 1;
	kt_name_hash(mk, G_HASH_CONTEXT, G_HASH_NAME, strlen(G_HASH_NAME), h);
	kt_file_subkeys(g.file_key, dk, hk);
	kt_fingerprint(g.level_key, fp);

	fprintf(f, "# vaultfs golden vectors, format version 1 (docs/format.md §2-§6, §8).\n"
		   "# Made once by 'test_crypto --generate' (tests/unit/test_crypto.c); the\n"
		   "# inputs are fixed there, nonces, salts and ephemeral keys were random.\n"
		   "# The current code must open these blobs: never regenerate for version 1.\n"
		   "\n# §3 user secret, passphrase \"" PASS "\", KDF profile test\n");
	put_hex(f, "user.passphrase", (const uint8_t *)PASS, strlen(PASS));
	put_hex(f, "user.secret_key", g.user_sk, KT_KEY_BYTES);
	put_hex(f, "user.public_key", g.user_pk, KT_KEY_BYTES);
	put_hex(f, "user.blob", us, sizeof(us));
	fprintf(f, "\n# §4 sealed key: kind %d, id %d, version %d\n", G_SEAL_KIND, G_SEAL_ID,
		G_SEAL_VERSION);
	put_hex(f, "seal.recipient_secret_key", g.rcpt_sk, KT_KEY_BYTES);
	put_hex(f, "seal.recipient_public_key", g.rcpt_pk, KT_KEY_BYTES);
	put_hex(f, "seal.key", g.sealed_key, KT_KEY_BYTES);
	put_hex(f, "seal.blob", sealed, sizeof(sealed));
	fprintf(f, "\n# §5 wrapped file key: level %d, level key version %u\n", G_WRAP_LEVEL,
		G_WRAP_VERSION);
	put_hex(f, "wrap.level_key", g.level_key, KT_KEY_BYTES);
	put_hex(f, "wrap.object_id", g.object_id, OID_BYTES);
	put_hex(f, "wrap.file_key", g.file_key, KT_KEY_BYTES);
	put_hex(f, "wrap.blob", w, sizeof(w));
	fprintf(f, "\n# §6 metadata: key version %d, purpose %d, context 0x%llx\n", G_META_VERSION,
		G_META_PURPOSE, (unsigned long long)G_META_CONTEXT);
	put_hex(f, "meta.key", g.meta_key, KT_KEY_BYTES);
	put_hex(f, "meta.name_subkey", mk->name_key, KT_KEY_BYTES);
	put_hex(f, "meta.aead_subkey", mk->aead_key, KT_KEY_BYTES);
	put_hex(f, "meta.plaintext", (const uint8_t *)G_META_PLAIN, sizeof(G_META_PLAIN) - 1);
	put_hex(f, "meta.blob", ct, sizeof(ct));
	fprintf(f, "\n# §6 name hash: context %d, name \"" G_HASH_NAME "\"\n", G_HASH_CONTEXT);
	put_hex(f, "hash.name_hash", h, sizeof(h));
	fprintf(f, "\n# §2 content subkeys of wrap.file_key\n");
	put_hex(f, "file.data_subkey", dk, KT_KEY_BYTES);
	put_hex(f, "file.header_subkey", hk, KT_KEY_BYTES);
	fprintf(f, "\n# §8 fingerprint of wrap.level_key\n");
	put_hex(f, "fingerprint", fp, sizeof(fp));
	kt_meta_keys_free(mk);
	return 0;
}

/* Read "name = hex" from the vectors file into buf; the value must be len bytes. */
static void vector(const char *name, uint8_t *buf, size_t len)
{
	const char *dir = getenv("VAULTFS_VECTORS");
	char path[4096], line[1024];
	size_t nlen = strlen(name);
	bool found = false;
	FILE *f;

	ck_assert_msg(dir != NULL, "VAULTFS_VECTORS is not set");
	snprintf(path, sizeof(path), "%s/crypto-v1.txt", dir);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		size_t bin_len = 0;
		const char *end;

		if (strncmp(line, name, nlen) != 0 || strncmp(line + nlen, " = ", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		ck_assert_int_eq(sodium_hex2bin(buf, len, line + nlen + 3, strlen(line + nlen + 3),
						NULL, &bin_len, &end),
				 0);
		ck_assert_msg(bin_len == len && *end == '\0', "%s: %zu bytes, want %zu", name,
			      bin_len, len);
		found = true;
		break;
	}
	fclose(f);
	ck_assert_msg(found, "vector %s missing", name);
}

START_TEST(golden_inputs_match)
{
	struct golden_inputs g;
	uint8_t buf[KT_KEY_BYTES];

	golden_inputs(&g);
	vector("user.public_key", buf, KT_KEY_BYTES);
	ck_assert_int_eq(memcmp(buf, g.user_pk, KT_KEY_BYTES), 0);
	vector("seal.recipient_public_key", buf, KT_KEY_BYTES);
	ck_assert_int_eq(memcmp(buf, g.rcpt_pk, KT_KEY_BYTES), 0);
	vector("wrap.level_key", buf, KT_KEY_BYTES);
	ck_assert_int_eq(memcmp(buf, g.level_key, KT_KEY_BYTES), 0);
}
END_TEST

START_TEST(golden_user_secret)
{
	struct golden_inputs g;
	uint8_t blob[KT_USER_SECRET_BYTES], sk[KT_KEY_BYTES];

	golden_inputs(&g);
	vector("user.blob", blob, sizeof(blob));
	/* layout: version, kdf, reserved, opslimit, memlimit KiB */
	ck_assert_int_eq(blob[0], 1);
	ck_assert_int_eq(blob[1], 1);
	ck_assert_int_eq(blob[2], 0);
	ck_assert_int_eq(blob[3], 0);
	ck_assert_uint_eq(le32(blob + 4), 1);
	ck_assert_uint_eq(le32(blob + 8), 8);
	ck_assert_int_eq(kt_user_secret_open(PASS, strlen(PASS), g.user_pk, NULL, blob, sk), 0);
	ck_assert_int_eq(sodium_memcmp(sk, g.user_sk, KT_KEY_BYTES), 0);
	/* the salt is at 12: changing it changes the KDF output */
	blob[12] ^= 1;
	ck_assert_int_eq(kt_user_secret_open(PASS, strlen(PASS), g.user_pk, NULL, blob, sk),
			 -EACCES);
}
END_TEST

START_TEST(golden_sealed_key)
{
	struct golden_inputs g;
	uint8_t blob[KT_SEALED_BYTES], key[KT_KEY_BYTES];

	golden_inputs(&g);
	vector("seal.blob", blob, sizeof(blob));
	ck_assert_int_eq(blob[0], 1);
	ck_assert_int_eq(
	    kt_unseal(G_SEAL_KIND, G_SEAL_ID, G_SEAL_VERSION, blob, g.rcpt_pk, g.rcpt_sk, key), 0);
	ck_assert_int_eq(sodium_memcmp(key, g.sealed_key, KT_KEY_BYTES), 0);
	ck_assert_int_eq(
	    kt_unseal(G_SEAL_KIND, G_SEAL_ID, G_SEAL_VERSION + 1, blob, g.rcpt_pk, g.rcpt_sk, key),
	    -EBADMSG);
}
END_TEST

START_TEST(golden_wrapped_key)
{
	struct golden_inputs g;
	uint8_t blob[KT_WRAPPED_KEY_BYTES], key[KT_KEY_BYTES], level;
	uint32_t version;

	golden_inputs(&g);
	vector("wrap.blob", blob, sizeof(blob));
	ck_assert_int_eq(blob[0], 1);
	ck_assert_int_eq(blob[1], G_WRAP_LEVEL);
	ck_assert_int_eq(le16(blob + 2), 0);
	ck_assert_uint_eq(le32(blob + 4), G_WRAP_VERSION);
	ck_assert_int_eq(kt_file_key_info(blob, &level, &version), 0);
	ck_assert_int_eq(level, G_WRAP_LEVEL);
	ck_assert_uint_eq(version, G_WRAP_VERSION);
	ck_assert_int_eq(kt_file_key_unwrap(g.level_key, g.object_id, blob, key), 0);
	ck_assert_int_eq(sodium_memcmp(key, g.file_key, KT_KEY_BYTES), 0);
}
END_TEST

START_TEST(golden_metadata)
{
	struct golden_inputs g;
	uint8_t blob[sizeof(G_META_PLAIN) - 1 + KT_META_OVERHEAD], pt[sizeof(G_META_PLAIN) - 1];
	uint8_t want[KT_KEY_BYTES];
	struct kt_meta_keys *mk;

	golden_inputs(&g);
	mk = kt_meta_keys_new(g.meta_key, G_META_VERSION);
	vector("meta.name_subkey", want, KT_KEY_BYTES);
	ck_assert_int_eq(memcmp(want, mk->name_key, KT_KEY_BYTES), 0);
	vector("meta.aead_subkey", want, KT_KEY_BYTES);
	ck_assert_int_eq(memcmp(want, mk->aead_key, KT_KEY_BYTES), 0);
	vector("meta.blob", blob, sizeof(blob));
	ck_assert_int_eq(blob[0], 1);
	ck_assert_int_eq(blob[1], G_META_PURPOSE);
	ck_assert_int_eq(le16(blob + 2), G_META_VERSION);
	ck_assert_int_eq(kt_meta_open(mk, G_META_PURPOSE, G_META_CONTEXT, blob, sizeof(blob), pt),
			 0);
	ck_assert_int_eq(memcmp(pt, G_META_PLAIN, sizeof(pt)), 0);
	kt_meta_keys_free(mk);
}
END_TEST

START_TEST(golden_deterministic)
{
	struct golden_inputs g;
	uint8_t want[KT_KEY_BYTES], got[KT_KEY_BYTES], hk[KT_KEY_BYTES];
	uint8_t fp[KT_FINGERPRINT_BYTES], want_fp[KT_FINGERPRINT_BYTES];
	struct kt_meta_keys *mk;

	golden_inputs(&g);
	mk = kt_meta_keys_new(g.meta_key, G_META_VERSION);
	kt_name_hash(mk, G_HASH_CONTEXT, G_HASH_NAME, strlen(G_HASH_NAME), got);
	vector("hash.name_hash", want, KT_HASH_BYTES);
	ck_assert_int_eq(memcmp(want, got, KT_HASH_BYTES), 0);
	kt_meta_keys_free(mk);

	kt_file_subkeys(g.file_key, got, hk);
	vector("file.data_subkey", want, KT_KEY_BYTES);
	ck_assert_int_eq(memcmp(want, got, KT_KEY_BYTES), 0);
	vector("file.header_subkey", want, KT_KEY_BYTES);
	ck_assert_int_eq(memcmp(want, hk, KT_KEY_BYTES), 0);

	kt_fingerprint(g.level_key, fp);
	vector("fingerprint", want_fp, sizeof(want_fp));
	ck_assert_int_eq(memcmp(want_fp, fp, sizeof(fp)), 0);
}
END_TEST

/* The fingerprint as listings print it: 16 lower-case hex digits of §8. */
START_TEST(fingerprint_hex)
{
	uint8_t key[KT_KEY_BYTES], fp[KT_FINGERPRINT_BYTES];
	char hex[KT_FINGERPRINT_HEX_BYTES], want[KT_FINGERPRINT_HEX_BYTES];

	ck_assert_uint_eq(sizeof(hex), 17);
	for (int i = 0; i < 4; i++) {
		kt_random(key, sizeof(key));
		kt_fingerprint(key, fp);
		for (size_t j = 0; j < sizeof(fp); j++)
			snprintf(want + 2 * j, 3, "%02x", fp[j]);
		memset(hex, 'X', sizeof(hex));
		kt_fingerprint_hex(key, hex);
		ck_assert_str_eq(hex, want);
	}
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, user_secret_roundtrip);
	tcase_add_test(tc, user_secret_profile_interactive);
	tcase_add_test(tc, user_secret_wrong_passphrase);
	tcase_add_test(tc, user_secret_bound_to_public_key);
	tcase_add_test(tc, user_secret_flip_every_byte);
	tcase_add_test(tc, seal_roundtrip);
	tcase_add_test(tc, seal_wrong_context);
	tcase_add_test(tc, seal_wrong_recipient);
	tcase_add_test(tc, seal_flip_every_byte);
	tcase_add_test(tc, file_key_roundtrip);
	tcase_add_test(tc, file_key_attacks);
	tcase_add_test(tc, meta_roundtrip);
	tcase_add_test(tc, meta_attacks);
	tcase_add_test(tc, name_hash_separation);
	tcase_add_test(tc, subkeys_distinct);
	tcase_add_test(tc, secure_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("golden");
	tcase_add_test(tc, golden_inputs_match);
	tcase_add_test(tc, golden_user_secret);
	tcase_add_test(tc, golden_sealed_key);
	tcase_add_test(tc, golden_wrapped_key);
	tcase_add_test(tc, golden_metadata);
	tcase_add_test(tc, golden_deterministic);
	tcase_add_test(tc, fingerprint_hex);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (kt_crypto_init() < 0)
		return EXIT_FAILURE;
	if (argc == 2 && strcmp(argv[1], "--generate") == 0)
		return generate(stdout);
	return tu_run(crypto_suite());
}
