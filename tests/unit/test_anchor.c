/*
 * tests/unit/test_anchor.c — the vault's signing keys (keytool/signing.h)
 * and the signed checkpoints of its access record (keytool/anchor.h), over a
 * real vault.db in a temporary directory.
 *
 * Who holds which key (every role the checkpoint key, the admin role alone
 * the administration key, also after a rotation and for a new role), that a
 * planted public key is refused at unlock, and the attacks a checkpoint
 * kept outside the vault must catch: a record edited, deleted or the log
 * cut short, a checkpoint signed by another key, a witness holding a
 * checkpoint the log does not extend.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "keytool/anchor.h"
#include "keytool/keystore.h"
#include "keytool/rotation.h"
#include "keytool/signing.h"
#include "keytool/witness.h"
#include "meta/checkpoints.h"
#include "meta/keys.h"
#include "meta/records.h"
#include "meta/records-tree.h"
#include "meta/users.h"
#include "tests/unit/testutil.h"

#define ALICE_PASS "alice's long passphrase"
#define BOB_PASS   "bob's passphrase"

static char *dir;
static struct meta_db *db;
static struct kt_keyring *alice;

static void setup(void)
{
	struct kt_init_options o = {
	    .admin = "alice",
	    .passphrase = ALICE_PASS,
	    .passphrase_len = strlen(ALICE_PASS),
	    .kdf = KT_KDF_TEST,
	    .admin_uid = -1,
	};

	ck_assert_int_eq(kt_crypto_init(), 0);
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(kt_vault_init(dir, &o), 0);
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db), 0);
	ck_assert_int_eq(kt_unlock(db, "alice", ALICE_PASS, strlen(ALICE_PASS), &alice), 0);
}

static void teardown(void)
{
	alice = kt_keyring_free(alice);
	db = meta_db_close(db);
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
}

static struct kt_keyring *add_member_bob(void)
{
	struct kt_keyring *kr = NULL;

	ck_assert_int_eq(kt_user_add(db, alice, "bob", 1001, BOB_PASS, strlen(BOB_PASS)), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	ck_assert_int_eq(kt_unlock(db, "bob", BOB_PASS, strlen(BOB_PASS), &kr), 0);
	return kr;
}

/* Run SQL on the vault behind the library's back (a second connection). */
static void tamper(const char *sql)
{
	char path[4096];
	sqlite3 *s = NULL;

	snprintf(path, sizeof(path), "%s/vault.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(s, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(s));
	sqlite3_close(s);
}

static void add_records(int n)
{
	for (int i = 0; i < n; i++) {
		struct meta_record r = {
		    .uid = 1001, .level = 1, .bytes_read = -1, .bytes_written = -1};

		snprintf(r.user, sizeof(r.user), "bob");
		snprintf(r.op, sizeof(r.op), "open");
		r.ino = (uint64_t)(100 + i);
		ck_assert_int_eq(meta_log_append(db, &r), 0);
	}
}

START_TEST(keys_held_by_role)
{
	struct kt_keyring *bob = add_member_bob();
	const uint8_t *seed, *seed2;
	uint32_t v;

	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_CHECKPOINT, &v, &seed), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_ADMIN_SIGN, &v, &seed), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(bob, KT_SEAL_CHECKPOINT, &v, &seed2), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(bob, KT_SEAL_ADMIN_SIGN, &v, &seed), -ENOKEY);
	ck_assert_int_eq(kt_keyring_sign_seed(bob, KT_SEAL_LEVEL, &v, &seed), -EINVAL);
	bob = kt_keyring_free(bob);

	/* a new role gets the checkpoint key, never the administration key */
	ck_assert_int_eq(kt_role_add(db, alice, "hr", 0x7, 0), 0);
	ck_assert_int_eq(kt_user_add(db, alice, "carol", 1002, BOB_PASS, strlen(BOB_PASS)), 0);
	ck_assert_int_eq(kt_grant(db, alice, "carol", "hr", 0), 0);
	ck_assert_int_eq(kt_unlock(db, "carol", BOB_PASS, strlen(BOB_PASS), &bob), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(bob, KT_SEAL_CHECKPOINT, &v, &seed), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(bob, KT_SEAL_ADMIN_SIGN, &v, &seed), -ENOKEY);
	bob = kt_keyring_free(bob);
}
END_TEST

START_TEST(keys_survive_rotation)
{
	struct kt_keyring *bob = add_member_bob(), *dave = NULL;
	const uint8_t *seed;
	uint32_t v;

	bob = kt_keyring_free(bob);
	ck_assert_int_eq(kt_user_add(db, alice, "dave", 1003, BOB_PASS, strlen(BOB_PASS)), 0);
	ck_assert_int_eq(kt_grant(db, alice, "dave", "member", 0), 0);
	/* revoking bob makes new member and admin role key versions */
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "member"), 0);
	ck_assert_int_eq(kt_keyring_refresh(db, alice), 0);
	ck_assert_int_eq(kt_unlock(db, "dave", BOB_PASS, strlen(BOB_PASS), &dave), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(dave, KT_SEAL_CHECKPOINT, &v, &seed), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(dave, KT_SEAL_ADMIN_SIGN, &v, &seed), -ENOKEY);
	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_ADMIN_SIGN, &v, &seed), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_CHECKPOINT, &v, &seed), 0);
	dave = kt_keyring_free(dave);
}
END_TEST

START_TEST(planted_public_key_refused)
{
	struct kt_keyring *bob;
	const uint8_t *seed;
	char *note = NULL;
	uint64_t size;
	uint32_t v;

	bob = add_member_bob();
	bob = kt_keyring_free(bob);
	/* someone writes their own public key into sign_keys */
	tamper("UPDATE sign_keys SET public_key = zeroblob(32) WHERE kind = 4");
	ck_assert_int_eq(kt_unlock(db, "bob", BOB_PASS, strlen(BOB_PASS), &bob), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(bob, KT_SEAL_CHECKPOINT, &v, &seed), -ENOKEY);
	ck_assert_int_eq(kt_log_checkpoint(db, bob, &note, &size), -ENOKEY);
	ck_assert_ptr_null(note);
	bob = kt_keyring_free(bob);
}
END_TEST

START_TEST(checkpoint_signed_and_kept)
{
	struct kt_keyring *bob = add_member_bob();
	struct kt_note_verifier v;
	struct meta_checkpoint kept;
	struct kt_checkpoint cp;
	char *note = NULL, origin[KT_LOG_ORIGIN_MAX];
	uint64_t size;

	add_records(5);
	ck_assert_int_eq(kt_log_checkpoint(db, bob, &note, &size), 0);
	ck_assert_uint_gt(size, 5);
	ck_assert_int_eq(kt_log_origin(db, origin), 0);
	ck_assert_uint_eq(strlen(origin), 8 + 32);
	ck_assert_int_eq(strncmp(note, origin, strlen(origin)), 0);
	ck_assert_int_eq(kt_log_verifier(db, &v), 0);
	ck_assert_str_eq(v.name, origin);
	ck_assert_int_eq(kt_log_check(db, &v, note, strlen(note), &cp), 0);
	ck_assert_uint_eq(cp.size, size);
	kt_checkpoint_clear(&cp);
	ck_assert_int_eq(meta_checkpoint_latest(db, &kept), 0);
	ck_assert_uint_eq(kept.size, size);
	ck_assert_str_eq(kept.note, note);
	meta_checkpoint_clear(&kept);

	/* the log grows: still consistent with the old checkpoint */
	add_records(3);
	ck_assert_int_eq(kt_log_check(db, &v, note, strlen(note), NULL), 0);
	free(note);
	bob = kt_keyring_free(bob);
}
END_TEST

/* A checkpoint of the log now, by alice. */
static char *checkpoint_now(struct kt_note_verifier *v)
{
	char *note = NULL;
	uint64_t size;

	ck_assert_int_eq(kt_log_checkpoint(db, alice, &note, &size), 0);
	ck_assert_int_eq(kt_log_verifier(db, v), 0);
	return note;
}

START_TEST(edited_record_detected)
{
	struct kt_note_verifier v;
	char *note;

	add_records(6);
	note = checkpoint_now(&v);
	tamper("DROP TRIGGER access_log_no_update;"
	       "UPDATE access_log SET user = 'carol' WHERE id = (SELECT max(id) - 2 FROM "
	       "access_log)");
	ck_assert_int_eq(kt_log_check(db, &v, note, strlen(note), NULL), -EBADMSG);
	free(note);
}
END_TEST

START_TEST(deleted_and_truncated_detected)
{
	struct kt_note_verifier v;
	char *note;

	add_records(6);
	note = checkpoint_now(&v);
	/* one record from the middle */
	tamper("DROP TRIGGER access_log_no_delete;"
	       "DELETE FROM access_log WHERE id = (SELECT max(id) - 3 FROM access_log)");
	ck_assert_int_eq(kt_log_check(db, &v, note, strlen(note), NULL), -ESTALE);
	/* ... and records added after it, to make the count right again */
	add_records(1);
	ck_assert_int_eq(kt_log_check(db, &v, note, strlen(note), NULL), -EBADMSG);
	/* the log cut short */
	tamper("DELETE FROM access_log WHERE id > (SELECT max(id) - 4 FROM access_log)");
	ck_assert_int_eq(kt_log_check(db, &v, note, strlen(note), NULL), -ESTALE);
	free(note);
}
END_TEST

START_TEST(forged_checkpoint_refused)
{
	uint8_t pk[KT_SIGN_PK_BYTES], sk[KT_SIGN_SK_BYTES];
	struct kt_note_verifier v;
	struct kt_checkpoint cp = {0};
	char *note, *text = NULL, *forged = NULL;

	add_records(2);
	note = checkpoint_now(&v);
	/* the same text signed with another key under the vault's name */
	crypto_sign_keypair(pk, sk);
	ck_assert_int_eq(kt_note_open(note, strlen(note), &v, &text), 0);
	ck_assert_int_eq(kt_note_sign(text, v.name, sk, &forged), 0);
	ck_assert_int_eq(kt_log_check(db, &v, forged, strlen(forged), NULL), -ENOKEY);
	/* a checkpoint of another vault (origin) signed with this vault's key is
	 * not this vault's: the verifier's name must be the origin */
	ck_assert_int_eq(kt_checkpoint_parse(text, &cp), 0);
	kt_checkpoint_clear(&cp);
	free(text);
	free(forged);
	free(note);
}
END_TEST

START_TEST(witness_follows_log)
{
	struct kt_note_verifier v;
	struct kt_checkpoint held;
	char *wdir = tu_tmpdir();
	char *n1, *n2;

	add_records(3);
	n1 = checkpoint_now(&v);
	ck_assert_int_eq(kt_log_witness(db, wdir, &v, n1), 0);
	add_records(4);
	n2 = checkpoint_now(&v);
	ck_assert_int_eq(kt_log_witness(db, wdir, &v, n2), 0);
	ck_assert_int_eq(kt_witness_latest(wdir, &v, &held), 0);
	ck_assert_int_eq(kt_log_check(db, &v, n2, strlen(n2), NULL), 0);
	kt_checkpoint_clear(&held);
	/* an older checkpoint offered again (another process was slower): the
	 * witness keeps the newer one, which the record extends */
	ck_assert_int_eq(kt_log_witness(db, wdir, &v, n1), 0);
	ck_assert_int_eq(kt_witness_latest(wdir, &v, &held), 0);
	ck_assert_uint_gt(held.size, 3);
	kt_checkpoint_clear(&held);
	/* the witness itself never goes back */
	ck_assert_int_eq(kt_witness_add(wdir, &v, n1, strlen(n1), NULL, 0), -ESTALE);
	/* a record edited behind the library's back: checkpoints are signed
	 * over the stored frontier, which still describes the honest tree, so
	 * the witness takes the next one; checking the records against any
	 * checkpoint recomputes them and finds the edit */
	tamper("DROP TRIGGER access_log_no_update;"
	       "UPDATE access_log SET comm = 'x' WHERE id = (SELECT min(id) + 1 FROM access_log)");
	add_records(1);
	{
		char *n3 = NULL;
		uint64_t size;

		ck_assert_int_eq(kt_log_checkpoint(db, alice, &n3, &size), 0);
		ck_assert_int_eq(kt_log_witness(db, wdir, &v, n3), 0);
		ck_assert_int_eq(kt_log_check(db, &v, n3, strlen(n3), NULL), -EBADMSG);
		ck_assert_int_eq(kt_log_check(db, &v, n1, strlen(n1), NULL), -EBADMSG);
		free(n3);
	}
	/* the stored tree restarted from nothing (a tamperer hiding edits):
	 * a witness that holds an older checkpoint refuses what it signs now */
	{
		char *w2 = tu_tmpdir(), *n4 = NULL;
		uint64_t size;

		ck_assert_int_eq(kt_log_witness(db, w2, &v, n2), 0);
		tamper("DELETE FROM access_tree;"
		       "INSERT INTO access_tree (id, size, frontier) VALUES (1, 0, x'')");
		ck_assert_int_eq(kt_log_checkpoint(db, alice, &n4, &size), 0);
		/* smaller than what the witness holds, and the records (edited
		 * above) no longer hash to that */
		ck_assert_int_eq(kt_log_witness(db, w2, &v, n4), -EBADMSG);
		free(n4);
		/* the restarted tree grown past the witness's size: a fork */
		add_records(40);
		ck_assert_int_eq(kt_log_checkpoint(db, alice, &n4, &size), 0);
		ck_assert_int_eq(kt_log_witness(db, w2, &v, n4), -EBADMSG);
		free(n4);
		tu_rmrf(w2);
		free(w2);
	}
	free(n1);
	free(n2);
	tu_rmrf(wdir);
	free(wdir);
}
END_TEST

START_TEST(ensure_gives_old_vault_keys)
{
	const uint8_t *seed;
	uint32_t v;

	struct meta_user u;
	uint8_t apk[KT_SIGN_PK_BYTES], sk[KT_KEY_BYTES];
	bool done = true;

	/* a vault made before signing keys existed: alice's secret of version 1
	 * (format.md §3), no row signatures, no signing keys */
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &u), 0);
	ck_assert_int_eq(kt_admin_sign_pk(db, apk), 0);
	ck_assert_int_eq(kt_user_secret_open(ALICE_PASS, strlen(ALICE_PASS), u.public_key, apk,
					     u.secret_sealed, sk),
			 0);
	ck_assert_int_eq(kt_user_secret_seal(ALICE_PASS, strlen(ALICE_PASS), KT_KDF_TEST,
					     u.public_key, sk, NULL, u.secret_sealed),
			 0);
	sodium_memzero(sk, sizeof(sk));
	ck_assert_int_eq(meta_user_set_secret(db, u.id, u.secret_sealed), 0);
	tamper("DELETE FROM key_seals WHERE kind IN (4, 5); DELETE FROM sign_keys;"
	       "UPDATE users SET sig = NULL; UPDATE roles SET sig = NULL;"
	       "UPDATE role_keys SET sig = NULL; UPDATE grants SET sig = NULL;"
	       "UPDATE level_keys SET sig = NULL; UPDATE meta_keys SET sig = NULL;"
	       "UPDATE key_seals SET sig = NULL;"
	       "DELETE FROM vault_config WHERE key IN ('rows_signed', 'level_names.sig')");
	alice = kt_keyring_free(alice);
	ck_assert_int_eq(kt_unlock(db, "alice", ALICE_PASS, strlen(ALICE_PASS), &alice), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_CHECKPOINT, &v, &seed), -ENOKEY);
	ck_assert_int_eq(kt_sign_keys_ensure(db, alice), 1);
	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_CHECKPOINT, &v, &seed), 0);
	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_ADMIN_SIGN, &v, &seed), 0);
	ck_assert_int_eq(kt_rows_signed(db, &done), 0);
	ck_assert(done);
	ck_assert_int_eq(kt_sign_keys_ensure(db, alice), 0);
	/* her next unlock seals her secret again as version 2 */
	alice = kt_keyring_free(alice);
	ck_assert_int_eq(kt_unlock(db, "alice", ALICE_PASS, strlen(ALICE_PASS), &alice), 0);
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &u), 0);
	ck_assert_int_eq(kt_user_secret_version(u.secret_sealed), KT_USER_SECRET_V2);
	ck_assert_int_eq(kt_keyring_sign_seed(alice, KT_SEAL_ADMIN_SIGN, &v, &seed), 0);
}
END_TEST

START_TEST(restore_needs_the_admin_key)
{
	uint8_t pk[KT_SIGN_PK_BYTES], sk[KT_SIGN_SK_BYTES];
	struct kt_note_verifier v;
	struct kt_checkpoint held = {0}, cp = {0};
	char *wdir = tu_tmpdir(), *n1, *n2 = NULL, *text = NULL, *rtext = NULL, *forged = NULL;
	char origin[KT_LOG_ORIGIN_MAX], name[KT_NOTE_NAME_MAX + 1];
	uint64_t from = 0, to = 0, size;

	add_records(5);
	n1 = checkpoint_now(&v);
	ck_assert_int_eq(kt_log_witness(db, wdir, &v, n1), 0);
	/* nothing to accept while the record extends the witness */
	ck_assert_int_eq(kt_log_restore(db, alice, wdir, NULL, "test", &from, &to, NULL),
			 -EALREADY);
	/* the vault "restored" to an earlier state: its records cut short */
	tamper("DROP TRIGGER access_log_no_delete;"
	       "DELETE FROM access_log WHERE id > (SELECT max(id) - 3 FROM access_log);"
	       "DELETE FROM access_tree;"
	       "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log\n"
	       "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;");
	ck_assert_int_eq(meta_db_close(db) == NULL, 1);
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db), 0);
	/* a restored backup's tree matches its records */
	ck_assert_int_eq(meta_tx_begin(db), 0);
	ck_assert_int_eq(meta_log_tree_start(db), 0);
	ck_assert_int_eq(meta_tx_commit(db), 0);
	ck_assert_int_eq(kt_log_checkpoint(db, alice, &n2, &size), 0);
	ck_assert_int_eq(kt_log_witness(db, wdir, &v, n2), -ESTALE);

	/* a statement signed by another key under the vault's admin name */
	ck_assert_int_eq(kt_witness_latest(wdir, &v, &held), 0);
	ck_assert_int_eq(kt_note_open(n2, strlen(n2), &v, &text), 0);
	ck_assert_int_eq(kt_checkpoint_parse(text, &cp), 0);
	ck_assert_int_eq(kt_log_origin(db, origin), 0);
	ck_assert_int_eq(kt_restore_format(origin, &held, &cp, &rtext), 0);
	crypto_sign_keypair(pk, sk);
	snprintf(name, sizeof(name), "%s%s", origin, KT_RESTORE_KEY_SUFFIX);
	ck_assert_int_eq(kt_note_sign(rtext, name, sk, &forged), 0);
	ck_assert_int_eq(kt_witness_restore(wdir, &v, n2, strlen(n2), forged, strlen(forged)),
			 -ENOKEY);
	/* the real thing */
	ck_assert_int_eq(kt_log_restore(db, alice, wdir, NULL, "backup restored", &from, &to, NULL),
			 0);
	ck_assert_uint_eq(from, held.size);
	ck_assert_uint_gt(to, 0);
	kt_checkpoint_clear(&held);
	ck_assert_int_eq(kt_witness_latest(wdir, &v, &held), 0);
	ck_assert_uint_eq(held.size, to);
	ck_assert_int_eq(kt_log_extends(db, &held), 0);
	kt_checkpoint_clear(&held);
	kt_checkpoint_clear(&cp);
	free(text);
	free(rtext);
	free(forged);
	free(n1);
	free(n2);
	tu_rmrf(wdir);
	free(wdir);
}
END_TEST

static Suite *anchor_suite(void)
{
	Suite *s = suite_create("anchor");
	TCase *tc = tcase_create("anchor");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, keys_held_by_role);
	tcase_add_test(tc, keys_survive_rotation);
	tcase_add_test(tc, planted_public_key_refused);
	tcase_add_test(tc, checkpoint_signed_and_kept);
	tcase_add_test(tc, edited_record_detected);
	tcase_add_test(tc, deleted_and_truncated_detected);
	tcase_add_test(tc, forged_checkpoint_refused);
	tcase_add_test(tc, witness_follows_log);
	tcase_add_test(tc, ensure_gives_old_vault_keys);
	tcase_add_test(tc, restore_needs_the_admin_key);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(anchor_suite());
}
