/*
 * meta/rowsig.h — the rows the administration key signs (docs/format.md
 * §13): their canonical bytes, their `sig` column, and which rows this
 * connection changed in its transaction (so that exactly those are signed).
 *
 * A signed row is named by its table and primary key (struct meta_row_ref).
 * The canonical bytes are built here, from the stored columns, so a row is
 * signed and checked over what the database holds; keytool signs and
 * verifies them (keytool/rowsig.c).
 *
 * Errors: -ENOENT no such row; -EIO a stored value is not what the schema
 * promises (a tampered row); -ENOMEM; -EBUSY.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"

#define META_ROW_SIG_BYTES   64		   /* Ed25519 signature */
#define META_ROW_KEYS	     5		   /* at most five primary key columns (key_seals) */
#define META_ROWS_SIGNED_KEY "rows_signed" /* vault_config: every row was signed once */

enum meta_row_table {
	META_ROW_USERS,	      /* key: id */
	META_ROW_ROLES,	      /* key: id */
	META_ROW_ROLE_KEYS,   /* key: role_id, version */
	META_ROW_GRANTS,      /* key: user_id, role_id, role_version */
	META_ROW_LEVEL_KEYS,  /* key: level, version */
	META_ROW_META_KEYS,   /* key: version */
	META_ROW_KEY_SEALS,   /* key: kind, id, version, role_id, role_version */
	META_ROW_SIGN_KEYS,   /* key: kind, version */
	META_ROW_LEVEL_NAMES, /* no key: vault_config level_name.0 .. .3 */
	META_ROW_TABLES
};

struct meta_row_ref {
	int table;		    /* enum meta_row_table */
	int64_t key[META_ROW_KEYS]; /* primary key values in the order above, unused 0 */
};

/* The table's name in the signed message ("users", ..., "level_names"). */
const char *meta_row_table_name(int table);
/*
 * The canonical bytes of a row (malloc'd, §13) and its signature: *ret_signed
 * false when sig is NULL (ret_sig then zero).
 */
int meta_row_get(struct meta_db *db, const struct meta_row_ref *ref, uint8_t **ret_msg,
		 size_t *ret_len, uint8_t ret_sig[META_ROW_SIG_BYTES], bool *ret_signed);
/* Store a row's signature (NULL: clear it). */
int meta_row_set_sig(struct meta_db *db, const struct meta_row_ref *ref,
		     const uint8_t sig[META_ROW_SIG_BYTES]);
/*
 * From now on, note every signed row this connection inserts or changes
 * (TEMP triggers; inside the caller's transaction, so a rollback forgets
 * them). Idempotent.
 */
int meta_row_track(struct meta_db *db);
/* The rows noted since the last meta_row_dirty_clear(), each once. */
int meta_row_dirty(struct meta_db *db, struct meta_row_ref **ret, size_t *ret_n);
/* Forget the noted rows. */
int meta_row_dirty_clear(struct meta_db *db);
/* Every signed row of the vault (the level names once). */
int meta_row_list_all(struct meta_db *db, struct meta_row_ref **ret, size_t *ret_n);
