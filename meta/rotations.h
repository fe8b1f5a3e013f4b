/*
 * meta/rotations.h — storage of key rotations (table rotations, schema
 * version 2; docs/format.md §8): one row per rotation, re-wrapping file keys
 * under new level key versions or re-encrypting content under fresh file
 * keys, with its progress (cursor, counts, the blob pending removal) so that
 * an interrupted rotation resumes where it stopped; and the queries over
 * users, roles, grants, sealed keys and file keys that a rotation needs.
 *
 * Like users.h, only public keys, fingerprints and sealed or wrapped blobs
 * pass through here; what they mean is keytool's business
 * (keytool/rotation.h). Every function is one SQL statement inside the
 * caller's transaction, if one is open.
 *
 * Errors: 0 on success; -ENOENT no such row; -EEXIST taken; -EINVAL bad
 * argument; -EIO SQLite failure or a row that does not hold what the schema
 * promises; -EBUSY database locked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/users.h"
#include "meta/ns.h"

#define META_REASON_MAX		   256 /* rotations.reason, bytes */

/* ---- users, roles, grants, sealed keys -------------------------------- */

/* Mark a user disabled (refused at unlock) or enabled again. */
int meta_user_set_disabled(struct meta_db *db, int64_t id, bool disabled);
/* Replace a user's key pair: new public key and its passphrase-sealed secret. */
int meta_user_set_keys(struct meta_db *db, int64_t id, const uint8_t public_key[META_PUBKEY_BYTES],
		       const uint8_t secret_sealed[META_USER_SECRET_BYTES]);

/* Set roles.key_version (the role's current key pair). */
int meta_role_set_key_version(struct meta_db *db, int64_t role_id, uint32_t version);
/* Every key pair row of a role, ordered by version; *ret malloc'd. */
int meta_role_key_list(struct meta_db *db, int64_t role_id, struct meta_role_key **ret,
		       size_t *ret_n);
/* Replace a role key row's custody seal. -ENOENT no such row. */
int meta_role_key_set_custody(struct meta_db *db, int64_t role_id, uint32_t version,
			      const uint8_t sealed[META_SEALED_BYTES]);
/* Delete a role's key pair rows with version < below (none is fine). */
int meta_role_key_remove_below(struct meta_db *db, int64_t role_id, uint32_t below);

/* Every grant of a role (all versions), names filled, ordered by user name. */
int meta_grant_list_role(struct meta_db *db, int64_t role_id, struct meta_grant **ret,
			 size_t *ret_n);
/* Delete a role's grants with role_version < below (none is fine). */
int meta_grant_remove_below(struct meta_db *db, int64_t role_id, uint32_t below);

/* Every sealed key, ordered by kind, id, version, role_id, role_version. */
int meta_key_seal_list_all(struct meta_db *db, struct meta_key_seal **ret, size_t *ret_n);
/* Delete the keys sealed to a role's versions below `below` (none is fine). */
int meta_key_seal_remove_role_below(struct meta_db *db, int64_t role_id, uint32_t below);
/* Destroy one key version: delete every seal of (kind, id, version), custody
 * included. -ENOENT if there was none. */
int meta_key_seal_remove_key(struct meta_db *db, int kind, uint32_t id, uint32_t version);

/* ---- file keys --------------------------------------------------------- */

/* A regular file's wrapped key, as rotation sees it. */
struct meta_file_key {
	uint64_t ino;				 /* nodes.ino */
	uint8_t level;				 /* nodes.level */
	uint8_t object_id[META_OBJECT_ID_BYTES]; /* blob name */
	uint8_t file_key[META_FILE_KEY_BYTES];	 /* wrapped file key */
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

/* ---- rotations --------------------------------------------------------- */

enum meta_rotation_kind {
	META_ROTATION_REWRAP = 1,    /* re-wrap file keys under new level key versions */
	META_ROTATION_REENCRYPT = 2, /* re-encrypt content under fresh file keys */
};

struct meta_rotation {
	int64_t id;				      /* rotations.id, set by add */
	enum meta_rotation_kind kind;		      /* what the work is */
	char reason[META_REASON_MAX + 1];	      /* "revoke user=bob role=hr", ... */
	char started_by[META_NAME_MAX + 1];	      /* vault user (or "(recovery)") */
	uint32_t levels;			      /* bit L: files of level L are worked on */
	bool done;				      /* state 'done' (else 'running') */
	int64_t started_ns, finished_ns;	      /* UTC ns; finished 0 while running */
	uint64_t cursor;			      /* last inode worked on (resumption point) */
	uint64_t done_count;			      /* files re-wrapped / re-encrypted so far */
	uint64_t total;				      /* files to do, as counted at the start */
	uint64_t failed;			      /* files that could not be done (damaged) */
	bool has_pending;			      /* re-encryption: pending_object is set */
	uint8_t pending_object[META_OBJECT_ID_BYTES]; /* blob to remove if no node names it */
};

/* Insert; sets r->id (started_ns 0 means now). */
int meta_rotation_add(struct meta_db *db, struct meta_rotation *r);
/* Write state, finished, cursor, counts and pending object of r (by r->id). */
int meta_rotation_update(struct meta_db *db, const struct meta_rotation *r);
int meta_rotation_get(struct meta_db *db, int64_t id, struct meta_rotation *ret);
/* Rotations ordered by id; running_only: state 'running' only. *ret malloc'd. */
int meta_rotation_list(struct meta_db *db, bool running_only, struct meta_rotation **ret,
		       size_t *ret_n);
