/*
 * keytool/witness.c — a witness directory that holds a vault's checkpoints
 * and accepts only those that extend the newest it holds.
 */
#include "keytool/witness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <sodium.h>

#include "meta/tlog.h"

#define LATEST	     "latest"
#define LOCK_WAIT_MS 5000 /* a witness held longer by another is busy, not waited for */
#define LATEST_TMP   "latest.tmp"

/* The whole of a regular file name in dirfd (at most KT_NOTE_MAX_BYTES), malloc'd. */
static int read_file(int dirfd, const char *name, char **ret, size_t *ret_len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno; /* a symlink planted there */
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (!S_ISREG(st.st_mode) || st.st_size > KT_NOTE_MAX_BYTES) {
		r = -EBADMSG;
	} else if (!(buf = malloc((size_t)st.st_size + 1))) {
		r = -ENOMEM;
	} else {
		n = pread(fd, buf, (size_t)st.st_size + 1, 0);
		if (n < 0)
			r = -errno;
		else if (n != st.st_size)
			r = -EBADMSG; /* changed while read */
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = (size_t)st.st_size;
	return 0;
}

/* flock dirfd (LOCK_EX or LOCK_SH), waiting at most LOCK_WAIT_MS: the
 * directory may be on another server's share, held by a process we do not
 * know. 0, -EBUSY, or -errno. */
static int lock_dir(int dirfd, int how)
{
	const struct timespec step = {.tv_nsec = 20 * 1000000};

	for (int waited = 0;; waited += 20) {
		if (flock(dirfd, how | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited >= LOCK_WAIT_MS)
			return -EBUSY;
		nanosleep(&step, NULL);
	}
}

/* Open and parse a signed checkpoint whose origin must be v's name. */
static int open_checkpoint(const char *note, size_t len, const struct kt_note_verifier *v,
			   struct kt_checkpoint *ret)
{
	char *text = NULL;
	int r = kt_note_open(note, len, v, &text);

	if (r == 0)
		r = kt_checkpoint_parse(text, ret);
	free(text);
	if (r == 0 && strcmp(ret->origin, v->name) != 0) {
		kt_checkpoint_clear(ret);
		r = -EPROTO;
	}
	return r;
}

/* The newest held (dirfd locked): 0, -ENOENT, or -EBADMSG when it does not verify. */
static int latest_at(int dirfd, const struct kt_note_verifier *v, struct kt_checkpoint *ret)
{
	char *note = NULL;
	size_t len = 0;
	int r = read_file(dirfd, LATEST, &note, &len);

	if (r == 0) {
		r = open_checkpoint(note, len, v, ret);
		if (r < 0 && r != -ENOMEM)
			r = -EBADMSG; /* what the witness holds was changed */
	}
	free(note);
	return r;
}

/* Write data to name in dirfd: O_EXCL unless replace, then fsync. */
static int write_file(int dirfd, const char *name, const char *data, size_t len, bool replace)
{
	int fd = openat(dirfd, name,
			O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL),
			0644);
	size_t done = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	while (done < len && r == 0) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Keep checkpoint.<size> and make it the newest. */
static int store(int dirfd, const struct kt_checkpoint *c, const char *note, size_t len)
{
	char name[64];
	int r;

	snprintf(name, sizeof(name), "checkpoint.%020llu", (unsigned long long)c->size);
	r = write_file(dirfd, name, note, len, false);
	if (r == -EEXIST)
		r = 0; /* an earlier, interrupted add: `latest` decides */
	if (r == 0)
		r = write_file(dirfd, LATEST_TMP, note, len, true);
	if (r == 0 && renameat(dirfd, LATEST_TMP, dirfd, LATEST) < 0)
		r = -errno;
	if (r == 0 && fsync(dirfd) < 0)
		r = -errno;
	return r;
}

static bool same_root(const struct kt_checkpoint *a, const struct kt_checkpoint *b)
{
	return memcmp(a->root, b->root, sizeof(a->root)) == 0;
}

/* Does c extend old (with proof)? 0, -ESTALE or -EBADMSG. */
static int extends(const struct kt_checkpoint *old, const struct kt_checkpoint *c,
		   const uint8_t *proof, size_t proof_len)
{
	if (c->size < old->size)
		return -ESTALE;
	if (c->size == old->size)
		return same_root(old, c) ? 0 : -EBADMSG;
	if (old->size == 0)
		return 0; /* every tree extends the empty one */
	return meta_tlog_verify_consistency(old->size, c->size, old->root, c->root, proof,
					    proof_len);
}

/* The checkpoint offered (note, verified with v) and dir opened and locked
 * for writing: *ret_dirfd (close it to unlock). On failure nothing is held. */
static int offer_begin(const char *dir, const struct kt_note_verifier *v, const char *note,
		       size_t len, struct kt_checkpoint *ret_c, int *ret_dirfd)
{
	int dirfd, r;

	r = open_checkpoint(note, len, v, ret_c);
	if (r < 0)
		return r;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = dirfd < 0 ? -errno : lock_dir(dirfd, LOCK_EX);
	if (r < 0) {
		if (dirfd >= 0)
			close(dirfd);
		kt_checkpoint_clear(ret_c);
		return r;
	}
	*ret_dirfd = dirfd;
	return 0;
}

int kt_witness_add(const char *dir, const struct kt_note_verifier *v, const char *note, size_t len,
		   const uint8_t *proof, size_t proof_len)
{
	struct kt_checkpoint c = {0}, old = {0};
	bool have_old = false;
	int dirfd, r;

	r = offer_begin(dir, v, note, len, &c, &dirfd);
	if (r < 0)
		return r;
	r = latest_at(dirfd, v, &old);
	have_old = r == 0;
	if (r == -ENOENT)
		r = 0;
	if (r == 0 && have_old)
		r = extends(&old, &c, proof, proof_len);
	if (r == 0 && !(have_old && old.size == c.size))
		r = store(dirfd, &c, note, len);
	close(dirfd); /* and the lock with it */
	kt_checkpoint_clear(&c);
	kt_checkpoint_clear(&old);
	return r;
}

int kt_witness_latest(const char *dir, const struct kt_note_verifier *v, struct kt_checkpoint *ret)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (dirfd < 0)
		return -errno;
	r = lock_dir(dirfd, LOCK_SH);
	if (r == 0)
		r = latest_at(dirfd, v, ret);
	close(dirfd);
	return r;
}

/* ---- restores ------------------------------------------------------------ */

int kt_restore_format(const char *origin, const struct kt_checkpoint *from,
		      const struct kt_checkpoint *to, char **ret)
{
	char b1[sodium_base64_ENCODED_LEN(sizeof(from->root), sodium_base64_VARIANT_ORIGINAL)];
	char b2[sizeof(b1)];

	sodium_bin2base64(b1, sizeof(b1), from->root, sizeof(from->root),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b2, sizeof(b2), to->root, sizeof(to->root),
			  sodium_base64_VARIANT_ORIGINAL);
	if (asprintf(ret, "vaultfs-restore v1\n%s\nfrom %llu %s\nto %llu %s\n", origin,
		     (unsigned long long)from->size, b1, (unsigned long long)to->size, b2) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The administration key a checkpoint names, as a verifier named
 * origin + KT_RESTORE_KEY_SUFFIX; -ENOKEY if it names none. */
static int admin_verifier(const struct kt_checkpoint *c, struct kt_note_verifier *ret)
{
	const size_t plen = strlen(KT_CHECKPOINT_ADMIN_EXT);
	uint8_t pk[KT_NOTE_SIGN_PK_BYTES];
	char name[KT_NOTE_NAME_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; i < c->n_ext; i++) {
		const char *e = c->ext[i];

		if (strncmp(e, KT_CHECKPOINT_ADMIN_EXT, plen) != 0)
			continue;
		if (sodium_base642bin(pk, sizeof(pk), e + plen, strlen(e + plen), NULL, &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    n != sizeof(pk))
			return -EPROTO;
		if (snprintf(name, sizeof(name), "%s%s", c->origin, KT_RESTORE_KEY_SUFFIX) >=
		    (int)sizeof(name))
			return -EPROTO;
		return kt_note_verifier_make(name, pk, ret);
	}
	return -ENOKEY;
}

/* Does the statement say exactly "from held to c"? */
static int restore_matches(const char *text, const struct kt_checkpoint *held,
			   const struct kt_checkpoint *c)
{
	char *want = NULL;
	int r = kt_restore_format(held->origin, held, c, &want);

	if (r < 0)
		return r;
	if (strcmp(text, want) != 0) {
		/* which part differs decides the answer */
		r = strncmp(text, "vaultfs-restore v1\n", 19) != 0 ? -EPROTO : -ESTALE;
		if (r == -ESTALE) {
			const char *to_line = strstr(text, "\nto ");
			const char *want_to = strstr(want, "\nto ");

			if (to_line && want_to &&
			    strncmp(text, want, (size_t)(want_to - want)) == 0 &&
			    strcmp(to_line, want_to) != 0)
				r = -EINVAL;
		}
	}
	free(want);
	return r;
}

/* Move every checkpoint and `latest` into a new history.<n>; *ret_n is n. */
static int archive(int dirfd, unsigned *ret_n)
{
	char hist[32];
	struct dirent *de;
	unsigned n;
	DIR *d;
	int hfd, dfd, r = 0;

	for (n = 1; n < 100000; n++) {
		snprintf(hist, sizeof(hist), "history.%u", n);
		if (mkdirat(dirfd, hist, 0755) == 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (n == 100000)
		return -EMLINK;
	hfd = openat(dirfd, hist, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dfd = dup(dirfd);
	if (hfd < 0 || dfd < 0 || !(d = fdopendir(dfd))) {
		r = -errno;
		if (hfd >= 0)
			close(hfd);
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	while (r == 0 && (de = readdir(d))) {
		if (strncmp(de->d_name, "checkpoint.", 11) != 0 && strcmp(de->d_name, LATEST) != 0)
			continue;
		if (renameat(dirfd, de->d_name, hfd, de->d_name) < 0)
			r = -errno;
	}
	closedir(d);
	if (r == 0 && (fsync(hfd) < 0 || fsync(dirfd) < 0))
		r = -errno;
	close(hfd);
	*ret_n = n;
	return r;
}

int kt_witness_restore(const char *dir, const struct kt_note_verifier *v, const char *note,
		       size_t len, const char *restore, size_t restore_len)
{
	struct kt_checkpoint c = {0}, held = {0};
	struct kt_note_verifier admin;
	char *text = NULL, name[32];
	unsigned n = 0;
	int dirfd, r;

	r = offer_begin(dir, v, note, len, &c, &dirfd);
	if (r < 0)
		return r;
	r = latest_at(dirfd, v, &held);
	if (r == 0)
		r = admin_verifier(&held, &admin);
	if (r == 0)
		r = kt_note_open(restore, restore_len, &admin, &text);
	if (r == -EBADMSG)
		r = -ENOKEY; /* a signature by that key that fails: not signed by it */
	if (r == 0)
		r = restore_matches(text, &held, &c);
	if (r == 0)
		r = archive(dirfd, &n);
	if (r == 0) {
		snprintf(name, sizeof(name), "restore.%u", n);
		r = write_file(dirfd, name, restore, restore_len, false);
	}
	if (r == 0)
		r = store(dirfd, &c, note, len);
	close(dirfd);
	free(text);
	kt_checkpoint_clear(&c);
	kt_checkpoint_clear(&held);
	return r;
}
