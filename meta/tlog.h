/*
 * meta/tlog.h — the Merkle tree of the access record (RFC 9162 §2.1).
 *
 * The access record is an append-only log: record i is leaf i of a Merkle
 * tree hashed as RFC 6962/9162 define it, with SHA-256:
 *
 *	leaf = SHA-256(0x00 || record bytes)
 *	node = SHA-256(0x01 || left || right)
 *	root of the empty tree = SHA-256("")
 *
 * A frontier (the roots of the perfect subtrees the tree splits into, one per
 * set bit of its size) is all an append needs: O(log n) hashes, no reading
 * of earlier leaves. Proofs are made from the leaf hashes (read through a
 * callback) and checked with the RFC's verification algorithms, which need
 * nothing but the proof, the two sizes and the roots.
 *
 * Pure computation: no I/O, no allocation. The access record (meta/records.c)
 * appends to it; it sits in meta/ because the tree is part of what is stored.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define META_TLOG_HASH_BYTES 32
#define META_TLOG_MAX_PROOF  64 /* hashes in a proof of a tree of up to 2^64 - 1 leaves */

/* The perfect subtree roots of a tree of `size` leaves, largest (leftmost) first. */
struct meta_tlog_frontier {
	uint64_t size;
	uint8_t node[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES]; /* popcount(size) in use */
};

void meta_tlog_leaf_hash(const void *data, size_t len, uint8_t ret_hash[META_TLOG_HASH_BYTES]);
void meta_tlog_node_hash(const uint8_t left[META_TLOG_HASH_BYTES],
			 const uint8_t right[META_TLOG_HASH_BYTES],
			 uint8_t ret_hash[META_TLOG_HASH_BYTES]);

/* The frontier of the empty tree. */
void meta_tlog_frontier_init(struct meta_tlog_frontier *f);
/* Append one leaf (its leaf hash): 0, or -EOVERFLOW at 2^64 - 1 leaves. */
int meta_tlog_append(struct meta_tlog_frontier *f, const uint8_t leaf_hash[META_TLOG_HASH_BYTES]);
/* The root hash of the frontier's tree. */
void meta_tlog_root(const struct meta_tlog_frontier *f, uint8_t ret_root[META_TLOG_HASH_BYTES]);

/* Reads leaf hash `index` of the log: 0 or a negative errno (passed on). */
typedef int (*meta_tlog_leaf_fn)(void *ctx, uint64_t index, uint8_t ret_hash[META_TLOG_HASH_BYTES]);

/* The root of the tree of leaves 0..size-1, from the leaves (O(size) hashes). */
int meta_tlog_tree_root(meta_tlog_leaf_fn leaf, void *ctx, uint64_t size,
			uint8_t ret_root[META_TLOG_HASH_BYTES]);

/*
 * The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162
 * §2.1.3.1): *ret_len hashes into proof. -EINVAL when index >= size.
 */
int meta_tlog_inclusion_proof(meta_tlog_leaf_fn leaf, void *ctx, uint64_t index, uint64_t size,
			      uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES],
			      size_t *ret_len);

/*
 * The consistency proof between the trees of `old_size` and `size` leaves
 * (§2.1.4.1). -EINVAL unless 0 < old_size <= size. Empty when they are equal.
 */
int meta_tlog_consistency_proof(meta_tlog_leaf_fn leaf, void *ctx, uint64_t old_size, uint64_t size,
				uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES],
				size_t *ret_len);

/*
 * Check an inclusion proof (§2.1.3.2) of len hashes (len * META_TLOG_HASH_BYTES
 * bytes at proof): 0 when it holds, -EBADMSG otherwise.
 */
int meta_tlog_verify_inclusion(uint64_t index, uint64_t size,
			       const uint8_t leaf_hash[META_TLOG_HASH_BYTES], const uint8_t *proof,
			       size_t len, const uint8_t root[META_TLOG_HASH_BYTES]);

/*
 * Check a consistency proof (§2.1.4.2) that the tree of `size` leaves with
 * `root` extends the one of `old_size` with `old_root`: 0 or -EBADMSG.
 * Equal sizes need an empty proof and equal roots; old_size 0 is refused
 * (every tree extends the empty one: there is nothing to prove).
 */
int meta_tlog_verify_consistency(uint64_t old_size, uint64_t size,
				 const uint8_t old_root[META_TLOG_HASH_BYTES],
				 const uint8_t root[META_TLOG_HASH_BYTES], const uint8_t *proof,
				 size_t len);
