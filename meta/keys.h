/*
 * meta/keys.h — storage of the symmetric keys: the versions of the level and
 * metadata keys (fingerprints only), their seals to role key versions, and
 * the wrapped file keys in the nodes as a rotation and the key census see
 * them; and the sizes of keytool's key blobs as they are stored.
 *
 * Only fingerprints and sealed or wrapped blobs pass through here; what they
 * mean and how they are made is keytool's business (keytool/keystore.h,
 * keytool/rotation.h). Every function is one SQL statement inside the
 * caller's transaction, if one is open.
 *
 * Errors: 0 on success; -ENOENT no such row; -EEXIST unique name taken;
 * -EINVAL bad argument; -EIO SQLite failure or a row that does not hold what
 * the schema promises; -EBUSY database locked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/ns.h"

#define META_PUBKEY_BYTES      32 /* X25519 public key (users, role keys, recovery) */
#define META_SEALED_BYTES      89 /* keytool sealed-key format, docs/format.md §4 */
#define META_FINGERPRINT_BYTES 8

/* Kinds of key sealed to roles (key_seals.kind; also format §4). */
#define META_KEY_LEVEL	    2
#define META_KEY_METADATA   3
#define META_KEY_CHECKPOINT 4 /* Ed25519 seed signing checkpoints; every role */
#define META_KEY_ADMIN_SIGN 5 /* Ed25519 seed signing key and policy rows; admin role */
#define META_KEY_KIND_MAX   META_KEY_ADMIN_SIGN

struct meta_key_version {
	int kind;    /* META_KEY_LEVEL or META_KEY_METADATA */
	uint32_t id; /* level, or 0 for metadata */
	uint32_t version;
	uint8_t fingerprint[META_FINGERPRINT_BYTES];
	int64_t created_ns;
};

struct meta_key_seal {
	int kind;
	uint32_t id;
	uint32_t version;
	int64_t role_id;
	uint32_t role_version;
	uint8_t sealed[META_SEALED_BYTES];
};

/* Versions of level and metadata keys. */
int meta_key_version_add(struct meta_db *db, const struct meta_key_version *v);
/* The highest version of (kind, id); -ENOENT if none. */
int meta_key_version_current(struct meta_db *db, int kind, uint32_t id,
			     struct meta_key_version *ret);
int meta_key_version_list(struct meta_db *db, struct meta_key_version **ret, size_t *ret_n);

/* Sealed symmetric keys. add replaces an existing identical key row. */
int meta_key_seal_add(struct meta_db *db, const struct meta_key_seal *s);
/* Every seal addressed to (role_id, role_version), any kind. */
int meta_key_seal_list_role(struct meta_db *db, int64_t role_id, uint32_t role_version,
			    struct meta_key_seal **ret, size_t *ret_n);
/* Every sealed key, ordered by kind, id, version, role_id, role_version. */
int meta_key_seal_list_all(struct meta_db *db, struct meta_key_seal **ret, size_t *ret_n);
/* Delete the keys sealed to a role's versions below `below` (none is fine). */
int meta_key_seal_remove_role_below(struct meta_db *db, int64_t role_id, uint32_t below);
/* Destroy one key version: delete every seal of (kind, id, version), custody
 * included. -ENOENT if there was none. */
int meta_key_seal_remove_key(struct meta_db *db, int kind, uint32_t id, uint32_t version);

/* ---- signing keys ------------------------------------------------------ */

/* The public half of a signing key version (table sign_keys). */
struct meta_sign_key {
	int kind;	  /* META_KEY_CHECKPOINT or META_KEY_ADMIN_SIGN */
	uint32_t version; /* 1..65535 */
	uint8_t public_key[META_PUBKEY_BYTES];
	int64_t created_ns;
};

/* -EEXIST when (kind, version) is taken; -EINVAL a bad kind or version. */
int meta_sign_key_add(struct meta_db *db, const struct meta_sign_key *k);
/* The highest version of kind; -ENOENT when the vault has none. */
int meta_sign_key_current(struct meta_db *db, int kind, struct meta_sign_key *ret);
/* Every version of every kind, ordered by kind and version; *ret malloc'd. */
int meta_sign_key_list(struct meta_db *db, struct meta_sign_key **ret, size_t *ret_n);

/* ---- file keys --------------------------------------------------------- */

/* A regular file's wrapped key, as rotation sees it. */
struct meta_file_key {
	uint64_t ino;				 /* nodes.ino */
	uint8_t level;				 /* nodes.level */
	uint8_t object_id[META_OBJECT_ID_BYTES]; /* blob name */
	uint8_t file_key[META_FILE_KEY_BYTES];	 /* wrapped file key */
	uint64_t write_counter;			 /* nodes.write_counter */
};

/*
 * Up to max regular files with ino > after_ino, ordered by ino, whose
 * nodes.level is in level_mask (bit L; 0 = any level) and whose wrapped key
 * starts with the prefix_len bytes of prefix (prefix NULL = any). *ret is
 * malloc'd (NULL when empty).
 */
int meta_file_key_list(struct meta_db *db, const uint8_t *prefix, size_t prefix_len,
		       uint32_t level_mask, uint64_t after_ino, size_t max,
		       struct meta_file_key **ret, size_t *ret_n);
/* How many regular files match (same filters, no ino bound). */
int meta_file_key_count(struct meta_db *db, const uint8_t *prefix, size_t prefix_len,
			uint32_t level_mask, uint64_t *ret_count);
/*
 * Compare and swap a file's blob and key: set (object_id, file_key) to the new
 * pair only if the row still holds the old pair. -ESTALE if it changed
 * meanwhile (or the node is gone), -EEXIST the new object id is taken.
 */
int meta_file_key_swap(struct meta_db *db, uint64_t ino,
		       const uint8_t old_object_id[META_OBJECT_ID_BYTES],
		       const uint8_t old_file_key[META_FILE_KEY_BYTES],
		       const uint8_t new_object_id[META_OBJECT_ID_BYTES],
		       const uint8_t new_file_key[META_FILE_KEY_BYTES]);
/*
 * Re-encryption's swap: as meta_file_key_swap, only if the row's write
 * counter is at most old_counter (the header of the blob that was copied: a
 * larger one means that blob was an older copy; -ESTALE), and the counter
 * becomes new_counter (the new blob's) if that is larger.
 * meta_file_key_swap is this with any old counter and the counter kept.
 */
int meta_file_blob_swap(struct meta_db *db, uint64_t ino,
			const uint8_t old_object_id[META_OBJECT_ID_BYTES],
			const uint8_t old_file_key[META_FILE_KEY_BYTES], uint64_t old_counter,
			const uint8_t new_object_id[META_OBJECT_ID_BYTES],
			const uint8_t new_file_key[META_FILE_KEY_BYTES], uint64_t new_counter);

/* How many files' wrapped keys start with each distinct 8-byte prefix. */
#define META_FILE_KEY_PREFIX_BYTES 8
struct meta_file_key_group {
	uint8_t prefix[META_FILE_KEY_PREFIX_BYTES];
	uint64_t files;
};
int meta_file_key_census(struct meta_db *db, struct meta_file_key_group **ret, size_t *ret_n);
/* Whether some node's object_id is this one. */
int meta_object_in_use(struct meta_db *db, const uint8_t object_id[META_OBJECT_ID_BYTES],
		       bool *ret_in_use);
