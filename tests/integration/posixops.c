/*
 * tests/integration/posixops.c — the system calls the integration suite needs
 * and the shell cannot make (or cannot report precisely).
 *
 * One verb per run: `posixops VERB ARGS...`. Verbs that try a single call
 * print "ok" or the errno's symbolic name ("EEXIST") on stdout and exit 0 when
 * the call succeeded, 1 when it failed. Verbs that run a whole scenario
 * (unlinkopen, sparse, randio, locks, ...) print "ok" and exit 0, or print one
 * line saying what differed from POSIX/ext4 behaviour on stdout and exit 1.
 * readcmp exits 2 when a read returned wrong bytes: the one thing a vault must
 * never do.
 *
 * Plain C, no dependencies beyond libc, so it builds wherever the suite runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define BUF_SIZE (1 << 16)

static const char *errname(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EIO:
		return "EIO";
	case EBADF:
		return "EBADF";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case EACCES:
		return "EACCES";
	case EBUSY:
		return "EBUSY";
	case EEXIST:
		return "EEXIST";
	case EXDEV:
		return "EXDEV";
	case ENOTDIR:
		return "ENOTDIR";
	case EISDIR:
		return "EISDIR";
	case EINVAL:
		return "EINVAL";
	case EFBIG:
		return "EFBIG";
	case ENOSPC:
		return "ENOSPC";
	case EROFS:
		return "EROFS";
	case EMLINK:
		return "EMLINK";
	case ERANGE:
		return "ERANGE";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	case ENOSYS:
		return "ENOSYS";
	case ENOTEMPTY:
		return "ENOTEMPTY";
	case ELOOP:
		return "ELOOP";
	case ENODATA:
		return "ENODATA";
	case EBADMSG:
		return "EBADMSG";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENOTCONN:
		return "ENOTCONN";
	case ENOKEY:
		return "ENOKEY";
	case ETXTBSY:
		return "ETXTBSY";
	case E2BIG:
		return "E2BIG";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	default:
		return strerror(e);
	}
}

/* Print the outcome of one call and turn it into the exit status. */
static int report(int rc)
{
	int e = rc < 0 ? errno : 0;

	printf("%s\n", errname(e));
	return e ? 1 : 0;
}

/* Print why a scenario failed (one line) and return the exit status 1. */
__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return 1;
}

static int open_flags(const char *spec)
{
	int flags = 0;
	char buf[256];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "r"))
			flags |= O_RDONLY;
		else if (!strcmp(t, "w"))
			flags |= O_WRONLY;
		else if (!strcmp(t, "rw"))
			flags |= O_RDWR;
		else if (!strcmp(t, "creat"))
			flags |= O_CREAT;
		else if (!strcmp(t, "excl"))
			flags |= O_EXCL;
		else if (!strcmp(t, "trunc"))
			flags |= O_TRUNC;
		else if (!strcmp(t, "append"))
			flags |= O_APPEND;
		else if (!strcmp(t, "dir"))
			flags |= O_DIRECTORY;
		else if (!strcmp(t, "nofollow"))
			flags |= O_NOFOLLOW;
		else {
			fprintf(stderr, "posixops: unknown open flag %s\n", t);
			exit(2);
		}
	}
	return flags;
}

/* Deterministic content: byte i of stream seed. */
static unsigned char pattern(uint64_t seed, uint64_t i)
{
	uint64_t x = (seed + 1) * 0x9E3779B97F4A7C15ull ^ (i / 8) * 0xBF58476D1CE4E5B9ull;

	x ^= x >> 31;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 29;
	return (unsigned char)(x >> ((i % 8) * 8));
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = (rng_state += 0x9E3779B97F4A7C15ull);

	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static ssize_t pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* --- single calls ---------------------------------------------------------- */

static int cmd_rename2(int argc, char **argv)
{
	unsigned int flags = 0;

	if (argc < 2)
		return 2;
	if (argc > 2 && !strcmp(argv[2], "noreplace"))
		flags = RENAME_NOREPLACE;
	else if (argc > 2 && !strcmp(argv[2], "exchange"))
		flags = RENAME_EXCHANGE;
	return report((int)syscall(SYS_renameat2, AT_FDCWD, argv[0], AT_FDCWD, argv[1], flags));
}

static int cmd_open(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[0], open_flags(argv[1]), argc > 2 ? (mode_t)strtol(argv[2], NULL, 8) : 0644);
	if (fd >= 0)
		close(fd);
	return report(fd);
}

/* write PATH TEXT: open O_WRONLY (no create, no trunc), write, close; errors of each step. */
static int cmd_write(int argc, char **argv)
{
	int fd, rc;

	if (argc < 2)
		return 2;
	fd = open(argv[0], O_WRONLY | O_APPEND);
	if (fd < 0)
		return report(-1);
	rc = (int)write(fd, argv[1], strlen(argv[1]));
	if (rc >= 0)
		rc = close(fd);
	else
		close(fd);
	return report(rc < 0 ? -1 : 0);
}

static int cmd_mkdir(int argc, char **argv)
{
	return argc < 1 ? 2 : report(mkdir(argv[0], 0755));
}

static int cmd_rmdir(int argc, char **argv)
{
	return argc < 1 ? 2 : report(rmdir(argv[0]));
}

static int cmd_unlink(int argc, char **argv)
{
	return argc < 1 ? 2 : report(unlink(argv[0]));
}

static int cmd_link(int argc, char **argv)
{
	return argc < 2 ? 2 : report(link(argv[0], argv[1]));
}

static int cmd_symlink(int argc, char **argv)
{
	return argc < 2 ? 2 : report(symlink(argv[0], argv[1]));
}

static int cmd_truncate(int argc, char **argv)
{
	return argc < 2 ? 2 : report(truncate(argv[0], strtoll(argv[1], NULL, 10)));
}

static int cmd_chmod(int argc, char **argv)
{
	return argc < 2 ? 2 : report(chmod(argv[0], (mode_t)strtol(argv[1], NULL, 8)));
}

static int cmd_fsync(int argc, char **argv)
{
	int fd, rc;

	if (argc < 1)
		return 2;
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return report(-1);
	rc = fsync(fd);
	if (rc == 0)
		rc = fdatasync(fd);
	close(fd);
	return report(rc);
}

static int cmd_setxattr(int argc, char **argv)
{
	return argc < 3 ? 2 : report(setxattr(argv[0], argv[1], argv[2], strlen(argv[2]), 0));
}

static int cmd_getxattr(int argc, char **argv)
{
	char buf[BUF_SIZE];
	ssize_t n;

	if (argc < 2)
		return 2;
	n = getxattr(argv[0], argv[1], buf, sizeof(buf) - 1);
	if (n < 0)
		return report(-1);
	fwrite(buf, 1, (size_t)n, stdout);
	printf("\n");
	return 0;
}

static int cmd_removexattr(int argc, char **argv)
{
	return argc < 2 ? 2 : report(removexattr(argv[0], argv[1]));
}

static int cmd_listxattr(int argc, char **argv)
{
	char buf[BUF_SIZE];
	ssize_t n;

	if (argc < 1)
		return 2;
	n = listxattr(argv[0], buf, sizeof(buf));
	if (n < 0)
		return report(-1);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		printf("%s\n", buf + i);
	return 0;
}

/* statfs PATH: "bsize blocks bfree bavail files ffree namelen" */
static int cmd_statfs(int argc, char **argv)
{
	struct statfs s;

	if (argc < 1)
		return 2;
	if (statfs(argv[0], &s) < 0)
		return report(-1);
	printf("%ld %llu %llu %llu %llu %llu %ld\n", (long)s.f_bsize,
	       (unsigned long long)s.f_blocks, (unsigned long long)s.f_bfree,
	       (unsigned long long)s.f_bavail, (unsigned long long)s.f_files,
	       (unsigned long long)s.f_ffree, (long)s.f_namelen);
	return 0;
}

/* --- content -------------------------------------------------------------- */

/* writesync PATH SIZE SEED: create/truncate, write the pattern, fsync, close. */
static int cmd_writesync(int argc, char **argv)
{
	unsigned char buf[BUF_SIZE];
	uint64_t size, seed, off = 0;
	int fd;

	if (argc < 3)
		return 2;
	size = strtoull(argv[1], NULL, 10);
	seed = strtoull(argv[2], NULL, 10);
	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return report(-1);
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(seed, off + i);
		if (pwrite_full(fd, buf, n, (off_t)off) < 0) {
			close(fd);
			return report(-1);
		}
		off += n;
	}
	if (fsync(fd) < 0) {
		close(fd);
		return report(-1);
	}
	return report(close(fd));
}

/* verify PATH SIZE SEED: content is exactly the pattern. */
static int cmd_verify(int argc, char **argv)
{
	unsigned char buf[BUF_SIZE];
	uint64_t size, seed, off = 0;
	struct stat st;
	int fd;

	if (argc < 3)
		return 2;
	size = strtoull(argv[1], NULL, 10);
	seed = strtoull(argv[2], NULL, 10);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return bad("open: %s", errname(errno));
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
		close(fd);
		return bad("size %lld, expected %" PRIu64, (long long)st.st_size, size);
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			close(fd);
			return bad("read at %" PRIu64 ": %s", off, errname(errno));
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(seed, off + (uint64_t)i)) {
				close(fd);
				return bad("wrong byte at %" PRIu64, off + (uint64_t)i);
			}
		off += (uint64_t)n;
	}
	close(fd);
	if (off != size)
		return bad("read %" PRIu64 " bytes, expected %" PRIu64, off, size);
	printf("ok\n");
	return 0;
}

/*
 * readcmp PATH EXPECTED: read PATH to the end and compare every byte it
 * returns with EXPECTED. "ok" (exit 0) when equal; "EIO after N bytes"
 * (exit 1) when a read or the open failed having returned only correct bytes;
 * "MISMATCH at N" (exit 2) when wrong bytes came back as data.
 */
static int cmd_readcmp(int argc, char **argv)
{
	static unsigned char got[BUF_SIZE], want[BUF_SIZE];
	uint64_t off = 0;
	int fd, efd;

	if (argc < 2)
		return 2;
	efd = open(argv[1], O_RDONLY);
	if (efd < 0) {
		perror(argv[1]);
		return 3;
	}
	fd = open(argv[0], O_RDONLY);
	if (fd < 0) {
		printf("%s at open\n", errname(errno));
		close(efd);
		return 1;
	}
	for (;;) {
		ssize_t n = read(fd, got, sizeof(got)), m;
		if (n < 0) {
			printf("%s after %" PRIu64 " bytes\n", errname(errno), off);
			close(fd);
			close(efd);
			return 1;
		}
		m = pread_full(efd, want, (size_t)n, (off_t)off);
		if (n == 0) {
			close(fd);
			close(efd);
			break;
		}
		if (m != n || memcmp(got, want, (size_t)n)) {
			ssize_t i = 0;
			while (i < m && got[i] == want[i])
				i++;
			printf("MISMATCH at %" PRIu64 "\n", off + (uint64_t)i);
			close(fd);
			close(efd);
			return 2;
		}
		off += (uint64_t)n;
	}
	{
		struct stat st;
		if (stat(argv[1], &st) == 0 && (uint64_t)st.st_size != off) {
			printf("SHORT: %" PRIu64 " of %lld bytes\n", off, (long long)st.st_size);
			return 2;
		}
	}
	printf("ok\n");
	return 0;
}

/* --- scenarios ------------------------------------------------------------ */

/* unlinkopen PATH: a file unlinked while open stays readable and writable via the fd. */
static int cmd_unlinkopen(int argc, char **argv)
{
	char buf[64] = {0};
	struct stat st;
	int fd, fd2;

	if (argc < 1)
		return 2;
	fd = open(argv[0], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return bad("open: %s", errname(errno));
	if (write(fd, "before-unlink;", 14) != 14)
		return bad("write: %s", errname(errno));
	fd2 = open(argv[0], O_RDONLY);
	if (fd2 < 0)
		return bad("second open: %s", errname(errno));
	if (unlink(argv[0]) < 0)
		return bad("unlink: %s", errname(errno));
	if (stat(argv[0], &st) == 0 || errno != ENOENT)
		return bad("path still there after unlink (stat: %s)", errname(errno));
	if (fstat(fd, &st) < 0)
		return bad("fstat after unlink: %s", errname(errno));
	if (st.st_nlink != 0)
		return bad("st_nlink %lu after unlink, ext4 says 0", (unsigned long)st.st_nlink);
	if (pwrite(fd, "after-unlink", 12, 14) != 12)
		return bad("write after unlink: %s", errname(errno));
	if (fsync(fd) < 0)
		return bad("fsync after unlink: %s", errname(errno));
	if (pread_full(fd, buf, sizeof(buf) - 1, 0) != 26)
		return bad("read after unlink: %s (%s)", errname(errno), buf);
	if (strcmp(buf, "before-unlink;after-unlink"))
		return bad("read after unlink gave '%s'", buf);
	memset(buf, 0, sizeof(buf));
	if (pread_full(fd2, buf, sizeof(buf) - 1, 0) != 26 ||
	    strcmp(buf, "before-unlink;after-unlink"))
		return bad("second fd read after unlink gave '%s' (%s)", buf, errname(errno));
	if (ftruncate(fd, 5) < 0)
		return bad("ftruncate after unlink: %s", errname(errno));
	if (fstat(fd2, &st) < 0 || st.st_size != 5)
		return bad("size after ftruncate of unlinked file: %lld", (long long)st.st_size);
	close(fd);
	close(fd2);
	/* the name can be reused at once */
	fd = open(argv[0], O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return bad("re-create after unlink: %s", errname(errno));
	if (fstat(fd, &st) < 0 || st.st_size != 0)
		return bad("re-created file not empty");
	close(fd);
	printf("ok\n");
	return 0;
}

/* sparse PATH: holes read as zeros, size right, data at chunk edges right. */
static int cmd_sparse(int argc, char **argv)
{
	static unsigned char buf[1 << 20];
	const off_t mib = 1 << 20;
	struct stat st;
	int fd;

	if (argc < 1)
		return 2;
	fd = open(argv[0], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return bad("open: %s", errname(errno));
	if (pwrite(fd, "HEAD", 4, 0) != 4)
		return bad("pwrite at 0: %s", errname(errno));
	if (pwrite(fd, "TAIL", 4, mib) != 4)
		return bad("pwrite at 1 MiB: %s", errname(errno));
	if (fstat(fd, &st) < 0 || st.st_size != mib + 4)
		return bad("size %lld after write at 1 MiB, expected %lld", (long long)st.st_size,
			   (long long)(mib + 4));
	/* a write straddling a chunk edge in the middle of the hole */
	if (pwrite(fd, "EDGE", 4, 8 * 4096 - 2) != 4)
		return bad("pwrite across chunk edge: %s", errname(errno));
	close(fd);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return bad("reopen: %s", errname(errno));
	if (pread_full(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return bad("read of the hole: %s", errname(errno));
	if (memcmp(buf, "HEAD", 4) || memcmp(buf + 8 * 4096 - 2, "EDGE", 4))
		return bad("data around the hole wrong");
	for (size_t i = 4; i < sizeof(buf); i++) {
		if (i >= 8 * 4096 - 2 && i < 8 * 4096 + 2)
			continue;
		if (buf[i])
			return bad("hole byte %zu is 0x%02x, not zero", i, buf[i]);
	}
	memset(buf, 0, 16);
	if (pread_full(fd, buf, 16, mib) != 4 || memcmp(buf, "TAIL", 4))
		return bad("tail after the hole wrong");
	/* a read far past EOF returns 0 bytes */
	if (pread(fd, buf, 16, 10 * mib) != 0)
		return bad("read past EOF returned data or failed (%s)", errname(errno));
	close(fd);
	printf("ok\n");
	return 0;
}

/*
 * randio PATH SEED STEPS MAXSIZE: random pwrites, ftruncates, reads and
 * reopens against an in-memory model; offsets favour chunk edges.
 */
static int cmd_randio(int argc, char **argv)
{
	unsigned char *model, *buf;
	size_t size = 0, maxsize;
	int steps, fd;

	if (argc < 4)
		return 2;
	rng_state = strtoull(argv[1], NULL, 10);
	steps = atoi(argv[2]);
	maxsize = strtoull(argv[3], NULL, 10);
	model = calloc(1, maxsize + BUF_SIZE);
	buf = calloc(1, maxsize + BUF_SIZE);
	if (!model || !buf)
		return bad("out of memory");
	fd = open(argv[0], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return bad("open: %s", errname(errno));
	for (int s = 0; s < steps; s++) {
		unsigned int what = (unsigned int)(rng() % 10);
		size_t off, len;

		/* offsets: half near a 4096 edge, half anywhere */
		if (rng() % 2) {
			size_t edge = (size_t)(rng() % (maxsize / 4096 + 1)) * 4096;
			off = edge + (size_t)(rng() % 9) - 4;
			if (off > maxsize)
				off = edge;
		} else {
			off = (size_t)(rng() % (maxsize + 1));
		}
		if (what < 6) { /* write */
			len = (size_t)(rng() % 3 == 0 ? rng() % 9000 : rng() % 300) + 1;
			if (off + len > maxsize)
				len = off < maxsize ? maxsize - off : 0;
			if (!len)
				continue;
			for (size_t i = 0; i < len; i++)
				buf[i] = (unsigned char)(rng() | 1);
			if (pwrite_full(fd, buf, len, (off_t)off) < 0)
				return bad("step %d: pwrite %zu@%zu: %s", s, len, off,
					   errname(errno));
			memcpy(model + off, buf, len);
			if (off + len > size)
				size = off + len;
		} else if (what < 8) { /* truncate */
			if (ftruncate(fd, (off_t)off) < 0)
				return bad("step %d: ftruncate %zu: %s", s, off, errname(errno));
			if (off < size)
				memset(model + off, 0, size - off);
			size = off;
		} else if (what < 9) { /* reopen (flush/release, header rewrite) */
			close(fd);
			fd = open(argv[0], O_RDWR);
			if (fd < 0)
				return bad("step %d: reopen: %s", s, errname(errno));
		} else { /* partial read */
			len = (size_t)(rng() % 10000);
			ssize_t n = pread_full(fd, buf, len, (off_t)off);
			size_t want = off >= size ? 0 : (size - off < len ? size - off : len);
			if (n < 0)
				return bad("step %d: pread %zu@%zu: %s", s, len, off,
					   errname(errno));
			if ((size_t)n != want || memcmp(buf, model + off, want))
				return bad("step %d: pread %zu@%zu gave %zd bytes, model %zu, or "
					   "wrong data",
					   s, len, off, n, want);
		}
	}
	{
		struct stat st;
		ssize_t n;
		if (fstat(fd, &st) < 0 || (size_t)st.st_size != size)
			return bad("final size %lld, model %zu", (long long)st.st_size, size);
		close(fd);
		fd = open(argv[0], O_RDONLY);
		n = pread_full(fd, buf, maxsize + 1, 0);
		if (n < 0)
			return bad("final read: %s", errname(errno));
		if ((size_t)n != size)
			return bad("final read %zd bytes, model %zu", n, size);
		for (size_t i = 0; i < size; i++)
			if (buf[i] != model[i])
				return bad("final content differs at %zu (0x%02x, model 0x%02x)", i,
					   buf[i], model[i]);
		close(fd);
	}
	free(model);
	free(buf);
	printf("ok\n");
	return 0;
}

/* append PATH: O_APPEND writes from two fds land at the end, in order. */
static int cmd_append(int argc, char **argv)
{
	char buf[64] = {0};
	int a, b;

	if (argc < 1)
		return 2;
	a = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (a < 0 || write(a, "0123", 4) != 4)
		return bad("setup: %s", errname(errno));
	close(a);
	a = open(argv[0], O_WRONLY | O_APPEND);
	b = open(argv[0], O_RDWR | O_APPEND);
	if (a < 0 || b < 0)
		return bad("open O_APPEND: %s", errname(errno));
	if (write(a, "AA", 2) != 2 || write(b, "BBB", 3) != 3 || write(a, "C", 1) != 1)
		return bad("append write: %s", errname(errno));
	/* lseek does not move an O_APPEND write */
	if (lseek(b, 0, SEEK_SET) != 0 || write(b, "DD", 2) != 2)
		return bad("append after seek: %s", errname(errno));
	if (lseek(a, 0, SEEK_CUR) != 10)
		return bad("offset after appends %lld, expected 10",
			   (long long)lseek(a, 0, SEEK_CUR));
	close(a);
	if (pread_full(b, buf, sizeof(buf) - 1, 0) != 12)
		return bad("size after appends wrong: '%s'", buf);
	if (strcmp(buf, "0123AABBBCDD"))
		return bad("content after appends '%s', expected '0123AABBBCDD'", buf);
	close(b);
	printf("ok\n");
	return 0;
}

/* Run fn in a child and return its exit status. */
static int in_child(int (*fn)(const char *), const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(path));
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* child side: 0 = lock taken, 1 = refused as expected (EAGAIN/EACCES), 2 = other error */
static int child_fcntl_try(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return 2;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? 1 : 2;
}

static int child_fcntl_getlk(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	int fd = open(path, O_RDWR);

	if (fd < 0 || fcntl(fd, F_GETLK, &fl) < 0)
		return 2;
	/* exit 1 when it sees the parent's lock */
	return fl.l_type == F_UNLCK ? 0 : (fl.l_pid == getppid() ? 1 : 3);
}

static int child_fcntl_other_range(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 10};
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return 2;
	return fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1;
}

static int child_flock_try(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 2;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : 2;
}

/* child: blocking F_SETLKW must wait until the parent unlocks (parent unlocks after 300 ms) */
static int child_fcntl_wait(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	struct timespec t0, t1;
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (fcntl(fd, F_SETLKW, &fl) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* exit 1 = it waited (>= 200 ms), as it should */
	return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 200 ? 1 : 0;
}

/* locks PATH: fcntl and flock locks held by one process refuse another. */
static int cmd_locks(int argc, char **argv)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	int fd, rc;
	pid_t pid;

	if (argc < 1)
		return 2;
	fd = open(argv[0], O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		return bad("open: %s", errname(errno));
	if (fcntl(fd, F_SETLK, &fl) < 0)
		return bad("fcntl F_SETLK: %s", errname(errno));
	rc = in_child(child_fcntl_try, argv[0]);
	if (rc != 1)
		return bad("second process %s the fcntl lock held by the first (child rc %d)",
			   rc == 0 ? "got" : "failed oddly on", rc);
	rc = in_child(child_fcntl_getlk, argv[0]);
	if (rc != 1)
		return bad("F_GETLK in second process does not report the holder (rc %d)", rc);
	rc = in_child(child_fcntl_other_range, argv[0]);
	if (rc != 0)
		return bad("lock on a disjoint range refused (rc %d)", rc);
	/* blocking wait: child waits until we unlock */
	pid = fork();
	if (pid == 0)
		_exit(child_fcntl_wait(argv[0]));
	usleep(300 * 1000);
	fl.l_type = F_UNLCK;
	if (fcntl(fd, F_SETLK, &fl) < 0)
		return bad("unlock: %s", errname(errno));
	{
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
			return bad(
			    "F_SETLKW in second process did not wait for the unlock (status %d)",
			    status);
	}
	rc = in_child(child_fcntl_try, argv[0]);
	if (rc != 0)
		return bad("fcntl lock not free after unlock (rc %d)", rc);

	if (flock(fd, LOCK_EX) < 0)
		return bad("flock: %s", errname(errno));
	rc = in_child(child_flock_try, argv[0]);
	if (rc != 1)
		return bad("second process %s the flock held by the first (rc %d)",
			   rc == 0 ? "got" : "failed oddly on", rc);
	if (flock(fd, LOCK_UN) < 0)
		return bad("flock unlock: %s", errname(errno));
	rc = in_child(child_flock_try, argv[0]);
	if (rc != 0)
		return bad("flock not free after unlock (rc %d)", rc);
	close(fd);
	printf("ok\n");
	return 0;
}

/* fifo PATH: mkfifo, a child writes, the parent reads. */
static int cmd_fifo(int argc, char **argv)
{
	char buf[64] = {0};
	struct stat st;
	int fd, status;
	pid_t pid;

	if (argc < 1)
		return 2;
	if (mkfifo(argv[0], 0600) < 0)
		return bad("mkfifo: %s", errname(errno));
	if (lstat(argv[0], &st) < 0 || !S_ISFIFO(st.st_mode))
		return bad("not a FIFO after mkfifo (mode %o)", st.st_mode);
	pid = fork();
	if (pid == 0) {
		int w = open(argv[0], O_WRONLY);
		_exit(w < 0 || write(w, "through-the-fifo", 16) != 16 ? 1 : 0);
	}
	alarm(20);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return bad("open fifo for reading: %s", errname(errno));
	if (read(fd, buf, sizeof(buf) - 1) != 16 || strcmp(buf, "through-the-fifo"))
		return bad("read from fifo gave '%s'", buf);
	close(fd);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return bad("fifo writer failed");
	printf("ok\n");
	return 0;
}

/* unixsock PATH: bind a unix socket in the mount, connect from a child, exchange bytes. */
static int cmd_unixsock(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[64] = {0};
	struct stat st;
	int s, c, status;
	pid_t pid;

	if (argc < 1)
		return 2;
	if (strlen(argv[0]) >= sizeof(sa.sun_path))
		return bad("socket path too long for sockaddr_un");
	strcpy(sa.sun_path, argv[0]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return bad("bind: %s", errname(errno));
	if (lstat(argv[0], &st) < 0 || !S_ISSOCK(st.st_mode))
		return bad("no socket node after bind");
	if (listen(s, 1) < 0)
		return bad("listen: %s", errname(errno));
	pid = fork();
	if (pid == 0) {
		int k = socket(AF_UNIX, SOCK_STREAM, 0);
		if (k < 0 || connect(k, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		_exit(write(k, "over-the-socket", 15) == 15 ? 0 : 1);
	}
	alarm(20);
	c = accept(s, NULL, NULL);
	if (c < 0)
		return bad("accept: %s", errname(errno));
	if (read(c, buf, sizeof(buf) - 1) != 15 || strcmp(buf, "over-the-socket"))
		return bad("socket read gave '%s'", buf);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return bad("socket client failed");
	close(c);
	close(s);
	if (unlink(argv[0]) < 0)
		return bad("unlink socket: %s", errname(errno));
	printf("ok\n");
	return 0;
}

/* mmap PATH: a shared writable mapping reaches the file (SQLite WAL needs it). */
static int cmd_mmap(int argc, char **argv)
{
	char buf[32] = {0};
	char *p;
	int fd;

	if (argc < 1)
		return 2;
	fd = open(argv[0], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 8192) < 0)
		return bad("setup: %s", errname(errno));
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return bad("mmap MAP_SHARED: %s", errname(errno));
	memcpy(p + 4094, "mapped", 6);
	if (msync(p, 8192, MS_SYNC) < 0)
		return bad("msync: %s", errname(errno));
	munmap(p, 8192);
	close(fd);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0 || pread_full(fd, buf, 6, 4094) != 6 || memcmp(buf, "mapped", 6))
		return bad("mmap write not visible through read: '%s'", buf);
	close(fd);
	printf("ok\n");
	return 0;
}

/*
 * stripes PATH NPROC COUNT: NPROC processes write interleaved 100-byte
 * stripes of one file at once (stripe j*NPROC+k by process k, so every
 * 4096-byte chunk is written by all of them); then the whole file must hold
 * every process's bytes.
 */
static int cmd_stripes(int argc, char **argv)
{
	enum { STRIPE = 100 };
	unsigned char buf[STRIPE], got[STRIPE];
	int nproc, count, fd, failed = 0;

	if (argc < 3)
		return 2;
	nproc = atoi(argv[1]);
	count = atoi(argv[2]);
	fd = open(argv[0], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return bad("open: %s", errname(errno));
	close(fd);
	for (int k = 0; k < nproc; k++) {
		pid_t pid = fork();
		if (pid < 0)
			return bad("fork: %s", errname(errno));
		if (pid == 0) {
			int cfd = open(argv[0], O_WRONLY);
			if (cfd < 0)
				_exit(1);
			for (int j = 0; j < count; j++) {
				uint64_t stripe = (uint64_t)j * (uint64_t)nproc + (uint64_t)k;
				for (int i = 0; i < STRIPE; i++)
					buf[i] = pattern(stripe, (uint64_t)i);
				if (pwrite_full(cfd, buf, STRIPE, (off_t)(stripe * STRIPE)) < 0)
					_exit(2);
			}
			_exit(close(cfd) < 0 ? 3 : 0);
		}
	}
	for (int k = 0; k < nproc; k++) {
		int status;
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	if (failed)
		return bad("%d writer processes failed", failed);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return bad("reopen: %s", errname(errno));
	for (uint64_t s = 0; s < (uint64_t)nproc * (uint64_t)count; s++) {
		if (pread_full(fd, got, STRIPE, (off_t)(s * STRIPE)) != STRIPE)
			return bad("stripe %" PRIu64 ": short read or %s", s, errname(errno));
		for (int i = 0; i < STRIPE; i++)
			if (got[i] != pattern(s, (uint64_t)i))
				return bad("stripe %" PRIu64 " (process %" PRIu64
					   ") byte %d lost or wrong",
					   s, s % (uint64_t)nproc, i);
	}
	close(fd);
	printf("ok\n");
	return 0;
}

/*
 * holdsync PATH SIZE SEED EXTRA: write SIZE bytes of the pattern, fsync,
 * print "synced"; then write EXTRA more bytes (the pattern continued, no
 * fsync), print "extra", and wait with the file open until killed. For crash
 * tests: what fsync promised must survive even when later writes rewrote the
 * last chunk and the file was never closed.
 */
static int cmd_holdsync(int argc, char **argv)
{
	unsigned char buf[BUF_SIZE];
	uint64_t size, seed, extra, off = 0;
	int fd;

	if (argc < 4)
		return 2;
	size = strtoull(argv[1], NULL, 10);
	seed = strtoull(argv[2], NULL, 10);
	extra = strtoull(argv[3], NULL, 10);
	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return report(-1);
	while (off < size + extra) {
		uint64_t end = off < size ? size : size + extra;
		size_t n = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(seed, off + i);
		if (pwrite_full(fd, buf, n, (off_t)off) < 0)
			return report(-1);
		off += n;
		if (off == size) {
			if (fsync(fd) < 0)
				return report(-1);
			printf("synced\n");
			fflush(stdout);
		}
	}
	printf("extra\n");
	fflush(stdout);
	for (;;)
		pause();
}

/* verifyprefix PATH MINSIZE MAXSIZE SEED: size within bounds, every byte the pattern. */
static int cmd_verifyprefix(int argc, char **argv)
{
	unsigned char buf[BUF_SIZE];
	uint64_t min, max, seed, off = 0;
	struct stat st;
	int fd;

	if (argc < 4)
		return 2;
	min = strtoull(argv[1], NULL, 10);
	max = strtoull(argv[2], NULL, 10);
	seed = strtoull(argv[3], NULL, 10);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return bad("open: %s", errname(errno));
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < min || (uint64_t)st.st_size > max)
		return bad("size %lld, expected %" PRIu64 "..%" PRIu64, (long long)st.st_size, min,
			   max);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0)
			return bad("read at %" PRIu64 ": %s", off, errname(errno));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(seed, off + (uint64_t)i))
				return bad("wrong byte at %" PRIu64 " (size %lld)",
					   off + (uint64_t)i, (long long)st.st_size);
		off += (uint64_t)n;
	}
	close(fd);
	if (off != (uint64_t)st.st_size)
		return bad("read %" PRIu64 " bytes of %lld", off, (long long)st.st_size);
	printf("ok\n");
	return 0;
}

/* holdopen PATH SECONDS: keep a file open (for "busy" checks), print "open" when it is. */
static int cmd_holdopen(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return report(-1);
	printf("open\n");
	fflush(stdout);
	sleep((unsigned int)atoi(argv[1]));
	close(fd);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} verbs[] = {
    {"rename2", cmd_rename2},
    {"open", cmd_open},
    {"write", cmd_write},
    {"mkdir", cmd_mkdir},
    {"rmdir", cmd_rmdir},
    {"unlink", cmd_unlink},
    {"link", cmd_link},
    {"symlink", cmd_symlink},
    {"truncate", cmd_truncate},
    {"chmod", cmd_chmod},
    {"fsync", cmd_fsync},
    {"setxattr", cmd_setxattr},
    {"getxattr", cmd_getxattr},
    {"removexattr", cmd_removexattr},
    {"listxattr", cmd_listxattr},
    {"statfs", cmd_statfs},
    {"writesync", cmd_writesync},
    {"verify", cmd_verify},
    {"readcmp", cmd_readcmp},
    {"unlinkopen", cmd_unlinkopen},
    {"sparse", cmd_sparse},
    {"randio", cmd_randio},
    {"append", cmd_append},
    {"locks", cmd_locks},
    {"fifo", cmd_fifo},
    {"unixsock", cmd_unixsock},
    {"mmap", cmd_mmap},
    {"holdopen", cmd_holdopen},
    {"stripes", cmd_stripes},
    {"holdsync", cmd_holdsync},
    {"verifyprefix", cmd_verifyprefix},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: posixops VERB ARGS...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "posixops: unknown verb %s\n", argv[1]);
	return 2;
}
