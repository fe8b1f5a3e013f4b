/*
 * keytool/crypto.h — vaultfs's cryptographic formats over libsodium.
 *
 * Each function makes or opens one structure of docs/format.md, byte for byte:
 * the passphrase-sealed user secret (§3), sealed keys (§4), wrapped file keys
 * (§5), metadata ciphertexts and name hashes (§6), and the subkeys of §2.
 * Nothing here touches a file or the database.
 *
 * Conventions (libsodium's): outputs are cleared on entry; temporaries are
 * wiped; keys are compared with sodium_memcmp. Errors: 0 or -errno:
 * -EBADMSG authentication failed (tampered, wrong key, wrong context),
 * -EACCES wrong passphrase (or tampered user blob: indistinguishable),
 * -EINVAL malformed input (bad version, length), -ENOMEM out of (locked) memory.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KT_KEY_BYTES	     32	 /* every symmetric key and X25519 key */
#define KT_USER_SECRET_BYTES 100 /* §3 */
#define KT_SEALED_BYTES	     89	 /* §4 */
#define KT_WRAPPED_KEY_BYTES 80	 /* §5 */
#define KT_META_OVERHEAD     44	 /* §6: 28-byte header + 16-byte tag */
#define KT_HASH_BYTES	     32
#define KT_FINGERPRINT_BYTES 8
#define KT_OBJECT_ID_BYTES   16
#define KT_FORMAT_VERSION    1

/* Argon2id cost profiles for user secrets. */
enum kt_kdf_profile {
	KT_KDF_INTERACTIVE,
	KT_KDF_MODERATE,
	KT_KDF_SENSITIVE,
	KT_KDF_TEST, /* minimum cost; only for the test suite */
};

/* Profile names, as stored in vault_config.kdf_profile: "interactive",
 * "moderate", "sensitive", "test". parse: -EINVAL for any other name. */
const char *kt_kdf_profile_name(enum kt_kdf_profile profile);
int kt_kdf_profile_parse(const char *name, enum kt_kdf_profile *ret_profile);

/* Kinds inside sealed keys (§4). */
enum kt_seal_kind {
	KT_SEAL_ROLE = 1,
	KT_SEAL_LEVEL = 2,
	KT_SEAL_METADATA = 3,
	KT_SEAL_CHECKPOINT = 4, /* Ed25519 seed: checkpoints (every role) */
	KT_SEAL_ADMIN_SIGN = 5, /* Ed25519 seed: key and policy rows (admin role) */
};

/* Purposes of metadata ciphertexts (§6). */
enum kt_meta_purpose {
	KT_META_NAME = 1,
	KT_META_SYMLINK = 2,
	KT_META_XATTR_NAME = 3,
	KT_META_XATTR_VALUE = 4,
	KT_META_PATH = 5,
};

/* Call once before anything else (wraps sodium_init); -EIO on failure. */
int kt_crypto_init(void);

/* Zeroed memory for keys: locked, not in core dumps, wiped on free. Up to
 * KT_SECMEM_SMALL_MAX bytes come from a pool of slabs (secmem.h), larger
 * requests from sodium_malloc. Free only with kt_secure_free or
 * kt_secure_freep (not sodium_free, no sodium_mprotect_*): it aborts on any
 * other pointer. Free takes NULL and returns NULL. */
void *kt_secure_alloc(size_t len);
void *kt_secure_free(void *p);
/* n zeroed elements of size bytes, the same memory; NULL (errno ENOMEM) when
 * out of memory or n * size overflows. Free with kt_secure_free. */
void *kt_secure_allocarray(size_t n, size_t size);
/* For _cleanup_ (meta/cleanup.h): pp points to a pointer from
 * kt_secure_alloc (or NULL); it is freed (wiped) and set to NULL. */
void kt_secure_freep(void *pp);

/* A fresh X25519 key pair. */
void kt_keypair(uint8_t ret_pk[KT_KEY_BYTES], uint8_t ret_sk[KT_KEY_BYTES]);
/* A fresh random symmetric key / object id. */
void kt_random(void *buf, size_t len);

#define KT_USER_SECRET_V1 1 /* §3: AD binds the user's public key */
#define KT_USER_SECRET_V2 2 /* ... and the vault's administration signing public key */
/*
 * §3: seal sk under passphrase with the profile; pk is bound in as AD, and
 * admin_pk (the 32-byte Ed25519 administration public key) too: version 2.
 * admin_pk NULL makes a legacy version 1 blob.
 */
int kt_user_secret_seal(const char *passphrase, size_t pass_len, enum kt_kdf_profile profile,
			const uint8_t pk[KT_KEY_BYTES], const uint8_t sk[KT_KEY_BYTES],
			const uint8_t *admin_pk, uint8_t ret_blob[KT_USER_SECRET_BYTES]);
/*
 * §3: open; -EACCES on wrong passphrase or tampering, and for a version 2
 * blob also when admin_pk is not the key it was sealed with (a planted
 * administration key looks like a wrong passphrase). admin_pk is ignored for
 * a version 1 blob; a version 2 blob with admin_pk NULL: -ENOKEY.
 */
int kt_user_secret_open(const char *passphrase, size_t pass_len, const uint8_t pk[KT_KEY_BYTES],
			const uint8_t *admin_pk, const uint8_t blob[KT_USER_SECRET_BYTES],
			uint8_t ret_sk[KT_KEY_BYTES]);
/* §3: a blob's format version (KT_USER_SECRET_V1 or _V2; anything else is refused). */
int kt_user_secret_version(const uint8_t blob[KT_USER_SECRET_BYTES]);

/* §4: seal key (kind, id, version) to recipient public key. */
int kt_seal(enum kt_seal_kind kind, uint16_t id, uint16_t version, const uint8_t key[KT_KEY_BYTES],
	    const uint8_t recipient_pk[KT_KEY_BYTES], uint8_t ret_sealed[KT_SEALED_BYTES]);
/* §4: open with the recipient key pair; -EBADMSG unless the inner context is
 * exactly (kind, id, version). */
int kt_unseal(enum kt_seal_kind kind, uint16_t id, uint16_t version,
	      const uint8_t sealed[KT_SEALED_BYTES], const uint8_t recipient_pk[KT_KEY_BYTES],
	      const uint8_t recipient_sk[KT_KEY_BYTES], uint8_t ret_key[KT_KEY_BYTES]);

/* §5: wrap/unwrap a file key under a level key. */
int kt_file_key_wrap(const uint8_t level_key[KT_KEY_BYTES], uint8_t level, uint32_t level_version,
		     const uint8_t object_id[KT_OBJECT_ID_BYTES],
		     const uint8_t file_key[KT_KEY_BYTES],
		     uint8_t ret_wrapped[KT_WRAPPED_KEY_BYTES]);
/* §5 bytes 0..7, the same in every key wrapped under (level, version): what
 * selects the files of one level key version. -EINVAL level above 3. */
#define KT_WRAPPED_PREFIX_BYTES 8
int kt_file_key_prefix(uint8_t level, uint32_t version,
		       uint8_t ret_prefix[KT_WRAPPED_PREFIX_BYTES]);
/* Read level and version from a wrapped key (no key needed); -EINVAL if malformed. */
int kt_file_key_info(const uint8_t wrapped[KT_WRAPPED_KEY_BYTES], uint8_t *ret_level,
		     uint32_t *ret_version);
int kt_file_key_unwrap(const uint8_t level_key[KT_KEY_BYTES],
		       const uint8_t object_id[KT_OBJECT_ID_BYTES],
		       const uint8_t wrapped[KT_WRAPPED_KEY_BYTES],
		       uint8_t ret_file_key[KT_KEY_BYTES]);

/*
 * §6: the metadata subkeys. A struct kt_meta_keys is derived once from a
 * metadata key (in secure memory, see kt_meta_keys_new) and used for every
 * name, symlink target, xattr and record path.
 */
struct kt_meta_keys {
	uint16_t version;		/* metadata key version */
	uint8_t name_key[KT_KEY_BYTES]; /* vfs-name subkey */
	uint8_t aead_key[KT_KEY_BYTES]; /* vfs-meta subkey */
};
/* Derive into a sodium_malloc region of its own, made read-only (the one
 * exception to kt_secure_alloc: a slab slot cannot be mprotected alone);
 * free with kt_meta_keys_free. */
struct kt_meta_keys *kt_meta_keys_new(const uint8_t meta_key[KT_KEY_BYTES], uint16_t version);
struct kt_meta_keys *kt_meta_keys_free(struct kt_meta_keys *k);

/* Keyed hash of (context, name). */
void kt_name_hash(const struct kt_meta_keys *k, uint64_t context, const void *name, size_t len,
		  uint8_t ret_hash[KT_HASH_BYTES]);
/* Encrypt: out must hold len + KT_META_OVERHEAD bytes. */
int kt_meta_seal(const struct kt_meta_keys *k, enum kt_meta_purpose purpose, uint64_t context,
		 const void *plain, size_t len, uint8_t *ret_out);
/* Decrypt: in_len ≥ KT_META_OVERHEAD; writes in_len − KT_META_OVERHEAD bytes to
 * ret_plain. -EBADMSG on any mismatch (purpose, context, key version, tag). */
int kt_meta_open(const struct kt_meta_keys *k, enum kt_meta_purpose purpose, uint64_t context,
		 const uint8_t *in, size_t in_len, void *ret_plain);

/* Content subkeys of a file key (§2): vfs-data and vfs-hdr_. */
void kt_file_subkeys(const uint8_t file_key[KT_KEY_BYTES], uint8_t ret_data_key[KT_KEY_BYTES],
		     uint8_t ret_header_key[KT_KEY_BYTES]);

/* Fingerprint of a key (for listings; never print the key). */
void kt_fingerprint(const uint8_t key[KT_KEY_BYTES], uint8_t ret_fp[KT_FINGERPRINT_BYTES]);
/* The same as 16 lower-case hex digits and a NUL, as listings print it. */
#define KT_FINGERPRINT_HEX_BYTES (2 * KT_FINGERPRINT_BYTES + 1)
void kt_fingerprint_hex(const uint8_t key[KT_KEY_BYTES], char hex[KT_FINGERPRINT_HEX_BYTES]);
