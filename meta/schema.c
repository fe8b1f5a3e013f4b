/*
 * meta/schema.c — vault.db's schema (docs/format.md §8) and its migrations.
 *
 * The schema version lives in PRAGMA user_version. migrations[v] takes a
 * database from version v to v + 1, inside one transaction, so a vault is
 * never left half-migrated: step 0 (v0 → v1) is the creation of a vault —
 * every table and index, the root directory (inode 1) and the default
 * configuration. A later version adds a step at the end of the table and
 * bumps META_SCHEMA_VERSION; older vaults catch up when opened read-write.
 *
 * The constraints repeat the fixed sizes of the blobs (public keys 32, sealed
 * keys 89, ...) and the ranges of the numbers, so SQLite itself refuses a
 * wrong-sized key from a buggy caller; the readers (meta_col_*) check again,
 * because the file may have been edited behind SQLite's back.
 */
#include "meta/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "meta/internal.h"
#include "meta/records-tree.h"
#include "meta/keys.h"
#include "meta/users.h"
#include "meta/ns.h"

/* The literal sizes in the SQL below. */
_Static_assert(META_PUBKEY_BYTES == 32, "users/role_keys.public_key CHECK");
_Static_assert(META_USER_SECRET_BYTES == 100, "users.secret_sealed CHECK");
_Static_assert(META_SEALED_BYTES == 89, "grants/key_seals/role_keys sealed CHECK");
_Static_assert(META_FINGERPRINT_BYTES == 8, "level_keys/meta_keys.fingerprint CHECK");
_Static_assert(META_HASH_BYTES == 32, "dirents/xattrs.name_hash CHECK");
_Static_assert(META_OBJECT_ID_BYTES == 16, "nodes.object_id CHECK");
_Static_assert(META_FILE_KEY_BYTES == 80, "nodes.file_key CHECK");
_Static_assert(META_NAME_MAX == 64, "users/roles.name CHECK");
_Static_assert(META_LEVELS == 4, "levels 0..3 CHECK, roles.levels mask 0..15");

#define VAULT_ID_BYTES 16
/* Bytes of an object's name shown in the schema check's description. */
#define META_SCHEMA_NAME_SHOWN 64
_Static_assert(sizeof("unexpected trigger ''") + 15 + META_SCHEMA_NAME_SHOWN <= META_OPEN_WHY_MAX,
	       "the schema check's description fits META_OPEN_WHY_MAX");

/*
 * Version 1. Ids that outlive their rows (inode numbers the kernel may still
 * hold, readdir offsets, access record ids, users and roles named in old
 * records) are AUTOINCREMENT so they are never reused.
 */
/* clang-format off */
static const char *const schema_v1[] = {
	"CREATE TABLE vault_config (\n"
	"	key TEXT PRIMARY KEY NOT NULL,\n"
	"	value BLOB NOT NULL\n"
	") WITHOUT ROWID;\n",

	"CREATE TABLE users (\n"
	"	id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),\n"
	"	uid INTEGER NOT NULL DEFAULT -1 CHECK (uid >= -1),\n"
	"	public_key BLOB NOT NULL\n"
	"		CHECK (typeof(public_key) = 'blob' AND length(public_key) = 32),\n"
	"	secret_sealed BLOB NOT NULL\n"
	"		CHECK (typeof(secret_sealed) = 'blob' AND length(secret_sealed) = 100),\n"
	"	created INTEGER NOT NULL,\n"
	"	disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))\n"
	");\n",
	/* one vault user per OS uid; -1 (map by login name) may repeat */
	"CREATE UNIQUE INDEX users_uid ON users(uid) WHERE uid >= 0;\n",

	"CREATE TABLE roles (\n"
	"	id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),\n"
	"	levels INTEGER NOT NULL CHECK (levels BETWEEN 0 AND 15),\n"
	"	flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 4294967295),\n"
	"	key_version INTEGER NOT NULL CHECK (key_version BETWEEN 0 AND 4294967295),\n"
	"	created INTEGER NOT NULL\n"
	");\n",

	"CREATE TABLE role_keys (\n"
	"	role_id INTEGER NOT NULL REFERENCES roles(id),\n"
	"	version INTEGER NOT NULL CHECK (version BETWEEN 0 AND 4294967295),\n"
	"	public_key BLOB NOT NULL\n"
	"		CHECK (typeof(public_key) = 'blob' AND length(public_key) = 32),\n"
	"	custody_sealed BLOB CHECK (custody_sealed IS NULL OR\n"
	"		(typeof(custody_sealed) = 'blob' AND length(custody_sealed) = 89)),\n"
	"	created INTEGER NOT NULL,\n"
	"	PRIMARY KEY (role_id, version)\n"
	") WITHOUT ROWID;\n",

	"CREATE TABLE grants (\n"
	"	user_id INTEGER NOT NULL REFERENCES users(id),\n"
	"	role_id INTEGER NOT NULL REFERENCES roles(id),\n"
	"	role_version INTEGER NOT NULL CHECK (role_version BETWEEN 0 AND 4294967295),\n"
	"	sealed BLOB NOT NULL CHECK (typeof(sealed) = 'blob' AND length(sealed) = 89),\n"
	"	granted_by INTEGER NOT NULL DEFAULT 0,\n" /* users.id; 0 = at init */
	"	granted_at INTEGER NOT NULL,\n"
	"	expires INTEGER NOT NULL DEFAULT 0,\n" /* 0 = never */
	"	PRIMARY KEY (user_id, role_id, role_version)\n"
	") WITHOUT ROWID;\n",
	"CREATE INDEX grants_role ON grants(role_id);\n",

	"CREATE TABLE level_keys (\n"
	"	level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),\n"
	"	version INTEGER NOT NULL CHECK (version BETWEEN 0 AND 4294967295),\n"
	"	fingerprint BLOB NOT NULL\n"
	"		CHECK (typeof(fingerprint) = 'blob' AND length(fingerprint) = 8),\n"
	"	created INTEGER NOT NULL,\n"
	"	PRIMARY KEY (level, version)\n"
	") WITHOUT ROWID;\n",

	"CREATE TABLE meta_keys (\n"
	"	version INTEGER PRIMARY KEY NOT NULL CHECK (version BETWEEN 0 AND 4294967295),\n"
	"	fingerprint BLOB NOT NULL\n"
	"		CHECK (typeof(fingerprint) = 'blob' AND length(fingerprint) = 8),\n"
	"	created INTEGER NOT NULL\n"
	");\n",

	"CREATE TABLE key_seals (\n"
	"	kind INTEGER NOT NULL CHECK (kind IN (2, 3)),\n"
	"	id INTEGER NOT NULL CHECK (id BETWEEN 0 AND 4294967295),\n"
	"	version INTEGER NOT NULL CHECK (version BETWEEN 0 AND 4294967295),\n"
	"	role_id INTEGER NOT NULL REFERENCES roles(id),\n"
	"	role_version INTEGER NOT NULL CHECK (role_version BETWEEN 0 AND 4294967295),\n"
	"	sealed BLOB NOT NULL CHECK (typeof(sealed) = 'blob' AND length(sealed) = 89),\n"
	"	PRIMARY KEY (kind, id, version, role_id, role_version)\n"
	") WITHOUT ROWID;\n",
	"CREATE INDEX key_seals_role ON key_seals(role_id, role_version);\n",

	"CREATE TABLE nodes (\n"
	"	ino INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 4294967295),\n"
	"	uid INTEGER NOT NULL CHECK (uid BETWEEN 0 AND 4294967295),\n"
	"	gid INTEGER NOT NULL CHECK (gid BETWEEN 0 AND 4294967295),\n"
	"	nlink INTEGER NOT NULL CHECK (nlink BETWEEN 0 AND 4294967295),\n"
	"	size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),\n"
	"	rdev INTEGER NOT NULL DEFAULT 0,\n"
	"	atime_ns INTEGER NOT NULL,\n"
	"	mtime_ns INTEGER NOT NULL,\n"
	"	ctime_ns INTEGER NOT NULL,\n"
	"	level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),\n"
	"	level_r INTEGER NOT NULL DEFAULT 0 CHECK (level_r BETWEEN 0 AND 3),\n"
	"	level_t INTEGER NOT NULL DEFAULT 0 CHECK (level_t BETWEEN 0 AND 3),\n"
	"	level_s INTEGER NOT NULL DEFAULT 0 CHECK (level_s BETWEEN 0 AND 3),\n"
	"	object_id BLOB UNIQUE CHECK (object_id IS NULL OR\n"
	"		(typeof(object_id) = 'blob' AND length(object_id) = 16)),\n"
	"	file_key BLOB CHECK (file_key IS NULL OR\n"
	"		(typeof(file_key) = 'blob' AND length(file_key) = 80)),\n"
	"	symlink_enc BLOB,\n"
	"	CHECK ((object_id IS NULL) = (file_key IS NULL))\n"
	");\n",
	"CREATE INDEX nodes_orphans ON nodes(nlink) WHERE nlink = 0;\n",

	"CREATE TABLE dirents (\n"
	"	id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	parent INTEGER NOT NULL REFERENCES nodes(ino),\n"
	"	name_hash BLOB NOT NULL\n"
	"		CHECK (typeof(name_hash) = 'blob' AND length(name_hash) = 32),\n"
	"	name_enc BLOB NOT NULL,\n"
	"	ino INTEGER NOT NULL REFERENCES nodes(ino) CHECK (ino <> parent),\n"
	"	UNIQUE (parent, name_hash)\n"
	");\n",
	/* (parent, id): readdir in id order */
	"CREATE INDEX dirents_parent ON dirents(parent);\n",
	"CREATE INDEX dirents_ino ON dirents(ino);\n",

	"CREATE TABLE xattrs (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	ino INTEGER NOT NULL REFERENCES nodes(ino) ON DELETE CASCADE,\n"
	"	name_hash BLOB NOT NULL\n"
	"		CHECK (typeof(name_hash) = 'blob' AND length(name_hash) = 32),\n"
	"	name_enc BLOB NOT NULL,\n"
	"	value_enc BLOB NOT NULL,\n"
	"	UNIQUE (ino, name_hash)\n"
	");\n",

	"CREATE TABLE access_log (\n"
	"	id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	time_ns INTEGER NOT NULL,\n"
	"	user TEXT NOT NULL DEFAULT '',\n"
	"	uid INTEGER NOT NULL DEFAULT -1,\n"
	"	pid INTEGER NOT NULL DEFAULT 0,\n"
	"	comm TEXT NOT NULL DEFAULT '',\n"
	"	op TEXT NOT NULL,\n"
	"	ino INTEGER NOT NULL DEFAULT 0,\n"
	"	path_enc BLOB,\n"
	"	path2_enc BLOB,\n"
	"	level INTEGER NOT NULL DEFAULT -1,\n"
	"	outcome INTEGER NOT NULL DEFAULT 0,\n"
	"	bytes_read INTEGER NOT NULL DEFAULT -1,\n"
	"	bytes_written INTEGER NOT NULL DEFAULT -1,\n"
	"	detail TEXT NOT NULL DEFAULT ''\n"
	");\n",
	"CREATE INDEX access_log_time ON access_log(time_ns);\n",
	"CREATE INDEX access_log_user ON access_log(user);\n",
	"CREATE INDEX access_log_op ON access_log(op);\n",
	"CREATE INDEX access_log_failed ON access_log(outcome) WHERE outcome <> 0;\n",
	/*
	 * Records are append-only through this library: only the byte counts of
	 * an open's record are filled in later. (A guard against mistakes, not
	 * against someone editing the file: that is for signed checkpoints.)
	 */
	"CREATE TRIGGER access_log_no_update BEFORE UPDATE OF id, time_ns, user, uid, pid,\n"
	"	comm, op, ino, path_enc, path2_enc, level, outcome, detail ON access_log\n"
	"BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;\n",
	("CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log\n"
	 "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;\n"),
};
/* clang-format on */

/* Default level names (DESIGN.md §3), configurable per vault. */
static const char *const level_names[META_LEVELS] = {
    "Öppen",
    "Intern",
    "Känslig",
    "Mycket känslig",
};

/* n random bytes from the kernel (getrandom(2); blocks only before the pool is seeded). */
static int random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t k = getrandom(p, n, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int insert_root(struct meta_db *db)
{
	static const char sql[] =
	    "INSERT INTO nodes (ino, mode, uid, gid, nlink, size, rdev, atime_ns, mtime_ns,"
	    " ctime_ns, level) VALUES (?1, ?2, 0, 0, 2, 0, 0, ?3, ?3, ?3, 0)";
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, META_ROOT_INO);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, S_IFDIR | 01777);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, meta_now_ns());
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : meta_errno(rc);
}

static int default_config(struct meta_db *db)
{
	uint8_t vault_id[VAULT_ID_BYTES];
	char key[32];
	int r;

	r = random_bytes(vault_id, sizeof(vault_id));
	if (r < 0)
		return r;
	r = meta_config_set_blob(db, "vault_id", vault_id, sizeof(vault_id));
	if (r < 0)
		return r;
	r = meta_config_set_int(db, "format", 1);
	if (r < 0)
		return r;
	r = meta_config_set_int(db, "cipher", 1);
	if (r < 0)
		return r;
	r = meta_config_set_int(db, "chunk_shift", 12);
	if (r < 0)
		return r;
	r = meta_config_set_int(db, "created", meta_now_ns());
	if (r < 0)
		return r;
	for (int l = 0; l < META_LEVELS; l++) {
		snprintf(key, sizeof(key), "level_name.%d", l);
		r = meta_config_set_blob(db, key, level_names[l], strlen(level_names[l]));
		if (r < 0)
			return r;
	}
	return 0;
}

/* v0 → v1: a new vault. */
static int migrate_create_v1(struct meta_db *db)
{
	int rc, r;

	for (size_t i = 0; i < sizeof(schema_v1) / sizeof(schema_v1[0]); i++) {
		rc = sqlite3_exec(db->sql, schema_v1[i], NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return meta_errno(rc);
	}
	r = insert_root(db);
	if (r < 0)
		return r;
	return default_config(db);
}

/*
 * Version 2: the key lifecycle (meta/rotations.h, meta/recovery.h). rotations records each
 * rotation of key versions (re-wrapping file keys) and each re-encryption,
 * with its progress, so an interrupted one resumes; recovery holds the
 * recovery setup (the admin role secret sealed to a key pair split among
 * officers). IF NOT EXISTS: a vault whose user_version was set back by hand
 * migrates again without failing.
 */
/* clang-format off */
static const char *const schema_v2[] = {
	"CREATE TABLE IF NOT EXISTS rotations (\n"
	"	id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	kind TEXT NOT NULL CHECK (kind IN ('rewrap', 'reencrypt')),\n"
	"	reason TEXT NOT NULL DEFAULT '',\n"
	"	started_by TEXT NOT NULL DEFAULT '',\n"
	"	levels INTEGER NOT NULL CHECK (levels BETWEEN 0 AND 15),\n"
	"	state TEXT NOT NULL CHECK (state IN ('running', 'done')),\n"
	"	started INTEGER NOT NULL,\n"
	"	finished INTEGER NOT NULL DEFAULT 0,\n"
	"	cursor INTEGER NOT NULL DEFAULT 0 CHECK (cursor >= 0),\n"
	"	done INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),\n"
	"	total INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),\n"
	"	failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),\n"
	"	pending_object BLOB CHECK (pending_object IS NULL OR\n"
	"		(typeof(pending_object) = 'blob' AND length(pending_object) = 16))\n"
	");\n",
	"CREATE INDEX IF NOT EXISTS rotations_running ON rotations(state)"
	" WHERE state = 'running';\n",

	"CREATE TABLE IF NOT EXISTS recovery (\n"
	"	id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	public_key BLOB NOT NULL\n"
	"		CHECK (typeof(public_key) = 'blob' AND length(public_key) = 32),\n"
	"	threshold INTEGER NOT NULL CHECK (threshold BETWEEN 2 AND 255),\n"
	"	shares INTEGER NOT NULL CHECK (shares BETWEEN threshold AND 255),\n"
	"	officers TEXT NOT NULL,\n"
	"	admin_role_version INTEGER NOT NULL\n"
	"		CHECK (admin_role_version BETWEEN 0 AND 4294967295),\n"
	"	admin_sealed BLOB NOT NULL\n"
	"		CHECK (typeof(admin_sealed) = 'blob' AND length(admin_sealed) = 89),\n"
	"	created INTEGER NOT NULL,\n"
	"	created_by TEXT NOT NULL DEFAULT ''\n"
	");\n",
};
/* clang-format on */

/* v1 → v2: the key lifecycle tables. */
/* Run the statements of a migration step, in the caller's transaction. */
static int exec_steps(struct meta_db *db, const char *const *sql, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = sqlite3_exec(db->sql, sql[i], NULL, NULL, NULL);

		if (rc != SQLITE_OK)
			return meta_errno(rc);
	}
	return 0;
}

static int migrate_v2(struct meta_db *db)
{
	return exec_steps(db, schema_v2, sizeof(schema_v2) / sizeof(schema_v2[0]));
}

/*
 * v2 → v3: every operation's transaction writes its record, and each page a
 * record touches is a page written to the log: the table, its indexes, and
 * sqlite_sequence for AUTOINCREMENT. access_log now keeps only its time and
 * failure indexes (auditors' queries by user or op scan instead: a million
 * records in well under a second) and a plain INTEGER PRIMARY KEY: records
 * are never deleted, so the next id is still always larger than every id
 * before it, which is all AUTOINCREMENT added. The table is copied, ids and
 * all, and its triggers made again.
 */
/* clang-format off */
static const char *const schema_v3[] = {
	"CREATE TABLE access_log_v3 (\n"
	"	id INTEGER PRIMARY KEY,\n"
	"	time_ns INTEGER NOT NULL,\n"
	"	user TEXT NOT NULL DEFAULT '',\n"
	"	uid INTEGER NOT NULL DEFAULT -1,\n"
	"	pid INTEGER NOT NULL DEFAULT 0,\n"
	"	comm TEXT NOT NULL DEFAULT '',\n"
	"	op TEXT NOT NULL,\n"
	"	ino INTEGER NOT NULL DEFAULT 0,\n"
	"	path_enc BLOB,\n"
	"	path2_enc BLOB,\n"
	"	level INTEGER NOT NULL DEFAULT -1,\n"
	"	outcome INTEGER NOT NULL DEFAULT 0,\n"
	"	bytes_read INTEGER NOT NULL DEFAULT -1,\n"
	"	bytes_written INTEGER NOT NULL DEFAULT -1,\n"
	"	detail TEXT NOT NULL DEFAULT ''\n"
	");\n",
	"INSERT INTO access_log_v3 (id, time_ns, user, uid, pid, comm, op, ino, path_enc,\n"
	"	path2_enc, level, outcome, bytes_read, bytes_written, detail)\n"
	"SELECT id, time_ns, user, uid, pid, comm, op, ino, path_enc, path2_enc, level,\n"
	"	outcome, bytes_read, bytes_written, detail FROM access_log ORDER BY id;\n",
	"DROP TABLE access_log;\n", /* with its indexes and triggers */
	"ALTER TABLE access_log_v3 RENAME TO access_log;\n",
	"DELETE FROM sqlite_sequence WHERE name = 'access_log';\n",
	"CREATE INDEX access_log_time ON access_log(time_ns);\n",
	"CREATE INDEX access_log_failed ON access_log(outcome) WHERE outcome <> 0;\n",
	"CREATE TRIGGER access_log_no_update BEFORE UPDATE OF id, time_ns, user, uid, pid,\n"
	"	comm, op, ino, path_enc, path2_enc, level, outcome, detail ON access_log\n"
	"BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;\n",
	("CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log\n"
	 "BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;\n"),
};
/* clang-format on */

static int migrate_v3(struct meta_db *db)
{
	return exec_steps(db, schema_v3, sizeof(schema_v3) / sizeof(schema_v3[0]));
}

/*
 * Version 4: the access record becomes a Merkle log (docs/format.md §10).
 * Records no longer change at all: what an open read and wrote is a close
 * record of its own that names the open (closes), so the update trigger now
 * refuses every column. access_tree holds the frontier of the tree, grown
 * with each record; the migration builds it from the records there are
 * (records of older versions keep their byte counts in place and are
 * hashed as they stand). IF [NOT] EXISTS as in version 2, for a vault whose
 * user_version was set back by hand.
 */
/* clang-format off */
static const char *const schema_v4[] = {
	"ALTER TABLE access_log ADD COLUMN closes INTEGER NOT NULL DEFAULT 0\n"
	"	CHECK (closes >= 0);\n",
	"DROP TRIGGER IF EXISTS access_log_no_update;\n",
	"CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log\n"
	"BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;\n",
	"CREATE INDEX IF NOT EXISTS access_log_closes ON access_log(closes) WHERE closes <> 0;\n",
	"CREATE TABLE IF NOT EXISTS access_tree (\n"
	"	id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"	size INTEGER NOT NULL CHECK (size >= 0),\n"
	"	frontier BLOB NOT NULL\n"
	");\n",
};
/* clang-format on */

static int migrate_v4(struct meta_db *db)
{
	int r = exec_steps(db, schema_v4, sizeof(schema_v4) / sizeof(schema_v4[0]));

	return r < 0 ? r : meta_log_tree_start(db);
}

/*
 * Version 5: the vault's signing identities (docs/key-hierarchy.md,
 * docs/format.md §11). key_seals takes two more kinds of sealed key, the
 * checkpoint signing key (4, sealed to every role) and the administration
 * signing key (5, the admin role alone): the table is copied, as in version
 * 3, because a CHECK constraint cannot be altered. sign_keys holds their
 * public keys by version; checkpoints every signed checkpoint the vault made
 * (the copy inside the vault: the anchors outside it are what count).
 */
/* clang-format off */
static const char *const schema_v5[] = {
	"CREATE TABLE key_seals_v5 (\n"
	"	kind INTEGER NOT NULL CHECK (kind IN (2, 3, 4, 5)),\n"
	"	id INTEGER NOT NULL CHECK (id BETWEEN 0 AND 4294967295),\n"
	"	version INTEGER NOT NULL CHECK (version BETWEEN 0 AND 4294967295),\n"
	"	role_id INTEGER NOT NULL REFERENCES roles(id),\n"
	"	role_version INTEGER NOT NULL CHECK (role_version BETWEEN 0 AND 4294967295),\n"
	"	sealed BLOB NOT NULL CHECK (typeof(sealed) = 'blob' AND length(sealed) = 89),\n"
	"	PRIMARY KEY (kind, id, version, role_id, role_version)\n"
	") WITHOUT ROWID;\n",
	"INSERT INTO key_seals_v5 (kind, id, version, role_id, role_version, sealed)\n"
	"SELECT kind, id, version, role_id, role_version, sealed FROM key_seals;\n",
	"DROP TABLE key_seals;\n", /* with its index */
	"ALTER TABLE key_seals_v5 RENAME TO key_seals;\n",
	"CREATE INDEX key_seals_role ON key_seals(role_id, role_version);\n",
	"CREATE TABLE IF NOT EXISTS sign_keys (\n"
	"	kind INTEGER NOT NULL CHECK (kind IN (4, 5)),\n"
	"	version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 65535),\n"
	"	public_key BLOB NOT NULL\n"
	"		CHECK (typeof(public_key) = 'blob' AND length(public_key) = 32),\n"
	"	created INTEGER NOT NULL,\n"
	"	PRIMARY KEY (kind, version)\n"
	") WITHOUT ROWID;\n",
	"CREATE TABLE IF NOT EXISTS checkpoints (\n"
	"	size INTEGER PRIMARY KEY CHECK (size >= 0),\n"
	"	note TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 65536),\n"
	"	created INTEGER NOT NULL\n"
	");\n",
};
/* clang-format on */

static int migrate_v5(struct meta_db *db)
{
	return exec_steps(db, schema_v5, sizeof(schema_v5) / sizeof(schema_v5[0]));
}

/*
 * Version 6: the write counter of each regular file's blob (docs/format.md
 * §7): nodes.write_counter is the counter the vault expects in the blob's
 * authenticated header, and a header below it is a rolled-back blob. Every
 * existing node starts at 0, which every blob satisfies (format 1 blobs
 * read as 0); the daemon raises it with each change it commits. ALTER TABLE
 * has no IF NOT EXISTS: a vault whose user_version was set back by hand
 * keeps the column it has.
 */
/* clang-format off */
static const char *const schema_v6[] = {
	"ALTER TABLE nodes ADD COLUMN write_counter INTEGER NOT NULL DEFAULT 0\n"
	"	CHECK (write_counter >= 0);\n",
};
/* clang-format on */

static int migrate_v6(struct meta_db *db)
{
	sqlite3_stmt *st = NULL;
	bool has = false;
	int rc;

	rc = sqlite3_prepare_v2(
	    db->sql, "SELECT 1 FROM pragma_table_info('nodes') WHERE name = 'write_counter'", -1,
	    &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		has = rc == SQLITE_ROW;
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return meta_errno(rc);
	if (has)
		return 0;
	return exec_steps(db, schema_v6, sizeof(schema_v6) / sizeof(schema_v6[0]));
}

/*
 * Version 7: row signatures (docs/format.md §13). Each table whose rows
 * decide who holds which key, and with which rights, gets a `sig` column:
 * the administration key's Ed25519 signature of the row's canonical bytes,
 * NULL until signed (existing rows are signed at the first administration
 * after the upgrade: keytool/rowsig.c). The level names' signature is the
 * vault_config entry `level_names.sig`. */
static const char *const rowsig_tables[] = {
    "users", "roles", "role_keys", "grants", "level_keys", "meta_keys", "key_seals", "sign_keys",
};

static int migrate_rowsig(struct meta_db *db)
{
	char sql[256];
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(rowsig_tables) / sizeof(rowsig_tables[0]); i++) {
		sqlite3_stmt *st = NULL;
		bool has = false;
		int rc;

		/* a vault whose user_version was set back by hand has the column */
		snprintf(sql, sizeof(sql),
			 "SELECT 1 FROM pragma_table_info('%s') WHERE name = 'sig'",
			 rowsig_tables[i]);
		rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			has = rc == SQLITE_ROW;
			if (rc == SQLITE_ROW || rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_OK)
			return meta_errno(rc);
		if (has)
			continue;
		snprintf(sql, sizeof(sql),
			 "ALTER TABLE %s ADD COLUMN sig BLOB CHECK (sig IS NULL OR"
			 " (typeof(sig) = 'blob' AND length(sig) = 64))",
			 rowsig_tables[i]);
		rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			r = meta_errno(rc);
	}
	return r;
}

/* migrations[v]: version v → v + 1. */
static int (*const migrations[])(struct meta_db *db) = {
    migrate_create_v1, migrate_v2, migrate_v3, migrate_v4, migrate_v5, migrate_v6, migrate_rowsig,
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == META_SCHEMA_VERSION,
	       "one migration step per schema version");

static int get_version(struct meta_db *db, int64_t *ret_version)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	int rc;

	rc = sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_NOTADB)
		return -EPROTO; /* not a SQLite file at all */
	if (rc != SQLITE_OK)
		return meta_errno(rc);
	*ret_version = v;
	return 0;
}

static int set_version(struct meta_db *db, int version)
{
	char sql[64];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : meta_errno(rc);
}

/* Apply migrations from version from up to META_SCHEMA_VERSION (caller's transaction). */
static int migrate(struct meta_db *db, int64_t from)
{
	int r;

	for (int64_t v = from; v < META_SCHEMA_VERSION; v++) {
		r = migrations[v](db);
		if (r < 0)
			return r;
	}
	return set_version(db, META_SCHEMA_VERSION);
}

/* ---- the schema check ---- */

/*
 * One row of sqlite_schema. sql is normalised (sql_normalise), NULL for the
 * indexes SQLite makes itself for UNIQUE and PRIMARY KEY constraints.
 */
struct schema_entry {
	char *type;	/* "table", "index", "trigger" or "view" */
	char *name;	/* the object's name */
	char *tbl_name; /* the table it belongs to (its own name for a table) */
	char *sql;	/* the CREATE statement, normalised; or NULL */
};

/* A database's sqlite_schema, in no particular order. */
struct schema_list {
	struct schema_entry *v; /* n entries, malloc'd */
	size_t n;
};

static void schema_entry_clear(void *p)
{
	struct schema_entry *e = p;

	free(e->type);
	free(e->name);
	free(e->tbl_name);
	free(e->sql);
}

static void schema_list_free(struct schema_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		schema_entry_clear(&l->v[i]);
	free(l->v);
	*l = (struct schema_list){0};
}

/* Append text to a growing buffer; false when out of memory. */
static bool buf_put(char **buf, size_t *len, size_t *cap, const char *text, size_t n)
{
	if (*cap - *len <= n) {
		size_t ncap = *cap ? *cap : 256;
		char *p;

		while (ncap - *len <= n)
			ncap *= 2;
		p = realloc(*buf, ncap);
		if (!p)
			return false;
		*buf = p;
		*cap = ncap;
	}
	memcpy(*buf + *len, text, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * The SQL of a schema entry as a canonical string of tokens, so that what
 * does not change its meaning does not count: whitespace and comments are
 * dropped; keywords and bare identifiers go to lower case (SQLite folds
 * ASCII case in both); quoted identifiers ("x", `x`, [x]) become "x" in
 * lower case with inner quotes doubled, so they stay apart from keywords; a
 * string literal stays as written; operators are runs of operator
 * characters, other punctuation one character each; one space between
 * tokens. A column added by ALTER TABLE (", col ..." spliced before the
 * closing parenthesis) thus reads the same as one written in the CREATE.
 * NULL when out of memory.
 */
static char *sql_normalise(const char *s)
{
	static const char operators[] = "<>=!|&+-*/%~";
	char *out = NULL;
	size_t len = 0, cap = 0;
	bool ok = buf_put(&out, &len, &cap, "", 0);

	while (ok && *s) {
		const char *start = s;
		char tok[2] = {0};

		if (*s == ' ' || (*s >= '\t' && *s <= '\r')) {
			s++;
			continue;
		}
		if (s[0] == '-' && s[1] == '-') {
			s += strcspn(s, "\n");
			continue;
		}
		if (s[0] == '/' && s[1] == '*') {
			const char *end = strstr(s + 2, "*/");

			s = end ? end + 2 : s + strlen(s);
			continue;
		}
		if (len)
			ok = buf_put(&out, &len, &cap, " ", 1);
		if (*s == '\'') { /* a string literal, '' inside it */
			for (s++; *s && !(s[0] == '\'' && s[1] != '\''); s += s[0] == '\'' ? 2 : 1)
				;
			if (*s)
				s++;
			ok = ok && buf_put(&out, &len, &cap, start, (size_t)(s - start));
		} else if (*s == '"' || *s == '`' || *s == '[') { /* a quoted identifier */
			char close = *s == '[' ? ']' : *s;

			ok = ok && buf_put(&out, &len, &cap, "\"", 1);
			for (s++; ok && *s; s++) {
				if (*s == close && (close == ']' || s[1] != close))
					break;
				if (*s == close)
					s++; /* a doubled quote stands for one */
				tok[0] = ascii_lower(*s);
				ok = buf_put(&out, &len, &cap, tok, 1);
				if (ok && *s == '"')
					ok = buf_put(&out, &len, &cap, "\"", 1);
			}
			if (*s)
				s++;
			ok = ok && buf_put(&out, &len, &cap, "\"", 1);
		} else if (word_char(*s)) {
			for (; ok && word_char(*s); s++) {
				tok[0] = ascii_lower(*s);
				ok = buf_put(&out, &len, &cap, tok, 1);
			}
		} else if (strchr(operators, *s)) {
			/* "--" and "/ *" start comments, not operators */
			for (s++; *s && strchr(operators, *s) && !(s[0] == '-' && s[1] == '-') &&
				  !(s[0] == '/' && s[1] == '*');
			     s++)
				;
			ok = ok && buf_put(&out, &len, &cap, start, (size_t)(s - start));
		} else {
			ok = ok && buf_put(&out, &len, &cap, s++, 1);
		}
	}
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

/* A column's text, malloc'd ("" for NULL); NULL only when out of memory. */
static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

/* One row of sqlite_schema (a meta_rows_read reader). */
static int schema_entry_read(sqlite3_stmt *st, void *p)
{
	struct schema_entry *e = p;
	const unsigned char *sql = sqlite3_column_text(st, 3);

	*e = (struct schema_entry){.type = col_dup(st, 0),
				   .name = col_dup(st, 1),
				   .tbl_name = col_dup(st, 2),
				   .sql = sql ? sql_normalise((const char *)sql) : NULL};
	if (!e->type || !e->name || !e->tbl_name || (sql && !e->sql)) {
		schema_entry_clear(e);
		return -ENOMEM;
	}
	return 0;
}

/* The sqlite_schema of db's connection into *ret. 0 or -errno. */
static int schema_read(struct meta_db *db, struct schema_list *ret)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	rc = sqlite3_prepare_v2(db->sql, "SELECT type, name, tbl_name, sql FROM sqlite_schema", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return meta_errno(rc);
	r = meta_rows_read(st, sizeof(ret->v[0]), schema_entry_read, schema_entry_clear,
			   (void **)&ret->v, &ret->n);
	sqlite3_finalize(st);
	return r;
}

/*
 * The schema this build makes: every migration run on a private in-memory
 * database, so the expected schema is the code's own and never written down
 * twice. (The fresh vault and the migrated one take the same steps, so they
 * end with the same statements.)
 */
static int schema_expected(struct schema_list *ret)
{
	struct meta_db *mem = calloc(1, sizeof(*mem));
	int rc, r;

	if (!mem)
		return -ENOMEM;
	rc =
	    sqlite3_open_v2(":memory:", &mem->sql,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = meta_errno(rc);
		goto out;
	}
	sqlite3_extended_result_codes(mem->sql, 1);
	sqlite3_db_config(mem->sql, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(mem->sql, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	r = meta_tx_begin(mem);
	if (r == 0)
		r = migrate(mem, 0);
	if (r == 0)
		r = schema_read(mem, ret);
	meta_tx_rollback(mem);
out:
	meta_db_close(mem);
	return r;
}

/*
 * The expected schema, built by the first check in the process and kept:
 * building it (about 4 ms) costs several times a whole open, and the daemon
 * opens a few connections. Never changed once built.
 *
 * Locking: expected_lock around building it; read without it after
 * expected_built is seen set under it.
 */
static pthread_mutex_t expected_lock = PTHREAD_MUTEX_INITIALIZER;
static struct schema_list expected;
static bool expected_built;

/* The expected schema, built on first use; -ENOMEM or -EIO, and the next call tries again. */
static int schema_expected_cached(const struct schema_list **ret)
{
	int r = 0;

	pthread_mutex_lock(&expected_lock);
	if (!expected_built) {
		r = schema_expected(&expected);
		if (r == 0)
			expected_built = true;
		else
			schema_list_free(&expected);
	}
	pthread_mutex_unlock(&expected_lock);
	if (r == 0)
		*ret = &expected;
	return r;
}

/* The entry of l with that type and name, or NULL. */
static const struct schema_entry *schema_find(const struct schema_list *l, const char *type,
					      const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].type, type) == 0 && strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/*
 * Tables SQLite makes itself when asked to (ANALYZE, PRAGMA optimize): they
 * steer the query planner, not what a statement does, so a vault may have
 * them or not.
 */
static bool schema_optional(const struct schema_entry *e)
{
	static const char *const stats[] = {"sqlite_stat1", "sqlite_stat2", "sqlite_stat3",
					    "sqlite_stat4"};

	if (strcmp(e->type, "table") != 0 || strcmp(e->name, e->tbl_name) != 0)
		return false;
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
		if (strcmp(e->name, stats[i]) == 0)
			return true;
	return false;
}

static bool same_text(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/*
 * "what type 'name'" into why, the name (and type: the file may hold
 * anything there) cut short and every byte that is not printable ASCII, or
 * is a quote, shown as '?': the caller prints it to a terminal.
 */
static void describe(char *why, size_t size, const char *what, const struct schema_entry *e)
{
	char type[16], name[META_SCHEMA_NAME_SHOWN + 4];
	const char *src[] = {e->type, e->name};
	char *dst[] = {type, name};
	size_t max[] = {sizeof(type) - 1, META_SCHEMA_NAME_SHOWN};

	if (!why || size == 0)
		return;
	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(src[k]), i;

		for (i = 0; i < n && i < max[k]; i++) {
			unsigned char c = (unsigned char)src[k][i];

			dst[k][i] = c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?';
		}
		if (n > max[k])
			memcpy(dst[k] + i - 3, "...", 3);
		dst[k][i] = '\0';
	}
	snprintf(why, size, "%s %s '%s'", what, type, name);
}

/*
 * Compare the schema of db with the one this build makes: -EPROTO (and why)
 * at the first object that is unexpected, then altered (another table or
 * statement), then missing.
 */
static int schema_check(struct meta_db *db, char *why, size_t why_size)
{
	const struct schema_list *want = NULL;
	struct schema_list have = {0};
	const struct schema_entry *w;
	int r;

	r = schema_expected_cached(&want);
	if (r == 0)
		r = schema_read(db, &have);
	for (size_t i = 0; r == 0 && i < have.n; i++) {
		if (!schema_find(want, have.v[i].type, have.v[i].name) &&
		    !schema_optional(&have.v[i])) {
			describe(why, why_size, "unexpected", &have.v[i]);
			r = -EPROTO;
		}
	}
	for (size_t i = 0; r == 0 && i < have.n; i++) {
		w = schema_find(want, have.v[i].type, have.v[i].name);
		if (w && (strcmp(w->tbl_name, have.v[i].tbl_name) != 0 ||
			  !same_text(w->sql, have.v[i].sql))) {
			describe(why, why_size, "altered", &have.v[i]);
			r = -EPROTO;
		}
	}
	for (size_t i = 0; r == 0 && i < want->n; i++) {
		if (!schema_find(&have, want->v[i].type, want->v[i].name)) {
			describe(why, why_size, "missing", &want->v[i]);
			r = -EPROTO;
		}
	}
	schema_list_free(&have);
	return r;
}

int meta_schema_create(struct meta_db *db)
{
	int64_t v = 0;
	int r;

	r = get_version(db, &v);
	if (r < 0)
		return r;
	if (v != 0)
		return -EPROTO;
	return migrate(db, 0);
}

int meta_schema_open(struct meta_db *db, char *why, size_t why_size)
{
	int64_t v = 0;
	int r;

	if (why && why_size)
		why[0] = '\0';
	r = get_version(db, &v);
	if (r < 0)
		return r;
	if (v == META_SCHEMA_VERSION)
		return schema_check(db, why, why_size);
	/* 0 is a SQLite file that is no vault: never turn it into one here */
	if (v <= 0 || v > META_SCHEMA_VERSION || db->read_only)
		return -EPROTO;

	r = meta_tx_begin(db);
	if (r < 0)
		return r;
	r = get_version(db, &v); /* another process may have migrated meanwhile */
	if (r == 0 && v != META_SCHEMA_VERSION) {
		if (v <= 0 || v > META_SCHEMA_VERSION)
			r = -EPROTO;
		else
			r = migrate(db, v);
	}
	if (r == 0) /* refused, the vault stays as it was: not migrated */
		r = schema_check(db, why, why_size);
	if (r < 0) {
		meta_tx_rollback(db);
		return r;
	}
	return meta_tx_commit(db);
}
