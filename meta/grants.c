/*
 * meta/grants.c — grants: a role's secret sealed to a user, one row per
 * (user, role, role key version), with who granted it, when, and until when
 * (table grants; grants.h; docs/format.md §8). Listings fill in the user and
 * role names with a join.
 *
 * The seal passes through as an opaque fixed-size byte string, checked for
 * its exact size when read back. A grant that names a missing user or role
 * is -ENOENT (foreign keys).
 */
#include "meta/grants.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

/* The columns read_grant() reads; a query adds its WHERE and ORDER BY. */
#define GRANT_SELECT                                                                               \
	"SELECT g.user_id, g.role_id, g.role_version, g.sealed, g.granted_by, g.granted_at,"       \
	" g.expires, u.name, r.name FROM grants g JOIN users u ON u.id = g.user_id"                \
	" JOIN roles r ON r.id = g.role_id"

static int read_grant(sqlite3_stmt *st, struct meta_grant *g)
{
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = meta_col_i64(st, 0, &g->user_id)) < 0 ||
	    (r = meta_col_i64(st, 1, &g->role_id)) < 0 ||
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

/* read_grant for meta_rows_read. */
static int read_grant_row(sqlite3_stmt *st, void *elem)
{
	return read_grant(st, elem);
}

/* The grant rows of st (the columns of GRANT_SELECT), stepped to the end, into
 * a malloc'd array. */
static int grants_read(sqlite3_stmt *st, struct meta_grant **ret, size_t *ret_n)
{
	return meta_rows_read(st, sizeof(**ret), read_grant_row, NULL, (void **)ret, ret_n);
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
		      GRANT_SELECT " WHERE g.user_id = ?1 ORDER BY g.role_id, g.role_version", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, user_id))
		return meta_bind_errno(st);
	return grants_read(st, ret, ret_n);
}

int meta_grant_list_all(struct meta_db *db, struct meta_grant **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_GRANT_LIST_ALL,
		      GRANT_SELECT " ORDER BY u.name, r.name, g.role_version", &st);
	if (r < 0)
		return r;
	return grants_read(st, ret, ret_n);
}

int meta_grant_list_role(struct meta_db *db, int64_t role_id, struct meta_grant **ret,
			 size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_GRANT_LIST_ROLE,
		      GRANT_SELECT " WHERE g.role_id = ?1 ORDER BY u.name, g.role_version", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id))
		return meta_bind_errno(st);
	return grants_read(st, ret, ret_n);
}

int meta_grant_remove_below(struct meta_db *db, int64_t role_id, uint32_t below)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	r = meta_stmt(db, META_ST_GRANT_REMOVE_BELOW,
		      "DELETE FROM grants WHERE role_id = ?1 AND role_version < ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id) | sqlite3_bind_int64(st, 2, below))
		return meta_bind_errno(st);
	return meta_step_done(st);
}
