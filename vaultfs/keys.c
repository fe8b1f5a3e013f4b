/*
 * vaultfs/keys.c — keys while mounted: refreshes, key sync, file and name keys.
 *
 * The maintenance thread's refresh of unlocked sessions (vfs_keys_maintain),
 * the sync of one keyring when a file key needs a key version it does not
 * have yet, the unwrap of a file's key, and the hashing and sealing of names
 * and metadata with a session's metadata keys.
 */
#include "vaultfs/ops.h"
#include "vaultfs/ops-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vaultfs/dcache.h"

/* Hash a name within a directory (or an xattr name within a file). */
void vfs_name_hash(struct vfs_session *s, uint64_t context, const char *name,
		   uint8_t hash[META_HASH_BYTES])
{
	kt_name_hash(s->meta_keys, context, name, strlen(name), hash);
}

int vfs_seal_meta(struct vfs_session *s, enum kt_meta_purpose purpose, uint64_t context,
		  const void *plain, size_t len, uint8_t **ret_enc, size_t *ret_len)
{
	uint8_t *enc = malloc(len + KT_META_OVERHEAD);
	int r;

	if (!enc)
		return -ENOMEM;
	r = kt_meta_seal(s->meta_keys, purpose, context, plain, len, enc);
	if (r < 0) {
		free(enc);
		return r;
	}
	*ret_enc = enc;
	*ret_len = len + KT_META_OVERHEAD;
	return 0;
}

static void record_refresh(struct vfs *v, struct vfs_session *s, uint32_t before);

/*
 * Keep unlocked sessions' keys current while mounted: refresh a keyring when
 * the vault's key epoch moved (grants, revocations, rotations by
 * vaultfs-keytool) or one of its grants expired; a user who lost every key
 * is locked. Called about once a second by the maintenance thread.
 */
void vfs_keys_maintain(struct vfs *v)
{
	struct vfs_session **list = NULL;
	int64_t epoch = 0, now = meta_now_ns();
	size_t n = 0;

	db_lock(v);
	/* Every unlocked session, however many: one left out would keep keys
	 * that a revocation or an expired grant took away. (Out of memory: all
	 * of them at the next tick.) */
	if (kt_key_epoch(v->db, &epoch) < 0 ||
	    vfs_sessions_pin_unlocked(v->sessions, &list, &n) < 0) {
		db_unlock(v);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct vfs_session *s = list[i];
		int64_t expiry = kt_keyring_next_expiry(s->keyring);
		struct vfs_caller c = {
		    .uid = s->uid, .gid = (gid_t)-1, .pid = getpid(), .comm = "vaultfs"};
		int r = 0;

		if (kt_keyring_epoch(s->keyring) == epoch && (expiry == 0 || expiry > now))
			continue;
		uint32_t before = s->readable;

		pthread_mutex_lock(&v->keys_lock);
		r = kt_keyring_refresh(v->db, s->keyring);
		if (r == 0)
			vfs_session_refreshed(v->sessions, s);
		pthread_mutex_unlock(&v->keys_lock);
		if (r == 0)
			record_refresh(v, s, before);
		if (r == -EACCES) {
			/* Removed, disabled or re-keyed: nothing of theirs unlocks any more. */
			vfs_session_lock(v->sessions, s->uid);
			vfs_record(v, s, &c, "lock", 0, NULL, NULL, -1, 0, NULL, "%s",
				   "keys revoked while unlocked");
			vfs_dcache_clear(v->dcache); /* the names decrypted for records */
		}
	}
	db_unlock(v);
	for (size_t i = 0; i < n; i++)
		vfs_session_put(v->sessions, list[i]);
	free(list);
}

/* Record that s's clearance changed under the mount (db_lock held). */
static void record_refresh(struct vfs *v, struct vfs_session *s, uint32_t before)
{
	/* The daemon acts for the session's user (uid -1 in single-user mode). */
	struct vfs_caller c = {.uid = s->uid, .gid = (gid_t)-1, .pid = getpid(), .comm = "vaultfs"};

	if (s->readable != before)
		vfs_record(v, s, &c, "keys-refresh", 0, NULL, NULL, -1, 0, NULL,
			   "readable levels 0x%x -> 0x%x (grants or keys changed)", before,
			   s->readable);
}

/*
 * Bring s's keyring up to the vault's key epoch (a rotation, revocation or
 * grant happened while mounted). Caller holds db_lock and keys_lock. Returns
 * 1 if refreshed, 0 if current, -EACCES if the user lost every key.
 */
int vfs_keys_sync(struct vfs *v, struct vfs_session *s)
{
	uint32_t before = s->readable;
	int r = kt_keyring_sync(v->db, s->keyring);

	if (r > 0) {
		vfs_session_refreshed(v->sessions, s);
		record_refresh(v, s, before);
	}
	return r;
}

/*
 * Unwrap n's file key with s's level keys. A key version the keyring does
 * not have may be one a rotation made since: sync once and retry. -EACCES
 * when the sync shows that s no longer holds the level (a revocation).
 * db_held: the caller already holds db_lock.
 */
int vfs_file_key_of(struct vfs *v, struct vfs_session *s, const struct meta_node *n,
		    uint8_t *ret_key, bool db_held)
{
	const uint8_t *level_key;
	uint32_t version;
	uint8_t level;
	int r;

	r = kt_file_key_info(n->file_key, &level, &version);
	if (r < 0)
		return -EBADMSG;
	if (level != n->level)
		return -EBADMSG; /* the row's level and the wrapped key disagree */
	for (int attempt = 0;; attempt++) {
		pthread_mutex_lock(&v->keys_lock);
		r = kt_keyring_level_key(s->keyring, level, version, &level_key);
		if (r == 0)
			r = kt_file_key_unwrap(level_key, n->object_id, n->file_key, ret_key);
		pthread_mutex_unlock(&v->keys_lock);
		if (r != -ENOKEY || attempt > 0)
			break;
		if (!db_held)
			db_lock(v);
		pthread_mutex_lock(&v->keys_lock);
		r = vfs_keys_sync(v, s);
		pthread_mutex_unlock(&v->keys_lock);
		if (!db_held)
			db_unlock(v);
		if (r <= 0) {
			r = -ENOKEY;
			break;
		}
		if (!level_ok(s->readable, level)) {
			r = -EACCES; /* the refresh took the level away: a revocation */
			break;
		}
	}
	return r == -EINVAL ? -EBADMSG : r;
}
