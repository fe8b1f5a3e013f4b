/*
 * meta/rotations.h — storage of key rotations (table rotations, schema
 * version 2; docs/format.md §8): one row per rotation, re-wrapping file keys
 * under new level key versions or re-encrypting content under fresh file
 * keys, with its progress (cursor, counts, the blob pending removal) so that
 * an interrupted rotation resumes where it stopped. The rows a rotation
 * changes are in keys.h (file keys, seals), roles.h and grants.h; the work
 * itself is keytool's (keytool/rotation.h).
 *
 * Every function is one SQL statement inside the caller's transaction, if
 * one is open.
 *
 * Errors: 0 on success; -ENOENT no such row; -EINVAL bad argument; -EIO
 * SQLite failure or a row that does not hold what the schema promises;
 * -EBUSY database locked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"
#include "meta/ns.h"
#include "meta/users.h"

#define META_REASON_MAX 256 /* rotations.reason, bytes */

enum meta_rotation_kind {
	META_ROTATION_REWRAP = 1,    /* re-wrap file keys under new level key versions */
	META_ROTATION_REENCRYPT = 2, /* re-encrypt content under fresh file keys */
};

struct meta_rotation {
	int64_t id;				      /* rotations.id, set by add */
	enum meta_rotation_kind kind;		      /* what the work is */
	char reason[META_REASON_MAX + 1];	      /* "revoke user=bob role=hr", ... */
	char started_by[META_NAME_MAX + 1];	      /* vault user (or "(recovery)") */
	uint32_t levels;			      /* bit L: files of level L are worked on */
	bool done;				      /* state 'done' (else 'running') */
	int64_t started_ns, finished_ns;	      /* UTC ns; finished 0 while running */
	uint64_t cursor;			      /* last inode worked on (resumption point) */
	uint64_t done_count;			      /* files re-wrapped / re-encrypted so far */
	uint64_t total;				      /* files to do, as counted at the start */
	uint64_t failed;			      /* files that could not be done (damaged) */
	bool has_pending;			      /* re-encryption: pending_object is set */
	uint8_t pending_object[META_OBJECT_ID_BYTES]; /* blob to remove if no node names it */
};

/* Insert; sets r->id (started_ns 0 means now). */
int meta_rotation_add(struct meta_db *db, struct meta_rotation *r);
/* Write state, finished, cursor, counts and pending object of r (by r->id). */
int meta_rotation_update(struct meta_db *db, const struct meta_rotation *r);
int meta_rotation_get(struct meta_db *db, int64_t id, struct meta_rotation *ret);
/* Rotations ordered by id; running_only: state 'running' only. *ret malloc'd. */
int meta_rotation_list(struct meta_db *db, bool running_only, struct meta_rotation **ret,
		       size_t *ret_n);
