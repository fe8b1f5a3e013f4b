/*
 * meta/ns.h — the namespace: nodes (inodes), directory entries, xattrs.
 *
 * Inode numbers are node row ids; inode 1 is the root. Names are stored as a
 * keyed hash (for lookup) and a ciphertext (for listing), both made by the
 * caller (keytool/crypto.h): this layer never sees a plaintext name. All
 * functions run inside the caller's transaction when one is open.
 *
 * Errors: 0 on success; -ENOENT no such node/entry/xattr; -EEXIST entry
 * already exists; -EIO SQLite failure; -EBUSY locked.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include "meta/db.h"

#define META_ROOT_INO	     1
#define META_HASH_BYTES	     32
#define META_OBJECT_ID_BYTES 16
#define META_FILE_KEY_BYTES  80 /* wrapped file key, docs/format.md §5 */

struct meta_node {
	uint64_t ino;  /* nodes.ino (row id) */
	uint32_t mode; /* type and permission bits, as st_mode */
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;				 /* dirs: 2 + subdirectories */
	uint64_t size;				 /* bytes; regular files: plaintext size */
	uint64_t rdev;				 /* device nodes */
	int64_t atime_ns, mtime_ns, ctime_ns;	 /* UTC ns */
	uint8_t level;				 /* confidentiality level 0..3 */
	uint8_t level_r, level_t, level_s;	 /* riktighet, tillgänglighet, spårbarhet */
	bool has_object;			 /* regular files */
	uint8_t object_id[META_OBJECT_ID_BYTES]; /* blob name */
	uint8_t file_key[META_FILE_KEY_BYTES];	 /* wrapped file key */
	uint64_t write_counter; /* regular files: the blob header's write counter the
				 * vault expects (keytool/chunk.h); a header below
				 * it is a rollback; at most INT64_MAX */
	/* symlinks: encrypted target, malloc'd by get (free with meta_node_clear) */
	uint8_t *symlink_enc;
	size_t symlink_enc_len;
};

/* Free what a node owns (symlink_enc); the struct itself is the caller's. */
void meta_node_clear(struct meta_node *n);

/* Insert a node; n->ino is set to the new inode number. */
int meta_node_insert(struct meta_db *db, struct meta_node *n);
int meta_node_get(struct meta_db *db, uint64_t ino, struct meta_node *ret_node);
/* Write every column of n (by n->ino), symlink_enc included. */
int meta_node_update(struct meta_db *db, const struct meta_node *n);
/* Delete the node row and its xattrs (not dirents: callers remove those). */
int meta_node_delete(struct meta_db *db, uint64_t ino);
/* Nodes with nlink = 0 (left by a crash while files were open). */
int meta_node_list_orphans(struct meta_db *db, uint64_t **ret_inos, size_t *ret_n);

struct meta_dirent {
	int64_t id; /* row id: readdir offset order */
	uint64_t parent;
	uint8_t name_hash[META_HASH_BYTES];
	uint8_t *name_enc; /* malloc'd by list/get */
	size_t name_enc_len;
	uint64_t ino;
	uint32_t mode; /* of the target node (join), for d_type */
};

void meta_dirent_clear(struct meta_dirent *d);

/* The entry (parent, name_hash); -ENOENT if none. */
int meta_dirent_lookup(struct meta_db *db, uint64_t parent,
		       const uint8_t name_hash[META_HASH_BYTES], struct meta_dirent *ret_dirent);
/* -EEXIST if (parent, name_hash) is taken. */
int meta_dirent_insert(struct meta_db *db, uint64_t parent,
		       const uint8_t name_hash[META_HASH_BYTES], const uint8_t *name_enc,
		       size_t name_enc_len, uint64_t ino);
int meta_dirent_delete(struct meta_db *db, uint64_t parent,
		       const uint8_t name_hash[META_HASH_BYTES]);
/* Point an existing entry at another inode (rename over an existing name). */
int meta_dirent_set_ino(struct meta_db *db, uint64_t parent,
			const uint8_t name_hash[META_HASH_BYTES], uint64_t ino);
/*
 * Up to max entries of directory parent with id > after_id, ordered by id.
 * *ret is malloc'd (free each with meta_dirent_clear, then free()).
 */
int meta_dirent_list(struct meta_db *db, uint64_t parent, int64_t after_id, size_t max,
		     struct meta_dirent **ret, size_t *ret_n);
/* True if the directory has any entry. */
int meta_dirent_has_children(struct meta_db *db, uint64_t parent, bool *ret_has);
/* One entry naming ino (any, for a hard link): its parent and name. For paths. */
int meta_dirent_any_for_ino(struct meta_db *db, uint64_t ino, struct meta_dirent *ret_dirent);

struct meta_xattr {
	uint8_t name_hash[META_HASH_BYTES];
	uint8_t *name_enc; /* malloc'd */
	size_t name_enc_len;
	uint8_t *value_enc; /* malloc'd */
	size_t value_enc_len;
};

void meta_xattr_clear(struct meta_xattr *x);

int meta_xattr_get(struct meta_db *db, uint64_t ino, const uint8_t name_hash[META_HASH_BYTES],
		   struct meta_xattr *ret_xattr);
/* Insert or replace. */
int meta_xattr_set(struct meta_db *db, uint64_t ino, const struct meta_xattr *x);
int meta_xattr_remove(struct meta_db *db, uint64_t ino, const uint8_t name_hash[META_HASH_BYTES]);
int meta_xattr_list(struct meta_db *db, uint64_t ino, struct meta_xattr **ret, size_t *ret_n);

/* Filesystem totals for statfs. */
int meta_ns_count(struct meta_db *db, uint64_t *ret_nodes, uint64_t *ret_bytes);

/*
 * Inventory: regular files grouped by level and by top-level folder (the
 * first path component's inode; 1 for files directly in the root).
 */
struct meta_inventory_row {
	uint8_t level;
	uint64_t top_ino; /* inode of the top-level folder, 1 = root,
			   * 0 = folder not reachable from the root (damaged tree) */
	uint64_t files;
	uint64_t bytes;
};
int meta_inventory(struct meta_db *db, struct meta_inventory_row **ret, size_t *ret_n);
