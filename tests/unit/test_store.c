/*
 * tests/unit/test_store.c — the content store's local backend: objects made,
 * opened, adopted from a staging folder, removed and listed, with the
 * on-disk layout pinned (objects/XX/Y…, modes 0700 and 0600), and the hostile
 * cases: an existing target, a symlink planted in objects/, a missing shard
 * folder, names in objects/ that are not object ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/store.h"
#include "tests/unit/testutil.h"

static char *vault;
static struct kt_store *store;

static void setup(void)
{
	char path[4096];

	ck_assert_int_eq(kt_crypto_init(), 0);
	vault = tu_tmpdir();
	ck_assert_ptr_nonnull(vault);
	snprintf(path, sizeof(path), "%s/objects", vault);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(kt_store_open(vault, &store), 0);
}

static void teardown(void)
{
	store = kt_store_close(store);
	tu_rmrf(vault);
	free(vault);
}

/* VAULT/objects/<rel> (rel NULL: the object id's path). */
static void path_of(const uint8_t *id, const char *rel, char path[4096])
{
	char p[KT_STORE_PATH_MAX];

	if (id) {
		kt_store_local_path(id, p);
		rel = p;
	}
	snprintf(path, 4096, "%s/objects/%s", vault, rel);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void object_write(struct kt_object *o, const char *text)
{
	ck_assert_int_eq(kt_object_pwrite(o, text, strlen(text), 0), (ssize_t)strlen(text));
}

/* Open id and check it holds text. */
static void assert_holds(const uint8_t *id, const char *text)
{
	struct kt_object o = {0};
	char buf[64] = {0};
	uint64_t len;

	ck_assert_int_eq(kt_object_open(store, id, &o), 0);
	ck_assert_int_eq(kt_object_length(&o, &len), 0);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_int_eq(kt_object_pread(&o, buf, sizeof(buf), 0), (ssize_t)strlen(text));
	ck_assert_str_eq(buf, text);
	kt_object_close(&o);
}

START_TEST(layout_and_roundtrip)
{
	uint8_t id[KT_OBJECT_ID_BYTES];
	char rel[KT_STORE_PATH_MAX], hex[2 * KT_OBJECT_ID_BYTES + 1], path[4096];
	struct kt_object o = {0};
	struct stat st;

	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(0xa0 + i);
	kt_store_local_path(id, rel);
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	ck_assert_str_eq(rel, "a0/a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	ck_assert_int_le(strlen(rel) + 1, KT_STORE_PATH_MAX);

	ck_assert_int_eq(kt_object_create(store, id, &o), 0);
	object_write(&o, "sealed bytes");
	ck_assert_int_eq(kt_object_datasync(&o), 0);
	ck_assert_int_eq(kt_object_truncate(&o, 6), 0);
	kt_object_close(&o);
	kt_object_close(&o); /* closed twice: nothing */
	ck_assert_int_eq(kt_store_persist(store, id), 0);
	assert_holds(id, "sealed");

	path_of(NULL, "a0", path);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	path_of(id, NULL, path);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

/* A file staged in VAULT/pool under the hex of id, as the blob pool makes
 * them: returns its descriptor; *ret_pool_fd the folder. */
static int stage(const uint8_t id[KT_OBJECT_ID_BYTES], char hex[2 * KT_OBJECT_ID_BYTES + 1],
		 int *ret_pool_fd)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/pool", vault);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	*ret_pool_fd = open(path, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(*ret_pool_fd, 0);
	sodium_bin2hex(hex, 2 * KT_OBJECT_ID_BYTES + 1, id, KT_OBJECT_ID_BYTES);
	fd = openat(*ret_pool_fd, hex, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* An existing object is never replaced, by create or by adopt. */
START_TEST(existing_target_kept)
{
	uint8_t id[KT_OBJECT_ID_BYTES];
	char hex[2 * KT_OBJECT_ID_BYTES + 1];
	struct kt_object o = {0};
	int pool_fd, fd;

	randombytes_buf(id, sizeof(id));
	ck_assert_int_eq(kt_object_create(store, id, &o), 0);
	object_write(&o, "first");
	kt_object_close(&o);
	ck_assert_int_eq(kt_object_create(store, id, &o), -EEXIST);
	ck_assert_ptr_null(o.store);

	fd = stage(id, hex, &pool_fd);
	ck_assert_int_eq(kt_store_adopt_check(store, pool_fd), 0);
	ck_assert_int_eq(write(fd, "second", 6), 6);
	ck_assert_int_eq(kt_object_adopt(store, pool_fd, hex, fd, id, &o), -EEXIST);
	ck_assert_ptr_null(o.store);
	/* the staged file is gone (and its descriptor closed), the target kept */
	ck_assert_int_eq(faccessat(pool_fd, hex, F_OK, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	assert_holds(id, "first");
	close(pool_fd);
}
END_TEST

/* A staged file moves into place, making its shard folder if missing. */
START_TEST(adopt_moves_into_place)
{
	uint8_t id[KT_OBJECT_ID_BYTES];
	char hex[2 * KT_OBJECT_ID_BYTES + 1], path[4096];
	struct kt_object o = {0};
	struct stat st;
	int pool_fd, fd;

	randombytes_buf(id, sizeof(id));
	fd = stage(id, hex, &pool_fd);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(kt_object_adopt(store, pool_fd, hex, fd, id, &o), 0);
	ck_assert_int_eq(faccessat(pool_fd, hex, F_OK, 0), -1); /* moved, not copied */
	object_write(&o, "adopted");
	kt_object_close(&o);
	assert_holds(id, "adopted");
	{
		struct stat now;

		path_of(id, NULL, path);
		ck_assert_int_eq(stat(path, &now), 0);
		ck_assert_uint_eq(now.st_ino, st.st_ino); /* the same file */
	}
	close(pool_fd);
}
END_TEST

static int mark_seen(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES])
{
	(void)id;
	*(bool *)ctx = true;
	return 0;
}

/* A symlink planted where an object would be is never followed. */
START_TEST(planted_symlink_refused)
{
	uint8_t id[KT_OBJECT_ID_BYTES];
	char hex[2 * KT_OBJECT_ID_BYTES + 1], path[4096], target[4096], shard[4096];
	struct kt_object o = {0};
	int pool_fd, fd;
	bool seen = false;

	randombytes_buf(id, sizeof(id));
	snprintf(target, sizeof(target), "%s/outside", vault);
	write_file(target, "outside");
	path_of(id, NULL, path);
	snprintf(shard, sizeof(shard), "%.*s", (int)(strrchr(path, '/') - path), path);
	ck_assert_int_eq(mkdir(shard, 0700), 0);
	ck_assert_int_eq(symlink(target, path), 0);

	ck_assert_int_eq(kt_object_create(store, id, &o), -EEXIST);
	ck_assert_int_eq(kt_object_open(store, id, &o), -ELOOP);
	fd = stage(id, hex, &pool_fd);
	ck_assert_int_eq(kt_object_adopt(store, pool_fd, hex, fd, id, &o), -EEXIST);
	close(pool_fd);
	{
		char buf[16] = {0};
		FILE *f = fopen(target, "r");

		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
		fclose(f);
		ck_assert_str_eq(buf, "outside");
	}
	/* and a listing does not take it for an object */
	ck_assert_int_eq(kt_store_list(store, mark_seen, &seen), 0);
	ck_assert(!seen);
}
END_TEST

START_TEST(missing_shard_folder)
{
	uint8_t id[KT_OBJECT_ID_BYTES];
	char path[4096];
	struct kt_object o = {0};

	randombytes_buf(id, sizeof(id));
	ck_assert_int_eq(kt_object_open(store, id, &o), -ENOENT);
	ck_assert_int_eq(kt_store_remove(store, id), -ENOENT);
	ck_assert_int_eq(kt_store_persist(store, id), -ENOENT);
	ck_assert_int_eq(kt_object_create(store, id, &o), 0);
	kt_object_close(&o);
	/* the folder removed behind the store's back: made again */
	ck_assert_int_eq(kt_store_remove(store, id), 0);
	path_of(id, NULL, path);
	*strrchr(path, '/') = '\0';
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(kt_object_create(store, id, &o), 0);
	kt_object_close(&o);
	ck_assert_int_eq(kt_store_persist(store, id), 0);
}
END_TEST

/* Removal: gone for opens, but an open object stays usable. */
START_TEST(remove_while_open)
{
	uint8_t id[KT_OBJECT_ID_BYTES];
	struct kt_object o = {0}, o2 = {0};
	char buf[8] = {0};

	randombytes_buf(id, sizeof(id));
	ck_assert_int_eq(kt_object_create(store, id, &o), 0);
	object_write(&o, "still");
	ck_assert_int_eq(kt_store_remove(store, id), 0);
	ck_assert_int_eq(kt_store_remove(store, id), -ENOENT);
	ck_assert_int_eq(kt_object_open(store, id, &o2), -ENOENT);
	ck_assert_int_eq(kt_object_pread(&o, buf, sizeof(buf), 0), 5);
	ck_assert_str_eq(buf, "still");
	kt_object_close(&o);
}
END_TEST

/* Shared locks for users, an exclusive one refused while they hold theirs. */
START_TEST(locks)
{
	uint8_t id[KT_OBJECT_ID_BYTES];
	struct kt_object a = {0}, b = {0};

	randombytes_buf(id, sizeof(id));
	ck_assert_int_eq(kt_object_create(store, id, &a), 0);
	ck_assert_int_eq(kt_object_lock(&a, false), 0);
	ck_assert_int_eq(kt_object_open(store, id, &b), 0);
	ck_assert_int_eq(kt_object_lock(&b, false), 0);
	ck_assert_int_eq(kt_object_lock(&b, true), -EBUSY);
	kt_object_close(&a);
	ck_assert_int_eq(kt_object_lock(&b, true), 0);
	kt_object_close(&b);
}
END_TEST

struct seen {
	uint8_t ids[8][KT_OBJECT_ID_BYTES];
	bool found[8];
	int n, others, stop_after;
};

static int collect(void *ctx, const uint8_t id[KT_OBJECT_ID_BYTES])
{
	struct seen *s = ctx;
	int i;

	for (i = 0; i < 8; i++)
		if (memcmp(s->ids[i], id, KT_OBJECT_ID_BYTES) == 0)
			break;
	if (i < 8 && !s->found[i])
		s->found[i] = true;
	else
		s->others++;
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

/* Every object listed once; names that are not object ids are not. */
START_TEST(list_objects_only)
{
	static const char *const junk[] = {
	    "keep",				   /* a file in objects/ itself */
	    "zz/0123456789abcdef0123456789abcd",   /* not a hex shard */
	    "ab/0123456789abcdef",		   /* too short */
	    "ab/0123456789abcdef0123456789abcdef", /* too long */
	    "ab/0123456789ABCDEF0123456789ABCD",   /* not how ids are written */
	    "ab/0123456789abcdef0123456789abcx",   /* not hex */
	    "abc/0123456789abcdef0123456789abcd",  /* shard name too long */
	};
	struct seen s = {0};
	char path[4096];

	for (int i = 0; i < 8; i++) {
		struct kt_object o = {0};

		randombytes_buf(s.ids[i], KT_OBJECT_ID_BYTES);
		s.ids[i][0] = (uint8_t)(i * 0x11); /* shards 00..77, and not ff */
		if (i == 7)
			s.ids[i][0] = 0xab; /* one in the shard with the junk */
		ck_assert_int_eq(kt_object_create(store, s.ids[i], &o), 0);
		kt_object_close(&o);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		path_of(NULL, junk[i], path);
		if (strchr(junk[i], '/')) {
			*strchr(path + strlen(vault) + strlen("/objects/"), '/') = '\0';
			mkdir(path, 0700);
			path_of(NULL, junk[i], path);
		}
		write_file(path, "junk");
	}
	/* a shard folder that is a symlink, and a folder where an object would be */
	path_of(NULL, "ff", path);
	ck_assert_int_eq(symlink("ab", path), 0);
	path_of(NULL, "ab/00112233445566778899aabbccddee", path);
	ck_assert_int_eq(mkdir(path, 0700), 0);

	ck_assert_int_eq(kt_store_list(store, collect, &s), 0);
	ck_assert_int_eq(s.n, 8);
	ck_assert_int_eq(s.others, 0);
	for (int i = 0; i < 8; i++)
		ck_assert(s.found[i]);

	/* the callback stops the listing */
	memset(s.found, 0, sizeof(s.found));
	s.n = 0;
	s.stop_after = 3;
	ck_assert_int_eq(kt_store_list(store, collect, &s), 42);
	ck_assert_int_eq(s.n, 3);
}
END_TEST

START_TEST(space_and_open_errors)
{
	struct kt_store *other = NULL;
	struct statvfs sv;
	char path[PATH_MAX + 16];

	ck_assert_int_eq(kt_store_space(store, &sv), 0);
	ck_assert_uint_gt(sv.f_blocks, 0);
	ck_assert_uint_gt(sv.f_frsize, 0);

	snprintf(path, sizeof(path), "%s/none", vault);
	ck_assert_int_eq(kt_store_open(path, &other), -ENOENT);
	ck_assert_ptr_null(other);
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_eq(kt_store_open(path, &other), -ENAMETOOLONG);
	ck_assert_ptr_null(kt_store_close(NULL));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("local");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, layout_and_roundtrip);
	tcase_add_test(tc, existing_target_kept);
	tcase_add_test(tc, adopt_moves_into_place);
	tcase_add_test(tc, planted_symlink_refused);
	tcase_add_test(tc, missing_shard_folder);
	tcase_add_test(tc, remove_while_open);
	tcase_add_test(tc, locks);
	tcase_add_test(tc, list_objects_only);
	tcase_add_test(tc, space_and_open_errors);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
