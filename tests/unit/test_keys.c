/*
 * tests/unit/test_keys.c — the daemon's key refresh (vfs_keys_maintain):
 * after a revocation or the removal of a user under a running mount, every
 * unlocked session is brought to the vault's key epoch, however many there
 * are, and the sessions that lost keys are recorded ("keys-refresh") or
 * locked ("lock"). Issue 10, item 2: only the 256 most recently unlocked
 * sessions were refreshed, so a user who unlocked before 256 others kept the
 * keys a revocation took away.
 *
 * A daemon's state without FUSE: struct vfs with its database, sessions,
 * inode table and name cache (no kernel session); a vault made with the
 * test KDF so that a few hundred users unlock in seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/keystore.h"
#include "keytool/rotation.h"
#include "vaultfs/ops.h"
#include "meta/records.h"
#include "tests/unit/testutil.h"

#define PASS	 "keys-test-passphrase"
#define USERS	 300   /* more than the 256 that were refreshed */
#define UID_BASE 50000 /* uid of user i: UID_BASE + i */

static char *dir;
static struct meta_db *db;
static struct kt_keyring *admin;
static struct vfs v;

static void user_name(int i, char name[16])
{
	snprintf(name, 16, "u%03d", i);
}

static void setup(void)
{
	struct kt_init_options opt = {
	    .admin = "admin",
	    .passphrase = PASS,
	    .passphrase_len = strlen(PASS),
	    .kdf = KT_KDF_TEST,
	    .admin_uid = -1,
	};

	ck_assert_int_eq(kt_crypto_init(), 0);
	dir = tu_tmpdir();
	ck_assert_int_eq(kt_vault_init(dir, &opt), 0);
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db), 0);
	ck_assert_int_eq(kt_unlock(db, "admin", PASS, strlen(PASS), &admin), 0);

	v = (struct vfs){.vault_dir = dir, .db = db, .multi_user = true};
	pthread_mutex_init(&v.db_lock, NULL);
	pthread_mutex_init(&v.keys_lock, NULL);
	v.sessions = vfs_sessions_new(NULL);
	v.itable = vfs_itable_new();
	v.dcache = vfs_dcache_new(VFS_DCACHE_MAX);
	ck_assert_ptr_nonnull(v.sessions);
	ck_assert_ptr_nonnull(v.itable);
	ck_assert_ptr_nonnull(v.dcache);
}

static void teardown(void)
{
	v.sessions = vfs_sessions_free(v.sessions);
	v.itable = vfs_itable_free(v.itable);
	v.dcache = vfs_dcache_free(v.dcache);
	pthread_mutex_destroy(&v.db_lock);
	pthread_mutex_destroy(&v.keys_lock);
	kt_keyring_free(admin);
	meta_db_close(db);
	tu_rmrf(dir);
	free(dir);
}

/* USERS members (levels 0,1), each unlocked into its own uid's session in
 * order: u000 first, so it is the one unlocked longest ago. */
static void unlock_users(void)
{
	for (int i = 0; i < USERS; i++) {
		char name[16];

		user_name(i, name);
		ck_assert_int_eq(kt_user_add(db, admin, name, UID_BASE + i, PASS, strlen(PASS)), 0);
		ck_assert_int_eq(kt_grant(db, admin, name, "member", 0), 0);
	}
	for (int i = 0; i < USERS; i++) {
		struct kt_keyring *kr = NULL;
		char name[16];

		user_name(i, name);
		ck_assert_int_eq(kt_unlock(db, name, PASS, strlen(PASS), &kr), 0);
		ck_assert_uint_eq(kt_keyring_readable(kr), 0x3);
		ck_assert_int_eq(vfs_session_unlock(v.sessions, (uid_t)(UID_BASE + i), name, kr),
				 0);
	}
}

/* The records of op for user (op and user exact). */
static size_t count_records(const char *op, const char *user, const char *detail_part)
{
	struct meta_log_filter f = {.op = op, .user = user, .level = -1};
	struct meta_record *recs = NULL;
	size_t n = 0, found = 0;

	ck_assert_int_eq(meta_log_query(db, &f, &recs, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (!detail_part || strstr(recs[i].detail, detail_part))
			found++;
		meta_record_clear(&recs[i]);
	}
	free(recs);
	return found;
}

START_TEST(revoke_reaches_earliest_session)
{
	int64_t epoch = 0;
	struct vfs_session *s;

	unlock_users();
	vfs_keys_maintain(&v); /* nothing changed since the unlocks: nobody loses a level */
	ck_assert_uint_eq(count_records("keys-refresh", NULL, NULL), 0);

	ck_assert_int_eq(kt_revoke(db, admin, "u000", "member"), 0);
	vfs_keys_maintain(&v);

	/* the earliest session: no level, no metadata key, and the record says so */
	s = vfs_session_get(v.sessions, UID_BASE);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->readable, 0);
	ck_assert_uint_eq(s->writable, 0);
	ck_assert_ptr_null(s->meta_keys);
	ck_assert_uint_eq(kt_keyring_readable(s->keyring), 0);
	vfs_session_put(v.sessions, s);
	ck_assert_uint_eq(count_records("keys-refresh", "u000", "0x3 -> 0x0"), 1);

	/* everyone else is at the new epoch (new level key versions) and keeps
	 * levels 0 and 1, unrecorded: nothing of theirs changed */
	ck_assert_int_eq(kt_key_epoch(db, &epoch), 0);
	for (int i = 1; i < USERS; i++) {
		s = vfs_session_get(v.sessions, (uid_t)(UID_BASE + i));
		ck_assert_ptr_nonnull(s->keyring);
		ck_assert_int_eq(kt_keyring_epoch(s->keyring), epoch);
		ck_assert_uint_eq(s->readable, 0x3);
		vfs_session_put(v.sessions, s);
	}
	ck_assert_uint_eq(count_records("keys-refresh", NULL, NULL), 1);
}
END_TEST

START_TEST(removed_user_locked_however_early)
{
	struct vfs_session *s;

	unlock_users();
	ck_assert_int_eq(kt_user_remove(db, admin, "u000"), 0);
	vfs_keys_maintain(&v);
	s = vfs_session_get(v.sessions, UID_BASE);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(s->keyring); /* locked: keys wiped */
	ck_assert_str_eq(s->user, "u000");
	vfs_session_put(v.sessions, s);
	ck_assert_uint_eq(count_records("lock", "u000", "revoked"), 1);
	s = vfs_session_get(v.sessions, UID_BASE + 1);
	ck_assert_ptr_nonnull(s->keyring);
	ck_assert_uint_eq(s->readable, 0x3);
	vfs_session_put(v.sessions, s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("maintain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, revoke_reaches_earliest_session);
	tcase_add_test(tc, removed_user_locked_however_early);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
