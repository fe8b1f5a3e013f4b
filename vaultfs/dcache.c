/*
 * vaultfs/dcache.c — the names of directories, remembered (see dcache.h).
 *
 * A fixed array of hash chains; an entry holds its name inline. When max
 * entries are held the whole cache is dropped: cheaper and simpler than an
 * eviction order, and a directory tree that large is walked again from the
 * database at the cost of one query per level.
 */
#include "vaultfs/dcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define DCACHE_BUCKETS 4096 /* a power of two */

struct dentry {
	struct dentry *next;
	uint64_t ino;
	uint64_t parent;
	size_t len;
	char name[];
};

struct vfs_dcache {
	size_t max;
	size_t count;
	struct dentry *bucket[DCACHE_BUCKETS];
};

static size_t bucket_of(uint64_t ino)
{
	/* inode numbers are sequential: spread them with a multiplicative hash */
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 52) & (DCACHE_BUCKETS - 1);
}

static void dentry_free(struct dentry *d)
{
	sodium_memzero(d->name, d->len);
	free(d);
}

struct vfs_dcache *vfs_dcache_new(size_t max)
{
	struct vfs_dcache *c = calloc(1, sizeof(*c));

	if (c)
		c->max = max ? max : 1;
	return c;
}

struct vfs_dcache *vfs_dcache_free(struct vfs_dcache *c)
{
	if (c) {
		vfs_dcache_clear(c);
		free(c);
	}
	return NULL;
}

static struct dentry **find(struct vfs_dcache *c, uint64_t ino)
{
	struct dentry **p = &c->bucket[bucket_of(ino)];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next;
	return p;
}

int vfs_dcache_get(struct vfs_dcache *c, uint64_t ino, uint64_t *ret_parent, const char **ret_name)
{
	struct dentry *d = *find(c, ino);

	if (!d)
		return -ENOENT;
	*ret_parent = d->parent;
	*ret_name = d->name;
	return 0;
}

int vfs_dcache_put(struct vfs_dcache *c, uint64_t ino, uint64_t parent, const char *name)
{
	size_t len = strlen(name);
	struct dentry *d;

	if (len == 0)
		return -EINVAL;
	vfs_dcache_drop(c, ino);
	if (c->count >= c->max)
		vfs_dcache_clear(c);
	d = malloc(sizeof(*d) + len + 1);
	if (!d)
		return -ENOMEM;
	d->ino = ino;
	d->parent = parent;
	d->len = len;
	memcpy(d->name, name, len + 1);
	d->next = c->bucket[bucket_of(ino)];
	c->bucket[bucket_of(ino)] = d;
	c->count++;
	return 0;
}

void vfs_dcache_drop(struct vfs_dcache *c, uint64_t ino)
{
	struct dentry **p = find(c, ino), *d = *p;

	if (!d)
		return;
	*p = d->next;
	dentry_free(d);
	c->count--;
}

void vfs_dcache_clear(struct vfs_dcache *c)
{
	for (size_t i = 0; i < DCACHE_BUCKETS && c->count; i++) {
		while (c->bucket[i]) {
			struct dentry *d = c->bucket[i];

			c->bucket[i] = d->next;
			dentry_free(d);
			c->count--;
		}
	}
}

size_t vfs_dcache_count(const struct vfs_dcache *c)
{
	return c->count;
}
