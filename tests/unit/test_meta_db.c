/*
 * tests/unit/test_meta_db.c — meta/db.c, users.c, roles.c, grants.c and keys.c:
 * creating and opening vaults, schema versions, transactions, read-only
 * connections, configuration; users, roles, role keys, grants, key versions
 * and seals, including rows tampered with through a raw SQLite handle.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "meta/db.h"
#include "meta/records-tree.h"
#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/roles.h"
#include "meta/users.h"
#include "meta/ns.h"
#include "tests/unit/testutil.h"

static char *tmp;   /* per-test temporary directory */
static char *vault; /* tmp/vault (not created by the fixture) */
static struct meta_db *db;

static void setup(void)
{
	tmp = tu_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(asprintf(&vault, "%s/vault", tmp), 0);
	db = NULL;
}

static void teardown(void)
{
	db = meta_db_close(db);
	tu_rmrf(tmp);
	free(tmp);
	free(vault);
}

/* setup plus a created vault in db */
static void setup_vault(void)
{
	setup();
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
}

/* A raw SQLite handle on the vault's database, for tampering. */
static sqlite3 *raw_open(void)
{
	char path[PATH_MAX];
	sqlite3 *h = NULL;

	snprintf(path, sizeof(path), "%s/%s", vault, META_DB_NAME);
	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 10000);
	return h;
}

static void raw_exec(const char *sql)
{
	sqlite3 *h = raw_open();
	char *err = NULL;
	int rc = sqlite3_exec(h, sql, NULL, NULL, &err);

	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
	sqlite3_free(err);
	sqlite3_close(h);
}

static mode_t mode_of(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode;
}

/* ---- opening ---- */

START_TEST(test_create_layout)
{
	uint8_t id[32], id2[32];
	size_t len = sizeof(id), len2 = sizeof(id2);
	struct meta_db *other = NULL;
	struct meta_node root;
	int64_t v, before = meta_now_ns();

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(mode_of(tmp, "vault") & 07777, 0700);
	ck_assert(S_ISDIR(mode_of(vault, META_OBJECTS_DIR)));
	ck_assert_uint_eq(mode_of(vault, META_OBJECTS_DIR) & 07777, 0700);
	ck_assert(S_ISREG(mode_of(vault, META_DB_NAME)));
	ck_assert_uint_eq(mode_of(vault, META_DB_NAME) & 0077, 0);

	/* default configuration */
	ck_assert_int_eq(meta_config_get_int(db, "format", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(meta_config_get_int(db, "cipher", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(meta_config_get_int(db, "chunk_shift", &v), 0);
	ck_assert_int_eq(v, 12);
	ck_assert_int_eq(meta_config_get_int(db, "created", &v), 0);
	ck_assert_int_ge(v, before - 1000000000);
	ck_assert_int_le(v, meta_now_ns());
	ck_assert_int_eq(meta_config_get_blob(db, "vault_id", id, &len), 0);
	ck_assert_uint_eq(len, 16);

	/* the root directory */
	ck_assert_int_eq(meta_node_get(db, META_ROOT_INO, &root), 0);
	ck_assert_uint_eq(root.ino, 1);
	ck_assert_uint_eq(root.mode, S_IFDIR | 01777);
	ck_assert_uint_eq(root.nlink, 2);
	ck_assert_uint_eq(root.uid, 0);
	ck_assert_uint_eq(root.gid, 0);
	ck_assert_uint_eq(root.level, 0);
	ck_assert(!root.has_object);
	ck_assert_int_ge(root.mtime_ns, before - 1000000000);
	meta_node_clear(&root);

	/* a second vault gets another id */
	db = meta_db_close(db);
	ck_assert_ptr_null(db);
	{
		char *second = NULL;

		ck_assert_int_ge(asprintf(&second, "%s/second", tmp), 0);
		ck_assert_int_eq(meta_db_open(second, META_OPEN_CREATE, &other), 0);
		ck_assert_int_eq(meta_config_get_blob(other, "vault_id", id2, &len2), 0);
		ck_assert_uint_eq(len2, 16);
		ck_assert_mem_ne(id, id2, 16);
		other = meta_db_close(other);
		free(second);
	}
}
END_TEST

START_TEST(test_reopen_rw_ro)
{
	struct meta_db *ro = NULL;
	int64_t v;

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	ck_assert_int_eq(meta_config_set_int(db, "test.key", 42), 0);
	db = meta_db_close(db);

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), 0);
	ck_assert_int_eq(meta_config_get_int(db, "test.key", &v), 0);
	ck_assert_int_eq(v, 42);
	db = meta_db_close(db);

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &ro), 0);
	ck_assert_int_eq(meta_config_get_int(ro, "test.key", &v), 0);
	ck_assert_int_eq(v, 42);
	ro = meta_db_close(ro);
}
END_TEST

START_TEST(test_create_exists)
{
	struct meta_db *again = (struct meta_db *)0x1;
	int64_t v;

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	ck_assert_int_eq(meta_config_set_int(db, "test.key", 7), 0);
	db = meta_db_close(db);

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &again), -EEXIST);
	ck_assert_ptr_eq(again, (struct meta_db *)0x1); /* untouched on failure */

	/* the failed create left the existing vault alone */
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), 0);
	ck_assert_int_eq(meta_config_get_int(db, "test.key", &v), 0);
	ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(test_open_missing)
{
	char *nested = NULL;
	struct stat st;

	/* no directory at all */
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), -ENOENT);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &db), -ENOENT);
	ck_assert_ptr_null(db);
	/* a directory without vault.db (and nothing gets created) */
	ck_assert_int_eq(meta_db_open(tmp, META_OPEN_RW, &db), -ENOENT);
	ck_assert_int_eq(meta_db_open(tmp, META_OPEN_RO, &db), -ENOENT);
	ck_assert_int_ne(stat(vault, &st), 0);
	ck_assert_int_eq(access(tmp, F_OK), 0);
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", tmp, META_DB_NAME);
		ck_assert_int_ne(access(path, F_OK), 0);
	}
	/* CREATE does not make missing parents */
	ck_assert_int_ge(asprintf(&nested, "%s/a/b", tmp), 0);
	ck_assert_int_eq(meta_db_open(nested, META_OPEN_CREATE, &db), -ENOENT);
	ck_assert_ptr_null(db);
	free(nested);
	/* bad arguments */
	ck_assert_int_eq(meta_db_open(NULL, META_OPEN_RW, &db), -EINVAL);
	ck_assert_int_eq(meta_db_open(vault, (enum meta_open_mode)99, &db), -EINVAL);
}
END_TEST

START_TEST(test_create_in_existing_dir)
{
	/* an existing empty directory (e.g. a mount point prepared by an admin) is fine */
	ck_assert_int_eq(mkdir(vault, 0700), 0);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	ck_assert(S_ISDIR(mode_of(vault, META_OBJECTS_DIR)));
}
END_TEST

START_TEST(test_version_mismatch)
{
	struct meta_db *other = NULL;

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	db = meta_db_close(db);

	raw_exec("PRAGMA user_version = 99");
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &other), -EPROTO);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &other), -EPROTO);
	ck_assert_ptr_null(other);

	/* version 0: a SQLite file that is no vault is not turned into one */
	raw_exec("PRAGMA user_version = 0");
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &other), -EPROTO);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &other), -EPROTO);

	raw_exec("PRAGMA user_version = 1");
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &other), 0);
	other = meta_db_close(other);
}
END_TEST

START_TEST(test_not_a_database)
{
	char path[PATH_MAX];
	FILE *f;

	ck_assert_int_eq(mkdir(vault, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", vault, META_DB_NAME);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a SQLite database. ", f);
	fclose(f);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), -EPROTO);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &db), -EPROTO);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), -EEXIST);
	ck_assert_ptr_null(db);
	/* the foreign file was not removed by the failed create */
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_symlinked_db_refused)
{
	char path[PATH_MAX], target[PATH_MAX];

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	db = meta_db_close(db);
	snprintf(path, sizeof(path), "%s/%s", vault, META_DB_NAME);
	snprintf(target, sizeof(target), "%s/real.db", tmp);
	ck_assert_int_eq(rename(path, target), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), -ELOOP);
	ck_assert_ptr_null(db);
}
END_TEST

/* ---- configuration ---- */

START_TEST(test_config_roundtrip)
{
	const uint8_t blob[5] = {0, 1, 2, 0xff, 0};
	uint8_t buf[16];
	size_t len;
	int64_t v;

	ck_assert_int_eq(meta_config_set_blob(db, "k.blob", blob, sizeof(blob)), 0);
	len = sizeof(buf);
	memset(buf, 0xaa, sizeof(buf));
	ck_assert_int_eq(meta_config_get_blob(db, "k.blob", buf, &len), 0);
	ck_assert_uint_eq(len, sizeof(blob));
	ck_assert_mem_eq(buf, blob, sizeof(blob));
	ck_assert_uint_eq(buf[5], 0xaa); /* nothing written past the value */

	/* buffer too small: -ENOBUFS, *ret_len unchanged */
	len = 4;
	ck_assert_int_eq(meta_config_get_blob(db, "k.blob", buf, &len), -ENOBUFS);
	ck_assert_uint_eq(len, 4);

	/* overwrite, empty value */
	ck_assert_int_eq(meta_config_set_blob(db, "k.blob", "", 0), 0);
	len = sizeof(buf);
	ck_assert_int_eq(meta_config_get_blob(db, "k.blob", buf, &len), 0);
	ck_assert_uint_eq(len, 0);

	len = sizeof(buf);
	ck_assert_int_eq(meta_config_get_blob(db, "k.absent", buf, &len), -ENOENT);
	ck_assert_uint_eq(len, sizeof(buf));
	ck_assert_int_eq(meta_config_get_int(db, "k.absent", &v), -ENOENT);

	/* integers, extremes included, stored as decimal text */
	ck_assert_int_eq(meta_config_set_int(db, "k.int", INT64_MIN), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.int", &v), 0);
	ck_assert_int_eq(v, INT64_MIN);
	ck_assert_int_eq(meta_config_set_int(db, "k.int", INT64_MAX), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.int", &v), 0);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_int_eq(meta_config_set_int(db, "k.int", -12), 0);
	len = sizeof(buf);
	ck_assert_int_eq(meta_config_get_blob(db, "k.int", buf, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(buf, "-12", 3);

	/* a value that is no decimal integer */
	v = 5;
	ck_assert_int_eq(meta_config_get_int(db, "vault_id", &v), -EIO);
	ck_assert_int_eq(meta_config_set_blob(db, "k.bad", "12x", 3), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.bad", &v), -EIO);
	ck_assert_int_eq(meta_config_set_blob(db, "k.bad", " 12", 3), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.bad", &v), -EIO);
	ck_assert_int_eq(meta_config_set_blob(db, "k.bad", "99999999999999999999", 20), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.bad", &v), -EIO);
	ck_assert_int_eq(v, 5);
}
END_TEST

/* ---- transactions and connections ---- */

START_TEST(test_tx_commit_rollback)
{
	int64_t v;

	ck_assert_int_eq(meta_tx_begin(db), 0);
	ck_assert_int_eq(meta_tx_begin(db), -EINVAL); /* nested */
	ck_assert_int_eq(meta_config_set_int(db, "k.rolled", 1), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.rolled", &v), 0); /* visible inside */
	meta_tx_rollback(db);
	ck_assert_int_eq(meta_config_get_int(db, "k.rolled", &v), -ENOENT);

	ck_assert_int_eq(meta_tx_begin(db), 0);
	ck_assert_int_eq(meta_config_set_int(db, "k.kept", 2), 0);
	ck_assert_int_eq(meta_tx_commit(db), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.kept", &v), 0);
	ck_assert_int_eq(v, 2);

	/* commit or rollback with no transaction */
	ck_assert_int_eq(meta_tx_commit(db), -EINVAL);
	meta_tx_rollback(db);
	meta_tx_rollback(NULL);

	/* a failed statement inside a transaction does not end it */
	{
		struct meta_role r = {.name = "dup"};

		ck_assert_int_eq(meta_tx_begin(db), 0);
		ck_assert_int_eq(meta_role_add(db, &r), 0);
		ck_assert_int_eq(meta_role_add(db, &r), -EEXIST);
		ck_assert_int_eq(meta_config_set_int(db, "k.after", 3), 0);
		ck_assert_int_eq(meta_tx_commit(db), 0);
		ck_assert_int_eq(meta_config_get_int(db, "k.after", &v), 0);
		ck_assert_int_eq(meta_role_get_by_name(db, "dup", &r), 0);
	}
}
END_TEST

/* meta_tx_end: commit on success, roll back and pass the error on otherwise */
START_TEST(test_tx_end)
{
	int64_t v;

	ck_assert_int_eq(meta_tx_begin(db), 0);
	ck_assert_int_eq(meta_config_set_int(db, "k.failed", 1), 0);
	ck_assert_int_eq(meta_tx_end(db, -EIO), -EIO);
	ck_assert_int_eq(meta_config_get_int(db, "k.failed", &v), -ENOENT);
	ck_assert_int_eq(meta_tx_begin(db), 0); /* the transaction is over */
	ck_assert_int_eq(meta_config_set_int(db, "k.done", 4), 0);
	ck_assert_int_eq(meta_tx_end(db, 0), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.done", &v), 0);
	ck_assert_int_eq(v, 4);
	ck_assert_int_eq(meta_tx_end(db, 0), -EINVAL); /* no transaction to commit */
}
END_TEST

START_TEST(test_close_rolls_back)
{
	int64_t v;

	ck_assert_int_eq(meta_tx_begin(db), 0);
	ck_assert_int_eq(meta_config_set_int(db, "k.open", 1), 0);
	db = meta_db_close(db);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.open", &v), -ENOENT);
}
END_TEST

START_TEST(test_ro_cannot_write)
{
	struct meta_db *ro = NULL;
	struct meta_role r = {.name = "nope"};
	int64_t v;

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &ro), 0);
	ck_assert_int_eq(meta_config_set_int(ro, "k.ro", 1), -EROFS);
	ck_assert_int_eq(meta_role_add(ro, &r), -EROFS);
	ck_assert_int_eq(meta_config_get_int(ro, "k.ro", &v), -ENOENT);
	ck_assert_int_eq(meta_role_get_by_name(db, "nope", &r), -ENOENT);
	/* a read-only transaction is a consistent snapshot, and ends cleanly */
	ck_assert_int_eq(meta_tx_begin(ro), 0);
	ck_assert_int_eq(meta_config_get_int(ro, "format", &v), 0);
	ck_assert_int_eq(meta_tx_commit(ro), 0);
	ro = meta_db_close(ro);
}
END_TEST

START_TEST(test_second_connection)
{
	struct meta_db *rw2 = NULL, *ro = NULL;
	int64_t v;

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &rw2), 0);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &ro), 0);

	/* uncommitted writes are not seen by others; a reader does not block the writer */
	ck_assert_int_eq(meta_tx_begin(db), 0);
	ck_assert_int_eq(meta_config_set_int(db, "k.shared", 5), 0);
	ck_assert_int_eq(meta_config_get_int(ro, "k.shared", &v), -ENOENT);
	ck_assert_int_eq(meta_config_get_int(rw2, "k.shared", &v), -ENOENT);

	/* an auditor can open while the writer holds its write lock (WAL) */
	{
		struct meta_db *ro2 = NULL;

		ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &ro2), 0);
		ck_assert_int_eq(meta_config_get_int(ro2, "format", &v), 0);
		ck_assert_int_eq(v, 1);
		ro2 = meta_db_close(ro2);
	}
	ck_assert_int_eq(meta_tx_commit(db), 0);

	ck_assert_int_eq(meta_config_get_int(ro, "k.shared", &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(meta_config_get_int(rw2, "k.shared", &v), 0);
	ck_assert_int_eq(v, 5);

	/* and the other way round */
	ck_assert_int_eq(meta_config_set_int(rw2, "k.shared", 6), 0);
	ck_assert_int_eq(meta_config_get_int(db, "k.shared", &v), 0);
	ck_assert_int_eq(v, 6);

	/* a read snapshot does not see later commits until it ends */
	ck_assert_int_eq(meta_tx_begin(ro), 0);
	ck_assert_int_eq(meta_config_get_int(ro, "k.shared", &v), 0);
	ck_assert_int_eq(meta_config_set_int(db, "k.shared", 7), 0);
	ck_assert_int_eq(meta_config_get_int(ro, "k.shared", &v), 0);
	ck_assert_int_eq(v, 6);
	ck_assert_int_eq(meta_tx_commit(ro), 0);
	ck_assert_int_eq(meta_config_get_int(ro, "k.shared", &v), 0);
	ck_assert_int_eq(v, 7);

	rw2 = meta_db_close(rw2);
	ro = meta_db_close(ro);
}
END_TEST

START_TEST(test_wal_mode)
{
	sqlite3 *h = raw_open();
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(h);
}
END_TEST

static int64_t raw_int(const char *sql)
{
	sqlite3 *h = raw_open();
	sqlite3_stmt *st = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* A version 2 vault (access_log indexed on user and op) is migrated to 3, then 4. */
START_TEST(test_migrate_v2_v3)
{
	const char *count = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
			    " name IN ('access_log_user', 'access_log_op')";

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	db = meta_db_close(db);
	ck_assert_int_eq(raw_int(count), 0);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), META_SCHEMA_VERSION);
	/* a version 2 access_log: AUTOINCREMENT, four indexes, two records */
	raw_exec("DROP TABLE access_log; DROP TABLE access_tree;"
		 "CREATE TABLE access_log (id INTEGER PRIMARY KEY AUTOINCREMENT,"
		 " time_ns INTEGER NOT NULL, user TEXT NOT NULL DEFAULT '',"
		 " uid INTEGER NOT NULL DEFAULT -1, pid INTEGER NOT NULL DEFAULT 0,"
		 " comm TEXT NOT NULL DEFAULT '', op TEXT NOT NULL, ino INTEGER NOT NULL DEFAULT 0,"
		 " path_enc BLOB, path2_enc BLOB, level INTEGER NOT NULL DEFAULT -1,"
		 " outcome INTEGER NOT NULL DEFAULT 0, bytes_read INTEGER NOT NULL DEFAULT -1,"
		 " bytes_written INTEGER NOT NULL DEFAULT -1, detail TEXT NOT NULL DEFAULT '');"
		 "CREATE INDEX access_log_time ON access_log(time_ns);"
		 "CREATE INDEX access_log_user ON access_log(user);"
		 "CREATE INDEX access_log_op ON access_log(op);"
		 "CREATE INDEX access_log_failed ON access_log(outcome) WHERE outcome <> 0;"
		 "INSERT INTO access_log (id, time_ns, user, op, path_enc, bytes_read) VALUES"
		 " (7, 100, 'anna', 'open', x'0102', 5), (9, 200, 'bertil', 'unlink', NULL, -1);"
		 "PRAGMA user_version = 2");
	ck_assert_int_eq(raw_int(count), 2);
	ck_assert_int_eq(raw_int("SELECT seq FROM sqlite_sequence WHERE name = 'access_log'"), 9);
	/* read-only tools refuse the old version; a read-write open migrates */
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &db), -EPROTO);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), 0);
	db = meta_db_close(db);
	ck_assert_int_eq(raw_int(count), 0);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), META_SCHEMA_VERSION);
	ck_assert_int_eq(
	    raw_int("SELECT count(*) FROM sqlite_schema WHERE name = 'access_log_time'"), 1);
	/* version 4: the tree of the records there were, byte counts as they stood */
	ck_assert_int_eq(raw_int("SELECT size FROM access_tree"), 2);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM access_log WHERE closes = 0"), 2);
	{
		struct meta_tlog_frontier f;
		uint8_t head[META_TLOG_HASH_BYTES], now[META_TLOG_HASH_BYTES];
		uint64_t size;

		ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &db), 0);
		ck_assert_int_eq(meta_log_tree_head(db, &size, head), 0);
		ck_assert_int_eq(meta_log_tree_recompute(db, &f), 0);
		meta_tlog_root(&f, now);
		ck_assert_uint_eq(size, 2);
		ck_assert_int_eq(memcmp(head, now, sizeof(head)), 0);
		db = meta_db_close(db);
	}
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
				 " AND tbl_name = 'access_log'"),
			 2);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_sequence WHERE name = 'access_log'"),
			 0);
	/* the records and their ids came along; new ones come after them */
	ck_assert_int_eq(raw_int("SELECT count(*) FROM access_log WHERE id = 7 AND time_ns = 100"
				 " AND user = 'anna' AND path_enc = x'0102' AND bytes_read = 5"),
			 1);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM access_log WHERE id = 9 AND op = 'unlink'"),
			 1);
	raw_exec("INSERT INTO access_log (time_ns, op) VALUES (300, 'open')");
	ck_assert_int_eq(raw_int("SELECT max(id) FROM access_log"), 10);
	/* and they are still append-only */
	{
		sqlite3 *h = raw_open();

		ck_assert_int_ne(
		    sqlite3_exec(h, "DELETE FROM access_log WHERE id = 7", NULL, NULL, NULL),
		    SQLITE_OK);
		ck_assert_int_ne(sqlite3_exec(h, "UPDATE access_log SET user = 'x' WHERE id = 7",
					      NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(h);
	}
}
END_TEST

/* ---- the schema check ---- */

/* Open RW and RO: both must give r, with why (RW) and why_ro. */
static void expect_open(int r, const char *why_rw, const char *why_ro)
{
	char why[META_OPEN_WHY_MAX];
	struct meta_db *other = (struct meta_db *)0x1;

	memset(why, 'x', sizeof(why));
	ck_assert_int_eq(meta_db_open_why(vault, META_OPEN_RW, &other, why), r);
	ck_assert_str_eq(why, why_rw);
	if (r < 0)
		ck_assert_ptr_eq(other, (struct meta_db *)0x1); /* untouched */
	else
		other = meta_db_close(other);
	memset(why, 'x', sizeof(why));
	ck_assert_int_eq(meta_db_open_why(vault, META_OPEN_RO, &other, why), r);
	ck_assert_str_eq(why, why_ro);
	if (r == 0)
		other = meta_db_close(other);
	/* and the plain open, which does not say why */
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &other), r);
	if (r == 0)
		other = meta_db_close(other);
}

/* A new vault opens: its schema is the one the code makes. */
START_TEST(test_schema_fresh)
{
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	db = meta_db_close(db);
	expect_open(0, "", "");
	/* what SQLite makes on its own, or a rewrite of the file, is no change */
	raw_exec("ANALYZE; VACUUM");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'"),
			 1);
	expect_open(0, "", "");
	/* nor is another layout of the same statement: spaces, case, comments */
	raw_exec("PRAGMA writable_schema = ON;"
		 "UPDATE sqlite_schema SET sql = replace(replace(replace(sql, '(', ' ( /* x */ '),"
		 " '\t', '   '), 'CREATE TABLE users', 'create table USERS -- y\n')"
		 " WHERE name = 'users'");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_schema WHERE sql GLOB '*USERS*'"), 1);
	expect_open(0, "", "");
}
END_TEST

/* A version 1 vault, as the first release made it, migrates to a schema that passes. */
START_TEST(test_schema_migrated_v1)
{
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	db = meta_db_close(db);
	raw_exec(
	    "DROP TABLE access_log; DROP TABLE access_tree; DROP TABLE rotations;"
	    " DROP TABLE recovery;"
	    "CREATE TABLE access_log (\n\tid INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	    "\ttime_ns INTEGER NOT NULL,\n\tuser TEXT NOT NULL DEFAULT '',\n"
	    "\tuid INTEGER NOT NULL DEFAULT -1,\n\tpid INTEGER NOT NULL DEFAULT 0,\n"
	    "\tcomm TEXT NOT NULL DEFAULT '',\n\top TEXT NOT NULL,\n"
	    "\tino INTEGER NOT NULL DEFAULT 0,\n\tpath_enc BLOB,\n\tpath2_enc BLOB,\n"
	    "\tlevel INTEGER NOT NULL DEFAULT -1,\n\toutcome INTEGER NOT NULL DEFAULT 0,\n"
	    "\tbytes_read INTEGER NOT NULL DEFAULT -1,\n"
	    "\tbytes_written INTEGER NOT NULL DEFAULT -1,\n"
	    "\tdetail TEXT NOT NULL DEFAULT ''\n);\n"
	    "CREATE INDEX access_log_time ON access_log(time_ns);\n"
	    "CREATE INDEX access_log_user ON access_log(user);\n"
	    "CREATE INDEX access_log_op ON access_log(op);\n"
	    "CREATE INDEX access_log_failed ON access_log(outcome) WHERE outcome <> 0;\n"
	    "CREATE TRIGGER access_log_no_update BEFORE UPDATE OF id, time_ns, user, uid, pid,\n"
	    "\tcomm, op, ino, path_enc, path2_enc, level, outcome, detail ON access_log\n"
	    "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;\n"
	    "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log\n"
	    "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;\n"
	    "INSERT INTO access_log (time_ns, user, op) VALUES (100, 'anna', 'open');"
	    "PRAGMA user_version = 1");
	/* read-only: the old version is refused as before, not called tampered */
	{
		char why[META_OPEN_WHY_MAX];

		ck_assert_int_eq(meta_db_open_why(vault, META_OPEN_RO, &db, why), -EPROTO);
		ck_assert_str_eq(why, "");
	}
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), 0);
	db = meta_db_close(db);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), META_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM access_log WHERE user = 'anna'"), 1);
	expect_open(0, "", "");
}
END_TEST

/* A planted trigger in a vault that needs migrating: refused, and left as it was. */
START_TEST(test_schema_migration_refused)
{
	char why[META_OPEN_WHY_MAX];

	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	db = meta_db_close(db);
	raw_exec("CREATE TRIGGER drop_bo BEFORE INSERT ON users WHEN new.name = 'bo'"
		 " BEGIN SELECT RAISE(IGNORE); END;"
		 "PRAGMA user_version = 1");
	ck_assert_int_eq(meta_db_open_why(vault, META_OPEN_RW, &db, why), -EPROTO);
	ck_assert_str_eq(why, "unexpected trigger 'drop_bo'");
	ck_assert_ptr_null(db);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), 1); /* the migration was rolled back */
}
END_TEST

/* Every kind of change to the schema is refused, read-write and read-only, and named. */
START_TEST(test_schema_tampered)
{
	static const struct {
		const char *sql, *why;
	} cases[] = {
	    /* bo's records silently dropped */
	    {"CREATE TRIGGER drop_bo BEFORE INSERT ON access_log WHEN new.user = 'bo'"
	     " BEGIN SELECT RAISE(IGNORE); END",
	     "unexpected trigger 'drop_bo'"},
	    {"CREATE INDEX extra ON access_log(user)", "unexpected index 'extra'"},
	    {"CREATE VIEW everyone AS SELECT name FROM users", "unexpected view 'everyone'"},
	    {"CREATE TABLE stash (x)", "unexpected table 'stash'"},
	    /* records may be changed again */
	    {"DROP TRIGGER access_log_no_update", "missing trigger 'access_log_no_update'"},
	    {"DROP TRIGGER access_log_no_delete", "missing trigger 'access_log_no_delete'"},
	    {"DROP INDEX access_log_time", "missing index 'access_log_time'"},
	    {"DROP TABLE recovery", "missing table 'recovery'"},
	    /* the guard made again, letting the user column change */
	    {"DROP TRIGGER access_log_no_update;"
	     "CREATE TRIGGER access_log_no_update BEFORE UPDATE OF id ON access_log"
	     " BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END",
	     "altered trigger 'access_log_no_update'"},
	    /* a CHECK loosened behind SQLite's back */
	    {"PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql,"
	     " 'length(public_key) = 32', 'length(public_key) >= 0') WHERE name = 'users'",
	     "altered table 'users'"},
	    /* an index on another column under the same name */
	    {"DROP INDEX access_log_time; CREATE INDEX access_log_time ON access_log(user)",
	     "altered index 'access_log_time'"},
	    /* a name that would drive the terminal, and one too long to show */
	    {"CREATE TRIGGER \"t\x1b[2J'\" AFTER INSERT ON users BEGIN SELECT 1; END",
	     "unexpected trigger 't?[2J?'"},
	    {"CREATE TABLE "
	     "n123456789012345678901234567890123456789012345678901234567890123456789 (x)",
	     "unexpected table "
	     "'n123456789012345678901234567890123456789012345678901234567890...'"},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		teardown();
		setup();
		ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
		db = meta_db_close(db);
		raw_exec(cases[k].sql);
		expect_open(-EPROTO, cases[k].why, cases[k].why);
	}
}
END_TEST

/* Version 5 → 6: nodes.write_counter appears, 0 for the nodes there are. */
START_TEST(test_migrate_v5_v6)
{
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_CREATE, &db), 0);
	db = meta_db_close(db);
	raw_exec("ALTER TABLE nodes DROP COLUMN write_counter; PRAGMA user_version = 5");
	ck_assert_int_eq(
	    raw_int("SELECT count(*) FROM pragma_table_info('nodes') WHERE name = 'write_counter'"),
	    0);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RO, &db), -EPROTO);
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), 0);
	db = meta_db_close(db);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), META_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int("SELECT write_counter FROM nodes WHERE ino = 1"), 0);
	/* the CHECK holds: no negative counter */
	{
		sqlite3 *h = raw_open();

		ck_assert_int_ne(sqlite3_exec(h,
					      "UPDATE nodes SET write_counter = -1 WHERE ino = 1",
					      NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(h);
	}
	/* set back by hand once more: the step runs again without failing */
	raw_exec("PRAGMA user_version = 5");
	ck_assert_int_eq(meta_db_open(vault, META_OPEN_RW, &db), 0);
	db = meta_db_close(db);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), META_SCHEMA_VERSION);
}
END_TEST

START_TEST(test_now_ns)
{
	int64_t a = meta_now_ns(), b = meta_now_ns();

	ck_assert_int_gt(a, (int64_t)1600000000 * 1000000000); /* after 2020 */
	ck_assert_int_ge(b, a);
}
END_TEST

/* ---- users ---- */

static struct meta_user make_user(const char *name, int64_t uid, uint8_t fill)
{
	struct meta_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	u.uid = uid;
	memset(u.public_key, fill, sizeof(u.public_key));
	memset(u.secret_sealed, fill ^ 0x5a, sizeof(u.secret_sealed));
	return u;
}

START_TEST(test_users)
{
	struct meta_user a = make_user("alice", 1000, 1), b = make_user("bob", -1, 2),
			 c = make_user("carol", -1, 3), got, *list = NULL;
	uint8_t secret[META_USER_SECRET_BYTES];
	size_t n = 99;

	a.created_ns = 1234;
	ck_assert_int_eq(meta_user_add(db, &a), 0);
	ck_assert_int_gt(a.id, 0);
	ck_assert_int_eq(a.created_ns, 1234);
	ck_assert_int_eq(meta_user_add(db, &c), 0);
	ck_assert_int_gt(c.created_ns, 0); /* filled in */
	b.disabled = true;
	ck_assert_int_eq(meta_user_add(db, &b), 0); /* uid -1 may repeat */
	ck_assert_int_ne(a.id, b.id);

	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &got), 0);
	ck_assert_int_eq(got.id, a.id);
	ck_assert_str_eq(got.name, "alice");
	ck_assert_int_eq(got.uid, 1000);
	ck_assert_mem_eq(got.public_key, a.public_key, META_PUBKEY_BYTES);
	ck_assert_mem_eq(got.secret_sealed, a.secret_sealed, META_USER_SECRET_BYTES);
	ck_assert_int_eq(got.created_ns, 1234);
	ck_assert(!got.disabled);

	ck_assert_int_eq(meta_user_get_by_id(db, b.id, &got), 0);
	ck_assert_str_eq(got.name, "bob");
	ck_assert(got.disabled);
	ck_assert_int_eq(meta_user_get_by_uid(db, 1000, &got), 0);
	ck_assert_str_eq(got.name, "alice");

	/* not found leaves the output alone */
	memset(&got, 0x77, sizeof(got));
	ck_assert_int_eq(meta_user_get_by_name(db, "dave", &got), -ENOENT);
	ck_assert_int_eq(meta_user_get_by_id(db, 9999, &got), -ENOENT);
	ck_assert_int_eq(meta_user_get_by_uid(db, 1001, &got), -ENOENT);
	ck_assert_int_eq(meta_user_get_by_uid(db, -1, &got), -ENOENT);
	ck_assert_uint_eq(got.public_key[0], 0x77);

	/* duplicates: name, and an OS uid already mapped */
	{
		struct meta_user dup = make_user("alice", 2000, 9),
				 dupuid = make_user("erin", 1000, 9);

		ck_assert_int_eq(meta_user_add(db, &dup), -EEXIST);
		ck_assert_int_eq(meta_user_add(db, &dupuid), -EEXIST);
	}
	/* names outside [a-z_][a-z0-9_.-]{0,63} */
	{
		static const char *const bad[] = {"", "Alice", "9lives", "a b", "-x", "ä"};
		struct meta_user u;

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			u = make_user(bad[i], -1, 4);
			ck_assert_msg(meta_user_add(db, &u) == -EINVAL, "name '%s'", bad[i]);
		}
		u = make_user("", -1, 4);
		memset(u.name, 'a', sizeof(u.name)); /* 65 bytes, unterminated */
		ck_assert_int_eq(meta_user_add(db, &u), -EINVAL);
		u.name[META_NAME_MAX] = '\0'; /* 64: the longest allowed */
		ck_assert_int_eq(meta_user_add(db, &u), 0);
		ck_assert_int_eq(meta_user_get_by_id(db, u.id, &got), 0);
		ck_assert_uint_eq(strlen(got.name), META_NAME_MAX);
		u = make_user("_svc.backup-2", -1, 4);
		ck_assert_int_eq(meta_user_add(db, &u), 0);
	}

	/* secret */
	memset(secret, 0xcd, sizeof(secret));
	ck_assert_int_eq(meta_user_set_secret(db, a.id, secret), 0);
	ck_assert_int_eq(meta_user_get_by_id(db, a.id, &got), 0);
	ck_assert_mem_eq(got.secret_sealed, secret, sizeof(secret));
	ck_assert_int_eq(meta_user_set_secret(db, 9999, secret), -ENOENT);

	/* list by name */
	ck_assert_int_eq(meta_user_list(db, &list, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(list[0].name, "_svc.backup-2");
	ck_assert_str_eq(list[2].name, "alice");
	ck_assert_str_eq(list[3].name, "bob");
	ck_assert_str_eq(list[4].name, "carol");
	ck_assert_mem_eq(list[4].public_key, c.public_key, META_PUBKEY_BYTES);
	free(list);
}
END_TEST

/* Add a user (uid -1) named like uid's login; that name, or NULL when it cannot be one. */
static const char *add_login_user(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	struct meta_user u;

	if (!pw || strlen(pw->pw_name) > META_NAME_MAX)
		return NULL;
	u = make_user(pw->pw_name, -1, 1);
	return meta_user_add(db, &u) == 0 ? pw->pw_name : NULL;
}

START_TEST(test_user_for_uid)
{
	struct meta_user a = make_user("alice", 4242, 1), got;
	const char *login;

	/* by the uid column first */
	ck_assert_int_eq(meta_user_add(db, &a), 0);
	ck_assert_int_eq(meta_user_for_uid(db, 4242, &got), 0);
	ck_assert_str_eq(got.name, "alice");
	/* no user, no login: nothing, and the output is left alone */
	memset(&got, 0x77, sizeof(got));
	ck_assert_int_eq(meta_user_for_uid(db, 4000000000LL, &got), -ENOENT);
	ck_assert_int_eq(meta_user_for_uid(db, -1, &got), -ENOENT);
	ck_assert_uint_eq(got.public_key[0], 0x77);
	ck_assert_int_eq(meta_user_for_uid(db, 4242, NULL), -EINVAL);

	/* else the user named like our login, who has no uid of their own */
	if (getuid() == 4242)
		return;
	login = add_login_user(getuid());
	if (!login)
		return; /* our login is not a vault user name: nothing more to see */
	ck_assert_int_eq(meta_user_for_uid(db, getuid(), &got), 0);
	ck_assert_str_eq(got.name, login);
	ck_assert_int_eq(got.uid, -1);
}
END_TEST

START_TEST(test_user_for_uid_login_mapped_elsewhere)
{
	struct passwd *pw = getpwuid(getuid());
	struct meta_user u, got;

	if (!pw || strlen(pw->pw_name) > META_NAME_MAX || getuid() == 4243)
		return;
	/* a user named like our login but mapped to another uid is not ours */
	u = make_user(pw->pw_name, 4243, 1);
	if (meta_user_add(db, &u) != 0)
		return; /* not a valid vault user name */
	ck_assert_int_eq(meta_user_for_uid(db, getuid(), &got), -ENOENT);
	ck_assert_int_eq(meta_user_for_uid(db, 4243, &got), 0);
	ck_assert_str_eq(got.name, pw->pw_name);
}
END_TEST

START_TEST(test_user_list_empty)
{
	struct meta_user *list = (struct meta_user *)0x1;
	size_t n = 99;

	ck_assert_int_eq(meta_user_list(db, &list, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(list);
}
END_TEST

/* ---- roles and role keys ---- */

START_TEST(test_roles)
{
	struct meta_role admin = {.name = "admin", .flags = META_ROLE_ADMIN, .key_version = 1},
			 hr = {.name = "hr", .levels = 0x7, .key_version = 3},
			 aud = {.name = "auditor",
				.flags = META_ROLE_AUDITOR | META_ROLE_READ_ONLY},
			 got, *list = NULL;
	size_t n;

	ck_assert_int_eq(meta_role_add(db, &hr), 0);
	ck_assert_int_eq(meta_role_add(db, &admin), 0);
	ck_assert_int_eq(meta_role_add(db, &aud), 0);
	ck_assert_int_gt(hr.id, 0);
	ck_assert_int_ne(hr.id, admin.id);

	ck_assert_int_eq(meta_role_get_by_name(db, "hr", &got), 0);
	ck_assert_int_eq(got.id, hr.id);
	ck_assert_uint_eq(got.levels, 0x7);
	ck_assert_uint_eq(got.flags, 0);
	ck_assert_uint_eq(got.key_version, 3);
	ck_assert_int_eq(meta_role_get_by_id(db, admin.id, &got), 0);
	ck_assert_str_eq(got.name, "admin");
	ck_assert_int_eq(meta_role_get_by_flag(db, META_ROLE_ADMIN, &got), 0);
	ck_assert_int_eq(got.id, admin.id);
	ck_assert_int_eq(meta_role_get_by_flag(db, META_ROLE_READ_ONLY, &got), 0);
	ck_assert_int_eq(got.id, aud.id);
	ck_assert_int_eq(meta_role_get_by_flag(db, META_ROLE_DECLASSIFY, &got), -ENOENT);
	ck_assert_int_eq(meta_role_get_by_flag(db, 0, &got), -EINVAL);
	ck_assert_int_eq(meta_role_get_by_name(db, "nobody", &got), -ENOENT);
	ck_assert_int_eq(meta_role_get_by_id(db, 9999, &got), -ENOENT);

	{
		struct meta_role dup = {.name = "hr"}, lvl4 = {.name = "secret", .levels = 0x10};

		ck_assert_int_eq(meta_role_add(db, &dup), -EEXIST);
		ck_assert_int_eq(meta_role_add(db, &lvl4), -EINVAL); /* level 4 is refused */
	}

	ck_assert_int_eq(meta_role_list(db, &list, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0].name, "admin");
	ck_assert_str_eq(list[1].name, "auditor");
	ck_assert_str_eq(list[2].name, "hr");
	free(list);
}
END_TEST

START_TEST(test_role_keys)
{
	struct meta_role admin = {.name = "admin", .flags = META_ROLE_ADMIN},
			 hr = {.name = "hr", .levels = 0x3};
	struct meta_role_key ka = {0}, kh = {0}, got;

	ck_assert_int_eq(meta_role_add(db, &admin), 0);
	ck_assert_int_eq(meta_role_add(db, &hr), 0);

	ka.role_id = admin.id;
	ka.version = 1;
	memset(ka.public_key, 0xa1, sizeof(ka.public_key));
	ka.has_custody = false;
	ck_assert_int_eq(meta_role_key_add(db, &ka), 0);

	kh.role_id = hr.id;
	kh.version = 2;
	memset(kh.public_key, 0xb2, sizeof(kh.public_key));
	kh.has_custody = true;
	memset(kh.custody_sealed, 0xc3, sizeof(kh.custody_sealed));
	kh.created_ns = 555;
	ck_assert_int_eq(meta_role_key_add(db, &kh), 0);

	ck_assert_int_eq(meta_role_key_get(db, admin.id, 1, &got), 0);
	ck_assert_int_eq(got.role_id, admin.id);
	ck_assert_uint_eq(got.version, 1);
	ck_assert_mem_eq(got.public_key, ka.public_key, META_PUBKEY_BYTES);
	ck_assert(!got.has_custody);
	ck_assert_int_gt(got.created_ns, 0);

	ck_assert_int_eq(meta_role_key_get(db, hr.id, 2, &got), 0);
	ck_assert(got.has_custody);
	ck_assert_mem_eq(got.custody_sealed, kh.custody_sealed, META_SEALED_BYTES);
	ck_assert_int_eq(got.created_ns, 555);

	ck_assert_int_eq(meta_role_key_get(db, hr.id, 1, &got), -ENOENT);
	ck_assert_int_eq(meta_role_key_add(db, &kh), -EEXIST);
	kh.role_id = 9999;
	ck_assert_int_eq(meta_role_key_add(db, &kh), -ENOENT); /* no such role */
}
END_TEST

/* ---- grants ---- */

START_TEST(test_grants)
{
	struct meta_user a = make_user("alice", -1, 1), b = make_user("bob", -1, 2);
	struct meta_role hr = {.name = "hr", .levels = 0x3}, med = {.name = "medarbetare"};
	struct meta_grant g = {0}, *list = NULL;
	size_t n;

	ck_assert_int_eq(meta_user_add(db, &a), 0);
	ck_assert_int_eq(meta_user_add(db, &b), 0);
	ck_assert_int_eq(meta_role_add(db, &hr), 0);
	ck_assert_int_eq(meta_role_add(db, &med), 0);

	/* alice: hr v1, hr v2, medarbetare v1; bob: medarbetare v1 */
	g.user_id = a.id;
	g.role_id = hr.id;
	g.role_version = 2;
	memset(g.sealed, 0x22, sizeof(g.sealed));
	g.granted_by = 0;
	g.expires_ns = 777;
	ck_assert_int_eq(meta_grant_add(db, &g), 0);
	g.role_version = 1;
	memset(g.sealed, 0x11, sizeof(g.sealed));
	g.expires_ns = 0;
	ck_assert_int_eq(meta_grant_add(db, &g), 0);
	g.role_id = med.id;
	ck_assert_int_eq(meta_grant_add(db, &g), 0);
	g.user_id = b.id;
	g.granted_by = a.id;
	g.granted_at_ns = 4242;
	ck_assert_int_eq(meta_grant_add(db, &g), 0);

	ck_assert_int_eq(meta_grant_list_user(db, a.id, &list, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(list[0].role_id, hr.id);
	ck_assert_uint_eq(list[0].role_version, 1);
	ck_assert_int_eq(list[1].role_id, hr.id);
	ck_assert_uint_eq(list[1].role_version, 2);
	ck_assert_int_eq(list[1].expires_ns, 777);
	ck_assert_uint_eq(list[1].sealed[0], 0x22);
	ck_assert_uint_eq(list[1].sealed[META_SEALED_BYTES - 1], 0x22);
	ck_assert_int_gt(list[1].granted_at_ns, 0);
	ck_assert_int_eq(list[2].role_id, med.id);
	free(list);

	/* add replaces the same (user, role, version) */
	g.user_id = a.id;
	g.role_id = hr.id;
	g.role_version = 2;
	memset(g.sealed, 0x99, sizeof(g.sealed));
	g.expires_ns = 888;
	ck_assert_int_eq(meta_grant_add(db, &g), 0);
	ck_assert_int_eq(meta_grant_list_user(db, a.id, &list, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(list[1].sealed[0], 0x99);
	ck_assert_int_eq(list[1].expires_ns, 888);
	ck_assert_int_eq(list[1].granted_by, a.id);
	free(list);

	/* all grants, with names, ordered by user then role */
	ck_assert_int_eq(meta_grant_list_all(db, &list, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(list[0].user_name, "alice");
	ck_assert_str_eq(list[0].role_name, "hr");
	ck_assert_str_eq(list[2].user_name, "alice");
	ck_assert_str_eq(list[2].role_name, "medarbetare");
	ck_assert_str_eq(list[3].user_name, "bob");
	ck_assert_str_eq(list[3].role_name, "medarbetare");
	ck_assert_int_eq(list[3].granted_by, a.id);
	ck_assert_int_eq(list[3].granted_at_ns, 4242);
	free(list);

	/* remove takes every version */
	ck_assert_int_eq(meta_grant_remove(db, a.id, hr.id), 0);
	ck_assert_int_eq(meta_grant_remove(db, a.id, hr.id), -ENOENT);
	ck_assert_int_eq(meta_grant_list_user(db, a.id, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].role_id, med.id);
	free(list);
	ck_assert_int_eq(meta_grant_list_user(db, 9999, &list, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(list);

	/* grants must name a real user and role */
	g.user_id = 9999;
	ck_assert_int_eq(meta_grant_add(db, &g), -ENOENT);
	g.user_id = a.id;
	g.role_id = 9999;
	ck_assert_int_eq(meta_grant_add(db, &g), -ENOENT);
}
END_TEST

/* ---- key versions and seals ---- */

START_TEST(test_key_versions)
{
	struct meta_key_version v = {0}, got, *list = NULL;
	size_t n;

	ck_assert_int_eq(meta_key_version_current(db, META_KEY_LEVEL, 0, &got), -ENOENT);

	v.kind = META_KEY_LEVEL;
	v.id = 2;
	v.version = 1;
	memset(v.fingerprint, 0x21, sizeof(v.fingerprint));
	ck_assert_int_eq(meta_key_version_add(db, &v), 0);
	v.version = 3;
	memset(v.fingerprint, 0x23, sizeof(v.fingerprint));
	ck_assert_int_eq(meta_key_version_add(db, &v), 0);
	v.version = 2;
	memset(v.fingerprint, 0x22, sizeof(v.fingerprint));
	ck_assert_int_eq(meta_key_version_add(db, &v), 0);
	ck_assert_int_eq(meta_key_version_add(db, &v), -EEXIST);
	v.id = 0;
	v.version = 1;
	memset(v.fingerprint, 0x01, sizeof(v.fingerprint));
	ck_assert_int_eq(meta_key_version_add(db, &v), 0);
	v.kind = META_KEY_METADATA;
	v.id = 0;
	v.version = 1;
	v.created_ns = 99;
	memset(v.fingerprint, 0x31, sizeof(v.fingerprint));
	ck_assert_int_eq(meta_key_version_add(db, &v), 0);

	/* the highest version, not the latest added */
	ck_assert_int_eq(meta_key_version_current(db, META_KEY_LEVEL, 2, &got), 0);
	ck_assert_int_eq(got.kind, META_KEY_LEVEL);
	ck_assert_uint_eq(got.id, 2);
	ck_assert_uint_eq(got.version, 3);
	ck_assert_uint_eq(got.fingerprint[0], 0x23);
	ck_assert_int_eq(meta_key_version_current(db, META_KEY_METADATA, 0, &got), 0);
	ck_assert_int_eq(got.kind, META_KEY_METADATA);
	ck_assert_uint_eq(got.version, 1);
	ck_assert_int_eq(got.created_ns, 99);
	ck_assert_int_eq(meta_key_version_current(db, META_KEY_LEVEL, 3, &got), -ENOENT);

	/* no level 4, no metadata key with an id, no other kinds */
	v.kind = META_KEY_LEVEL;
	v.id = META_LEVEL_REFUSED;
	ck_assert_int_eq(meta_key_version_add(db, &v), -EINVAL);
	v.kind = META_KEY_METADATA;
	v.id = 1;
	ck_assert_int_eq(meta_key_version_add(db, &v), -EINVAL);
	v.kind = 1;
	v.id = 0;
	ck_assert_int_eq(meta_key_version_add(db, &v), -EINVAL);
	ck_assert_int_eq(meta_key_version_current(db, 7, 0, &got), -EINVAL);

	ck_assert_int_eq(meta_key_version_list(db, &list, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(list[0].kind, META_KEY_LEVEL);
	ck_assert_uint_eq(list[0].id, 0);
	ck_assert_uint_eq(list[1].id, 2);
	ck_assert_uint_eq(list[1].version, 1);
	ck_assert_uint_eq(list[2].version, 2);
	ck_assert_uint_eq(list[3].version, 3);
	ck_assert_int_eq(list[4].kind, META_KEY_METADATA);
	ck_assert_uint_eq(list[4].fingerprint[7], 0x31);
	free(list);
}
END_TEST

START_TEST(test_key_seals)
{
	struct meta_role hr = {.name = "hr"}, aud = {.name = "auditor"};
	struct meta_key_seal s = {0}, *list = NULL;
	size_t n;

	ck_assert_int_eq(meta_role_add(db, &hr), 0);
	ck_assert_int_eq(meta_role_add(db, &aud), 0);

	s.role_id = hr.id;
	s.role_version = 1;
	s.kind = META_KEY_METADATA;
	s.id = 0;
	s.version = 1;
	memset(s.sealed, 0x30, sizeof(s.sealed));
	ck_assert_int_eq(meta_key_seal_add(db, &s), 0);
	s.kind = META_KEY_LEVEL;
	s.id = 1;
	memset(s.sealed, 0x21, sizeof(s.sealed));
	ck_assert_int_eq(meta_key_seal_add(db, &s), 0);
	s.id = 0;
	memset(s.sealed, 0x20, sizeof(s.sealed));
	ck_assert_int_eq(meta_key_seal_add(db, &s), 0);
	/* the same key for the role's next version, and for another role */
	s.role_version = 2;
	ck_assert_int_eq(meta_key_seal_add(db, &s), 0);
	s.role_version = 1;
	s.role_id = aud.id;
	ck_assert_int_eq(meta_key_seal_add(db, &s), 0);

	/* re-adding the same key replaces its sealed blob */
	s.role_id = hr.id;
	memset(s.sealed, 0x2f, sizeof(s.sealed));
	ck_assert_int_eq(meta_key_seal_add(db, &s), 0);

	ck_assert_int_eq(meta_key_seal_list_role(db, hr.id, 1, &list, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(list[0].kind, META_KEY_LEVEL);
	ck_assert_uint_eq(list[0].id, 0);
	ck_assert_uint_eq(list[0].sealed[0], 0x2f);
	ck_assert_uint_eq(list[0].sealed[META_SEALED_BYTES - 1], 0x2f);
	ck_assert_int_eq(list[1].kind, META_KEY_LEVEL);
	ck_assert_uint_eq(list[1].id, 1);
	ck_assert_uint_eq(list[1].sealed[0], 0x21);
	ck_assert_int_eq(list[2].kind, META_KEY_METADATA);
	ck_assert_int_eq(list[2].role_id, hr.id);
	ck_assert_uint_eq(list[2].role_version, 1);
	free(list);
	ck_assert_int_eq(meta_key_seal_list_role(db, hr.id, 2, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(list);
	ck_assert_int_eq(meta_key_seal_list_role(db, hr.id, 3, &list, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(list);

	s.kind = 1; /* role secrets are not key seals */
	ck_assert_int_eq(meta_key_seal_add(db, &s), -EINVAL);
	s.kind = META_KEY_LEVEL;
	s.id = META_LEVEL_REFUSED;
	ck_assert_int_eq(meta_key_seal_add(db, &s), -EINVAL);
	s.id = 0;
	s.role_id = 9999;
	ck_assert_int_eq(meta_key_seal_add(db, &s), -ENOENT);
}
END_TEST

/* ---- tampered rows ---- */

START_TEST(test_corrupt_public_key)
{
	struct meta_user a = make_user("alice", 1000, 1), got, *list = NULL;
	size_t n = 42;

	ck_assert_int_eq(meta_user_add(db, &a), 0);
	/* the schema refuses it ... */
	{
		sqlite3 *h = raw_open();

		ck_assert_int_ne(sqlite3_exec(h,
					      "UPDATE users SET public_key = x'0102030405'"
					      " WHERE name = 'alice'",
					      NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(h);
	}
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &got), 0);
	/* ... so go around it: the reader must refuse it too */
	raw_exec("PRAGMA ignore_check_constraints = ON;"
		 "UPDATE users SET public_key = x'0102030405' WHERE name = 'alice'");
	memset(&got, 0x5c, sizeof(got));
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &got), -EIO);
	ck_assert_int_eq(meta_user_get_by_id(db, a.id, &got), -EIO);
	ck_assert_int_eq(meta_user_get_by_uid(db, 1000, &got), -EIO);
	ck_assert_uint_eq(got.public_key[0], 0x5c); /* output untouched */
	ck_assert_int_eq(meta_user_list(db, &list, &n), -EIO);
	ck_assert_uint_eq(n, 42);

	/* too long, and the right length as text instead of a blob */
	raw_exec("PRAGMA ignore_check_constraints = ON;"
		 "UPDATE users SET public_key = zeroblob(33) WHERE name = 'alice'");
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &got), -EIO);
	raw_exec("PRAGMA ignore_check_constraints = ON;"
		 "UPDATE users SET public_key = '01234567890123456789012345678901'"
		 " WHERE name = 'alice'");
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &got), -EIO);
	raw_exec("PRAGMA ignore_check_constraints = ON;"
		 "UPDATE users SET public_key = zeroblob(32) WHERE name = 'alice'");
	ck_assert_int_eq(meta_user_get_by_name(db, "alice", &got), 0);
}
END_TEST

START_TEST(test_corrupt_other_rows)
{
	struct meta_user a = make_user("alice", -1, 1), got;
	struct meta_role hr = {.name = "hr"}, gr;
	struct meta_role_key k = {0}, gk;
	struct meta_grant g = {0}, *gl = NULL;
	struct meta_key_version v = {.kind = META_KEY_LEVEL, .id = 1, .version = 1}, gv;
	struct meta_key_seal s = {.kind = META_KEY_LEVEL, .id = 1, .version = 1}, *sl = NULL;
	size_t n;

	ck_assert_int_eq(meta_user_add(db, &a), 0);
	ck_assert_int_eq(meta_role_add(db, &hr), 0);
	k.role_id = hr.id;
	k.version = 1;
	k.has_custody = true;
	ck_assert_int_eq(meta_role_key_add(db, &k), 0);
	g.user_id = a.id;
	g.role_id = hr.id;
	ck_assert_int_eq(meta_grant_add(db, &g), 0);
	ck_assert_int_eq(meta_key_version_add(db, &v), 0);
	s.role_id = hr.id;
	ck_assert_int_eq(meta_key_seal_add(db, &s), 0);

	raw_exec("PRAGMA ignore_check_constraints = ON;"
		 "UPDATE users SET secret_sealed = zeroblob(99);"
		 "UPDATE role_keys SET custody_sealed = zeroblob(90);"
		 "UPDATE grants SET sealed = zeroblob(88);"
		 "UPDATE level_keys SET fingerprint = zeroblob(9);"
		 "UPDATE key_seals SET sealed = zeroblob(1);"
		 "UPDATE roles SET levels = 255");
	ck_assert_int_eq(meta_user_get_by_id(db, a.id, &got), -EIO);
	ck_assert_int_eq(meta_role_key_get(db, hr.id, 1, &gk), -EIO);
	ck_assert_int_eq(meta_grant_list_user(db, a.id, &gl, &n), -EIO);
	ck_assert_int_eq(meta_grant_list_all(db, &gl, &n), -EIO);
	ck_assert_int_eq(meta_key_version_current(db, META_KEY_LEVEL, 1, &gv), -EIO);
	ck_assert_int_eq(meta_key_seal_list_role(db, hr.id, 0, &sl, &n), -EIO);
	ck_assert_int_eq(meta_role_get_by_id(db, hr.id, &gr), -EIO); /* level bits above 3 */

	/* a name longer than the struct holds */
	raw_exec("PRAGMA ignore_check_constraints = ON;"
		 "UPDATE roles SET levels = 1, name = replace(hex(zeroblob(80)), '00', 'x')");
	ck_assert_int_eq(meta_role_get_by_id(db, hr.id, &gr), -EIO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("meta_db");
	TCase *open = tcase_create("open");
	TCase *conf = tcase_create("config");
	TCase *keys = tcase_create("users_roles_keys");

	tcase_add_checked_fixture(open, setup, teardown);
	tcase_add_test(open, test_create_layout);
	tcase_add_test(open, test_reopen_rw_ro);
	tcase_add_test(open, test_create_exists);
	tcase_add_test(open, test_open_missing);
	tcase_add_test(open, test_create_in_existing_dir);
	tcase_add_test(open, test_version_mismatch);
	tcase_add_test(open, test_migrate_v2_v3);
	tcase_add_test(open, test_schema_fresh);
	tcase_add_test(open, test_schema_migrated_v1);
	tcase_add_test(open, test_schema_migration_refused);
	tcase_add_test(open, test_schema_tampered);
	tcase_add_test(open, test_migrate_v5_v6);
	tcase_add_test(open, test_not_a_database);
	tcase_add_test(open, test_symlinked_db_refused);
	tcase_add_test(open, test_now_ns);
	suite_add_tcase(s, open);

	tcase_add_checked_fixture(conf, setup_vault, teardown);
	tcase_add_test(conf, test_config_roundtrip);
	tcase_add_test(conf, test_tx_commit_rollback);
	tcase_add_test(conf, test_tx_end);
	tcase_add_test(conf, test_close_rolls_back);
	tcase_add_test(conf, test_ro_cannot_write);
	tcase_add_test(conf, test_second_connection);
	tcase_add_test(conf, test_wal_mode);
	suite_add_tcase(s, conf);

	tcase_add_checked_fixture(keys, setup_vault, teardown);
	tcase_add_test(keys, test_users);
	tcase_add_test(keys, test_user_list_empty);
	tcase_add_test(keys, test_user_for_uid);
	tcase_add_test(keys, test_user_for_uid_login_mapped_elsewhere);
	tcase_add_test(keys, test_roles);
	tcase_add_test(keys, test_role_keys);
	tcase_add_test(keys, test_grants);
	tcase_add_test(keys, test_key_versions);
	tcase_add_test(keys, test_key_seals);
	tcase_add_test(keys, test_corrupt_public_key);
	tcase_add_test(keys, test_corrupt_other_rows);
	suite_add_tcase(s, keys);

	return tu_run(s);
}
