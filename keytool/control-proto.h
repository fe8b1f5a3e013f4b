/*
 * keytool/control-proto.h — the wire protocol of a multi-user mount's
 * control socket (unlock, lock, status), shared by the daemon and
 * vaultfs-keytool.
 *
 * The socket's path is the value of the xattr user.vault.control on the
 * mount's root. The caller is identified by the socket's peer credentials
 * (SO_PEERCRED), never by anything it sends. One request, one reply, then
 * the daemon closes the connection. All integers little-endian.
 *
 *   request: magic u32 | version u8 | op u8 | reserved u16 | len u32 | payload[len]
 *   reply:   magic u32 | version u8 | reserved u8[3] | status i32 | len u32 | text[len]
 *
 * op 1 unlock (payload: the passphrase), 2 lock, 3 status (payload empty).
 * status: 0 ok, else -errno (-EACCES wrong passphrase or no vault user for
 * the uid, -ENOENT nothing to lock). text: one human-readable line.
 */
#pragma once

#include <stdint.h>

#define VFS_CTL_MAGIC 0x55534656u /* "VFSU" */
#define VFS_CTL_VERSION 1
#define VFS_CTL_PAYLOAD_MAX 1024
#define VFS_CTL_TEXT_MAX 512
#define VFS_CTL_XATTR "user.vault.control"
#define VFS_CTL_DIR "/run/vaultfs"

enum vfs_ctl_op {
	VFS_CTL_UNLOCK = 1,
	VFS_CTL_LOCK = 2,
	VFS_CTL_STATUS = 3,
};

struct vfs_ctl_request {
	uint32_t magic;
	uint8_t version;
	uint8_t op;
	uint16_t reserved;
	uint32_t len;
} __attribute__((packed));

struct vfs_ctl_reply {
	uint32_t magic;
	uint8_t version;
	uint8_t reserved[3];
	int32_t status;
	uint32_t len;
} __attribute__((packed));

_Static_assert(sizeof(struct vfs_ctl_request) == 12, "request header is pinned");
_Static_assert(sizeof(struct vfs_ctl_reply) == 16, "reply header is pinned");
