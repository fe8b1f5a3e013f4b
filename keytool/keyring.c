/*
 * keytool/keyring.c — unlocking a user's keys into a keyring, the keyring's
 * accessors, and refreshing it when the vault's keys change (the key epoch).
 *
 * Each role has an X25519 key pair per version (role_keys). A role secret is
 * sealed to each member (grants) and, for every role but the admin role, to
 * the admin role's public key (role_keys.custody_sealed). Level keys and
 * metadata keys are sealed (key_seals) to every role holding them: level L to
 * the roles whose `levels` has bit L, the metadata key to every role, and all
 * of them to the admin role, which holds them in custody so an administrator
 * can seal them to new roles without anyone's passphrase.
 *
 * Unlocking opens the user secret with the passphrase, each unexpired grant's
 * role secret, and every key sealed to those role versions. A key is kept
 * only if its seal opens with exactly the expected (kind, id, version) and
 * its fingerprint matches the level_keys/meta_keys row; anything else is an
 * integrity incident: recorded, that key (or role) refused, the rest kept.
 * Custody is not clearance: the admin role's level keys are usable only for
 * sealing (kt_keyring_custody_key), never returned by kt_keyring_level_key.
 *
 * A keyring keeps the user's secret key (secure memory) so it can be
 * refreshed without the passphrase when the vault's key epoch moves (a grant,
 * a revocation, new or destroyed key versions); administration functions
 * refresh an administrator's stale keyring themselves before acting.
 */
#include "keytool/keyring.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/records.h"
#include "meta/roles.h"
#include "meta/rowsig.h"
#include "meta/users.h"
#include "keytool/signing.h"

_Static_assert(META_PUBKEY_BYTES == KT_KEY_BYTES, "public keys");
_Static_assert(META_SEALED_BYTES == KT_SEALED_BYTES, "sealed keys (§4)");
_Static_assert(META_USER_SECRET_BYTES == KT_USER_SECRET_BYTES, "user secrets (§3)");
_Static_assert(META_FINGERPRINT_BYTES == KT_FINGERPRINT_BYTES, "fingerprints (§8)");
_Static_assert(META_KEY_LEVEL == KT_SEAL_LEVEL && META_KEY_METADATA == KT_SEAL_METADATA &&
		   META_KEY_CHECKPOINT == KT_SEAL_CHECKPOINT &&
		   META_KEY_ADMIN_SIGN == KT_SEAL_ADMIN_SIGN,
	       "key_seals.kind is the §4 kind");
_Static_assert(META_LEVELS == 4, "levels 0..3");

/* ---- keyrings -------------------------------------------------------- */

struct kt_keyring *kt_keyring_free(struct kt_keyring *kr)
{
	if (!kr)
		return NULL;
	kt_secure_free(kr->keys);
	kt_secure_free(kr->admin_sk);
	kt_secure_free(kr->user_sk);
	kt_meta_keys_free(kr->meta);
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
	return NULL;
}

/* Drop every key of kr (its user lost them all): it unlocks nothing more. */
static void keyring_drop(struct kt_keyring *kr)
{
	kt_secure_free(kr->keys);
	kt_secure_free(kr->admin_sk);
	kt_secure_free(kr->user_sk);
	kt_meta_keys_free(kr->meta);
	kr->keys = NULL;
	kr->n_keys = kr->cap_keys = 0;
	kr->admin_sk = kr->user_sk = NULL;
	kr->meta = NULL;
	kr->admin = false;
	kr->flags = kr->readable = kr->writable = 0;
	kr->next_expiry = 0;
}

static struct kt_key_entry *keyring_find(const struct kt_keyring *kr, uint8_t kind, uint8_t level,
					 uint32_t version)
{
	for (size_t i = 0; i < kr->n_keys; i++) {
		struct kt_key_entry *e = &kr->keys[i];

		if (e->kind == kind && e->level == level && e->version == version)
			return e;
	}
	return NULL;
}

/* Add a key (or widen the rights of the same key already held). */
static int keyring_put(struct kt_keyring *kr, uint8_t kind, uint8_t level, uint32_t version,
		       const uint8_t key[KT_KEY_BYTES], bool clearance, bool custody)
{
	struct kt_key_entry *e = keyring_find(kr, kind, level, version);

	if (e) {
		/* both copies passed the fingerprint check: the same key */
		e->clearance |= clearance;
		e->custody |= custody;
		return 0;
	}
	if (kr->n_keys == kr->cap_keys) {
		size_t cap = kr->cap_keys ? kr->cap_keys * 2 : 8;
		struct kt_key_entry *keys = kt_secure_allocarray(cap, sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		if (kr->n_keys)
			memcpy(keys, kr->keys, kr->n_keys * sizeof(*keys));
		kt_secure_free(kr->keys);
		kr->keys = keys;
		kr->cap_keys = cap;
	}
	e = &kr->keys[kr->n_keys++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->level = level;
	e->version = version;
	e->clearance = clearance;
	e->custody = custody;
	memcpy(e->key, key, KT_KEY_BYTES);
	return 0;
}

const struct meta_user *kt_keyring_user(const struct kt_keyring *kr)
{
	return &kr->user;
}

uint32_t kt_keyring_flags(const struct kt_keyring *kr)
{
	return kr->flags;
}

uint32_t kt_keyring_readable(const struct kt_keyring *kr)
{
	return kr->readable;
}

uint32_t kt_keyring_writable(const struct kt_keyring *kr)
{
	return kr->writable;
}

int kt_keyring_level_key(const struct kt_keyring *kr, uint8_t level, uint32_t version,
			 const uint8_t **ret_key)
{
	const struct kt_key_entry *e = keyring_find(kr, KT_SEAL_LEVEL, level, version);

	if (!e || !e->clearance)
		return -ENOKEY;
	*ret_key = e->key;
	return 0;
}

void kt_keyring_forget_level(struct kt_keyring *kr, uint8_t level)
{
	for (size_t i = 0; i < kr->n_keys; i++) {
		struct kt_key_entry *e = &kr->keys[i];

		if (e->kind != KT_SEAL_LEVEL || e->level != level || !e->clearance)
			continue;
		e->clearance = false;
		if (!e->custody)
			sodium_memzero(e->key, sizeof(e->key));
	}
	if (level < META_LEVELS) {
		kr->readable &= ~(1u << level);
		kr->writable &= ~(1u << level);
	}
}

int kt_keyring_level_current(const struct kt_keyring *kr, uint8_t level, uint32_t *ret_version,
			     const uint8_t **ret_key)
{
	const struct kt_key_entry *best = NULL;

	for (size_t i = 0; i < kr->n_keys; i++) {
		const struct kt_key_entry *e = &kr->keys[i];

		if (e->kind == KT_SEAL_LEVEL && e->level == level && e->clearance &&
		    (!best || e->version > best->version))
			best = e;
	}
	if (!best)
		return -ENOKEY;
	*ret_version = best->version;
	*ret_key = best->key;
	return 0;
}

const struct kt_meta_keys *kt_keyring_meta(const struct kt_keyring *kr)
{
	return kr->meta;
}

int64_t kt_keyring_next_expiry(const struct kt_keyring *kr)
{
	return kr->next_expiry;
}

int64_t kt_keyring_epoch(const struct kt_keyring *kr)
{
	return kr->epoch;
}

int kt_keyring_custody_key(const struct kt_keyring *kr, uint8_t level, uint32_t version,
			   const uint8_t **ret_key)
{
	const struct kt_key_entry *e = keyring_find(kr, KT_SEAL_LEVEL, level, version);

	if (!kr->admin || !e || !e->custody)
		return -ENOKEY;
	*ret_key = e->key;
	return 0;
}

int kt_keyring_sign_seed(const struct kt_keyring *kr, int kind, uint32_t *ret_version,
			 const uint8_t **ret_seed)
{
	const struct kt_key_entry *best = NULL;

	if (kind != KT_SEAL_CHECKPOINT && kind != KT_SEAL_ADMIN_SIGN)
		return -EINVAL;
	for (size_t i = 0; i < kr->n_keys; i++) {
		const struct kt_key_entry *e = &kr->keys[i];

		if (e->kind == kind && (e->clearance || e->custody) &&
		    (!best || e->version > best->version))
			best = e;
	}
	if (!best)
		return -ENOKEY;
	*ret_version = best->version;
	*ret_seed = best->key;
	return 0;
}

/* ---- unlocking ------------------------------------------------------- */

/* What unlocking needs besides the keyring. */
struct unlock_ctx {
	struct meta_db *db;
	struct kt_keyring *kr;
	const uint8_t *user_sk;		   /* the opened user secret */
	struct meta_key_version *versions; /* level_keys and meta_keys rows */
	size_t n_versions;
	struct meta_sign_key *signs; /* sign_keys rows */
	size_t n_signs;
	bool have_admin_role;
	struct meta_role admin_role;
	int64_t now;
	const uint8_t *row_pk; /* the administration key rows are checked with, or NULL */
	bool strict;	       /* row_pk authenticated (§3 v2): unsigned rows refused too */
};

/* An integrity incident met while unlocking: recorded (best effort: the
 * database may be read-only), never fatal for the other keys. */
static void unlock_incident(struct unlock_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void unlock_incident(struct unlock_ctx *c, const char *fmt, ...)
{
	char detail[META_DETAIL_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	(void)kt_record(c->db, c->kr->user.name, "unlock", detail, -EBADMSG);
}

/*
 * The row behind a decision carries the administration key's signature
 * (§13). Strict (a version 2 user secret authenticated row_pk): a missing or
 * bad signature refuses the row. Legacy: a bad signature refuses it, a
 * missing one is tolerated. Refusals are incidents naming what.
 */
static bool row_ok(struct unlock_ctx *c, int table, int64_t k0, int64_t k1, int64_t k2, int64_t k3,
		   int64_t k4, const char *what)
{
	struct meta_row_ref ref = {.table = table, .key = {k0, k1, k2, k3, k4}};
	int r = c->row_pk ? kt_row_verify(c->db, c->row_pk, &ref) : -ENODATA;

	if (r == 0 || (r == -ENODATA && !c->strict))
		return true;
	unlock_incident(c, "%s refused: %s signature of its %s row", what,
			r == -ENODATA ? "missing" : "bad", meta_row_table_name(table));
	return false;
}

/* The key's fingerprint matches its level_keys / meta_keys row. */
static bool fingerprint_ok(const struct unlock_ctx *c, int kind, uint32_t id, uint32_t version,
			   const uint8_t key[KT_KEY_BYTES])
{
	uint8_t fp[KT_FINGERPRINT_BYTES];

	kt_fingerprint(key, fp);
	for (size_t i = 0; i < c->n_versions; i++) {
		const struct meta_key_version *v = &c->versions[i];

		if (v->kind == kind && v->id == id && v->version == version)
			return sodium_memcmp(fp, v->fingerprint, sizeof(fp)) == 0;
	}
	return false;
}

/* A signing key's seed gives the public key of its sign_keys row. */
static bool sign_key_ok(const struct unlock_ctx *c, int kind, uint32_t version,
			const uint8_t seed[KT_KEY_BYTES])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t *sk = kt_secure_alloc(crypto_sign_SECRETKEYBYTES);
	bool ok = false;

	if (!sk)
		return false;
	crypto_sign_seed_keypair(pk, sk, seed);
	kt_secure_free(sk);
	for (size_t i = 0; i < c->n_signs; i++) {
		const struct meta_sign_key *k = &c->signs[i];

		if (k->kind == kind && k->version == version) {
			ok = sodium_memcmp(pk, k->public_key, sizeof(pk)) == 0;
			break;
		}
	}
	return ok;
}

/* The name of a sealed key's kind, for incidents. */
static const char *seal_kind_name(int kind)
{
	switch (kind) {
	case META_KEY_LEVEL:
		return "level";
	case META_KEY_METADATA:
		return "metadata";
	case META_KEY_CHECKPOINT:
		return "checkpoint signing";
	case META_KEY_ADMIN_SIGN:
		return "administration signing";
	}
	return "?";
}

/* Open the keys sealed to one role version and put them in the keyring. */
static int unlock_role_keys(struct unlock_ctx *c, const struct meta_role *role, uint32_t version,
			    const uint8_t role_pk[KT_KEY_BYTES], const uint8_t *role_sk,
			    bool is_admin)
{
	struct meta_key_seal *seals = NULL;
	uint8_t *key = NULL;
	size_t n = 0;
	int r;

	r = meta_key_seal_list_role(c->db, role->id, version, &seals, &n);
	if (r < 0)
		return r;
	key = kt_secure_alloc(KT_KEY_BYTES);
	if (!key) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct meta_key_seal *s = &seals[i];
		char what[META_DETAIL_MAX / 2];
		bool clearance, custody = is_admin;
		uint8_t level = 0;

		if (s->kind == META_KEY_LEVEL && s->id < META_LEVELS) {
			level = (uint8_t)s->id;
			clearance = role->levels & (1u << level);
		} else if (s->kind == META_KEY_METADATA && s->id == 0) {
			clearance = true; /* every role holds the metadata key */
		} else if (s->kind == META_KEY_CHECKPOINT && s->id == 0) {
			clearance = true; /* ... and the checkpoint key */
		} else if (s->kind == META_KEY_ADMIN_SIGN && s->id == 0) {
			clearance = is_admin; /* only the admin role */
		} else {
			unlock_incident(c, "malformed key seal kind=%d id=%u role=%s", s->kind,
					s->id, role->name);
			continue;
		}
		if (!clearance && !custody)
			continue; /* not this role's level: never used */
		snprintf(what, sizeof(what), "%s key %u version %u sealed to role=%s",
			 seal_kind_name(s->kind), s->id, s->version, role->name);
		if (!row_ok(c, META_ROW_KEY_SEALS, s->kind, s->id, s->version, s->role_id,
			    s->role_version, what))
			continue;
		if (s->kind == META_KEY_LEVEL
			? !row_ok(c, META_ROW_LEVEL_KEYS, s->id, s->version, 0, 0, 0, what)
		    : s->kind == META_KEY_METADATA
			? !row_ok(c, META_ROW_META_KEYS, s->version, 0, 0, 0, 0, what)
			: !row_ok(c, META_ROW_SIGN_KEYS, s->kind, s->version, 0, 0, 0, what))
			continue;
		if (s->version > KT_SEAL_FIELD_MAX ||
		    kt_unseal((enum kt_seal_kind)s->kind, (uint16_t)s->id, (uint16_t)s->version,
			      s->sealed, role_pk, role_sk, key) < 0 ||
		    !(s->kind == META_KEY_CHECKPOINT || s->kind == META_KEY_ADMIN_SIGN
			  ? sign_key_ok(c, s->kind, s->version, key)
			  : fingerprint_ok(c, s->kind, s->id, s->version, key))) {
			unlock_incident(c,
					"%s key %u version %u sealed to role=%s refused: "
					"tampered seal or fingerprint",
					seal_kind_name(s->kind), s->id, s->version, role->name);
			continue;
		}
		r = keyring_put(c->kr, (uint8_t)s->kind, level, s->version, key, clearance,
				custody);
		sodium_memzero(key, KT_KEY_BYTES);
		if (r < 0)
			goto out;
		if (s->kind == META_KEY_LEVEL && clearance) {
			c->kr->readable |= 1u << level;
			if (!(role->flags & META_ROLE_READ_ONLY))
				c->kr->writable |= 1u << level;
		}
	}
	r = 0;
out:
	kt_secure_free(key);
	free(seals);
	return r;
}

/* Open one grant: its role secret, then the keys sealed to that role version.
 * A grant that does not open is an incident and is skipped. */
static int unlock_grant(struct unlock_ctx *c, const struct meta_grant *g)
{
	struct meta_role_key rk;
	struct meta_role role;
	uint8_t pk_check[KT_KEY_BYTES];
	_cleanup_(kt_secure_freep) uint8_t *role_sk = NULL;
	char what[META_DETAIL_MAX / 2];
	bool is_admin;
	int r;

	if (g->expires_ns != 0 && g->expires_ns <= c->now)
		return 0; /* expired: as if never granted */
	r = meta_role_get_by_id(c->db, g->role_id, &role);
	if (r == 0)
		r = meta_role_key_get(c->db, g->role_id, g->role_version, &rk);
	if (r == -ENOENT) {
		unlock_incident(c, "grant of missing role id=%lld version=%u",
				(long long)g->role_id, g->role_version);
		return 0;
	}
	if (r < 0)
		return r;

	snprintf(what, sizeof(what), "grant of role=%s version=%u", role.name, g->role_version);
	if (!row_ok(c, META_ROW_GRANTS, g->user_id, g->role_id, g->role_version, 0, 0, what) ||
	    !row_ok(c, META_ROW_ROLES, role.id, 0, 0, 0, 0, what) ||
	    !row_ok(c, META_ROW_ROLE_KEYS, rk.role_id, rk.version, 0, 0, 0, what))
		return 0;
	role_sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!role_sk)
		return -ENOMEM;
	if (g->role_id < 0 || (uint64_t)g->role_id > KT_SEAL_FIELD_MAX ||
	    g->role_version > KT_SEAL_FIELD_MAX ||
	    kt_unseal(KT_SEAL_ROLE, (uint16_t)g->role_id, (uint16_t)g->role_version, g->sealed,
		      c->kr->user.public_key, c->user_sk, role_sk) < 0) {
		unlock_incident(c, "grant of role=%s version=%u refused: tampered seal", role.name,
				g->role_version);
		return 0;
	}
	crypto_scalarmult_base(pk_check, role_sk);
	if (sodium_memcmp(pk_check, rk.public_key, KT_KEY_BYTES) != 0) {
		unlock_incident(c,
				"grant of role=%s version=%u refused: key does not match "
				"the role's public key",
				role.name, g->role_version);
		return 0;
	}

	is_admin = c->have_admin_role && role.id == c->admin_role.id;
	c->kr->flags |= role.flags;
	if (g->expires_ns && (!c->kr->next_expiry || g->expires_ns < c->kr->next_expiry))
		c->kr->next_expiry = g->expires_ns;
	r = unlock_role_keys(c, &role, g->role_version, rk.public_key, role_sk, is_admin);
	if (r < 0)
		return r;
	/* an administrator keeps the current admin role key, to reach custody */
	if (is_admin && g->role_version == c->admin_role.key_version && !c->kr->admin) {
		c->kr->admin = true;
		c->kr->admin_role_id = role.id;
		c->kr->admin_role_version = g->role_version;
		memcpy(c->kr->admin_pk, rk.public_key, KT_KEY_BYTES);
		c->kr->admin_sk = role_sk;
		role_sk = NULL;
	}
	return 0;
}

/* Derive the metadata subkeys from the newest metadata key held. */
static int keyring_set_meta(struct kt_keyring *kr)
{
	const struct kt_key_entry *best = NULL;

	for (size_t i = 0; i < kr->n_keys; i++) {
		const struct kt_key_entry *e = &kr->keys[i];

		if (e->kind == KT_SEAL_METADATA && e->clearance &&
		    (!best || e->version > best->version))
			best = e;
	}
	if (!best)
		return 0;
	if (best->version > KT_SEAL_FIELD_MAX)
		return -EOVERFLOW;
	kr->meta = kt_meta_keys_new(best->key, (uint16_t)best->version);
	return kr->meta ? 0 : -ENOMEM;
}

/*
 * The administration key kr's rows are checked with: the one its user
 * secret authenticated (strict), else the newest in sign_keys (legacy: as
 * the database says; none before signing keys).
 */
static int keyring_row_key(struct meta_db *db, struct kt_keyring *kr, struct unlock_ctx *c)
{
	int r;

	if (!kr->rows_strict) {
		r = kt_admin_sign_pk(db, kr->row_pk);
		if (r < 0 && r != -ENOENT)
			return r;
		kr->has_row_pk = r == 0;
	}
	c->row_pk = kr->has_row_pk ? kr->row_pk : NULL;
	c->strict = kr->rows_strict;
	return 0;
}

/*
 * Fill kr (its user and user_sk set, nothing else) from the vault: the user's
 * unexpired grants and the keys sealed to those role versions. In one
 * transaction when none is open, so a rotation committing meanwhile is seen
 * whole or not at all.
 */
static int keyring_load(struct meta_db *db, struct kt_keyring *kr)
{
	struct unlock_ctx c = {.db = db, .kr = kr, .user_sk = kr->user_sk};
	struct meta_grant *grants = NULL;
	size_t n_grants = 0;
	bool own_tx, bad_user = false;
	int r;

	r = meta_tx_begin(db);
	if (r < 0 && r != -EINVAL)
		return r;
	own_tx = r == 0; /* -EINVAL: inside the caller's transaction */
	r = kt_key_epoch(db, &kr->epoch);
	if (r < 0)
		goto out;
	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &c.admin_role);
	c.have_admin_role = r == 0;
	if (r < 0 && r != -ENOENT)
		goto out;
	r = meta_key_version_list(db, &c.versions, &c.n_versions);
	if (r == 0)
		r = meta_sign_key_list(db, &c.signs, &c.n_signs);
	if (r < 0)
		goto out;
	r = keyring_row_key(db, kr, &c);
	if (r < 0)
		goto out;
	/* the user's own row: name, uid, public key, disabled */
	if (!row_ok(&c, META_ROW_USERS, kr->user.id, 0, 0, 0, 0, "user")) {
		bad_user = true; /* nothing unlocks; the incident is committed */
		goto out;
	}
	r = meta_grant_list_user(db, kr->user.id, &grants, &n_grants);
	if (r < 0)
		goto out;
	c.now = meta_now_ns();
	for (size_t i = 0; i < n_grants; i++) {
		r = unlock_grant(&c, &grants[i]);
		if (r < 0)
			goto out;
	}
	r = keyring_set_meta(kr);
out:
	if (own_tx) {
		/* commits the incident records, if any; a read-only one just ends */
		r = meta_tx_end(db, r);
	}
	if (r == 0 && bad_user)
		r = -EBADMSG;
	free(grants);
	free(c.versions);
	free(c.signs);
	return r;
}

int kt_keyring_load_admin(struct meta_db *db, struct kt_keyring *kr,
			  const struct meta_role *admin_role, uint32_t version,
			  const uint8_t pk[KT_KEY_BYTES], uint8_t *sk)
{
	struct unlock_ctx c = {.db = db, .kr = kr};
	bool own_tx;
	int r;

	kr->admin = true;
	kr->recovery = true;
	kr->admin_role_id = admin_role->id;
	kr->admin_role_version = version;
	memcpy(kr->admin_pk, pk, KT_KEY_BYTES);
	kr->admin_sk = sk;
	kr->flags |= admin_role->flags;
	r = meta_tx_begin(db);
	if (r < 0 && r != -EINVAL)
		return r;
	own_tx = r == 0;
	r = kt_key_epoch(db, &kr->epoch);
	if (r == 0)
		r = meta_key_version_list(db, &c.versions, &c.n_versions);
	if (r == 0)
		r = meta_sign_key_list(db, &c.signs, &c.n_signs);
	c.have_admin_role = true;
	c.admin_role = *admin_role;
	c.now = meta_now_ns();
	if (r == 0)
		r = keyring_row_key(db, kr, &c);
	if (r == 0)
		r = unlock_role_keys(&c, admin_role, version, pk, sk, true);
	if (r == 0)
		r = keyring_set_meta(kr);
	if (own_tx) {
		r = meta_tx_end(db, r);
	}
	free(c.versions);
	free(c.signs);
	return r;
}

/*
 * A version 1 user secret just opened: seal it again as version 2 (§3),
 * bound to the administration key, when the database is writable and the
 * vault's rows are signed with that key (its own row included); recorded as
 * "secret-upgrade". Best effort: the unlock stands either way.
 */
static void secret_upgrade(struct meta_db *db, struct kt_keyring *kr, const char *passphrase,
			   size_t pass_len)
{
	uint8_t blob[KT_USER_SECRET_BYTES];
	enum kt_kdf_profile profile;
	struct meta_user now_u;
	struct meta_row_ref ref = {.table = META_ROW_USERS, .key = {kr->user.id}};
	bool done = false;
	int r;

	if (meta_db_read_only(db) || !kr->has_row_pk || kt_rows_signed(db, &done) < 0 || !done ||
	    kt_row_verify(db, kr->row_pk, &ref) != 0 || kt_vault_kdf_profile(db, &profile) < 0 ||
	    kt_user_secret_seal(passphrase, pass_len, profile, kr->user.public_key, kr->user_sk,
				kr->row_pk, blob) < 0)
		return;
	if (meta_tx_begin(db) < 0)
		return;
	r = meta_user_get_by_id(db, kr->user.id, &now_u);
	if (r == 0 &&
	    sodium_memcmp(now_u.secret_sealed, kr->user.secret_sealed, KT_USER_SECRET_BYTES) != 0)
		r = -EBUSY; /* changed meanwhile (passwd): leave it */
	if (r == 0)
		r = meta_user_set_secret(db, kr->user.id, blob);
	if (r == 0)
		r = kt_record(db, kr->user.name, "secret-upgrade",
			      "user secret sealed again as version 2", META_OUTCOME_OK);
	if (meta_tx_end(db, r) == 0) {
		memcpy(kr->user.secret_sealed, blob, KT_USER_SECRET_BYTES);
		kr->rows_strict = true;
	}
}

int kt_unlock(struct meta_db *db, const char *user, const char *passphrase, size_t pass_len,
	      struct kt_keyring **ret_keyring)
{
	struct kt_keyring *kr;
	bool v2;
	int r;

	if (!db || !user || !passphrase || !ret_keyring)
		return -EINVAL;
	kr = calloc(1, sizeof(*kr));
	if (!kr)
		return -ENOMEM;
	r = meta_user_get_by_name(db, user, &kr->user);
	if (r == -ENOENT) {
		(void)kt_record(db, kt_name_valid(user) ? user : "", "unlock", "unknown user",
				-ENOENT);
		goto out;
	}
	if (r < 0)
		goto out;
	if (kr->user.disabled) {
		(void)kt_record(db, user, "unlock", "user disabled", -EACCES);
		r = -EACCES;
		goto out;
	}

	kr->user_sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!kr->user_sk) {
		r = -ENOMEM;
		goto out;
	}
	v2 = kt_user_secret_version(kr->user.secret_sealed) == KT_USER_SECRET_V2;
	if (v2) {
		/* the administration key the secret was sealed with, or unlock fails */
		r = kt_admin_sign_pk(db, kr->row_pk);
		if (r < 0 && r != -ENOENT)
			goto out;
		kr->has_row_pk = kr->rows_strict = r == 0;
	}
	r = kt_user_secret_open(passphrase, pass_len, kr->user.public_key,
				kr->has_row_pk ? kr->row_pk : NULL, kr->user.secret_sealed,
				kr->user_sk);
	if (r == -EACCES || r == -EINVAL || r == -ENOKEY) {
		(void)kt_record(db, user, "unlock",
				v2 ? "wrong passphrase, or the administration key was replaced"
				   : "wrong passphrase",
				-EACCES);
		r = -EACCES;
		goto out;
	}
	if (r < 0)
		goto out;
	r = keyring_load(db, kr);
	if (r < 0)
		goto out;
	if (!v2)
		secret_upgrade(db, kr, passphrase, pass_len);
	*ret_keyring = kr;
	kr = NULL;
out:
	kt_keyring_free(kr);
	return r;
}

/* Move fresh's keys into kr and kr's old ones into fresh (for freeing). The
 * metadata subkeys stay where they are when their version did not change, so
 * a pointer from kt_keyring_meta() stays valid. */
static void keyring_swap(struct kt_keyring *kr, struct kt_keyring *fresh)
{
	struct kt_keyring old = *kr;

	kr->user = fresh->user;
	kr->flags = fresh->flags;
	kr->readable = fresh->readable;
	kr->writable = fresh->writable;
	kr->keys = fresh->keys;
	kr->n_keys = fresh->n_keys;
	kr->cap_keys = fresh->cap_keys;
	kr->admin = fresh->admin;
	kr->admin_role_id = fresh->admin_role_id;
	kr->admin_role_version = fresh->admin_role_version;
	memcpy(kr->admin_pk, fresh->admin_pk, KT_KEY_BYTES);
	kr->admin_sk = fresh->admin_sk;
	kr->epoch = fresh->epoch;
	kr->next_expiry = fresh->next_expiry;
	kr->has_row_pk = fresh->has_row_pk;
	memcpy(kr->row_pk, fresh->row_pk, KT_KEY_BYTES);
	if (!(old.meta && fresh->meta && old.meta->version == fresh->meta->version)) {
		kr->meta = fresh->meta;
		fresh->meta = old.meta;
	}
	fresh->keys = old.keys;
	fresh->n_keys = old.n_keys;
	fresh->cap_keys = old.cap_keys;
	fresh->admin_sk = old.admin_sk;
}

/* A recovery keyring: reload the keys sealed to its admin role version. */
static int refresh_recovery(struct meta_db *db, struct kt_keyring *kr)
{
	struct kt_keyring *fresh = NULL;
	struct meta_role role;
	uint8_t *sk = NULL;
	int r;

	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &role);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT || !kr->admin || role.id != kr->admin_role_id ||
	    role.key_version != kr->admin_role_version) {
		keyring_drop(kr); /* the admin role was rotated: recover again */
		return -EACCES;
	}
	fresh = calloc(1, sizeof(*fresh));
	sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!fresh || !sk) {
		free(fresh);
		kt_secure_free(sk);
		return -ENOMEM;
	}
	memcpy(sk, kr->admin_sk, KT_KEY_BYTES);
	fresh->user = kr->user;
	r = kt_keyring_load_admin(db, fresh, &role, kr->admin_role_version, kr->admin_pk, sk);
	if (r == 0)
		keyring_swap(kr, fresh);
	kt_keyring_free(fresh);
	return r;
}

int kt_keyring_refresh(struct meta_db *db, struct kt_keyring *kr)
{
	struct kt_keyring *fresh = NULL;
	struct meta_user u;
	int r;

	if (!db || !kr)
		return -EINVAL;
	if (kr->recovery)
		return refresh_recovery(db, kr);
	if (!kr->user_sk)
		return -EACCES; /* dropped by an earlier refresh */
	r = meta_user_get_by_id(db, kr->user.id, &u);
	if (r == -ENOENT ||
	    (r == 0 &&
	     (u.disabled || sodium_memcmp(u.public_key, kr->user.public_key, KT_KEY_BYTES) != 0))) {
		/* removed, disabled, or given a new key pair (recovery): nothing stays */
		keyring_drop(kr);
		return -EACCES;
	}
	if (r < 0)
		return r;
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	fresh->user = u;
	fresh->user_sk = kr->user_sk; /* borrowed */
	fresh->rows_strict = kr->rows_strict;
	fresh->has_row_pk = kr->has_row_pk;
	memcpy(fresh->row_pk, kr->row_pk, KT_KEY_BYTES);
	r = keyring_load(db, fresh);
	fresh->user_sk = NULL;
	if (r == 0)
		keyring_swap(kr, fresh);
	if (r == -EBADMSG) {
		/* the user's own row is not as the administration key signed it */
		keyring_drop(kr);
		r = -EACCES;
	}
	kt_keyring_free(fresh);
	return r;
}

int kt_keyring_sync(struct meta_db *db, struct kt_keyring *kr)
{
	int64_t e;
	int r;

	if (!db || !kr)
		return -EINVAL;
	r = kt_key_epoch(db, &e);
	if (r < 0)
		return r;
	if (e == kr->epoch)
		return 0;
	r = kt_keyring_refresh(db, kr);
	return r < 0 ? r : 1;
}

int kt_key_epoch(struct meta_db *db, int64_t *ret)
{
	int64_t v;
	int r;

	if (!db || !ret)
		return -EINVAL;
	r = meta_config_get_int(db, KT_EPOCH_KEY, &v);
	if (r == -ENOENT) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int kt_epoch_bump(struct meta_db *db, int64_t *ret_epoch)
{
	int64_t v;
	int r;

	r = kt_key_epoch(db, &v);
	if (r < 0)
		return r;
	if (v < 0 || v == INT64_MAX)
		return -EIO;
	r = meta_config_set_int(db, KT_EPOCH_KEY, v + 1);
	if (r == 0 && ret_epoch)
		*ret_epoch = v + 1;
	return r;
}
