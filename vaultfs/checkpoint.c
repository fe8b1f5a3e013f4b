/*
 * vaultfs/checkpoint.c — WAL checkpoints in a thread of their own (see
 * checkpoint.h). The thread sleeps until a commit says the log is long, or a
 * second passes, and then checkpoints what readers allow.
 */
#include "vaultfs/checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define VFS_CHECKPOINT_GAP_MS 250 /* between two checkpoints */

struct vfs_checkpointer {
	struct meta_db *db;  /* the daemon's connection, whose log this keeps short */
	struct meta_db *own; /* the thread's connection */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool due;  /* a commit found the log long (lock) */
	bool stop; /* (lock) */
};

/* Called inside a commit on the daemon's connection: just a signal. */
static void log_is_long(void *arg)
{
	struct vfs_checkpointer *c = arg;

	pthread_mutex_lock(&c->lock);
	c->due = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

/* Wait on c->wake until stop, or until the deadline (and due, when need_due). */
static void wait_until(struct vfs_checkpointer *c, const struct timespec *until, bool need_due)
{
	while (!c->stop && (!need_due || !c->due) &&
	       pthread_cond_timedwait(&c->wake, &c->lock, until) != ETIMEDOUT)
		;
}

static void add_ms(struct timespec *ts, long ms)
{
	ts->tv_nsec += ms * 1000000;
	ts->tv_sec += ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

static void *checkpoint_thread(void *arg)
{
	struct vfs_checkpointer *c = arg;
	struct timespec now, until;

	pthread_setname_np(pthread_self(), "vfs-checkpoint"); /* for top -H, perf */

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		/* Until the log is long, or a quiet second has passed. */
		clock_gettime(CLOCK_MONOTONIC, &until);
		add_ms(&until, 1000);
		wait_until(c, &until, true);
		if (c->stop)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->lock);
		(void)meta_db_checkpoint(c->own); /* a failure is retried on the next round */
		pthread_mutex_lock(&c->lock);
		/* At most a few a second: each ends in two fsyncs, and while
		 * requests keep committing the log stays long. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		until = now;
		add_ms(&until, VFS_CHECKPOINT_GAP_MS);
		wait_until(c, &until, false);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int vfs_checkpointer_start(const char *dir, struct meta_db *db, struct vfs_checkpointer **ret)
{
	struct vfs_checkpointer *c = calloc(1, sizeof(*c));
	pthread_condattr_t attr;
	int r;

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &attr);
	pthread_condattr_destroy(&attr);
	r = meta_db_open(dir, META_OPEN_RW, &c->own);
	if (r == 0)
		r = -pthread_create(&c->thread, NULL, checkpoint_thread, c);
	if (r < 0) {
		meta_db_close(c->own);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return r;
	}
	r = meta_db_checkpoint_elsewhere(db, log_is_long, c);
	if (r == 0)
		c->db = db;
	if (r < 0) {
		vfs_checkpointer_stop(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct vfs_checkpointer *vfs_checkpointer_stop(struct vfs_checkpointer *c)
{
	if (!c)
		return NULL;
	if (c->db)
		(void)meta_db_checkpoint_elsewhere(c->db, NULL, NULL);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	meta_db_close(c->own);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}
