/*
 * keytool/init.c — creating a vault: the schema, level and metadata keys,
 * the default roles with their key pairs, the first administrator and the
 * signing keys, in one transaction; nothing is left on disk if it fails.
 */
#include "keytool/keystore.h"
#include "keytool/internal.h"
#include "keytool/signing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "meta/grants.h"
#include "meta/keys.h"
#include "meta/records.h"
#include "meta/roles.h"
#include "meta/users.h"

/* The roles of a new vault (DESIGN.md §3); the admin role comes first. */
static const struct default_role {
	const char *name;
	uint32_t levels;
	uint32_t flags;
} default_roles[] = {
    {"admin", 0, META_ROLE_ADMIN},
    {"owner", KT_ALL_LEVELS, META_ROLE_DECLASSIFY},
    {"member", 0x03, 0},
    {"auditor", 0, META_ROLE_AUDITOR},
    {"external", 0x01, META_ROLE_EXPIRING},
};
#define N_DEFAULT_ROLES (sizeof(default_roles) / sizeof(default_roles[0]))

/* The secrets of a new vault, in one block of secure memory. */
struct init_secrets {
	uint8_t level[META_LEVELS][KT_KEY_BYTES];
	uint8_t meta[KT_KEY_BYTES];
	uint8_t role_sk[N_DEFAULT_ROLES][KT_KEY_BYTES];
	uint8_t admin_seed[KT_KEY_BYTES]; /* the administration signing key */
};

static int init_options_valid(const struct kt_init_options *opt)
{
	const char *names[META_LEVELS];

	if (!opt || !kt_name_valid(opt->admin) || !opt->passphrase || opt->passphrase_len == 0 ||
	    !kt_kdf_profile_name(opt->kdf) || opt->admin_uid < -1 || opt->admin_uid > UINT32_MAX)
		return -EINVAL;
	for (int l = 0; l < META_LEVELS; l++)
		names[l] = opt->level_names[l] ? opt->level_names[l] : kt_default_level_names[l];
	return kt_level_names_check(names);
}

/* Everything of a new vault but the schema, in the caller's transaction. */
static int init_keys(struct meta_db *db, const struct kt_init_options *opt, struct meta_user *admin,
		     struct init_secrets *sec)
{
	struct meta_role roles[N_DEFAULT_ROLES];
	uint8_t role_pk[N_DEFAULT_ROLES][KT_KEY_BYTES];
	int64_t now = meta_now_ns();
	const char *kdf = kt_kdf_profile_name(opt->kdf);
	char key[32];
	int r;

	for (int l = 0; l < META_LEVELS; l++) {
		const char *name =
		    opt->level_names[l] ? opt->level_names[l] : kt_default_level_names[l];

		snprintf(key, sizeof(key), "level_name.%d", l);
		r = meta_config_set_blob(db, key, name, strlen(name));
		if (r < 0)
			return r;
	}
	r = meta_config_set_blob(db, KT_KDF_PROFILE_KEY, kdf, strlen(kdf));
	if (r < 0)
		return r;

	/* level keys 0..3 and the metadata key, version 1 */
	for (int l = 0; l <= META_LEVELS; l++) {
		struct meta_key_version v;
		uint8_t *k = l < META_LEVELS ? sec->level[l] : sec->meta;

		kt_random(k, KT_KEY_BYTES);
		memset(&v, 0, sizeof(v));
		v.kind = l < META_LEVELS ? META_KEY_LEVEL : META_KEY_METADATA;
		v.id = l < META_LEVELS ? (uint32_t)l : 0;
		v.version = 1;
		v.created_ns = now;
		kt_fingerprint(k, v.fingerprint);
		r = meta_key_version_add(db, &v);
		if (r < 0)
			return r;
	}

	/* the roles, each with a key pair in custody of the admin role (role 0) */
	for (size_t i = 0; i < N_DEFAULT_ROLES; i++) {
		struct meta_role_key rk;

		memset(&roles[i], 0, sizeof(roles[i]));
		snprintf(roles[i].name, sizeof(roles[i].name), "%s", default_roles[i].name);
		roles[i].levels = default_roles[i].levels;
		roles[i].flags = default_roles[i].flags;
		roles[i].key_version = 1;
		roles[i].created_ns = now;
		r = meta_role_add(db, &roles[i]);
		if (r < 0)
			return r;
		if (roles[i].id > (int64_t)KT_SEAL_FIELD_MAX)
			return -EOVERFLOW;
		kt_keypair(role_pk[i], sec->role_sk[i]);
		memset(&rk, 0, sizeof(rk));
		rk.role_id = roles[i].id;
		rk.version = 1;
		rk.created_ns = now;
		memcpy(rk.public_key, role_pk[i], KT_KEY_BYTES);
		rk.has_custody = i != 0;
		if (rk.has_custody) {
			r = kt_seal(KT_SEAL_ROLE, (uint16_t)roles[i].id, 1, sec->role_sk[i],
				    role_pk[0], rk.custody_sealed);
			if (r < 0)
				return r;
		}
		r = meta_role_key_add(db, &rk);
		if (r < 0)
			return r;

		/* its levels (all of them in custody for the admin role) and the metadata key */
		for (int l = 0; l <= META_LEVELS; l++) {
			struct meta_key_seal s;
			bool meta = l == META_LEVELS;

			if (!meta && i != 0 && !(roles[i].levels & (1u << l)))
				continue;
			memset(&s, 0, sizeof(s));
			s.kind = meta ? META_KEY_METADATA : META_KEY_LEVEL;
			s.id = meta ? 0 : (uint32_t)l;
			s.version = 1;
			s.role_id = roles[i].id;
			s.role_version = 1;
			r = kt_seal((enum kt_seal_kind)s.kind, (uint16_t)s.id, 1,
				    meta ? sec->meta : sec->level[l], role_pk[i], s.sealed);
			if (r == 0)
				r = meta_key_seal_add(db, &s);
			if (r < 0)
				return r;
		}
	}

	/* the first administrator, granted the admin role */
	admin->created_ns = now;
	r = meta_user_add(db, admin);
	if (r == 0) {
		struct meta_grant g;

		memset(&g, 0, sizeof(g));
		g.user_id = admin->id;
		g.role_id = roles[0].id;
		g.role_version = 1;
		g.granted_by = 0;
		g.granted_at_ns = now;
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)roles[0].id, 1, sec->role_sk[0],
			    admin->public_key, g.sealed);
		if (r == 0)
			r = meta_grant_add(db, &g);
	}
	return r;
}

/* Undo a failed init: the files meta_db_open created, and dir if we made it. */
static void init_cleanup(const char *dir, bool made_dir)
{
	static const char *const files[] = {META_DB_NAME, META_DB_NAME "-wal", META_DB_NAME "-shm",
					    META_DB_NAME "-journal"};
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, META_OBJECTS_DIR);
	rmdir(path);
	if (made_dir)
		rmdir(dir);
}

int kt_vault_init(const char *dir, const struct kt_init_options *opt)
{
	_cleanup_(kt_secure_freep) struct init_secrets *sec = NULL;
	_cleanup_(kt_secure_freep) uint8_t *sign_sk = NULL;
	uint8_t admin_pk[KT_SIGN_PK_BYTES];
	struct meta_db *db = NULL;
	struct meta_user admin;
	char detail[META_DETAIL_MAX + 1];
	bool made_dir = false;
	int r;

	if (!dir || !*dir)
		return -EINVAL;
	r = init_options_valid(opt);
	if (r < 0)
		return r;
	sec = kt_secure_alloc(sizeof(*sec));
	if (!sec)
		return -ENOMEM;
	/* the administration key first: the first administrator's secret binds
	 * its public key (§3 version 2) */
	kt_random(sec->admin_seed, KT_KEY_BYTES);
	sign_sk = kt_sign_secret_from_seed(sec->admin_seed);
	if (!sign_sk)
		return -ENOMEM;
	memcpy(admin_pk, sign_sk + KT_KEY_BYTES, KT_SIGN_PK_BYTES);
	/* the slow KDF before anything exists on disk */
	r = kt_user_make(opt->admin, opt->admin_uid, opt->passphrase, opt->passphrase_len, opt->kdf,
			 admin_pk, &admin);
	if (r < 0)
		return r;

	if (mkdir(dir, 0700) == 0)
		made_dir = true;
	else if (errno != EEXIST) {
		return -errno;
	}
	r = meta_db_open(dir, META_OPEN_CREATE, &db);
	if (r < 0) {
		if (made_dir)
			rmdir(dir);
		return r;
	}
	r = meta_tx_begin(db);
	if (r == 0) {
		r = init_keys(db, opt, &admin, sec);
		if (r == 0)
			r = kt_sign_keys_create_seeded(db, sec->admin_seed);
		if (r == 0)
			r = kt_rows_sign_all(db, sec->admin_seed); /* every row is new */
		snprintf(detail, sizeof(detail), "admin=%s kdf=%s", opt->admin,
			 kt_kdf_profile_name(opt->kdf));
		if (r == 0)
			r = kt_record(db, opt->admin, "init", detail, META_OUTCOME_OK);
		r = meta_tx_end(db, r);
	}
	db = meta_db_close(db);
	if (r < 0)
		init_cleanup(dir, made_dir);
	return r;
}
