/*
 * vaultfs/control.h — the control socket of a multi-user mount, and the
 * idle-expiry clock.
 *
 * In every mode a thread keeps the clock: once a second it applies idle
 * expiry and refreshes keyrings whose keys changed under the mount. In
 * multi-user mode it also accepts connections on VFS_CTL_DIR/vaultfs-PID.sock (mode 0666:
 * anyone may ask; the peer's uid decides whose keys are unlocked or locked),
 * serves one request per connection with short timeouts, and once a second
 * applies idle expiry to the sessions. Unlocking runs Argon2id on a database
 * connection of its own, so FUSE requests never wait for it.
 */
#pragma once

#include "vfs.h"

struct vfs_control;

/* Start the thread (and, in multi-user mode, open the socket). */
int vfs_control_start(struct vfs *v, struct vfs_control **ret_ctl);
/* Stop the thread, remove the socket. Takes NULL; returns NULL. */
struct vfs_control *vfs_control_stop(struct vfs_control *ctl);
/* The socket's path (served as the root's user.vault.control xattr), or
 * NULL in single-user mode. */
const char *vfs_control_path(const struct vfs_control *ctl);
