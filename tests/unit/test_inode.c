/*
 * tests/unit/test_inode.c — the daemon's table of inodes the kernel knows:
 * lookup counts, pins, deferred deletion of unlinked inodes, growth.
 */
#include <stdlib.h>

#include "vaultfs/inode.h"
#include "tests/unit/testutil.h"

START_TEST(lookup_and_forget)
{
	struct vfs_itable *t = vfs_itable_new();

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(vfs_inode_lookup(t, 42), 0);
	ck_assert_int_eq(vfs_inode_lookup(t, 42), 0);
	ck_assert_uint_eq(vfs_itable_count(t), 1);
	/* not unlinked: freeing it asks for no deletion */
	ck_assert(!vfs_inode_forget(t, 42, 1));
	ck_assert_uint_eq(vfs_itable_count(t), 1);
	ck_assert(!vfs_inode_forget(t, 42, 1));
	ck_assert_uint_eq(vfs_itable_count(t), 0);
	/* forgetting more than was looked up, or an unknown inode, is harmless */
	ck_assert(!vfs_inode_forget(t, 42, 5));
	vfs_itable_free(t);
}
END_TEST

START_TEST(pins_keep_entries)
{
	struct vfs_itable *t = vfs_itable_new();
	struct vfs_inode *a, *b;

	ck_assert_ptr_null(vfs_inode_find(t, 7));
	a = vfs_inode_pin(t, 7);
	ck_assert_ptr_nonnull(a);
	b = vfs_inode_find(t, 7);
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(a->pins, 2);
	ck_assert(!vfs_inode_unpin(t, b));
	ck_assert_uint_eq(vfs_itable_count(t), 1);
	ck_assert(!vfs_inode_unpin(t, a));
	ck_assert_uint_eq(vfs_itable_count(t), 0);
	vfs_itable_free(t);
}
END_TEST

/* An unlinked inode is deleted only when the kernel and every pin let go. */
START_TEST(unlinked_deleted_at_last_reference)
{
	struct vfs_itable *t = vfs_itable_new();
	struct vfs_inode *in;

	ck_assert_int_eq(vfs_inode_lookup(t, 9), 0);
	in = vfs_inode_pin(t, 9); /* an open handle */
	vfs_inode_set_unlinked(t, in);
	ck_assert(!vfs_inode_forget(t, 9, 1)); /* still open */
	ck_assert(vfs_inode_unpin(t, in));     /* last reference: delete it */
	ck_assert_uint_eq(vfs_itable_count(t), 0);

	/* and the other way round: closed first, forgotten last */
	ck_assert_int_eq(vfs_inode_lookup(t, 10), 0);
	in = vfs_inode_pin(t, 10);
	vfs_inode_set_unlinked(t, in);
	ck_assert(!vfs_inode_unpin(t, in));
	ck_assert(vfs_inode_forget(t, 10, 1));
	vfs_itable_free(t);
}
END_TEST

/* Unused: no pins, whatever the kernel's lookups; unknown inodes too. */
START_TEST(unused_means_unpinned)
{
	struct vfs_itable *t = vfs_itable_new();
	struct vfs_inode *in;

	ck_assert(vfs_inode_unused(t, 11));
	ck_assert_int_eq(vfs_inode_lookup(t, 11), 0);
	ck_assert(vfs_inode_unused(t, 11));
	in = vfs_inode_pin(t, 11);
	ck_assert(!vfs_inode_unused(t, 11));
	ck_assert(!vfs_inode_unpin(t, in));
	ck_assert(vfs_inode_unused(t, 11));
	/* deleted at unlink, never marked unlinked: forget asks for no deletion */
	ck_assert(!vfs_inode_forget(t, 11, 1));
	ck_assert_uint_eq(vfs_itable_count(t), 0);
	vfs_itable_free(t);
}
END_TEST

START_TEST(many_inodes_grow_the_table)
{
	struct vfs_itable *t = vfs_itable_new();
	enum { N = 20000 };

	for (uint64_t i = 1; i <= N; i++)
		ck_assert_int_eq(vfs_inode_lookup(t, i * 3), 0);
	ck_assert_uint_eq(vfs_itable_count(t), N);
	for (uint64_t i = 1; i <= N; i++) {
		struct vfs_inode *in = vfs_inode_find(t, i * 3);

		ck_assert_ptr_nonnull(in);
		ck_assert_uint_eq(in->ino, i * 3);
		vfs_inode_unpin(t, in);
	}
	ck_assert_ptr_null(vfs_inode_find(t, 1));
	for (uint64_t i = 1; i <= N; i++)
		vfs_inode_forget(t, i * 3, 1);
	ck_assert_uint_eq(vfs_itable_count(t), 0);
	vfs_itable_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inode");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, lookup_and_forget);
	tcase_add_test(tc, pins_keep_entries);
	tcase_add_test(tc, unlinked_deleted_at_last_reference);
	tcase_add_test(tc, unused_means_unpinned);
	tcase_add_test(tc, many_inodes_grow_the_table);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
