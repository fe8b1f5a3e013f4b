/*
 * vaultfs/op_files.c — FUSE operations on open files: open, create, read, write, release, fsync.
 *
 * Per-open state lives in a struct vfs_handle in fi->fh. Opening authorises
 * against the file's level and appends the open record; reads and writes take
 * only the inode's rwlock and touch the blob; byte counts, size and mtime reach
 * the record, the blob header and the database at release and fsync. There is
 * no flush handler: writes are synchronous, so close() has nothing to wait
 * for, and without one the kernel stops sending FLUSH.
 */
#include "vaultfs/ops-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "vaultfs/deferred.h"
#include "vaultfs/fuseio.h"

static const char *open_mode(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_WRONLY:
		return "w";
	case O_RDWR:
		return "rw";
	default:
		return "r";
	}
}

/*
 * Drop one open of in, committing its close record (the byte counts); the last
 * open also commits the size and mtime (same transaction) and closes the blob.
 */
static int release_open(struct vfs *v, struct vfs_inode *in, int64_t record_id, int64_t bytes_read,
			int64_t bytes_written)
{
	int r = 0, r2 = 0;
	bool last, node, queued = false;

	pthread_rwlock_wrlock(&in->lock);
	last = in->nopen > 0 && --in->nopen == 0;
	node = last && in->blob && in->dirty;
	/* Byte counts alone need no transaction of their own (deferred.h). */
	if (v->deferred && record_id > 0 && !node)
		queued = vfs_deferred_bytes(v->deferred, record_id, bytes_read, bytes_written) == 0;
	r = vfs_inode_commit(v, in, last, queued ? 0 : record_id, bytes_read, bytes_written);
	if (last && in->blob) {
		in->blob = vfs_blob_close(in->blob, &r2);
		in->dirty = false;
	}
	pthread_rwlock_unlock(&in->lock);
	return r < 0 ? r : r2;
}

static int record_open(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c,
		       const char *op, uint64_t ino, const char *path, int level, int outcome,
		       int flags, int64_t *ret_id, const char *why)
{
	int r;

	db_lock(v);
	r = vfs_record(v, s, c, op, ino, path, NULL, level, outcome, ret_id, "flags=%s%s%s%s",
		       open_mode(flags), (flags & O_TRUNC) ? ",trunc" : "",
		       (flags & O_APPEND) ? ",append" : "", why ? why : "");
	db_unlock(v);
	return r;
}

/* End a handle: append its close record, drop the open and the pin. */
static int close_handle(struct vfs *v, struct vfs_handle *h)
{
	struct vfs_inode *in = h->inode;
	int r = release_open(v, in, h->record_id, atomic_load(&h->bytes_read),
			     atomic_load(&h->bytes_written));

	vfs_unpin(v, in);
	vfs_session_put(v->sessions, h->session);
	free(h);
	return r;
}

/* Why s may not open a file of level (writing: for writing), as the open
 * record says it; NULL if it may. */
static const char *open_refusal(const struct vfs_session *s, uint8_t level, bool writing)
{
	if (!level_ok(s->readable, level))
		return level_ok(s->expired, level) ? ",level idle-expired" : ",level not held";
	if (writing && !level_ok(s->writable, level))
		return ",level read-only";
	return NULL;
}

/*
 * Authorise and open ino for a handle: level checks, blob open, O_TRUNC, the
 * open record. On success fi->fh holds the new handle.
 *
 * The node is read before the inode's lock is taken. A change of level that
 * commits meanwhile is seen under the lock: classify() sets in->level under
 * it, and in is pinned before the read, so a classify after the read finds
 * this same entry. A level there that differs from the one read means the
 * read is stale: it is read and authorised again under the lock.
 */
static int open_file(fuse_req_t req, struct vfs *v, struct vfs_session *s, uint64_t ino,
		     struct fuse_file_info *fi)
{
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
	struct vfs_handle *h = calloc(1, sizeof(*h));
	struct vfs_inode *in = vfs_inode_pin(v->itable, ino);
	struct meta_node n = {0};
	const char *why = NULL;
	struct vfs_caller c;
	char *path = NULL;
	int r;

	caller_of(req, &c);
	if (!h || !in) {
		r = -ENOMEM;
		goto out;
	}
	db_lock(v);
	r = meta_tx_begin_read(v->db);
	if (r == 0) {
		r = meta_node_get(v->db, ino, &n);
		if (r == 0 && !S_ISREG(n.mode))
			r = S_ISDIR(n.mode) ? -EISDIR : -EINVAL;
		if (r == 0)
			r = vfs_path_of(v, s->meta_keys, ino, &path);
		meta_tx_rollback(v->db); /* read only: nothing to keep */
	}
	db_unlock(v);
	if (r < 0)
		goto out;
	why = open_refusal(s, n.level, writing);
	if (why)
		goto refused;

	pthread_rwlock_wrlock(&in->lock);
	if (in->level >= 0 && in->level != n.level) {
		/* classified since n was read */
		meta_node_clear(&n);
		db_lock(v);
		r = meta_node_get(v->db, ino, &n);
		db_unlock(v);
		why = r == 0 ? open_refusal(s, n.level, writing) : NULL;
		if (r < 0 || why) {
			pthread_rwlock_unlock(&in->lock);
			if (why)
				goto refused;
			goto out;
		}
	}
	in->level = n.level;
	r = vfs_inode_open_blob(v, s, in, &n);
	/* n was read before in->lock: a chmod since then has set in->mode
	 * already (under the lock), and n's mode would undo it */
	if (r == 0 && in->mode == 0)
		in->mode = n.mode;
	/* set-ID bits before the content, as for a write */
	if (r == 0 && (fi->flags & O_TRUNC) && vfs_fuseio_kill_suidgid() &&
	    vfs_setid_to_drop(in->mode))
		r = vfs_drop_setid(v, s, req, in, "truncating open");
	if (r == 0 && (fi->flags & O_TRUNC) && vfs_blob_size(in->blob) > 0) {
		r = vfs_blob_truncate(in->blob, 0);
		if (r == 0) {
			in->dirty = true;
			in->mtime_ns = in->ctime_ns = meta_now_ns();
		}
	}
	if (r == 0)
		in->nopen++;
	else if (in->nopen == 0 && in->blob)
		in->blob = vfs_blob_close(in->blob, NULL);
	pthread_rwlock_unlock(&in->lock);

	if (r == -EACCES && (why = open_refusal(s, n.level, writing)))
		goto refused; /* the keys were refreshed on the way: a revocation */
	if (r < 0) {
		/* -EBADMSG here is an integrity incident: the record says so. */
		record_open(v, s, &c, "open", ino, path, n.level, r, fi->flags, NULL, NULL);
		goto out;
	}
	r = record_open(v, s, &c, "open", ino, path, n.level, 0, fi->flags, &h->record_id, NULL);
	if (r < 0) {
		/* No record, no access: undo the open. */
		release_open(v, in, 0, 0, 0);
		goto out;
	}
	h->inode = in;
	h->flags = fi->flags;
	h->uid = fuse_req_ctx(req)->uid;
	h->session = s;
	vfs_session_pin(v->sessions, s);
	fi->fh = (uint64_t)(uintptr_t)h;
	/* Content only changes through this daemon, so the kernel's cached pages
	 * stay valid across opens. Not in multi-user mode: there every open
	 * starts uncached, and attributes are revalidated before each read, so
	 * a lock or an expired level also stops reads of cached pages. */
	fi->keep_cache = !v->multi_user;
	in = NULL;
	h = NULL;
	goto out;
refused:
	r = -EACCES;
	record_open(v, s, &c, "open", ino, path, n.level, r, fi->flags, NULL, why);
out:
	if (in)
		vfs_unpin(v, in);
	free(h);
	free(path);
	meta_node_clear(&n);
	return r;
}

static void do_open(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino,
		    struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	int r = open_file(req, v, s, ino, fi);

	if (r < 0)
		fuse_reply_err(req, reply_errno(r));
	else if (fuse_reply_open(req, fi) != 0)
		close_handle(v, handle_of(fi)); /* interrupted: no release will come */
}

static void do_create(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_new_node nn = {.name = name, .mode = S_IFREG | (mode & 07777), .op = "create"};
	struct fuse_entry_param e = {0};
	struct vfs_handle *h = calloc(1, sizeof(*h));
	struct vfs_blob *blob = NULL;
	struct vfs_inode *in = NULL;
	struct meta_node n = {0};
	int r;

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = vfs_make_node(req, v, s, parent, &nn, &n, &blob, &h->record_id);
	if (r < 0) {
		free(h);
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	in = vfs_inode_pin(v->itable, n.ino);
	if (!in || vfs_inode_lookup(v->itable, n.ino) < 0) {
		/* Out of memory after the file exists: it stays, empty. */
		vfs_blob_close(blob, NULL);
		if (in)
			vfs_unpin(v, in);
		free(h);
		meta_node_clear(&n);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_rwlock_wrlock(&in->lock);
	in->blob = blob;
	in->mode = n.mode;
	if (in->level < 0) /* else a change of level since the create has set it */
		in->level = n.level;
	in->nopen++;
	pthread_rwlock_unlock(&in->lock);
	/* The "create" record stands for this open: its bytes are counted there. */
	h->inode = in;
	h->flags = fi->flags;
	h->uid = fuse_req_ctx(req)->uid;
	h->session = s;
	vfs_session_pin(v->sessions, s);
	fi->fh = (uint64_t)(uintptr_t)h;

	e.ino = n.ino;
	e.generation = 1;
	e.attr_timeout = v->attr_timeout;
	e.entry_timeout = v->entry_timeout;
	vfs_node_to_stat(&n, &e.attr);
	meta_node_clear(&n);
	if (fuse_reply_create(req, &e, fi) != 0) {
		/* Interrupted: the kernel holds neither the entry nor the handle. */
		vfs_inode_forget(v->itable, e.ino, 1);
		close_handle(v, h);
	}
}

void vfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_handle *h = handle_of(fi);
	struct vfs_inode *in = h->inode;
	struct vfs_session *s = h->session;
	uint8_t *buf = malloc(size ? size : 1);
	int level;
	ssize_t n;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* checked under the lock that a change of level takes */
	pthread_rwlock_rdlock(&in->lock);
	level = in->level;
	n = vfs_handle_check(req, h, "read", false);
	if (n == 0)
		n = in->blob ? vfs_blob_read(in->blob, buf, size, (uint64_t)off) : -EBADF;
	pthread_rwlock_unlock(&in->lock);
	if (n == -EBADMSG)
		vfs_record_integrity(v, s, req, ino, level, "content chunk failed authentication");
	if (n < 0) {
		fuse_reply_err(req, reply_errno((int)n));
	} else {
		atomic_fetch_add(&h->bytes_read, n);
		fuse_reply_buf(req, (const char *)buf, (size_t)n);
	}
	free(buf);
}

void vfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_handle *h = handle_of(fi);
	struct vfs_inode *in = h->inode;
	struct vfs_session *s = h->session;
	int level;
	ssize_t n;

	/* checked under the lock that a change of level takes */
	pthread_rwlock_wrlock(&in->lock);
	level = in->level;
	n = vfs_handle_check(req, h, "write", true);
	if (n == 0 && !in->blob)
		n = -EBADF;
	if (n == 0) {
		uint64_t at = (h->flags & O_APPEND) ? vfs_blob_size(in->blob) : (uint64_t)off;

		/* Set-ID bits go before the data, as the kernel drops them on a
		 * disk filesystem: a write that cannot drop them does not happen. */
		if (vfs_fuseio_kill_suidgid() && vfs_setid_to_drop(in->mode))
			n = vfs_drop_setid(v, s, req, in, "write");
		if (n == 0)
			n = vfs_blob_write(in->blob, buf, size, at);
		if (n >= 0) {
			in->dirty = true;
			in->mtime_ns = in->ctime_ns = meta_now_ns();
		}
	}
	pthread_rwlock_unlock(&in->lock);
	if (n == -EBADMSG)
		vfs_record_integrity(v, s, req, ino, level, "content chunk failed authentication");
	if (n < 0) {
		fuse_reply_err(req, reply_errno((int)n));
		return;
	}
	atomic_fetch_add(&h->bytes_written, n);
	fuse_reply_write(req, (size_t)n);
}

void vfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r = close_handle(vfs_of(req), handle_of(fi));

	(void)ino;
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

void vfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_handle *h = handle_of(fi);
	struct vfs_inode *in = h->inode;
	int r;

	(void)ino;
	(void)datasync;
	pthread_rwlock_wrlock(&in->lock);
	/* like every use of a handle but its release: refused once the opener
	 * may no longer read the file */
	r = vfs_handle_check(req, h, "fsync", false);
	if (r == 0)
		r = in->blob ? vfs_blob_sync(in->blob, 1) : 0;
	if (r == 0)
		r = vfs_inode_flush(v, in);
	pthread_rwlock_unlock(&in->lock);
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

void vfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "open", ino, false);

	if (!s)
		return;
	do_open(req, s, ino, fi);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "create", parent, false);

	if (!s)
		return;
	do_create(req, s, parent, name, mode, fi);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}
