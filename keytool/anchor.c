/*
 * keytool/anchor.c — signed checkpoints of the access record (anchor.h).
 */
#include "keytool/anchor.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keytool/signing.h"
#include "keytool/witness.h"
#include "meta/checkpoints.h"
#include "meta/keys.h"
#include "meta/records-tree.h"

#define VAULT_ID_BYTES 16

int kt_log_origin(struct meta_db *db, char ret[KT_LOG_ORIGIN_MAX])
{
	uint8_t id[VAULT_ID_BYTES];
	char hex[2 * VAULT_ID_BYTES + 1];
	size_t len = sizeof(id);
	int r;

	r = meta_config_get_blob(db, "vault_id", id, &len);
	if (r == -ENOBUFS || (r == 0 && len != sizeof(id)))
		return -EIO;
	if (r < 0)
		return r;
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	snprintf(ret, KT_LOG_ORIGIN_MAX, "vaultfs/%s", hex);
	return 0;
}

int kt_log_verifier(struct meta_db *db, struct kt_note_verifier *ret)
{
	char origin[KT_LOG_ORIGIN_MAX];
	struct meta_sign_key k;
	int r;

	r = kt_log_origin(db, origin);
	if (r < 0)
		return r;
	r = meta_sign_key_current(db, META_KEY_CHECKPOINT, &k);
	if (r == -ENOENT)
		return -ENOKEY;
	if (r < 0)
		return r;
	return kt_note_verifier_make(origin, k.public_key, ret);
}

/* The extension line naming the vault's administration key (who may sign
 * a restore, witness.h), when the vault has one. */
static int admin_key_line(struct meta_db *db, struct kt_checkpoint *cp)
{
	char b64[sodium_base64_ENCODED_LEN(KT_SIGN_PK_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	struct meta_sign_key k;
	int r = meta_sign_key_current(db, META_KEY_ADMIN_SIGN, &k);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	sodium_bin2base64(b64, sizeof(b64), k.public_key, sizeof(k.public_key),
			  sodium_base64_VARIANT_ORIGINAL);
	if (asprintf(&cp->ext[0], "%s%s", KT_CHECKPOINT_ADMIN_EXT, b64) < 0) {
		cp->ext[0] = NULL;
		return -ENOMEM;
	}
	cp->n_ext = 1;
	return 0;
}

/* Sign the stored head, inside a transaction. */
static int checkpoint_in_tx(struct meta_db *db, const uint8_t seed[KT_KEY_BYTES], char **ret_note,
			    uint64_t *ret_size)
{
	struct kt_checkpoint cp = {0};
	_cleanup_(kt_secure_freep) uint8_t *sk = NULL;
	char *text = NULL, *note = NULL;
	int r;

	r = kt_log_origin(db, cp.origin);
	if (r == 0)
		r = meta_log_tree_head(db, &cp.size, cp.root);
	if (r == 0)
		r = admin_key_line(db, &cp);
	if (r == 0)
		r = kt_checkpoint_format(&cp, &text);
	for (size_t i = 0; i < cp.n_ext; i++)
		free(cp.ext[i]); /* cp.origin is still needed */
	cp.n_ext = 0;
	if (r < 0)
		return r;
	sk = kt_sign_secret_from_seed(seed);
	r = sk ? kt_note_sign(text, cp.origin, sk, &note) : -ENOMEM;
	free(text);
	if (r == 0 && !meta_db_read_only(db))
		r = meta_checkpoint_add(db, cp.size, note);
	if (r < 0) {
		free(note);
		return r;
	}
	*ret_note = note;
	*ret_size = cp.size;
	return 0;
}

int kt_log_checkpoint(struct meta_db *db, const struct kt_keyring *kr, char **ret_note,
		      uint64_t *ret_size)
{
	const uint8_t *seed;
	uint32_t version;
	int r;

	if (!kr)
		return -EINVAL;
	r = kt_keyring_sign_seed(kr, KT_SEAL_CHECKPOINT, &version, &seed);
	return r < 0 ? r : kt_log_checkpoint_seed(db, seed, ret_note, ret_size);
}

int kt_log_checkpoint_seed(struct meta_db *db, const uint8_t seed[KT_KEY_BYTES], char **ret_note,
			   uint64_t *ret_size)
{
	bool own_tx;
	int r;

	if (!db || !seed || !ret_note || !ret_size)
		return -EINVAL;
	*ret_note = NULL;
	r = meta_db_read_only(db) ? meta_tx_begin_read(db) : meta_tx_begin(db);
	if (r < 0 && r != -EINVAL)
		return r;
	own_tx = r == 0; /* -EINVAL: inside the caller's transaction */
	r = checkpoint_in_tx(db, seed, ret_note, ret_size);
	if (own_tx) {
		r = meta_tx_end(db, r);
		if (r < 0 && *ret_note) {
			free(*ret_note);
			*ret_note = NULL;
		}
	}
	return r;
}

int kt_log_extends(struct meta_db *db, const struct kt_checkpoint *cp)
{
	uint8_t root[META_TLOG_HASH_BYTES];
	uint8_t *leaves = NULL;
	int r;

	if (!db || !cp)
		return -EINVAL;
	if (cp->size == 0)
		return 0;
	r = meta_log_leaves(db, cp->size, &leaves);
	if (r == -ERANGE)
		return -ESTALE; /* fewer records than the checkpoint states */
	if (r == 0)
		r = meta_tlog_tree_root(meta_log_leaf_at, leaves, cp->size, root);
	if (r == 0 && sodium_memcmp(root, cp->root, sizeof(root)) != 0)
		r = -EBADMSG;
	free(leaves);
	return r;
}

int kt_log_check(struct meta_db *db, const struct kt_note_verifier *v, const char *note, size_t len,
		 struct kt_checkpoint *ret)
{
	struct kt_checkpoint cp = {0};
	char *text = NULL;
	int r;

	if (!db || !v || !note)
		return -EINVAL;
	r = kt_note_open(note, len, v, &text);
	if (r < 0)
		return r;
	r = kt_checkpoint_parse(text, &cp);
	free(text);
	if (r < 0)
		return r;
	r = strcmp(cp.origin, v->name) != 0 ? -EPROTO : kt_log_extends(db, &cp);
	if (r == 0 && ret)
		*ret = cp;
	else
		kt_checkpoint_clear(&cp);
	return r;
}

int kt_log_witness(struct meta_db *db, const char *dir, const struct kt_note_verifier *v,
		   const char *note)
{
	uint8_t proof[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES];
	struct kt_checkpoint held = {0}, cp = {0};
	uint8_t *leaves = NULL;
	size_t len = strlen(note), proof_len = 0;
	char *text = NULL;
	int r;

	r = kt_note_open(note, len, v, &text);
	if (r == 0)
		r = kt_checkpoint_parse(text, &cp);
	free(text);
	if (r < 0)
		return r;
	r = kt_witness_latest(dir, v, &held);
	if (r == 0 && held.size >= cp.size) {
		/* it holds as much already (another process offered a later one
		 * meanwhile): fine if the record extends that one */
		r = kt_log_extends(db, &held);
		goto out;
	}
	if (r == 0 && held.size > 0) {
		r = meta_log_leaves(db, cp.size, &leaves);
		if (r == 0)
			r = meta_tlog_consistency_proof(meta_log_leaf_at, leaves, held.size,
							cp.size, proof, &proof_len);
	} else if (r == -ENOENT) {
		r = 0; /* the first checkpoint this witness holds */
	}
	if (r == 0)
		r = kt_witness_add(dir, v, note, len, &proof[0][0], proof_len);
out:
	free(leaves);
	kt_checkpoint_clear(&held);
	kt_checkpoint_clear(&cp);
	return r;
}

/* A copy of a checkpoint's text fields. */
static int checkpoint_copy(const struct kt_checkpoint *from, struct kt_checkpoint *to)
{
	*to = *from;
	to->n_ext = 0;
	for (size_t i = 0; i < from->n_ext; i++) {
		to->ext[i] = strdup(from->ext[i]);
		if (!to->ext[i]) {
			kt_checkpoint_clear(to);
			return -ENOMEM;
		}
		to->n_ext = i + 1;
	}
	return 0;
}

int kt_log_restore(struct meta_db *db, struct kt_keyring *admin, const char *dir,
		   const struct kt_checkpoint *held_elsewhere, const char *reason,
		   uint64_t *ret_from, uint64_t *ret_to, char **ret_note)
{
	struct kt_checkpoint held = {0}, cp = {0};
	struct kt_note_verifier v;
	char detail[META_DETAIL_MAX + 1], origin[KT_LOG_ORIGIN_MAX], name[KT_NOTE_NAME_MAX + 1];
	char *note = NULL, *text = NULL, *rtext = NULL, *restore = NULL;
	_cleanup_(kt_secure_freep) uint8_t *sk = NULL;
	const uint8_t *seed;
	uint32_t version;
	uint64_t size;
	int r;

	if (!db || !admin || (!dir && !held_elsewhere) || !reason)
		return -EINVAL;
	r = kt_log_verifier(db, &v);
	if (r == 0)
		r = kt_log_origin(db, origin);
	if (r == 0 && dir)
		r = kt_witness_latest(dir, &v, &held);
	else if (r == 0)
		r = checkpoint_copy(held_elsewhere, &held);
	if (r < 0)
		return r;
	r = kt_log_extends(db, &held);
	if (r == 0) {
		kt_checkpoint_clear(&held);
		return -EALREADY; /* nothing to accept */
	}
	if (r != -ESTALE && r != -EBADMSG)
		goto out;
	snprintf(detail, sizeof(detail), "%s held %llu records; reason: %s",
		 dir ? "the witness" : "the system journal", (unsigned long long)held.size, reason);
	r = kt_admin_begin(db, admin, "restore-accept", detail);
	if (r < 0)
		goto out;
	r = kt_admin_end(db, admin, "restore-accept", detail, 0);
	if (r == 0)
		r = kt_log_checkpoint(db, admin, &note, &size);
	if (r == 0)
		r = kt_note_open(note, strlen(note), &v, &text);
	if (r == 0)
		r = kt_checkpoint_parse(text, &cp);
	if (r == 0)
		r = kt_restore_format(origin, &held, &cp, &rtext);
	if (r == 0)
		r = kt_keyring_sign_seed(admin, KT_SEAL_ADMIN_SIGN, &version, &seed);
	if (r == 0) {
		sk = kt_sign_secret_from_seed(seed);
		snprintf(name, sizeof(name), "%s%s", origin, KT_RESTORE_KEY_SUFFIX);
		r = sk ? kt_note_sign(rtext, name, sk, &restore) : -ENOMEM;
	}
	if (r == 0 && dir)
		r = kt_witness_restore(dir, &v, note, strlen(note), restore, strlen(restore));
	if (r == 0) {
		if (ret_from)
			*ret_from = held.size;
		if (ret_to)
			*ret_to = cp.size;
		if (ret_note) {
			*ret_note = note;
			note = NULL;
		}
	}
out:
	free(note);
	free(text);
	free(rtext);
	free(restore);
	kt_checkpoint_clear(&cp);
	kt_checkpoint_clear(&held);
	return r;
}
