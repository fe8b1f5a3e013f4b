/*
 * vaultfs/inode.c — in-memory state of the inodes the kernel knows about.
 *
 * A chained hash table keyed by inode number that grows by doubling. Entries
 * live while the kernel holds lookups on them or someone holds a pin.
 */
#include "vaultfs/inode.h"

#include <errno.h>
#include <stdlib.h>

#define INITIAL_BUCKETS 1024

struct vfs_itable {
	pthread_mutex_t mutex;	    /* guards everything below and the counters */
	struct vfs_inode **buckets; /* chains, by ino & mask */
	uint64_t mask;		    /* number of buckets - 1 */
	uint64_t count;		    /* entries */
};

static inline uint64_t bucket_of(const struct vfs_itable *t, uint64_t ino)
{
	/* Fibonacci hashing: inode numbers are sequential. */
	return (ino * 0x9E3779B97F4A7C15ull >> 20) & t->mask;
}

struct vfs_itable *vfs_itable_new(void)
{
	struct vfs_itable *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->mask = INITIAL_BUCKETS - 1;
	pthread_mutex_init(&t->mutex, NULL);
	return t;
}

static void inode_free(struct vfs_inode *in)
{
	pthread_rwlock_destroy(&in->lock);
	free(in);
}

struct vfs_itable *vfs_itable_free(struct vfs_itable *t)
{
	if (!t)
		return NULL;
	for (uint64_t b = 0; b <= t->mask; b++) {
		struct vfs_inode *in = t->buckets[b];

		while (in) {
			struct vfs_inode *next = in->next;

			inode_free(in);
			in = next;
		}
	}
	pthread_mutex_destroy(&t->mutex);
	free(t->buckets);
	free(t);
	return NULL;
}

static struct vfs_inode *lookup_locked(struct vfs_itable *t, uint64_t ino)
{
	for (struct vfs_inode *in = t->buckets[bucket_of(t, ino)]; in; in = in->next)
		if (in->ino == ino)
			return in;
	return NULL;
}

static void grow_locked(struct vfs_itable *t)
{
	uint64_t nmask = t->mask * 2 + 1;
	struct vfs_inode **nb = calloc(nmask + 1, sizeof(*nb));
	struct vfs_itable tmp = {.buckets = nb, .mask = nmask};

	if (!nb)
		return; /* keep the longer chains */
	for (uint64_t b = 0; b <= t->mask; b++) {
		struct vfs_inode *in = t->buckets[b];

		while (in) {
			struct vfs_inode *next = in->next;
			uint64_t nbkt = bucket_of(&tmp, in->ino);

			in->next = nb[nbkt];
			nb[nbkt] = in;
			in = next;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->mask = nmask;
}

static struct vfs_inode *get_or_create_locked(struct vfs_itable *t, uint64_t ino)
{
	struct vfs_inode *in = lookup_locked(t, ino);
	uint64_t b;

	if (in)
		return in;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->ino = ino;
	in->level = -1; /* unknown until an open, a create or a change of level */
	pthread_rwlock_init(&in->lock, NULL);
	if (t->count + 1 > (t->mask + 1) * 2)
		grow_locked(t);
	b = bucket_of(t, ino);
	in->next = t->buckets[b];
	t->buckets[b] = in;
	t->count++;
	return in;
}

/* Unlink and free in if nothing references it; true if freed and unlinked. */
static bool maybe_free_locked(struct vfs_itable *t, struct vfs_inode *in)
{
	struct vfs_inode **pp;
	bool unlinked = in->unlinked;

	if (in->nlookup > 0 || in->pins > 0)
		return false;
	for (pp = &t->buckets[bucket_of(t, in->ino)]; *pp; pp = &(*pp)->next) {
		if (*pp == in) {
			*pp = in->next;
			break;
		}
	}
	t->count--;
	inode_free(in);
	return unlinked;
}

struct vfs_inode *vfs_inode_pin(struct vfs_itable *t, uint64_t ino)
{
	struct vfs_inode *in;

	pthread_mutex_lock(&t->mutex);
	in = get_or_create_locked(t, ino);
	if (in)
		in->pins++;
	pthread_mutex_unlock(&t->mutex);
	return in;
}

struct vfs_inode *vfs_inode_find(struct vfs_itable *t, uint64_t ino)
{
	struct vfs_inode *in;

	pthread_mutex_lock(&t->mutex);
	in = lookup_locked(t, ino);
	if (in)
		in->pins++;
	pthread_mutex_unlock(&t->mutex);
	return in;
}

bool vfs_inode_unpin(struct vfs_itable *t, struct vfs_inode *in)
{
	bool freed;

	pthread_mutex_lock(&t->mutex);
	in->pins--;
	freed = maybe_free_locked(t, in);
	pthread_mutex_unlock(&t->mutex);
	return freed;
}

bool vfs_inode_unused(struct vfs_itable *t, uint64_t ino)
{
	struct vfs_inode *in;
	bool unused;

	pthread_mutex_lock(&t->mutex);
	in = lookup_locked(t, ino);
	unused = !in || in->pins == 0;
	pthread_mutex_unlock(&t->mutex);
	return unused;
}

void vfs_inode_set_unlinked(struct vfs_itable *t, struct vfs_inode *in)
{
	pthread_mutex_lock(&t->mutex);
	in->unlinked = true;
	pthread_mutex_unlock(&t->mutex);
}

int vfs_inode_lookup(struct vfs_itable *t, uint64_t ino)
{
	struct vfs_inode *in;

	pthread_mutex_lock(&t->mutex);
	in = get_or_create_locked(t, ino);
	if (in)
		in->nlookup++;
	pthread_mutex_unlock(&t->mutex);
	return in ? 0 : -ENOMEM;
}

bool vfs_inode_forget(struct vfs_itable *t, uint64_t ino, uint64_t n)
{
	struct vfs_inode *in;
	bool freed = false;

	pthread_mutex_lock(&t->mutex);
	in = lookup_locked(t, ino);
	if (in) {
		in->nlookup = n >= in->nlookup ? 0 : in->nlookup - n;
		freed = maybe_free_locked(t, in);
	}
	pthread_mutex_unlock(&t->mutex);
	return freed;
}

uint64_t vfs_itable_count(struct vfs_itable *t)
{
	uint64_t n;

	pthread_mutex_lock(&t->mutex);
	n = t->count;
	pthread_mutex_unlock(&t->mutex);
	return n;
}
