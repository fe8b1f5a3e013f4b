/*
 * keytool/census.c — the key census (census.h): the key versions, seals,
 * roles, grants, file counts and rotations of a vault, read in one snapshot,
 * and what a listing derives from them (a version's state, its files).
 */
#include "keytool/census.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/crypto.h"

_Static_assert(META_FILE_KEY_PREFIX_BYTES == KT_WRAPPED_PREFIX_BYTES, "wrapped-key prefix (§5)");

void kt_key_census_free(struct kt_key_census *c)
{
	if (!c)
		return;
	free(c->versions);
	free(c->seals);
	if (c->role_keys)
		for (size_t i = 0; i < c->n_roles; i++)
			free(c->role_keys[i].keys);
	free(c->role_keys);
	free(c->roles);
	free(c->grants);
	free(c->files);
	free(c->rotations);
	memset(c, 0, sizeof(*c));
	c->admin_role_id = -1;
}

static int census_read(struct meta_db *db, struct kt_key_census *c)
{
	struct meta_role admin;
	int r;

	if ((r = meta_key_version_list(db, &c->versions, &c->n_versions)) < 0 ||
	    (r = meta_key_seal_list_all(db, &c->seals, &c->n_seals)) < 0 ||
	    (r = meta_role_list(db, &c->roles, &c->n_roles)) < 0 ||
	    (r = meta_grant_list_all(db, &c->grants, &c->n_grants)) < 0 ||
	    (r = meta_file_key_census(db, &c->files, &c->n_files)) < 0 ||
	    (r = meta_rotation_list(db, false, &c->rotations, &c->n_rotations)) < 0)
		return r;
	c->role_keys = calloc(c->n_roles ? c->n_roles : 1, sizeof(*c->role_keys));
	if (!c->role_keys)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_roles; i++) {
		r = meta_role_key_list(db, c->roles[i].id, &c->role_keys[i].keys,
				       &c->role_keys[i].n);
		if (r < 0)
			return r;
	}
	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &admin);
	if (r == 0)
		c->admin_role_id = admin.id;
	return r == -ENOENT ? 0 : r;
}

int kt_key_census_read(struct meta_db *db, struct kt_key_census *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->admin_role_id = -1;
	if (!db)
		return -EINVAL;
	r = meta_tx_begin(db); /* one snapshot */
	if (r < 0)
		return r;
	r = census_read(db, ret);
	meta_tx_rollback(db); /* read only */
	if (r < 0)
		kt_key_census_free(ret);
	return r;
}

const char *kt_key_census_role_name(const struct kt_key_census *c, int64_t role_id)
{
	for (size_t i = 0; i < c->n_roles; i++)
		if (c->roles[i].id == role_id)
			return c->roles[i].name;
	return "?";
}

uint64_t kt_key_census_files(const struct kt_key_census *c, uint8_t level, uint32_t version)
{
	uint8_t prefix[KT_WRAPPED_PREFIX_BYTES];

	if (kt_file_key_prefix(level, version, prefix) < 0)
		return 0;
	for (size_t i = 0; i < c->n_files; i++)
		if (memcmp(c->files[i].prefix, prefix, sizeof(prefix)) == 0)
			return c->files[i].files;
	return 0;
}

enum kt_key_state kt_key_census_state(const struct kt_key_census *c,
				      const struct meta_key_version *k)
{
	bool sealed = false, newest = true;

	for (size_t i = 0; i < c->n_seals; i++)
		if (c->seals[i].kind == k->kind && c->seals[i].id == k->id &&
		    c->seals[i].version == k->version)
			sealed = true;
	for (size_t i = 0; i < c->n_versions; i++)
		if (c->versions[i].kind == k->kind && c->versions[i].id == k->id &&
		    c->versions[i].version > k->version)
			newest = false;
	if (!sealed)
		return KT_KEY_DESTROYED;
	return newest ? KT_KEY_CURRENT : KT_KEY_OLD;
}

const char *kt_key_state_name(enum kt_key_state state)
{
	switch (state) {
	case KT_KEY_CURRENT:
		return "current";
	case KT_KEY_OLD:
		return "old";
	case KT_KEY_DESTROYED:
		return "destroyed";
	}
	return "?";
}
