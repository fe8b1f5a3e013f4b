/*
 * tests/unit/test_control_proto.c — keytool/control-proto.c: the messages of
 * a multi-user mount's control socket, which any local account may send to
 * the daemon (requests) and which the client prints (replies).
 *
 * The wire format is pinned byte for byte (little-endian, the layout of
 * control-proto.h's structs). A request is refused unless every field is
 * right: magic, version, reserved, a known op, a length within
 * VFS_CTL_PAYLOAD_MAX; checked at every boundary, on every single-bit flip
 * and every byte value at every position of a valid header, and on random
 * headers. A short buffer is "read more", never read past (exact-size heap
 * buffers under ASan). A reply is refused on a wrong magic, version or
 * reserved field, or a text longer than VFS_CTL_TEXT_MAX; its text is a
 * line: a NUL or a control character in it is refused, and what the daemon
 * encodes always reads back.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/control-proto.h"
#include "tests/unit/testutil.h"

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

/* "VFSU" */
#define MAGIC_BYTES 0x56, 0x46, 0x53, 0x55

/* A string literal and its length (NULs inside included). */
#define LIT(s) (s), (sizeof(s) - 1), (sizeof(s) - 1)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A request header, field by field. */
static void make_request(uint8_t h[VFS_CTL_REQUEST_SIZE], uint32_t magic, uint8_t version,
			 uint8_t op, uint16_t reserved, uint32_t len)
{
	h[0] = (uint8_t)magic;
	h[1] = (uint8_t)(magic >> 8);
	h[2] = (uint8_t)(magic >> 16);
	h[3] = (uint8_t)(magic >> 24);
	h[4] = version;
	h[5] = op;
	h[6] = (uint8_t)reserved;
	h[7] = (uint8_t)(reserved >> 8);
	h[8] = (uint8_t)len;
	h[9] = (uint8_t)(len >> 8);
	h[10] = (uint8_t)(len >> 16);
	h[11] = (uint8_t)(len >> 24);
}

static void make_reply(uint8_t h[VFS_CTL_REPLY_SIZE], uint32_t magic, uint8_t version,
		       const uint8_t reserved[3], int32_t status, uint32_t len)
{
	uint32_t s = (uint32_t)status;

	h[0] = (uint8_t)magic;
	h[1] = (uint8_t)(magic >> 8);
	h[2] = (uint8_t)(magic >> 16);
	h[3] = (uint8_t)(magic >> 24);
	h[4] = version;
	memcpy(h + 5, reserved, 3);
	for (int i = 0; i < 4; i++) {
		h[8 + i] = (uint8_t)(s >> (8 * i));
		h[12 + i] = (uint8_t)(len >> (8 * i));
	}
}

/* Is the request header at h valid, by the protocol's text? */
static bool request_ok(const uint8_t *h)
{
	return le32(h) == VFS_CTL_MAGIC && h[4] == VFS_CTL_VERSION && h[5] >= 1 && h[5] <= 3 &&
	       h[6] == 0 && h[7] == 0 && le32(h + 8) <= VFS_CTL_PAYLOAD_MAX;
}

static bool reply_ok(const uint8_t *h)
{
	return le32(h) == VFS_CTL_MAGIC && h[4] == VFS_CTL_VERSION && h[5] == 0 && h[6] == 0 &&
	       h[7] == 0 && le32(h + 12) <= VFS_CTL_TEXT_MAX;
}

/* Decode h and compare with request_ok; the values when accepted. */
static void check_request(const uint8_t *h)
{
	enum vfs_ctl_op op = (enum vfs_ctl_op)0x77;
	uint32_t len = 0xdeadbeef;
	int r = vfs_ctl_request_decode(h, VFS_CTL_REQUEST_SIZE, &op, &len);

	if (!request_ok(h)) {
		CHECK(r == -EPROTO, "bad request %02x%02x%02x%02x %02x %02x %02x%02x %08x: %d",
		      h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], le32(h + 8), r);
		CHECK(op == (enum vfs_ctl_op)0x77 && len == 0xdeadbeef, "refused but set");
		return;
	}
	CHECK(r == 0, "good request refused: %d", r);
	CHECK((unsigned)op == h[5] && len == le32(h + 8), "wrong values");
}

static void check_reply(const uint8_t *h)
{
	int32_t status = 0x5a5a5a5a;
	uint32_t len = 0xdeadbeef;
	int r = vfs_ctl_reply_decode(h, VFS_CTL_REPLY_SIZE, &status, &len);

	if (!reply_ok(h)) {
		CHECK(r == -EPROTO, "bad reply %02x%02x%02x%02x %02x %02x%02x%02x %08x %08x: %d",
		      h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], le32(h + 8), le32(h + 12), r);
		CHECK(status == 0x5a5a5a5a && len == 0xdeadbeef, "refused but set");
		return;
	}
	CHECK(r == 0, "good reply refused: %d", r);
	CHECK(status == (int32_t)le32(h + 8) && len == le32(h + 12), "wrong values");
}

static uint64_t rng = 0x853c49e6748fea9bull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* ---- requests ----------------------------------------------------------- */

START_TEST(request_wire_format)
{
	static const uint8_t unlock5[] = {MAGIC_BYTES, 1, 1, 0, 0, 5, 0, 0, 0};
	static const uint8_t status0[] = {MAGIC_BYTES, 1, 3, 0, 0, 0, 0, 0, 0};
	static const uint8_t lock_max[] = {MAGIC_BYTES, 1, 2, 0, 0, 0x00, 0x04, 0, 0};
	uint8_t h[VFS_CTL_REQUEST_SIZE];
	struct vfs_ctl_request s = {
	    .magic = VFS_CTL_MAGIC, .version = VFS_CTL_VERSION, .op = VFS_CTL_UNLOCK, .len = 5};

	ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_UNLOCK, 5), 0);
	ck_assert_mem_eq(h, unlock5, sizeof(h));
	ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_STATUS, 0), 0);
	ck_assert_mem_eq(h, status0, sizeof(h));
	ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_LOCK, VFS_CTL_PAYLOAD_MAX), 0);
	ck_assert_mem_eq(h, lock_max, sizeof(h));
	uint8_t sb[sizeof(s)];

	/* the struct the integration tests' client sends (on a little-endian host) */
	memcpy(sb, &s, sizeof(sb));
	if (le32(sb) == VFS_CTL_MAGIC) {
		ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_UNLOCK, 5), 0);
		ck_assert_mem_eq(h, sb, sizeof(h));
	}
}
END_TEST

START_TEST(request_encode_refuses)
{
	uint8_t h[VFS_CTL_REQUEST_SIZE], before[VFS_CTL_REQUEST_SIZE];

	memset(h, 0xee, sizeof(h));
	memcpy(before, h, sizeof(h));
	ck_assert_int_eq(vfs_ctl_request_encode(h, 0, 0), -EINVAL);
	ck_assert_int_eq(vfs_ctl_request_encode(h, 4, 0), -EINVAL);
	ck_assert_int_eq(vfs_ctl_request_encode(h, -1, 0), -EINVAL);
	ck_assert_int_eq(vfs_ctl_request_encode(h, 255, 0), -EINVAL);
	ck_assert_int_eq(vfs_ctl_request_encode(h, 256 + VFS_CTL_LOCK, 0), -EINVAL);
	ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_UNLOCK, VFS_CTL_PAYLOAD_MAX + 1),
			 -EINVAL);
	ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_UNLOCK, SIZE_MAX), -EINVAL);
	ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_UNLOCK, (size_t)UINT32_MAX + 6),
			 -EINVAL); /* would wrap to 5 in a u32 */
	ck_assert_mem_eq(h, before, sizeof(h));
}
END_TEST

START_TEST(request_round_trip)
{
	static const uint32_t lens[] = {
	    0, 1, 2, 255, 256, VFS_CTL_PAYLOAD_MAX - 1, VFS_CTL_PAYLOAD_MAX};

	for (int op = VFS_CTL_UNLOCK; op <= VFS_CTL_STATUS; op++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			uint8_t h[VFS_CTL_REQUEST_SIZE];
			enum vfs_ctl_op got_op;
			uint32_t got_len;

			ck_assert_int_eq(vfs_ctl_request_encode(h, op, lens[i]), 0);
			ck_assert_int_eq(vfs_ctl_request_decode(h, sizeof(h), &got_op, &got_len),
					 0);
			ck_assert_int_eq(got_op, op);
			ck_assert_uint_eq(got_len, lens[i]);
		}
	}
}
END_TEST

START_TEST(request_field_boundaries)
{
	uint8_t h[VFS_CTL_REQUEST_SIZE];
	enum vfs_ctl_op op;
	uint32_t len;

	/* magic: byte-swapped (a big-endian peer), off by one, zero, all ones */
	static const uint32_t magics[] = {
	    0x56465355u, VFS_CTL_MAGIC + 1, VFS_CTL_MAGIC - 1, VFS_CTL_MAGIC ^ 0x80000000u,
	    0,		 UINT32_MAX};
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		make_request(h, magics[i], VFS_CTL_VERSION, VFS_CTL_STATUS, 0, 0);
		ck_assert_int_eq(vfs_ctl_request_decode(h, sizeof(h), &op, &len), -EPROTO);
	}
	/* version */
	for (unsigned v = 0; v < 256; v++) {
		make_request(h, VFS_CTL_MAGIC, (uint8_t)v, VFS_CTL_STATUS, 0, 0);
		ck_assert_int_eq(vfs_ctl_request_decode(h, sizeof(h), &op, &len),
				 v == VFS_CTL_VERSION ? 0 : -EPROTO);
	}
	/* op: 1..3 only */
	for (unsigned o = 0; o < 256; o++) {
		make_request(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, (uint8_t)o, 0, 0);
		ck_assert_int_eq(vfs_ctl_request_decode(h, sizeof(h), &op, &len),
				 o >= 1 && o <= 3 ? 0 : -EPROTO);
	}
	/* reserved: zero only, either byte */
	static const uint16_t reserved[] = {1, 0x80, 0x100, 0x8000, 0xffff};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		make_request(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, VFS_CTL_LOCK, reserved[i], 0);
		ck_assert_int_eq(vfs_ctl_request_decode(h, sizeof(h), &op, &len), -EPROTO);
	}
	/* length: up to VFS_CTL_PAYLOAD_MAX, for every op */
	static const uint32_t bad_lens[] = {VFS_CTL_PAYLOAD_MAX + 1,
					    0x10000,
					    0x7fffffffu,
					    0x80000000u,
					    0x80000001u,
					    UINT32_MAX,
					    (uint32_t)VFS_CTL_PAYLOAD_MAX << 8};
	for (int o = VFS_CTL_UNLOCK; o <= VFS_CTL_STATUS; o++) {
		make_request(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, (uint8_t)o, 0, VFS_CTL_PAYLOAD_MAX);
		ck_assert_int_eq(vfs_ctl_request_decode(h, sizeof(h), &op, &len), 0);
		ck_assert_uint_eq(len, VFS_CTL_PAYLOAD_MAX);
		for (size_t i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
			make_request(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, (uint8_t)o, 0, bad_lens[i]);
			ck_assert_int_eq(vfs_ctl_request_decode(h, sizeof(h), &op, &len), -EPROTO);
		}
	}
}
END_TEST

START_TEST(request_truncated)
{
	uint8_t h[VFS_CTL_REQUEST_SIZE];

	ck_assert_int_eq(vfs_ctl_request_encode(h, VFS_CTL_UNLOCK, 7), 0);
	/* every length short of a header, from a heap buffer of exactly that
	 * size (ASan: nothing read past it); then the header, then more */
	for (size_t n = 0; n <= VFS_CTL_REQUEST_SIZE + 4; n++) {
		uint8_t *b = malloc(n ? n : 1);
		enum vfs_ctl_op op = (enum vfs_ctl_op)0x77;
		uint32_t len = 0xdeadbeef;
		int r;

		ck_assert_ptr_nonnull(b);
		memset(b, 0, n);
		memcpy(b, h, n < sizeof(h) ? n : sizeof(h));
		r = vfs_ctl_request_decode(b, n, &op, &len);
		if (n < VFS_CTL_REQUEST_SIZE) {
			ck_assert_int_eq(r, -EAGAIN);
			ck_assert_uint_eq(len, 0xdeadbeef);
		} else {
			/* bytes past the header (the payload) are not looked at */
			ck_assert_int_eq(r, 0);
			ck_assert_int_eq(op, VFS_CTL_UNLOCK);
			ck_assert_uint_eq(len, 7);
		}
		free(b);
	}
}
END_TEST

START_TEST(request_every_bit_and_byte)
{
	uint8_t good[VFS_CTL_REQUEST_SIZE];

	for (int op = VFS_CTL_UNLOCK; op <= VFS_CTL_STATUS; op++) {
		for (uint32_t l = 0; l <= VFS_CTL_PAYLOAD_MAX; l += VFS_CTL_PAYLOAD_MAX / 4) {
			ck_assert_int_eq(vfs_ctl_request_encode(good, op, l), 0);
			for (int bit = 0; bit < 8 * VFS_CTL_REQUEST_SIZE; bit++) {
				uint8_t h[VFS_CTL_REQUEST_SIZE];

				memcpy(h, good, sizeof(h));
				h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				check_request(h);
			}
			for (int at = 0; at < VFS_CTL_REQUEST_SIZE; at++) {
				for (int v = 0; v < 256; v++) {
					uint8_t h[VFS_CTL_REQUEST_SIZE];

					memcpy(h, good, sizeof(h));
					h[at] = (uint8_t)v;
					check_request(h);
				}
			}
		}
	}
}
END_TEST

START_TEST(request_random)
{
	for (int i = 0; i < 200000; i++) {
		uint8_t h[VFS_CTL_REQUEST_SIZE];

		for (int k = 0; k < VFS_CTL_REQUEST_SIZE; k++)
			h[k] = (uint8_t)rnd();
		/* often keep the magic and version right, to reach the later fields */
		if (i % 2)
			make_request(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, h[5] % 5,
				     rnd() % 4 ? 0 : (uint16_t)rnd(),
				     rnd() % 2 ? rnd() % 2048 : rnd());
		check_request(h);
	}
}
END_TEST

/* ---- replies ------------------------------------------------------------ */

START_TEST(reply_wire_format)
{
	static const uint8_t want[] = {MAGIC_BYTES, 1, 0, 0, 0, 0xf3, 0xff, 0xff,
				       0xff,	    2, 0, 0, 0, 'n',  'o'};
	uint8_t out[VFS_CTL_REPLY_MAX];
	size_t n = vfs_ctl_reply_encode(out, -13, "no");

	ck_assert_uint_eq(n, sizeof(want));
	ck_assert_mem_eq(out, want, n);
	n = vfs_ctl_reply_encode(out, 0, "");
	ck_assert_uint_eq(n, VFS_CTL_REPLY_SIZE);
	ck_assert_uint_eq(le32(out + 8), 0);
	ck_assert_uint_eq(le32(out + 12), 0);
}
END_TEST

START_TEST(reply_encode_cuts_text)
{
	uint8_t out[VFS_CTL_REPLY_MAX + 8];
	char text[VFS_CTL_TEXT_MAX + 100];
	size_t n;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memset(out, 0xee, sizeof(out));
	n = vfs_ctl_reply_encode(out, -1, text);
	ck_assert_uint_eq(n, VFS_CTL_REPLY_MAX);
	ck_assert_uint_eq(le32(out + 12), VFS_CTL_TEXT_MAX);
	ck_assert_uint_eq(out[VFS_CTL_REPLY_MAX], 0xee); /* nothing written past */
	text[VFS_CTL_TEXT_MAX] = '\0';
	ck_assert_uint_eq(vfs_ctl_reply_encode(out, -1, text), VFS_CTL_REPLY_MAX);
	text[VFS_CTL_TEXT_MAX - 1] = '\0';
	ck_assert_uint_eq(vfs_ctl_reply_encode(out, -1, text), VFS_CTL_REPLY_MAX - 1);
	/* the text ends at its NUL */
	ck_assert_uint_eq(vfs_ctl_reply_encode(out, 0, "ab\0cd"), VFS_CTL_REPLY_SIZE + 2);
}
END_TEST

START_TEST(reply_field_boundaries)
{
	static const uint8_t zero[3] = {0, 0, 0};
	uint8_t h[VFS_CTL_REPLY_SIZE];
	int32_t status;
	uint32_t len;

	make_reply(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, zero, -13, 5);
	ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len), 0);
	ck_assert_int_eq(status, -13);
	ck_assert_uint_eq(len, 5);
	/* status: any errno, and the extremes, pass through as sent */
	static const int32_t statuses[] = {0, -1, -EACCES, -ENOENT, -EPROTO, INT32_MIN};
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		make_reply(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, zero, statuses[i], 0);
		ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len), 0);
		ck_assert_int_eq(status, statuses[i]);
	}
	/* magic */
	make_reply(h, 0x56465355u, VFS_CTL_VERSION, zero, 0, 0);
	ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len), -EPROTO);
	make_reply(h, 0, VFS_CTL_VERSION, zero, 0, 0);
	ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len), -EPROTO);
	/* version: a reply of another version is not read as this one */
	for (unsigned v = 0; v < 256; v++) {
		make_reply(h, VFS_CTL_MAGIC, (uint8_t)v, zero, 0, 0);
		ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len),
				 v == VFS_CTL_VERSION ? 0 : -EPROTO);
	}
	/* reserved: zero only, each byte */
	for (int at = 0; at < 3; at++) {
		uint8_t res[3] = {0, 0, 0};

		res[at] = 1;
		make_reply(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, res, 0, 0);
		ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len), -EPROTO);
	}
	/* length */
	make_reply(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, zero, 0, VFS_CTL_TEXT_MAX);
	ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len), 0);
	ck_assert_uint_eq(len, VFS_CTL_TEXT_MAX);
	static const uint32_t bad_lens[] = {VFS_CTL_TEXT_MAX + 1, 0x10000, 0x80000000u, UINT32_MAX};
	for (size_t i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
		make_reply(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, zero, 0, bad_lens[i]);
		ck_assert_int_eq(vfs_ctl_reply_decode(h, sizeof(h), &status, &len), -EPROTO);
	}
}
END_TEST

START_TEST(reply_truncated)
{
	uint8_t out[VFS_CTL_REPLY_MAX];
	size_t total = vfs_ctl_reply_encode(out, -2, "nothing to lock");

	for (size_t n = 0; n <= VFS_CTL_REPLY_SIZE; n++) {
		uint8_t *b = malloc(n ? n : 1);
		int32_t status = 7;
		uint32_t len = 0xdeadbeef;

		ck_assert_ptr_nonnull(b);
		memcpy(b, out, n);
		ck_assert_int_eq(vfs_ctl_reply_decode(b, n, &status, &len),
				 n < VFS_CTL_REPLY_SIZE ? -EAGAIN : 0);
		if (n < VFS_CTL_REPLY_SIZE)
			ck_assert_int_eq(status, 7);
		free(b);
	}
	/* the text, short by any number of bytes */
	for (size_t n = 0; n <= total - VFS_CTL_REPLY_SIZE; n++) {
		uint8_t *b = malloc(n ? n : 1);
		char text[VFS_CTL_TEXT_MAX + 1] = "untouched";

		ck_assert_ptr_nonnull(b);
		memcpy(b, out + VFS_CTL_REPLY_SIZE, n);
		if (n < total - VFS_CTL_REPLY_SIZE) {
			ck_assert_int_eq(vfs_ctl_reply_text(b, n, le32(out + 12), text), -EAGAIN);
			ck_assert_str_eq(text, "untouched");
		} else {
			ck_assert_int_eq(vfs_ctl_reply_text(b, n, le32(out + 12), text), 0);
			ck_assert_str_eq(text, "nothing to lock");
		}
		free(b);
	}
}
END_TEST

START_TEST(reply_text)
{
	char text[VFS_CTL_TEXT_MAX + 2];
	uint8_t big[VFS_CTL_TEXT_MAX + 1];

	ck_assert_int_eq(vfs_ctl_reply_text(LIT(""), text), 0);
	ck_assert_str_eq(text, "");
	ck_assert_int_eq(vfs_ctl_reply_text(LIT("unlocked 'anna' (levels 0,1)"), text), 0);
	ck_assert_str_eq(text, "unlocked 'anna' (levels 0,1)");
	/* UTF-8 (a translated strerror) is text */
	ck_assert_int_eq(vfs_ctl_reply_text(LIT("\xc3\xa5tkomst nekad"), text), 0);
	ck_assert_str_eq(text, "\xc3\xa5tkomst nekad");
	/* exactly the longest, and one more */
	memset(big, 'y', sizeof(big));
	text[VFS_CTL_TEXT_MAX + 1] = '#';
	ck_assert_int_eq(vfs_ctl_reply_text(big, sizeof(big), VFS_CTL_TEXT_MAX, text), 0);
	ck_assert_uint_eq(strlen(text), VFS_CTL_TEXT_MAX);
	ck_assert_int_eq(text[VFS_CTL_TEXT_MAX + 1], '#');
	ck_assert_int_eq(vfs_ctl_reply_text(big, sizeof(big), VFS_CTL_TEXT_MAX + 1, text), -EPROTO);
	ck_assert_int_eq(vfs_ctl_reply_text(big, sizeof(big), UINT32_MAX, text), -EPROTO);
}
END_TEST

START_TEST(reply_text_nul_and_controls)
{
	char text[VFS_CTL_TEXT_MAX + 1];

	/* a NUL would cut what is printed: "denied\0 ...but unlocked" */
	strcpy(text, "untouched");
	ck_assert_int_eq(vfs_ctl_reply_text(LIT("denied\0, unlocked"), text), -EPROTO);
	ck_assert_str_eq(text, "untouched");
	ck_assert_int_eq(vfs_ctl_reply_text(LIT("\0"), text), -EPROTO);
	ck_assert_int_eq(vfs_ctl_reply_text(LIT("ok\0"), text), -EPROTO);
	/* one line: no newline, no terminal control */
	for (unsigned c = 1; c < 0x20; c++) {
		char in[3] = {'a', (char)c, 'b'};

		ck_assert_int_eq(vfs_ctl_reply_text(in, 3, 3, text), -EPROTO);
	}
	ck_assert_int_eq(vfs_ctl_reply_text(LIT("a\x7f"), text), -EPROTO);
	ck_assert_int_eq(vfs_ctl_reply_text(LIT("\x1b[2J"), text), -EPROTO);
	ck_assert_str_eq(text, "untouched");
}
END_TEST

START_TEST(reply_every_bit_and_byte)
{
	uint8_t good[VFS_CTL_REPLY_MAX];

	(void)vfs_ctl_reply_encode(good, -13, "wrong passphrase");
	for (int bit = 0; bit < 8 * VFS_CTL_REPLY_SIZE; bit++) {
		uint8_t h[VFS_CTL_REPLY_SIZE];

		memcpy(h, good, sizeof(h));
		h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		check_reply(h);
	}
	for (int at = 0; at < VFS_CTL_REPLY_SIZE; at++) {
		for (int v = 0; v < 256; v++) {
			uint8_t h[VFS_CTL_REPLY_SIZE];

			memcpy(h, good, sizeof(h));
			h[at] = (uint8_t)v;
			check_reply(h);
		}
	}
	for (int i = 0; i < 200000; i++) {
		uint8_t h[VFS_CTL_REPLY_SIZE];

		for (int k = 0; k < VFS_CTL_REPLY_SIZE; k++)
			h[k] = (uint8_t)rnd();
		if (i % 2) {
			uint8_t res[3] = {0, 0, (uint8_t)(rnd() % 8 ? 0 : rnd())};

			make_reply(h, VFS_CTL_MAGIC, VFS_CTL_VERSION, res, (int32_t)rnd(),
				   rnd() % 2 ? rnd() % 1024 : rnd());
		}
		check_reply(h);
	}
}
END_TEST

START_TEST(reply_round_trip)
{
	/* whatever the daemon is given to say, the client reads a line back */
	for (int i = 0; i < 20000; i++) {
		char in[VFS_CTL_TEXT_MAX + 64], text[VFS_CTL_TEXT_MAX + 1];
		size_t n = rnd() % sizeof(in), sent;
		uint8_t out[VFS_CTL_REPLY_MAX];
		int32_t status = -(int32_t)(rnd() % 200), got_status;
		uint32_t len;

		for (size_t k = 0; k < n; k++)
			in[k] = (char)(rnd() % 4 ? 0x20 + rnd() % 0x5f : rnd() % 256);
		in[n] = '\0';
		sent = vfs_ctl_reply_encode(out, status, in);
		CHECK(vfs_ctl_reply_decode(out, sent, &got_status, &len) == 0, "header refused");
		CHECK(got_status == status && VFS_CTL_REPLY_SIZE + len == sent, "header wrong");
		CHECK(vfs_ctl_reply_text(out + VFS_CTL_REPLY_SIZE, len, len, text) == 0,
		      "text refused");
		CHECK(strlen(text) == len && len == strnlen(in, VFS_CTL_TEXT_MAX), "text length");
		for (size_t k = 0; k < len; k++) {
			unsigned char c = (unsigned char)in[k];

			/* kept, or a control character shown as '?' */
			CHECK(text[k] == (c < 0x20 || c == 0x7f ? '?' : in[k]), "text byte %zu", k);
		}
	}
	/* the daemon's own texts */
	static const char *const said[] = {
	    "locked",
	    "nothing to lock: not unlocked",
	    "unlocked 'anna' (levels 0,1,2)",
	    "malformed request",
	    "request not complete within 10 s: closed",
	    "no vault user for uid 1001 (ask an administrator: 'vaultfs-keytool user add "
	    "NAME --uid 1001')"};
	for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++) {
		uint8_t out[VFS_CTL_REPLY_MAX];
		char text[VFS_CTL_TEXT_MAX + 1];
		int32_t status;
		uint32_t len;
		size_t sent = vfs_ctl_reply_encode(out, -EACCES, said[i]);

		ck_assert_int_eq(vfs_ctl_reply_decode(out, sent, &status, &len), 0);
		ck_assert_int_eq(vfs_ctl_reply_text(out + VFS_CTL_REPLY_SIZE, len, len, text), 0);
		ck_assert_str_eq(text, said[i]);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control_proto");
	TCase *req = tcase_create("request");
	TCase *rep = tcase_create("reply");

	tcase_add_test(req, request_wire_format);
	tcase_add_test(req, request_encode_refuses);
	tcase_add_test(req, request_round_trip);
	tcase_add_test(req, request_field_boundaries);
	tcase_add_test(req, request_truncated);
	tcase_add_test(req, request_every_bit_and_byte);
	tcase_add_test(req, request_random);
	suite_add_tcase(s, req);
	tcase_add_test(rep, reply_wire_format);
	tcase_add_test(rep, reply_encode_cuts_text);
	tcase_add_test(rep, reply_field_boundaries);
	tcase_add_test(rep, reply_truncated);
	tcase_add_test(rep, reply_text);
	tcase_add_test(rep, reply_text_nul_and_controls);
	tcase_add_test(rep, reply_every_bit_and_byte);
	tcase_add_test(rep, reply_round_trip);
	suite_add_tcase(s, rep);
	return tu_run(s);
}
