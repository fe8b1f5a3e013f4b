/*
 * vaultfs/anchor.c — signed checkpoints while mounted, and the rollback
 * check at mount (anchor.h).
 */
#include "vaultfs/anchor.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keytool/anchor.h"
#include "keytool/journal.h"
#include "keytool/witness.h"
#include "meta/records-tree.h"
#include "vaultfs/record.h"
#include "vaultfs/session.h"

#define POLL_SECONDS 5 /* how often the thread looks at the record's size */

/* One line to the daemon's stderr (its log in the foreground). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vaultfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct vfs_anchor {
	struct vfs *v;
	char *witness;	     /* NULL: none */
	struct meta_db *own; /* the thread's connection */
	uint8_t *seed;	     /* kt_secure_alloc'd checkpoint key, once found; else NULL */
	struct kt_note_verifier verifier;
	uint64_t last_size; /* of the last checkpoint made */
	time_t last_time;
	bool witness_down; /* reported once until it works again */
	bool journal_down; /* reported once */
	bool no_key_said;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* (lock) */
};

/* Does the record extend held, a verified checkpoint that `where` holds?
 * 0, or -ESTALE / -EBADMSG / -errno with why[] said. */
static int compare(struct vfs *v, const struct kt_checkpoint *held, const char *where, char *why,
		   size_t why_size)
{
	uint8_t root[META_TLOG_HASH_BYTES];
	uint64_t size = 0;
	int r = meta_log_tree_head(v->db, &size, root);

	if (r == 0)
		r = kt_log_extends(v->db, held);
	if (r == -ESTALE)
		snprintf(why, why_size,
			 "the vault was rolled back: its access record has %llu records, %s holds "
			 "a checkpoint of %llu",
			 (unsigned long long)size, where, (unsigned long long)held->size);
	else if (r == -EBADMSG)
		snprintf(why, why_size,
			 "the vault's access record was rewritten: its first %llu records do not "
			 "hash to the checkpoint %s holds",
			 (unsigned long long)held->size, where);
	else if (r < 0)
		snprintf(why, why_size, "cannot check the access record: %s", strerror(-r));
	return r;
}

static int check_witness(struct vfs *v, const struct kt_note_verifier *ver, const char *witness,
			 char *why, size_t why_size)
{
	struct kt_checkpoint held = {0};
	char where[PATH_MAX + 16];
	int r = kt_witness_latest(witness, ver, &held);

	if (r == -ENOENT)
		return 0;
	if (r == -ENOKEY || r == -EBADMSG) {
		snprintf(
		    why, why_size,
		    "the witness %s holds a checkpoint that the vault's checkpoint key did not "
		    "sign (the key in vault.db was replaced, or the witness belongs to another "
		    "vault)",
		    witness);
		return -EBADMSG;
	}
	if (r < 0) {
		snprintf(why, why_size, "cannot read the witness %s: %s", witness, strerror(-r));
		return r;
	}
	snprintf(where, sizeof(where), "the witness %s", witness);
	r = compare(v, &held, where, why, why_size);
	kt_checkpoint_clear(&held);
	return r;
}

static int check_journal(struct vfs *v, const struct kt_note_verifier *ver, char *why,
			 size_t why_size)
{
	struct kt_checkpoint held = {0};
	int r = kt_journal_newest_signed(ver, NULL, NULL, &held);

	if (r < 0)
		return 0; /* no journal here, or nothing of this vault's in it */
	r = compare(v, &held, "the system journal", why, why_size);
	kt_checkpoint_clear(&held);
	return r;
}

int vfs_anchor_check(struct vfs *v, const char *witness, char *why, size_t why_size)
{
	struct kt_note_verifier ver;
	int r, rw = 0;

	why[0] = '\0';
	r = kt_log_verifier(v->db, &ver);
	if (r == -ENOKEY)
		return 0; /* a vault without signing keys yet: nothing was anchored */
	if (r < 0) {
		snprintf(why, why_size, "cannot read the vault's checkpoint key: %s", strerror(-r));
		return r;
	}
	if (witness) {
		rw = check_witness(v, &ver, witness, why, why_size);
		if (rw == -ESTALE || rw == -EBADMSG)
			goto incident;
	}
	r = check_journal(v, &ver, why, why_size);
	if (r == -ESTALE || r == -EBADMSG)
		goto incident;
	if (rw < 0 && why[0] == '\0')
		snprintf(why, why_size, "cannot read the witness %s: %s", witness, strerror(-rw));
	return rw < 0 ? rw : r;
incident:
	r = rw == -ESTALE || rw == -EBADMSG ? rw : r;
	vfs_record_daemon(v, "rollback", NULL, r, "%s", why);
	return r;
}

/* The checkpoint key from some unlocked session; false while there is none. */
static bool find_seed(struct vfs_anchor *a)
{
	struct vfs_session *s;
	const uint8_t *seed;
	uint32_t version;
	bool found = false;

	if (a->seed)
		return true;
	s = vfs_session_any_unlocked(a->v->sessions);
	if (!s)
		return false;
	pthread_mutex_lock(&a->v->keys_lock);
	if (s->keyring &&
	    kt_keyring_sign_seed(s->keyring, KT_SEAL_CHECKPOINT, &version, &seed) == 0) {
		a->seed = kt_secure_alloc(KT_KEY_BYTES);
		if (a->seed) {
			memcpy(a->seed, seed, KT_KEY_BYTES);
			found = true;
		}
	}
	pthread_mutex_unlock(&a->v->keys_lock);
	vfs_session_put(a->v->sessions, s);
	return found;
}

/* Send note to the system journal, and offer it to the witness; a refusal
 * by the witness is an incident. */
static void publish(struct vfs_anchor *a, const char *note, uint64_t size)
{
	int r;

	r = kt_journal_send_checkpoint(a->verifier.name, note, strlen(note));
	if (r < 0 && r != -ENOTCONN && !a->journal_down) {
		say("cannot send the checkpoint to the system journal: %s", strerror(-r));
		a->journal_down = true;
	}
	if (!a->witness)
		return;
	r = kt_log_witness(a->own, a->witness, &a->verifier, note);
	if (r == 0) {
		a->witness_down = false;
		return;
	}
	if (r == -ESTALE || r == -EBADMSG) {
		say("the witness %s refused the checkpoint of %llu records: it holds one "
		    "this vault's record does not extend (%s)",
		    a->witness, (unsigned long long)size, strerror(-r));
		vfs_record_daemon(a->v, "anchor", NULL, r,
				  "witness %s refused the checkpoint of %llu records: it holds one "
				  "the record does not extend",
				  a->witness, (unsigned long long)size);
		return;
	}
	if (!a->witness_down) {
		say("cannot offer the checkpoint to the witness %s: %s", a->witness, strerror(-r));
		vfs_record_daemon(a->v, "anchor", NULL, r, "witness %s unreachable: %s", a->witness,
				  strerror(-r));
		a->witness_down = true;
	}
}

/* Sign and publish a checkpoint if the record grew (force: any growth). */
static void maybe_checkpoint(struct vfs_anchor *a, bool force)
{
	uint8_t root[META_TLOG_HASH_BYTES];
	uint64_t size = 0;
	char *note = NULL;
	time_t now = time(NULL);
	int r;

	if (meta_log_tree_head(a->own, &size, root) < 0 || size <= a->last_size)
		return;
	if (!force && a->last_time != 0 && size - a->last_size < VFS_ANCHOR_RECORDS &&
	    now - a->last_time < VFS_ANCHOR_SECONDS)
		return;
	if (!find_seed(a)) {
		if (!a->no_key_said && force)
			say("no checkpoint made: nobody is unlocked to sign it");
		a->no_key_said = force;
		return;
	}
	r = kt_log_checkpoint_seed(a->own, a->seed, &note, &size);
	if (r < 0) {
		say("cannot sign a checkpoint of the access record: %s", strerror(-r));
		return;
	}
	a->last_size = size;
	a->last_time = now;
	publish(a, note, size);
	free(note);
}

static void *anchor_thread(void *arg)
{
	struct vfs_anchor *a = arg;
	struct timespec until;

	pthread_setname_np(pthread_self(), "vfs-anchor");
	pthread_mutex_lock(&a->lock);
	while (!a->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += POLL_SECONDS;
		while (!a->stop && pthread_cond_timedwait(&a->wake, &a->lock, &until) != ETIMEDOUT)
			;
		if (a->stop)
			break;
		pthread_mutex_unlock(&a->lock);
		maybe_checkpoint(a, false);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int vfs_anchor_start(struct vfs *v, const char *witness, struct vfs_anchor **ret)
{
	struct vfs_anchor *a = calloc(1, sizeof(*a));
	pthread_condattr_t attr;
	int r;

	if (!a)
		return -ENOMEM;
	a->v = v;
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->wake, &attr);
	pthread_condattr_destroy(&attr);
	r = witness && !(a->witness = strdup(witness)) ? -ENOMEM : 0;
	if (r == 0)
		r = meta_db_open(v->vault_dir, META_OPEN_RW, &a->own);
	if (r == 0) {
		r = kt_log_verifier(a->own, &a->verifier);
		if (r == -ENOKEY) {
			say("this vault has no checkpoint key yet: no checkpoints are made "
			    "until an administrator runs any vaultfs-keytool administration");
			a->stop = true; /* nothing to do; the thread ends at once */
			r = 0;
		}
	}
	/* last_time 0: the first round signs the record as the mount found it
	 * (after a crash too), whatever its size */
	a->last_time = 0;
	if (r == 0)
		r = -pthread_create(&a->thread, NULL, anchor_thread, a);
	if (r < 0) {
		meta_db_close(a->own);
		free(a->witness);
		pthread_cond_destroy(&a->wake);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return r;
	}
	*ret = a;
	return 0;
}

struct vfs_anchor *vfs_anchor_stop(struct vfs_anchor *a)
{
	bool keyed;

	if (!a)
		return NULL;
	pthread_mutex_lock(&a->lock);
	keyed = !a->stop;
	a->stop = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	if (keyed)
		maybe_checkpoint(a, true);
	meta_db_close(a->own);
	kt_secure_free(a->seed);
	free(a->witness);
	pthread_cond_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	free(a);
	return NULL;
}
