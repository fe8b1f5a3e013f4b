/*
 * keytool/secmem.h — a pool of locked memory for small secrets.
 *
 * What kt_secure_alloc and kt_secure_free (crypto.h) stand on. Requests of up
 * to KT_SECMEM_SMALL_MAX bytes get a slot in a slab: a large sodium_malloc
 * region (so locked, kept out of core dumps and between guard pages) carved
 * into slots of one size class. Larger requests get their own sodium_malloc
 * region, as before. Every pointer carries a tagged header; freeing anything
 * that did not come from kt_secmem_alloc, or freeing twice, aborts.
 *
 * Thread-safe. libsodium must be initialised first (kt_crypto_init).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The largest request served from a slab; bigger ones go to sodium_malloc. */
#define KT_SECMEM_SMALL_MAX 512

/* len zeroed bytes of locked, non-dumpable memory, 16-byte aligned when
 * len <= KT_SECMEM_SMALL_MAX. NULL (errno ENOMEM) when out of memory. */
void *kt_secmem_alloc(size_t len);

/* Wipe and release p; NULL is a no-op. Always returns NULL. Aborts on a
 * pointer kt_secmem_alloc did not return, or one already freed. */
void *kt_secmem_free(void *p);

/* Return every slab to libsodium (for tests and leak checkers; the daemon
 * keeps its slabs for its life). -EBUSY, and nothing released, while any
 * slot is still allocated. */
int kt_secmem_release_all(void);

/* For tests: the size of the slot holding p (allocated, or freed if it was
 * at most KT_SECMEM_SMALL_MAX bytes), or 0 if p came straight from
 * sodium_malloc. Aborts on a foreign pointer. */
size_t kt_secmem_slot_size(const void *p);

/* For tests: true if p, a pointer of at most KT_SECMEM_SMALL_MAX bytes once
 * returned by kt_secmem_alloc and since freed, is still a free slot whose
 * every byte is zero. Reads the slot the way AddressSanitizer allows (free
 * slots are poisoned under ASan). */
bool kt_secmem_freed_is_wiped(const void *p);
