/*
 * vaultfs/caller.c — the caller of a request: who it is, its session, whether it may.
 *
 * Finds the session of a request's uid (mapping a uid to its vault user in
 * multi-user mode), refuses locked or unknown callers, checks an open handle
 * against the file's current level on every use, and records refusals and
 * integrity failures as denial records. Used by every operation file.
 */
#include "vaultfs/ops-internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>

#define DENIAL_RECORD_INTERVAL_NS (60ll * 1000000000) /* browsing denials: one a minute */

/*
 * Record a refusal (db_lock held). Path from ino, or from (parent, name) when
 * name is given. Returns err for the caller to reply with.
 */
int vfs_deny(struct vfs *v, struct vfs_session *s, fuse_req_t req, const char *op, uint64_t ino,
	     uint64_t parent, const char *name, int level, int err, const char *detail)
{
	struct vfs_caller c;

	caller_of(req, &c);
	return vfs_record_denial(v, s, &c, op, ino, parent, name, level, err, detail);
}

int vfs_refuse_change(struct vfs *v, struct vfs_session *s, fuse_req_t req, const char *op,
		      uint64_t ino, uint64_t parent, const char *name, int level, int err,
		      const char *detail)
{
	meta_tx_rollback(v->db);
	return vfs_deny(v, s, req, op, ino, parent, name, level, err, detail);
}

/* Record an integrity failure of stored data (takes db_lock). level -1: look it up. */
void vfs_record_integrity(struct vfs *v, struct vfs_session *s, fuse_req_t req, uint64_t ino,
			  int level, const char *detail)
{
	db_lock(v);
	if (level < 0) {
		struct meta_node n = {0};

		if (meta_node_get(v->db, ino, &n) == 0)
			level = n.level;
		meta_node_clear(&n);
	}
	vfs_deny(v, s, req, "read", ino, 0, NULL, level, -EBADMSG, detail);
	db_unlock(v);
}

/* The session of uid's vault user (meta_user_for_uid); "" when none. */
static struct vfs_session *session_map(struct vfs *v, uid_t uid)
{
	struct meta_user u = {0};
	char name[META_NAME_MAX + 1] = "";

	db_lock(v);
	if (meta_user_for_uid(v->db, uid, &u) == 0)
		snprintf(name, sizeof(name), "%s", u.name);
	db_unlock(v);
	return vfs_session_add(v->sessions, uid, name);
}

/* Record a refusal of a locked or unknown caller; browsing refusals at most
 * once a minute per caller, so an unlocked shell prompt does not flood the
 * trail. */
static void deny_locked(fuse_req_t req, struct vfs_session *s, const char *op, uint64_t ino,
			int level, bool browse)
{
	struct vfs *v = vfs_of(req);
	int64_t now = meta_now_ns();

	if (browse && s && now - s->last_denial_ns < DENIAL_RECORD_INTERVAL_NS)
		return;
	if (s)
		s->last_denial_ns = now;
	db_lock(v);
	vfs_deny(v, s, req, op, ino, 0, NULL, level, -EACCES,
		 !s || !s->user[0] ? "no vault user for this uid"
		 : !s->keyring	   ? "keys locked"
		 : !s->meta_keys   ? "holds no role (revoked)"
		 : level >= 0 && level < META_LEVELS && (s->expired & (1u << level))
		     ? "level idle-expired"
		     : "level not held");
	db_unlock(v);
}

/*
 * The caller's session, pinned, when its keys are unlocked. Otherwise the
 * refusal is recorded and EACCES replied, and NULL returned.
 */
struct vfs_session *vfs_session_enter(fuse_req_t req, const char *op, uint64_t ino, bool browse)
{
	struct vfs *v = vfs_of(req);
	uid_t uid = fuse_req_ctx(req)->uid;
	struct vfs_session *s = vfs_session_get(v->sessions, uid);

	if (!s && v->multi_user)
		s = session_map(v, uid);
	if (s && s->keyring && s->meta_keys)
		return s;
	deny_locked(req, s, op, ino, -1, browse);
	vfs_session_put(v->sessions, s);
	fuse_reply_err(req, EACCES);
	return NULL;
}

/*
 * May h's opener still use the file, for op (writing: a change of content)?
 * Checked on every use of a handle, against the file's level now (a level
 * raised since the open counts) and the opener's keys now: unlocked (a lock
 * or a new unlock replaces the session: then ask the current one), the level
 * held (writably when writing), not idle-expired. Refusals are recorded,
 * once per handle and kind (HANDLE_DENIED_*), not per call. Caller holds
 * h->inode->lock (either side), which a change of level waits for.
 */
int vfs_handle_check(fuse_req_t req, struct vfs_handle *h, const char *op, bool writing)
{
	struct vfs *v = vfs_of(req);
	struct vfs_session *s = h->session, *cur = NULL;
	int level = h->inode->level;
	int r = 0;

	if (__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE))
		s = cur = vfs_session_get(v->sessions, h->uid);
	if (level < 0 || !s || !s->keyring || !level_ok(s->readable, (uint8_t)level) ||
	    (writing && !level_ok(s->writable, (uint8_t)level))) {
		unsigned kind = writing ? HANDLE_DENIED_WRITE : HANDLE_DENIED_READ;

		if (!(atomic_fetch_or(&h->denied, kind) & kind))
			deny_locked(req, s, op, h->inode->ino, level, false);
		r = -EACCES;
	} else {
		vfs_session_touch(s, (uint8_t)level);
	}
	vfs_session_put(v->sessions, cur);
	return r;
}
