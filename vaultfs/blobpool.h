/*
 * vaultfs/blobpool.h — empty blob files, made ahead of time.
 *
 * Creating a file on ext4 means searching the inode bitmaps for a free inode,
 * past every inode freed in the last minute: in profiles of tar -x it was the
 * largest single cost of a create, about a third of the daemon's time. A
 * thread keeps a few dozen empty files ready in the vault's pool/ directory,
 * each named by a fresh random object id; a create takes one and the content
 * store adopts it (vfs_blob_create_from: a rename into objects/), so the
 * search happens on the other core, between requests. The files are empty
 * (no key, no header); pool/ is emptied at start, which also removes what a
 * crash left there, and at stop.
 *
 * The same thread removes the blobs of deleted files (vfs_blobpool_discard),
 * so that ext4's unlink is paid there too and not inside the request. Their
 * rows, wrapped file keys included, are gone before a blob is queued; a crash
 * with blobs still queued leaves them unreferenced in objects/, as a crash
 * between the commit and an inline unlink would.
 *
 * Thread-safe.
 */
#pragma once

#include <stdint.h>

#include "keytool/crypto.h"

struct vfs_blobpool;
struct kt_store;

/* Make (or empty) VAULT_DIR/pool and start the thread, which removes blobs
 * from store (used, not owned). -errno on failure; -EXDEV when the store
 * cannot adopt files from pool/ (objects/ on another filesystem than the
 * vault directory): then there is no pool, creates make their files in place. */
int vfs_blobpool_start(const char *vault_dir, struct kt_store *store, struct vfs_blobpool **ret);
/*
 * Take a file: its object id (random) and its descriptor (O_RDWR), named by
 * the hex of the id in vfs_blobpool_fd(). -EAGAIN when none is ready: the
 * caller then creates the blob itself.
 */
int vfs_blobpool_take(struct vfs_blobpool *p, uint8_t ret_id[KT_OBJECT_ID_BYTES], int *ret_fd);
/*
 * Queue the blob object_id (an object of the store) for removal by the thread.
 * -EAGAIN when the queue is full: the caller then removes it itself.
 */
int vfs_blobpool_discard(struct vfs_blobpool *p, const uint8_t object_id[KT_OBJECT_ID_BYTES]);
/* The pool directory (O_PATH). */
int vfs_blobpool_fd(const struct vfs_blobpool *p);
/* Remove the blobs still queued, stop the thread, remove the files left and
 * pool/ (takes NULL); returns NULL. */
struct vfs_blobpool *vfs_blobpool_stop(struct vfs_blobpool *p);
