/*
 * keytool/journal.c — checkpoints and access records in the system journal
 * (journald's native protocol through libsystemd), with syslog(3) where no
 * journald listens; and the newest checkpoint of a vault read back.
 *
 * An entry is first built as a list of fields (name, value bytes); the
 * journal gets each as one binary-safe item, the syslog fallback one line of
 * escaped NAME=VALUE items (journal.h says how they are escaped).
 */
#include "keytool/journal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "keytool/note.h"

#define FIELDS_MAX	  32
#define SYSLOG_SOCKET	  "/dev/log"
#define JOURNAL_SOCKET	  "/run/systemd/journal/socket"
#define IDENTIFIER	  "vaultfs"
#define CHECKPOINT_FIELD  "VAULTFS_CHECKPOINT"
#define ORIGIN_FIELD	  "VAULTFS_ORIGIN"
#define FACILITY_AUTHPRIV "10" /* LOG_AUTHPRIV >> 3, as journald stores it */
#define TREE_SIZE_DIGITS  20   /* of a uint64_t */

/* One field of an entry. */
struct field {
	const char *name; /* upper case, as the journal wants it */
	char *value;	  /* malloc'd; may hold any bytes */
	size_t len;	  /* of value */
};

/* An entry being built; err keeps the first failure, so adds may be chained. */
struct entry {
	struct field f[FIELDS_MAX]; /* f[0..n) */
	size_t n;
	int priority; /* LOG_* */
	int err;      /* 0 or the first -errno */
};

static void entry_clear(struct entry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->f[i].value);
	e->n = 0;
}

/* Add name=value (len bytes). */
static void entry_add(struct entry *e, const char *name, const char *value, size_t len)
{
	char *copy;

	if (e->err)
		return;
	if (e->n == FIELDS_MAX) {
		e->err = -EINVAL;
		return;
	}
	copy = malloc(len + 1);
	if (!copy) {
		e->err = -ENOMEM;
		return;
	}
	memcpy(copy, value, len);
	copy[len] = '\0';
	e->f[e->n++] = (struct field){.name = name, .value = copy, .len = len};
}

__attribute__((format(printf, 3, 4))) static void entry_addf(struct entry *e, const char *name,
							     const char *fmt, ...)
{
	va_list ap;
	char *text;
	int n;

	if (e->err)
		return;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		e->err = -ENOMEM;
		return;
	}
	entry_add(e, name, text, (size_t)n);
	free(text);
}

/* Does the escaped form write byte c as \xHH? */
static bool escaped(unsigned char c, bool keep_space)
{
	return c < 0x20 || (c == ' ' && !keep_space) || c == 0x7f || c == '\\';
}

/* Escape value into a malloc'd string; keep_space for readable text (MESSAGE). */
static int escape(const char *value, size_t len, bool keep_space, char **ret)
{
	static const char hex[] = "0123456789abcdef";
	size_t out_len = 0;
	char *out, *p;

	for (size_t i = 0; i < len; i++)
		out_len += escaped((unsigned char)value[i], keep_space) ? 4 : 1;
	out = p = malloc(out_len + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (escaped(c, keep_space)) {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0xf];
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	*ret = out;
	return 0;
}

int kt_journal_escape(const char *value, size_t len, char **ret)
{
	if (!value || !ret)
		return -EINVAL;
	return escape(value, len, false, ret);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kt_journal_unescape(const char *text, size_t len, char **ret, size_t *ret_len)
{
	char *out;
	size_t n = 0;

	if (!text || !ret || !ret_len)
		return -EINVAL;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		int hi, lo;

		if (c == '\\') {
			if (len - i < 4 || text[i + 1] != 'x' ||
			    (hi = hex_value(text[i + 2])) < 0 ||
			    (lo = hex_value(text[i + 3])) < 0) {
				free(out);
				return -EINVAL;
			}
			out[n++] = (char)(hi << 4 | lo);
			i += 3;
		} else if (escaped(c, false)) {
			free(out);
			return -EINVAL;
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
}

const char *kt_journal_outcome_name(int outcome, char *buf, size_t size)
{
	const char *name;

	if (outcome == 0)
		return "ok";
	name = outcome < 0 ? strerrorname_np(-outcome) : NULL;
	if (name)
		return name;
	snprintf(buf, size, "E%d", outcome < 0 ? -outcome : outcome);
	return buf;
}

/* The syslog line of e: "vaultfs KIND" and every field but MESSAGE, escaped. */
static int entry_line(const struct entry *e, const char *kind, char **ret)
{
	char *line = NULL, *value;
	size_t size = 0;
	FILE *f;
	int r = 0;

	if (e->err)
		return e->err;
	f = open_memstream(&line, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, IDENTIFIER " %s", kind);
	for (size_t i = 0; r == 0 && i < e->n; i++) {
		if (strcmp(e->f[i].name, "MESSAGE") == 0)
			continue;
		r = escape(e->f[i].value, e->f[i].len, false, &value);
		if (r == 0) {
			fprintf(f, " %s=%s", e->f[i].name, value);
			free(value);
		}
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(line);
		return r;
	}
	*ret = line;
	return 0;
}

static pthread_once_t syslog_once = PTHREAD_ONCE_INIT;

static void syslog_open(void)
{
	openlog(IDENTIFIER, LOG_PID, LOG_AUTHPRIV);
}

/* Send e: to journald, else as one line to syslog. */
static int entry_send(struct entry *e, const char *kind)
{
	struct iovec iov[FIELDS_MAX + 3];
	char *items[FIELDS_MAX] = {0};
	char priority[16];
	struct stat st;
	char *line;
	size_t n = 0;
	int r = e->err;

	snprintf(priority, sizeof(priority), "PRIORITY=%d", e->priority);
	iov[n++] = (struct iovec){.iov_base = priority, .iov_len = strlen(priority)};
	iov[n++] = (struct iovec){.iov_base = (char *)"SYSLOG_IDENTIFIER=" IDENTIFIER,
				  .iov_len = strlen("SYSLOG_IDENTIFIER=" IDENTIFIER)};
	iov[n++] = (struct iovec){.iov_base = (char *)"SYSLOG_FACILITY=" FACILITY_AUTHPRIV,
				  .iov_len = strlen("SYSLOG_FACILITY=" FACILITY_AUTHPRIV)};
	for (size_t i = 0; r == 0 && i < e->n; i++) {
		size_t name_len = strlen(e->f[i].name);

		items[i] = malloc(name_len + 1 + e->f[i].len);
		if (!items[i]) {
			r = -ENOMEM;
			break;
		}
		memcpy(items[i], e->f[i].name, name_len);
		items[i][name_len] = '=';
		memcpy(items[i] + name_len + 1, e->f[i].value, e->f[i].len);
		iov[n++] =
		    (struct iovec){.iov_base = items[i], .iov_len = name_len + 1 + e->f[i].len};
	}
	if (r == 0 && stat(JOURNAL_SOCKET, &st) < 0) {
		/* sd_journal_sendv says 0 when the socket is missing, as if sent */
		r = -ENOENT;
	} else if (r == 0) {
		/* Each iovec is one field; a value with a newline goes length-prefixed. */
		r = sd_journal_sendv(iov, (int)n);
		if (r >= 0)
			r = KT_JOURNAL_VIA_JOURNAL;
	}
	for (size_t i = 0; i < e->n; i++)
		free(items[i]);
	if (r > 0 || r == -ENOMEM || r == -EINVAL)
		return r;

	/* No journald (no socket, or nobody behind it): syslog, if anyone listens. */
	if (stat(SYSLOG_SOCKET, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -ENOTCONN;
	r = entry_line(e, kind, &line);
	if (r < 0)
		return r;
	pthread_once(&syslog_once, syslog_open);
	syslog(LOG_AUTHPRIV | e->priority, "%s", line);
	free(line);
	return KT_JOURNAL_VIA_SYSLOG;
}

/* Is origin a name that may head a checkpoint (one line, not empty)? */
static bool origin_ok(const char *origin)
{
	size_t len = origin ? strlen(origin) : 0;

	return len > 0 && len <= KT_NOTE_NAME_MAX && !strchr(origin, '\n');
}

/* The tree size of a checkpoint note of origin: its second line; -EINVAL if it is none. */
static int checkpoint_size(const char *origin, const char *note, size_t len, uint64_t *ret_size)
{
	size_t olen = strlen(origin), i, digits = 0;
	uint64_t size = 0;

	if (len <= olen || memcmp(note, origin, olen) != 0 || note[olen] != '\n')
		return -EINVAL;
	for (i = olen + 1; i < len && note[i] >= '0' && note[i] <= '9'; i++) {
		uint64_t digit = (uint64_t)(note[i] - '0');

		if (++digits > TREE_SIZE_DIGITS || size > (UINT64_MAX - digit) / 10)
			return -EINVAL;
		size = size * 10 + digit;
	}
	if (digits == 0 || i == len || note[i] != '\n')
		return -EINVAL;
	*ret_size = size;
	return 0;
}

/* The entry of a checkpoint; e->err tells whether it could be built. */
static void checkpoint_entry(const char *origin, const char *note, size_t len, struct entry *e)
{
	uint64_t size;

	*e = (struct entry){.priority = LOG_NOTICE};
	if (!origin_ok(origin) || !note || len == 0 || len > KT_NOTE_MAX_BYTES ||
	    checkpoint_size(origin, note, len, &size) < 0) {
		e->err = -EINVAL;
		return;
	}
	entry_addf(e, "MESSAGE", IDENTIFIER " checkpoint %s size %" PRIu64, origin, size);
	entry_add(e, ORIGIN_FIELD, origin, strlen(origin));
	entry_addf(e, "VAULTFS_TREE_SIZE", "%" PRIu64, size);
	entry_add(e, CHECKPOINT_FIELD, note, len);
}

int kt_journal_send_checkpoint(const char *origin, const char *note, size_t len)
{
	struct entry e;
	int r;

	checkpoint_entry(origin, note, len, &e);
	r = entry_send(&e, "checkpoint");
	entry_clear(&e);
	return r;
}

int kt_journal_checkpoint_line(const char *origin, const char *note, size_t len, char **ret)
{
	struct entry e;
	int r;

	if (!ret)
		return -EINVAL;
	checkpoint_entry(origin, note, len, &e);
	r = entry_line(&e, "checkpoint", ret);
	entry_clear(&e);
	return r;
}

/* ISO-8601 UTC with milliseconds, as vaultfs-meta prints times. */
static void time_iso(int64_t ns, char *buf, size_t size)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	if (ns < 0 || !gmtime_r(&s, &tm) ||
	    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(ns / 1000000 % 1000)) >= (int)size)
		snprintf(buf, size, "?");
}

static int record_priority(int outcome)
{
	if (outcome == -EBADMSG)
		return LOG_WARNING; /* integrity: stored data was tampered with */
	if (outcome == -EACCES || outcome == -EPERM || outcome == -ENOKEY)
		return LOG_NOTICE; /* a refusal */
	return LOG_INFO;
}

/* The readable line of a record; values from users escaped, spaces kept. */
static void record_message(struct entry *e, const struct meta_record *r, const char *outcome,
			   const char *path, const char *path2)
{
	char *user = NULL, *comm = NULL, *p1 = NULL, *p2 = NULL, *detail = NULL;
	char level[24] = "";

	if (e->err)
		return;
	if (r->level >= 0)
		snprintf(level, sizeof(level), " level %d", r->level);
	if (escape(r->user, strlen(r->user), true, &user) < 0 ||
	    escape(r->comm, strlen(r->comm), true, &comm) < 0 ||
	    escape(r->detail, strlen(r->detail), true, &detail) < 0 ||
	    (path && escape(path, strlen(path), true, &p1) < 0) ||
	    (path2 && escape(path2, strlen(path2), true, &p2) < 0)) {
		e->err = -ENOMEM;
	} else {
		entry_addf(e, "MESSAGE",
			   "vaultfs record %" PRId64 ": %s (uid %" PRId64 ", %s[%" PRId64
			   "]) %s%s%s%s%s ino %" PRIu64 "%s: %s%s%s",
			   r->id, user[0] ? user : "-", r->uid, comm, r->pid, r->op, p1 ? " " : "",
			   p1 ? p1 : "", p2 ? " -> " : "", p2 ? p2 : "", r->ino, level, outcome,
			   detail[0] ? " " : "", detail);
	}
	free(user);
	free(comm);
	free(p1);
	free(p2);
	free(detail);
}

/* The entry of a record; e->err tells whether it could be built. */
static void record_entry(const char *vault, const struct meta_record *r, const char *path,
			 const char *path2, struct entry *e)
{
	char buf[16], when[40];
	const char *outcome;

	*e = (struct entry){.priority = LOG_INFO};
	if (!r) {
		e->err = -EINVAL;
		return;
	}
	e->priority = record_priority(r->outcome);
	outcome = kt_journal_outcome_name(r->outcome, buf, sizeof(buf));
	time_iso(r->time_ns, when, sizeof(when));
	record_message(e, r, outcome, path, path2);
	if (vault)
		entry_add(e, "VAULTFS_VAULT", vault, strlen(vault));
	entry_addf(e, "VAULTFS_RECORD_ID", "%" PRId64, r->id);
	entry_add(e, "VAULTFS_TIME", when, strlen(when));
	if (r->user[0])
		entry_add(e, "VAULTFS_USER", r->user, strnlen(r->user, sizeof(r->user)));
	if (r->uid >= 0)
		entry_addf(e, "VAULTFS_UID", "%" PRId64, r->uid);
	if (r->pid > 0)
		entry_addf(e, "VAULTFS_PID", "%" PRId64, r->pid);
	entry_add(e, "VAULTFS_COMM", r->comm, strnlen(r->comm, sizeof(r->comm)));
	entry_add(e, "VAULTFS_OP", r->op, strnlen(r->op, sizeof(r->op)));
	if (r->ino)
		entry_addf(e, "VAULTFS_INO", "%" PRIu64, r->ino);
	if (r->level >= 0)
		entry_addf(e, "VAULTFS_LEVEL", "%d", r->level);
	entry_add(e, "VAULTFS_OUTCOME", outcome, strlen(outcome));
	if (r->detail[0])
		entry_add(e, "VAULTFS_DETAIL", r->detail, strnlen(r->detail, sizeof(r->detail)));
	if (r->closes)
		entry_addf(e, "VAULTFS_CLOSES", "%" PRId64, r->closes);
	if (r->bytes_read >= 0)
		entry_addf(e, "VAULTFS_BYTES_READ", "%" PRId64, r->bytes_read);
	if (r->bytes_written >= 0)
		entry_addf(e, "VAULTFS_BYTES_WRITTEN", "%" PRId64, r->bytes_written);
	if (path)
		entry_add(e, "VAULTFS_PATH", path, strlen(path));
	if (path2)
		entry_add(e, "VAULTFS_PATH2", path2, strlen(path2));
}

int kt_journal_send_record(const char *vault, const struct meta_record *r, const char *path,
			   const char *path2)
{
	struct entry e;
	int ret;

	record_entry(vault, r, path, path2, &e);
	ret = entry_send(&e, "record");
	entry_clear(&e);
	return ret;
}

int kt_journal_record_line(const char *vault, const struct meta_record *r, const char *path,
			   const char *path2, char **ret)
{
	struct entry e;
	int rr;

	if (!ret)
		return -EINVAL;
	record_entry(vault, r, path, path2, &e);
	rr = entry_line(&e, "record", ret);
	entry_clear(&e);
	return rr;
}

static void journal_closep(sd_journal **j)
{
	if (*j)
		sd_journal_close(*j);
}

int kt_journal_each_checkpoint(const char *origin, size_t max,
			       int (*fn)(void *arg, const char *note, size_t len), void *arg)
{
	static const size_t prefix = sizeof(CHECKPOINT_FIELD "=") - 1;
	__attribute__((cleanup(journal_closep))) sd_journal *j = NULL;
	char *match = NULL;
	size_t seen = 0, examined = 0;
	int r;

	if (!origin_ok(origin) || !fn)
		return -EINVAL;
	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0)
		return r;
	if (sd_journal_has_runtime_files(j) <= 0 && sd_journal_has_persistent_files(j) <= 0)
		return -ENOMEDIUM;
	/* One byte more than a note may have: a longer field shows as too long,
	 * never as a note cut short. */
	r = sd_journal_set_data_threshold(j, prefix + KT_NOTE_MAX_BYTES + 1);
	if (r >= 0) {
		if (asprintf(&match, ORIGIN_FIELD "=%s", origin) < 0)
			return -ENOMEM;
		r = sd_journal_add_match(j, match, strlen(match));
		free(match);
	}
	/* _UID is set by journald itself: only root's entries (the daemon's and
	 * the administrators' key tool) count, never what a local account wrote */
	if (r >= 0)
		r = sd_journal_add_match(j, "_UID=0", 0);
	if (r >= 0)
		r = sd_journal_seek_tail(j);
	while (r >= 0 && (max == 0 || seen < max) && examined++ < KT_JOURNAL_SCAN_MAX) {
		const void *data;
		size_t len;
		char *note;

		r = sd_journal_previous(j);
		if (r <= 0)
			break;
		/* The field's content is whatever some process sent: check its shape. */
		r = sd_journal_get_data(j, CHECKPOINT_FIELD, &data, &len);
		if (r == -ENOENT || r == -EBADMSG || r == -E2BIG) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		if (len <= prefix || len - prefix > KT_NOTE_MAX_BYTES ||
		    memcmp(data, CHECKPOINT_FIELD "=", prefix) != 0)
			continue;
		seen++;
		note = malloc(len - prefix + 1);
		if (!note)
			return -ENOMEM;
		memcpy(note, (const char *)data + prefix, len - prefix);
		note[len - prefix] = '\0';
		r = fn(arg, note, len - prefix);
		free(note);
		if (r != 0)
			return r;
	}
	if (r < 0)
		return r;
	return seen ? 0 : -ENOENT;
}

/* What kt_journal_latest_checkpoint keeps of the newest. */
struct latest {
	char *note;
	size_t len;
};

static int take_first(void *arg, const char *note, size_t len)
{
	struct latest *l = arg;

	l->note = malloc(len + 1);
	if (!l->note)
		return -ENOMEM;
	memcpy(l->note, note, len + 1);
	l->len = len;
	return 1;
}

int kt_journal_latest_checkpoint(const char *origin, char **ret_note, size_t *ret_len)
{
	struct latest l = {0};
	int r;

	if (!ret_note || !ret_len)
		return -EINVAL;
	r = kt_journal_each_checkpoint(origin, 1, take_first, &l);
	if (r < 0) {
		free(l.note);
		return r;
	}
	if (!l.note)
		return -ENOENT;
	*ret_note = l.note;
	*ret_len = l.len;
	return 0;
}

struct newest_pick {
	const struct kt_note_verifier *v;
	char *note;
	size_t len;
	struct kt_checkpoint cp;
	bool found;
	bool oom;
};

static int pick_signed(void *arg, const char *note, size_t len)
{
	struct newest_pick *p = arg;
	char *text = NULL;

	if (kt_note_open(note, len, p->v, &text) != 0)
		return 0; /* not signed by the vault's key: look further back */
	if (kt_checkpoint_parse(text, &p->cp) != 0 || strcmp(p->cp.origin, p->v->name) != 0) {
		kt_checkpoint_clear(&p->cp);
		free(text);
		return 0;
	}
	free(text);
	p->note = malloc(len + 1);
	if (!p->note) {
		p->oom = true;
		return 1;
	}
	memcpy(p->note, note, len);
	p->note[len] = '\0';
	p->len = len;
	p->found = true;
	return 1;
}

int kt_journal_newest_signed(const struct kt_note_verifier *v, char **ret_note, size_t *ret_len,
			     struct kt_checkpoint *ret_cp)
{
	struct newest_pick p = {.v = v};
	int r = kt_journal_each_checkpoint(v->name, 0, pick_signed, &p);

	if (r < 0 && r != -ENOENT)
		return r;
	if (p.oom) {
		kt_checkpoint_clear(&p.cp);
		return -ENOMEM;
	}
	if (!p.found)
		return -ENOENT;
	if (ret_note)
		*ret_note = p.note;
	else
		free(p.note);
	if (ret_len)
		*ret_len = p.len;
	if (ret_cp)
		*ret_cp = p.cp;
	else
		kt_checkpoint_clear(&p.cp);
	return 0;
}
