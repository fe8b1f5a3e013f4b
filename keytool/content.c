/*
 * keytool/content.c — re-encryption's blob copy and removal over
 * keytool/chunk.c, and the mount lock (content.h).
 *
 * A copy reads the old blob through vfs_blob_read (every chunk
 * authenticated under the old file key) and writes the new blob through
 * vfs_blob_write under the new key, then makes it durable (header, data,
 * its name in the store) before returning: only then may the node be
 * pointed at it. The plaintext passes through one buffer of secure memory,
 * wiped after.
 */
#include "keytool/content.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "keytool/chunk.h"
#include "keytool/store.h"

#define COPY_BYTES (64u * 1024u)

_Static_assert(COPY_BYTES % VFS_CHUNK_SIZE == 0, "copy whole chunks");

/* Drop the lock on the blob being replaced, if any. */
static void release_held(struct kt_content_store *store)
{
	if (store->held) {
		store->held = vfs_blob_close(store->held, NULL);
		sodium_memzero(store->held_id, sizeof(store->held_id));
	}
}

static int blob_copy(void *ctx, const uint8_t old_id[KT_OBJECT_ID_BYTES],
		     const uint8_t old_key[KT_KEY_BYTES], uint64_t expected_counter,
		     const uint8_t new_id[KT_OBJECT_ID_BYTES], const uint8_t new_key[KT_KEY_BYTES],
		     struct kt_copy_result *ret)
{
	struct kt_content_store *store = ctx;
	struct vfs_blob *in = NULL, *out = NULL;
	uint64_t size, off = 0, new_counter = 0;
	uint8_t *buf = NULL;
	int r, e;

	/* A blob the daemon has open (it holds a shared lock) is not replaced
	 * now: -EBUSY, and the caller comes back to it. Once locked
	 * exclusively here, the daemon waits for us before opening it, and then
	 * finds the row pointing at the new blob. */
	release_held(store);
	r = vfs_blob_open(store->objects, old_id, old_key, expected_counter, &in);
	if (r < 0)
		return r;
	r = vfs_blob_lock_exclusive(in);
	if (r < 0) {
		vfs_blob_close(in, NULL);
		return r;
	}
	buf = kt_secure_alloc(COPY_BYTES);
	if (!buf) {
		vfs_blob_close(in, NULL);
		return -ENOMEM;
	}
	/* The counter carries over: the new blob starts where the old one is,
	 * and its first header after the copy is one more (docs/format.md §7). */
	r = vfs_blob_create(store->objects, new_id, new_key, vfs_blob_counter(in), &out);
	size = vfs_blob_size(in);
	while (r == 0 && off < size) {
		size_t want = size - off < COPY_BYTES ? (size_t)(size - off) : COPY_BYTES;
		ssize_t n = vfs_blob_read(in, buf, want, off);

		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0) {
			r = -EBADMSG; /* shorter than its authenticated size */
			break;
		}
		n = vfs_blob_write(out, buf, (size_t)n, off);
		if (n < 0)
			r = (int)n;
		else
			off += (uint64_t)n;
	}
	sodium_memzero(buf, COPY_BYTES);
	kt_secure_free(buf);
	if (r == 0)
		r = vfs_blob_sync(out, 1);
	if (r == 0)
		new_counter = vfs_blob_counter(out);
	if (out) {
		vfs_blob_close(out, &e);
		if (r == 0)
			r = e;
	}
	if (r == 0)
		r = kt_store_persist(store->objects, new_id);
	if (r < 0) {
		vfs_blob_close(in, NULL);
		if (r != -EEXIST)
			(void)kt_store_remove(store->objects, new_id);
		return r;
	}
	/* Keep the old blob locked until the swap is done and it is removed. */
	store->held = in;
	memcpy(store->held_id, old_id, KT_OBJECT_ID_BYTES);
	ret->bytes = size;
	ret->old_counter = vfs_blob_counter(in);
	ret->new_counter = new_counter;
	return 0;
}

static int blob_remove(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES])
{
	struct kt_content_store *store = ctx;
	int r = kt_store_remove(store->objects, id);

	/* Removing the old blob (or, on failure, the new copy) ends this file's
	 * replacement: let the daemon open its blob again. */
	release_held(store);
	return r;
}

int kt_content_open(const char *vault_dir, struct kt_content_store *store,
		    struct kt_content_ops *ret_ops)
{
	int r;

	store->held = NULL;
	r = kt_store_open(vault_dir, &store->objects);
	if (r < 0)
		return r;
	ret_ops->copy = blob_copy;
	ret_ops->remove = blob_remove;
	ret_ops->ctx = store;
	return 0;
}

void kt_content_close(struct kt_content_store *store)
{
	if (store) {
		release_held(store);
		store->objects = kt_store_close(store->objects);
	}
}
