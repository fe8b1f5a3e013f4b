/*
 * meta/roles.c — roles and their key pairs (tables roles and role_keys;
 * roles.h; docs/format.md §8): add, look up by name, id or flag, list; one
 * key pair row per version, with the role secret's custody seal; and what a
 * rotation changes: the current version, custody seals, old versions.
 *
 * Public keys and seals pass through as opaque fixed-size byte strings,
 * checked for their exact size when read back. A row that names a missing
 * role is -ENOENT (foreign keys).
 */
#include "meta/roles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

#define ROLE_COLS "id, name, levels, flags, key_version, created"

static int read_role(sqlite3_stmt *st, struct meta_role *ro)
{
	int64_t levels;
	int r;

	memset(ro, 0, sizeof(*ro));
	if ((r = meta_col_i64(st, 0, &ro->id)) < 0 ||
	    (r = meta_col_text(st, 1, ro->name, sizeof(ro->name))) < 0 ||
	    (r = meta_col_int(st, 2, 0, (1 << META_LEVELS) - 1, &levels)) < 0 ||
	    (r = meta_col_u32(st, 3, &ro->flags)) < 0 ||
	    (r = meta_col_u32(st, 4, &ro->key_version)) < 0 ||
	    (r = meta_col_i64(st, 5, &ro->created_ns)) < 0)
		return r;
	ro->levels = (uint32_t)levels;
	return 0;
}

/* read_role for meta_rows_read. */
static int read_role_row(sqlite3_stmt *st, void *elem)
{
	return read_role(st, elem);
}

static int one_role(sqlite3_stmt *st, struct meta_role *ret_role)
{
	struct meta_role ro;
	int r = meta_step_row(st);

	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	r = read_role(st, &ro);
	if (r < 0)
		return r;
	*ret_role = ro;
	return 0;
}

/* Sets r->id, and r->created_ns when it was 0. -EINVAL bad name or a level bit above 3. */
int meta_role_add(struct meta_db *db, struct meta_role *ro)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int64_t created;
	int r;

	if (!ro || !meta_name_valid(ro->name) || ro->levels >= (1u << META_LEVELS))
		return -EINVAL;
	created = ro->created_ns ? ro->created_ns : meta_now_ns();
	r = meta_stmt(db, META_ST_ROLE_ADD,
		      "INSERT INTO roles (name, levels, flags, key_version, created)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)",
		      &st);
	if (r < 0)
		return r;
	if (meta_bind_text(st, 1, ro->name, sizeof(ro->name)) |
	    sqlite3_bind_int64(st, 2, ro->levels) | sqlite3_bind_int64(st, 3, ro->flags) |
	    sqlite3_bind_int64(st, 4, ro->key_version) | sqlite3_bind_int64(st, 5, created))
		return meta_bind_errno(st);
	r = meta_step_done(st);
	if (r < 0)
		return r;
	ro->id = sqlite3_last_insert_rowid(db->sql);
	ro->created_ns = created;
	return 0;
}

int meta_role_get_by_name(struct meta_db *db, const char *name, struct meta_role *ret_role)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name || !ret_role)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROLE_BY_NAME, "SELECT " ROLE_COLS " FROM roles WHERE name = ?1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC))
		return meta_bind_errno(st);
	return one_role(st, ret_role);
}

int meta_role_get_by_id(struct meta_db *db, int64_t id, struct meta_role *ret_role)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret_role)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROLE_BY_ID, "SELECT " ROLE_COLS " FROM roles WHERE id = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, id))
		return meta_bind_errno(st);
	return one_role(st, ret_role);
}

/* The role with the lowest id among those carrying every bit of flag. -EINVAL flag 0. */
int meta_role_get_by_flag(struct meta_db *db, uint32_t flag, struct meta_role *ret_role)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!flag || !ret_role)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROLE_BY_FLAG,
		      "SELECT " ROLE_COLS " FROM roles WHERE flags & ?1 = ?1 ORDER BY id LIMIT 1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, flag))
		return meta_bind_errno(st);
	return one_role(st, ret_role);
}

/* All roles ordered by name. */
int meta_role_list(struct meta_db *db, struct meta_role **ret_roles, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret_roles || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROLE_LIST, "SELECT " ROLE_COLS " FROM roles ORDER BY name", &st);
	if (r < 0)
		return r;
	return meta_rows_read(st, sizeof(**ret_roles), read_role_row, NULL, (void **)ret_roles,
			      ret_n);
}

/* ---- role key pairs ---- */

/* -EEXIST that version exists, -ENOENT no such role. created_ns 0 means now. */
int meta_role_key_add(struct meta_db *db, const struct meta_role_key *k)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!k)
		return -EINVAL;
	r = meta_stmt(
	    db, META_ST_ROLE_KEY_ADD,
	    "INSERT INTO role_keys (role_id, version, public_key, custody_sealed, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	    &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, k->role_id) | sqlite3_bind_int64(st, 2, k->version) |
	    meta_bind_blob(st, 3, k->public_key, sizeof(k->public_key)) |
	    (k->has_custody ? meta_bind_blob(st, 4, k->custody_sealed, sizeof(k->custody_sealed))
			    : sqlite3_bind_null(st, 4)) |
	    sqlite3_bind_int64(st, 5, k->created_ns ? k->created_ns : meta_now_ns()))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

/* A role_keys row (role_id, version, public_key, custody_sealed, created). */
static int read_role_key(sqlite3_stmt *st, struct meta_role_key *k)
{
	int r;

	memset(k, 0, sizeof(*k));
	if ((r = meta_col_i64(st, 0, &k->role_id)) < 0 ||
	    (r = meta_col_u32(st, 1, &k->version)) < 0 ||
	    (r = meta_col_fixed(st, 2, k->public_key, sizeof(k->public_key))) < 0 ||
	    (r = meta_col_i64(st, 4, &k->created_ns)) < 0)
		return r;
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		r = meta_col_fixed(st, 3, k->custody_sealed, sizeof(k->custody_sealed));
		if (r < 0)
			return r;
		k->has_custody = true;
	}
	return 0;
}

/* read_role_key for meta_rows_read. */
static int read_role_key_row(sqlite3_stmt *st, void *elem)
{
	return read_role_key(st, elem);
}

int meta_role_key_get(struct meta_db *db, int64_t role_id, uint32_t version,
		      struct meta_role_key *ret_key)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_role_key k;
	int r;

	if (!ret_key)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROLE_KEY_GET,
		      "SELECT role_id, version, public_key, custody_sealed, created FROM role_keys"
		      " WHERE role_id = ?1 AND version = ?2",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id) | sqlite3_bind_int64(st, 2, version))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;

	r = read_role_key(st, &k);
	if (r < 0)
		return r;
	*ret_key = k;
	return 0;
}

int meta_role_set_key_version(struct meta_db *db, int64_t role_id, uint32_t version)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	r = meta_stmt(db, META_ST_ROLE_SET_VERSION,
		      "UPDATE roles SET key_version = ?2 WHERE id = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id) | sqlite3_bind_int64(st, 2, version))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

int meta_role_key_list(struct meta_db *db, int64_t role_id, struct meta_role_key **ret,
		       size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROLE_KEY_LIST,
		      "SELECT role_id, version, public_key, custody_sealed, created FROM role_keys"
		      " WHERE role_id = ?1 ORDER BY version",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id))
		return meta_bind_errno(st);
	return meta_rows_read(st, sizeof(**ret), read_role_key_row, NULL, (void **)ret, ret_n);
}

int meta_role_key_set_custody(struct meta_db *db, int64_t role_id, uint32_t version,
			      const uint8_t sealed[META_SEALED_BYTES])
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!sealed)
		return -EINVAL;
	r = meta_stmt(
	    db, META_ST_ROLE_KEY_SET_CUSTODY,
	    "UPDATE role_keys SET custody_sealed = ?3 WHERE role_id = ?1 AND version = ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id) | sqlite3_bind_int64(st, 2, version) |
	    meta_bind_blob(st, 3, sealed, META_SEALED_BYTES))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

int meta_role_key_remove_below(struct meta_db *db, int64_t role_id, uint32_t below)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	r = meta_stmt(db, META_ST_ROLE_KEY_REMOVE_BELOW,
		      "DELETE FROM role_keys WHERE role_id = ?1 AND version < ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id) | sqlite3_bind_int64(st, 2, below))
		return meta_bind_errno(st);
	return meta_step_done(st);
}
