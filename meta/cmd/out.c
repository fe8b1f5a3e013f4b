/*
 * meta/cmd/out.c — text output for vaultfs-meta: safe strings, aligned
 * tables and RFC 4180 CSV (see out.h).
 *
 * The UTF-8 decoder is strict (no overlong forms, no surrogates, nothing
 * above U+10FFFF), so what it lets through is valid for jansson and for a
 * terminal alike.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/cmd/out.h"

/* Growable byte buffer for out_text(). */
struct buf {
	char *p;     /* NUL-terminated when len > 0 or after buf_put */
	size_t len;  /* bytes used, without the NUL */
	size_t cap;  /* bytes allocated */
	bool failed; /* an allocation failed; p is then freed */
};

static void buf_put(struct buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *np;

		while (b->len + len + 1 > cap)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			free(b->p);
			b->p = NULL;
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

/* "\\xNN" for a byte, "\\uNNNN" for a code point. */
static void buf_put_escape(struct buf *b, bool byte, uint32_t v)
{
	char tmp[16];
	int n = byte	     ? snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)v)
		: v > 0xffff ? snprintf(tmp, sizeof(tmp), "\\U%08x", (unsigned)v)
			     : snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)v);

	buf_put(b, tmp, (size_t)n);
}

/*
 * Decode one UTF-8 sequence at s (n bytes left). Returns its length and sets
 * *ret_cp, or 0 if the bytes there are not valid UTF-8.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f;
		len = 2;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		len = 3;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		cp = s[0] & 0x07;
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

/* Code points that reorder or hide text on a terminal (Trojan-source style). */
static bool is_bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* Code points that show nothing (zero-width, soft hyphen, fillers, tags,
 * variation selectors, line separators): two names that differ only in
 * them would look the same. */
static bool is_invisible(uint32_t cp)
{
	return cp == 0xad || cp == 0x115f || cp == 0x1160 || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200d) || (cp >= 0x2028 && cp <= 0x2029) ||
	       (cp >= 0x2060 && cp <= 0x2064) || cp == 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) ||
	       cp == 0xfeff || cp == 0xffa0 || (cp >= 0xe0000 && cp <= 0xe007f) ||
	       (cp >= 0xe0100 && cp <= 0xe01ef);
}

char *out_text(const char *s, size_t len, enum out_text_mode mode)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *u = (const unsigned char *)s;
	struct buf b = {0};
	size_t i = 0;

	buf_put(&b, "", 0);
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(u + i, len - i, &cp);

		if (n == 0 || cp == 0) {
			if (mode == OUT_TEXT_TERMINAL)
				buf_put_escape(&b, true, u[i]);
			else
				buf_put(&b, replacement, 3);
			i++;
			continue;
		}
		if (mode == OUT_TEXT_TERMINAL) {
			if (cp == '\\') {
				buf_put(&b, "\\\\", 2);
			} else if (cp == '\n') {
				buf_put(&b, "\\n", 2);
			} else if (cp == '\t') {
				buf_put(&b, "\\t", 2);
			} else if (cp == '\r') {
				buf_put(&b, "\\r", 2);
			} else if (cp < 0x20 || cp == 0x7f) {
				buf_put_escape(&b, true, cp);
			} else if ((cp >= 0x80 && cp <= 0x9f) || is_bidi_control(cp) ||
				   is_invisible(cp)) {
				buf_put_escape(&b, false, cp);
			} else {
				buf_put(&b, u + i, n);
			}
		} else {
			buf_put(&b, u + i, n);
		}
		i += n;
	}
	return b.failed ? NULL : b.p;
}

size_t out_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

char *out_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

struct out_table {
	size_t ncols;
	const char *const *headers; /* ncols column titles (not owned) */
	char *align;		    /* ncols letters 'l'/'r' */
	char **cells;		    /* nrows × ncols, owned, may be NULL */
	size_t nrows;
	size_t cap; /* rows allocated */
};

struct out_table *out_table_new(size_t ncols, const char *const *headers, const char *align)
{
	struct out_table *t;

	if (ncols == 0 || ncols > OUT_TABLE_MAX_COLS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->headers = headers;
	t->align = strdup(align);
	if (!t->align) {
		free(t);
		return NULL;
	}
	return t;
}

int out_table_add(struct out_table *t, char **cells)
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **nc = reallocarray(t->cells, cap * t->ncols, sizeof(*nc));

		if (!nc) {
			for (i = 0; i < t->ncols; i++)
				free(cells[i]);
			return -ENOMEM;
		}
		t->cells = nc;
		t->cap = cap;
	}
	memcpy(t->cells + t->nrows * t->ncols, cells, t->ncols * sizeof(*cells));
	t->nrows++;
	return 0;
}

size_t out_table_rows(const struct out_table *t)
{
	return t->nrows;
}

static void print_cell(FILE *f, const char *s, size_t width, char align, bool last)
{
	size_t w = out_width(s), pad = width > w ? width - w : 0;

	if (align == 'r')
		fprintf(f, "%*s", (int)pad, "");
	fputs(s, f);
	if (align != 'r' && !last)
		fprintf(f, "%*s", (int)pad, "");
}

static void print_row(const struct out_table *t, FILE *f, const char *const *row,
		      const size_t *widths)
{
	size_t c, last = 0;

	/* Trailing empty cells print nothing, so no line ends in blanks. */
	for (c = 0; c < t->ncols; c++)
		if (row[c] && row[c][0])
			last = c;
	for (c = 0; c <= last; c++) {
		if (c > 0)
			fputs("  ", f);
		print_cell(f, row[c] ? row[c] : "", widths[c], t->align[c], c == last);
	}
	fputc('\n', f);
}

void out_table_print(const struct out_table *t, FILE *f)
{
	size_t widths[OUT_TABLE_MAX_COLS];
	size_t r, c;

	for (c = 0; c < t->ncols; c++)
		widths[c] = out_width(t->headers[c]);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t w = s ? out_width(s) : 0;

			if (w > widths[c])
				widths[c] = w;
		}
	}
	print_row(t, f, t->headers, widths);
	for (r = 0; r < t->nrows; r++)
		print_row(t, f, (const char *const *)(t->cells + r * t->ncols), widths);
}

struct out_table *out_table_free(struct out_table *t)
{
	size_t i;

	if (!t)
		return NULL;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->align);
	free(t);
	return NULL;
}

void out_csv_field(FILE *f, const char *s, bool first)
{
	if (!first)
		fputc(',', f);
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void out_csv_text(FILE *f, const char *s, bool first)
{
	char *t = s ? out_text(s, strlen(s), OUT_TEXT_TERMINAL) : NULL;

	if (t && t[0] && strchr("=+-@", t[0])) {
		char *quoted = out_fmt("'%s", t);

		free(t);
		t = quoted;
	}
	/* without memory the field is left empty rather than written unsafe */
	out_csv_field(f, t, first);
	free(t);
}

void out_csv_end(FILE *f)
{
	fputs("\r\n", f);
}
