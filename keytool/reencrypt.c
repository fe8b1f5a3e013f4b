/*
 * keytool/reencrypt.c — re-encrypting content under fresh file keys and new
 * object ids, one file per transaction, resumable, beside a running mount.
 */
#include "keytool/rotation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/internal.h"
#include "meta/keys.h"
#include "meta/records.h"
#include "meta/rotations.h"

/* Re-encryption and a running mount: how long to wait for a file that is
 * open there (its blob is share-locked by the daemon), and how often to look. */
#define REENCRYPT_BUSY_WAIT_MS 60000
#define REENCRYPT_BUSY_POLL_MS 200
/* ---- re-encryption ---------------------------------------------------- */

/* Remove the blob a re-encryption left pending, unless some node names it. */
static int reencrypt_clean_pending(struct meta_db *db, struct kt_keyring *admin,
				   struct meta_rotation *rot, const struct kt_content_ops *ops)
{
	bool in_use = true;
	int r;

	if (!rot->has_pending)
		return 0;
	r = meta_object_in_use(db, rot->pending_object, &in_use);
	if (r < 0)
		return r;
	if (!in_use) {
		r = ops->remove(ops->ctx, rot->pending_object);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	r = kt_admin_begin(db, admin, "reencrypt", "clean");
	if (r < 0)
		return r;
	rot->has_pending = false;
	r = meta_rotation_update(db, rot);
	return meta_tx_end(db, r);
}

/* Record a file that could not be re-encrypted and move past it. */
static int reencrypt_skip(struct meta_db *db, struct kt_keyring *admin, struct meta_rotation *rot,
			  const struct meta_file_key *f, const char *why)
{
	char detail[META_DETAIL_MAX + 1];
	int r;

	r = kt_admin_begin(db, admin, "reencrypt", "skip");
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "rotation=%lld: %s: left as it was", (long long)rot->id,
		 why);
	r = kt_record_file(db, admin->user.name, "reencrypt", f->ino, f->level, detail, -EBADMSG);
	rot->cursor = f->ino;
	rot->failed++;
	rot->has_pending = false;
	if (r == 0)
		r = meta_rotation_update(db, rot);
	return meta_tx_end(db, r);
}

/* Re-encrypt one file. 1 done, 0 skipped (damaged, recorded), 2 changed
 * meanwhile (do it again), -errno. */
static int reencrypt_one(struct meta_db *db, struct kt_keyring *admin, struct meta_rotation *rot,
			 const struct meta_file_key *f, const struct kt_content_ops *ops,
			 unsigned busy_wait_ms, struct kt_rotation_result *res)
{
	uint8_t new_id[KT_OBJECT_ID_BYTES], wrapped[KT_WRAPPED_KEY_BYTES];
	const uint8_t *old_level_key;
	_cleanup_(kt_secure_freep) uint8_t *keys = NULL; /* old file key || new file key */
	struct kt_current_keys cur;
	struct kt_copy_result copied = {0};
	uint32_t version;
	uint8_t level;
	int r;

	keys = kt_secure_alloc(2 * KT_KEY_BYTES);
	if (!keys)
		return -ENOMEM;
	r = kt_file_key_info(f->file_key, &level, &version);
	old_level_key = r == 0 ? kt_custody_key(admin, KT_SEAL_LEVEL, level, version) : NULL;
	if (!old_level_key ||
	    kt_file_key_unwrap(old_level_key, f->object_id, f->file_key, keys) < 0) {
		return reencrypt_skip(db, admin, rot, f, "the file key does not open");
	}
	r = kt_current_keys(db, admin, 1u << level, &cur);
	if (r < 0)
		return r;
	kt_random(new_id, sizeof(new_id));
	kt_random(keys + KT_KEY_BYTES, KT_KEY_BYTES);
	r = kt_file_key_wrap(cur.key[level], level, cur.version[level], new_id, keys + KT_KEY_BYTES,
			     wrapped);
	if (r < 0)
		return r;

	/* 1: the new blob is pending (removed on resumption unless a node names it) */
	r = kt_admin_begin(db, admin, "reencrypt", "copy");
	if (r < 0)
		return r;
	rot->has_pending = true;
	memcpy(rot->pending_object, new_id, sizeof(new_id));
	r = meta_rotation_update(db, rot);
	r = meta_tx_end(db, r);
	if (r < 0)
		return r;

	/* 2: copy the content under the new key */
	/* A file open in a running mount is busy: wait for it to be closed. */
	for (int waited_ms = 0;; waited_ms += REENCRYPT_BUSY_POLL_MS) {
		r = ops->copy(ops->ctx, f->object_id, keys, f->write_counter, new_id,
			      keys + KT_KEY_BYTES, &copied);
		if (r != -EBUSY || waited_ms >= (int)busy_wait_ms)
			break;
		usleep(REENCRYPT_BUSY_POLL_MS * 1000);
	}
	if (r == -EBADMSG || r == -ENOENT) {
		(void)ops->remove(ops->ctx, new_id);
		r = reencrypt_skip(db, admin, rot, f,
				   r == -ENOENT ? "its blob is missing"
						: "its blob does not authenticate");
		return r;
	}
	if (r < 0)
		return r; /* the pending blob is removed when this is run again */

	/* 3: swap blob, key and write counter in one transaction (only if the
	 * node expects no more than the copied header held); the old blob
	 * becomes pending */
	r = kt_admin_begin(db, admin, "reencrypt", "swap");
	if (r < 0)
		return r;
	r = meta_file_blob_swap(db, f->ino, f->object_id, f->file_key, copied.old_counter, new_id,
				wrapped, copied.new_counter);
	if (r == 0) {
		memcpy(rot->pending_object, f->object_id, sizeof(rot->pending_object));
		rot->cursor = f->ino;
		rot->done_count++;
		r = meta_rotation_update(db, rot);
	}
	r = meta_tx_end(db, r);
	if (r == -ESTALE) {
		/* the file changed meanwhile: drop the copy, do it again */
		(void)ops->remove(ops->ctx, new_id);
		r = reencrypt_clean_pending(db, admin, rot, ops);
		if (r == 0)
			r = 2;
		return r;
	}
	if (r < 0)
		return r;

	/* 4: the old blob goes */
	r = ops->remove(ops->ctx, f->object_id);
	if (r == -ENOENT)
		r = 0;
	if (r == 0) {
		res->files++;
		res->bytes += copied.bytes;
		r = 1;
	}
	return r;
}

int kt_reencrypt_run(struct meta_db *db, struct kt_keyring *admin, uint32_t levels,
		     const struct kt_content_ops *ops, const struct kt_rotation_options *opt,
		     struct kt_rotation_result *ret)
{
	char detail[META_DETAIL_MAX + 1], lv[16];
	struct kt_rotation_options o = {0};
	struct kt_rotation_result res = {0};
	struct meta_rotation *rots = NULL, rot;
	size_t n = 0, batches = 0;
	bool found = false;
	int r;

	if (!db || !admin || !ops || !ops->copy || !ops->remove || (levels & ~KT_ALL_LEVELS))
		return -EINVAL;
	if (opt)
		o = *opt;
	if (!levels)
		levels = KT_ALL_LEVELS;

	/* first the re-wraps: a re-encryption wraps under the current versions */
	r = kt_rotation_run(db, admin, &o, &res);
	if (r < 0 && r != -EBADMSG)
		goto out;

	r = meta_rotation_list(db, true, &rots, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (rots[i].kind == META_ROTATION_REENCRYPT) {
			rot = rots[i];
			found = true;
			break;
		}
	if (r < 0)
		goto out;
	if (!found) {
		kt_format_levels(levels, lv, sizeof(lv));
		snprintf(detail, sizeof(detail), "levels=%s", lv);
		r = kt_admin_begin(db, admin, "reencrypt", detail);
		if (r < 0)
			goto out;
		memset(&rot, 0, sizeof(rot));
		rot.kind = META_ROTATION_REENCRYPT;
		snprintf(rot.reason, sizeof(rot.reason), "reencrypt levels=%s", lv);
		snprintf(rot.started_by, sizeof(rot.started_by), "%s", admin->user.name);
		rot.levels = levels;
		r = meta_file_key_count(db, NULL, 0, levels, &rot.total);
		if (r == 0)
			r = meta_rotation_add(db, &rot);
		if (r == 0)
			snprintf(detail, sizeof(detail),
				 "rotation=%lld started: levels=%s files=%llu", (long long)rot.id,
				 lv, (unsigned long long)rot.total);
		r = kt_admin_end(db, admin, "reencrypt", detail, r);
		if (r < 0)
			goto out;
	}
	r = reencrypt_clean_pending(db, admin, &rot, ops);

	while (r == 0) {
		struct meta_file_key *files = NULL;
		size_t nf = 0;

		if (o.max_batches && batches >= o.max_batches) {
			r = -EINTR;
			break;
		}
		r = meta_file_key_list(db, NULL, 0, rot.levels, rot.cursor, 1, &files, &nf);
		if (r == 0 && nf == 0) {
			free(files);
			break;
		}
		if (r == 0)
			r = reencrypt_one(db, admin, &rot, &files[0], ops,
					  o.busy_wait_ms ? o.busy_wait_ms : REENCRYPT_BUSY_WAIT_MS,
					  &res);
		if (r == 0)
			res.failed++;
		if (r == 1 || r == 2)
			r = 0;
		free(files);
		batches++;
		if (r == 0 && o.progress)
			o.progress(o.progress_ctx, "re-encrypted", rot.done_count + rot.failed,
				   rot.total);
	}
	if (r == 0) {
		r = kt_admin_begin(db, admin, "reencrypt", "finish");
		if (r < 0)
			goto out;
		rot.done = true;
		rot.finished_ns = meta_now_ns();
		rot.has_pending = false;
		snprintf(detail, sizeof(detail),
			 "rotation=%lld done: %llu files re-encrypted, %llu could not be",
			 (long long)rot.id, (unsigned long long)rot.done_count,
			 (unsigned long long)rot.failed);
		r = meta_rotation_update(db, &rot);
		if (r == 0)
			r = kt_record(db, admin->user.name, "reencrypt", detail,
				      rot.failed ? -EBADMSG : META_OUTCOME_OK);
		r = meta_tx_end(db, r);
		if (r == 0)
			res.rotations++;
		if (r == 0 && rot.failed) {
			/* over every run of this re-encryption, not just this one */
			if (res.failed < rot.failed)
				res.failed = rot.failed;
			r = -EBADMSG;
		}
	}
out:
	free(rots);
	if (ret) {
		ret->rotations += res.rotations;
		ret->files += res.files;
		ret->bytes += res.bytes;
		ret->failed += res.failed;
		ret->destroyed += res.destroyed;
	}
	return r;
}
