/*
 * meta/records.h — access records (spårbarhet) and incidents.
 *
 * One row per recorded event: every open, create, change, rename, delete,
 * classification change, key operation, denial and integrity failure. Paths
 * are stored encrypted (the caller encrypts them with the metadata key; see
 * docs/format.md §6). A record never changes once written: what an open
 * read and wrote is a record of its own, appended at close
 * (meta_log_close()), that names the open it closes. Every record is also a
 * leaf of the log's Merkle tree (meta/records-tree.h), appended with it.
 *
 * Errors: 0 on success; -EIO SQLite failure; -EBUSY locked; -ENOENT no such
 * record.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "meta/db.h"

#define META_OP_MAX	24
#define META_COMM_MAX	16 /* like TASK_COMM_LEN */
#define META_DETAIL_MAX 256

/* Outcome values beside 0 (= success) and -errno for refusals/failures. */
#define META_OUTCOME_OK 0

struct meta_record {
	int64_t id;		      /* set by append */
	int64_t time_ns;	      /* UTC ns; append fills it if 0 */
	char user[64 + 1];	      /* vault user name, "" if unknown */
	int64_t uid;		      /* OS uid of the caller, -1 for none */
	int64_t pid;		      /* caller pid, 0 for none */
	char comm[META_COMM_MAX + 1]; /* process name */
	char op[META_OP_MAX + 1];     /* "open", "create", "rename", "grant", ... */
	uint64_t ino;		      /* file, 0 for none */
	uint8_t *path_enc;	      /* encrypted path at that time, may be NULL */
	size_t path_enc_len;
	uint8_t *path2_enc; /* rename target / second path, may be NULL */
	size_t path2_enc_len;
	int level;	    /* level at that time, -1 for none */
	int outcome;	    /* 0 ok, else -errno (-EACCES denial, -EBADMSG integrity) */
	int64_t bytes_read; /* opens: filled at close; -1 when not applicable */
	int64_t bytes_written;
	char detail[META_DETAIL_MAX + 1]; /* e.g. "flags=rw", "level 1->2", "role=hr" */
	int64_t closes;			  /* a close record: the id of the open it closes; else 0 */
};

/* Free what a record owns (path_enc, path2_enc); not the struct. */
void meta_record_clear(struct meta_record *r);

/*
 * Append, and its leaf to the tree; sets r->id (and r->time_ns if it was 0).
 * The caller's transaction applies if one is open, else the record and its
 * leaf commit on their own. Either way both are written or neither: a
 * failed append inside the caller's transaction is rolled back to where it
 * began (a savepoint), so the caller may go on and commit.
 */
int meta_log_append(struct meta_db *db, struct meta_record *r);
/*
 * Append the close of open record open_id: op "close", the open's user,
 * uid, pid, process, inode and level, and what it read and wrote.
 * -ENOENT when there is no such open record.
 */
int meta_log_close(struct meta_db *db, int64_t open_id, int64_t bytes_read, int64_t bytes_written);

/* Query filters; zero/NULL/-1 fields do not filter. */
struct meta_log_filter {
	const char *user;	    /* exact vault user */
	const char *op;		    /* exact op */
	int level;		    /* exact level, -1 any */
	bool denied_only;	    /* outcome != 0 */
	bool incidents_only;	    /* outcome -EACCES, -EPERM, -ENOKEY or -EBADMSG:
				     * denials, refused level 4, integrity failures */
	int64_t since_ns, until_ns; /* inclusive bounds, 0 = open */
	int64_t after_id;	    /* paging: id > after_id */
	size_t limit;		    /* 0 = no limit */
	bool raw;		    /* every record as stored, close records too; else
				     * a close's byte counts show on the open it closes
				     * and close records are left out */
};

/*
 * Records matching f ordered by id. Path filtering happens in the caller
 * after decryption. *ret malloc'd: meta_record_clear each, then free().
 */
int meta_log_query(struct meta_db *db, const struct meta_log_filter *f, struct meta_record **ret,
		   size_t *ret_n);
