/*
 * keytool/revoke.c — taking grants away: revoking a role from a user,
 * removing a user, expiring grants. Each starts a rotation (rotation.c) in
 * the same transaction, so what was revoked unlocks nothing new.
 */
#include "keytool/rotation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/internal.h"
#include "meta/grants.h"
#include "meta/records.h"
#include "meta/roles.h"
#include "meta/rotations.h"
#include "meta/users.h"

int kt_revoke(struct meta_db *db, struct kt_keyring *admin, const char *user, const char *role_name)
{
	char detail[META_DETAIL_MAX + 1], reason[META_REASON_MAX + 1];
	struct meta_user u;
	struct meta_role role;
	int64_t rotation = 0;
	bool others = true;
	int r;

	if (!db || !admin || !user || !role_name)
		return -EINVAL;
	snprintf(detail, sizeof(detail), "user=%s role=%s", user, role_name);
	r = kt_admin_begin(db, admin, "revoke", detail);
	if (r < 0)
		return r;
	r = meta_user_get_by_name(db, user, &u);
	if (r == 0)
		r = meta_role_get_by_name(db, role_name, &role);
	if (r == 0 && (role.flags & META_ROLE_ADMIN))
		r = kt_other_admin_exists(db, role.id, u.id, &others);
	if (r == 0)
		r = meta_grant_remove(db, u.id, role.id);
	/* only a grant that existed can be the last administrator's */
	if (r == 0 && !others)
		r = -EPERM;
	if (r == 0) {
		snprintf(reason, sizeof(reason), "revoke user=%s role=%s", user, role_name);
		r = kt_rotation_start(db, admin, &role.id, 1, 0, reason, &rotation);
	}
	if (r == 0)
		snprintf(detail, sizeof(detail), "user=%s role=%s rotation=%lld", user, role_name,
			 (long long)rotation);
	r = kt_admin_end(db, admin, "revoke", detail, r);
	if (r == 0)
		(void)kt_keyring_refresh(db, admin); /* picks up the new versions */
	return r;
}

int kt_user_remove(struct meta_db *db, struct kt_keyring *admin, const char *user)
{
	char detail[META_DETAIL_MAX + 1], reason[META_REASON_MAX + 1];
	struct meta_grant *grants = NULL;
	int64_t *role_ids = NULL, rotation = 0, now = meta_now_ns();
	struct meta_role admin_role;
	struct meta_user u;
	size_t n = 0, n_ids = 0;
	bool admin_grant = false, others = true;
	int r;

	if (!db || !admin || !user)
		return -EINVAL;
	snprintf(detail, sizeof(detail), "user=%s", user);
	r = kt_admin_begin(db, admin, "user-remove", detail);
	if (r < 0)
		return r;
	r = meta_user_get_by_name(db, user, &u);
	if (r == 0 && u.disabled)
		r = -EALREADY;
	if (r == 0)
		r = meta_grant_list_user(db, u.id, &grants, &n);
	if (r == 0 && n) {
		role_ids = calloc(n, sizeof(*role_ids));
		if (!role_ids)
			r = -ENOMEM;
	}
	if (r == 0)
		r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &admin_role);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < n_ids; j++)
			seen |= role_ids[j] == grants[i].role_id;
		if (seen)
			continue;
		role_ids[n_ids++] = grants[i].role_id;
		if (grants[i].role_id == admin_role.id &&
		    (grants[i].expires_ns == 0 || grants[i].expires_ns > now))
			admin_grant = true;
	}
	if (r == 0 && admin_grant)
		r = kt_other_admin_exists(db, admin_role.id, u.id, &others);
	if (r == 0 && !others)
		r = -EPERM;
	for (size_t j = 0; r == 0 && j < n_ids; j++)
		r = meta_grant_remove(db, u.id, role_ids[j]);
	if (r == 0)
		r = meta_user_set_disabled(db, u.id, true);
	if (r == 0 && n_ids) {
		snprintf(reason, sizeof(reason), "user-remove user=%s", user);
		r = kt_rotation_start(db, admin, role_ids, n_ids, 0, reason, &rotation);
		if (r == 0)
			snprintf(detail, sizeof(detail), "user=%s roles=%zu rotation=%lld", user,
				 n_ids, (long long)rotation);
	} else if (r == 0) {
		r = kt_epoch_bump(db, NULL); /* a mount of theirs drops its keys */
	}
	r = kt_admin_end(db, admin, "user-remove", detail, r);
	if (r == 0)
		(void)kt_keyring_refresh(db, admin);
	free(role_ids);
	free(grants);
	return r;
}

int kt_expire(struct meta_db *db, struct kt_keyring *admin, int64_t now_ns, size_t *ret_expired)
{
	char detail[META_DETAIL_MAX + 1], reason[META_REASON_MAX + 1], when[40];
	struct meta_grant *grants = NULL;
	int64_t *role_ids = NULL, rotation = 0;
	size_t n = 0, n_ids = 0, expired = 0;
	int r;

	if (!db || !admin)
		return -EINVAL;
	r = kt_admin_begin(db, admin, "grant-expire", "");
	if (r < 0)
		return r;
	r = meta_grant_list_all(db, &grants, &n);
	if (r == 0 && n) {
		role_ids = calloc(n, sizeof(*role_ids));
		if (!role_ids)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct meta_grant *g = &grants[i];
		bool seen = false;

		if (!g->expires_ns || g->expires_ns > now_ns)
			continue;
		r = meta_grant_remove(db, g->user_id, g->role_id);
		if (r == -ENOENT) { /* an older version of a grant removed just before */
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		kt_format_utc(g->expires_ns, when, sizeof(when));
		snprintf(detail, sizeof(detail), "user=%s role=%s expired=%s", g->user_name,
			 g->role_name, when);
		r = kt_record(db, admin->user.name, "grant-expire", detail, META_OUTCOME_OK);
		expired++;
		for (size_t j = 0; j < n_ids; j++)
			seen |= role_ids[j] == g->role_id;
		if (!seen)
			role_ids[n_ids++] = g->role_id;
	}
	if (r == 0 && expired) {
		snprintf(reason, sizeof(reason), "expire grants=%zu", expired);
		r = kt_rotation_start(db, admin, role_ids, n_ids, 0, reason, &rotation);
	}
	if (r == 0 && expired) {
		snprintf(detail, sizeof(detail), "expired=%zu rotation=%lld", expired,
			 (long long)rotation);
		r = kt_admin_end(db, admin, "grant-expire", detail, r);
		if (r == 0)
			(void)kt_keyring_refresh(db, admin);
	} else {
		meta_tx_rollback(db); /* nothing to do: no record, no change */
	}
	free(role_ids);
	free(grants);
	if (r == 0 && ret_expired)
		*ret_expired = expired;
	return r;
}
