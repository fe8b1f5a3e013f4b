/*
 * keytool/crypto.c — the byte formats of docs/format.md §2–§6 over libsodium.
 *
 * One function per structure and direction: the passphrase-sealed user
 * secret (§3), sealed keys (§4), wrapped file keys (§5), metadata ciphertexts
 * and name hashes (§6), the subkeys of §2 and key fingerprints (§8). Offsets
 * are named below and pinned with _Static_assert; the golden vectors in
 * tests/vectors/ pin the bytes. Nothing here does I/O.
 *
 * Conventions: outputs are cleared on entry, so a failed call leaves zeros,
 * never partial plaintext; stack temporaries holding keys or plaintext are
 * wiped with sodium_memzero right after their last use; secrets and contexts
 * are compared with sodium_memcmp.
 */
#include "keytool/crypto.h"
#include "keytool/secmem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

/* §3: user secret blob. */
#define US_OFF_VERSION	  0
#define US_OFF_KDF	  1
#define US_OFF_RESERVED	  2
#define US_OFF_OPSLIMIT	  4
#define US_OFF_MEMLIMIT	  8
#define US_OFF_SALT	  12
#define US_OFF_NONCE	  28
#define US_OFF_CT	  52
#define US_SALT_BYTES	  16
#define US_KDF_ARGON2ID13 1
/* Bounds on the cost read back from a blob: a tampered blob must not make
 * unlock burn hours or gigabytes before failing. */
#define US_OPSLIMIT_MAX	    64
#define US_MEMLIMIT_MAX_KIB (4ULL << 20) /* 4 GiB */

/* §4: sealed key. */
#define SK_OFF_VERSION 0
#define SK_OFF_SEAL    1
#define SK_CTX_BYTES   8
#define SK_PLAIN_BYTES (SK_CTX_BYTES + KT_KEY_BYTES)

/* §5: wrapped file key. */
#define WK_OFF_VERSION	   0
#define WK_OFF_LEVEL	   1
#define WK_OFF_RESERVED	   2
#define WK_OFF_KEY_VERSION 4
#define WK_OFF_NONCE	   8
#define WK_OFF_CT	   32
#define WK_HEADER_BYTES	   8
#define WK_AD_PREFIX	   "vfsfkey1"
#define WK_AD_BYTES	   (8 + WK_HEADER_BYTES + KT_OBJECT_ID_BYTES)

/* §6: metadata ciphertext. */
#define MC_OFF_VERSION	   0
#define MC_OFF_PURPOSE	   1
#define MC_OFF_KEY_VERSION 2
#define MC_OFF_NONCE	   4
#define MC_OFF_CT	   28
#define MC_HEADER_BYTES	   4
#define MC_AD_BYTES	   (MC_HEADER_BYTES + 8)

/* §2: key-derivation contexts, each used for exactly one purpose. */
static const char kdf_ctx_name[crypto_kdf_CONTEXTBYTES] = {'v', 'f', 's', '-', 'n', 'a', 'm', 'e'};
static const char kdf_ctx_meta[crypto_kdf_CONTEXTBYTES] = {'v', 'f', 's', '-', 'm', 'e', 't', 'a'};
static const char kdf_ctx_data[crypto_kdf_CONTEXTBYTES] = {'v', 'f', 's', '-', 'd', 'a', 't', 'a'};
static const char kdf_ctx_hdr[crypto_kdf_CONTEXTBYTES] = {'v', 'f', 's', '-', 'h', 'd', 'r', '_'};
#define KDF_SUBKEY_ID 1

/* §8: fingerprint key. */
static const uint8_t fp_key[] = {'v', 'f', 's', '-', 'f', 'p'};

#define AEAD_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AEAD_TAG_BYTES	 crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(KT_KEY_BYTES == crypto_box_PUBLICKEYBYTES, "X25519 public key size");
_Static_assert(KT_KEY_BYTES == crypto_box_SECRETKEYBYTES, "X25519 secret key size");
_Static_assert(KT_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "AEAD key size");
_Static_assert(KT_KEY_BYTES == crypto_kdf_KEYBYTES, "KDF key size");
_Static_assert(KT_KEY_BYTES == crypto_generichash_KEYBYTES, "name hash key size");
_Static_assert(AEAD_NONCE_BYTES == 24 && AEAD_TAG_BYTES == 16, "XChaCha20-Poly1305 sizes");
_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "KDF context size");
_Static_assert(US_SALT_BYTES == crypto_pwhash_SALTBYTES, "Argon2 salt size");
_Static_assert(US_OFF_SALT + US_SALT_BYTES == US_OFF_NONCE, "§3 layout");
_Static_assert(US_OFF_NONCE + AEAD_NONCE_BYTES == US_OFF_CT, "§3 layout");
_Static_assert(US_OFF_CT + KT_KEY_BYTES + AEAD_TAG_BYTES == KT_USER_SECRET_BYTES, "§3 size");
_Static_assert(crypto_box_SEALBYTES == 48, "sealed box overhead");
_Static_assert(SK_OFF_SEAL + crypto_box_SEALBYTES + SK_PLAIN_BYTES == KT_SEALED_BYTES, "§4 size");
_Static_assert(WK_OFF_NONCE + AEAD_NONCE_BYTES == WK_OFF_CT, "§5 layout");
_Static_assert(KT_WRAPPED_PREFIX_BYTES == WK_OFF_NONCE, "§5 prefix: bytes before the nonce");
_Static_assert(WK_OFF_CT + KT_KEY_BYTES + AEAD_TAG_BYTES == KT_WRAPPED_KEY_BYTES, "§5 size");
_Static_assert(sizeof(WK_AD_PREFIX) - 1 == 8, "§5 AD prefix");
_Static_assert(MC_OFF_NONCE + AEAD_NONCE_BYTES == MC_OFF_CT, "§6 layout");
_Static_assert(MC_OFF_CT + AEAD_TAG_BYTES == KT_META_OVERHEAD, "§6 overhead");
_Static_assert(KT_HASH_BYTES >= crypto_generichash_BYTES_MIN &&
		   KT_HASH_BYTES <= crypto_generichash_BYTES_MAX,
	       "name hash size");

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

int kt_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void *kt_secure_alloc(size_t len)
{
	return kt_secmem_alloc(len);
}

void *kt_secure_free(void *p)
{
	return kt_secmem_free(p);
}

void *kt_secure_allocarray(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return kt_secmem_alloc(n * size);
}

void kt_secure_freep(void *pp)
{
	void **p = pp;

	*p = kt_secmem_free(*p);
}

void kt_keypair(uint8_t ret_pk[KT_KEY_BYTES], uint8_t ret_sk[KT_KEY_BYTES])
{
	crypto_box_keypair(ret_pk, ret_sk);
}

void kt_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

static const char *const kdf_profile_names[] = {
    [KT_KDF_INTERACTIVE] = "interactive",
    [KT_KDF_MODERATE] = "moderate",
    [KT_KDF_SENSITIVE] = "sensitive",
    [KT_KDF_TEST] = "test",
};

const char *kt_kdf_profile_name(enum kt_kdf_profile profile)
{
	if ((unsigned int)profile > KT_KDF_TEST)
		return NULL;
	return kdf_profile_names[profile];
}

int kt_kdf_profile_parse(const char *name, enum kt_kdf_profile *ret_profile)
{
	for (unsigned int p = 0; p <= KT_KDF_TEST; p++) {
		if (name && strcmp(name, kdf_profile_names[p]) == 0) {
			*ret_profile = (enum kt_kdf_profile)p;
			return 0;
		}
	}
	return -EINVAL;
}

/* The Argon2id limits of a profile; opslimit as stored, memlimit in bytes. */
static void kdf_limits(enum kt_kdf_profile profile, unsigned long long *ret_ops, size_t *ret_mem)
{
	switch (profile) {
	case KT_KDF_MODERATE:
		*ret_ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*ret_mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	case KT_KDF_SENSITIVE:
		*ret_ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*ret_mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	case KT_KDF_TEST:
		*ret_ops = crypto_pwhash_OPSLIMIT_MIN;
		*ret_mem = crypto_pwhash_MEMLIMIT_MIN;
		break;
	case KT_KDF_INTERACTIVE:
	default:
		*ret_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*ret_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	}
}

/* AD of §3: the 52-byte header followed by the user's public key and, in
 * version 2, the vault's administration signing public key. */
static size_t user_secret_ad(const uint8_t blob[KT_USER_SECRET_BYTES],
			     const uint8_t pk[KT_KEY_BYTES], const uint8_t *admin_pk,
			     uint8_t ret_ad[US_OFF_CT + 2 * KT_KEY_BYTES])
{
	memcpy(ret_ad, blob, US_OFF_CT);
	memcpy(ret_ad + US_OFF_CT, pk, KT_KEY_BYTES);
	if (!admin_pk)
		return US_OFF_CT + KT_KEY_BYTES;
	memcpy(ret_ad + US_OFF_CT + KT_KEY_BYTES, admin_pk, KT_KEY_BYTES);
	return US_OFF_CT + 2 * KT_KEY_BYTES;
}

int kt_user_secret_version(const uint8_t blob[KT_USER_SECRET_BYTES])
{
	return blob[US_OFF_VERSION];
}

int kt_user_secret_seal(const char *passphrase, size_t pass_len, enum kt_kdf_profile profile,
			const uint8_t pk[KT_KEY_BYTES], const uint8_t sk[KT_KEY_BYTES],
			const uint8_t *admin_pk, uint8_t ret_blob[KT_USER_SECRET_BYTES])
{
	uint8_t ad[US_OFF_CT + 2 * KT_KEY_BYTES];
	size_t ad_len;
	uint8_t kek[KT_KEY_BYTES];
	unsigned long long ops;
	size_t mem;
	int r;

	memset(ret_blob, 0, KT_USER_SECRET_BYTES);
	if (!passphrase || (unsigned int)profile > KT_KDF_TEST)
		return -EINVAL;
	kdf_limits(profile, &ops, &mem);
	_Static_assert(crypto_pwhash_MEMLIMIT_SENSITIVE / 1024 <= UINT32_MAX, "memlimit fits");

	ret_blob[US_OFF_VERSION] = admin_pk ? KT_USER_SECRET_V2 : KT_USER_SECRET_V1;
	ret_blob[US_OFF_KDF] = US_KDF_ARGON2ID13;
	put_le32(ret_blob + US_OFF_OPSLIMIT, (uint32_t)ops);
	put_le32(ret_blob + US_OFF_MEMLIMIT, (uint32_t)(mem / 1024));
	randombytes_buf(ret_blob + US_OFF_SALT, US_SALT_BYTES);
	randombytes_buf(ret_blob + US_OFF_NONCE, AEAD_NONCE_BYTES);

	if (crypto_pwhash(kek, sizeof(kek), passphrase, pass_len, ret_blob + US_OFF_SALT, ops, mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		r = -ENOMEM;
		goto out;
	}
	ad_len = user_secret_ad(ret_blob, pk, admin_pk, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ret_blob + US_OFF_CT, NULL, sk, KT_KEY_BYTES, ad,
						   ad_len, NULL, ret_blob + US_OFF_NONCE, kek);
	r = 0;
out:
	sodium_memzero(kek, sizeof(kek));
	if (r < 0)
		memset(ret_blob, 0, KT_USER_SECRET_BYTES);
	return r;
}

int kt_user_secret_open(const char *passphrase, size_t pass_len, const uint8_t pk[KT_KEY_BYTES],
			const uint8_t *admin_pk, const uint8_t blob[KT_USER_SECRET_BYTES],
			uint8_t ret_sk[KT_KEY_BYTES])
{
	uint8_t ad[US_OFF_CT + 2 * KT_KEY_BYTES];
	size_t ad_len;
	uint8_t kek[KT_KEY_BYTES];
	uint32_t ops, mem_kib;
	int r;

	sodium_memzero(ret_sk, KT_KEY_BYTES);
	if (!passphrase)
		return -EINVAL;
	if ((blob[US_OFF_VERSION] != KT_USER_SECRET_V1 &&
	     blob[US_OFF_VERSION] != KT_USER_SECRET_V2) ||
	    blob[US_OFF_KDF] != US_KDF_ARGON2ID13)
		return -EINVAL;
	if (blob[US_OFF_VERSION] == KT_USER_SECRET_V1)
		admin_pk = NULL; /* legacy: nothing bound but the user's public key */
	else if (!admin_pk)
		return -ENOKEY; /* version 2 opens only with the administration key */
	ops = get_le32(blob + US_OFF_OPSLIMIT);
	mem_kib = get_le32(blob + US_OFF_MEMLIMIT);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > US_OPSLIMIT_MAX ||
	    (uint64_t)mem_kib * 1024 < crypto_pwhash_MEMLIMIT_MIN || mem_kib > US_MEMLIMIT_MAX_KIB)
		return -EINVAL;

	if (crypto_pwhash(kek, sizeof(kek), passphrase, pass_len, blob + US_OFF_SALT, ops,
			  (size_t)mem_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	ad_len = user_secret_ad(blob, pk, admin_pk, ad);
	r = crypto_aead_xchacha20poly1305_ietf_decrypt(ret_sk, NULL, NULL, blob + US_OFF_CT,
						       KT_KEY_BYTES + AEAD_TAG_BYTES, ad, ad_len,
						       blob + US_OFF_NONCE, kek);
	sodium_memzero(kek, sizeof(kek));
	if (r != 0) {
		sodium_memzero(ret_sk, KT_KEY_BYTES);
		return -EACCES;
	}
	return 0;
}

/* The 8-byte context inside a sealed key (§4). */
static void seal_context(enum kt_seal_kind kind, uint16_t id, uint16_t version,
			 uint8_t ret_ctx[SK_CTX_BYTES])
{
	ret_ctx[0] = (uint8_t)kind;
	ret_ctx[1] = 0;
	put_le16(ret_ctx + 2, 0);
	put_le16(ret_ctx + 4, id);
	put_le16(ret_ctx + 6, version);
}

static bool seal_kind_valid(enum kt_seal_kind kind)
{
	return kind >= KT_SEAL_ROLE && kind <= KT_SEAL_ADMIN_SIGN;
}

int kt_seal(enum kt_seal_kind kind, uint16_t id, uint16_t version, const uint8_t key[KT_KEY_BYTES],
	    const uint8_t recipient_pk[KT_KEY_BYTES], uint8_t ret_sealed[KT_SEALED_BYTES])
{
	uint8_t plain[SK_PLAIN_BYTES];
	int r;

	memset(ret_sealed, 0, KT_SEALED_BYTES);
	if (!seal_kind_valid(kind))
		return -EINVAL;
	seal_context(kind, id, version, plain);
	memcpy(plain + SK_CTX_BYTES, key, KT_KEY_BYTES);
	r = crypto_box_seal(ret_sealed + SK_OFF_SEAL, plain, sizeof(plain), recipient_pk);
	sodium_memzero(plain, sizeof(plain));
	if (r != 0) {
		/* a low-order recipient key */
		memset(ret_sealed, 0, KT_SEALED_BYTES);
		return -EINVAL;
	}
	ret_sealed[SK_OFF_VERSION] = KT_FORMAT_VERSION;
	return 0;
}

int kt_unseal(enum kt_seal_kind kind, uint16_t id, uint16_t version,
	      const uint8_t sealed[KT_SEALED_BYTES], const uint8_t recipient_pk[KT_KEY_BYTES],
	      const uint8_t recipient_sk[KT_KEY_BYTES], uint8_t ret_key[KT_KEY_BYTES])
{
	uint8_t plain[SK_PLAIN_BYTES];
	uint8_t want[SK_CTX_BYTES];
	int r;

	sodium_memzero(ret_key, KT_KEY_BYTES);
	if (!seal_kind_valid(kind) || sealed[SK_OFF_VERSION] != KT_FORMAT_VERSION)
		return -EINVAL;
	if (crypto_box_seal_open(plain, sealed + SK_OFF_SEAL, KT_SEALED_BYTES - SK_OFF_SEAL,
				 recipient_pk, recipient_sk) != 0)
		return -EBADMSG;
	seal_context(kind, id, version, want);
	r = sodium_memcmp(plain, want, SK_CTX_BYTES) == 0 ? 0 : -EBADMSG;
	if (r == 0)
		memcpy(ret_key, plain + SK_CTX_BYTES, KT_KEY_BYTES);
	sodium_memzero(plain, sizeof(plain));
	return r;
}

/* AD of §5: "vfsfkey1" || header (8) || object id (16). */
static void file_key_ad(const uint8_t header[WK_HEADER_BYTES],
			const uint8_t object_id[KT_OBJECT_ID_BYTES], uint8_t ret_ad[WK_AD_BYTES])
{
	memcpy(ret_ad, WK_AD_PREFIX, 8);
	memcpy(ret_ad + 8, header, WK_HEADER_BYTES);
	memcpy(ret_ad + 8 + WK_HEADER_BYTES, object_id, KT_OBJECT_ID_BYTES);
}

int kt_file_key_wrap(const uint8_t level_key[KT_KEY_BYTES], uint8_t level, uint32_t level_version,
		     const uint8_t object_id[KT_OBJECT_ID_BYTES],
		     const uint8_t file_key[KT_KEY_BYTES],
		     uint8_t ret_wrapped[KT_WRAPPED_KEY_BYTES])
{
	uint8_t ad[WK_AD_BYTES];

	memset(ret_wrapped, 0, KT_WRAPPED_KEY_BYTES);
	if (level >= 4)
		return -EINVAL;
	ret_wrapped[WK_OFF_VERSION] = KT_FORMAT_VERSION;
	ret_wrapped[WK_OFF_LEVEL] = level;
	put_le16(ret_wrapped + WK_OFF_RESERVED, 0);
	put_le32(ret_wrapped + WK_OFF_KEY_VERSION, level_version);
	randombytes_buf(ret_wrapped + WK_OFF_NONCE, AEAD_NONCE_BYTES);
	file_key_ad(ret_wrapped, object_id, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ret_wrapped + WK_OFF_CT, NULL, file_key,
						   KT_KEY_BYTES, ad, sizeof(ad), NULL,
						   ret_wrapped + WK_OFF_NONCE, level_key);
	return 0;
}

int kt_file_key_prefix(uint8_t level, uint32_t version, uint8_t ret_prefix[KT_WRAPPED_PREFIX_BYTES])
{
	memset(ret_prefix, 0, KT_WRAPPED_PREFIX_BYTES);
	if (level >= 4)
		return -EINVAL;
	ret_prefix[WK_OFF_VERSION] = KT_FORMAT_VERSION;
	ret_prefix[WK_OFF_LEVEL] = level;
	put_le16(ret_prefix + WK_OFF_RESERVED, 0);
	put_le32(ret_prefix + WK_OFF_KEY_VERSION, version);
	return 0;
}

int kt_file_key_info(const uint8_t wrapped[KT_WRAPPED_KEY_BYTES], uint8_t *ret_level,
		     uint32_t *ret_version)
{
	if (wrapped[WK_OFF_VERSION] != KT_FORMAT_VERSION || wrapped[WK_OFF_LEVEL] >= 4 ||
	    get_le16(wrapped + WK_OFF_RESERVED) != 0)
		return -EINVAL;
	if (ret_level)
		*ret_level = wrapped[WK_OFF_LEVEL];
	if (ret_version)
		*ret_version = get_le32(wrapped + WK_OFF_KEY_VERSION);
	return 0;
}

int kt_file_key_unwrap(const uint8_t level_key[KT_KEY_BYTES],
		       const uint8_t object_id[KT_OBJECT_ID_BYTES],
		       const uint8_t wrapped[KT_WRAPPED_KEY_BYTES],
		       uint8_t ret_file_key[KT_KEY_BYTES])
{
	uint8_t ad[WK_AD_BYTES];
	int r;

	sodium_memzero(ret_file_key, KT_KEY_BYTES);
	r = kt_file_key_info(wrapped, NULL, NULL);
	if (r < 0)
		return r;
	file_key_ad(wrapped, object_id, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		ret_file_key, NULL, NULL, wrapped + WK_OFF_CT, KT_KEY_BYTES + AEAD_TAG_BYTES, ad,
		sizeof(ad), wrapped + WK_OFF_NONCE, level_key) != 0) {
		sodium_memzero(ret_file_key, KT_KEY_BYTES);
		return -EBADMSG;
	}
	return 0;
}

struct kt_meta_keys *kt_meta_keys_new(const uint8_t meta_key[KT_KEY_BYTES], uint16_t version)
{
	struct kt_meta_keys *k = sodium_malloc(sizeof(*k));

	if (!k)
		return NULL;
	sodium_memzero(k, sizeof(*k));
	k->version = version;
	crypto_kdf_derive_from_key(k->name_key, KT_KEY_BYTES, KDF_SUBKEY_ID, kdf_ctx_name,
				   meta_key);
	crypto_kdf_derive_from_key(k->aead_key, KT_KEY_BYTES, KDF_SUBKEY_ID, kdf_ctx_meta,
				   meta_key);
	sodium_mprotect_readonly(k);
	return k;
}

struct kt_meta_keys *kt_meta_keys_free(struct kt_meta_keys *k)
{
	sodium_free(k); /* wipes; works on read-only memory */
	return NULL;
}

void kt_name_hash(const struct kt_meta_keys *k, uint64_t context, const void *name, size_t len,
		  uint8_t ret_hash[KT_HASH_BYTES])
{
	crypto_generichash_state st;
	uint8_t ctx[8];

	put_le64(ctx, context);
	crypto_generichash_init(&st, k->name_key, KT_KEY_BYTES, KT_HASH_BYTES);
	crypto_generichash_update(&st, ctx, sizeof(ctx));
	crypto_generichash_update(&st, name, len);
	crypto_generichash_final(&st, ret_hash, KT_HASH_BYTES);
	sodium_memzero(&st, sizeof(st));
}

static bool meta_purpose_valid(enum kt_meta_purpose purpose)
{
	return purpose >= KT_META_NAME && purpose <= KT_META_PATH;
}

/* AD of §6: header (4) || u64 context. */
static void meta_ad(const uint8_t header[MC_HEADER_BYTES], uint64_t context,
		    uint8_t ret_ad[MC_AD_BYTES])
{
	memcpy(ret_ad, header, MC_HEADER_BYTES);
	put_le64(ret_ad + MC_HEADER_BYTES, context);
}

int kt_meta_seal(const struct kt_meta_keys *k, enum kt_meta_purpose purpose, uint64_t context,
		 const void *plain, size_t len, uint8_t *ret_out)
{
	uint8_t ad[MC_AD_BYTES];

	if (len > SIZE_MAX - KT_META_OVERHEAD)
		return -EINVAL;
	memset(ret_out, 0, len + KT_META_OVERHEAD);
	if (!meta_purpose_valid(purpose))
		return -EINVAL;
	ret_out[MC_OFF_VERSION] = KT_FORMAT_VERSION;
	ret_out[MC_OFF_PURPOSE] = (uint8_t)purpose;
	put_le16(ret_out + MC_OFF_KEY_VERSION, k->version);
	randombytes_buf(ret_out + MC_OFF_NONCE, AEAD_NONCE_BYTES);
	meta_ad(ret_out, context, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ret_out + MC_OFF_CT, NULL, plain, len, ad,
						   sizeof(ad), NULL, ret_out + MC_OFF_NONCE,
						   k->aead_key);
	return 0;
}

int kt_meta_open(const struct kt_meta_keys *k, enum kt_meta_purpose purpose, uint64_t context,
		 const uint8_t *in, size_t in_len, void *ret_plain)
{
	uint8_t ad[MC_AD_BYTES];

	if (in_len < KT_META_OVERHEAD)
		return -EINVAL;
	sodium_memzero(ret_plain, in_len - KT_META_OVERHEAD);
	if (!meta_purpose_valid(purpose) || in[MC_OFF_VERSION] != KT_FORMAT_VERSION)
		return -EINVAL;
	if (in[MC_OFF_PURPOSE] != (uint8_t)purpose ||
	    get_le16(in + MC_OFF_KEY_VERSION) != k->version)
		return -EBADMSG;
	meta_ad(in, context, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(ret_plain, NULL, NULL, in + MC_OFF_CT,
						       in_len - MC_OFF_CT, ad, sizeof(ad),
						       in + MC_OFF_NONCE, k->aead_key) != 0) {
		sodium_memzero(ret_plain, in_len - KT_META_OVERHEAD);
		return -EBADMSG;
	}
	return 0;
}

void kt_file_subkeys(const uint8_t file_key[KT_KEY_BYTES], uint8_t ret_data_key[KT_KEY_BYTES],
		     uint8_t ret_header_key[KT_KEY_BYTES])
{
	crypto_kdf_derive_from_key(ret_data_key, KT_KEY_BYTES, KDF_SUBKEY_ID, kdf_ctx_data,
				   file_key);
	crypto_kdf_derive_from_key(ret_header_key, KT_KEY_BYTES, KDF_SUBKEY_ID, kdf_ctx_hdr,
				   file_key);
}

void kt_fingerprint(const uint8_t key[KT_KEY_BYTES], uint8_t ret_fp[KT_FINGERPRINT_BYTES])
{
	uint8_t h[crypto_generichash_BYTES];

	_Static_assert(crypto_generichash_BYTES == 32, "BLAKE2b-256");
	_Static_assert(KT_FINGERPRINT_BYTES <= sizeof(h), "fingerprint is a prefix");
	/* BLAKE2b-256 keyed with the 6-byte "vfs-fp", truncated to 8 bytes (§8). */
	crypto_generichash(h, sizeof(h), key, KT_KEY_BYTES, fp_key, sizeof(fp_key));
	memcpy(ret_fp, h, KT_FINGERPRINT_BYTES);
	sodium_memzero(h, sizeof(h));
}

void kt_fingerprint_hex(const uint8_t key[KT_KEY_BYTES], char hex[KT_FINGERPRINT_HEX_BYTES])
{
	uint8_t fp[KT_FINGERPRINT_BYTES];

	kt_fingerprint(key, fp);
	sodium_bin2hex(hex, KT_FINGERPRINT_HEX_BYTES, fp, sizeof(fp));
}
