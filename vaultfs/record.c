/*
 * vaultfs/record.c — access records written by the daemon.
 *
 * Builds the record of one operation: who (vault user, uid, pid, process
 * name), what (op, inode, paths at that moment, level, outcome, detail), and
 * appends it. Paths are encrypted with the metadata key (purpose "record
 * path", context 0) so that vault.db holds no plaintext name.
 */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../meta/log.h"
#include "../meta/ns.h"

/*
 * Process names, remembered for a second: a tar or an rsync makes thousands
 * of requests, and /proc/PID/comm is three system calls each time. The name is
 * whatever the process set for itself (prctl), so a stale one after a PID is
 * reused within that second tells an auditor no less than a fresh one.
 */
#define COMM_CACHE_SLOTS 16
#define COMM_CACHE_NS 1000000000ll

static struct {
	pthread_mutex_t lock;
	unsigned next;
	struct {
		pid_t pid;
		int64_t until_ns;
		char comm[sizeof(((struct vfs_caller *)0)->comm)];
	} slot[COMM_CACHE_SLOTS];
} comm_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int64_t coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool comm_cached(pid_t pid, int64_t now, char *comm, size_t size)
{
	bool hit = false;

	pthread_mutex_lock(&comm_cache.lock);
	for (unsigned i = 0; i < COMM_CACHE_SLOTS && !hit; i++) {
		if (comm_cache.slot[i].pid == pid && comm_cache.slot[i].until_ns > now) {
			snprintf(comm, size, "%s", comm_cache.slot[i].comm);
			hit = true;
		}
	}
	pthread_mutex_unlock(&comm_cache.lock);
	return hit;
}

static void comm_remember(pid_t pid, int64_t now, const char *comm)
{
	pthread_mutex_lock(&comm_cache.lock);
	unsigned i = comm_cache.next++ % COMM_CACHE_SLOTS;

	comm_cache.slot[i].pid = pid;
	comm_cache.slot[i].until_ns = now + COMM_CACHE_NS;
	snprintf(comm_cache.slot[i].comm, sizeof(comm_cache.slot[i].comm), "%s", comm);
	pthread_mutex_unlock(&comm_cache.lock);
}

void vfs_caller_fill(struct vfs_caller *c, uid_t uid, gid_t gid, pid_t pid)
{
	int64_t now = coarse_now_ns();
	char path[64];
	ssize_t n = -1;
	int fd;

	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	if (pid > 0 && comm_cached(pid, now, c->comm, sizeof(c->comm)))
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, c->comm, sizeof(c->comm) - 1);
		close(fd);
	}
	if (n <= 0) {
		strcpy(c->comm, "?");
		return;
	}
	c->comm[n] = '\0';
	c->comm[strcspn(c->comm, "\n")] = '\0';
	if (pid > 0)
		comm_remember(pid, now, c->comm);
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
	struct meta_dirent d = { 0 };
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
			(void)vfs_dcache_put(v->dcache, ino, d.parent, *ret_name); /* a cache: may fail */
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
	  uint64_t ino, const char *path, const char *path2, int level, int outcome, int64_t *ret_id,
	  const char *detail_fmt, va_list ap)
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
