/*
 * vaultfs/ops.c — the FUSE low-level operations of the vault.
 *
 * Each handler returns through fuse_reply_*; internal helpers return 0 or
 * -errno. The pattern of a namespace change: take db_lock, BEGIN, read what
 * is needed, authorise against levels (a refusal appends a denial record and
 * changes nothing), apply the change, append its access record, COMMIT,
 * release db_lock, reply. Content reads and writes take only the inode's
 * rwlock and touch the blob; size and mtime reach the blob header and the
 * database at fsync and release. There is no flush: writes are synchronous,
 * so close() has nothing to wait for, and without a flush handler the kernel
 * stops sending FLUSH (one round trip less per close).
 *
 * POSIX permission bits are checked by the kernel (the mount always uses
 * default_permissions); this file adds classification: a caller must hold a
 * file's level to open it (and hold it writably to write), and must hold a
 * folder's level writably to change what is in it.
 */
#include "vaultfs/ops.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/fuse.h> /* struct fuse_direntplus */

#include "vaultfs/blobpool.h"
#include "keytool/chunk.h"
#include "keytool/control-proto.h"
#include "vaultfs/dcache.h"
#include "vaultfs/deferred.h"
#include "vaultfs/fuseio.h"
#include "vaultfs/record.h"
#include "meta/log.h"
#include "meta/ns.h"

#define NAME_MAX_BYTES 255
#define XATTR_VALUE_MAX 65536
#define XATTR_NAME_MAX_BYTES 255
#define READDIR_BATCH 128
#define XATTR_LEVEL "user.vault.level"
#define XATTR_LEVEL_NAME "user.vault.level_name"

#define DENIAL_RECORD_INTERVAL_NS (60ll * 1000000000) /* browsing denials: one a minute */

/* Kinds of refusal through a handle, each recorded once per handle. */
#define HANDLE_DENIED_READ 1u	/* read, getattr, fsync */
#define HANDLE_DENIED_WRITE 2u	/* write, truncate */

/* Per-open state, in fi->fh. */
struct vfs_handle {
	struct vfs_inode *inode;	/* pinned for the handle's life; its level is the
					 * file's current one (inode.h) */
	struct vfs_session *session;	/* the opener's session, pinned */
	uid_t uid;			/* the opener */
	int64_t record_id;		/* the open's access record, for byte counts */
	int flags;			/* open flags */
	atomic_uint denied;		/* HANDLE_DENIED_* kinds recorded already */
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

static void caller_of(fuse_req_t req, struct vfs_caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	vfs_caller_fill(c, ctx->uid, ctx->gid, ctx->pid);
}

static void db_lock(struct vfs *v)
{
	pthread_mutex_lock(&v->db_lock);
}

static void db_unlock(struct vfs *v)
{
	pthread_mutex_unlock(&v->db_lock);
}

/* Map internal errors to what the kernel may see. */
static int reply_errno(int r)
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

static void node_to_stat(const struct meta_node *n, struct stat *st)
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
	st->st_blocks = (blkcnt_t)((n->size + VFS_CHUNK_SIZE - 1) / VFS_CHUNK_SIZE) * (VFS_CHUNK_SIZE / 512);
	st->st_atim.tv_sec = n->atime_ns / 1000000000;
	st->st_atim.tv_nsec = n->atime_ns % 1000000000;
	st->st_mtim.tv_sec = n->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = n->mtime_ns % 1000000000;
	st->st_ctim.tv_sec = n->ctime_ns / 1000000000;
	st->st_ctim.tv_nsec = n->ctime_ns % 1000000000;
}

/* Overlay the unflushed size and mtime of an open file on its stat. */
static void overlay_open_state(struct vfs *v, struct stat *st)
{
	struct vfs_inode *in = vfs_inode_find(v->itable, st->st_ino);

	if (!in)
		return;
	pthread_rwlock_rdlock(&in->lock);
	if (in->blob && in->dirty) {
		uint64_t size = vfs_blob_size(in->blob);

		st->st_size = (off_t)size;
		st->st_blocks = (blkcnt_t)((size + VFS_CHUNK_SIZE - 1) / VFS_CHUNK_SIZE) * (VFS_CHUNK_SIZE / 512);
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

static void reply_entry_node(fuse_req_t req, struct vfs *v, const struct meta_node *n)
{
	struct fuse_entry_param e = { 0 };

	e.ino = n->ino;
	e.generation = 1;
	e.attr_timeout = v->attr_timeout;
	e.entry_timeout = v->entry_timeout;
	node_to_stat(n, &e.attr);
	overlay_open_state(v, &e.attr);
	if (vfs_inode_lookup(v->itable, n->ino) < 0) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (fuse_reply_entry(req, &e) != 0)
		vfs_inode_forget(v->itable, n->ino, 1); /* interrupted: the kernel has no ref */
}

/* Hash a name within a directory (or an xattr name within a file). */
static void name_hash(struct vfs_session *s, uint64_t context, const char *name,
		      uint8_t hash[META_HASH_BYTES])
{
	kt_name_hash(s->meta_keys, context, name, strlen(name), hash);
}

static int seal_meta(struct vfs_session *s, enum kt_meta_purpose purpose, uint64_t context, const void *plain,
		     size_t len, uint8_t **ret_enc, size_t *ret_len)
{
	uint8_t *enc = malloc(len + KT_META_OVERHEAD);
	int r;

	if (!enc)
		return -ENOMEM;
	r = kt_meta_seal(s->meta_keys, purpose, context, plain, len, enc);
	if (r < 0) {
		free(enc);
		return r;
	}
	*ret_enc = enc;
	*ret_len = len + KT_META_OVERHEAD;
	return 0;
}

/*
 * Record a refusal (db_lock held). Path from ino, or from (parent, name) when
 * name is given. Returns err for the caller to reply with.
 */
static int deny(struct vfs *v, struct vfs_session *s, fuse_req_t req, const char *op, uint64_t ino,
		uint64_t parent, const char *name, int level, int err, const char *detail)
{
	struct vfs_caller c;

	caller_of(req, &c);
	return vfs_record_denial(v, s, &c, op, ino, parent, name, level, err, detail);
}

/* Record an integrity failure of stored data (takes db_lock). level -1: look it up. */
static void record_integrity(struct vfs *v, struct vfs_session *s, fuse_req_t req, uint64_t ino,
			     int level, const char *detail)
{
	db_lock(v);
	if (level < 0) {
		struct meta_node n = { 0 };

		if (meta_node_get(v->db, ino, &n) == 0)
			level = n.level;
		meta_node_clear(&n);
	}
	deny(v, s, req, "read", ino, 0, NULL, level, -EBADMSG, detail);
	db_unlock(v);
}

/* Remove the blob of a deleted node, whose row is gone for good: by the blob
 * pool's thread when it can take it, else here. */
static void blob_discard(struct vfs *v, const uint8_t object_id[META_OBJECT_ID_BYTES])
{
	if (!v->blobpool || vfs_blobpool_discard(v->blobpool, object_id) < 0)
		(void)vfs_blob_unlink(v->objects_fd, object_id);
}

/*
 * Delete unlinked nodes that nobody references any more, and their blobs:
 * all of them in one transaction (takes db_lock). A node that got a name
 * again meanwhile (nlink > 0) is kept.
 */
static void delete_nodes(struct vfs *v, const uint64_t *inos, size_t n)
{
	uint8_t (*blobs)[META_OBJECT_ID_BYTES] = calloc(n ? n : 1, sizeof(*blobs));
	size_t nblobs = 0;
	int r;

	db_lock(v);
	r = meta_tx_begin(v->db);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct meta_node node = { 0 };

		if (meta_node_get(v->db, inos[i], &node) == 0 && node.nlink == 0) {
			r = meta_node_delete(v->db, inos[i]);
			if (r == 0 && node.has_object && blobs)
				memcpy(blobs[nblobs++], node.object_id, META_OBJECT_ID_BYTES);
		}
		meta_node_clear(&node);
	}
	if (r == 0)
		r = meta_tx_commit(v->db);
	else
		meta_tx_rollback(v->db);
	db_unlock(v);
	/* Blobs go only once their rows are gone for good (a crash in between
	 * leaves unreferenced blobs, never rows without blobs). */
	for (size_t i = 0; r == 0 && i < nblobs; i++)
		blob_discard(v, blobs[i]);
	free(blobs);
}

static void delete_node(struct vfs *v, uint64_t ino)
{
	delete_nodes(v, &ino, 1);
}

static void unpin(struct vfs *v, struct vfs_inode *in)
{
	uint64_t ino = in->ino;

	if (vfs_inode_unpin(v->itable, in))
		delete_node(v, ino);
}

/* After a change left node n with no names: delete it now or when the kernel
 * and open handles let go of it (db_lock NOT held). */
static void node_unlinked(struct vfs *v, uint64_t ino)
{
	struct vfs_inode *in = vfs_inode_find(v->itable, ino);

	if (!in) {
		delete_node(v, ino);
		return;
	}
	vfs_inode_set_unlinked(v->itable, in);
	unpin(v, in);
}

static void record_refresh(struct vfs *v, struct vfs_session *s, uint32_t before);

/*
 * Keep unlocked sessions' keys current while mounted: refresh a keyring when
 * the vault's key epoch moved (grants, revocations, rotations by
 * vaultfs-keytool) or one of its grants expired; a user who lost every key
 * is locked. Called about once a second by the maintenance thread.
 */
void vfs_keys_maintain(struct vfs *v)
{
	struct vfs_session **list = NULL;
	int64_t epoch = 0, now = meta_now_ns();
	size_t n = 0;

	db_lock(v);
	/* Every unlocked session, however many: one left out would keep keys
	 * that a revocation or an expired grant took away. (Out of memory: all
	 * of them at the next tick.) */
	if (kt_key_epoch(v->db, &epoch) < 0 ||
	    vfs_sessions_pin_unlocked(v->sessions, &list, &n) < 0) {
		db_unlock(v);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct vfs_session *s = list[i];
		int64_t expiry = kt_keyring_next_expiry(s->keyring);
		struct vfs_caller c = { .uid = s->uid, .gid = (gid_t)-1, .pid = getpid(),
					.comm = "vaultfs" };
		int r = 0;

		if (kt_keyring_epoch(s->keyring) == epoch && (expiry == 0 || expiry > now))
			continue;
		uint32_t before = s->readable;

		pthread_mutex_lock(&v->keys_lock);
		r = kt_keyring_refresh(v->db, s->keyring);
		if (r == 0)
			vfs_session_refreshed(v->sessions, s);
		pthread_mutex_unlock(&v->keys_lock);
		if (r == 0)
			record_refresh(v, s, before);
		if (r == -EACCES) {
			/* Removed, disabled or re-keyed: nothing of theirs unlocks any more. */
			vfs_session_lock(v->sessions, s->uid);
			vfs_record(v, s, &c, "lock", 0, NULL, NULL, -1, 0, NULL, "%s",
				   "keys revoked while unlocked");
			vfs_dcache_clear(v->dcache); /* the names decrypted for records */
		}
	}
	db_unlock(v);
	for (size_t i = 0; i < n; i++)
		vfs_session_put(v->sessions, list[i]);
	free(list);
}

int vfs_remove_orphans(struct vfs *v)
{
	uint64_t *inos = NULL;
	size_t n = 0;
	int r;

	r = meta_node_list_orphans(v->db, &inos, &n);
	if (r < 0)
		return r;
	delete_nodes(v, inos, n);
	free(inos);
	return (int)n;
}

/* ---------- callers ---------- */

/* The vault user of uid: the user registered with that uid, else the user
 * named like uid's login who has no uid of their own; "" when none. */
static struct vfs_session *session_map(struct vfs *v, uid_t uid)
{
	struct meta_user u = { 0 };
	char name[META_NAME_MAX + 1] = "";
	int r;

	db_lock(v);
	r = meta_user_get_by_uid(v->db, uid, &u);
	if (r == 0) {
		snprintf(name, sizeof(name), "%s", u.name);
	} else {
		struct passwd pw, *res = NULL;
		char buf[4096];

		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
		    meta_user_get_by_name(v->db, res->pw_name, &u) == 0 && u.uid < 0)
			snprintf(name, sizeof(name), "%s", u.name);
	}
	db_unlock(v);
	return vfs_session_add(v->sessions, uid, name);
}

/* Record a refusal of a locked or unknown caller; browsing refusals at most
 * once a minute per caller, so an unlocked shell prompt does not flood the
 * trail. */
static void deny_locked(fuse_req_t req, struct vfs_session *s, const char *op, uint64_t ino,
			int level, bool browse)
{
	struct vfs *v = vfs_of(req);
	int64_t now = meta_now_ns();

	if (browse && s && now - s->last_denial_ns < DENIAL_RECORD_INTERVAL_NS)
		return;
	if (s)
		s->last_denial_ns = now;
	db_lock(v);
	deny(v, s, req, op, ino, 0, NULL, level, -EACCES,
	     !s || !s->user[0]					? "no vault user for this uid"
	     : !s->keyring					? "keys locked"
	     : !s->meta_keys					? "holds no role (revoked)"
	     : level >= 0 && level < META_LEVELS && (s->expired & (1u << level)) ? "level idle-expired"
										   : "level not held");
	db_unlock(v);
}

/*
 * The caller's session, pinned, when its keys are unlocked. Otherwise the
 * refusal is recorded and EACCES replied, and NULL returned.
 */
static struct vfs_session *session_enter(fuse_req_t req, const char *op, uint64_t ino, bool browse)
{
	struct vfs *v = vfs_of(req);
	uid_t uid = fuse_req_ctx(req)->uid;
	struct vfs_session *s = vfs_session_get(v->sessions, uid);

	if (!s && v->multi_user)
		s = session_map(v, uid);
	if (s && s->keyring && s->meta_keys)
		return s;
	deny_locked(req, s, op, ino, -1, browse);
	vfs_session_put(v->sessions, s);
	fuse_reply_err(req, EACCES);
	return NULL;
}

/*
 * May h's opener still use the file, for op (writing: a change of content)?
 * Checked on every use of a handle, against the file's level now (a level
 * raised since the open counts) and the opener's keys now: unlocked (a lock
 * or a new unlock replaces the session: then ask the current one), the level
 * held (writably when writing), not idle-expired. Refusals are recorded,
 * once per handle and kind (HANDLE_DENIED_*), not per call. Caller holds
 * h->inode->lock (either side), which a change of level waits for.
 */
static int handle_check(fuse_req_t req, struct vfs_handle *h, const char *op, bool writing)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = h->session, *cur = NULL;
	int level = h->inode->level;
	int r = 0;

	if (__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE))
		s = cur = vfs_session_get(v->sessions, h->uid);
	if (level < 0 || !s || !s->keyring || !level_ok(s->readable, (uint8_t)level) ||
	    (writing && !level_ok(s->writable, (uint8_t)level))) {
		unsigned kind = writing ? HANDLE_DENIED_WRITE : HANDLE_DENIED_READ;

		if (!(atomic_fetch_or(&h->denied, kind) & kind))
			deny_locked(req, s, op, h->inode->ino, level, false);
		r = -EACCES;
	} else {
		vfs_session_touch(s, (uint8_t)level);
	}
	vfs_session_put(v->sessions, cur);
	return r;
}

/* ---------- content keys ---------- */

/* Unwrap n's file key with the user's level keys into secure memory. */
/*
 * Bring s's keyring up to the vault's key epoch (a rotation, revocation or
 * grant happened while mounted). Caller holds db_lock and keys_lock. Returns
 * 1 if refreshed, 0 if current, -EACCES if the user lost every key.
 */
/* Record that s's clearance changed under the mount (db_lock held). */
static void record_refresh(struct vfs *v, struct vfs_session *s, uint32_t before)
{
	/* The daemon acts for the session's user (uid -1 in single-user mode). */
	struct vfs_caller c = { .uid = s->uid, .gid = (gid_t)-1, .pid = getpid(), .comm = "vaultfs" };

	if (s->readable != before)
		vfs_record(v, s, &c, "keys-refresh", 0, NULL, NULL, -1, 0, NULL,
			   "readable levels 0x%x -> 0x%x (grants or keys changed)", before,
			   s->readable);
}

static int keys_sync(struct vfs *v, struct vfs_session *s)
{
	uint32_t before = s->readable;
	int r = kt_keyring_sync(v->db, s->keyring);

	if (r > 0) {
		vfs_session_refreshed(v->sessions, s);
		record_refresh(v, s, before);
	}
	return r;
}

/*
 * Unwrap n's file key with s's level keys. A key version the keyring does
 * not have may be one a rotation made since: sync once and retry.
 * db_held: the caller already holds db_lock.
 */
static int file_key_of(struct vfs *v, struct vfs_session *s, const struct meta_node *n,
		       uint8_t *ret_key, bool db_held)
{
	const uint8_t *level_key;
	uint32_t version;
	uint8_t level;
	int r;

	r = kt_file_key_info(n->file_key, &level, &version);
	if (r < 0)
		return -EBADMSG;
	if (level != n->level)
		return -EBADMSG; /* the row's level and the wrapped key disagree */
	for (int attempt = 0;; attempt++) {
		pthread_mutex_lock(&v->keys_lock);
		r = kt_keyring_level_key(s->keyring, level, version, &level_key);
		if (r == 0)
			r = kt_file_key_unwrap(level_key, n->object_id, n->file_key, ret_key);
		pthread_mutex_unlock(&v->keys_lock);
		if (r != -ENOKEY || attempt > 0)
			break;
		if (!db_held)
			db_lock(v);
		pthread_mutex_lock(&v->keys_lock);
		r = keys_sync(v, s);
		pthread_mutex_unlock(&v->keys_lock);
		if (!db_held)
			db_unlock(v);
		if (r <= 0) {
			r = -ENOKEY;
			break;
		}
	}
	return r == -EINVAL ? -EBADMSG : r;
}

/* Open n's blob into in (write lock held on in). */
/*
 * Open n's blob into in (write lock held on in). Re-encryption (another
 * process) may replace a file's blob and key between our reading the row and
 * our lock on the blob: once the blob is open (and so share-locked, which
 * re-encryption waits for), the row is read again, and a replaced blob is
 * closed and the new one opened instead.
 */
static int inode_open_blob(struct vfs *v, struct vfs_session *s, struct vfs_inode *in,
			   const struct meta_node *n)
{
	struct meta_node cur = { 0 };
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
		struct meta_node now = { 0 };

		r = file_key_of(v, s, &cur, key, false);
		if (r == 0)
			r = vfs_blob_open(v->objects_fd, cur.object_id, key, &in->blob);
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
			meta_node_clear(&now);
			r = -EAGAIN;
			continue;
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
	if (vfs_blob_size(in->blob) != n->size) {
		/* The MAC'd header is authoritative (a crash between the header and
		 * the database update): bring the database in line at release. */
		in->dirty = true;
		in->mtime_ns = n->mtime_ns;
		in->ctime_ns = n->ctime_ns;
	}
	return 0;
}

/*
 * Write the header of an open inode's blob, and in one transaction its size
 * and mtime (when write_node and they changed) and the byte counts of the
 * open record record_id (when > 0). in is write-locked.
 */
static int inode_commit(struct vfs *v, struct vfs_inode *in, bool write_node, int64_t record_id,
			int64_t bytes_read, int64_t bytes_written)
{
	struct meta_node n = { 0 };
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
			n.mtime_ns = in->mtime_ns;
			n.ctime_ns = in->ctime_ns > n.ctime_ns ? in->ctime_ns : n.ctime_ns;
			if (in->atime_dirty)
				n.atime_ns = in->atime_ns;
			r = meta_node_update(v->db, &n);
		}
	}
	if (r == 0 && record_id > 0)
		r = meta_log_set_bytes(v->db, record_id, bytes_read, bytes_written);
	if (r == 0)
		r = meta_tx_commit(v->db);
	else
		meta_tx_rollback(v->db);
	db_unlock(v);
	meta_node_clear(&n);
	if (r == 0 && node)
		in->dirty = in->atime_dirty = false;
	return r;
}

static int inode_flush(struct vfs *v, struct vfs_inode *in)
{
	return inode_commit(v, in, true, 0, 0, 0);
}

/* ---------- lookup and attributes ---------- */

static void vfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct vfs *v = userdata;

	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Locks stay in the kernel: one daemon serves one machine. */
	conn->want &= ~(unsigned)(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	/* Requests must come through our transport's read (fuseio.h: it notes
	 * which ones ask to drop set-ID bits); a splice would bypass it. */
	conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ;
	/* Content changes only through this daemon, so the kernel need not
	 * fetch the attributes before reads to see whether someone else changed
	 * the file (after every write: a GETATTR per read in a mixed workload).
	 * In multi-user mode nothing is cached anyway. */
	if (!v->multi_user)
		conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* Always READDIRPLUS, not only for a directory's first batch: a program
	 * walking a tree (find, md5sum, ls -l, tar c) then needs no LOOKUP per
	 * name, the names and attributes are cached from the listing. In
	 * multi-user mode the kernel caches neither, so it stays adaptive. */
	if (!v->multi_user && (conn->capable & FUSE_CAP_READDIRPLUS))
		conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
}

static void do_lookup(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name)
{
	struct vfs *v = vfs_of(req);
	uint8_t hash[META_HASH_BYTES];
	struct meta_dirent d = { 0 };
	struct meta_node n = { 0 };
	int r;

	if (strlen(name) > NAME_MAX_BYTES) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	name_hash(s, parent, name, hash);
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
		struct fuse_entry_param e = { .ino = 0, .entry_timeout = v->entry_timeout };

		fuse_reply_entry(req, &e); /* negative entry, cached by the kernel */
	} else if (r < 0) {
		fuse_reply_err(req, reply_errno(r));
	} else {
		reply_entry_node(req, v, &n);
	}
	meta_node_clear(&n);
}

static void vfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct vfs *v = vfs_of(req);

	if (vfs_inode_forget(v->itable, ino, nlookup))
		delete_node(v, ino);
	fuse_reply_none(req);
}

static void vfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
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
			delete_node(v, forgets[i].ino);
	}
	if (ngone)
		delete_nodes(v, gone, ngone);
	free(gone);
	fuse_reply_none(req);
}

static void do_getattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct meta_node n = { 0 };
	struct stat st;
	int r;

	if (fi && fi->fh) {
		/* Through an open file (fstat, and in multi-user mode the kernel's
		 * check before it serves a read from cached pages): only while the
		 * opener may still read it. */
		struct vfs_handle *h = handle_of(fi);

		pthread_rwlock_rdlock(&h->inode->lock);
		r = handle_check(req, h, "getattr", false);
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
	node_to_stat(&n, &st);
	meta_node_clear(&n);
	overlay_open_state(v, &st);
	fuse_reply_attr(req, &st, v->attr_timeout);
}

static int64_t timespec_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* Truncate ino's content to size (in write-locked; opens the blob if needed). */
static int truncate_content(struct vfs *v, struct vfs_session *s, fuse_req_t req, struct vfs_inode *in,
			    const struct meta_node *n, uint64_t size)
{
	bool opened_here = !in->blob;
	int r;

	if (!n->has_object)
		return -EINVAL;
	if (!level_ok(s->readable, n->level) || !level_ok(s->writable, n->level))
		return -EACCES;
	r = inode_open_blob(v, s, in, n);
	if (r == -EBADMSG)
		record_integrity(v, s, req, n->ino, n->level, "truncate");
	if (r < 0)
		return r;
	r = vfs_blob_truncate(in->blob, size);
	if (r == -EBADMSG)
		record_integrity(v, s, req, n->ino, n->level, "truncate");
	if (opened_here) {
		int r2;

		in->blob = vfs_blob_close(in->blob, &r2);
		in->dirty = false;
		if (r == 0)
			r = r2;
	}
	return r;
}

/*
 * The set-ID bits that a write, a truncate or a chown drops when the kernel
 * says so (fuseio.h): set-user-ID, and set-group-ID when group-executable
 * (without group-execute it means mandatory locking and stays), as the VFS
 * drops them on a disk filesystem.
 */
static mode_t setid_to_drop(mode_t mode)
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
static int drop_setid(struct vfs *v, struct vfs_session *s, fuse_req_t req, struct vfs_inode *in,
		      const char *why)
{
	struct meta_node n = { 0 };
	struct vfs_caller c;
	char *path = NULL;
	int r;

	caller_of(req, &c);
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r == 0)
		r = meta_node_get(v->db, in->ino, &n);
	if (r == 0) {
		n.mode &= ~setid_to_drop(n.mode);
		n.ctime_ns = meta_now_ns();
		r = meta_node_update(v->db, &n);
	}
	if (r == 0)
		r = vfs_path_of(v, s->meta_keys, in->ino, &path);
	if (r == 0)
		r = vfs_record(v, s, &c, "chmod", in->ino, path, NULL, n.level, 0, NULL,
			       "mode=%04o,set-id dropped by a %s", n.mode & 07777, why);
	if (r == 0)
		r = meta_tx_commit(v->db);
	else
		meta_tx_rollback(v->db);
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
	return !vfs_fuseio_kill_suidgid() || S_ISDIR(n->mode) || setid_to_drop(n->mode) == 0;
}

static void do_setattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, struct stat *attr, int to_set,
			struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_inode *in = vfs_inode_pin(v->itable, ino);
	struct meta_node n = { 0 };
	struct vfs_caller c;
	char *path = NULL;
	int64_t now = meta_now_ns();
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
		r = handle_check(req, handle_of(fi), "truncate", true);
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
			in->atime_ns = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now
									  : timespec_ns(&attr->st_atim);
			in->atime_dirty = true;
		}
		in->ctime_ns = (to_set & FUSE_SET_ATTR_CTIME) ? timespec_ns(&attr->st_ctim) : now;
		pthread_rwlock_unlock(&in->lock);
		node_to_stat(&n, &st);
		meta_node_clear(&n);
		overlay_open_state(v, &st);
		unpin(v, in);
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
		r = truncate_content(v, s, req, in, &n, (uint64_t)attr->st_size);
		if (r == -EACCES) {
			db_lock(v);
			deny(v, s, req, "truncate", ino, 0, NULL, n.level, -EACCES, NULL);
			db_unlock(v);
		}
		if (r < 0)
			goto out;
		n.size = (uint64_t)attr->st_size;
		n.mtime_ns = now;
		if (in->blob)
			in->dirty = false; /* n carries the new size and mtime */
	} else if (in->blob && in->dirty) {
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
		n.mode &= ~setid_to_drop(n.mode); /* a chown, or a truncate without CAP_FSETID */
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
		struct meta_node cur = { 0 };

		r = meta_node_get(v->db, ino, &cur);
		if (r == 0) {
			memcpy(n.file_key, cur.file_key, sizeof(n.file_key));
			memcpy(n.object_id, cur.object_id, sizeof(n.object_id));
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
		r = vfs_record(v, s, &c, "chown", ino, path, NULL, n.level, 0, NULL, "uid=%u gid=%u",
			       n.uid, n.gid);
	if (r == 0)
		r = meta_tx_commit(v->db);
	else
		meta_tx_rollback(v->db);
	db_unlock(v);
	if (r == 0)
		in->mode = n.mode;
out:
	pthread_rwlock_unlock(&in->lock);
	unpin(v, in);
	free(path);
	if (r < 0) {
		meta_node_clear(&n);
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	node_to_stat(&n, &st);
	meta_node_clear(&n);
	fuse_reply_attr(req, &st, v->attr_timeout);
}

/* ---------- creating names ---------- */

struct new_node {
	const char *name;	/* in parent */
	uint32_t mode;		/* type and bits */
	uint64_t rdev;
	const char *symlink;	/* target for symlinks */
	const char *op;		/* record op */
};

/*
 * Create a node named nn->name in parent: authorise, make a blob for regular
 * files, insert node + entry + record in one transaction. On success *ret_node
 * is the new node, for regular files *ret_blob its open blob (closed when
 * ret_blob is NULL), and *ret_record (if given) the create record's id.
 */
static int make_node(fuse_req_t req, struct vfs *v, struct vfs_session *s, uint64_t parent, const struct new_node *nn,
		     struct meta_node *ret_node, struct vfs_blob **ret_blob, int64_t *ret_record)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct meta_node dir = { 0 }, n = { 0 };
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
		r = deny(v, s, req, nn->op, 0, parent, nn->name, dir.level, -EACCES,
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
			r = vfs_blob_create_from(v->objects_fd, vfs_blobpool_fd(v->blobpool), pool_fd,
						 n.object_id, file_key, &blob);
		} else {
			kt_random(n.object_id, KT_OBJECT_ID_BYTES);
			r = vfs_blob_create(v->objects_fd, n.object_id, file_key, &blob);
		}
		if (r < 0)
			goto out;
	}

	name_hash(s, parent, nn->name, hash);
	r = seal_meta(s, KT_META_NAME, parent, nn->name, strlen(nn->name), &name_enc, &name_enc_len);
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
		r = keys_sync(v, s);
		if (r >= 0)
			r = kt_keyring_level_current(s->keyring, n.level, &version, &level_key);
		if (r >= 0)
			r = kt_file_key_wrap(level_key, n.level, version, n.object_id, file_key,
					     n.file_key);
		pthread_mutex_unlock(&v->keys_lock);
		if (r == -ENOKEY || r == -EACCES) {
			meta_tx_rollback(v->db);
			r = deny(v, s, req, nn->op, 0, parent, nn->name, n.level, -EACCES,
				 "no level key");
			goto out;
		}
	}
	if (r >= 0)
		r = meta_node_insert(v->db, &n);
	if (r == 0 && nn->symlink) {
		r = seal_meta(s, KT_META_SYMLINK, n.ino, nn->symlink, strlen(nn->symlink),
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
	if (r == 0)
		r = meta_tx_commit(v->db);
	else
		meta_tx_rollback(v->db);
out:
	db_unlock(v);
	if (r < 0 && blob) {
		blob = vfs_blob_close(blob, NULL);
		vfs_blob_unlink(v->objects_fd, n.object_id);
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
			   const struct new_node *nn)
{
	struct meta_node n = { 0 };
	int r = make_node(req, v, s, parent, nn, &n, NULL, NULL);

	if (r < 0) {
		fuse_reply_err(req, reply_errno(r));
		return;
	}
	reply_entry_node(req, v, &n);
	meta_node_clear(&n);
}

static void do_mknod(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct new_node nn = { .name = name, .mode = mode, .rdev = rdev, .op = "mknod" };

	reply_new_node(req, vfs_of(req), s, parent, &nn);
}

static void do_mkdir(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct new_node nn = { .name = name, .mode = S_IFDIR | (mode & 07777), .op = "mkdir" };

	reply_new_node(req, vfs_of(req), s, parent, &nn);
}

static void do_symlink(fuse_req_t req, struct vfs_session *s, const char *link, fuse_ino_t parent, const char *name)
{
	struct new_node nn = { .name = name, .mode = S_IFLNK | 0777, .symlink = link, .op = "symlink" };

	if (strlen(link) >= PATH_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	reply_new_node(req, vfs_of(req), s, parent, &nn);
}

static void do_readlink(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino)
{
	struct vfs *v = vfs_of(req);
	struct meta_node n = { 0 };
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
		record_integrity(v, s, req, ino, -1, "symlink target");
	if (r < 0)
		fuse_reply_err(req, reply_errno(r));
	else
		fuse_reply_readlink(req, target);
	free(target);
}

/* ---------- removing and renaming ---------- */

static void remove_entry(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name,
			 bool is_rmdir)
{
	struct vfs *v = vfs_of(req);
	const char *op = is_rmdir ? "rmdir" : "unlink";
	struct meta_node dir = { 0 }, n = { 0 };
	uint8_t hash[META_HASH_BYTES];
	struct meta_dirent d = { 0 };
	struct vfs_caller c;
	char *path = NULL;
	int64_t now = meta_now_ns();
	bool gone = false, deleted = false;
	int r;

	caller_of(req, &c);
	name_hash(s, parent, name, hash);
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	r = meta_node_get(v->db, parent, &dir);
	if (r == 0)
		r = meta_dirent_lookup(v->db, parent, hash, &d);
	if (r == 0)
		r = meta_node_get(v->db, d.ino, &n);
	if (r < 0)
		goto fail;
	if (is_rmdir && !S_ISDIR(n.mode)) {
		r = -ENOTDIR;
		goto fail;
	}
	if (!is_rmdir && S_ISDIR(n.mode)) {
		r = -EISDIR;
		goto fail;
	}
	if (!level_ok(s->writable, dir.level) || !level_ok(s->writable, n.level)) {
		meta_tx_rollback(v->db);
		r = deny(v, s, req, op, n.ino, parent, name, n.level, -EACCES, NULL);
		goto out;
	}
	if (is_rmdir) {
		bool has = false;

		r = meta_dirent_has_children(v->db, n.ino, &has);
		if (r == 0 && has)
			r = -ENOTEMPTY;
		if (r < 0)
			goto fail;
	}
	r = vfs_path_join(v, s->meta_keys, parent, name, &path);
	if (r == 0)
		r = meta_dirent_delete(v->db, parent, hash);
	if (r < 0)
		goto fail;
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
	if (r < 0)
		goto fail;
	r = meta_tx_commit(v->db);
	gone = r == 0 && n.nlink == 0 && !deleted;
	goto out;
fail:
	meta_tx_rollback(v->db);
out:
	if (is_rmdir && n.ino)
		vfs_dcache_drop(v->dcache, n.ino);
	db_unlock(v);
	if (r == 0 && deleted && n.has_object)
		blob_discard(v, n.object_id); /* its row is gone for good */
	if (gone)
		node_unlinked(v, n.ino);
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

static void do_rename(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		       const char *newname, unsigned int flags)
{
	struct vfs *v = vfs_of(req);
	struct meta_node sdir = { 0 }, ddir = { 0 }, src = { 0 }, dst = { 0 };
	uint8_t shash[META_HASH_BYTES], dhash[META_HASH_BYTES];
	struct meta_dirent sd = { 0 }, dd = { 0 };
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
	name_hash(s, parent, name, shash);
	name_hash(s, newparent, newname, dhash);
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
		goto fail;
	r = meta_dirent_lookup(v->db, newparent, dhash, &dd);
	if (r == 0) {
		have_dst = true;
		r = meta_node_get(v->db, dd.ino, &dst);
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r < 0)
		goto fail;
	dirp = same_dir ? &sdir : &ddir;
	if (!S_ISDIR(dirp->mode)) {
		r = -ENOTDIR;
		goto fail;
	}
	if (have_dst && (flags & RENAME_NOREPLACE)) {
		r = -EEXIST;
		goto fail;
	}
	if (!have_dst && (flags & RENAME_EXCHANGE)) {
		r = -ENOENT;
		goto fail;
	}
	if (have_dst && dst.ino == src.ino) {
		/* Two names of one inode: POSIX says do nothing. */
		r = 0;
		goto fail;
	}
	if (!level_ok(s->writable, sdir.level) || !level_ok(s->writable, dirp->level) ||
	    !level_ok(s->writable, src.level) || (have_dst && !level_ok(s->writable, dst.level))) {
		meta_tx_rollback(v->db);
		r = deny(v, s, req, "rename", src.ino, parent, name, src.level, -EACCES, NULL);
		goto out;
	}
	if (have_dst && !(flags & RENAME_EXCHANGE)) {
		if (S_ISDIR(dst.mode) && !S_ISDIR(src.mode)) {
			r = -EISDIR;
			goto fail;
		}
		if (!S_ISDIR(dst.mode) && S_ISDIR(src.mode)) {
			r = -ENOTDIR;
			goto fail;
		}
		if (S_ISDIR(dst.mode)) {
			bool has = false;

			r = meta_dirent_has_children(v->db, dst.ino, &has);
			if (r == 0 && has)
				r = -ENOTEMPTY;
			if (r < 0)
				goto fail;
		}
	}
	r = vfs_path_join(v, s->meta_keys, parent, name, &path);
	if (r == 0)
		r = vfs_path_join(v, s->meta_keys, newparent, newname, &path2);
	if (r < 0)
		goto fail;

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
			r = seal_meta(s, KT_META_NAME, newparent, newname, strlen(newname), &enc, &enc_len);
			if (r == 0)
				r = meta_dirent_insert(v->db, newparent, dhash, enc, enc_len, src.ino);
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
			       (flags & RENAME_EXCHANGE)	 ? "exchange"
			       : (flags & RENAME_NOREPLACE) ? "noreplace"
			       : have_dst		 ? "replace"
							 : "");
	if (r < 0)
		goto fail;
	r = meta_tx_commit(v->db);
	goto out;
fail:
	meta_tx_rollback(v->db);
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
		node_unlinked(v, dst.ino);
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

static void do_link(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct vfs *v = vfs_of(req);
	struct meta_node dir = { 0 }, n = { 0 };
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
	name_hash(s, newparent, newname, hash);
	r = seal_meta(s, KT_META_NAME, newparent, newname, strlen(newname), &enc, &enc_len);
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
		goto fail;
	if (!level_ok(s->writable, dir.level) || !level_ok(s->writable, n.level)) {
		meta_tx_rollback(v->db);
		r = deny(v, s, req, "link", ino, newparent, newname, n.level, -EACCES, NULL);
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
		r = vfs_record(v, s, &c, "link", ino, path, NULL, n.level, 0, NULL, "nlink=%u", n.nlink);
	if (r < 0)
		goto fail;
	r = meta_tx_commit(v->db);
	goto out;
fail:
	meta_tx_rollback(v->db);
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

/* ---------- open files ---------- */

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
 * Drop one open of in, committing the open record's byte counts; the last
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
	r = inode_commit(v, in, last, queued ? 0 : record_id, bytes_read, bytes_written);
	if (last && in->blob) {
		in->blob = vfs_blob_close(in->blob, &r2);
		in->dirty = false;
	}
	pthread_rwlock_unlock(&in->lock);
	return r < 0 ? r : r2;
}

static int record_open(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c, const char *op, uint64_t ino,
		       const char *path, int level, int outcome, int flags, int64_t *ret_id,
		       const char *why)
{
	int r;

	db_lock(v);
	r = vfs_record(v, s, c, op, ino, path, NULL, level, outcome, ret_id, "flags=%s%s%s%s",
		       open_mode(flags), (flags & O_TRUNC) ? ",trunc" : "",
		       (flags & O_APPEND) ? ",append" : "", why ? why : "");
	db_unlock(v);
	return r;
}

/* End a handle: fill its record's byte counts, drop the open and the pin. */
static int close_handle(struct vfs *v, struct vfs_handle *h)
{
	struct vfs_inode *in = h->inode;
	int r = release_open(v, in, h->record_id, atomic_load(&h->bytes_read),
			     atomic_load(&h->bytes_written));

	unpin(v, in);
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
	struct meta_node n = { 0 };
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
	r = inode_open_blob(v, s, in, &n);
	/* n was read before in->lock: a chmod since then has set in->mode
	 * already (under the lock), and n's mode would undo it */
	if (r == 0 && in->mode == 0)
		in->mode = n.mode;
	/* set-ID bits before the content, as for a write */
	if (r == 0 && (fi->flags & O_TRUNC) && vfs_fuseio_kill_suidgid() && setid_to_drop(in->mode))
		r = drop_setid(v, s, req, in, "truncating open");
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
		unpin(v, in);
	free(h);
	free(path);
	meta_node_clear(&n);
	return r;
}

static void do_open(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	int r = open_file(req, v, s, ino, fi);

	if (r < 0)
		fuse_reply_err(req, reply_errno(r));
	else if (fuse_reply_open(req, fi) != 0)
		close_handle(v, handle_of(fi)); /* interrupted: no release will come */
}

static void do_create(fuse_req_t req, struct vfs_session *s, fuse_ino_t parent, const char *name, mode_t mode,
		       struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct new_node nn = { .name = name, .mode = S_IFREG | (mode & 07777), .op = "create" };
	struct fuse_entry_param e = { 0 };
	struct vfs_handle *h = calloc(1, sizeof(*h));
	struct vfs_blob *blob = NULL;
	struct vfs_inode *in = NULL;
	struct meta_node n = { 0 };
	int r;

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = make_node(req, v, s, parent, &nn, &n, &blob, &h->record_id);
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
			unpin(v, in);
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
	node_to_stat(&n, &e.attr);
	meta_node_clear(&n);
	if (fuse_reply_create(req, &e, fi) != 0) {
		/* Interrupted: the kernel holds neither the entry nor the handle. */
		vfs_inode_forget(v->itable, e.ino, 1);
		close_handle(v, h);
	}
}

static void vfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
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
	n = handle_check(req, h, "read", false);
	if (n == 0)
		n = in->blob ? vfs_blob_read(in->blob, buf, size, (uint64_t)off) : -EBADF;
	pthread_rwlock_unlock(&in->lock);
	if (n == -EBADMSG)
		record_integrity(v, s, req, ino, level, "content chunk failed authentication");
	if (n < 0) {
		fuse_reply_err(req, reply_errno((int)n));
	} else {
		atomic_fetch_add(&h->bytes_read, n);
		fuse_reply_buf(req, (const char *)buf, (size_t)n);
	}
	free(buf);
}

static void vfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
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
	n = handle_check(req, h, "write", true);
	if (n == 0 && !in->blob)
		n = -EBADF;
	if (n == 0) {
		uint64_t at = (h->flags & O_APPEND) ? vfs_blob_size(in->blob) : (uint64_t)off;

		/* Set-ID bits go before the data, as the kernel drops them on a
		 * disk filesystem: a write that cannot drop them does not happen. */
		if (vfs_fuseio_kill_suidgid() && setid_to_drop(in->mode))
			n = drop_setid(v, s, req, in, "write");
		if (n == 0)
			n = vfs_blob_write(in->blob, buf, size, at);
		if (n >= 0) {
			in->dirty = true;
			in->mtime_ns = in->ctime_ns = meta_now_ns();
		}
	}
	pthread_rwlock_unlock(&in->lock);
	if (n == -EBADMSG)
		record_integrity(v, s, req, ino, level, "content chunk failed authentication");
	if (n < 0) {
		fuse_reply_err(req, reply_errno((int)n));
		return;
	}
	atomic_fetch_add(&h->bytes_written, n);
	fuse_reply_write(req, (size_t)n);
}

static void vfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r = close_handle(vfs_of(req), handle_of(fi));

	(void)ino;
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

static void vfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
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
	r = handle_check(req, h, "fsync", false);
	if (r == 0)
		r = in->blob ? vfs_blob_sync(in->blob, 1) : 0;
	if (r == 0)
		r = inode_flush(v, in);
	pthread_rwlock_unlock(&in->lock);
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

/* ---------- directories ---------- */

static void do_opendir(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct meta_node n = { 0 };
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
		struct fuse_entry_param e = { 0 };
		const char *name = dot == 0 ? "." : "..";
		size_t len;

		e.attr.st_ino = ino;
		e.attr.st_mode = S_IFDIR;
		len = plus ? fuse_add_direntry_plus(req, buf + used, size - used, name, &e, dot + 1)
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
			size_t nlen = d->name_enc_len >= KT_META_OVERHEAD ? d->name_enc_len - KT_META_OVERHEAD : 0;
			struct fuse_entry_param e = { 0 };
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
				node_to_stat(&nodes[i], &e.attr);
				overlay_open_state(v, &e.attr);
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
		record_integrity(v, s, req, ino, -1, "directory entry name failed authentication");
	if (r < 0 && used == 0) {
		fuse_reply_err(req, reply_errno(r));
	} else if (fuse_reply_buf(req, buf, used) != 0) {
		/* The kernel never saw these entries: give their references back. */
		for (size_t i = 0; i < nlooked; i++)
			if (vfs_inode_forget(v->itable, looked_up[i], 1))
				delete_node(v, looked_up[i]);
	}
	free(looked_up);
	free(buf);
}

static void do_readdir(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
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

static void vfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vfs *v = vfs_of(req);
	struct statvfs sv;
	uint64_t nodes = 0, bytes = 0;

	(void)ino;
	if (fstatvfs(v->objects_fd, &sv) < 0) {
		fuse_reply_err(req, errno);
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

/* ---------- xattrs and classification ---------- */

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
	struct meta_node n = { 0 };
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
	if (r < 0)
		goto out;
	if (level >= META_LEVEL_REFUSED) {
		r = -EPERM;
		/* Security-classified information (Säkerhetsskydd) is never stored. */
		vfs_record(v, s, &c, "classify", ino, path, NULL, old, r, NULL, "level %u refused", level);
		goto out;
	}
	if (level == old)
		goto out;
	if (!level_ok(s->writable, old) || !level_ok(s->writable, level) ||
	    (level < old && !s->may_declassify)) {
		r = -EACCES;
		vfs_record(v, s, &c, "classify", ino, path, NULL, old, r, NULL, "level %u->%u %s", old,
			   level, level < old && !s->may_declassify ? "needs declassify" : "level not held");
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
		r = file_key ? file_key_of(v, s, &n, file_key, true) : -ENOMEM;
		if (r == 0) {
			/* Re-wrap under the new level's current version as of this
			 * transaction (a rotation may have committed meanwhile). */
			pthread_mutex_lock(&v->keys_lock);
			r = keys_sync(v, s);
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
		r = vfs_record(v, s, &c, "classify", ino, path, NULL, level, 0, NULL, "level %u->%u", old,
			       level);
	if (r == 0)
		r = meta_tx_commit(v->db);
	else
		meta_tx_rollback(v->db);
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
	unpin(v, in);
	kt_secure_free(file_key);
	meta_node_clear(&n);
	free(path);
	return r;
}

static void do_setxattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags)
{
	struct vfs *v = vfs_of(req);
	struct meta_xattr x = { 0 }, old = { 0 };
	struct meta_node n = { 0 };
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
	name_hash(s, ino, name, x.name_hash);
	r = seal_meta(s, KT_META_XATTR_NAME, ino, name, strlen(name), &x.name_enc, &x.name_enc_len);
	if (r == 0) {
		uint64_t ctx = 0;

		memcpy(&ctx, x.name_hash, sizeof(ctx));
		ctx = le64toh(ctx);
		r = seal_meta(s, KT_META_XATTR_VALUE, ctx, value, size, &x.value_enc, &x.value_enc_len);
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
		goto fail;
	if (!level_ok(s->writable, n.level)) {
		meta_tx_rollback(v->db);
		r = -EACCES;
		vfs_record(v, s, &c, "setxattr", ino, path, NULL, n.level, r, NULL, NULL);
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
		r = vfs_record(v, s, &c, "setxattr", ino, path, NULL, n.level, 0, NULL, "size=%zu", size);
	if (r == 0) {
		r = meta_tx_commit(v->db);
		goto unlock;
	}
fail:
	meta_tx_rollback(v->db);
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

static void do_getxattr(fuse_req_t req, struct vfs_session *s, fuse_ino_t ino, const char *name, size_t size)
{
	struct vfs *v = vfs_of(req);
	struct meta_xattr x = { 0 };
	struct meta_node n = { 0 };
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
		char key[32], text[128];
		size_t len = sizeof(text);

		snprintf(key, sizeof(key), "level_name.%u", n.level);
		r = meta_config_get_blob(v->db, key, text, &len);
		db_unlock(v);
		meta_node_clear(&n);
		if (r < 0)
			fuse_reply_err(req, reply_errno(r));
		else
			reply_xattr_value(req, text, len, size);
		return;
	}
	if (r == 0) {
		name_hash(s, ino, name, hash);
		r = meta_xattr_get(v->db, ino, hash, &x);
		if (r == -ENOENT)
			r = -ENODATA;
	}
	if (r == 0 && strncmp(name, "user.", 5) == 0 && !level_ok(s->readable, n.level))
		r = deny(v, s, req, "getxattr", ino, 0, NULL, n.level, -EACCES, NULL);
	db_unlock(v);
	if (r == 0) {
		size_t len = x.value_enc_len >= KT_META_OVERHEAD ? x.value_enc_len - KT_META_OVERHEAD : 0;
		uint64_t ctx = 0;

		memcpy(&ctx, hash, sizeof(ctx));
		ctx = le64toh(ctx);
		value = malloc(len + 1);
		if (!value)
			r = -ENOMEM;
		else if (x.value_enc_len < KT_META_OVERHEAD)
			r = -EBADMSG;
		else
			r = vfs_meta_open_stored(s->meta_keys, KT_META_XATTR_VALUE, ctx, x.value_enc,
					 x.value_enc_len, value);
		if (r == -EBADMSG)
			record_integrity(v, s, req, ino, -1, "xattr value failed authentication");
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
		record_integrity(v, s, req, ino, -1, "xattr name failed authentication");
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
	struct meta_node n = { 0 };
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
	name_hash(s, ino, name, hash);
	db_lock(v);
	r = meta_tx_begin(v->db);
	if (r < 0)
		goto out;
	r = meta_node_get(v->db, ino, &n);
	if (r == 0)
		r = vfs_path_of(v, s->meta_keys, ino, &path);
	if (r == 0 && !level_ok(s->writable, n.level)) {
		meta_tx_rollback(v->db);
		r = -EACCES;
		vfs_record(v, s, &c, "removexattr", ino, path, NULL, n.level, r, NULL, NULL);
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
	if (r == 0)
		r = meta_tx_commit(v->db);
	else
		meta_tx_rollback(v->db);
out:
	db_unlock(v);
	meta_node_clear(&n);
	free(path);
	fuse_reply_err(req, r < 0 ? reply_errno(r) : 0);
}

/* ---------- entry points: the caller's session first ---------- */

/*
 * Run call with s = the caller's session, pinned, if it is unlocked (else
 * session_enter has refused and recorded). call replies; req must not be
 * touched after it, so the session is put through v, fetched before.
 */
#define WITH_SESSION(req, op, ino, browse, call)                                           \
	do {                                                                               \
		struct vfs *v_ = vfs_of(req);                                              \
		struct vfs_session *s = session_enter(req, op, ino, browse);               \
                                                                                           \
		if (s) {                                                                   \
			call;                                                              \
			vfs_session_put(v_->sessions, s);                                  \
		}                                                                          \
	} while (0)

static void vfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	WITH_SESSION(req, "lookup", parent, true, do_lookup(req, s, parent, name));
}

static void vfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s;

	if (ino == META_ROOT_INO) {
		/* The mountpoint itself: anyone may stat it (cd, ls -ld, df). */
		do_getattr(req, NULL, ino, fi);
		return;
	}
	s = session_enter(req, "getattr", ino, true);

	if (s) {
		do_getattr(req, s, ino, fi);
		vfs_session_put(v->sessions, s); /* req is gone after the reply */
	}
}

static void vfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			struct fuse_file_info *fi)
{
	WITH_SESSION(req, "setattr", ino, false, do_setattr(req, s, ino, attr, to_set, fi));
}

static void vfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	WITH_SESSION(req, "mknod", parent, false, do_mknod(req, s, parent, name, mode, rdev));
}

static void vfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	WITH_SESSION(req, "mkdir", parent, false, do_mkdir(req, s, parent, name, mode));
}

static void vfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	WITH_SESSION(req, "symlink", parent, false, do_symlink(req, s, link, parent, name));
}

static void vfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	WITH_SESSION(req, "readlink", ino, true, do_readlink(req, s, ino));
}

static void vfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	WITH_SESSION(req, "unlink", parent, false, do_unlink(req, s, parent, name));
}

static void vfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	WITH_SESSION(req, "rmdir", parent, false, do_rmdir(req, s, parent, name));
}

static void vfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		       const char *newname, unsigned int flags)
{
	WITH_SESSION(req, "rename", parent, false, do_rename(req, s, parent, name, newparent, newname, flags));
}

static void vfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	WITH_SESSION(req, "link", ino, false, do_link(req, s, ino, newparent, newname));
}

static void vfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	WITH_SESSION(req, "open", ino, false, do_open(req, s, ino, fi));
}

static void vfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		       struct fuse_file_info *fi)
{
	WITH_SESSION(req, "create", parent, false, do_create(req, s, parent, name, mode, fi));
}

static void vfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	WITH_SESSION(req, "opendir", ino, true, do_opendir(req, s, ino, fi));
}

static void vfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	WITH_SESSION(req, "readdir", ino, true, do_readdir(req, s, ino, size, off, fi));
}

static void vfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			    struct fuse_file_info *fi)
{
	WITH_SESSION(req, "readdir", ino, true, do_readdirplus(req, s, ino, size, off, fi));
}

static void vfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags)
{
	WITH_SESSION(req, "setxattr", ino, false, do_setxattr(req, s, ino, name, value, size, flags));
}

static void vfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
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
	s = session_enter(req, "getxattr", ino, true);

	if (s) {
		do_getxattr(req, s, ino, name, size);
		vfs_session_put(v->sessions, s); /* req is gone after the reply */
	}
}

static void vfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	WITH_SESSION(req, "listxattr", ino, true, do_listxattr(req, s, ino, size));
}

static void vfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	WITH_SESSION(req, "removexattr", ino, false, do_removexattr(req, s, ino, name));
}

const struct fuse_lowlevel_ops vfs_ops = {
	.init = vfs_init,
	.lookup = vfs_lookup,
	.forget = vfs_forget,
	.forget_multi = vfs_forget_multi,
	.getattr = vfs_getattr,
	.setattr = vfs_setattr,
	.readlink = vfs_readlink,
	.mknod = vfs_mknod,
	.mkdir = vfs_mkdir,
	.unlink = vfs_unlink,
	.rmdir = vfs_rmdir,
	.symlink = vfs_symlink,
	.rename = vfs_rename,
	.link = vfs_link,
	.open = vfs_open,
	.read = vfs_read,
	.write = vfs_write,
	.release = vfs_release,
	.fsync = vfs_fsync,
	.opendir = vfs_opendir,
	.readdir = vfs_readdir,
	.readdirplus = vfs_readdirplus,
	.statfs = vfs_statfs,
	.setxattr = vfs_setxattr,
	.getxattr = vfs_getxattr,
	.listxattr = vfs_listxattr,
	.removexattr = vfs_removexattr,
	.create = vfs_create,
};
