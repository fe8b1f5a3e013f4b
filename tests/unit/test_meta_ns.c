/*
 * tests/unit/test_meta_ns.c — meta/ns.c: nodes, directory entries (lookup,
 * paging, hard links, rename by set_ino), xattrs, orphans, statfs totals and
 * the inventory by level and top-level folder; tampered rows are refused.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>
#include <sqlite3.h>

#include "meta/db.h"
#include "meta/ns.h"
#include "tests/unit/testutil.h"

static char *tmp;
static struct meta_db *db;

static void setup(void)
{
	tmp = tu_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_eq(meta_db_open(tmp, META_OPEN_CREATE, &db), 0);
}

static void teardown(void)
{
	db = meta_db_close(db);
	tu_rmrf(tmp);
	free(tmp);
}

static void raw_exec(const char *sql)
{
	char path[PATH_MAX];
	sqlite3 *h = NULL;
	char *err = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", tmp, META_DB_NAME);
	ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 10000);
	rc = sqlite3_exec(h, sql, NULL, NULL, &err);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
	sqlite3_free(err);
	sqlite3_close(h);
}

/* A distinct 32-byte name hash per small integer. */
static void hash_of(unsigned k, uint8_t h[META_HASH_BYTES])
{
	for (size_t i = 0; i < META_HASH_BYTES; i++)
		h[i] = (uint8_t)(k * 31 + i);
}

static uint64_t add_node(uint32_t mode, uint8_t level, uint64_t size, uint32_t nlink)
{
	struct meta_node n = {0};

	n.mode = mode;
	n.nlink = nlink;
	n.size = size;
	n.level = level;
	n.uid = 1000;
	n.gid = 1000;
	n.atime_ns = n.mtime_ns = n.ctime_ns = meta_now_ns();
	if (S_ISREG(mode)) {
		static uint32_t counter;

		n.has_object = true;
		counter++;
		memcpy(n.object_id, &counter, sizeof(counter));
		memset(n.file_key, level, sizeof(n.file_key));
	}
	ck_assert_int_eq(meta_node_insert(db, &n), 0);
	return n.ino;
}

/* An entry named k in parent; the ciphertext is "name-k". */
static void link_node(uint64_t parent, unsigned k, uint64_t ino)
{
	uint8_t h[META_HASH_BYTES];
	char name[32];

	hash_of(k, h);
	snprintf(name, sizeof(name), "name-%u", k);
	ck_assert_int_eq(
	    meta_dirent_insert(db, parent, h, (const uint8_t *)name, strlen(name), ino), 0);
}

/* ---- nodes ---- */

START_TEST(test_node_roundtrip)
{
	struct meta_node n = {0}, got;
	static const uint8_t target[] = "encrypted-target";

	n.mode = S_IFREG | 0640;
	n.uid = 1001;
	n.gid = 1002;
	n.nlink = 1;
	n.size = (uint64_t)5 << 32;
	n.rdev = 0;
	n.atime_ns = 11;
	n.mtime_ns = 22;
	n.ctime_ns = -33;
	n.level = 2;
	n.level_r = 1;
	n.level_t = 3;
	n.level_s = 2;
	n.has_object = true;
	memset(n.object_id, 0xab, sizeof(n.object_id));
	memset(n.file_key, 0xcd, sizeof(n.file_key));
	n.write_counter = ((uint64_t)1 << 62) + 5;
	ck_assert_int_eq(meta_node_insert(db, &n), 0);
	ck_assert_uint_gt(n.ino, META_ROOT_INO);

	ck_assert_int_eq(meta_node_get(db, n.ino, &got), 0);
	ck_assert_uint_eq(got.ino, n.ino);
	ck_assert_uint_eq(got.mode, S_IFREG | 0640);
	ck_assert_uint_eq(got.uid, 1001);
	ck_assert_uint_eq(got.gid, 1002);
	ck_assert_uint_eq(got.nlink, 1);
	ck_assert_uint_eq(got.size, (uint64_t)5 << 32);
	ck_assert_int_eq(got.atime_ns, 11);
	ck_assert_int_eq(got.mtime_ns, 22);
	ck_assert_int_eq(got.ctime_ns, -33);
	ck_assert_uint_eq(got.level, 2);
	ck_assert_uint_eq(got.level_r, 1);
	ck_assert_uint_eq(got.level_t, 3);
	ck_assert_uint_eq(got.level_s, 2);
	ck_assert(got.has_object);
	ck_assert_mem_eq(got.object_id, n.object_id, META_OBJECT_ID_BYTES);
	ck_assert_mem_eq(got.file_key, n.file_key, META_FILE_KEY_BYTES);
	ck_assert_uint_eq(got.write_counter, ((uint64_t)1 << 62) + 5);
	ck_assert_ptr_null(got.symlink_enc);
	ck_assert_uint_eq(got.symlink_enc_len, 0);

	/* update every column: it becomes a symlink */
	n.mode = S_IFLNK | 0777;
	n.size = sizeof(target) - 1;
	n.nlink = 3;
	n.level = 1;
	n.level_r = n.level_t = n.level_s = 0;
	n.mtime_ns = 44;
	n.rdev = 0x0801;
	n.has_object = false;
	n.symlink_enc = (uint8_t *)target;
	n.symlink_enc_len = sizeof(target) - 1;
	n.write_counter = 0;
	ck_assert_int_eq(meta_node_update(db, &n), 0);
	ck_assert_int_eq(meta_node_get(db, n.ino, &got), 0);
	ck_assert_uint_eq(got.write_counter, 0);
	ck_assert_uint_eq(got.mode, S_IFLNK | 0777);
	ck_assert_uint_eq(got.nlink, 3);
	ck_assert_uint_eq(got.level, 1);
	ck_assert_uint_eq(got.level_t, 0);
	ck_assert_uint_eq(got.rdev, 0x0801);
	ck_assert_int_eq(got.mtime_ns, 44);
	ck_assert(!got.has_object);
	ck_assert_uint_eq(got.symlink_enc_len, sizeof(target) - 1);
	ck_assert_ptr_ne(got.symlink_enc, target);
	ck_assert_mem_eq(got.symlink_enc, target, sizeof(target) - 1);
	meta_node_clear(&got);
	ck_assert_ptr_null(got.symlink_enc);
	meta_node_clear(&got); /* twice is harmless */
	meta_node_clear(NULL);

	/* update with no symlink clears it */
	n.symlink_enc = NULL;
	n.symlink_enc_len = 0;
	ck_assert_int_eq(meta_node_update(db, &n), 0);
	ck_assert_int_eq(meta_node_get(db, n.ino, &got), 0);
	ck_assert_ptr_null(got.symlink_enc);

	/* missing nodes */
	n.ino = 9999;
	ck_assert_int_eq(meta_node_update(db, &n), -ENOENT);
	memset(&got, 0x6e, sizeof(got));
	ck_assert_int_eq(meta_node_get(db, 9999, &got), -ENOENT);
	ck_assert_uint_eq(got.mode, 0x6e6e6e6e);
}
END_TEST

START_TEST(test_node_invalid)
{
	struct meta_node n = {0};
	uint64_t a;

	n.mode = S_IFREG | 0600;
	n.nlink = 1;
	n.level = META_LEVEL_REFUSED; /* level 4 is never stored */
	ck_assert_int_eq(meta_node_insert(db, &n), -EINVAL);
	n.level = 0;
	n.level_t = 4;
	ck_assert_int_eq(meta_node_insert(db, &n), -EINVAL);
	n.level_t = 0;
	n.symlink_enc_len = 5; /* length without a buffer */
	ck_assert_int_eq(meta_node_insert(db, &n), -EINVAL);
	n.symlink_enc_len = 0;
	n.write_counter = (uint64_t)INT64_MAX + 1; /* does not fit the row */
	ck_assert_int_eq(meta_node_insert(db, &n), -EINVAL);
	n.write_counter = 0;

	/* two nodes cannot share a blob */
	a = add_node(S_IFREG | 0600, 0, 0, 1);
	{
		struct meta_node first;

		ck_assert_int_eq(meta_node_get(db, a, &first), 0);
		n.has_object = true;
		memcpy(n.object_id, first.object_id, sizeof(n.object_id));
		ck_assert_int_eq(meta_node_insert(db, &n), -EEXIST);
		n.object_id[0] ^= 1;
		ck_assert_int_eq(meta_node_insert(db, &n), 0);
	}
}
END_TEST

START_TEST(test_node_delete)
{
	uint64_t dir = add_node(S_IFDIR | 0755, 0, 0, 2);
	uint64_t file = add_node(S_IFREG | 0644, 1, 10, 1);
	uint8_t h[META_HASH_BYTES];
	struct meta_node got;
	struct meta_xattr x = {0}, *xl = NULL;
	size_t n;

	link_node(META_ROOT_INO, 1, dir);
	link_node(dir, 2, file);
	hash_of(9, x.name_hash);
	x.name_enc = (uint8_t *)"xn";
	x.name_enc_len = 2;
	x.value_enc = (uint8_t *)"xv";
	x.value_enc_len = 2;
	ck_assert_int_eq(meta_xattr_set(db, file, &x), 0);

	/* still named by an entry, or a directory with entries: refused */
	ck_assert_int_eq(meta_node_delete(db, file), -ENOTEMPTY);
	ck_assert_int_eq(meta_node_delete(db, dir), -ENOTEMPTY);
	ck_assert_int_eq(meta_node_delete(db, META_ROOT_INO), -EINVAL);

	hash_of(2, h);
	ck_assert_int_eq(meta_dirent_delete(db, dir, h), 0);
	ck_assert_int_eq(meta_node_delete(db, file), 0);
	ck_assert_int_eq(meta_node_get(db, file, &got), -ENOENT);
	ck_assert_int_eq(meta_node_delete(db, file), -ENOENT);
	/* its xattrs went with it */
	ck_assert_int_eq(meta_xattr_list(db, file, &xl, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(xl);

	/* inode numbers are not reused */
	{
		uint64_t again = add_node(S_IFREG | 0644, 0, 0, 1);

		ck_assert_uint_gt(again, file);
	}
}
END_TEST

START_TEST(test_orphans)
{
	uint64_t a = add_node(S_IFREG | 0644, 0, 1, 1);
	uint64_t b = add_node(S_IFREG | 0644, 0, 1, 0);
	uint64_t c = add_node(S_IFREG | 0644, 0, 1, 0);
	uint64_t *inos = NULL;
	struct meta_node n;
	size_t count;

	ck_assert_int_eq(meta_node_list_orphans(db, &inos, &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(inos[0], b);
	ck_assert_uint_eq(inos[1], c);
	free(inos);

	/* unlinking the last name makes an orphan */
	ck_assert_int_eq(meta_node_get(db, a, &n), 0);
	n.nlink = 0;
	ck_assert_int_eq(meta_node_update(db, &n), 0);
	ck_assert_int_eq(meta_node_delete(db, b), 0);
	ck_assert_int_eq(meta_node_list_orphans(db, &inos, &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(inos[0], a);
	ck_assert_uint_eq(inos[1], c);
	free(inos);
}
END_TEST

/* ---- directory entries ---- */

START_TEST(test_dirent_basic)
{
	uint64_t dir = add_node(S_IFDIR | 0755, 0, 0, 2);
	uint64_t file = add_node(S_IFREG | 0600, 0, 0, 1);
	uint64_t other = add_node(S_IFREG | 0644, 0, 0, 1);
	uint8_t h[META_HASH_BYTES], h2[META_HASH_BYTES];
	static const uint8_t enc[] = {0, 1, 2, 3, 0xfe};
	struct meta_dirent d;
	bool has;

	hash_of(1, h);
	ck_assert_int_eq(meta_dirent_insert(db, META_ROOT_INO, h, enc, sizeof(enc), dir), 0);
	ck_assert_int_eq(meta_dirent_insert(db, META_ROOT_INO, h, enc, sizeof(enc), file), -EEXIST);
	/* the same hash in another directory is another name */
	ck_assert_int_eq(meta_dirent_insert(db, dir, h, enc, sizeof(enc), file), 0);

	ck_assert_int_eq(meta_dirent_lookup(db, META_ROOT_INO, h, &d), 0);
	ck_assert_int_gt(d.id, 0);
	ck_assert_uint_eq(d.parent, META_ROOT_INO);
	ck_assert_uint_eq(d.ino, dir);
	ck_assert_uint_eq(d.mode, S_IFDIR | 0755);
	ck_assert_mem_eq(d.name_hash, h, META_HASH_BYTES);
	ck_assert_uint_eq(d.name_enc_len, sizeof(enc));
	ck_assert_mem_eq(d.name_enc, enc, sizeof(enc));
	meta_dirent_clear(&d);
	ck_assert_ptr_null(d.name_enc);
	meta_dirent_clear(NULL);

	ck_assert_int_eq(meta_dirent_lookup(db, dir, h, &d), 0);
	ck_assert_uint_eq(d.ino, file);
	ck_assert_uint_eq(d.mode, S_IFREG | 0600);
	meta_dirent_clear(&d);

	hash_of(2, h2);
	memset(&d, 0x3c, sizeof(d));
	ck_assert_int_eq(meta_dirent_lookup(db, META_ROOT_INO, h2, &d), -ENOENT);
	ck_assert_int_eq(d.id, 0x3c3c3c3c3c3c3c3c);

	/* entries must name existing nodes, never themselves, and carry a name */
	ck_assert_int_eq(meta_dirent_insert(db, META_ROOT_INO, h2, enc, sizeof(enc), 9999),
			 -ENOENT);
	ck_assert_int_eq(meta_dirent_insert(db, 9999, h2, enc, sizeof(enc), file), -ENOENT);
	ck_assert_int_eq(meta_dirent_insert(db, dir, h2, enc, sizeof(enc), dir), -EINVAL);
	ck_assert_int_eq(meta_dirent_insert(db, dir, h2, enc, 0, file), -EINVAL);

	/* rename over an existing name: point it elsewhere */
	ck_assert_int_eq(meta_dirent_set_ino(db, dir, h, other), 0);
	ck_assert_int_eq(meta_dirent_lookup(db, dir, h, &d), 0);
	ck_assert_uint_eq(d.ino, other);
	ck_assert_uint_eq(d.mode, S_IFREG | 0644);
	meta_dirent_clear(&d);
	ck_assert_int_eq(meta_dirent_set_ino(db, dir, h2, other), -ENOENT);
	ck_assert_int_eq(meta_dirent_set_ino(db, dir, h, 9999), -ENOENT);

	ck_assert_int_eq(meta_dirent_has_children(db, dir, &has), 0);
	ck_assert(has);
	ck_assert_int_eq(meta_dirent_delete(db, dir, h), 0);
	ck_assert_int_eq(meta_dirent_delete(db, dir, h), -ENOENT);
	ck_assert_int_eq(meta_dirent_lookup(db, dir, h, &d), -ENOENT);
	ck_assert_int_eq(meta_dirent_has_children(db, dir, &has), 0);
	ck_assert(!has);
	ck_assert_int_eq(meta_dirent_has_children(db, META_ROOT_INO, &has), 0);
	ck_assert(has);
}
END_TEST

START_TEST(test_dirent_list_paging)
{
	uint64_t dir = add_node(S_IFDIR | 0755, 0, 0, 2), inos[7];
	struct meta_dirent *page = NULL;
	int64_t after = 0;
	size_t n, seen = 0;
	uint8_t h[META_HASH_BYTES];

	link_node(META_ROOT_INO, 100, dir);
	for (unsigned i = 0; i < 7; i++) {
		inos[i] = add_node(i == 3 ? S_IFDIR | 0700 : S_IFREG | 0644, 0, 0, 1);
		link_node(dir, i, inos[i]);
	}
	/* delete one in the middle; it is skipped, and the others keep their order */
	hash_of(5, h);
	ck_assert_int_eq(meta_dirent_delete(db, dir, h), 0);

	for (;;) {
		ck_assert_int_eq(meta_dirent_list(db, dir, after, 2, &page, &n), 0);
		ck_assert_uint_le(n, 2);
		if (n == 0) {
			free(page);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned k = seen < 5 ? (unsigned)seen : (unsigned)seen + 1;
			char name[32];

			ck_assert_int_gt(page[i].id, after);
			after = page[i].id;
			ck_assert_uint_eq(page[i].parent, dir);
			ck_assert_uint_eq(page[i].ino, inos[k]);
			ck_assert_uint_eq(page[i].mode,
					  k == 3 ? (S_IFDIR | 0700) : (S_IFREG | 0644));
			snprintf(name, sizeof(name), "name-%u", k);
			ck_assert_uint_eq(page[i].name_enc_len, strlen(name));
			ck_assert_mem_eq(page[i].name_enc, name, strlen(name));
			meta_dirent_clear(&page[i]);
			seen++;
		}
		free(page);
		page = NULL;
	}
	ck_assert_uint_eq(seen, 6);

	/* all at once; max 0; the root lists only its own entry */
	ck_assert_int_eq(meta_dirent_list(db, dir, 0, 100, &page, &n), 0);
	ck_assert_uint_eq(n, 6);
	for (size_t i = 0; i < n; i++)
		meta_dirent_clear(&page[i]);
	free(page);
	ck_assert_int_eq(meta_dirent_list(db, dir, 0, 0, &page, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(page);
	ck_assert_int_eq(meta_dirent_list(db, META_ROOT_INO, 0, 100, &page, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(page[0].ino, dir);
	meta_dirent_clear(&page[0]);
	free(page);

	/* a new entry lands after every existing one (ids are not reused) */
	{
		uint64_t late = add_node(S_IFREG | 0644, 0, 0, 1);

		link_node(dir, 5, late);
		ck_assert_int_eq(meta_dirent_list(db, dir, after, 10, &page, &n), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_uint_eq(page[0].ino, late);
		meta_dirent_clear(&page[0]);
		free(page);
	}
}
END_TEST

START_TEST(test_dirent_hard_links)
{
	uint64_t a = add_node(S_IFDIR | 0755, 0, 0, 2), b = add_node(S_IFDIR | 0755, 0, 0, 2);
	uint64_t file = add_node(S_IFREG | 0644, 1, 3, 2);
	uint8_t h[META_HASH_BYTES];
	struct meta_dirent d;

	link_node(META_ROOT_INO, 1, a);
	link_node(META_ROOT_INO, 2, b);
	link_node(b, 3, file); /* first name */
	link_node(a, 4, file); /* second name */

	ck_assert_int_eq(meta_dirent_any_for_ino(db, file, &d), 0);
	ck_assert_uint_eq(d.parent, b);
	ck_assert_uint_eq(d.ino, file);
	hash_of(3, h);
	ck_assert_mem_eq(d.name_hash, h, META_HASH_BYTES);
	meta_dirent_clear(&d);

	ck_assert_int_eq(meta_dirent_delete(db, b, h), 0);
	ck_assert_int_eq(meta_dirent_any_for_ino(db, file, &d), 0);
	ck_assert_uint_eq(d.parent, a);
	meta_dirent_clear(&d);

	hash_of(4, h);
	ck_assert_int_eq(meta_dirent_delete(db, a, h), 0);
	ck_assert_int_eq(meta_dirent_any_for_ino(db, file, &d), -ENOENT);
	ck_assert_int_eq(meta_dirent_any_for_ino(db, META_ROOT_INO, &d), -ENOENT);
}
END_TEST

/* ---- xattrs ---- */

START_TEST(test_xattrs)
{
	uint64_t file = add_node(S_IFREG | 0644, 0, 0, 1),
		 other = add_node(S_IFREG | 0644, 0, 0, 1);
	struct meta_xattr x = {0}, got, *list = NULL;
	uint8_t h[META_HASH_BYTES];
	size_t n;

	hash_of(1, x.name_hash);
	x.name_enc = (uint8_t *)"name-one";
	x.name_enc_len = 8;
	x.value_enc = (uint8_t *)"value-1";
	x.value_enc_len = 7;
	ck_assert_int_eq(meta_xattr_set(db, file, &x), 0);
	hash_of(2, x.name_hash);
	x.name_enc = (uint8_t *)"name-two";
	x.value_enc = (uint8_t *)"";
	x.value_enc_len = 0; /* an empty value is a value */
	ck_assert_int_eq(meta_xattr_set(db, file, &x), 0);

	hash_of(1, h);
	ck_assert_int_eq(meta_xattr_get(db, file, h, &got), 0);
	ck_assert_mem_eq(got.name_hash, h, META_HASH_BYTES);
	ck_assert_uint_eq(got.name_enc_len, 8);
	ck_assert_mem_eq(got.name_enc, "name-one", 8);
	ck_assert_uint_eq(got.value_enc_len, 7);
	ck_assert_mem_eq(got.value_enc, "value-1", 7);
	meta_xattr_clear(&got);
	ck_assert_ptr_null(got.value_enc);
	meta_xattr_clear(NULL);

	hash_of(2, h);
	ck_assert_int_eq(meta_xattr_get(db, file, h, &got), 0);
	ck_assert_uint_eq(got.value_enc_len, 0);
	meta_xattr_clear(&got);
	/* per node */
	ck_assert_int_eq(meta_xattr_get(db, other, h, &got), -ENOENT);

	/* replace keeps one row and its place in the list */
	hash_of(1, x.name_hash);
	x.name_enc = (uint8_t *)"name-one";
	x.value_enc = (uint8_t *)"value-1-longer";
	x.value_enc_len = 14;
	ck_assert_int_eq(meta_xattr_set(db, file, &x), 0);
	ck_assert_int_eq(meta_xattr_list(db, file, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	hash_of(1, h);
	ck_assert_mem_eq(list[0].name_hash, h, META_HASH_BYTES);
	ck_assert_uint_eq(list[0].value_enc_len, 14);
	ck_assert_mem_eq(list[0].value_enc, "value-1-longer", 14);
	ck_assert_mem_eq(list[1].name_enc, "name-two", 8);
	for (size_t i = 0; i < n; i++)
		meta_xattr_clear(&list[i]);
	free(list);

	ck_assert_int_eq(meta_xattr_remove(db, file, h), 0);
	ck_assert_int_eq(meta_xattr_remove(db, file, h), -ENOENT);
	ck_assert_int_eq(meta_xattr_get(db, file, h, &got), -ENOENT);
	ck_assert_int_eq(meta_xattr_list(db, file, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	meta_xattr_clear(&list[0]);
	free(list);

	ck_assert_int_eq(meta_xattr_set(db, 9999, &x), -ENOENT);
	x.name_enc = NULL;
	ck_assert_int_eq(meta_xattr_set(db, file, &x), -EINVAL);
}
END_TEST

/* ---- totals and inventory ---- */

START_TEST(test_ns_count)
{
	uint64_t nodes, bytes;

	ck_assert_int_eq(meta_ns_count(db, &nodes, &bytes), 0);
	ck_assert_uint_eq(nodes, 1); /* the root */
	ck_assert_uint_eq(bytes, 0);
	add_node(S_IFREG | 0644, 0, 100, 1);
	add_node(S_IFREG | 0644, 2, 23, 0);   /* orphans still take space */
	add_node(S_IFDIR | 0755, 0, 4096, 2); /* directory sizes do not count */
	add_node(S_IFLNK | 0777, 0, 12, 1);   /* nor symlinks */
	ck_assert_int_eq(meta_ns_count(db, &nodes, &bytes), 0);
	ck_assert_uint_eq(nodes, 5);
	ck_assert_uint_eq(bytes, 123);
}
END_TEST

static const struct meta_inventory_row *find_row(const struct meta_inventory_row *rows, size_t n,
						 uint8_t level, uint64_t top)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].level == level && rows[i].top_ino == top)
			return &rows[i];
	return NULL;
}

START_TEST(test_inventory)
{
	/*
	 * /r            L0   5
	 * /a/x          L1 100   (hard-linked as /b/x2: counted once, under a)
	 * /a/sub/y      L1  50
	 * /a/sub/deep/z L2   7
	 * /b/w          L1  30
	 * /b/link       symlink (not a file)
	 * /c/           empty folder
	 * orphan        L3 1000  (no name: not counted)
	 */
	uint64_t a = add_node(S_IFDIR | 0755, 0, 0, 3), b = add_node(S_IFDIR | 0755, 0, 0, 2);
	uint64_t c = add_node(S_IFDIR | 0755, 0, 0, 2);
	uint64_t sub = add_node(S_IFDIR | 0755, 0, 0, 3), deep = add_node(S_IFDIR | 0755, 0, 0, 2);
	uint64_t r = add_node(S_IFREG | 0644, 0, 5, 1), x = add_node(S_IFREG | 0644, 1, 100, 2);
	uint64_t y = add_node(S_IFREG | 0644, 1, 50, 1), z = add_node(S_IFREG | 0644, 2, 7, 1);
	uint64_t w = add_node(S_IFREG | 0644, 1, 30, 1), l = add_node(S_IFLNK | 0777, 0, 9, 1);
	struct meta_inventory_row *rows = NULL;
	const struct meta_inventory_row *row;
	size_t n;

	add_node(S_IFREG | 0644, 3, 1000, 0);
	link_node(META_ROOT_INO, 1, a);
	link_node(META_ROOT_INO, 2, b);
	link_node(META_ROOT_INO, 3, c);
	link_node(META_ROOT_INO, 4, r);
	link_node(a, 5, x);
	link_node(a, 6, sub);
	link_node(sub, 7, y);
	link_node(sub, 8, deep);
	link_node(deep, 9, z);
	link_node(b, 10, w);
	link_node(b, 11, x);
	link_node(b, 12, l);

	ck_assert_int_eq(meta_inventory(db, &rows, &n), 0);
	ck_assert_uint_eq(n, 4);
	/* ordered by level, then folder */
	ck_assert_uint_eq(rows[0].level, 0);
	ck_assert_uint_eq(rows[0].top_ino, META_ROOT_INO);
	ck_assert_uint_eq(rows[0].files, 1);
	ck_assert_uint_eq(rows[0].bytes, 5);
	row = find_row(rows, n, 1, a);
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(row->files, 2);
	ck_assert_uint_eq(row->bytes, 150);
	row = find_row(rows, n, 1, b);
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(row->files, 1);
	ck_assert_uint_eq(row->bytes, 30);
	ck_assert_ptr_eq(row, &rows[2]); /* a < b */
	row = find_row(rows, n, 2, a);
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(row->files, 1);
	ck_assert_uint_eq(row->bytes, 7);
	ck_assert_ptr_null(find_row(rows, n, 3, META_ROOT_INO));
	free(rows);

	/* moving a subtree to another top folder moves its files */
	{
		uint8_t h[META_HASH_BYTES];

		hash_of(6, h);
		ck_assert_int_eq(meta_dirent_delete(db, a, h), 0);
		link_node(c, 6, sub);
	}
	ck_assert_int_eq(meta_inventory(db, &rows, &n), 0);
	ck_assert_uint_eq(n, 5); /* (0,root) (1,a) (1,b) (1,c) (2,c) */
	row = find_row(rows, n, 1, a);
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(row->files, 1);
	ck_assert_uint_eq(row->bytes, 100);
	row = find_row(rows, n, 1, c);
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(row->bytes, 50);
	row = find_row(rows, n, 2, c);
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(row->bytes, 7);
	ck_assert_ptr_null(find_row(rows, n, 2, a));
	row = find_row(rows, n, 1, b);
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(row->bytes, 30);
	free(rows);
	(void)y;
	(void)z;
	(void)deep;
}
END_TEST

START_TEST(test_inventory_empty_and_damaged)
{
	struct meta_inventory_row *rows = NULL;
	uint64_t d1, d2, f;
	size_t n;

	ck_assert_int_eq(meta_inventory(db, &rows, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(rows);

	/* a cycle detached from the root (d1 in d2 in d1) terminates; its file counts as 0 */
	d1 = add_node(S_IFDIR | 0755, 0, 0, 2);
	d2 = add_node(S_IFDIR | 0755, 0, 0, 2);
	f = add_node(S_IFREG | 0644, 2, 11, 1);
	link_node(d1, 1, d2);
	link_node(d2, 2, d1);
	link_node(d2, 3, f);
	ck_assert_int_eq(meta_inventory(db, &rows, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(rows[0].level, 2);
	ck_assert_uint_eq(rows[0].top_ino, 0);
	ck_assert_uint_eq(rows[0].bytes, 11);
	free(rows);
}
END_TEST

/* ---- tampered rows ---- */

START_TEST(test_corrupt_rows)
{
	uint64_t file = add_node(S_IFREG | 0644, 1, 10, 1), dir = add_node(S_IFDIR | 0755, 0, 0, 2);
	struct meta_node node;
	struct meta_dirent d, *list = NULL;
	struct meta_xattr x = {0}, *xl = NULL;
	uint8_t h[META_HASH_BYTES];
	char sql[256];
	size_t n = 77;

	link_node(META_ROOT_INO, 1, dir);
	link_node(dir, 4, add_node(S_IFREG | 0644, 0, 1, 1)); /* a good entry listed first */
	link_node(dir, 2, file);
	hash_of(3, x.name_hash);
	x.name_enc = (uint8_t *)"n";
	x.name_enc_len = 1;
	x.value_enc = (uint8_t *)"v";
	x.value_enc_len = 1;
	ck_assert_int_eq(meta_xattr_set(db, file, &x), 0);

	/* object id of 5 bytes */
	snprintf(sql, sizeof(sql),
		 "PRAGMA ignore_check_constraints = ON;"
		 "UPDATE nodes SET object_id = x'0102030405' WHERE ino = %llu",
		 (unsigned long long)file);
	raw_exec(sql);
	ck_assert_int_eq(meta_node_get(db, file, &node), -EIO);
	/* an object id without a file key */
	snprintf(sql, sizeof(sql),
		 "PRAGMA ignore_check_constraints = ON;"
		 "UPDATE nodes SET object_id = zeroblob(16), file_key = NULL WHERE ino = %llu",
		 (unsigned long long)file);
	raw_exec(sql);
	ck_assert_int_eq(meta_node_get(db, file, &node), -EIO);
	/* a level 4 file */
	snprintf(sql, sizeof(sql),
		 "PRAGMA ignore_check_constraints = ON;"
		 "UPDATE nodes SET file_key = zeroblob(80), level = 4 WHERE ino = %llu",
		 (unsigned long long)file);
	raw_exec(sql);
	ck_assert_int_eq(meta_node_get(db, file, &node), -EIO);
	/* a symlink target stored as text */
	snprintf(sql, sizeof(sql),
		 "PRAGMA ignore_check_constraints = ON;"
		 "UPDATE nodes SET level = 1, symlink_enc = 'plain' WHERE ino = %llu",
		 (unsigned long long)file);
	raw_exec(sql);
	ck_assert_int_eq(meta_node_get(db, file, &node), -EIO);
	snprintf(sql, sizeof(sql), "UPDATE nodes SET symlink_enc = NULL WHERE ino = %llu",
		 (unsigned long long)file);
	raw_exec(sql);
	ck_assert_int_eq(meta_node_get(db, file, &node), 0);

	/* a name hash of 31 bytes: listing (after a good entry) and reverse lookup refuse it */
	snprintf(sql, sizeof(sql),
		 "PRAGMA ignore_check_constraints = ON;"
		 "UPDATE dirents SET name_hash = zeroblob(31) WHERE ino = %llu",
		 (unsigned long long)file);
	raw_exec(sql);
	ck_assert_int_eq(meta_dirent_list(db, dir, 0, 10, &list, &n), -EIO);
	ck_assert_uint_eq(n, 77);
	ck_assert_int_eq(meta_dirent_any_for_ino(db, file, &d), -EIO);
	hash_of(1, h);
	ck_assert_int_eq(meta_dirent_lookup(db, META_ROOT_INO, h, &d), 0);
	meta_dirent_clear(&d);

	/* an entry naming a node that is gone (foreign keys off in the raw handle) */
	snprintf(sql, sizeof(sql), "PRAGMA foreign_keys = OFF; DELETE FROM nodes WHERE ino = %llu",
		 (unsigned long long)dir);
	raw_exec(sql);
	ck_assert_int_eq(meta_dirent_lookup(db, META_ROOT_INO, h, &d), -EIO);

	/* an xattr name hash of the wrong size */
	raw_exec("PRAGMA ignore_check_constraints = ON; UPDATE xattrs SET name_hash = x'00'");
	n = 77;
	ck_assert_int_eq(meta_xattr_list(db, file, &xl, &n), -EIO);
	ck_assert_uint_eq(n, 77);
	ck_assert_ptr_null(xl);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("meta_ns");
	TCase *nodes = tcase_create("nodes");
	TCase *dirents = tcase_create("dirents");
	TCase *totals = tcase_create("totals");

	tcase_add_checked_fixture(nodes, setup, teardown);
	tcase_add_test(nodes, test_node_roundtrip);
	tcase_add_test(nodes, test_node_invalid);
	tcase_add_test(nodes, test_node_delete);
	tcase_add_test(nodes, test_orphans);
	tcase_add_test(nodes, test_xattrs);
	tcase_add_test(nodes, test_corrupt_rows);
	suite_add_tcase(s, nodes);

	tcase_add_checked_fixture(dirents, setup, teardown);
	tcase_add_test(dirents, test_dirent_basic);
	tcase_add_test(dirents, test_dirent_list_paging);
	tcase_add_test(dirents, test_dirent_hard_links);
	suite_add_tcase(s, dirents);

	tcase_add_checked_fixture(totals, setup, teardown);
	tcase_add_test(totals, test_ns_count);
	tcase_add_test(totals, test_inventory);
	tcase_add_test(totals, test_inventory_empty_and_damaged);
	suite_add_tcase(s, totals);

	return tu_run(s);
}
