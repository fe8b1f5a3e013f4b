/*
 * meta/cmd/proof.c — the proof file (proof.h, docs/format.md §12): writing
 * it, parsing it strictly, decoding the record's canonical bytes, and
 * checking the whole against a verifier key.
 */
#include "meta/cmd/proof.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meta/records-tree.h"

#define B64	     sodium_base64_VARIANT_ORIGINAL
#define HASH_B64_LEN 44 /* base64 of 32 bytes, with its padding */

void proof_clear(struct proof *p)
{
	if (!p)
		return;
	free(p->record);
	free(p->note);
	memset(p, 0, sizeof(*p));
}

/* ---- writing ------------------------------------------------------------- */

static int put_b64(FILE *f, const uint8_t *b, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64);
	char *s = malloc(cap);

	if (!s)
		return -ENOMEM;
	sodium_bin2base64(s, cap, b, len, B64);
	fputs(s, f);
	free(s);
	return 0;
}

int proof_format(const struct proof *p, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t cap = 0;
	FILE *f;
	int r;

	if (!p || !p->record || p->record_len == 0 || p->record_len > PROOF_RECORD_MAX ||
	    p->path_len > META_TLOG_MAX_PROOF || !p->note || p->note_len == 0 ||
	    p->note_len > KT_NOTE_MAX_BYTES || p->index >= p->size)
		return -EINVAL;
	f = open_memstream(&buf, &cap);
	if (!f)
		return -ENOMEM;
	fprintf(f, PROOF_MAGIC "\nindex %llu\nsize %llu\nrecord ", (unsigned long long)p->index,
		(unsigned long long)p->size);
	r = put_b64(f, p->record, p->record_len);
	fprintf(f, "\npath %zu\n", p->path_len);
	for (size_t i = 0; r == 0 && i < p->path_len; i++) {
		r = put_b64(f, p->path[i], META_TLOG_HASH_BYTES);
		fputc('\n', f);
	}
	fputs("checkpoint\n", f);
	fwrite(p->note, 1, p->note_len, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = cap;
	return 0;
}

/* ---- parsing ------------------------------------------------------------- */

struct reader {
	const char *p, *end;
};

/* The next line (without its newline) into *line and *n; false at the end or
 * when the line has no newline. */
static bool next_line(struct reader *rd, const char **line, size_t *n)
{
	const char *nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));

	if (!nl)
		return false;
	*line = rd->p;
	*n = (size_t)(nl - rd->p);
	rd->p = nl + 1;
	return true;
}

/* A line "KEY VALUE": VALUE into *val and *n. */
static bool keyed_line(struct reader *rd, const char *key, const char **val, size_t *n)
{
	size_t klen = strlen(key), len;
	const char *line;

	if (!next_line(rd, &line, &len) || len <= klen + 1 || memcmp(line, key, klen) != 0 ||
	    line[klen] != ' ')
		return false;
	*val = line + klen + 1;
	*n = len - klen - 1;
	return true;
}

/* Decimal without sign or leading zeros, at most UINT64_MAX. */
static bool parse_decimal(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* Exactly the n base64 characters at s, canonical (they are what encoding
 * the bytes gives: no stray low bits in the last character, so one proof has
 * one text): the byte count, or -1. */
static long parse_b64(const char *s, size_t n, uint8_t *buf, size_t cap)
{
	const char *end = NULL;
	size_t len = 0;
	char *again;
	bool same;

	if (n == 0 || n % 4 != 0 || sodium_base642bin(buf, cap, s, n, NULL, &len, &end, B64) != 0 ||
	    end != s + n || sodium_base64_ENCODED_LEN(len, B64) != n + 1)
		return -1;
	again = malloc(n + 1);
	if (!again)
		return -1;
	sodium_bin2base64(again, n + 1, buf, len, B64);
	same = memcmp(again, s, n) == 0;
	free(again);
	return same ? (long)len : -1;
}

int proof_parse(const char *text, size_t len, struct proof *ret)
{
	struct proof p = {0};
	struct reader rd = {text, text + len};
	const char *val;
	size_t n;
	uint64_t k;
	long got;

	if (!text || !ret)
		return -EINVAL;
	if (len > PROOF_FILE_MAX)
		return -EFBIG;
	if (!next_line(&rd, &val, &n) || n != strlen(PROOF_MAGIC) ||
	    memcmp(val, PROOF_MAGIC, n) != 0)
		return -EPROTO;
	if (!keyed_line(&rd, "index", &val, &n) || !parse_decimal(val, n, &p.index) ||
	    !keyed_line(&rd, "size", &val, &n) || !parse_decimal(val, n, &p.size) ||
	    p.index >= p.size || !keyed_line(&rd, "record", &val, &n) ||
	    n > sodium_base64_ENCODED_LEN(PROOF_RECORD_MAX, B64))
		return -EPROTO;
	p.record = malloc(n / 4 * 3 + 3);
	if (!p.record)
		return -ENOMEM;
	got = parse_b64(val, n, p.record, n / 4 * 3 + 3);
	if (got <= 0 || got > PROOF_RECORD_MAX)
		goto bad;
	p.record_len = (size_t)got;
	if (!keyed_line(&rd, "path", &val, &n) || !parse_decimal(val, n, &k) ||
	    k > META_TLOG_MAX_PROOF)
		goto bad;
	p.path_len = (size_t)k;
	for (size_t i = 0; i < p.path_len; i++) {
		if (!next_line(&rd, &val, &n) || n != HASH_B64_LEN ||
		    parse_b64(val, n, p.path[i], META_TLOG_HASH_BYTES) != META_TLOG_HASH_BYTES)
			goto bad;
	}
	if (!next_line(&rd, &val, &n) || n != strlen("checkpoint") ||
	    memcmp(val, "checkpoint", n) != 0)
		goto bad;
	p.note_len = (size_t)(rd.end - rd.p);
	if (p.note_len == 0 || p.note_len > KT_NOTE_MAX_BYTES || memchr(rd.p, '\0', p.note_len))
		goto bad;
	p.note = malloc(p.note_len + 1);
	if (!p.note) {
		proof_clear(&p);
		return -ENOMEM;
	}
	memcpy(p.note, rd.p, p.note_len);
	p.note[p.note_len] = '\0';
	*ret = p;
	return 0;
bad:
	proof_clear(&p);
	return -EPROTO;
}

/* ---- the record's canonical bytes ------------------------------------------ */

struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint64_t take_u64(struct cursor *c)
{
	uint64_t v = 0;

	if (c->bad || c->left < 8) {
		c->bad = true;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += 8;
	c->left -= 8;
	return v;
}

static uint32_t take_u32(struct cursor *c)
{
	uint32_t v;

	if (c->bad || c->left < 4) {
		c->bad = true;
		return 0;
	}
	v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
	    (uint32_t)c->p[3] << 24;
	c->p += 4;
	c->left -= 4;
	return v;
}

/* A length-prefixed field of at most max bytes: its bytes and length. */
static const uint8_t *take_bytes(struct cursor *c, size_t max, size_t *ret_len)
{
	uint32_t n = take_u32(c);
	const uint8_t *p = c->p;

	if (c->bad || n > max || n > c->left) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	*ret_len = n;
	return p;
}

/* A string field into buf (cap bytes with its NUL); no NUL inside. */
static void take_string(struct cursor *c, char *buf, size_t cap)
{
	size_t n = 0;
	const uint8_t *p = take_bytes(c, cap - 1, &n);

	if (!p)
		return;
	if (memchr(p, '\0', n)) {
		c->bad = true;
		return;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* A blob field, malloc'd (NULL when empty). */
static uint8_t *take_blob(struct cursor *c, size_t *ret_len)
{
	const uint8_t *p = take_bytes(c, PROOF_RECORD_MAX, ret_len);
	uint8_t *b;

	if (!p || *ret_len == 0)
		return NULL;
	b = malloc(*ret_len);
	if (!b)
		c->bad = true;
	else
		memcpy(b, p, *ret_len);
	return b;
}

int proof_record_decode(const uint8_t *bytes, size_t len, struct meta_record *ret)
{
	struct cursor c = {bytes, len, false};
	struct meta_record r = {0};
	uint8_t *again = NULL;
	size_t again_len = 0;
	int e;

	if (!bytes || len < 1 || bytes[0] != 1)
		return -EPROTO;
	c.p++;
	c.left--;
	r.id = (int64_t)take_u64(&c);
	r.time_ns = (int64_t)take_u64(&c);
	r.uid = (int64_t)take_u64(&c);
	r.pid = (int64_t)take_u64(&c);
	r.ino = take_u64(&c);
	r.level = (int32_t)take_u32(&c);
	r.outcome = (int32_t)take_u32(&c);
	r.bytes_read = (int64_t)take_u64(&c);
	r.bytes_written = (int64_t)take_u64(&c);
	r.closes = (int64_t)take_u64(&c);
	take_string(&c, r.user, sizeof(r.user));
	take_string(&c, r.comm, sizeof(r.comm));
	take_string(&c, r.op, sizeof(r.op));
	r.path_enc = take_blob(&c, &r.path_enc_len);
	r.path2_enc = take_blob(&c, &r.path2_enc_len);
	take_string(&c, r.detail, sizeof(r.detail));
	if (c.bad || c.left != 0) {
		meta_record_clear(&r);
		return -EPROTO;
	}
	/* one record, one encoding: what we read must be what the vault wrote */
	e = meta_record_encode(&r, &again, &again_len);
	if (e == 0 && (again_len != len || memcmp(again, bytes, len) != 0))
		e = -EPROTO;
	free(again);
	if (e < 0) {
		meta_record_clear(&r);
		return e;
	}
	*ret = r;
	return 0;
}

/* ---- checking ------------------------------------------------------------ */

int proof_verify(const struct proof *p, const struct kt_note_verifier *v,
		 struct kt_checkpoint *ret_cp, const char **ret_reason)
{
	struct kt_checkpoint cp = {0};
	struct meta_record rec;
	uint8_t leaf[META_TLOG_HASH_BYTES];
	const char *why = NULL;
	char *text = NULL;
	int e;

	e = kt_note_open(p->note, p->note_len, v, &text);
	if (e == -ENOKEY)
		why = "the checkpoint is not signed by this verifier key";
	else if (e == -EBADMSG)
		why = "the checkpoint's signature does not verify: the checkpoint was altered";
	else if (e < 0)
		why = "the checkpoint is not a well-formed signed note";
	if (e == 0) {
		e = kt_checkpoint_parse(text, &cp);
		free(text);
		if (e < 0)
			why = "the signed note is not a well-formed checkpoint";
	}
	if (e == 0 && strcmp(cp.origin, v->name) != 0) {
		e = -EPROTO;
		why = "the checkpoint names another log than the verifier key";
	}
	if (e == 0 && cp.size != p->size) {
		e = -EBADMSG;
		why = "the proof's tree size is not its checkpoint's";
	}
	if (e == 0) {
		e = proof_record_decode(p->record, p->record_len, &rec);
		if (e == -EPROTO)
			why = "the record's bytes are not a well-formed access record (format.md "
			      "§10)";
		if (e == 0)
			meta_record_clear(&rec);
	}
	if (e == 0) {
		meta_tlog_leaf_hash(p->record, p->record_len, leaf);
		e = meta_tlog_verify_inclusion(p->index, p->size, leaf, p->path[0], p->path_len,
					       cp.root);
		if (e < 0)
			why = "the audit path does not lead from this record to the checkpoint's "
			      "root: the record or the proof was altered";
	}
	if (e < 0) {
		kt_checkpoint_clear(&cp);
		if (ret_reason)
			*ret_reason = why ? why : "out of memory";
		return e;
	}
	if (ret_cp)
		*ret_cp = cp;
	else
		kt_checkpoint_clear(&cp);
	return 0;
}
