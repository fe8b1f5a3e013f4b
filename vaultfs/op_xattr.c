/*
 * vaultfs/op_xattr.c — FUSE operations on extended attributes, and classification.
 *
 * setxattr, getxattr, listxattr and removexattr of the user.* and trusted.*
 * namespaces (sealed in the database), and classify: a change of a node's
 * level through user.vault.level.
 */
#include "vaultfs/ops-internal.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "keytool/control-proto.h"
#include "keytool/names.h"

/* Stored namespaces. security.* is not kept: the kernel asks for
 * security.capability before every write and owner change, and a document
 * vault has no use for file capabilities or SELinux labels. */
static bool xattr_supported(const char *name)
{
	return strncmp(name, "user.", 5) == 0 || strncmp(name, "trusted.", 8) == 0;
}

/*
 * Change ino's level to the one named in text: raising needs the new level
 * held writably; lowering also needs a declassifying role; level 4 is refused
 * and recorded as an incident. Regular files get their key re-wrapped.
 *
 * Under the inode's write lock, which every read, write and other use of an
 * open handle holds while it checks the file's level: the new level is in
 * in->level when the lock is released, so no handle reads or writes at the
 * old one after the change commits. A raised level also drops the kernel's
 * cached pages and attributes of the file, so that what was cached before
 * is not served to a descriptor whose opener may no longer read it.
 */
static int classify(fuse_req_t req, struct vfs *v, struct vfs_session *s, uint64_t ino,
		    const char *text)
{
	struct vfs_inode *in = vfs_inode_pin(v->itable, ino);
	struct meta_node n = {0};
	struct vfs_caller c;
	uint8_t *file_key = NULL;
	char *path = NULL;
	uint8_t level = 0, old = 0;
	bool changed = false;
	int r;

	if (!in)
		return -ENOMEM;
	caller_of(req, &c);
	pthread_rwlock_wrlock(&in->lock);
	db_lock(v);
	r = meta_node_get(v->db, ino, &n);
	if (r == 0)
		r = vfs_path_of(v, s->meta_keys, ino, &path);
	if (r < 0)
		goto out;
	old = n.level;
	r = kt_level_parse(v->db, text, &level);
	if (r == -EBADMSG)
		vfs_record(v, s, &c, "classify", ino, path, NULL, old, r, NULL,
			   "level names refused: not as the administration key signed them");
	if (r < 0)
		goto out;
	if (level >= META_LEVEL_REFUSED) {
		r = -EPERM;
		/* Security-classified information (Säkerhetsskydd) is never stored. */
		vfs_record(v, s, &c, "classify", ino, path, NULL, old, r, NULL, "level %u refused",
			   level);
		goto out;
	}
	if (level == old)
		goto out;
	if (!level_ok(s->writable, old) || !level_ok(s->writable, level) ||
	    (level < old && !s->may_declassify)) {
		r = -EACCES;
		vfs_record(v, s, &c, "classify", ino, path, NULL, old, r, NULL, "level %u->%u %s",
			   old, level,
			   level < old && !s->may_declassify ? "needs declassify"
							     : "level not held");
		goto out;
	}
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	/* Read the row again inside the transaction: a rotation by
	 * vaultfs-keytool may have re-wrapped its key since. */
	meta_node_clear(&n);
	r = meta_node_get(v->db, ino, &n);
	if (r < 0) {
		meta_tx_rollback(v->db);
		goto out;
	}
	if (n.has_object) {
		const uint8_t *new_key;
		uint32_t version;

		file_key = kt_secure_alloc(KT_KEY_BYTES);
		r = file_key ? vfs_file_key_of(v, s, &n, file_key, true) : -ENOMEM;
		if (r == 0) {
			/* Re-wrap under the new level's current version as of this
			 * transaction (a rotation may have committed meanwhile). */
			pthread_mutex_lock(&v->keys_lock);
			r = vfs_keys_sync(v, s);
			if (r >= 0)
				r = kt_keyring_level_current(s->keyring, level, &version, &new_key);
			if (r >= 0)
				r = kt_file_key_wrap(new_key, level, version, n.object_id, file_key,
						     n.file_key);
			pthread_mutex_unlock(&v->keys_lock);
		}
		if (r < 0) {
			meta_tx_rollback(v->db);
			if (r == -EBADMSG)
				vfs_record(v, s, &c, "classify", ino, path, NULL, old, r, NULL,
					   "wrapped file key failed authentication");
			goto out;
		}
	}
	n.level = level;
	n.ctime_ns = meta_now_ns();
	r = meta_node_update(v->db, &n);
	if (r == 0)
		r = vfs_record(v, s, &c, "classify", ino, path, NULL, level, 0, NULL,
			       "level %u->%u", old, level);
	r = meta_tx_end(v->db, r);
	changed = r == 0;
out:
	db_unlock(v);
	if (changed)
		in->level = level;
	pthread_rwlock_unlock(&in->lock);
	/* After the lock: a read waiting for it holds a page the kernel's
	 * invalidation would wait for. */
	if (changed && level > old && v->se)
		fuse_lowlevel_notify_inval_inode(v->se, ino, 0, 0);
	vfs_unpin(v, in);
	kt_secure_free(file_key);
	meta_node_clear(&n);
	free(path);
	return r;
}

static void do_setxattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct vfs *v = vfs_of(req);
	struct meta_xattr x = {0}, old = {0};
	struct meta_node n = {0};
	struct vfs_caller c;
	char *path = NULL;
	int r;

	if (strcmp(name, XATTR_LEVEL) == 0) {
		char text[64];

		if (size == 0 || size >= sizeof(text)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(text, value, size);
		text[size] = '\0';
		text[strcspn(text, "\n")] = '\0';
		r = classify(req, v, s, ino, text);
		fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
		return;
	}
	if (strncmp(name, "user.vault.", 11) == 0) {
		fuse_reply_err(req, EPERM); /* the other vault attributes are read-only */
		return;
	}
	if (!xattr_supported(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (strlen(name) > XATTR_NAME_MAX_BYTES) {
		fuse_reply_err(req, ERANGE);
		return;
	}
	if (size > XATTR_VALUE_MAX) {
		fuse_reply_err(req, E2BIG);
		return;
	}
	caller_of(req, &c);
	vfs_name_hash(s, ino, name, x.name_hash);
	r = vfs_seal_meta(s, KT_META_XATTR_NAME, ino, name, strlen(name), &x.name_enc,
			  &x.name_enc_len);
	if (r == 0) {
		uint64_t ctx = 0;

		memcpy(&ctx, x.name_hash, sizeof(ctx));
		ctx = le64toh(ctx);
		r = vfs_seal_meta(s, KT_META_XATTR_VALUE, ctx, value, size, &x.value_enc,
				  &x.value_enc_len);
	}
	if (r < 0)
		goto reply;
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto unlock;
	r = meta_node_get(v->db, ino, &n);
	if (r == 0)
		r = vfs_path_of(v, s->meta_keys, ino, &path);
	if (r < 0)
		goto end;
	if (!level_ok(s->writable, n.level)) {
		r = vfs_refuse_change(v, s, req, "setxattr", ino, 0, NULL, n.level, -EACCES, NULL);
		goto unlock;
	}
	r = meta_xattr_get(v->db, ino, x.name_hash, &old);
	if (r == 0 && (flags & XATTR_CREATE))
		r = -EEXIST;
	else if (r == -ENOENT)
		r = (flags & XATTR_REPLACE) ? -ENODATA : 0;
	if (r == 0)
		r = meta_xattr_set(v->db, ino, &x);
	n.ctime_ns = meta_now_ns();
	if (r == 0)
		r = meta_node_update(v->db, &n);
	if (r == 0)
		r = vfs_record(v, s, &c, "setxattr", ino, path, NULL, n.level, 0, NULL, "size=%zu",
			       size);
end:
	r = meta_tx_end(v->db, r);
unlock:
	db_unlock(v);
reply:
	meta_xattr_clear(&x);
	meta_xattr_clear(&old);
	meta_node_clear(&n);
	free(path);
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

static void reply_xattr_value(fuse_req_t req, const void *value, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
}

static void do_getxattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct vfs *v = vfs_of(req);
	struct meta_xattr x = {0};
	struct meta_node n = {0};
	uint8_t hash[META_HASH_BYTES];
	uint8_t *value = NULL;
	int r;

	if (!xattr_supported(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	db_lock(v);
	r = meta_node_get(v->db, ino, &n);
	if (r == 0 && strcmp(name, XATTR_LEVEL) == 0) {
		char text[8];
		int len = snprintf(text, sizeof(text), "%u", n.level);

		db_unlock(v);
		meta_node_clear(&n);
		reply_xattr_value(req, text, (size_t)len, size);
		return;
	}
	if (r == 0 && strcmp(name, XATTR_LEVEL_NAME) == 0) {
		char text[128];

		/* the names as the administration key signed them, else the
		 * defaults (keytool/names.c, format.md §13) */
		r = n.level < META_LEVELS
			? kt_level_name(v->db, (uint8_t)n.level, text, sizeof(text))
			: -ENODATA;
		db_unlock(v);
		meta_node_clear(&n);
		if (r < 0)
			fuse_reply_err(req, reply_errno(r));
		else
			reply_xattr_value(req, text, strlen(text), size);
		return;
	}
	if (r == 0) {
		vfs_name_hash(s, ino, name, hash);
		r = meta_xattr_get(v->db, ino, hash, &x);
		if (r == -ENOENT)
			r = -ENODATA;
	}
	if (r == 0 && strncmp(name, "user.", 5) == 0 && !level_ok(s->readable, n.level))
		r = vfs_deny(v, s, req, "getxattr", ino, 0, NULL, n.level, -EACCES, NULL);
	db_unlock(v);
	if (r == 0) {
		size_t len =
		    x.value_enc_len >= KT_META_OVERHEAD ? x.value_enc_len - KT_META_OVERHEAD : 0;
		uint64_t ctx = 0;

		memcpy(&ctx, hash, sizeof(ctx));
		ctx = le64toh(ctx);
		value = malloc(len + 1);
		if (!value)
			r = -ENOMEM;
		else if (x.value_enc_len < KT_META_OVERHEAD)
			r = -EBADMSG;
		else
			r = vfs_meta_open_stored(s->meta_keys, KT_META_XATTR_VALUE, ctx,
						 x.value_enc, x.value_enc_len, value);
		if (r == -EBADMSG)
			vfs_record_integrity(v, s, req, ino, -1,
					     "xattr value failed authentication");
		if (r == 0)
			reply_xattr_value(req, value, len, size);
	}
	if (r < 0)
		fuse_reply_err(req, reply_errno(r));
	free(value);
	meta_xattr_clear(&x);
	meta_node_clear(&n);
}

static void do_listxattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, size_t size)
{
	struct vfs *v = vfs_of(req);
	struct meta_xattr *xs = NULL;
	size_t n = 0, total = 0;
	char *list = NULL;
	int r;

	db_lock(v);
	r = meta_xattr_list(v->db, ino, &xs, &n);
	db_unlock(v);
	if (r == 0) {
		for (size_t i = 0; i < n && r == 0; i++) {
			if (xs[i].name_enc_len < KT_META_OVERHEAD)
				r = -EBADMSG; /* a row shorter than any ciphertext */
			else
				total += xs[i].name_enc_len - KT_META_OVERHEAD + 1;
		}
	}
	if (r == 0) {
		list = malloc(total ? total : 1);
		if (!list)
			r = -ENOMEM;
	}
	for (size_t i = 0, at = 0; r == 0 && i < n; i++) {
		size_t len = xs[i].name_enc_len - KT_META_OVERHEAD;

		r = vfs_meta_open_stored(s->meta_keys, KT_META_XATTR_NAME, ino, xs[i].name_enc,
					 xs[i].name_enc_len, list + at);
		list[at + len] = '\0';
		at += len + 1;
	}
	if (r == -EBADMSG)
		vfs_record_integrity(v, s, req, ino, -1, "xattr name failed authentication");
	if (r < 0)
		fuse_reply_err(req, reply_errno(r));
	else
		reply_xattr_value(req, list, total, size);
	for (size_t i = 0; i < n; i++)
		meta_xattr_clear(&xs[i]);
	free(xs);
	free(list);
}

static void do_removexattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, const char *name)
{
	struct vfs *v = vfs_of(req);
	uint8_t hash[META_HASH_BYTES];
	struct meta_node n = {0};
	struct vfs_caller c;
	char *path = NULL;
	int r;

	if (strncmp(name, "user.vault.", 11) == 0) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (!xattr_supported(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	caller_of(req, &c);
	vfs_name_hash(s, ino, name, hash);
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	r = meta_node_get(v->db, ino, &n);
	if (r == 0)
		r = vfs_path_of(v, s->meta_keys, ino, &path);
	if (r == 0 && !level_ok(s->writable, n.level)) {
		r = vfs_refuse_change(v, s, req, "removexattr", ino, 0, NULL, n.level, -EACCES,
				      NULL);
		goto out;
	}
	if (r == 0) {
		r = meta_xattr_remove(v->db, ino, hash);
		if (r == -ENOENT)
			r = -ENODATA;
	}
	n.ctime_ns = meta_now_ns();
	if (r == 0)
		r = meta_node_update(v->db, &n);
	if (r == 0)
		r = vfs_record(v, s, &c, "removexattr", ino, path, NULL, n.level, 0, NULL, NULL);
	r = meta_tx_end(v->db, r);
out:
	db_unlock(v);
	meta_node_clear(&n);
	free(path);
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

void vfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
		  int flags)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "setxattr", ino, false);

	if (!s)
		return;
	do_setxattr(req, s, ino, name, value, size, flags);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s;

	if (strncmp(name, "security.", 9) == 0) {
		/* Not a namespace vaultfs keeps (see xattr_supported), answered
		 * without the database. "Not supported" rather than "no such
		 * attribute": ls -l asks for security.selinux of every file
		 * until told the filesystem has no labels. */
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (ino == META_ROOT_INO && strcmp(name, VFS_CTL_XATTR) == 0) {
		/* Where locked callers find the control socket to unlock. */
		if (v->control_path)
			reply_xattr_value(req, v->control_path, strlen(v->control_path), size);
		else
			fuse_reply_err(req, ENODATA);
		return;
	}
	s = vfs_session_enter(req, "getxattr", ino, true);

	if (s) {
		do_getxattr(req, s, ino, name, size);
		vfs_session_put(v->sessions, s); /* req is gone after the reply */
	}
}

void vfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "listxattr", ino, true);

	if (!s)
		return;
	do_listxattr(req, s, ino, size);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "removexattr", ino, false);

	if (!s)
		return;
	do_removexattr(req, s, ino, name);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}
