/*
 * keytool/store.h — the content store: where a vault's encrypted blobs live.
 *
 * A store holds objects named by a 16-byte object id; each object is a byte
 * array read and written at offsets. It knows nothing of the blob format
 * (keytool/chunk.h sits on top of it) nor of keys: everything it is handed is
 * already encrypted. The one backend today is the vault's objects/ directory
 * (keytool/store-local.c, docs/format.md §7); another (Ceph RADOS, S3) fills
 * in the same struct kt_store_ops and nothing above it changes.
 *
 * What a backend must guarantee (docs/hacking.md, "The content store"):
 * create and adopt never replace an existing object (-EEXIST); an adopted
 * object appears whole under its name or not at all; after
 * kt_object_datasync and kt_store_persist the object and its name survive a
 * crash; an open object stays readable and writable after it is removed.
 *
 * Errors: 0 (or a byte count) on success, -errno on failure: -ENOENT no such
 * object, -EEXIST an object of that name exists, -EBUSY an exclusive lock
 * refused, -EIO, -ENOSPC etc. from the backend.
 *
 * Locking: a store may be used from any number of threads at once; one
 * object handle is not locked here (its user serialises, as chunk.h says).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "keytool/crypto.h"

#define KT_STORE_PATH_MAX 36 /* local backend: holds "xx/" + 30 hex + NUL */

struct kt_store;

/* An open object: embedded by its user (no allocation per open). */
struct kt_object {
	struct kt_store *store; /* the store it belongs to (its operations) */
	union {
		int fd;	   /* local backend: the file, O_RDWR */
		void *ptr; /* other backends: their handle */
	} h;
};

/* One backend: every operation returns 0 (or a count) or -errno. */
struct kt_store_ops {
	/* Make a new empty object, writable; never replaces one (-EEXIST). */
	int (*create)(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES],
		      struct kt_object *ret);
	/* Open an existing object for reading and writing (-ENOENT if absent). */
	int (*open)(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES],
		    struct kt_object *ret);
	/* Move the file name in directory dir_fd, open as fd, into place as
	 * object id, atomically and never over an existing object. fd belongs to
	 * the store from now on; on failure it is closed and the file removed. */
	int (*adopt)(struct kt_store *s, int dir_fd, const char *name, int fd,
		     const uint8_t id[KT_OBJECT_ID_BYTES], struct kt_object *ret);
	/* 0 if files in dir_fd can be adopted, -EXDEV if not. */
	int (*adopt_check)(struct kt_store *s, int dir_fd);
	/* Remove an object (-ENOENT if absent). */
	int (*remove)(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES]);
	/* Make an object's name durable (its bytes: kt_object_datasync). */
	int (*persist)(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES]);
	/* Call each for every object id, in no particular order, until it
	 * returns non-zero (which list returns). */
	int (*list)(struct kt_store *s,
		    int (*each)(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES]), void *ctx);
	/* Space figures for statfs (blocks, free blocks, free files). */
	int (*space)(struct kt_store *s, struct statvfs *ret);
	void (*free)(struct kt_store *s);

	/* One open object's bytes. pread returns fewer bytes only at the end. */
	ssize_t (*pread)(struct kt_object *o, void *buf, size_t len, uint64_t off);
	ssize_t (*pwrite)(struct kt_object *o, const void *buf, size_t len, uint64_t off);
	int (*length)(struct kt_object *o, uint64_t *ret_len);
	int (*truncate)(struct kt_object *o, uint64_t len);
	int (*datasync)(struct kt_object *o);
	/* A lock between processes sharing the store: shared (waits) or
	 * exclusive (does not wait: -EBUSY). Released at close. */
	int (*lock)(struct kt_object *o, bool exclusive);
	void (*close)(struct kt_object *o);
};

/* What every backend's store begins with. */
struct kt_store {
	const struct kt_store_ops *ops;
};

/* Open the content store of the vault in vault_dir (today: its objects/). */
int kt_store_open(const char *vault_dir, struct kt_store **ret_store);
/* Close it (takes NULL); returns NULL. */
struct kt_store *kt_store_close(struct kt_store *s);

/* Local backend: an object's path under objects/, "xx/yyyy…". */
void kt_store_local_path(const uint8_t id[KT_OBJECT_ID_BYTES], char ret_path[KT_STORE_PATH_MAX]);

static inline int kt_object_create(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES],
				   struct kt_object *ret)
{
	return s->ops->create(s, id, ret);
}

static inline int kt_object_open(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES],
				 struct kt_object *ret)
{
	return s->ops->open(s, id, ret);
}

static inline int kt_object_adopt(struct kt_store *s, int dir_fd, const char *name, int fd,
				  const uint8_t id[KT_OBJECT_ID_BYTES], struct kt_object *ret)
{
	return s->ops->adopt(s, dir_fd, name, fd, id, ret);
}

static inline int kt_store_adopt_check(struct kt_store *s, int dir_fd)
{
	return s->ops->adopt_check(s, dir_fd);
}

static inline int kt_store_remove(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES])
{
	return s->ops->remove(s, id);
}

static inline int kt_store_persist(struct kt_store *s, const uint8_t id[KT_OBJECT_ID_BYTES])
{
	return s->ops->persist(s, id);
}

static inline int kt_store_list(struct kt_store *s,
				int (*each)(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES]),
				void *ctx)
{
	return s->ops->list(s, each, ctx);
}

static inline int kt_store_space(struct kt_store *s, struct statvfs *ret)
{
	return s->ops->space(s, ret);
}

static inline ssize_t kt_object_pread(struct kt_object *o, void *buf, size_t len, uint64_t off)
{
	return o->store->ops->pread(o, buf, len, off);
}

static inline ssize_t kt_object_pwrite(struct kt_object *o, const void *buf, size_t len,
				       uint64_t off)
{
	return o->store->ops->pwrite(o, buf, len, off);
}

static inline int kt_object_length(struct kt_object *o, uint64_t *ret_len)
{
	return o->store->ops->length(o, ret_len);
}

static inline int kt_object_truncate(struct kt_object *o, uint64_t len)
{
	return o->store->ops->truncate(o, len);
}

static inline int kt_object_datasync(struct kt_object *o)
{
	return o->store->ops->datasync(o);
}

static inline int kt_object_lock(struct kt_object *o, bool exclusive)
{
	return o->store->ops->lock(o, exclusive);
}

/* Close an open object (takes one never opened: store NULL). */
static inline void kt_object_close(struct kt_object *o)
{
	if (o->store) {
		o->store->ops->close(o);
		o->store = NULL;
	}
}
