/*
 * meta/internal.h — private to the meta/ sources: the connection struct, the cache of
 * prepared statements, and helpers shared by the query files.
 *
 * Every query in the library is a cached statement named by an enum meta_stmt_id:
 * meta_stmt() prepares it once (SQLITE_PREPARE_PERSISTENT) and hands it out;
 * the caller declares it _cleanup_(meta_stmt_donep), which resets it and clears
 * its bindings on every exit path, so no statement ever keeps a read
 * transaction (a WAL snapshot) open after its function returns.
 *
 * This header must not include sqlite3.h (only the meta/ .c files do): SQLite's types
 * appear here as the structs behind its typedefs.
 *
 * Locking: as for struct meta_db (db.h): one thread at a time per connection.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "meta/cleanup.h"
#include "meta/db.h"

struct sqlite3;
struct sqlite3_stmt;

/* Filters of meta_log_query(), one bit each; a query is prepared per combination. */
#define META_LOG_FILTER_BITS 7

/* The statements of the library, one per query; the SQL lives where it is used. */
enum meta_stmt_id {
	/* db.c */
	META_ST_BEGIN,
	META_ST_BEGIN_RO,
	META_ST_COMMIT,
	META_ST_ROLLBACK,
	META_ST_CONFIG_GET,
	META_ST_CONFIG_SET,
	/* users.c */
	META_ST_USER_ADD,
	META_ST_USER_BY_NAME,
	META_ST_USER_BY_ID,
	META_ST_USER_BY_UID,
	META_ST_USER_SET_SECRET,
	META_ST_USER_LIST,
	META_ST_USER_SET_DISABLED,
	META_ST_USER_SET_KEYS,
	/* roles.c */
	META_ST_ROLE_ADD,
	META_ST_ROLE_BY_NAME,
	META_ST_ROLE_BY_ID,
	META_ST_ROLE_BY_FLAG,
	META_ST_ROLE_LIST,
	META_ST_ROLE_KEY_ADD,
	META_ST_ROLE_KEY_GET,
	META_ST_ROLE_SET_VERSION,
	META_ST_ROLE_KEY_LIST,
	META_ST_ROLE_KEY_SET_CUSTODY,
	META_ST_ROLE_KEY_REMOVE_BELOW,
	/* grants.c */
	META_ST_GRANT_ADD,
	META_ST_GRANT_REMOVE,
	META_ST_GRANT_LIST_USER,
	META_ST_GRANT_LIST_ALL,
	META_ST_GRANT_LIST_ROLE,
	META_ST_GRANT_REMOVE_BELOW,
	/* keys.c */
	META_ST_LEVEL_KEY_ADD,
	META_ST_META_KEY_ADD,
	META_ST_LEVEL_KEY_CURRENT,
	META_ST_META_KEY_CURRENT,
	META_ST_KEY_VERSION_LIST,
	META_ST_KEY_SEAL_ADD,
	META_ST_KEY_SEAL_LIST_ROLE,
	META_ST_KEY_SEAL_LIST_ALL,
	META_ST_KEY_SEAL_REMOVE_ROLE_BELOW,
	META_ST_KEY_SEAL_REMOVE_KEY,
	META_ST_SIGN_KEY_ADD,
	META_ST_SIGN_KEY_CURRENT,
	META_ST_SIGN_KEY_LIST,
	META_ST_CHECKPOINT_ADD,
	META_ST_CHECKPOINT_LATEST,
	META_ST_CHECKPOINT_GET,
	META_ST_CHECKPOINT_LIST,
	META_ST_FILE_KEY_LIST,
	META_ST_FILE_KEY_COUNT,
	META_ST_FILE_KEY_SWAP,
	META_ST_FILE_KEY_CENSUS,
	META_ST_OBJECT_IN_USE,
	/* ns.c */
	META_ST_NODE_INSERT,
	META_ST_NODE_GET,
	META_ST_NODE_UPDATE,
	META_ST_NODE_DELETE,
	META_ST_NODE_ORPHANS,
	META_ST_DIRENT_LOOKUP,
	META_ST_DIRENT_INSERT,
	META_ST_DIRENT_DELETE,
	META_ST_DIRENT_SET_INO,
	META_ST_DIRENT_LIST,
	META_ST_DIRENT_HAS_CHILDREN,
	META_ST_DIRENT_ANY_FOR_INO,
	META_ST_XATTR_GET,
	META_ST_XATTR_SET,
	META_ST_XATTR_REMOVE,
	META_ST_XATTR_LIST,
	META_ST_NS_COUNT,
	META_ST_INVENTORY,
	/* rotations.c */
	META_ST_ROTATION_ADD,
	META_ST_ROTATION_UPDATE,
	META_ST_ROTATION_GET,
	META_ST_ROTATION_LIST,
	META_ST_ROTATION_LIST_RUNNING,
	/* recovery.c */
	META_ST_RECOVERY_DELETE,
	META_ST_RECOVERY_ADD,
	META_ST_RECOVERY_GET,
	META_ST_RECOVERY_RESEAL,
	/* records.c */
	META_ST_LOG_APPEND,
	META_ST_LOG_SAVEPOINT,
	META_ST_LOG_RELEASE,
	META_ST_LOG_ROLLBACK_TO,
	META_ST_LOG_OPEN_GET,
	META_ST_LOG_QUERY, /* + filter mask (+ 1 << META_LOG_FILTER_BITS when raw) */
	META_ST_LOG_QUERY_LAST = META_ST_LOG_QUERY + (2 << META_LOG_FILTER_BITS) - 1,
	/* records-tree.c */
	META_ST_TREE_GET,
	META_ST_TREE_PUT,
	META_ST_TREE_START,
	META_ST_TREE_INDEX,

	META_ST_COUNT
};

struct meta_db {
	struct sqlite3 *sql;			  /* the connection (SQLITE_OPEN_NOMUTEX) */
	bool read_only;				  /* opened META_OPEN_RO */
	bool in_tx;				  /* between meta_tx_begin() and its end */
	struct sqlite3_stmt *stmt[META_ST_COUNT]; /* prepared on first use, else NULL */
	void (*wal_notify)(void *arg);		  /* meta_db_checkpoint_elsewhere() */
	void *wal_notify_arg;
	int wal_notified; /* log length at the last notify */
};

/*
 * The cached statement id, preparing sql on first use. The statement comes
 * back reset with no bindings; declare it _cleanup_(meta_stmt_donep).
 * Errors: -EIO (or -ENOMEM, -EBUSY) when preparing fails.
 */
int meta_stmt(struct meta_db *db, enum meta_stmt_id id, const char *sql,
	      struct sqlite3_stmt **ret_st);
/* Cleanup for a statement from meta_stmt(): reset, clear bindings. Takes NULL. */
void meta_stmt_donep(struct sqlite3_stmt **st);

/* A SQLite result code (extended codes are enabled) as -errno; see db.c. */
int meta_errno(int rc);

/* Step a statement that returns no row. 0 or -errno. */
int meta_step_done(struct sqlite3_stmt *st);
/* Step an UPDATE/DELETE: 0 if it changed a row, -ENOENT if none, or -errno. */
int meta_step_changed(struct sqlite3_stmt *st);
/* Step a query: 1 a row is ready, 0 no (more) rows, or -errno. */
int meta_step_row(struct sqlite3_stmt *st);

/*
 * Bind a blob; ptr NULL with len 0 binds SQL NULL, any other (ptr, 0) an
 * empty blob. Returns a SQLite result code (SQLITE_OK = 0), for OR-ing.
 */
int meta_bind_blob(struct sqlite3_stmt *st, int i, const void *ptr, size_t len);
/* Bind a string of at most max bytes (stops at the first NUL). SQLite code. */
int meta_bind_text(struct sqlite3_stmt *st, int i, const char *s, size_t max);
/* After a failed bind on st: the connection's error as -errno. */
int meta_bind_errno(struct sqlite3_stmt *st);

/*
 * Column readers. Each checks the stored value's type and size and returns
 * -EIO when the row does not hold what the schema promises, so a damaged or
 * tampered row never overflows a buffer or passes as valid.
 */
/* A blob of exactly len bytes into dst. */
int meta_col_fixed(struct sqlite3_stmt *st, int col, void *dst, size_t len);
/* A blob or NULL, malloc'd: NULL and empty give (NULL, 0). -ENOMEM. */
int meta_col_dup(struct sqlite3_stmt *st, int col, uint8_t **ret, size_t *ret_len);
/* A text of fewer than size bytes and no NUL, NUL-terminated into dst. */
int meta_col_text(struct sqlite3_stmt *st, int col, char *dst, size_t size);
/* An integer in [min, max]. */
int meta_col_int(struct sqlite3_stmt *st, int col, int64_t min, int64_t max, int64_t *ret);
/* The same for the common ranges: [0, UINT32_MAX], [0, INT64_MAX], any int64. */
int meta_col_u32(struct sqlite3_stmt *st, int col, uint32_t *ret);
int meta_col_u63(struct sqlite3_stmt *st, int col, uint64_t *ret);
int meta_col_i64(struct sqlite3_stmt *st, int col, int64_t *ret);

/*
 * Step query st to its end, reading each row with read(st, element) into a
 * growing malloc'd array of elements of elsize bytes: *ret (NULL when
 * empty) and *ret_n. On failure the elements read so far are passed to
 * clear (may be NULL) and freed, and *ret is left alone.
 */
int meta_rows_read(struct sqlite3_stmt *st, size_t elsize,
		   int (*read)(struct sqlite3_stmt *, void *), void (*clear)(void *), void **ret,
		   size_t *ret_n);

/* Whether name is a valid user or role name: [a-z_][a-z0-9_.-]*, 1..META_NAME_MAX
 * bytes (users.h). Used by users.c and roles.c on the way in. */
bool meta_name_valid(const char *name);

/*
 * Make room for one more element in a malloc'd array of *cap elements of
 * size elsize holding n. 0 or -ENOMEM (the array is then left as it was).
 */
int meta_grow(void **arr, size_t *cap, size_t n, size_t elsize);
