/*
 * meta/ns.c — the namespace: nodes, directory entries, xattrs, orphans,
 * filesystem totals and the inventory (tables nodes, dirents, xattrs;
 * docs/format.md §8).
 *
 * Nodes and entries are tied by foreign keys: an entry must name an existing
 * parent and inode (-ENOENT otherwise), and a node that an entry still names
 * cannot be deleted (-ENOTEMPTY); a node's xattrs go with it (ON DELETE
 * CASCADE). Inode numbers and entry ids are AUTOINCREMENT, never reused, so
 * the kernel's cached inode numbers and readdir offsets stay unambiguous.
 *
 * The blobs here are ciphertexts and keyed hashes made by the caller; fixed
 * ones (name hashes, object ids, wrapped file keys) are size-checked when
 * read, variable ones are copied into malloc'd buffers the caller frees with
 * the *_clear() functions.
 */
#include "meta/ns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "meta/internal.h"

/* Inode numbers and sizes are positive int64 in SQLite. */
static int col_level(sqlite3_stmt *st, int col, uint8_t *ret)
{
	int64_t v;
	int r = meta_col_int(st, col, 0, META_LEVELS - 1, &v);

	if (r == 0)
		*ret = (uint8_t)v;
	return r;
}

/* ---- nodes ---- */

void meta_node_clear(struct meta_node *n)
{
	if (!n)
		return;
	free(n->symlink_enc);
	n->symlink_enc = NULL;
	n->symlink_enc_len = 0;
}

/* What SQLite can store and the schema accepts; -EINVAL otherwise. */
static bool node_valid(const struct meta_node *n)
{
	return n && n->level < META_LEVELS && n->level_r < META_LEVELS &&
	       n->level_t < META_LEVELS && n->level_s < META_LEVELS && n->size <= INT64_MAX &&
	       n->write_counter <= INT64_MAX && (n->symlink_enc || !n->symlink_enc_len);
}

/* Bind columns 2.. of a node in the order of NODE_COLS (ino is ?1). */
static int bind_node(sqlite3_stmt *st, const struct meta_node *n)
{
	return sqlite3_bind_int64(st, 2, n->mode) | sqlite3_bind_int64(st, 3, n->uid) |
	       sqlite3_bind_int64(st, 4, n->gid) | sqlite3_bind_int64(st, 5, n->nlink) |
	       sqlite3_bind_int64(st, 6, (int64_t)n->size) |
	       sqlite3_bind_int64(st, 7, (int64_t)n->rdev) |
	       sqlite3_bind_int64(st, 8, n->atime_ns) | sqlite3_bind_int64(st, 9, n->mtime_ns) |
	       sqlite3_bind_int64(st, 10, n->ctime_ns) | sqlite3_bind_int(st, 11, n->level) |
	       sqlite3_bind_int(st, 12, n->level_r) | sqlite3_bind_int(st, 13, n->level_t) |
	       sqlite3_bind_int(st, 14, n->level_s) |
	       (n->has_object ? meta_bind_blob(st, 15, n->object_id, sizeof(n->object_id)) |
				    meta_bind_blob(st, 16, n->file_key, sizeof(n->file_key))
			      : sqlite3_bind_null(st, 15) | sqlite3_bind_null(st, 16)) |
	       meta_bind_blob(st, 17, n->symlink_enc, n->symlink_enc_len) |
	       sqlite3_bind_int64(st, 18, (int64_t)n->write_counter);
}

#define NODE_COLS                                                                                  \
	"ino, mode, uid, gid, nlink, size, rdev, atime_ns, mtime_ns, ctime_ns, level, level_r,"    \
	" level_t, level_s, object_id, file_key, symlink_enc, write_counter"

/* Sets n->ino. -EEXIST the object id is another node's. */
int meta_node_insert(struct meta_db *db, struct meta_node *n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!node_valid(n))
		return -EINVAL;
	r = meta_stmt(db, META_ST_NODE_INSERT,
		      "INSERT INTO nodes (" NODE_COLS ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		      " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
		      &st);
	if (r < 0)
		return r;
	if (bind_node(st, n))
		return meta_bind_errno(st);
	r = meta_step_done(st);
	if (r < 0)
		return r;
	n->ino = (uint64_t)sqlite3_last_insert_rowid(db->sql);
	return 0;
}

int meta_node_get(struct meta_db *db, uint64_t ino, struct meta_node *ret_node)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_node n;
	int64_t rdev;
	int r;

	if (!ret_node)
		return -EINVAL;
	if (ino > INT64_MAX)
		return -ENOENT;
	r = meta_stmt(db, META_ST_NODE_GET, "SELECT " NODE_COLS " FROM nodes WHERE ino = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;

	memset(&n, 0, sizeof(n));
	if ((r = meta_col_u63(st, 0, &n.ino)) < 0 || (r = meta_col_u32(st, 1, &n.mode)) < 0 ||
	    (r = meta_col_u32(st, 2, &n.uid)) < 0 || (r = meta_col_u32(st, 3, &n.gid)) < 0 ||
	    (r = meta_col_u32(st, 4, &n.nlink)) < 0 || (r = meta_col_u63(st, 5, &n.size)) < 0 ||
	    (r = meta_col_i64(st, 6, &rdev)) < 0 || (r = meta_col_i64(st, 7, &n.atime_ns)) < 0 ||
	    (r = meta_col_i64(st, 8, &n.mtime_ns)) < 0 ||
	    (r = meta_col_i64(st, 9, &n.ctime_ns)) < 0 || (r = col_level(st, 10, &n.level)) < 0 ||
	    (r = col_level(st, 11, &n.level_r)) < 0 || (r = col_level(st, 12, &n.level_t)) < 0 ||
	    (r = col_level(st, 13, &n.level_s)) < 0)
		return r;
	n.rdev = (uint64_t)rdev;
	/* object id and file key come as a pair, each of its exact size */
	if (sqlite3_column_type(st, 14) != SQLITE_NULL ||
	    sqlite3_column_type(st, 15) != SQLITE_NULL) {
		if ((r = meta_col_fixed(st, 14, n.object_id, sizeof(n.object_id))) < 0 ||
		    (r = meta_col_fixed(st, 15, n.file_key, sizeof(n.file_key))) < 0)
			return r;
		n.has_object = true;
	}
	r = meta_col_u63(st, 17, &n.write_counter);
	if (r == 0)
		r = meta_col_dup(st, 16, &n.symlink_enc, &n.symlink_enc_len);
	if (r < 0)
		return r;
	*ret_node = n;
	return 0;
}

int meta_node_update(struct meta_db *db, const struct meta_node *n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!node_valid(n))
		return -EINVAL;
	if (n->ino > INT64_MAX)
		return -ENOENT;
	r = meta_stmt(db, META_ST_NODE_UPDATE,
		      "UPDATE nodes SET mode = ?2, uid = ?3, gid = ?4, nlink = ?5, size = ?6,"
		      " rdev = ?7, atime_ns = ?8, mtime_ns = ?9, ctime_ns = ?10, level = ?11,"
		      " level_r = ?12, level_t = ?13, level_s = ?14, object_id = ?15,"
		      " file_key = ?16, symlink_enc = ?17, write_counter = ?18 WHERE ino = ?1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)n->ino) | bind_node(st, n))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

/* -ENOTEMPTY an entry still names the node (or it is a directory with entries); -EINVAL root. */
int meta_node_delete(struct meta_db *db, uint64_t ino)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r, rc;

	if (ino == META_ROOT_INO)
		return -EINVAL;
	if (ino > INT64_MAX)
		return -ENOENT;
	/* xattrs go by ON DELETE CASCADE */
	r = meta_stmt(db, META_ST_NODE_DELETE, "DELETE FROM nodes WHERE ino = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino))
		return meta_bind_errno(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return -ENOTEMPTY;
	if (rc != SQLITE_DONE)
		return meta_errno(rc);
	return sqlite3_changes(db->sql) > 0 ? 0 : -ENOENT;
}

/* Ordered by inode; an empty list is (NULL, 0). */
int meta_node_list_orphans(struct meta_db *db, uint64_t **ret_inos, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret_inos || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_NODE_ORPHANS,
		      "SELECT ino FROM nodes WHERE nlink = 0 ORDER BY ino", &st);
	if (r < 0)
		return r;
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = meta_col_u63(st, 0, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*ret_inos = v;
	*ret_n = n;
	return 0;
}

/* ---- directory entries ---- */

void meta_dirent_clear(struct meta_dirent *d)
{
	if (!d)
		return;
	free(d->name_enc);
	d->name_enc = NULL;
	d->name_enc_len = 0;
}

/* The target's mode comes by LEFT JOIN: an entry naming a missing node reads as -EIO. */
#define DIRENT_SELECT                                                                              \
	"SELECT d.id, d.parent, d.name_hash, d.name_enc, d.ino, n.mode FROM dirents d"             \
	" LEFT JOIN nodes n ON n.ino = d.ino"

static int read_dirent(sqlite3_stmt *st, struct meta_dirent *ret_d)
{
	struct meta_dirent d;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = meta_col_i64(st, 0, &d.id)) < 0 || (r = meta_col_u63(st, 1, &d.parent)) < 0 ||
	    (r = meta_col_fixed(st, 2, d.name_hash, sizeof(d.name_hash))) < 0 ||
	    (r = meta_col_u63(st, 4, &d.ino)) < 0 || (r = meta_col_u32(st, 5, &d.mode)) < 0)
		return r;
	r = meta_col_dup(st, 3, &d.name_enc, &d.name_enc_len);
	if (r < 0)
		return r;
	*ret_d = d;
	return 0;
}

static int one_dirent(sqlite3_stmt *st, struct meta_dirent *ret_dirent)
{
	int r = meta_step_row(st);

	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	return read_dirent(st, ret_dirent);
}

int meta_dirent_lookup(struct meta_db *db, uint64_t parent,
		       const uint8_t name_hash[META_HASH_BYTES], struct meta_dirent *ret_dirent)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name_hash || !ret_dirent)
		return -EINVAL;
	r = meta_stmt(db, META_ST_DIRENT_LOOKUP,
		      DIRENT_SELECT " WHERE d.parent = ?1 AND d.name_hash = ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)parent) |
	    meta_bind_blob(st, 2, name_hash, META_HASH_BYTES))
		return meta_bind_errno(st);
	return one_dirent(st, ret_dirent);
}

/* -ENOENT parent or ino is no node. An empty name_enc is refused (-EINVAL). */
int meta_dirent_insert(struct meta_db *db, uint64_t parent,
		       const uint8_t name_hash[META_HASH_BYTES], const uint8_t *name_enc,
		       size_t name_enc_len, uint64_t ino)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name_hash || !name_enc || !name_enc_len || parent == ino)
		return -EINVAL;
	if (parent > INT64_MAX || ino > INT64_MAX)
		return -ENOENT;
	r = meta_stmt(
	    db, META_ST_DIRENT_INSERT,
	    "INSERT INTO dirents (parent, name_hash, name_enc, ino) VALUES (?1, ?2, ?3, ?4)", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)parent) |
	    meta_bind_blob(st, 2, name_hash, META_HASH_BYTES) |
	    meta_bind_blob(st, 3, name_enc, name_enc_len) | sqlite3_bind_int64(st, 4, (int64_t)ino))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

int meta_dirent_delete(struct meta_db *db, uint64_t parent,
		       const uint8_t name_hash[META_HASH_BYTES])
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name_hash)
		return -EINVAL;
	r = meta_stmt(db, META_ST_DIRENT_DELETE,
		      "DELETE FROM dirents WHERE parent = ?1 AND name_hash = ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)parent) |
	    meta_bind_blob(st, 2, name_hash, META_HASH_BYTES))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

/* -ENOENT no such entry, or ino is no node; -EINVAL ino == parent. */
int meta_dirent_set_ino(struct meta_db *db, uint64_t parent,
			const uint8_t name_hash[META_HASH_BYTES], uint64_t ino)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name_hash || parent == ino)
		return -EINVAL;
	if (ino > INT64_MAX)
		return -ENOENT;
	r = meta_stmt(db, META_ST_DIRENT_SET_INO,
		      "UPDATE dirents SET ino = ?3 WHERE parent = ?1 AND name_hash = ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)parent) |
	    meta_bind_blob(st, 2, name_hash, META_HASH_BYTES) |
	    sqlite3_bind_int64(st, 3, (int64_t)ino))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

/* max 0 gives an empty list (NULL, 0). */
int meta_dirent_list(struct meta_db *db, uint64_t parent, int64_t after_id, size_t max,
		     struct meta_dirent **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_dirent *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	if (max == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	r = meta_stmt(db, META_ST_DIRENT_LIST,
		      DIRENT_SELECT " WHERE d.parent = ?1 AND d.id > ?2 ORDER BY d.id LIMIT ?3",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)parent) | sqlite3_bind_int64(st, 2, after_id) |
	    sqlite3_bind_int64(st, 3, max > INT64_MAX ? INT64_MAX : (int64_t)max))
		return meta_bind_errno(st);
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = read_dirent(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			meta_dirent_clear(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int meta_dirent_has_children(struct meta_db *db, uint64_t parent, bool *ret_has)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int64_t has;
	int r;

	if (!ret_has)
		return -EINVAL;
	r = meta_stmt(db, META_ST_DIRENT_HAS_CHILDREN,
		      "SELECT EXISTS (SELECT 1 FROM dirents WHERE parent = ?1)", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)parent))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -EIO;
	r = meta_col_int(st, 0, 0, 1, &has);
	if (r < 0)
		return r;
	*ret_has = has;
	return 0;
}

/* The oldest entry naming ino. */
int meta_dirent_any_for_ino(struct meta_db *db, uint64_t ino, struct meta_dirent *ret_dirent)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret_dirent)
		return -EINVAL;
	r = meta_stmt(db, META_ST_DIRENT_ANY_FOR_INO,
		      DIRENT_SELECT " WHERE d.ino = ?1 ORDER BY d.id LIMIT 1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino))
		return meta_bind_errno(st);
	return one_dirent(st, ret_dirent);
}

/* ---- xattrs ---- */

void meta_xattr_clear(struct meta_xattr *x)
{
	if (!x)
		return;
	free(x->name_enc);
	free(x->value_enc);
	x->name_enc = NULL;
	x->name_enc_len = 0;
	x->value_enc = NULL;
	x->value_enc_len = 0;
}

/* Rows are (name_hash, name_enc, value_enc). */
static int read_xattr(sqlite3_stmt *st, struct meta_xattr *ret_x)
{
	struct meta_xattr x;
	int r;

	memset(&x, 0, sizeof(x));
	r = meta_col_fixed(st, 0, x.name_hash, sizeof(x.name_hash));
	if (r == 0)
		r = meta_col_dup(st, 1, &x.name_enc, &x.name_enc_len);
	if (r == 0)
		r = meta_col_dup(st, 2, &x.value_enc, &x.value_enc_len);
	if (r < 0) {
		meta_xattr_clear(&x);
		return r;
	}
	*ret_x = x;
	return 0;
}

int meta_xattr_get(struct meta_db *db, uint64_t ino, const uint8_t name_hash[META_HASH_BYTES],
		   struct meta_xattr *ret_xattr)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name_hash || !ret_xattr)
		return -EINVAL;
	r = meta_stmt(db, META_ST_XATTR_GET,
		      "SELECT name_hash, name_enc, value_enc FROM xattrs"
		      " WHERE ino = ?1 AND name_hash = ?2",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) |
	    meta_bind_blob(st, 2, name_hash, META_HASH_BYTES))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	return read_xattr(st, ret_xattr);
}

/* -ENOENT no such node. The ciphertexts must be non-NULL (they may be empty). */
int meta_xattr_set(struct meta_db *db, uint64_t ino, const struct meta_xattr *x)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!x || !x->name_enc || (!x->value_enc && x->value_enc_len))
		return -EINVAL;
	if (ino > INT64_MAX)
		return -ENOENT;
	r = meta_stmt(
	    db, META_ST_XATTR_SET,
	    "INSERT INTO xattrs (ino, name_hash, name_enc, value_enc) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (ino, name_hash) DO UPDATE SET"
	    " name_enc = excluded.name_enc, value_enc = excluded.value_enc",
	    &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) |
	    meta_bind_blob(st, 2, x->name_hash, sizeof(x->name_hash)) |
	    meta_bind_blob(st, 3, x->name_enc, x->name_enc_len) |
	    meta_bind_blob(st, 4, x->value_enc ? x->value_enc : (const uint8_t *)"",
			   x->value_enc_len))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

int meta_xattr_remove(struct meta_db *db, uint64_t ino, const uint8_t name_hash[META_HASH_BYTES])
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!name_hash)
		return -EINVAL;
	r = meta_stmt(db, META_ST_XATTR_REMOVE,
		      "DELETE FROM xattrs WHERE ino = ?1 AND name_hash = ?2", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) |
	    meta_bind_blob(st, 2, name_hash, META_HASH_BYTES))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}

/* In the order the xattrs were first set. *ret: meta_xattr_clear each, then free(). */
int meta_xattr_list(struct meta_db *db, uint64_t ino, struct meta_xattr **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_xattr *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(
	    db, META_ST_XATTR_LIST,
	    "SELECT name_hash, name_enc, value_enc FROM xattrs WHERE ino = ?1 ORDER BY id", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino))
		return meta_bind_errno(st);
	while ((r = meta_step_row(st)) > 0) {
		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		r = read_xattr(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			meta_xattr_clear(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- totals and inventory ---- */

/* Every node (orphans included); bytes = the sizes of regular files. */
int meta_ns_count(struct meta_db *db, uint64_t *ret_nodes, uint64_t *ret_bytes)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	uint64_t nodes = 0, bytes = 0;
	int r;

	if (!ret_nodes || !ret_bytes)
		return -EINVAL;
	r = meta_stmt(db, META_ST_NS_COUNT,
		      "SELECT count(*), coalesce(sum(CASE WHEN mode & ?1 = ?2 THEN size END), 0)"
		      " FROM nodes",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, S_IFMT) | sqlite3_bind_int64(st, 2, S_IFREG))
		return meta_bind_errno(st);
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -EIO;
	if ((r = meta_col_u63(st, 0, &nodes)) < 0 || (r = meta_col_u63(st, 1, &bytes)) < 0)
		return r;
	*ret_nodes = nodes;
	*ret_bytes = bytes;
	return 0;
}

/*
 * The tree is walked from the root down: every directory reachable from the
 * root gets the top-level folder it lies in (UNION, not UNION ALL, so even a
 * damaged tree with a cycle terminates). A regular file is placed by its
 * oldest entry, so a hard-linked file counts once. Files directly in the
 * root count under top_ino 1; orphans (no entry) are not counted; a file
 * whose folder is not reachable from the root (a damaged tree) counts under
 * top_ino 0. Ordered by level, then top_ino.
 */
int meta_inventory(struct meta_db *db, struct meta_inventory_row **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_inventory_row *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(
	    db, META_ST_INVENTORY,
	    "WITH RECURSIVE"
	    " tree (ino, top) AS ("
	    "  SELECT d.ino, d.ino FROM dirents d JOIN nodes n ON n.ino = d.ino"
	    "   WHERE d.parent = ?1 AND n.mode & ?2 = ?3"
	    "  UNION"
	    "  SELECT d.ino, tree.top FROM tree JOIN dirents d ON d.parent = tree.ino"
	    "   JOIN nodes n ON n.ino = d.ino WHERE n.mode & ?2 = ?3),"
	    " dirs (ino, top) AS (SELECT ino, min(top) FROM tree GROUP BY ino),"
	    " files (level, size, parent) AS ("
	    "  SELECT n.level, n.size,"
	    "   (SELECT d.parent FROM dirents d WHERE d.ino = n.ino ORDER BY d.id LIMIT 1)"
	    "  FROM nodes n WHERE n.mode & ?2 = ?4)"
	    " SELECT f.level, CASE WHEN f.parent = ?1 THEN ?1 ELSE coalesce(dirs.top, 0) END"
	    "  AS top_ino, count(*), coalesce(sum(f.size), 0)"
	    " FROM files f LEFT JOIN dirs ON dirs.ino = f.parent"
	    " WHERE f.parent IS NOT NULL GROUP BY f.level, top_ino ORDER BY f.level, top_ino",
	    &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, META_ROOT_INO) | sqlite3_bind_int64(st, 2, S_IFMT) |
	    sqlite3_bind_int64(st, 3, S_IFDIR) | sqlite3_bind_int64(st, 4, S_IFREG))
		return meta_bind_errno(st);
	while ((r = meta_step_row(st)) > 0) {
		struct meta_inventory_row *row;

		r = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (r < 0)
			break;
		row = &v[n];
		if ((r = col_level(st, 0, &row->level)) < 0 ||
		    (r = meta_col_u63(st, 1, &row->top_ino)) < 0 ||
		    (r = meta_col_u63(st, 2, &row->files)) < 0 ||
		    (r = meta_col_u63(st, 3, &row->bytes)) < 0)
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
