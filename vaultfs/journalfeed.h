/*
 * vaultfs/journalfeed.h — the access records of a mounted vault, sent on to
 * the system journal (the daemon's -o journal) for a SIEM.
 *
 * A thread of its own reads, through a read-only connection of its own,
 * every record committed after a starting point and sends each with
 * kt_journal_send_record (keytool/journal.h). Reading committed rows means
 * that only records that are in vault.db are sent, never one whose
 * transaction was rolled back; close records, written in batches
 * (deferred.c), and records that vaultfs-keytool writes while the vault is
 * mounted go the same way. The request threads only poke it
 * (vfs_journal_feed_poke, a signal); it also looks every second by itself.
 * Nothing is sent from the data path, and a record that cannot be sent is
 * counted, never retried, and never fails anything.
 *
 * Paths are sent only with VFS_JOURNAL_PATHS (-o journal_paths), decrypted
 * with the metadata key of an unlocked session; when nobody is unlocked
 * they are left out, and a path that does not decrypt is sent as
 * "<undecryptable>", as vaultfs-meta shows it.
 *
 * Locking: the feed has its own mutex; it takes keys_lock (alone) while it
 * decrypts a path, and never db_lock.
 */
#pragma once

#include <stdint.h>

#include "vaultfs/vfs.h"

#define VFS_JOURNAL_PATHS 0x1u /* send paths too (-o journal_paths) */

struct vfs_journal_feed;

/*
 * Start sending the records with an id greater than after_id. report(msg)
 * is called from the feed's thread, once, for the first record that could
 * not be sent and once when the records go to syslog because no journald
 * listens; and from vfs_journal_feed_stop with the totals when any send
 * failed. -errno when the thread or its connection cannot be made.
 */
int vfs_journal_feed_start(struct vfs *v, unsigned flags, int64_t after_id,
			   void (*report)(const char *msg), struct vfs_journal_feed **ret);

/* Tell the feed that a record is (about to be) committed. Takes NULL. */
void vfs_journal_feed_poke(struct vfs_journal_feed *f);

/* Send what is still committed and unsent, stop, free; takes NULL, returns NULL. */
struct vfs_journal_feed *vfs_journal_feed_stop(struct vfs_journal_feed *f);
