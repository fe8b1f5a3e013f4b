/*
 * tests/unit/test_note.c — keytool/note.c: C2SP signed notes and checkpoints.
 *
 * Interoperability is pinned by the example of golang.org/x/mod/sumdb/note
 * (its documented key pair, text and signed note, Ed25519 being
 * deterministic) and the example checkpoint of c2sp.org/tlog-checkpoint;
 * everything else is hostile input that must be refused, never misread.
 */
#include "keytool/note.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "tests/unit/testutil.h"

/* golang.org/x/mod/sumdb/note's documented example */
#define GO_SEED	  "810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173"
#define GO_PUBLIC "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6"
#define GO_VKEY	  "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_TEXT                                                                                    \
	"If you think cryptography is the answer to your problem,\n"                               \
	"then you don't know what your problem is.\n"
#define GO_SIG_LINE                                                                                \
	"\xe2\x80\x94 PeterNeumann "                                                               \
	"x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKv"                       \
	"qfqdngotpRZb6KE6RyyBwJnAM=\n"
#define GO_NOTE GO_TEXT "\n" GO_SIG_LINE

static uint8_t go_sk[KT_NOTE_SIGN_SK_BYTES], go_pk[KT_NOTE_SIGN_PK_BYTES];
static struct kt_note_verifier go_v;

static void setup(void)
{
	uint8_t seed[32];

	ck_assert_int_eq(sodium_hex2bin(seed, sizeof(seed), GO_SEED, 64, NULL, NULL, NULL), 0);
	crypto_sign_seed_keypair(go_pk, go_sk, seed);
	ck_assert_int_eq(kt_note_verifier_make("PeterNeumann", go_pk, &go_v), 0);
}

/* open a NUL-terminated note against go_v; the result, the text freed */
static int open_go(const char *note)
{
	char *text = NULL;
	int r = kt_note_open(note, strlen(note), &go_v, &text);

	free(text);
	return r;
}

START_TEST(go_example_interoperates)
{
	uint8_t want_pk[32];
	char *vkey = NULL, *note = NULL, *text = NULL;

	ck_assert_int_eq(sodium_hex2bin(want_pk, sizeof(want_pk), GO_PUBLIC, 64, NULL, NULL, NULL),
			 0);
	ck_assert_int_eq(memcmp(go_pk, want_pk, 32), 0);
	ck_assert_uint_eq(go_v.id, 0xc74f20a3);
	ck_assert_int_eq(kt_note_verifier_format(&go_v, &vkey), 0);
	ck_assert_str_eq(vkey, GO_VKEY);
	ck_assert_int_eq(kt_note_sign(GO_TEXT, "PeterNeumann", go_sk, &note), 0);
	ck_assert_str_eq(note, GO_NOTE); /* byte for byte what Go signs */
	ck_assert_int_eq(kt_note_open(GO_NOTE, strlen(GO_NOTE), &go_v, &text), 0);
	ck_assert_str_eq(text, GO_TEXT);
	free(vkey);
	free(note);
	free(text);
}
END_TEST

START_TEST(verifier_key_parsed_and_mangling_refused)
{
	struct kt_note_verifier v;
	char buf[128];
	size_t n = strlen(GO_VKEY);

	ck_assert_int_eq(kt_note_verifier_parse(GO_VKEY, &v), 0);
	ck_assert_str_eq(v.name, "PeterNeumann");
	ck_assert_uint_eq(v.id, go_v.id);
	ck_assert_int_eq(memcmp(v.public_key, go_pk, 32), 0);
	/* every proper part of the key, and every byte changed, is refused */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memcpy(buf, GO_VKEY + i, j - i);
			buf[j - i] = '\0';
			ck_assert_msg(kt_note_verifier_parse(buf, &v) == -EPROTO, "accepted %s",
				      buf);
		}
	}
	for (size_t i = 0; i < n; i++) {
		strcpy(buf, GO_VKEY);
		buf[i]++;
		ck_assert_msg(kt_note_verifier_parse(buf, &v) == -EPROTO, "accepted %s", buf);
	}
	/* names the spec forbids */
	ck_assert_int_eq(kt_note_verifier_make("", go_pk, &v), -EPROTO);
	ck_assert_int_eq(kt_note_verifier_make("a b", go_pk, &v), -EPROTO);
	ck_assert_int_eq(kt_note_verifier_make("a+b", go_pk, &v), -EPROTO);
	ck_assert_int_eq(kt_note_verifier_make("a\xc2\xa0"
					       "b",
					       go_pk, &v),
			 -EPROTO); /* no-break space */
	ck_assert_int_eq(kt_note_verifier_make("a\xe2\x80\x83"
					       "b",
					       go_pk, &v),
			 -EPROTO); /* em space */
	ck_assert_int_eq(kt_note_verifier_make("a\x01", go_pk, &v), -EPROTO);
	ck_assert_int_eq(kt_note_verifier_make("\xc0\xaf", go_pk, &v), -EPROTO); /* overlong */
	ck_assert_int_eq(kt_note_verifier_make("vaultfs.example/kommun-42", go_pk, &v), 0);
}
END_TEST

START_TEST(hostile_notes_refused)
{
	char note[4096], *big;
	uint8_t other_pk[32], other_sk[64];
	char *other_note = NULL;

	ck_assert_int_eq(open_go(GO_NOTE), 0);
	/* the text changed by one byte */
	strcpy(note, GO_NOTE);
	note[3] ^= 1;
	ck_assert_int_eq(open_go(note), -EBADMSG);
	/* the signature changed by one character */
	strcpy(note, GO_NOTE);
	note[strlen(note) - 10] = note[strlen(note) - 10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(open_go(note), -EBADMSG);
	/* signed by another key of the same name: another id, ignored, so unsigned */
	crypto_sign_keypair(other_pk, other_sk);
	ck_assert_int_eq(kt_note_sign(GO_TEXT, "PeterNeumann", other_sk, &other_note), 0);
	ck_assert_int_eq(open_go(other_note), -ENOKEY);
	/* ...but beside a good signature, an unknown one is ignored */
	snprintf(note, sizeof(note), "%s%s", other_note, GO_SIG_LINE);
	ck_assert_int_eq(open_go(note), 0);
	free(other_note);
	/* an unknown key's line that is long (a post-quantum signature) is ignored */
	snprintf(note, sizeof(note), GO_TEXT "\n\xe2\x80\x94 other.example/pq %0400d\n" GO_SIG_LINE,
		 0);
	for (char *p = strstr(note, "pq ") + 3; *p == '0'; p++)
		*p = 'A';
	ck_assert_int_eq(open_go(note), 0);
	/* no signature, no blank line, no final newline, no em dash */
	ck_assert_int_eq(open_go(GO_TEXT), -EPROTO);
	ck_assert_int_eq(open_go(GO_TEXT "\n"), -EPROTO);
	ck_assert_int_eq(open_go(GO_TEXT GO_SIG_LINE), -EPROTO);
	strcpy(note, GO_NOTE);
	note[strlen(note) - 1] = '\0';
	ck_assert_int_eq(open_go(note), -EPROTO);
	ck_assert_int_eq(open_go(GO_TEXT "\n- PeterNeumann x08go/ZJkuBS9UG/\n"), -EPROTO);
	/* a control character, invalid UTF-8, a signature of under four bytes */
	ck_assert_int_eq(open_go("a\tb\n\n" GO_SIG_LINE), -EPROTO);
	ck_assert_int_eq(open_go("a\xff\n\n" GO_SIG_LINE), -EPROTO);
	ck_assert_int_eq(open_go(GO_TEXT "\n\xe2\x80\x94 PeterNeumann AAA=\n"), -EPROTO);
	/* the right key id and name, a signature of the wrong length */
	ck_assert_int_eq(open_go(GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJk=\n"), -EBADMSG);
	/* too many signature lines */
	{
		size_t n = (size_t)snprintf(note, sizeof(note), GO_TEXT "\n");

		for (int i = 0; i <= KT_NOTE_MAX_SIGS && n < sizeof(note) - 64; i++)
			n += (size_t)snprintf(note + n, sizeof(note) - n,
					      "\xe2\x80\x94 k%d AAAAAAAA\n", i);
		ck_assert_int_eq(open_go(note), -EPROTO);
	}
	/* too big */
	big = malloc(KT_NOTE_MAX_BYTES + 200);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', KT_NOTE_MAX_BYTES);
	strcpy(big + KT_NOTE_MAX_BYTES, "\n\n" GO_SIG_LINE);
	ck_assert_int_eq(open_go(big), -EPROTO);
	free(big);
	/* and nothing may be signed that would not open */
	ck_assert_int_eq(kt_note_sign("no newline", "k", go_sk, &other_note), -EPROTO);
	ck_assert_int_eq(kt_note_sign("bell\a\n", "k", go_sk, &other_note), -EPROTO);
	ck_assert_int_eq(kt_note_sign("ok\n", "bad name", go_sk, &other_note), -EPROTO);
}
END_TEST

/* c2sp.org/tlog-checkpoint's example, and a round trip with extension lines */
START_TEST(checkpoint_format_and_parse)
{
	static const char example[] = "example.com/behind-the-sofa\n20852163\n"
				      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	struct kt_checkpoint c, back;
	char *text = NULL;

	ck_assert_int_eq(kt_checkpoint_parse(example, &c), 0);
	ck_assert_str_eq(c.origin, "example.com/behind-the-sofa");
	ck_assert_uint_eq(c.size, 20852163);
	ck_assert_uint_eq(c.root[0], 0x0a);
	ck_assert_uint_eq(c.n_ext, 0);
	ck_assert_int_eq(kt_checkpoint_format(&c, &text), 0);
	ck_assert_str_eq(text, example);
	free(text);

	c.ext[0] = strdup("vaultfs-state AAAA");
	c.ext[1] = strdup("second");
	c.n_ext = 2;
	ck_assert_int_eq(kt_checkpoint_format(&c, &text), 0);
	ck_assert_int_eq(kt_checkpoint_parse(text, &back), 0);
	ck_assert_uint_eq(back.n_ext, 2);
	ck_assert_str_eq(back.ext[1], "second");
	ck_assert_int_eq(memcmp(back.root, c.root, 32), 0);
	free(text);
	kt_checkpoint_clear(&back);
	/* a line that would break the text is refused when writing */
	free(c.ext[1]);
	c.ext[1] = strdup("two\nlines");
	ck_assert_int_eq(kt_checkpoint_format(&c, &text), -EPROTO);
	kt_checkpoint_clear(&c);
}
END_TEST

START_TEST(hostile_checkpoints_refused)
{
	static const char *const bad[] = {
	    "",
	    "origin\n",
	    "origin\n5\n",
	    "origin\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", /* leading zero */
	    "origin\n-5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", /* sign */
	    "origin\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	    "origin\n 5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	    "origin\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	    "origin\n9223372036854775808\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	    "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",	     /* no padding */
	    "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",     /* 31 bytes */
	    "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=AA==\n", /* 34 bytes */
	    "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",   /* empty ext */
	    "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",	     /* no origin */
	    "ori\x01gin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	    "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", /* no newline */
	    "origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n1\n2\n3\n4\n5\n6\n7\n8\n9\n",
	};
	struct kt_checkpoint c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(kt_checkpoint_parse(bad[i], &c) == -EPROTO, "accepted case %zu", i);
	ck_assert_int_eq(kt_checkpoint_parse("origin\n0\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx"
					     "q2I=\n1\n2\n3\n4\n5\n6\n7\n8\n",
					     &c),
			 0);
	ck_assert_uint_eq(c.size, 0);
	ck_assert_uint_eq(c.n_ext, KT_CHECKPOINT_MAX_EXT);
	kt_checkpoint_clear(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("note");
	TCase *tc = tcase_create("note");

	if (sodium_init() < 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, go_example_interoperates);
	tcase_add_test(tc, verifier_key_parsed_and_mangling_refused);
	tcase_add_test(tc, hostile_notes_refused);
	tcase_add_test(tc, checkpoint_format_and_parse);
	tcase_add_test(tc, hostile_checkpoints_refused);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
