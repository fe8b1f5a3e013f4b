/*
 * meta/cleanup.h — the _cleanup_ attribute, shared by every library above
 * it: a variable declared _cleanup_(f) has f(&variable) called when it goes
 * out of scope, on every return path (GCC and Clang's cleanup attribute).
 *
 * The cleanup functions take a pointer to the variable, take NULL in it, and
 * leave it NULL (meta_stmt_donep in meta/internal.h, kt_secure_freep in
 * keytool/crypto.h).
 */
#pragma once

#ifndef _cleanup_
#define _cleanup_(f) __attribute__((cleanup(f)))
#endif
