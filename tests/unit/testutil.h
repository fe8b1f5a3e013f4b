/*
 * tests/unit/testutil.h — helpers shared by the Check unit tests.
 */
#pragma once

#include <check.h>

/* A fresh empty directory under $TMPDIR (or /tmp); malloc'd path. */
char *tu_tmpdir(void);
/* rm -rf path (for test teardown); ignores errors. */
void tu_rmrf(const char *path);
/* Run a suite with CK_NORMAL output; returns the process exit status. */
int tu_run(Suite *s);
