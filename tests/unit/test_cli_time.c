/*
 * tests/unit/test_cli_time.c — cli/cli.c's cli_time_parse: the times
 * given on the command line (vaultfs-keytool grant --expires, recover grant
 * --expires, vaultfs-meta log --since/--until).
 *
 * Accepted: YYYY-MM-DD, then optionally T (or t or a space) HH:MM, :SS, a
 * fraction (. or ,) after the seconds, and Z (z) or an offset ±HH[:]MM;
 * UTC unless an offset says otherwise, whatever $TZ is; or @SECONDS. Every
 * field is range-checked against the real calendar (leap years, no leap
 * second), nothing before 1970 and nothing past what int64 nanoseconds hold
 * (2262-04-11T23:47:15.999999999Z, @9223372036) is accepted, nothing may
 * follow the time, and a refused text leaves the result untouched.
 *
 * Checked against an independent calendar (days from civil) on every day
 * from 1970 to 2262, on every prefix of a full time, on hostile text and on
 * a round trip through cli_time_iso.
 *
 * @SECONDS is digits only, from 1970 on as the ISO form: no sign, no
 * space, no negative time. Not pinned, because it looks wrong: the ISO form
 * refuses 2262-04-11T23:47:16Z, the second that "@9223372036" accepts and
 * cli_time_iso prints for the largest times.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "tests/unit/testutil.h"

#define NS	 INT64_C(1000000000)
#define DAY	 (INT64_C(86400) * NS)
#define SENTINEL INT64_C(0x5a5a5a5a5a5a5a5a)

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

static void expect_ns(const char *text, int64_t want)
{
	int64_t got = SENTINEL;
	int r = cli_time_parse(text, &got);

	CHECK(r == 0, "'%s' refused (%d)", text, r);
	CHECK(got == want, "'%s' gave %lld, not %lld", text, (long long)got, (long long)want);
}

static void expect_refused(const char *text)
{
	int64_t got = SENTINEL;
	int r = cli_time_parse(text, &got);

	CHECK(r == -EINVAL, "'%s' accepted (%d, %lld)", text, r, (long long)got);
	CHECK(got == SENTINEL, "'%s' refused but wrote the result", text);
}

START_TEST(dates)
{
	expect_ns("1970-01-01", 0);
	expect_ns("1970-01-02", DAY);
	expect_ns("2000-02-29", days_from_civil(2000, 2, 29) * DAY);
	expect_ns("2024-02-29", days_from_civil(2024, 2, 29) * DAY);
	expect_ns("2026-11-22", INT64_C(1795305600) * NS);
	expect_ns("2038-01-19", days_from_civil(2038, 1, 19) * DAY); /* past 32-bit time_t */
	expect_ns("2262-04-11", days_from_civil(2262, 4, 11) * DAY);
}
END_TEST

START_TEST(times_and_zones)
{
	int64_t day = INT64_C(1795305600) * NS; /* 2026-11-22 */

	expect_ns("2026-11-22T10:00", day + 10 * 3600 * NS);
	expect_ns("2026-11-22t10:00", day + 10 * 3600 * NS);
	expect_ns("2026-11-22 10:00", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T10:00Z", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T10:00z", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T10:00:05", day + 36005 * NS);
	expect_ns("2026-11-22T10:00:05Z", day + 36005 * NS);
	expect_ns("2026-11-22T23:59:59Z", day + 86399 * NS);
	expect_ns("2026-11-22T00:00:00Z", day);
	/* offsets: local time minus the offset */
	expect_ns("2026-11-22T11:00+01:00", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T11:00+0100", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T04:30-05:30", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T10:00:00+00:00", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T10:00:00-00:00", day + 10 * 3600 * NS);
	expect_ns("2026-11-22T00:00+23:59", day - (23 * 3600 + 59 * 60) * NS);
	expect_ns("2026-11-22T23:00-23:59", day + (46 * 3600 + 59 * 60) * NS);
	/* an offset moves the day, month and year */
	expect_ns("2027-01-01T00:30+01:00",
		  days_from_civil(2026, 12, 31) * DAY + (23 * 3600 + 1800) * NS);
}
END_TEST

START_TEST(fractions)
{
	int64_t t = INT64_C(1795341605) * NS; /* 2026-11-22T10:00:05Z */

	expect_ns("2026-11-22T10:00:05.5Z", t + NS / 2);
	expect_ns("2026-11-22T10:00:05,5Z", t + NS / 2);
	expect_ns("2026-11-22T10:00:05.000Z", t);
	expect_ns("2026-11-22T10:00:05.123", t + 123000000);
	expect_ns("2026-11-22T10:00:05.000000001Z", t + 1);
	expect_ns("2026-11-22T10:00:05.999999999Z", t + NS - 1);
	/* more than nanoseconds: cut off, never carried into the seconds */
	expect_ns("2026-11-22T10:00:05.9999999999999999999999999Z", t + NS - 1);
	expect_ns("2026-11-22T10:00:05.1234567891234567890123456789", t + 123456789);
	expect_ns("2026-11-22T11:00:05.25+01:00", t + NS / 4);
}
END_TEST

START_TEST(calendar_fields)
{
	expect_refused("2023-02-29");
	expect_refused("2100-02-29"); /* divisible by 100, not by 400 */
	expect_refused("2026-04-31");
	expect_refused("2026-06-31");
	expect_refused("2026-09-31");
	expect_refused("2026-11-31");
	expect_refused("2026-01-32");
	expect_refused("2026-01-00");
	expect_refused("2026-00-10");
	expect_refused("2026-13-01");
	expect_refused("2026-99-99");
	expect_refused("2026-11-22T24:00");
	expect_refused("2026-11-22T23:60");
	expect_refused("2026-11-22T23:59:60"); /* no leap second */
	expect_refused("2026-11-22T99:99:99");
	expect_refused("2026-11-22T10:00+24:00");
	expect_refused("2026-11-22T10:00+01:60");
	expect_refused("2026-11-22T10:00+99:99");
}
END_TEST

START_TEST(every_day)
{
	for (int y = 1970; y <= 2262; y++) {
		for (int m = 0; m <= 13; m++) {
			for (int d = 0; d <= 32; d++) {
				char text[32];
				int64_t got = SENTINEL;
				bool real = m >= 1 && m <= 12 && d >= 1 && d <= month_days(y, m) &&
					    (y < 2262 || m < 4 || (m == 4 && d <= 11));
				int r;

				snprintf(text, sizeof(text), "%04d-%02d-%02d", y, m, d);
				r = cli_time_parse(text, &got);
				if (!real) {
					CHECK(r == -EINVAL && got == SENTINEL, "'%s' accepted",
					      text);
					continue;
				}
				CHECK(r == 0, "'%s' refused", text);
				CHECK(got == days_from_civil(y, m, d) * DAY, "'%s' gave %lld", text,
				      (long long)got);
			}
		}
	}
}
END_TEST

START_TEST(range)
{
	expect_refused("1969-12-31");
	expect_refused("1969-12-31T23:59:59Z");
	expect_refused("0000-01-01");
	/* local 00:00 an hour east of UTC is 1969 in UTC */
	expect_refused("1970-01-01T00:00+01:00");
	expect_refused("1970-01-01T00:59:59+01:00");
	expect_ns("1970-01-01T01:00+01:00", 0);
	/* the last second int64 nanoseconds hold, with every nanosecond of it */
	expect_ns("2262-04-11T23:47:15Z", INT64_C(9223372035) * NS);
	expect_ns("2262-04-11T23:47:15.999999999Z", INT64_C(9223372035999999999));
	expect_refused("2262-04-11T23:47:16Z");
	expect_refused("2262-04-12");
	expect_refused("2263-01-01");
	expect_refused("9999-12-31T23:59:59Z");
	/* the range is checked in UTC, after the offset */
	expect_ns("2262-04-12T00:00+23:59", days_from_civil(2262, 4, 11) * DAY + 60 * NS);
	expect_refused("2262-04-11T23:47:16-00:01");
}
END_TEST

START_TEST(epoch_seconds)
{
	expect_ns("@0", 0);
	expect_ns("@1", NS);
	expect_ns("@1795305600", INT64_C(1795305600) * NS);
	expect_ns("@0001795305600", INT64_C(1795305600) * NS);
	expect_ns("@9223372036", INT64_C(9223372036) * NS);
	expect_refused("@9223372037");
	expect_refused("@9223372036854775807");
	expect_refused("@9223372036854775808");
	expect_refused("@99999999999999999999999999");
	expect_refused("@-9223372037");
	expect_refused("@-99999999999999999999999999");
	expect_refused("@");
	expect_refused("@-");
	expect_refused("@1.5");
	expect_refused("@1,5");
	expect_refused("@1e9");
	expect_refused("@0x10");
	expect_refused("@12abc");
	expect_refused("@1 ");
	expect_refused("@1\n");
	expect_refused("@@1");
	expect_refused("@ ");
	expect_refused("@\xef\xbc\x91"); /* a fullwidth digit one */
	/* digits only: strtoll would take a sign or leading blanks */
	expect_refused("@-1");
	expect_refused("@-0");
	expect_refused("@+5");
	expect_refused("@ 5");
	expect_refused("@\t5");
	expect_refused("@\n5");
}
END_TEST

START_TEST(garbage)
{
	static const char *const bad[] = {
	    "",
	    "now",
	    "today",
	    "yesterday",
	    "1h",
	    "-1d",
	    "2026",
	    "2026-11",
	    "2026-11-",
	    "2026-1-22",
	    "2026-11-2",
	    "26-11-22",
	    "20261122",
	    "2026/11/22",
	    "2026.11.22",
	    "22-11-2026",
	    "+2026-11-22",
	    "-2026-11-22",
	    " 2026-11-22",
	    "2026-11-22 ",
	    "2026-11-22\n",
	    "2026-11-22\t10:00",
	    "2026-11-22Z",
	    "2026-11-22+01:00",
	    "2026-11-22T",
	    "2026-11-22T10",
	    "2026-11-22T10:",
	    "2026-11-22T1:00",
	    "2026-11-22T10:0",
	    "2026-11-22T10-00",
	    "2026-11-22T10:00:",
	    "2026-11-22T10:00:0",
	    "2026-11-22T10:00:5",
	    "2026-11-22T10:00.5",
	    "2026-11-22T10:00:00.",
	    "2026-11-22T10:00:00.Z",
	    "2026-11-22T10:00:00.-1",
	    "2026-11-22T10:00:00ZZ",
	    "2026-11-22T10:00:00Z+01:00",
	    "2026-11-22T10:00+01:00Z",
	    "2026-11-22T10:00+1",
	    "2026-11-22T10:00+01",
	    "2026-11-22T10:00+01:",
	    "2026-11-22T10:00+01:0",
	    "2026-11-22T10:00+010",
	    "2026-11-22T10:00+01:000",
	    "2026-11-22T10:00 +01:00",
	    "2026-11-22T10:00UTC",
	    "2026-11-22T10:00CET",
	    "2026-11-22TT10:00",
	    "2026-11-22 T10:00",
	    "2026\357\274\21511-22", /* fullwidth hyphen (octal: no hex escape eats the 1) */
	    "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x96-11-22", /* fullwidth digits */
	    "2026-11-22\xe2\x80\xae",
	    "2O26-11-22", /* letter O */
	    "2026-11-22T10:00:00.5.5",
	    "2026-11-22T10:00:00,",
	    "2026--11-22",
	    "2026-11--22",
	    "2026-+1-22",
	    "2026- 1-22",
	    "2026-11-22T 1:00",
	    "2026-11-22T+1:00",
	    "2026-11-22T10:+1",
	    "2026-11-22T10:00:+1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i]);
	{
		int64_t got = SENTINEL;

		ck_assert_int_eq(cli_time_parse(NULL, &got), -EINVAL);
		ck_assert(got == SENTINEL);
	}
	/* a NUL ends the text: what follows is never read */
	{
		char text[] = "2026-11-22\0T10:00";
		int64_t got = SENTINEL;

		ck_assert_int_eq(cli_time_parse(text, &got), 0);
		ck_assert(got == INT64_C(1795305600) * NS);
	}
}
END_TEST

START_TEST(every_prefix)
{
	/* of a full time, only the prefixes that are times of their own */
	static const char full[] = "2026-11-22T10:00:05.123+01:00";
	static const size_t whole[] = {10, 16, 19, 21, 22, 23, sizeof(full) - 1};
	int64_t t = INT64_C(1795341605) * NS - 3600 * NS;

	for (size_t len = 0; len < sizeof(full); len++) {
		char text[sizeof(full)];
		bool ok = false;
		int64_t got = SENTINEL;
		int r;

		memcpy(text, full, len);
		text[len] = '\0';
		for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
			ok |= whole[i] == len;
		r = cli_time_parse(text, &got);
		CHECK(ok ? r == 0 : r == -EINVAL && got == SENTINEL, "'%s' gave %d", text, r);
	}
	expect_ns(full, t + 123000000);
	/* each prefix too, heap-allocated to its exact size: nothing read past it */
	for (size_t len = 0; len < sizeof(full); len++) {
		char *text = strndup(full, len);
		int64_t got = SENTINEL;

		ck_assert_ptr_nonnull(text);
		(void)cli_time_parse(text, &got);
		free(text);
	}
}
END_TEST

START_TEST(every_character_swap)
{
	/* one character of a full time replaced by any byte: refused, unless
	 * the result is itself a valid time (a digit for a digit, T/t/space,
	 * Z/z, or a valid offset sign or fraction separator) */
	static const char full[] = "2026-11-22T10:00:05.123Z";

	for (size_t i = 0; i < sizeof(full) - 1; i++) {
		for (int c = 1; c < 256; c++) {
			char text[sizeof(full)];
			int64_t got = SENTINEL;
			int r;

			memcpy(text, full, sizeof(full));
			text[i] = (char)c;
			r = cli_time_parse(text, &got);
			CHECK(r == 0 || r == -EINVAL, "'%s' gave %d", text, r);
			if (r < 0) {
				CHECK(got == SENTINEL, "'%s' refused but wrote", text);
				continue;
			}
			CHECK(got >= 0, "'%s' gave a time before 1970", text);
			/* accepted: the bytes must still form the grammar */
			if (full[i] >= '0' && full[i] <= '9')
				CHECK(c >= '0' && c <= '9', "'%s' accepted", text);
			else if (full[i] == 'T')
				CHECK(c == 't' || c == ' ' || c == 'T', "'%s' accepted", text);
			else if (full[i] == 'Z') /* or one more digit of the fraction */
				CHECK(c == 'z' || c == 'Z' || (c >= '0' && c <= '9'),
				      "'%s' accepted", text);
			else if (full[i] == '.')
				CHECK(c == ',' || c == '.', "'%s' accepted", text);
			else
				CHECK(c == full[i], "'%s' accepted", text);
		}
	}
}
END_TEST

START_TEST(independent_of_tz)
{
	static const char *const zones[] = {
	    "UTC",	  "Europe/Stockholm", "America/St_Johns", "Pacific/Kiritimati",
	    "Etc/GMT+12", "XYZ-5:45"};
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		setenv("TZ", zones[i], 1);
		tzset();
		expect_ns("2026-07-01T12:00", days_from_civil(2026, 7, 1) * DAY + 12 * 3600 * NS);
		expect_ns("2026-03-29T02:30", days_from_civil(2026, 3, 29) * DAY + 9000 * NS);
		expect_ns("2026-11-22", INT64_C(1795305600) * NS);
	}
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}
END_TEST

START_TEST(iso_round_trip)
{
	/* what cli_time_iso prints, cli_time_parse reads back (to the ms) */
	uint64_t x = 0x243f6a8885a308d3ull;

	for (int i = 0; i < 100000; i++) {
		char buf[40];
		int64_t ns, got = SENTINEL;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* the last second int64 holds is refused as ISO text (see the top) */
		ns = (int64_t)(x % (uint64_t)(INT64_C(9223372036) * NS));
		if (i < 3)
			ns = i == 0 ? 0 : i == 1 ? INT64_C(9223372035999999999) : NS - 1;
		cli_time_iso(ns, buf, sizeof(buf));
		CHECK(cli_time_parse(buf, &got) == 0, "'%s' (from %lld) refused", buf,
		      (long long)ns);
		CHECK(got == ns - ns % 1000000, "'%s' read back as %lld, not %lld", buf,
		      (long long)got, (long long)(ns - ns % 1000000));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_time");
	TCase *ok = tcase_create("accepted");
	TCase *bad = tcase_create("refused");

	tcase_add_test(ok, dates);
	tcase_add_test(ok, times_and_zones);
	tcase_add_test(ok, fractions);
	tcase_add_test(ok, every_day);
	tcase_add_test(ok, independent_of_tz);
	tcase_add_test(ok, iso_round_trip);
	suite_add_tcase(s, ok);
	tcase_add_test(bad, calendar_fields);
	tcase_add_test(bad, range);
	tcase_add_test(bad, epoch_seconds);
	tcase_add_test(bad, garbage);
	tcase_add_test(bad, every_prefix);
	tcase_add_test(bad, every_character_swap);
	suite_add_tcase(s, bad);
	return tu_run(s);
}
