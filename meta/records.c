/*
 * meta/records.c — access records: append (with the record's leaf in the log's
 * Merkle tree, meta/records-tree.c), close an open, and query with filters
 * (table access_log; docs/format.md §8, §10).
 *
 * Records are append-only: the schema's triggers refuse any update and any
 * delete. Ids only grow, so a record's id is never reused and paging by id
 * (after_id) is stable while records arrive.
 *
 * A query is one statement per combination of the filters that are set
 * (1 << META_LOG_FILTER_BITS, cached like every other), so SQLite sees plain
 * "user = ?" or "time_ns >= ?" terms and can use the indexes on time_ns,
 * user, op and failed outcomes.
 */
#include "meta/records.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"
#include "meta/records-tree.h"

/* outcome is 0 or -errno */
#define OUTCOME_MIN (-4095)

void meta_record_clear(struct meta_record *r)
{
	if (!r)
		return;
	free(r->path_enc);
	free(r->path2_enc);
	r->path_enc = NULL;
	r->path_enc_len = 0;
	r->path2_enc = NULL;
	r->path2_enc_len = 0;
}

/* A NUL-terminated string within its array. */
#define TERMINATED(a) (strnlen((a), sizeof(a)) < sizeof(a))

static bool record_valid(const struct meta_record *r)
{
	return r && TERMINATED(r->user) && TERMINATED(r->comm) && TERMINATED(r->op) && r->op[0] &&
	       TERMINATED(r->detail) && r->ino <= INT64_MAX && r->level >= -1 &&
	       r->level <= META_LEVEL_REFUSED && r->outcome <= 0 && r->outcome >= OUTCOME_MIN &&
	       r->bytes_read >= -1 && r->bytes_written >= -1 && (r->path_enc || !r->path_enc_len) &&
	       (r->path2_enc || !r->path2_enc_len) && r->closes >= 0 &&
	       r->path_enc_len <= UINT32_MAX && r->path2_enc_len <= UINT32_MAX;
}

/* The row, then its leaf (in the caller's transaction). */
static int insert(struct meta_db *db, struct meta_record *r)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int64_t time_ns;
	int e;

	time_ns = r->time_ns ? r->time_ns : meta_now_ns();
	e = meta_stmt(db, META_ST_LOG_APPEND,
		      "INSERT INTO access_log (time_ns, user, uid, pid, comm, op, ino, path_enc,"
		      " path2_enc, level, outcome, bytes_read, bytes_written, detail, closes)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
		      &st);
	if (e < 0)
		return e;
	if (sqlite3_bind_int64(st, 1, time_ns) | meta_bind_text(st, 2, r->user, sizeof(r->user)) |
	    sqlite3_bind_int64(st, 3, r->uid) | sqlite3_bind_int64(st, 4, r->pid) |
	    meta_bind_text(st, 5, r->comm, sizeof(r->comm)) |
	    meta_bind_text(st, 6, r->op, sizeof(r->op)) |
	    sqlite3_bind_int64(st, 7, (int64_t)r->ino) |
	    meta_bind_blob(st, 8, r->path_enc, r->path_enc_len) |
	    meta_bind_blob(st, 9, r->path2_enc, r->path2_enc_len) |
	    sqlite3_bind_int(st, 10, r->level) | sqlite3_bind_int(st, 11, r->outcome) |
	    sqlite3_bind_int64(st, 12, r->bytes_read) |
	    sqlite3_bind_int64(st, 13, r->bytes_written) |
	    meta_bind_text(st, 14, r->detail, sizeof(r->detail)) |
	    sqlite3_bind_int64(st, 15, r->closes))
		return meta_bind_errno(st);
	e = meta_step_done(st);
	if (e < 0)
		return e;
	r->id = sqlite3_last_insert_rowid(db->sql);
	r->time_ns = time_ns;
	return meta_log_tree_append(db, r);
}

/* Run one of the savepoint statements. */
static int savepoint_step(struct meta_db *db, enum meta_stmt_id id, const char *sql)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int e = meta_stmt(db, id, sql, &st);

	return e < 0 ? e : meta_step_done(st);
}

/*
 * End the savepoint of an append in the caller's transaction by its result
 * e: kept when 0, else rolled back to (a row without its leaf would
 * otherwise stay, should the caller commit anyway). If SQLite has already
 * rolled the whole transaction back (a full disk, say), there is nothing
 * left to undo and the caller's commit fails.
 */
static int savepoint_end(struct meta_db *db, int e)
{
	if (e == 0) {
		e = savepoint_step(db, META_ST_LOG_RELEASE, "RELEASE meta_log_append");
		if (e == 0)
			return 0;
	}
	if (!sqlite3_get_autocommit(db->sql) &&
	    savepoint_step(db, META_ST_LOG_ROLLBACK_TO, "ROLLBACK TO meta_log_append") == 0)
		savepoint_step(db, META_ST_LOG_RELEASE, "RELEASE meta_log_append");
	return e;
}

/*
 * -EINVAL: an unterminated string, an empty op, or a level/outcome out of
 * range. The row and its leaf go in together or not at all: in a
 * transaction of their own, or in a savepoint of the caller's.
 */
int meta_log_append(struct meta_db *db, struct meta_record *r)
{
	int64_t id = r ? r->id : 0, time_ns = r ? r->time_ns : 0;
	bool own_tx;
	int e;

	if (!record_valid(r))
		return -EINVAL;
	own_tx = !db->in_tx;
	if (own_tx)
		e = meta_tx_begin(db);
	else
		e = savepoint_step(db, META_ST_LOG_SAVEPOINT, "SAVEPOINT meta_log_append");
	if (e < 0)
		return e;
	e = insert(db, r);
	if (own_tx)
		e = meta_tx_end(db, e);
	else
		e = savepoint_end(db, e);
	if (e < 0) {
		r->id = id;
		r->time_ns = time_ns;
	}
	return e;
}

int meta_log_close(struct meta_db *db, int64_t open_id, int64_t bytes_read, int64_t bytes_written)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_record c = {.closes = open_id,
				.bytes_read = bytes_read,
				.bytes_written = bytes_written,
				.op = "close"};
	int64_t ino, level;
	int e;

	if (open_id <= 0 || bytes_read < -1 || bytes_written < -1)
		return -EINVAL;
	e = meta_stmt(db, META_ST_LOG_OPEN_GET,
		      "SELECT user, uid, pid, comm, ino, level FROM access_log"
		      " WHERE id = ?1 AND closes = 0",
		      &st);
	if (e < 0)
		return e;
	if (sqlite3_bind_int64(st, 1, open_id))
		return meta_bind_errno(st);
	e = meta_step_row(st);
	if (e <= 0)
		return e < 0 ? e : -ENOENT;
	if ((e = meta_col_text(st, 0, c.user, sizeof(c.user))) < 0 ||
	    (e = meta_col_i64(st, 1, &c.uid)) < 0 || (e = meta_col_i64(st, 2, &c.pid)) < 0 ||
	    (e = meta_col_text(st, 3, c.comm, sizeof(c.comm))) < 0 ||
	    (e = meta_col_int(st, 4, 0, INT64_MAX, &ino)) < 0 ||
	    (e = meta_col_int(st, 5, -1, META_LEVEL_REFUSED, &level)) < 0)
		return e;
	c.ino = (uint64_t)ino;
	c.level = (int)level;
	return meta_log_append(db, &c);
}

/* One bit per filter; the statement for a mask holds only those terms. */
enum {
	F_USER = 1 << 0,
	F_OP = 1 << 1,
	F_LEVEL = 1 << 2,
	F_DENIED = 1 << 3,
	F_INCIDENTS = 1 << 4,
	F_SINCE = 1 << 5,
	F_UNTIL = 1 << 6,
};
_Static_assert(F_UNTIL < (1 << META_LOG_FILTER_BITS), "a cache slot per filter mask");

/* Parameters: ?1 after_id, ?2 limit, ?3.. the filters. */
/* clang-format off */
static const char *const filter_sql[META_LOG_FILTER_BITS] = {
	" AND user = ?3",
	" AND op = ?4",
	" AND level = ?5",
	" AND outcome <> 0",
	" AND outcome <> 0 AND outcome IN (?6, ?7, ?8, ?9)",
	" AND time_ns >= ?10",
	" AND time_ns <= ?11",
};
/* clang-format on */

static unsigned filter_mask(const struct meta_log_filter *f)
{
	return (f->user ? F_USER : 0) | (f->op ? F_OP : 0) | (f->level >= 0 ? F_LEVEL : 0) |
	       (f->denied_only ? F_DENIED : 0) | (f->incidents_only ? F_INCIDENTS : 0) |
	       (f->since_ns ? F_SINCE : 0) | (f->until_ns ? F_UNTIL : 0);
}

/* The byte counts of an open: from the record that closes it, else its own
 * (records written before schema version 4 had them filled in place). */
#define FOLDED_BYTES(col)                                                                          \
	"COALESCE((SELECT c." col " FROM access_log c WHERE c.closes = a.id ORDER BY c.id"         \
	" LIMIT 1), a." col ")"

static int query_stmt(struct meta_db *db, unsigned mask, bool raw, sqlite3_stmt **ret_st)
{
	char sql[1024];
	size_t n;

	if (raw)
		n = (size_t)snprintf(
		    sql, sizeof(sql),
		    "SELECT id, time_ns, user, uid, pid, comm, op, ino, path_enc,"
		    " path2_enc, level, outcome, bytes_read, bytes_written, detail,"
		    " closes FROM access_log a WHERE id > ?1");
	else
		n = (size_t)snprintf(
		    sql, sizeof(sql),
		    "SELECT id, time_ns, user, uid, pid, comm, op, ino, path_enc,"
		    " path2_enc, level, outcome, " FOLDED_BYTES("bytes_read") ", " FOLDED_BYTES(
			"bytes_written") ", detail, closes"
					 " FROM access_log a WHERE id > ?1 AND closes = 0");
	for (int bit = 0; bit < META_LOG_FILTER_BITS; bit++) {
		if (mask & (1u << bit))
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s", filter_sql[bit]);
	}
	n += (size_t)snprintf(sql + n, sizeof(sql) - n, " ORDER BY id LIMIT ?2");
	if (n >= sizeof(sql))
		return -EINVAL; /* cannot happen: the longest is far shorter */
	return meta_stmt(
	    db,
	    (enum meta_stmt_id)(META_ST_LOG_QUERY + mask + (raw ? 1u << META_LOG_FILTER_BITS : 0)),
	    sql, ret_st);
}

static int read_record(sqlite3_stmt *st, struct meta_record *ret_rec)
{
	struct meta_record rec;
	int64_t ino, level, outcome;
	int e;

	memset(&rec, 0, sizeof(rec));
	if ((e = meta_col_int(st, 0, 1, INT64_MAX, &rec.id)) < 0 ||
	    (e = meta_col_int(st, 1, INT64_MIN, INT64_MAX, &rec.time_ns)) < 0 ||
	    (e = meta_col_text(st, 2, rec.user, sizeof(rec.user))) < 0 ||
	    (e = meta_col_int(st, 3, INT64_MIN, INT64_MAX, &rec.uid)) < 0 ||
	    (e = meta_col_int(st, 4, INT64_MIN, INT64_MAX, &rec.pid)) < 0 ||
	    (e = meta_col_text(st, 5, rec.comm, sizeof(rec.comm))) < 0 ||
	    (e = meta_col_text(st, 6, rec.op, sizeof(rec.op))) < 0 ||
	    (e = meta_col_int(st, 7, 0, INT64_MAX, &ino)) < 0 ||
	    (e = meta_col_int(st, 10, -1, META_LEVEL_REFUSED, &level)) < 0 ||
	    (e = meta_col_int(st, 11, OUTCOME_MIN, 0, &outcome)) < 0 ||
	    (e = meta_col_int(st, 12, -1, INT64_MAX, &rec.bytes_read)) < 0 ||
	    (e = meta_col_int(st, 13, -1, INT64_MAX, &rec.bytes_written)) < 0 ||
	    (e = meta_col_text(st, 14, rec.detail, sizeof(rec.detail))) < 0 ||
	    (e = meta_col_int(st, 15, 0, INT64_MAX, &rec.closes)) < 0)
		return e;
	rec.ino = (uint64_t)ino;
	rec.level = (int)level;
	rec.outcome = (int)outcome;
	e = meta_col_dup(st, 8, &rec.path_enc, &rec.path_enc_len);
	if (e == 0)
		e = meta_col_dup(st, 9, &rec.path2_enc, &rec.path2_enc_len);
	if (e < 0) {
		meta_record_clear(&rec);
		return e;
	}
	*ret_rec = rec;
	return 0;
}

int meta_log_query(struct meta_db *db, const struct meta_log_filter *f, struct meta_record **ret,
		   size_t *ret_n)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_record *v = NULL;
	size_t n = 0, cap = 0;
	unsigned mask;
	int e, rc;

	if (!f || !ret || !ret_n)
		return -EINVAL;
	mask = filter_mask(f);
	e = query_stmt(db, mask, f->raw, &st);
	if (e < 0)
		return e;
	rc = sqlite3_bind_int64(st, 1, f->after_id) |
	     sqlite3_bind_int64(st, 2,
				f->limit == 0 || f->limit > INT64_MAX ? -1 : (int64_t)f->limit);
	if (mask & F_USER)
		rc |= sqlite3_bind_text(st, 3, f->user, -1, SQLITE_STATIC);
	if (mask & F_OP)
		rc |= sqlite3_bind_text(st, 4, f->op, -1, SQLITE_STATIC);
	if (mask & F_LEVEL)
		rc |= sqlite3_bind_int(st, 5, f->level);
	if (mask & F_INCIDENTS)
		rc |= sqlite3_bind_int(st, 6, -EACCES) | sqlite3_bind_int(st, 7, -EPERM) |
		      sqlite3_bind_int(st, 8, -ENOKEY) | sqlite3_bind_int(st, 9, -EBADMSG);
	if (mask & F_SINCE)
		rc |= sqlite3_bind_int64(st, 10, f->since_ns);
	if (mask & F_UNTIL)
		rc |= sqlite3_bind_int64(st, 11, f->until_ns);
	if (rc)
		return meta_bind_errno(st);

	while ((e = meta_step_row(st)) > 0) {
		e = meta_grow((void **)&v, &cap, n, sizeof(*v));
		if (e < 0)
			break;
		e = read_record(st, &v[n]);
		if (e < 0)
			break;
		n++;
	}
	if (e < 0) {
		for (size_t i = 0; i < n; i++)
			meta_record_clear(&v[i]);
		free(v);
		return e;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}
