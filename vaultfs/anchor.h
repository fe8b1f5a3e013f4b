/*
 * vaultfs/anchor.h — the daemon's signed checkpoints of the access record,
 * and the check at mount that the vault was not rolled back.
 *
 * At mount, before anything is served, the record is checked against the
 * newest checkpoint held outside the vault (a witness directory): a record
 * shorter than it, or whose first records no longer hash to its root, means
 * the vault was rolled back or rewritten, and the mount is refused with an
 * incident. While mounted, a thread of its own (own database connection,
 * off the request path) signs a checkpoint every VFS_ANCHOR_RECORDS records
 * or VFS_ANCHOR_SECONDS seconds, whichever comes first, when the record
 * grew, keeps it in the vault and offers it to the witness; and one more at
 * unmount. Signing needs the checkpoint key, which every role holds: the
 * thread copies it from the first unlocked session it finds (single-user:
 * the mount's own), and waits while nobody is unlocked.
 *
 * A witness that refuses a checkpoint (it holds one the record does not
 * extend) is an integrity incident, recorded as op "anchor" with -EBADMSG
 * or -ESTALE; a witness that cannot be reached is reported in the daemon's
 * log and recorded once, and checkpoints go on.
 */
#pragma once

#include <stddef.h>

#include "vaultfs/vfs.h"

#define VFS_ANCHOR_RECORDS 1000
#define VFS_ANCHOR_SECONDS 300

struct vfs_anchor;

/*
 * Compare the record with the newest checkpoint of witness (NULL: none
 * configured): 0 when it extends it, or there is nothing to compare with;
 * -ESTALE rolled back, -EBADMSG rewritten or signed by another key (with
 * an incident recorded and why[] saying what was found, one line);
 * other -errno when the witness cannot be read (why[] says so; the caller
 * decides). Uses v->db; call before serving.
 */
int vfs_anchor_check(struct vfs *v, const char *witness, char *why, size_t why_size);

/* Start the thread. witness may be NULL. -errno on failure. */
int vfs_anchor_start(struct vfs *v, const char *witness, struct vfs_anchor **ret);
/* Stop the thread, then sign a last checkpoint if the record grew (call
 * after the unmount record, while sessions still hold keys). Takes NULL. */
struct vfs_anchor *vfs_anchor_stop(struct vfs_anchor *a);
