/*
 * vaultfs/journalfeed.c — committed access records sent on to the system
 * journal by a thread of the daemon (see journalfeed.h).
 */
#include "vaultfs/journalfeed.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keytool/journal.h"
#include "meta/records.h"
#include "vaultfs/record.h"

#define FEED_BATCH     256  /* records read at a time */
#define FEED_POLL_MS   1000 /* looks this often without a poke */
#define FEED_GATHER_MS 5    /* after a poke: the record's transaction commits meanwhile */
#define UNDECRYPTABLE  "<undecryptable>" /* a path that does not decrypt (as vaultfs-meta) */

struct vfs_journal_feed {
	struct vfs *v;
	struct meta_db *db; /* own read-only connection (thread only) */
	unsigned flags;	    /* VFS_JOURNAL_* */
	void (*report)(const char *msg);
	pthread_t thread;
	pthread_mutex_t lock; /* poked, stop */
	pthread_cond_t wake;
	bool poked;	  /* a record was appended since the last look */
	bool stop;	  /* stop after one more look */
	int64_t last_id;  /* the newest record looked at (thread only) */
	uint64_t sent;	  /* records sent (thread only, then stop) */
	uint64_t failed;  /* records that could not be sent (thread only, then stop) */
	int first_err;	  /* the first failure's -errno (thread only) */
	bool told_syslog; /* reported that records go to syslog (thread only) */
};

static void add_ms(struct timespec *t, long ms)
{
	t->tv_nsec += ms * 1000000L;
	t->tv_sec += t->tv_nsec / 1000000000L;
	t->tv_nsec %= 1000000000L;
}

/* The decrypted path of a record's enc (len bytes), malloc'd; NULL when no
 * key is held (or no memory). */
static char *record_path(struct vfs *v, const uint8_t *enc, size_t len)
{
	struct vfs_session *s = vfs_session_any_unlocked(v->sessions);
	char *path = NULL;

	if (!s)
		return NULL;
	pthread_mutex_lock(&v->keys_lock);
	if (s->keyring && s->meta_keys) {
		size_t plain = len >= KT_META_OVERHEAD ? len - KT_META_OVERHEAD : 0;

		path = malloc(plain + sizeof(UNDECRYPTABLE));
		if (path &&
		    vfs_meta_open_stored(s->meta_keys, KT_META_PATH, 0, enc, len, path) == 0)
			path[plain] = '\0';
		else if (path)
			strcpy(path, UNDECRYPTABLE);
	}
	pthread_mutex_unlock(&v->keys_lock);
	vfs_session_put(v->sessions, s);
	return path;
}

/* Send one record; count what went wrong, and say so the first time. */
static void feed_send(struct vfs_journal_feed *f, const struct meta_record *rec)
{
	char *path = NULL, *path2 = NULL, msg[160];
	int r;

	if (f->flags & VFS_JOURNAL_PATHS) {
		if (rec->path_enc)
			path = record_path(f->v, rec->path_enc, rec->path_enc_len);
		if (rec->path2_enc)
			path2 = record_path(f->v, rec->path2_enc, rec->path2_enc_len);
	}
	r = kt_journal_send_record(f->v->vault_dir, rec, path, path2);
	free(path);
	free(path2);
	if (r < 0) {
		if (f->failed++ == 0) {
			f->first_err = r;
			snprintf(
			    msg, sizeof(msg),
			    "cannot send access record %lld to the system journal: %s (further "
			    "failures are counted and reported at unmount)",
			    (long long)rec->id, strerror(-r));
			if (f->report)
				f->report(msg);
		}
		return;
	}
	f->sent++;
	if (r == KT_JOURNAL_VIA_SYSLOG && !f->told_syslog) {
		f->told_syslog = true;
		if (f->report)
			f->report(
			    "no journald listens on /run/systemd/journal/socket: access records "
			    "go to syslog (LOG_AUTHPRIV) as escaped lines");
	}
}

/* Send every committed record after f->last_id. */
static void feed_drain(struct vfs_journal_feed *f)
{
	struct meta_log_filter filter = {.level = -1, .limit = FEED_BATCH, .raw = true};
	struct meta_record *recs;
	size_t n;

	do {
		filter.after_id = f->last_id;
		if (meta_log_query(f->db, &filter, &recs, &n) < 0)
			return; /* busy or failing: the next look tries again */
		for (size_t i = 0; i < n; i++) {
			feed_send(f, &recs[i]);
			f->last_id = recs[i].id;
			meta_record_clear(&recs[i]);
		}
		free(recs);
	} while (n == FEED_BATCH);
}

static void *feed_thread(void *arg)
{
	struct vfs_journal_feed *f = arg;
	bool stop = false;

	pthread_setname_np(pthread_self(), "vfs-journal"); /* for top -H, perf */
	while (!stop) {
		struct timespec until;
		bool poked;

		pthread_mutex_lock(&f->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		add_ms(&until, FEED_POLL_MS);
		while (!f->stop && !f->poked &&
		       pthread_cond_timedwait(&f->wake, &f->lock, &until) != ETIMEDOUT)
			;
		poked = f->poked;
		f->poked = false;
		stop = f->stop;
		pthread_mutex_unlock(&f->lock);
		if (poked && !stop) {
			/* The poke comes from inside the record's transaction. */
			struct timespec gather = {.tv_nsec = FEED_GATHER_MS * 1000000L};

			nanosleep(&gather, NULL);
		}
		feed_drain(f);
	}
	return NULL;
}

int vfs_journal_feed_start(struct vfs *v, unsigned flags, int64_t after_id,
			   void (*report)(const char *msg), struct vfs_journal_feed **ret)
{
	struct vfs_journal_feed *f = calloc(1, sizeof(*f));
	pthread_condattr_t attr;
	int r;

	if (!f)
		return -ENOMEM;
	f->v = v;
	f->flags = flags;
	f->report = report;
	f->last_id = after_id;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &attr);
	pthread_condattr_destroy(&attr);
	r = meta_db_open(v->vault_dir, META_OPEN_RO, &f->db);
	if (r == 0)
		r = -pthread_create(&f->thread, NULL, feed_thread, f);
	if (r < 0) {
		meta_db_close(f->db);
		pthread_cond_destroy(&f->wake);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void vfs_journal_feed_poke(struct vfs_journal_feed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->poked = true;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
}

struct vfs_journal_feed *vfs_journal_feed_stop(struct vfs_journal_feed *f)
{
	char msg[200];

	if (!f)
		return NULL;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL); /* its last look sent what was committed */
	if (f->failed && f->report) {
		snprintf(msg, sizeof(msg),
			 "%llu of %llu access records could not be sent to the system journal "
			 "(first: %s)",
			 (unsigned long long)f->failed, (unsigned long long)(f->failed + f->sent),
			 strerror(-f->first_err));
		f->report(msg);
	}
	meta_db_close(f->db);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return NULL;
}
