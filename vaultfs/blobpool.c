/*
 * vaultfs/blobpool.c — empty blob files, made ahead of time (see blobpool.h).
 *
 * A stack of ready files and a ring of blobs to remove, under one mutex. The
 * thread refills the stack to POOL_FILES whenever a take leaves it half empty
 * and works through the ring, refilling first while the stack is below half.
 */
#include "vaultfs/blobpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/store.h"

#define POOL_DIR   "pool"
#define POOL_FILES 64	/* ready files: descriptors held open */
#define GONE_MAX   1024 /* blobs queued for removal */

struct ready {
	uint8_t id[KT_OBJECT_ID_BYTES];
	int fd;
};

struct vfs_blobpool {
	int dir_fd;		/* VAULT/pool */
	int vault_fd;		/* VAULT, to remove pool/ at the end */
	struct kt_store *store; /* where blobs are adopted and removed */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t low;		/* work: the stack is half empty, a removal, stop */
	struct ready stack[POOL_FILES]; /* (lock) */
	size_t n;			/* (lock) */
	uint8_t gone[GONE_MAX][KT_OBJECT_ID_BYTES]; /* (lock) ring of blobs to remove */
	size_t gone_head, ngone;		    /* (lock) */
	bool stop;				    /* (lock) */
};

static void name_of(const uint8_t id[KT_OBJECT_ID_BYTES], char name[2 * KT_OBJECT_ID_BYTES + 1])
{
	sodium_bin2hex(name, 2 * KT_OBJECT_ID_BYTES + 1, id, KT_OBJECT_ID_BYTES);
}

/* Remove every entry of dir (files a crash or a stop left behind). */
static void empty_dir(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dir_fd, e->d_name, 0);
	closedir(d);
}

/* One new empty file; -errno. */
static int make_one(struct vfs_blobpool *p, struct ready *ret)
{
	char name[2 * KT_OBJECT_ID_BYTES + 1];

	kt_random(ret->id, KT_OBJECT_ID_BYTES);
	name_of(ret->id, name);
	ret->fd = openat(p->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	return ret->fd < 0 ? -errno : 0;
}

/* Remove the oldest queued blob (lock held; released meanwhile). */
static void remove_one(struct vfs_blobpool *p)
{
	uint8_t id[KT_OBJECT_ID_BYTES];

	memcpy(id, p->gone[p->gone_head], sizeof(id));
	p->gone_head = (p->gone_head + 1) % GONE_MAX;
	p->ngone--;
	pthread_mutex_unlock(&p->lock);
	(void)kt_store_remove(p->store, id); /* gone already: nothing to do */
	pthread_mutex_lock(&p->lock);
}

static void *pool_thread(void *arg)
{
	struct vfs_blobpool *p = arg;

	pthread_setname_np(pthread_self(), "vfs-blobpool"); /* for top -H, perf */

	pthread_mutex_lock(&p->lock);
	while (!p->stop || p->ngone > 0) {
		struct ready r;

		if (p->ngone > 0 && (p->stop || p->n > POOL_FILES / 2)) {
			remove_one(p);
			continue;
		}
		if (p->stop)
			continue;
		if (p->n == POOL_FILES) {
			pthread_cond_wait(&p->low, &p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		if (make_one(p, &r) < 0) {
			/* A full disk, no descriptors left: creates make their own
			 * files meanwhile. Wait to be asked again. */
			pthread_mutex_lock(&p->lock);
			if (!p->stop && p->ngone == 0)
				pthread_cond_wait(&p->low, &p->lock);
			else if (p->ngone > 0)
				remove_one(p);
			continue;
		}
		pthread_mutex_lock(&p->lock);
		p->stack[p->n++] = r;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int vfs_blobpool_take(struct vfs_blobpool *p, uint8_t ret_id[KT_OBJECT_ID_BYTES], int *ret_fd)
{
	struct ready r;

	pthread_mutex_lock(&p->lock);
	if (p->n == 0) {
		pthread_cond_signal(&p->low);
		pthread_mutex_unlock(&p->lock);
		return -EAGAIN;
	}
	r = p->stack[--p->n];
	if (p->n <= POOL_FILES / 2)
		pthread_cond_signal(&p->low);
	pthread_mutex_unlock(&p->lock);
	memcpy(ret_id, r.id, KT_OBJECT_ID_BYTES);
	*ret_fd = r.fd;
	return 0;
}

int vfs_blobpool_discard(struct vfs_blobpool *p, const uint8_t object_id[KT_OBJECT_ID_BYTES])
{
	pthread_mutex_lock(&p->lock);
	if (p->ngone == GONE_MAX || p->stop) {
		pthread_mutex_unlock(&p->lock);
		return -EAGAIN;
	}
	memcpy(p->gone[(p->gone_head + p->ngone) % GONE_MAX], object_id, KT_OBJECT_ID_BYTES);
	p->ngone++;
	pthread_cond_signal(&p->low);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int vfs_blobpool_fd(const struct vfs_blobpool *p)
{
	return p->dir_fd;
}

int vfs_blobpool_start(const char *vault_dir, struct kt_store *store, struct vfs_blobpool **ret)
{
	struct vfs_blobpool *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->store = store;
	p->dir_fd = -1;
	p->vault_fd = open(vault_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->vault_fd < 0 || (mkdirat(p->vault_fd, POOL_DIR, 0700) < 0 && errno != EEXIST)) {
		r = -errno;
		goto fail;
	}
	p->dir_fd = openat(p->vault_fd, POOL_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p->dir_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = kt_store_adopt_check(store, p->dir_fd);
	if (r == -EXDEV) /* the store cannot take files from pool/: no pool */
		unlinkat(p->vault_fd, POOL_DIR, AT_REMOVEDIR);
	if (r < 0)
		goto fail;
	empty_dir(p->dir_fd);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->low, NULL);
	r = -pthread_create(&p->thread, NULL, pool_thread, p);
	if (r < 0) {
		pthread_cond_destroy(&p->low);
		pthread_mutex_destroy(&p->lock);
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	if (p->dir_fd >= 0)
		close(p->dir_fd);
	if (p->vault_fd >= 0)
		close(p->vault_fd);
	free(p);
	return r;
}

struct vfs_blobpool *vfs_blobpool_stop(struct vfs_blobpool *p)
{
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->low);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	for (size_t i = 0; i < p->n; i++)
		close(p->stack[i].fd);
	empty_dir(p->dir_fd);
	close(p->dir_fd);
	unlinkat(p->vault_fd, POOL_DIR, AT_REMOVEDIR);
	close(p->vault_fd);
	pthread_cond_destroy(&p->low);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return NULL;
}
