/*
 * vaultfs/control.h — the control socket of a multi-user mount, and the
 * clock (idle expiry, key refresh).
 *
 * In every mode a thread keeps the clock: once a second it applies idle
 * expiry and refreshes keyrings whose keys changed under the mount; it never
 * waits for a client of the socket. In multi-user mode another thread
 * accepts connections on VFS_CTL_DIR/vaultfs-PID.sock (mode 0666: anyone may
 * ask; the peer's uid decides whose keys are unlocked or locked) and serves
 * each on a thread of its own, one request per connection, with 10 s from
 * accept to reply; a uid has at most 4 connections at a time, everyone 64,
 * and at most 2 unlocks run Argon2id at a time, each on a database
 * connection of its own, so FUSE requests never wait for it. Connections
 * cut off or refused are access records, rate-limited per uid (control.c).
 */
#pragma once

#include "vaultfs/vfs.h"

struct vfs_control;

/* Start the clock (and, in multi-user mode, open the socket and start
 * accepting). */
int vfs_control_start(struct vfs *v, struct vfs_control **ret_ctl);
/* Stop every thread, without waiting for clients (an Argon2id run in
 * progress is finished), record the counts still held back, remove the
 * socket. Takes NULL; returns NULL. */
struct vfs_control *vfs_control_stop(struct vfs_control *ctl);
/* The socket's path (served as the root's user.vault.control xattr), or
 * NULL in single-user mode. */
const char *vfs_control_path(const struct vfs_control *ctl);
