/*
 * meta/rowsig.c — the canonical bytes of the rows the administration key
 * signs, their `sig` column (schema version 7), and the rows a connection
 * changed (docs/format.md §13).
 *
 * A row's message is "vaultfs-row v1" 0x00 <table> 0x00 followed by its
 * deciding fields in a fixed order: integers as 8 bytes big-endian (two's
 * complement), byte strings (text or blob) as a u32 big-endian length and
 * the bytes, a NULL byte string as the length 0xffffffff alone. The field
 * list of each table is rows[] below; the level names are a pseudo-row whose
 * signature lives in vault_config (`level_names.sig`).
 *
 * Which rows to sign: an administration calls meta_row_track() at its
 * start, which installs TEMP triggers (this connection only) noting the
 * primary key of every signed row inserted or changed; at its end keytool
 * signs exactly those. A row written by anyone else (another connection, an
 * editor of vault.db) is never noted, so never signed by accident.
 */
#include "meta/rowsig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

#define ROW_TAG		"vaultfs-row v1"
#define LEVEL_NAMES_SIG "level_names.sig"
#define ROW_NULL_LEN	0xffffffffu

/* One signed table: its key columns and its signed fields, in order. */
struct row_table {
	const char *name;
	const char *keys[META_ROW_KEYS]; /* primary key columns, NULL-ended */
	const char *fields;		 /* the signed columns, comma-separated */
	const char *types;		 /* per field: i integer, b bytes, n bytes or NULL */
};

static const struct row_table rows[] = {
    [META_ROW_USERS] = {"users", {"id"}, "id, name, uid, public_key, disabled", "ibibi"},
    [META_ROW_ROLES] = {"roles", {"id"}, "id, name, levels, flags", "ibii"},
    [META_ROW_ROLE_KEYS] = {"role_keys",
			    {"role_id", "version"},
			    "role_id, version, public_key, custody_sealed",
			    "iibn"},
    [META_ROW_GRANTS] = {"grants",
			 {"user_id", "role_id", "role_version"},
			 "user_id, role_id, role_version, sealed, granted_by, granted_at, expires",
			 "iiibiii"},
    [META_ROW_LEVEL_KEYS] = {"level_keys",
			     {"level", "version"},
			     "level, version, fingerprint",
			     "iib"},
    [META_ROW_META_KEYS] = {"meta_keys", {"version"}, "version, fingerprint", "ib"},
    [META_ROW_KEY_SEALS] = {"key_seals",
			    {"kind", "id", "version", "role_id", "role_version"},
			    "kind, id, version, role_id, role_version, sealed",
			    "iiiiib"},
    [META_ROW_SIGN_KEYS] = {"sign_keys", {"kind", "version"}, "kind, version, public_key", "iib"},
    [META_ROW_LEVEL_NAMES] = {"level_names", {NULL}, NULL, NULL},
};
_Static_assert(sizeof(rows) / sizeof(rows[0]) == META_ROW_TABLES, "one entry per table");

const char *meta_row_table_name(int table)
{
	return table >= 0 && table < META_ROW_TABLES ? rows[table].name : NULL;
}

/* A growing message buffer. */
struct msg {
	uint8_t *p;
	size_t n, cap;
	int err;
};

static void msg_put(struct msg *m, const void *src, size_t len)
{
	if (m->err)
		return;
	if (m->n + len > m->cap) {
		size_t cap = m->cap ? m->cap : 256;
		uint8_t *p;

		while (cap < m->n + len)
			cap *= 2;
		p = realloc(m->p, cap);
		if (!p) {
			m->err = -ENOMEM;
			return;
		}
		m->p = p;
		m->cap = cap;
	}
	if (len)
		memcpy(m->p + m->n, src, len);
	m->n += len;
}

static void msg_be(struct msg *m, uint64_t v, int bytes)
{
	uint8_t b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	msg_put(m, b, (size_t)bytes);
}

static void msg_bytes(struct msg *m, const void *p, size_t len)
{
	if (len >= ROW_NULL_LEN) {
		m->err = -EIO;
		return;
	}
	msg_be(m, len, 4);
	msg_put(m, p, len);
}

static void msg_tag(struct msg *m, const char *table)
{
	msg_put(m, ROW_TAG, strlen(ROW_TAG) + 1);
	msg_put(m, table, strlen(table) + 1);
}

static size_t row_n_keys(const struct row_table *t)
{
	size_t n = 0;

	while (n < META_ROW_KEYS && t->keys[n])
		n++;
	return n;
}

/* "a = ?1 AND b = ?2" for the key columns. */
static void where_clause(const struct row_table *t, char *buf, size_t size, int first)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < row_n_keys(t) && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s = ?%zu", i ? " AND " : "",
				      t->keys[i], (size_t)first + i);
}

static int prepare(struct meta_db *db, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, ret, NULL);

	return rc == SQLITE_OK ? 0 : meta_errno(rc);
}

static int bind_keys(sqlite3_stmt *st, const struct row_table *t, const int64_t *key, int first)
{
	for (size_t i = 0; i < row_n_keys(t); i++)
		if (sqlite3_bind_int64(st, first + (int)i, key[i]) != SQLITE_OK)
			return -EIO;
	return 0;
}

static int level_names_get(struct meta_db *db, struct msg *m, uint8_t sig[META_ROW_SIG_BYTES],
			   bool *ret_signed)
{
	char key[32];
	uint8_t val[256];
	size_t n;
	int r;

	msg_tag(m, rows[META_ROW_LEVEL_NAMES].name);
	for (int l = 0; l < META_LEVELS; l++) {
		snprintf(key, sizeof(key), "level_name.%d", l);
		n = sizeof(val);
		r = meta_config_get_blob(db, key, val, &n);
		if (r == -ENOENT) {
			msg_be(m, ROW_NULL_LEN, 4);
			continue;
		}
		if (r == -ENOBUFS)
			return -EIO;
		if (r < 0)
			return r;
		msg_bytes(m, val, n);
	}
	n = META_ROW_SIG_BYTES;
	r = meta_config_get_blob(db, LEVEL_NAMES_SIG, sig, &n);
	if (r == -ENOENT) {
		*ret_signed = false;
		return 0;
	}
	if (r == -ENOBUFS || (r == 0 && n != META_ROW_SIG_BYTES))
		return -EIO;
	*ret_signed = r == 0;
	return r;
}

int meta_row_get(struct meta_db *db, const struct meta_row_ref *ref, uint8_t **ret_msg,
		 size_t *ret_len, uint8_t ret_sig[META_ROW_SIG_BYTES], bool *ret_signed)
{
	const struct row_table *t;
	struct msg m = {0};
	sqlite3_stmt *st = NULL;
	uint8_t sig[META_ROW_SIG_BYTES] = {0};
	bool is_signed = false;
	char where[160], sql[512];
	int r;

	if (!db || !ref || ref->table < 0 || ref->table >= META_ROW_TABLES || !ret_msg || !ret_len)
		return -EINVAL;
	t = &rows[ref->table];
	if (ref->table == META_ROW_LEVEL_NAMES) {
		r = level_names_get(db, &m, sig, &is_signed);
		goto out;
	}
	where_clause(t, where, sizeof(where), 1);
	snprintf(sql, sizeof(sql), "SELECT %s, sig FROM %s WHERE %s", t->fields, t->name, where);
	r = prepare(db, sql, &st);
	if (r == 0)
		r = bind_keys(st, t, ref->key, 1);
	if (r == 0)
		r = meta_step_row(st);
	if (r == 0)
		r = -ENOENT;
	if (r < 0)
		goto out;
	msg_tag(&m, t->name);
	int nf = (int)strlen(t->types);
	for (int i = 0; i < nf; i++) {
		int type = sqlite3_column_type(st, i);

		if (t->types[i] == 'i') {
			if (type != SQLITE_INTEGER) {
				r = -EIO;
				goto out;
			}
			msg_be(&m, (uint64_t)sqlite3_column_int64(st, i), 8);
		} else if (type == SQLITE_NULL && t->types[i] == 'n') {
			msg_be(&m, ROW_NULL_LEN, 4);
		} else if (type == SQLITE_BLOB || type == SQLITE_TEXT) {
			const void *p = type == SQLITE_BLOB
					    ? sqlite3_column_blob(st, i)
					    : (const void *)sqlite3_column_text(st, i);

			msg_bytes(&m, p, (size_t)sqlite3_column_bytes(st, i));
		} else {
			r = -EIO;
			goto out;
		}
	}
	if (sqlite3_column_type(st, nf) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, nf) == META_ROW_SIG_BYTES) {
		memcpy(sig, sqlite3_column_blob(st, nf), META_ROW_SIG_BYTES);
		is_signed = true;
	} else if (sqlite3_column_type(st, nf) != SQLITE_NULL) {
		r = -EIO;
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	if (r == 0 && m.err)
		r = m.err;
	if (r < 0) {
		free(m.p);
		return r;
	}
	*ret_msg = m.p;
	*ret_len = m.n;
	if (ret_sig)
		memcpy(ret_sig, sig, META_ROW_SIG_BYTES);
	if (ret_signed)
		*ret_signed = is_signed;
	return 0;
}

int meta_row_set_sig(struct meta_db *db, const struct meta_row_ref *ref,
		     const uint8_t sig[META_ROW_SIG_BYTES])
{
	const struct row_table *t;
	sqlite3_stmt *st = NULL;
	char where[160], sql[256];
	int r;

	if (!db || !ref || ref->table < 0 || ref->table >= META_ROW_TABLES)
		return -EINVAL;
	t = &rows[ref->table];
	if (ref->table == META_ROW_LEVEL_NAMES) {
		if (sig)
			return meta_config_set_blob(db, LEVEL_NAMES_SIG, sig, META_ROW_SIG_BYTES);
		r = prepare(db, "DELETE FROM vault_config WHERE key = '" LEVEL_NAMES_SIG "'", &st);
		if (r == 0)
			r = meta_step_done(st);
		sqlite3_finalize(st);
		return r;
	}
	where_clause(t, where, sizeof(where), 2);
	snprintf(sql, sizeof(sql), "UPDATE %s SET sig = ?1 WHERE %s", t->name, where);
	r = prepare(db, sql, &st);
	if (r == 0 && meta_bind_blob(st, 1, sig, sig ? META_ROW_SIG_BYTES : 0) != SQLITE_OK)
		r = -EIO;
	if (r == 0)
		r = bind_keys(st, t, ref->key, 2);
	if (r == 0)
		r = meta_step_changed(st);
	sqlite3_finalize(st);
	return r;
}

static int exec(struct meta_db *db, const char *sql)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : meta_errno(rc);
}

int meta_row_track(struct meta_db *db)
{
	char sql[1024], keys[160];
	int r;

	if (!db)
		return -EINVAL;
	r = exec(db, "CREATE TEMP TABLE IF NOT EXISTS row_dirty (t INTEGER NOT NULL,"
		     " k0 INTEGER NOT NULL, k1 INTEGER NOT NULL, k2 INTEGER NOT NULL,"
		     " k3 INTEGER NOT NULL, k4 INTEGER NOT NULL, UNIQUE (t, k0, k1, k2, k3, k4))");
	for (int i = 0; r == 0 && i < META_ROW_LEVEL_NAMES; i++) {
		const struct row_table *t = &rows[i];
		size_t o = 0;

		for (size_t k = 0; k < META_ROW_KEYS; k++)
			o += (size_t)snprintf(keys + o, sizeof(keys) - o, ", %s%s",
					      t->keys[k] ? "NEW." : "",
					      t->keys[k] ? t->keys[k] : "0");
		snprintf(sql, sizeof(sql),
			 "CREATE TEMP TRIGGER IF NOT EXISTS row_dirty_%s_i AFTER INSERT ON main.%s "
			 "BEGIN INSERT OR IGNORE INTO row_dirty VALUES (%d%s); END;"
			 "CREATE TEMP TRIGGER IF NOT EXISTS row_dirty_%s_u AFTER UPDATE ON main.%s "
			 "WHEN NEW.sig IS OLD.sig "
			 "BEGIN INSERT OR IGNORE INTO row_dirty VALUES (%d%s); END;",
			 t->name, t->name, i, keys, t->name, t->name, i, keys);
		r = exec(db, sql);
	}
	if (r == 0) {
		snprintf(sql, sizeof(sql),
			 "CREATE TEMP TRIGGER IF NOT EXISTS row_dirty_names_i AFTER INSERT ON "
			 "main.vault_config WHEN substr(NEW.key, 1, 11) = 'level_name.' "
			 "BEGIN INSERT OR IGNORE INTO row_dirty VALUES (%d, 0, 0, 0, 0, 0); END;"
			 "CREATE TEMP TRIGGER IF NOT EXISTS row_dirty_names_u AFTER UPDATE ON "
			 "main.vault_config WHEN substr(NEW.key, 1, 11) = 'level_name.' "
			 "BEGIN INSERT OR IGNORE INTO row_dirty VALUES (%d, 0, 0, 0, 0, 0); END;",
			 META_ROW_LEVEL_NAMES, META_ROW_LEVEL_NAMES);
		r = exec(db, sql);
	}
	return r;
}

/* Read refs from a query of (t, k0..k4). */
static int read_refs(sqlite3_stmt *st, struct meta_row_ref **ret, size_t *ret_n)
{
	struct meta_row_ref *refs = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = meta_step_row(st)) == 1) {
		struct meta_row_ref *ref;

		r = meta_grow((void **)&refs, &cap, n, sizeof(*refs));
		if (r < 0)
			break;
		ref = &refs[n++];
		ref->table = sqlite3_column_int(st, 0);
		for (int k = 0; k < META_ROW_KEYS; k++)
			ref->key[k] = sqlite3_column_int64(st, 1 + k);
		if (ref->table < 0 || ref->table >= META_ROW_TABLES) {
			r = -EIO;
			break;
		}
	}
	if (r < 0) {
		free(refs);
		return r;
	}
	*ret = refs;
	*ret_n = n;
	return 0;
}

int meta_row_dirty(struct meta_db *db, struct meta_row_ref **ret, size_t *ret_n)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (!db || !ret || !ret_n)
		return -EINVAL;
	r = prepare(db, "SELECT t, k0, k1, k2, k3, k4 FROM temp.row_dirty ORDER BY rowid", &st);
	if (r == 0)
		r = read_refs(st, ret, ret_n);
	sqlite3_finalize(st);
	return r;
}

int meta_row_dirty_clear(struct meta_db *db)
{
	return db ? exec(db, "DELETE FROM temp.row_dirty") : -EINVAL;
}

int meta_row_list_all(struct meta_db *db, struct meta_row_ref **ret, size_t *ret_n)
{
	char sql[2048], cols[160];
	size_t o = 0;
	sqlite3_stmt *st = NULL;
	int r;

	if (!db || !ret || !ret_n)
		return -EINVAL;
	for (int i = 0; i < META_ROW_LEVEL_NAMES; i++) {
		const struct row_table *t = &rows[i];
		size_t c = 0;

		for (size_t k = 0; k < META_ROW_KEYS; k++)
			c += (size_t)snprintf(cols + c, sizeof(cols) - c, ", %s",
					      t->keys[k] ? t->keys[k] : "0");
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "SELECT %d%s FROM %s UNION ALL ", i,
				      cols, t->name);
	}
	snprintf(sql + o, sizeof(sql) - o, "SELECT %d, 0, 0, 0, 0, 0", META_ROW_LEVEL_NAMES);
	r = prepare(db, sql, &st);
	if (r == 0)
		r = read_refs(st, ret, ret_n);
	sqlite3_finalize(st);
	return r;
}
