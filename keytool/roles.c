/*
 * keytool/roles.c — roles and grants: a new role (its key pair, the custody
 * keys of its levels sealed to it) and granting a role to a user (the role
 * secret sealed to the user's key).
 */
#include "keytool/keystore.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/records.h"
#include "meta/roles.h"
#include "meta/users.h"

#define ROLE_FLAGS_SETTABLE                                                                        \
	(META_ROLE_READ_ONLY | META_ROLE_DECLASSIFY | META_ROLE_AUDITOR | META_ROLE_EXPIRING)

/* "read-only,declassify" / "none" for a detail line. */
static void format_flags(uint32_t flags, char *buf, size_t size)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {
	    {META_ROLE_READ_ONLY, "read-only"},	  {META_ROLE_ADMIN, "admin"},
	    {META_ROLE_DECLASSIFY, "declassify"}, {META_ROLE_AUDITOR, "auditor"},
	    {META_ROLE_EXPIRING, "expiring"},
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && o < size; i++)
		if (flags & names[i].flag)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "," : "",
					      names[i].name);
	if (o == 0)
		snprintf(buf, size, "%s", flags ? "?" : "none");
}

/* Seal every custody key a role with these levels must hold to role_pk. */
static int seal_role_keys(struct meta_db *db, const struct kt_keyring *admin, int64_t role_id,
			  uint32_t role_version, uint32_t levels,
			  const uint8_t role_pk[KT_KEY_BYTES])
{
	uint32_t sealed_levels = 0;
	bool sealed_meta = false;
	int r;

	for (size_t i = 0; i < admin->n_keys; i++) {
		const struct kt_key_entry *e = &admin->keys[i];
		struct meta_key_seal s;

		if (!e->custody)
			continue;
		if (e->kind == KT_SEAL_LEVEL && !(levels & (1u << e->level)))
			continue;
		if (e->kind == KT_SEAL_ADMIN_SIGN)
			continue; /* the admin role's alone */
		if (e->version > KT_SEAL_FIELD_MAX)
			return -EOVERFLOW;
		memset(&s, 0, sizeof(s));
		s.kind = e->kind;
		s.id = e->level;
		s.version = e->version;
		s.role_id = role_id;
		s.role_version = role_version;
		r = kt_seal((enum kt_seal_kind)e->kind, e->level, (uint16_t)e->version, e->key,
			    role_pk, s.sealed);
		if (r == 0)
			r = meta_key_seal_add(db, &s);
		if (r < 0)
			return r;
		if (e->kind == KT_SEAL_LEVEL)
			sealed_levels |= 1u << e->level;
		else if (e->kind == KT_SEAL_METADATA)
			sealed_meta = true;
	}
	/* custody must cover every level of the role, and the metadata key */
	return sealed_levels == levels && sealed_meta ? 0 : -ENOKEY;
}

int kt_role_add(struct meta_db *db, struct kt_keyring *admin, const char *name, uint32_t levels,
		uint32_t flags)
{
	char detail[META_DETAIL_MAX + 1], lv[16], fl[64];
	struct meta_role_key rk;
	struct meta_role role;
	_cleanup_(kt_secure_freep) uint8_t *sk = NULL;
	int r;

	if (!db || !admin || !name)
		return -EINVAL;
	kt_format_levels(levels, lv, sizeof(lv));
	format_flags(flags, fl, sizeof(fl));
	snprintf(detail, sizeof(detail), "role=%s levels=%s flags=%s", name, lv, fl);
	if (!admin->admin)
		return kt_deny(db, admin, "role-add", detail);
	if (!kt_name_valid(name) || (levels & ~KT_ALL_LEVELS) || (flags & ~ROLE_FLAGS_SETTABLE))
		return -EINVAL;
	sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;

	r = kt_admin_begin(db, admin, "role-add", detail);
	if (r < 0)
		return r;
	memset(&role, 0, sizeof(role));
	snprintf(role.name, sizeof(role.name), "%s", name);
	role.levels = levels;
	role.flags = flags;
	role.key_version = 1;
	role.created_ns = meta_now_ns();
	r = meta_role_add(db, &role);
	if (r == 0 && role.id > (int64_t)KT_SEAL_FIELD_MAX)
		r = -EOVERFLOW;
	if (r == 0) {
		memset(&rk, 0, sizeof(rk));
		rk.role_id = role.id;
		rk.version = role.key_version;
		rk.created_ns = role.created_ns;
		rk.has_custody = true;
		kt_keypair(rk.public_key, sk);
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)role.id, (uint16_t)role.key_version, sk,
			    admin->admin_pk, rk.custody_sealed);
		sodium_memzero(sk, KT_KEY_BYTES);
	}
	if (r == 0)
		r = meta_role_key_add(db, &rk);
	if (r == 0)
		r = seal_role_keys(db, admin, role.id, role.key_version, levels, rk.public_key);
	return kt_admin_end(db, admin, "role-add", detail, r);
}

int kt_grant(struct meta_db *db, struct kt_keyring *admin, const char *user, const char *role_name,
	     int64_t expires_ns)
{
	char detail[META_DETAIL_MAX + 1], when[40];
	struct meta_grant g;
	struct meta_user u;
	struct meta_role role;
	_cleanup_(kt_secure_freep) uint8_t *sk = NULL;
	int64_t epoch = 0;
	int r;

	if (!db || !admin || !user || !role_name)
		return -EINVAL;
	if (expires_ns) {
		kt_format_utc(expires_ns, when, sizeof(when));
		snprintf(detail, sizeof(detail), "user=%s role=%s expires=%s", user, role_name,
			 when);
	} else {
		snprintf(detail, sizeof(detail), "user=%s role=%s", user, role_name);
	}
	if (!admin->admin)
		return kt_deny(db, admin, "grant", detail);
	if (expires_ns < 0)
		return -EINVAL;
	sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;

	r = kt_admin_begin(db, admin, "grant", detail);
	if (r < 0)
		return r;
	r = meta_user_get_by_name(db, user, &u);
	if (r == 0)
		r = meta_role_get_by_name(db, role_name, &role);
	if (r == 0 && u.disabled)
		r = -EPERM; /* removed: grants would only be sealed to a dead key */
	if (r == 0 && (((role.flags & META_ROLE_EXPIRING) && expires_ns == 0) ||
		       (expires_ns != 0 && expires_ns <= meta_now_ns())))
		r = -EINVAL;
	if (r == 0)
		r = kt_role_secret(db, admin, &role, sk);
	if (r == 0) {
		/* the record says which role key version was sealed to them */
		if (expires_ns)
			snprintf(detail, sizeof(detail), "user=%s role=%s version=%u expires=%s",
				 user, role_name, role.key_version, when);
		else
			snprintf(detail, sizeof(detail), "user=%s role=%s version=%u", user,
				 role_name, role.key_version);
		memset(&g, 0, sizeof(g));
		g.user_id = u.id;
		g.role_id = role.id;
		g.role_version = role.key_version;
		g.granted_by = admin->user.id;
		g.granted_at_ns = meta_now_ns();
		g.expires_ns = expires_ns;
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)role.id, (uint16_t)role.key_version, sk,
			    u.public_key, g.sealed);
		sodium_memzero(sk, KT_KEY_BYTES);
	}
	if (r == 0)
		r = meta_grant_add(db, &g);
	if (r == 0)
		r = kt_epoch_bump(db, &epoch);
	r = kt_admin_end(db, admin, "grant", detail, r);
	/* only the grantee's keys changed: the administrator's keyring is current */
	if (r == 0 && u.id != admin->user.id)
		admin->epoch = epoch;
	return r;
}
