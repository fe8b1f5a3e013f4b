/*
 * tests/unit/test_journal.c — keytool/journal.c: the syslog fallback's
 * escaping is reversible and no value can forge a field; checkpoints and
 * records become the right fields; and, with `live` as argument and a
 * journald listening, checkpoints sent to the journal come back (the
 * newest, byte for byte), and entries that are too large are skipped.
 *
 * Without a journald the live run exits 77 (meson shows it as SKIP); the
 * integration test t_journal.sh starts one and runs it.
 */
#include "keytool/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>
#include <systemd/sd-journal.h>

#include "keytool/note.h"
#include "tests/unit/testutil.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Split an escaped syslog line into items at spaces: how many NAME=VALUE
 * items named name it holds; *ret_value (malloc'd, unescaped) the last one. */
static int items_named(const char *line, const char *name, char **ret_value)
{
	size_t nlen = strlen(name);
	const char *p = line;
	int n = 0;

	while (*p) {
		size_t len = strcspn(p, " ");

		if (len > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen;

			n++;
			if (ret_value) {
				free(*ret_value);
				ck_assert_int_eq(kt_journal_unescape(p + nlen + 1, len - nlen - 1,
								     ret_value, &vlen),
						 0);
			}
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return n;
}

/* line holds exactly one item name, whose value is want. */
static void item_is(const char *line, const char *name, const char *want)
{
	char *v = NULL;

	ck_assert_msg(items_named(line, name, &v) == 1, "%s: not once in %s", name, line);
	ck_assert_str_eq(v, want);
	free(v);
}

START_TEST(escape_round_trips_every_byte)
{
	char all[256], *esc, *back;
	size_t len;

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	ck_assert_int_eq(kt_journal_escape(all, sizeof(all), &esc), 0);
	for (const char *p = esc; *p; p++) {
		unsigned char c = (unsigned char)*p;

		ck_assert_msg(c > 0x20 && c != 0x7f, "raw byte 0x%02x in the escaped form", c);
	}
	ck_assert_int_eq(kt_journal_unescape(esc, strlen(esc), &back, &len), 0);
	ck_assert_uint_eq(len, sizeof(all));
	ck_assert_mem_eq(back, all, sizeof(all));
	free(back);
	free(esc);

	ck_assert_int_eq(kt_journal_escape("a b\nc\\d=e", 9, &esc), 0);
	ck_assert_str_eq(esc, "a\\x20b\\x0ac\\x5cd=e");
	free(esc);
}
END_TEST

START_TEST(unescape_refuses_what_escape_never_writes)
{
	static const char *bad[] = {"\\", "\\x", "\\x4", "\\xg0", "\\n", "a b", "a\nb", "\\\\"};
	char *out;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(kt_journal_unescape(bad[i], strlen(bad[i]), &out, &len), -EINVAL);
	ck_assert_int_eq(kt_journal_unescape("\\x41\\x0A=", 9, &out, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(out, "A\n=");
	free(out);
}
END_TEST

static struct meta_record sample(void)
{
	struct meta_record r = {
	    .id = 42,
	    .time_ns = 1796400000123456789LL,
	    .uid = 1000,
	    .pid = 4321,
	    .ino = 7,
	    .level = 2,
	    .outcome = -EACCES,
	    .bytes_read = -1,
	    .bytes_written = -1,
	};

	strcpy(r.user, "alice");
	strcpy(r.comm, "cat");
	strcpy(r.op, "open");
	strcpy(r.detail, "flags=r level not held");
	return r;
}

START_TEST(record_line_has_the_fields)
{
	struct meta_record r = sample();
	char *line;

	ck_assert_int_eq(kt_journal_record_line("/srv/vault", &r, NULL, NULL, &line), 0);
	ck_assert_msg(strncmp(line, "vaultfs record ", 15) == 0, "%s", line);
	ck_assert_ptr_null(strchr(line, '\n'));
	item_is(line, "VAULTFS_RECORD_ID", "42");
	item_is(line, "VAULTFS_USER", "alice");
	item_is(line, "VAULTFS_UID", "1000");
	item_is(line, "VAULTFS_PID", "4321");
	item_is(line, "VAULTFS_COMM", "cat");
	item_is(line, "VAULTFS_OP", "open");
	item_is(line, "VAULTFS_INO", "7");
	item_is(line, "VAULTFS_LEVEL", "2");
	item_is(line, "VAULTFS_OUTCOME", "EACCES");
	item_is(line, "VAULTFS_DETAIL", "flags=r level not held");
	item_is(line, "VAULTFS_TIME", "2026-12-04T16:00:00.123Z");
	item_is(line, "VAULTFS_VAULT", "/srv/vault");
	/* no path without one; no byte counts on an open; MESSAGE is the line itself */
	ck_assert_int_eq(items_named(line, "VAULTFS_PATH", NULL), 0);
	ck_assert_int_eq(items_named(line, "VAULTFS_BYTES_READ", NULL), 0);
	ck_assert_int_eq(items_named(line, "MESSAGE", NULL), 0);
	free(line);

	/* a close record: its byte counts, and the open it closes */
	strcpy(r.op, "close");
	r.outcome = 0;
	r.closes = 41;
	r.bytes_read = 10000;
	r.bytes_written = 0;
	r.detail[0] = '\0';
	ck_assert_int_eq(kt_journal_record_line(NULL, &r, "/a b/c", NULL, &line), 0);
	item_is(line, "VAULTFS_OUTCOME", "ok");
	item_is(line, "VAULTFS_BYTES_READ", "10000");
	item_is(line, "VAULTFS_BYTES_WRITTEN", "0");
	item_is(line, "VAULTFS_CLOSES", "41");
	item_is(line, "VAULTFS_PATH", "/a b/c");
	ck_assert_int_eq(items_named(line, "VAULTFS_DETAIL", NULL), 0);
	ck_assert_int_eq(items_named(line, "VAULTFS_VAULT", NULL), 0);
	free(line);
}
END_TEST

/* A comm, user or path that tries to add a field stays one value. */
START_TEST(values_cannot_forge_fields)
{
	struct meta_record r = sample();
	const char *path = "/x\nVAULTFS_OP=forged VAULTFS_OUTCOME=ok\r\n";
	char *line;

	strcpy(r.comm, "a VAULTFS_OP=f");
	strcpy(r.user, "u\nVAULTFS_UID=0");
	ck_assert_int_eq(kt_journal_record_line(NULL, &r, path, "/y=z VAULTFS_LEVEL=0", &line), 0);
	ck_assert_ptr_null(strchr(line, '\n'));
	ck_assert_ptr_null(strchr(line, '\r'));
	item_is(line, "VAULTFS_OP", "open");
	item_is(line, "VAULTFS_OUTCOME", "EACCES");
	item_is(line, "VAULTFS_UID", "1000");
	item_is(line, "VAULTFS_LEVEL", "2");
	item_is(line, "VAULTFS_COMM", "a VAULTFS_OP=f");
	item_is(line, "VAULTFS_USER", "u\nVAULTFS_UID=0");
	item_is(line, "VAULTFS_PATH", path);
	item_is(line, "VAULTFS_PATH2", "/y=z VAULTFS_LEVEL=0");
	free(line);
}
END_TEST

/* A signed checkpoint of origin at size, malloc'd. */
static char *checkpoint(const char *origin, uint64_t size, const uint8_t sk[64])
{
	struct kt_checkpoint c = {.size = size};
	char *text, *note;

	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	randombytes_buf(c.root, sizeof(c.root));
	ck_assert_int_eq(kt_checkpoint_format(&c, &text), 0);
	ck_assert_int_eq(kt_note_sign(text, origin, sk, &note), 0);
	free(text);
	return note;
}

START_TEST(checkpoint_line_and_refusals)
{
	uint8_t pk[32], sk[64];
	char *note, *line, big[KT_NOTE_MAX_BYTES + 2];

	crypto_sign_keypair(pk, sk);
	note = checkpoint("vaultfs.example/a", 17, sk);
	ck_assert_int_eq(kt_journal_checkpoint_line("vaultfs.example/a", note, strlen(note), &line),
			 0);
	ck_assert_ptr_null(strchr(line, '\n'));
	ck_assert_msg(strncmp(line, "vaultfs checkpoint ", 19) == 0, "%s", line);
	item_is(line, "VAULTFS_ORIGIN", "vaultfs.example/a");
	item_is(line, "VAULTFS_TREE_SIZE", "17");
	item_is(line, "VAULTFS_CHECKPOINT", note); /* the whole note comes back from the line */
	free(line);

	/* not a checkpoint of that origin, empty, too large, bad sizes */
	ck_assert_int_eq(kt_journal_checkpoint_line("vaultfs.example/b", note, strlen(note), &line),
			 -EINVAL);
	ck_assert_int_eq(kt_journal_send_checkpoint("vaultfs.example/b", note, strlen(note)),
			 -EINVAL);
	ck_assert_int_eq(kt_journal_send_checkpoint("vaultfs.example/a", note, 0), -EINVAL);
	ck_assert_int_eq(kt_journal_send_checkpoint("", note, strlen(note)), -EINVAL);
	ck_assert_int_eq(kt_journal_send_checkpoint("a\nb", note, strlen(note)), -EINVAL);
	memset(big, 'x', sizeof(big));
	memcpy(big, "o\n1\n", 4);
	ck_assert_int_eq(kt_journal_send_checkpoint("o", big, sizeof(big)), -EINVAL);
	ck_assert_int_eq(kt_journal_checkpoint_line("o", "o\n\nr\n", 5, &line), -EINVAL);
	ck_assert_int_eq(kt_journal_checkpoint_line("o", "o\n12x\n", 6, &line), -EINVAL);
	ck_assert_int_eq(kt_journal_checkpoint_line("o", "o\n123456789012345678901\n", 24, &line),
			 -EINVAL);
	ck_assert_int_eq(kt_journal_checkpoint_line("o", "o\n18446744073709551615\n", 23, &line),
			 0);
	free(line);
	free(note);
}
END_TEST

/* journald_listens, below */
static bool journald_listens(void);

/* With nobody to send to, a send says so, never that it went. */
START_TEST(nowhere_to_send_is_an_error)
{
	struct meta_record r = sample();
	struct stat st;

	if (journald_listens() || stat("/dev/log", &st) == 0) {
		printf("skipped nowhere_to_send_is_an_error: a journald or /dev/log is here\n");
		return;
	}
	ck_assert_int_eq(kt_journal_send_record(NULL, &r, NULL, NULL), -ENOTCONN);
}
END_TEST

START_TEST(outcome_names)
{
	char buf[16];

	ck_assert_str_eq(kt_journal_outcome_name(0, buf, sizeof(buf)), "ok");
	ck_assert_str_eq(kt_journal_outcome_name(-EBADMSG, buf, sizeof(buf)), "EBADMSG");
	ck_assert_str_eq(kt_journal_outcome_name(-ENOKEY, buf, sizeof(buf)), "ENOKEY");
	ck_assert_str_eq(kt_journal_outcome_name(-100000, buf, sizeof(buf)), "E100000");
}
END_TEST

/* --- live: a journald listens ------------------------------------------------- */

static bool journald_listens(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The newest checkpoint of origin, waiting up to 10 s for want_len bytes. */
static int latest_wait(const char *origin, size_t want_len, char **ret, size_t *ret_len)
{
	int r = -ENOENT;

	for (int i = 0; i < 100; i++) {
		r = kt_journal_latest_checkpoint(origin, ret, ret_len);
		if (r == 0 && *ret_len == want_len)
			return 0;
		if (r == 0)
			free(*ret);
		usleep(100 * 1000);
	}
	return r == 0 ? -EAGAIN : r;
}

static int count_one(void *arg, const char *note, size_t len)
{
	size_t *n = arg;

	(void)note;
	(void)len;
	(*n)++;
	return 0;
}

START_TEST(live_checkpoint_comes_back)
{
	uint8_t pk[32], sk[64], tag[8];
	char origin[64], hex[17], *first, *second, *back, *text, *huge;
	struct kt_note_verifier v;
	size_t len, n = 0;

	crypto_sign_keypair(pk, sk);
	randombytes_buf(tag, sizeof(tag));
	sodium_bin2hex(hex, sizeof(hex), tag, sizeof(tag));
	snprintf(origin, sizeof(origin), "vaultfs.test/journal-%s", hex);
	ck_assert_int_eq(kt_note_verifier_make(origin, pk, &v), 0);

	ck_assert_int_eq(kt_journal_latest_checkpoint(origin, &back, &len), -ENOENT);
	first = checkpoint(origin, 5, sk);
	ck_assert_int_eq(kt_journal_send_checkpoint(origin, first, strlen(first)),
			 KT_JOURNAL_VIA_JOURNAL);
	ck_assert_int_eq(latest_wait(origin, strlen(first), &back, &len), 0);
	ck_assert_uint_eq(len, strlen(first));
	ck_assert_mem_eq(back, first, len);
	ck_assert_int_eq(back[len], '\0');
	ck_assert_int_eq(kt_note_open(back, len, &v, &text), 0); /* what the caller does */
	free(text);
	free(back);

	/* A newer one (of another length) wins; both are listed, newest first. */
	second = checkpoint(origin, 123456, sk);
	ck_assert_uint_ne(strlen(second), strlen(first));
	ck_assert_int_eq(kt_journal_send_checkpoint(origin, second, strlen(second)),
			 KT_JOURNAL_VIA_JOURNAL);
	ck_assert_int_eq(latest_wait(origin, strlen(second), &back, &len), 0);
	ck_assert_mem_eq(back, second, len);
	free(back);
	ck_assert_int_eq(kt_journal_each_checkpoint(origin, 0, count_one, &n), 0);
	ck_assert_uint_eq(n, 2);

	/* Someone else's entry for the origin that is too large is skipped. */
	huge = malloc(KT_NOTE_MAX_BYTES + 100);
	ck_assert_ptr_nonnull(huge);
	memset(huge, 'A', KT_NOTE_MAX_BYTES + 99);
	huge[KT_NOTE_MAX_BYTES + 99] = '\0';
	ck_assert_int_eq(sd_journal_send("MESSAGE=forged", "VAULTFS_ORIGIN=%s", origin,
					 "VAULTFS_CHECKPOINT=%s", huge, NULL),
			 0);
	free(huge);
	/* ...and a newer forgery is returned: verifying it is the caller's job
	 * (sd_journal_send drops a value's last newline) */
	ck_assert_int_eq(sd_journal_send("MESSAGE=forged", "VAULTFS_ORIGIN=%s", origin,
					 "VAULTFS_CHECKPOINT=%s\nforged", origin, NULL),
			 0);
	ck_assert_int_eq(latest_wait(origin, strlen(origin) + 7, &back, &len), 0);
	ck_assert_int_eq(kt_note_open(back, len, &v, &text), -EPROTO);
	free(back);
	n = 0;
	ck_assert_int_eq(kt_journal_each_checkpoint(origin, 0, count_one, &n), 0);
	ck_assert_uint_eq(n, 3); /* the huge one is not among them */
	free(first);
	free(second);
}
END_TEST

int main(int argc, char **argv)
{
	bool live = argc > 1 && strcmp(argv[1], "live") == 0;
	Suite *s;
	TCase *tc;

	if (sodium_init() < 0)
		return 1;
	if (live && !journald_listens()) {
		printf("SKIP: no journald listens on %s (the integration test t_journal.sh "
		       "starts one)\n",
		       JOURNAL_SOCKET);
		return 77;
	}
	s = suite_create("journal");
	tc = tcase_create(live ? "live" : "journal");
	if (live) {
		tcase_add_test(tc, live_checkpoint_comes_back);
	} else {
		tcase_add_test(tc, escape_round_trips_every_byte);
		tcase_add_test(tc, unescape_refuses_what_escape_never_writes);
		tcase_add_test(tc, record_line_has_the_fields);
		tcase_add_test(tc, values_cannot_forge_fields);
		tcase_add_test(tc, checkpoint_line_and_refusals);
		tcase_add_test(tc, outcome_names);
		tcase_add_test(tc, nowhere_to_send_is_an_error);
	}
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
