/*
 * vaultfs/inode.h — in-memory state of the inodes the kernel knows about.
 *
 * The kernel holds a lookup count on every inode it has been told about
 * (lookup, create, mkdir, ...) and drops it with forget. An inode must stay in
 * the database while that count or an open handle exists, even after its
 * last name is unlinked; this table tracks both, plus the open content blob
 * and the not-yet-flushed size and mtime of open files.
 *
 * Locking: the table's own mutex guards the hash chains and the counters
 * (nlookup, pins). Each inode's rwlock guards blob, dirty, level and the pending times, and the
 * blob's content: read side for reads and getattr, write side for open,
 * write, truncate, flush, release and a change of level. Lock order: inode
 * rwlock before the database mutex; never the table mutex while waiting for either.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vfs_blob;

struct vfs_inode {
	uint64_t ino;	       /* inode number = nodes.ino */
	uint64_t nlookup;      /* kernel lookup count (table mutex) */
	uint64_t pins;	       /* open handles + in-flight operations (table mutex) */
	unsigned nopen;	       /* open file handles (rwlock, write side) */
	pthread_rwlock_t lock; /* see Locking above */
	struct vfs_blob *blob; /* content, while nopen > 0 (regular files) */
	uint32_t mode;	  /* the node's mode: 0 until an open sets it, then kept current by every
			     change of mode */
	int level;	  /* the node's level: -1 until an open or create sets it, then kept
			   * current by every change of level (under the write side, before
			   * its reply); what open handles are checked against */
	bool unlinked;	  /* its last name is gone: delete when freed (table mutex) */
	bool dirty;	  /* size or times not yet written to the database */
	int64_t mtime_ns; /* valid when dirty */
	int64_t ctime_ns; /* valid when dirty */
	bool atime_dirty; /* atime_ns set (futimens) and not yet written */
	int64_t atime_ns; /* valid when atime_dirty */
	struct vfs_inode *next; /* hash chain (table mutex) */
};

struct vfs_itable;

struct vfs_itable *vfs_itable_new(void);
/* Free the table and every inode still in it (their blobs must be closed). */
struct vfs_itable *vfs_itable_free(struct vfs_itable *t);

/* Pin ino (creating its entry); never NULL except on ENOMEM. */
struct vfs_inode *vfs_inode_pin(struct vfs_itable *t, uint64_t ino);
/* The entry for ino pinned, or NULL if the table has none. */
struct vfs_inode *vfs_inode_find(struct vfs_itable *t, uint64_t ino);
/* Drop a pin. Returns true if that freed an entry marked unlinked (no
 * lookups, no pins left): the caller then deletes the node and its blob. */
bool vfs_inode_unpin(struct vfs_itable *t, struct vfs_inode *in);
/*
 * True if nothing pins ino (no open handle, no operation in flight; the
 * kernel may still hold lookups). The daemon asks this under db_lock, which
 * every new user of the node takes before reading it.
 */
bool vfs_inode_unused(struct vfs_itable *t, uint64_t ino);
/* Mark a pinned entry unlinked (its link count reached 0). */
void vfs_inode_set_unlinked(struct vfs_itable *t, struct vfs_inode *in);
/* The kernel learned of ino once more (entry replies). -ENOMEM on failure. */
int vfs_inode_lookup(struct vfs_itable *t, uint64_t ino);
/* The kernel forgot n lookups of ino. Returns true as vfs_inode_unpin does. */
bool vfs_inode_forget(struct vfs_itable *t, uint64_t ino, uint64_t n);
/* Number of entries (for tests and statistics). */
uint64_t vfs_itable_count(struct vfs_itable *t);
