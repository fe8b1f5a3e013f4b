/*
 * tests/unit/test_meta_records.c — meta/records.c and records-tree.c: appending access
 * records, closing an open, the records' Merkle tree and tampering it
 * reveals, querying with every filter (user, op, level, denied,
 * incidents, time bounds, paging), transactions, the append-only guard and
 * tampered rows.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sqlite3.h>

#include "meta/db.h"
#include "meta/records.h"
#include "meta/records-tree.h"
#include "tests/unit/testutil.h"

static char *tmp;
static struct meta_db *db;

static void setup(void)
{
	tmp = tu_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_eq(meta_db_open(tmp, META_OPEN_CREATE, &db), 0);
}

static void teardown(void)
{
	db = meta_db_close(db);
	tu_rmrf(tmp);
	free(tmp);
}

/* Run sql on a raw handle; the SQLite result code. */
static int raw_exec(const char *sql)
{
	char path[PATH_MAX];
	sqlite3 *h = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", tmp, META_DB_NAME);
	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 10000);
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

static struct meta_record rec(int64_t time_ns, const char *user, const char *op, int level,
			      int outcome)
{
	struct meta_record r;

	memset(&r, 0, sizeof(r));
	r.time_ns = time_ns;
	snprintf(r.user, sizeof(r.user), "%s", user);
	r.uid = 1000;
	r.pid = 4242;
	snprintf(r.comm, sizeof(r.comm), "cat");
	snprintf(r.op, sizeof(r.op), "%s", op);
	r.ino = 7;
	r.level = level;
	r.outcome = outcome;
	r.bytes_read = -1;
	r.bytes_written = -1;
	return r;
}

static void append(int64_t time_ns, const char *user, const char *op, int level, int outcome,
		   int64_t *ret_id)
{
	struct meta_record r = rec(time_ns, user, op, level, outcome);

	ck_assert_int_eq(meta_log_append(db, &r), 0);
	if (ret_id)
		*ret_id = r.id;
}

static void free_records(struct meta_record *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		meta_record_clear(&v[i]);
	free(v);
}

/* The number of records matching f. */
static size_t count(const struct meta_log_filter *f)
{
	struct meta_record *v = NULL;
	size_t n = 0;

	ck_assert_int_eq(meta_log_query(db, f, &v, &n), 0);
	free_records(v, n);
	return n;
}

static struct meta_log_filter any(void)
{
	struct meta_log_filter f;

	memset(&f, 0, sizeof(f));
	f.level = -1;
	return f;
}

START_TEST(test_append_roundtrip)
{
	static const uint8_t path[] = {1, 2, 3, 0, 5}, path2[] = {9, 8};
	struct meta_record r = rec(0, "alice", "rename", 2, 0), *v = NULL;
	struct meta_log_filter f = any();
	int64_t before = meta_now_ns();
	size_t n;

	r.path_enc = (uint8_t *)path;
	r.path_enc_len = sizeof(path);
	r.path2_enc = (uint8_t *)path2;
	r.path2_enc_len = sizeof(path2);
	r.ino = (uint64_t)1 << 40;
	snprintf(r.detail, sizeof(r.detail), "level 1->2");
	ck_assert_int_eq(meta_log_append(db, &r), 0);
	ck_assert_int_gt(r.id, 0);
	ck_assert_int_ge(r.time_ns, before); /* filled in */
	ck_assert_int_le(r.time_ns, meta_now_ns());

	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, r.id);
	ck_assert_int_eq(v[0].time_ns, r.time_ns);
	ck_assert_str_eq(v[0].user, "alice");
	ck_assert_int_eq(v[0].uid, 1000);
	ck_assert_int_eq(v[0].pid, 4242);
	ck_assert_str_eq(v[0].comm, "cat");
	ck_assert_str_eq(v[0].op, "rename");
	ck_assert_uint_eq(v[0].ino, (uint64_t)1 << 40);
	ck_assert_uint_eq(v[0].path_enc_len, sizeof(path));
	ck_assert_mem_eq(v[0].path_enc, path, sizeof(path));
	ck_assert_uint_eq(v[0].path2_enc_len, sizeof(path2));
	ck_assert_mem_eq(v[0].path2_enc, path2, sizeof(path2));
	ck_assert_int_eq(v[0].level, 2);
	ck_assert_int_eq(v[0].outcome, 0);
	ck_assert_int_eq(v[0].bytes_read, -1);
	ck_assert_int_eq(v[0].bytes_written, -1);
	ck_assert_str_eq(v[0].detail, "level 1->2");
	meta_record_clear(&v[0]);
	ck_assert_ptr_null(v[0].path_enc);
	ck_assert_ptr_null(v[0].path2_enc);
	meta_record_clear(NULL);
	free(v);

	/* no paths, no user, a given time, a refused level-4 attempt */
	r = rec(12345, "", "create", META_LEVEL_REFUSED, -EACCES);
	r.uid = -1;
	r.pid = 0;
	r.ino = 0;
	ck_assert_int_eq(meta_log_append(db, &r), 0);
	ck_assert_int_eq(r.time_ns, 12345);
	f.after_id = r.id - 1;
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(v[0].path_enc);
	ck_assert_uint_eq(v[0].path_enc_len, 0);
	ck_assert_ptr_null(v[0].path2_enc);
	ck_assert_str_eq(v[0].user, "");
	ck_assert_int_eq(v[0].uid, -1);
	ck_assert_int_eq(v[0].time_ns, 12345);
	ck_assert_int_eq(v[0].level, META_LEVEL_REFUSED);
	ck_assert_int_eq(v[0].outcome, -EACCES);
	free_records(v, n);
}
END_TEST

START_TEST(test_append_full_strings)
{
	struct meta_record r = rec(1, "", "x", -1, 0), *v = NULL;
	struct meta_log_filter f = any();
	size_t n;

	/* every string at its longest */
	memset(r.user, 'u', sizeof(r.user) - 1);
	memset(r.comm, 'c', sizeof(r.comm) - 1);
	memset(r.op, 'o', sizeof(r.op) - 1);
	memset(r.detail, 'd', sizeof(r.detail) - 1);
	ck_assert_int_eq(meta_log_append(db, &r), 0);
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(strlen(v[0].user), sizeof(r.user) - 1);
	ck_assert_uint_eq(strlen(v[0].comm), META_COMM_MAX);
	ck_assert_uint_eq(strlen(v[0].op), META_OP_MAX);
	ck_assert_uint_eq(strlen(v[0].detail), META_DETAIL_MAX);
	free_records(v, n);
}
END_TEST

START_TEST(test_append_invalid)
{
	struct meta_record r;

	r = rec(1, "alice", "", -1, 0); /* no op */
	ck_assert_int_eq(meta_log_append(db, &r), -EINVAL);
	r = rec(1, "alice", "open", -1, 0);
	memset(r.op, 'o', sizeof(r.op)); /* unterminated */
	ck_assert_int_eq(meta_log_append(db, &r), -EINVAL);
	r = rec(1, "alice", "open", -1, 0);
	memset(r.detail, 'd', sizeof(r.detail));
	ck_assert_int_eq(meta_log_append(db, &r), -EINVAL);
	r = rec(1, "alice", "open", 5, 0);
	ck_assert_int_eq(meta_log_append(db, &r), -EINVAL);
	r = rec(1, "alice", "open", -2, 0);
	ck_assert_int_eq(meta_log_append(db, &r), -EINVAL);
	r = rec(1, "alice", "open", 0, EACCES); /* outcomes are 0 or -errno */
	ck_assert_int_eq(meta_log_append(db, &r), -EINVAL);
	r = rec(1, "alice", "open", 0, 0);
	r.path_enc_len = 3; /* length without a buffer */
	ck_assert_int_eq(meta_log_append(db, &r), -EINVAL);
	ck_assert_int_eq(meta_log_append(db, NULL), -EINVAL);
	{
		struct meta_log_filter f = any();

		ck_assert_uint_eq(count(&f), 0);
	}
}
END_TEST

/* A close is a record of its own; a query shows its counts on the open it closes. */
START_TEST(test_close)
{
	struct meta_record *v = NULL;
	struct meta_log_filter f = any();
	int64_t id1, id2, id3;
	size_t n;

	append(1, "alice", "open", 1, 0, &id1);
	append(2, "alice", "open", 1, 0, &id2);
	append(3, "bob", "unlink", 2, 0, &id3);
	ck_assert_int_eq(meta_log_close(db, id1, 4096, 12), 0);
	ck_assert_int_eq(meta_log_close(db, id1 + id2 + id3 + 100, 1, 1), -ENOENT);
	ck_assert_int_eq(meta_log_close(db, id2, -5, 0), -EINVAL);
	ck_assert_int_eq(meta_log_close(db, 0, 0, 0), -EINVAL);

	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 3); /* the close is folded into its open */
	ck_assert_int_eq(v[0].bytes_read, 4096);
	ck_assert_int_eq(v[0].bytes_written, 12);
	ck_assert_int_eq(v[1].bytes_read, -1); /* not closed yet */
	ck_assert_int_eq(v[1].bytes_written, -1);
	free_records(v, n);

	/* as stored: the open unchanged, then a close record naming it */
	f.raw = true;
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(v[0].bytes_read, -1);
	ck_assert_str_eq(v[3].op, "close");
	ck_assert_int_eq(v[3].closes, id1);
	ck_assert_int_eq(v[3].bytes_read, 4096);
	ck_assert_int_eq(v[3].bytes_written, 12);
	ck_assert_str_eq(v[3].user, "alice"); /* who, what and where come from the open */
	ck_assert_str_eq(v[3].comm, "cat");
	ck_assert_int_eq(v[3].uid, 1000);
	ck_assert_uint_eq(v[3].ino, 7);
	ck_assert_int_eq(v[3].level, 1);
	/* a close record is no open to close */
	ck_assert_int_eq(meta_log_close(db, v[3].id, 1, 1), -ENOENT);
	free_records(v, n);
}
END_TEST

/* The stored tree head is the tree of the records, through commits and rollbacks. */
START_TEST(test_tree_follows_records)
{
	struct meta_tlog_frontier f;
	uint8_t root[META_TLOG_HASH_BYTES], again[META_TLOG_HASH_BYTES];
	uint64_t size;
	int64_t id;

	ck_assert_int_eq(meta_log_tree_head(db, &size, root), 0);
	ck_assert_uint_eq(size, 0);
	meta_tlog_frontier_init(&f);
	meta_tlog_root(&f, again);
	ck_assert_int_eq(memcmp(root, again, sizeof(root)), 0);

	append(1, "alice", "open", 1, 0, &id);
	ck_assert_int_eq(meta_log_close(db, id, 10, 0), 0);
	ck_assert_int_eq(meta_tx_begin(db), 0);
	append(2, "bob", "open", 1, 0, NULL); /* rolled back: neither record nor leaf */
	meta_tx_rollback(db);
	ck_assert_int_eq(meta_tx_begin(db), 0);
	append(3, "carl", "mkdir", 2, 0, NULL);
	append(4, "carl", "open", 4, -ENOKEY, NULL);
	ck_assert_int_eq(meta_tx_commit(db), 0);

	ck_assert_int_eq(meta_log_tree_head(db, &size, root), 0);
	ck_assert_uint_eq(size, 4);
	ck_assert_int_eq(meta_log_tree_recompute(db, &f), 0);
	ck_assert_uint_eq(f.size, 4);
	meta_tlog_root(&f, again);
	ck_assert_int_eq(memcmp(root, again, sizeof(root)), 0);
}
END_TEST

/* Proofs from the records: a record is in the head, an old head is in the new one. */
START_TEST(test_tree_proofs)
{
	uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES];
	uint8_t old_root[META_TLOG_HASH_BYTES], root[META_TLOG_HASH_BYTES];
	uint8_t leaf[META_TLOG_HASH_BYTES], *leaves = NULL;
	uint64_t old_size, size, index;
	struct meta_record *v = NULL;
	struct meta_log_filter f = any();
	int64_t ids[3];
	size_t len, n;

	/* more than one page (4,096) of records, read in pages */
	ck_assert_int_eq(meta_tx_begin(db), 0);
	for (int i = 0; i < 5000; i++)
		append(i + 1, "alice", "open", 1, 0, i == 100 ? &ids[0] : NULL);
	ck_assert_int_eq(meta_tx_commit(db), 0);
	ck_assert_int_eq(meta_log_tree_head(db, &old_size, old_root), 0);
	append(6000, "bob", "unlink", 2, 0, &ids[1]);
	ck_assert_int_eq(meta_log_close(db, ids[0], 5, 6), 0);
	append(6002, "carl", "open", 3, -EACCES, &ids[2]);
	ck_assert_int_eq(meta_log_tree_head(db, &size, root), 0);
	ck_assert_uint_eq(old_size, 5000);
	ck_assert_uint_eq(size, 5003);

	ck_assert_int_eq(meta_log_leaves(db, size, &leaves), 0);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(meta_log_leaf_index(db, ids[k], &index), 0);
		f.raw = true;
		f.after_id = ids[k] - 1;
		f.limit = 1;
		ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(meta_record_leaf_hash(&v[0], leaf), 0);
		free_records(v, n);
		ck_assert_int_eq(
		    meta_tlog_inclusion_proof(meta_log_leaf_at, leaves, index, size, proof, &len),
		    0);
		ck_assert_int_eq(
		    meta_tlog_verify_inclusion(index, size, leaf, &proof[0][0], len, root), 0);
		leaf[0] ^= 1; /* another record is not in the tree */
		ck_assert_int_eq(
		    meta_tlog_verify_inclusion(index, size, leaf, &proof[0][0], len, root),
		    -EBADMSG);
	}
	ck_assert_int_eq(meta_log_leaf_index(db, 100, &index), 0);
	ck_assert_uint_eq(index, 99);
	ck_assert_int_eq(
	    meta_tlog_consistency_proof(meta_log_leaf_at, leaves, old_size, size, proof, &len), 0);
	ck_assert_int_eq(
	    meta_tlog_verify_consistency(old_size, size, old_root, root, &proof[0][0], len), 0);
	free(leaves);
	ck_assert_int_eq(meta_log_leaves(db, size + 1, &leaves), -ERANGE);
	ck_assert_int_eq(meta_log_leaf_index(db, ids[2] + 10, &index), -ENOENT);
	ck_assert_int_eq(meta_log_leaves(db, 0, &leaves), 0);
	free(leaves);
}
END_TEST

/* Records edited, deleted or added past the library change the recomputed tree. */
START_TEST(test_tree_shows_tampering)
{
	static const char *const edits[] = {
	    "UPDATE access_log SET user = 'mallory' WHERE id = 2",
	    "UPDATE access_log SET bytes_read = 0 WHERE closes <> 0",
	    "DELETE FROM access_log WHERE id = 3",
	    "INSERT INTO access_log (time_ns, op) VALUES (5, 'open')",
	    "UPDATE access_log SET id = 100 WHERE id = 1",
	};

	for (size_t k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
		struct meta_tlog_frontier f;
		uint8_t head[META_TLOG_HASH_BYTES], now[META_TLOG_HASH_BYTES];
		uint64_t size;
		int64_t id;
		char sql[256];

		teardown();
		setup();
		append(1, "alice", "open", 1, 0, &id);
		append(2, "bob", "open", 2, -EACCES, NULL);
		append(3, "carl", "unlink", 0, 0, NULL);
		ck_assert_int_eq(meta_log_close(db, id, 7, 0), 0);
		ck_assert_int_eq(meta_log_tree_head(db, &size, head), 0);
		ck_assert_uint_eq(size, 4);
		snprintf(sql, sizeof(sql),
			 "DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete; %s",
			 edits[k]);
		ck_assert_int_eq(raw_exec(sql), SQLITE_OK);
		ck_assert_int_eq(meta_log_tree_recompute(db, &f), 0);
		meta_tlog_root(&f, now);
		ck_assert_msg(memcmp(head, now, sizeof(head)) != 0, "not seen: %s", edits[k]);
	}
}
END_TEST

/* A stored frontier that does not fit its size is refused, not used. */
START_TEST(test_tree_row_damaged)
{
	uint8_t root[META_TLOG_HASH_BYTES];
	uint64_t size;
	struct meta_record r = rec(1, "alice", "open", 1, 0);

	append(1, "alice", "open", 1, 0, NULL);
	ck_assert_int_eq(raw_exec("UPDATE access_tree SET size = 3"), SQLITE_OK);
	ck_assert_int_eq(meta_log_tree_head(db, &size, root), -EBADMSG);
	ck_assert_int_eq(meta_log_append(db, &r), -EBADMSG);
	ck_assert_int_eq(raw_exec("DELETE FROM access_tree"), SQLITE_OK);
	ck_assert_int_eq(meta_log_append(db, &r), -EBADMSG);
	/* and the refused append left no record behind */
	{
		struct meta_log_filter f = any();

		ck_assert_uint_eq(count(&f), 1);
	}
}
END_TEST

/* A log with a bit of everything; times are 1000 * (index + 1). */
static void fill(void)
{
	static const struct {
		const char *user, *op;
		int level, outcome;
	} rows[] = {
	    {"alice", "open", 1, 0},	      /* 1000 */
	    {"alice", "create", 2, 0},	      /* 2000 */
	    {"bob", "open", 3, -EACCES},      /* 3000 incident */
	    {"bob", "open", 2, -ENOENT},      /* 4000 denied, no incident */
	    {"carol", "read", 2, -EBADMSG},   /* 5000 incident */
	    {"alice", "setlevel", 1, -EPERM}, /* 6000 incident */
	    {"", "unlock", -1, -ENOKEY},      /* 7000 incident */
	    {"alice", "open", 0, -EIO},	      /* 8000 denied, no incident */
	    {"bob", "rename", 2, 0},	      /* 9000 */
	    {"alice", "create", 4, -EACCES},  /* 10000 incident: level 4 refused */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		append((int64_t)(i + 1) * 1000, rows[i].user, rows[i].op, rows[i].level,
		       rows[i].outcome, NULL);
}

/*
 * A leaf that cannot be stored takes its record's row with it, also inside
 * the caller's transaction when the caller ignores the failure and commits:
 * never a record without its leaf.
 */
START_TEST(test_append_atomic_in_caller_tx)
{
	struct meta_log_filter f = any();
	struct meta_tlog_frontier tree;
	struct meta_record boom = rec(2, "bo", "boom", 0, 0);
	uint8_t head[META_TLOG_HASH_BYTES], now[META_TLOG_HASH_BYTES];
	uint64_t size;
	int64_t v = 0;

	append(1, "alice", "open", 0, 0, NULL);
	/* the frontier's update fails once boom's row is in */
	ck_assert_int_eq(
	    raw_exec("CREATE TRIGGER test_tree_fails BEFORE UPDATE ON access_tree"
		     " WHEN (SELECT op FROM access_log ORDER BY id DESC LIMIT 1) = 'boom'"
		     " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
	    SQLITE_OK);
	ck_assert_int_eq(meta_tx_begin(db), 0);
	ck_assert_int_eq(meta_config_set_int(db, "test.before", 1), 0);
	ck_assert_int_eq(meta_log_append(db, &boom), -EIO);
	ck_assert_int_eq(boom.id, 0);
	append(3, "carl", "open", 0, 0, NULL); /* the caller goes on */
	ck_assert_int_eq(meta_tx_commit(db), 0);

	ck_assert_uint_eq(count(&f), 2); /* alice and carl; boom is gone */
	ck_assert_int_eq(meta_config_get_int(db, "test.before", &v), 0);
	ck_assert_int_eq(v, 1); /* what the caller did before the append stays */
	ck_assert_int_eq(meta_log_tree_head(db, &size, head), 0);
	ck_assert_int_eq(meta_log_tree_recompute(db, &tree), 0);
	meta_tlog_root(&tree, now);
	ck_assert_uint_eq(size, 2);
	ck_assert_uint_eq(tree.size, 2);
	ck_assert_int_eq(memcmp(head, now, sizeof(head)), 0);
}
END_TEST

START_TEST(test_query_filters)
{
	struct meta_log_filter f = any();
	struct meta_record *v = NULL;
	size_t n;

	fill();
	ck_assert_uint_eq(count(&f), 10);

	f = any();
	f.user = "alice";
	ck_assert_uint_eq(count(&f), 5);
	f.user = "";
	ck_assert_uint_eq(count(&f), 1);
	f.user = "nobody";
	ck_assert_uint_eq(count(&f), 0);

	f = any();
	f.op = "open";
	ck_assert_uint_eq(count(&f), 4);
	f.user = "bob"; /* filters combine */
	ck_assert_uint_eq(count(&f), 2);

	f = any();
	f.level = 2;
	ck_assert_uint_eq(count(&f), 4);
	f.level = 0; /* level 0 filters too: only -1 means any */
	ck_assert_uint_eq(count(&f), 1);
	f.level = META_LEVEL_REFUSED;
	ck_assert_uint_eq(count(&f), 1);

	f = any();
	f.denied_only = true;
	ck_assert_uint_eq(count(&f), 7);

	f = any();
	f.incidents_only = true;
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(v[0].outcome, -EACCES);
	ck_assert_int_eq(v[1].outcome, -EBADMSG);
	ck_assert_int_eq(v[2].outcome, -EPERM);
	ck_assert_int_eq(v[3].outcome, -ENOKEY);
	ck_assert_int_eq(v[4].outcome, -EACCES);
	ck_assert_int_eq(v[4].level, META_LEVEL_REFUSED);
	free_records(v, n);
	f.denied_only = true;
	ck_assert_uint_eq(count(&f), 5);
	f.user = "bob";
	ck_assert_uint_eq(count(&f), 1);

	/* time bounds are inclusive */
	f = any();
	f.since_ns = 3000;
	ck_assert_uint_eq(count(&f), 8);
	f.until_ns = 5000;
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(v[0].time_ns, 3000);
	ck_assert_int_eq(v[2].time_ns, 5000);
	free_records(v, n);
	f.since_ns = 0;
	ck_assert_uint_eq(count(&f), 5);
	f.since_ns = 4001;
	f.until_ns = 4999;
	ck_assert_uint_eq(count(&f), 0);
	f = any();
	f.since_ns = 10000;
	f.until_ns = 10000;
	f.incidents_only = true;
	f.level = 4;
	ck_assert_uint_eq(count(&f), 1);

	/* everything at once */
	f = any();
	f.user = "alice";
	f.op = "open";
	f.level = 0;
	f.denied_only = true;
	f.since_ns = 8000;
	f.until_ns = 8000;
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].outcome, -EIO);
	free_records(v, n);
}
END_TEST

START_TEST(test_query_paging)
{
	struct meta_log_filter f = any();
	struct meta_record *v = NULL;
	int64_t ids[10], t[10];
	size_t n, got = 0;

	fill();
	/* pages of 3 by after_id visit every record once, in id order */
	f.limit = 3;
	for (;;) {
		ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
		ck_assert_uint_le(n, 3);
		if (n == 0) {
			free(v);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_lt(got, 10);
			ck_assert_int_gt(v[i].id, f.after_id);
			ids[got] = v[i].id;
			t[got] = v[i].time_ns;
			f.after_id = v[i].id;
			got++;
		}
		free_records(v, n);
		v = NULL;
	}
	ck_assert_uint_eq(got, 10);
	for (size_t i = 0; i < 10; i++) {
		ck_assert_int_eq(t[i], (int64_t)(i + 1) * 1000);
		if (i)
			ck_assert_int_gt(ids[i], ids[i - 1]);
	}

	/* paging through a filtered view */
	f = any();
	f.incidents_only = true;
	f.limit = 2;
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	f.after_id = v[1].id;
	free_records(v, n);
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[0].outcome, -EPERM);
	f.after_id = v[1].id;
	free_records(v, n);
	ck_assert_uint_eq(count(&f), 1);
	f.limit = 1;
	f.after_id = ids[9];
	ck_assert_uint_eq(count(&f), 0);
}
END_TEST

START_TEST(test_log_in_transactions)
{
	struct meta_log_filter f = any();
	int64_t id, later;

	ck_assert_int_eq(meta_tx_begin(db), 0);
	append(1, "alice", "open", 0, 0, &id);
	ck_assert_uint_eq(count(&f), 1);
	meta_tx_rollback(db);
	ck_assert_uint_eq(count(&f), 0);

	ck_assert_int_eq(meta_tx_begin(db), 0);
	append(2, "alice", "open", 0, 0, NULL);
	append(3, "alice", "close", 0, 0, &later);
	ck_assert_int_eq(meta_tx_commit(db), 0);
	ck_assert_uint_eq(count(&f), 2);
	ck_assert_int_gt(later, id);

	/* visible to an auditor's read-only connection */
	{
		struct meta_db *ro = NULL;
		struct meta_record *v = NULL;
		struct meta_record r = rec(4, "x", "open", 0, 0);
		size_t n;

		ck_assert_int_eq(meta_db_open(tmp, META_OPEN_RO, &ro), 0);
		ck_assert_int_eq(meta_log_query(ro, &f, &v, &n), 0);
		ck_assert_uint_eq(n, 2);
		free_records(v, n);
		ck_assert_int_eq(meta_log_append(ro, &r), -EROFS);
		ro = meta_db_close(ro);
	}
}
END_TEST

START_TEST(test_append_only)
{
	struct meta_log_filter f = any();
	struct meta_record *v = NULL;
	size_t n;

	fill();
	ck_assert_int_ne(raw_exec("UPDATE access_log SET outcome = 0"), SQLITE_OK);
	ck_assert_int_ne(raw_exec("UPDATE access_log SET user = 'mallory'"), SQLITE_OK);
	ck_assert_int_ne(raw_exec("DELETE FROM access_log WHERE outcome <> 0"), SQLITE_OK);
	ck_assert_int_ne(raw_exec("UPDATE access_log SET bytes_read = 1"), SQLITE_OK);
	f.denied_only = true;
	ck_assert_uint_eq(count(&f), 7);
	f = any();
	f.user = "mallory";
	ck_assert_uint_eq(count(&f), 0);
	f = any();
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(v[0].bytes_read, -1);
	free_records(v, n);
}
END_TEST

START_TEST(test_corrupt_rows)
{
	struct meta_log_filter f = any();
	struct meta_record *v = (struct meta_record *)0x1;
	size_t n = 55;
	int64_t id;

	fill();
	{
		/* a record owning paths comes first, so the error path must free them */
		struct meta_record r = rec(15000, "erin", "rename", 1, 0);

		r.path_enc = (uint8_t *)"path-one";
		r.path_enc_len = 8;
		r.path2_enc = (uint8_t *)"path-two";
		r.path2_enc_len = 8;
		ck_assert_int_eq(meta_log_append(db, &r), 0);
	}
	append(20000, "dave", "open", 1, 0, &id);
	/* past the triggers, a detail longer than the struct holds */
	ck_assert_int_eq(
	    raw_exec("DROP TRIGGER access_log_no_update;"
		     "UPDATE access_log SET detail = replace(hex(zeroblob(300)), '00', 'd')"
		     " WHERE user = 'dave'"),
	    SQLITE_OK);
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), -EIO);
	ck_assert_uint_eq(n, 55);
	ck_assert_ptr_eq(v, (struct meta_record *)0x1);
	/* the records before it are still readable */
	f.limit = 10;
	ck_assert_uint_eq(count(&f), 10);

	/* an outcome that is no -errno, a level out of range, a path as text */
	f = any();
	f.after_id = id - 1;
	ck_assert_int_eq(
	    raw_exec("UPDATE access_log SET detail = '', outcome = 13 WHERE user = 'dave'"),
	    SQLITE_OK);
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), -EIO);
	ck_assert_int_eq(
	    raw_exec("UPDATE access_log SET outcome = 0, level = 9 WHERE user = 'dave'"),
	    SQLITE_OK);
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), -EIO);
	ck_assert_int_eq(raw_exec("UPDATE access_log SET level = 1, path_enc = 'plain'"
				  " WHERE user = 'dave'"),
			 SQLITE_OK);
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), -EIO);
	ck_assert_int_eq(raw_exec("UPDATE access_log SET path_enc = x'00ff' WHERE user = 'dave'"),
			 SQLITE_OK);
	ck_assert_int_eq(meta_log_query(db, &f, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].path_enc_len, 2);
	free_records(v, n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("meta_log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_roundtrip);
	tcase_add_test(tc, test_append_full_strings);
	tcase_add_test(tc, test_append_invalid);
	tcase_add_test(tc, test_close);
	tcase_add_test(tc, test_tree_follows_records);
	tcase_add_test(tc, test_tree_proofs);
	tcase_add_test(tc, test_tree_shows_tampering);
	tcase_add_test(tc, test_tree_row_damaged);
	tcase_add_test(tc, test_append_atomic_in_caller_tx);
	tcase_add_test(tc, test_query_filters);
	tcase_add_test(tc, test_query_paging);
	tcase_add_test(tc, test_log_in_transactions);
	tcase_add_test(tc, test_append_only);
	tcase_add_test(tc, test_corrupt_rows);
	suite_add_tcase(s, tc);

	return tu_run(s);
}
