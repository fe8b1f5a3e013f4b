/*
 * meta/cmd/out.h — text output for vaultfs-meta: safe strings, aligned
 * tables and RFC 4180 CSV.
 *
 * Everything an auditor sees comes from the vault, and most of it (file
 * names, process names) was chosen by whoever used the vault. So every
 * string passes through out_text() before it is printed: for a terminal,
 * control characters, invalid UTF-8 and bidirectional overrides are shown
 * as escapes (a file name can neither break a line nor disguise itself);
 * for JSON and CSV, invalid UTF-8 becomes U+FFFD so the output stays valid.
 *
 * JSON itself is written with jansson by the commands.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum out_text_mode {
	OUT_TEXT_UTF8,	   /* JSON, CSV: invalid UTF-8 → U+FFFD, the rest as is */
	OUT_TEXT_TERMINAL, /* human output: also escape controls and bidi overrides */
};

/*
 * A sanitised, NUL-terminated copy of len bytes at s (which may hold any
 * bytes, NUL included). malloc'd; NULL only when out of memory.
 */
char *out_text(const char *s, size_t len, enum out_text_mode mode);

/* Display width of valid UTF-8 text: one column per code point. */
size_t out_width(const char *s);

/*
 * An aligned table for human output: a header row, then rows of cells, each
 * column as wide as its widest cell, two spaces between columns, no trailing
 * blanks. align holds one letter per column: 'l' left, 'r' right. At most
 * OUT_TABLE_MAX_COLS columns (else new returns NULL).
 */
struct out_table;

#define OUT_TABLE_MAX_COLS 16

struct out_table *out_table_new(size_t ncols, const char *const *headers, const char *align);
/* Append a row of ncols cells; takes ownership of the malloc'd cells (NULL
 * cells print as empty). -ENOMEM (cells freed) on failure. */
int out_table_add(struct out_table *t, char **cells);
size_t out_table_rows(const struct out_table *t);
void out_table_print(const struct out_table *t, FILE *f);
/* Takes NULL; returns NULL. */
struct out_table *out_table_free(struct out_table *t);

/* printf into a fresh malloc'd string; NULL when out of memory. */
char *out_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * CSV (RFC 4180): one field, preceded by a comma unless first; NULL is an
 * empty field; a field holding a comma, quote, CR or LF is quoted with its
 * quotes doubled. Records end with out_csv_end() (CRLF).
 */
void out_csv_field(FILE *f, const char *s, bool first);
/*
 * A text field chosen by a vault's users (a name, a path, a detail): shown as
 * the table shows it (OUT_TEXT_TERMINAL: controls, C1, bidi and invisible
 * code points escaped, backslash doubled), and led by a ' when it starts with
 * = + - or @, so that a spreadsheet opening the file takes it as text, not
 * as a formula (CSV injection). Then as out_csv_field.
 */
void out_csv_text(FILE *f, const char *s, bool first);
void out_csv_end(FILE *f);
