/*
 * vaultfs/op_names.c — FUSE operations on names: lookup, forget, create, remove, rename.
 *
 * lookup and forget; mknod, mkdir, symlink (through make_node, also used by
 * create), readlink; link, unlink, rmdir and rename. Each namespace change
 * authorises against the folder's level, applies the change and its access
 * record in one transaction, and replies.
 */
#include "vaultfs/ops-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vaultfs/blobpool.h"
#include "vaultfs/dcache.h"

static void reply_entry_node(fuse_req_t req, struct vfs *v, const struct meta_node *n)
{
	struct fuse_entry_param e = {0};

	e.ino = n->ino;
	e.generation = 1;
	e.attr_timeout = v->attr_timeout;
	e.entry_timeout = v->entry_timeout;
	vfs_node_to_stat(n, &e.attr);
	vfs_overlay_open_state(v, &e.attr);
	if (vfs_inode_lookup(v->itable, n->ino) < 0) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0)
		vfs_inode_forget(v->itable, n->ino, 1); /* interrupted: the kernel has no ref */
}

static void do_lookup(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name)
{
	struct vfs *v = vfs_of(req);
	uint8_t hash[META_HASH_BYTES];
	struct meta_dirent d = {0};
	struct meta_node n = {0};
	int r;

	if (strlen(name) > NAME_MAX_BYTES) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	vfs_name_hash(s, parent, name, hash);
	db_lock(v);
	r = meta_tx_begin_read(v->db);
	if (r == 0) {
		r = meta_dirent_lookup(v->db, parent, hash, &d);
		if (r == 0)
			r = meta_node_get(v->db, d.ino, &n);
		meta_tx_rollback(v->db); /* read only: nothing to keep */
	}
	db_unlock(v);
	meta_dirent_clear(&d);
	if (r == -ENOENT) {
		struct fuse_entry_param e = {.ino = 0, .entry_timeout = v->entry_timeout};

		fuse_reply_entry(req, &e); /* negative entry, cached by the kernel */
	} else if (r < 0) {
		fuse_reply_err(req, reply_errno(r));
	} else {
		reply_entry_node(req, v, &n);
	}
	meta_node_clear(&n);
}

void vfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct vfs *v = vfs_of(req);

	if (vfs_inode_forget(v->itable, ino, nlookup))
		vfs_delete_node(v, ino);
	fuse_reply_none(req);
}

void vfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct vfs *v = vfs_of(req);
	uint64_t *gone = calloc(count ? count : 1, sizeof(*gone));
	size_t ngone = 0;

	/* The kernel forgets in batches (rm -rf): delete a batch in one transaction. */
	for (size_t i = 0; i < count; i++) {
		if (!vfs_inode_forget(v->itable, forgets[i].ino, forgets[i].nlookup))
			continue;
		if (gone)
			gone[ngone++] = forgets[i].ino;
		else
			vfs_delete_node(v, forgets[i].ino);
	}
	if (ngone)
		vfs_delete_nodes(v, gone, ngone);
	free(gone);
	fuse_reply_none(req);
}

/*
 * Create a node named nn->name in parent: authorise, make a blob for regular
 * files, insert node + entry + record in one transaction. On success *ret_node
 * is the new node, for regular files *ret_blob its open blob (closed when
 * ret_blob is NULL), and *ret_record (if given) the create record's id.
 */
int vfs_make_node(fuse_req_t req, struct vfs *v, struct vfs_session *s, uint64_t parent,
		  const struct vfs_new_node *nn, struct meta_node *ret_node,
		  struct vfs_blob **ret_blob, int64_t *ret_record)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct meta_node dir = {0}, n = {0};
	uint8_t hash[META_HASH_BYTES];
	uint8_t *name_enc = NULL;
	size_t name_enc_len = 0;
	struct vfs_blob *blob = NULL;
	uint8_t *file_key = NULL;
	struct vfs_caller c;
	char *path = NULL;
	int64_t now = meta_now_ns();
	int pool_fd, r;

	if (strlen(nn->name) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	caller_of(req, &c);
	db_lock(v);
	r = meta_node_get(v->db, parent, &dir);
	if (r < 0)
		goto out;
	if (!S_ISDIR(dir.mode)) {
		r = -ENOTDIR;
		goto out;
	}
	if (!level_ok(s->writable, dir.level)) {
		r = vfs_deny(v, s, req, nn->op, 0, parent, nn->name, dir.level, -EACCES,
			     "folder level not held");
		goto out;
	}

	n.mode = nn->mode;
	n.uid = ctx->uid;
	n.gid = (dir.mode & S_ISGID) ? dir.gid : ctx->gid;
	if (S_ISDIR(n.mode) && (dir.mode & S_ISGID))
		n.mode |= S_ISGID;
	n.nlink = S_ISDIR(n.mode) ? 2 : 1;
	n.rdev = nn->rdev;
	n.atime_ns = n.mtime_ns = n.ctime_ns = now;
	n.level = dir.level;
	n.level_r = dir.level_r;
	n.level_t = dir.level_t;
	n.level_s = dir.level_s;
	if (nn->symlink)
		n.size = strlen(nn->symlink);

	if (S_ISREG(n.mode)) {
		/* The content key and blob now; the key is wrapped in the transaction. */
		file_key = kt_secure_alloc(KT_KEY_BYTES);
		if (!file_key) {
			r = -ENOMEM;
			goto out;
		}
		kt_random(file_key, KT_KEY_BYTES);
		n.has_object = true;
		if (v->blobpool && vfs_blobpool_take(v->blobpool, n.object_id, &pool_fd) == 0) {
			r = vfs_blob_create_from(v->store, vfs_blobpool_fd(v->blobpool), pool_fd,
						 n.object_id, file_key, &blob);
		} else {
			kt_random(n.object_id, KT_OBJECT_ID_BYTES);
			r = vfs_blob_create(v->store, n.object_id, file_key, 0, &blob);
		}
		if (r < 0)
			goto out;
	}

	vfs_name_hash(s, parent, nn->name, hash);
	r = vfs_seal_meta(s, KT_META_NAME, parent, nn->name, strlen(nn->name), &name_enc,
			  &name_enc_len);
	if (r < 0)
		goto out;
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	if (S_ISREG(n.mode)) {
		const uint8_t *level_key;
		uint32_t version;

		/* Wrap under the level's current version as of this transaction:
		 * a rotation that committed meanwhile must not be missed. */
		pthread_mutex_lock(&v->keys_lock);
		r = vfs_keys_sync(v, s);
		if (r >= 0)
			r = kt_keyring_level_current(s->keyring, n.level, &version, &level_key);
		if (r >= 0)
			r = kt_file_key_wrap(level_key, n.level, version, n.object_id, file_key,
					     n.file_key);
		pthread_mutex_unlock(&v->keys_lock);
		if (r == -ENOKEY || r == -EACCES) {
			r = vfs_refuse_change(v, s, req, nn->op, 0, parent, nn->name, n.level,
					      -EACCES, "no level key");
			goto out;
		}
	}
	if (r >= 0)
		r = meta_node_insert(v->db, &n);
	if (r == 0 && nn->symlink) {
		r = vfs_seal_meta(s, KT_META_SYMLINK, n.ino, nn->symlink, strlen(nn->symlink),
				  &n.symlink_enc, &n.symlink_enc_len);
		if (r == 0)
			r = meta_node_update(v->db, &n);
	}
	if (r == 0)
		r = meta_dirent_insert(v->db, parent, hash, name_enc, name_enc_len, n.ino);
	if (r == 0) {
		dir.mtime_ns = dir.ctime_ns = now;
		if (S_ISDIR(n.mode))
			dir.nlink++;
		r = meta_node_update(v->db, &dir);
	}
	if (r == 0)
		r = vfs_path_join(v, s->meta_keys, parent, nn->name, &path);
	if (r == 0)
		r = vfs_record(v, s, &c, nn->op, n.ino, path, NULL, n.level, 0, ret_record,
			       "mode=%04o", n.mode & 07777);
	r = meta_tx_end(v->db, r);
out:
	db_unlock(v);
	if (r < 0 && blob) {
		blob = vfs_blob_close(blob, NULL);
		kt_store_remove(v->store, n.object_id);
	}
	kt_secure_free(file_key);
	free(name_enc);
	free(path);
	meta_node_clear(&dir);
	if (r < 0) {
		meta_node_clear(&n);
		return r;
	}
	*ret_node = n;
	if (ret_blob)
		*ret_blob = blob;
	else
		vfs_blob_close(blob, NULL);
	return 0;
}

static void reply_new_node(fuse_req_t req, struct vfs *v, struct vfs_session *s, uint64_t parent,
			   const struct vfs_new_node *nn)
{
	struct meta_node n = {0};
	int r = vfs_make_node(req, v, s, parent, nn, &n, NULL, NULL);

	if (r < 0) {
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	reply_entry_node(req, v, &n);
	meta_node_clear(&n);
}

static void do_mknod(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct vfs_new_node nn = {.name = name, .mode = mode, .rdev = rdev, .op = "mknod"};

	reply_new_node(req, vfs_of(req), s, parent, &nn);
}

static void do_mkdir(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct vfs_new_node nn = {.name = name, .mode = S_IFDIR | (mode & 07777), .op = "mkdir"};

	reply_new_node(req, vfs_of(req), s, parent, &nn);
}

static void do_symlink(fuse_req_t req, struct vfs_session *s, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct vfs_new_node nn = {
	    .name = name, .mode = S_IFLNK | 0777, .symlink = link, .op = "symlink"};

	if (strlen(link) >= PATH_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	reply_new_node(req, vfs_of(req), s, parent, &nn);
}

static void do_readlink(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino)
{
	struct vfs *v = vfs_of(req);
	struct meta_node n = {0};
	char *target = NULL;
	int r;

	db_lock(v);
	r = meta_node_get(v->db, ino, &n);
	db_unlock(v);
	if (r == 0 && (!S_ISLNK(n.mode) || n.symlink_enc_len < KT_META_OVERHEAD))
		r = S_ISLNK(n.mode) ? -EBADMSG : -EINVAL;
	if (r == 0) {
		size_t len = n.symlink_enc_len - KT_META_OVERHEAD;

		target = malloc(len + 1);
		r = target ? vfs_meta_open_stored(s->meta_keys, KT_META_SYMLINK, ino, n.symlink_enc,
						  n.symlink_enc_len, target)
			   : -ENOMEM;
		if (r == 0)
			target[len] = '\0';
	}
	meta_node_clear(&n);
	if (r == -EBADMSG)
		vfs_record_integrity(v, s, req, ino, -1, "symlink target");
	if (r < 0)
		fuse_reply_err(req, reply_errno(r));
	else
		fuse_reply_readlink(req, target);
	free(target);
}

static void remove_entry(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name,
			 bool is_rmdir)
{
	struct vfs *v = vfs_of(req);
	const char *op = is_rmdir ? "rmdir" : "unlink";
	struct meta_node dir = {0}, n = {0};
	uint8_t hash[META_HASH_BYTES];
	struct meta_dirent d = {0};
	struct vfs_caller c;
	char *path = NULL;
	int64_t now = meta_now_ns();
	bool gone = false, deleted = false;
	int r;

	caller_of(req, &c);
	vfs_name_hash(s, parent, name, hash);
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	r = meta_node_get(v->db, parent, &dir);
	if (r == 0)
		r = meta_dirent_lookup(v->db, parent, hash, &d);
	if (r == 0)
		r = meta_node_get(v->db, d.ino, &n);
	if (r == 0 && is_rmdir && !S_ISDIR(n.mode))
		r = -ENOTDIR;
	if (r == 0 && !is_rmdir && S_ISDIR(n.mode))
		r = -EISDIR;
	if (r < 0)
		goto end;
	if (!level_ok(s->writable, dir.level) || !level_ok(s->writable, n.level)) {
		r = vfs_refuse_change(v, s, req, op, n.ino, parent, name, n.level, -EACCES, NULL);
		goto out;
	}
	if (is_rmdir) {
		bool has = false;

		r = meta_dirent_has_children(v->db, n.ino, &has);
		if (r == 0 && has)
			r = -ENOTEMPTY;
		if (r < 0)
			goto end;
	}
	r = vfs_path_join(v, s->meta_keys, parent, name, &path);
	if (r == 0)
		r = meta_dirent_delete(v->db, parent, hash);
	if (r < 0)
		goto end;
	n.nlink = is_rmdir ? 0 : n.nlink - 1;
	n.ctime_ns = now;
	dir.mtime_ns = dir.ctime_ns = now;
	if (is_rmdir)
		dir.nlink--;
	/* The last name, and nothing has it open: the node goes now, in this
	 * transaction, rather than in one of its own when the kernel forgets it. */
	deleted = n.nlink == 0 && vfs_inode_unused(v->itable, n.ino);
	r = deleted ? meta_node_delete(v->db, n.ino) : meta_node_update(v->db, &n);
	if (r == 0)
		r = meta_node_update(v->db, &dir);
	if (r == 0)
		r = vfs_record(v, s, &c, op, n.ino, path, NULL, n.level, 0, NULL, NULL);
end:
	r = meta_tx_end(v->db, r);
	gone = r == 0 && n.nlink == 0 && !deleted;
out:
	if (is_rmdir && n.ino)
		vfs_dcache_drop(v->dcache, n.ino);
	db_unlock(v);
	if (r == 0 && deleted && n.has_object)
		vfs_blob_discard(v, n.object_id); /* its row is gone for good */
	if (gone)
		vfs_node_unlinked(v, n.ino);
	meta_dirent_clear(&d);
	meta_node_clear(&n);
	meta_node_clear(&dir);
	free(path);
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

static void do_unlink(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name)
{
	remove_entry(req, s, parent, name, false);
}

static void do_rmdir(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name)
{
	remove_entry(req, s, parent, name, true);
}

static void do_rename(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct vfs *v = vfs_of(req);
	struct meta_node sdir = {0}, ddir = {0}, src = {0}, dst = {0};
	uint8_t shash[META_HASH_BYTES], dhash[META_HASH_BYTES];
	struct meta_dirent sd = {0}, dd = {0};
	struct meta_node *dirp;
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	struct vfs_caller c;
	char *path = NULL, *path2 = NULL;
	int64_t now = meta_now_ns();
	bool have_dst = false, victim_gone = false;
	bool same_dir = parent == newparent;
	int r;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (strlen(newname) > NAME_MAX_BYTES) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	caller_of(req, &c);
	vfs_name_hash(s, parent, name, shash);
	vfs_name_hash(s, newparent, newname, dhash);
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	r = meta_node_get(v->db, parent, &sdir);
	if (r == 0)
		r = same_dir ? 0 : meta_node_get(v->db, newparent, &ddir);
	if (r == 0)
		r = meta_dirent_lookup(v->db, parent, shash, &sd);
	if (r == 0)
		r = meta_node_get(v->db, sd.ino, &src);
	if (r < 0)
		goto end;
	r = meta_dirent_lookup(v->db, newparent, dhash, &dd);
	if (r == 0) {
		have_dst = true;
		r = meta_node_get(v->db, dd.ino, &dst);
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r < 0)
		goto end;
	dirp = same_dir ? &sdir : &ddir;
	if (!S_ISDIR(dirp->mode)) {
		r = -ENOTDIR;
		goto end;
	}
	if (have_dst && (flags & RENAME_NOREPLACE)) {
		r = -EEXIST;
		goto end;
	}
	if (!have_dst && (flags & RENAME_EXCHANGE)) {
		r = -ENOENT;
		goto end;
	}
	if (have_dst && dst.ino == src.ino) {
		/* Two names of one inode: POSIX says do nothing. */
		r = 0;
		goto end;
	}
	if (!level_ok(s->writable, sdir.level) || !level_ok(s->writable, dirp->level) ||
	    !level_ok(s->writable, src.level) || (have_dst && !level_ok(s->writable, dst.level))) {
		r = vfs_refuse_change(v, s, req, "rename", src.ino, parent, name, src.level,
				      -EACCES, NULL);
		goto out;
	}
	if (have_dst && !(flags & RENAME_EXCHANGE)) {
		if (S_ISDIR(dst.mode) && !S_ISDIR(src.mode)) {
			r = -EISDIR;
			goto end;
		}
		if (!S_ISDIR(dst.mode) && S_ISDIR(src.mode)) {
			r = -ENOTDIR;
			goto end;
		}
		if (S_ISDIR(dst.mode)) {
			bool has = false;

			r = meta_dirent_has_children(v->db, dst.ino, &has);
			if (r == 0 && has)
				r = -ENOTEMPTY;
			if (r < 0)
				goto end;
		}
	}
	r = vfs_path_join(v, s->meta_keys, parent, name, &path);
	if (r == 0)
		r = vfs_path_join(v, s->meta_keys, newparent, newname, &path2);
	if (r < 0)
		goto end;

	if (flags & RENAME_EXCHANGE) {
		r = meta_dirent_set_ino(v->db, parent, shash, dst.ino);
		if (r == 0)
			r = meta_dirent_set_ino(v->db, newparent, dhash, src.ino);
		if (r == 0 && !same_dir && S_ISDIR(src.mode) != S_ISDIR(dst.mode)) {
			/* A directory changed parents: move one ".." link. */
			if (S_ISDIR(src.mode)) {
				sdir.nlink--;
				ddir.nlink++;
			} else {
				sdir.nlink++;
				ddir.nlink--;
			}
		}
		dst.ctime_ns = now;
		if (r == 0)
			r = meta_node_update(v->db, &dst);
	} else {
		r = meta_dirent_delete(v->db, parent, shash);
		if (r == 0 && have_dst) {
			r = meta_dirent_set_ino(v->db, newparent, dhash, src.ino);
			if (S_ISDIR(dst.mode)) {
				dst.nlink = 0;
				dirp->nlink--;
			} else {
				dst.nlink--;
			}
			dst.ctime_ns = now;
			if (r == 0)
				r = meta_node_update(v->db, &dst);
			victim_gone = dst.nlink == 0;
		} else if (r == 0) {
			r = vfs_seal_meta(s, KT_META_NAME, newparent, newname, strlen(newname),
					  &enc, &enc_len);
			if (r == 0)
				r = meta_dirent_insert(v->db, newparent, dhash, enc, enc_len,
						       src.ino);
		}
		if (r == 0 && S_ISDIR(src.mode) && !same_dir) {
			sdir.nlink--;
			ddir.nlink++;
		}
	}
	src.ctime_ns = now;
	sdir.mtime_ns = sdir.ctime_ns = now;
	ddir.mtime_ns = ddir.ctime_ns = now;
	if (r == 0)
		r = meta_node_update(v->db, &src);
	if (r == 0)
		r = meta_node_update(v->db, &sdir);
	if (r == 0 && !same_dir)
		r = meta_node_update(v->db, &ddir);
	if (r == 0)
		r = vfs_record(v, s, &c, "rename", src.ino, path, path2, src.level, 0, NULL, "%s",
			       (flags & RENAME_EXCHANGE)    ? "exchange"
			       : (flags & RENAME_NOREPLACE) ? "noreplace"
			       : have_dst		    ? "replace"
							    : "");
end:
	r = meta_tx_end(v->db, r);
	if (r < 0)
		victim_gone = false;
out:
	/* A renamed directory's cached name is stale, whatever the outcome (a
	 * record path may have cached the new one in a transaction rolled back). */
	if (src.ino)
		vfs_dcache_drop(v->dcache, src.ino);
	if (dst.ino)
		vfs_dcache_drop(v->dcache, dst.ino);
	db_unlock(v);
	if (r == 0 && victim_gone)
		vfs_node_unlinked(v, dst.ino);
	meta_dirent_clear(&sd);
	meta_dirent_clear(&dd);
	meta_node_clear(&sdir);
	meta_node_clear(&ddir);
	meta_node_clear(&src);
	meta_node_clear(&dst);
	free(enc);
	free(path);
	free(path2);
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

static void do_link(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct vfs *v = vfs_of(req);
	struct meta_node dir = {0}, n = {0};
	uint8_t hash[META_HASH_BYTES];
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	struct vfs_caller c;
	char *path = NULL;
	int64_t now = meta_now_ns();
	int r;

	if (strlen(newname) > NAME_MAX_BYTES) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	caller_of(req, &c);
	vfs_name_hash(s, newparent, newname, hash);
	r = vfs_seal_meta(s, KT_META_NAME, newparent, newname, strlen(newname), &enc, &enc_len);
	if (r < 0) {
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	r = meta_node_get(v->db, ino, &n);
	if (r == 0)
		r = meta_node_get(v->db, newparent, &dir);
	if (r == 0 && S_ISDIR(n.mode))
		r = -EPERM;
	if (r < 0)
		goto end;
	if (!level_ok(s->writable, dir.level) || !level_ok(s->writable, n.level)) {
		r = vfs_refuse_change(v, s, req, "link", ino, newparent, newname, n.level, -EACCES,
				      NULL);
		goto out;
	}
	r = meta_dirent_insert(v->db, newparent, hash, enc, enc_len, ino);
	n.nlink++;
	n.ctime_ns = now;
	dir.mtime_ns = dir.ctime_ns = now;
	if (r == 0)
		r = meta_node_update(v->db, &n);
	if (r == 0)
		r = meta_node_update(v->db, &dir);
	if (r == 0)
		r = vfs_path_join(v, s->meta_keys, newparent, newname, &path);
	if (r == 0)
		r = vfs_record(v, s, &c, "link", ino, path, NULL, n.level, 0, NULL, "nlink=%u",
			       n.nlink);
end:
	r = meta_tx_end(v->db, r);
out:
	db_unlock(v);
	free(enc);
	free(path);
	meta_node_clear(&dir);
	if (r < 0)
		fuse_reply_err(req, reply_errno(r));
	else
		reply_entry_node(req, v, &n);
	meta_node_clear(&n);
}

void vfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "lookup", parent, true);

	if (!s)
		return;
	do_lookup(req, s, parent, name);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "mknod", parent, false);

	if (!s)
		return;
	do_mknod(req, s, parent, name, mode, rdev);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "mkdir", parent, false);

	if (!s)
		return;
	do_mkdir(req, s, parent, name, mode);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "symlink", parent, false);

	if (!s)
		return;
	do_symlink(req, s, link, parent, name);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "readlink", ino, true);

	if (!s)
		return;
	do_readlink(req, s, ino);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "unlink", parent, false);

	if (!s)
		return;
	do_unlink(req, s, parent, name);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "rmdir", parent, false);

	if (!s)
		return;
	do_rmdir(req, s, parent, name);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "rename", parent, false);

	if (!s)
		return;
	do_rename(req, s, parent, name, newparent, newname, flags);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "link", ino, false);

	if (!s)
		return;
	do_link(req, s, ino, newparent, newname);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}
