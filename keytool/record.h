/*
 * keytool/record.h — who the access records of key operations name
 * (keytool/record.c): this process, unless a daemon acting for a peer says
 * otherwise.
 */
#pragma once

#include <stdint.h>

/*
 * The identity (uid, pid, process name) recorded for key operations that
 * this thread performs: by default this process's own. A daemon acting for
 * another process (the unlock socket of a multi-user mount) sets the peer's
 * identity around the call, so a refused unlock names who tried. Thread-local.
 */
void kt_actor_set(int64_t uid, int64_t pid, const char *comm);
void kt_actor_clear(void);
