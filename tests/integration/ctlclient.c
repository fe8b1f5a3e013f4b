/*
 * tests/integration/ctlclient.c — a misbehaving client of a multi-user
 * mount's control socket, for the tests that check the daemon survives it.
 *
 *   ctlclient SOCKET close|garbage|huge|partial|badmagic|slow|status
 *
 * Each mode connects and does one wrong thing (status: one correct status
 * request, printing the reply's status and text). Exit 0 when the mode ran.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../vaultfs/control-proto.h"

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("connect");
		exit(2);
	}
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len) {
		/* the daemon may close early on a bad request: that is fine */
	}
}

int main(int argc, char *argv[])
{
	struct vfs_ctl_request req = { .magic = VFS_CTL_MAGIC, .version = VFS_CTL_VERSION };
	const char *mode;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: ctlclient SOCKET MODE\n");
		return 2;
	}
	mode = argv[2];
	signal(SIGPIPE, SIG_IGN); /* the daemon may hang up on a bad request first */
	fd = connect_to(argv[1]);
	if (strcmp(mode, "close") == 0) {
		/* nothing: connect and go away */
	} else if (strcmp(mode, "garbage") == 0) {
		char junk[200];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)(i * 37 + 11);
		send_all(fd, junk, sizeof(junk));
	} else if (strcmp(mode, "huge") == 0) {
		req.op = VFS_CTL_UNLOCK;
		req.len = 1u << 30;
		send_all(fd, &req, sizeof(req));
		send_all(fd, "xxxxxxxx", 8);
	} else if (strcmp(mode, "partial") == 0) {
		send_all(fd, &req, 5);
	} else if (strcmp(mode, "badmagic") == 0) {
		req.magic = 0x12345678;
		req.op = VFS_CTL_STATUS;
		send_all(fd, &req, sizeof(req));
	} else if (strcmp(mode, "slow") == 0) {
		req.op = VFS_CTL_UNLOCK;
		req.len = 16;
		send_all(fd, &req, sizeof(req));
		sleep(7); /* longer than the daemon's I/O timeout */
		send_all(fd, "0123456789abcdef", 16);
	} else if (strcmp(mode, "status") == 0) {
		struct vfs_ctl_reply rep;
		char text[VFS_CTL_TEXT_MAX + 1];

		req.op = VFS_CTL_STATUS;
		send_all(fd, &req, sizeof(req));
		if (read(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep) || rep.len > VFS_CTL_TEXT_MAX ||
		    read(fd, text, rep.len) != (ssize_t)rep.len) {
			fprintf(stderr, "bad reply\n");
			return 1;
		}
		text[rep.len] = '\0';
		printf("%d %s\n", rep.status, text);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	close(fd);
	return 0;
}
