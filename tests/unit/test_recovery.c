/*
 * tests/unit/test_recovery.c — keytool/recovery.c: recovery by quorum over a
 * real vault.db, with share files in a temporary directory.
 *
 * A 3-of-5 setup; recovering with 3, 4 and 5 shares works; with 2 (M-1) it
 * is refused, as are a corrupted share, a share of another vault, a share of
 * an older setup, the same share twice, and a forged share (valid checksum,
 * wrong value): never a wrong key. Recovery resets the last administrator's
 * passphrase and grants roles, survives a rotation of the admin role, and
 * every attempt is recorded.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/keystore.h"
#include "keytool/recovery.h"
#include "keytool/rotation.h"
#include "meta/records.h"
#include "meta/users.h"
#include "tests/unit/testutil.h"

#define ALICE_PASS "alice's long passphrase"
#define ALICE_NEW  "alice remembers this one"
#define BOB_PASS   "bob's passphrase"
#define LENA_PASS  "lena's passphrase"

static const char *const officers[5] = {"olle", "per", "stina", "tove", "ulf"};

static char *dir;
static char sharedir[4096];
static struct meta_db *db;
static struct kt_keyring *alice;
static char **paths;

static void make_vault(const char *d, struct meta_db **ret_db, struct kt_keyring **ret_kr)
{
	struct kt_init_options o = {
	    .admin = "alice",
	    .passphrase = ALICE_PASS,
	    .passphrase_len = strlen(ALICE_PASS),
	    .kdf = KT_KDF_TEST,
	    .admin_uid = -1,
	};

	ck_assert_int_eq(kt_vault_init(d, &o), 0);
	ck_assert_int_eq(meta_db_open(d, META_OPEN_RW, ret_db), 0);
	ck_assert_int_eq(kt_unlock(*ret_db, "alice", ALICE_PASS, strlen(ALICE_PASS), ret_kr), 0);
}

static int do_setup(struct meta_db *d, struct kt_keyring *kr, const char *out, char ***ret)
{
	struct kt_recovery_setup_options o = {
	    .threshold = 3, .shares = 5, .officers = officers, .out_dir = out};

	return kt_recovery_setup(d, kr, &o, ret);
}

static void setup(void)
{
	ck_assert_int_eq(kt_crypto_init(), 0);
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	make_vault(dir, &db, &alice);
	ck_assert_int_eq(kt_user_add(db, alice, "bob", -1, BOB_PASS, strlen(BOB_PASS)), 0);
	snprintf(sharedir, sizeof(sharedir), "%s/shares", dir);
	ck_assert_int_eq(mkdir(sharedir, 0700), 0);
	ck_assert_int_eq(do_setup(db, alice, sharedir, &paths), 0);
}

static void teardown(void)
{
	paths = kt_strv_free(paths, 5);
	alice = kt_keyring_free(alice);
	db = meta_db_close(db);
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
}

static int recover(const char *const *p, size_t n, struct kt_recovery_error *e,
		   struct kt_keyring **kr)
{
	*kr = NULL;
	return kt_recovery_unlock(db, p, n, e, kr);
}

static size_t count_records(const char *user, const char *op, int outcome)
{
	struct meta_log_filter f = {.user = user, .op = op, .level = -1};
	struct meta_record *recs = NULL;
	size_t n = 0, hits = 0;

	ck_assert_int_eq(meta_log_query(db, &f, &recs, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (recs[i].outcome == outcome)
			hits++;
		meta_record_clear(&recs[i]);
	}
	free(recs);
	return hits;
}

/* Read / write a share file whole. */
static void share_read(const char *path, uint8_t buf[KT_SHARE_BYTES])
{
	FILE *f = fopen(path, "rb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(buf, 1, KT_SHARE_BYTES, f), KT_SHARE_BYTES);
	fclose(f);
}

static void share_write(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

START_TEST(setup_writes_share_files)
{
	struct kt_recovery_info info;
	struct stat st;

	for (int i = 0; i < 5; i++) {
		ck_assert_ptr_nonnull(strstr(paths[i], officers[i]));
		ck_assert_int_eq(lstat(paths[i], &st), 0);
		ck_assert(S_ISREG(st.st_mode));
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
		ck_assert_int_eq(st.st_size, KT_SHARE_BYTES);
	}
	ck_assert_int_eq(kt_recovery_info(db, &info), 0);
	ck_assert_uint_eq(info.threshold, 3);
	ck_assert_uint_eq(info.shares, 5);
	ck_assert_str_eq(info.officers, "olle,per,stina,tove,ulf");
	ck_assert_uint_eq(info.admin_role_version, 1);
	ck_assert_str_eq(info.created_by, "alice");
	ck_assert_uint_eq(count_records("alice", "recovery-setup", 0), 1);
}
END_TEST

START_TEST(setup_refuses)
{
	struct kt_recovery_setup_options o = {
	    .threshold = 3, .shares = 5, .officers = officers, .out_dir = sharedir};
	static const char *const dup[3] = {"olle", "per", "olle"};
	struct kt_keyring *bob = NULL;
	char **p = NULL;

	/* the files exist: nothing written, nothing changed */
	ck_assert_int_eq(kt_recovery_setup(db, alice, &o, &p), -EEXIST);
	o.threshold = 1;
	ck_assert_int_eq(kt_recovery_setup(db, alice, &o, &p), -EINVAL);
	o.threshold = 6;
	ck_assert_int_eq(kt_recovery_setup(db, alice, &o, &p), -EINVAL);
	o.threshold = 2;
	o.shares = 3;
	o.officers = dup;
	ck_assert_int_eq(kt_recovery_setup(db, alice, &o, &p), -EINVAL);
	o.officers = officers;
	o.out_dir = "/nonexistent/dir";
	ck_assert_int_eq(kt_recovery_setup(db, alice, &o, &p), -ENOENT);
	ck_assert_int_eq(kt_unlock(db, "bob", BOB_PASS, strlen(BOB_PASS), &bob), 0);
	o.out_dir = dir;
	ck_assert_int_eq(kt_recovery_setup(db, bob, &o, &p), -EACCES);
	ck_assert_uint_eq(count_records("bob", "recovery-setup", -EACCES), 1);
	kt_keyring_free(bob);
}
END_TEST

/* The last administrator forgot their passphrase: three officers restore it. */
START_TEST(recover_with_threshold_resets_passphrase)
{
	const char *p[3] = {paths[4], paths[0], paths[2]};
	struct kt_recovery_error e;
	struct kt_keyring *kr, *again = NULL;
	struct meta_user u;

	ck_assert_int_eq(recover(p, 3, &e, &kr), 0);
	ck_assert_int_eq(e.share, -1);
	ck_assert_str_eq(kt_keyring_user(kr)->name, KT_RECOVERY_NAME);
	ck_assert_int_eq(kt_user_reset(db, kr, "alice", ALICE_NEW, strlen(ALICE_NEW)), 0);
	/* the old passphrase and key pair open nothing; the new one is an admin */
	ck_assert_int_eq(kt_unlock(db, "alice", ALICE_PASS, strlen(ALICE_PASS), &again), -EACCES);
	ck_assert_int_eq(kt_unlock(db, "alice", ALICE_NEW, strlen(ALICE_NEW), &again), 0);
	ck_assert_uint_eq(kt_keyring_flags(again) & META_ROLE_ADMIN, META_ROLE_ADMIN);
	ck_assert_int_eq(kt_grant(db, again, "bob", "member", 0), 0);
	/* alice's keyring from before the reset is no administrator any more */
	ck_assert_int_eq(kt_grant(db, alice, "bob", "owner", 0), -EACCES);
	kt_keyring_free(again);

	/* recovery grants directly, too */
	ck_assert_int_eq(kt_grant(db, kr, "bob", "owner", 0), 0);
	ck_assert_int_eq(kt_unlock(db, "bob", BOB_PASS, strlen(BOB_PASS), &again), 0);
	ck_assert_uint_eq(kt_keyring_readable(again), 0xf);
	kt_keyring_free(again);
	kt_keyring_free(kr);

	ck_assert_uint_eq(count_records(KT_RECOVERY_NAME, "recover", 0), 1);
	ck_assert_uint_eq(count_records(KT_RECOVERY_NAME, "passwd-reset", 0), 1);
	ck_assert_uint_eq(count_records(KT_RECOVERY_NAME, "grant", 0), 1);
	/* the reset secret binds the administration key (§3 version 2) and every
	 * row recovery wrote is signed: no false alarm */
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &u), 0);
	ck_assert_int_eq(kt_user_secret_version(u.secret_sealed), KT_USER_SECRET_V2);
	ck_assert_uint_eq(count_records("alice", "unlock", -EBADMSG), 0);
	ck_assert_uint_eq(count_records("bob", "unlock", -EBADMSG), 0);
}
END_TEST

START_TEST(recover_with_more_than_threshold)
{
	struct kt_keyring *kr;

	ck_assert_int_eq(recover((const char *const *)paths, 5, NULL, &kr), 0);
	kt_keyring_free(kr);
	ck_assert_int_eq(recover((const char *const *)paths + 1, 4, NULL, &kr), 0);
	kt_keyring_free(kr);
}
END_TEST

START_TEST(recover_below_threshold_refused)
{
	const char *p[2] = {paths[1], paths[3]};
	struct kt_recovery_error e;
	struct kt_keyring *kr;

	ck_assert_int_eq(recover(p, 2, &e, &kr), -ENOKEY);
	ck_assert_ptr_null(kr);
	ck_assert_uint_eq(e.have, 2);
	ck_assert_uint_eq(e.need, 3);
	ck_assert_int_eq(recover(p, 0, &e, &kr), -ENOKEY);
	ck_assert_uint_eq(count_records(KT_RECOVERY_NAME, "recover", -ENOKEY), 2);
}
END_TEST

START_TEST(recover_corrupted_share_refused)
{
	const char *p[3] = {paths[0], paths[1], paths[2]};
	struct kt_recovery_error e;
	struct kt_keyring *kr;
	uint8_t buf[KT_SHARE_BYTES];

	/* every byte flipped in turn is caught */
	share_read(paths[1], buf);
	for (size_t i = 0; i < KT_SHARE_BYTES; i++) {
		buf[i] ^= 0x20;
		share_write(paths[1], buf, sizeof(buf));
		ck_assert_int_lt(recover(p, 3, &e, &kr), 0);
		ck_assert_ptr_null(kr);
		ck_assert_int_eq(e.share, 1);
		buf[i] ^= 0x20;
	}
	/* truncated, too long, empty */
	share_write(paths[1], buf, 100);
	ck_assert_int_eq(recover(p, 3, &e, &kr), -EBADMSG);
	share_write(paths[1], buf, sizeof(buf));
	{
		uint8_t longer[KT_SHARE_BYTES + 1] = {0};

		memcpy(longer, buf, sizeof(buf));
		share_write(paths[1], longer, sizeof(longer));
		ck_assert_int_eq(recover(p, 3, &e, &kr), -EBADMSG);
	}
	share_write(paths[1], buf, sizeof(buf));
	/* a symlink is not followed */
	{
		char link[4200];

		snprintf(link, sizeof(link), "%s/link", sharedir);
		ck_assert_int_eq(symlink(paths[1], link), 0);
		p[1] = link;
		ck_assert_int_eq(recover(p, 3, &e, &kr), -EBADMSG);
		p[1] = paths[1];
	}
	ck_assert_int_eq(recover(p, 3, &e, &kr), 0);
	kt_keyring_free(kr);
}
END_TEST

/* A forged share: a valid checksum over a wrong value. Combined, it is not
 * the recovery key: refused, never a wrong key. */
START_TEST(recover_forged_share_refused)
{
	const char *p[3] = {paths[0], paths[1], paths[2]};
	struct kt_recovery_error e;
	struct kt_keyring *kr;
	uint8_t buf[KT_SHARE_BYTES];

	share_read(paths[2], buf);
	buf[50] ^= 0x01; /* the share value */
	crypto_generichash(buf + 136, 32, buf, 136, NULL, 0);
	share_write(paths[2], buf, sizeof(buf));
	ck_assert_int_eq(recover(p, 3, &e, &kr), -EACCES);
	ck_assert_ptr_null(kr);
	ck_assert_uint_eq(count_records(KT_RECOVERY_NAME, "recover", -EACCES), 1);
}
END_TEST

START_TEST(recover_duplicate_share_refused)
{
	const char *p[3] = {paths[0], paths[1], paths[0]};
	struct kt_recovery_error e;
	struct kt_keyring *kr;
	char copy[4200];
	uint8_t buf[KT_SHARE_BYTES];

	ck_assert_int_eq(recover(p, 3, &e, &kr), -EEXIST);
	ck_assert_int_eq(e.share, 2);
	/* a copy of a share under another name is the same share */
	share_read(paths[1], buf);
	snprintf(copy, sizeof(copy), "%s/copy", sharedir);
	share_write(copy, buf, sizeof(buf));
	p[2] = copy;
	ck_assert_int_eq(recover(p, 3, &e, &kr), -EEXIST);
}
END_TEST

START_TEST(recover_foreign_and_old_shares_refused)
{
	char other[4200], odir[4200];
	struct meta_db *db2 = NULL;
	struct kt_keyring *a2 = NULL, *kr;
	struct kt_recovery_error e;
	char **p2 = NULL, **p3 = NULL;
	const char *p[3];

	/* another vault's share */
	snprintf(other, sizeof(other), "%s/other", dir);
	snprintf(odir, sizeof(odir), "%s/other-shares", dir);
	ck_assert_int_eq(mkdir(odir, 0700), 0);
	make_vault(other, &db2, &a2);
	ck_assert_int_eq(do_setup(db2, a2, odir, &p2), 0);
	p[0] = paths[0];
	p[1] = p2[1];
	p[2] = paths[2];
	ck_assert_int_eq(recover(p, 3, &e, &kr), -EXDEV);
	ck_assert_int_eq(e.share, 1);

	/* a new setup here: the earlier shares are refused, the new ones work */
	tu_rmrf(odir);
	ck_assert_int_eq(mkdir(odir, 0700), 0);
	ck_assert_int_eq(do_setup(db, alice, odir, &p3), 0);
	ck_assert_int_eq(recover((const char *const *)paths, 3, &e, &kr), -ESTALE);
	ck_assert_int_eq(e.share, 0);
	ck_assert_int_eq(recover((const char *const *)p3 + 2, 3, &e, &kr), 0);
	kt_keyring_free(kr);
	kt_strv_free(p2, 5);
	kt_strv_free(p3, 5);
	kt_keyring_free(a2);
	meta_db_close(db2);
}
END_TEST

/* Rotating the admin role seals it to the recovery key again. */
START_TEST(recovery_follows_admin_rotation)
{
	struct kt_keyring *kr, *lena = NULL;
	struct kt_recovery_info info;

	ck_assert_int_eq(kt_user_add(db, alice, "lena", -1, LENA_PASS, strlen(LENA_PASS)), 0);
	ck_assert_int_eq(kt_grant(db, alice, "lena", "admin", 0), 0);
	ck_assert_int_eq(kt_revoke(db, alice, "lena", "admin"), 0);
	ck_assert_int_eq(kt_rotation_run(db, alice, NULL, NULL), 0);
	ck_assert_int_eq(kt_recovery_info(db, &info), 0);
	ck_assert_uint_eq(info.admin_role_version, 2);
	ck_assert_int_eq(recover((const char *const *)paths, 3, NULL, &kr), 0);
	/* and the recovered administrator can act on the rotated vault */
	ck_assert_int_eq(kt_grant(db, kr, "lena", "member", 0), 0);
	ck_assert_int_eq(kt_unlock(db, "lena", LENA_PASS, strlen(LENA_PASS), &lena), 0);
	ck_assert_uint_eq(kt_keyring_readable(lena), 0x3);
	kt_keyring_free(lena);
	/* other rotations leave the admin role key alone: the keyring goes on */
	ck_assert_int_eq(kt_revoke(db, alice, "lena", "member"), 0);
	ck_assert_int_eq(kt_grant(db, kr, "bob", "member", 0), 0);
	/* a recovery keyring held across a rotation of the admin role is refused */
	ck_assert_int_eq(kt_grant(db, alice, "lena", "admin", 0), 0);
	ck_assert_int_eq(kt_revoke(db, alice, "lena", "admin"), 0);
	ck_assert_int_eq(kt_grant(db, kr, "bob", "owner", 0), -EACCES);
	kt_keyring_free(kr);
	ck_assert_int_eq(recover((const char *const *)paths, 3, NULL, &kr), 0);
	ck_assert_int_eq(kt_grant(db, kr, "bob", "owner", 0), 0);
	kt_keyring_free(kr);
	ck_assert_int_eq(kt_rotation_run(db, alice, NULL, NULL), 0);
}
END_TEST

START_TEST(no_setup)
{
	char other[4200];
	struct meta_db *db2 = NULL;
	struct kt_keyring *a2 = NULL, *kr = NULL;

	snprintf(other, sizeof(other), "%s/other", dir);
	make_vault(other, &db2, &a2);
	ck_assert_int_eq(kt_recovery_unlock(db2, (const char *const *)paths, 3, NULL, &kr),
			 -ENOENT);
	ck_assert_ptr_null(kr);
	kt_keyring_free(a2);
	meta_db_close(db2);
}
END_TEST

START_TEST(reset_refuses)
{
	struct kt_keyring *kr, *bob = NULL;

	ck_assert_int_eq(recover((const char *const *)paths, 3, NULL, &kr), 0);
	ck_assert_int_eq(kt_user_reset(db, kr, "nobody", "x", 1), -ENOENT);
	ck_assert_int_eq(kt_user_reset(db, kr, "bob", "", 0), -EINVAL);
	ck_assert_int_eq(kt_user_remove(db, alice, "bob"), 0);
	ck_assert_int_eq(kt_user_reset(db, kr, "bob", "x", 1), -EPERM);
	ck_assert_int_eq(kt_unlock(db, "alice", ALICE_PASS, strlen(ALICE_PASS), &bob), 0);
	kt_keyring_free(bob);
	bob = NULL;
	ck_assert_int_eq(kt_unlock(db, "bob", BOB_PASS, strlen(BOB_PASS), &bob), -EACCES);
	kt_keyring_free(kr);
}
END_TEST

static Suite *recovery_suite(void)
{
	Suite *s = suite_create("recovery");
	TCase *tc = tcase_create("recovery");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, setup_writes_share_files);
	tcase_add_test(tc, setup_refuses);
	tcase_add_test(tc, recover_with_threshold_resets_passphrase);
	tcase_add_test(tc, recover_with_more_than_threshold);
	tcase_add_test(tc, recover_below_threshold_refused);
	tcase_add_test(tc, recover_corrupted_share_refused);
	tcase_add_test(tc, recover_forged_share_refused);
	tcase_add_test(tc, recover_duplicate_share_refused);
	tcase_add_test(tc, recover_foreign_and_old_shares_refused);
	tcase_add_test(tc, recovery_follows_admin_rotation);
	tcase_add_test(tc, no_setup);
	tcase_add_test(tc, reset_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(recovery_suite());
}
