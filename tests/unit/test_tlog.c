/*
 * tests/unit/test_tlog.c — the access record's Merkle tree (meta/tlog.c).
 *
 * Checks the hashing against RFC 6962's reference roots (the eight leaves
 * of certificate-transparency's tests), the frontier against the tree
 * computed from its leaves, every inclusion and consistency proof of small
 * trees, refusal of every damaged proof, and the golden vectors in
 * tests/vectors/tlog-v1.txt ($VAULTFS_VECTORS), which tests/vectors/verify.py
 * recomputes from the RFC alone. Made once with:
 *   build/tests/test_tlog --generate > tests/vectors/tlog-v1.txt
 */
#include "meta/tlog.h"
#include "meta/records-tree.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "tests/unit/testutil.h"

#define HB	 META_TLOG_HASH_BYTES
#define P(proof) (&(proof)[0][0]) /* a proof as the verifiers take it */

/* certificate-transparency's reference leaves and the roots of their prefixes */
static const char *const ct_leaves[] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const ct_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
#define CT_LEAVES (sizeof(ct_leaves) / sizeof(ct_leaves[0]))

/* Also used by --generate, outside Check's tests: no ck_assert here. */
static void unhex(const char *hex, uint8_t *buf, size_t cap, size_t *ret_len)
{
	if (sodium_hex2bin(buf, cap, hex, strlen(hex), NULL, ret_len, NULL) != 0)
		abort();
}

/* The leaves of a test log: the CT leaves first, then "leaf N" as text. */
static void leaf_data(uint64_t i, uint8_t *buf, size_t *len)
{
	if (i < CT_LEAVES)
		unhex(ct_leaves[i], buf, 64, len);
	else
		*len = (size_t)snprintf((char *)buf, 64, "leaf %llu", (unsigned long long)i);
}

static int test_leaf(void *ctx, uint64_t i, uint8_t ret[HB])
{
	uint8_t buf[64];
	size_t len;

	(void)ctx;
	leaf_data(i, buf, &len);
	meta_tlog_leaf_hash(buf, len, ret);
	return 0;
}

static int failing_leaf(void *ctx, uint64_t i, uint8_t ret[HB])
{
	(void)ctx;
	(void)ret;
	return i == 3 ? -EIO : test_leaf(NULL, i, ret);
}

static void frontier_of(uint64_t size, struct meta_tlog_frontier *f)
{
	uint8_t h[HB];

	meta_tlog_frontier_init(f);
	for (uint64_t i = 0; i < size; i++) {
		test_leaf(NULL, i, h);
		ck_assert_int_eq(meta_tlog_append(f, h), 0);
	}
}

START_TEST(reference_roots)
{
	struct meta_tlog_frontier f;
	uint8_t want[HB], got[HB];
	size_t len;

	for (size_t n = 0; n <= CT_LEAVES; n++) {
		unhex(ct_roots[n], want, sizeof(want), &len);
		frontier_of(n, &f);
		meta_tlog_root(&f, got);
		ck_assert_msg(memcmp(got, want, HB) == 0, "frontier root of %zu leaves", n);
		ck_assert_int_eq(meta_tlog_tree_root(test_leaf, NULL, n, got), 0);
		ck_assert_msg(memcmp(got, want, HB) == 0, "tree root of %zu leaves", n);
	}
}
END_TEST

/* The frontier gives the root the leaves give, at every size, and keeps one node per set bit. */
START_TEST(frontier_matches_tree)
{
	struct meta_tlog_frontier f;
	uint8_t a[HB], b[HB], h[HB];

	meta_tlog_frontier_init(&f);
	for (uint64_t n = 0; n <= 1100; n++) {
		meta_tlog_root(&f, a);
		ck_assert_int_eq(meta_tlog_tree_root(test_leaf, NULL, n, b), 0);
		ck_assert_msg(memcmp(a, b, HB) == 0, "size %llu", (unsigned long long)n);
		ck_assert_uint_eq(f.size, n);
		test_leaf(NULL, n, h);
		ck_assert_int_eq(meta_tlog_append(&f, h), 0);
	}
}
END_TEST

START_TEST(frontier_overflow)
{
	struct meta_tlog_frontier f;
	uint8_t h[HB] = {0};

	meta_tlog_frontier_init(&f);
	f.size = UINT64_MAX - 1; /* 63 full subtrees: the last append fits */
	ck_assert_int_eq(meta_tlog_append(&f, h), 0);
	ck_assert_uint_eq(f.size, UINT64_MAX);
	ck_assert_int_eq(meta_tlog_append(&f, h), -EOVERFLOW);
	ck_assert_uint_eq(f.size, UINT64_MAX);
}
END_TEST

/* Leaf and node hashes are domain-separated: a node is never a leaf of its own bytes. */
START_TEST(domain_separation)
{
	uint8_t l[HB], r[HB], node[HB], as_leaf[HB], buf[2 * HB];

	test_leaf(NULL, 1, l);
	test_leaf(NULL, 2, r);
	meta_tlog_node_hash(l, r, node);
	memcpy(buf, l, HB);
	memcpy(buf + HB, r, HB);
	meta_tlog_leaf_hash(buf, sizeof(buf), as_leaf);
	ck_assert_int_ne(memcmp(node, as_leaf, HB), 0);
}
END_TEST

START_TEST(inclusion_all_small_trees)
{
	uint8_t proof[META_TLOG_MAX_PROOF][HB], root[HB], leaf[HB], other[HB];
	size_t len;

	for (uint64_t n = 1; n <= 40; n++) {
		ck_assert_int_eq(meta_tlog_tree_root(test_leaf, NULL, n, root), 0);
		for (uint64_t i = 0; i < n; i++) {
			test_leaf(NULL, i, leaf);
			ck_assert_int_eq(
			    meta_tlog_inclusion_proof(test_leaf, NULL, i, n, proof, &len), 0);
			ck_assert_int_eq(
			    meta_tlog_verify_inclusion(i, n, leaf, P(proof), len, root), 0);
			/* the wrong leaf, index or root, or a proof cut, grown or
			 * damaged (the proof alone does not pin the size: one proof
			 * can hold for two sizes; the signed checkpoint binds it) */
			test_leaf(NULL, i + 1000, other);
			ck_assert_int_eq(
			    meta_tlog_verify_inclusion(i, n, other, P(proof), len, root), -EBADMSG);
			if (n > 1)
				ck_assert_int_eq(meta_tlog_verify_inclusion((i + 1) % n, n, leaf,
									    P(proof), len, root),
						 -EBADMSG);
			ck_assert_int_eq(
			    meta_tlog_verify_inclusion(i, n, leaf, P(proof), len, other), -EBADMSG);
			ck_assert_int_eq(
			    meta_tlog_verify_inclusion(n, n, leaf, P(proof), len, root), -EBADMSG);
			if (len > 0) {
				ck_assert_int_eq(
				    meta_tlog_verify_inclusion(i, n, leaf, P(proof), len - 1, root),
				    -EBADMSG);
				proof[len - 1][7] ^= 0x20;
				ck_assert_int_eq(
				    meta_tlog_verify_inclusion(i, n, leaf, P(proof), len, root),
				    -EBADMSG);
				proof[len - 1][7] ^= 0x20;
			}
			memcpy(proof[len], other, HB);
			ck_assert_int_eq(
			    meta_tlog_verify_inclusion(i, n, leaf, P(proof), len + 1, root),
			    -EBADMSG);
		}
	}
}
END_TEST

START_TEST(consistency_all_small_trees)
{
	uint8_t proof[META_TLOG_MAX_PROOF][HB], roots[41][HB];
	size_t len;

	for (uint64_t n = 1; n <= 40; n++)
		ck_assert_int_eq(meta_tlog_tree_root(test_leaf, NULL, n, roots[n]), 0);
	for (uint64_t n = 1; n <= 40; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			ck_assert_int_eq(
			    meta_tlog_consistency_proof(test_leaf, NULL, m, n, proof, &len), 0);
			ck_assert_int_eq(
			    meta_tlog_verify_consistency(m, n, roots[m], roots[n], P(proof), len),
			    0);
			if (m == n) {
				ck_assert_uint_eq(len, 0);
				continue;
			}
			/* another history: the old root of another size, roots swapped */
			ck_assert_int_eq(meta_tlog_verify_consistency(m, n,
								      roots[m - 1 ? m - 1 : n],
								      roots[n], P(proof), len),
					 -EBADMSG);
			ck_assert_int_eq(
			    meta_tlog_verify_consistency(m, n, roots[n], roots[m], P(proof), len),
			    -EBADMSG);
			ck_assert_int_eq(
			    meta_tlog_verify_consistency(m, n, roots[m], roots[n], P(proof), 0),
			    -EBADMSG);
			for (size_t k = 0; k < len; k++) {
				proof[k][31] ^= 1;
				ck_assert_int_eq(meta_tlog_verify_consistency(
						     m, n, roots[m], roots[n], P(proof), len),
						 -EBADMSG);
				proof[k][31] ^= 1;
			}
			ck_assert_int_eq(meta_tlog_verify_consistency(m, n, roots[m], roots[n],
								      P(proof), len - 1),
					 -EBADMSG);
		}
	}
	/* sizes that cannot be proved */
	ck_assert_int_eq(meta_tlog_consistency_proof(test_leaf, NULL, 0, 5, proof, &len), -EINVAL);
	ck_assert_int_eq(meta_tlog_consistency_proof(test_leaf, NULL, 6, 5, proof, &len), -EINVAL);
	ck_assert_int_eq(meta_tlog_verify_consistency(0, 5, roots[1], roots[5], P(proof), 0),
			 -EBADMSG);
	ck_assert_int_eq(meta_tlog_verify_consistency(6, 5, roots[6], roots[5], P(proof), 0),
			 -EBADMSG);
	ck_assert_int_eq(meta_tlog_verify_consistency(5, 5, roots[5], roots[5], P(proof), 1),
			 -EBADMSG);
	ck_assert_int_eq(meta_tlog_verify_consistency(5, 5, roots[4], roots[5], P(proof), 0),
			 -EBADMSG);
	ck_assert_int_eq(meta_tlog_verify_consistency(1, 5, roots[1], roots[5], P(proof),
						      META_TLOG_MAX_PROOF + 1),
			 -EBADMSG);
}
END_TEST

START_TEST(leaf_errors_pass_on)
{
	uint8_t proof[META_TLOG_MAX_PROOF][HB], root[HB];
	size_t len;

	ck_assert_int_eq(meta_tlog_tree_root(failing_leaf, NULL, 8, root), -EIO);
	ck_assert_int_eq(meta_tlog_inclusion_proof(failing_leaf, NULL, 0, 8, proof, &len), -EIO);
	ck_assert_int_eq(meta_tlog_consistency_proof(failing_leaf, NULL, 2, 8, proof, &len), -EIO);
	ck_assert_int_eq(meta_tlog_inclusion_proof(test_leaf, NULL, 8, 8, proof, &len), -EINVAL);
}
END_TEST

/* ---- golden vectors ---- */

#define VECTOR_SIZE 13 /* leaves in tlog-v1.txt: the CT eight and five more */

static void put_hex(FILE *f, const char *name, const uint8_t *b, size_t len)
{
	char hex[2 * META_TLOG_MAX_PROOF * HB + 1];

	sodium_bin2hex(hex, sizeof(hex), b, len);
	fprintf(f, "%s = %s\n", name, hex);
}

/* Three fixed records (the same in tests/vectors/verify.py): an open, its
 * close, and a refusal. */
static void golden_record(int i, struct meta_record *r)
{
	static uint8_t path[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
				   0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

	memset(r, 0, sizeof(*r));
	r->id = 42 + i;
	r->time_ns = 1764547200123456789 + i;
	strcpy(r->user, "anna");
	r->uid = 1001;
	r->pid = 4242;
	strcpy(r->comm, "soffice.bin");
	r->ino = 77;
	r->level = 2;
	r->bytes_read = r->bytes_written = -1;
	if (i == 0) {
		strcpy(r->op, "open");
		r->path_enc = path;
		r->path_enc_len = sizeof(path);
		strcpy(r->detail, "flags=rw");
	} else if (i == 1) {
		strcpy(r->op, "close");
		r->bytes_read = 1000;
		r->bytes_written = 20;
		r->closes = 42;
	} else {
		strcpy(r->user, "bo");
		r->uid = 1002;
		r->pid = 1;
		strcpy(r->comm, "cat");
		strcpy(r->op, "rename");
		r->path_enc = path;
		r->path_enc_len = 3;
		r->path2_enc = path + 3;
		r->path2_enc_len = 5;
		r->level = 3;
		r->outcome = -13;
		strcpy(r->detail, "level not held");
	}
}

static int generate(FILE *f)
{
	uint8_t buf[64], h[HB], proof[META_TLOG_MAX_PROOF][HB];
	char name[64];
	size_t len;

	fprintf(f,
		"# vaultfs golden vectors: the access record's Merkle tree, version 1\n"
		"# (docs/format.md, RFC 9162 §2.1 with SHA-256). Made once by\n"
		"# 'test_tlog --generate' (tests/unit/test_tlog.c); checked from the RFC\n"
		"# alone by tests/vectors/verify.py. Never regenerate for version 1.\n"
		"# leaf.I = the bytes of leaf I; root.N = the root of leaves 0..N-1;\n"
		"# inclusion.I.N = the audit path of leaf I in the tree of N leaves;\n"
		"# consistency.M.N = the proof that the tree of N leaves extends that of M.\n\n");
	for (uint64_t i = 0; i < VECTOR_SIZE; i++) {
		leaf_data(i, buf, &len);
		snprintf(name, sizeof(name), "leaf.%llu", (unsigned long long)i);
		put_hex(f, name, buf, len);
	}
	for (uint64_t n = 0; n <= VECTOR_SIZE; n++) {
		meta_tlog_tree_root(test_leaf, NULL, n, h);
		snprintf(name, sizeof(name), "root.%llu", (unsigned long long)n);
		put_hex(f, name, h, HB);
	}
	for (uint64_t n = 1; n <= VECTOR_SIZE; n++)
		for (uint64_t i = 0; i < n; i++) {
			meta_tlog_inclusion_proof(test_leaf, NULL, i, n, proof, &len);
			snprintf(name, sizeof(name), "inclusion.%llu.%llu", (unsigned long long)i,
				 (unsigned long long)n);
			put_hex(f, name, proof[0], len * HB);
		}
	for (uint64_t n = 1; n <= VECTOR_SIZE; n++)
		for (uint64_t m = 1; m <= n; m++) {
			meta_tlog_consistency_proof(test_leaf, NULL, m, n, proof, &len);
			snprintf(name, sizeof(name), "consistency.%llu.%llu", (unsigned long long)m,
				 (unsigned long long)n);
			put_hex(f, name, proof[0], len * HB);
		}
	for (int i = 0; i < 3; i++) {
		struct meta_record r;
		uint8_t *bytes;

		golden_record(i, &r);
		if (meta_record_encode(&r, &bytes, &len) < 0 || meta_record_leaf_hash(&r, h) < 0)
			abort();
		snprintf(name, sizeof(name), "record.%d.bytes", i);
		put_hex(f, name, bytes, len);
		snprintf(name, sizeof(name), "record.%d.leaf", i);
		put_hex(f, name, h, HB);
		free(bytes);
	}
	return 0;
}

/* Every "name = hex" line of tlog-v1.txt is what the code computes today. */
START_TEST(golden_vectors)
{
	const char *dir = getenv("VAULTFS_VECTORS");
	char path[4096], *line = NULL, *expect = NULL;
	size_t cap = 0, seen = 0, exp_cap = 0;
	FILE *f, *mine;

	ck_assert_msg(dir != NULL, "VAULTFS_VECTORS is not set");
	snprintf(path, sizeof(path), "%s/tlog-v1.txt", dir);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	mine = open_memstream(&expect, &exp_cap);
	ck_assert_ptr_nonnull(mine);
	generate(mine);
	fclose(mine);
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		ck_assert_msg(strstr(expect, line) != NULL, "vector differs: %s", line);
		seen++;
	}
	/* 13 leaves, 14 roots, 91 inclusion and 91 consistency proofs, 3 records */
	ck_assert_uint_eq(seen, VECTOR_SIZE + VECTOR_SIZE + 1 + 2 * 91 + 2 * 3);
	free(line);
	free(expect);
	fclose(f);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("tlog");
	TCase *tc = tcase_create("tlog");

	if (sodium_init() < 0)
		return 1;
	if (argc == 2 && strcmp(argv[1], "--generate") == 0)
		return generate(stdout);
	tcase_add_test(tc, reference_roots);
	tcase_add_test(tc, frontier_matches_tree);
	tcase_add_test(tc, frontier_overflow);
	tcase_add_test(tc, domain_separation);
	tcase_add_test(tc, inclusion_all_small_trees);
	tcase_add_test(tc, consistency_all_small_trees);
	tcase_add_test(tc, leaf_errors_pass_on);
	tcase_add_test(tc, golden_vectors);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
