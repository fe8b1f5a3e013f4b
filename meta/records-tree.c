/*
 * meta/records-tree.c — the access record as the leaves of a Merkle tree: each
 * record's canonical bytes (docs/format.md §10), the stored frontier (table
 * access_tree), appending a record's leaf in the record's own transaction,
 * and recomputing the tree from the records alone.
 */
#include "meta/records-tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

#define RECORD_ENCODING_VERSION 1

struct writer {
	uint8_t *p;
	size_t n, cap;
	bool failed;
};

static void put(struct writer *w, const void *src, size_t len)
{
	if (w->failed || len == 0)
		return;
	if (w->cap - w->n < len) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *p;

		while (cap - w->n < len)
			cap *= 2;
		p = realloc(w->p, cap);
		if (!p) {
			w->failed = true;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->n, src, len);
	w->n += len;
}

static void put_u64(struct writer *w, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, sizeof(b));
}

static void put_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	put(w, b, sizeof(b));
}

/* u32 length, then the bytes (a string without its NUL, a blob as stored) */
static void put_bytes(struct writer *w, const void *p, size_t len)
{
	put_u32(w, (uint32_t)len);
	put(w, p, len);
}

int meta_record_encode(const struct meta_record *r, uint8_t **ret, size_t *ret_len)
{
	struct writer w = {0};
	uint8_t version = RECORD_ENCODING_VERSION;

	if (r->path_enc_len > UINT32_MAX || r->path2_enc_len > UINT32_MAX)
		return -EINVAL;
	put(&w, &version, 1);
	put_u64(&w, (uint64_t)r->id);
	put_u64(&w, (uint64_t)r->time_ns);
	put_u64(&w, (uint64_t)r->uid);
	put_u64(&w, (uint64_t)r->pid);
	put_u64(&w, r->ino);
	put_u32(&w, (uint32_t)r->level);
	put_u32(&w, (uint32_t)r->outcome);
	put_u64(&w, (uint64_t)r->bytes_read);
	put_u64(&w, (uint64_t)r->bytes_written);
	put_u64(&w, (uint64_t)r->closes);
	put_bytes(&w, r->user, strnlen(r->user, sizeof(r->user)));
	put_bytes(&w, r->comm, strnlen(r->comm, sizeof(r->comm)));
	put_bytes(&w, r->op, strnlen(r->op, sizeof(r->op)));
	put_bytes(&w, r->path_enc, r->path_enc_len);
	put_bytes(&w, r->path2_enc, r->path2_enc_len);
	put_bytes(&w, r->detail, strnlen(r->detail, sizeof(r->detail)));
	if (w.failed) {
		free(w.p);
		return -ENOMEM;
	}
	*ret = w.p;
	*ret_len = w.n;
	return 0;
}

int meta_record_leaf_hash(const struct meta_record *r, uint8_t ret_hash[META_TLOG_HASH_BYTES])
{
	uint8_t *bytes;
	size_t len;
	int e = meta_record_encode(r, &bytes, &len);

	if (e < 0)
		return e;
	meta_tlog_leaf_hash(bytes, len, ret_hash);
	free(bytes);
	return 0;
}

/* The stored frontier; -EBADMSG when the row is missing or malformed. */
static int tree_read(struct meta_db *db, struct meta_tlog_frontier *f)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	const void *blob;
	size_t nodes;
	int64_t size;
	int e;

	e = meta_stmt(db, META_ST_TREE_GET, "SELECT size, frontier FROM access_tree WHERE id = 1",
		      &st);
	if (e < 0)
		return e;
	e = meta_step_row(st);
	if (e <= 0)
		return e < 0 ? e : -EBADMSG;
	if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
	    sqlite3_column_type(st, 1) != SQLITE_BLOB)
		return -EBADMSG;
	size = sqlite3_column_int64(st, 0);
	if (size < 0)
		return -EBADMSG;
	nodes = (size_t)__builtin_popcountll((uint64_t)size);
	blob = sqlite3_column_blob(st, 1);
	if ((size_t)sqlite3_column_bytes(st, 1) != nodes * META_TLOG_HASH_BYTES || (nodes && !blob))
		return -EBADMSG;
	meta_tlog_frontier_init(f);
	f->size = (uint64_t)size;
	if (nodes)
		memcpy(f->node, blob, nodes * META_TLOG_HASH_BYTES);
	return 0;
}

/* Store f: replace the row when starting, else update it in place (cheaper:
 * no delete and insert). */
static int tree_write(struct meta_db *db, const struct meta_tlog_frontier *f, bool start)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	size_t nodes = (size_t)__builtin_popcountll(f->size);
	int e;

	if (f->size > INT64_MAX)
		return -EOVERFLOW;
	if (start)
		e = meta_stmt(db, META_ST_TREE_START,
			      "INSERT OR REPLACE INTO access_tree (id, size, frontier)"
			      " VALUES (1, ?1, ?2)",
			      &st);
	else
		e = meta_stmt(db, META_ST_TREE_PUT,
			      "UPDATE access_tree SET size = ?1, frontier = ?2 WHERE id = 1", &st);
	if (e < 0)
		return e;
	if (sqlite3_bind_int64(st, 1, (int64_t)f->size) |
	    sqlite3_bind_blob(st, 2, f->node, (int)(nodes * META_TLOG_HASH_BYTES), SQLITE_STATIC))
		return meta_bind_errno(st);
	return start ? meta_step_done(st) : meta_step_changed(st);
}

int meta_log_tree_append(struct meta_db *db, const struct meta_record *r)
{
	struct meta_tlog_frontier f;
	uint8_t leaf[META_TLOG_HASH_BYTES];
	int e;

	e = meta_record_leaf_hash(r, leaf);
	if (e == 0)
		e = tree_read(db, &f);
	if (e == 0)
		e = meta_tlog_append(&f, leaf);
	if (e == 0)
		e = tree_write(db, &f, false);
	return e == -ENOENT ? -EBADMSG : e;
}

int meta_log_tree_start(struct meta_db *db)
{
	struct meta_tlog_frontier f;
	int e = meta_log_tree_recompute(db, &f);

	return e < 0 ? e : tree_write(db, &f, true);
}

int meta_log_tree_head(struct meta_db *db, uint64_t *ret_size,
		       uint8_t ret_root[META_TLOG_HASH_BYTES])
{
	struct meta_tlog_frontier f;
	int e = tree_read(db, &f);

	if (e < 0)
		return e;
	*ret_size = f.size;
	meta_tlog_root(&f, ret_root);
	return 0;
}

int meta_log_tree_stored(struct meta_db *db, struct meta_tlog_frontier *ret)
{
	return tree_read(db, ret);
}

/* Call fn for each record in id order, up to max (0: all); stops at fn's error. */
static int each_record(struct meta_db *db, uint64_t max,
		       int (*fn)(void *arg, const struct meta_record *r), void *arg)
{
	struct meta_log_filter filter = {.level = -1, .raw = true, .limit = 4096};
	uint64_t seen = 0;
	int e = 0;

	for (;;) {
		struct meta_record *v = NULL;
		size_t n = 0;

		if (max && max - seen < filter.limit)
			filter.limit = (size_t)(max - seen);
		e = meta_log_query(db, &filter, &v, &n);
		for (size_t i = 0; i < n; i++) {
			if (e == 0)
				e = fn(arg, &v[i]);
			meta_record_clear(&v[i]);
		}
		seen += n;
		if (n)
			filter.after_id = v[n - 1].id;
		free(v);
		if (e < 0 || n < filter.limit || (max && seen == max))
			return e;
	}
}

static int append_leaf(void *arg, const struct meta_record *r)
{
	uint8_t leaf[META_TLOG_HASH_BYTES];
	int e = meta_record_leaf_hash(r, leaf);

	return e < 0 ? e : meta_tlog_append(arg, leaf);
}

int meta_log_tree_recompute(struct meta_db *db, struct meta_tlog_frontier *ret)
{
	meta_tlog_frontier_init(ret);
	return each_record(db, 0, append_leaf, ret);
}

struct leaves {
	uint8_t *hash;
	uint64_t n;
};

static int store_leaf(void *arg, const struct meta_record *r)
{
	struct leaves *l = arg;
	int e = meta_record_leaf_hash(r, l->hash + l->n * META_TLOG_HASH_BYTES);

	if (e == 0)
		l->n++;
	return e;
}

int meta_log_leaves(struct meta_db *db, uint64_t size, uint8_t **ret)
{
	struct leaves l = {0};
	int e;

	if (size > SIZE_MAX / META_TLOG_HASH_BYTES)
		return -ERANGE;
	l.hash = malloc(size ? size * META_TLOG_HASH_BYTES : 1);
	if (!l.hash)
		return -ENOMEM;
	e = size ? each_record(db, size, store_leaf, &l) : 0;
	if (e == 0 && l.n != size)
		e = -ERANGE;
	if (e < 0) {
		free(l.hash);
		return e;
	}
	*ret = l.hash;
	return 0;
}

int meta_log_leaf_at(void *leaves, uint64_t index, uint8_t ret_hash[META_TLOG_HASH_BYTES])
{
	memcpy(ret_hash, (uint8_t *)leaves + index * META_TLOG_HASH_BYTES, META_TLOG_HASH_BYTES);
	return 0;
}

int meta_log_leaf_index(struct meta_db *db, int64_t id, uint64_t *ret_index)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int64_t n;
	int e;

	e = meta_stmt(db, META_ST_TREE_INDEX,
		      "SELECT (SELECT count(*) FROM access_log WHERE id < ?1),"
		      " EXISTS (SELECT 1 FROM access_log WHERE id = ?1)",
		      &st);
	if (e < 0)
		return e;
	if (sqlite3_bind_int64(st, 1, id))
		return meta_bind_errno(st);
	e = meta_step_row(st);
	if (e <= 0)
		return e < 0 ? e : -EIO;
	if (sqlite3_column_int(st, 1) == 0)
		return -ENOENT;
	e = meta_col_int(st, 0, 0, INT64_MAX, &n);
	if (e < 0)
		return e;
	*ret_index = (uint64_t)n;
	return 0;
}
