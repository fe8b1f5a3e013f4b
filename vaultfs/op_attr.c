/*
 * vaultfs/op_attr.c — FUSE operations on attributes: getattr, setattr.
 *
 * Stat of a node (with the unflushed size and times of an open file laid
 * over it), and setattr with its helpers: times and owners kept in memory,
 * truncation, and the set-ID bits that writes, truncates and chowns drop.
 */
#include "vaultfs/ops-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vaultfs/fuseio.h"

void vfs_node_to_stat(const struct meta_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_rdev = n->rdev;
	st->st_size = (off_t)n->size;
	st->st_blksize = VFS_CHUNK_SIZE;
	st->st_blocks =
	    (blkcnt_t)((n->size + VFS_CHUNK_SIZE - 1) / VFS_CHUNK_SIZE) * (VFS_CHUNK_SIZE / 512);
	st->st_atim.tv_sec = n->atime_ns / 1000000000;
	st->st_atim.tv_nsec = n->atime_ns % 1000000000;
	st->st_mtim.tv_sec = n->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = n->mtime_ns % 1000000000;
	st->st_ctim.tv_sec = n->ctime_ns / 1000000000;
	st->st_ctim.tv_nsec = n->ctime_ns % 1000000000;
}

/* Overlay the unflushed size and mtime of an open file on its stat. */
void vfs_overlay_open_state(struct vfs *v, struct stat *st)
{
	struct vfs_inode *in = vfs_inode_find(v->itable, st->st_ino);

	if (!in)
		return;
	pthread_rwlock_rdlock(&in->lock);
	if (in->blob && in->dirty) {
		uint64_t size = vfs_blob_size(in->blob);

		st->st_size = (off_t)size;
		st->st_blocks = (blkcnt_t)((size + VFS_CHUNK_SIZE - 1) / VFS_CHUNK_SIZE) *
				(VFS_CHUNK_SIZE / 512);
		st->st_mtim.tv_sec = in->mtime_ns / 1000000000;
		st->st_mtim.tv_nsec = in->mtime_ns % 1000000000;
		st->st_ctim.tv_sec = in->ctime_ns / 1000000000;
		st->st_ctim.tv_nsec = in->ctime_ns % 1000000000;
		if (in->atime_dirty) {
			st->st_atim.tv_sec = in->atime_ns / 1000000000;
			st->st_atim.tv_nsec = in->atime_ns % 1000000000;
		}
	}
	pthread_rwlock_unlock(&in->lock);
	vfs_inode_unpin(v->itable, in);
}

static void do_getattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct meta_node n = {0};
	struct stat st;
	int r;

	if (fi && fi->fh) {
		/* Through an open file (fstat, and in multi-user mode the kernel's
		 * check before it serves a read from cached pages): only while the
		 * opener may still read it. */
		struct vfs_handle *h = handle_of(fi);

		pthread_rwlock_rdlock(&h->inode->lock);
		r = vfs_handle_check(req, h, "getattr", false);
		pthread_rwlock_unlock(&h->inode->lock);
		if (r < 0) {
			fuse_reply_err(req, EACCES);
			return;
		}
	}
	db_lock(v);
	r = meta_node_get(v->db, ino, &n);
	db_unlock(v);
	if (r < 0) {
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	vfs_node_to_stat(&n, &st);
	meta_node_clear(&n);
	vfs_overlay_open_state(v, &st);
	fuse_reply_attr(req, &st, v->attr_timeout);
}

static int64_t timespec_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/*
 * The set-ID bits that a write, a truncate or a chown drops when the kernel
 * says so (fuseio.h): set-user-ID, and set-group-ID when group-executable
 * (without group-execute it means mandatory locking and stays), as the VFS
 * drops them on a disk filesystem.
 */
mode_t vfs_setid_to_drop(mode_t mode)
{
	mode_t drop = mode & S_ISUID;

	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		drop |= S_ISGID;
	return drop;
}

/*
 * Drop the set-ID bits of an open file (in write-locked) after a write or a
 * truncating open by a caller without CAP_FSETID: a change of mode, recorded
 * as a chmod saying why.
 */
int vfs_drop_setid(struct vfs *v, struct vfs_session *s, fuse_req_t req, struct vfs_inode *in,
		   const char *why)
{
	struct meta_node n = {0};
	struct vfs_caller c;
	char *path = NULL;
	int r;

	caller_of(req, &c);
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r == 0)
		r = meta_node_get(v->db, in->ino, &n);
	if (r == 0) {
		n.mode &= ~vfs_setid_to_drop(n.mode);
		n.ctime_ns = meta_now_ns();
		r = meta_node_update(v->db, &n);
	}
	if (r == 0)
		r = vfs_path_of(v, s->meta_keys, in->ino, &path);
	if (r == 0)
		r = vfs_record(v, s, &c, "chmod", in->ino, path, NULL, n.level, 0, NULL,
			       "mode=%04o,set-id dropped by a %s", n.mode & 07777, why);
	r = meta_tx_end(v->db, r);
	db_unlock(v);
	if (r == 0) {
		in->mode = n.mode;
		/* No reply carries the new mode: the kernel's copy is stale. */
		if (v->se)
			fuse_lowlevel_notify_inval_inode(v->se, in->ino, -1, 0);
	}
	free(path);
	meta_node_clear(&n);
	return r;
}

/*
 * Whether a setattr of an open file can wait in memory with the file's other
 * unflushed state, committed with it at release or fsync instead of in a
 * transaction of its own: times (futimens, as tar does before closing), and a
 * chown that changes neither owner nor group and drops no set-ID bit (tar, and
 * cp -p, as the file's owner). Neither is recorded: times never are, and a
 * chown record says that ownership changed, which here it did not.
 */
static bool kept_in_memory(const struct meta_node *n, const struct stat *attr, int to_set)
{
	const int times = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
			  FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME;
	/* (the kernel's "kill set-ID" bit, which a chown carries, is bit 11) */
	const int owner = FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | FUSE_SET_ATTR_KILL_SUID |
			  FUSE_SET_ATTR_KILL_SGID;

	if (to_set & ~(times | owner))
		return false;
	if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != n->uid)
		return false;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != n->gid)
		return false;
	/* a chown drops set-ID bits even when the owner stays (see below) */
	return !vfs_fuseio_kill_suidgid() || S_ISDIR(n->mode) || vfs_setid_to_drop(n->mode) == 0;
}

static void do_setattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_inode *in = vfs_inode_pin(v->itable, ino);
	struct meta_node n = {0};
	struct vfs_caller c;
	char *path = NULL;
	int64_t now = meta_now_ns();
	bool counted = false; /* counter holds the blob header's write counter */
	uint64_t counter = 0;
	struct stat st;
	int r;

	if (!in) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	caller_of(req, &c);
	pthread_rwlock_wrlock(&in->lock);
	if (fi && fi->fh && (to_set & FUSE_SET_ATTR_SIZE)) {
		/* ftruncate: a change of content through an open file, refused
		 * once its opener may no longer write it */
		r = vfs_handle_check(req, handle_of(fi), "truncate", true);
		if (r < 0)
			goto out;
	}
	db_lock(v);
	r = meta_node_get(v->db, ino, &n);
	db_unlock(v);
	if (r < 0)
		goto out;

	if (in->blob && kept_in_memory(&n, attr, to_set)) {
		if (!in->dirty) {
			in->mtime_ns = n.mtime_ns;
			in->dirty = true;
		}
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			in->mtime_ns = now;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			in->mtime_ns = timespec_ns(&attr->st_mtim);
		if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
			in->atime_ns =
			    (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now : timespec_ns(&attr->st_atim);
			in->atime_dirty = true;
		}
		in->ctime_ns = (to_set & FUSE_SET_ATTR_CTIME) ? timespec_ns(&attr->st_ctim) : now;
		pthread_rwlock_unlock(&in->lock);
		vfs_node_to_stat(&n, &st);
		meta_node_clear(&n);
		vfs_overlay_open_state(v, &st);
		vfs_unpin(v, in);
		fuse_reply_attr(req, &st, v->attr_timeout);
		return;
	}

	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (S_ISDIR(n.mode)) {
			r = -EISDIR;
			goto out;
		}
		if (!S_ISREG(n.mode)) {
			r = -EINVAL;
			goto out;
		}
		r = vfs_truncate_content(v, s, req, in, &n, (uint64_t)attr->st_size, &counter);
		counted = r == 0;
		if (r == -EACCES) {
			db_lock(v);
			vfs_deny(v, s, req, "truncate", ino, 0, NULL, n.level, -EACCES, NULL);
			db_unlock(v);
		}
		if (r < 0)
			goto out;
		n.size = (uint64_t)attr->st_size;
		n.mtime_ns = now;
		if (in->blob)
			in->dirty = false; /* n carries the new size and mtime */
	} else if (in->blob && in->dirty) {
		/* the header first, as at release: the row never runs ahead of it */
		r = vfs_blob_sync(in->blob, 0);
		if (r < 0)
			goto out;
		counter = vfs_blob_counter(in->blob);
		counted = true;
		n.size = vfs_blob_size(in->blob);
		n.mtime_ns = in->mtime_ns;
		in->dirty = false;
	}
	if (in->blob && in->atime_dirty) {
		/* an atime set by futimens and not yet written: with either of the above */
		n.atime_ns = in->atime_ns;
		in->atime_dirty = false;
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		n.mode = (n.mode & S_IFMT) | (attr->st_mode & 07777);
	else if (vfs_fuseio_kill_suidgid() && !S_ISDIR(n.mode))
		n.mode &=
		    ~vfs_setid_to_drop(n.mode); /* a chown, or a truncate without CAP_FSETID */
	if (to_set & FUSE_SET_ATTR_UID)
		n.uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n.gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		n.atime_ns = now;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		n.atime_ns = timespec_ns(&attr->st_atim);
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		n.mtime_ns = now;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		n.mtime_ns = timespec_ns(&attr->st_mtim);
	if (to_set & FUSE_SET_ATTR_CTIME)
		n.ctime_ns = timespec_ns(&attr->st_ctim);
	else
		n.ctime_ns = now;
	if (in->blob && (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)))
		in->mtime_ns = n.mtime_ns;

	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r == 0 && n.has_object) {
		/* Keep the wrapped key as it is now, inside the transaction: a
		 * rotation by vaultfs-keytool may have re-wrapped it since we read it. */
		struct meta_node cur = {0};

		r = meta_node_get(v->db, ino, &cur);
		if (r == 0) {
			memcpy(n.file_key, cur.file_key, sizeof(n.file_key));
			memcpy(n.object_id, cur.object_id, sizeof(n.object_id));
			/* The counter too, unless the header just written says more. A
			 * re-encryption since then carried the counter over and past
			 * ours, so the larger one is always the right one. */
			n.write_counter =
			    counted && counter > cur.write_counter ? counter : cur.write_counter;
		}
		meta_node_clear(&cur);
	}
	if (r == 0)
		r = meta_node_update(v->db, &n);
	if (r == 0 && (to_set & (FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
				 FUSE_SET_ATTR_GID)))
		r = vfs_path_of(v, s->meta_keys, ino, &path);
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		r = vfs_record(v, s, &c, "truncate", ino, path, NULL, n.level, 0, NULL, "size=%llu",
			       (unsigned long long)n.size);
	if (r == 0 && (to_set & FUSE_SET_ATTR_MODE))
		r = vfs_record(v, s, &c, "chmod", ino, path, NULL, n.level, 0, NULL, "mode=%04o",
			       n.mode & 07777);
	if (r == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = vfs_record(v, s, &c, "chown", ino, path, NULL, n.level, 0, NULL,
			       "uid=%u gid=%u", n.uid, n.gid);
	r = meta_tx_end(v->db, r);
	db_unlock(v);
	if (r == 0)
		in->mode = n.mode;
out:
	pthread_rwlock_unlock(&in->lock);
	vfs_unpin(v, in);
	free(path);
	if (r < 0) {
		meta_node_clear(&n);
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	vfs_node_to_stat(&n, &st);
	meta_node_clear(&n);
	fuse_reply_attr(req, &st, v->attr_timeout);
}

void vfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s;

	if (ino == META_ROOT_INO) {
		/* The mountpoint itself: anyone may stat it (cd, ls -ld, df). */
		do_getattr(req, NULL, ino, fi);
		return;
	}
	s = vfs_session_enter(req, "getattr", ino, true);

	if (s) {
		do_getattr(req, s, ino, fi);
		vfs_session_put(v->sessions, s); /* req is gone after the reply */
	}
}

void vfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "setattr", ino, false);

	if (!s)
		return;
	do_setattr(req, s, ino, attr, to_set, fi);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}
