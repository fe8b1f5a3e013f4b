/*
 * vaultfs/deferred.h — the close records of closed files, written in batches.
 *
 * An open's record is committed before the open returns; the bytes read and
 * written through it are only known at close, and go into a close record
 * naming the open (meta_log_close). Written one by one, that was a
 * transaction on every close (md5sum over a tree: one of the two
 * transactions per file). Here they wait a few milliseconds, so that the
 * closes of a busy moment share one transaction; a thread writes them. A
 * daemon killed in that moment leaves those opens without a close record
 * (no byte counts, as for a file still open), never with wrong ones.
 *
 * Locking: its own mutex for the queue; writing takes v->db_lock.
 */
#pragma once

#include <stdint.h>

struct vfs;
struct vfs_deferred;

/* Start the writer thread for v. -errno on failure. */
int vfs_deferred_start(struct vfs *v, struct vfs_deferred **ret);
/* Queue the close of the open whose record is record_id. -ENOMEM. */
int vfs_deferred_bytes(struct vfs_deferred *d, int64_t record_id, int64_t bytes_read,
		       int64_t bytes_written);
/* Write everything queued now (fsync; before unmount). 0 or -errno; what
 * could not be written stays queued. */
int vfs_deferred_flush(struct vfs_deferred *d);
/* Write what is queued, stop the thread, free (takes NULL); returns NULL. */
struct vfs_deferred *vfs_deferred_stop(struct vfs_deferred *d);
