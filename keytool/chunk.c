/*
 * keytool/chunk.c — a file's content blob: authenticated encryption in chunks.
 *
 * Layout (docs/format.md §7): a 64-byte header (magic, version, cipher,
 * chunk shift, object id, plaintext size, write counter, keyed-BLAKE2b MAC)
 * and then chunks of VFS_CHUNK_DISK bytes, each nonce || XChaCha20-Poly1305
 * (4096 bytes of plaintext) with AD = object id || chunk index. Every chunk
 * on disk holds a full chunk of plaintext (the last is zero-padded), so
 * rewriting a chunk is one pwrite of a fixed length: a daemon killed between
 * two system calls leaves only whole, authentic chunks.
 *
 * Format 2 headers carry a write counter that grows by one with every
 * rewrite of the header after a change of content or size; the node row
 * keeps the counter the vault expects, and an open with a higher expectation
 * than the header is a rollback (-EBADMSG). Format 1 headers (no counter)
 * are read as counter 0 and written as format 2 from their next change on.
 *
 * Crash ordering: chunks are written before the header that makes them part
 * of the file; a shrinking truncate writes the header before cutting the
 * file. Bytes beyond the header's size are authentic but never returned, and
 * any growth rewrites them as zeros first.
 */
#include "keytool/chunk.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/store.h"

#define HEADER_MAGIC	 "VFSO"
#define HEADER_V1	 1	     /* size, no counter: read only */
#define HEADER_V2	 2	     /* size and write counter: written */
#define HEADER_V1_FIELDS 32	     /* format 1: bytes covered by the MAC... */
#define HEADER_V1_MAC	 32	     /* ...and its length */
#define HEADER_V2_FIELDS 40	     /* format 2: bytes covered by the MAC... */
#define HEADER_V2_MAC	 24	     /* ...and its length (192 bits) */
#define BATCH_CHUNKS	 64	     /* chunks sealed per pwrite when filling */
#define BIG_GROWTH_BYTES (16u << 20) /* growth checked against free space first */

_Static_assert(VFS_CHUNK_DISK == 4136, "chunk on disk is pinned by the format");
_Static_assert(VFS_CHUNK_NONCE == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(VFS_CHUNK_TAG == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(VFS_HEADER_BYTES == HEADER_V1_FIELDS + HEADER_V1_MAC, "format 1 header size");
_Static_assert(VFS_HEADER_BYTES == HEADER_V2_FIELDS + HEADER_V2_MAC, "format 2 header size");
_Static_assert(HEADER_V2_MAC >= crypto_generichash_BYTES_MIN, "MAC length BLAKE2b accepts");

struct vfs_blob {
	struct kt_object obj;		       /* the blob's object in its store */
	uint8_t object_id[KT_OBJECT_ID_BYTES]; /* its name, bound into header and chunks */
	uint8_t data_key[KT_KEY_BYTES];	       /* vfs-data subkey of the file key */
	uint8_t header_key[KT_KEY_BYTES];      /* vfs-hdr_ subkey of the file key */
	uint64_t size;			       /* plaintext size, authoritative in memory */
	uint64_t header_size;		       /* size as last written to the header */
	uint64_t counter;		       /* write counter of the header as last
						* read or written (format 1: 0) */
	bool changed;			       /* content written since the header was */
	uint8_t nonce_prefix[16];	       /* random, chosen when the blob is opened */
	uint64_t nonce_seq;		       /* next counter for a chunk nonce (writers
						* are serialised by the caller) */
};

/* Per-thread scratch buffer for reading and sealing runs of chunks. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

struct scratch {
	size_t len;
	uint8_t data[];
};

static void scratch_free(void *p)
{
	free(p);
}

static void scratch_init(void)
{
	(void)pthread_key_create(&scratch_key, scratch_free);
}

static uint8_t *scratch_get(size_t len)
{
	struct scratch *s;

	pthread_once(&scratch_once, scratch_init);
	s = pthread_getspecific(scratch_key);
	if (s && s->len >= len)
		return s->data;
	free(s);
	s = malloc(sizeof(*s) + len);
	if (!s) {
		pthread_setspecific(scratch_key, NULL);
		return NULL;
	}
	s->len = len;
	pthread_setspecific(scratch_key, s);
	return s->data;
}

static inline uint64_t chunk_count(uint64_t size)
{
	return (size + VFS_CHUNK_SIZE - 1) >> VFS_CHUNK_SHIFT;
}

static inline off_t chunk_offset(uint64_t index)
{
	return (off_t)(VFS_HEADER_BYTES + index * (uint64_t)VFS_CHUNK_DISK);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void chunk_ad(const uint8_t object_id[KT_OBJECT_ID_BYTES], uint64_t index,
		     uint8_t ad[KT_OBJECT_ID_BYTES + 8])
{
	memcpy(ad, object_id, KT_OBJECT_ID_BYTES);
	put_le64(ad + KT_OBJECT_ID_BYTES, index);
}

/* Seal one chunk with the nonce already in ret_disk[0..23]. */
static int seal_in_place(const uint8_t data_key[KT_KEY_BYTES],
			 const uint8_t object_id[KT_OBJECT_ID_BYTES], uint64_t index,
			 const uint8_t plain[VFS_CHUNK_SIZE], uint8_t ret_disk[VFS_CHUNK_DISK])
{
	uint8_t ad[KT_OBJECT_ID_BYTES + 8];
	unsigned long long clen;

	chunk_ad(object_id, index, ad);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ret_disk + VFS_CHUNK_NONCE, &clen, plain,
						       VFS_CHUNK_SIZE, ad, sizeof(ad), NULL,
						       ret_disk, data_key) != 0)
		return -EIO;
	return 0;
}

int vfs_chunk_seal(const uint8_t data_key[KT_KEY_BYTES],
		   const uint8_t object_id[KT_OBJECT_ID_BYTES], uint64_t index,
		   const uint8_t plain[VFS_CHUNK_SIZE], uint8_t ret_disk[VFS_CHUNK_DISK])
{
	randombytes_buf(ret_disk, VFS_CHUNK_NONCE);
	return seal_in_place(data_key, object_id, index, plain, ret_disk);
}

/*
 * Seal a chunk of b with a nonce that is unique under b's file key without a
 * system call per chunk: the blob's random 128-bit prefix (new at every open)
 * and a 64-bit counter. Readers never interpret the nonce.
 */
static int blob_seal(struct vfs_blob *b, uint64_t index, const uint8_t plain[VFS_CHUNK_SIZE],
		     uint8_t ret_disk[VFS_CHUNK_DISK])
{
	memcpy(ret_disk, b->nonce_prefix, sizeof(b->nonce_prefix));
	put_le64(ret_disk + sizeof(b->nonce_prefix), b->nonce_seq++);
	return seal_in_place(b->data_key, b->object_id, index, plain, ret_disk);
}

int vfs_chunk_open(const uint8_t data_key[KT_KEY_BYTES],
		   const uint8_t object_id[KT_OBJECT_ID_BYTES], uint64_t index,
		   const uint8_t disk[VFS_CHUNK_DISK], uint8_t ret_plain[VFS_CHUNK_SIZE])
{
	uint8_t ad[KT_OBJECT_ID_BYTES + 8];
	unsigned long long plen;

	chunk_ad(object_id, index, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		ret_plain, &plen, NULL, disk + VFS_CHUNK_NONCE, VFS_CHUNK_DISK - VFS_CHUNK_NONCE,
		ad, sizeof(ad), disk, data_key) != 0) {
		sodium_memzero(ret_plain, VFS_CHUNK_SIZE);
		return -EBADMSG;
	}
	return 0;
}

/* A format 2 header: fields, then the MAC over them (docs/format.md §7). */
static void header_encode(const struct vfs_blob *b, uint64_t size, uint64_t counter,
			  uint8_t hdr[VFS_HEADER_BYTES])
{
	memcpy(hdr, HEADER_MAGIC, 4);
	hdr[4] = HEADER_V2;
	hdr[5] = VFS_CIPHER_XCHACHA20POLY1305;
	hdr[6] = VFS_CHUNK_SHIFT;
	hdr[7] = 0;
	memcpy(hdr + 8, b->object_id, KT_OBJECT_ID_BYTES);
	put_le64(hdr + 24, size);
	put_le64(hdr + 32, counter);
	crypto_generichash(hdr + HEADER_V2_FIELDS, HEADER_V2_MAC, hdr, HEADER_V2_FIELDS,
			   b->header_key, KT_KEY_BYTES);
}

/* Write a header with the given counter (b->counter is the caller's). */
static int header_put(struct vfs_blob *b, uint64_t size, uint64_t counter)
{
	uint8_t hdr[VFS_HEADER_BYTES];
	ssize_t n;

	header_encode(b, size, counter, hdr);
	n = kt_object_pwrite(&b->obj, hdr, sizeof(hdr), 0);
	if (n < 0)
		return (int)n;
	if (n != sizeof(hdr))
		return -EIO;
	b->header_size = size;
	b->changed = false;
	return 0;
}

/*
 * Rewrite the header after a change: the counter grows by one. It grows in
 * memory even when the write fails (the bytes may have reached the disk), so
 * no two different headers of this blob ever carry the same counter.
 */
static int header_write(struct vfs_blob *b, uint64_t size)
{
	if (b->counter >= VFS_BLOB_COUNTER_MAX)
		return -EOVERFLOW;
	b->counter++;
	return header_put(b, size, b->counter);
}

/* Check the header read from disk; on success set b->size and b->counter. */
static int header_verify(struct vfs_blob *b, const uint8_t hdr[VFS_HEADER_BYTES])
{
	uint8_t mac[HEADER_V1_MAC];
	size_t fields, mac_len;

	/* The version byte picks the layout; the MAC covers it, so a changed
	 * version fails the MAC of the layout it claims. */
	if (hdr[4] == HEADER_V1) {
		fields = HEADER_V1_FIELDS;
		mac_len = HEADER_V1_MAC;
	} else if (hdr[4] == HEADER_V2) {
		fields = HEADER_V2_FIELDS;
		mac_len = HEADER_V2_MAC;
	} else {
		return -EBADMSG;
	}
	crypto_generichash(mac, mac_len, hdr, fields, b->header_key, KT_KEY_BYTES);
	if (sodium_memcmp(mac, hdr + fields, mac_len) != 0)
		return -EBADMSG;
	if (memcmp(hdr, HEADER_MAGIC, 4) != 0 || hdr[5] != VFS_CIPHER_XCHACHA20POLY1305 ||
	    hdr[6] != VFS_CHUNK_SHIFT || hdr[7] != 0)
		return -EBADMSG;
	if (sodium_memcmp(hdr + 8, b->object_id, KT_OBJECT_ID_BYTES) != 0)
		return -EBADMSG;
	b->counter = hdr[4] == HEADER_V2 ? get_le64(hdr + 32) : 0;
	if (b->counter > VFS_BLOB_COUNTER_MAX)
		return -EBADMSG;
	b->size = get_le64(hdr + 24);
	b->header_size = b->size;
	return 0;
}

static struct vfs_blob *blob_new(const uint8_t object_id[KT_OBJECT_ID_BYTES],
				 const uint8_t file_key[KT_KEY_BYTES])
{
	struct vfs_blob *b = kt_secure_alloc(sizeof(*b));

	if (!b)
		return NULL;
	b->obj.store = NULL;
	memcpy(b->object_id, object_id, KT_OBJECT_ID_BYTES);
	kt_file_subkeys(file_key, b->data_key, b->header_key);
	b->size = 0;
	b->header_size = 0;
	b->counter = 0;
	b->changed = false;
	randombytes_buf(b->nonce_prefix, sizeof(b->nonce_prefix));
	b->nonce_seq = 0;
	return b;
}

int vfs_blob_lock_exclusive(struct vfs_blob *b)
{
	return kt_object_lock(&b->obj, true);
}

static void blob_free(struct vfs_blob *b)
{
	if (!b)
		return;
	kt_object_close(&b->obj);
	kt_secure_free(b);
}

/*
 * A new blob's object is in place: take the shared lock every open blob
 * holds (it waits while re-encryption holds the lock exclusively, which
 * lasts one file's copy), write the header with the first counter.
 */
static int finish_create(struct vfs_blob *b, struct kt_store *store, uint64_t counter,
			 struct vfs_blob **ret_blob)
{
	int r = counter > VFS_BLOB_COUNTER_MAX ? -EOVERFLOW : kt_object_lock(&b->obj, false);

	b->counter = counter;
	if (r == 0)
		r = header_put(b, 0, counter);
	if (r < 0) {
		uint8_t id[KT_OBJECT_ID_BYTES];

		memcpy(id, b->object_id, sizeof(id));
		blob_free(b);
		kt_store_remove(store, id);
		return r;
	}
	*ret_blob = b;
	return 0;
}

int vfs_blob_create(struct kt_store *store, const uint8_t object_id[KT_OBJECT_ID_BYTES],
		    const uint8_t file_key[KT_KEY_BYTES], uint64_t counter,
		    struct vfs_blob **ret_blob)
{
	struct vfs_blob *b = blob_new(object_id, file_key);
	int r;

	if (!b)
		return -ENOMEM;
	r = kt_object_create(store, object_id, &b->obj);
	if (r < 0) {
		blob_free(b);
		return r;
	}
	return finish_create(b, store, counter, ret_blob);
}

int vfs_blob_create_from(struct kt_store *store, int pool_fd, int fd,
			 const uint8_t object_id[KT_OBJECT_ID_BYTES],
			 const uint8_t file_key[KT_KEY_BYTES], struct vfs_blob **ret_blob)
{
	char name[2 * KT_OBJECT_ID_BYTES + 1];
	struct vfs_blob *b;
	int r;

	sodium_bin2hex(name, sizeof(name), object_id, KT_OBJECT_ID_BYTES);
	b = blob_new(object_id, file_key);
	if (!b) {
		close(fd);
		unlinkat(pool_fd, name, 0);
		return -ENOMEM;
	}
	r = kt_object_adopt(store, pool_fd, name, fd, object_id, &b->obj);
	if (r < 0) {
		blob_free(b);
		return r;
	}
	return finish_create(b, store, 0, ret_blob);
}

int vfs_blob_open(struct kt_store *store, const uint8_t object_id[KT_OBJECT_ID_BYTES],
		  const uint8_t file_key[KT_KEY_BYTES], uint64_t expected_counter,
		  struct vfs_blob **ret_blob)
{
	uint8_t hdr[VFS_HEADER_BYTES];
	struct vfs_blob *b;
	uint64_t length;
	ssize_t n;
	int r;

	b = blob_new(object_id, file_key);
	if (!b)
		return -ENOMEM;
	r = kt_object_open(store, object_id, &b->obj);
	if (r < 0) {
		/* A blob that vanished is damage to the vault, not a missing name. */
		if (r == -ENOENT)
			r = -EBADMSG;
		goto fail;
	}
	r = kt_object_lock(&b->obj, false);
	if (r < 0)
		goto fail;
	n = kt_object_pread(&b->obj, hdr, sizeof(hdr), 0);
	if (n < 0) {
		r = (int)n;
		goto fail;
	}
	if (n != sizeof(hdr)) {
		r = -EBADMSG;
		goto fail;
	}
	r = header_verify(b, hdr);
	if (r < 0)
		goto fail;
	if (b->counter < expected_counter) {
		r = -EBADMSG; /* an older copy of this blob: a rollback */
		goto fail;
	}
	r = kt_object_length(&b->obj, &length);
	if (r < 0)
		goto fail;
	if (length < (uint64_t)chunk_offset(chunk_count(b->size))) {
		r = -EBADMSG; /* truncated */
		goto fail;
	}
	*ret_blob = b;
	return 0;
fail:
	blob_free(b);
	return r;
}

struct vfs_blob *vfs_blob_close(struct vfs_blob *b, int *ret_err)
{
	int r = 0;

	if (b) {
		r = vfs_blob_sync(b, 0);
		blob_free(b);
	}
	if (ret_err)
		*ret_err = r;
	return NULL;
}

uint64_t vfs_blob_size(const struct vfs_blob *b)
{
	return b->size;
}

uint64_t vfs_blob_counter(const struct vfs_blob *b)
{
	return b->counter;
}

/* Read n whole chunks starting at index first into disk; -EBADMSG if short. */
static int read_chunks(struct vfs_blob *b, uint64_t first, uint64_t n, uint8_t *disk)
{
	size_t want = (size_t)n * VFS_CHUNK_DISK;
	size_t got = 0;

	while (got < want) {
		ssize_t r = kt_object_pread(&b->obj, disk + got, want - got,
					    (uint64_t)chunk_offset(first) + got);

		if (r < 0) {
			if (r == -EINTR)
				continue;
			return (int)r;
		}
		if (r == 0)
			return -EBADMSG; /* the blob ends before the header's size */
		got += (size_t)r;
	}
	return 0;
}

ssize_t vfs_blob_read(struct vfs_blob *b, void *buf, size_t len, uint64_t off)
{
	uint8_t plain[VFS_CHUNK_SIZE];
	uint64_t end, first, last, n;
	uint8_t *disk;
	uint8_t *out = buf;
	int r;

	if (off >= b->size || len == 0)
		return 0;
	end = off + len < b->size ? off + len : b->size;
	first = off >> VFS_CHUNK_SHIFT;
	last = (end - 1) >> VFS_CHUNK_SHIFT;
	n = last - first + 1;

	disk = scratch_get((size_t)n * VFS_CHUNK_DISK);
	if (!disk)
		return -ENOMEM;
	r = read_chunks(b, first, n, disk);
	if (r < 0)
		return r;

	for (uint64_t i = first; i <= last; i++) {
		uint64_t lo = i << VFS_CHUNK_SHIFT;
		uint64_t from = off > lo ? off - lo : 0;
		uint64_t to = end < lo + VFS_CHUNK_SIZE ? end - lo : VFS_CHUNK_SIZE;
		const uint8_t *src = disk + (i - first) * VFS_CHUNK_DISK;

		if (from == 0 && to == VFS_CHUNK_SIZE) {
			/* Whole chunk wanted: decrypt straight into the caller's buffer. */
			r = vfs_chunk_open(b->data_key, b->object_id, i, src, out + (lo - off));
			if (r < 0)
				goto fail;
		} else {
			r = vfs_chunk_open(b->data_key, b->object_id, i, src, plain);
			if (r < 0)
				goto fail;
			memcpy(out + (lo + from - off), plain + from, to - from);
		}
	}
	sodium_memzero(plain, sizeof(plain));
	return (ssize_t)(end - off);
fail:
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(buf, len); /* nothing unauthenticated is ever handed out */
	return r;
}

/*
 * Rewrite chunks so that [off, end) holds src (or zeros when src is NULL),
 * starting from the chunk holding the old end of file when writing past it,
 * so that the gap and any stale bytes past the old size become zeros.
 */
static int write_range(struct vfs_blob *b, const uint8_t *src, uint64_t off, uint64_t end)
{
	uint64_t old_size = b->size;
	uint64_t start = off < old_size ? off : old_size;
	uint64_t first = start >> VFS_CHUNK_SHIFT;
	uint64_t last = (end - 1) >> VFS_CHUNK_SHIFT;
	uint8_t plain[VFS_CHUNK_SIZE];
	int r = 0;

	/* Gaps are stored as encrypted zeros, not as holes: refuse up front a
	 * growth the disk cannot hold (truncate -s 1T), rather than fill it. */
	if (end - start > BIG_GROWTH_BYTES) {
		struct statvfs sv;
		uint64_t need = (last - first + 1) * (uint64_t)VFS_CHUNK_DISK;

		if (kt_store_space(b->obj.store, &sv) == 0 && sv.f_frsize &&
		    need / sv.f_frsize >= sv.f_bavail)
			return -ENOSPC;
	}

	for (uint64_t batch = first; batch <= last; batch += BATCH_CHUNKS) {
		uint64_t n = last - batch + 1 < BATCH_CHUNKS ? last - batch + 1 : BATCH_CHUNKS;
		uint8_t *disk = scratch_get((size_t)n * VFS_CHUNK_DISK);
		size_t want = (size_t)n * VFS_CHUNK_DISK, done = 0;

		if (!disk) {
			r = -ENOMEM;
			break;
		}
		b->changed = true; /* (before any chunk is written) */
		for (uint64_t i = batch; i < batch + n; i++) {
			uint64_t lo = i << VFS_CHUNK_SHIFT, hi = lo + VFS_CHUNK_SIZE;
			uint64_t old_hi = old_size < hi ? old_size : hi;
			uint64_t from = off > lo ? off : lo, to = end < hi ? end : hi;
			uint8_t *dst = disk + (i - batch) * VFS_CHUNK_DISK;

			memset(plain, 0, VFS_CHUNK_SIZE);
			/* Keep old bytes unless the write covers all of them. */
			if (lo < old_size && !(from <= lo && to >= old_hi)) {
				r = read_chunks(b, i, 1, dst);
				if (r == 0)
					r = vfs_chunk_open(b->data_key, b->object_id, i, dst,
							   plain);
				if (r < 0)
					goto out;
				if (old_hi < hi)
					memset(plain + (old_hi - lo), 0, hi - old_hi);
			}
			if (from < to) {
				if (src)
					memcpy(plain + (from - lo), src + (from - off), to - from);
				else
					memset(plain + (from - lo), 0, to - from);
			}
			r = blob_seal(b, i, plain, dst);
			if (r < 0)
				goto out;
		}
		while (done < want) {
			ssize_t w = kt_object_pwrite(&b->obj, disk + done, want - done,
						     (uint64_t)chunk_offset(batch) + done);

			if (w < 0) {
				if (w == -EINTR)
					continue;
				r = (int)w;
				goto out;
			}
			done += (size_t)w;
		}
	}
	if (end > b->size)
		b->size = end;
out:
	sodium_memzero(plain, sizeof(plain));
	return r;
}

ssize_t vfs_blob_write(struct vfs_blob *b, const void *buf, size_t len, uint64_t off)
{
	int r;

	if (len == 0)
		return 0;
	if (off + len < off)
		return -EFBIG;
	r = write_range(b, buf, off, off + len);
	return r < 0 ? r : (ssize_t)len;
}

int vfs_blob_truncate(struct vfs_blob *b, uint64_t size)
{
	int r;

	if (size == b->size)
		return 0;
	if (size < b->size) {
		/* Header first: from then on the chunks past size are ignored. */
		r = header_write(b, size);
		if (r < 0)
			return r;
		b->size = size;
		return kt_object_truncate(&b->obj, (uint64_t)chunk_offset(chunk_count(size)));
	}
	r = write_range(b, NULL, b->size, size);
	if (r < 0)
		return r;
	return header_write(b, size);
}

int vfs_blob_sync(struct vfs_blob *b, int data_sync)
{
	int r;

	if (b->changed || b->header_size != b->size) {
		r = header_write(b, b->size);
		if (r < 0)
			return r;
	}
	if (data_sync)
		return kt_object_datasync(&b->obj);
	return 0;
}
