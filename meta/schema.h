/*
 * meta/schema.h — private to meta/: creating and migrating vault.db's schema.
 *
 * PRAGMA user_version holds the schema version. Version 0 is an empty
 * database; the step 0 → 1 creates every table, the root directory and the
 * default configuration. Later versions append steps (schema.c); a vault is
 * migrated when opened read-write and refused (-EPROTO) read-only. At every
 * open the schema is compared with the one the steps make (docs/format.md §8).
 */
#pragma once

#include <stddef.h>

struct meta_db;

/* Create schema version META_SCHEMA_VERSION in an empty database, inside the
 * caller's transaction. -EPROTO if the database already has a schema. */
int meta_schema_create(struct meta_db *db);

/*
 * Check the version of an existing vault: -EPROTO if it is 0 (not a vault),
 * newer than this build, or older and db is read-only; an older version is
 * migrated in its own transaction. Then check its schema: every table,
 * index, trigger and view (sqlite_schema) must be the one this build makes,
 * else -EPROTO with "unexpected trigger 'x'" (or missing, altered; see
 * meta_db_open_why) in why, and a migration is rolled back. why (why_size
 * bytes, may be NULL) is "" on any other outcome. -ENOMEM, -EBUSY/-EIO on
 * SQLite failures.
 */
int meta_schema_open(struct meta_db *db, char *why, size_t why_size);
