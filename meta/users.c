/*
 * meta/users.c — users, roles, role key pairs, grants, key versions and
 * sealed keys (tables users, roles, role_keys, grants, level_keys, meta_keys,
 * key_seals; docs/format.md §8).
 *
 * Only public keys, fingerprints and sealed blobs pass through here, as
 * opaque fixed-size byte strings; every one read back is checked for its
 * exact size (a wrong-sized row is -EIO, never copied). Names are checked
 * against the pattern of users.h on the way in (-EINVAL) and their length on
 * the way out. A row that names a missing user or role is -ENOENT (foreign
 * keys).
 */
#include "meta/users.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

/* [a-z_][a-z0-9_.-]*, 1..META_NAME_MAX bytes */
static bool name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, META_NAME_MAX + 1);
	if (n == 0 || n > META_NAME_MAX)
		return false;
	if (!(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* ---- users ---- */

#define USER_COLS "id, name, uid, public_key, secret_sealed, created, disabled"

static int read_user(sqlite3_stmt *st, struct meta_user *u)
{
	int64_t disabled;
	int r;

	memset(u, 0, sizeof(*u));
	if ((r = meta_col_i64(st, 0, &u->id)) < 0 ||
	    (r = meta_col_text(st, 1, u->name, sizeof(u->name))) < 0 ||
	    (r = meta_col_int(st, 2, -1, INT64_MAX, &u->uid)) < 0 ||
	    (r = meta_col_fixed(st, 3, u->public_key, sizeof(u->public_key))) < 0 ||
	    (r = meta_col_fixed(st, 4, u->secret_sealed, sizeof(u->secret_sealed))) < 0 ||
	    (r = meta_col_i64(st, 5, &u->created_ns)) < 0 ||
	    (r = meta_col_int(st, 6, 0, 1, &disabled)) < 0)
		return r;
	u->disabled = disabled;
	return 0;
}

/* Step a query for one user; -ENOENT if there is none. */
static int one_user(sqlite3_stmt *st, struct meta_user *ret_user)
{
	struct meta_user u;
	int r = meta_step_row(st);

	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	r = read_user(st, &u);
	if (r < 0)
		return r;
	*ret_user = u;
	return 0;
}

/* Sets u->id, and u->created_ns when it was 0. -EEXIST name (or uid) taken, -EINVAL bad name. */
int meta_user_add(struct meta_db *db, struct meta_user *u)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int64_t created;
	int r;

	if (!u || !name_valid(u->name) || u->uid < -1)
		return -EINVAL;
	created = u->created_ns ? u->created_ns : meta_now_ns();
	r = meta_stmt(db, META_ST_USER_ADD,
		      "INSERT INTO users (name, uid, public_key, secret_sealed, created, disabled)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		      &st);
	if (r < 0)
		return r;
	if (meta_bind_text(st, 1, u->name, sizeof(u->name)) | sqlite3_bind_int64(st, 2, u->uid) |
	    meta_bind_blob(st, 3, u->public_key, sizeof(u->public_key)) |
	    meta_bind_blob(st, 4, u->secret_sealed, sizeof(u->secret_sealed)) |
	    sqlite3_bind_int64(st, 5, created) | sqlite3_bind_int(st, 6, u->disabled ? 1 : 0))
		return meta_bind_errno(st);
	r = meta_step_done(st);
	if (r < 0)
		return r;
	u->id = sqlite3_last_insert_rowid(db->sql);
	u->created_ns = created;
	return 0;
}

int meta_user_get_by_name(struct meta_db *db, const char *name, struct meta_user *ret_user)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name || !ret_user)
		return -EINVAL;
	r = meta_stmt(db, META_ST_USER_BY_NAME, "SELECT " USER_COLS " FROM users WHERE name = ?1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC))
		return meta_bind_errno(st);
	return one_user(st, ret_user);
}

int meta_user_get_by_id(struct meta_db *db, int64_t id, struct meta_user *ret_user)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret_user)
		return -EINVAL;
	r = meta_stmt(db, META_ST_USER_BY_ID, "SELECT " USER_COLS " FROM users WHERE id = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, id))
		return meta_bind_errno(st);
	return one_user(st, ret_user);
}

/* A negative uid (the "map by login name" marker) matches no user: -ENOENT. */
int meta_user_get_by_uid(struct meta_db *db, int64_t uid, struct meta_user *ret_user)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret_user)
		return -EINVAL;
	if (uid < 0)
		return -ENOENT;
	r = meta_stmt(db, META_ST_USER_BY_UID, "SELECT " USER_COLS " FROM users WHERE uid = ?1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, uid))
		return meta_bind_errno(st);
	return one_user(st, ret_user);
}

int meta_user_for_uid(struct meta_db *db, int64_t uid, struct meta_user *ret_user)
{
	struct passwd pw, *res = NULL;
	struct meta_user u;
	char buf[4096];
	int r;

	if (!ret_user)
		return -EINVAL;
	r = meta_user_get_by_uid(db, uid, ret_user);
	if (r != -ENOENT)
		return r;
	/* getpwuid_r: the daemon asks from many threads */
	if (uid < 0 || uid > (int64_t)(uid_t)-1 ||
	    getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return -ENOENT;
	r = meta_user_get_by_name(db, res->pw_name, &u);
	if (r < 0)
		return r;
	if (u.uid >= 0)
		return -ENOENT; /* that name is mapped to another uid */
	*ret_user = u;
	return 0;
}

int meta_user_set_secret(struct meta_db *db, int64_t id,
			 const uint8_t secret_sealed[META_USER_SECRET_BYTES])
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!secret_sealed)
		return -EINVAL;
	r = meta_stmt(db, META_ST_USER_SET_SECRET,
		      "UPDATE users SET secret_sealed = ?2 WHERE id = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, id) |
	    meta_bind_blob(st, 2, secret_sealed, META_USER_SECRET_BYTES))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

int meta_user_list(struct meta_db *db, struct meta_user **ret_users, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_user *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret_users || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_USER_LIST, "SELECT " USER_COLS " FROM users ORDER BY name", &st);
	if (r < 0)
		return r;
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = read_user(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*ret_users = v;
	*ret_n = n;
	return 0;
}

/* ---- roles ---- */

#define ROLE_COLS "id, name, levels, flags, key_version, created"

static int read_role(sqlite3_stmt *st, struct meta_role *ro)
{
	int64_t levels;
	int r;

	memset(ro, 0, sizeof(*ro));
	if ((r = meta_col_i64(st, 0, &ro->id)) < 0 ||
	    (r = meta_col_text(st, 1, ro->name, sizeof(ro->name))) < 0 ||
	    (r = meta_col_int(st, 2, 0, (1 << META_LEVELS) - 1, &levels)) < 0 ||
	    (r = meta_col_u32(st, 3, &ro->flags)) < 0 || (r = meta_col_u32(st, 4, &ro->key_version)) < 0 ||
	    (r = meta_col_i64(st, 5, &ro->created_ns)) < 0)
		return r;
	ro->levels = (uint32_t)levels;
	return 0;
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

	if (!ro || !name_valid(ro->name) || ro->levels >= (1u << META_LEVELS))
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
	struct meta_role *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret_roles || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROLE_LIST, "SELECT " ROLE_COLS " FROM roles ORDER BY name", &st);
	if (r < 0)
		return r;
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = read_role(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*ret_roles = v;
	*ret_n = n;
	return 0;
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

int meta_role_key_get(struct meta_db *db, int64_t role_id, uint32_t version,
		      struct meta_role_key *ret_key)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_role_key k;
	int64_t role;
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

	memset(&k, 0, sizeof(k));
	if ((r = meta_col_i64(st, 0, &role)) < 0 || (r = meta_col_u32(st, 1, &k.version)) < 0 ||
	    (r = meta_col_fixed(st, 2, k.public_key, sizeof(k.public_key))) < 0 ||
	    (r = meta_col_i64(st, 4, &k.created_ns)) < 0)
		return r;
	k.role_id = role;
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		r = meta_col_fixed(st, 3, k.custody_sealed, sizeof(k.custody_sealed));
		if (r < 0)
			return r;
		k.has_custody = true;
	}
	*ret_key = k;
	return 0;
}

/* ---- grants ---- */

static int read_grant(sqlite3_stmt *st, struct meta_grant *g)
{
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = meta_col_i64(st, 0, &g->user_id)) < 0 || (r = meta_col_i64(st, 1, &g->role_id)) < 0 ||
	    (r = meta_col_u32(st, 2, &g->role_version)) < 0 ||
	    (r = meta_col_fixed(st, 3, g->sealed, sizeof(g->sealed))) < 0 ||
	    (r = meta_col_i64(st, 4, &g->granted_by)) < 0 ||
	    (r = meta_col_i64(st, 5, &g->granted_at_ns)) < 0 ||
	    (r = meta_col_i64(st, 6, &g->expires_ns)) < 0 ||
	    (r = meta_col_text(st, 7, g->user_name, sizeof(g->user_name))) < 0 ||
	    (r = meta_col_text(st, 8, g->role_name, sizeof(g->role_name))) < 0)
		return r;
	return 0;
}

int meta_grants_read(sqlite3_stmt *st, struct meta_grant **ret, size_t *ret_n)
{
	struct meta_grant *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = read_grant(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* -ENOENT no such user or role. granted_at_ns 0 means now. The name fields are ignored. */
int meta_grant_add(struct meta_db *db, const struct meta_grant *g)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!g)
		return -EINVAL;
	r = meta_stmt(db, META_ST_GRANT_ADD,
		      "INSERT INTO grants (user_id, role_id, role_version, sealed, granted_by,"
		      " granted_at, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		      " ON CONFLICT (user_id, role_id, role_version) DO UPDATE SET"
		      " sealed = excluded.sealed, granted_by = excluded.granted_by,"
		      " granted_at = excluded.granted_at, expires = excluded.expires",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, g->user_id) | sqlite3_bind_int64(st, 2, g->role_id) |
	    sqlite3_bind_int64(st, 3, g->role_version) |
	    meta_bind_blob(st, 4, g->sealed, sizeof(g->sealed)) |
	    sqlite3_bind_int64(st, 5, g->granted_by) |
	    sqlite3_bind_int64(st, 6, g->granted_at_ns ? g->granted_at_ns : meta_now_ns()) |
	    sqlite3_bind_int64(st, 7, g->expires_ns))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

int meta_grant_remove(struct meta_db *db, int64_t user_id, int64_t role_id)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	r = meta_stmt(db, META_ST_GRANT_REMOVE,
		      "DELETE FROM grants WHERE user_id = ?1 AND role_id = ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, user_id) | sqlite3_bind_int64(st, 2, role_id))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

/* Names are filled here too. */
int meta_grant_list_user(struct meta_db *db, int64_t user_id, struct meta_grant **ret,
			 size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_GRANT_LIST_USER,
		      META_GRANT_SELECT " WHERE g.user_id = ?1 ORDER BY g.role_id, g.role_version", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, user_id))
		return meta_bind_errno(st);
	return meta_grants_read(st, ret, ret_n);
}

int meta_grant_list_all(struct meta_db *db, struct meta_grant **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_GRANT_LIST_ALL,
		      META_GRANT_SELECT " ORDER BY u.name, r.name, g.role_version", &st);
	if (r < 0)
		return r;
	return meta_grants_read(st, ret, ret_n);
}

/* ---- key versions ---- */

/* Level keys: id is the level (0..3); metadata keys: id 0. -EINVAL otherwise; -EEXIST taken. */
int meta_key_version_add(struct meta_db *db, const struct meta_key_version *v)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int64_t created;
	int r;

	if (!v)
		return -EINVAL;
	created = v->created_ns ? v->created_ns : meta_now_ns();
	if (v->kind == META_KEY_LEVEL && v->id < META_LEVELS) {
		r = meta_stmt(db, META_ST_LEVEL_KEY_ADD,
			      "INSERT INTO level_keys (level, version, fingerprint, created)"
			      " VALUES (?1, ?2, ?3, ?4)",
			      &st);
		if (r < 0)
			return r;
		if (sqlite3_bind_int64(st, 1, v->id) | sqlite3_bind_int64(st, 2, v->version) |
		    meta_bind_blob(st, 3, v->fingerprint, sizeof(v->fingerprint)) |
		    sqlite3_bind_int64(st, 4, created))
			return meta_bind_errno(st);
	} else if (v->kind == META_KEY_METADATA && v->id == 0) {
		r = meta_stmt(db, META_ST_META_KEY_ADD,
			      "INSERT INTO meta_keys (version, fingerprint, created)"
			      " VALUES (?1, ?2, ?3)",
			      &st);
		if (r < 0)
			return r;
		if (sqlite3_bind_int64(st, 1, v->version) |
		    meta_bind_blob(st, 2, v->fingerprint, sizeof(v->fingerprint)) |
		    sqlite3_bind_int64(st, 3, created))
			return meta_bind_errno(st);
	} else {
		return -EINVAL;
	}
	return meta_step_done(st);
}

/* Rows are (kind, id, version, fingerprint, created). */
static int read_key_version(sqlite3_stmt *st, struct meta_key_version *v)
{
	int64_t kind;
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = meta_col_int(st, 0, META_KEY_LEVEL, META_KEY_METADATA, &kind)) < 0 ||
	    (r = meta_col_u32(st, 1, &v->id)) < 0 || (r = meta_col_u32(st, 2, &v->version)) < 0 ||
	    (r = meta_col_fixed(st, 3, v->fingerprint, sizeof(v->fingerprint))) < 0 ||
	    (r = meta_col_i64(st, 4, &v->created_ns)) < 0)
		return r;
	v->kind = (int)kind;
	return 0;
}

int meta_key_version_current(struct meta_db *db, int kind, uint32_t id,
			     struct meta_key_version *ret)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_key_version v;
	int r;

	if (!ret)
		return -EINVAL;
	if (kind == META_KEY_LEVEL && id < META_LEVELS) {
		r = meta_stmt(db, META_ST_LEVEL_KEY_CURRENT,
			      "SELECT 2, level, version, fingerprint, created FROM level_keys"
			      " WHERE level = ?1 ORDER BY version DESC LIMIT 1",
			      &st);
		if (r < 0)
			return r;
		if (sqlite3_bind_int64(st, 1, id))
			return meta_bind_errno(st);
	} else if (kind == META_KEY_METADATA && id == 0) {
		r = meta_stmt(db, META_ST_META_KEY_CURRENT,
			      "SELECT 3, 0, version, fingerprint, created FROM meta_keys"
			      " ORDER BY version DESC LIMIT 1",
			      &st);
		if (r < 0)
			return r;
	} else {
		return -EINVAL;
	}
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	r = read_key_version(st, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

/* Level keys then metadata keys, each by id and version. */
int meta_key_version_list(struct meta_db *db, struct meta_key_version **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_key_version *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_KEY_VERSION_LIST,
		      "SELECT 2, level, version, fingerprint, created FROM level_keys"
		      " UNION ALL SELECT 3, 0, version, fingerprint, created FROM meta_keys"
		      " ORDER BY 1, 2, 3",
		      &st);
	if (r < 0)
		return r;
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = read_key_version(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- sealed keys ---- */

/* -EINVAL kind other than level/metadata; -ENOENT no such role. */
int meta_key_seal_add(struct meta_db *db, const struct meta_key_seal *s)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!s || (s->kind != META_KEY_LEVEL && s->kind != META_KEY_METADATA) ||
	    (s->kind == META_KEY_LEVEL && s->id >= META_LEVELS) ||
	    (s->kind == META_KEY_METADATA && s->id != 0))
		return -EINVAL;
	r = meta_stmt(db, META_ST_KEY_SEAL_ADD,
		      "INSERT INTO key_seals (kind, id, version, role_id, role_version, sealed)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		      " ON CONFLICT (kind, id, version, role_id, role_version)"
		      " DO UPDATE SET sealed = excluded.sealed",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int(st, 1, s->kind) | sqlite3_bind_int64(st, 2, s->id) |
	    sqlite3_bind_int64(st, 3, s->version) | sqlite3_bind_int64(st, 4, s->role_id) |
	    sqlite3_bind_int64(st, 5, s->role_version) |
	    meta_bind_blob(st, 6, s->sealed, sizeof(s->sealed)))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

int meta_key_seals_read(sqlite3_stmt *st, struct meta_key_seal **ret, size_t *ret_n)
{
	struct meta_key_seal *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = meta_step_row(st)) > 0) {
		struct meta_key_seal *s;
		int64_t kind;

		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		s = &v[n];
		memset(s, 0, sizeof(*s));
		if ((r = meta_col_int(st, 0, META_KEY_LEVEL, META_KEY_METADATA, &kind)) < 0 ||
		    (r = meta_col_u32(st, 1, &s->id)) < 0 || (r = meta_col_u32(st, 2, &s->version)) < 0 ||
		    (r = meta_col_i64(st, 3, &s->role_id)) < 0 ||
		    (r = meta_col_u32(st, 4, &s->role_version)) < 0 ||
		    (r = meta_col_fixed(st, 5, s->sealed, sizeof(s->sealed))) < 0)
			break;
		s->kind = (int)kind;
		n++;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Ordered by kind, id, version. */
int meta_key_seal_list_role(struct meta_db *db, int64_t role_id, uint32_t role_version,
			    struct meta_key_seal **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_KEY_SEAL_LIST_ROLE,
		      "SELECT kind, id, version, role_id, role_version, sealed FROM key_seals"
		      " WHERE role_id = ?1 AND role_version = ?2 ORDER BY kind, id, version",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id) | sqlite3_bind_int64(st, 2, role_version))
		return meta_bind_errno(st);
	return meta_key_seals_read(st, ret, ret_n);
}
