/*
 * tests/unit/test_dcache.c — the daemon's cache of directory names (used to
 * rebuild record paths): get/put/replace/drop, starting over when full, many
 * entries across the hash chains.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vaultfs/dcache.h"
#include "tests/unit/testutil.h"

START_TEST(put_get_replace_drop)
{
	struct vfs_dcache *c = vfs_dcache_new(100);
	const char *name;
	uint64_t parent;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(vfs_dcache_get(c, 5, &parent, &name), -ENOENT);
	ck_assert_int_eq(vfs_dcache_put(c, 5, 1, "Protokoll"), 0);
	ck_assert_int_eq(vfs_dcache_get(c, 5, &parent, &name), 0);
	ck_assert_uint_eq(parent, 1);
	ck_assert_str_eq(name, "Protokoll");
	/* renamed and moved: the new parent and name replace the old */
	ck_assert_int_eq(vfs_dcache_put(c, 5, 7, "Arkiv 2026"), 0);
	ck_assert_int_eq(vfs_dcache_get(c, 5, &parent, &name), 0);
	ck_assert_uint_eq(parent, 7);
	ck_assert_str_eq(name, "Arkiv 2026");
	ck_assert_uint_eq(vfs_dcache_count(c), 1);
	vfs_dcache_drop(c, 5);
	vfs_dcache_drop(c, 5); /* twice, and unknown inodes: harmless */
	vfs_dcache_drop(c, 99);
	ck_assert_int_eq(vfs_dcache_get(c, 5, &parent, &name), -ENOENT);
	ck_assert_uint_eq(vfs_dcache_count(c), 0);
	ck_assert_int_eq(vfs_dcache_put(c, 6, 1, ""), -EINVAL);
	ck_assert_ptr_null(vfs_dcache_free(c));
	ck_assert_ptr_null(vfs_dcache_free(NULL));
}
END_TEST

/* Full: it starts over rather than growing, and keeps working. */
START_TEST(starts_over_when_full)
{
	struct vfs_dcache *c = vfs_dcache_new(10);
	const char *name;
	uint64_t parent;
	char buf[32];

	for (uint64_t i = 1; i <= 10; i++) {
		snprintf(buf, sizeof(buf), "d%llu", (unsigned long long)i);
		ck_assert_int_eq(vfs_dcache_put(c, i, 1, buf), 0);
	}
	ck_assert_uint_eq(vfs_dcache_count(c), 10);
	ck_assert_int_eq(vfs_dcache_put(c, 11, 1, "d11"), 0);
	ck_assert_uint_eq(vfs_dcache_count(c), 1);
	ck_assert_int_eq(vfs_dcache_get(c, 3, &parent, &name), -ENOENT);
	ck_assert_int_eq(vfs_dcache_get(c, 11, &parent, &name), 0);
	ck_assert_str_eq(name, "d11");
	/* replacing an entry of a full cache does not clear it */
	vfs_dcache_clear(c);
	for (uint64_t i = 1; i <= 10; i++)
		ck_assert_int_eq(vfs_dcache_put(c, i, 1, "x"), 0);
	ck_assert_int_eq(vfs_dcache_put(c, 4, 2, "y"), 0);
	ck_assert_uint_eq(vfs_dcache_count(c), 10);
	ck_assert_int_eq(vfs_dcache_get(c, 4, &parent, &name), 0);
	ck_assert_str_eq(name, "y");
	vfs_dcache_free(c);
}
END_TEST

START_TEST(many_entries)
{
	struct vfs_dcache *c = vfs_dcache_new(1u << 20);
	enum { N = 50000 };
	const char *name;
	uint64_t parent;
	char buf[32];

	for (uint64_t i = 1; i <= N; i++) {
		snprintf(buf, sizeof(buf), "n%llu", (unsigned long long)i);
		ck_assert_int_eq(vfs_dcache_put(c, i, i / 2, buf), 0);
	}
	ck_assert_uint_eq(vfs_dcache_count(c), N);
	for (uint64_t i = 1; i <= N; i += 7) {
		snprintf(buf, sizeof(buf), "n%llu", (unsigned long long)i);
		ck_assert_int_eq(vfs_dcache_get(c, i, &parent, &name), 0);
		ck_assert_uint_eq(parent, i / 2);
		ck_assert_str_eq(name, buf);
	}
	for (uint64_t i = 1; i <= N; i += 2)
		vfs_dcache_drop(c, i);
	ck_assert_uint_eq(vfs_dcache_count(c), N / 2);
	ck_assert_int_eq(vfs_dcache_get(c, 1, &parent, &name), -ENOENT);
	ck_assert_int_eq(vfs_dcache_get(c, 2, &parent, &name), 0);
	vfs_dcache_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dcache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, put_get_replace_drop);
	tcase_add_test(tc, starts_over_when_full);
	tcase_add_test(tc, many_entries);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
