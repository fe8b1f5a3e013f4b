/*
 * keytool/cmd/content.h — what re-encryption needs of the vault directory:
 * the content operations of rotation.h over vaultfs/chunk.c, and the
 * daemon's mount lock.
 *
 * Errors: 0 or -errno (-EBADMSG a blob that does not authenticate, -ENOENT
 * missing, -EBUSY the vault is mounted).
 */
#pragma once

#include "rotation.h"

/*
 * Take VAULT/lock the way the daemon does (flock LOCK_EX, not waiting):
 * -EBUSY if a daemon has the vault mounted. Keep *ret_fd open while the
 * content is being rewritten (a mount attempt then fails); close it to let go.
 */
int kt_content_lock(const char *vault_dir, int *ret_fd);

/* The blobs of one vault. */
struct kt_content_store {
	int objects_fd; /* VAULT/objects, O_DIRECTORY */
};

/* Open VAULT/objects and fill *ret_ops (whose ctx is store). */
int kt_content_open(const char *vault_dir, struct kt_content_store *store,
		    struct kt_content_ops *ret_ops);
void kt_content_close(struct kt_content_store *store);
