/*
 * keytool/content.h — what re-encryption needs of the vault's content:
 * the content operations of rotation.h over keytool/chunk.c and the content
 * store (keytool/store.h).
 *
 * Works while the vault is mounted: a blob the daemon has open holds a
 * shared lock, and copy then answers -EBUSY (reencrypt.c waits and tries
 * again); a blob being replaced is held exclusively from its copy until it
 * is removed, and the daemon waits for that before opening it.
 *
 * Errors: 0 or -errno (-EBADMSG a blob that does not authenticate, -ENOENT
 * missing, -EBUSY open in a running mount).
 */
#pragma once

#include "keytool/rotation.h"

/* The blobs of one vault. */
struct vfs_blob;
struct kt_store;

struct kt_content_store {
	struct kt_store *objects; /* the vault's content store */
	struct vfs_blob *held;	  /* the blob being replaced, locked exclusively
				   * from its copy until it is removed */
	uint8_t held_id[KT_OBJECT_ID_BYTES];
};

/* Open the vault's content store and fill *ret_ops (whose ctx is store). */
int kt_content_open(const char *vault_dir, struct kt_content_store *store,
		    struct kt_content_ops *ret_ops);
void kt_content_close(struct kt_content_store *store);
