/*
 * vaultfs/session.h — whose keys serve a request: per-caller sessions.
 *
 * Every FUSE request carries the caller's uid. A session maps that uid to a
 * vault user and holds the user's unlocked keys while they are unlocked. In
 * single-user mode (vaultfs --user NAME) one session serves every uid; in
 * multi-user mode each uid has its own, created locked the first time the
 * uid is seen and unlocked through the control socket (control.h).
 *
 * Idle expiry: each session remembers when it last used each level; a level
 * unused for longer than its timeout stops being usable (its clearance bits
 * are cleared and the event is recorded), and when no level is left the
 * session's keys are wiped.
 *
 * Locking: the table's mutex guards the chains, refs and the fields marked
 * (table); a pinned session's keyring stays valid until unpinned, even if it
 * is locked meanwhile (the keyring is freed by the last unpin).
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "keytool/keyring.h"

#define VFS_ANY_UID ((uid_t)-1) /* single-user mode: the session of every uid */

struct vfs_session {
	uid_t uid;				  /* caller uid, or VFS_ANY_UID */
	char user[META_NAME_MAX + 1];		  /* vault user, "" if the uid maps to none */
	struct kt_keyring *keyring;		  /* NULL while locked (table) */
	const struct kt_meta_keys *meta_keys;	  /* from keyring, or NULL */
	uint32_t readable;			  /* levels usable for reading now (table) */
	uint32_t writable;			  /* levels usable for writing now (table) */
	bool may_declassify;			  /* a role of the user may lower levels */
	uint32_t expired;			  /* levels lost to idle expiry (table) */
	_Atomic int64_t last_use_ns[META_LEVELS]; /* per level, for idle expiry */
	int64_t unlocked_ns;			  /* when the keys were unlocked */
	int64_t last_denial_ns;			  /* throttles denial records of lookups (table) */
	unsigned refs;				  /* pins (table) */
	bool dead;		  /* replaced or dropped: free at last unpin (table) */
	struct vfs_session *next; /* chain (table) */
};

struct vfs_sessions;

/* The longest idle timeout, in seconds: the daemon counts time in int64_t
 * nanoseconds, so this is INT64_MAX ns (about 292 years). */
#define VFS_IDLE_SECONDS_MAX (INT64_MAX / 1000000000)

/* Idle timeout per level in seconds (0 = never; a value outside
 * 0..VFS_IDLE_SECONDS_MAX is taken as never too). */
struct vfs_idle {
	int64_t seconds[META_LEVELS];
};

struct vfs_sessions *vfs_sessions_new(const struct vfs_idle *idle);
/* Free everything (keys wiped). Takes NULL. */
struct vfs_sessions *vfs_sessions_free(struct vfs_sessions *t);

/* The session of uid, pinned, or NULL if none exists yet. */
struct vfs_session *vfs_session_get(struct vfs_sessions *t, uid_t uid);
/* Create the (locked) session of uid for vault user name ("" = unknown uid),
 * or return the existing one; pinned. NULL on ENOMEM. */
struct vfs_session *vfs_session_add(struct vfs_sessions *t, uid_t uid, const char *user);
void vfs_session_put(struct vfs_sessions *t, struct vfs_session *s);
/* One more pin on an already pinned session. */
void vfs_session_pin(struct vfs_sessions *t, struct vfs_session *s);

/*
 * Give uid's session these unlocked keys (taking ownership of keyring),
 * replacing any earlier keys. user is the vault user they belong to.
 */
int vfs_session_unlock(struct vfs_sessions *t, uid_t uid, const char *user,
		       struct kt_keyring *keyring);
/* Wipe uid's keys; -ENOENT if it held none. */
int vfs_session_lock(struct vfs_sessions *t, uid_t uid);

/*
 * After s's keyring was refreshed (roles revoked or expired, new key
 * versions): take its clearance and metadata keys again, wiping again the
 * levels that idle expiry took away. Caller holds the daemon's keys_lock.
 */
void vfs_session_refreshed(struct vfs_sessions *t, struct vfs_session *s);
/*
 * Pin every unlocked session, however many, into *ret_list (malloc'd, *ret_n
 * entries; the caller unpins each and frees the array). -ENOMEM: nothing
 * pinned, the outputs untouched.
 */
int vfs_sessions_pin_unlocked(struct vfs_sessions *t, struct vfs_session ***ret_list,
			      size_t *ret_n);

/* Note a use of level by s (resets its idle clock). */
void vfs_session_touch(struct vfs_session *s, uint8_t level);

/*
 * Apply idle expiry at time now: for each session and level past its timeout,
 * clear the level and call report(ctx, uid, user, level) (level -1 = the whole
 * session's keys were wiped), after the table's mutex is released. Every
 * expiry applied is reported, however many there are; when memory for the
 * reports runs out, the rest is left for the next call. Called by the
 * daemon's reaper thread.
 */
void vfs_sessions_expire(struct vfs_sessions *t, int64_t now_ns,
			 void (*report)(void *ctx, uid_t uid, const char *user, int level),
			 void *ctx);

/* Some unlocked session, pinned, whose metadata keys the daemon may borrow
 * for its own records (the paths of denials of locked callers); NULL if
 * nobody is unlocked. */
struct vfs_session *vfs_session_any_unlocked(struct vfs_sessions *t);

/*
 * Parse "0=8h,1=8h,2=1h,3=15m" (units s, m, h, d; 0 = never) over *ret_idle:
 * levels not named keep their value. -EINVAL if malformed, -ERANGE if a
 * timeout is longer than VFS_IDLE_SECONDS_MAX; *ret_idle is then unchanged.
 */
int vfs_idle_parse(const char *text, struct vfs_idle *ret_idle);
