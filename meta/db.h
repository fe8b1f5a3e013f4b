/*
 * meta/db.h — the vault database: opening, schema, transactions, configuration.
 *
 * vault.db (SQLite, WAL) is the single source of truth for everything but file
 * content: configuration, users, roles, keys (sealed), the namespace and the
 * access records. This header opens it and wraps transactions; the queries are
 * in one header per thing stored: ns.h, users.h, roles.h, grants.h, keys.h,
 * rotations.h, recovery.h, records.h. Callers never see sqlite3.h.
 *
 * Errors: 0 on success, -errno on failure: -ENOENT no vault at that path,
 * -EEXIST vault already exists, -EBUSY database locked, -EIO any other SQLite
 * failure, -EPROTO a schema version this build does not know, or a schema
 * that is not the one it makes (meta_db_open_why says which object).
 *
 * Locking: a struct meta_db is one SQLite connection and must not be used by
 * two threads at once; callers serialise (the daemon holds one mutex around
 * each transaction).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define META_SCHEMA_VERSION 7
#define META_LEVELS	    4 /* levels 0..3 are storable; level 4 is refused */
#define META_LEVEL_REFUSED  4
#define META_DB_NAME	    "vault.db"
#define META_OBJECTS_DIR    "objects"

struct meta_db;

enum meta_open_mode {
	META_OPEN_RW,	      /* read-write, existing vault */
	META_OPEN_RO,	      /* read-only (auditors; works while mounted) */
	META_OPEN_CREATE,     /* create a new vault.db; -EEXIST if one exists */
	META_OPEN_RO_INSPECT, /* read-only, and a schema that is not the expected one is
			       * opened anyway, what differs in why[] (verify reports it) */
};

/*
 * Open DIR/vault.db. CREATE makes the directory's vault.db and objects/,
 * creates the schema and the root directory node (inode 1, uid/gid 0, level
 * 0, mode 01777: like /tmp on a shared drive, anyone may create, only owners
 * delete) and sets format configuration; RW and RO check the
 * schema version (migrating an older one when RW), then the schema itself:
 * every table, index, trigger and view must be the one this build makes
 * (docs/format.md §8), else -EPROTO. On success *ret_db owns the
 * connection. busy_timeout is set so concurrent admin commands wait rather
 * than fail.
 */
int meta_db_open(const char *dir, enum meta_open_mode mode, struct meta_db **ret_db);

/* Bytes of meta_db_open_why's description, with its NUL. */
#define META_OPEN_WHY_MAX 128

/*
 * meta_db_open, and when it refuses a vault whose schema is not the one
 * this build makes (-EPROTO), why: the first object found that is
 * unexpected (a trigger, say, that vaultfs never made: planted), then
 * altered (another statement than vaultfs's), then missing, as
 * "unexpected trigger 'x'". Printable ASCII (other bytes and quotes as '?'),
 * the name cut at 64 bytes: the caller prints it. why is "" when the open
 * succeeds or fails for any other reason (-EPROTO then is a version this
 * build does not know).
 */
int meta_db_open_why(const char *dir, enum meta_open_mode mode, struct meta_db **ret_db,
		     char why[META_OPEN_WHY_MAX]);

/* Close; takes NULL; returns NULL. */
struct meta_db *meta_db_close(struct meta_db *db);
/* Whether db was opened META_OPEN_RO. */
bool meta_db_read_only(const struct meta_db *db);

/*
 * Transactions. begin() is BEGIN IMMEDIATE (takes the write lock at once, so
 * two admin commands serialise rather than deadlock). commit() on failure
 * rolls back and returns -EIO. rollback() never fails. Nested begin() is a
 * programming error (-EINVAL).
 */
int meta_tx_begin(struct meta_db *db);
/*
 * A read transaction (BEGIN DEFERRED), also on a read-write connection: one
 * snapshot, and one round of WAL locking, for several reads in a row. Ended
 * by commit() (or rollback()).
 */
int meta_tx_begin_read(struct meta_db *db);
int meta_tx_commit(struct meta_db *db);
void meta_tx_rollback(struct meta_db *db);
/*
 * End a transaction by the result of what it did: COMMIT when r == 0 (and
 * return the commit's result), else ROLLBACK (and return r). Also after a
 * failed begin(): then there is nothing to roll back and r comes back.
 */
int meta_tx_end(struct meta_db *db, int r);

/*
 * WAL checkpoints off the request path (the daemon). After this call, commits
 * on db no longer copy the WAL back into the database themselves; instead
 * notify(arg) is called (inside the commit: keep it short) once the WAL holds
 * META_WAL_CHECKPOINT_FRAMES frames, and another connection's thread runs
 * meta_db_checkpoint(). Should that thread fall behind (or readers hold it
 * back) until the WAL reaches META_WAL_FRAMES_MAX, the committer checkpoints
 * itself, so the WAL cannot grow without bound. notify NULL goes back to
 * SQLite's own checkpoints in commits.
 */
#define META_WAL_CHECKPOINT_FRAMES 4000	 /* 16 MiB of 4 KiB pages */
#define META_WAL_FRAMES_MAX	   65536 /* 256 MiB */
int meta_db_checkpoint_elsewhere(struct meta_db *db, void (*notify)(void *arg), void *arg);
/* Checkpoint what readers allow, waiting for nobody (PASSIVE). 0 or -EIO. */
int meta_db_checkpoint(struct meta_db *db);

/*
 * Configuration (table vault_config). Values are blobs; the _int variants
 * store an int64 as a decimal string. get returns -ENOENT when the key is
 * absent. For get_blob, *ret_len on input is the buffer size; -ENOBUFS when it
 * is too small; on success *ret_len is the value's length.
 */
int meta_config_set_blob(struct meta_db *db, const char *key, const void *val, size_t len);
int meta_config_get_blob(struct meta_db *db, const char *key, void *buf, size_t *ret_len);
int meta_config_set_int(struct meta_db *db, const char *key, int64_t val);
int meta_config_get_int(struct meta_db *db, const char *key, int64_t *ret_val);

/* Current UTC time in nanoseconds since the epoch. */
int64_t meta_now_ns(void);
