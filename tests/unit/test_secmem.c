/*
 * tests/unit/test_secmem.c — keytool/secmem.c: the slab pool behind
 * kt_secure_alloc and kt_secure_free.
 *
 * Memory comes back zeroed, aligned, in slots that do not overlap, from the
 * class each size belongs to (every class boundary, and the sodium_malloc
 * path above the largest); a freed slot is wiped and handed out again; the
 * pages are locked and kept out of core dumps; eight threads allocating and
 * freeing at once never share a slot. Attacks on the allocator itself (a
 * double free, a foreign pointer, a sodium_malloc pointer, an overwritten
 * header or free-list link) must abort rather than corrupt the free list.
 *
 * The helpers over the pool: kt_secure_allocarray refuses an overflowing
 * size, and kt_secure_freep, as a _cleanup_ attribute, wipes and frees on
 * leaving the scope and leaves the variable NULL.
 *
 * Freed slots are poisoned under AddressSanitizer, so the wipe is checked
 * through kt_secmem_freed_is_wiped, never by reading freed memory here.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/crypto.h"
#include "keytool/secmem.h"
#include "meta/cleanup.h"
#include "tests/unit/testutil.h"

#define SLOTS_PER_TEST 3000 /* more 32-byte slots than one 64 KiB slab holds */
#define N_THREADS      8
#define N_CYCLES       10000
#define RING	       8 /* allocations each thread keeps alive at once */

/* Every size on a class boundary, and the slot it must get (0: sodium_malloc). */
static const struct {
	size_t len, slot;
} boundaries[] = {
    {0, 32},	{1, 32},    {32, 32},	{33, 64},   {64, 64}, {65, 128}, {128, 128},
    {129, 256}, {256, 256}, {257, 512}, {512, 512}, {513, 0}, {4096, 0}, {70000, 0},
};

static void setup(void)
{
	ck_assert_int_eq(kt_crypto_init(), 0);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

/* A pattern that differs between owners (tag) and along the buffer. */
static void fill(uint8_t *p, size_t len, uint32_t tag)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(tag * 131 + i * 7 + 1);
}

static bool holds(const uint8_t *p, size_t len, uint32_t tag)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != (uint8_t)(tag * 131 + i * 7 + 1))
			return false;
	}
	return true;
}

START_TEST(zeroed_on_alloc)
{
	for (size_t i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
		size_t len = boundaries[i].len;
		uint8_t *p = kt_secure_alloc(len);

		ck_assert_ptr_nonnull(p);
		ck_assert_msg(all_zero(p, len), "len %zu not zeroed", len);
		fill(p, len, (uint32_t)i);
		kt_secure_free(p);
		/* the same slot again, dirtied by its last owner */
		p = kt_secure_alloc(len);
		ck_assert_msg(all_zero(p, len), "len %zu not zeroed on reuse", len);
		kt_secure_free(p);
	}
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

START_TEST(class_boundaries)
{
	for (size_t i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
		size_t len = boundaries[i].len;
		uint8_t *p = kt_secure_alloc(len);

		ck_assert_ptr_nonnull(p);
		ck_assert_msg(kt_secmem_slot_size(p) == boundaries[i].slot, "len %zu: slot %zu",
			      len, kt_secmem_slot_size(p));
		if (boundaries[i].slot)
			ck_assert_uint_eq((uintptr_t)p % 16, 0);
		/* every requested byte is usable (ASan would report otherwise) */
		fill(p, len, 7);
		ck_assert(holds(p, len, 7));
		ck_assert_ptr_null(kt_secure_free(p));
	}
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (uint8_t *const *)a;
	uintptr_t y = (uintptr_t) * (uint8_t *const *)b;

	return x < y ? -1 : x > y;
}

START_TEST(distinct_slots)
{
	static const size_t sizes[] = {32, 48, 128, 512};

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s], slot;
		uint8_t **p = calloc(SLOTS_PER_TEST, sizeof(*p)), **sorted;

		ck_assert_ptr_nonnull(p);
		for (uint32_t i = 0; i < SLOTS_PER_TEST; i++) {
			p[i] = kt_secure_alloc(len);
			ck_assert_ptr_nonnull(p[i]);
			ck_assert_uint_eq((uintptr_t)p[i] % 16, 0);
			fill(p[i], len, i);
		}
		slot = kt_secmem_slot_size(p[0]);
		sorted = malloc(SLOTS_PER_TEST * sizeof(*sorted));
		ck_assert_ptr_nonnull(sorted);
		memcpy(sorted, p, SLOTS_PER_TEST * sizeof(*sorted));
		qsort(sorted, SLOTS_PER_TEST, sizeof(*sorted), cmp_ptr);
		for (size_t i = 1; i < SLOTS_PER_TEST; i++)
			ck_assert_msg(sorted[i - 1] + slot <= sorted[i], "slots %p and %p overlap",
				      (void *)sorted[i - 1], (void *)sorted[i]);
		for (uint32_t i = 0; i < SLOTS_PER_TEST; i++) {
			ck_assert_msg(holds(p[i], len, i), "slot %u overwritten", i);
			kt_secure_free(p[i]);
		}
		free(sorted);
		free(p);
	}
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

START_TEST(wiped_on_free)
{
	static const size_t sizes[] = {1, 32, 33, 100, 128, 200, 256, 400, 512};
	uint8_t *live = kt_secure_alloc(32);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = kt_secure_alloc(sizes[i]);

		memset(p, 0xff, sizes[i]);
		ck_assert(!kt_secmem_freed_is_wiped(p)); /* still allocated */
		kt_secure_free(p);
		ck_assert_msg(kt_secmem_freed_is_wiped(p), "len %zu: freed slot not wiped",
			      sizes[i]);
	}
	memset(live, 0xff, 32);
	ck_assert(!kt_secmem_freed_is_wiped(live));
	kt_secure_free(live);
	ck_assert(kt_secmem_freed_is_wiped(live));
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

START_TEST(reuse_after_free)
{
	uint8_t *p, *q, *r;

	p = kt_secure_alloc(KT_KEY_BYTES);
	kt_secure_free(p);
	q = kt_secure_alloc(KT_KEY_BYTES);
	ck_assert_ptr_eq(p, q); /* the slot just freed is the next one out */
	/* any size of the same class takes it */
	kt_secure_free(q);
	r = kt_secure_alloc(20);
	ck_assert_ptr_eq(p, r);
	/* another class does not */
	p = kt_secure_alloc(120);
	ck_assert_ptr_ne(p, r);
	kt_secure_free(p);
	kt_secure_free(r);
	/* alloc and free in turn keep taking the same slot */
	for (int i = 0; i < 100000; i++) {
		q = kt_secure_alloc(KT_KEY_BYTES);
		ck_assert_ptr_eq(q, r);
		kt_secure_free(q);
	}
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

START_TEST(free_null)
{
	ck_assert_ptr_null(kt_secure_free(NULL));
	ck_assert_ptr_null(kt_secmem_free(NULL));
}
END_TEST

START_TEST(allocarray)
{
	uint8_t *p = kt_secure_allocarray(3, KT_KEY_BYTES);

	ck_assert_ptr_nonnull(p);
	ck_assert(all_zero(p, 3 * KT_KEY_BYTES));
	fill(p, 3 * KT_KEY_BYTES, 9); /* every byte usable (ASan would say otherwise) */
	ck_assert(holds(p, 3 * KT_KEY_BYTES, 9));
	ck_assert_uint_ge(kt_secmem_slot_size(p), 3 * KT_KEY_BYTES);
	ck_assert_ptr_null(kt_secure_free(p));

	errno = 0;
	ck_assert_ptr_null(kt_secure_allocarray(SIZE_MAX / 8 + 1, 8));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	ck_assert_ptr_null(kt_secure_allocarray(2, SIZE_MAX / 2 + 1));
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

START_TEST(freep_cleanup)
{
	uint8_t *seen;

	{
		_cleanup_(kt_secure_freep) uint8_t *key = kt_secure_alloc(KT_KEY_BYTES);

		ck_assert_ptr_nonnull(key);
		fill(key, KT_KEY_BYTES, 5);
		seen = key;
	}
	/* wiped and freed when the scope ended, on this path as on any other */
	ck_assert(kt_secmem_freed_is_wiped(seen));
	{
		_cleanup_(kt_secure_freep) uint8_t *none = NULL; /* takes NULL */

		(void)none;
	}
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

START_TEST(freep_leaves_null)
{
	uint8_t *p = kt_secure_alloc(KT_KEY_BYTES);

	kt_secure_freep(&p);
	ck_assert_ptr_null(p);
	kt_secure_freep(&p); /* no double free: p is NULL now */
	ck_assert_ptr_null(p);
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

START_TEST(release_all_waits_for_slots)
{
	uint8_t *p = kt_secure_alloc(64), *big = kt_secure_alloc(4096);

	ck_assert_int_eq(kt_secmem_release_all(), -EBUSY);
	memset(p, 0x55, 64);
	ck_assert_uint_eq(p[63], 0x55); /* untouched by the refused release */
	kt_secure_free(p);
	/* large allocations are not pooled: they do not hold the slabs */
	ck_assert_int_eq(kt_secmem_release_all(), 0);
	kt_secure_free(big);
	/* and the pool starts over */
	p = kt_secure_alloc(64);
	ck_assert_ptr_nonnull(p);
	ck_assert(all_zero(p, 64));
	kt_secure_free(p);
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

/* The VmFlags of the mapping holding p, from /proc/self/smaps; "" if none. */
static void vm_flags(const void *p, char *ret, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;

	ret[0] = '\0';
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			snprintf(ret, size, "%s", line + 8);
	}
	fclose(f);
}

/* Whether mlock of a slab can succeed here: privileged, or the limit allows.
 * Never under AddressSanitizer, which turns mlock into a no-op. */
static bool can_lock(void)
{
#ifdef __SANITIZE_ADDRESS__
	return false;
#else
	struct rlimit rl;

	return geteuid() == 0 ||
	       (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur >= 1024 * 1024);
#endif
}

START_TEST(locked_and_not_dumped)
{
	static const size_t sizes[] = {32, 128, 512, 4096};
	char flags[512];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = kt_secure_alloc(sizes[i]);

		vm_flags(p, flags, sizeof(flags));
		ck_assert_msg(strstr(flags, " dd"), "len %zu: dumpable (VmFlags:%s)", sizes[i],
			      flags);
		if (can_lock())
			ck_assert_msg(strstr(flags, " lo"), "len %zu: not locked (VmFlags:%s)",
				      sizes[i], flags);
		kt_secure_free(p);
	}
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

struct worker {
	uint32_t id;
	unsigned int errors; /* patterns found overwritten, or memory not zeroed */
};

/* Sizes over every class, and now and then the sodium_malloc path. */
static size_t worker_len(uint32_t n)
{
	static const size_t lens[] = {
	    32, 32, 128, 1, 64, 33, 200, 512, 32, 128, 300, 16, 128, 32, 100, 600,
	};

	return lens[n % (sizeof(lens) / sizeof(lens[0]))];
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t *ring[RING] = {NULL};
	uint32_t tag[RING] = {0};
	size_t len[RING] = {0};

	for (uint32_t n = 0; n < N_CYCLES + RING; n++) {
		unsigned int i = n % RING;

		if (ring[i]) {
			if (!holds(ring[i], len[i], tag[i]))
				w->errors++;
			ring[i] = kt_secure_free(ring[i]);
		}
		if (n >= N_CYCLES)
			continue;
		len[i] = worker_len(n + w->id);
		tag[i] = (w->id << 24) | n;
		ring[i] = kt_secure_alloc(len[i]);
		if (!ring[i] || !all_zero(ring[i], len[i])) {
			w->errors++;
			continue;
		}
		fill(ring[i], len[i], tag[i]);
	}
	return NULL;
}

START_TEST(many_threads)
{
	pthread_t t[N_THREADS];
	struct worker w[N_THREADS];

	for (uint32_t i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){.id = i};
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < N_THREADS; i++)
		ck_assert_msg(w[i].errors == 0, "thread %d: %u errors", i, w[i].errors);
	/* every slot came back */
	ck_assert_int_eq(kt_secmem_release_all(), 0);
}
END_TEST

/* ---- misuse: each must abort ----------------------------------------- */

/* A stray write, as a bug elsewhere would make it: not checked by ASan, so
 * that the allocator's own check is what is tested. */
__attribute__((no_sanitize_address)) static void stray_write(uint8_t *p, uint8_t v)
{
	*(volatile uint8_t *)p = v;
}

__attribute__((no_sanitize_address)) static uint8_t stray_read(const uint8_t *p)
{
	return *(const volatile uint8_t *)p;
}

/* The aborts below are expected: no core files from them. */
static void no_core(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
}

START_TEST(abort_double_free)
{
	uint8_t *p = kt_secure_alloc(32);

	no_core();
	kt_secure_free(p);
	kt_secure_free(p);
}
END_TEST

START_TEST(abort_double_free_later)
{
	uint8_t *p = kt_secure_alloc(32), *q = kt_secure_alloc(32);

	/* freed in between: p's header says free, whatever came after */
	no_core();
	kt_secure_free(p);
	kt_secure_free(q);
	kt_secure_free(p);
}
END_TEST

START_TEST(abort_interior_pointer)
{
	uint8_t *p = kt_secure_alloc(128);

	no_core();
	kt_secure_free(p + 32);
}
END_TEST

START_TEST(abort_stack_pointer)
{
	_Alignas(16) uint8_t buf[64] = {0};

	no_core();
	kt_secure_free(buf + 16);
}
END_TEST

START_TEST(abort_sodium_pointer)
{
	/* the old allocator's memory is not this one's */
	uint8_t *p = sodium_malloc(32);

	no_core();
	kt_secure_free(p);
}
END_TEST

START_TEST(abort_overwritten_header)
{
	uint8_t *p = kt_secure_alloc(32);

	/* an overflow from the slot before reaches this slot's header */
	no_core();
	stray_write(p - 16, stray_read(p - 16) ^ 0x41); /* always a change */
	kt_secure_free(p);
}
END_TEST

/*
 * Every byte of a slot's header, changed: the free aborts,
 * never takes the slot for another class or for a large region (the tag
 * used to carry the class in its low byte, XORed with the key only: one
 * byte in about 40 turned a slab slot into a "large region" and sodium_free
 * crashed on it, or into another class and corrupted a free list).
 */
START_TEST(every_header_byte_change_aborts)
{
	no_core();
	for (int pos = 0; pos < 16; pos++) {
		/* every value in the two bytes that carried class and state, a
		 * sample elsewhere (a fork each) */
		for (int i = 0; i < (pos < 2 ? 256 : 8); i++) {
			static const uint8_t sample[8] = {0x00, 0x01, 0x0f, 0x41,
							  0x5a, 0x80, 0xa5, 0xff};
			uint8_t *p = kt_secure_alloc(32);
			uint8_t old = stray_read(p + pos - 16);
			int v = pos < 2 ? i : sample[i], status = 0;
			pid_t pid;

			if (v == old) {
				kt_secure_free(p);
				continue;
			}
			pid = fork();
			ck_assert_int_ge(pid, 0);
			if (pid == 0) {
				int devnull = open("/dev/null", O_WRONLY);

				if (devnull >= 0)
					dup2(devnull, STDERR_FILENO); /* 4,000 abort lines */
				stray_write(p + pos - 16, (uint8_t)v);
				kt_secure_free(p);
				_exit(0); /* not refused */
			}
			ck_assert_int_eq(waitpid(pid, &status, 0), pid);
			ck_assert_msg(
			    WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
			    "header byte %d set to 0x%02x: free did not abort (status %#x)", pos, v,
			    status);
			kt_secure_free(p);
		}
	}
}
END_TEST

START_TEST(abort_overwritten_link)
{
	uint8_t *p = kt_secure_alloc(32);

	/* a write after free into the free list's link: caught when the slot is
	 * handed out again, before the bad link is followed */
	no_core();
	kt_secure_free(p);
	stray_write(p - 8, stray_read(p - 8) ^ 0x41); /* always a change */
	(void)kt_secure_alloc(32);
}
END_TEST

static Suite *secmem_suite(void)
{
	Suite *s = suite_create("secmem");
	const char *fork = getenv("CK_FORK");
	TCase *tc = tcase_create("pool");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, zeroed_on_alloc);
	tcase_add_test(tc, class_boundaries);
	tcase_add_test(tc, distinct_slots);
	tcase_add_test(tc, wiped_on_free);
	tcase_add_test(tc, reuse_after_free);
	tcase_add_test(tc, free_null);
	tcase_add_test(tc, allocarray);
	tcase_add_test(tc, freep_cleanup);
	tcase_add_test(tc, freep_leaves_null);
	tcase_add_test(tc, release_all_waits_for_slots);
	tcase_add_test(tc, locked_and_not_dumped);
	tcase_add_test(tc, many_threads);
	suite_add_tcase(s, tc);

	/* An abort can only be expected of a forked test. */
	if (fork && strcmp(fork, "no") == 0)
		return s;
	tc = tcase_create("misuse");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test_raise_signal(tc, abort_double_free, SIGABRT);
	tcase_add_test_raise_signal(tc, abort_double_free_later, SIGABRT);
	tcase_add_test_raise_signal(tc, abort_interior_pointer, SIGABRT);
	tcase_add_test_raise_signal(tc, abort_stack_pointer, SIGABRT);
	tcase_add_test_raise_signal(tc, abort_sodium_pointer, SIGABRT);
	tcase_add_test_raise_signal(tc, abort_overwritten_header, SIGABRT);
	tcase_add_test_raise_signal(tc, abort_overwritten_link, SIGABRT);
	tcase_add_test(tc, every_header_byte_change_aborts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (kt_crypto_init() < 0)
		return EXIT_FAILURE;
	return tu_run(secmem_suite());
}
