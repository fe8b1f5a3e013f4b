/*
 * keytool/mountctl.c — talking to a running multi-user mount.
 *
 * Finds the mount's control socket through the xattr user.vault.control on
 * the mountpoint, sends one request, prints the one-line answer. The daemon
 * knows who we are from the socket's peer credentials.
 */
#include "mountctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli.h"
#include "../vaultfs/control-proto.h"

static int write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int request(const char *mountpoint, enum vfs_ctl_op op, const char *payload, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct vfs_ctl_request req = {
		.magic = VFS_CTL_MAGIC, .version = VFS_CTL_VERSION, .op = (uint8_t)op,
		.len = (uint32_t)len,
	};
	struct vfs_ctl_reply rep;
	char text[VFS_CTL_TEXT_MAX + 1];
	ssize_t n;
	int fd;

	n = getxattr(mountpoint, VFS_CTL_XATTR, addr.sun_path, sizeof(addr.sun_path) - 1);
	if (n <= 0) {
		cli_error("%s is not a multi-user vaultfs mount (mounted without --user?): %s",
			  mountpoint, n < 0 ? strerror(errno) : "no control socket");
		return CLI_EXIT_FAILED;
	}
	addr.sun_path[n] = '\0';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		cli_error("cannot reach the vaultfs daemon of %s at %s: %s", mountpoint, addr.sun_path,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_FAILED;
	}
	if (write_all(fd, &req, sizeof(req)) < 0 || (len && write_all(fd, payload, len) < 0) ||
	    read_all(fd, &rep, sizeof(rep)) < 0 || rep.magic != VFS_CTL_MAGIC ||
	    rep.len > VFS_CTL_TEXT_MAX || read_all(fd, text, rep.len) < 0) {
		cli_error("the vaultfs daemon of %s did not answer properly", mountpoint);
		close(fd);
		return CLI_EXIT_FAILED;
	}
	close(fd);
	text[rep.len] = '\0';
	if (rep.status == 0) {
		printf("%s\n", text);
		return CLI_EXIT_OK;
	}
	cli_error("%s", text);
	return rep.status == -EACCES ? CLI_EXIT_DENIED : CLI_EXIT_FAILED;
}

int mountctl_unlock(const char *mountpoint, const char *passphrase_file)
{
	char *pass = cli_passphrase_read(passphrase_file, "Passphrase: ", false);
	int r;

	if (!pass)
		return CLI_EXIT_FAILED;
	if (strlen(pass) > VFS_CTL_PAYLOAD_MAX) {
		cli_passphrase_free(pass);
		cli_error("passphrase too long (at most %d bytes)", VFS_CTL_PAYLOAD_MAX);
		return CLI_EXIT_USAGE;
	}
	r = request(mountpoint, VFS_CTL_UNLOCK, pass, strlen(pass));
	cli_passphrase_free(pass);
	return r;
}

int mountctl_lock(const char *mountpoint)
{
	return request(mountpoint, VFS_CTL_LOCK, NULL, 0);
}

int mountctl_status(const char *mountpoint)
{
	return request(mountpoint, VFS_CTL_STATUS, NULL, 0);
}
