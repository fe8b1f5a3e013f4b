/*
 * vaultfs/checkpoint.h — WAL checkpoints in a thread of their own.
 *
 * Every namespace change commits to vault.db's write-ahead log; now and then
 * the log has to be copied back into the database (a checkpoint: a thousand
 * page writes and two fsyncs). Done inside a commit, as SQLite does by
 * default, that lands on whichever request happens to cross the threshold.
 * Here a thread with its own connection does it instead, on the other core,
 * while requests go on committing (meta_db_checkpoint_elsewhere).
 */
#pragma once

#include "meta/db.h"

struct vfs_checkpointer;

/*
 * Open a second connection to the vault in dir and start the thread; from
 * now on commits on db leave checkpoints to it. -errno on failure (db is then
 * unchanged).
 */
int vfs_checkpointer_start(const char *dir, struct meta_db *db, struct vfs_checkpointer **ret);
/*
 * Give checkpoints back to db's commits, stop the thread and close its
 * connection (takes NULL); returns NULL. Nothing may use db meanwhile.
 */
struct vfs_checkpointer *vfs_checkpointer_stop(struct vfs_checkpointer *c);
