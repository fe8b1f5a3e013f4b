/*
 * meta/rotations.c — key rotations' storage (table rotations; rotations.h;
 * docs/format.md §8): one row per rotation, its kind, reason and levels, and
 * the progress that lets an interrupted rotation resume.
 *
 * Every blob read back is checked for its exact size, as everywhere in meta/.
 */
#include "meta/rotations.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

#define ROTATION_COLS                                                                              \
	"id, kind, reason, started_by, levels, state, started, finished, cursor, done, total,"     \
	" failed, pending_object"

static const char *kind_name(enum meta_rotation_kind kind)
{
	switch (kind) {
	case META_ROTATION_REWRAP:
		return "rewrap";
	case META_ROTATION_REENCRYPT:
		return "reencrypt";
	}
	return NULL;
}

static int read_rotation(sqlite3_stmt *st, struct meta_rotation *ret)
{
	struct meta_rotation r;
	char kind[16], state[16];
	int64_t levels;
	int e;

	memset(&r, 0, sizeof(r));
	if ((e = meta_col_i64(st, 0, &r.id)) < 0 ||
	    (e = meta_col_text(st, 1, kind, sizeof(kind))) < 0 ||
	    (e = meta_col_text(st, 2, r.reason, sizeof(r.reason))) < 0 ||
	    (e = meta_col_text(st, 3, r.started_by, sizeof(r.started_by))) < 0 ||
	    (e = meta_col_int(st, 4, 0, (1 << META_LEVELS) - 1, &levels)) < 0 ||
	    (e = meta_col_text(st, 5, state, sizeof(state))) < 0 ||
	    (e = meta_col_i64(st, 6, &r.started_ns)) < 0 ||
	    (e = meta_col_i64(st, 7, &r.finished_ns)) < 0 ||
	    (e = meta_col_u63(st, 8, &r.cursor)) < 0 ||
	    (e = meta_col_u63(st, 9, &r.done_count)) < 0 ||
	    (e = meta_col_u63(st, 10, &r.total)) < 0 || (e = meta_col_u63(st, 11, &r.failed)) < 0)
		return e;
	if (strcmp(kind, "rewrap") == 0)
		r.kind = META_ROTATION_REWRAP;
	else if (strcmp(kind, "reencrypt") == 0)
		r.kind = META_ROTATION_REENCRYPT;
	else
		return -EIO;
	if (strcmp(state, "done") == 0)
		r.done = true;
	else if (strcmp(state, "running") != 0)
		return -EIO;
	r.levels = (uint32_t)levels;
	if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
		e = meta_col_fixed(st, 12, r.pending_object, sizeof(r.pending_object));
		if (e < 0)
			return e;
		r.has_pending = true;
	}
	*ret = r;
	return 0;
}

/* read_rotation for meta_rows_read. */
static int read_rotation_row(sqlite3_stmt *st, void *elem)
{
	return read_rotation(st, elem);
}

int meta_rotation_add(struct meta_db *db, struct meta_rotation *rot)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	const char *kind;
	int64_t started;
	int r;

	if (!rot || !(kind = kind_name(rot->kind)) || rot->levels >= (1u << META_LEVELS) ||
	    rot->cursor > INT64_MAX || rot->done_count > INT64_MAX || rot->total > INT64_MAX ||
	    rot->failed > INT64_MAX)
		return -EINVAL;
	started = rot->started_ns ? rot->started_ns : meta_now_ns();
	r = meta_stmt(db, META_ST_ROTATION_ADD,
		      "INSERT INTO rotations (kind, reason, started_by, levels, state, started,"
		      " finished, cursor, done, total, failed, pending_object)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC) |
	    meta_bind_text(st, 2, rot->reason, sizeof(rot->reason) - 1) |
	    meta_bind_text(st, 3, rot->started_by, sizeof(rot->started_by) - 1) |
	    sqlite3_bind_int64(st, 4, rot->levels) |
	    sqlite3_bind_text(st, 5, rot->done ? "done" : "running", -1, SQLITE_STATIC) |
	    sqlite3_bind_int64(st, 6, started) | sqlite3_bind_int64(st, 7, rot->finished_ns) |
	    sqlite3_bind_int64(st, 8, (int64_t)rot->cursor) |
	    sqlite3_bind_int64(st, 9, (int64_t)rot->done_count) |
	    sqlite3_bind_int64(st, 10, (int64_t)rot->total) |
	    sqlite3_bind_int64(st, 11, (int64_t)rot->failed) |
	    (rot->has_pending ? meta_bind_blob(st, 12, rot->pending_object, META_OBJECT_ID_BYTES)
			      : sqlite3_bind_null(st, 12)))
		return meta_bind_errno(st);
	r = meta_step_done(st);
	if (r < 0)
		return r;
	rot->id = sqlite3_last_insert_rowid(db->sql);
	rot->started_ns = started;
	return 0;
}

int meta_rotation_update(struct meta_db *db, const struct meta_rotation *rot)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!rot || rot->cursor > INT64_MAX || rot->done_count > INT64_MAX ||
	    rot->total > INT64_MAX || rot->failed > INT64_MAX)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROTATION_UPDATE,
		      "UPDATE rotations SET state = ?2, finished = ?3, cursor = ?4, done = ?5,"
		      " total = ?6, failed = ?7, pending_object = ?8 WHERE id = ?1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, rot->id) |
	    sqlite3_bind_text(st, 2, rot->done ? "done" : "running", -1, SQLITE_STATIC) |
	    sqlite3_bind_int64(st, 3, rot->finished_ns) |
	    sqlite3_bind_int64(st, 4, (int64_t)rot->cursor) |
	    sqlite3_bind_int64(st, 5, (int64_t)rot->done_count) |
	    sqlite3_bind_int64(st, 6, (int64_t)rot->total) |
	    sqlite3_bind_int64(st, 7, (int64_t)rot->failed) |
	    (rot->has_pending ? meta_bind_blob(st, 8, rot->pending_object, META_OBJECT_ID_BYTES)
			      : sqlite3_bind_null(st, 8)))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

int meta_rotation_get(struct meta_db *db, int64_t id, struct meta_rotation *ret)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret)
		return -EINVAL;
	r = meta_stmt(db, META_ST_ROTATION_GET,
		      "SELECT " ROTATION_COLS " FROM rotations WHERE id = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, id))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	return read_rotation(st, ret);
}

int meta_rotation_list(struct meta_db *db, bool running_only, struct meta_rotation **ret,
		       size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	if (running_only)
		r = meta_stmt(db, META_ST_ROTATION_LIST_RUNNING,
			      "SELECT " ROTATION_COLS
			      " FROM rotations WHERE state = 'running' ORDER BY id",
			      &st);
	else
		r = meta_stmt(db, META_ST_ROTATION_LIST,
			      "SELECT " ROTATION_COLS " FROM rotations ORDER BY id", &st);
	if (r < 0)
		return r;
	return meta_rows_read(st, sizeof(**ret), read_rotation_row, NULL, (void **)ret, ret_n);
}
