/*
 * vaultfs/dcache.h — the names of directories, remembered.
 *
 * Every access record carries the path of the file at that moment, and a path
 * is rebuilt from the namespace one directory at a time: a query and a
 * decryption per level. Directories change their name only by rename (they
 * have exactly one), so the daemon remembers each directory's parent and
 * decrypted name, and forgets it when the directory is renamed or removed.
 * Files are never cached here: hard links give them several names.
 *
 * The names are plaintext in the daemon's memory, as they are in the kernel's
 * dentry cache; the cache is wiped when it is cleared (whenever a session is
 * locked: by its user, or because its keys were revoked) or freed.
 *
 * Locking: none inside; the daemon uses it under db_lock.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct vfs_dcache;

/* A cache holding at most max entries (it starts over when full). */
struct vfs_dcache *vfs_dcache_new(size_t max);
/* Free (takes NULL); returns NULL. */
struct vfs_dcache *vfs_dcache_free(struct vfs_dcache *c);

/*
 * The parent and name of directory ino: 0, or -ENOENT when not cached.
 * *ret_name points into the cache, valid until its next change.
 */
int vfs_dcache_get(struct vfs_dcache *c, uint64_t ino, uint64_t *ret_parent, const char **ret_name);
/* Remember (or replace) ino's parent and name. -ENOMEM, or -EINVAL for an empty name. */
int vfs_dcache_put(struct vfs_dcache *c, uint64_t ino, uint64_t parent, const char *name);
/* Forget ino (renamed or removed); harmless when it is not cached. */
void vfs_dcache_drop(struct vfs_dcache *c, uint64_t ino);
/* Forget everything. */
void vfs_dcache_clear(struct vfs_dcache *c);
/* Entries held (for tests). */
size_t vfs_dcache_count(const struct vfs_dcache *c);
