/*
 * vaultfs/openfile.c — an inode's content state: its blob, pending size and times.
 *
 * Opening a node's blob (with its file key, and again when re-encryption
 * replaced it meanwhile), committing an open inode's size, times and byte
 * counts to the blob header and the database, and truncation.
 *
 * Write counters (docs/format.md §7): the blob header's counter grows with
 * every header written after a change, always before the transaction that
 * stores it in the node row. So the row never expects more than the header
 * holds, unless someone put an older copy of the blob back: an open that
 * finds the header below the row fails with -EBADMSG (the caller records the
 * incident). A header above the row is a crash between the two writes: the
 * row is brought up to it at release, like the size.
 */
#include "vaultfs/ops-internal.h"

#include <errno.h>
#include <string.h>

#include "meta/records.h"

/*
 * Open n's blob into in (write lock held on in). Re-encryption (another
 * process) may replace a file's blob and key between our reading the row and
 * our lock on the blob: once the blob is open (and so share-locked, which
 * re-encryption waits for), the row is read again, and a replaced blob is
 * closed and the new one opened instead. The write counter is checked
 * against the row as read then too: -EBADMSG for a rolled-back blob.
 */
int vfs_inode_open_blob(struct vfs *v, struct vfs_session *s, struct vfs_inode *in,
			const struct meta_node *n)
{
	struct meta_node cur = {0};
	uint8_t *key;
	int r = 0;

	if (in->blob)
		return 0;
	key = kt_secure_alloc(KT_KEY_BYTES);
	if (!key)
		return -ENOMEM;
	cur = *n;
	cur.symlink_enc = NULL; /* borrowed fields only; never freed here */
	for (int attempt = 0; attempt < 8; attempt++) {
		struct meta_node now = {0};

		r = vfs_file_key_of(v, s, &cur, key, false);
		if (r == 0)
			r = vfs_blob_open(v->store, cur.object_id, key, cur.write_counter,
					  &in->blob);
		if (r < 0 && r != -EBADMSG)
			break;
		/* (a failed read leaves now zeroed: then the open's result stands) */
		db_lock(v);
		if (meta_node_get(v->db, cur.ino, &now) == -ENOENT && r == 0)
			r = -ENOENT; /* unlinked and deleted meanwhile: too late to open */
		db_unlock(v);
		if (now.ino == cur.ino && now.has_object &&
		    (memcmp(now.object_id, cur.object_id, sizeof(now.object_id)) != 0 ||
		     memcmp(now.file_key, cur.file_key, sizeof(now.file_key)) != 0)) {
			/* Re-encrypted meanwhile: this blob is the old one. Try the new. */
			in->blob = vfs_blob_close(in->blob, NULL);
			memcpy(cur.object_id, now.object_id, sizeof(cur.object_id));
			memcpy(cur.file_key, now.file_key, sizeof(cur.file_key));
			cur.write_counter = now.write_counter;
			meta_node_clear(&now);
			r = -EAGAIN;
			continue;
		}
		if (r == 0 && now.ino == cur.ino && now.write_counter > cur.write_counter) {
			/* a commit since n was read: the row as it is, the blob locked */
			cur.write_counter = now.write_counter;
			if (vfs_blob_counter(in->blob) < cur.write_counter)
				r = -EBADMSG; /* rolled back */
		}
		meta_node_clear(&now);
		break;
	}
	kt_secure_free(key);
	if (r == -EAGAIN)
		r = -EBUSY; /* replaced eight times in a row: give up for now */
	if (r < 0) {
		in->blob = vfs_blob_close(in->blob, NULL);
		return r;
	}
	if (vfs_blob_size(in->blob) != n->size || vfs_blob_counter(in->blob) != cur.write_counter) {
		/* The MAC'd header is authoritative (a crash between the header and
		 * the database update): bring the database in line at release. */
		in->dirty = true;
		in->mtime_ns = n->mtime_ns;
		in->ctime_ns = n->ctime_ns;
	}
	return 0;
}

/*
 * Write the header of an open inode's blob, and in one transaction its size,
 * mtime and write counter (when write_node and they changed) and the close
 * record of the open record record_id (when > 0). in is write-locked.
 */
int vfs_inode_commit(struct vfs *v, struct vfs_inode *in, bool write_node, int64_t record_id,
		     int64_t bytes_read, int64_t bytes_written)
{
	struct meta_node n = {0};
	bool node;
	int r = in->blob ? vfs_blob_sync(in->blob, 0) : 0;

	node = write_node && in->blob && in->dirty;
	if (r < 0 || (!node && record_id <= 0))
		return r;
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r == 0 && node) {
		r = meta_node_get(v->db, in->ino, &n);
		if (r == 0) {
			n.size = vfs_blob_size(in->blob);
			n.write_counter = vfs_blob_counter(in->blob); /* header written above */
			n.mtime_ns = in->mtime_ns;
			n.ctime_ns = in->ctime_ns > n.ctime_ns ? in->ctime_ns : n.ctime_ns;
			if (in->atime_dirty)
				n.atime_ns = in->atime_ns;
			r = meta_node_update(v->db, &n);
		}
	}
	if (r == 0 && record_id > 0)
		r = meta_log_close(v->db, record_id, bytes_read, bytes_written);
	r = meta_tx_end(v->db, r);
	db_unlock(v);
	meta_node_clear(&n);
	if (r == 0 && node)
		in->dirty = in->atime_dirty = false;
	return r;
}

int vfs_inode_flush(struct vfs *v, struct vfs_inode *in)
{
	return vfs_inode_commit(v, in, true, 0, 0, 0);
}

/*
 * Truncate ino's content to size (in write-locked; opens the blob if needed).
 * The header is written before this returns (with any change still pending
 * from writes), and *ret_counter is its write counter, for the caller's node
 * row.
 */
int vfs_truncate_content(struct vfs *v, struct vfs_session *s, fuse_req_t req, struct vfs_inode *in,
			 const struct meta_node *n, uint64_t size, uint64_t *ret_counter)
{
	bool opened_here = !in->blob;
	int r;

	if (!n->has_object)
		return -EINVAL;
	if (!level_ok(s->readable, n->level) || !level_ok(s->writable, n->level))
		return -EACCES;
	r = vfs_inode_open_blob(v, s, in, n);
	if (r == -EBADMSG)
		vfs_record_integrity(v, s, req, n->ino, n->level, "truncate");
	if (r < 0)
		return r;
	r = vfs_blob_truncate(in->blob, size);
	if (r == 0)
		r = vfs_blob_sync(in->blob, 0);
	if (r == 0)
		*ret_counter = vfs_blob_counter(in->blob);
	if (r == -EBADMSG)
		vfs_record_integrity(v, s, req, n->ino, n->level, "truncate");
	if (opened_here) {
		int r2;

		in->blob = vfs_blob_close(in->blob, &r2);
		in->dirty = false;
		if (r == 0)
			r = r2;
	}
	return r;
}
