/*
 * meta/db.c — opening vault.db, transactions, configuration, and the
 * statement cache and column checks the other query files share.
 *
 * A vault is a directory holding vault.db and objects/. CREATE makes them
 * (vault.db with O_EXCL, mode 0600: SQLite gives its -wal and -shm files the
 * same mode) and writes the current schema version in one transaction; if anything
 * fails, the files it made are removed again, so a retry starts clean. RW
 * and RO open an existing vault and check its schema version and its schema
 * (schema.c).
 *
 * Connection settings: WAL journal (readers never block the daemon's writes,
 * and auditors read while it is mounted), synchronous=NORMAL (a commit is
 * durable at the next checkpoint; a crash loses no consistency), foreign keys
 * on, busy timeout 10 s, SQLite's defensive mode and untrusted schema (a
 * tampered file cannot make SQLite run side-effecting functions). RO
 * connections are SQLITE_OPEN_READONLY and query_only.
 *
 * SQLite result codes become -errno in one place, meta_errno(): busy or
 * locked -EBUSY, a unique or primary key clash -EEXIST, a foreign key naming
 * a missing row -ENOENT, writing through a read-only connection -EROFS, a
 * full disk -ENOSPC, out of memory -ENOMEM, anything else -EIO.
 */
#include "meta/db.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "meta/internal.h"
#include "meta/schema.h"

#define BUSY_TIMEOUT_MS 10000
#define INT64_TEXT_MAX	20 /* "-9223372036854775808" */

static void freep(void *p)
{
	free(*(void **)p);
}

/* ---- errors, statements, columns (shared through internal.h) ---- */

int meta_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return -ENOENT;
		return -EIO;
	default:
		return -EIO;
	}
}

int meta_stmt(struct meta_db *db, enum meta_stmt_id id, const char *sql, sqlite3_stmt **ret_st)
{
	sqlite3_stmt *st;
	int rc;

	assert(id >= 0 && id < META_ST_COUNT);
	st = db->stmt[id];
	if (!st) {
		rc = sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return meta_errno(rc);
		db->stmt[id] = st;
	}
	/* one id, one text: two call sites sharing an id would run each other's SQL */
	assert(strcmp(sqlite3_sql(st), sql) == 0);
	*ret_st = st;
	return 0;
}

void meta_stmt_donep(sqlite3_stmt **st)
{
	if (!*st)
		return;
	sqlite3_reset(*st);
	sqlite3_clear_bindings(*st);
	*st = NULL;
}

int meta_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return 0;
	return rc == SQLITE_ROW ? -EIO : meta_errno(rc);
}

int meta_step_changed(sqlite3_stmt *st)
{
	int r = meta_step_done(st);

	if (r < 0)
		return r;
	return sqlite3_changes(sqlite3_db_handle(st)) > 0 ? 0 : -ENOENT;
}

int meta_step_row(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return meta_errno(rc);
}

int meta_bind_blob(sqlite3_stmt *st, int i, const void *ptr, size_t len)
{
	if (!ptr && len == 0)
		return sqlite3_bind_null(st, i);
	if (!ptr || len > INT_MAX)
		return SQLITE_MISUSE;
	/* a non-NULL pointer with length 0 binds an empty blob, not NULL */
	return sqlite3_bind_blob(st, i, len ? ptr : "", (int)len, SQLITE_STATIC);
}

int meta_bind_text(sqlite3_stmt *st, int i, const char *s, size_t max)
{
	if (!s)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, (int)strnlen(s, max > INT_MAX ? INT_MAX : max),
				 SQLITE_STATIC);
}

int meta_bind_errno(sqlite3_stmt *st)
{
	int rc = sqlite3_extended_errcode(sqlite3_db_handle(st));

	return rc == SQLITE_OK ? -EINVAL : meta_errno(rc);
}

int meta_col_fixed(sqlite3_stmt *st, int col, void *dst, size_t len)
{
	const void *p;

	if (sqlite3_column_type(st, col) != SQLITE_BLOB)
		return -EIO;
	p = sqlite3_column_blob(st, col);
	if ((size_t)sqlite3_column_bytes(st, col) != len || !p)
		return -EIO;
	memcpy(dst, p, len);
	return 0;
}

int meta_col_dup(sqlite3_stmt *st, int col, uint8_t **ret, size_t *ret_len)
{
	const void *p;
	uint8_t *copy;
	int n;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		*ret = NULL;
		*ret_len = 0;
		return 0;
	case SQLITE_BLOB:
		break;
	default:
		return -EIO;
	}
	p = sqlite3_column_blob(st, col);
	n = sqlite3_column_bytes(st, col);
	if (n <= 0 || !p) {
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	copy = malloc((size_t)n);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, p, (size_t)n);
	*ret = copy;
	*ret_len = (size_t)n;
	return 0;
}

int meta_col_text(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *p;
	size_t n;

	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return -EIO;
	p = sqlite3_column_text(st, col);
	n = (size_t)sqlite3_column_bytes(st, col);
	if (!p || n >= size || memchr(p, 0, n))
		return -EIO;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int meta_col_int(sqlite3_stmt *st, int col, int64_t min, int64_t max, int64_t *ret)
{
	int64_t v;

	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return -EIO;
	v = sqlite3_column_int64(st, col);
	if (v < min || v > max)
		return -EIO;
	*ret = v;
	return 0;
}

int meta_col_u32(sqlite3_stmt *st, int col, uint32_t *ret)
{
	int64_t v;
	int r = meta_col_int(st, col, 0, UINT32_MAX, &v);

	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

int meta_col_u63(sqlite3_stmt *st, int col, uint64_t *ret)
{
	int64_t v;
	int r = meta_col_int(st, col, 0, INT64_MAX, &v);

	if (r == 0)
		*ret = (uint64_t)v;
	return r;
}

int meta_col_i64(sqlite3_stmt *st, int col, int64_t *ret)
{
	return meta_col_int(st, col, INT64_MIN, INT64_MAX, ret);
}

int meta_grow(void **arr, size_t *cap, size_t n, size_t elsize)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(*arr, ncap, elsize);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int meta_rows_read(sqlite3_stmt *st, size_t elsize, int (*read)(sqlite3_stmt *, void *),
		   void (*clear)(void *), void **ret, size_t *ret_n)
{
	uint8_t *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, elsize);
		if (r < 0)
			break;
		r = read(st, v + n * elsize);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		for (size_t i = 0; clear && i < n; i++)
			clear(v + i * elsize);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- opening ---- */

/* Run a PRAGMA (or other statement) that may return rows we do not need. */
static int exec(struct meta_db *db, const char *sql)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	if (rc == SQLITE_NOTADB)
		return -EPROTO;
	return rc == SQLITE_OK ? 0 : meta_errno(rc);
}

/* PRAGMA journal_mode=WAL, checking that SQLite did switch. */
static int set_wal(struct meta_db *db)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *mode = sqlite3_column_text(st, 0);

		if (!mode || strcmp((const char *)mode, "wal") != 0)
			r = -EIO;
	} else if (rc == SQLITE_NOTADB) {
		r = -EPROTO;
	} else {
		r = meta_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

/* Open the SQLite connection on an existing file and configure it. */
static int connect_db(const char *path, bool read_only, struct meta_db **ret_db)
{
	struct meta_db *db;
	int flags, rc, r;

	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->read_only = read_only;

	flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX |
		SQLITE_OPEN_NOFOLLOW;
	rc = sqlite3_open_v2(path, &db->sql, flags, NULL);
	if (rc != SQLITE_OK) {
		int e = db->sql ? sqlite3_system_errno(db->sql) : 0;

		r = (rc & 0xff) == SQLITE_CANTOPEN && e > 0 ? -e : meta_errno(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(db->sql, 1);
	sqlite3_busy_timeout(db->sql, BUSY_TIMEOUT_MS);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);

	if (read_only) {
		r = exec(db, "PRAGMA foreign_keys=ON; PRAGMA query_only=ON");
	} else {
		r = set_wal(db);
		if (r == 0)
			r = exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
	}
	if (r < 0)
		goto fail;
	*ret_db = db;
	return 0;
fail:
	meta_db_close(db);
	return r;
}

/* mkdir that accepts an existing directory; *ret_made says whether we made it. */
static int make_dir(const char *path, bool *ret_made)
{
	struct stat st;

	if (mkdir(path, 0700) == 0) {
		*ret_made = true;
		return 0;
	}
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*ret_made = false;
	return 0;
}

/* What CREATE made, to undo it when a later step fails. */
struct created {
	bool dir, objects, db;
};

static void undo_create(const char *dir, const char *objects, const char *path,
			const struct created *c)
{
	static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
	char side[PATH_MAX];

	if (c->db) {
		unlink(path);
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
			if (snprintf(side, sizeof(side), "%s%s", path, suffixes[i]) <
			    (int)sizeof(side))
				unlink(side);
		}
	}
	if (c->objects)
		rmdir(objects);
	if (c->dir)
		rmdir(dir);
}

/* CREATE's files: the directory, objects/, and an empty vault.db made with O_EXCL. */
static int create_files(const char *dir, const char *objects, const char *path, struct created *c)
{
	int fd, r;

	r = make_dir(dir, &c->dir);
	if (r < 0)
		return r;
	r = make_dir(objects, &c->objects);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	c->db = true;
	close(fd);
	return 0;
}

static int check_existing(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return -EPROTO;
	return 0;
}

int meta_db_open(const char *dir, enum meta_open_mode mode, struct meta_db **ret_db)
{
	return meta_db_open_why(dir, mode, ret_db, NULL);
}

int meta_db_open_why(const char *dir, enum meta_open_mode mode, struct meta_db **ret_db,
		     char why[META_OPEN_WHY_MAX])
{
	_cleanup_(freep) char *path = NULL;
	_cleanup_(freep) char *objects = NULL;
	struct created made = {0};
	struct meta_db *db = NULL;
	int r;

	if (why)
		why[0] = '\0';
	if (!dir || !*dir || !ret_db ||
	    (mode != META_OPEN_RW && mode != META_OPEN_RO && mode != META_OPEN_CREATE &&
	     mode != META_OPEN_RO_INSPECT))
		return -EINVAL;
	if (asprintf(&path, "%s/%s", dir, META_DB_NAME) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	if (asprintf(&objects, "%s/%s", dir, META_OBJECTS_DIR) < 0) {
		objects = NULL;
		return -ENOMEM;
	}

	if (mode == META_OPEN_CREATE)
		r = create_files(dir, objects, path, &made);
	else
		r = check_existing(path);
	if (r < 0)
		goto out;

	r = connect_db(path, mode == META_OPEN_RO || mode == META_OPEN_RO_INSPECT, &db);
	if (r < 0)
		goto out;

	if (mode == META_OPEN_CREATE) {
		r = meta_tx_begin(db);
		if (r < 0)
			goto out;
		r = meta_schema_create(db);
		if (r < 0) {
			meta_tx_rollback(db);
			goto out;
		}
		r = meta_tx_commit(db);
	} else {
		r = meta_schema_open(db, why, why ? META_OPEN_WHY_MAX : 0);
		if (r == -EPROTO && mode == META_OPEN_RO_INSPECT && why && why[0])
			r = 0; /* a known version with an altered schema: for inspection */
	}
out:
	if (r < 0) {
		meta_db_close(db);
		undo_create(dir, objects, path, &made);
		return r;
	}
	*ret_db = db;
	return 0;
}

bool meta_db_read_only(const struct meta_db *db)
{
	return db->read_only;
}

struct meta_db *meta_db_close(struct meta_db *db)
{
	if (!db)
		return NULL;
	if (db->in_tx)
		meta_tx_rollback(db);
	for (size_t i = 0; i < META_ST_COUNT; i++)
		sqlite3_finalize(db->stmt[i]);
	sqlite3_close_v2(db->sql);
	free(db);
	return NULL;
}

/* ---- transactions ---- */

/* Read-only connections begin a deferred (snapshot) transaction: they cannot take the write lock.
 */
static int tx_begin(struct meta_db *db, bool reading)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (db->in_tx)
		return -EINVAL;
	if (reading)
		r = meta_stmt(db, META_ST_BEGIN_RO, "BEGIN DEFERRED", &st);
	else
		r = meta_stmt(db, META_ST_BEGIN, "BEGIN IMMEDIATE", &st);
	if (r < 0)
		return r;
	r = meta_step_done(st);
	if (r < 0)
		return r;
	db->in_tx = true;
	return 0;
}

int meta_tx_begin(struct meta_db *db)
{
	return tx_begin(db, db->read_only);
}

int meta_tx_begin_read(struct meta_db *db)
{
	return tx_begin(db, true);
}

/*
 * On failure the transaction is rolled back and the error returned: -EIO, or
 * a more precise -ENOSPC/-EBUSY. If SQLite already rolled the transaction
 * back itself (after a failed statement inside it), commit reports -EIO.
 */
int meta_tx_commit(struct meta_db *db)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!db->in_tx)
		return -EINVAL;
	if (sqlite3_get_autocommit(db->sql)) {
		db->in_tx = false;
		return -EIO;
	}
	r = meta_stmt(db, META_ST_COMMIT, "COMMIT", &st);
	if (r == 0)
		r = meta_step_done(st);
	if (r < 0) {
		meta_tx_rollback(db);
		return r;
	}
	db->in_tx = false;
	return 0;
}

void meta_tx_rollback(struct meta_db *db)
{
	if (!db || !db->in_tx)
		return;
	/* fails only when SQLite has already rolled back: nothing left to do */
	if (!sqlite3_get_autocommit(db->sql))
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	db->in_tx = false;
}

int meta_tx_end(struct meta_db *db, int r)
{
	if (r == 0)
		return meta_tx_commit(db);
	meta_tx_rollback(db);
	return r;
}

/* ---- checkpoints ---- */

static int wal_hook(void *arg, sqlite3 *sql, const char *name, int frames)
{
	struct meta_db *db = arg;

	if (frames < db->wal_notified)
		db->wal_notified = 0; /* the log started over (it only grows otherwise) */
	if (frames >= META_WAL_FRAMES_MAX) {
		sqlite3_wal_checkpoint_v2(sql, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (frames >= db->wal_notified + META_WAL_CHECKPOINT_FRAMES) {
		/* once per META_WAL_CHECKPOINT_FRAMES new frames, not every commit */
		db->wal_notified = frames;
		db->wal_notify(db->wal_notify_arg);
	}
	return SQLITE_OK;
}

int meta_db_checkpoint_elsewhere(struct meta_db *db, void (*notify)(void *arg), void *arg)
{
	if (db->read_only)
		return -EINVAL;
	db->wal_notify = notify;
	db->wal_notify_arg = arg;
	if (!notify) /* back to checkpoints inside commits */
		return sqlite3_wal_autocheckpoint(db->sql, 1000 /* SQLite's default */) == SQLITE_OK
			   ? 0
			   : -EIO;
	/* replaces the automatic checkpoint, which is a wal hook too */
	sqlite3_wal_hook(db->sql, wal_hook, db);
	return 0;
}

int meta_db_checkpoint(struct meta_db *db)
{
	int rc = sqlite3_wal_checkpoint_v2(db->sql, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : -EIO;
}

/* ---- configuration ---- */

int meta_config_set_blob(struct meta_db *db, const char *key, const void *val, size_t len)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!key || !*key || (!val && len))
		return -EINVAL;
	r = meta_stmt(db, META_ST_CONFIG_SET,
		      "INSERT INTO vault_config (key, value) VALUES (?1, ?2)"
		      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) |
	    meta_bind_blob(st, 2, val ? val : "", len))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

/* The raw value of key, pointing into st's row; *ret_p is valid until st is reset. */
static int config_get(struct meta_db *db, sqlite3_stmt **st, const char *key, const void **ret_p,
		      size_t *ret_len)
{
	const void *p;
	int r, type;

	if (!key)
		return -EINVAL;
	r = meta_stmt(db, META_ST_CONFIG_GET, "SELECT value FROM vault_config WHERE key = ?1", st);
	if (r < 0)
		return r;
	if (sqlite3_bind_text(*st, 1, key, -1, SQLITE_STATIC))
		return meta_bind_errno(*st);
	r = meta_step_row(*st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	type = sqlite3_column_type(*st, 0);
	if (type != SQLITE_BLOB && type != SQLITE_TEXT)
		return -EIO;
	p = sqlite3_column_blob(*st, 0);
	*ret_len = (size_t)sqlite3_column_bytes(*st, 0);
	*ret_p = p;
	return 0;
}

int meta_config_get_blob(struct meta_db *db, const char *key, void *buf, size_t *ret_len)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	const void *p = NULL;
	size_t n = 0;
	int r;

	if (!ret_len || (!buf && *ret_len))
		return -EINVAL;
	r = config_get(db, &st, key, &p, &n);
	if (r < 0)
		return r;
	if (n > *ret_len)
		return -ENOBUFS;
	if (n)
		memcpy(buf, p, n);
	*ret_len = n;
	return 0;
}

int meta_config_set_int(struct meta_db *db, const char *key, int64_t val)
{
	char text[INT64_TEXT_MAX + 1];
	int n = snprintf(text, sizeof(text), "%" PRId64, val);

	return meta_config_set_blob(db, key, text, (size_t)n);
}

/* Strict decimal: optional '-', digits only, in range. -EIO otherwise. */
int meta_config_get_int(struct meta_db *db, const char *key, int64_t *ret_val)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	char text[INT64_TEXT_MAX + 1];
	const char *digits;
	const void *p = NULL;
	char *end;
	long long v;
	size_t n = 0;
	int r;

	r = config_get(db, &st, key, &p, &n);
	if (r < 0)
		return r;
	if (n == 0 || n > INT64_TEXT_MAX)
		return -EIO;
	memcpy(text, p, n);
	text[n] = '\0';
	digits = text[0] == '-' ? text + 1 : text;
	if (*digits < '0' || *digits > '9')
		return -EIO;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end)
		return -EIO;
	*ret_val = v;
	return 0;
}

int64_t meta_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
