/*
 * keytool/control-proto.c — building and reading the messages of a
 * multi-user mount's control socket (see control-proto.h). No I/O: the
 * daemon (vaultfs/control.c) and the client (keytool/cmd/mount.c) read and
 * write the bytes, these functions only turn them into values and back.
 *
 * Every field is read byte by byte, little-endian, from a buffer whose
 * length is checked first, so a short or hostile message is refused, never
 * read past.
 */
#include "keytool/control-proto.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool op_known(unsigned op)
{
	return op >= VFS_CTL_UNLOCK && op <= VFS_CTL_STATUS;
}

/* Not part of a line of text: a NUL, a C0 control (newline, ESC, ...), DEL. */
static bool text_control(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

int vfs_ctl_request_encode(uint8_t out[VFS_CTL_REQUEST_SIZE], int op, size_t len)
{
	if (op < 0 || !op_known((unsigned)op) || len > VFS_CTL_PAYLOAD_MAX)
		return -EINVAL;
	put_u32(out, VFS_CTL_MAGIC);
	out[4] = VFS_CTL_VERSION;
	out[5] = (uint8_t)op;
	out[6] = out[7] = 0; /* reserved */
	put_u32(out + 8, (uint32_t)len);
	return 0;
}

int vfs_ctl_request_decode(const void *buf, size_t n, enum vfs_ctl_op *op, uint32_t *len)
{
	const uint8_t *p = buf;
	uint32_t l;

	if (n < VFS_CTL_REQUEST_SIZE)
		return -EAGAIN;
	l = get_u32(p + 8);
	if (get_u32(p) != VFS_CTL_MAGIC || p[4] != VFS_CTL_VERSION || !op_known(p[5]) || p[6] ||
	    p[7] || l > VFS_CTL_PAYLOAD_MAX)
		return -EPROTO;
	*op = (enum vfs_ctl_op)p[5];
	*len = l;
	return 0;
}

size_t vfs_ctl_reply_encode(uint8_t out[VFS_CTL_REPLY_MAX], int32_t status, const char *text)
{
	size_t len = strnlen(text, VFS_CTL_TEXT_MAX);

	put_u32(out, VFS_CTL_MAGIC);
	out[4] = VFS_CTL_VERSION;
	out[5] = out[6] = out[7] = 0; /* reserved */
	put_u32(out + 8, (uint32_t)status);
	put_u32(out + 12, (uint32_t)len);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)text[i];

		out[VFS_CTL_REPLY_SIZE + i] = text_control(c) ? '?' : c; /* one line */
	}
	return VFS_CTL_REPLY_SIZE + len;
}

int vfs_ctl_reply_decode(const void *buf, size_t n, int32_t *status, uint32_t *len)
{
	const uint8_t *p = buf;
	uint32_t l;

	if (n < VFS_CTL_REPLY_SIZE)
		return -EAGAIN;
	l = get_u32(p + 12);
	if (get_u32(p) != VFS_CTL_MAGIC || p[4] != VFS_CTL_VERSION || p[5] || p[6] || p[7] ||
	    l > VFS_CTL_TEXT_MAX)
		return -EPROTO;
	*status = (int32_t)get_u32(p + 8);
	*len = l;
	return 0;
}

int vfs_ctl_reply_text(const void *buf, size_t n, uint32_t len, char out[VFS_CTL_TEXT_MAX + 1])
{
	if (len > VFS_CTL_TEXT_MAX)
		return -EPROTO;
	if (n < len)
		return -EAGAIN;
	/* a NUL would cut what is printed, a control would act on the terminal */
	for (uint32_t i = 0; i < len; i++)
		if (text_control(((const uint8_t *)buf)[i]))
			return -EPROTO;
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}
