/*
 * vaultfs/ops-internal.h — what the FUSE operation files share; private to them.
 *
 * Like libfuse's fuse_i.h: included by ops.c, the op_*.c files (handlers by
 * family) and caller.c, keys.c, removal.c and openfile.c (their helpers),
 * never by the rest of the daemon, which sees only vaultfs/ops.h. Holds the
 * per-open handle, small inline helpers, the helpers' prototypes, and the
 * handlers that the operations table in ops.c names.
 *
 * Locking: db_lock (v->db_lock) guards the database connection and is taken
 * around each transaction; keys_lock guards keyrings; an inode's rwlock
 * guards its blob and pending state (write side to change them). Helpers say
 * which of these they expect held.
 */
#pragma once

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "keytool/chunk.h"
#include "keytool/store.h"
#include "meta/ns.h"
#include "vaultfs/ops.h"
#include "vaultfs/record.h"

#define NAME_MAX_BYTES	     255
#define XATTR_VALUE_MAX	     65536
#define XATTR_NAME_MAX_BYTES 255
#define XATTR_LEVEL	     "user.vault.level"
#define XATTR_LEVEL_NAME     "user.vault.level_name"

/* Kinds of refusal through a handle, each recorded once per handle. */
#define HANDLE_DENIED_READ  1u /* read, getattr, fsync */
#define HANDLE_DENIED_WRITE 2u /* write, truncate */

/* Per-open state, in fi->fh. */
struct vfs_handle {
	struct vfs_inode *inode;     /* pinned for the handle's life; its level is the
				      * file's current one (inode.h) */
	struct vfs_session *session; /* the opener's session, pinned */
	uid_t uid;		     /* the opener */
	int64_t record_id;	     /* the open's access record, for byte counts */
	int flags;		     /* open flags */
	atomic_uint denied;	     /* HANDLE_DENIED_* kinds recorded already */
	_Atomic int64_t bytes_read;
	_Atomic int64_t bytes_written;
};

static inline struct vfs *vfs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static inline struct vfs_handle *handle_of(struct fuse_file_info *fi)
{
	return (struct vfs_handle *)(uintptr_t)fi->fh;
}

static inline void caller_of(fuse_req_t req, struct vfs_caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	vfs_caller_fill(c, ctx->uid, ctx->gid, ctx->pid);
}

static inline void db_lock(struct vfs *v)
{
	pthread_mutex_lock(&v->db_lock);
}

static inline void db_unlock(struct vfs *v)
{
	pthread_mutex_unlock(&v->db_lock);
}

/* Map internal errors to what the kernel may see. */
static inline int reply_errno(int r)
{
	if (r == -EBADMSG || r == -EBUSY || r == -EPROTO)
		return EIO;
	if (r == -ENOKEY)
		return EACCES;
	return -r;
}

static inline bool level_ok(uint32_t mask, uint8_t level)
{
	return level < META_LEVELS && (mask & (1u << level));
}

/* What vfs_make_node creates. */
struct vfs_new_node {
	const char *name; /* in parent */
	uint32_t mode;	  /* type and bits */
	uint64_t rdev;
	const char *symlink; /* target for symlinks */
	const char *op;	     /* record op */
};

/*
 * Callers, sessions and refusals (caller.c). When vfs_session_enter returns
 * NULL it has recorded the refusal and replied EACCES; otherwise the handler
 * replies, and must not touch req after the reply: fetch v = vfs_of(req)
 * first and put the session through v.
 */
int vfs_deny(struct vfs *v, struct vfs_session *s, fuse_req_t req, const char *op, uint64_t ino,
	     uint64_t parent, const char *name, int level, int err, const char *detail);
/*
 * The frame of a change (ops.c): db_lock, meta_tx_begin, read, authorise,
 * change, record, then meta_tx_end(v->db, r) and db_unlock. A refusal ends
 * the transaction with vfs_refuse_change instead: the change is rolled back
 * and the refusal recorded in its place (db_lock stays held). Returns err.
 */
int vfs_refuse_change(struct vfs *v, struct vfs_session *s, fuse_req_t req, const char *op,
		      uint64_t ino, uint64_t parent, const char *name, int level, int err,
		      const char *detail);
void vfs_record_integrity(struct vfs *v, struct vfs_session *s, fuse_req_t req, uint64_t ino,
			  int level, const char *detail);
struct vfs_session *vfs_session_enter(fuse_req_t req, const char *op, uint64_t ino, bool browse);
int vfs_handle_check(fuse_req_t req, struct vfs_handle *h, const char *op, bool writing);

/* Keys (keys.c): name hashes, sealed metadata, keyring sync, file keys. */
void vfs_name_hash(struct vfs_session *s, uint64_t context, const char *name,
		   uint8_t hash[META_HASH_BYTES]);
int vfs_seal_meta(struct vfs_session *s, enum kt_meta_purpose purpose, uint64_t context,
		  const void *plain, size_t len, uint8_t **ret_enc, size_t *ret_len);
int vfs_keys_sync(struct vfs *v, struct vfs_session *s);
int vfs_file_key_of(struct vfs *v, struct vfs_session *s, const struct meta_node *n,
		    uint8_t *ret_key, bool db_held);

/* Nodes without names and their blobs (removal.c). db_lock NOT held by callers. */
void vfs_blob_discard(struct vfs *v, const uint8_t object_id[META_OBJECT_ID_BYTES]);
void vfs_delete_nodes(struct vfs *v, const uint64_t *inos, size_t n);
void vfs_delete_node(struct vfs *v, uint64_t ino);
void vfs_unpin(struct vfs *v, struct vfs_inode *in);
void vfs_node_unlinked(struct vfs *v, uint64_t ino);

/* An inode's content state (openfile.c): blob, pending size and times, truncation. */
int vfs_inode_open_blob(struct vfs *v, struct vfs_session *s, struct vfs_inode *in,
			const struct meta_node *n);
int vfs_inode_commit(struct vfs *v, struct vfs_inode *in, bool write_node, int64_t record_id,
		     int64_t bytes_read, int64_t bytes_written);
int vfs_inode_flush(struct vfs *v, struct vfs_inode *in);
int vfs_truncate_content(struct vfs *v, struct vfs_session *s, fuse_req_t req, struct vfs_inode *in,
			 const struct meta_node *n, uint64_t size, uint64_t *ret_counter);

/* Attributes (op_attr.c), shared with listings, opens and writes. */
void vfs_node_to_stat(const struct meta_node *n, struct stat *st);
void vfs_overlay_open_state(struct vfs *v, struct stat *st);
mode_t vfs_setid_to_drop(mode_t mode);
int vfs_drop_setid(struct vfs *v, struct vfs_session *s, fuse_req_t req, struct vfs_inode *in,
		   const char *why);

/* Names (op_names.c): make_node is also create's. */
int vfs_make_node(fuse_req_t req, struct vfs *v, struct vfs_session *s, uint64_t parent,
		  const struct vfs_new_node *nn, struct meta_node *ret_node,
		  struct vfs_blob **ret_blob, int64_t *ret_record);

/* Handlers named by the operations table (ops.c). */
void vfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void vfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi);
void vfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void vfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void vfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void vfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void vfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void vfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void vfs_readlink(fuse_req_t req, fuse_ino_t ino);
void vfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void vfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void vfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags);
void vfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void vfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void vfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi);
void vfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void vfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void vfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void vfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi);
void vfs_statfs(fuse_req_t req, fuse_ino_t ino);
void vfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void vfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void vfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void vfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
		  int flags);
void vfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void vfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void vfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
