/*
 * vaultfs/record.h — access records written by the daemon.
 *
 * Each FUSE operation that the policy asks to trace appends one record (see
 * docs/access-records.md) in the same transaction as the change it records,
 * before the reply goes to the kernel. Paths are rebuilt from the namespace
 * (the path of an inode at that moment) and stored encrypted with the
 * metadata key.
 *
 * Locking: every function here expects v->db_lock held by the caller.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vaultfs/vfs.h"

#define VFS_PATH_DEPTH_MAX 4096

/*
 * Decrypt stored metadata (kt_meta_open) where any failure — a bad tag, and
 * also a malformed version or length, which only tampering produces — is
 * -EBADMSG. out gets in_len - KT_META_OVERHEAD bytes.
 */
int vfs_meta_open_stored(const struct kt_meta_keys *mk, enum kt_meta_purpose purpose,
			 uint64_t context, const uint8_t *in, size_t in_len, void *out);

/* Fill the caller's identity; comm from /proc/PID/comm ("?" if gone). */
void vfs_caller_fill(struct vfs_caller *c, uid_t uid, gid_t gid, pid_t pid);

/*
 * The path of ino inside the vault ("/" for the root, "/a/b" otherwise), via
 * one of its names, decrypted with mk; malloc'd into *ret_path. An inode
 * without names (unlinked) gives "(unlinked)". -EBADMSG when a stored name
 * fails to decrypt.
 */
int vfs_path_of(struct vfs *v, const struct kt_meta_keys *mk, uint64_t ino, char **ret_path);
/* The path of name in directory parent; malloc'd. */
int vfs_path_join(struct vfs *v, const struct kt_meta_keys *mk, uint64_t parent, const char *name,
		  char **ret_path);

/*
 * Append a record for caller c acting in session s (s may be NULL or locked:
 * the user is then s's mapped name or "", and paths are encrypted with the
 * keys of any unlocked session, or left out when nobody is unlocked).
 * path/path2 may be NULL; level -1 for none; outcome 0 or -errno; detail
 * printf-style (may be NULL). On success *ret_id (if not NULL) is the
 * record's id, for meta_log_close at close.
 */
int vfs_record(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c, const char *op,
	       uint64_t ino, const char *path, const char *path2, int level, int outcome,
	       int64_t *ret_id, const char *detail_fmt, ...)
    __attribute__((format(printf, 11, 12)));

/*
 * Record a refusal; the path is computed here (from ino, or from parent and
 * name when name is not NULL) with whatever metadata key is available.
 * Returns err.
 */
/*
 * A record of the daemon itself (mount, unmount, anchors): the daemon's
 * uid, pid and process, the root folder, the mount's own keys if it has
 * some; its id into *ret_id (may be NULL). Takes db_lock; call it without.
 */
int vfs_record_daemon(struct vfs *v, const char *op, int64_t *ret_id, int outcome,
		      const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));

int vfs_record_denial(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c,
		      const char *op, uint64_t ino, uint64_t parent, const char *name, int level,
		      int err, const char *detail);
