/*
 * meta/checkpoints.c — the vault's copy of its signed checkpoints
 * (checkpoints.h; table checkpoints, docs/format.md §8).
 */
#include "meta/checkpoints.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

void meta_checkpoint_clear(struct meta_checkpoint *c)
{
	if (!c)
		return;
	free(c->note);
	memset(c, 0, sizeof(*c));
}

int meta_checkpoint_add(struct meta_db *db, uint64_t size, const char *note)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	size_t len;
	int r;

	if (!note || size > INT64_MAX)
		return -EINVAL;
	len = strnlen(note, META_CHECKPOINT_MAX_BYTES + 1);
	if (len == 0 || len > META_CHECKPOINT_MAX_BYTES)
		return -EINVAL;
	r = meta_stmt(db, META_ST_CHECKPOINT_ADD,
		      "INSERT INTO checkpoints (size, note, created) VALUES (?1, ?2, ?3)"
		      " ON CONFLICT (size) DO NOTHING",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)size) |
	    meta_bind_text(st, 2, note, META_CHECKPOINT_MAX_BYTES) |
	    sqlite3_bind_int64(st, 3, meta_now_ns()))
		return meta_bind_errno(st);
	return meta_step_done(st);
}

/* A row (size, note, created) of st into c. */
static int read_checkpoint(sqlite3_stmt *st, struct meta_checkpoint *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->note = malloc(META_CHECKPOINT_MAX_BYTES + 1);
	if (!c->note)
		return -ENOMEM;
	if ((r = meta_col_u63(st, 0, &c->size)) < 0 ||
	    (r = meta_col_text(st, 1, c->note, META_CHECKPOINT_MAX_BYTES + 1)) < 0 ||
	    (r = meta_col_i64(st, 2, &c->created_ns)) < 0) {
		meta_checkpoint_clear(c);
		return r;
	}
	return 0;
}

/* The one row of a query, or -ENOENT. */
static int read_one(sqlite3_stmt *st, struct meta_checkpoint *ret)
{
	int r = meta_step_row(st);

	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	return read_checkpoint(st, ret);
}

int meta_checkpoint_latest(struct meta_db *db, struct meta_checkpoint *ret)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret)
		return -EINVAL;
	r = meta_stmt(db, META_ST_CHECKPOINT_LATEST,
		      "SELECT size, note, created FROM checkpoints ORDER BY size DESC LIMIT 1",
		      &st);
	return r < 0 ? r : read_one(st, ret);
}

int meta_checkpoint_at_least(struct meta_db *db, uint64_t size, struct meta_checkpoint *ret)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || size > INT64_MAX)
		return -EINVAL;
	r = meta_stmt(db, META_ST_CHECKPOINT_GET,
		      "SELECT size, note, created FROM checkpoints WHERE size >= ?1"
		      " ORDER BY size LIMIT 1",
		      &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, (int64_t)size))
		return meta_bind_errno(st);
	return read_one(st, ret);
}

/* read_checkpoint and meta_checkpoint_clear for meta_rows_read. */
static int read_checkpoint_row(sqlite3_stmt *st, void *elem)
{
	return read_checkpoint(st, elem);
}

static void clear_checkpoint(void *elem)
{
	meta_checkpoint_clear(elem);
}

int meta_checkpoint_list(struct meta_db *db, struct meta_checkpoint **ret, size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!ret || !ret_n)
		return -EINVAL;
	r = meta_stmt(db, META_ST_CHECKPOINT_LIST,
		      "SELECT size, note, created FROM checkpoints ORDER BY size", &st);
	if (r < 0)
		return r;
	return meta_rows_read(st, sizeof(**ret), read_checkpoint_row, clear_checkpoint,
			      (void **)ret, ret_n);
}
