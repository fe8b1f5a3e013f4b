/*
 * tests/unit/test_chunk.c — content blobs: roundtrips at every offset shape,
 * sparse growth, truncation, the write counter, and attacks on the stored
 * bytes (flipped bits, moved and swapped chunks, swapped blobs, truncation,
 * wrong key, an older copy of the blob put back).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/chunk.h"
#include "keytool/store.h"
#include "tests/unit/testutil.h"

static char *dir;      /* the vault directory */
static int objects_fd; /* its objects/, for the attacks */
static struct kt_store *store;
static uint8_t key_a[KT_KEY_BYTES], key_b[KT_KEY_BYTES];
static uint8_t id_a[KT_OBJECT_ID_BYTES], id_b[KT_OBJECT_ID_BYTES];

/* dir/objects and the store on it. */
static int open_store(void)
{
	char *path = NULL;

	if (asprintf(&path, "%s/objects", dir) < 0 || mkdir(path, 0700) < 0)
		return -1;
	objects_fd = open(path, O_RDONLY | O_DIRECTORY);
	free(path);
	return objects_fd < 0 ? -1 : kt_store_open(dir, &store);
}

static void setup(void)
{
	ck_assert_int_eq(kt_crypto_init(), 0);
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(open_store(), 0);
	randombytes_buf(key_a, sizeof(key_a));
	randombytes_buf(key_b, sizeof(key_b));
	randombytes_buf(id_a, sizeof(id_a));
	randombytes_buf(id_b, sizeof(id_b));
}

static void teardown(void)
{
	store = kt_store_close(store);
	close(objects_fd);
	tu_rmrf(dir);
	free(dir);
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 12)) & 0xff);
}

/* Path of a blob's file on disk (for the attacks). */
static char *blob_path(const uint8_t id[KT_OBJECT_ID_BYTES])
{
	char rel[KT_STORE_PATH_MAX], *p = NULL;

	kt_store_local_path(id, rel);
	if (asprintf(&p, "%s/objects/%s", dir, rel) < 0)
		abort();
	return p;
}

/* Make a closed blob with len bytes of pattern seed. */
static void make_blob(const uint8_t id[KT_OBJECT_ID_BYTES], const uint8_t key[KT_KEY_BYTES],
		      size_t len, unsigned seed)
{
	struct vfs_blob *b = NULL;
	uint8_t *buf = malloc(len ? len : 1);
	int err = -1;

	fill_pattern(buf, len, seed);
	ck_assert_int_eq(vfs_blob_create(store, id, key, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, buf, len, 0), (ssize_t)len);
	vfs_blob_close(b, &err);
	ck_assert_int_eq(err, 0);
	free(buf);
}

/* Open and read everything; returns the read result (bytes or -errno). */
static ssize_t read_all(const uint8_t id[KT_OBJECT_ID_BYTES], const uint8_t key[KT_KEY_BYTES],
			uint8_t *buf, size_t len)
{
	struct vfs_blob *b = NULL;
	ssize_t n;
	int r = vfs_blob_open(store, id, key, 0, &b);

	if (r < 0)
		return r;
	n = vfs_blob_read(b, buf, len, 0);
	vfs_blob_close(b, NULL);
	return n;
}

static void patch_file(const char *path, off_t off, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, data, len, off), (ssize_t)len);
	close(fd);
}

static void read_file_at(const char *path, off_t off, void *data, size_t len)
{
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, data, len, off), (ssize_t)len);
	close(fd);
}

START_TEST(test_roundtrip_sizes)
{
	static const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 8192, 12345, 200000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		uint8_t *want = malloc(len + 1), *got = malloc(len + 100);
		struct stat st;
		char *p;

		randombytes_buf(id_a, sizeof(id_a));
		make_blob(id_a, key_a, len, (unsigned)i);
		fill_pattern(want, len, (unsigned)i);
		ck_assert_int_eq(read_all(id_a, key_a, got, len + 100), (ssize_t)len);
		ck_assert_mem_eq(want, got, len);
		/* Layout is pinned: header + whole chunks. */
		p = blob_path(id_a);
		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_eq(st.st_size,
				 VFS_HEADER_BYTES + ((len + VFS_CHUNK_SIZE - 1) / VFS_CHUNK_SIZE) *
							VFS_CHUNK_DISK);
		free(p);
		free(want);
		free(got);
	}
}
END_TEST

START_TEST(test_random_writes_match_model)
{
	enum { MAX = 64 * 1024 };
	uint8_t *model = calloc(1, MAX), *buf = malloc(MAX), *got = malloc(MAX);
	struct vfs_blob *b = NULL;
	uint64_t size = 0;

	ck_assert_int_eq(vfs_blob_create(store, id_a, key_a, 0, &b), 0);
	for (int round = 0; round < 400; round++) {
		uint32_t off = randombytes_uniform(MAX - 1);
		uint32_t len = 1 + randombytes_uniform(MAX - off - 1);

		if (randombytes_uniform(8) == 0) {
			/* truncate to a random size, down or up */
			uint32_t ns = randombytes_uniform(MAX);

			ck_assert_int_eq(vfs_blob_truncate(b, ns), 0);
			if (ns < size)
				memset(model + ns, 0, size - ns);
			size = ns;
			continue;
		}
		randombytes_buf(buf, len);
		ck_assert_int_eq(vfs_blob_write(b, buf, len, off), (ssize_t)len);
		memcpy(model + off, buf, len);
		if (off + len > size)
			size = off + len;
		ck_assert_uint_eq(vfs_blob_size(b), size);
		if (round % 50 == 0) {
			/* close and reopen: the header must carry the size */
			int err = -1;

			vfs_blob_close(b, &err);
			ck_assert_int_eq(err, 0);
			ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 0, &b), 0);
			ck_assert_uint_eq(vfs_blob_size(b), size);
		}
		{
			uint32_t roff = randombytes_uniform(MAX);
			uint32_t rlen = randombytes_uniform(MAX - roff) + 1;
			ssize_t want =
			    roff >= size
				? 0
				: (ssize_t)((roff + rlen > size ? size : roff + rlen) - roff);

			ck_assert_int_eq(vfs_blob_read(b, got, rlen, roff), want);
			ck_assert_mem_eq(got, model + roff, (size_t)want);
		}
	}
	vfs_blob_close(b, NULL);
	free(model);
	free(buf);
	free(got);
}
END_TEST

START_TEST(test_sparse_gap_reads_zero)
{
	uint8_t data[10] = "0123456789", got[4096 * 3];
	struct vfs_blob *b = NULL;
	uint8_t zeros[sizeof(got)] = {0};

	ck_assert_int_eq(vfs_blob_create(store, id_a, key_a, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, data, 10, 0), 10);
	ck_assert_int_eq(vfs_blob_write(b, data, 10, 1 << 20), 10);
	ck_assert_uint_eq(vfs_blob_size(b), (1 << 20) + 10);
	ck_assert_int_eq(vfs_blob_read(b, got, sizeof(got), 10), sizeof(got));
	ck_assert_mem_eq(got, zeros, sizeof(got));
	ck_assert_int_eq(vfs_blob_read(b, got, 10, 1 << 20), 10);
	ck_assert_mem_eq(got, data, 10);
	vfs_blob_close(b, NULL);
}
END_TEST

START_TEST(test_truncate_down_then_up_zeroes)
{
	uint8_t buf[9000], got[9000];
	struct vfs_blob *b = NULL;

	fill_pattern(buf, sizeof(buf), 3);
	ck_assert_int_eq(vfs_blob_create(store, id_a, key_a, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, buf, sizeof(buf), 0), sizeof(buf));
	ck_assert_int_eq(vfs_blob_truncate(b, 5000), 0);
	ck_assert_int_eq(vfs_blob_truncate(b, 9000), 0);
	ck_assert_int_eq(vfs_blob_read(b, got, sizeof(got), 0), sizeof(got));
	ck_assert_mem_eq(got, buf, 5000);
	for (size_t i = 5000; i < sizeof(got); i++)
		ck_assert_uint_eq(got[i], 0);
	vfs_blob_close(b, NULL);
}
END_TEST

/* A shrinking truncate interrupted after the header (file not cut yet) must
 * still read correctly: stale chunks beyond the size are ignored. */
START_TEST(test_interrupted_shrink_is_consistent)
{
	uint8_t buf[20000], got[20000];
	struct vfs_blob *b = NULL;
	char *p;
	uint8_t hdr[VFS_HEADER_BYTES];
	int fd;

	fill_pattern(buf, sizeof(buf), 5);
	make_blob(id_a, key_a, sizeof(buf), 5);
	p = blob_path(id_a);
	/* Keep a copy of the full blob, shrink, then put the tail back. */
	fd = open(p, O_RDONLY);
	{
		struct stat st;
		uint8_t *full;

		fstat(fd, &st);
		full = malloc(st.st_size);
		ck_assert_int_eq(pread(fd, full, st.st_size, 0), st.st_size);
		close(fd);
		ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 0, &b), 0);
		ck_assert_int_eq(vfs_blob_truncate(b, 6000), 0);
		vfs_blob_close(b, NULL);
		read_file_at(p, 0, hdr, sizeof(hdr));
		memcpy(full, hdr, sizeof(hdr)); /* new header, old chunks */
		fd = open(p, O_WRONLY | O_TRUNC);
		ck_assert_int_eq(write(fd, full, st.st_size), st.st_size);
		close(fd);
		free(full);
	}
	ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), 6000);
	ck_assert_mem_eq(got, buf, 6000);
	/* growing again must not resurrect the old bytes */
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_truncate(b, 12000), 0);
	ck_assert_int_eq(vfs_blob_read(b, got, 12000, 0), 12000);
	for (size_t i = 6000; i < 12000; i++)
		ck_assert_uint_eq(got[i], 0);
	vfs_blob_close(b, NULL);
	free(p);
}
END_TEST

START_TEST(test_attack_flip_every_region)
{
	/* Flip one bit in the header, in a nonce, in ciphertext and in a tag. */
	static const off_t where[] = {
	    0,
	    5,
	    10,
	    24,
	    32, /* write counter */
	    39,
	    40,					      /* MAC */
	    63,					      /* header */
	    VFS_HEADER_BYTES + 3,		      /* nonce of chunk 0 */
	    VFS_HEADER_BYTES + 100,		      /* ciphertext of chunk 0 */
	    VFS_HEADER_BYTES + VFS_CHUNK_DISK - 1,    /* tag of chunk 0 */
	    VFS_HEADER_BYTES + VFS_CHUNK_DISK + 2000, /* chunk 1 */
	};
	uint8_t got[10000];

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		uint8_t byte;
		char *p;

		randombytes_buf(id_a, sizeof(id_a));
		make_blob(id_a, key_a, 9000, 1);
		p = blob_path(id_a);
		read_file_at(p, where[i], &byte, 1);
		byte ^= 0x01;
		patch_file(p, where[i], &byte, 1);
		memset(got, 0xAA, sizeof(got));
		ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), -EBADMSG);
		/* nothing unauthenticated is handed out */
		for (size_t j = 0; j < 9000; j++)
			ck_assert(got[j] == 0 || got[j] == 0xAA);
		free(p);
	}
}
END_TEST

START_TEST(test_attack_swap_chunks_within_file)
{
	uint8_t c0[VFS_CHUNK_DISK], c1[VFS_CHUNK_DISK], got[8192];
	char *p;

	make_blob(id_a, key_a, 8192, 2);
	p = blob_path(id_a);
	read_file_at(p, VFS_HEADER_BYTES, c0, sizeof(c0));
	read_file_at(p, VFS_HEADER_BYTES + VFS_CHUNK_DISK, c1, sizeof(c1));
	patch_file(p, VFS_HEADER_BYTES, c1, sizeof(c1));
	patch_file(p, VFS_HEADER_BYTES + VFS_CHUNK_DISK, c0, sizeof(c0));
	ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), -EBADMSG);
	free(p);
}
END_TEST

START_TEST(test_attack_move_chunk_between_files_same_key)
{
	/* Even with the same file key, the object id in the AD binds a chunk. */
	uint8_t c[VFS_CHUNK_DISK], got[8192];
	char *pa, *pb;

	make_blob(id_a, key_a, 8192, 2);
	make_blob(id_b, key_a, 8192, 3);
	pa = blob_path(id_a);
	pb = blob_path(id_b);
	read_file_at(pb, VFS_HEADER_BYTES, c, sizeof(c));
	patch_file(pa, VFS_HEADER_BYTES, c, sizeof(c));
	ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), -EBADMSG);
	free(pa);
	free(pb);
}
END_TEST

START_TEST(test_attack_swap_blobs)
{
	uint8_t got[8192];
	char *pa, *pb, *tmp = NULL;

	make_blob(id_a, key_a, 5000, 2);
	make_blob(id_b, key_b, 5000, 3);
	pa = blob_path(id_a);
	pb = blob_path(id_b);
	ck_assert_int_ge(asprintf(&tmp, "%s.tmp", pa), 0);
	ck_assert_int_eq(rename(pa, tmp), 0);
	ck_assert_int_eq(rename(pb, pa), 0);
	ck_assert_int_eq(rename(tmp, pb), 0);
	ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), -EBADMSG);
	ck_assert_int_eq(read_all(id_b, key_b, got, sizeof(got)), -EBADMSG);
	/* and with the keys swapped too (header names the other object id) */
	ck_assert_int_eq(read_all(id_a, key_b, got, sizeof(got)), -EBADMSG);
	free(pa);
	free(pb);
	free(tmp);
}
END_TEST

START_TEST(test_attack_truncate_blob)
{
	static const off_t cuts[] = {0, 10, VFS_HEADER_BYTES, VFS_HEADER_BYTES + VFS_CHUNK_DISK,
				     VFS_HEADER_BYTES + VFS_CHUNK_DISK + 17};
	uint8_t got[9000];

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char *p;

		randombytes_buf(id_a, sizeof(id_a));
		make_blob(id_a, key_a, 9000, 4);
		p = blob_path(id_a);
		ck_assert_int_eq(truncate(p, cuts[i]), 0);
		ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), -EBADMSG);
		free(p);
	}
}
END_TEST

START_TEST(test_attack_wrong_key)
{
	uint8_t got[100];

	make_blob(id_a, key_a, 100, 1);
	ck_assert_int_eq(read_all(id_a, key_b, got, sizeof(got)), -EBADMSG);
}
END_TEST

START_TEST(test_missing_blob_is_damage)
{
	uint8_t got[10];

	ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), -EBADMSG);
}
END_TEST

/* Nonces never repeat under a file key: within one open (counter), and
 * across opens (a new random prefix). */
START_TEST(test_nonces_unique)
{
	uint8_t buf[3 * VFS_CHUNK_SIZE], nonces[6][VFS_CHUNK_NONCE];
	struct vfs_blob *b = NULL;
	char *p;

	fill_pattern(buf, sizeof(buf), 7);
	ck_assert_int_eq(vfs_blob_create(store, id_a, key_a, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, buf, sizeof(buf), 0), sizeof(buf));
	vfs_blob_close(b, NULL);
	p = blob_path(id_a);
	for (int i = 0; i < 3; i++)
		read_file_at(p, VFS_HEADER_BYTES + i * VFS_CHUNK_DISK, nonces[i], VFS_CHUNK_NONCE);
	/* rewrite the same three chunks after a reopen */
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, buf, sizeof(buf), 0), sizeof(buf));
	vfs_blob_close(b, NULL);
	for (int i = 0; i < 3; i++)
		read_file_at(p, VFS_HEADER_BYTES + i * VFS_CHUNK_DISK, nonces[3 + i],
			     VFS_CHUNK_NONCE);
	for (int i = 0; i < 6; i++)
		for (int j = i + 1; j < 6; j++)
			ck_assert(memcmp(nonces[i], nonces[j], VFS_CHUNK_NONCE) != 0);
	free(p);
}
END_TEST

static int cmp_nonce(const void *a, const void *b)
{
	return memcmp(a, b, VFS_CHUNK_NONCE);
}

/*
 * Long writes (up to 1 MiB, the largest FUSE write): content at every shape
 * of offset, and every chunk's nonce distinct across a whole file rewritten
 * through two opens.
 */
START_TEST(test_long_writes)
{
	enum { MAX = 1 << 20, N = 2 * (MAX / VFS_CHUNK_SIZE) };
	static const uint32_t offs[] = {0, 5000, 4096 * 3, 777777};
	static const uint32_t lens[] = {MAX, 300000, 65536, 200001};
	uint8_t *model = calloc(1, MAX + 4096), *buf = malloc(MAX), *got = malloc(MAX + 4096);
	uint8_t(*nonces)[VFS_CHUNK_NONCE] = malloc(N * sizeof(*nonces));
	struct vfs_blob *b = NULL;
	uint64_t size = 0;
	char *p;

	ck_assert_int_eq(vfs_blob_create(store, id_a, key_a, 0, &b), 0);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint32_t off = offs[i], len = lens[i];

		if (off + len > MAX)
			len = MAX - off;
		randombytes_buf(buf, len);
		ck_assert_int_eq(vfs_blob_write(b, buf, len, off), (ssize_t)len);
		memcpy(model + off, buf, len);
		if (off + len > size)
			size = off + len;
		ck_assert_int_eq(vfs_blob_read(b, got, MAX, 0), (ssize_t)size);
		ck_assert_mem_eq(got, model, size);
	}
	vfs_blob_close(b, NULL);
	ck_assert_int_eq(read_all(id_a, key_a, got, MAX + 4096), (ssize_t)size);
	ck_assert_mem_eq(got, model, size);
	/* the whole file twice, once per open: 512 chunks, 512 nonces */
	p = blob_path(id_a);
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 0, &b), 0);
		ck_assert_int_eq(vfs_blob_write(b, model, MAX, 0), MAX);
		vfs_blob_close(b, NULL);
		for (int i = 0; i < N / 2; i++)
			read_file_at(p, VFS_HEADER_BYTES + (off_t)i * VFS_CHUNK_DISK,
				     nonces[round * (N / 2) + i], VFS_CHUNK_NONCE);
	}
	qsort(nonces, N, sizeof(*nonces), cmp_nonce);
	for (int i = 1; i < N; i++)
		ck_assert(memcmp(nonces[i - 1], nonces[i], VFS_CHUNK_NONCE) != 0);
	free(p);
	free(nonces);
	free(model);
	free(buf);
	free(got);
}
END_TEST

struct writer {
	uint8_t id[KT_OBJECT_ID_BYTES];
	unsigned seed;
	bool ok;
};

static void *long_writer(void *arg)
{
	enum { LEN = 512 * 1024 };
	struct writer *w = arg;
	uint8_t *buf = malloc(LEN), *got = malloc(LEN);
	struct vfs_blob *b = NULL;

	w->ok = buf && got && vfs_blob_create(store, w->id, key_a, 0, &b) == 0;
	fill_pattern(buf, LEN, w->seed);
	for (int i = 0; w->ok && i < 20; i++)
		w->ok = vfs_blob_write(b, buf, LEN, (uint64_t)i * LEN) == LEN;
	for (int i = 0; w->ok && i < 20; i++)
		w->ok = vfs_blob_read(b, got, LEN, (uint64_t)i * LEN) == LEN &&
			memcmp(got, buf, LEN) == 0;
	vfs_blob_close(b, NULL);
	free(buf);
	free(got);
	return NULL;
}

/* Four threads writing long runs to four blobs at once: each reads back. */
START_TEST(test_long_writes_concurrent)
{
	struct writer w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		randombytes_buf(w[i].id, sizeof(w[i].id));
		w[i].seed = (unsigned)i + 1;
		ck_assert_int_eq(pthread_create(&t[i], NULL, long_writer, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(w[i].ok, "writer %d", i);
	}
}
END_TEST

/* A growth the disk cannot hold is refused before anything is written. */
START_TEST(test_huge_growth_refused)
{
	struct vfs_blob *b = NULL;
	uint8_t x = 1;

	ck_assert_int_eq(vfs_blob_create(store, id_a, key_a, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, &x, 1, 0), 1);
	ck_assert_int_eq(vfs_blob_truncate(b, 1ull << 50), -ENOSPC);
	ck_assert_uint_eq(vfs_blob_size(b), 1);
	ck_assert_int_eq(vfs_blob_write(b, &x, 1, 1ull << 50), -ENOSPC);
	ck_assert_uint_eq(vfs_blob_size(b), 1);
	vfs_blob_close(b, NULL);
}
END_TEST

START_TEST(test_chunk_seal_binds_index)
{
	uint8_t plain[VFS_CHUNK_SIZE], disk[VFS_CHUNK_DISK], out[VFS_CHUNK_SIZE];

	fill_pattern(plain, sizeof(plain), 9);
	ck_assert_int_eq(vfs_chunk_seal(key_a, id_a, 7, plain, disk), 0);
	ck_assert_int_eq(vfs_chunk_open(key_a, id_a, 7, disk, out), 0);
	ck_assert_mem_eq(plain, out, sizeof(out));
	ck_assert_int_eq(vfs_chunk_open(key_a, id_a, 8, disk, out), -EBADMSG);
	ck_assert_int_eq(vfs_chunk_open(key_a, id_b, 7, disk, out), -EBADMSG);
	ck_assert_int_eq(vfs_chunk_open(key_b, id_a, 7, disk, out), -EBADMSG);
	/* the plaintext never appears in the sealed chunk */
	ck_assert(memmem(disk, sizeof(disk), plain + 100, 64) == NULL);
}
END_TEST

/* The write counter in a blob's header on disk (format 2: bytes 32..39). */
static uint64_t header_counter(const uint8_t id[KT_OBJECT_ID_BYTES])
{
	uint8_t hdr[VFS_HEADER_BYTES];
	uint64_t c = 0;
	char *p = blob_path(id);

	read_file_at(p, 0, hdr, sizeof(hdr));
	free(p);
	ck_assert_uint_eq(hdr[4], 2);
	for (int i = 7; i >= 0; i--)
		c = (c << 8) | hdr[32 + i];
	return c;
}

/* The counter is in the header, grows with each header written after a
 * change (writes, same-size rewrites, truncates), and not otherwise. */
START_TEST(test_counter_in_header)
{
	uint8_t buf[9000], got[9000];
	struct vfs_blob *b = NULL;
	int err = -1;

	fill_pattern(buf, sizeof(buf), 11);
	ck_assert_int_eq(vfs_blob_create(store, id_a, key_a, 0, &b), 0);
	ck_assert_uint_eq(vfs_blob_counter(b), 0);
	ck_assert_uint_eq(header_counter(id_a), 0);
	ck_assert_int_eq(vfs_blob_write(b, buf, sizeof(buf), 0), sizeof(buf));
	ck_assert_uint_eq(vfs_blob_counter(b), 0); /* not before the header is written */
	ck_assert_int_eq(vfs_blob_sync(b, 0), 0);
	ck_assert_uint_eq(vfs_blob_counter(b), 1);
	ck_assert_uint_eq(header_counter(id_a), 1);
	ck_assert_int_eq(vfs_blob_sync(b, 0), 0); /* nothing changed: nothing written */
	ck_assert_uint_eq(header_counter(id_a), 1);
	/* same size, other content: the size alone would not show it */
	buf[5] ^= 1;
	ck_assert_int_eq(vfs_blob_write(b, buf, 10, 0), 10);
	vfs_blob_close(b, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(header_counter(id_a), 2);
	/* an open that only reads writes nothing */
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 2, &b), 0);
	ck_assert_uint_eq(vfs_blob_counter(b), 2);
	ck_assert_int_eq(vfs_blob_read(b, got, sizeof(got), 0), sizeof(got));
	ck_assert_mem_eq(got, buf, sizeof(got));
	vfs_blob_close(b, &err);
	ck_assert_uint_eq(header_counter(id_a), 2);
	/* truncates: shrinking, growing, each a header of its own */
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 2, &b), 0);
	ck_assert_int_eq(vfs_blob_truncate(b, 100), 0);
	ck_assert_uint_eq(header_counter(id_a), 3);
	ck_assert_int_eq(vfs_blob_truncate(b, 5000), 0);
	ck_assert_uint_eq(header_counter(id_a), 4);
	ck_assert_int_eq(vfs_blob_truncate(b, 5000), 0); /* no change */
	vfs_blob_close(b, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(header_counter(id_a), 4);
	/* a new blob may start from a given counter (re-encryption's copy) */
	ck_assert_int_eq(vfs_blob_create(store, id_b, key_b, 41, &b), 0);
	ck_assert_uint_eq(header_counter(id_b), 41);
	ck_assert_int_eq(vfs_blob_write(b, buf, 1, 0), 1);
	vfs_blob_close(b, &err);
	ck_assert_uint_eq(header_counter(id_b), 42);
	ck_assert_int_eq(vfs_blob_open(store, id_b, key_b, 42, &b), 0);
	vfs_blob_close(b, NULL);
}
END_TEST

/*
 * The attack: keep a copy of a blob, let the file be written again, put the
 * copy back (same object id, same key, authentic header and chunks). An open
 * expecting the newer counter refuses it; one expecting less (a crash left
 * the node behind the header) accepts a newer header.
 */
START_TEST(test_attack_rollback_refused)
{
	uint8_t v1[6000], v2[6000], got[6000];
	struct vfs_blob *b = NULL;
	struct stat st;
	uint8_t *old;
	char *p;
	int fd;

	fill_pattern(v1, sizeof(v1), 1);
	fill_pattern(v2, sizeof(v2), 2);
	make_blob(id_a, key_a, sizeof(v1), 1);
	ck_assert_uint_eq(header_counter(id_a), 1);
	p = blob_path(id_a);
	ck_assert_int_eq(stat(p, &st), 0);
	old = malloc(st.st_size);
	read_file_at(p, 0, old, st.st_size);
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 1, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, v2, sizeof(v2), 0), sizeof(v2));
	vfs_blob_close(b, NULL);
	ck_assert_uint_eq(header_counter(id_a), 2);
	/* the old copy goes back */
	fd = open(p, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, old, st.st_size), st.st_size);
	close(fd);
	b = NULL;
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 2, &b), -EBADMSG);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, UINT64_MAX, &b), -EBADMSG);
	/* it is authentic: only the counter gives it away */
	ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), sizeof(v1));
	ck_assert_mem_eq(got, v1, sizeof(v1));
	/* a header ahead of the expectation is accepted (crash before the row) */
	ck_assert_int_eq(vfs_blob_open(store, id_a, key_a, 0, &b), 0);
	ck_assert_uint_eq(vfs_blob_counter(b), 1);
	vfs_blob_close(b, NULL);
	free(old);
	free(p);
}
END_TEST

/* A header's version byte set from 2 back to 1 (to drop the counter) fails
 * the MAC of the layout it claims. */
START_TEST(test_attack_version_downgrade)
{
	uint8_t one = 1, got[100];
	char *p;

	make_blob(id_a, key_a, 100, 1);
	p = blob_path(id_a);
	patch_file(p, 4, &one, 1);
	ck_assert_int_eq(read_all(id_a, key_a, got, sizeof(got)), -EBADMSG);
	free(p);
}
END_TEST

/* Load a golden blob vector: its file key, object id, plaintext and blob,
 * the blob put in place in the store. */
static void load_vector(const char *name, uint8_t key[KT_KEY_BYTES], uint8_t id[KT_OBJECT_ID_BYTES],
			uint8_t **ret_plain, size_t *ret_plain_len, uint8_t **ret_blob,
			size_t *ret_blob_len)
{
	const char *vectors = getenv("VAULTFS_VECTORS");
	char *path = NULL;
	static char line[65536];
	uint8_t *blob = NULL, *plain = NULL;
	size_t blob_len = 0, plain_len = 0;
	FILE *f;

	ck_assert_ptr_nonnull(vectors);
	ck_assert_int_ge(asprintf(&path, "%s/%s", vectors, name), 0);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "missing %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		size_t n;

		if (line[0] == '#' || !eq)
			continue;
		*eq++ = '\0';
		eq[strcspn(eq, "\n")] = '\0';
		n = strlen(eq) / 2;
		if (strcmp(line, "file_key") == 0)
			sodium_hex2bin(key, KT_KEY_BYTES, eq, strlen(eq), NULL, NULL, NULL);
		else if (strcmp(line, "object_id") == 0)
			sodium_hex2bin(id, KT_OBJECT_ID_BYTES, eq, strlen(eq), NULL, NULL, NULL);
		else if (strcmp(line, "plaintext") == 0) {
			plain = malloc(n + 1);
			sodium_hex2bin(plain, n, eq, strlen(eq), NULL, &plain_len, NULL);
		} else if (strcmp(line, "blob") == 0) {
			blob = malloc(n + 1);
			sodium_hex2bin(blob, n, eq, strlen(eq), NULL, &blob_len, NULL);
		}
	}
	fclose(f);
	free(path);
	ck_assert_ptr_nonnull(blob);
	ck_assert_ptr_nonnull(plain);
	{
		char rel[KT_STORE_PATH_MAX], *p = NULL;
		int fd;

		kt_store_local_path(id, rel);
		rel[2] = '\0';
		mkdirat(objects_fd, rel, 0700);
		rel[2] = '/';
		ck_assert_int_ge(asprintf(&p, "%s/objects/%s", dir, rel), 0);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(write(fd, blob, blob_len), (ssize_t)blob_len);
		close(fd);
		free(p);
	}
	*ret_plain = plain;
	*ret_plain_len = plain_len;
	*ret_blob = blob;
	*ret_blob_len = blob_len;
}

/* Golden vector: a blob of format 2 (counter 1: created, written, closed). */
START_TEST(test_golden_blob_v2)
{
	uint8_t key[KT_KEY_BYTES], id[KT_OBJECT_ID_BYTES], *blob, *plain, got[8192];
	size_t blob_len, plain_len;
	struct vfs_blob *b = NULL;

	load_vector("blob-v2.txt", key, id, &plain, &plain_len, &blob, &blob_len);
	/* The pinned layout: magic, version, cipher, shift, id, size, counter. */
	ck_assert_mem_eq(blob, "VFSO\x02\x01\x0c\x00", 8);
	ck_assert_mem_eq(blob + 8, id, KT_OBJECT_ID_BYTES);
	ck_assert_uint_eq(blob[24], plain_len & 0xff);
	ck_assert_mem_eq(blob + 32, "\x01\x00\x00\x00\x00\x00\x00\x00", 8);
	ck_assert_int_eq(read_all(id, key, got, sizeof(got)), (ssize_t)plain_len);
	ck_assert_mem_eq(got, plain, plain_len);
	ck_assert_int_eq(vfs_blob_open(store, id, key, 1, &b), 0);
	ck_assert_uint_eq(vfs_blob_counter(b), 1);
	vfs_blob_close(b, NULL);
	ck_assert_int_eq(vfs_blob_open(store, id, key, 2, &b), -EBADMSG);
	free(blob);
	free(plain);
}
END_TEST

/* Golden vector: a blob sealed by format 1 must keep opening, reads as
 * counter 0, and becomes format 2 (counter 1) when next written. */
START_TEST(test_golden_blob_v1)
{
	uint8_t key[KT_KEY_BYTES], id[KT_OBJECT_ID_BYTES], *blob = NULL, *plain = NULL, got[8192];
	size_t blob_len = 0, plain_len = 0;
	struct vfs_blob *b = NULL;
	int err = -1;

	load_vector("blob-v1.txt", key, id, &plain, &plain_len, &blob, &blob_len);
	/* The pinned layout: magic, version, cipher, shift, id, size. */
	ck_assert_mem_eq(blob, "VFSO\x01\x01\x0c\x00", 8);
	ck_assert_mem_eq(blob + 8, id, KT_OBJECT_ID_BYTES);
	ck_assert_uint_eq(blob[24], plain_len & 0xff);
	ck_assert_int_eq(read_all(id, key, got, sizeof(got)), (ssize_t)plain_len);
	ck_assert_mem_eq(got, plain, plain_len);
	ck_assert_int_eq(vfs_blob_open(store, id, key, 0, &b), 0);
	ck_assert_uint_eq(vfs_blob_counter(b), 0);
	vfs_blob_close(b, &err); /* nothing written: it stays format 1 */
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(vfs_blob_open(store, id, key, 1, &b), -EBADMSG);
	/* the next change writes a format 2 header, counter 1 */
	ck_assert_int_eq(vfs_blob_open(store, id, key, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_write(b, plain, 10, 0), 10);
	vfs_blob_close(b, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(header_counter(id), 1);
	ck_assert_int_eq(read_all(id, key, got, sizeof(got)), (ssize_t)plain_len);
	ck_assert_mem_eq(got, plain, plain_len);
	free(blob);
	free(plain);
}
END_TEST

static Suite *chunk_suite(void)
{
	Suite *s = suite_create("chunk");
	TCase *tc = tcase_create("blob");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roundtrip_sizes);
	tcase_add_test(tc, test_random_writes_match_model);
	tcase_add_test(tc, test_sparse_gap_reads_zero);
	tcase_add_test(tc, test_truncate_down_then_up_zeroes);
	tcase_add_test(tc, test_interrupted_shrink_is_consistent);
	tcase_add_test(tc, test_attack_flip_every_region);
	tcase_add_test(tc, test_attack_swap_chunks_within_file);
	tcase_add_test(tc, test_attack_move_chunk_between_files_same_key);
	tcase_add_test(tc, test_attack_swap_blobs);
	tcase_add_test(tc, test_attack_truncate_blob);
	tcase_add_test(tc, test_attack_wrong_key);
	tcase_add_test(tc, test_missing_blob_is_damage);
	tcase_add_test(tc, test_nonces_unique);
	tcase_add_test(tc, test_long_writes);
	tcase_add_test(tc, test_long_writes_concurrent);
	tcase_add_test(tc, test_huge_growth_refused);
	tcase_add_test(tc, test_chunk_seal_binds_index);
	tcase_add_test(tc, test_golden_blob_v1);
	tcase_add_test(tc, test_golden_blob_v2);
	tcase_add_test(tc, test_counter_in_header);
	tcase_add_test(tc, test_attack_rollback_refused);
	tcase_add_test(tc, test_attack_version_downgrade);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * `test_chunk --generate FILE` wrote tests/vectors/blob-v2.txt once (and, by
 * format 1 code, blob-v1.txt): a fixed key and object id, 5000 bytes of
 * pattern, and the blob the code produced (created, written, closed).
 */
static int generate(const char *out)
{
	uint8_t plain[5000];
	struct vfs_blob *b = NULL;
	char *p, hex[2 * 16384 + 1];
	uint8_t *blob;
	struct stat st;
	FILE *f;
	int fd;

	if (kt_crypto_init() < 0)
		return 1;
	for (size_t i = 0; i < KT_KEY_BYTES; i++)
		key_a[i] = (uint8_t)i;
	for (size_t i = 0; i < KT_OBJECT_ID_BYTES; i++)
		id_a[i] = (uint8_t)(0xa0 + i);
	fill_pattern(plain, sizeof(plain), 42);
	dir = tu_tmpdir();
	if (!dir || open_store() < 0 || vfs_blob_create(store, id_a, key_a, 0, &b) < 0 ||
	    vfs_blob_write(b, plain, sizeof(plain), 0) != sizeof(plain))
		return 1;
	vfs_blob_close(b, NULL);
	p = blob_path(id_a);
	fd = open(p, O_RDONLY);
	fstat(fd, &st);
	blob = malloc(st.st_size);
	if (pread(fd, blob, st.st_size, 0) != st.st_size)
		return 1;
	close(fd);
	f = fopen(out, "w");
	if (!f)
		return 1;
	fprintf(f, "# vaultfs content blob, format version 2 (docs/format.md section 7)\n");
	fprintf(f, "# made by: test_chunk --generate; opened by test_golden_blob_v2\n");
	fprintf(f, "file_key=%s\n", sodium_bin2hex(hex, sizeof(hex), key_a, KT_KEY_BYTES));
	fprintf(f, "object_id=%s\n", sodium_bin2hex(hex, sizeof(hex), id_a, KT_OBJECT_ID_BYTES));
	fprintf(f, "plaintext=%s\n", sodium_bin2hex(hex, sizeof(hex), plain, sizeof(plain)));
	fprintf(f, "blob=%s\n", sodium_bin2hex(hex, sizeof(hex), blob, (size_t)st.st_size));
	fclose(f);
	free(blob);
	free(p);
	teardown();
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "--generate") == 0)
		return generate(argv[2]);
	return tu_run(chunk_suite());
}
