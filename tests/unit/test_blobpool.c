/*
 * tests/unit/test_blobpool.c — empty blob files made ahead of time: the pool
 * fills itself, a taken file becomes a real blob in objects/ by rename, the
 * pool starts empty of a crash's leftovers and leaves nothing at stop; the
 * blobs of deleted files are removed behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "vaultfs/blobpool.h"
#include "keytool/chunk.h"
#include "keytool/store.h"
#include "tests/unit/testutil.h"

static char *vault;
static int objects_fd;
static struct kt_store *store;

static void setup(void)
{
	char path[4096];

	ck_assert_int_eq(kt_crypto_init(), 0);
	vault = tu_tmpdir();
	ck_assert_ptr_nonnull(vault);
	snprintf(path, sizeof(path), "%s/objects", vault);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	objects_fd = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(objects_fd, 0);
	ck_assert_int_eq(kt_store_open(vault, &store), 0);
}

static void teardown(void)
{
	store = kt_store_close(store);
	close(objects_fd);
	tu_rmrf(vault);
	free(vault);
}

static bool exists(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", vault, rel);
	return access(path, F_OK) == 0;
}

/* Take a file, waiting a little for the thread to make one. */
static int take(struct vfs_blobpool *p, uint8_t id[KT_OBJECT_ID_BYTES], int *fd)
{
	for (int i = 0; i < 2000; i++) {
		if (vfs_blobpool_take(p, id, fd) == 0)
			return 0;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return -EAGAIN;
}

START_TEST(taken_file_becomes_a_blob)
{
	struct vfs_blobpool *p = NULL;
	struct vfs_blob *b = NULL;
	uint8_t id[KT_OBJECT_ID_BYTES], key[KT_KEY_BYTES], out[5];
	char hex[2 * KT_OBJECT_ID_BYTES + 1], rel[64 + KT_STORE_PATH_MAX];
	int fd, err = -1;

	randombytes_buf(key, sizeof(key));
	ck_assert_int_eq(vfs_blobpool_start(vault, store, &p), 0);
	ck_assert_int_eq(take(p, id, &fd), 0);
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	snprintf(rel, sizeof(rel), "pool/%s", hex);
	ck_assert(exists(rel));
	ck_assert_int_eq(vfs_blob_create_from(store, vfs_blobpool_fd(p), fd, id, key, &b), 0);
	ck_assert(!exists(rel)); /* moved, not copied */
	ck_assert_int_eq(vfs_blob_write(b, "hello", 5, 0), 5);
	vfs_blob_close(b, &err);
	ck_assert_int_eq(err, 0);
	/* a blob like any other: opens with its key, authenticates, reads back */
	ck_assert_int_eq(vfs_blob_open(store, id, key, 0, &b), 0);
	ck_assert_int_eq(vfs_blob_read(b, out, sizeof(out), 0), 5);
	ck_assert_mem_eq(out, "hello", 5);
	vfs_blob_close(b, NULL);
	ck_assert_int_eq(kt_store_remove(store, id), 0);
	ck_assert_ptr_null(vfs_blobpool_stop(p));
	ck_assert(!exists("pool"));
}
END_TEST

/* Many takes in a row: distinct ids, and the pool keeps refilling. */
START_TEST(refills_and_ids_differ)
{
	enum { N = 300 };
	struct vfs_blobpool *p = NULL;
	static uint8_t ids[N][KT_OBJECT_ID_BYTES];
	int fd;

	ck_assert_int_eq(vfs_blobpool_start(vault, store, &p), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(take(p, ids[i], &fd), 0);
		close(fd);
		for (int j = 0; j < i; j++)
			ck_assert(memcmp(ids[i], ids[j], KT_OBJECT_ID_BYTES) != 0);
	}
	vfs_blobpool_stop(p);
	ck_assert(!exists("pool"));
}
END_TEST

/*
 * Discarded blobs are removed by the thread, every one of them by the time
 * stop returns (or by the caller when the queue is full, as the daemon does);
 * a blob that is already gone is no error, and other blobs stay.
 */
START_TEST(discarded_blobs_are_removed)
{
	enum { N = 3000 };
	struct vfs_blobpool *p = NULL;
	static uint8_t ids[N][KT_OBJECT_ID_BYTES];
	uint8_t key[KT_KEY_BYTES], keep[KT_OBJECT_ID_BYTES], missing[KT_OBJECT_ID_BYTES];
	char rel[KT_STORE_PATH_MAX];
	struct vfs_blob *b;
	int inline_removals = 0;

	randombytes_buf(key, sizeof(key));
	for (int i = 0; i <= N; i++) {
		uint8_t *id = i < N ? ids[i] : keep;

		randombytes_buf(id, KT_OBJECT_ID_BYTES);
		ck_assert_int_eq(vfs_blob_create(store, id, key, 0, &b), 0);
		vfs_blob_close(b, NULL);
	}
	randombytes_buf(missing, sizeof(missing));
	ck_assert_int_eq(vfs_blobpool_start(vault, store, &p), 0);
	ck_assert_int_eq(vfs_blobpool_discard(p, missing), 0);
	for (int i = 0; i < N; i++) {
		if (vfs_blobpool_discard(p, ids[i]) < 0) {
			ck_assert_int_eq(kt_store_remove(store, ids[i]), 0);
			inline_removals++;
		}
	}
	vfs_blobpool_stop(p);
	ck_assert_msg(inline_removals < N, "the queue took none of %d blobs", N);
	for (int i = 0; i < N; i++) {
		kt_store_local_path(ids[i], rel);
		ck_assert_msg(faccessat(objects_fd, rel, F_OK, 0) < 0 && errno == ENOENT,
			      "blob %d of %d still there (%d removed inline)", i, N,
			      inline_removals);
	}
	kt_store_local_path(keep, rel);
	ck_assert_int_eq(faccessat(objects_fd, rel, F_OK, 0), 0);
	ck_assert(!exists("pool"));
}
END_TEST

/* What a crash left in pool/ is removed at start; objects/ is not touched. */
START_TEST(leftovers_removed_at_start)
{
	struct vfs_blobpool *p = NULL;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pool", vault);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/pool/00112233445566778899aabbccddeeff", vault);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/objects/keep", vault);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(vfs_blobpool_start(vault, store, &p), 0);
	ck_assert(!exists("pool/00112233445566778899aabbccddeeff"));
	ck_assert(exists("objects/keep"));
	vfs_blobpool_stop(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blobpool");
	TCase *tc = tcase_create("pool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, taken_file_becomes_a_blob);
	tcase_add_test(tc, refills_and_ids_differ);
	tcase_add_test(tc, leftovers_removed_at_start);
	tcase_add_test(tc, discarded_blobs_are_removed);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
