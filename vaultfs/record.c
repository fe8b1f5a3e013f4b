/*
 * vaultfs/record.c — access records written by the daemon.
 *
 * Builds the record of one operation: who (vault user, uid, pid, process
 * name), what (op, inode, paths at that moment, level, outcome, detail), and
 * appends it. Paths are encrypted with the metadata key (purpose "record
 * path", context 0) so that vault.db holds no plaintext name.
 */
#include "vaultfs/record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta/records.h"
#include "meta/ns.h"
#include "vaultfs/journalfeed.h"

/*
 * Process names: /proc/PID/comm is three system calls (open, read, close),
 * and a tar or an rsync makes thousands of requests. The last few PIDs'
 * comm files are kept open and read again with one pread each time: a read
 * gives the name the process has now (after an exec or a prctl), and fails
 * once the process is gone, even if its PID is reused; then the file is
 * opened anew.
 */
#define COMM_FDS 16

static struct {
	pthread_mutex_t lock;
	unsigned next;
	struct {
		pid_t pid; /* 0: free */
		int fd;	   /* /proc/PID/comm, while pid is set */
	} slot[COMM_FDS];
} comm_fds = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Read the name from fd into comm; the length, or <= 0. */
static ssize_t comm_read(int fd, char *comm, size_t size)
{
	ssize_t n = pread(fd, comm, size - 1, 0);

	if (n > 0) {
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
	}
	return n;
}

void vfs_caller_fill(struct vfs_caller *c, uid_t uid, gid_t gid, pid_t pid)
{
	char path[64];
	unsigned i;
	int fd;

	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	strcpy(c->comm, "?");
	if (pid <= 0)
		return;
	pthread_mutex_lock(&comm_fds.lock);
	for (i = 0; i < COMM_FDS && comm_fds.slot[i].pid != pid; i++)
		;
	if (i < COMM_FDS) {
		if (comm_read(comm_fds.slot[i].fd, c->comm, sizeof(c->comm)) > 0)
			goto out;
		/* that process is gone: its PID may be someone else's now */
	} else {
		i = comm_fds.next++ % COMM_FDS;
	}
	if (comm_fds.slot[i].pid)
		close(comm_fds.slot[i].fd);
	comm_fds.slot[i].pid = 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && comm_read(fd, c->comm, sizeof(c->comm)) > 0) {
		comm_fds.slot[i].pid = pid;
		comm_fds.slot[i].fd = fd;
	} else {
		if (fd >= 0)
			close(fd);
		strcpy(c->comm, "?");
	}
out:
	pthread_mutex_unlock(&comm_fds.lock);
}

int vfs_meta_open_stored(const struct kt_meta_keys *mk, enum kt_meta_purpose purpose,
			 uint64_t context, const uint8_t *in, size_t in_len, void *out)
{
	int r;

	if (!mk)
		return -ENOKEY;
	if (in_len < KT_META_OVERHEAD)
		return -EBADMSG;
	r = kt_meta_open(mk, purpose, context, in, in_len, out);
	return r == -EINVAL ? -EBADMSG : r;
}

/* Decrypt the name of dirent d (in directory d->parent) into a malloc'd string. */
static int dirent_name(const struct kt_meta_keys *mk, const struct meta_dirent *d, char **ret_name)
{
	char *name;
	size_t len;
	int r;

	if (d->name_enc_len < KT_META_OVERHEAD)
		return -EBADMSG;
	len = d->name_enc_len - KT_META_OVERHEAD;
	name = malloc(len + 1);
	if (!name)
		return -ENOMEM;
	r = vfs_meta_open_stored(mk, KT_META_NAME, d->parent, d->name_enc, d->name_enc_len, name);
	if (r < 0) {
		free(name);
		return r;
	}
	name[len] = '\0';
	*ret_name = name;
	return 0;
}

/*
 * The parent and decrypted name of ino, through the directory cache when ino
 * is known to be a directory (is_dir), caching what the database says.
 * *ret_name is malloc'd.
 */
static int name_of(struct vfs *v, const struct kt_meta_keys *mk, uint64_t ino, bool is_dir,
		   uint64_t *ret_parent, char **ret_name)
{
	struct meta_dirent d = {0};
	const char *cached;
	int r;

	if (is_dir && vfs_dcache_get(v->dcache, ino, ret_parent, &cached) == 0) {
		*ret_name = strdup(cached);
		return *ret_name ? 0 : -ENOMEM;
	}
	r = meta_dirent_any_for_ino(v->db, ino, &d);
	if (r == 0)
		r = dirent_name(mk, &d, ret_name);
	if (r == 0) {
		*ret_parent = d.parent;
		if (is_dir)
			(void)vfs_dcache_put(v->dcache, ino, d.parent,
					     *ret_name); /* a cache: may fail */
	}
	meta_dirent_clear(&d);
	return r;
}

/* The path of ino; is_dir when ino is known to be a directory. */
static int path_of(struct vfs *v, const struct kt_meta_keys *mk, uint64_t ino, bool is_dir,
		   char **ret_path)
{
	char **parts = NULL, *path = NULL, *p;
	size_t n = 0, cap = 0, len = 0;
	uint64_t cur = ino;
	int r = 0;

	/* Walk up to the root collecting names (every ancestor is a directory). */
	while (cur != META_ROOT_INO) {
		if (n >= VFS_PATH_DEPTH_MAX) {
			r = -ELOOP;
			break;
		}
		if (n == cap) {
			char **more = realloc(parts, (cap ? 2 * cap : 16) * sizeof(*more));

			if (!more) {
				r = -ENOMEM;
				break;
			}
			parts = more;
			cap = cap ? 2 * cap : 16;
		}
		r = name_of(v, mk, cur, is_dir || cur != ino, &cur, &parts[n]);
		if (r < 0)
			break;
		len += 1 + strlen(parts[n++]);
	}
	if (r == -ENOENT) {
		/* ino, or a directory above it, has no name any more */
		path = strdup("(unlinked)");
		r = path ? 0 : -ENOMEM;
	} else if (r == 0) {
		path = p = malloc(len + 2);
		if (!path)
			r = -ENOMEM;
		for (size_t i = n; path && i-- > 0;)
			p += sprintf(p, "/%s", parts[i]);
		if (path && n == 0)
			strcpy(path, "/");
	}
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
	free(parts);
	if (r < 0) {
		free(path);
		return r;
	}
	*ret_path = path;
	return 0;
}

int vfs_path_of(struct vfs *v, const struct kt_meta_keys *mk, uint64_t ino, char **ret_path)
{
	return path_of(v, mk, ino, false, ret_path);
}

int vfs_path_join(struct vfs *v, const struct kt_meta_keys *mk, uint64_t parent, const char *name,
		  char **ret_path)
{
	char *dir, *path;
	int r;

	r = path_of(v, mk, parent, true, &dir);
	if (r < 0)
		return r;
	r = asprintf(&path, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
	free(dir);
	if (r < 0)
		return -ENOMEM;
	*ret_path = path;
	return 0;
}

/* Encrypt a path for the record; *ret_enc malloc'd. */
static int seal_path(const struct kt_meta_keys *mk, const char *path, uint8_t **ret_enc,
		     size_t *ret_len)
{
	size_t len = strlen(path);
	uint8_t *enc = malloc(len + KT_META_OVERHEAD);
	int r;

	if (!enc)
		return -ENOMEM;
	r = kt_meta_seal(mk, KT_META_PATH, 0, path, len, enc);
	if (r < 0) {
		free(enc);
		return r;
	}
	*ret_enc = enc;
	*ret_len = len + KT_META_OVERHEAD;
	return 0;
}

/* The metadata keys to write s's records with: its own, else borrowed from
 * an unlocked session (*ret_borrowed, to put back), else NULL. */
static const struct kt_meta_keys *record_keys(struct vfs *v, struct vfs_session *s,
					      struct vfs_session **ret_borrowed)
{
	*ret_borrowed = NULL;
	if (s && s->keyring && s->meta_keys)
		return s->meta_keys;
	*ret_borrowed = vfs_session_any_unlocked(v->sessions);
	return *ret_borrowed ? (*ret_borrowed)->meta_keys : NULL;
}

__attribute__((format(printf, 11, 0))) static int
record_va(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c, const char *op,
	  uint64_t ino, const char *path, const char *path2, int level, int outcome,
	  int64_t *ret_id, const char *detail_fmt, va_list ap)
{
	struct meta_record rec = {
	    .uid = c ? (int64_t)c->uid : -1,
	    .pid = c ? (int64_t)c->pid : 0,
	    .ino = ino,
	    .level = level,
	    .outcome = outcome,
	    .bytes_read = -1,
	    .bytes_written = -1,
	};
	struct vfs_session *borrowed;
	const struct kt_meta_keys *mk = record_keys(v, s, &borrowed);
	int r = 0;

	snprintf(rec.user, sizeof(rec.user), "%s", s ? s->user : "");
	snprintf(rec.comm, sizeof(rec.comm), "%s", c ? c->comm : "vaultfs");
	snprintf(rec.op, sizeof(rec.op), "%s", op);
	if (detail_fmt)
		vsnprintf(rec.detail, sizeof(rec.detail), detail_fmt, ap);
	if (path && mk)
		r = seal_path(mk, path, &rec.path_enc, &rec.path_enc_len);
	if (r == 0 && path2 && mk)
		r = seal_path(mk, path2, &rec.path2_enc, &rec.path2_enc_len);
	if (r == 0)
		r = meta_log_append(v->db, &rec);
	if (r == 0 && ret_id)
		*ret_id = rec.id;
	if (r == 0)
		vfs_journal_feed_poke(atomic_load(&v->journal)); /* sends it once committed */
	meta_record_clear(&rec);
	vfs_session_put(v->sessions, borrowed);
	return r;
}

int vfs_record(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c, const char *op,
	       uint64_t ino, const char *path, const char *path2, int level, int outcome,
	       int64_t *ret_id, const char *detail_fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, detail_fmt);
	r = record_va(v, s, c, op, ino, path, path2, level, outcome, ret_id, detail_fmt, ap);
	va_end(ap);
	return r;
}

int vfs_record_denial(struct vfs *v, struct vfs_session *s, const struct vfs_caller *c,
		      const char *op, uint64_t ino, uint64_t parent, const char *name, int level,
		      int err, const char *detail)
{
	struct vfs_session *borrowed;
	const struct kt_meta_keys *mk = record_keys(v, s, &borrowed);
	char *path = NULL;

	if (mk) {
		if (name)
			vfs_path_join(v, mk, parent, name, &path);
		else
			vfs_path_of(v, mk, ino, &path);
	}
	vfs_record(v, s, c, op, ino, path, NULL, level, err, NULL, detail ? "%s" : NULL, detail);
	free(path);
	vfs_session_put(v->sessions, borrowed);
	return err;
}

int vfs_record_daemon(struct vfs *v, const char *op, int64_t *ret_id, int outcome,
		      const char *detail_fmt, ...)
{
	struct vfs_session *s;
	struct vfs_caller c;
	va_list ap;
	int r;

	vfs_caller_fill(&c, getuid(), getgid(), getpid());
	s = vfs_session_get(v->sessions, VFS_ANY_UID);
	va_start(ap, detail_fmt);
	pthread_mutex_lock(&v->db_lock);
	r = record_va(v, s, &c, op, META_ROOT_INO, "/", NULL, -1, outcome, ret_id, detail_fmt, ap);
	pthread_mutex_unlock(&v->db_lock);
	va_end(ap);
	vfs_session_put(v->sessions, s);
	return r;
}
