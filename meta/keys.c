/*
 * meta/keys.c — the symmetric keys' storage (keys.h; docs/format.md §8):
 * versions of the level and metadata keys (tables level_keys, meta_keys:
 * fingerprints only), their seals to role key versions (table key_seals),
 * and the wrapped file keys of the nodes as a rotation and the key census
 * see them.
 *
 * File keys are selected by a prefix of the wrapped key (its format version,
 * level and key version, docs/format.md §5) with substr() on the blob, so a
 * rotation finds the files still under an old key version without a column
 * of its own: SQLite compares blobs bytewise. A re-wrap or re-encryption
 * replaces a file's key (and blob) only if the row still holds what was read
 * (compare and swap), so a concurrent change by the daemon is never lost.
 *
 * Every blob read back is checked for its exact size (a wrong-sized row is
 * -EIO, never copied).
 */
#include "meta/keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

_Static_assert(META_FILE_KEY_PREFIX_BYTES <= META_FILE_KEY_BYTES, "prefix of a wrapped key");

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

/* read_key_version for meta_rows_read. */
static int read_key_version_row(sqlite3_stmt *st, void *elem)
{
	return read_key_version(st, elem);
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
	return meta_rows_read(st, sizeof(**ret), read_key_version_row, NULL, (void **)ret, ret_n);
}

/* ---- sealed keys ---- */

/* -EINVAL kind other than level/metadata; -ENOENT no such role. */
int meta_key_seal_add(struct meta_db *db, const struct meta_key_seal *s)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!s || s->kind < META_KEY_LEVEL || s->kind > META_KEY_KIND_MAX ||
	    (s->kind == META_KEY_LEVEL && s->id >= META_LEVELS) ||
	    (s->kind != META_KEY_LEVEL && s->id != 0))
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

/* A key_seals row (kind, id, version, role_id, role_version, sealed). */
static int read_key_seal(sqlite3_stmt *st, struct meta_key_seal *s)
{
	int64_t kind;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = meta_col_int(st, 0, META_KEY_LEVEL, META_KEY_KIND_MAX, &kind)) < 0 ||
	    (r = meta_col_u32(st, 1, &s->id)) < 0 || (r = meta_col_u32(st, 2, &s->version)) < 0 ||
	    (r = meta_col_i64(st, 3, &s->role_id)) < 0 ||
	    (r = meta_col_u32(st, 4, &s->role_version)) < 0 ||
	    (r = meta_col_fixed(st, 5, s->sealed, sizeof(s->sealed))) < 0)
		return r;
	s->kind = (int)kind;
	return 0;
}

/* read_key_seal for meta_rows_read. */
static int read_key_seal_row(sqlite3_stmt *st, void *elem)
{
	return read_key_seal(st, elem);
}

/* The key_seals rows of st, stepped to the end, into a malloc'd array. */
static int key_seals_read(sqlite3_stmt *st, struct meta_key_seal **ret, size_t *ret_n)
{
	return meta_rows_read(st, sizeof(**ret), read_key_seal_row, NULL, (void **)ret, ret_n);
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
	return key_seals_read(st, ret, ret_n);
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
	return key_seals_read(st, ret, ret_n);
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

	if (kind < META_KEY_LEVEL || kind > META_KEY_KIND_MAX)
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

/* ---- signing keys ---- */

static bool sign_kind_valid(int kind)
{
	return kind == META_KEY_CHECKPOINT || kind == META_KEY_ADMIN_SIGN;
}

int meta_sign_key_add(struct meta_db *db, const struct meta_sign_key *k)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!k || !sign_kind_valid(k->kind) || k->version < 1 || k->version > 0xffff)
		return -EINVAL;
	r = meta_stmt(db, META_ST_SIGN_KEY_ADD,
		      "INSERT INTO sign_keys (kind, version, public_key, created)"
		      " VALUES (?1, ?2, ?3, ?4)",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int(st, 1, k->kind) | sqlite3_bind_int64(st, 2, k->version) |
	    meta_bind_blob(st, 3, k->public_key, sizeof(k->public_key)) |
	    sqlite3_bind_int64(st, 4, k->created_ns ? k->created_ns : meta_now_ns()))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

/* A row (kind, version, public_key, created) of st. */
static int read_sign_key(sqlite3_stmt *st, struct meta_sign_key *k)
{
	int64_t kind;
	int r;

	memset(k, 0, sizeof(*k));
	if ((r = meta_col_int(st, 0, META_KEY_CHECKPOINT, META_KEY_ADMIN_SIGN, &kind)) < 0 ||
	    (r = meta_col_u32(st, 1, &k->version)) < 0 ||
	    (r = meta_col_fixed(st, 2, k->public_key, sizeof(k->public_key))) < 0 ||
	    (r = meta_col_i64(st, 3, &k->created_ns)) < 0)
		return r;
	k->kind = (int)kind;
	return 0;
}

/* read_sign_key for meta_rows_read. */
static int read_sign_key_row(sqlite3_stmt *st, void *elem)
{
	return read_sign_key(st, elem);
}

int meta_sign_key_current(struct meta_db *db, int kind, struct meta_sign_key *ret)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !sign_kind_valid(kind))
		return -EINVAL;
	r = meta_stmt(db, META_ST_SIGN_KEY_CURRENT,
		      "SELECT kind, version, public_key, created FROM sign_keys"
		      " WHERE kind = ?1 ORDER BY version DESC LIMIT 1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int(st, 1, kind))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	return read_sign_key(st, ret);
}

int meta_sign_key_list(struct meta_db *db, struct meta_sign_key **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_SIGN_KEY_LIST,
		      "SELECT kind, version, public_key, created FROM sign_keys"
		      " ORDER BY kind, version",
		      &st);
	if (r < 0)
		return r;
	return meta_rows_read(st, sizeof(**ret), read_sign_key_row, NULL, (void **)ret, ret_n);
}

/* ---- file keys ---- */

/* Bind a count for LIMIT. */
static int bind_max(sqlite3_stmt *st, int i, size_t max)
{
	return sqlite3_bind_int64(st, i, max > INT64_MAX ? INT64_MAX : (int64_t)max);
}

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
	r = meta_stmt(db, META_ST_FILE_KEY_LIST,
		      "SELECT ino, level, object_id, file_key, write_counter FROM nodes"
		      " WHERE ino > ?1 AND" FILE_KEY_FILTER " ORDER BY ino LIMIT ?4",
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
		    (r = meta_col_fixed(st, 3, f->file_key, sizeof(f->file_key))) < 0 ||
		    (r = meta_col_u63(st, 4, &f->write_counter)) < 0)
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
	/* any counter the row holds, and it stays */
	return meta_file_blob_swap(db, ino, old_object_id, old_file_key, INT64_MAX, new_object_id,
				   new_file_key, 0);
}

int meta_file_blob_swap(struct meta_db *db, uint64_t ino,
			const uint8_t old_object_id[META_OBJECT_ID_BYTES],
			const uint8_t old_file_key[META_FILE_KEY_BYTES], uint64_t old_counter,
			const uint8_t new_object_id[META_OBJECT_ID_BYTES],
			const uint8_t new_file_key[META_FILE_KEY_BYTES], uint64_t new_counter)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!old_object_id || !old_file_key || !new_object_id || !new_file_key ||
	    old_counter > INT64_MAX || new_counter > INT64_MAX)
		return -EINVAL;
	if (ino > INT64_MAX)
		return -ESTALE;
	r = meta_stmt(
	    db, META_ST_FILE_KEY_SWAP,
	    "UPDATE nodes SET object_id = ?4, file_key = ?5,"
	    " write_counter = max(write_counter, ?7)"
	    " WHERE ino = ?1 AND object_id = ?2 AND file_key = ?3 AND write_counter <= ?6",
	    &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) |
	    meta_bind_blob(st, 2, old_object_id, META_OBJECT_ID_BYTES) |
	    meta_bind_blob(st, 3, old_file_key, META_FILE_KEY_BYTES) |
	    meta_bind_blob(st, 4, new_object_id, META_OBJECT_ID_BYTES) |
	    meta_bind_blob(st, 5, new_file_key, META_FILE_KEY_BYTES) |
	    sqlite3_bind_int64(st, 6, (int64_t)old_counter) |
	    sqlite3_bind_int64(st, 7, (int64_t)new_counter))
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
