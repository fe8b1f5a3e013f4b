/*
 * vaultfs/vfs.h — the state of one mounted vault, shared by the daemon's
 * modules (ops, records, main). Private to vaultfs/.
 *
 * Locking: db_lock serialises every use of db (one SQLite connection). It is
 * taken after an inode's rwlock, never before (inode.h).
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "keytool/keyring.h"
#include "meta/db.h"
#include "vaultfs/dcache.h"
#include "vaultfs/inode.h"
#include "vaultfs/session.h"

struct fuse_session;
struct vfs_deferred;
struct vfs_blobpool;
struct vfs_journal_feed;
struct kt_store;

#define VFS_DCACHE_MAX 65536 /* directories whose names the daemon remembers */

struct vfs {
	char *vault_dir;	       /* the vault directory (absolute) */
	struct kt_store *store;	       /* the content blobs (keytool/store.h) */
	struct meta_db *db;	       /* vault.db (db_lock) */
	pthread_mutex_t db_lock;       /* serialises db */
	pthread_mutex_t keys_lock;     /* serialises level-key use with keyring refreshes
					* (order: db_lock, then keys_lock) */
	bool multi_user;	       /* each uid unlocks its own keys */
	struct vfs_sessions *sessions; /* callers' keys (session.h) */
	const char *control_path;      /* multi-user: the control socket, else NULL */
	struct vfs_itable *itable;     /* inodes the kernel knows */
	struct vfs_dcache *dcache;     /* names of directories, for record paths (db_lock) */
	struct fuse_session *se;       /* for notifications to the kernel; NULL in tests */
	struct vfs_deferred *deferred; /* byte counts written in batches; NULL: at once */
	struct vfs_blobpool *blobpool; /* empty blob files made ahead; NULL: none */
	double attr_timeout;	       /* seconds the kernel may cache attributes */
	double entry_timeout;	       /* seconds the kernel may cache names */

	/* Records also to the system journal (-o journal, journalfeed.h); NULL: off.
	 * Set once the mount is recorded, cleared before the feed stops. */
	_Atomic(struct vfs_journal_feed *) journal;
};

/* Who is calling: filled from the FUSE request and /proc. */
struct vfs_caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char comm[17]; /* process name, like TASK_COMM_LEN */
};
