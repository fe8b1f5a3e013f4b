/*
 * vaultfs/session.c — whose keys serve a request: per-caller sessions.
 *
 * A small list of sessions (one per uid seen; a municipality's server has
 * hundreds of users, not millions) under one mutex. Keys are owned by the
 * session and wiped when it is locked, expired, replaced or freed; pins keep
 * a keyring alive across a request that started before the lock.
 */
#include "vaultfs/session.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/db.h"
#include "meta/roles.h"
#include "meta/users.h"

struct vfs_sessions {
	pthread_mutex_t mutex;	  /* guards everything */
	struct vfs_session *head; /* live sessions */
	struct vfs_idle idle;	  /* per-level idle timeouts */
};

struct vfs_sessions *vfs_sessions_new(const struct vfs_idle *idle)
{
	struct vfs_sessions *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->mutex, NULL);
	if (idle)
		t->idle = *idle;
	return t;
}

static void session_free(struct vfs_session *s)
{
	kt_keyring_free(s->keyring);
	free(s);
}

struct vfs_sessions *vfs_sessions_free(struct vfs_sessions *t)
{
	if (!t)
		return NULL;
	while (t->head) {
		struct vfs_session *s = t->head;

		t->head = s->next;
		session_free(s);
	}
	pthread_mutex_destroy(&t->mutex);
	free(t);
	return NULL;
}

static struct vfs_session *find_locked(struct vfs_sessions *t, uid_t uid)
{
	for (struct vfs_session *s = t->head; s; s = s->next)
		if (s->uid == uid || s->uid == VFS_ANY_UID)
			return s;
	return NULL;
}

struct vfs_session *vfs_session_get(struct vfs_sessions *t, uid_t uid)
{
	struct vfs_session *s;

	pthread_mutex_lock(&t->mutex);
	s = find_locked(t, uid);
	if (s)
		s->refs++;
	pthread_mutex_unlock(&t->mutex);
	return s;
}

struct vfs_session *vfs_session_add(struct vfs_sessions *t, uid_t uid, const char *user)
{
	struct vfs_session *s;

	pthread_mutex_lock(&t->mutex);
	s = find_locked(t, uid);
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (s) {
			s->uid = uid;
			snprintf(s->user, sizeof(s->user), "%s", user);
			s->next = t->head;
			t->head = s;
		}
	}
	if (s)
		s->refs++;
	pthread_mutex_unlock(&t->mutex);
	return s;
}

void vfs_session_put(struct vfs_sessions *t, struct vfs_session *s)
{
	bool free_it;

	if (!s)
		return;
	pthread_mutex_lock(&t->mutex);
	free_it = --s->refs == 0 && s->dead;
	pthread_mutex_unlock(&t->mutex);
	if (free_it)
		session_free(s);
}

void vfs_session_pin(struct vfs_sessions *t, struct vfs_session *s)
{
	pthread_mutex_lock(&t->mutex);
	s->refs++;
	pthread_mutex_unlock(&t->mutex);
}

/* Remove s from the list; it is freed now or by its last unpin. */
static void retire_locked(struct vfs_sessions *t, struct vfs_session *s)
{
	for (struct vfs_session **pp = &t->head; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	__atomic_store_n(&s->dead, true, __ATOMIC_RELEASE);
	if (s->refs == 0)
		session_free(s);
}

/* A fresh session for uid carrying keyring (or locked when NULL). */
static struct vfs_session *session_new(uid_t uid, const char *user, struct kt_keyring *keyring)
{
	struct vfs_session *s = calloc(1, sizeof(*s));
	int64_t now = meta_now_ns();

	if (!s)
		return NULL;
	s->uid = uid;
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->keyring = keyring;
	if (keyring) {
		s->meta_keys = kt_keyring_meta(keyring);
		s->readable = kt_keyring_readable(keyring);
		s->writable = kt_keyring_writable(keyring);
		s->may_declassify = (kt_keyring_flags(keyring) & META_ROLE_DECLASSIFY) != 0;
		s->unlocked_ns = now;
		for (int l = 0; l < META_LEVELS; l++)
			atomic_store(&s->last_use_ns[l], now);
	}
	return s;
}

/* Replace uid's session with a new one (keys or locked). */
static int replace(struct vfs_sessions *t, uid_t uid, const char *user, struct kt_keyring *keyring,
		   bool must_exist)
{
	struct vfs_session *old, *s;

	pthread_mutex_lock(&t->mutex);
	old = find_locked(t, uid);
	if (must_exist && (!old || !old->keyring)) {
		pthread_mutex_unlock(&t->mutex);
		return -ENOENT;
	}
	s = session_new(uid, user ? user : old ? old->user : "", keyring);
	if (!s) {
		pthread_mutex_unlock(&t->mutex);
		return -ENOMEM;
	}
	if (old)
		retire_locked(t, old);
	s->next = t->head;
	t->head = s;
	pthread_mutex_unlock(&t->mutex);
	return 0;
}

int vfs_session_unlock(struct vfs_sessions *t, uid_t uid, const char *user,
		       struct kt_keyring *keyring)
{
	int r = replace(t, uid, user, keyring, false);

	if (r < 0)
		kt_keyring_free(keyring);
	return r;
}

int vfs_session_lock(struct vfs_sessions *t, uid_t uid)
{
	return replace(t, uid, NULL, NULL, true);
}

void vfs_session_refreshed(struct vfs_sessions *t, struct vfs_session *s)
{
	pthread_mutex_lock(&t->mutex);
	if (s->keyring) {
		/* A refresh unseals every level of the user's roles again: keep the
		 * idle-expired ones wiped. */
		for (int l = 0; l < META_LEVELS; l++)
			if (s->expired & (1u << l))
				kt_keyring_forget_level(s->keyring, (uint8_t)l);
		s->meta_keys = kt_keyring_meta(s->keyring);
		s->readable = kt_keyring_readable(s->keyring) & ~s->expired;
		s->writable = kt_keyring_writable(s->keyring) & ~s->expired;
		s->may_declassify = (kt_keyring_flags(s->keyring) & META_ROLE_DECLASSIFY) != 0;
	}
	pthread_mutex_unlock(&t->mutex);
}

int vfs_sessions_pin_unlocked(struct vfs_sessions *t, struct vfs_session ***ret_list, size_t *ret_n)
{
	struct vfs_session **list;
	size_t n = 0;

	pthread_mutex_lock(&t->mutex);
	for (struct vfs_session *s = t->head; s; s = s->next)
		n += s->keyring != NULL;
	list = malloc((n ? n : 1) * sizeof(*list));
	if (!list) {
		pthread_mutex_unlock(&t->mutex);
		return -ENOMEM;
	}
	n = 0;
	for (struct vfs_session *s = t->head; s; s = s->next) {
		if (s->keyring) {
			s->refs++;
			list[n++] = s;
		}
	}
	pthread_mutex_unlock(&t->mutex);
	*ret_list = list;
	*ret_n = n;
	return 0;
}

void vfs_session_touch(struct vfs_session *s, uint8_t level)
{
	if (level < META_LEVELS)
		atomic_store(&s->last_use_ns[level], meta_now_ns());
}

/* A level's idle timeout in ns; 0 (never) for 0 and for what does not fit. */
static int64_t idle_limit_ns(int64_t seconds)
{
	if (seconds <= 0 || seconds > VFS_IDLE_SECONDS_MAX)
		return 0;
	return seconds * 1000000000;
}

/* An expiry applied under the table's mutex, reported after it. */
struct expiry {
	uid_t uid;
	char user[META_NAME_MAX + 1];
	int level; /* -1: the session's keys were wiped */
};

/* The expiries of one call to vfs_sessions_expire. */
struct expiries {
	struct expiry *list; /* malloc'd */
	size_t n;	     /* used */
	size_t cap;	     /* allocated */
};

/* Make room for one more expiry before applying it; false on ENOMEM. */
static bool expiries_reserve(struct expiries *e)
{
	size_t cap = e->cap ? e->cap * 2 : 16;
	struct expiry *bigger;

	if (e->n < e->cap)
		return true;
	bigger = realloc(e->list, cap * sizeof(*bigger));
	if (!bigger)
		return false;
	e->list = bigger;
	e->cap = cap;
	return true;
}

/* Note an expiry; room was reserved. */
static void expiries_add(struct expiries *e, uid_t uid, const char *user, int level)
{
	struct expiry *x = &e->list[e->n++];

	x->uid = uid;
	snprintf(x->user, sizeof(x->user), "%s", user);
	x->level = level;
}

void vfs_sessions_expire(struct vfs_sessions *t, int64_t now_ns,
			 void (*report)(void *ctx, uid_t uid, const char *user, int level),
			 void *ctx)
{
	struct expiries ev = {0};

	pthread_mutex_lock(&t->mutex);
	for (struct vfs_session *s = t->head, *next; s; s = next) {
		next = s->next;
		if (!s->keyring)
			continue;
		for (int l = 0; l < META_LEVELS; l++) {
			int64_t limit = idle_limit_ns(t->idle.seconds[l]);
			uint32_t bit = 1u << l;

			if (!limit || !(s->readable & bit))
				continue;
			if (now_ns - atomic_load(&s->last_use_ns[l]) < limit)
				continue;
			/* Nothing is applied that could not be reported: out of
			 * memory, the rest waits for the next call. */
			if (!expiries_reserve(&ev))
				goto out;
			s->readable &= ~bit;
			s->writable &= ~bit;
			s->expired |= bit;
			expiries_add(&ev, s->uid, s->user, l);
		}
		if (s->readable == 0 && s->unlocked_ns && kt_keyring_readable(s->keyring) != 0) {
			/* Every level it held has expired: wipe its keys. */
			struct vfs_session *locked;

			if (!expiries_reserve(&ev))
				goto out;
			locked = session_new(s->uid, s->user, NULL);
			if (locked) {
				retire_locked(t, s);
				locked->next = t->head;
				t->head = locked;
				expiries_add(&ev, locked->uid, locked->user, -1);
			}
		}
	}
out:
	pthread_mutex_unlock(&t->mutex);
	for (size_t i = 0; i < ev.n; i++)
		report(ctx, ev.list[i].uid, ev.list[i].user, ev.list[i].level);
	free(ev.list);
}

struct vfs_session *vfs_session_any_unlocked(struct vfs_sessions *t)
{
	struct vfs_session *s;

	pthread_mutex_lock(&t->mutex);
	for (s = t->head; s; s = s->next)
		if (s->keyring && s->meta_keys)
			break;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&t->mutex);
	return s;
}

/* A decimal number without sign or blanks at p; -EINVAL if none, -ERANGE
 * if it does not fit in a long long. */
static int parse_count(const char *p, char **ret_end, long long *ret_n)
{
	long long n;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	n = strtoll(p, ret_end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*ret_n = n;
	return 0;
}

int vfs_idle_parse(const char *text, struct vfs_idle *ret_idle)
{
	struct vfs_idle idle = *ret_idle;
	const char *p = text;

	while (*p) {
		char *end;
		long long level = 0, n = 0;
		int64_t unit = 1;
		int r;

		r = parse_count(p, &end, &level);
		if (r < 0 || *end != '=' || level >= META_LEVELS)
			return -EINVAL;
		p = end + 1;
		r = parse_count(p, &end, &n);
		if (r == -EINVAL)
			return r;
		switch (*end) {
		case 's':
			end++;
			break;
		case 'm':
			unit = 60;
			end++;
			break;
		case 'h':
			unit = 3600;
			end++;
			break;
		case 'd':
			unit = 86400;
			end++;
			break;
		default:
			break;
		}
		if (*end != ',' && *end != '\0')
			return -EINVAL;
		/* in nanoseconds it must fit in an int64_t too (idle_limit_ns) */
		if (r == -ERANGE || n > VFS_IDLE_SECONDS_MAX / unit)
			return -ERANGE;
		idle.seconds[level] = (int64_t)n * unit;
		p = *end == ',' ? end + 1 : end;
	}
	*ret_idle = idle;
	return 0;
}
