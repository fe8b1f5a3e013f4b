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
 *
 * Messages are built and read only by the functions below (control-proto.c:
 * no I/O), on both sides: the daemon (vaultfs/control.c) and the client
 * (keytool/cmd/mount.c). The structs at the end show the layout; the
 * functions read and write the bytes, little-endian, on any host.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define VFS_CTL_MAGIC	    0x55534656u /* "VFSU" */
#define VFS_CTL_VERSION	    1
#define VFS_CTL_PAYLOAD_MAX 1024
#define VFS_CTL_TEXT_MAX    512
#define VFS_CTL_XATTR	    "user.vault.control"
#define VFS_CTL_DIR	    "/run/vaultfs"

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

#define VFS_CTL_REQUEST_SIZE 12 /* a request's header */
#define VFS_CTL_REPLY_SIZE   16 /* a reply's header */
#define VFS_CTL_REPLY_MAX    (VFS_CTL_REPLY_SIZE + VFS_CTL_TEXT_MAX)

_Static_assert(sizeof(struct vfs_ctl_request) == VFS_CTL_REQUEST_SIZE, "request header is pinned");
_Static_assert(sizeof(struct vfs_ctl_reply) == VFS_CTL_REPLY_SIZE, "reply header is pinned");

/*
 * The header of a request for op whose payload (sent right after it, as is)
 * is len bytes: 0, or -EINVAL for an unknown op or len > VFS_CTL_PAYLOAD_MAX.
 */
int vfs_ctl_request_encode(uint8_t out[VFS_CTL_REQUEST_SIZE], int op, size_t len);

/*
 * Read a request's header from the n bytes at buf (bytes past the header are
 * not looked at): 0 with *op and *len (the payload's length, at most
 * VFS_CTL_PAYLOAD_MAX) set; -EAGAIN when n is short of a header; -EPROTO
 * for a wrong magic, version or reserved field, an unknown op or a length
 * over VFS_CTL_PAYLOAD_MAX. Nothing is set unless 0 is returned.
 */
int vfs_ctl_request_decode(const void *buf, size_t n, enum vfs_ctl_op *op, uint32_t *len);

/*
 * A whole reply (header and text) into out: the text is taken up to its NUL
 * and at most VFS_CTL_TEXT_MAX bytes, a control character in it (newline,
 * ESC, DEL...) sent as '?', so that it is one line. Returns the reply's
 * length.
 */
size_t vfs_ctl_reply_encode(uint8_t out[VFS_CTL_REPLY_MAX], int32_t status, const char *text);

/*
 * Read a reply's header from the n bytes at buf: 0 with *status and *len
 * (the text's length, at most VFS_CTL_TEXT_MAX) set; -EAGAIN when n is
 * short of a header; -EPROTO for a wrong magic, version or reserved field
 * or a longer text. Nothing is set unless 0 is returned.
 */
int vfs_ctl_reply_decode(const void *buf, size_t n, int32_t *status, uint32_t *len);

/*
 * The text of a reply whose header announced len bytes, from the n bytes at
 * buf, into out as a C string: 0; -EAGAIN when n < len; -EPROTO when len is
 * over VFS_CTL_TEXT_MAX or the text is not one line (a NUL, which would cut
 * what is printed, or a control character: newline, ESC, DEL...). out is
 * written only on 0.
 */
int vfs_ctl_reply_text(const void *buf, size_t n, uint32_t len, char out[VFS_CTL_TEXT_MAX + 1]);
