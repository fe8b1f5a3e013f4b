/*
 * meta/rotations.c — key rotations' storage: the rotation rows and their
 * progress, and the extra queries over users, roles, grants, sealed keys and
 * file keys that a rotation needs (rotations.h; docs/format.md §8).
 *
 * File keys are selected by a prefix of the wrapped key (its format version,
 * level and key version, docs/format.md §5) with substr() on the blob, so a
 * rotation finds the files still under an old key version without a column
 * of its own: SQLite compares blobs bytewise. A re-wrap or re-encryption
 * replaces a file's key (and blob) only if the row still holds what was read
 * (compare and swap), so a concurrent change by the daemon is never lost.
 *
 * Every blob read back is checked for its exact size, as in users.c.
 */
#include "meta/rotations.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

_Static_assert(META_FILE_KEY_PREFIX_BYTES <= META_FILE_KEY_BYTES, "prefix of a wrapped key");

/* Bind a count for LIMIT. */
static int bind_max(sqlite3_stmt *st, int i, size_t max)
{
	return sqlite3_bind_int64(st, i, max > INT64_MAX ? INT64_MAX : (int64_t)max);
}

/* ---- users, roles, grants, sealed keys -------------------------------- */

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
	struct meta_role_key *v = NULL;
	size_t n = 0, cap = 0;
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
	while ((r = meta_step_row(st)) > 0) {
		struct meta_role_key *k;

		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		k = &v[n];
		memset(k, 0, sizeof(*k));
		if ((r = meta_col_i64(st, 0, &k->role_id)) < 0 ||
		    (r = meta_col_u32(st, 1, &k->version)) < 0 ||
		    (r = meta_col_fixed(st, 2, k->public_key, sizeof(k->public_key))) < 0 ||
		    (r = meta_col_i64(st, 4, &k->created_ns)) < 0)
			break;
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			r = meta_col_fixed(st, 3, k->custody_sealed, sizeof(k->custody_sealed));
			if (r < 0)
				break;
			k->has_custody = true;
		}
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

int meta_grant_list_role(struct meta_db *db, int64_t role_id, struct meta_grant **ret,
			 size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_GRANT_LIST_ROLE,
		      META_GRANT_SELECT " WHERE g.role_id = ?1 ORDER BY u.name, g.role_version",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id))
		return meta_bind_errno(st);
	return meta_grants_read(st, ret, ret_n);
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

int meta_key_seal_list_all(struct meta_db *db, struct meta_key_seal **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_KEY_SEAL_LIST_ALL,
		      "SELECT kind, id, version, role_id, role_version, sealed FROM key_seals"
		      " ORDER BY kind, id, version, role_id, role_version",
		      &st);
	if (r < 0)
		return r;
	return meta_key_seals_read(st, ret, ret_n);
}

int meta_key_seal_remove_role_below(struct meta_db *db, int64_t role_id, uint32_t below)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	r = meta_stmt(db, META_ST_KEY_SEAL_REMOVE_ROLE_BELOW,
		      "DELETE FROM key_seals WHERE role_id = ?1 AND role_version < ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, role_id) | sqlite3_bind_int64(st, 2, below))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

int meta_key_seal_remove_key(struct meta_db *db, int kind, uint32_t id, uint32_t version)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (kind != META_KEY_LEVEL && kind != META_KEY_METADATA)
		return -EINVAL;
	r = meta_stmt(db, META_ST_KEY_SEAL_REMOVE_KEY,
		      "DELETE FROM key_seals WHERE kind = ?1 AND id = ?2 AND version = ?3", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int(st, 1, kind) | sqlite3_bind_int64(st, 2, id) |
	    sqlite3_bind_int64(st, 3, version))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

/* ---- file keys --------------------------------------------------------- */

/* The filters shared by list and count: ?2 prefix (NULL: any), ?3 level mask (0: any). */
#define FILE_KEY_FILTER                                                                            \
	" file_key IS NOT NULL AND object_id IS NOT NULL"                                          \
	" AND (?2 IS NULL OR substr(file_key, 1, length(?2)) = ?2)"                                \
	" AND (?3 = 0 OR ((1 << level) & ?3) <> 0)"

static int bind_filter(sqlite3_stmt *st, const uint8_t *prefix, size_t prefix_len,
		       uint32_t level_mask)
{
	return meta_bind_blob(st, 2, prefix_len ? prefix : NULL, prefix_len) |
	       sqlite3_bind_int64(st, 3, level_mask);
}

int meta_file_key_list(struct meta_db *db, const uint8_t *prefix, size_t prefix_len,
		       uint32_t level_mask, uint64_t after_ino, size_t max,
		       struct meta_file_key **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_file_key *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret || !ret_n || (prefix_len && !prefix) || prefix_len > META_FILE_KEY_BYTES ||
	    level_mask >= (1u << META_LEVELS))
		return -EINVAL;
	if (max == 0 || after_ino >= INT64_MAX) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	r = meta_stmt(
	    db, META_ST_FILE_KEY_LIST,
	    "SELECT ino, level, object_id, file_key FROM nodes WHERE ino > ?1 AND" FILE_KEY_FILTER
	    " ORDER BY ino LIMIT ?4",
	    &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)after_ino) |
	    bind_filter(st, prefix, prefix_len, level_mask) | bind_max(st, 4, max))
		return meta_bind_errno(st);
	while ((r = meta_step_row(st)) > 0) {
		struct meta_file_key *f;
		int64_t level;

		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		f = &v[n];
		memset(f, 0, sizeof(*f));
		if ((r = meta_col_u63(st, 0, &f->ino)) < 0 ||
		    (r = meta_col_int(st, 1, 0, META_LEVELS - 1, &level)) < 0 ||
		    (r = meta_col_fixed(st, 2, f->object_id, sizeof(f->object_id))) < 0 ||
		    (r = meta_col_fixed(st, 3, f->file_key, sizeof(f->file_key))) < 0)
			break;
		f->level = (uint8_t)level;
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

int meta_file_key_count(struct meta_db *db, const uint8_t *prefix, size_t prefix_len,
			uint32_t level_mask, uint64_t *ret_count)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret_count || (prefix_len && !prefix) || prefix_len > META_FILE_KEY_BYTES ||
	    level_mask >= (1u << META_LEVELS))
		return -EINVAL;
	/* the filter numbers its parameters from 2; ?1 is left out (NULL) */
	r = meta_stmt(db, META_ST_FILE_KEY_COUNT,
		      "SELECT count(*) FROM nodes WHERE" FILE_KEY_FILTER, &st);
	if (r < 0)
		return r;
	if (bind_filter(st, prefix, prefix_len, level_mask))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -EIO;
	return meta_col_u63(st, 0, ret_count);
}

int meta_file_key_swap(struct meta_db *db, uint64_t ino,
		       const uint8_t old_object_id[META_OBJECT_ID_BYTES],
		       const uint8_t old_file_key[META_FILE_KEY_BYTES],
		       const uint8_t new_object_id[META_OBJECT_ID_BYTES],
		       const uint8_t new_file_key[META_FILE_KEY_BYTES])
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!old_object_id || !old_file_key || !new_object_id || !new_file_key)
		return -EINVAL;
	if (ino > INT64_MAX)
		return -ESTALE;
	r = meta_stmt(db, META_ST_FILE_KEY_SWAP,
		      "UPDATE nodes SET object_id = ?4, file_key = ?5"
		      " WHERE ino = ?1 AND object_id = ?2 AND file_key = ?3",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) |
	    meta_bind_blob(st, 2, old_object_id, META_OBJECT_ID_BYTES) |
	    meta_bind_blob(st, 3, old_file_key, META_FILE_KEY_BYTES) |
	    meta_bind_blob(st, 4, new_object_id, META_OBJECT_ID_BYTES) |
	    meta_bind_blob(st, 5, new_file_key, META_FILE_KEY_BYTES))
		return meta_bind_errno(st);
	r = meta_step_changed(st);
	return r == -ENOENT ? -ESTALE : r;
}

int meta_file_key_census(struct meta_db *db, struct meta_file_key_group **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_file_key_group *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_FILE_KEY_CENSUS,
		      "SELECT substr(file_key, 1, 8) AS p, count(*) FROM nodes"
		      " WHERE file_key IS NOT NULL GROUP BY p ORDER BY p",
		      &st);
	if (r < 0)
		return r;
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		memset(&v[n], 0, sizeof(v[n]));
		if ((r = meta_col_fixed(st, 0, v[n].prefix, sizeof(v[n].prefix))) < 0 ||
		    (r = meta_col_u63(st, 1, &v[n].files)) < 0)
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

int meta_object_in_use(struct meta_db *db, const uint8_t object_id[META_OBJECT_ID_BYTES],
		       bool *ret_in_use)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!object_id || !ret_in_use)
		return -EINVAL;
	r = meta_stmt(db, META_ST_OBJECT_IN_USE, "SELECT 1 FROM nodes WHERE object_id = ?1", &st);
	if (r < 0)
		return r;
	if (meta_bind_blob(st, 1, object_id, META_OBJECT_ID_BYTES))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	*ret_in_use = r > 0;
	return 0;
}

/* ---- rotations --------------------------------------------------------- */

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
	if ((e = meta_col_i64(st, 0, &r.id)) < 0 || (e = meta_col_text(st, 1, kind, sizeof(kind))) < 0 ||
	    (e = meta_col_text(st, 2, r.reason, sizeof(r.reason))) < 0 ||
	    (e = meta_col_text(st, 3, r.started_by, sizeof(r.started_by))) < 0 ||
	    (e = meta_col_int(st, 4, 0, (1 << META_LEVELS) - 1, &levels)) < 0 ||
	    (e = meta_col_text(st, 5, state, sizeof(state))) < 0 ||
	    (e = meta_col_i64(st, 6, &r.started_ns)) < 0 || (e = meta_col_i64(st, 7, &r.finished_ns)) < 0 ||
	    (e = meta_col_u63(st, 8, &r.cursor)) < 0 || (e = meta_col_u63(st, 9, &r.done_count)) < 0 ||
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
	struct meta_rotation *v = NULL;
	size_t n = 0, cap = 0;
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
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = read_rotation(st, &v[n]);
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
