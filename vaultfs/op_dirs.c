/*
 * vaultfs/op_dirs.c — FUSE operations on directories: opendir, readdir, readdirplus, statfs.
 *
 * Listings decrypt names in batches from the database; readdirplus also
 * returns each entry's attributes.
 */
#include "vaultfs/ops-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <linux/fuse.h> /* struct fuse_direntplus */

#define READDIR_BATCH 128

static void do_opendir(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct meta_node n = {0};
	int r;

	db_lock(v);
	r = meta_node_get(v->db, ino, &n);
	db_unlock(v);
	if (r == 0 && !S_ISDIR(n.mode))
		r = -ENOTDIR;
	meta_node_clear(&n);
	if (r < 0) {
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	fi->fh = 0;
	fi->cache_readdir = 0;
	fuse_reply_open(req, fi);
}

/* Free a batch of directory entries and their nodes (nodes may be NULL). */
static void free_batch(struct meta_dirent *ents, struct meta_node *nodes, size_t n)
{
	for (size_t i = 0; ents && i < n; i++) {
		meta_dirent_clear(&ents[i]);
		if (nodes)
			meta_node_clear(&nodes[i]);
	}
	free(ents);
	free(nodes);
}

/*
 * readdir and readdirplus. Offsets: 1 after ".", 2 after "..", and id + 2
 * after the entry with row id id, so a listing resumes exactly where the
 * kernel's buffer filled up. With plus, each entry carries its attributes
 * and takes a lookup reference (undone if the reply does not reach the
 * kernel); "." and ".." never do.
 */
static void list_dir(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, size_t size, off_t off,
		     bool plus)
{
	struct vfs *v = vfs_of(req);
	char *buf = calloc(1, size);
	struct meta_dirent *ents = NULL;
	uint64_t *looked_up = NULL;
	size_t used = 0, n = 0, nlooked = 0;
	/* no more names than the reply can hold: a READDIRPLUS entry takes at
	 * least the fixed part of struct fuse_direntplus, so a page holds ~25 */
	size_t batch = plus ? size / sizeof(struct fuse_direntplus) + 1 : READDIR_BATCH;
	bool full = false;
	int r = 0;

	if (batch > READDIR_BATCH)
		batch = READDIR_BATCH;
	if (!buf || (plus && !(looked_up = calloc(size / 24 + 1, sizeof(*looked_up))))) {
		free(buf);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* "." and ".." first (offsets 1 and 2); off is 64-bit: clamp before narrowing */
	for (int dot = off <= 0 ? 0 : off >= 2 ? 2 : (int)off; dot < 2 && !full; dot++) {
		struct fuse_entry_param e = {0};
		const char *name = dot == 0 ? "." : "..";
		size_t len;

		e.attr.st_ino = ino;
		e.attr.st_mode = S_IFDIR;
		len = plus
			  ? fuse_add_direntry_plus(req, buf + used, size - used, name, &e, dot + 1)
			  : fuse_add_direntry(req, buf + used, size - used, name, &e.attr, dot + 1);
		if (used + len > size)
			full = true;
		else
			used += len;
	}
	for (int64_t after = off > 2 ? off - 2 : 0; !full;) {
		struct meta_node *nodes = NULL;

		/* A batch of names, and for READDIRPLUS their nodes, in one read
		 * transaction: one snapshot, one round of locking. */
		db_lock(v);
		r = meta_tx_begin_read(v->db);
		if (r == 0)
			r = meta_dirent_list(v->db, ino, after, batch, &ents, &n);
		if (r == 0 && plus && n > 0) {
			nodes = calloc(n, sizeof(*nodes));
			if (!nodes)
				r = -ENOMEM;
			for (size_t i = 0; r == 0 && i < n; i++)
				r = meta_node_get(v->db, ents[i].ino, &nodes[i]);
		}
		meta_tx_rollback(v->db); /* read only: nothing to keep */
		db_unlock(v);
		if (r < 0 || n == 0) {
			free_batch(ents, nodes, n);
			ents = NULL;
			break;
		}
		for (size_t i = 0; i < n && !full; i++) {
			struct meta_dirent *d = &ents[i];
			size_t nlen = d->name_enc_len >= KT_META_OVERHEAD
					  ? d->name_enc_len - KT_META_OVERHEAD
					  : 0;
			struct fuse_entry_param e = {0};
			char name[NAME_MAX_BYTES + 1];
			size_t len;

			if (d->name_enc_len < KT_META_OVERHEAD || nlen > NAME_MAX_BYTES ||
			    vfs_meta_open_stored(s->meta_keys, KT_META_NAME, ino, d->name_enc,
						 d->name_enc_len, name) < 0) {
				r = -EBADMSG;
				break;
			}
			name[nlen] = '\0';
			e.attr.st_ino = d->ino;
			e.attr.st_mode = d->mode;
			if (plus) {
				e.ino = nodes[i].ino;
				e.generation = 1;
				e.attr_timeout = v->attr_timeout;
				e.entry_timeout = v->entry_timeout;
				vfs_node_to_stat(&nodes[i], &e.attr);
				vfs_overlay_open_state(v, &e.attr);
				len = fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
							     d->id + 2);
			} else {
				len = fuse_add_direntry(req, buf + used, size - used, name, &e.attr,
							d->id + 2);
			}
			if (used + len > size) {
				full = true;
				break;
			}
			if (plus) {
				r = vfs_inode_lookup(v->itable, d->ino);
				if (r < 0)
					break; /* not counted: leave it out of the reply */
				looked_up[nlooked++] = d->ino;
			}
			used += len;
			after = d->id;
		}
		free_batch(ents, nodes, n);
		ents = NULL;
		if (r < 0 || n < batch)
			break;
	}
	if (r == -EBADMSG)
		vfs_record_integrity(v, s, req, ino, -1,
				     "directory entry name failed authentication");
	if (r < 0 && used == 0) {
		fuse_reply_err(req, reply_errno(r));
	} else if (fuse_reply_buf(req, buf, used) != 0) {
		/* The kernel never saw these entries: give their references back. */
		for (size_t i = 0; i < nlooked; i++)
			if (vfs_inode_forget(v->itable, looked_up[i], 1))
				vfs_delete_node(v, looked_up[i]);
	}
	free(looked_up);
	free(buf);
}

static void do_readdir(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	list_dir(req, s, ino, size, off, false);
}

static void do_readdirplus(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	list_dir(req, s, ino, size, off, true);
}

void vfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vfs *v = vfs_of(req);
	struct statvfs sv;
	uint64_t nodes = 0, bytes = 0;
	int r;

	(void)ino;
	r = kt_store_space(v->store, &sv);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	db_lock(v);
	meta_ns_count(v->db, &nodes, &bytes);
	db_unlock(v);
	sv.f_namemax = NAME_MAX_BYTES;
	sv.f_files = nodes + sv.f_ffree;
	sv.f_fsid = 0;
	fuse_reply_statfs(req, &sv);
}

void vfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "opendir", ino, true);

	if (!s)
		return;
	do_opendir(req, s, ino, fi);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "readdir", ino, true);

	if (!s)
		return;
	do_readdir(req, s, ino, size, off, fi);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}

void vfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = vfs_session_enter(req, "readdir", ino, true);

	if (!s)
		return;
	do_readdirplus(req, s, ino, size, off, fi);
	vfs_session_put(v->sessions, s); /* req is gone after the reply */
}
