/*
 * meta/recovery.c — the vault's recovery setup (table recovery; recovery.h;
 * docs/format.md §8): replace it, read it, re-seal it after the
 * administration role's key is rotated. There is at most one setup: setting
 * a new one deletes the old in the same transaction.
 *
 * Every blob read back is checked for its exact size, as everywhere in meta/.
 */
#include "meta/recovery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "meta/internal.h"

int meta_recovery_set(struct meta_db *db, struct meta_recovery *rec)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *del = NULL;
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int64_t created;
	int r;

	if (!rec || rec->threshold < 2 || rec->threshold > rec->shares ||
	    rec->shares > META_RECOVERY_SHARES_MAX || !rec->officers[0])
		return -EINVAL;
	r = meta_stmt(db, META_ST_RECOVERY_DELETE, "DELETE FROM recovery", &del);
	if (r == 0)
		r = meta_step_done(del);
	if (r < 0)
		return r;
	created = rec->created_ns ? rec->created_ns : meta_now_ns();
	r = meta_stmt(db, META_ST_RECOVERY_ADD,
		      "INSERT INTO recovery (public_key, threshold, shares, officers,"
		      " admin_role_version, admin_sealed, created, created_by)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		      &st);
	if (r < 0)
		return r;
	if (meta_bind_blob(st, 1, rec->public_key, META_PUBKEY_BYTES) |
	    sqlite3_bind_int64(st, 2, rec->threshold) | sqlite3_bind_int64(st, 3, rec->shares) |
	    meta_bind_text(st, 4, rec->officers, sizeof(rec->officers) - 1) |
	    sqlite3_bind_int64(st, 5, rec->admin_role_version) |
	    meta_bind_blob(st, 6, rec->admin_sealed, META_SEALED_BYTES) |
	    sqlite3_bind_int64(st, 7, created) |
	    meta_bind_text(st, 8, rec->created_by, sizeof(rec->created_by) - 1))
		return meta_bind_errno(st);
	r = meta_step_done(st);
	if (r < 0)
		return r;
	rec->id = sqlite3_last_insert_rowid(db->sql);
	rec->created_ns = created;
	return 0;
}

int meta_recovery_get(struct meta_db *db, struct meta_recovery *ret)
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	struct meta_recovery rec;
	int r;

	if (!ret)
		return -EINVAL;
	r = meta_stmt(db, META_ST_RECOVERY_GET,
		      "SELECT id, public_key, threshold, shares, officers, admin_role_version,"
		      " admin_sealed, created, created_by FROM recovery ORDER BY id DESC LIMIT 1",
		      &st);
	if (r < 0)
		return r;
	r = meta_step_row(st);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	memset(&rec, 0, sizeof(rec));
	if ((r = meta_col_i64(st, 0, &rec.id)) < 0 ||
	    (r = meta_col_fixed(st, 1, rec.public_key, sizeof(rec.public_key))) < 0 ||
	    (r = meta_col_u32(st, 2, &rec.threshold)) < 0 ||
	    (r = meta_col_u32(st, 3, &rec.shares)) < 0 ||
	    (r = meta_col_text(st, 4, rec.officers, sizeof(rec.officers))) < 0 ||
	    (r = meta_col_u32(st, 5, &rec.admin_role_version)) < 0 ||
	    (r = meta_col_fixed(st, 6, rec.admin_sealed, sizeof(rec.admin_sealed))) < 0 ||
	    (r = meta_col_i64(st, 7, &rec.created_ns)) < 0 ||
	    (r = meta_col_text(st, 8, rec.created_by, sizeof(rec.created_by))) < 0)
		return r;
	if (rec.threshold < 2 || rec.threshold > rec.shares ||
	    rec.shares > META_RECOVERY_SHARES_MAX)
		return -EIO;
	*ret = rec;
	return 0;
}

int meta_recovery_reseal(struct meta_db *db, int64_t id, uint32_t admin_role_version,
			 const uint8_t admin_sealed[META_SEALED_BYTES])
{
	_cleanup_(meta_stmt_donep) sqlite3_stmt *st = NULL;
	int r;

	if (!admin_sealed)
		return -EINVAL;
	r = meta_stmt(
	    db, META_ST_RECOVERY_RESEAL,
	    "UPDATE recovery SET admin_role_version = ?2, admin_sealed = ?3 WHERE id = ?1", &st);
	if (r < 0)
		return r;
	if (sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int64(st, 2, admin_role_version) |
	    meta_bind_blob(st, 3, admin_sealed, META_SEALED_BYTES))
		return meta_bind_errno(st);
	return meta_step_changed(st);
}
