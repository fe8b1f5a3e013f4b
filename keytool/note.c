/*
 * keytool/note.c — C2SP signed notes (Ed25519) and tlog checkpoints: making,
 * signing, and checking them against hostile input.
 */
#include "keytool/note.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SIG_TYPE_ED25519 0x01
#define EM_DASH_SPACE	 "\xe2\x80\x94 " /* U+2014 and a space: a signature line starts so */
#define B64		 sodium_base64_VARIANT_ORIGINAL

/* The code point at p (at most n bytes) into *cp; its length, or 0 when not UTF-8. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, c = p[0] & 0x1f, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, c = p[0] & 0x0f, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, c = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0; /* overlong, beyond Unicode, or a surrogate */
	*cp = c;
	return len;
}

static bool unicode_space(uint32_t c)
{
	return c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/*
 * Valid UTF-8 without ASCII control characters but newline (and without
 * newline either unless newline_ok). For a name: also no space and no '+'.
 */
static bool valid_chars(const char *s, size_t n, bool newline_ok, bool name)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t k = utf8_next(p + i, n - i, &c);

		if (k == 0 || (c < 0x20 && !(c == '\n' && newline_ok)))
			return false;
		if (name && (unicode_space(c) || c == '+'))
			return false;
		i += k;
	}
	return true;
}

static bool valid_name(const char *name, size_t n)
{
	return n > 0 && n <= KT_NOTE_NAME_MAX && valid_chars(name, n, false, true);
}

static uint32_t key_id(const char *name, const uint8_t pk[KT_NOTE_SIGN_PK_BYTES])
{
	static const uint8_t sep[2] = {'\n', SIG_TYPE_ED25519};
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, KT_NOTE_SIGN_PK_BYTES);
	crypto_hash_sha256_final(&st, h);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

int kt_note_verifier_make(const char *name, const uint8_t public_key[KT_NOTE_SIGN_PK_BYTES],
			  struct kt_note_verifier *ret)
{
	size_t n = strlen(name);

	if (!valid_name(name, n))
		return -EPROTO;
	memcpy(ret->name, name, n + 1);
	memcpy(ret->public_key, public_key, KT_NOTE_SIGN_PK_BYTES);
	ret->id = key_id(name, public_key);
	return 0;
}

int kt_note_verifier_format(const struct kt_note_verifier *v, char **ret)
{
	uint8_t typed[1 + KT_NOTE_SIGN_PK_BYTES] = {SIG_TYPE_ED25519};
	char b64[sodium_base64_ENCODED_LEN(sizeof(typed), B64)];

	memcpy(typed + 1, v->public_key, KT_NOTE_SIGN_PK_BYTES);
	sodium_bin2base64(b64, sizeof(b64), typed, sizeof(typed), B64);
	return asprintf(ret, "%s+%08x+%s", v->name, v->id, b64) < 0 ? -ENOMEM : 0;
}

/* Decode exactly the n base64 characters at s into buf; the byte count or -EPROTO. */
static int unbase64(const char *s, size_t n, uint8_t *buf, size_t cap)
{
	const char *end = NULL;
	size_t len = 0;

	if (n == 0 || sodium_base642bin(buf, cap, s, n, NULL, &len, &end, B64) != 0 || end != s + n)
		return -EPROTO;
	return (int)len;
}

int kt_note_verifier_parse(const char *text, struct kt_note_verifier *ret)
{
	const char *p1 = strchr(text, '+'), *p2;
	uint8_t typed[1 + KT_NOTE_SIGN_PK_BYTES + 1];
	char name[KT_NOTE_NAME_MAX + 1], hex[9];
	unsigned long id;
	char *end;

	if (!p1 || (size_t)(p1 - text) > KT_NOTE_NAME_MAX)
		return -EPROTO;
	p2 = strchr(p1 + 1, '+');
	if (!p2 || p2 - p1 - 1 != 8)
		return -EPROTO;
	memcpy(name, text, (size_t)(p1 - text));
	name[p1 - text] = '\0';
	memcpy(hex, p1 + 1, 8);
	hex[8] = '\0';
	for (int i = 0; i < 8; i++)
		if (!strchr("0123456789abcdef", hex[i]))
			return -EPROTO;
	id = strtoul(hex, &end, 16);
	if (unbase64(p2 + 1, strlen(p2 + 1), typed, sizeof(typed)) != 1 + KT_NOTE_SIGN_PK_BYTES ||
	    typed[0] != SIG_TYPE_ED25519)
		return -EPROTO;
	if (kt_note_verifier_make(name, typed + 1, ret) < 0 || ret->id != id)
		return -EPROTO;
	return 0;
}

/* A note text: non-empty, ends in a newline, valid characters. */
static bool valid_text(const char *text, size_t n)
{
	return n > 0 && text[n - 1] == '\n' && valid_chars(text, n, true, false);
}

int kt_note_sign(const char *text, const char *name,
		 const uint8_t secret_key[KT_NOTE_SIGN_SK_BYTES], char **ret)
{
	uint8_t sig[4 + crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof(sig), B64)];
	size_t n = strlen(text);
	uint32_t id;

	if (!valid_text(text, n) || n > KT_NOTE_MAX_BYTES / 2 || !valid_name(name, strlen(name)))
		return -EPROTO;
	id = key_id(name, secret_key + 32); /* libsodium's secret key ends in the public key */
	sig[0] = (uint8_t)(id >> 24), sig[1] = (uint8_t)(id >> 16);
	sig[2] = (uint8_t)(id >> 8), sig[3] = (uint8_t)id;
	crypto_sign_detached(sig + 4, NULL, (const uint8_t *)text, n, secret_key);
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), B64);
	return asprintf(ret, "%s\n" EM_DASH_SPACE "%s %s\n", text, name, b64) < 0 ? -ENOMEM : 0;
}

/* One signature line (without its newline): 0 ignored, 1 verified by v, or -errno. */
static int check_signature(const char *line, size_t n, const char *text, size_t text_len,
			   const struct kt_note_verifier *v)
{
	const size_t dash = sizeof(EM_DASH_SPACE) - 1;
	uint8_t sig[4 + crypto_sign_BYTES + 1];
	const char *space;
	size_t name_len;
	uint32_t id;
	int len;

	if (n < dash || memcmp(line, EM_DASH_SPACE, dash) != 0)
		return -EPROTO;
	line += dash, n -= dash;
	space = memchr(line, ' ', n);
	if (!space)
		return -EPROTO;
	name_len = (size_t)(space - line);
	if (!valid_name(line, name_len))
		return -EPROTO;
	len = unbase64(space + 1, n - name_len - 1, sig, sizeof(sig));
	if (len < 0) {
		/* too long for a key we know: fine if the name is another's */
		if (name_len == strlen(v->name) && memcmp(line, v->name, name_len) == 0)
			return -EBADMSG;
		return 0;
	}
	if (len < 4)
		return -EPROTO;
	id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];
	if (name_len != strlen(v->name) || memcmp(line, v->name, name_len) != 0 || id != v->id)
		return 0; /* another key's: ignored */
	if (len != 4 + crypto_sign_BYTES ||
	    crypto_sign_verify_detached(sig + 4, (const uint8_t *)text, text_len, v->public_key) !=
		0)
		return -EBADMSG;
	return 1;
}

int kt_note_open(const char *note, size_t len, const struct kt_note_verifier *v, char **ret_text)
{
	const char *sigs = NULL, *p, *end = note + len;
	size_t text_len, lines = 0;
	bool verified = false;
	char *text;

	if (len > KT_NOTE_MAX_BYTES || !valid_chars(note, len, true, false) || len < 2 ||
	    note[len - 1] != '\n')
		return -EPROTO;
	/* the text ends at the last empty line */
	for (size_t i = len - 1; i > 0; i--) {
		if (note[i] == '\n' && note[i - 1] == '\n') {
			sigs = note + i + 1;
			break;
		}
	}
	if (!sigs || sigs == end)
		return -EPROTO;
	text_len = (size_t)(sigs - note) - 1; /* the text keeps its final newline */
	for (p = sigs; p < end; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int r;

		if (lines == KT_NOTE_MAX_SIGS)
			return -EPROTO;
		r = check_signature(p, (size_t)(nl - p), note, text_len, v);
		if (r < 0)
			return r;
		verified |= r == 1;
		p = nl + 1;
	}
	if (!verified)
		return -ENOKEY;
	text = malloc(text_len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, note, text_len);
	text[text_len] = '\0';
	*ret_text = text;
	return 0;
}

/* A line of a checkpoint: non-empty, no newline, valid characters. */
static bool valid_line(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= KT_NOTE_NAME_MAX && valid_chars(s, n, false, false);
}

int kt_checkpoint_format(const struct kt_checkpoint *c, char **ret)
{
	char b64[sodium_base64_ENCODED_LEN(sizeof(c->root), B64)];
	char *text = NULL;
	size_t cap = 0;
	FILE *f;

	if (!valid_line(c->origin) || c->n_ext > KT_CHECKPOINT_MAX_EXT)
		return -EPROTO;
	for (size_t i = 0; i < c->n_ext; i++)
		if (!c->ext[i] || !valid_line(c->ext[i]))
			return -EPROTO;
	sodium_bin2base64(b64, sizeof(b64), c->root, sizeof(c->root), B64);
	f = open_memstream(&text, &cap);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, b64);
	for (size_t i = 0; i < c->n_ext; i++)
		fprintf(f, "%s\n", c->ext[i]);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	return 0;
}

void kt_checkpoint_clear(struct kt_checkpoint *c)
{
	for (size_t i = 0; i < c->n_ext; i++)
		free(c->ext[i]);
	memset(c, 0, sizeof(*c));
}

/* The decimal tree size: digits only, no leading zero but "0", fits in 63 bits. */
static int parse_size(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -EPROTO;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EPROTO;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return -EPROTO;
	*ret = v;
	return 0;
}

int kt_checkpoint_parse(const char *text, struct kt_checkpoint *ret)
{
	struct kt_checkpoint c = {0};
	const char *p = text;
	size_t line = 0;
	int r = 0;

	if (!valid_text(text, strlen(text)))
		return -EPROTO;
	for (; *p && r == 0; line++) {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p);

		if (n == 0 || n > KT_NOTE_NAME_MAX) {
			r = -EPROTO; /* every line non-empty, none too long */
		} else if (line == 0) {
			memcpy(c.origin, p, n);
			c.origin[n] = '\0';
		} else if (line == 1) {
			r = parse_size(p, n, &c.size);
		} else if (line == 2) {
			uint8_t root[sizeof(c.root) + 1];

			r = unbase64(p, n, root, sizeof(root)) == (int)sizeof(c.root) ? 0 : -EPROTO;
			if (r == 0)
				memcpy(c.root, root, sizeof(c.root));
		} else if (c.n_ext == KT_CHECKPOINT_MAX_EXT) {
			r = -EPROTO;
		} else if (!(c.ext[c.n_ext] = strndup(p, n))) {
			r = -ENOMEM;
		} else {
			c.n_ext++;
		}
		p = nl + 1;
	}
	if (r == 0 && line < 3)
		r = -EPROTO;
	if (r < 0) {
		kt_checkpoint_clear(&c);
		return r;
	}
	*ret = c;
	return 0;
}
