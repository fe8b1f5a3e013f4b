/*
 * cli/cli.c — what the commands share: error lines, exit codes, the vault
 * location, passphrase input and UTC times.
 *
 * Passphrases are read into secure memory (kt_secure_alloc: locked, not
 * dumped, wiped when freed) one byte at a time (no stdio buffer keeps a
 * copy, and a pipe is not read past the first line): from a file the user
 * names, or from /dev/tty with echo off. While echo is
 * off, the usual terminal signals are caught so the terminal is restored
 * before the signal takes effect.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/crypto.h"
#include "meta/db.h"

#define NS_PER_SEC 1000000000LL

static const char *program_name = "vaultfs";

void cli_set_program(const char *name)
{
	const char *slash;

	if (!name || !*name)
		return;
	slash = strrchr(name, '/');
	program_name = slash ? slash + 1 : name;
}

int cli_start(const char *program)
{
	cli_set_program(program);
	if (kt_crypto_init() < 0) {
		cli_error("cannot initialise libsodium");
		return CLI_EXIT_FAILED;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		cli_error("cannot disable core dumps: %s", strerror(errno));
		return CLI_EXIT_FAILED;
	}
	return 0;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_error_schema(const char *dir, const char *why)
{
	cli_error("%s/" META_DB_NAME ": %s in the database schema (tampered?): the vault is not "
		  "opened; find out who changed it, or restore " META_DB_NAME " from a backup",
		  dir, why);
}

int cli_exit_code(int neg_errno)
{
	switch (-neg_errno) {
	case 0:
		return CLI_EXIT_OK;
	case EACCES:
	case EPERM:
		return CLI_EXIT_DENIED;
	case EINVAL:
		return CLI_EXIT_USAGE;
	default:
		return CLI_EXIT_FAILED;
	}
}

const char *cli_vault_dir(const char *arg)
{
	const char *env;

	if (arg && *arg)
		return arg;
	env = getenv("VAULTFS_VAULT");
	return env && *env ? env : NULL;
}

/* ---- passphrases ----------------------------------------------------- */

char *cli_passphrase_free(char *p)
{
	return kt_secure_free(p); /* wipes */
}

static char *passphrase_alloc(void)
{
	char *p = kt_secure_alloc(CLI_PASSPHRASE_MAX + 1);

	if (p)
		sodium_memzero(p, CLI_PASSPHRASE_MAX + 1);
	else
		cli_error("out of memory for the passphrase (locked memory limit?)");
	return p;
}

/* Bytes of an over-long line read from a terminal and thrown away, at most:
 * a terminal's line is bounded by its line discipline (4096), this is a
 * second bound that does not trust it. */
#define TTY_DRAIN_MAX 8192

/*
 * Read one line from fd into buf (CLI_PASSPHRASE_MAX + 1 bytes), without the
 * newline (and a carriage return before it). 0, -E2BIG if too long, -EBADMSG
 * if it holds a NUL byte, -EINTR if stopped by *stop, -errno on a read
 * error. EOF ends the line. Never reads more than CLI_PASSPHRASE_MAX + 1
 * bytes, except that an over-long line from a terminal (drain) is read to
 * its end, at most TTY_DRAIN_MAX bytes, so it is not taken as a command.
 */
static int read_line(int fd, char *buf, volatile sig_atomic_t *stop, bool drain)
{
	size_t n = 0;
	bool nul = false;

	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);

		if (k < 0) {
			if (errno == EINTR && !(stop && *stop))
				continue;
			return -errno;
		}
		if (k == 0 || c == '\n')
			break;
		if (n == CLI_PASSPHRASE_MAX) {
			for (size_t d = 0; drain && d < TTY_DRAIN_MAX; d++)
				if (read(fd, &c, 1) != 1 || c == '\n')
					break;
			return -E2BIG;
		}
		nul |= c == '\0';
		buf[n++] = c;
	}
	if (nul)
		return -EBADMSG; /* cut short by strlen() later: not the passphrase typed */
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

static bool is_fd_path(const char *path)
{
	return strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0 ||
	       strcmp(path, "/dev/stdin") == 0;
}

/*
 * Open a passphrase file without blocking on it, and keep it only if it is
 * something that ends: a regular file, a pipe or socket, or a terminal. A
 * device such as /dev/zero or /dev/urandom would be read for ever. A FIFO
 * named by path is opened again, blocking, so it waits for its writer as a
 * FIFO should. Returns the fd (blocking) or -errno with the reason printed.
 */
static int passphrase_open(const char *file, struct stat *ret_st)
{
	int fd, e, flags;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		cli_error("cannot open passphrase file %s: %s", file, strerror(e));
		return -e;
	}
	if (fstat(fd, ret_st) < 0) {
		e = errno;
		cli_error("cannot stat passphrase file %s: %s", file, strerror(e));
		goto fail;
	}
	if (S_ISDIR(ret_st->st_mode)) {
		e = EISDIR;
		cli_error("passphrase file %s is a directory", file);
		goto fail;
	}
	if (!S_ISREG(ret_st->st_mode) && !S_ISFIFO(ret_st->st_mode) && !S_ISSOCK(ret_st->st_mode) &&
	    !(S_ISCHR(ret_st->st_mode) && isatty(fd))) {
		e = EINVAL;
		cli_error("passphrase file %s is not a regular file, a pipe or a terminal", file);
		goto fail;
	}
	if (S_ISFIFO(ret_st->st_mode) && !is_fd_path(file)) {
		struct stat again;
		int fifo = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);

		e = errno;
		if (fifo < 0 || fstat(fifo, &again) < 0 || again.st_dev != ret_st->st_dev ||
		    again.st_ino != ret_st->st_ino) {
			if (fifo >= 0)
				close(fifo);
			cli_error("cannot open passphrase file %s: %s", file,
				  fifo < 0 ? strerror(e) : "replaced while being opened");
			e = fifo < 0 ? e : EAGAIN;
			goto fail;
		}
		close(fd);
		return fifo;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		e = errno;
		cli_error("cannot read passphrase file %s: %s", file, strerror(e));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -e;
}

static char *passphrase_from_file(const char *file)
{
	struct stat st;
	char *p = NULL;
	int fd, r, e;

	fd = passphrase_open(file, &st);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	/* a descriptor handed over on purpose (/dev/fd/N, /dev/stdin) is the
	 * caller's choice; a file by name must be private (readable or writable
	 * by others, it leaks the passphrase or lets them choose it) */
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)) && !is_fd_path(file)) {
		e = EPERM;
		cli_error(
		    "passphrase file %s is accessible by group or others (run 'chmod 600 %s')",
		    file, file);
		goto fail;
	}
	p = passphrase_alloc();
	if (!p) {
		e = ENOMEM;
		goto fail;
	}
	r = read_line(fd, p, NULL, false);
	if (r == -E2BIG) {
		e = E2BIG;
		cli_error("the passphrase in %s is longer than %d bytes (or has no end of line)",
			  file, CLI_PASSPHRASE_MAX);
		goto fail;
	}
	if (r == -EBADMSG) {
		e = EINVAL;
		cli_error("the passphrase in %s contains a NUL byte", file);
		goto fail;
	}
	if (r < 0) {
		e = -r;
		cli_error("cannot read passphrase file %s: %s", file, strerror(e));
		goto fail;
	}
	if (p[0] == '\0') {
		e = EINVAL;
		cli_error("passphrase file %s is empty", file);
		goto fail;
	}
	close(fd);
	return p;
fail:
	p = cli_passphrase_free(p);
	close(fd);
	errno = e;
	return NULL;
}

static volatile sig_atomic_t tty_signal;

static void tty_on_signal(int sig)
{
	tty_signal = sig;
}

/* The signals that would leave the terminal without echo. */
static const int tty_signals[] = {SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
#define N_TTY_SIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

/* Prompt on the terminal fd and read a line with echo off. */
static int tty_read(int fd, const char *prompt, char *buf)
{
	struct sigaction sa, saved[N_TTY_SIGNALS];
	struct termios old, quiet;
	int r, sig;

	if (tcgetattr(fd, &old) < 0)
		return -errno;
	tty_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_on_signal; /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_TTY_SIGNALS; i++)
		sigaction(tty_signals[i], &sa, &saved[i]);

	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		r = -errno;
		goto out;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* nothing to do: the read still works */
	}
	r = read_line(fd, buf, &tty_signal, true);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* as above */
	}
out:
	for (size_t i = 0; i < N_TTY_SIGNALS; i++)
		sigaction(tty_signals[i], &saved[i], NULL);
	sig = tty_signal;
	if (sig) {
		sodium_memzero(buf, CLI_PASSPHRASE_MAX + 1);
		raise(sig); /* with the terminal restored; if we survive (SIGTSTP) give up */
		return -EINTR;
	}
	return r;
}

static char *passphrase_from_tty(const char *prompt, bool confirm)
{
	char *p = NULL, *again = NULL;
	int fd, r, e = 0;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		cli_error("no terminal to ask for the passphrase (use --passphrase-file FILE)");
		errno = ENXIO;
		return NULL;
	}
	p = passphrase_alloc();
	if (!p) {
		e = ENOMEM;
		goto out;
	}
	r = tty_read(fd, prompt, p);
	if (r == 0 && p[0] == '\0')
		r = -ENODATA;
	if (r == 0 && confirm) {
		again = passphrase_alloc();
		if (!again) {
			e = ENOMEM;
			goto out;
		}
		r = tty_read(fd, "Repeat the passphrase: ", again);
		if (r == 0 && (strlen(p) != strlen(again) || sodium_memcmp(p, again, strlen(p))))
			r = -EILSEQ;
		again = cli_passphrase_free(again);
	}
	if (r == -E2BIG)
		cli_error("the passphrase is longer than %d bytes", CLI_PASSPHRASE_MAX);
	else if (r == -EBADMSG)
		cli_error("the passphrase contains a NUL byte");
	else if (r == -ENODATA)
		cli_error("empty passphrase");
	else if (r == -EILSEQ)
		cli_error("the passphrases do not match; nothing was changed");
	else if (r == -EINTR)
		cli_error("interrupted");
	else if (r < 0)
		cli_error("cannot read the passphrase from the terminal: %s", strerror(-r));
	if (r < 0)
		e = r == -ENODATA || r == -EILSEQ || r == -E2BIG || r == -EBADMSG ? EINVAL : -r;
out:
	close(fd);
	if (e) {
		p = cli_passphrase_free(p);
		errno = e;
	}
	return p;
}

char *cli_passphrase_read(const char *file, const char *prompt, bool confirm)
{
	if (file)
		return passphrase_from_file(file);
	return passphrase_from_tty(prompt ? prompt : "Passphrase: ", confirm);
}

/* ---- times ----------------------------------------------------------- */

char *cli_time_iso(int64_t ns, char *buf, size_t len)
{
	int64_t secs = ns / NS_PER_SEC, rem = ns % NS_PER_SEC;
	time_t t;
	struct tm tm;
	char date[24];

	if (rem < 0) {
		rem += NS_PER_SEC;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(date, sizeof(date), "@%lld", (long long)secs);
	snprintf(buf, len, "%s.%03dZ", date, (int)(rem / 1000000));
	return buf;
}

/* Exactly n decimal digits at *p, advancing it. */
static bool digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

int cli_time_parse(const char *text, int64_t *ret_ns)
{
	int year, mon, day, hour = 0, min = 0, sec = 0, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, secs;
	const char *p = text;
	struct tm tm;
	char *end;

	if (!text || !*text)
		return -EINVAL;
	if (text[0] == '@') {
		long long v;

		/* digits only (strtoll would take a sign or blanks), from 1970
		 * on like the ISO form */
		if (text[1] < '0' || text[1] > '9')
			return -EINVAL;
		errno = 0;
		v = strtoll(text + 1, &end, 10);
		if (errno || *end || v < 0 || v > INT64_MAX / NS_PER_SEC)
			return -EINVAL;
		*ret_ns = (int64_t)v * NS_PER_SEC;
		return 0;
	}
	if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &mon) || *p++ != '-' ||
	    !digits(&p, 2, &day))
		return -EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &min))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return -EINVAL;
			if (*p == '.' || *p == ',') {
				int64_t scale = NS_PER_SEC / 10;

				p++;
				if (*p < '0' || *p > '9')
					return -EINVAL;
				for (; *p >= '0' && *p <= '9'; p++) {
					frac += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '+' ? 1 : -1;
			if (!digits(&p, 2, &oh))
				return -EINVAL;
			if (*p == ':')
				p++;
			if (!digits(&p, 2, &om) || oh > 23 || om > 59)
				return -EINVAL;
		}
	}
	if (*p != '\0' || year < 1970 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || hour > 23 || min > 59 || sec > 59)
		return -EINVAL;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	secs = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	if (secs < 0 || secs > INT64_MAX / NS_PER_SEC - 1)
		return -EINVAL;
	*ret_ns = secs * NS_PER_SEC + frac;
	return 0;
}
