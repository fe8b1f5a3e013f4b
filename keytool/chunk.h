/*
 * keytool/chunk.h — a file's content blob: authenticated encryption in chunks.
 *
 * A blob is one object of the content store (keytool/store.h; locally
 * objects/XX/YYYY…): a 64-byte MAC'd header holding the object id, the
 * plaintext size and a write counter, followed by fixed-size chunks, each
 * sealed with AEAD bound to the object id and chunk index (docs/format.md
 * §7). This module reads and writes plaintext ranges of a blob; it knows
 * nothing of FUSE, the database or where the store keeps its objects.
 *
 * The write counter grows by one each time the header is rewritten after a
 * change of content or size (vfs_blob_sync, vfs_blob_truncate, close). Its
 * owner (the node row, meta/ns.h) keeps the counter it expects, and an open
 * that finds less in the header refuses the blob: an older copy of it was
 * put back (a rollback).
 *
 * Errors: 0 / byte counts, or -errno: -EBADMSG stored data failed
 * authentication (tampered, truncated, swapped, rolled back); -EIO, -ENOSPC
 * etc. from the store; -ENOMEM; -EOVERFLOW the write counter is spent.
 *
 * Locking: a struct vfs_blob is not locked here. Callers allow concurrent
 * vfs_blob_read() calls but must serialise writes, truncates and header
 * syncs against everything else (vaultfs/inode.h: the inode's rwlock).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "keytool/crypto.h"

#define VFS_CHUNK_SHIFT		     12
#define VFS_CHUNK_SIZE		     (1u << VFS_CHUNK_SHIFT)
#define VFS_CHUNK_NONCE		     24
#define VFS_CHUNK_TAG		     16
#define VFS_CHUNK_DISK		     (VFS_CHUNK_NONCE + VFS_CHUNK_SIZE + VFS_CHUNK_TAG)
#define VFS_HEADER_BYTES	     64
#define VFS_CIPHER_XCHACHA20POLY1305 1
#define VFS_BLOB_COUNTER_MAX	     INT64_MAX /* write counters fit the node row */

struct vfs_blob;
struct kt_store;

/*
 * Create a new empty blob (size 0) in store, never over an existing object
 * (-EEXIST), its header holding write counter counter (0 for a new file;
 * re-encryption carries the old blob's counter over). The file key is copied
 * (secure memory).
 *
 * Every open blob holds a shared lock on its object (kt_object_lock; locally
 * flock(2)), so that re-encryption (vaultfs-keytool rotate --reencrypt,
 * another process) can tell a blob in use from one it may replace: see
 * vfs_blob_lock_exclusive.
 */
int vfs_blob_create(struct kt_store *store, const uint8_t object_id[KT_OBJECT_ID_BYTES],
		    const uint8_t file_key[KT_KEY_BYTES], uint64_t counter,
		    struct vfs_blob **ret_blob);
/*
 * vfs_blob_create on an empty file made ahead of time (blobpool.h): fd, open
 * O_RDWR, is named by the hex of object_id in directory pool_fd, and is moved
 * into place (kt_object_adopt: a rename, instead of ext4's search for a free
 * inode), with write counter 0. fd belongs to the blob from now on; on failure it is closed and the
 * file removed.
 */
int vfs_blob_create_from(struct kt_store *store, int pool_fd, int fd,
			 const uint8_t object_id[KT_OBJECT_ID_BYTES],
			 const uint8_t file_key[KT_KEY_BYTES], struct vfs_blob **ret_blob);
/*
 * Open an existing blob and authenticate its header: -EBADMSG if the MAC, the
 * object id, the format or the blob's length does not match, or if its write
 * counter is below expected_counter (the node's: an older copy of the blob).
 * A counter above it is accepted: the header is written before the node row
 * that records it, and a crash in between leaves the header ahead; the
 * caller brings the row up to vfs_blob_counter().
 */
int vfs_blob_open(struct kt_store *store, const uint8_t object_id[KT_OBJECT_ID_BYTES],
		  const uint8_t file_key[KT_KEY_BYTES], uint64_t expected_counter,
		  struct vfs_blob **ret_blob);
/*
 * Turn b's shared lock into an exclusive one, without waiting: -EBUSY while
 * another open of the blob (the daemon's) holds it. Re-encryption holds the
 * old blob this way from its copy until it has been replaced and removed.
 */
int vfs_blob_lock_exclusive(struct vfs_blob *b);
/* Write the header if content or size changed, close, wipe the keys. Takes NULL. */
struct vfs_blob *vfs_blob_close(struct vfs_blob *b, int *ret_err);
/* (A blob is removed as the store's object: kt_store_remove.) */

/* The plaintext size (in memory, may be ahead of the header until sync). */
uint64_t vfs_blob_size(const struct vfs_blob *b);
/* The write counter of the header as last read or written (format 1: 0). A
 * change not yet synced is not counted until its header is written. */
uint64_t vfs_blob_counter(const struct vfs_blob *b);

/* Read up to len bytes at off; short at end of file; -EBADMSG on tampering. */
ssize_t vfs_blob_read(struct vfs_blob *b, void *buf, size_t len, uint64_t off);
/* Write len bytes at off, growing the file (the gap reads as zeros). Returns
 * len. The header (size, counter) is written by vfs_blob_sync(), not here. */
ssize_t vfs_blob_write(struct vfs_blob *b, const void *buf, size_t len, uint64_t off);
/* Set the size; shrinking writes the header at once (counter + 1), growing
 * writes zeros and then the header. */
int vfs_blob_truncate(struct vfs_blob *b, uint64_t size);
/* Write the header, counter + 1, if content or size changed since it was
 * last written; with data_sync, also fdatasync the blob. */
int vfs_blob_sync(struct vfs_blob *b, int data_sync);

/* Exposed for the unit tests and golden vectors: seal/open one chunk. */
int vfs_chunk_seal(const uint8_t data_key[KT_KEY_BYTES],
		   const uint8_t object_id[KT_OBJECT_ID_BYTES], uint64_t index,
		   const uint8_t plain[VFS_CHUNK_SIZE], uint8_t ret_disk[VFS_CHUNK_DISK]);
int vfs_chunk_open(const uint8_t data_key[KT_KEY_BYTES],
		   const uint8_t object_id[KT_OBJECT_ID_BYTES], uint64_t index,
		   const uint8_t disk[VFS_CHUNK_DISK], uint8_t ret_plain[VFS_CHUNK_SIZE]);
