/*
 * vaultfs/fuseio.h — the daemon's end of /dev/fuse, with what libfuse 3.14
 * leaves out: FUSE_HANDLE_KILLPRIV_V2.
 *
 * Without it the kernel asks the daemon for security.capability before every
 * write and every chown (to learn whether there is a capability to drop), and
 * fetches the attributes again before every chown: two or three round trips
 * that do nothing, since vaultfs never stores security.* attributes. With it,
 * the kernel leaves dropping privileges to the filesystem and tells it, per
 * request, when the caller lacks CAP_FSETID and set-user-ID and set-group-ID
 * must go (FUSE_WRITE_KILL_SUIDGID, FUSE_OPEN_KILL_SUIDGID,
 * FATTR_KILL_SUIDGID). libfuse 3.14 neither negotiates the flag nor passes
 * those bits on, so this transport (fuse_session_custom_io) adds the flag to
 * the INIT reply when the kernel offers it, and notes the bits of each request
 * as libfuse reads it: a libfuse worker thread reads a request and handles it
 * before reading the next, so a thread-local flag is the request's own.
 */
#pragma once

#include <stdbool.h>

struct fuse_session;

/*
 * Install the transport on se, after fuse_session_mount() (same /dev/fuse
 * descriptor). 0, or -errno from libfuse.
 */
int vfs_fuseio_install(struct fuse_session *se);

/* The request this thread is handling asks to drop set-user-ID and
 * set-group-ID (a write, an O_TRUNC open or a setattr by a caller without
 * CAP_FSETID, or a chown). Only ever true once KILLPRIV_V2 is negotiated. */
bool vfs_fuseio_kill_suidgid(void);
