/*
 * meta/users.c — the vault's users (table users; users.h; docs/format.md
 * §8): add, look up by name, id or OS uid, list, replace the sealed secret
 * or the whole key pair, disable.
 *
 * A user's public key and passphrase-sealed secret pass through here as
 * opaque fixed-size byte strings; every one read back is checked for its
 * exact size (a wrong-sized row is -EIO, never copied). Names are checked
 * against the pattern of users.h on the way in (-EINVAL) and their length on
 * the way out.
 */
#include "meta/users.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

/* [a-z_][a-z0-9_.-]*, 1..META_NAME_MAX bytes (internal.h) */
bool meta_name_valid(const char *name)
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

/* read_user for meta_rows_read. */
static int read_user_row(sqlite3_stmt *st, void *elem)
{
	return read_user(st, elem);
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

	if (!u || !meta_name_valid(u->name) || u->uid < -1)
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
	int r;

	if (!ret_users || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_USER_LIST, "SELECT " USER_COLS " FROM users ORDER BY name", &st);
	if (r < 0)
		return r;
	return meta_rows_read(st, sizeof(**ret_users), read_user_row, NULL, (void **)ret_users,
			      ret_n);
}

int meta_user_set_disabled(struct meta_db *db, int64_t id, bool disabled)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	r = meta_stmt(db, META_ST_USER_SET_DISABLED, "UPDATE users SET disabled = ?2 WHERE id = ?1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int(st, 2, disabled ? 1 : 0))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

int meta_user_set_keys(struct meta_db *db, int64_t id, const uint8_t public_key[META_PUBKEY_BYTES],
		       const uint8_t secret_sealed[META_USER_SECRET_BYTES])
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!public_key || !secret_sealed)
		return -EINVAL;
	r = meta_stmt(db, META_ST_USER_SET_KEYS,
		      "UPDATE users SET public_key = ?2, secret_sealed = ?3 WHERE id = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, id) | meta_bind_blob(st, 2, public_key, META_PUBKEY_BYTES) |
	    meta_bind_blob(st, 3, secret_sealed, META_USER_SECRET_BYTES))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}
