/*
 * meta/tlog.c — the Merkle tree of the access record: hashing, the
 * frontier, and RFC 9162's proofs and their verification.
 */
#include "meta/tlog.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

void meta_tlog_leaf_hash(const void *data, size_t len, uint8_t ret_hash[META_TLOG_HASH_BYTES])
{
	static const uint8_t prefix = 0x00;
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, ret_hash);
}

void meta_tlog_node_hash(const uint8_t left[META_TLOG_HASH_BYTES],
			 const uint8_t right[META_TLOG_HASH_BYTES],
			 uint8_t ret_hash[META_TLOG_HASH_BYTES])
{
	uint8_t buf[1 + 2 * META_TLOG_HASH_BYTES];

	buf[0] = 0x01;
	memcpy(buf + 1, left, META_TLOG_HASH_BYTES);
	memcpy(buf + 1 + META_TLOG_HASH_BYTES, right, META_TLOG_HASH_BYTES);
	crypto_hash_sha256(ret_hash, buf, sizeof(buf));
}

void meta_tlog_frontier_init(struct meta_tlog_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

int meta_tlog_append(struct meta_tlog_frontier *f, const uint8_t leaf_hash[META_TLOG_HASH_BYTES])
{
	uint8_t carry[META_TLOG_HASH_BYTES];
	int count = __builtin_popcountll(f->size);

	if (f->size == UINT64_MAX)
		return -EOVERFLOW;
	memcpy(carry, leaf_hash, sizeof(carry));
	/* Like adding one to a binary counter: each full subtree of the same
	 * height as the carry merges into it. */
	for (uint64_t bit = 1; f->size & bit; bit <<= 1)
		meta_tlog_node_hash(f->node[--count], carry, carry);
	memcpy(f->node[count], carry, sizeof(carry));
	f->size++;
	return 0;
}

void meta_tlog_root(const struct meta_tlog_frontier *f, uint8_t ret_root[META_TLOG_HASH_BYTES])
{
	int count = __builtin_popcountll(f->size);

	if (count == 0) {
		crypto_hash_sha256(ret_root, NULL, 0);
		return;
	}
	memcpy(ret_root, f->node[count - 1], META_TLOG_HASH_BYTES);
	for (int i = count - 2; i >= 0; i--)
		meta_tlog_node_hash(f->node[i], ret_root, ret_root);
}

/* The largest power of two below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

/* MTH(D[begin : begin + n]), n >= 1. */
static int subtree_root(meta_tlog_leaf_fn leaf, void *ctx, uint64_t begin, uint64_t n,
			uint8_t ret_root[META_TLOG_HASH_BYTES])
{
	uint8_t left[META_TLOG_HASH_BYTES], right[META_TLOG_HASH_BYTES];
	uint64_t k;
	int r;

	if (n == 1)
		return leaf(ctx, begin, ret_root);
	k = split_point(n);
	r = subtree_root(leaf, ctx, begin, k, left);
	if (r == 0)
		r = subtree_root(leaf, ctx, begin + k, n - k, right);
	if (r == 0)
		meta_tlog_node_hash(left, right, ret_root);
	return r;
}

int meta_tlog_tree_root(meta_tlog_leaf_fn leaf, void *ctx, uint64_t size,
			uint8_t ret_root[META_TLOG_HASH_BYTES])
{
	if (size == 0) {
		crypto_hash_sha256(ret_root, NULL, 0);
		return 0;
	}
	return subtree_root(leaf, ctx, 0, size, ret_root);
}

/* PATH(index, D[begin : begin + n]) of §2.1.3.1, appended at *len (leaf first). */
static int path(meta_tlog_leaf_fn leaf, void *ctx, uint64_t index, uint64_t begin, uint64_t n,
		uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES], size_t *len)
{
	uint64_t k;
	int r;

	if (n == 1)
		return 0;
	k = split_point(n);
	if (index < k) {
		r = path(leaf, ctx, index, begin, k, proof, len);
		if (r == 0)
			r = subtree_root(leaf, ctx, begin + k, n - k, proof[*len]);
	} else {
		r = path(leaf, ctx, index - k, begin + k, n - k, proof, len);
		if (r == 0)
			r = subtree_root(leaf, ctx, begin, k, proof[*len]);
	}
	if (r == 0)
		(*len)++;
	return r;
}

int meta_tlog_inclusion_proof(meta_tlog_leaf_fn leaf, void *ctx, uint64_t index, uint64_t size,
			      uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES],
			      size_t *ret_len)
{
	*ret_len = 0;
	if (index >= size)
		return -EINVAL;
	return path(leaf, ctx, index, 0, size, proof, ret_len);
}

/* SUBPROOF(m, D[begin : begin + n], whole) of §2.1.4.1, appended at *len. */
static int subproof(meta_tlog_leaf_fn leaf, void *ctx, uint64_t m, uint64_t begin, uint64_t n,
		    bool whole, uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES],
		    size_t *len)
{
	uint64_t k;
	int r;

	if (m == n) {
		if (whole)
			return 0; /* the old root is known to the verifier */
		r = subtree_root(leaf, ctx, begin, n, proof[*len]);
		if (r == 0)
			(*len)++;
		return r;
	}
	k = split_point(n);
	if (m <= k) {
		r = subproof(leaf, ctx, m, begin, k, whole, proof, len);
		if (r == 0)
			r = subtree_root(leaf, ctx, begin + k, n - k, proof[*len]);
	} else {
		r = subproof(leaf, ctx, m - k, begin + k, n - k, false, proof, len);
		if (r == 0)
			r = subtree_root(leaf, ctx, begin, k, proof[*len]);
	}
	if (r == 0)
		(*len)++;
	return r;
}

int meta_tlog_consistency_proof(meta_tlog_leaf_fn leaf, void *ctx, uint64_t old_size, uint64_t size,
				uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES],
				size_t *ret_len)
{
	*ret_len = 0;
	if (old_size == 0 || old_size > size)
		return -EINVAL;
	return subproof(leaf, ctx, old_size, 0, size, true, proof, ret_len);
}

static bool same(const uint8_t a[META_TLOG_HASH_BYTES], const uint8_t b[META_TLOG_HASH_BYTES])
{
	return sodium_memcmp(a, b, META_TLOG_HASH_BYTES) == 0;
}

/* Shift fn and sn right together until fn's lowest bit is set (or fn is 0). */
static void climb(uint64_t *fn, uint64_t *sn)
{
	while (*fn != 0 && !(*fn & 1)) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int meta_tlog_verify_inclusion(uint64_t index, uint64_t size,
			       const uint8_t leaf_hash[META_TLOG_HASH_BYTES], const uint8_t *proof,
			       size_t len, const uint8_t root[META_TLOG_HASH_BYTES])
{
	uint8_t r[META_TLOG_HASH_BYTES];
	uint64_t fn = index, sn;

	if (index >= size || len > META_TLOG_MAX_PROOF)
		return -EBADMSG;
	sn = size - 1;
	memcpy(r, leaf_hash, sizeof(r));
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			meta_tlog_node_hash(proof + i * META_TLOG_HASH_BYTES, r, r);
			if (!(fn & 1))
				climb(&fn, &sn);
		} else {
			meta_tlog_node_hash(r, proof + i * META_TLOG_HASH_BYTES, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && same(r, root) ? 0 : -EBADMSG;
}

int meta_tlog_verify_consistency(uint64_t old_size, uint64_t size,
				 const uint8_t old_root[META_TLOG_HASH_BYTES],
				 const uint8_t root[META_TLOG_HASH_BYTES], const uint8_t *proof,
				 size_t len)
{
	uint8_t fr[META_TLOG_HASH_BYTES], sr[META_TLOG_HASH_BYTES];
	uint64_t fn, sn;
	size_t i = 0;

	if (old_size == 0 || old_size > size || len > META_TLOG_MAX_PROOF)
		return -EBADMSG;
	if (old_size == size)
		return len == 0 && same(old_root, root) ? 0 : -EBADMSG;
	if (len == 0)
		return -EBADMSG;
	/* An old tree that is a perfect subtree is its own first node. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, sizeof(fr));
	} else {
		memcpy(fr, proof, sizeof(fr));
		i = 1;
	}
	memcpy(sr, fr, sizeof(sr));
	fn = old_size - 1;
	sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < len; i++) {
		if (sn == 0)
			return -EBADMSG;
		if ((fn & 1) || fn == sn) {
			meta_tlog_node_hash(proof + i * META_TLOG_HASH_BYTES, fr, fr);
			meta_tlog_node_hash(proof + i * META_TLOG_HASH_BYTES, sr, sr);
			if (!(fn & 1))
				climb(&fn, &sn);
		} else {
			meta_tlog_node_hash(sr, proof + i * META_TLOG_HASH_BYTES, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && same(fr, old_root) && same(sr, root) ? 0 : -EBADMSG;
}
