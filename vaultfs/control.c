/*
 * vaultfs/control.c — the control socket of a multi-user mount, and the
 * idle-expiry clock.
 *
 * The protocol is control-proto.h. Every request is attributed to the peer's
 * uid from SO_PEERCRED; a malformed, oversized, slow or vanished client gets
 * its connection closed and changes nothing. Unlocks, locks, refusals and
 * expiries are access records.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-proto.h"
#include "dcache.h"
#include "ops.h"
#include "record.h"
#include "../meta/keydb.h"

#define IO_TIMEOUT_SECONDS 5
#define TICK_MS 1000

struct vfs_control {
	struct vfs *v;
	struct meta_db *db;		/* the control thread's own connection */
	int listen_fd;
	int stop_pipe[2];		/* written to stop the thread */
	pthread_t thread;
	bool started;
	struct sockaddr_un addr;	/* the socket's path */
};

static void record(struct vfs *v, struct vfs_session *s, uid_t uid, pid_t pid, const char *op,
		   int outcome, const char *detail)
{
	struct vfs_caller c;

	if (pid > 0) {
		vfs_caller_fill(&c, uid, (gid_t)-1, pid);
	} else {
		/* The daemon acting on its own (idle expiry) for uid. */
		c = (struct vfs_caller){ .uid = uid, .gid = (gid_t)-1, .pid = getpid() };
		snprintf(c.comm, sizeof(c.comm), "vaultfs");
	}
	pthread_mutex_lock(&v->db_lock);
	vfs_record(v, s, &c, op, 0, NULL, NULL, -1, outcome, NULL, detail ? "%s" : NULL, detail);
	pthread_mutex_unlock(&v->db_lock);
}

/* The vault user of uid (see ops.c's session_map), via the control connection. */
static int user_of_uid(struct vfs_control *ctl, uid_t uid, char name[META_NAME_MAX + 1])
{
	struct meta_user u = { 0 };
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (meta_user_get_by_uid(ctl->db, uid, &u) == 0) {
		snprintf(name, META_NAME_MAX + 1, "%s", u.name);
		return 0;
	}
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
	    meta_user_get_by_name(ctl->db, res->pw_name, &u) == 0 && u.uid < 0) {
		snprintf(name, META_NAME_MAX + 1, "%s", u.name);
		return 0;
	}
	return -ENOENT;
}

static void levels_text(uint32_t mask, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int l = 0; l < META_LEVELS && at < len; l++)
		if (mask & (1u << l))
			at += (size_t)snprintf(buf + at, len - at, "%s%d", at ? "," : "", l);
	if (!at)
		snprintf(buf, len, "none");
}

static int do_unlock(struct vfs_control *ctl, uid_t uid, pid_t pid, const char *pass, size_t len,
		     char *text, size_t text_len)
{
	struct vfs *v = ctl->v;
	struct kt_keyring *keyring = NULL;
	char name[META_NAME_MAX + 1], levels[32];
	uint32_t readable;
	int r;

	if (user_of_uid(ctl, uid, name) < 0) {
		record(v, NULL, uid, pid, "unlock", -EACCES, "no vault user for this uid");
		snprintf(text, text_len, "no vault user for uid %u (ask an administrator: "
			 "'vaultfs-keytool user add NAME --uid %u')", (unsigned)uid, (unsigned)uid);
		return -EACCES;
	}
	{
		struct vfs_caller c;

		/* kt_unlock records a wrong passphrase: as the peer, not as us. */
		vfs_caller_fill(&c, uid, (gid_t)-1, pid);
		kt_actor_set(uid, pid, c.comm);
		r = kt_unlock(ctl->db, name, pass, len, &keyring);
		kt_actor_clear();
	}
	if (r == 0 && !kt_keyring_meta(keyring)) {
		keyring = kt_keyring_free(keyring);
		r = -ENOKEY;
	}
	if (r < 0) {
		snprintf(text, text_len, "%s", r == -EACCES ? "wrong passphrase (or the user is disabled)"
					 : r == -ENOKEY ? "the user holds no role with the metadata key"
							: strerror(-r));
		return r == -ENOKEY ? -EACCES : r;
	}
	readable = kt_keyring_readable(keyring);
	r = vfs_session_unlock(v->sessions, uid, name, keyring);
	if (r < 0) {
		snprintf(text, text_len, "%s", strerror(-r));
		return r;
	}
	levels_text(readable, levels, sizeof(levels));
	{
		struct vfs_session *s = vfs_session_get(v->sessions, uid);
		char detail[64];

		snprintf(detail, sizeof(detail), "levels=%s", levels);
		record(v, s, uid, pid, "unlock", 0, detail);
		vfs_session_put(v->sessions, s);
	}
	snprintf(text, text_len, "unlocked '%s' (levels %s)", name, levels);
	return 0;
}

/* A session was locked: the directory names decrypted for records go too. */
static void forget_names(struct vfs *v)
{
	pthread_mutex_lock(&v->db_lock);
	vfs_dcache_clear(v->dcache);
	pthread_mutex_unlock(&v->db_lock);
}

static int do_lock(struct vfs_control *ctl, uid_t uid, pid_t pid, char *text, size_t text_len)
{
	struct vfs *v = ctl->v;
	struct vfs_session *s = vfs_session_get(v->sessions, uid);
	int r;

	r = vfs_session_lock(v->sessions, uid);
	if (r == 0) {
		record(v, s, uid, pid, "lock", 0, NULL);
		forget_names(v);
	}
	snprintf(text, text_len, "%s", r == 0 ? "locked" : "nothing to lock: not unlocked");
	vfs_session_put(v->sessions, s);
	return r;
}

static int do_status(struct vfs_control *ctl, uid_t uid, char *text, size_t text_len)
{
	struct vfs_session *s = vfs_session_get(ctl->v->sessions, uid);
	char levels[32];

	if (!s || !s->keyring) {
		snprintf(text, text_len, "locked");
		vfs_session_put(ctl->v->sessions, s);
		return 0;
	}
	levels_text(s->readable, levels, sizeof(levels));
	snprintf(text, text_len, "unlocked '%s' (levels %s)", s->user, levels);
	vfs_session_put(ctl->v->sessions, s);
	return 0;
}

/* Read exactly len bytes (with the socket's timeout); -EPROTO on a short read. */
static int read_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		got += (size_t)n;
	}
	return 0;
}

static void serve_client(struct vfs_control *ctl, int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_SECONDS };
	struct vfs_ctl_request req;
	struct vfs_ctl_reply rep = { .magic = VFS_CTL_MAGIC, .version = VFS_CTL_VERSION };
	char text[VFS_CTL_TEXT_MAX] = "";
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char *payload = NULL;
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_exact(fd, &req, sizeof(req)) < 0)
		return;
	if (req.magic != VFS_CTL_MAGIC || req.version != VFS_CTL_VERSION || req.reserved != 0 ||
	    req.len > VFS_CTL_PAYLOAD_MAX || req.op < VFS_CTL_UNLOCK || req.op > VFS_CTL_STATUS) {
		r = -EPROTO;
		snprintf(text, sizeof(text), "malformed request");
		goto reply;
	}
	payload = kt_secure_alloc(req.len + 1);
	if (!payload) {
		r = -ENOMEM;
		goto reply;
	}
	if (read_exact(fd, payload, req.len) < 0) {
		kt_secure_free(payload);
		return;
	}
	payload[req.len] = '\0';
	switch (req.op) {
	case VFS_CTL_UNLOCK:
		r = do_unlock(ctl, cred.uid, cred.pid, payload, req.len, text, sizeof(text));
		break;
	case VFS_CTL_LOCK:
		r = do_lock(ctl, cred.uid, cred.pid, text, sizeof(text));
		break;
	default:
		r = do_status(ctl, cred.uid, text, sizeof(text));
		break;
	}
	kt_secure_free(payload);
reply:
	rep.status = r;
	rep.len = (uint32_t)strlen(text);
	if (write(fd, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) && rep.len > 0 &&
	    write(fd, text, rep.len) < 0) {
		/* The client is gone: nothing more to tell it. */
	}
}

static void report_expiry(void *ctx, uid_t uid, const char *user, int level)
{
	struct vfs_control *ctl = ctx;
	struct vfs_session *s = vfs_session_get(ctl->v->sessions, uid);
	char detail[64];

	if (level < 0) {
		snprintf(detail, sizeof(detail), "all levels idle: keys wiped");
	} else {
		snprintf(detail, sizeof(detail), "level %d idle: its keys wiped", level);
		if (s && s->keyring) {
			/* Wipe that level's keys now; the others stay unlocked. */
			pthread_mutex_lock(&ctl->v->keys_lock);
			kt_keyring_forget_level(s->keyring, (uint8_t)level);
			pthread_mutex_unlock(&ctl->v->keys_lock);
		}
	}
	(void)user;
	record(ctl->v, s, uid, 0, "expire", 0, detail);
	vfs_session_put(ctl->v->sessions, s);
}

static void *control_thread(void *arg)
{
	struct vfs_control *ctl = arg;

	pthread_setname_np(pthread_self(), "vfs-control"); /* for top -H, perf */

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ctl->listen_fd, .events = POLLIN },
			{ .fd = ctl->stop_pipe[0], .events = POLLIN },
		};
		int n = poll(pfd, 2, TICK_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		vfs_sessions_expire(ctl->v->sessions, meta_now_ns(), report_expiry, ctl);
		vfs_keys_maintain(ctl->v);
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				serve_client(ctl, fd);
				close(fd);
			}
		}
	}
	return NULL;
}

int vfs_control_start(struct vfs *v, struct vfs_control **ret_ctl)
{
	struct vfs_control *ctl = calloc(1, sizeof(*ctl));
	mode_t old_umask;
	int r;

	if (!ctl)
		return -ENOMEM;
	ctl->v = v;
	ctl->listen_fd = -1;
	ctl->stop_pipe[0] = ctl->stop_pipe[1] = -1;
	if (pipe2(ctl->stop_pipe, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	if (!v->multi_user)
		goto start; /* single-user mode: only the clock (key refresh, expiry) */
	r = meta_db_open(v->vault_dir, META_OPEN_RW, &ctl->db);
	if (r < 0)
		goto fail;
	if (mkdir(VFS_CTL_DIR, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	ctl->addr.sun_family = AF_UNIX;
	snprintf(ctl->addr.sun_path, sizeof(ctl->addr.sun_path), "%s/vaultfs-%d.sock", VFS_CTL_DIR,
		 (int)getpid());
	unlink(ctl->addr.sun_path); /* a stale socket of a dead daemon with our pid */
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0) {
		r = -errno;
		goto fail;
	}
	old_umask = umask(0);
	r = bind(ctl->listen_fd, (struct sockaddr *)&ctl->addr, sizeof(ctl->addr));
	umask(old_umask);
	if (r < 0 || chmod(ctl->addr.sun_path, 0666) < 0 || listen(ctl->listen_fd, 16) < 0) {
		r = -errno;
		goto fail;
	}
start:
	r = -pthread_create(&ctl->thread, NULL, control_thread, ctl);
	if (r < 0)
		goto fail;
	ctl->started = true;
	*ret_ctl = ctl;
	return 0;
fail:
	vfs_control_stop(ctl);
	return r;
}

struct vfs_control *vfs_control_stop(struct vfs_control *ctl)
{
	if (!ctl)
		return NULL;
	if (ctl->started) {
		if (write(ctl->stop_pipe[1], "x", 1) < 0) {
			/* a pipe we own cannot be full or closed */
		}
		pthread_join(ctl->thread, NULL);
	}
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(ctl->addr.sun_path);
	}
	if (ctl->stop_pipe[0] >= 0)
		close(ctl->stop_pipe[0]);
	if (ctl->stop_pipe[1] >= 0)
		close(ctl->stop_pipe[1]);
	meta_db_close(ctl->db);
	free(ctl);
	return NULL;
}

const char *vfs_control_path(const struct vfs_control *ctl)
{
	return ctl->listen_fd >= 0 ? ctl->addr.sun_path : NULL;
}
