/*
 * keytool/cmd/mount.c — "vaultfs-keytool unlock", "lock" and "status":
 * talking to a running multi-user mount (the client side of
 * keytool/control-proto.h).
 *
 * Finds the mount's control socket through the xattr user.vault.control on
 * the mountpoint, sends one request, prints the one-line answer. The daemon
 * knows who we are from the socket's peer credentials.
 *
 * Nothing is sent before the other end is known to be a vaultfs daemon run
 * by root: anyone can make a folder whose user.vault.control names a socket
 * of their own, and tell a colleague to "unlock the drive" there. So the
 * folder must be on a fuse.vaultfs mount made by root (the mount table, same
 * device), the socket must be a root-owned socket directly in the daemon's
 * run directory (root-owned, writable by root only), and the peer must be
 * root (SO_PEERCRED).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "keytool/cmd/cmd.h"
#include "keytool/control-proto.h"

static int write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		/* a daemon that refuses us (too many connections) may hang up
		 * first: an error, not a SIGPIPE that kills us without a word */
		ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);

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

/*
 * Is dev the device of a fuse.vaultfs mount made by root? Reads the mount
 * table: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS".
 */
static bool vaultfs_mount_of(dev_t dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char *sep = strstr(line, " - "), *fstype, *superopts, *save = NULL;

		if (!sep || sscanf(line, "%*s %*s %u:%u", &maj, &min) != 2 ||
		    makedev(maj, min) != dev)
			continue;
		fstype = strtok_r(sep + 3, " \n", &save);
		(void)strtok_r(NULL, " \n", &save); /* source */
		superopts = strtok_r(NULL, " \n", &save);
		if (!fstype || strcmp(fstype, "fuse.vaultfs") != 0 || !superopts)
			continue;
		/* user_id= is the uid that mounted it (fusermount3 sets it) */
		for (char *o = strtok_r(superopts, ",", &save); o; o = strtok_r(NULL, ",", &save))
			if (strcmp(o, "user_id=0") == 0)
				found = true;
	}
	free(line);
	fclose(f);
	return found;
}

/* Is path a root-owned socket directly in the daemon's run directory, which
 * only root can write? A reason for the refusal in why otherwise. */
static bool trusted_socket(const char *path, const char **why)
{
	size_t n = strlen(VFS_CTL_DIR);
	struct stat st;

	if (strncmp(path, VFS_CTL_DIR "/", n + 1) != 0 || strchr(path + n + 1, '/') ||
	    strcmp(path + n + 1, "..") == 0 || strcmp(path + n + 1, ".") == 0) {
		*why = "it is not in " VFS_CTL_DIR;
		return false;
	}
	if (lstat(VFS_CTL_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		*why = VFS_CTL_DIR " is not a directory that only root can write";
		return false;
	}
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != 0) {
		*why = "it is not a socket owned by root";
		return false;
	}
	return true;
}

/*
 * The control socket of the vaultfs mount at mountpoint, into addr, after
 * checking that it is one (see the top of this file). 0, or -1 with the
 * reason printed.
 */
static int control_socket_of(const char *mountpoint, struct sockaddr_un *addr)
{
	const char *why = NULL;
	struct stat st;
	ssize_t n;

	*addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (stat(mountpoint, &st) < 0) {
		cli_error("cannot use %s: %s", mountpoint, strerror(errno));
		return -1;
	}
	if (!vaultfs_mount_of(st.st_dev)) {
		cli_error(
		    "%s is not on a vaultfs mount made by root (see 'findmnt -t fuse.vaultfs'); "
		    "nothing was sent",
		    mountpoint);
		return -1;
	}
	n = getxattr(mountpoint, VFS_CTL_XATTR, addr->sun_path, sizeof(addr->sun_path) - 1);
	if (n <= 0) {
		cli_error("%s is not a multi-user vaultfs mount (mounted without --user?): %s",
			  mountpoint, n < 0 ? strerror(errno) : "no control socket");
		return -1;
	}
	addr->sun_path[n] = '\0';
	if (strlen(addr->sun_path) != (size_t)n || !trusted_socket(addr->sun_path, &why)) {
		cli_error("refusing the control socket that %s names (%s): %s; nothing was sent",
			  mountpoint, addr->sun_path, why ? why : "malformed path");
		return -1;
	}
	return 0;
}

/* Connect to addr and check that the peer is root. The fd, or -1 with the
 * reason printed. */
static int connect_daemon(const char *mountpoint, const struct sockaddr_un *addr)
{
	struct ucred peer;
	socklen_t peer_len = sizeof(peer);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		cli_error("cannot reach the vaultfs daemon of %s at %s: %s", mountpoint,
			  addr->sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) < 0 || peer.uid != 0) {
		cli_error("the process behind %s is not run by root; nothing was sent",
			  addr->sun_path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Send one request to the daemon at addr (checked by control_socket_of) and
 * print its answer. */
static int request(const char *mountpoint, const struct sockaddr_un *addr, enum vfs_ctl_op op,
		   const char *payload, size_t len)
{
	uint8_t req[VFS_CTL_REQUEST_SIZE], rep[VFS_CTL_REPLY_SIZE], raw[VFS_CTL_TEXT_MAX];
	char text[VFS_CTL_TEXT_MAX + 1];
	int32_t status;
	uint32_t text_len;
	int fd;

	if (vfs_ctl_request_encode(req, op, len) < 0) {
		cli_error("cannot ask the vaultfs daemon of %s: %s", mountpoint, strerror(EINVAL));
		return CLI_EXIT_FAILED;
	}
	fd = connect_daemon(mountpoint, addr);
	if (fd < 0)
		return CLI_EXIT_FAILED;
	if (write_all(fd, req, sizeof(req)) < 0 || (len && write_all(fd, payload, len) < 0) ||
	    read_all(fd, rep, sizeof(rep)) < 0 ||
	    vfs_ctl_reply_decode(rep, sizeof(rep), &status, &text_len) < 0 ||
	    read_all(fd, raw, text_len) < 0 ||
	    vfs_ctl_reply_text(raw, text_len, text_len, text) < 0) {
		cli_error("the vaultfs daemon of %s did not answer properly", mountpoint);
		close(fd);
		return CLI_EXIT_FAILED;
	}
	close(fd);
	if (status == 0) {
		printf("%s\n", text);
		return CLI_EXIT_OK;
	}
	cli_error("%s", text);
	return status == -EACCES ? CLI_EXIT_DENIED : CLI_EXIT_FAILED;
}

/* The mount is checked before the passphrase is asked for: a refusal costs
 * the user no typing, and the daemon's deadline for a request starts only
 * once the passphrase is in hand. */
static int mountctl_unlock(const char *mountpoint, const char *passphrase_file)
{
	struct sockaddr_un addr;
	char *pass;
	int r;

	if (control_socket_of(mountpoint, &addr) < 0)
		return CLI_EXIT_FAILED;
	pass = cli_passphrase_read(passphrase_file, "Passphrase: ", false);
	if (!pass)
		return CLI_EXIT_FAILED;
	if (strlen(pass) > VFS_CTL_PAYLOAD_MAX) {
		cli_passphrase_free(pass);
		cli_error("passphrase too long (at most %d bytes)", VFS_CTL_PAYLOAD_MAX);
		return CLI_EXIT_USAGE;
	}
	r = request(mountpoint, &addr, VFS_CTL_UNLOCK, pass, strlen(pass));
	cli_passphrase_free(pass);
	return r;
}

static int mountctl_lock(const char *mountpoint)
{
	struct sockaddr_un addr;

	if (control_socket_of(mountpoint, &addr) < 0)
		return CLI_EXIT_FAILED;
	return request(mountpoint, &addr, VFS_CTL_LOCK, NULL, 0);
}

static int mountctl_status(const char *mountpoint)
{
	struct sockaddr_un addr;

	if (control_socket_of(mountpoint, &addr) < 0)
		return CLI_EXIT_FAILED;
	return request(mountpoint, &addr, VFS_CTL_STATUS, NULL, 0);
}

/* ---- a running multi-user mount: unlock, lock, status ------------------- */

/* unlock/lock/status MOUNTPOINT: talk to the daemon; no --vault needed. */
static int mount_command(struct cli_context *ctx, int argc, char **argv, const char *name)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc - optind < 1 ? "which mount? give its MOUNTPOINT"
							      : "too many arguments");
	if (strcmp(name, "unlock") == 0)
		return mountctl_unlock(argv[optind], ctx->passphrase_file);
	if (strcmp(name, "lock") == 0)
		return mountctl_lock(argv[optind]);
	return mountctl_status(argv[optind]);
}

int cmd_unlock(struct cli_context *ctx, int argc, char **argv)
{
	return mount_command(ctx, argc, argv, "unlock");
}

int cmd_lock(struct cli_context *ctx, int argc, char **argv)
{
	return mount_command(ctx, argc, argv, "lock");
}

int cmd_status(struct cli_context *ctx, int argc, char **argv)
{
	return mount_command(ctx, argc, argv, "status");
}
