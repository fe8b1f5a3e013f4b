/*
 * keytool/rotation.c — starting a rotation (new key versions sealed to the
 * right roles), re-wrapping file keys, destroying old key versions.
 *
 * Starting a rotation (one transaction, kt_rotation_start): the roles to rotate
 * are the revoked ones, or every role when the admin role is among them (the
 * admin role holds every role secret and level key in custody, so a revoked
 * administrator may know them all). Every rotated role gets a new key pair:
 * its secret sealed to each remaining member (enabled users with unexpired
 * grants; expired grants of the role are dropped and recorded) and, but for
 * the admin role, to the admin role's current key. The rotated levels are
 * the levels those roles hold (all of them for the admin role); each gets a
 * new version, sealed to every role holding the level and to the admin role.
 * A rotated role's new key also gets every live version (not yet destroyed)
 * of its levels' keys and of the metadata key, so its members read the files
 * not yet re-wrapped; its old key pairs, grants and seals are deleted at
 * once. The metadata key is not rotated (docs/key-hierarchy.md says why).
 *
 * Invariant kept by every step: every live level and metadata key version
 * is sealed to the admin role's current key, so the administrator's keyring
 * (custody) holds every key a re-wrap or a new seal needs.
 *
 * Re-wrapping (kt_rotation_run): batches of files in inode order from the
 * rotations row's cursor, each in one transaction; a file key is replaced
 * only if the row still holds the key that was read (a concurrent change by
 * the daemon wins, and the final step catches it). The final step, in one
 * transaction, re-wraps every file key still under an old version of the
 * rotated levels (found by the wrapped key's prefix) and destroys the old
 * versions that no file uses any more.
 */
#include "keytool/rotation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/internal.h"
#include "meta/records.h"
#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/recovery.h"
#include "meta/roles.h"
#include "meta/rotations.h"
#include "meta/users.h"

#define ROT_DETAIL_MAX META_DETAIL_MAX

/* ---- keys to seal ----------------------------------------------------- */

/* One key a rotation may seal: a live version in custody, or a new one. */
struct ks_entry {
	uint8_t kind;	  /* KT_SEAL_LEVEL, _METADATA, _CHECKPOINT or _ADMIN_SIGN */
	uint8_t id;	  /* level, else 0 */
	uint32_t version; /* key version */
	bool fresh;	  /* made by this rotation */
	uint8_t key[KT_KEY_BYTES];
};

struct keyset {
	struct ks_entry *e; /* kt_secure_allocarray'd */
	size_t n, cap;
};

static void keyset_free(struct keyset *ks)
{
	kt_secure_free(ks->e);
	ks->e = NULL;
	ks->n = ks->cap = 0;
}

static int keyset_add(struct keyset *ks, uint8_t kind, uint8_t id, uint32_t version, bool fresh,
		      const uint8_t key[KT_KEY_BYTES])
{
	struct ks_entry *e;

	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16;
		struct ks_entry *v = kt_secure_allocarray(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (ks->n)
			memcpy(v, ks->e, ks->n * sizeof(*v));
		kt_secure_free(ks->e);
		ks->e = v;
		ks->cap = cap;
	}
	e = &ks->e[ks->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->id = id;
	e->version = version;
	e->fresh = fresh;
	memcpy(e->key, key, KT_KEY_BYTES);
	return 0;
}

/* Every key the administrator holds in custody: every live version. */
static int keyset_from_custody(const struct kt_keyring *admin, struct keyset *ks)
{
	for (size_t i = 0; i < admin->n_keys; i++) {
		const struct kt_key_entry *k = &admin->keys[i];
		int r;

		if (!k->custody)
			continue;
		r = keyset_add(ks, k->kind, k->level, k->version, false, k->key);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The key (kind, id, version) in custody; NULL if not held. */
const uint8_t *kt_custody_key(const struct kt_keyring *admin, uint8_t kind, uint8_t id,
			      uint32_t version)
{
	for (size_t i = 0; i < admin->n_keys; i++) {
		const struct kt_key_entry *k = &admin->keys[i];

		if (k->custody && k->kind == kind && k->level == id && k->version == version)
			return k->key;
	}
	return NULL;
}

/* Seal one keyset entry to a role version. */
static int seal_entry(struct meta_db *db, const struct ks_entry *e, int64_t role_id,
		      uint32_t role_version, const uint8_t role_pk[KT_KEY_BYTES])
{
	struct meta_key_seal s;
	int r;

	if (e->version > KT_SEAL_FIELD_MAX)
		return -EOVERFLOW;
	memset(&s, 0, sizeof(s));
	s.kind = e->kind;
	s.id = e->id;
	s.version = e->version;
	s.role_id = role_id;
	s.role_version = role_version;
	r = kt_seal((enum kt_seal_kind)e->kind, e->id, (uint16_t)e->version, e->key, role_pk,
		    s.sealed);
	if (r == 0)
		r = meta_key_seal_add(db, &s);
	return r;
}

/* ---- starting a rotation --------------------------------------------- */

/* What a rotation start works with. */
struct start_ctx {
	struct meta_db *db;
	struct kt_keyring *admin;
	struct keyset ks;	 /* custody keys + new level versions */
	struct meta_role *roles; /* every role */
	size_t n_roles;
	bool *rotate;			/* per role: gets a new key pair */
	uint8_t admin_pk[KT_KEY_BYTES]; /* the admin role's current key (new, if rotated) */
	int64_t admin_role_id;
	uint32_t admin_role_version;
	int64_t rotation_id;
	int64_t now;
};

/*
 * Give role a new key pair (version + 1): sealed to its remaining members and
 * (not for the admin role) to the admin role; the keys of its levels and the
 * metadata key sealed to it; its older key pairs, grants and seals deleted.
 */
static int rotate_role(struct start_ctx *c, struct meta_role *role)
{
	bool is_admin = role->id == c->admin_role_id;
	char detail[ROT_DETAIL_MAX + 1], fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	struct meta_grant *grants = NULL;
	struct meta_role_key rk;
	struct meta_recovery rec;
	uint32_t v = role->key_version + 1;
	size_t n = 0, members = 0;
	uint8_t *sk;
	int r;

	if (role->id < 0 || role->id > (int64_t)KT_SEAL_FIELD_MAX || v > KT_SEAL_FIELD_MAX)
		return -EOVERFLOW;
	sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;
	memset(&rk, 0, sizeof(rk));
	rk.role_id = role->id;
	rk.version = v;
	rk.created_ns = c->now;
	kt_keypair(rk.public_key, sk);
	r = 0;
	if (!is_admin) {
		rk.has_custody = true;
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)role->id, (uint16_t)v, sk, c->admin_pk,
			    rk.custody_sealed);
	}
	if (r == 0)
		r = meta_role_key_add(c->db, &rk);
	if (r == 0)
		r = meta_role_set_key_version(c->db, role->id, v);
	if (r < 0)
		goto out;

	/* the remaining members: one grant each (the newest), if still valid */
	r = meta_grant_list_role(c->db, role->id, &grants, &n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct meta_grant *g = &grants[i];
		struct meta_grant ng;
		struct meta_user u;

		if (i + 1 < n && grants[i + 1].user_id == g->user_id)
			continue; /* an older version of the same user's grant */
		if (g->expires_ns && g->expires_ns <= c->now) {
			/* rotating is what makes an expiry final: not sealed again */
			kt_format_utc(g->expires_ns, when, sizeof(when));
			snprintf(detail, sizeof(detail), "user=%s role=%s expired=%s rotation=%lld",
				 g->user_name, role->name, when, (long long)c->rotation_id);
			r = kt_record(c->db, c->admin->user.name, "grant-expire", detail,
				      META_OUTCOME_OK);
			if (r < 0)
				goto out;
			continue;
		}
		r = meta_user_get_by_id(c->db, g->user_id, &u);
		if (r < 0)
			goto out;
		if (u.disabled)
			continue;
		ng = *g;
		ng.role_version = v;
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)role->id, (uint16_t)v, sk, u.public_key,
			    ng.sealed);
		if (r == 0)
			r = meta_grant_add(c->db, &ng);
		if (r < 0)
			goto out;
		members++;
	}

	/* its keys: custody of everything for the admin role, else its levels */
	for (size_t i = 0; i < c->ks.n; i++) {
		const struct ks_entry *e = &c->ks.e[i];

		if (!is_admin && e->kind == KT_SEAL_LEVEL && !(role->levels & (1u << e->id)))
			continue;
		if (!is_admin && e->kind == KT_SEAL_ADMIN_SIGN)
			continue;
		r = seal_entry(c->db, e, role->id, v, rk.public_key);
		if (r < 0)
			goto out;
	}
	r = meta_grant_remove_below(c->db, role->id, v);
	if (r == 0)
		r = meta_key_seal_remove_role_below(c->db, role->id, v);
	if (r == 0)
		r = meta_role_key_remove_below(c->db, role->id, v);
	if (r < 0)
		goto out;

	if (is_admin) {
		memcpy(c->admin_pk, rk.public_key, KT_KEY_BYTES);
		c->admin_role_version = v;
		/* the recovery setup follows the admin role key */
		r = meta_recovery_get(c->db, &rec);
		if (r == 0) {
			r = kt_seal(KT_SEAL_ROLE, (uint16_t)role->id, (uint16_t)v, sk,
				    rec.public_key, rec.admin_sealed);
			if (r == 0)
				r = meta_recovery_reseal(c->db, rec.id, v, rec.admin_sealed);
		} else if (r == -ENOENT) {
			r = 0;
		}
		if (r < 0)
			goto out;
	}
	role->key_version = v;
	kt_fingerprint_hex(rk.public_key, fp);
	snprintf(detail, sizeof(detail),
		 "role=%s version=%u fingerprint=%s members=%zu rotation=%lld", role->name, v, fp,
		 members, (long long)c->rotation_id);
	r = kt_record(c->db, c->admin->user.name, "role-key-new", detail, META_OUTCOME_OK);
out:
	sodium_memzero(sk, KT_KEY_BYTES);
	kt_secure_free(sk);
	free(grants);
	return r;
}

/* A new version of level's key: level_keys row, into the keyset. */
static int new_level_version(struct start_ctx *c, uint8_t level)
{
	char detail[ROT_DETAIL_MAX + 1], fp[2 * KT_FINGERPRINT_BYTES + 1];
	struct meta_key_version cur, v;
	uint8_t *key;
	int r;

	r = meta_key_version_current(c->db, META_KEY_LEVEL, level, &cur);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	if (cur.version >= KT_SEAL_FIELD_MAX)
		return -EOVERFLOW;
	key = kt_secure_alloc(KT_KEY_BYTES);
	if (!key)
		return -ENOMEM;
	kt_random(key, KT_KEY_BYTES);
	memset(&v, 0, sizeof(v));
	v.kind = META_KEY_LEVEL;
	v.id = level;
	v.version = cur.version + 1;
	v.created_ns = c->now;
	kt_fingerprint(key, v.fingerprint);
	r = meta_key_version_add(c->db, &v);
	if (r == 0)
		r = keyset_add(&c->ks, KT_SEAL_LEVEL, level, v.version, true, key);
	kt_secure_free(key);
	if (r < 0)
		return r;
	sodium_bin2hex(fp, sizeof(fp), v.fingerprint, sizeof(v.fingerprint));
	snprintf(detail, sizeof(detail), "level=%u version=%u fingerprint=%s rotation=%lld", level,
		 v.version, fp, (long long)c->rotation_id);
	return kt_record(c->db, c->admin->user.name, "key-new", detail, META_OUTCOME_OK);
}

/* Files of the rotated levels whose keys are under an older version. */
static int count_stale(struct meta_db *db, const struct keyset *ks, uint32_t levels,
		       uint64_t *ret_total)
{
	uint8_t prefix[KT_WRAPPED_PREFIX_BYTES];
	uint64_t total = 0;

	for (size_t i = 0; i < ks->n; i++) {
		const struct ks_entry *e = &ks->e[i];
		uint64_t n;
		int r;

		if (e->kind != KT_SEAL_LEVEL || e->fresh || !(levels & (1u << e->id)))
			continue;
		kt_file_key_prefix(e->id, e->version, prefix);
		r = meta_file_key_count(db, prefix, sizeof(prefix), 0, &n);
		if (r < 0)
			return r;
		total += n;
	}
	*ret_total = total;
	return 0;
}

/*
 * Inside the caller's administration transaction (kt_admin_begin): rotate
 * the roles role_ids[0..n_ids) (every role if the admin role is one of them)
 * and the levels they hold plus extra_levels; record it as a rotations row.
 */
int kt_rotation_start(struct meta_db *db, struct kt_keyring *admin, const int64_t *role_ids,
		      size_t n_ids, uint32_t extra_levels, const char *reason,
		      int64_t *ret_rotation)
{
	struct start_ctx c = {.db = db, .admin = admin, .now = meta_now_ns()};
	char detail[ROT_DETAIL_MAX + 1], lv[16];
	struct meta_rotation rot;
	uint32_t levels = extra_levels;
	bool all = false;
	int r;

	memcpy(c.admin_pk, admin->admin_pk, KT_KEY_BYTES);
	c.admin_role_id = admin->admin_role_id;
	c.admin_role_version = admin->admin_role_version;
	r = meta_role_list(db, &c.roles, &c.n_roles);
	if (r < 0)
		return r;
	c.rotate = calloc(c.n_roles ? c.n_roles : 1, sizeof(*c.rotate));
	if (!c.rotate) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c.n_roles; i++)
		for (size_t j = 0; j < n_ids; j++)
			if (c.roles[i].id == role_ids[j]) {
				c.rotate[i] = true;
				if (c.roles[i].id == c.admin_role_id)
					all = true;
			}
	for (size_t i = 0; i < c.n_roles; i++) {
		if (all)
			c.rotate[i] = true;
		if (c.rotate[i])
			levels |= c.roles[i].levels;
	}
	if (all)
		levels = KT_ALL_LEVELS;

	memset(&rot, 0, sizeof(rot));
	rot.kind = META_ROTATION_REWRAP;
	snprintf(rot.reason, sizeof(rot.reason), "%s", reason);
	snprintf(rot.started_by, sizeof(rot.started_by), "%s", admin->user.name);
	rot.levels = levels;
	rot.started_ns = c.now;
	r = meta_rotation_add(db, &rot);
	if (r < 0)
		goto out;
	c.rotation_id = rot.id;

	r = keyset_from_custody(admin, &c.ks);
	for (uint8_t l = 0; r == 0 && l < META_LEVELS; l++)
		if (levels & (1u << l))
			r = new_level_version(&c, l);
	if (r < 0)
		goto out;

	/* the admin role first: the others' custody seals go to its new key */
	for (size_t i = 0; i < c.n_roles && r == 0; i++)
		if (c.rotate[i] && c.roles[i].id == c.admin_role_id)
			r = rotate_role(&c, &c.roles[i]);
	for (size_t i = 0; i < c.n_roles && r == 0; i++)
		if (c.rotate[i] && c.roles[i].id != c.admin_role_id)
			r = rotate_role(&c, &c.roles[i]);
	if (r < 0)
		goto out;

	/* the new level versions to the roles that keep their key, and custody */
	for (size_t i = 0; i < c.n_roles; i++) {
		const struct meta_role *ro = &c.roles[i];
		bool is_admin = ro->id == c.admin_role_id;
		struct meta_role_key rk;

		if (c.rotate[i] || (!is_admin && !(ro->levels & levels)))
			continue;
		r = meta_role_key_get(db, ro->id, ro->key_version, &rk);
		if (r < 0)
			goto out;
		for (size_t k = 0; k < c.ks.n; k++) {
			const struct ks_entry *e = &c.ks.e[k];

			if (!e->fresh || (!is_admin && !(ro->levels & (1u << e->id))))
				continue;
			r = seal_entry(db, e, ro->id, ro->key_version, rk.public_key);
			if (r < 0)
				goto out;
		}
	}

	r = count_stale(db, &c.ks, levels, &rot.total);
	if (r < 0)
		goto out;
	if (levels == 0) {
		rot.done = true;
		rot.finished_ns = c.now;
	}
	r = meta_rotation_update(db, &rot);
	if (r == 0)
		r = kt_epoch_bump(db, NULL);
	if (r < 0)
		goto out;
	kt_format_levels(levels, lv, sizeof(lv));
	/* the reason last: cut if long, the numbers stay */
	snprintf(detail, sizeof(detail), "rotation=%lld levels=%s files=%llu started: %.*s",
		 (long long)rot.id, lv, (unsigned long long)rot.total, 160, reason);
	r = kt_record(db, admin->user.name, "rotate", detail, META_OUTCOME_OK);
	if (r == 0 && ret_rotation)
		*ret_rotation = rot.id;
out:
	keyset_free(&c.ks);
	free(c.rotate);
	free(c.roles);
	return r;
}

/* After a rotation started: the administrator's keyring picks up the new
 * versions (or, if they revoked themselves, loses everything). */
static void refresh_after(struct meta_db *db, struct kt_keyring *admin)
{
	(void)kt_keyring_refresh(db, admin);
}

int kt_rotate_levels(struct meta_db *db, struct kt_keyring *admin, uint32_t levels,
		     const char *reason)
{
	char detail[META_DETAIL_MAX + 1], lv[16];
	int64_t rotation = 0;
	int r;

	if (!db || !admin || !levels || (levels & ~KT_ALL_LEVELS))
		return -EINVAL;
	kt_format_levels(levels, lv, sizeof(lv));
	snprintf(detail, sizeof(detail), "levels=%s", lv);
	r = kt_admin_begin(db, admin, "rotate-levels", detail);
	if (r < 0)
		return r;
	r = kt_rotation_start(db, admin, NULL, 0, levels, reason && *reason ? reason : detail,
			      &rotation);
	if (r == 0)
		snprintf(detail, sizeof(detail), "levels=%s rotation=%lld", lv,
			 (long long)rotation);
	r = kt_admin_end(db, admin, "rotate-levels", detail, r);
	if (r == 0)
		refresh_after(db, admin);
	return r;
}

int kt_rotation_pending(struct meta_db *db, size_t *ret_n)
{
	struct meta_rotation *rots = NULL;
	size_t n = 0;
	int r;

	if (!db || !ret_n)
		return -EINVAL;
	r = meta_rotation_list(db, true, &rots, &n);
	free(rots);
	if (r == 0)
		*ret_n = n;
	return r;
}

/* ---- re-wrapping ------------------------------------------------------ */

int kt_current_keys(struct meta_db *db, const struct kt_keyring *admin, uint32_t levels,
		    struct kt_current_keys *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (uint8_t l = 0; l < META_LEVELS; l++) {
		struct meta_key_version v;
		int r;

		if (!(levels & (1u << l)))
			continue;
		r = meta_key_version_current(db, META_KEY_LEVEL, l, &v);
		if (r < 0)
			return r == -ENOENT ? -EIO : r;
		ret->version[l] = v.version;
		ret->key[l] = kt_custody_key(admin, KT_SEAL_LEVEL, l, v.version);
		if (!ret->key[l])
			return -ENOKEY;
	}
	return 0;
}

/*
 * Re-wrap one file key under the current version of its level, if it is of
 * a level in `levels` and under another version. 1 re-wrapped, 0 nothing to
 * do, -EBADMSG it does not open (recorded), -ESTALE the row changed meanwhile.
 */
static int rewrap_one(struct meta_db *db, const struct kt_keyring *admin,
		      const struct kt_current_keys *cur, uint32_t levels,
		      const struct meta_file_key *f, int64_t rotation_id)
{
	char detail[META_DETAIL_MAX + 1];
	uint8_t wrapped[KT_WRAPPED_KEY_BYTES];
	const uint8_t *old_key;
	_cleanup_(kt_secure_freep) uint8_t *file_key = NULL;
	uint32_t version;
	uint8_t level;
	int r;

	r = kt_file_key_info(f->file_key, &level, &version);
	if (r == 0 && (!(levels & (1u << level)) || version == cur->version[level]))
		return 0;
	file_key = kt_secure_alloc(KT_KEY_BYTES);
	if (!file_key)
		return -ENOMEM;
	old_key = r == 0 ? kt_custody_key(admin, KT_SEAL_LEVEL, level, version) : NULL;
	if (!old_key || kt_file_key_unwrap(old_key, f->object_id, f->file_key, file_key) < 0) {
		snprintf(detail, sizeof(detail),
			 "rotation=%lld: the file key does not open (level %u version %u): "
			 "left under its old key version",
			 (long long)rotation_id, r == 0 ? level : f->level, r == 0 ? version : 0);
		r = kt_record_file(db, admin->user.name, "rotate", f->ino, f->level, detail,
				   -EBADMSG);
		return r < 0 ? r : -EBADMSG;
	}
	r = kt_file_key_wrap(cur->key[level], level, cur->version[level], f->object_id, file_key,
			     wrapped);
	if (r == 0)
		r = meta_file_key_swap(db, f->ino, f->object_id, f->file_key, f->object_id,
				       wrapped);
	if (r == 0)
		r = 1;
	return r;
}

/* One batch of a rotation's pass: files after the cursor. *ret_end: the pass
 * is over; *failed grows by the file keys that did not open. */
static int rewrap_batch(struct meta_db *db, struct kt_keyring *admin, struct meta_rotation *rot,
			size_t batch, bool *ret_end, uint64_t *failed_total,
			struct kt_rotation_result *res)
{
	struct meta_file_key *files = NULL;
	struct kt_current_keys cur;
	uint64_t done = 0, failed = 0;
	size_t n = 0;
	int r;

	r = kt_admin_begin(db, admin, "rotate", "re-wrap");
	if (r < 0)
		return r;
	r = meta_rotation_get(db, rot->id, rot); /* another process may have moved it on */
	if (r == 0 && rot->done) {
		*ret_end = true;
		meta_tx_rollback(db);
		return 0;
	}
	if (r == 0)
		r = kt_current_keys(db, admin, rot->levels, &cur);
	if (r == 0)
		r = meta_file_key_list(db, NULL, 0, rot->levels, rot->cursor, batch, &files, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = rewrap_one(db, admin, &cur, rot->levels, &files[i], rot->id);
		if (r == 1)
			done++;
		else if (r == -EBADMSG)
			failed++;
		/* -ESTALE: changed under us; the final step re-checks it */
		if (r == 1 || r == -EBADMSG || r == -ESTALE)
			r = 0;
	}
	if (r == 0) {
		if (n)
			rot->cursor = files[n - 1].ino;
		rot->done_count += done;
		rot->failed += failed;
		r = meta_rotation_update(db, rot);
	}
	r = meta_tx_end(db, r);
	free(files);
	if (r == 0) {
		*ret_end = n < batch;
		res->files += done;
		*failed_total += failed;
	}
	return r;
}

/*
 * The final step, in one transaction: re-wrap every file key still under an
 * old version of the rotated levels, destroy the versions no file uses any
 * more, and close the rotation. -EBADMSG if some file keys do not open (their
 * versions are kept and the rotation stays open).
 */
static int rewrap_finish(struct meta_db *db, struct kt_keyring *admin, struct meta_rotation *rot,
			 size_t batch, uint64_t *ret_failed, struct kt_rotation_result *res)
{
	char detail[META_DETAIL_MAX + 1];
	uint8_t prefix[KT_WRAPPED_PREFIX_BYTES];
	struct kt_current_keys cur;
	struct keyset old = {0};
	uint64_t done = 0, failed = 0, destroyed = 0;
	int r;

	r = kt_admin_begin(db, admin, "rotate", "finish");
	if (r < 0)
		return r;
	r = meta_rotation_get(db, rot->id, rot);
	if (r == 0 && rot->done) {
		meta_tx_rollback(db);
		return 0;
	}
	if (r == 0)
		r = kt_current_keys(db, admin, rot->levels, &cur);
	if (r == 0)
		r = keyset_from_custody(admin, &old);
	for (size_t i = 0; r == 0 && i < old.n; i++) {
		const struct ks_entry *e = &old.e[i];
		uint64_t after = 0, kept = 0;

		if (e->kind != KT_SEAL_LEVEL || !(rot->levels & (1u << e->id)) ||
		    e->version >= cur.version[e->id])
			continue;
		kt_file_key_prefix(e->id, e->version, prefix);
		for (;;) {
			struct meta_file_key *files = NULL;
			size_t n = 0;

			r = meta_file_key_list(db, prefix, sizeof(prefix), 0, after, batch, &files,
					       &n);
			for (size_t k = 0; r == 0 && k < n; k++) {
				/* any level: the wrapped key's own level is what counts */
				r = rewrap_one(db, admin, &cur, KT_ALL_LEVELS, &files[k], rot->id);
				if (r == 1)
					done++;
				else if (r == -EBADMSG || r == -ESTALE)
					kept++;
				if (r == 1 || r == -EBADMSG || r == -ESTALE)
					r = 0;
			}
			if (n)
				after = files[n - 1].ino;
			free(files);
			if (r < 0 || n < batch)
				break;
		}
		if (r < 0)
			break;
		if (kept) {
			failed += kept;
			continue;
		}
		r = meta_key_seal_remove_key(db, META_KEY_LEVEL, e->id, e->version);
		if (r == -ENOENT)
			r = 0;
		if (r < 0)
			break;
		destroyed++;
		snprintf(detail, sizeof(detail), "level=%u version=%u rotation=%lld", e->id,
			 e->version, (long long)rot->id);
		r = kt_record(db, admin->user.name, "key-destroy", detail, META_OUTCOME_OK);
	}
	if (r == 0) {
		rot->done_count += done;
		if (failed) {
			snprintf(detail, sizeof(detail),
				 "rotation=%lld: %llu file keys do not open; the key versions they "
				 "use are kept",
				 (long long)rot->id, (unsigned long long)failed);
			r = kt_record(db, admin->user.name, "rotate", detail, -EBADMSG);
		} else {
			rot->done = true;
			rot->finished_ns = meta_now_ns();
			snprintf(detail, sizeof(detail),
				 "rotation=%lld done: %llu file keys re-wrapped, %llu key versions "
				 "destroyed",
				 (long long)rot->id, (unsigned long long)rot->done_count,
				 (unsigned long long)destroyed);
			r = kt_record(db, admin->user.name, "rotate", detail, META_OUTCOME_OK);
		}
	}
	if (r == 0)
		r = meta_rotation_update(db, rot);
	if (r == 0 && destroyed)
		r = kt_epoch_bump(db, NULL);
	r = meta_tx_end(db, r);
	keyset_free(&old);
	if (r < 0)
		return r;
	res->files += done;
	res->destroyed += destroyed;
	*ret_failed = failed;
	if (rot->done)
		res->rotations++;
	if (destroyed)
		refresh_after(db, admin);
	return failed ? -EBADMSG : 0;
}

int kt_rotation_run(struct meta_db *db, struct kt_keyring *admin,
		    const struct kt_rotation_options *opt, struct kt_rotation_result *ret)
{
	struct kt_rotation_options o = {0};
	struct kt_rotation_result res = {0};
	struct meta_rotation *rots = NULL;
	size_t n = 0, batches = 0;
	bool damaged = false;
	int r;

	if (!db || !admin)
		return -EINVAL;
	if (opt)
		o = *opt;
	if (!o.batch)
		o.batch = KT_ROTATION_BATCH;
	r = meta_rotation_list(db, true, &rots, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct meta_rotation *rot = &rots[i];
		uint64_t failed = 0, kept = 0;
		bool end = false;

		if (rot->kind != META_ROTATION_REWRAP)
			continue;
		while (r == 0 && !end) {
			if (o.max_batches && batches >= o.max_batches) {
				r = -EINTR;
				break;
			}
			r = rewrap_batch(db, admin, rot, o.batch, &end, &failed, &res);
			batches++;
			if (r == 0 && o.progress)
				o.progress(o.progress_ctx, "re-wrapped", rot->done_count,
					   rot->total);
		}
		if (r == 0) {
			r = rewrap_finish(db, admin, rot, o.batch, &kept, &res);
			if (r == -EBADMSG)
				r = 0;
			/* a key under a version already destroyed (or not in custody)
			 * fails in the pass only; one under a kept version in both */
			res.failed += kept > failed ? kept : failed;
			if (kept || failed)
				damaged = true;
		}
	}
	free(rots);
	if (ret) {
		ret->rotations += res.rotations;
		ret->files += res.files;
		ret->failed += res.failed;
		ret->destroyed += res.destroyed;
	}
	if (r == 0 && damaged)
		r = -EBADMSG;
	return r;
}
