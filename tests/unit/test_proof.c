/*
 * tests/unit/test_proof.c — the proof file of vaultfs-meta (meta/cmd/proof.h,
 * docs/format.md §12).
 *
 * A proof of the golden records of tests/vectors/tlog-v1.txt, signed with a
 * fixed key, is pinned byte for byte by tests/vectors/proof-v1.txt (and its
 * key by proof-v1.vkey; tests/vectors/verify.py checks both from the
 * documents alone). Then the attacks: every byte of the file flipped, every
 * truncation, oversize input, malformed base64, wrong counts, numbers with
 * leading zeros or out of range, another key, a record's bytes malformed —
 * each refused, never a crash, never "valid".
 *
 * VAULTFS_PROOF_GENERATE=DIR writes the golden files into DIR (once, for
 * version 1).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keytool/note.h"
#include "meta/cmd/proof.h"
#include "meta/records-tree.h"
#include "meta/tlog.h"

#define HB	   META_TLOG_HASH_BYTES
#define N_RECORDS  3
#define PROVE_LEAF 2
#define ORIGIN	   "vaultfs/00112233445566778899aabbccddeeff"

static uint8_t *rec_bytes[N_RECORDS];
static size_t rec_len[N_RECORDS];
static uint8_t leaves[N_RECORDS][HB];
static struct kt_note_verifier verifier;
static char *golden; /* the proof file */
static size_t golden_len;

static int leaf_at(void *ctx, uint64_t i, uint8_t ret[HB])
{
	(void)ctx;
	memcpy(ret, leaves[i], HB);
	return 0;
}

/* The records' canonical bytes, from tests/vectors/tlog-v1.txt. */
static void load_records(void)
{
	const char *dir = getenv("VAULTFS_VECTORS");
	char path[4096], *line = NULL;
	size_t cap = 0;
	FILE *f;

	ck_assert_msg(dir != NULL, "VAULTFS_VECTORS is not set");
	snprintf(path, sizeof(path), "%s/tlog-v1.txt", dir);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (getline(&line, &cap, f) > 0) {
		int i;
		char hex[8192];

		if (sscanf(line, "record.%d.bytes = %8191s", &i, hex) != 2 || i < 0 ||
		    i >= N_RECORDS)
			continue;
		rec_bytes[i] = malloc(strlen(hex) / 2);
		ck_assert_ptr_nonnull(rec_bytes[i]);
		ck_assert_int_eq(sodium_hex2bin(rec_bytes[i], strlen(hex) / 2, hex, strlen(hex),
						NULL, &rec_len[i], NULL),
				 0);
	}
	free(line);
	fclose(f);
	for (int i = 0; i < N_RECORDS; i++) {
		ck_assert_msg(rec_bytes[i] != NULL, "record.%d.bytes missing", i);
		meta_tlog_leaf_hash(rec_bytes[i], rec_len[i], leaves[i]);
	}
}

/* The golden proof: leaf PROVE_LEAF of the tree of the three records, signed
 * by the key of seed 0x00..0x1f as ORIGIN. */
static void make_golden(void)
{
	uint8_t seed[32], pk[32], sk[64];
	struct kt_checkpoint cp = {0};
	struct proof p = {0};
	char *text = NULL;

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	ck_assert_int_eq(kt_note_verifier_make(ORIGIN, pk, &verifier), 0);
	snprintf(cp.origin, sizeof(cp.origin), ORIGIN);
	cp.size = N_RECORDS;
	ck_assert_int_eq(meta_tlog_tree_root(leaf_at, NULL, N_RECORDS, cp.root), 0);
	ck_assert_int_eq(kt_checkpoint_format(&cp, &text), 0);
	ck_assert_int_eq(kt_note_sign(text, ORIGIN, sk, &p.note), 0);
	free(text);
	sodium_memzero(sk, sizeof(sk));
	p.note_len = strlen(p.note);
	p.index = PROVE_LEAF;
	p.size = N_RECORDS;
	p.record = malloc(rec_len[PROVE_LEAF]);
	ck_assert_ptr_nonnull(p.record);
	memcpy(p.record, rec_bytes[PROVE_LEAF], rec_len[PROVE_LEAF]);
	p.record_len = rec_len[PROVE_LEAF];
	ck_assert_int_eq(
	    meta_tlog_inclusion_proof(leaf_at, NULL, PROVE_LEAF, N_RECORDS, p.path, &p.path_len),
	    0);
	ck_assert_int_eq(proof_format(&p, &golden, &golden_len), 0);
	proof_clear(&p);
}

static void setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	load_records();
	make_golden();
}

static void teardown(void)
{
	for (int i = 0; i < N_RECORDS; i++) {
		free(rec_bytes[i]);
		rec_bytes[i] = NULL;
	}
	free(golden);
	golden = NULL;
}

/* 0 when text parses and verifies with the golden key. */
static int check_text(const char *text, size_t len)
{
	struct proof p;
	const char *why = NULL;
	int e = proof_parse(text, len, &p);

	if (e < 0)
		return e;
	e = proof_verify(&p, &verifier, NULL, &why);
	if (e < 0)
		ck_assert_ptr_nonnull(why);
	proof_clear(&p);
	return e;
}

static char *read_vector(const char *name, size_t *ret_len)
{
	const char *dir = getenv("VAULTFS_VECTORS");
	char path[4096], *buf;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	buf = calloc(1, PROOF_FILE_MAX + 1);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, PROOF_FILE_MAX, f);
	fclose(f);
	*ret_len = n;
	return buf;
}

START_TEST(golden_file)
{
	const char *gen = getenv("VAULTFS_PROOF_GENERATE");
	char *file, *vkey = NULL, *want;
	size_t len;

	ck_assert_int_eq(kt_note_verifier_format(&verifier, &vkey), 0);
	if (gen) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/proof-v1.txt", gen);
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		fwrite(golden, 1, golden_len, f);
		fclose(f);
		snprintf(path, sizeof(path), "%s/proof-v1.vkey", gen);
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%s\n", vkey);
		fclose(f);
	}
	file = read_vector("proof-v1.txt", &len);
	ck_assert_uint_eq(len, golden_len);
	ck_assert_int_eq(memcmp(file, golden, len), 0);
	free(file);
	file = read_vector("proof-v1.vkey", &len);
	want = malloc(strlen(vkey) + 2);
	ck_assert_ptr_nonnull(want);
	sprintf(want, "%s\n", vkey);
	ck_assert_str_eq(file, want);
	free(want);
	free(file);
	free(vkey);
	ck_assert_int_eq(check_text(golden, golden_len), 0);
}
END_TEST

START_TEST(round_trip)
{
	struct proof p;
	struct kt_checkpoint cp;
	struct meta_record r;
	const char *why = NULL;
	char *again;
	size_t len;

	ck_assert_int_eq(proof_parse(golden, golden_len, &p), 0);
	ck_assert_uint_eq(p.index, PROVE_LEAF);
	ck_assert_uint_eq(p.size, N_RECORDS);
	ck_assert_uint_eq(p.path_len, 1);
	ck_assert_int_eq(proof_verify(&p, &verifier, &cp, &why), 0);
	ck_assert_str_eq(cp.origin, ORIGIN);
	kt_checkpoint_clear(&cp);
	ck_assert_int_eq(proof_format(&p, &again, &len), 0);
	ck_assert_uint_eq(len, golden_len);
	ck_assert_int_eq(memcmp(again, golden, len), 0);
	free(again);
	ck_assert_int_eq(proof_record_decode(p.record, p.record_len, &r), 0);
	ck_assert_int_eq(r.id, 44);
	ck_assert_str_eq(r.user, "bo");
	ck_assert_str_eq(r.op, "rename");
	ck_assert_int_eq(r.outcome, -13);
	ck_assert_uint_eq(r.path_enc_len, 3);
	ck_assert_uint_eq(r.path2_enc_len, 5);
	meta_record_clear(&r);

	/* another key, even under the vault's name: not signed by it */
	{
		struct kt_note_verifier other;
		uint8_t pk[32], sk[64];

		crypto_sign_keypair(pk, sk);
		ck_assert_int_eq(kt_note_verifier_make(ORIGIN, pk, &other), 0);
		ck_assert_int_eq(proof_verify(&p, &other, NULL, &why), -ENOKEY);
	}
	proof_clear(&p);
}
END_TEST

START_TEST(every_byte_flipped)
{
	char *t = malloc(golden_len);

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < golden_len; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(t, golden, golden_len);
			t[i] ^= (char)(1 << bit);
			ck_assert_msg(check_text(t, golden_len) < 0,
				      "byte %zu bit %d flipped: valid", i, bit);
		}
	free(t);
}
END_TEST

START_TEST(every_truncation)
{
	for (size_t n = 0; n < golden_len; n++)
		ck_assert_msg(check_text(golden, n) < 0, "cut to %zu bytes: valid", n);
}
END_TEST

START_TEST(oversize)
{
	char *big = malloc(PROOF_FILE_MAX + 1);
	struct proof p;

	ck_assert_ptr_nonnull(big);
	memset(big, 'A', PROOF_FILE_MAX + 1);
	memcpy(big, golden, golden_len);
	ck_assert_int_eq(proof_parse(big, PROOF_FILE_MAX + 1, &p), -EFBIG);
	/* a note longer than a note may be */
	ck_assert_int_eq(proof_parse(big, PROOF_FILE_MAX, &p), -EPROTO);
	free(big);
}
END_TEST

/* golden with the first occurrence of from replaced by to. */
static int check_edit(const char *from, const char *to)
{
	const char *at = strstr(golden, from);
	char *t;
	size_t len;
	int e;

	ck_assert_msg(at != NULL, "'%s' not in the golden proof", from);
	len = golden_len - strlen(from) + strlen(to);
	t = malloc(len + 1);
	ck_assert_ptr_nonnull(t);
	memcpy(t, golden, (size_t)(at - golden));
	memcpy(t + (at - golden), to, strlen(to));
	memcpy(t + (at - golden) + strlen(to), at + strlen(from),
	       golden_len - (size_t)(at - golden) - strlen(from));
	t[len] = '\0';
	e = check_text(t, len);
	free(t);
	return e;
}

START_TEST(malformed_fields)
{
	ck_assert_int_eq(check_edit("vaultfs-proof v1\n", "vaultfs-proof v2\n"), -EPROTO);
	ck_assert_int_eq(check_edit("index 2\n", "index 02\n"), -EPROTO);
	ck_assert_int_eq(check_edit("index 2\n", "index +2\n"), -EPROTO);
	ck_assert_int_eq(check_edit("index 2\n", "index 3\n"), -EPROTO); /* >= size */
	ck_assert_int_eq(check_edit("index 2\n", "index 1\n"), -EBADMSG);
	ck_assert_int_eq(check_edit("size 3\n", "size 99999999999999999999\n"), -EPROTO);
	ck_assert_int_eq(check_edit("size 3\n", "size 4\n"), -EBADMSG);
	ck_assert_int_eq(check_edit("index 2\n", "index 2 \n"), -EPROTO);
	ck_assert_int_eq(check_edit("index 2\n", "index 2\r\n"), -EPROTO);
	ck_assert_int_eq(check_edit("record ", "record !"), -EPROTO);
	ck_assert_int_eq(check_edit("record ", "record  "), -EPROTO);
	ck_assert_int_eq(check_edit("path 1\n", "path 2\n"), -EPROTO);
	ck_assert_int_eq(check_edit("path 1\n", "path 0\n"), -EPROTO);
	ck_assert_int_eq(check_edit("path 1\n", "path 65\n"), -EPROTO);
	ck_assert_int_eq(check_edit("\ncheckpoint\n", "\ncheckpoints\n"), -EPROTO);
	ck_assert_int_eq(check_edit("\ncheckpoint\n", "\n\ncheckpoint\n"), -EPROTO);
	ck_assert_int_eq(check_edit("\ncheckpoint\n", "\ncheckpoint \n"), -EPROTO);
	/* a NUL in the note */
	{
		char *t = malloc(golden_len);

		ck_assert_ptr_nonnull(t);
		memcpy(t, golden, golden_len);
		t[golden_len - 1] = '\0';
		ck_assert_int_eq(check_text(t, golden_len), -EPROTO);
		free(t);
	}
}
END_TEST

/* A base64 line whose last character carries stray low bits decodes to the
 * same bytes: refused, so that a proof has one text. */
START_TEST(non_canonical_base64)
{
	struct proof p;
	char *t = malloc(golden_len + 1);
	char *line, *eq;

	ck_assert_ptr_nonnull(t);
	memcpy(t, golden, golden_len + 1);
	/* the audit path line: 44 characters, ending in one '=' (32 bytes) */
	line = strstr(t, "path 1\n") + strlen("path 1\n");
	eq = line + 43;
	ck_assert_int_eq(*eq, '=');
	/* the character before '=' holds 4 free bits: set one */
	{
		static const char b64[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		int v = (int)(strchr(b64, eq[-1]) - b64);

		ck_assert_int_eq(v & 3, 0);
		eq[-1] = b64[v | 1];
	}
	ck_assert_int_eq(proof_parse(t, golden_len, &p), -EPROTO);
	free(t);
}
END_TEST

START_TEST(record_decode_hostile)
{
	struct meta_record r;
	uint8_t *b = malloc(rec_len[0] + 8);
	size_t n = rec_len[0];

	ck_assert_ptr_nonnull(b);
	memcpy(b, rec_bytes[0], n);
	ck_assert_int_eq(proof_record_decode(b, n, &r), 0);
	meta_record_clear(&r);
	for (size_t cut = 0; cut < n; cut++)
		ck_assert_int_eq(proof_record_decode(b, cut, &r), -EPROTO);
	b[n] = 0;
	ck_assert_int_eq(proof_record_decode(b, n + 1, &r), -EPROTO); /* left over */
	b[0] = 2;
	ck_assert_int_eq(proof_record_decode(b, n, &r), -EPROTO); /* version */
	b[0] = 1;
	/* user's length (offset 73) beyond the field's limit, then beyond the end */
	b[73 + 1] = 0x01;
	ck_assert_int_eq(proof_record_decode(b, n, &r), -EPROTO);
	b[73 + 1] = 0;
	b[73 + 3] = 0x80;
	ck_assert_int_eq(proof_record_decode(b, n, &r), -EPROTO);
	b[73 + 3] = 0;
	/* a NUL inside the user's name ("anna") */
	b[77 + 1] = 0;
	ck_assert_int_eq(proof_record_decode(b, n, &r), -EPROTO);
	free(b);
	ck_assert_int_eq(proof_record_decode(NULL, 0, &r), -EPROTO);
}
END_TEST

static Suite *proof_suite(void)
{
	Suite *s = suite_create("proof");
	TCase *tc = tcase_create("proof");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, golden_file);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, every_byte_flipped);
	tcase_add_test(tc, every_truncation);
	tcase_add_test(tc, oversize);
	tcase_add_test(tc, malformed_fields);
	tcase_add_test(tc, non_canonical_base64);
	tcase_add_test(tc, record_decode_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proof_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
