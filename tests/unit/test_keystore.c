/*
 * tests/unit/test_keystore.c — the key library behind keytool/keystore.h and
 * keyring.h (init, users, roles, grants, unlock): the key hierarchy over a
 * real vault.db in a temporary directory.
 *
 * Every test makes its own vault (KT_KDF_TEST: Argon2id at minimum cost) with
 * administrator "alice" and checks what unlocking yields (roles, levels,
 * clearance vs custody, the metadata key), what each administration changes
 * and records, and what is refused: non-administrators, wrong passphrases,
 * expired grants, and tampered key tables. Decision on tampering: a sealed
 * key that does not open as exactly what its row says, or whose fingerprint
 * does not match, is refused on its own (that key is missing from the
 * keyring, the level is not readable through it) and recorded as an
 * integrity incident (-EBADMSG); unlocking still succeeds for everything else.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/keystore.h"
#include "keytool/rotation.h"
#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/records.h"
#include "meta/roles.h"
#include "meta/users.h"
#include "tests/unit/testutil.h"

#define ALICE_PASS "alice's long passphrase"
#define BOB_PASS   "bob's passphrase"
#define CAROL_PASS "carol's passphrase"
#define SEC	   1000000000LL

/* The vault of one test. */
static char *dir;
static struct meta_db *db;
static struct kt_keyring *alice;

static void init_vault(const char *const level_names[META_LEVELS])
{
	struct kt_init_options o = {
	    .admin = "alice",
	    .passphrase = ALICE_PASS,
	    .passphrase_len = strlen(ALICE_PASS),
	    .kdf = KT_KDF_TEST,
	    .admin_uid = -1,
	};

	if (level_names)
		memcpy(o.level_names, level_names, sizeof(o.level_names));
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(kt_vault_init(dir, &o), 0);
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db), 0);
	ck_assert_int_eq(kt_unlock(db, "alice", ALICE_PASS, strlen(ALICE_PASS), &alice), 0);
}

static void setup(void)
{
	ck_assert_int_eq(kt_crypto_init(), 0);
	init_vault(NULL);
}

static void teardown(void)
{
	alice = kt_keyring_free(alice);
	db = meta_db_close(db);
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
}

static struct kt_keyring *unlock(const char *user, const char *pass)
{
	struct kt_keyring *kr = NULL;

	ck_assert_int_eq(kt_unlock(db, user, pass, strlen(pass), &kr), 0);
	ck_assert_ptr_nonnull(kr);
	return kr;
}

static void add_bob(void)
{
	ck_assert_int_eq(kt_user_add(db, alice, "bob", 1001, BOB_PASS, strlen(BOB_PASS)), 0);
}

/* Number of access records matching (user, op, outcome). */
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

/* The detail of the last record of op. */
static void last_detail(const char *op, char *buf, size_t len)
{
	struct meta_log_filter f = {.op = op, .level = -1};
	struct meta_record *recs = NULL;
	size_t n = 0;

	ck_assert_int_eq(meta_log_query(db, &f, &recs, &n), 0);
	ck_assert_uint_gt(n, 0);
	snprintf(buf, len, "%s", recs[n - 1].detail);
	for (size_t i = 0; i < n; i++)
		meta_record_clear(&recs[i]);
	free(recs);
}

static size_t count_grants(const char *user)
{
	struct meta_grant *g = NULL;
	struct meta_user u;
	size_t n = 0;

	ck_assert_int_eq(meta_user_get_by_name(db, user, &u), 0);
	ck_assert_int_eq(meta_grant_list_user(db, u.id, &g, &n), 0);
	free(g);
	return n;
}

/* ---- init ------------------------------------------------------------ */

START_TEST(init_creates_vault)
{
	struct meta_role *roles = NULL;
	struct meta_role r;
	size_t n = 0;
	char buf[64];
	size_t len = sizeof(buf);
	const uint8_t *k;

	ck_assert_int_eq(meta_role_list(db, &roles, &n), 0);
	ck_assert_uint_eq(n, 5);
	free(roles);
	ck_assert_int_eq(meta_role_get_by_name(db, "admin", &r), 0);
	ck_assert_uint_eq(r.flags, META_ROLE_ADMIN);
	ck_assert_uint_eq(r.levels, 0);
	ck_assert_int_eq(meta_role_get_by_name(db, "owner", &r), 0);
	ck_assert_uint_eq(r.levels, 0xf);
	ck_assert_uint_eq(r.flags, META_ROLE_DECLASSIFY);
	ck_assert_int_eq(meta_role_get_by_name(db, "member", &r), 0);
	ck_assert_uint_eq(r.levels, 0x3);
	ck_assert_int_eq(meta_role_get_by_name(db, "auditor", &r), 0);
	ck_assert_uint_eq(r.levels, 0);
	ck_assert_uint_eq(r.flags, META_ROLE_AUDITOR);
	ck_assert_int_eq(meta_role_get_by_name(db, "external", &r), 0);
	ck_assert_uint_eq(r.levels, 0x1);
	ck_assert_uint_eq(r.flags, META_ROLE_EXPIRING);

	ck_assert_int_eq(meta_config_get_blob(db, "kdf_profile", buf, &len), 0);
	ck_assert_int_eq(len, 4);
	ck_assert_int_eq(memcmp(buf, "test", 4), 0);
	ck_assert_int_eq(kt_level_name(db, 3, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Mycket känslig");

	/* the administrator: admin role, custody of every level, no clearance */
	ck_assert_uint_eq(kt_keyring_flags(alice), META_ROLE_ADMIN);
	ck_assert_uint_eq(kt_keyring_readable(alice), 0);
	ck_assert_uint_eq(kt_keyring_writable(alice), 0);
	ck_assert_ptr_nonnull(kt_keyring_meta(alice));
	ck_assert_uint_eq(kt_keyring_meta(alice)->version, 1);
	for (uint8_t l = 0; l < META_LEVELS; l++) {
		uint32_t v;

		ck_assert_int_eq(kt_keyring_level_key(alice, l, 1, &k), -ENOKEY);
		ck_assert_int_eq(kt_keyring_level_current(alice, l, &v, &k), -ENOKEY);
		ck_assert_int_eq(kt_keyring_custody_key(alice, l, 1, &k), 0);
	}
	ck_assert_str_eq(kt_keyring_user(alice)->name, "alice");
	ck_assert_uint_eq(count_records("alice", "init", 0), 1);
}
END_TEST

START_TEST(init_refuses)
{
	struct kt_init_options o = {
	    .admin = "zed",
	    .passphrase = "x",
	    .passphrase_len = 1,
	    .kdf = KT_KDF_TEST,
	    .admin_uid = -1,
	};
	char path[4096];
	struct stat st;

	/* a vault already there */
	ck_assert_int_eq(kt_vault_init(dir, &o), -EEXIST);
	/* bad input creates nothing */
	snprintf(path, sizeof(path), "%s/new", dir);
	o.admin = "Zed";
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.admin = "zed";
	o.passphrase_len = 0;
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.passphrase_len = 1;
	o.level_names[1] = "Öppen"; /* same as level 0's default */
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.level_names[1] = "a,b";
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.level_names[1] = "2";
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.level_names[1] = "public"; /* level 0's English name */
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.level_names[1] = "Säkerhetsskydd";
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.level_names[1] = "bad\xff";
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	o.level_names[1] = NULL;
	o.kdf = (enum kt_kdf_profile)17;
	ck_assert_int_eq(kt_vault_init(path, &o), -EINVAL);
	ck_assert_int_eq(stat(path, &st), -1);
	/* and a good one works */
	o.kdf = KT_KDF_TEST;
	ck_assert_int_eq(kt_vault_init(path, &o), 0);
	ck_assert_int_eq(stat(path, &st), 0);
}
END_TEST

/* ---- users, roles, grants ------------------------------------------- */

START_TEST(grant_gives_levels)
{
	struct kt_keyring *bob;
	const uint8_t *kb, *ka;
	uint32_t v;
	char detail[300];

	add_bob();
	ck_assert_int_eq(kt_role_add(db, alice, "hr", 0x7, 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "hr", 0), 0);
	last_detail("grant", detail, sizeof(detail));
	ck_assert_str_eq(detail, "user=bob role=hr version=1");
	last_detail("role-add", detail, sizeof(detail));
	ck_assert_str_eq(detail, "role=hr levels=0,1,2 flags=none");

	bob = unlock("bob", BOB_PASS);
	ck_assert_str_eq(kt_keyring_user(bob)->name, "bob");
	ck_assert_int_eq(kt_keyring_user(bob)->uid, 1001);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x7);
	ck_assert_uint_eq(kt_keyring_writable(bob), 0x7);
	ck_assert_uint_eq(kt_keyring_flags(bob), 0);
	ck_assert_ptr_nonnull(kt_keyring_meta(bob));
	for (uint8_t l = 0; l < 3; l++) {
		ck_assert_int_eq(kt_keyring_level_key(bob, l, 1, &kb), 0);
		ck_assert_int_eq(kt_keyring_level_current(bob, l, &v, &kb), 0);
		ck_assert_uint_eq(v, 1);
		/* the very key the administrator holds in custody */
		ck_assert_int_eq(kt_keyring_custody_key(alice, l, 1, &ka), 0);
		ck_assert_int_eq(sodium_memcmp(kb, ka, KT_KEY_BYTES), 0);
	}
	ck_assert_int_eq(kt_keyring_level_key(bob, 3, 1, &kb), -ENOKEY);
	ck_assert_int_eq(kt_keyring_level_key(bob, 0, 2, &kb), -ENOKEY);
	/* custody is the administrator's alone */
	ck_assert_int_eq(kt_keyring_custody_key(bob, 0, 1, &kb), -ENOKEY);
	/* the same metadata subkeys for everyone */
	ck_assert_int_eq(sodium_memcmp(kt_keyring_meta(bob)->aead_key,
				       kt_keyring_meta(alice)->aead_key, KT_KEY_BYTES),
			 0);
	ck_assert_int_eq(sodium_memcmp(kt_keyring_meta(bob)->name_key,
				       kt_keyring_meta(alice)->name_key, KT_KEY_BYTES),
			 0);
	/* a non-admin cannot administer with it */
	ck_assert_int_eq(kt_role_add(db, bob, "x", 0, 0), -EACCES);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(default_roles_levels)
{
	struct kt_keyring *bob;
	const uint8_t *k;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x3);
	ck_assert_uint_eq(kt_keyring_writable(bob), 0x3);
	kt_keyring_free(bob);

	ck_assert_int_eq(kt_grant(db, alice, "bob", "owner", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0xf);
	ck_assert_uint_eq(kt_keyring_flags(bob), META_ROLE_DECLASSIFY);
	ck_assert_int_eq(kt_keyring_level_key(bob, 3, 1, &k), 0);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(read_only_role)
{
	struct kt_keyring *bob;

	add_bob();
	ck_assert_int_eq(kt_role_add(db, alice, "reader", 0x6, META_ROLE_READ_ONLY), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "reader", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x6);
	ck_assert_uint_eq(kt_keyring_writable(bob), 0);
	ck_assert_uint_eq(kt_keyring_flags(bob), META_ROLE_READ_ONLY);
	kt_keyring_free(bob);
	/* with member too, levels 0-1 become writable, 2 stays read-only */
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x7);
	ck_assert_uint_eq(kt_keyring_writable(bob), 0x3);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(forget_level_wipes_one_level)
{
	struct kt_keyring *bob;
	const uint8_t *k0, *k1;
	uint32_t v0, v1;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x3);
	ck_assert_int_eq(kt_keyring_level_current(bob, 1, &v1, &k1), 0);
	kt_keyring_forget_level(bob, 1);
	/* level 1 is gone, level 0 and the metadata key stay */
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x1);
	ck_assert_uint_eq(kt_keyring_writable(bob), 0x1);
	ck_assert_int_eq(kt_keyring_level_current(bob, 1, &v1, &k1), -ENOKEY);
	ck_assert_int_eq(kt_keyring_level_key(bob, 1, v1, &k1), -ENOKEY);
	ck_assert_int_eq(kt_keyring_level_current(bob, 0, &v0, &k0), 0);
	ck_assert_ptr_nonnull(kt_keyring_meta(bob));
	/* a refresh with nothing changed is not needed; a forced one brings it back */
	ck_assert_int_eq(kt_keyring_refresh(db, bob), 0);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x3);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(auditor_has_metadata_only)
{
	struct kt_keyring *bob;
	const uint8_t *k;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "auditor", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_ptr_nonnull(kt_keyring_meta(bob));
	ck_assert_uint_eq(kt_keyring_readable(bob), 0);
	ck_assert_uint_eq(kt_keyring_writable(bob), 0);
	ck_assert_uint_eq(kt_keyring_flags(bob), META_ROLE_AUDITOR);
	for (uint8_t l = 0; l < META_LEVELS; l++)
		ck_assert_int_eq(kt_keyring_level_key(bob, l, 1, &k), -ENOKEY);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(no_roles_no_keys)
{
	struct kt_keyring *bob;

	add_bob();
	bob = unlock("bob", BOB_PASS);
	ck_assert_ptr_null(kt_keyring_meta(bob));
	ck_assert_uint_eq(kt_keyring_readable(bob), 0);
	ck_assert_uint_eq(kt_keyring_flags(bob), 0);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(user_add_refuses)
{
	ck_assert_int_eq(kt_user_add(db, alice, "Bob", -1, "x", 1), -EINVAL);
	ck_assert_int_eq(kt_user_add(db, alice, "bob", -1, "", 0), -EINVAL);
	ck_assert_int_eq(kt_user_add(db, alice, "bob", -2, "x", 1), -EINVAL);
	ck_assert_int_eq(kt_user_add(db, alice, "alice", -1, "x", 1), -EEXIST);
	add_bob();
	ck_assert_int_eq(kt_user_add(db, alice, "bob", -1, "x", 1), -EEXIST);
	ck_assert_int_eq(kt_user_add(db, alice, "bob2", 1001, "x", 1), -EEXIST);
	ck_assert_int_eq(kt_user_add(db, alice, "bob2", -1, "x", 1), 0);
	ck_assert_uint_eq(count_records("alice", "user-add", 0), 2);
}
END_TEST

START_TEST(role_add_refuses)
{
	ck_assert_int_eq(kt_role_add(db, alice, "member", 0x1, 0), -EEXIST);
	ck_assert_int_eq(kt_role_add(db, alice, "HR", 0x1, 0), -EINVAL);
	ck_assert_int_eq(kt_role_add(db, alice, "hr", 0x10, 0), -EINVAL);
	ck_assert_int_eq(kt_role_add(db, alice, "hr", 0x1, META_ROLE_ADMIN), -EINVAL);
	ck_assert_int_eq(kt_role_add(db, alice, "hr", 0x1, 0x100), -EINVAL);
	ck_assert_int_eq(kt_role_add(db, alice, "hr", 0, META_ROLE_AUDITOR), 0);
	ck_assert_uint_eq(count_records("alice", "role-add", 0), 1);
}
END_TEST

START_TEST(grant_refuses)
{
	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "nobody", "member", 0), -ENOENT);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "nothing", 0), -ENOENT);
	/* expiring roles need a future expiry */
	ck_assert_int_eq(kt_grant(db, alice, "bob", "external", 0), -EINVAL);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "external", meta_now_ns() - SEC), -EINVAL);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", meta_now_ns() - SEC), -EINVAL);
	ck_assert_uint_eq(count_grants("bob"), 0);
	ck_assert_uint_eq(count_records("alice", "grant", 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "external", meta_now_ns() + 3600 * SEC), 0);
	ck_assert_uint_eq(count_grants("bob"), 1);
}
END_TEST

START_TEST(expired_grant_ignored)
{
	struct meta_grant *g = NULL;
	struct kt_keyring *bob;
	struct meta_user u;
	size_t n = 0;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "external", meta_now_ns() + 3600 * SEC), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "auditor", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x1);
	kt_keyring_free(bob);

	/* time passes: the external grant's expiry is now behind us */
	ck_assert_int_eq(meta_user_get_by_name(db, "bob", &u), 0);
	ck_assert_int_eq(meta_grant_list_user(db, u.id, &g, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (g[i].expires_ns) {
			g[i].expires_ns = meta_now_ns() - SEC;
			ck_assert_int_eq(meta_grant_add(db, &g[i]), 0);
		}
	}
	free(g);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0);
	ck_assert_uint_eq(kt_keyring_flags(bob), META_ROLE_AUDITOR);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(revoke_removes_role)
{
	struct kt_keyring *bob;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "auditor", 0), 0);
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "member"), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0);
	ck_assert_uint_eq(kt_keyring_flags(bob), META_ROLE_AUDITOR);
	kt_keyring_free(bob);
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "member"), -ENOENT);
	ck_assert_int_eq(kt_revoke(db, alice, "nobody", "member"), -ENOENT);
	ck_assert_int_eq(kt_revoke(db, alice, "bob", "nothing"), -ENOENT);
	ck_assert_uint_eq(count_records("alice", "revoke", 0), 1);
}
END_TEST

START_TEST(revoke_last_admin)
{
	struct kt_keyring *bob;

	ck_assert_int_eq(kt_revoke(db, alice, "alice", "admin"), -EPERM);
	ck_assert_uint_eq(count_grants("alice"), 1);
	/* a second administrator makes it possible, and bob can then administer */
	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "admin", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_flags(bob), META_ROLE_ADMIN);
	ck_assert_int_eq(kt_revoke(db, bob, "alice", "admin"), 0);
	ck_assert_uint_eq(count_grants("alice"), 0);
	/* alice's old keyring is refused now, and recorded */
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), -EACCES);
	ck_assert_uint_eq(count_records("alice", "grant", -EACCES), 1);
	ck_assert_int_eq(kt_revoke(db, bob, "bob", "admin"), -EPERM);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(non_admin_refused_and_recorded)
{
	struct kt_keyring *bob;
	struct meta_role r;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "owner", 0), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_int_eq(kt_grant(db, bob, "bob", "admin", 0), -EACCES);
	ck_assert_int_eq(kt_user_add(db, bob, "eve", -1, "x", 1), -EACCES);
	ck_assert_int_eq(kt_role_add(db, bob, "mine", 0xf, 0), -EACCES);
	ck_assert_int_eq(kt_revoke(db, bob, "alice", "admin"), -EACCES);
	kt_keyring_free(bob);

	ck_assert_uint_eq(count_records("bob", "grant", -EACCES), 1);
	ck_assert_uint_eq(count_records("bob", "user-add", -EACCES), 1);
	ck_assert_uint_eq(count_records("bob", "role-add", -EACCES), 1);
	ck_assert_uint_eq(count_records("bob", "revoke", -EACCES), 1);
	/* nothing else changed */
	ck_assert_uint_eq(count_grants("bob"), 1);
	ck_assert_uint_eq(count_grants("alice"), 1);
	ck_assert_int_eq(meta_role_get_by_name(db, "mine", &r), -ENOENT);
	ck_assert_uint_eq(count_records("bob", "grant", 0), 0);
}
END_TEST

/* ---- passphrases ----------------------------------------------------- */

START_TEST(wrong_passphrase)
{
	struct kt_keyring *kr = (struct kt_keyring *)0x1;
	struct meta_db *ro = NULL;

	ck_assert_int_eq(kt_unlock(db, "alice", "guess", 5, &kr), -EACCES);
	ck_assert_ptr_eq(kr, (struct kt_keyring *)0x1); /* untouched on failure */
	ck_assert_uint_eq(count_records("alice", "unlock", -EACCES), 1);
	ck_assert_int_eq(kt_unlock(db, "mallory", "guess", 5, &kr), -ENOENT);
	/* read-only database: the same answer, the record is best effort */
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RO, &ro), 0);
	ck_assert_int_eq(kt_unlock(ro, "alice", "guess", 5, &kr), -EACCES);
	ck_assert_int_eq(kt_unlock(ro, "alice", ALICE_PASS, strlen(ALICE_PASS), &kr), 0);
	kt_keyring_free(kr);
	meta_db_close(ro);
}
END_TEST

START_TEST(passwd_changes_passphrase)
{
	struct kt_keyring *bob;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	ck_assert_int_eq(kt_passwd(db, "bob", "nope", 4, CAROL_PASS, strlen(CAROL_PASS)), -EACCES);
	ck_assert_uint_eq(count_records("bob", "passwd", -EACCES), 1);
	ck_assert_int_eq(kt_passwd(db, "bob", BOB_PASS, strlen(BOB_PASS), "", 0), -EINVAL);
	ck_assert_int_eq(kt_passwd(db, "nobody", "x", 1, "y", 1), -ENOENT);
	ck_assert_int_eq(
	    kt_passwd(db, "bob", BOB_PASS, strlen(BOB_PASS), CAROL_PASS, strlen(CAROL_PASS)), 0);
	ck_assert_uint_eq(count_records("bob", "passwd", 0), 1);
	ck_assert_int_eq(kt_unlock(db, "bob", BOB_PASS, strlen(BOB_PASS), &bob), -EACCES);
	bob = unlock("bob", CAROL_PASS);
	/* the grants still open: same key pair */
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x3);
	kt_keyring_free(bob);
}
END_TEST

/* ---- tampering ------------------------------------------------------- */

/* The seals addressed to role's current version. */
static struct meta_key_seal *role_seals(const char *role, size_t *ret_n, struct meta_role *ret_role)
{
	struct meta_key_seal *s = NULL;

	ck_assert_int_eq(meta_role_get_by_name(db, role, ret_role), 0);
	ck_assert_int_eq(
	    meta_key_seal_list_role(db, ret_role->id, ret_role->key_version, &s, ret_n), 0);
	return s;
}

START_TEST(tamper_swapped_key_seal)
{
	struct meta_key_seal *s, *l0 = NULL, *l1 = NULL;
	struct kt_keyring *bob;
	struct meta_role member;
	const uint8_t *k;
	size_t n;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	s = role_seals("member", &n, &member);
	ck_assert_uint_eq(n, 4); /* levels 0 and 1, metadata, checkpoint key */
	for (size_t i = 0; i < n; i++) {
		if (s[i].kind == META_KEY_LEVEL && s[i].id == 0)
			l0 = &s[i];
		if (s[i].kind == META_KEY_LEVEL && s[i].id == 1)
			l1 = &s[i];
	}
	ck_assert_ptr_nonnull(l0);
	ck_assert_ptr_nonnull(l1);
	/* level 0's sealed key copied into level 1's row */
	memcpy(l1->sealed, l0->sealed, KT_SEALED_BYTES);
	ck_assert_int_eq(meta_key_seal_add(db, l1), 0);
	free(s);

	bob = unlock("bob", BOB_PASS);
	ck_assert_int_eq(kt_keyring_level_key(bob, 1, 1, &k), -ENOKEY);
	ck_assert_int_eq(kt_keyring_level_key(bob, 0, 1, &k), 0);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x1);
	ck_assert_uint_eq(kt_keyring_writable(bob), 0x1);
	ck_assert_uint_eq(count_records("bob", "unlock", -EBADMSG), 1);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(tamper_planted_key)
{
	struct meta_key_seal *s;
	struct meta_role member;
	struct meta_role_key rk;
	struct kt_keyring *bob;
	struct meta_key_version v;
	struct meta_key_seal planted;
	uint8_t fake[KT_KEY_BYTES];
	const uint8_t *k;
	uint32_t ver;
	size_t n;

	/* someone with write access to vault.db seals a key of their own as level 1:
	 * the context is right, the fingerprint is not */
	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	s = role_seals("member", &n, &member);
	ck_assert_int_eq(meta_role_key_get(db, member.id, member.key_version, &rk), 0);
	kt_random(fake, sizeof(fake));
	for (size_t i = 0; i < n; i++) {
		if (s[i].kind == META_KEY_LEVEL && s[i].id == 1) {
			ck_assert_int_eq(
			    kt_seal(KT_SEAL_LEVEL, 1, 1, fake, rk.public_key, s[i].sealed), 0);
			ck_assert_int_eq(meta_key_seal_add(db, &s[i]), 0);
		}
	}
	free(s);
	bob = unlock("bob", BOB_PASS);
	ck_assert_int_eq(kt_keyring_level_key(bob, 1, 1, &k), -ENOKEY);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x1);
	ck_assert_uint_eq(count_records("bob", "unlock", -EBADMSG), 1);
	kt_keyring_free(bob);

	/* the same with a level_keys row of its own (version 2, the matching
	 * fingerprint): until row signatures, unlock took it as level 1's current
	 * key and files created afterwards were wrapped under a key the attacker
	 * knows. Now neither row carries the administration key's signature. */
	memset(&v, 0, sizeof(v));
	v.kind = META_KEY_LEVEL;
	v.id = 1;
	v.version = 2;
	kt_fingerprint(fake, v.fingerprint);
	ck_assert_int_eq(meta_key_version_add(db, &v), 0);
	memset(&planted, 0, sizeof(planted));
	planted.kind = META_KEY_LEVEL;
	planted.id = 1;
	planted.version = 2;
	planted.role_id = member.id;
	planted.role_version = member.key_version;
	ck_assert_int_eq(kt_seal(KT_SEAL_LEVEL, 1, 2, fake, rk.public_key, planted.sealed), 0);
	ck_assert_int_eq(meta_key_seal_add(db, &planted), 0);
	bob = unlock("bob", BOB_PASS);
	ck_assert_int_eq(kt_keyring_level_key(bob, 1, 2, &k), -ENOKEY);
	ck_assert_int_eq(kt_keyring_level_current(bob, 1, &ver, &k), -ENOKEY);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0x1);
	ck_assert_uint_eq(count_records("bob", "unlock", -EBADMSG), 3);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(tamper_grant_seal)
{
	struct meta_grant *g = NULL;
	struct kt_keyring *bob;
	struct meta_user u;
	size_t n = 0;

	add_bob();
	ck_assert_int_eq(kt_grant(db, alice, "bob", "member", 0), 0);
	ck_assert_int_eq(kt_grant(db, alice, "bob", "auditor", 0), 0);
	ck_assert_int_eq(meta_user_get_by_name(db, "bob", &u), 0);
	ck_assert_int_eq(meta_grant_list_user(db, u.id, &g, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* the member grant's sealed role key swapped for the auditor one */
	for (size_t i = 0; i < n; i++) {
		struct meta_role r;

		ck_assert_int_eq(meta_role_get_by_id(db, g[i].role_id, &r), 0);
		if (strcmp(r.name, "member") == 0) {
			memcpy(g[i].sealed, g[1 - i].sealed, KT_SEALED_BYTES);
			ck_assert_int_eq(meta_grant_add(db, &g[i]), 0);
		}
	}
	free(g);
	bob = unlock("bob", BOB_PASS);
	ck_assert_uint_eq(kt_keyring_readable(bob), 0);
	ck_assert_uint_eq(kt_keyring_flags(bob), META_ROLE_AUDITOR);
	ck_assert_uint_eq(count_records("bob", "unlock", -EBADMSG), 1);
	kt_keyring_free(bob);
}
END_TEST

START_TEST(tamper_user_secret)
{
	struct kt_keyring *kr = NULL;
	struct meta_user u;

	add_bob();
	ck_assert_int_eq(meta_user_get_by_name(db, "bob", &u), 0);
	u.secret_sealed[60] ^= 1;
	ck_assert_int_eq(meta_user_set_secret(db, u.id, u.secret_sealed), 0);
	ck_assert_int_eq(kt_unlock(db, "bob", BOB_PASS, strlen(BOB_PASS), &kr), -EACCES);
}
END_TEST

/* ---- names and levels ------------------------------------------------ */

START_TEST(user_and_role_names)
{
	char long_name[80];

	ck_assert(kt_name_valid("alice"));
	ck_assert(kt_name_valid("_svc"));
	ck_assert(kt_name_valid("a.b-c_9"));
	ck_assert(!kt_name_valid(""));
	ck_assert(!kt_name_valid(NULL));
	ck_assert(!kt_name_valid("9a"));
	ck_assert(!kt_name_valid("-a"));
	ck_assert(!kt_name_valid("Alice"));
	ck_assert(!kt_name_valid("a b"));
	ck_assert(!kt_name_valid("åsa"));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	ck_assert(kt_name_valid(long_name));
	long_name[64] = 'a';
	long_name[65] = '\0';
	ck_assert(!kt_name_valid(long_name));
}
END_TEST

START_TEST(level_parse_defaults)
{
	static const struct {
		const char *text;
		int level;
	} cases[] = {
	    {"0", 0},
	    {"3", 3},
	    {"4", 4},
	    {"Öppen", 0},
	    {"öppen", 0},
	    {"ÖPPEN", 0},
	    {"intern", 1},
	    {"KÄNSLIG", 2},
	    {"mycket känslig", 3},
	    {"public", 0},
	    {"Internal", 1},
	    {"sensitive", 2},
	    {"highly-sensitive", 3},
	    {"Highly Sensitive", 3},
	    {"säkerhetsskydd", 4},
	    {"SÄKERHETSSKYDD", 4},
	    {"security", 4},
	    {"5", -EINVAL},
	    {"", -EINVAL},
	    {"00", -EINVAL},
	    {"konfidentiell", -EINVAL},
	    {"-1", -EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t level = 99;
		int r = kt_level_parse(db, cases[i].text, &level);

		if (cases[i].level < 0)
			ck_assert_msg(r == cases[i].level, "'%s': %d", cases[i].text, r);
		else
			ck_assert_msg(r == 0 && level == cases[i].level, "'%s': %d %u",
				      cases[i].text, r, level);
	}
}
END_TEST

START_TEST(level_names_configured)
{
	static const char *const custom[META_LEVELS] = {"Publik", "Arbetsmaterial", "Skyddad",
							"Strikt skyddad"};
	uint8_t level;
	char buf[64];

	teardown();
	init_vault(custom);
	ck_assert_int_eq(kt_level_parse(db, "arbetsmaterial", &level), 0);
	ck_assert_uint_eq(level, 1);
	ck_assert_int_eq(kt_level_parse(db, "STRIKT SKYDDAD", &level), 0);
	ck_assert_uint_eq(level, 3);
	ck_assert_int_eq(kt_level_parse(db, "sensitive", &level), 0);
	ck_assert_uint_eq(level, 2);
	ck_assert_int_eq(kt_level_name(db, 2, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Skyddad");
	ck_assert_int_eq(kt_level_name(db, 4, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(kt_level_name(db, 2, buf, 4), -ENOBUFS);
}
END_TEST

START_TEST(levels_parse_lists)
{
	static const struct {
		const char *text;
		int r;		 /* 0 or the error */
		uint32_t levels; /* when r is 0 */
		const char *bad; /* the part named on error */
	} cases[] = {
	    {"0", 0, 0x1, NULL},	   {"0,2", 0, 0x5, NULL},
	    {"Intern,3", 0, 0xa, NULL},	   {"public,highly sensitive", 0, 0x9, NULL},
	    {"1,1,KÄNSLIG", 0, 0x6, NULL}, {"0,säkerhetsskydd", -EPERM, 0, "säkerhetsskydd"},
	    {"4", -EPERM, 0, "4"},	   {"0,x,4", -EINVAL, 0, "x"},
	    {"", -EINVAL, 0, ""},	   {"1,", -EINVAL, 0, ""},
	    {",1", -EINVAL, 0, ""},	   {"none", -EINVAL, 0, "none"},
	    {"0-3", -EINVAL, 0, "0-3"},
	};
	char long_part[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *bad = NULL;
		uint32_t levels = 0xdead;
		size_t bad_len = 99;
		int r = kt_levels_parse(db, cases[i].text, &levels, &bad, &bad_len);

		ck_assert_msg(r == cases[i].r, "'%s': %d", cases[i].text, r);
		if (r == 0) {
			ck_assert_msg(levels == cases[i].levels, "'%s': %#x", cases[i].text,
				      levels);
			continue;
		}
		ck_assert_uint_eq(levels, 0xdead); /* untouched on error */
		ck_assert_msg(bad_len == strlen(cases[i].bad) &&
				  strncmp(bad, cases[i].bad, bad_len) == 0,
			      "'%s': bad part '%.*s'", cases[i].text, (int)bad_len, bad);
	}
	memset(long_part, 'a', sizeof(long_part) - 1);
	long_part[sizeof(long_part) - 1] = '\0';
	ck_assert_int_eq(kt_levels_parse(db, long_part, &(uint32_t){0}, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(format_levels)
{
	char buf[16], small[4];

	kt_format_levels(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "none");
	kt_format_levels(0x5, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0,2");
	kt_format_levels(0xf, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0,1,2,3");
	kt_format_levels(0xf, small, sizeof(small)); /* cut, never overrun */
	ck_assert_str_eq(small, "0,1");
}
END_TEST

START_TEST(records_carry_the_process)
{
	struct meta_log_filter f = {.op = "init", .level = -1};
	struct meta_record *recs = NULL;
	size_t n = 0;

	ck_assert_int_eq(meta_log_query(db, &f, &recs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(recs[0].user, "alice");
	ck_assert_int_eq(recs[0].uid, (int64_t)getuid());
	ck_assert_int_eq(recs[0].pid, (int64_t)getpid());
	ck_assert_str_eq(recs[0].comm, "test_keystore");
	ck_assert_str_eq(recs[0].detail, "admin=alice kdf=test");
	ck_assert_int_eq(recs[0].level, -1);
	ck_assert_uint_gt(recs[0].time_ns, 0);
	meta_record_clear(&recs[0]);
	free(recs);
}
END_TEST

static Suite *keystore_suite(void)
{
	Suite *s = suite_create("keystore");
	TCase *tc = tcase_create("keystore");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, init_creates_vault);
	tcase_add_test(tc, init_refuses);
	tcase_add_test(tc, grant_gives_levels);
	tcase_add_test(tc, default_roles_levels);
	tcase_add_test(tc, read_only_role);
	tcase_add_test(tc, forget_level_wipes_one_level);
	tcase_add_test(tc, auditor_has_metadata_only);
	tcase_add_test(tc, no_roles_no_keys);
	tcase_add_test(tc, user_add_refuses);
	tcase_add_test(tc, role_add_refuses);
	tcase_add_test(tc, grant_refuses);
	tcase_add_test(tc, expired_grant_ignored);
	tcase_add_test(tc, revoke_removes_role);
	tcase_add_test(tc, revoke_last_admin);
	tcase_add_test(tc, non_admin_refused_and_recorded);
	tcase_add_test(tc, wrong_passphrase);
	tcase_add_test(tc, passwd_changes_passphrase);
	tcase_add_test(tc, tamper_swapped_key_seal);
	tcase_add_test(tc, tamper_planted_key);
	tcase_add_test(tc, tamper_grant_seal);
	tcase_add_test(tc, tamper_user_secret);
	tcase_add_test(tc, user_and_role_names);
	tcase_add_test(tc, level_parse_defaults);
	tcase_add_test(tc, level_names_configured);
	tcase_add_test(tc, records_carry_the_process);
	tcase_add_test(tc, levels_parse_lists);
	tcase_add_test(tc, format_levels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(keystore_suite());
}
