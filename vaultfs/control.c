/*
 * vaultfs/control.c — the control socket of a multi-user mount, and the
 * clock (idle expiry, key refresh).
 *
 * The protocol is control-proto.h. Every request is attributed to the peer's
 * uid from SO_PEERCRED. The socket is open to every local account, so no
 * client may hold up anything but itself:
 *
 * - The clock is a thread of its own that ticks once a second and never
 *   waits for a client.
 * - An accepting thread hands each connection to a thread of its own. A
 *   connection has CTL_DEADLINE_S from accept to reply: its thread waits in
 *   poll() on the socket and the stop pipe for the time left, and cuts the
 *   connection off when it runs out.
 * - A uid has at most CTL_CONN_PER_UID connections at a time, everyone
 *   together CTL_CONN_MAX; more are refused at accept.
 * - Argon2id runs for at most CTL_KDF_MAX unlocks at a time (each may take
 *   up to the user's memlimit, 1 GiB with --kdf sensitive), first come first
 *   served; an unlock that gets no turn before its deadline is refused.
 *
 * A connection cut off (deadline passed, cut short, malformed) or refused
 * (over a limit) is an access record (op "control"), as is an unlock by a
 * uid without a vault user (op "unlock"). So that a flood cannot flood the
 * trail, each uid gets at most one such record per kind per CTL_NOTE_S; the
 * ones left out are counted, and the clock writes the count ("N more since
 * the last record") once the interval is over, or at stop.
 *
 * Unlocks, locks and expiries are access records too.
 */
#include "vaultfs/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "keytool/control-proto.h"
#include "keytool/record.h"
#include "vaultfs/dcache.h"
#include "vaultfs/ops.h"
#include "vaultfs/record.h"
#include "meta/users.h"

#define CTL_DEADLINE_S	 10	      /* from accept to reply */
#define CTL_CONN_PER_UID 4	      /* connections of one uid at a time */
#define CTL_CONN_MAX	 64	      /* connections of everyone at a time */
#define CTL_KDF_MAX	 2	      /* unlocks running Argon2id at a time */
#define CTL_NOTE_S	 10	      /* at most one record per uid and kind this often */
#define CTL_NOTE_UIDS	 64	      /* uids whose records are being rate-limited */
#define CTL_TICK_NS	 1000000000ll /* the clock: expiry and key refresh */
#define NS_PER_S	 1000000000ll

#define STR_(x) #x
#define STR(x)	STR_(x)

/* What a connection did wrong (or what was done to it), one record kind each. */
enum ctl_note {
	NOTE_STALLED,	/* no whole request within the deadline */
	NOTE_CUT_SHORT, /* the client hung up before a whole request */
	NOTE_MALFORMED, /* bad magic, version, op, reserved field or length */
	NOTE_OVER_UID,	/* over the per-uid connection limit */
	NOTE_OVER_ALL,	/* over the global connection limit */
	NOTE_KDF_BUSY,	/* no turn for Argon2id before the deadline */
	NOTE_NO_USER,	/* unlock by a uid without a vault user */
	NOTE_KINDS,
};

static const struct {
	const char *op;	  /* the record's op */
	int outcome;	  /* the record's outcome */
	const char *what; /* the record's detail */
} note_kinds[NOTE_KINDS] = {
    [NOTE_STALLED] = {"control", -ETIMEDOUT,
		      "request not complete within " STR(CTL_DEADLINE_S) " s: connection closed"},
    [NOTE_CUT_SHORT] = {"control", -EPROTO,
			"connection closed by the client before a whole request"},
    [NOTE_MALFORMED] = {"control", -EPROTO, "malformed request: connection closed"},
    [NOTE_OVER_UID] = {"control", -EPERM,
		       "over the limit of " STR(CTL_CONN_PER_UID) " connections per uid: refused"},
    [NOTE_OVER_ALL] = {"control", -EPERM,
		       "over the limit of " STR(CTL_CONN_MAX) " connections: refused"},
    [NOTE_KDF_BUSY] = {"unlock", -EBUSY,
		       "no turn to unlock within " STR(CTL_DEADLINE_S) " s: refused"},
    [NOTE_NO_USER] = {"unlock", -EACCES, "no vault user for this uid"},
};

/* The records of one uid, rate-limited. */
struct ctl_noted {
	bool used;			    /* the entry belongs to uid */
	uid_t uid;			    /* whose records */
	int64_t last_ns[NOTE_KINDS];	    /* monotonic time of the last record, 0 none */
	unsigned left_out[NOTE_KINDS];	    /* events since then not recorded */
	struct vfs_caller peer[NOTE_KINDS]; /* the peer of the last one left out */
};

/* One connection being served. */
struct ctl_conn {
	struct vfs_control *ctl;
	enum { CONN_FREE, CONN_SERVING, CONN_DONE } state; /* (lock) DONE: to be joined */
	pthread_t thread;				   /* serves it (SERVING, DONE) */
	int fd;						   /* the connection, non-blocking */
	uid_t uid;					   /* the peer, from SO_PEERCRED */
	pid_t pid;
	int64_t deadline_ns; /* monotonic: reply by then */
	size_t got, want;    /* bytes of the request read and expected */
};

/* A connection waiting for its turn to run Argon2id (on its thread's stack). */
struct ctl_kdf_waiter {
	struct ctl_kdf_waiter *next;
};

/* Locking: lock guards the fields marked (lock); it is never held while
 * waiting for a client or for db_lock. change_lock is taken before db_lock. */
struct vfs_control {
	struct vfs *v;
	int listen_fd;		 /* the socket, or -1 in single-user mode */
	int stop_pipe[2];	 /* written once to stop every thread */
	struct sockaddr_un addr; /* the socket's path */
	pthread_t clock, acceptor;
	bool clock_started, acceptor_started;
	pthread_mutex_t change_lock; /* session changes by unlock and lock vs. expiry
				      * and refresh, in the order they happen */
	pthread_mutex_t lock;
	pthread_cond_t kdf_cond;	       /* a turn may have come (CLOCK_MONOTONIC) */
	bool stopping;			       /* (lock) */
	struct ctl_conn conns[CTL_CONN_MAX];   /* (lock: state) */
	struct meta_db *kdf_db[CTL_KDF_MAX];   /* each unlock running holds one of these */
	bool kdf_busy[CTL_KDF_MAX];	       /* (lock) */
	struct ctl_kdf_waiter *kdf_queue;      /* (lock) oldest first */
	struct ctl_noted noted[CTL_NOTE_UIDS]; /* (lock) */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Milliseconds from now to deadline, for poll(); 0 once it passed. */
static int ms_until(int64_t deadline_ns)
{
	int64_t left = deadline_ns - mono_ns();

	return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

static void record_as(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c,
		      const char *op, int outcome, const char *detail)
{
	pthread_mutex_lock(&v->db_lock);
	vfs_record(v, s, c, op, 0, NULL, NULL, -1, outcome, NULL, detail ? "%s" : NULL, detail);
	pthread_mutex_unlock(&v->db_lock);
}

static void record(struct vfs *v, struct vfs_session *s, uid_t uid, pid_t pid, const char *op,
		   int outcome, const char *detail)
{
	struct vfs_caller c;

	if (pid > 0) {
		vfs_caller_fill(&c, uid, (gid_t)-1, pid);
	} else {
		/* The daemon acting on its own (idle expiry) for uid. */
		c = (struct vfs_caller){.uid = uid, .gid = (gid_t)-1, .pid = getpid()};
		snprintf(c.comm, sizeof(c.comm), "vaultfs");
	}
	record_as(v, s, &c, op, outcome, detail);
}

/* ---------- rate-limited records of what clients did wrong ---------- */

/* A record to write once lock is released. */
struct ctl_note_out {
	enum ctl_note kind;
	struct vfs_caller peer; /* for a count: the peer of the last one */
	unsigned left_out;	/* > 0: the count of a flush */
	char extra[48];		/* event only: "(3 of 12 bytes)" */
};

static void note_write(struct vfs_control *ctl, const struct ctl_note_out *o)
{
	struct vfs_session *s = vfs_session_get(ctl->v->sessions, o->peer.uid);
	char detail[192];

	if (o->left_out)
		snprintf(detail, sizeof(detail), "%s; %u more since the last record",
			 note_kinds[o->kind].what, o->left_out);
	else
		snprintf(detail, sizeof(detail), "%s%s%s", note_kinds[o->kind].what,
			 o->extra[0] ? " " : "", o->extra);
	record_as(ctl->v, s, &o->peer, note_kinds[o->kind].op, note_kinds[o->kind].outcome, detail);
	vfs_session_put(ctl->v->sessions, s);
}

/* Queue the flushes of e's counts (lock held); returns how many were queued. */
static size_t note_flush_locked(struct ctl_noted *e, int64_t now, bool all,
				struct ctl_note_out *out)
{
	size_t n = 0;

	for (int k = 0; k < NOTE_KINDS; k++) {
		if (!e->left_out[k] || (!all && now - e->last_ns[k] < CTL_NOTE_S * NS_PER_S))
			continue;
		out[n++] = (struct ctl_note_out){
		    .kind = (enum ctl_note)k, .peer = e->peer[k], .left_out = e->left_out[k]};
		e->left_out[k] = 0;
		e->last_ns[k] = now;
	}
	return n;
}

/* The entry of uid (lock held): its own, a free one, or the one longest
 * quiet, whose counts are queued into out first (*n_out grows). */
static struct ctl_noted *noted_of_locked(struct vfs_control *ctl, uid_t uid, int64_t now,
					 struct ctl_note_out *out, size_t *n_out)
{
	struct ctl_noted *e = NULL, *quiet = NULL;
	int64_t quiet_ns = 0;

	for (size_t i = 0; i < CTL_NOTE_UIDS; i++) {
		struct ctl_noted *x = &ctl->noted[i];
		int64_t last = 0;

		if (x->used && x->uid == uid)
			return x;
		if (!x->used) {
			e = e ? e : x;
			continue;
		}
		for (int k = 0; k < NOTE_KINDS; k++)
			last = x->last_ns[k] > last ? x->last_ns[k] : last;
		if (!quiet || last < quiet_ns) {
			quiet = x;
			quiet_ns = last;
		}
	}
	if (!e) {
		/* More uids misbehave at once than we follow: the quietest one's
		 * counts are written now, early rather than never. */
		e = quiet;
		*n_out += note_flush_locked(e, now, true, out + *n_out);
	}
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->uid = uid;
	return e;
}

/* Record that uid's peer pid did kind (extra: a detail of this event, or
 * NULL), unless a record of that kind for uid was written less than
 * CTL_NOTE_S ago: then it is only counted. */
static void note(struct vfs_control *ctl, enum ctl_note kind, uid_t uid, pid_t pid,
		 const char *extra)
{
	struct ctl_note_out out[NOTE_KINDS + 2];
	struct vfs_caller peer;
	size_t n = 0;
	int64_t now = mono_ns();
	struct ctl_noted *e;

	vfs_caller_fill(&peer, uid, (gid_t)-1, pid); /* now: the process may be gone by the count */
	pthread_mutex_lock(&ctl->lock);
	e = noted_of_locked(ctl, uid, now, out, &n);
	if (e->last_ns[kind] && now - e->last_ns[kind] < CTL_NOTE_S * NS_PER_S) {
		e->left_out[kind]++;
		e->peer[kind] = peer;
	} else {
		/* The interval is over; a count the clock has not written yet goes first. */
		if (e->left_out[kind]) {
			out[n++] = (struct ctl_note_out){
			    .kind = kind, .peer = e->peer[kind], .left_out = e->left_out[kind]};
			e->left_out[kind] = 0;
		}
		out[n] = (struct ctl_note_out){.kind = kind, .peer = peer};
		snprintf(out[n++].extra, sizeof(out[0].extra), "%s", extra ? extra : "");
		e->last_ns[kind] = now;
	}
	pthread_mutex_unlock(&ctl->lock);
	for (size_t i = 0; i < n; i++)
		note_write(ctl, &out[i]);
}

/* Write the counts whose interval is over (all: every count, at stop). */
static void notes_flush(struct vfs_control *ctl, bool all)
{
	for (size_t i = 0; i < CTL_NOTE_UIDS; i++) {
		struct ctl_note_out out[NOTE_KINDS];
		size_t n = 0;

		pthread_mutex_lock(&ctl->lock);
		if (ctl->noted[i].used)
			n = note_flush_locked(&ctl->noted[i], mono_ns(), all, out);
		pthread_mutex_unlock(&ctl->lock);
		for (size_t j = 0; j < n; j++)
			note_write(ctl, &out[j]);
	}
}

/* ---------- taking turns at Argon2id ---------- */

/* Wait, in arrival order, for one of the CTL_KDF_MAX turns: its index (give it
 * back with kdf_give), -ETIMEDOUT at the deadline, -ESHUTDOWN at stop. */
static int kdf_take(struct vfs_control *ctl, int64_t deadline_ns)
{
	struct ctl_kdf_waiter me = {NULL}, **pp;
	struct timespec until = {.tv_sec = deadline_ns / NS_PER_S,
				 .tv_nsec = deadline_ns % NS_PER_S};
	int r = -ETIMEDOUT;

	pthread_mutex_lock(&ctl->lock);
	for (pp = &ctl->kdf_queue; *pp; pp = &(*pp)->next)
		;
	*pp = &me;
	for (;;) {
		if (ctl->stopping) {
			r = -ESHUTDOWN;
			break;
		}
		if (ctl->kdf_queue == &me) {
			for (int i = 0; i < CTL_KDF_MAX && r < 0; i++)
				if (!ctl->kdf_busy[i])
					r = i;
			if (r >= 0) {
				ctl->kdf_busy[r] = true;
				break;
			}
		}
		if (pthread_cond_timedwait(&ctl->kdf_cond, &ctl->lock, &until) == ETIMEDOUT)
			break;
	}
	for (pp = &ctl->kdf_queue; *pp != &me; pp = &(*pp)->next)
		;
	*pp = me.next;
	pthread_cond_broadcast(&ctl->kdf_cond); /* the next in line may go */
	pthread_mutex_unlock(&ctl->lock);
	return r;
}

static void kdf_give(struct vfs_control *ctl, int turn)
{
	pthread_mutex_lock(&ctl->lock);
	ctl->kdf_busy[turn] = false;
	pthread_cond_broadcast(&ctl->kdf_cond);
	pthread_mutex_unlock(&ctl->lock);
}

/* ---------- requests ---------- */

/* The name of uid's vault user (meta_user_for_uid), via db. */
static int user_of_uid(struct meta_db *db, uid_t uid, char name[META_NAME_MAX + 1])
{
	struct meta_user u = {0};
	int r = meta_user_for_uid(db, uid, &u);

	if (r == 0)
		snprintf(name, META_NAME_MAX + 1, "%s", u.name);
	return r;
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

/* Unlock for c's peer, running Argon2id on db (a turn's connection). */
static int unlock_on(struct vfs_control *ctl, struct meta_db *db, const struct ctl_conn *c,
		     const char *pass, size_t len, char *text, size_t text_len)
{
	struct vfs *v = ctl->v;
	struct kt_keyring *keyring = NULL;
	char name[META_NAME_MAX + 1], levels[32];
	uint32_t readable;
	int r;

	if (user_of_uid(db, c->uid, name) < 0) {
		note(ctl, NOTE_NO_USER, c->uid, c->pid, NULL);
		snprintf(text, text_len,
			 "no vault user for uid %u (ask an administrator: "
			 "'vaultfs-keytool user add NAME --uid %u')",
			 (unsigned)c->uid, (unsigned)c->uid);
		return -EACCES;
	}
	{
		struct vfs_caller caller;

		/* kt_unlock records a wrong passphrase: as the peer, not as us. */
		vfs_caller_fill(&caller, c->uid, (gid_t)-1, c->pid);
		kt_actor_set(c->uid, c->pid, caller.comm);
		r = kt_unlock(db, name, pass, len, &keyring);
		kt_actor_clear();
	}
	if (r == 0 && !kt_keyring_meta(keyring)) {
		keyring = kt_keyring_free(keyring);
		r = -ENOKEY;
	}
	if (r < 0) {
		snprintf(text, text_len, "%s",
			 r == -EACCES	? "wrong passphrase (or the user is disabled)"
			 : r == -ENOKEY ? "the user holds no role with the metadata key"
					: strerror(-r));
		return r == -ENOKEY ? -EACCES : r;
	}
	readable = kt_keyring_readable(keyring);
	pthread_mutex_lock(&ctl->change_lock);
	r = vfs_session_unlock(v->sessions, c->uid, name, keyring);
	pthread_mutex_unlock(&ctl->change_lock);
	if (r < 0) {
		snprintf(text, text_len, "%s", strerror(-r));
		return r;
	}
	levels_text(readable, levels, sizeof(levels));
	{
		struct vfs_session *s = vfs_session_get(v->sessions, c->uid);
		char detail[64];

		snprintf(detail, sizeof(detail), "levels=%s", levels);
		record(v, s, c->uid, c->pid, "unlock", 0, detail);
		vfs_session_put(v->sessions, s);
	}
	snprintf(text, text_len, "unlocked '%s' (levels %s)", name, levels);
	return 0;
}

static int do_unlock(struct vfs_control *ctl, const struct ctl_conn *c, const char *pass,
		     size_t len, char *text, size_t text_len)
{
	int turn = kdf_take(ctl, c->deadline_ns), r;

	if (turn == -ETIMEDOUT) {
		note(ctl, NOTE_KDF_BUSY, c->uid, c->pid, NULL);
		snprintf(text, text_len, "the daemon is busy with other unlocks: try again");
		return -EBUSY;
	}
	if (turn < 0) {
		snprintf(text, text_len, "the mount is going away");
		return turn;
	}
	r = unlock_on(ctl, ctl->kdf_db[turn], c, pass, len, text, text_len);
	kdf_give(ctl, turn);
	return r;
}

/* A session was locked: the directory names decrypted for records go too. */
static void forget_names(struct vfs *v)
{
	pthread_mutex_lock(&v->db_lock);
	vfs_dcache_clear(v->dcache);
	pthread_mutex_unlock(&v->db_lock);
}

static int do_lock(struct vfs_control *ctl, const struct ctl_conn *c, char *text, size_t text_len)
{
	struct vfs *v = ctl->v;
	struct vfs_session *s = vfs_session_get(v->sessions, c->uid);
	int r;

	pthread_mutex_lock(&ctl->change_lock);
	r = vfs_session_lock(v->sessions, c->uid);
	pthread_mutex_unlock(&ctl->change_lock);
	if (r == 0) {
		record(v, s, c->uid, c->pid, "lock", 0, NULL);
		forget_names(v);
	}
	snprintf(text, text_len, "%s", r == 0 ? "locked" : "nothing to lock: not unlocked");
	vfs_session_put(v->sessions, s);
	return r;
}

static int do_status(struct vfs_control *ctl, const struct ctl_conn *c, char *text, size_t text_len)
{
	struct vfs_session *s = vfs_session_get(ctl->v->sessions, c->uid);
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

/*
 * Read len more bytes of c's request into buf by c's deadline, waiting in
 * poll() so that a stop ends the wait: 0, -ETIMEDOUT at the deadline,
 * -ESHUTDOWN at stop, -EPIPE when the client hung up, or -errno.
 */
static int read_by_deadline(struct vfs_control *ctl, struct ctl_conn *c, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd[2] = {
		    {.fd = c->fd, .events = POLLIN},
		    {.fd = ctl->stop_pipe[0], .events = POLLIN},
		};
		int n = poll(pfd, 2, ms_until(c->deadline_ns));
		ssize_t k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (pfd[1].revents)
			return -ESHUTDOWN;
		if (n == 0)
			return -ETIMEDOUT;
		k = read(c->fd, (char *)buf + got, len - got);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EPIPE;
		got += (size_t)k;
		c->got += (size_t)k;
	}
	return 0;
}

/* One reply, without waiting: the client has our whole answer in its socket
 * buffer, or never gets one. */
static void send_reply(int fd, int status, const char *text)
{
	uint8_t out[VFS_CTL_REPLY_MAX];
	size_t len = vfs_ctl_reply_encode(out, status, text);

	if (send(fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* gone, or not reading: nothing more to tell it */
	}
}

/* A request not read whole (r < 0 from read_by_deadline): say so and note it. */
static void cut_off(struct vfs_control *ctl, struct ctl_conn *c, int r)
{
	char extra[48];

	if (r == -ESHUTDOWN)
		return; /* the daemon is stopping: not the client's doing */
	snprintf(extra, sizeof(extra), "(%zu of %zu bytes)", c->got, c->want);
	if (r == -ETIMEDOUT) {
		send_reply(c->fd, -ETIMEDOUT,
			   "request not complete within " STR(CTL_DEADLINE_S) " s: closed");
		note(ctl, NOTE_STALLED, c->uid, c->pid, extra);
	} else {
		note(ctl, NOTE_CUT_SHORT, c->uid, c->pid, extra);
	}
}

static void serve(struct vfs_control *ctl, struct ctl_conn *c)
{
	uint8_t head[VFS_CTL_REQUEST_SIZE];
	enum vfs_ctl_op op;
	uint32_t len;
	char text[VFS_CTL_TEXT_MAX] = "";
	char *payload = NULL;
	int r;

	c->want = sizeof(head);
	r = read_by_deadline(ctl, c, head, sizeof(head));
	if (r < 0) {
		cut_off(ctl, c, r);
		return;
	}
	if (vfs_ctl_request_decode(head, sizeof(head), &op, &len) < 0) {
		send_reply(c->fd, -EPROTO, "malformed request");
		note(ctl, NOTE_MALFORMED, c->uid, c->pid, NULL);
		return;
	}
	c->want += len;
	payload = kt_secure_alloc(len + 1); /* the passphrase, for unlock */
	if (!payload) {
		send_reply(c->fd, -ENOMEM, strerror(ENOMEM));
		return;
	}
	r = read_by_deadline(ctl, c, payload, len);
	if (r < 0) {
		cut_off(ctl, c, r);
		kt_secure_free(payload);
		return;
	}
	payload[len] = '\0';
	switch (op) {
	case VFS_CTL_UNLOCK:
		r = do_unlock(ctl, c, payload, len, text, sizeof(text));
		break;
	case VFS_CTL_LOCK:
		r = do_lock(ctl, c, text, sizeof(text));
		break;
	default:
		r = do_status(ctl, c, text, sizeof(text));
		break;
	}
	kt_secure_free(payload);
	send_reply(c->fd, r, text);
}

static void *conn_thread(void *arg)
{
	struct ctl_conn *c = arg;
	struct vfs_control *ctl = c->ctl;

	pthread_setname_np(pthread_self(), "vfs-ctl-client"); /* for top -H, perf */
	serve(ctl, c);
	close(c->fd);
	pthread_mutex_lock(&ctl->lock);
	c->state = CONN_DONE;
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

/* Join the threads of connections that are done (lock held; they no longer
 * take it). */
static void reap_locked(struct vfs_control *ctl)
{
	for (size_t i = 0; i < CTL_CONN_MAX; i++) {
		if (ctl->conns[i].state == CONN_DONE) {
			pthread_join(ctl->conns[i].thread, NULL);
			ctl->conns[i].state = CONN_FREE;
		}
	}
}

/* Serve fd on a thread of its own, or refuse it when its uid or everyone is
 * at the limit. */
static void admit(struct vfs_control *ctl, int fd, int64_t accepted_ns)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct ctl_conn *c = NULL;
	size_t of_uid = 0, all = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&ctl->lock);
	reap_locked(ctl);
	for (size_t i = 0; i < CTL_CONN_MAX; i++) {
		if (ctl->conns[i].state == CONN_FREE) {
			c = c ? c : &ctl->conns[i];
			continue;
		}
		all++;
		of_uid += ctl->conns[i].uid == cred.uid;
	}
	if (of_uid >= CTL_CONN_PER_UID || all >= CTL_CONN_MAX) {
		bool uid_full = of_uid >= CTL_CONN_PER_UID;

		pthread_mutex_unlock(&ctl->lock);
		send_reply(fd, -EBUSY,
			   uid_full ? "too many connections of this uid at once: try again"
				    : "too many connections at once: try again");
		close(fd);
		note(ctl, uid_full ? NOTE_OVER_UID : NOTE_OVER_ALL, cred.uid, cred.pid, NULL);
		return;
	}
	*c = (struct ctl_conn){.ctl = ctl,
			       .state = CONN_SERVING,
			       .fd = fd,
			       .uid = cred.uid,
			       .pid = cred.pid,
			       .deadline_ns = accepted_ns + CTL_DEADLINE_S * NS_PER_S};
	if (pthread_create(&c->thread, NULL, conn_thread, c) != 0) {
		c->state = CONN_FREE;
		close(fd);
	}
	pthread_mutex_unlock(&ctl->lock);
}

static void *accept_thread(void *arg)
{
	struct vfs_control *ctl = arg;

	pthread_setname_np(pthread_self(), "vfs-control"); /* for top -H, perf */
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = ctl->listen_fd, .events = POLLIN},
		    {.fd = ctl->stop_pipe[0], .events = POLLIN},
		};
		int fd;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			admit(ctl, fd, mono_ns());
		else if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			  errno == ENOMEM) &&
			 poll(&pfd[1], 1, 100) > 0)
			break; /* out of descriptors or memory: wait a little, do not spin */
	}
	return NULL;
}

/* ---------- the clock ---------- */

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

static void *clock_thread(void *arg)
{
	struct vfs_control *ctl = arg;
	int64_t next = mono_ns();

	pthread_setname_np(pthread_self(), "vfs-clock"); /* for top -H, perf */
	for (;;) {
		struct pollfd stop = {.fd = ctl->stop_pipe[0], .events = POLLIN};
		int64_t now;

		next += CTL_TICK_NS;
		if (poll(&stop, 1, ms_until(next)) > 0)
			break;
		now = mono_ns();
		if (now - next > CTL_TICK_NS)
			next = now; /* a long tick (a busy database): no burst to catch up */
		pthread_mutex_lock(&ctl->change_lock);
		vfs_sessions_expire(ctl->v->sessions, meta_now_ns(), report_expiry, ctl);
		vfs_keys_maintain(ctl->v);
		pthread_mutex_unlock(&ctl->change_lock);
		notes_flush(ctl, false);
	}
	return NULL;
}

/* ---------- start and stop ---------- */

/* The socket at VFS_CTL_DIR/vaultfs-PID.sock, mode 0666, and a database
 * connection for each Argon2id turn. */
static int open_socket(struct vfs_control *ctl)
{
	mode_t old_umask;
	int r;

	for (int i = 0; i < CTL_KDF_MAX; i++) {
		r = meta_db_open(ctl->v->vault_dir, META_OPEN_RW, &ctl->kdf_db[i]);
		if (r < 0)
			return r;
	}
	if (mkdir(VFS_CTL_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	ctl->addr.sun_family = AF_UNIX;
	snprintf(ctl->addr.sun_path, sizeof(ctl->addr.sun_path), "%s/vaultfs-%d.sock", VFS_CTL_DIR,
		 (int)getpid());
	unlink(ctl->addr.sun_path); /* a stale socket of a dead daemon with our pid */
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->listen_fd < 0)
		return -errno;
	old_umask = umask(0);
	r = bind(ctl->listen_fd, (struct sockaddr *)&ctl->addr, sizeof(ctl->addr));
	umask(old_umask);
	if (r < 0 || chmod(ctl->addr.sun_path, 0666) < 0 || listen(ctl->listen_fd, 64) < 0)
		return -errno;
	return 0;
}

int vfs_control_start(struct vfs *v, struct vfs_control **ret_ctl)
{
	struct vfs_control *ctl = calloc(1, sizeof(*ctl));
	pthread_condattr_t attr;
	int r;

	if (!ctl)
		return -ENOMEM;
	ctl->v = v;
	ctl->listen_fd = -1;
	ctl->stop_pipe[0] = ctl->stop_pipe[1] = -1;
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_mutex_init(&ctl->change_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctl->kdf_cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pipe2(ctl->stop_pipe, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	if (v->multi_user && (r = open_socket(ctl)) < 0)
		goto fail;
	r = -pthread_create(&ctl->clock, NULL, clock_thread, ctl);
	if (r < 0)
		goto fail;
	ctl->clock_started = true;
	if (v->multi_user) {
		r = -pthread_create(&ctl->acceptor, NULL, accept_thread, ctl);
		if (r < 0)
			goto fail;
		ctl->acceptor_started = true;
	}
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
	pthread_mutex_lock(&ctl->lock);
	ctl->stopping = true;
	pthread_cond_broadcast(&ctl->kdf_cond);
	pthread_mutex_unlock(&ctl->lock);
	if (ctl->stop_pipe[1] >= 0 && write(ctl->stop_pipe[1], "x", 1) < 0) {
		/* a pipe we own cannot be full or closed */
	}
	if (ctl->acceptor_started)
		pthread_join(ctl->acceptor, NULL);
	if (ctl->clock_started)
		pthread_join(ctl->clock, NULL);
	/* No new connections now; those being served see the stop pipe (or
	 * finish the one Argon2id run they are in). */
	for (size_t i = 0; i < CTL_CONN_MAX; i++) {
		bool serving;

		pthread_mutex_lock(&ctl->lock);
		serving = ctl->conns[i].state != CONN_FREE;
		pthread_mutex_unlock(&ctl->lock);
		if (serving)
			pthread_join(ctl->conns[i].thread, NULL);
	}
	notes_flush(ctl, true);
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		unlink(ctl->addr.sun_path);
	}
	if (ctl->stop_pipe[0] >= 0)
		close(ctl->stop_pipe[0]);
	if (ctl->stop_pipe[1] >= 0)
		close(ctl->stop_pipe[1]);
	for (int i = 0; i < CTL_KDF_MAX; i++)
		meta_db_close(ctl->kdf_db[i]);
	pthread_cond_destroy(&ctl->kdf_cond);
	pthread_mutex_destroy(&ctl->change_lock);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
	return NULL;
}

const char *vfs_control_path(const struct vfs_control *ctl)
{
	return ctl->listen_fd >= 0 ? ctl->addr.sun_path : NULL;
}
