/*
 * tests/integration/ctlclient.c — a misbehaving client of a multi-user
 * mount's control socket, for the tests that check the daemon survives it.
 *
 *   ctlclient SOCKET close|garbage|huge|partial|badmagic|slow|status
 *   ctlclient SOCKET drip SECONDS INTERVAL
 *   ctlclient SOCKET hold N SECONDS
 *
 * Each of the first modes connects and does one wrong thing (status: one
 * correct status request, printing the reply's status and text).
 *
 * drip sends a status request one byte every INTERVAL seconds (fractions
 * allowed) for at most SECONDS, and prints how it ended:
 *   sent=BYTES end=reply|closed|open after=SECONDS [status=STATUS]
 * (reply: the daemon answered; closed: it hung up without a word; open: it
 * was still waiting when we gave up).
 *
 * hold opens N connections that send nothing and keeps them for at most
 * SECONDS, or until the daemon has closed them all, and prints:
 *   connected=C unconnected=U closed=D fast=F last=SECONDS open=O
 * (unconnected: not accepted within a second, the listen queue being full;
 * closed: hung up or answered by the daemon, fast: of those within 2 s of
 * connecting, last: when the last of them was closed).
 *
 * Exit 0 when the mode ran.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "keytool/control-proto.h"

#define HOLD_MAX 256

/* A connected socket, or -1 (errno set) when connect failed. A full listen
 * queue makes connect wait: at most a second. */
static int try_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 1};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int connect_to(const char *path)
{
	int fd = try_connect(path);

	if (fd < 0) {
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double arg_seconds(const char *s)
{
	char *end;
	double d = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || d < 0 || d > 3600) {
		fprintf(stderr, "bad number of seconds: %s\n", s);
		exit(2);
	}
	return d;
}

/* Wait up to seconds for the daemon to answer or hang up on fd: 0 if it did
 * neither, 1 when a reply came (its status in *ret_status), 2 when it hung up. */
static int daemon_spoke(int fd, double seconds, int *ret_status)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct vfs_ctl_reply rep;
	ssize_t n;

	if (poll(&p, 1, (int)(seconds * 1000)) <= 0)
		return 0;
	n = read(fd, &rep, sizeof(rep));
	if (n != (ssize_t)sizeof(rep) || rep.magic != VFS_CTL_MAGIC)
		return 2;
	*ret_status = rep.status;
	return 1;
}

static int drip(const char *path, double seconds, double interval)
{
	struct vfs_ctl_request req = {
	    .magic = VFS_CTL_MAGIC,
	    .version = VFS_CTL_VERSION,
	    .op = VFS_CTL_STATUS,
	};
	const char *bytes = (const char *)&req;
	double t0 = now_s(), left;
	size_t sent = 0;
	int fd = connect_to(path), spoke = 0, status = 0;

	while (!spoke && (left = t0 + seconds - now_s()) > 0) {
		if (sent < sizeof(req) && write(fd, bytes + sent, 1) == 1)
			sent++;
		spoke = daemon_spoke(fd, left < interval ? left : interval, &status);
	}
	printf("sent=%zu end=%s after=%.1f", sent,
	       spoke == 1 ? "reply"
	       : spoke	  ? "closed"
			  : "open",
	       now_s() - t0);
	if (spoke == 1)
		printf(" status=%d", status);
	printf("\n");
	close(fd);
	return 0;
}

static int hold(const char *path, int n, double seconds)
{
	struct pollfd p[HOLD_MAX];
	double opened[HOLD_MAX], t0 = now_s(), last = 0, left;
	int connected = 0, closed = 0, fast = 0, status;

	if (n < 1 || n > HOLD_MAX) {
		fprintf(stderr, "hold: 1 to %d connections\n", HOLD_MAX);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		int fd = try_connect(path);

		if (fd < 0)
			break; /* the listen queue is full: the rest would wait too */
		opened[connected] = now_s();
		p[connected++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	while (closed < connected && (left = t0 + seconds - now_s()) > 0) {
		if (poll(p, (nfds_t)connected, (int)(left * 1000) + 1) <= 0)
			continue;
		for (int i = 0; i < connected; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			daemon_spoke(p[i].fd, 0, &status);
			close(p[i].fd);
			p[i].fd = -1;
			closed++;
			fast += now_s() - opened[i] < 2.0;
			last = now_s() - t0;
		}
	}
	printf("connected=%d unconnected=%d closed=%d fast=%d last=%.1f open=%d\n", connected,
	       n - connected, closed, fast, last, connected - closed);
	for (int i = 0; i < connected; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	return 0;
}

int main(int argc, char *argv[])
{
	struct vfs_ctl_request req = {.magic = VFS_CTL_MAGIC, .version = VFS_CTL_VERSION};
	const char *mode;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: ctlclient SOCKET MODE [ARGS]\n");
		return 2;
	}
	mode = argv[2];
	signal(SIGPIPE, SIG_IGN); /* the daemon may hang up on a bad request first */
	if (strcmp(mode, "drip") == 0 || strcmp(mode, "hold") == 0) {
		if (argc != 5) {
			fprintf(stderr, "usage: ctlclient SOCKET drip SECONDS INTERVAL\n"
					"       ctlclient SOCKET hold N SECONDS\n");
			return 2;
		}
		if (mode[0] == 'd')
			return drip(argv[1], arg_seconds(argv[3]), arg_seconds(argv[4]));
		return hold(argv[1], atoi(argv[3]), arg_seconds(argv[4]));
	}
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
		sleep(11); /* longer than the daemon's 10 s deadline per request */
		send_all(fd, "0123456789abcdef", 16);
	} else if (strcmp(mode, "status") == 0) {
		struct vfs_ctl_reply rep;
		char text[VFS_CTL_TEXT_MAX + 1];

		req.op = VFS_CTL_STATUS;
		send_all(fd, &req, sizeof(req));
		if (read(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep) ||
		    rep.len > VFS_CTL_TEXT_MAX || read(fd, text, rep.len) != (ssize_t)rep.len) {
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
