/*
 * tests/unit/test_rotation.c — keytool/rotation.c: revocation with rotation,
 * user removal, expiry, re-wrapping, destroying old versions, keyring
 * refresh, and re-encryption, over a real vault.db in a temporary directory.
 *
 * Files are made as the daemon makes them (a node with a random object id
 * and a file key wrapped under the current key of its level; blobs through
 * keytool/chunk.c where content matters), no mount needed. Each test
 * remembers every file key it made and checks, at the end, that every file
 * still unwraps to it for the members who keep the role.
 *
 * The insider test copies vault.db while a member still holds the role,
 * revokes them, and checks that nothing reachable from the copy with their
 * passphrase opens a file key made after the revocation.
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

#include "keytool/census.h"
#include "keytool/chunk.h"
#include "keytool/content.h"
#include "keytool/keystore.h"
#include "keytool/rotation.h"
#include "keytool/store.h"
#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/roles.h"
#include "meta/rotations.h"
#include "meta/users.h"
#include "meta/records.h"
#include "meta/ns.h"
#include "tests/unit/testutil.h"

#define ALICE_PASS "alice's long passphrase"
#define BOB_PASS   "bob's passphrase"
#define CAROL_PASS "carol's passphrase"
#define DAVE_PASS  "dave's passphrase"
#define LENA_PASS  "lena's passphrase"
#define SEC	   1000000000LL
#define MAX_FILES  2000

static char *dir;
static struct meta_db *db;
static struct kt_keyring *alice;

/* Every file made by a test, with its plaintext file key. */
static struct file {
	uint64_t ino;
	uint8_t level;
	uint8_t key[KT_KEY_BYTES];
} * files;
static size_t n_files;

static struct kt_keyring *unlock(struct meta_db *d, const char *user, const char *pass)
{
	struct kt_keyring *kr = NULL;

	ck_assert_int_eq(kt_unlock(d, user, pass, strlen(pass), &kr), 0);
	return kr;
}

static void add_user(const char *name, const char *pass)
{
	ck_assert_int_eq(kt_user_add(db, alice, name, -1, pass, strlen(pass)), 0);
}

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
	alice = unlock(db, "alice", ALICE_PASS);
	add_user("bob", BOB_PASS);
	add_user("carol", CAROL_PASS);
	ck_assert_int_eq(kt_role_add(db, alice, "hr", 0x7, 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "hr", 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "carol", "hr", 0), 0);
	files = sodium_allocarray(MAX_FILES, sizeof(*files));
	ck_assert_ptr_nonnull(files);
	n_files = 0;
}

static void teardown(void)
{
	alice = kt_keyring_free(alice);
	db = meta_db_close(db);
	sodium_free(files);
	files = NULL;
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
}

/* A regular file of level made by kr (as the daemon would): node + wrapped key. */
static uint64_t make_file(struct meta_db *d, const struct kt_keyring *kr, uint8_t level)
{
	struct meta_node n;
	const uint8_t *lk;
	uint32_t version;
	struct file *f;

	ck_assert_uint_lt(n_files, MAX_FILES);
	f = &files[n_files++];
	memset(&n, 0, sizeof(n));
	n.mode = S_IFREG | 0640;
	n.nlink = 1;
	n.atime_ns = n.mtime_ns = n.ctime_ns = meta_now_ns();
	n.level = level;
	n.has_object = true;
	kt_random(n.object_id, sizeof(n.object_id));
	kt_random(f->key, sizeof(f->key));
	ck_assert_int_eq(kt_keyring_level_current(kr, level, &version, &lk), 0);
	ck_assert_int_eq(kt_file_key_wrap(lk, level, version, n.object_id, f->key, n.file_key), 0);
	ck_assert_int_eq(meta_node_insert(d, &n), 0);
	f->ino = n.ino;
	f->level = level;
	return n.ino;
}

/* Unwrap file f with kr's level keys: 0 and the right key, or the error. */
static int open_file(struct meta_db *d, const struct kt_keyring *kr, const struct file *f)
{
	struct meta_node n;
	uint8_t key[KT_KEY_BYTES];
	const uint8_t *lk;
	uint32_t version;
	uint8_t level;
	int r;

	ck_assert_int_eq(meta_node_get(d, f->ino, &n), 0);
	ck_assert_int_eq(kt_file_key_info(n.file_key, &level, &version), 0);
	ck_assert_uint_eq(level, f->level);
	r = kt_keyring_level_key(kr, level, version, &lk);
	if (r == 0)
		r = kt_file_key_unwrap(lk, n.object_id, n.file_key, key);
	if (r == 0)
		ck_assert_int_eq(sodium_memcmp(key, f->key, KT_KEY_BYTES), 0);
	meta_node_clear(&n);
	return r;
}

static void all_files_open(struct meta_db *d, const struct kt_keyring *kr)
{
	for (size_t i = 0; i < n_files; i++)
		ck_assert_int_eq(open_file(d, kr, &files[i]), 0);
}

/* Files whose wrapped key is under (level, version). */
static uint64_t files_under(uint8_t level, uint32_t version)
{
	uint8_t prefix[KT_WRAPPED_PREFIX_BYTES];
	uint64_t n = 0;

	ck_assert_int_eq(kt_file_key_prefix(level, version, prefix), 0);
	ck_assert_int_eq(meta_file_key_count(db, prefix, sizeof(prefix), 0, &n), 0);
	return n;
}

static uint32_t level_version(uint8_t level)
{
	struct meta_key_version v;

	ck_assert_int_eq(meta_key_version_current(db, META_KEY_LEVEL, level, &v), 0);
	return v.version;
}

static uint32_t role_version(const char *name)
{
	struct meta_role r;

	ck_assert_int_eq(meta_role_get_by_name(db, name, &r), 0);
	return r.key_version;
}

/* Number of seals of (level, version), custody included. */
static size_t seals_of(uint8_t level, uint32_t version)
{
	struct meta_key_seal *s = NULL;
	size_t n = 0, hits = 0;

	ck_assert_int_eq(meta_key_seal_list_all(db, &s, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (s[i].kind == META_KEY_LEVEL && s[i].id == level && s[i].version == version)
			hits++;
	free(s);
	return hits;
}

static size_t count_records(const char *op, int outcome)
{
	struct meta_log_filter f = {.op = op, .level = -1};
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

static int64_t epoch(void)
{
	int64_t e;

	ck_assert_int_eq(kt_key_epoch(db, &e), 0);
	return e;
}

static struct kt_rotation_result run_all(struct kt_keyring *kr)
{
	struct kt_rotation_result res = {0};

	ck_assert_int_eq(kt_rotation_run(db, kr, NULL, &res), 0);
	return res;
}

/* ---- revocation --------------------------------------------------------- */

START_TEST(revoke_rotates_and_rewraps)
{
	struct kt_keyring *bob, *carol;
	struct kt_rotation_result res;
	int64_t e0 = epoch();
	size_t pending;

	bob = unlock(db, "bob", BOB_PASS);
	for (int i = 0; i < 30; i++)
		make_file(db, bob, (uint8_t)(i % 4 == 3 ? 0 : i % 3));
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "hr"), 0);

	/* at once: new versions, the epoch moved, the grant is gone */
	ck_assert_uint_eq(role_version("hr"), 2);
	for (uint8_t l = 0; l < 3; l++)
		ck_assert_uint_eq(level_version(l), 2);
	ck_assert_uint_eq(level_version(3), 1); /* hr does not hold level 3 */
	ck_assert_int_gt(epoch(), e0);
	ck_assert_int_eq(kt_rotation_pending(db, &pending), 0);
	ck_assert_uint_eq(pending, 1);

	/* everyone who keeps the role reads every file, old version or new */
	carol = unlock(db, "carol", CAROL_PASS);
	all_files_open(db, carol);
	/* new writes use the new versions */
	{
		const uint8_t *k;
		uint32_t v;

		ck_assert_int_eq(kt_keyring_level_current(carol, 2, &v, &k), 0);
		ck_assert_uint_eq(v, 2);
	}

	/* the revoked member's keyring, refreshed, holds nothing of hr */
	ck_assert_int_eq(kt_keyring_refresh(db, bob), 0);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0);
	ck_assert_ptr_null(kt_keyring_meta(bob));
	kt_keyring_free(bob);
	bob = unlock(db, "bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0);
	kt_keyring_free(bob);

	res = run_all(alice);
	ck_assert_uint_eq(res.rotations, 1);
	ck_assert_uint_eq(res.files, 30);
	ck_assert_uint_eq(res.destroyed, 3);
	for (uint8_t l = 0; l < 3; l++) {
		ck_assert_uint_eq(files_under(l, 1), 0);
		ck_assert_uint_eq(seals_of(l, 1), 0); /* destroyed, custody too */
	}
	ck_assert_uint_eq(seals_of(3, 1), 2); /* owner and admin: untouched */
	ck_assert_int_eq(kt_rotation_pending(db, &pending), 0);
	ck_assert_uint_eq(pending, 0);

	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	all_files_open(db, carol);
	{
		const uint8_t *k;

		ck_assert_int_eq(kt_keyring_level_key(carol, 2, 1, &k), -ENOKEY);
	}
	kt_keyring_free(carol);
	ck_assert_uint_eq(count_records("revoke", 0), 1);
	ck_assert_uint_eq(count_records("key-new", 0), 3);
	ck_assert_uint_eq(count_records("role-key-new", 0), 1);
	ck_assert_uint_eq(count_records("key-destroy", 0), 3);
	ck_assert_uint_ge(count_records("rotate", 0), 2);
}
END_TEST

START_TEST(insider_copy_cannot_open_later_files)
{
	char src[4200], dst[4200], copydir[4096];
	struct kt_keyring *bob_copy, *carol;
	struct meta_db *copy = NULL;
	const uint8_t *k;
	size_t before;
	FILE *in, *out;
	int c;

	/* bob's whole view of the vault while he holds hr: vault.db and his passphrase */
	db = meta_db_close(db); /* checkpoints the WAL into vault.db */
	snprintf(src, sizeof(src), "%s/" META_DB_NAME, dir);
	snprintf(copydir, sizeof(copydir), "%s/copy", dir);
	ck_assert_int_eq(mkdir(copydir, 0700), 0);
	snprintf(dst, sizeof(dst), "%s/objects", copydir);
	ck_assert_int_eq(mkdir(dst, 0700), 0);
	snprintf(dst, sizeof(dst), "%s/" META_DB_NAME, copydir);
	in = fopen(src, "rb");
	out = fopen(dst, "wb");
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	while ((c = getc(in)) != EOF)
		putc(c, out);
	fclose(in);
	fclose(out);
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db), 0);

	ck_assert_int_eq(kt_revoke(db, alice, "bob", "hr"), 0);
	run_all(alice);

	/* files made after the revocation, by a member who keeps the role */
	carol = unlock(db, "carol", CAROL_PASS);
	before = n_files;
	for (int i = 0; i < 12; i++)
		make_file(db, carol, (uint8_t)(i % 3));

	/* everything bob can reach from the copy: the old versions of levels 0-2 */
	ck_assert_int_eq(meta_db_open(copydir, META_OPEN_RW, &copy), 0);
	bob_copy = unlock(copy, "bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob_copy), 0x7);
	for (size_t i = before; i < n_files; i++) {
		struct meta_node n;
		uint8_t key[KT_KEY_BYTES];
		uint32_t version;
		uint8_t level;

		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		ck_assert_int_eq(kt_file_key_info(n.file_key, &level, &version), 0);
		ck_assert_uint_eq(version, 2);
		ck_assert_int_eq(kt_keyring_level_key(bob_copy, level, version, &k), -ENOKEY);
		/* every key he holds, whatever the header says: none opens it */
		for (uint8_t l = 0; l < META_LEVELS; l++) {
			if (kt_keyring_level_key(bob_copy, l, 1, &k) < 0)
				continue;
			ck_assert_int_eq(kt_file_key_unwrap(k, n.object_id, n.file_key, key),
					 -EBADMSG);
		}
		meta_node_clear(&n);
	}
	/* and in the live vault his passphrase unlocks nothing of hr */
	kt_keyring_free(bob_copy);
	bob_copy = unlock(db, "bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob_copy), 0);
	kt_keyring_free(bob_copy);
	copy = meta_db_close(copy);

	/* while carol reads everything */
	all_files_open(db, carol);
	kt_keyring_free(carol);
}
END_TEST

START_TEST(revoke_admin_rotates_everything)
{
	struct kt_keyring *lena, *lena_before, *carol;
	const uint8_t *k;

	add_user("lena", LENA_PASS);
	ck_assert_int_eq(kt_grant(db, alice, "lena", "admin", 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "carol", "owner", 0), 0);
	carol = unlock(db, "carol", CAROL_PASS);
	for (uint8_t l = 0; l < META_LEVELS; l++)
		make_file(db, carol, l);
	lena_before = unlock(db, "lena", LENA_PASS);
	ck_assert_int_eq(kt_keyring_custody_key(lena_before, 3, 1, &k), 0);

	ck_assert_int_eq(kt_revoke(db, alice, "lena", "admin"), 0);
	/* the admin role held everything in custody: everything rotates */
	ck_assert_uint_eq(role_version("admin"), 2);
	ck_assert_uint_eq(role_version("owner"), 2);
	ck_assert_uint_eq(role_version("auditor"), 2);
	for (uint8_t l = 0; l < META_LEVELS; l++)
		ck_assert_uint_eq(level_version(l), 2);
	/* alice's keyring followed (refreshed), and she still administers */
	ck_assert_int_eq(kt_keyring_custody_key(alice, 3, 2, &k), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	run_all(alice);

	/* lena's old custody opens none of the file keys, old files re-wrapped or new */
	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	for (uint8_t l = 0; l < META_LEVELS; l++)
		make_file(db, carol, l);
	lena = unlock(db, "lena", LENA_PASS);
	ck_assert_uint_eq(kt_keyring_flags(lena) & META_ROLE_ADMIN, 0);
	ck_assert_int_eq(kt_grant(db, lena, "bob", "owner", 0), -EACCES);
	kt_keyring_free(lena);
	for (size_t i = 0; i < n_files; i++) {
		struct meta_node n;
		uint8_t key[KT_KEY_BYTES];

		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		ck_assert_int_eq(kt_keyring_custody_key(lena_before, files[i].level, 1, &k), 0);
		ck_assert_int_eq(kt_file_key_unwrap(k, n.object_id, n.file_key, key), -EBADMSG);
		meta_node_clear(&n);
	}
	kt_keyring_free(lena_before);
	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	all_files_open(db, carol);
	kt_keyring_free(carol);
}
END_TEST

START_TEST(last_admin_and_unknown)
{
	ck_assert_int_eq(kt_revoke(db, alice, "alice", "admin"), -EPERM);
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "owner"), -ENOENT);
	ck_assert_int_eq(kt_revoke(db, alice, "nobody", "hr"), -ENOENT);
	ck_assert_int_eq(kt_user_remove(db, alice, "alice"), -EPERM);
	ck_assert_uint_eq(role_version("admin"), 1);
	ck_assert_uint_eq(role_version("hr"), 1);
}
END_TEST

START_TEST(non_admin_cannot_rotate)
{
	struct kt_keyring *bob = unlock(db, "bob", BOB_PASS);

	ck_assert_int_eq(kt_revoke(db, bob, "carol", "hr"), -EACCES);
	ck_assert_int_eq(kt_rotate_levels(db, bob, 0x4, "test"), -EACCES);
	ck_assert_int_eq(kt_rotation_run(db, bob, NULL, NULL), 0); /* nothing running */
	ck_assert_int_eq(kt_rotate_levels(db, alice, 0x4, "test"), 0);
	ck_assert_int_eq(kt_rotation_run(db, bob, NULL, NULL), -EACCES);
	ck_assert_uint_eq(count_records("revoke", -EACCES), 1);
	kt_keyring_free(bob);
	run_all(alice);
}
END_TEST

/* ---- interruption ------------------------------------------------------ */

START_TEST(kill_mid_rotation_then_resume)
{
	struct kt_rotation_options o = {.batch = 100, .max_batches = 3};
	struct kt_rotation_result res = {0};
	struct kt_keyring *carol;
	struct meta_rotation *rots = NULL;
	size_t n = 0;

	carol = unlock(db, "carol", CAROL_PASS);
	for (int i = 0; i < 1200; i++)
		make_file(db, carol, 2);
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "hr"), 0);
	ck_assert_int_eq(kt_rotation_run(db, alice, &o, &res), -EINTR);
	ck_assert_uint_eq(res.files, 300);
	ck_assert_uint_eq(files_under(2, 1), 900);
	ck_assert_uint_eq(files_under(2, 2), 300);
	ck_assert_int_eq(meta_rotation_list(db, true, &rots, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(rots[0].done_count, 300);
	ck_assert_uint_eq(rots[0].total, 1200);
	ck_assert_uint_gt(rots[0].cursor, 0);
	free(rots);

	/* "kill -9": everything in memory is gone; every file still opens */
	kt_keyring_free(carol);
	alice = kt_keyring_free(alice);
	db = meta_db_close(db);
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db), 0);
	carol = unlock(db, "carol", CAROL_PASS);
	all_files_open(db, carol);

	/* stopped again, once more, then run to the end */
	alice = unlock(db, "alice", ALICE_PASS);
	o.max_batches = 2;
	ck_assert_int_eq(kt_rotation_run(db, alice, &o, NULL), -EINTR);
	ck_assert_uint_eq(files_under(2, 1), 700);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(kt_rotation_run(db, alice, NULL, &res), 0);
	ck_assert_uint_eq(res.files, 700);
	ck_assert_uint_eq(files_under(2, 1), 0);
	ck_assert_uint_eq(files_under(2, 2), 1200);
	ck_assert_uint_eq(seals_of(2, 1), 0);
	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	all_files_open(db, carol);
	kt_keyring_free(carol);
}
END_TEST

/* A stale write (a daemon writing back a key it read before the re-wrap)
 * between two batches: the final step finds it, re-wraps it, destroys. */
START_TEST(stale_write_caught_at_finish)
{
	struct kt_rotation_options o = {.batch = 10, .max_batches = 1};
	struct kt_keyring *carol = unlock(db, "carol", CAROL_PASS);
	struct meta_node before, now;

	for (int i = 0; i < 25; i++)
		make_file(db, carol, 1);
	ck_assert_int_eq(meta_node_get(db, files[0].ino, &before), 0);
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "hr"), 0);
	ck_assert_int_eq(kt_rotation_run(db, alice, &o, NULL), -EINTR);
	ck_assert_int_eq(meta_node_get(db, files[0].ino, &now), 0);
	ck_assert_int_ne(memcmp(before.file_key, now.file_key, KT_WRAPPED_KEY_BYTES), 0);
	ck_assert_int_eq(meta_node_update(db, &before), 0); /* the stale write */
	ck_assert_int_eq(kt_rotation_run(db, alice, NULL, NULL), 0);
	ck_assert_uint_eq(files_under(1, 1), 0);
	ck_assert_uint_eq(seals_of(1, 1), 0);
	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	all_files_open(db, carol);
	meta_node_clear(&before);
	meta_node_clear(&now);
	kt_keyring_free(carol);
}
END_TEST

/* A file key that does not open is recorded, its version kept, the rest done. */
START_TEST(damaged_file_key_keeps_version)
{
	struct kt_keyring *carol = unlock(db, "carol", CAROL_PASS);
	struct kt_rotation_result res = {0};
	struct meta_node n;
	size_t pending = 0;

	for (int i = 0; i < 8; i++)
		make_file(db, carol, 2);
	ck_assert_int_eq(meta_node_get(db, files[3].ino, &n), 0);
	n.file_key[40] ^= 0x01;
	ck_assert_int_eq(meta_node_update(db, &n), 0);
	meta_node_clear(&n);
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "hr"), 0);
	ck_assert_int_eq(kt_rotation_run(db, alice, NULL, &res), -EBADMSG);
	ck_assert_uint_eq(res.failed, 1);
	ck_assert_uint_eq(files_under(2, 1), 1);
	ck_assert_uint_gt(seals_of(2, 1), 0); /* kept: that file still needs it */
	ck_assert_uint_eq(seals_of(1, 1), 0); /* the other levels are done */
	ck_assert_int_eq(kt_rotation_pending(db, &pending), 0);
	ck_assert_uint_eq(pending, 1);
	ck_assert_uint_ge(count_records("rotate", -EBADMSG), 2);
	/* again: the same answer, nothing lost */
	ck_assert_int_eq(kt_rotation_run(db, alice, NULL, NULL), -EBADMSG);
	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	for (size_t i = 0; i < n_files; i++)
		if (i != 3)
			ck_assert_int_eq(open_file(db, carol, &files[i]), 0);
	kt_keyring_free(carol);
}
END_TEST

/* ---- refresh and the epoch --------------------------------------------- */

START_TEST(refresh_follows_grants)
{
	struct kt_keyring *carol = unlock(db, "carol", CAROL_PASS);
	const struct kt_meta_keys *meta = kt_keyring_meta(carol);
	int64_t e = kt_keyring_epoch(carol);

	ck_assert_uint_eq(kt_keyring_readable(carol), 0x7);
	ck_assert_int_eq(kt_grant(db, alice, "carol", "owner", 0), 0);
	ck_assert_int_gt(epoch(), e);
	ck_assert_int_eq(kt_keyring_sync(db, carol), 1);
	ck_assert_int_eq(kt_keyring_sync(db, carol), 0);
	ck_assert_uint_eq(kt_keyring_readable(carol), 0xf);
	ck_assert_int_eq(kt_keyring_epoch(carol), epoch());
	ck_assert_ptr_eq(kt_keyring_meta(carol), meta); /* same version: same pointer */

	/* removed: the keyring unlocks nothing more */
	ck_assert_int_eq(kt_user_remove(db, alice, "carol"), 0);
	ck_assert_int_eq(kt_keyring_refresh(db, carol), -EACCES);
	ck_assert_uint_eq(kt_keyring_readable(carol), 0);
	ck_assert_ptr_null(kt_keyring_meta(carol));
	ck_assert_int_eq(kt_keyring_refresh(db, carol), -EACCES);
	kt_keyring_free(carol);
	ck_assert_int_eq(kt_unlock(db, "carol", CAROL_PASS, strlen(CAROL_PASS), &carol), -EACCES);
	ck_assert_int_eq(kt_user_remove(db, alice, "carol"), -EALREADY);
	ck_assert_int_eq(kt_grant(db, alice, "carol", "member", 0), -EPERM);
	ck_assert_uint_eq(count_records("user-remove", 0), 1);
	run_all(alice);
}
END_TEST

/* A second administrator's process, on its own connection, after the first
 * one rotated the admin role: it refreshes itself and goes on. */
START_TEST(two_admins_two_connections)
{
	struct meta_db *db2 = NULL;
	struct kt_keyring *lena;
	struct kt_rotation_options o = {.batch = 5, .max_batches = 1};
	struct kt_keyring *carol = unlock(db, "carol", CAROL_PASS);
	int r1 = -EINTR, r2 = -EINTR;

	add_user("lena", LENA_PASS);
	add_user("dave", DAVE_PASS);
	ck_assert_int_eq(kt_grant(db, alice, "lena", "admin", 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "dave", "admin", 0), 0);
	for (int i = 0; i < 40; i++)
		make_file(db, carol, (uint8_t)(i % 3));
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db2), 0);
	lena = unlock(db2, "lena", LENA_PASS);
	ck_assert_int_eq(kt_revoke(db, alice, "dave", "admin"), 0);
	/* lena's keyring is behind: the library catches up by itself */
	ck_assert_int_eq(kt_grant(db2, lena, "bob", "owner", 0), 0);
	/* both run the rotation, batch by batch, interleaved */
	while (r1 == -EINTR || r2 == -EINTR) {
		if (r1 == -EINTR)
			r1 = kt_rotation_run(db, alice, &o, NULL);
		if (r2 == -EINTR)
			r2 = kt_rotation_run(db2, lena, &o, NULL);
	}
	ck_assert_int_eq(r1, 0);
	ck_assert_int_eq(r2, 0);
	for (uint8_t l = 0; l < META_LEVELS; l++)
		ck_assert_uint_eq(files_under(l, 1), 0);
	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	all_files_open(db, carol);
	kt_keyring_free(carol);
	kt_keyring_free(lena);
	meta_db_close(db2);
}
END_TEST

/* ---- expiry ------------------------------------------------------------ */

START_TEST(expiry_with_a_short_time)
{
	struct kt_keyring *dave, *carol;
	struct meta_grant *g = NULL;
	struct meta_user u;
	size_t expired = 0, n = 0;

	add_user("dave", DAVE_PASS);
	/* external requires an expiry */
	ck_assert_int_eq(kt_grant(db, alice, "dave", "external", 0), -EINVAL);
	ck_assert_int_eq(kt_grant(db, alice, "dave", "external", meta_now_ns() + SEC), 0);
	ck_assert_int_eq(kt_grant(db, alice, "dave", "hr", meta_now_ns() + SEC), 0);
	dave = unlock(db, "dave", DAVE_PASS);
	ck_assert_uint_eq(kt_keyring_readable(dave), 0x7);
	ck_assert_int_gt(kt_keyring_next_expiry(dave), meta_now_ns());
	carol = unlock(db, "carol", CAROL_PASS);
	make_file(db, carol, 0);
	make_file(db, carol, 2);

	/* nothing has expired yet: nothing changes, nothing recorded */
	ck_assert_int_eq(kt_expire(db, alice, meta_now_ns(), &expired), 0);
	ck_assert_uint_eq(expired, 0);
	ck_assert_uint_eq(role_version("external"), 1);

	usleep(1100 * 1000);
	/* after expiry nothing unlocks the role, before any rotation */
	ck_assert_int_eq(kt_keyring_refresh(db, dave), 0);
	ck_assert_uint_eq(kt_keyring_readable(dave), 0);
	kt_keyring_free(dave);
	dave = unlock(db, "dave", DAVE_PASS);
	ck_assert_uint_eq(kt_keyring_readable(dave), 0);
	kt_keyring_free(dave);

	ck_assert_int_eq(kt_expire(db, alice, meta_now_ns(), &expired), 0);
	ck_assert_uint_eq(expired, 2);
	ck_assert_int_eq(meta_user_get_by_name(db, "dave", &u), 0);
	ck_assert_int_eq(meta_grant_list_user(db, u.id, &g, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(g);
	ck_assert_uint_eq(role_version("external"), 2);
	ck_assert_uint_eq(role_version("hr"), 2);
	ck_assert_uint_eq(level_version(0), 2);
	ck_assert_uint_eq(level_version(2), 2);
	ck_assert_uint_eq(count_records("grant-expire", 0), 3); /* two grants and the summary */
	run_all(alice);
	ck_assert_int_eq(kt_keyring_refresh(db, carol), 0);
	all_files_open(db, carol);
	kt_keyring_free(carol);
}
END_TEST

/* ---- re-encryption ----------------------------------------------------- */

/* Content of file i (its size too depends on i). */
static size_t content_of(size_t i, uint8_t *buf, size_t max)
{
	size_t len = (i * 2777) % max;

	for (size_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 31 + k);
	return len;
}

/* The vault's content store (objects/). */
static struct kt_store *objects_open(void)
{
	struct kt_store *objects = NULL;

	ck_assert_int_eq(kt_store_open(dir, &objects), 0);
	return objects;
}

/* Files with real blobs. */
static void make_blob_files(struct kt_keyring *kr, size_t count)
{
	uint8_t buf[20000];
	struct kt_store *objects = objects_open();

	for (size_t i = 0; i < count; i++) {
		struct vfs_blob *b = NULL;
		struct meta_node n;
		size_t len = content_of(n_files, buf, sizeof(buf));
		int err = 0;

		make_file(db, kr, (uint8_t)(i % 3));
		ck_assert_int_eq(meta_node_get(db, files[n_files - 1].ino, &n), 0);
		ck_assert_int_eq(
		    vfs_blob_create(objects, n.object_id, files[n_files - 1].key, 0, &b), 0);
		ck_assert_int_eq(vfs_blob_write(b, buf, len, 0), (ssize_t)len);
		ck_assert_int_eq(vfs_blob_sync(b, 0), 0);
		n.write_counter = vfs_blob_counter(b); /* as the daemon's release */
		vfs_blob_close(b, &err);
		ck_assert_int_eq(err, 0);
		n.size = len;
		ck_assert_int_eq(meta_node_update(db, &n), 0);
		meta_node_clear(&n);
	}
	kt_store_close(objects);
}

/* Every file's content reads back through its (current) key, and its blob's
 * write counter is the one its node expects. */
static void all_content_reads(const struct kt_keyring *kr)
{
	uint8_t want[20000], got[20000];
	struct kt_store *objects = objects_open();

	for (size_t i = 0; i < n_files; i++) {
		struct vfs_blob *b = NULL;
		struct meta_node n;
		uint8_t key[KT_KEY_BYTES];
		const uint8_t *lk;
		uint32_t version;
		uint8_t level;
		size_t len = content_of(i, want, sizeof(want));

		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		ck_assert_int_eq(kt_file_key_info(n.file_key, &level, &version), 0);
		ck_assert_int_eq(kt_keyring_level_key(kr, level, version, &lk), 0);
		ck_assert_int_eq(kt_file_key_unwrap(lk, n.object_id, n.file_key, key), 0);
		ck_assert_int_eq(vfs_blob_open(objects, n.object_id, key, n.write_counter, &b), 0);
		ck_assert_uint_eq(vfs_blob_counter(b), n.write_counter);
		ck_assert_uint_eq(vfs_blob_size(b), len);
		ck_assert_int_eq(vfs_blob_read(b, got, sizeof(got), 0), (ssize_t)len);
		ck_assert_int_eq(memcmp(got, want, len), 0);
		vfs_blob_close(b, NULL);
		meta_node_clear(&n);
	}
	kt_store_close(objects);
}

/* Blobs in objects/. */
static size_t count_blobs(void)
{
	char cmd[4200];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "find '%s/objects' -type f | wc -l", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%zu", &n), 1);
	pclose(p);
	return n;
}

/*
 * Re-encryption carries the write counter over (the node expects the new
 * blob's, above the old one's), and a blob below its node's counter (an older
 * copy put back) is not copied: it is skipped and recorded, left as it was.
 */
START_TEST(reencrypt_counter_carried_and_rollback_skipped)
{
	struct kt_rotation_result res = {0};
	struct kt_content_store store;
	struct kt_content_ops ops;
	struct kt_keyring *carol = unlock(db, "carol", CAROL_PASS);
	uint64_t before[3];
	struct meta_node n;

	make_blob_files(carol, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		before[i] = n.write_counter;
		ck_assert_uint_eq(before[i], i == 0 ? 0 : 1); /* files[0] is empty */
		if (i == 1) {
			/* files[1]'s blob is now older than its node says */
			n.write_counter += 1;
			ck_assert_int_eq(meta_node_update(db, &n), 0);
		}
		meta_node_clear(&n);
	}
	ck_assert_int_eq(kt_content_open(dir, &store, &ops), 0);
	ck_assert_int_eq(kt_reencrypt_run(db, alice, 0, &ops, NULL, &res), -EBADMSG);
	ck_assert_uint_eq(res.files, 2);
	ck_assert_uint_eq(res.failed, 1);
	ck_assert_int_eq(meta_node_get(db, files[1].ino, &n), 0);
	ck_assert_uint_eq(n.write_counter, before[1] + 1); /* left as it was */
	meta_node_clear(&n);
	for (size_t i = 0; i < 3; i += 2) {
		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		/* one more for the copy's header, none for an empty file */
		ck_assert_uint_eq(n.write_counter, i == 0 ? 0 : before[i] + 1);
		meta_node_clear(&n);
	}
	kt_content_close(&store);
	kt_keyring_free(carol);
}
END_TEST

START_TEST(reencrypt_resumable)
{
	struct kt_rotation_options o = {.max_batches = 4};
	struct kt_rotation_result res = {0};
	struct kt_content_store store;
	struct kt_content_ops ops;
	struct kt_keyring *carol = unlock(db, "carol", CAROL_PASS);
	uint8_t old_ids[12][KT_OBJECT_ID_BYTES];
	make_blob_files(carol, 12);
	for (size_t i = 0; i < n_files; i++) {
		struct meta_node n;

		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		memcpy(old_ids[i], n.object_id, KT_OBJECT_ID_BYTES);
		meta_node_clear(&n);
	}
	ck_assert_int_eq(kt_content_open(dir, &store, &ops), 0);
	/* a file open in a running mount (the daemon's shared blob lock) is not
	 * replaced: the run waits for it, then stops with -EBUSY; resumable */
	{
		struct kt_rotation_options busy = {.busy_wait_ms = 300};
		struct kt_rotation_result r0 = {0};
		struct vfs_blob *held = NULL;
		uint8_t key[KT_KEY_BYTES];
		struct meta_node n;
		struct kt_store *objects = objects_open();

		ck_assert_int_eq(meta_node_get(db, files[0].ino, &n), 0);
		memcpy(key, files[0].key, sizeof(key));
		ck_assert_int_eq(vfs_blob_open(objects, n.object_id, key, 0, &held), 0);
		sodium_memzero(key, sizeof(key));
		meta_node_clear(&n);
		ck_assert_int_eq(kt_reencrypt_run(db, alice, 0, &ops, &busy, &r0), -EBUSY);
		ck_assert_uint_eq(r0.files, 0); /* files[0] is the first one */
		ck_assert_int_eq(meta_node_get(db, files[0].ino, &n), 0);
		ck_assert(memcmp(n.object_id, old_ids[0], KT_OBJECT_ID_BYTES) == 0);
		meta_node_clear(&n);
		vfs_blob_close(held, NULL);
		kt_store_close(objects);
	}

	ck_assert_int_eq(kt_reencrypt_run(db, alice, 0, &ops, &o, &res), -EINTR);
	ck_assert_uint_eq(res.files, 4);
	ck_assert_uint_eq(count_blobs(), 12);
	all_content_reads(carol);
	/* "killed" after copying a blob, before the swap: the copy is pending */
	{
		struct meta_rotation *rots = NULL;
		size_t n = 0;
		struct kt_store *objects = objects_open();
		struct vfs_blob *b = NULL;
		uint8_t key[KT_KEY_BYTES];

		ck_assert_int_eq(meta_rotation_list(db, true, &rots, &n), 0);
		ck_assert_uint_eq(n, 1);
		kt_random(rots[0].pending_object, KT_OBJECT_ID_BYTES);
		kt_random(key, sizeof(key));
		rots[0].has_pending = true;
		ck_assert_int_eq(vfs_blob_create(objects, rots[0].pending_object, key, 0, &b), 0);
		vfs_blob_close(b, NULL);
		ck_assert_int_eq(meta_rotation_update(db, &rots[0]), 0);
		free(rots);
		kt_store_close(objects);
		ck_assert_uint_eq(count_blobs(), 13);
	}
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(kt_reencrypt_run(db, alice, 0, &ops, NULL, &res), 0);
	ck_assert_uint_eq(res.files, 8);
	ck_assert_uint_eq(count_blobs(), 12); /* the orphan went, old blobs went */
	for (size_t i = 0; i < n_files; i++) {
		struct meta_node n;

		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		ck_assert_int_ne(memcmp(old_ids[i], n.object_id, KT_OBJECT_ID_BYTES), 0);
		meta_node_clear(&n);
	}
	/* fresh file keys: none is the one made first */
	for (size_t i = 0; i < n_files; i++) {
		struct meta_node n;
		uint8_t key[KT_KEY_BYTES];
		const uint8_t *lk;
		uint32_t version;
		uint8_t level;

		ck_assert_int_eq(meta_node_get(db, files[i].ino, &n), 0);
		ck_assert_int_eq(kt_file_key_info(n.file_key, &level, &version), 0);
		ck_assert_int_eq(kt_keyring_level_key(carol, level, version, &lk), 0);
		ck_assert_int_eq(kt_file_key_unwrap(lk, n.object_id, n.file_key, key), 0);
		ck_assert_int_ne(sodium_memcmp(key, files[i].key, KT_KEY_BYTES), 0);
		meta_node_clear(&n);
	}
	all_content_reads(carol);
	kt_content_close(&store);
	kt_keyring_free(carol);
}
END_TEST

START_TEST(reencrypt_skips_damaged_blob)
{
	struct kt_rotation_result res = {0};
	struct kt_content_store store;
	struct kt_content_ops ops;
	struct kt_keyring *carol = unlock(db, "carol", CAROL_PASS);
	char path[4200], rel[KT_STORE_PATH_MAX];
	struct meta_node n;
	int fd;
	uint8_t byte;

	make_blob_files(carol, 5);
	ck_assert_int_eq(meta_node_get(db, files[2].ino, &n), 0);
	kt_store_local_path(n.object_id, rel);
	snprintf(path, sizeof(path), "%s/objects/%s", dir, rel);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, 100), 1);
	byte ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &byte, 1, 100), 1);
	close(fd);
	ck_assert_int_eq(kt_content_open(dir, &store, &ops), 0);
	ck_assert_int_eq(kt_reencrypt_run(db, alice, 0x4, &ops, NULL, &res), -EBADMSG);
	/* level 2 only: files 2 (damaged, left as it was) of 0..4 at levels 0,1,2,0,1 */
	ck_assert_uint_eq(res.files, 0);
	ck_assert_uint_eq(res.failed, 1);
	{
		struct meta_node now;

		ck_assert_int_eq(meta_node_get(db, files[2].ino, &now), 0);
		ck_assert_int_eq(memcmp(now.object_id, n.object_id, KT_OBJECT_ID_BYTES), 0);
		meta_node_clear(&now);
	}
	ck_assert_uint_eq(count_records("reencrypt", -EBADMSG), 2);
	meta_node_clear(&n);
	kt_content_close(&store);
	kt_keyring_free(carol);
}
END_TEST

/* ---- the key census (list keys) ----------------------------------------- */

static enum kt_key_state census_state(const struct kt_key_census *c, int kind, uint32_t id,
				      uint32_t version)
{
	for (size_t i = 0; i < c->n_versions; i++)
		if (c->versions[i].kind == kind && c->versions[i].id == id &&
		    c->versions[i].version == version)
			return kt_key_census_state(c, &c->versions[i]);
	ck_abort_msg("no key version %d/%u/%u", kind, id, version);
	return KT_KEY_DESTROYED;
}

START_TEST(key_census_follows_a_rotation)
{
	struct kt_keyring *bob = unlock(db, "bob", BOB_PASS);
	struct kt_key_census c;

	for (int i = 0; i < 3; i++)
		make_file(db, bob, 1);
	make_file(db, bob, 2);
	ck_assert_int_eq(kt_key_census_read(db, &c), 0);
	ck_assert_uint_eq(c.n_versions, META_LEVELS + 1); /* levels 0..3, metadata */
	for (uint32_t l = 0; l < META_LEVELS; l++)
		ck_assert_int_eq(census_state(&c, META_KEY_LEVEL, l, 1), KT_KEY_CURRENT);
	ck_assert_int_eq(census_state(&c, META_KEY_METADATA, 0, 1), KT_KEY_CURRENT);
	ck_assert_uint_eq(kt_key_census_files(&c, 1, 1), 3);
	ck_assert_uint_eq(kt_key_census_files(&c, 2, 1), 1);
	ck_assert_uint_eq(kt_key_census_files(&c, 0, 1), 0);
	ck_assert_uint_eq(kt_key_census_files(&c, 9, 1), 0);
	ck_assert_uint_eq(c.n_roles, 6); /* the five defaults and hr */
	for (size_t i = 0; i < c.n_roles; i++)
		ck_assert_uint_eq(c.role_keys[i].n, 1);
	ck_assert_str_eq(kt_key_census_role_name(&c, c.admin_role_id), "admin");
	ck_assert_str_eq(kt_key_census_role_name(&c, 9999), "?");
	ck_assert_uint_eq(c.n_grants, 3); /* alice admin, bob hr, carol hr */
	ck_assert_uint_eq(c.n_rotations, 0);
	ck_assert_uint_gt(c.n_seals, 0);
	kt_key_census_free(&c);
	ck_assert_ptr_null(c.versions);
	kt_key_census_free(&c); /* an empty one */

	/* a revocation: new versions of hr's levels, the old ones still sealed */
	ck_assert_int_eq(kt_revoke(db, alice, "carol", "hr"), 0);
	ck_assert_int_eq(kt_key_census_read(db, &c), 0);
	ck_assert_int_eq(census_state(&c, META_KEY_LEVEL, 1, 1), KT_KEY_OLD);
	ck_assert_int_eq(census_state(&c, META_KEY_LEVEL, 1, 2), KT_KEY_CURRENT);
	ck_assert_int_eq(census_state(&c, META_KEY_LEVEL, 3, 1), KT_KEY_CURRENT);
	ck_assert_uint_eq(kt_key_census_files(&c, 1, 1), 3);
	ck_assert_uint_eq(kt_key_census_files(&c, 1, 2), 0);
	ck_assert_uint_eq(c.n_rotations, 1);
	ck_assert(!c.rotations[0].done);
	ck_assert_uint_eq(c.n_grants, 2);
	kt_key_census_free(&c);

	/* re-wrapped: the old versions destroyed, the files under the new ones */
	run_all(alice);
	ck_assert_int_eq(kt_key_census_read(db, &c), 0);
	ck_assert_int_eq(census_state(&c, META_KEY_LEVEL, 1, 1), KT_KEY_DESTROYED);
	ck_assert_int_eq(census_state(&c, META_KEY_LEVEL, 1, 2), KT_KEY_CURRENT);
	ck_assert_uint_eq(kt_key_census_files(&c, 1, 2), 3);
	ck_assert_uint_eq(kt_key_census_files(&c, 2, 2), 1);
	ck_assert_uint_eq(c.n_rotations, 1);
	ck_assert(c.rotations[0].done);
	kt_key_census_free(&c);

	ck_assert_str_eq(kt_key_state_name(KT_KEY_CURRENT), "current");
	ck_assert_str_eq(kt_key_state_name(KT_KEY_OLD), "old");
	ck_assert_str_eq(kt_key_state_name(KT_KEY_DESTROYED), "destroyed");
	kt_keyring_free(bob);
}
END_TEST

static Suite *rotation_suite(void)
{
	Suite *s = suite_create("rotation");
	TCase *tc = tcase_create("rotation");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, revoke_rotates_and_rewraps);
	tcase_add_test(tc, insider_copy_cannot_open_later_files);
	tcase_add_test(tc, revoke_admin_rotates_everything);
	tcase_add_test(tc, last_admin_and_unknown);
	tcase_add_test(tc, non_admin_cannot_rotate);
	tcase_add_test(tc, kill_mid_rotation_then_resume);
	tcase_add_test(tc, stale_write_caught_at_finish);
	tcase_add_test(tc, damaged_file_key_keeps_version);
	tcase_add_test(tc, refresh_follows_grants);
	tcase_add_test(tc, two_admins_two_connections);
	tcase_add_test(tc, expiry_with_a_short_time);
	tcase_add_test(tc, reencrypt_resumable);
	tcase_add_test(tc, reencrypt_counter_carried_and_rollback_skipped);
	tcase_add_test(tc, reencrypt_skips_damaged_blob);
	tcase_add_test(tc, key_census_follows_a_rotation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(rotation_suite());
}
