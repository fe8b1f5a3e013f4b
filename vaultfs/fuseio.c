/*
 * vaultfs/fuseio.c — the daemon's end of /dev/fuse (see fuseio.h).
 *
 * Requests and replies pass through unchanged but for one bit of the INIT
 * reply. Parsing stops at the fixed-size headers of the kernel ABI
 * (linux/fuse.h), and only after checking the length libfuse was given.
 */
#include "vaultfs/fuseio.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

static _Thread_local bool kill_suidgid; /* of the request this thread read last */
static _Atomic uint64_t init_unique;	/* the INIT request, whose reply we amend */
static atomic_bool kernel_offers_v2;	/* the INIT request offered KILLPRIV_V2 */
static atomic_bool killpriv_v2;		/* and we said yes */

bool vfs_fuseio_kill_suidgid(void)
{
	return kill_suidgid;
}

/* Note what a request asks of us, before libfuse hands it to a handler. */
static void inspect_request(const void *buf, size_t len)
{
	const struct fuse_in_header *h = buf;
	const char *arg = (const char *)buf + sizeof(*h);
	size_t arg_len = len - sizeof(*h);

	kill_suidgid = false;
	if (len < sizeof(*h))
		return;
	switch (h->opcode) {
	case FUSE_INIT:
		if (arg_len >= offsetof(struct fuse_init_in, flags) + sizeof(uint32_t)) {
			const struct fuse_init_in *in = (const void *)arg;

			atomic_store(&kernel_offers_v2, (in->flags & FUSE_HANDLE_KILLPRIV_V2) != 0);
			atomic_store(&init_unique, h->unique);
		}
		break;
	case FUSE_WRITE:
		if (arg_len >= sizeof(struct fuse_write_in)) {
			const struct fuse_write_in *in = (const void *)arg;

			kill_suidgid = (in->write_flags & FUSE_WRITE_KILL_SUIDGID) != 0;
		}
		break;
	case FUSE_OPEN:
		if (arg_len >= sizeof(struct fuse_open_in)) {
			const struct fuse_open_in *in = (const void *)arg;

			kill_suidgid = (in->open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
		}
		break;
	case FUSE_SETATTR:
		if (arg_len >= sizeof(struct fuse_setattr_in)) {
			const struct fuse_setattr_in *in = (const void *)arg;

			kill_suidgid = (in->valid & FATTR_KILL_SUIDGID) != 0;
		}
		break;
	default:
		break;
	}
	kill_suidgid = kill_suidgid && atomic_load(&killpriv_v2);
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);

	(void)userdata;
	if (n > 0)
		inspect_request(buf, (size_t)n);
	return n;
}

/* The INIT reply: say yes to KILLPRIV_V2 when the kernel offered it. */
static void amend_init_reply(struct iovec *iov, int count)
{
	const struct fuse_out_header *h;
	struct fuse_init_out *out;

	if (count < 2 || iov[0].iov_len < sizeof(*h))
		return;
	h = iov[0].iov_base;
	if (h->error != 0 || h->unique != atomic_load(&init_unique) || h->unique == 0 ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, flags) + sizeof(uint32_t))
		return;
	atomic_store(&init_unique, 0);
	if (!atomic_load(&kernel_offers_v2))
		return;
	out = iov[1].iov_base;
	out->flags |= FUSE_HANDLE_KILLPRIV_V2;
	atomic_store(&killpriv_v2, true);
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (atomic_load(&init_unique) != 0)
		amend_init_reply(iov, count);
	return writev(fd, iov, count);
}

int vfs_fuseio_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
	    .read = io_read,
	    .writev = io_writev,
	};

	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}
