/*
 * vaultfs/ops.h — the FUSE low-level operations of the vault.
 *
 * Inode numbers are node row ids of vault.db; every operation authorises the
 * caller against the level of what it touches, applies the change and its
 * access record in one transaction, and replies. Content goes through
 * keytool/chunk.h and never touches the database on read or write.
 */
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "vaultfs/vfs.h"

extern const struct fuse_lowlevel_ops vfs_ops;

/* Refresh unlocked sessions whose keys changed under the mount (key epoch
 * moved, a grant expired); lock users who lost every key. Takes db_lock. */
void vfs_keys_maintain(struct vfs *v);

/* Delete nodes left with no names by a crash (and their blobs). Call before
 * mounting, with no other user of v. Returns the number removed or -errno. */
int vfs_remove_orphans(struct vfs *v);
