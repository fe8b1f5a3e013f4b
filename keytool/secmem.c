/*
 * keytool/secmem.c — a slab allocator for small secrets in locked memory.
 *
 * sodium_malloc costs about ten system calls per allocation and free (mmap,
 * mprotect of two guard pages, mlock, madvise, and the reverse), and in the
 * multi-threaded daemon every mprotect and munmap interrupts the other CPUs
 * to flush their TLBs. The daemon needs two small secrets per file open, so
 * small requests are served here from slabs instead: SLAB_BYTES regions taken
 * once from sodium_malloc (locked, MADV_DONTDUMP, between guard pages) and
 * kept for the life of the process, each carved into slots of one size class.
 * Larger requests still get a sodium_malloc region of their own.
 *
 * Every slot starts with a SLOT_HDR-byte header; the caller's memory follows
 * it, 16-byte aligned. The header's tag binds the slot's address, its class,
 * its state (allocated or free) and its free-list link to a random per-process
 * key: a freed foreign pointer, a double free, or an overflow into the next
 * slot's header is caught on free (or when the slot is next handed out) and
 * aborts, rather than corrupting the free list. Requests above the largest
 * class carry the same header (class CLASS_LARGE) at the start of their
 * sodium_malloc region, so the caller's bytes still end at the guard page.
 *
 * Free slots are all zero: a slot is wiped with sodium_memzero before it goes
 * back on its free list, and a new slab is wiped before it is carved.
 *
 * Under AddressSanitizer free slots and every slot header are poisoned, and
 * only the requested length of an allocated slot is addressable, so a use
 * after free or an overflow of a pooled secret is reported as it happens
 * (sodium_malloc's guard pages and unmapping caught those before).
 *
 * Locking: each size class has its own mutex over its free list, its slab
 * list and its count of slots in use. A slot's header is touched without the
 * lock only by the thread that owns the allocated slot.
 */
#include "keytool/secmem.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#if defined(__SANITIZE_ADDRESS__)
#define SECMEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECMEM_ASAN 1
#endif
#endif

#ifdef SECMEM_ASAN
#include <sanitizer/asan_interface.h>
#define poison(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define poison(p, n)   ((void)(p), (void)(n))
#define unpoison(p, n) ((void)(p), (void)(n))
#endif

#define SLAB_BYTES  (64 * 1024) /* a multiple of the page size: slabs start page-aligned */
#define SLOT_HDR    16		/* header before every slot; keeps slots 16-byte aligned */
#define N_CLASSES   5
#define CLASS_LARGE 0x0f /* in a header: a sodium_malloc region of its own */
#define STATE_USED  0x5a
#define STATE_FREE  0xa5
#define TAG_MIX	    0x9e3779b97f4a7c15ULL /* odd: spreads the link over all 64 bits */

/* A slot's header, stored with memcpy: a large region's header need not be
 * aligned (sodium_malloc places the caller's bytes against the guard page). */
struct slot_hdr {
	uint64_t tag;  /* tag_make(slot, class, state, next) */
	uint8_t *next; /* the next free slot of the class; NULL while allocated */
};

/* The first SLOT_HDR bytes of every slab. */
struct slab {
	struct slab *next; /* the class's next slab */
};

struct size_class {
	pthread_mutex_t lock;
	size_t size;		/* bytes the caller may use in each slot */
	uint8_t *free;		/* header of the first free slot; Locking: lock */
	struct slab *slabs;	/* every slab of the class; Locking: lock */
	size_t in_use;		/* slots handed out and not yet freed; Locking: lock */
} __attribute__((aligned(64))); /* one cache line each: the classes do not contend */

static struct size_class classes[N_CLASSES] = {
    {.lock = PTHREAD_MUTEX_INITIALIZER, .size = 32},
    {.lock = PTHREAD_MUTEX_INITIALIZER, .size = 64},
    {.lock = PTHREAD_MUTEX_INITIALIZER, .size = 128},
    {.lock = PTHREAD_MUTEX_INITIALIZER, .size = 256},
    {.lock = PTHREAD_MUTEX_INITIALIZER, .size = KT_SECMEM_SMALL_MAX},
};

static uint64_t tag_key; /* random, set once by tag_key_init */
static pthread_once_t tag_key_once = PTHREAD_ONCE_INIT;

_Static_assert(sizeof(struct slot_hdr) <= SLOT_HDR, "slot header fits");
_Static_assert(sizeof(struct slab) <= SLOT_HDR, "slab header fits");
_Static_assert(SLOT_HDR % 16 == 0 && SLAB_BYTES % 4096 == 0, "slots 16-byte aligned");
_Static_assert(N_CLASSES < CLASS_LARGE, "class numbers fit below CLASS_LARGE");

static void tag_key_make(void)
{
	randombytes_buf(&tag_key, sizeof(tag_key));
}

static void tag_key_init(void)
{
	(void)pthread_once(&tag_key_once, tag_key_make);
}

/* A broken header means memory corruption or a pointer from elsewhere: stop
 * before the free list hands one secret's memory to two owners. */
__attribute__((noreturn)) static void corrupt(const char *why)
{
	static const char prefix[] = "vaultfs: secure memory: ";

	(void)!write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
	(void)!write(STDERR_FILENO, why, strlen(why));
	(void)!write(STDERR_FILENO, "\n", 1);
	abort();
}

/* splitmix64's finaliser: a bijection in which every input bit moves about
 * half the output bits, so no byte of a tag can be changed to another valid
 * tag except by chance (2^-64 per guess). */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t tag_make(const uint8_t *slot, unsigned int cls, unsigned int state,
			 const uint8_t *next)
{
	return mix64(tag_key ^ ((uint64_t)(uintptr_t)slot << 16) ^
		     ((uint64_t)(uintptr_t)next * TAG_MIX) ^ ((uint64_t)state << 8) ^ cls);
}

/* Loading or storing leaves the header addressable; the caller poisons it
 * again once it is done with a slab slot. */
static void hdr_load(const uint8_t *slot, struct slot_hdr *ret_h)
{
	unpoison(slot, SLOT_HDR);
	memcpy(ret_h, slot, sizeof(*ret_h));
}

static void hdr_store(uint8_t *slot, unsigned int cls, unsigned int state, uint8_t *next)
{
	struct slot_hdr h = {.tag = tag_make(slot, cls, state, next), .next = next};

	unpoison(slot, SLOT_HDR);
	memcpy(slot, &h, sizeof(h));
}

/* The class of slot, whose header must be intact and in state want (0: either
 * state). Aborts otherwise. */
static unsigned int hdr_check(const uint8_t *slot, unsigned int want, struct slot_hdr *ret_h)
{
	static const unsigned int states[] = {STATE_USED, STATE_FREE};

	hdr_load(slot, ret_h);
	/* The tag is a hash: try each class and state a header can hold. */
	for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		for (unsigned int cls = 0; cls < N_CLASSES; cls++) {
			if (ret_h->tag != tag_make(slot, cls, states[s], ret_h->next))
				continue;
			if (want && states[s] != want)
				corrupt(states[s] == STATE_FREE ? "double free"
								: "allocated slot on a free list");
			return cls;
		}
	}
	/* a large region is only ever in use, and links to nothing */
	if (!ret_h->next && ret_h->tag == tag_make(slot, CLASS_LARGE, STATE_USED, NULL)) {
		if (want == STATE_FREE)
			corrupt("allocated slot on a free list");
		return CLASS_LARGE;
	}
	corrupt("bad slot header (foreign pointer or overwritten memory)");
}

/* The smallest class holding len bytes, or -1: too big for a slab. */
static int class_of(size_t len)
{
	for (int c = 0; c < N_CLASSES; c++) {
		if (len <= classes[c].size)
			return c;
	}
	return -1;
}

/* Add a slab to class c and thread its slots onto the free list, lowest
 * address first. Locking: sc->lock held. */
static int slab_grow(struct size_class *sc, unsigned int c)
{
	size_t stride = SLOT_HDR + sc->size;
	size_t n = (SLAB_BYTES - SLOT_HDR) / stride;
	struct slab *sl = sodium_malloc(SLAB_BYTES);
	uint8_t *first;

	if (!sl)
		return -ENOMEM;
	sodium_memzero(sl, SLAB_BYTES); /* sodium_malloc fills with 0xdb; free slots are zero */
	sl->next = sc->slabs;
	sc->slabs = sl;
	first = (uint8_t *)sl + SLOT_HDR;
	for (size_t i = n; i-- > 0;) {
		uint8_t *slot = first + i * stride;

		hdr_store(slot, c, STATE_FREE, sc->free);
		sc->free = slot;
	}
	poison(first, n * stride);
	return 0;
}

/* Take a free slot of class c (its header), growing the class if needed;
 * NULL when out of memory. */
static uint8_t *slot_pop(unsigned int c)
{
	struct size_class *sc = &classes[c];
	struct slot_hdr h;
	uint8_t *slot;

	pthread_mutex_lock(&sc->lock);
	if (!sc->free && slab_grow(sc, c) < 0) {
		pthread_mutex_unlock(&sc->lock);
		return NULL;
	}
	slot = sc->free;
	if (hdr_check(slot, STATE_FREE, &h) != c)
		corrupt("free slot in the wrong class");
	sc->free = h.next;
	hdr_store(slot, c, STATE_USED, NULL);
	poison(slot, SLOT_HDR);
	sc->in_use++;
	pthread_mutex_unlock(&sc->lock);
	return slot;
}

/* Put slot, wiped, back on the free list of class c. */
static void slot_push(unsigned int c, uint8_t *slot)
{
	struct size_class *sc = &classes[c];
	struct slot_hdr h;

	pthread_mutex_lock(&sc->lock);
	/* Checked again under the lock: of two racing frees, one must abort. */
	(void)hdr_check(slot, STATE_USED, &h);
	hdr_store(slot, c, STATE_FREE, sc->free);
	poison(slot, SLOT_HDR + sc->size);
	sc->free = slot;
	sc->in_use--;
	pthread_mutex_unlock(&sc->lock);
}

/* A sodium_malloc region of its own, with a header so that free can tell. */
static void *large_alloc(size_t len)
{
	uint8_t *slot;

	if (len > SIZE_MAX - SLOT_HDR) {
		errno = ENOMEM;
		return NULL;
	}
	slot = sodium_malloc(SLOT_HDR + len);
	if (!slot)
		return NULL;
	sodium_memzero(slot, SLOT_HDR + len);
	hdr_store(slot, CLASS_LARGE, STATE_USED, NULL);
	return slot + SLOT_HDR;
}

void *kt_secmem_alloc(size_t len)
{
	int c = class_of(len);
	uint8_t *slot, *p;

	tag_key_init();
	if (c < 0)
		return large_alloc(len);
	slot = slot_pop((unsigned int)c);
	if (!slot)
		return NULL;
	p = slot + SLOT_HDR;
	unpoison(p, len);
	/* Free slots are already zero; cleared again so that a stray write into
	 * a free slot cannot reach the next owner. Costs a few stores. */
	memset(p, 0, len);
	return p;
}

void *kt_secmem_free(void *p)
{
	uint8_t *slot;
	struct slot_hdr h;
	unsigned int c;

	if (!p)
		return NULL;
	tag_key_init();
	slot = (uint8_t *)p - SLOT_HDR;
	c = hdr_check(slot, STATE_USED, &h);
	if (c == CLASS_LARGE) {
		sodium_free(slot); /* wipes the whole region */
		return NULL;
	}
	unpoison(p, classes[c].size);
	sodium_memzero(p, classes[c].size);
	slot_push(c, slot);
	return NULL;
}

static void slabs_free(struct size_class *sc)
{
	while (sc->slabs) {
		struct slab *sl = sc->slabs;

		sc->slabs = sl->next;
		/* stale poison would outlive the mapping and hit its next user */
		unpoison(sl, SLAB_BYTES);
		sodium_free(sl);
	}
	sc->free = NULL;
}

int kt_secmem_release_all(void)
{
	int r = 0;

	/* All locks at once, in class order, so the check and the release agree. */
	for (int c = 0; c < N_CLASSES; c++)
		pthread_mutex_lock(&classes[c].lock);
	for (int c = 0; c < N_CLASSES; c++) {
		if (classes[c].in_use)
			r = -EBUSY;
	}
	for (int c = 0; c < N_CLASSES && r == 0; c++)
		slabs_free(&classes[c]);
	for (int c = N_CLASSES - 1; c >= 0; c--)
		pthread_mutex_unlock(&classes[c].lock);
	return r;
}

size_t kt_secmem_slot_size(const void *p)
{
	const uint8_t *slot = (const uint8_t *)p - SLOT_HDR;
	struct slot_hdr h;
	unsigned int c;

	tag_key_init();
	c = hdr_check(slot, 0, &h);
	if (c == CLASS_LARGE)
		return 0;
	poison(slot, SLOT_HDR);
	return classes[c].size;
}

bool kt_secmem_freed_is_wiped(const void *p)
{
	const uint8_t *slot = (const uint8_t *)p - SLOT_HDR;
	const uint8_t *b = p;
	struct size_class *sc;
	struct slot_hdr h;
	unsigned int c;
	uint8_t acc = 0;
	bool wiped;

	tag_key_init();
	c = hdr_check(slot, 0, &h);
	if (c == CLASS_LARGE)
		corrupt("freed_is_wiped on a large allocation");
	sc = &classes[c];
	pthread_mutex_lock(&sc->lock);
	/* again under the lock: another thread may have taken the slot */
	wiped = hdr_check(slot, 0, &h) == c && h.tag == tag_make(slot, c, STATE_FREE, h.next);
	if (wiped) {
		unpoison(b, sc->size);
		for (size_t i = 0; i < sc->size; i++)
			acc |= b[i];
		wiped = acc == 0;
		poison(b, sc->size);
	}
	poison(slot, SLOT_HDR);
	pthread_mutex_unlock(&sc->lock);
	return wiped;
}
