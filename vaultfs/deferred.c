/*
 * vaultfs/deferred.c — the close records of closed files, written in batches
 * (see deferred.h). The thread sleeps until something is queued, waits
 * DEFERRED_GATHER_MS for more (or until DEFERRED_BATCH are waiting), and
 * writes the lot in one transaction.
 */
#include "vaultfs/deferred.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vaultfs/vfs.h"
#include "meta/records.h"

#define DEFERRED_GATHER_MS 5   /* how long a count may wait for company */
#define DEFERRED_BATCH	   256 /* write at once when this many wait */

struct counts {
	int64_t record_id;
	int64_t bytes_read;
	int64_t bytes_written;
};

struct vfs_deferred {
	struct vfs *v;
	pthread_t thread;
	pthread_mutex_t lock; /* the queue and stop */
	pthread_cond_t wake;
	pthread_mutex_t write_lock; /* one writer at a time, in queue order */
	struct counts *queue;
	size_t n, cap;
	bool stop;
};

/* Take the queue (lock held): *ret and *ret_n own what was queued. */
static void take(struct vfs_deferred *d, struct counts **ret, size_t *ret_n)
{
	*ret = d->queue;
	*ret_n = d->n;
	d->queue = NULL;
	d->n = d->cap = 0;
}

/* Put back what could not be written, ahead of what came meanwhile. */
static void put_back(struct vfs_deferred *d, struct counts *c, size_t n)
{
	struct counts *merged;

	pthread_mutex_lock(&d->lock);
	merged = malloc((n + d->n) * sizeof(*merged));
	if (merged) {
		memcpy(merged, c, n * sizeof(*c));
		if (d->n)
			memcpy(merged + n, d->queue, d->n * sizeof(*c));
		free(d->queue);
		d->queue = merged;
		d->n += n;
		d->cap = d->n;
	}
	/* (without memory the counts are lost: their records keep null) */
	pthread_mutex_unlock(&d->lock);
	free(c);
}

/* Write c[0..n) in one transaction; 0 or -errno. */
static int write_counts(struct vfs *v, const struct counts *c, size_t n)
{
	int r;

	pthread_mutex_lock(&v->db_lock);
	r = meta_tx_begin(v->db);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = meta_log_close(v->db, c[i].record_id, c[i].bytes_read, c[i].bytes_written);
		if (r == -ENOENT)
			r = 0; /* no such record: nothing to fill in */
	}
	r = meta_tx_end(v->db, r);
	pthread_mutex_unlock(&v->db_lock);
	return r;
}

int vfs_deferred_flush(struct vfs_deferred *d)
{
	struct counts *c;
	size_t n;
	int r;

	pthread_mutex_lock(&d->write_lock);
	pthread_mutex_lock(&d->lock);
	take(d, &c, &n);
	pthread_mutex_unlock(&d->lock);
	r = n ? write_counts(d->v, c, n) : 0;
	if (r < 0)
		put_back(d, c, n);
	else
		free(c);
	pthread_mutex_unlock(&d->write_lock);
	return r;
}

static void *deferred_thread(void *arg)
{
	struct vfs_deferred *d = arg;

	pthread_setname_np(pthread_self(), "vfs-deferred"); /* for top -H, perf */

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct timespec until;

		while (!d->stop && d->n == 0)
			pthread_cond_wait(&d->wake, &d->lock);
		if (d->stop)
			break;
		/* Something waits: give its neighbours a moment to join it. */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += DEFERRED_GATHER_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!d->stop && d->n < DEFERRED_BATCH &&
		       pthread_cond_timedwait(&d->wake, &d->lock, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&d->lock);
		if (vfs_deferred_flush(d) < 0) {
			/* The database refused (a full disk?): try again in a while. */
			struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};

			nanosleep(&pause, NULL);
		}
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int vfs_deferred_start(struct vfs *v, struct vfs_deferred **ret)
{
	struct vfs_deferred *d = calloc(1, sizeof(*d));
	pthread_condattr_t attr;
	int r;

	if (!d)
		return -ENOMEM;
	d->v = v;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->write_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	r = -pthread_create(&d->thread, NULL, deferred_thread, d);
	if (r < 0) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->write_lock);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int vfs_deferred_bytes(struct vfs_deferred *d, int64_t record_id, int64_t bytes_read,
		       int64_t bytes_written)
{
	pthread_mutex_lock(&d->lock);
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct counts *q = realloc(d->queue, cap * sizeof(*q));

		if (!q) {
			pthread_mutex_unlock(&d->lock);
			return -ENOMEM;
		}
		d->queue = q;
		d->cap = cap;
	}
	d->queue[d->n++] = (struct counts){record_id, bytes_read, bytes_written};
	if (d->n == 1 || d->n >= DEFERRED_BATCH)
		pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

struct vfs_deferred *vfs_deferred_stop(struct vfs_deferred *d)
{
	if (!d)
		return NULL;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	(void)vfs_deferred_flush(d); /* at unmount: a failure leaves those records at null */
	free(d->queue);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->write_lock);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}
