/*
 * keytool/names.c — names and text: the rules for user and role names, the
 * vault's level names (configured, default, English aliases, the refused
 * level 4), parsing a level or a list of them, formatting a set of levels,
 * and the printable copy of free text that goes into access records.
 */
#include "keytool/names.h"
#include "keytool/internal.h"
#include "keytool/signing.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LEVEL_NAME_MAX 64 /* bytes of UTF-8 */

const char *const kt_default_level_names[META_LEVELS] = {
    "Öppen",
    "Intern",
    "Känslig",
    "Mycket känslig",
};

/* Names accepted for levels whatever the vault calls them (DESIGN.md §3). */
static const char *const level_english_names[META_LEVELS][2] = {
    {"public", NULL},
    {"internal", NULL},
    {"sensitive", NULL},
    {"highly-sensitive", "highly sensitive"},
};
static const char *const level_refused_names[] = {
    "säkerhetsskydd",
    "(säkerhetsskydd)",
    "security",
    "security-classified",
};

/* ---- names and text -------------------------------------------------- */

bool kt_name_valid(const char *name)
{
	size_t n;

	if (!name || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (n = 1; name[n]; n++) {
		char c = name[n];

		if (n >= META_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Length of the valid UTF-8 sequence at s (no overlongs, surrogates or
 * code points above U+10FFFF), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

void kt_copy_printable(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t o = 0;

	while (*s && o + 1 < size) {
		size_t n = utf8_seq_len(s);

		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
			dst[o++] = '?';
			s++;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
}

/*
 * Case-fold a level name for comparison: ASCII letters and the Latin-1
 * letters À..Þ (Å, Ä, Ö, É, ...) to lower case; everything else as is.
 * -ENAMETOOLONG if it does not fit.
 */
static int fold_name(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		if (i + 1 >= size)
			return -ENAMETOOLONG;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (i > 0 && (unsigned char)in[i - 1] == 0xc3 && c >= 0x80 && c <= 0x9e &&
			 c != 0x97)
			c = (unsigned char)(c + 0x20);
		out[i] = (char)c;
	}
	out[i] = '\0';
	return 0;
}

static bool name_eq_folded(const char *folded, const char *name)
{
	char buf[LEVEL_NAME_MAX * 2 + 1];

	return name && fold_name(name, buf, sizeof(buf)) == 0 && strcmp(folded, buf) == 0;
}

/* A configurable level name: 1..64 bytes of printable UTF-8, no comma (the
 * CLI's list separator), not a number, not a name of level 4. */
static bool level_name_valid(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	char folded[LEVEL_NAME_MAX * 2 + 1];
	bool digits = true;
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > LEVEL_NAME_MAX || name[0] == ' ' || name[len - 1] == ' ')
		return false;
	while (*s) {
		size_t n = utf8_seq_len(s);

		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f || *s == ',')))
			return false;
		if (n != 1 || *s < '0' || *s > '9')
			digits = false;
		s += n;
	}
	if (digits || fold_name(name, folded, sizeof(folded)) < 0)
		return false;
	for (size_t i = 0; i < sizeof(level_refused_names) / sizeof(level_refused_names[0]); i++)
		if (name_eq_folded(folded, level_refused_names[i]))
			return false;
	return true;
}

/*
 * The level names are as the administration key signed them (§13): a bad
 * signature, or a missing one once the vault's rows are signed, is -EBADMSG
 * (names swapped or renamed behind vaultfs's back are never used to decide:
 * kt_level_parse refuses, kt_level_name shows the default names). Checked
 * with the administration key sign_keys names: a replaced key also makes
 * every version 2 user secret fail to open (§3), so nobody unlocks to use
 * names signed with it.
 */
static int level_names_ok(struct meta_db *db)
{
	struct meta_row_ref ref = {.table = META_ROW_LEVEL_NAMES};
	uint8_t pk[KT_SIGN_PK_BYTES];
	bool done = false;
	int r;

	r = kt_admin_sign_pk(db, pk);
	if (r == -ENOENT)
		return 0; /* a vault from before signing keys */
	if (r == 0)
		r = kt_row_verify(db, pk, &ref);
	if (r == -ENODATA) {
		r = kt_rows_signed(db, &done);
		if (r == 0 && done)
			r = -EBADMSG;
	}
	return r;
}

int kt_level_name(struct meta_db *db, uint8_t level, char *buf, size_t len)
{
	char key[32], val[LEVEL_NAME_MAX + 1];
	size_t n = sizeof(val) - 1;
	const char *name;
	int r;

	if (level >= META_LEVELS || !buf || len == 0)
		return -EINVAL;
	snprintf(key, sizeof(key), "level_name.%u", level);
	r = db ? level_names_ok(db) : 0;
	if (r == -EBADMSG)
		r = -ENOENT; /* not as signed: shown by its default name */
	else if (r < 0)
		return r;
	else
		r = db ? meta_config_get_blob(db, key, val, &n) : -ENOENT;
	if (r == 0) {
		val[n] = '\0';
		name = val;
	} else if (r == -ENOENT || r == -ENOBUFS) {
		name = kt_default_level_names[level];
	} else {
		return r;
	}
	if (strlen(name) >= len)
		return -ENOBUFS;
	strcpy(buf, name);
	return 0;
}

int kt_level_parse(struct meta_db *db, const char *text, uint8_t *ret_level)
{
	char folded[LEVEL_NAME_MAX * 2 + 1], name[LEVEL_NAME_MAX + 1];
	int r;

	if (!text || !*text)
		return -EINVAL;
	if (text[0] >= '0' && text[0] <= '4' && text[1] == '\0') {
		*ret_level = (uint8_t)(text[0] - '0');
		return 0;
	}
	if (fold_name(text, folded, sizeof(folded)) < 0)
		return -EINVAL;
	/* a name decides a level only while the names are as signed (§13) */
	r = db ? level_names_ok(db) : 0;
	if (r < 0)
		return r;
	/* the vault's own names first, then the defaults and English names */
	for (uint8_t l = 0; l < META_LEVELS; l++) {
		r = kt_level_name(db, l, name, sizeof(name));
		if (r < 0)
			return r;
		if (name_eq_folded(folded, name)) {
			*ret_level = l;
			return 0;
		}
	}
	for (uint8_t l = 0; l < META_LEVELS; l++) {
		if (name_eq_folded(folded, kt_default_level_names[l]) ||
		    name_eq_folded(folded, level_english_names[l][0]) ||
		    name_eq_folded(folded, level_english_names[l][1])) {
			*ret_level = l;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(level_refused_names) / sizeof(level_refused_names[0]); i++) {
		if (name_eq_folded(folded, level_refused_names[i])) {
			*ret_level = META_LEVEL_REFUSED;
			return 0;
		}
	}
	return -EINVAL;
}

/* "0,1,2" / "none" for a detail line. */
void kt_format_levels(uint32_t levels, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int l = 0; l < META_LEVELS && o < size; l++)
		if (levels & (1u << l))
			o += (size_t)snprintf(buf + o, size - o, "%s%u", o ? "," : "", l);
	if (o == 0)
		snprintf(buf, size, "none");
}

int kt_levels_parse(struct meta_db *db, const char *text, uint32_t *ret_levels,
		    const char **ret_bad, size_t *ret_bad_len)
{
	uint32_t levels = 0;
	const char *p = text;

	if (!text || !ret_levels)
		return -EINVAL;
	for (;;) {
		size_t n = strcspn(p, ",");
		char part[LEVEL_NAME_MAX * 2 + 2]; /* longer is no level name (fold_name) */
		uint8_t level = 0;
		int r = n < sizeof(part) ? 0 : -EINVAL;

		if (r == 0) {
			memcpy(part, p, n);
			part[n] = '\0';
			r = kt_level_parse(db, part, &level);
		}
		if (r == 0 && level == META_LEVEL_REFUSED)
			r = -EPERM;
		if (r < 0) {
			if (ret_bad)
				*ret_bad = p;
			if (ret_bad_len)
				*ret_bad_len = n;
			return r;
		}
		levels |= 1u << level;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*ret_levels = levels;
	return 0;
}

int kt_level_names_check(const char *const names[META_LEVELS])
{
	char a[LEVEL_NAME_MAX * 2 + 1], b[LEVEL_NAME_MAX * 2 + 1];

	for (int l = 0; l < META_LEVELS; l++)
		if (!level_name_valid(names[l]))
			return -EINVAL;
	/* distinct, and not another level's English name (those are aliases) */
	for (int l = 0; l < META_LEVELS; l++) {
		fold_name(names[l], a, sizeof(a));
		for (int m = 0; m < META_LEVELS; m++) {
			if (m == l)
				continue;
			fold_name(names[m], b, sizeof(b));
			if (strcmp(a, b) == 0 || name_eq_folded(a, level_english_names[m][0]) ||
			    name_eq_folded(a, level_english_names[m][1]))
				return -EINVAL;
		}
	}
	return 0;
}
