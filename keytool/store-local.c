/*
 * keytool/store-local.c — the content store in the vault's objects/ directory.
 *
 * Object id → objects/XX/YYYY… (the hex of the id; XX, its first byte, is
 * a shard folder made on first use, mode 0700). Objects are files of mode
 * 0600, made with O_EXCL and opened with O_NOFOLLOW, so a name planted in
 * objects/ is never written through. Adopting a file is a rename with
 * RENAME_NOREPLACE (a plain rename where the filesystem lacks it: the names
 * are 128 random bits). The inter-process lock is flock(2). Every operation
 * is the system calls the daemon made before the store existed, no more.
 */
#include "keytool/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "meta/db.h" /* META_OBJECTS_DIR */

#define HEX_BYTES (2 * KT_OBJECT_ID_BYTES)

struct local_store {
	struct kt_store base; /* ops = &local_ops */
	int dir_fd;	      /* VAULT/objects, O_RDONLY | O_DIRECTORY */
	char *path;	      /* VAULT/objects, for adopt_check */
};

static const struct kt_store_ops local_ops;

static struct local_store *local_of(struct kt_store *s)
{
	return (struct local_store *)s;
}

void kt_store_local_path(const uint8_t id[KT_OBJECT_ID_BYTES], char ret_path[KT_STORE_PATH_MAX])
{
	char hex[HEX_BYTES + 1];

	sodium_bin2hex(hex, sizeof(hex), id, KT_OBJECT_ID_BYTES);
	snprintf(ret_path, KT_STORE_PATH_MAX, "%.2s/%s", hex, hex + 2);
}

static void object_init(struct kt_store *s, int fd, struct kt_object *ret)
{
	ret->store = s;
	ret->h.fd = fd;
}

/* The first object of its "xx" folder: make the folder (path is "xx/..."). */
static int make_shard(int dir_fd, char *path)
{
	int r = 0;

	path[2] = '\0';
	if (mkdirat(dir_fd, path, 0700) < 0 && errno != EEXIST)
		r = -errno;
	path[2] = '/';
	return r;
}

static int local_create(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES],
			struct kt_object *ret)
{
	int dir_fd = local_of(s)->dir_fd;
	char path[KT_STORE_PATH_MAX];
	int fd, r;

	kt_store_local_path(id, path);
	fd = openat(dir_fd, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT) {
		r = make_shard(dir_fd, path);
		if (r < 0)
			return r;
		fd = openat(dir_fd, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0)
		return -errno;
	object_init(s, fd, ret);
	return 0;
}

static int local_open(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES],
		      struct kt_object *ret)
{
	char path[KT_STORE_PATH_MAX];
	int fd;

	kt_store_local_path(id, path);
	fd = openat(local_of(s)->dir_fd, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	object_init(s, fd, ret);
	return 0;
}

/*
 * Rename a made-ahead file to its object's name, never over an existing file;
 * a filesystem without RENAME_NOREPLACE gets a plain rename (the names are
 * 128 random bits: a clash is not a practical concern). -1 and errno.
 */
static int move_into_place(int from_fd, const char *from, int to_fd, const char *to)
{
	int r = renameat2(from_fd, from, to_fd, to, RENAME_NOREPLACE);

	if (r < 0 && (errno == EINVAL || errno == ENOSYS))
		r = renameat(from_fd, from, to_fd, to);
	return r;
}

static int local_adopt(struct kt_store *s, int from_fd, const char *name, int fd,
		       const uint8_t id[KT_OBJECT_ID_BYTES], struct kt_object *ret)
{
	int dir_fd = local_of(s)->dir_fd;
	char path[KT_STORE_PATH_MAX];
	int r;

	kt_store_local_path(id, path);
	r = move_into_place(from_fd, name, dir_fd, path);
	if (r < 0 && errno == ENOENT) {
		r = make_shard(dir_fd, path);
		if (r == 0)
			r = move_into_place(from_fd, name, dir_fd, path);
		else
			errno = -r;
	}
	if (r < 0) {
		r = -errno;
		close(fd);
		unlinkat(from_fd, name, 0);
		return r;
	}
	object_init(s, fd, ret);
	return 0;
}

/* A rename moves a file only within one filesystem. */
static int local_adopt_check(struct kt_store *s, int from_fd)
{
	struct stat from_st, objects_st;
	int fd, r = 0;

	fd = open(local_of(s)->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(from_fd, &from_st) < 0 || fstat(fd, &objects_st) < 0)
		r = -errno;
	else if (from_st.st_dev != objects_st.st_dev)
		r = -EXDEV;
	close(fd);
	return r;
}

static int local_remove(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES])
{
	char path[KT_STORE_PATH_MAX];

	kt_store_local_path(id, path);
	if (unlinkat(local_of(s)->dir_fd, path, 0) < 0)
		return -errno;
	return 0;
}

/* fsync the "xx" folder holding the object, then objects/ itself in case
 * the folder was new. */
static int local_persist(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES])
{
	int dir_fd = local_of(s)->dir_fd;
	char path[KT_STORE_PATH_MAX];
	int fd, r = 0;

	kt_store_local_path(id, path);
	path[2] = '\0';
	fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && fsync(dir_fd) < 0)
		r = -errno;
	return r;
}

/* n lowercase hex digits, as kt_store_local_path writes them. */
static bool is_hex(const char *name, size_t n)
{
	if (strlen(name) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

/* Is entry e of the folder dir_fd of type type (DT_DIR, DT_REG)? Symlinks are not. */
static bool entry_is(int dir_fd, const struct dirent *e, unsigned char type)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type == type;
	if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return type == DT_DIR ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* open dir_fd/name (NULL: dir_fd itself) for readdir. */
static DIR *open_dir(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name ? name : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0)
		close(fd);
	return d;
}

/* The objects of one "xx" folder. */
static int list_shard(int dir_fd, const char *shard,
		      int (*each)(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES]), void *ctx)
{
	char hex[HEX_BYTES + 1];
	uint8_t id[KT_OBJECT_ID_BYTES];
	DIR *d = open_dir(dir_fd, shard);
	struct dirent *e;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno; /* removed meanwhile */
	while (r == 0 && (errno = 0, e = readdir(d))) {
		if (!is_hex(e->d_name, HEX_BYTES - 2) || !entry_is(dirfd(d), e, DT_REG))
			continue;
		snprintf(hex, sizeof(hex), "%s%s", shard, e->d_name);
		if (sodium_hex2bin(id, sizeof(id), hex, HEX_BYTES, NULL, NULL, NULL) == 0)
			r = each(ctx, id);
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r;
}

static int local_list(struct kt_store *s,
		      int (*each)(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES]), void *ctx)
{
	int dir_fd = local_of(s)->dir_fd;
	DIR *d = open_dir(dir_fd, NULL);
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (errno = 0, e = readdir(d))) {
		if (is_hex(e->d_name, 2) && entry_is(dir_fd, e, DT_DIR))
			r = list_shard(dir_fd, e->d_name, each, ctx);
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r;
}

static int local_space(struct kt_store *s, struct statvfs *ret)
{
	if (fstatvfs(local_of(s)->dir_fd, ret) < 0)
		return -errno;
	return 0;
}

static void local_free(struct kt_store *s)
{
	struct local_store *ls = local_of(s);

	close(ls->dir_fd);
	free(ls->path);
	free(ls);
}

static ssize_t local_pread(struct kt_object *o, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(o->h.fd, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static ssize_t local_pwrite(struct kt_object *o, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(o->h.fd, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static int local_length(struct kt_object *o, uint64_t *ret_len)
{
	struct stat st;

	if (fstat(o->h.fd, &st) < 0)
		return -errno;
	*ret_len = (uint64_t)st.st_size;
	return 0;
}

static int local_truncate(struct kt_object *o, uint64_t len)
{
	return ftruncate(o->h.fd, (off_t)len) < 0 ? -errno : 0;
}

static int local_datasync(struct kt_object *o)
{
	return fdatasync(o->h.fd) < 0 ? -errno : 0;
}

static int local_lock(struct kt_object *o, bool exclusive)
{
	if (exclusive) {
		if (flock(o->h.fd, LOCK_EX | LOCK_NB) < 0)
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
		return 0;
	}
	while (flock(o->h.fd, LOCK_SH) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static void local_close(struct kt_object *o)
{
	close(o->h.fd);
	o->h.fd = -1;
}

static const struct kt_store_ops local_ops = {
    .create = local_create,
    .open = local_open,
    .adopt = local_adopt,
    .adopt_check = local_adopt_check,
    .remove = local_remove,
    .persist = local_persist,
    .list = local_list,
    .space = local_space,
    .free = local_free,
    .pread = local_pread,
    .pwrite = local_pwrite,
    .length = local_length,
    .truncate = local_truncate,
    .datasync = local_datasync,
    .lock = local_lock,
    .close = local_close,
};

int kt_store_open(const char *vault_dir, struct kt_store **ret_store)
{
	struct local_store *ls = calloc(1, sizeof(*ls));
	int r;

	if (!ls)
		return -ENOMEM;
	ls->base.ops = &local_ops;
	if (asprintf(&ls->path, "%s/%s", vault_dir, META_OBJECTS_DIR) < 0) {
		free(ls);
		return -ENOMEM;
	}
	if (strlen(ls->path) >= 4096) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	ls->dir_fd = open(ls->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ls->dir_fd < 0) {
		r = -errno;
		goto fail;
	}
	*ret_store = &ls->base;
	return 0;
fail:
	free(ls->path);
	free(ls);
	return r;
}

struct kt_store *kt_store_close(struct kt_store *s)
{
	if (s)
		s->ops->free(s);
	return NULL;
}
