/*
 * tests/unit/test_witness.c — keytool/witness.c: a witness directory accepts
 * checkpoints that extend the newest it holds, and refuses rollbacks, forks,
 * wrong proofs, other keys and a tampered directory.
 */
#include "keytool/witness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "meta/tlog.h"
#include "tests/unit/testutil.h"

#define HB    META_TLOG_HASH_BYTES
#define NAME  "vaultfs.example/witness-test"
#define NAME2 "vaultfs.example/other"

static char *dir;
static uint8_t sk[64], pk[32];
static struct kt_note_verifier v;

static void setup(void)
{
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	crypto_sign_keypair(pk, sk);
	ck_assert_int_eq(kt_note_verifier_make(NAME, pk, &v), 0);
}

static void teardown(void)
{
	tu_rmrf(dir);
	free(dir);
}

/* Leaf i of log `fork`: the same for every log below fork_at, then its own. */
struct log {
	int fork_at;
	int id;
};

static int leaf(void *ctx, uint64_t i, uint8_t ret[HB])
{
	const struct log *l = ctx;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "record %llu/%d", (unsigned long long)i,
			 l && (int)i >= l->fork_at ? l->id : 0);

	meta_tlog_leaf_hash(buf, (size_t)n, ret);
	return 0;
}

/* The signed checkpoint of the first size leaves of log l. */
static char *checkpoint(const struct log *l, uint64_t size, const char *name, const uint8_t *key)
{
	struct kt_checkpoint c = {.size = size};
	char *text = NULL, *note = NULL;

	snprintf(c.origin, sizeof(c.origin), "%s", name);
	ck_assert_int_eq(meta_tlog_tree_root(leaf, (void *)l, size, c.root), 0);
	ck_assert_int_eq(kt_checkpoint_format(&c, &text), 0);
	ck_assert_int_eq(kt_note_sign(text, name, key, &note), 0);
	free(text);
	return note;
}

/* Offer log l at size, with the proof from old_size. */
static int offer(const struct log *l, uint64_t old_size, uint64_t size)
{
	uint8_t proof[META_TLOG_MAX_PROOF][HB];
	size_t len = 0;
	char *note = checkpoint(l, size, NAME, sk);
	int r;

	if (old_size > 0 && old_size <= size)
		ck_assert_int_eq(
		    meta_tlog_consistency_proof(leaf, (void *)l, old_size, size, proof, &len), 0);
	r = kt_witness_add(dir, &v, note, strlen(note), &proof[0][0], len);
	free(note);
	return r;
}

static uint64_t latest_size(void)
{
	struct kt_checkpoint c;
	uint64_t size;

	ck_assert_int_eq(kt_witness_latest(dir, &v, &c), 0);
	size = c.size;
	kt_checkpoint_clear(&c);
	return size;
}

START_TEST(grows_and_refuses_rollback_and_forks)
{
	struct log honest = {.fork_at = 1000}, forked = {.fork_at = 5, .id = 1};
	struct kt_checkpoint c;

	ck_assert_int_eq(kt_witness_latest(dir, &v, &c), -ENOENT);
	ck_assert_int_eq(offer(&honest, 0, 0), 0); /* the empty log */
	ck_assert_int_eq(offer(&honest, 0, 3), 0);
	ck_assert_int_eq(offer(&honest, 3, 7), 0);
	ck_assert_uint_eq(latest_size(), 7);
	ck_assert_int_eq(offer(&honest, 7, 7), 0); /* again: nothing new */
	/* a rollback: a smaller tree, even an honest one */
	ck_assert_int_eq(offer(&honest, 0, 5), -ESTALE);
	/* a fork: the same size, another root; a larger fork with its own proof */
	ck_assert_int_eq(offer(&forked, 7, 7), -EBADMSG);
	ck_assert_int_eq(offer(&forked, 7, 12), -EBADMSG);
	/* the honest log grows on, with a proof from the wrong size: refused */
	ck_assert_int_eq(offer(&honest, 6, 12), -EBADMSG);
	ck_assert_int_eq(offer(&honest, 7, 12), 0);
	ck_assert_uint_eq(latest_size(), 12);
	/* every accepted checkpoint is kept */
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/checkpoint.%020d", dir, 3);
		ck_assert_int_eq(access(path, R_OK), 0);
		snprintf(path, sizeof(path), "%s/checkpoint.%020d", dir, 5);
		ck_assert_int_ne(access(path, R_OK), 0);
	}
}
END_TEST

START_TEST(other_keys_and_origins_refused)
{
	struct log honest = {.fork_at = 1000};
	uint8_t sk2[64], pk2[32];
	char *note;

	crypto_sign_keypair(pk2, sk2);
	/* signed by another key under our name: no signature we know */
	note = checkpoint(&honest, 3, NAME, sk2);
	ck_assert_int_eq(kt_witness_add(dir, &v, note, strlen(note), NULL, 0), -ENOKEY);
	free(note);
	/* our key, but another origin line */
	{
		struct kt_checkpoint c = {.size = 3};
		char *text = NULL;

		snprintf(c.origin, sizeof(c.origin), "%s", NAME2);
		ck_assert_int_eq(kt_checkpoint_format(&c, &text), 0);
		ck_assert_int_eq(kt_note_sign(text, NAME, sk, &note), 0);
		ck_assert_int_eq(kt_witness_add(dir, &v, note, strlen(note), NULL, 0), -EPROTO);
		free(text);
		free(note);
	}
	/* a note that is no checkpoint */
	ck_assert_int_eq(kt_note_sign("hello\n", NAME, sk, &note), 0);
	ck_assert_int_eq(kt_witness_add(dir, &v, note, strlen(note), NULL, 0), -EPROTO);
	free(note);
	ck_assert_int_eq(kt_witness_add(dir, &v, "x", 1, NULL, 0), -EPROTO);
	/* a witness directory that is not there */
	note = checkpoint(&honest, 3, NAME, sk);
	ck_assert_int_eq(kt_witness_add("/nonexistent/witness", &v, note, strlen(note), NULL, 0),
			 -ENOENT);
	free(note);
}
END_TEST

START_TEST(tampered_directory_reported)
{
	struct log honest = {.fork_at = 1000};
	struct kt_checkpoint c;
	char path[4096], target[4096];
	FILE *f;

	ck_assert_int_eq(offer(&honest, 0, 4), 0);
	/* latest edited: refused, and not replaced by what comes next */
	snprintf(path, sizeof(path), "%s/latest", dir);
	f = fopen(path, "r+");
	ck_assert_ptr_nonnull(f);
	fseek(f, 30, SEEK_SET);
	fputc('X', f);
	fclose(f);
	ck_assert_int_eq(kt_witness_latest(dir, &v, &c), -EBADMSG);
	ck_assert_int_eq(offer(&honest, 4, 6), -EBADMSG);
	/* latest replaced by a symlink to an older checkpoint: refused */
	unlink(path);
	snprintf(target, sizeof(target), "%s/checkpoint.%020d", dir, 4);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(kt_witness_latest(dir, &v, &c), -EBADMSG);
	/* a directory, or a huge file, in its place: refused */
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_ne(kt_witness_latest(dir, &v, &c), 0);
	rmdir(path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), KT_NOTE_MAX_BYTES + 1), 0);
	fclose(f);
	ck_assert_int_eq(kt_witness_latest(dir, &v, &c), -EBADMSG);
}
END_TEST

/* A witness directory held by another process: busy after a bounded wait. */
START_TEST(held_directory_is_busy_not_a_hang)
{
	struct log honest = {.fork_at = 1000};
	struct kt_checkpoint c;
	int fd = open(dir, O_RDONLY | O_DIRECTORY), status;
	pid_t pid;
	time_t start;

	ck_assert_int_ge(fd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		flock(fd, LOCK_EX);
		sleep(30);
		_exit(0);
	}
	usleep(200 * 1000); /* the child holds the lock */
	start = time(NULL);
	ck_assert_int_eq(offer(&honest, 0, 3), -EBUSY);
	ck_assert_int_eq(kt_witness_latest(dir, &v, &c), -EBUSY);
	ck_assert_int_lt(time(NULL) - start, 20);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fd);
	ck_assert_int_eq(offer(&honest, 0, 3), 0); /* and free again */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("witness");
	TCase *tc = tcase_create("witness");

	if (sodium_init() < 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, grows_and_refuses_rollback_and_forks);
	tcase_add_test(tc, other_keys_and_origins_refused);
	tcase_add_test(tc, tampered_directory_reported);
	tcase_add_test(tc, held_directory_is_busy_not_a_hang);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
