/*
 * vaultfs/main.c — the vaultfs command: unlock a user's keys and serve the
 * vault on a FUSE mount.
 *
 *   vaultfs VAULT MOUNTPOINT --user NAME [--passphrase-file F] [-f] [-d] [-o OPTS]
 *
 * Everything that can fail (vault, lock, passphrase, mount) happens before the
 * command returns. Without -f the work runs in a child process and the parent
 * waits on a pipe for "mounted" or for the child's exit status, so a script
 * can use the mount as soon as the command returns and sees every failure as
 * one line and an exit code (0 ok, 1 failed, 2 usage, 3 denied or wrong
 * passphrase, 4 no vault).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "cli/cli.h"
#include "keytool/store.h"
#include "vaultfs/blobpool.h"
#include "vaultfs/anchor.h"
#include "vaultfs/checkpoint.h"
#include "vaultfs/control.h"
#include "vaultfs/deferred.h"
#include "vaultfs/fuseio.h"
#include "vaultfs/ops.h"
#include "vaultfs/journalfeed.h"
#include "vaultfs/record.h"
#include "keytool/control-proto.h"
#include "meta/ns.h"

struct options {
	char *vault;	       /* first positional argument */
	char *mountpoint;      /* second positional argument */
	char *user;	       /* --user */
	char *passphrase_file; /* --passphrase-file */
	char *idle_text;       /* --idle-timeout */
	char *witness;	       /* --witness: a witness directory for checkpoints */
	struct vfs_idle idle;  /* parsed idle timeouts per level */
	int journal;	       /* -o journal: records also to the system journal */
	int journal_paths;     /* -o journal_paths: with their paths */
	int foreground;	       /* -f */
	int debug;	       /* -d */
	int help;
	int version;
};

enum { KEY_HELP, KEY_VERSION, KEY_FOREGROUND, KEY_DEBUG };

#define OPT(t, p)                                                                                  \
	{                                                                                          \
		t, offsetof(struct options, p), 1                                                  \
	}
static const struct fuse_opt option_spec[] = {OPT("--user=%s", user),
					      OPT("--user %s", user),
					      OPT("--passphrase-file=%s", passphrase_file),
					      OPT("--passphrase-file %s", passphrase_file),
					      OPT("--idle-timeout=%s", idle_text),
					      OPT("--idle-timeout %s", idle_text),
					      OPT("--witness=%s", witness),
					      OPT("--witness %s", witness),
					      OPT("journal", journal),
					      OPT("journal_paths", journal_paths),
					      FUSE_OPT_KEY("-h", KEY_HELP),
					      FUSE_OPT_KEY("--help", KEY_HELP),
					      FUSE_OPT_KEY("-V", KEY_VERSION),
					      FUSE_OPT_KEY("--version", KEY_VERSION),
					      FUSE_OPT_KEY("-f", KEY_FOREGROUND),
					      FUSE_OPT_KEY("-d", KEY_DEBUG),
					      FUSE_OPT_KEY("debug", KEY_DEBUG),
					      FUSE_OPT_END};

static const char usage_line[] =
    "usage: vaultfs VAULT MOUNTPOINT [--user NAME [--passphrase-file FILE]] [--idle-timeout SPEC]\n"
    "               [--witness DIR] [-f] [-d] [-o OPTIONS]\n";

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->vault) {
			o->vault = strdup(arg);
			return 0;
		}
		if (!o->mountpoint) {
			o->mountpoint = strdup(arg);
			return 0;
		}
		cli_error("unexpected argument '%s'", arg);
		return -1;
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	case KEY_FOREGROUND:
		o->foreground = 1;
		return 0;
	case KEY_DEBUG:
		o->debug = 1;
		o->foreground = 1;
		return fuse_opt_add_arg(outargs, "-odebug");
	default:
		return 1; /* keep for libfuse */
	}
}

static void print_help(void)
{
	printf(
	    "%s\n"
	    "Serve a vaultfs vault on a FUSE mount.\n\n"
	    "With --user, one vault user's keys serve the mount (single-user mode). Without it,\n"
	    "every caller is the vault user of their uid and unlocks their own keys with\n"
	    "'vaultfs-keytool unlock MOUNTPOINT' (multi-user mode; use -o allow_other).\n\n"
	    "  --user NAME              the vault user whose keys unlock the files\n"
	    "  --passphrase-file FILE   read the passphrase from FILE (default: ask on the "
	    "terminal)\n"
	    "  --idle-timeout SPEC      multi-user mode: lock a level after it is unused this "
	    "long,\n"
	    "                           e.g. 0=8h,1=8h,2=1h,3=15m (default; 0 = never)\n"
	    "  --witness DIR            a witness directory outside the vault: the mount is\n"
	    "                           refused if the vault's access record does not extend\n"
	    "                           the checkpoint it holds, and every checkpoint signed\n"
	    "                           while mounted is offered to it\n"
	    "  -f                       stay in the foreground\n"
	    "  -d                       debug output (implies -f)\n"
	    "  -o journal               send every access record to the system journal too\n"
	    "  -o journal_paths         ... with its paths (names may be personal data)\n"
	    "  -o OPTIONS               FUSE mount options, e.g. allow_other\n"
	    "  -h, --help               this help\n"
	    "  -V, --version            version\n\n"
	    "Unmount with: fusermount3 -u MOUNTPOINT\n"
	    "Exit status: 0 ok, 1 failed, 2 usage, 3 denied or wrong passphrase, 4 no vault.\n\n"
	    "FUSE options:\n",
	    usage_line);
	fuse_lowlevel_help();
}

/* Report the outcome of start-up to the waiting parent (if any), once: *fd
 * is closed and set to -1. */
static void report(int *fd, int code)
{
	unsigned char c = (unsigned char)code;

	if (*fd >= 0) {
		if (write(*fd, &c, 1) != 1) {
			/* The parent is gone; nothing else to tell. */
		}
		close(*fd);
		*fd = -1;
	}
}

/* Detach from the terminal after a successful start-up. */
static void detach(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)setsid();
	if (chdir("/") < 0) {
		/* "/" always exists; stay where we are otherwise. */
	}
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

static int open_vault(struct vfs *v, const struct options *o, int *ret_lock_fd)
{
	char path[PATH_MAX], why[META_OPEN_WHY_MAX];
	int r, fd;

	v->vault_dir = realpath(o->vault, NULL);
	if (!v->vault_dir) {
		cli_error("no vault at %s (create one with 'vaultfs-keytool --vault %s init "
			  "--admin NAME')",
			  o->vault, o->vault);
		return CLI_EXIT_NO_VAULT;
	}
	r = meta_db_open_why(v->vault_dir, META_OPEN_RW, &v->db, why);
	if (r == -ENOENT) {
		cli_error("no vault at %s (create one with 'vaultfs-keytool --vault %s init "
			  "--admin NAME')",
			  o->vault, o->vault);
		return CLI_EXIT_NO_VAULT;
	}
	if (r == -EPROTO && why[0]) {
		cli_error_schema(o->vault, why);
		return CLI_EXIT_FAILED;
	}
	if (r == -EPROTO) {
		cli_error("%s: vault format not supported by this version of vaultfs", o->vault);
		return CLI_EXIT_FAILED;
	}
	if (r < 0) {
		cli_error("cannot open the vault database in %s: %s", o->vault, strerror(-r));
		return CLI_EXIT_FAILED;
	}
	snprintf(path, sizeof(path), "%s/lock", v->vault_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			cli_error("%s is already mounted by another vaultfs (unmount it first)",
				  o->vault);
		else
			cli_error("cannot lock %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_FAILED;
	}
	*ret_lock_fd = fd;
	snprintf(path, sizeof(path), "%s/%s", v->vault_dir, META_OBJECTS_DIR);
	r = kt_store_open(v->vault_dir, &v->store);
	if (r < 0) {
		cli_error("the vault %s is damaged: %s: %s", o->vault, path, strerror(-r));
		return CLI_EXIT_FAILED;
	}
	return 0;
}

static int unlock_user(struct vfs *v, const struct options *o)
{
	struct kt_keyring *keyring = NULL;
	char prompt[128];
	char *pass;
	int r;

	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", o->user);
	pass = cli_passphrase_read(o->passphrase_file, prompt, false);
	if (!pass)
		return CLI_EXIT_FAILED;
	r = kt_unlock(v->db, o->user, pass, strlen(pass), &keyring);
	pass = cli_passphrase_free(pass);
	if (r == -EACCES) {
		cli_error("wrong passphrase for user '%s' (or the user is disabled)", o->user);
		return CLI_EXIT_DENIED;
	}
	if (r == -ENOENT) {
		cli_error("unknown user '%s' (see 'vaultfs-keytool --vault %s list users')",
			  o->user, o->vault);
		return CLI_EXIT_FAILED;
	}
	if (r < 0) {
		cli_error("cannot unlock the keys of '%s': %s", o->user, strerror(-r));
		return CLI_EXIT_FAILED;
	}
	if (!kt_keyring_meta(keyring)) {
		kt_keyring_free(keyring);
		cli_error(
		    "user '%s' holds no role with the vault's metadata key (grant them a role)",
		    o->user);
		return CLI_EXIT_DENIED;
	}
	/* Single-user mode: these keys serve every caller (records name the caller). */
	r = vfs_session_unlock(v->sessions, VFS_ANY_UID, o->user, keyring);
	if (r < 0) {
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	return 0;
}

/* Set once the daemon has left its terminal: its stderr is /dev/null then. */
static atomic_bool detached;

/* What the journal feed has to say goes to the daemon's log: stderr, or
 * syslog (LOG_DAEMON) once detached. */
static void journal_report(const char *msg)
{
	if (atomic_load(&detached))
		syslog(LOG_DAEMON | LOG_WARNING, "%s", msg);
	else
		cli_error("%s", msg);
}

/* Is path the folder dir or inside it? Both absolute, without symlinks. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * A mountpoint that is the vault directory, inside it, or above it would put
 * the daemon's own backing files behind its own mount: its next open of
 * vault.db's journal or a blob would wait on itself, and every process
 * touching the path with it. Says why in one line and returns false then.
 */
static bool mountpoint_outside_vault(const char *mountpoint, const char *vault_dir)
{
	char *abs = realpath(mountpoint, NULL);
	bool ok = true;

	if (!abs)
		return true; /* the mountpoint checks that follow say what is wrong */
	if (path_within(abs, vault_dir)) {
		cli_error("cannot mount on %s: it is the vault %s or a folder inside it (choose a "
			  "mountpoint outside the vault directory)",
			  mountpoint, vault_dir);
		ok = false;
	} else if (path_within(vault_dir, abs)) {
		cli_error("cannot mount on %s: the vault %s is inside it, and the mount would hide "
			  "the vault from its own daemon (choose a mountpoint outside the vault "
			  "directory)",
			  mountpoint, vault_dir);
		ok = false;
	}
	free(abs);
	return ok;
}

/* Everything after option parsing; status_fd reports start-up to the parent. */
static int serve(struct options *o, struct fuse_args *args, int status_fd)
{
	/* Single-user mode: every change to the tree goes through this daemon,
	 * so the kernel may cache names and attributes for long. */
	struct vfs v = {.attr_timeout = 60.0, .entry_timeout = 60.0};
	struct fuse_loop_config *loop = NULL;
	struct vfs_checkpointer *ckpt = NULL;
	struct vfs_anchor *anchor = NULL;
	char why[PATH_MAX + 256];
	struct vfs_control *ctl = NULL;
	struct fuse_session *se = NULL;
	int lock_fd = -1, code, r;
	char detail[PATH_MAX + 32];
	int64_t mount_id = 0;

	pthread_mutex_init(&v.db_lock, NULL);
	pthread_mutex_init(&v.keys_lock, NULL);
	code = open_vault(&v, o, &lock_fd);
	if (code == 0) {
		v.sessions = vfs_sessions_new(&o->idle);
		if (!v.sessions) {
			cli_error("out of memory");
			code = CLI_EXIT_FAILED;
		}
	}
	v.multi_user = !o->user;
	if (v.multi_user) {
		/* The kernel's caches are shared by all callers: every lookup and
		 * getattr must reach the daemon to be decided for its caller. */
		v.attr_timeout = 0;
		v.entry_timeout = 0;
	}
	if (code == 0 && o->user)
		code = unlock_user(&v, o);
	if (code == 0) {
		v.itable = vfs_itable_new();
		v.dcache = vfs_dcache_new(VFS_DCACHE_MAX);
		if (!v.itable || !v.dcache) {
			cli_error("out of memory");
			code = CLI_EXIT_FAILED;
		}
	}
	if (code == 0 && (r = vfs_anchor_check(&v, o->witness, why, sizeof(why))) < 0) {
		if (r == -ESTALE || r == -EBADMSG) {
			cli_error("%s: %s; the mount is refused and recorded as an incident (if a "
				  "backup was restored on purpose, see 'Restoring a backup' in "
				  "docs/admin-guide.md)",
				  o->vault, why);
			code = CLI_EXIT_FAILED;
		} else {
			/* unreachable witness: availability first, but said and recorded */
			cli_error("warning: %s; mounting without the rollback check", why);
			vfs_record_daemon(&v, "rollback-check", NULL, r, "%s", why);
		}
	}
	if (code == 0 && (r = vfs_remove_orphans(&v)) < 0) {
		cli_error("cannot clean up the vault after a crash: %s", strerror(-r));
		code = CLI_EXIT_FAILED;
	}
	if (code == 0 && (r = vfs_blobpool_start(v.vault_dir, v.store, &v.blobpool)) < 0 &&
	    r != -EXDEV) {
		cli_error("cannot prepare %s/pool: %s", v.vault_dir, strerror(-r));
		code = CLI_EXIT_FAILED;
	}
	if (code == 0 && (r = vfs_deferred_start(&v, &v.deferred)) < 0) {
		cli_error("cannot start the record writer thread: %s", strerror(-r));
		code = CLI_EXIT_FAILED;
	}
	if (code == 0 && (r = vfs_checkpointer_start(v.vault_dir, v.db, &ckpt)) < 0) {
		cli_error("cannot start the checkpoint thread: %s", strerror(-r));
		code = CLI_EXIT_FAILED;
	}
	if (code == 0 && (r = vfs_anchor_start(&v, o->witness, &anchor)) < 0) {
		cli_error("cannot start the anchor thread: %s", strerror(-r));
		code = CLI_EXIT_FAILED;
	}
	if (code == 0) {
		r = vfs_control_start(&v, &ctl);
		if (r < 0) {
			cli_error("cannot start the maintenance thread%s: %s",
				  v.multi_user ? " or open the unlock socket in " VFS_CTL_DIR : "",
				  strerror(-r));
			code = CLI_EXIT_FAILED;
		} else {
			v.control_path = vfs_control_path(ctl);
		}
	}
	if (code == 0) {
		se = fuse_session_new(args, &vfs_ops, sizeof(vfs_ops), &v);
		if (!se) {
			cli_error("invalid FUSE options (see 'vaultfs --help')");
			code = CLI_EXIT_USAGE;
		}
	}
	if (code == 0 && fuse_set_signal_handlers(se) != 0) {
		cli_error("cannot install signal handlers");
		code = CLI_EXIT_FAILED;
	}
	if (code == 0) {
		struct stat st, up;
		char parent[PATH_MAX];
		int e = stat(o->mountpoint, &st) < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;

		/* Say what is wrong in one line, before libfuse says it its own way. */
		if (!mountpoint_outside_vault(o->mountpoint, v.vault_dir)) {
			fuse_remove_signal_handlers(se);
			code = CLI_EXIT_FAILED;
		} else if (e) {
			cli_error("cannot mount on %s: %s", o->mountpoint, strerror(e));
			fuse_remove_signal_handlers(se);
			code = CLI_EXIT_FAILED;
		} else if (snprintf(parent, sizeof(parent), "%s/..", o->mountpoint) <
			       (int)sizeof(parent) &&
			   stat(parent, &up) == 0 &&
			   (st.st_dev != up.st_dev || st.st_ino == up.st_ino)) {
			/* Something is mounted there already: stacking would hide it. */
			cli_error(
			    "cannot mount on %s: something is already mounted there (unmount it "
			    "first with 'fusermount3 -u %s')",
			    o->mountpoint, o->mountpoint);
			fuse_remove_signal_handlers(se);
			code = CLI_EXIT_FAILED;
		}
	}
	if (code == 0 && fuse_session_mount(se, o->mountpoint) != 0) {
		cli_error("cannot mount on %s (does it exist, and is nothing mounted there?)",
			  o->mountpoint);
		fuse_remove_signal_handlers(se);
		code = CLI_EXIT_FAILED;
	}
	if (code == 0)
		v.se = se;
	if (code == 0 && (r = vfs_fuseio_install(se)) != 0) {
		cli_error("cannot set up the FUSE transport: %s", strerror(r < 0 ? -r : r));
		fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		code = CLI_EXIT_FAILED;
	}
	if (code != 0)
		goto out; /* reported at the end, once the vault's lock is released */

	{
		char *abs = realpath(o->mountpoint, NULL);

		snprintf(detail, sizeof(detail), "mountpoint=%s", abs ? abs : o->mountpoint);
		free(abs);
	}
	vfs_record_daemon(&v, "mount", &mount_id, 0, "%s", detail);
	if (o->journal || o->journal_paths) {
		/* From the mount record on; without it, where to begin is unknown. */
		struct vfs_journal_feed *feed;

		r = mount_id <= 0
			? -EIO
			: vfs_journal_feed_start(&v, o->journal_paths ? VFS_JOURNAL_PATHS : 0,
						 mount_id - 1, journal_report, &feed);
		if (r < 0)
			cli_error("cannot start sending records to the system journal: %s",
				  strerror(-r));
		else
			atomic_store(&v.journal, feed);
	}
	report(&status_fd, 0);
	if (!o->foreground) {
		detach();
		atomic_store(&detached, true);
	}

	loop = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(loop, 0);
	fuse_loop_cfg_set_max_threads(loop, 16);
	fuse_loop_cfg_set_idle_threads(loop, 4);
	r = fuse_session_loop_mt(se, loop);
	fuse_loop_cfg_destroy(loop);
	v.deferred = vfs_deferred_stop(v.deferred); /* every handle is released by now */
	vfs_record_daemon(&v, "unmount", NULL, 0, "%s", r == 0 ? "" : "loop ended with an error");
	anchor = vfs_anchor_stop(anchor); /* the last checkpoint, with the unmount record */
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	code = r == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
out:
	anchor = vfs_anchor_stop(anchor);
	ctl = vfs_control_stop(ctl);
	v.deferred = vfs_deferred_stop(v.deferred);
	vfs_journal_feed_stop(atomic_exchange(&v.journal, NULL)); /* sends the last records */
	v.blobpool = vfs_blobpool_stop(v.blobpool);
	ckpt = vfs_checkpointer_stop(ckpt);
	if (se)
		fuse_session_destroy(se);
	v.itable = vfs_itable_free(v.itable);
	v.dcache = vfs_dcache_free(v.dcache);
	v.sessions = vfs_sessions_free(v.sessions);
	v.db = meta_db_close(v.db);
	v.store = kt_store_close(v.store);
	if (lock_fd >= 0)
		close(lock_fd);
	/* A start-up that failed is reported only now: the parent exits on the
	 * report, and a mount tried right after it must find the vault free. */
	report(&status_fd, code);
	free(v.vault_dir);
	pthread_mutex_destroy(&v.db_lock);
	pthread_mutex_destroy(&v.keys_lock);
	return code;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = {0};
	int pipefd[2] = {-1, -1};
	int code;
	pid_t pid;

	code = cli_start("vaultfs");
	if (code != 0)
		return code;

	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) != 0) {
		fputs(usage_line, stderr);
		code = CLI_EXIT_USAGE;
		goto out;
	}
	if (o.help) {
		print_help();
		code = CLI_EXIT_OK;
		goto out;
	}
	if (o.version) {
		printf("vaultfs %s (libfuse %s)\n", VAULTFS_VERSION, fuse_pkgversion());
		code = CLI_EXIT_OK;
		goto out;
	}
	if (!o.vault || !o.mountpoint) {
		cli_error("%s", !o.vault ? "missing VAULT directory" : "missing MOUNTPOINT");
		fputs(usage_line, stderr);
		code = CLI_EXIT_USAGE;
		goto out;
	}
	/* Defaults: higher levels lock sooner (DESIGN.md: shorter for higher levels). */
	o.idle = (struct vfs_idle){{8 * 3600, 8 * 3600, 3600, 15 * 60}};
	if (o.idle_text) {
		int r = vfs_idle_parse(o.idle_text, &o.idle);

		if (r == -ERANGE)
			cli_error(
			    "--idle-timeout '%s': a timeout is too large (at most %llds, about 292 "
			    "years; 0 means never)",
			    o.idle_text, (long long)VFS_IDLE_SECONDS_MAX);
		else if (r < 0)
			cli_error("bad --idle-timeout '%s' (expected e.g. 0=8h,1=8h,2=1h,3=15m)",
				  o.idle_text);
		if (r < 0) {
			fputs(usage_line, stderr);
			code = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (o.user) /* one identity for the life of the mount: no idle expiry */
		o.idle = (struct vfs_idle){{0}};
	fuse_opt_add_arg(&args, "-odefault_permissions,fsname=vaultfs,subtype=vaultfs");

	if (o.foreground) {
		code = serve(&o, &args, -1);
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		cli_error("cannot start the daemon: %s", strerror(errno));
		code = CLI_EXIT_FAILED;
		goto out;
	}
	if (pid == 0) {
		close(pipefd[0]);
		code = serve(&o, &args, pipefd[1]);
		goto out;
	}
	close(pipefd[1]);
	{
		unsigned char c;
		ssize_t n;

		do
			n = read(pipefd[0], &c, 1);
		while (n < 0 && errno == EINTR);
		close(pipefd[0]);
		if (n == 1) {
			code = c;
		} else {
			cli_error("the daemon exited before the mount was ready");
			code = CLI_EXIT_FAILED;
		}
		/* A start that failed returns only once the daemon is gone, so that
		 * the next attempt finds the vault unlocked. */
		if (code != CLI_EXIT_OK)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
out:
	fuse_opt_free_args(&args);
	free(o.vault);
	free(o.mountpoint);
	free(o.user);
	free(o.passphrase_file);
	free(o.idle_text);
	free(o.witness);
	return code;
}
