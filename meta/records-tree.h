/*
 * meta/records-tree.h — the access record as the leaves of a Merkle tree.
 *
 * Record i (in id order) is leaf i of the tree of meta/tlog.h; its leaf is
 * the hash of the record's canonical bytes (docs/format.md §10). The tree's
 * frontier is stored in vault.db (table access_tree) and grows in the same
 * transaction as the record it hashes (meta_log_append), so the log and its
 * tree head never disagree unless someone edited the file. Recomputing the
 * tree from the records and comparing it with a head kept elsewhere (a
 * signed checkpoint, later) is what shows that they did.
 *
 * Errors: -ENOMEM; -EBADMSG when the stored frontier is missing or
 * malformed; -EIO (SQLite); -EOVERFLOW.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/records.h"
#include "meta/tlog.h"

/* A record's canonical bytes (malloc'd into *ret); -EINVAL, -ENOMEM. */
int meta_record_encode(const struct meta_record *r, uint8_t **ret, size_t *ret_len);
/* SHA-256(0x00 || canonical bytes). */
int meta_record_leaf_hash(const struct meta_record *r, uint8_t ret_hash[META_TLOG_HASH_BYTES]);

/* The stored tree head: its size (records) and root hash. */
int meta_log_tree_head(struct meta_db *db, uint64_t *ret_size,
		       uint8_t ret_root[META_TLOG_HASH_BYTES]);
/*
 * The stored frontier itself (access_tree), for a verifier that compares it
 * node by node with the recomputed one: each perfect subtree whose roots
 * differ is a range of leaves that changed. -EBADMSG as for the head.
 */
int meta_log_tree_stored(struct meta_db *db, struct meta_tlog_frontier *ret);
/* The tree recomputed from the records alone (O(records)). */
int meta_log_tree_recompute(struct meta_db *db, struct meta_tlog_frontier *ret);

/*
 * The leaf hashes of the first size records, recomputed from the records
 * (malloc'd, size * META_TLOG_HASH_BYTES into *ret): what proofs are made
 * from. -ERANGE when the log holds fewer records.
 */
int meta_log_leaves(struct meta_db *db, uint64_t size, uint8_t **ret);
/* The leaf index of record id (its position in id order); -ENOENT. */
int meta_log_leaf_index(struct meta_db *db, int64_t id, uint64_t *ret_index);
/* Reads leaf i out of an array from meta_log_leaves (a meta_tlog_leaf_fn). */
int meta_log_leaf_at(void *leaves, uint64_t index, uint8_t ret_hash[META_TLOG_HASH_BYTES]);

/* Within meta/: store the tree of the records there are (schema creation
 * and migration), or append one record's leaf to it (the caller's
 * transaction). */
int meta_log_tree_start(struct meta_db *db);
int meta_log_tree_append(struct meta_db *db, const struct meta_record *r);
