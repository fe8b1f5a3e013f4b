/*
 * vaultfs/ops.c — the FUSE low-level operations table of the vault.
 *
 * The handlers live in the op_*.c files, by family (attributes, names, open
 * files, directories, xattrs), on the helpers of caller.c, keys.c, removal.c
 * and openfile.c; ops-internal.h is what they share. Here: the connection's
 * setup (vfs_init) and the table libfuse is given.
 *
 * Each handler returns through fuse_reply_*; internal helpers return 0 or
 * -errno. The pattern of a namespace change: take db_lock, BEGIN, read what
 * is needed, authorise against levels (a refusal appends a denial record and
 * changes nothing), apply the change, append its access record, COMMIT,
 * release db_lock, reply. Content reads and writes take only the inode's
 * rwlock and touch the blob; size and mtime reach the blob header and the
 * database at fsync and release. There is no flush: writes are synchronous,
 * so close() has nothing to wait for, and without a flush handler the kernel
 * stops sending FLUSH (one round trip less per close).
 *
 * POSIX permission bits are checked by the kernel (the mount always uses
 * default_permissions); the operations add classification: a caller must hold
 * a file's level to open it (and hold it writably to write), and must hold a
 * folder's level writably to change what is in it.
 */
#include "vaultfs/ops-internal.h"

static void vfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct vfs *v = userdata;

	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Locks stay in the kernel: one daemon serves one machine. */
	conn->want &= ~(unsigned)(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	/* Requests must come through our transport's read (fuseio.h: it notes
	 * which ones ask to drop set-ID bits); a splice would bypass it. */
	conn->want &= ~(unsigned)FUSE_CAP_SPLICE_READ;
	/* Content changes only through this daemon, so the kernel need not
	 * fetch the attributes before reads to see whether someone else changed
	 * the file (after every write: a GETATTR per read in a mixed workload).
	 * In multi-user mode nothing is cached anyway. */
	if (!v->multi_user)
		conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* Always READDIRPLUS, not only for a directory's first batch: a program
	 * walking a tree (find, md5sum, ls -l, tar c) then needs no LOOKUP per
	 * name, the names and attributes are cached from the listing. In
	 * multi-user mode the kernel caches neither, so it stays adaptive. */
	if (!v->multi_user && (conn->capable & FUSE_CAP_READDIRPLUS))
		conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
}

const struct fuse_lowlevel_ops vfs_ops = {
    .init = vfs_init,
    .lookup = vfs_lookup,
    .forget = vfs_forget,
    .forget_multi = vfs_forget_multi,
    .getattr = vfs_getattr,
    .setattr = vfs_setattr,
    .readlink = vfs_readlink,
    .mknod = vfs_mknod,
    .mkdir = vfs_mkdir,
    .unlink = vfs_unlink,
    .rmdir = vfs_rmdir,
    .symlink = vfs_symlink,
    .rename = vfs_rename,
    .link = vfs_link,
    .open = vfs_open,
    .read = vfs_read,
    .write = vfs_write,
    .release = vfs_release,
    .fsync = vfs_fsync,
    .opendir = vfs_opendir,
    .readdir = vfs_readdir,
    .readdirplus = vfs_readdirplus,
    .statfs = vfs_statfs,
    .setxattr = vfs_setxattr,
    .getxattr = vfs_getxattr,
    .listxattr = vfs_listxattr,
    .removexattr = vfs_removexattr,
    .create = vfs_create,
};
