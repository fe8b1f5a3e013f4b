/*
 * meta/checkpoints.h — the signed checkpoints a vault made of its access
 * record (table checkpoints; docs/format.md §11), kept by tree size.
 *
 * This is the vault's own copy, for proofs and for the auditor's export:
 * someone who can write vault.db can rewrite it too, so it proves nothing by
 * itself. What a checkpoint says is checked against copies kept outside the
 * vault (witness directories, the system journal, files auditors keep).
 * Only the note's text passes through here; signing and checking it is
 * keytool's business (keytool/checkpoint.h).
 *
 * Errors: 0 on success; -ENOENT none; -EINVAL bad argument; -EIO SQLite
 * failure or a malformed row; -EBUSY locked; -ENOMEM.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"

#define META_CHECKPOINT_MAX_BYTES 65536

struct meta_checkpoint {
	uint64_t size; /* the tree size it states */
	char *note;    /* the signed note, NUL-terminated, malloc'd */
	int64_t created_ns;
};

void meta_checkpoint_clear(struct meta_checkpoint *c);

/* Keep a checkpoint of tree size size; one of that size already kept stays
 * (the first one signed wins). */
int meta_checkpoint_add(struct meta_db *db, uint64_t size, const char *note);
/* The one with the largest size. */
int meta_checkpoint_latest(struct meta_db *db, struct meta_checkpoint *ret);
/* The smallest one of at least size records. */
int meta_checkpoint_at_least(struct meta_db *db, uint64_t size, struct meta_checkpoint *ret);
/* Every one, ordered by size; free each with meta_checkpoint_clear, then *ret. */
int meta_checkpoint_list(struct meta_db *db, struct meta_checkpoint **ret, size_t *ret_n);
