/*
 * test_when.c - JST dates and RFC 3339 instants (when.h), and the holiday
 * calendar loaded from conf/holidays/jp.yaml. Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/when.h"


static date_t
D(const char *s)
{
	date_t	 d;

	if (when_parse_date(s, &d) == -1)
		fail_msg("bad test date %s", s);
	return d;
}

static void
test_parse_instant(void **state)
{
	static const struct {
		const char	*name, *in;
		int		 ok;
		instant_t	 want;	/* ms since epoch */
	} t[] = {
		{ "epoch Z", "1970-01-01T00:00:00Z", 1, 0 },
		{ "lowercase z and t", "1970-01-01t00:00:00z", 1, 0 },
		{ "space separator", "1970-01-01 00:00:01Z", 1, 1000 },
		{ "Z", "2026-05-30T15:30:00Z", 1, 1780155000000LL },
		{ "+09:00 same instant", "2026-05-31T00:30:00+09:00", 1,
		    1780155000000LL },
		{ "-05:00 same instant", "2026-05-30T10:30:00-05:00", 1,
		    1780155000000LL },
		{ "+00:00", "2026-05-30T15:30:00+00:00", 1, 1780155000000LL },
		{ "fraction 1 digit", "1970-01-01T00:00:00.5Z", 1, 500 },
		{ "fraction 3 digits", "1970-01-01T00:00:00.123Z", 1, 123 },
		{ "fraction truncated", "1970-01-01T00:00:00.1239999Z", 1, 123 },
		{ "before epoch", "1969-12-31T23:59:59.999Z", 1, -1 },
		{ "leap second reads as :59", "2016-12-31T23:59:60Z", 1,
		    1483228799000LL },
		{ "Feb 29 leap year", "2024-02-29T00:00:00Z", 1,
		    1709164800000LL },
		{ "Feb 29 2000 (400 rule)", "2000-02-29T00:00:00Z", 1,
		    951782400000LL },
		{ "Feb 29 non-leap", "2026-02-29T00:00:00Z", 0, 0 },
		{ "Feb 29 2100 not leap", "2100-02-29T00:00:00Z", 0, 0 },
		{ "missing offset", "2026-05-30T15:30:00", 0, 0 },
		{ "missing offset with fraction", "2026-05-30T15:30:00.5", 0, 0 },
		{ "offset without colon", "2026-05-30T15:30:00+0900", 0, 0 },
		{ "offset hour 24", "2026-05-30T15:30:00+24:00", 0, 0 },
		{ "empty fraction", "2026-05-30T15:30:00.Z", 0, 0 },
		{ "month 13", "2026-13-01T00:00:00Z", 0, 0 },
		{ "month 0", "2026-00-01T00:00:00Z", 0, 0 },
		{ "day 0", "2026-01-00T00:00:00Z", 0, 0 },
		{ "April 31", "2026-04-31T00:00:00Z", 0, 0 },
		{ "hour 24", "2026-05-30T24:00:00Z", 0, 0 },
		{ "minute 60", "2026-05-30T23:60:00Z", 0, 0 },
		{ "second 61", "2026-05-30T23:59:61Z", 0, 0 },
		{ "date only", "2026-05-30", 0, 0 },
		{ "no seconds", "2026-05-30T15:30Z", 0, 0 },
		{ "trailing garbage", "2026-05-30T15:30:00Zx", 0, 0 },
		{ "short year", "226-05-30T15:30:00Z", 0, 0 },
		{ "bad separator", "2026-05-30X15:30:00Z", 0, 0 },
		{ "garbage", "yesterday", 0, 0 },
		{ "empty", "", 0, 0 },
		{ "offset +23:59", "2026-05-31T00:30:00+23:59", 1,
		    1780155000000LL + (9 * 60 - 23 * 60 - 59) * 60000LL },
		{ "offset -00:30 with fraction", "1970-01-01T00:00:00.05-00:30", 1,
		    1800050 },
		{ "offset minute 60", "2026-05-30T15:30:00+09:60", 0, 0 },
		{ "offset cut short", "2026-05-30T15:30:00+09:0", 0, 0 },
		{ "offset too long", "2026-05-30T15:30:00+09:000", 0, 0 },
		{ "Z then offset", "2026-05-30T15:30:00Z+09:00", 0, 0 },
		{ "fraction then garbage", "2026-05-30T15:30:00.5x", 0, 0 },
		{ "year 0000, January", "0000-01-01T00:00:00Z", 1,
		    -62167219200000LL },
		{ "year 9999 end", "9999-12-31T23:59:59.999Z", 1,
		    253402300799999LL },
		{ "sign in a digit place", "2026-+5-30T15:30:00Z", 0, 0 },
		{ "space in a digit place", "2026-05-3 T15:30:00Z", 0, 0 },
		{ "digit past 9", "2026-05-3:T15:30:00Z", 0, 0 },
		{ "19 bytes", "2026-05-30T15:30:00", 0, 0 },
	};
	instant_t	 got;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s (%s)\n", t[i].name, t[i].in);
		got = 0;
		rc = when_parse_instant(t[i].in, &got);
		assert_int_equal(rc, t[i].ok ? 0 : -1);
		if (t[i].ok)
			assert_int_equal(got, t[i].want);
	}
}

/* when_parse_instant_len reads n bytes, no more, and a NUL is never part of one. */
static void
test_parse_instant_len(void **state)
{
	static const char buf[] = "2026-05-30T15:30:00Z+09:00\"";
	static const char nul[] = "2026-05-30T15:30:00Z\0";
	instant_t	 got = 0;

	(void)state;
	assert_int_equal(when_parse_instant_len(buf, 20, &got), 0);
	assert_int_equal(got, 1780155000000LL);
	assert_int_equal(when_parse_instant_len(buf, 19, &got), -1);
	assert_int_equal(when_parse_instant_len(buf, 21, &got), -1);
	assert_int_equal(when_parse_instant_len(buf, 26, &got), -1);
	assert_int_equal(when_parse_instant_len(buf, 0, &got), -1);
	assert_int_equal(when_parse_instant_len(nul, sizeof(nul) - 1, &got), -1);
	assert_int_equal(when_parse_instant(nul, &got), 0);
}

static void
test_parse_date(void **state)
{
	static const struct {
		const char	*name, *in;
		int		 ok, y, m, d;
	} t[] = {
		{ "epoch", "1970-01-01", 1, 1970, 1, 1 },
		{ "leap day 2024", "2024-02-29", 1, 2024, 2, 29 },
		{ "leap day 2000", "2000-02-29", 1, 2000, 2, 29 },
		{ "2100 not leap", "2100-02-29", 0, 0, 0, 0 },
		{ "2026 not leap", "2026-02-29", 0, 0, 0, 0 },
		{ "June 31", "2026-06-31", 0, 0, 0, 0 },
		{ "with time", "2026-06-01T00:00:00Z", 0, 0, 0, 0 },
		{ "trailing space", "2026-06-01 ", 0, 0, 0, 0 },
		{ "one-digit month", "2026-6-01", 0, 0, 0, 0 },
		{ "slashes", "2026/06/01", 0, 0, 0, 0 },
		{ "empty", "", 0, 0, 0, 0 },
	};
	date_t	 d;
	size_t	 i;
	int	 y, m, dd;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s (%s)\n", t[i].name, t[i].in);
		assert_int_equal(when_parse_date(t[i].in, &d), t[i].ok ? 0 : -1);
		if (!t[i].ok)
			continue;
		when_to_ymd(d, &y, &m, &dd);
		assert_int_equal(y, t[i].y);
		assert_int_equal(m, t[i].m);
		assert_int_equal(dd, t[i].d);
		assert_int_equal(d, when_from_ymd(t[i].y, t[i].m, t[i].d));
	}
	assert_int_equal(D("1970-01-01"), 0);
	assert_int_equal(D("1969-12-31"), -1);
	assert_int_equal(D("2000-03-01") - D("2000-02-28"), 2);
	assert_int_equal(D("2100-03-01") - D("2100-02-28"), 1);
}

static void
test_date_of(void **state)
{
	static const struct {
		const char	*name, *instant, *date;
	} t[] = {
		{ "last second of JST day", "2026-05-30T14:59:59Z",
		    "2026-05-30" },
		{ "last ms of JST day", "2026-05-30T14:59:59.999Z",
		    "2026-05-30" },
		{ "JST midnight", "2026-05-30T15:00:00Z", "2026-05-31" },
		{ "JST midnight given in +09:00", "2026-05-31T00:00:00+09:00",
		    "2026-05-31" },
		{ "UTC midnight is 09:00 JST", "2026-05-31T00:00:00Z",
		    "2026-05-31" },
		{ "late evening New York", "2026-05-30T23:30:00-05:00",
		    "2026-05-31" },
		{ "epoch", "1970-01-01T00:00:00Z", "1970-01-01" },
		{ "before epoch, JST 1970", "1969-12-31T15:00:00Z",
		    "1970-01-01" },
		{ "before epoch, JST 1969", "1969-12-31T14:59:59.999Z",
		    "1969-12-31" },
		{ "far before epoch", "1900-01-01T00:00:00+09:00",
		    "1900-01-01" },
		{ "year end JST", "2026-12-31T15:00:00Z", "2027-01-01" },
	};
	char	 buf[11];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		assert_string_equal(when_fmt_date(when_date_of(I(t[i].instant)),
		    buf), t[i].date);
	}
	assert_int_equal(when_date_of(-1), -1 + 1);	/* 1970-01-01 08:59 JST */
	assert_int_equal(when_date_of(-JST_OFFSET_MS - 1), -1);
}

static void
test_day_start(void **state)
{
	char	 buf[26];

	(void)state;
	assert_int_equal(when_day_start(D("2026-06-29")),
	    I("2026-06-28T15:00:00Z"));
	assert_int_equal(when_day_start(D("1970-01-01")), -JST_OFFSET_MS);
	assert_int_equal(when_date_of(when_day_start(D("2026-06-29"))),
	    D("2026-06-29"));
	assert_int_equal(when_date_of(when_day_start(D("2026-06-29")) - 1),
	    D("2026-06-28"));
	assert_string_equal(when_fmt_instant(when_day_start(D("2026-06-29")),
	    buf), "2026-06-29T00:00:00+09:00");
}

static void
test_day_arith(void **state)
{
	char	 buf[11];

	(void)state;
	/* Day 1 is the receipt day: the 60th day is received + 59. */
	assert_string_equal(when_fmt_date(D("2026-04-01") + 59, buf),
	    "2026-05-30");
	assert_string_equal(when_fmt_date(D("2026-04-01") + 60, buf),
	    "2026-05-31");
	assert_int_equal(D("2026-05-30") - D("2026-04-01"), 59);
	/* Leap years: 2024 has 366 days, 2100 has 365. */
	assert_int_equal(D("2025-01-01") - D("2024-01-01"), 366);
	assert_int_equal(D("2101-01-01") - D("2100-01-01"), 365);
	assert_int_equal(D("2001-01-01") - D("2000-01-01"), 366);
	assert_string_equal(when_fmt_date(D("2024-02-28") + 1, buf),
	    "2024-02-29");
	assert_string_equal(when_fmt_date(D("2100-02-28") + 1, buf),
	    "2100-03-01");
}

static void
test_add_months(void **state)
{
	static const struct {
		const char	*name, *from;
		int		 n;
		const char	*want;
	} t[] = {
		{ "clamp to Feb 28", "2026-08-31", 6, "2027-02-28" },
		{ "clamp to leap Feb 29", "2024-01-31", 1, "2024-02-29" },
		{ "clamp to Apr 30", "2026-03-31", 1, "2026-04-30" },
		{ "plain", "2026-04-15", 1, "2026-05-15" },
		{ "zero", "2026-04-15", 0, "2026-04-15" },
		{ "across year end", "2026-11-30", 3, "2027-02-28" },
		{ "twelve", "2024-02-29", 12, "2025-02-28" },
		{ "forty-eight to leap", "2024-02-29", 48, "2028-02-29" },
		{ "negative", "2026-03-31", -1, "2026-02-28" },
		{ "negative across year", "2026-01-15", -2, "2025-11-15" },
		{ "negative twelve", "2025-02-28", -12, "2024-02-28" },
		{ "negative large", "2026-05-31", -25, "2024-04-30" },
	};
	char	 buf[11];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		assert_string_equal(when_fmt_date(when_add_months(D(t[i].from),
		    t[i].n), buf), t[i].want);
	}
}

static void
test_end_of_month(void **state)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "2026-02-01", "2026-02-28" },
		{ "2024-02-10", "2024-02-29" },
		{ "2100-02-10", "2100-02-28" },
		{ "2026-04-30", "2026-04-30" },
		{ "2026-12-01", "2026-12-31" },
		{ "1969-12-15", "1969-12-31" },
	};
	char	 buf[11];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++)
		assert_string_equal(when_fmt_date(when_end_of_month(D(t[i].in)),
		    buf), t[i].want);
}

static void
test_weekday(void **state)
{
	static const struct {
		const char	*in;
		int		 want;
	} t[] = {
		{ "1970-01-01", 3 },	/* Thursday */
		{ "1969-12-31", 2 },	/* Wednesday, negative day */
		{ "1969-12-29", 0 },	/* Monday */
		{ "2026-05-02", 5 },	/* Saturday */
		{ "2026-05-03", 6 },	/* Sunday */
		{ "2026-01-05", 0 },	/* Monday */
		{ "2024-02-29", 3 },	/* Thursday */
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].in);
		assert_int_equal(when_weekday(D(t[i].in)), t[i].want);
	}
}

static void
test_fmt_instant(void **state)
{
	static const struct {
		const char	*name, *in, *want;
	} t[] = {
		{ "UTC to JST next day", "2026-05-30T15:30:00Z",
		    "2026-05-31T00:30:00+09:00" },
		{ "fraction floored", "2026-05-30T15:30:00.999Z",
		    "2026-05-31T00:30:00+09:00" },
		{ "from -05:00", "2026-05-30T10:30:00-05:00",
		    "2026-05-31T00:30:00+09:00" },
		{ "epoch", "1970-01-01T00:00:00Z",
		    "1970-01-01T09:00:00+09:00" },
		{ "negative floors down", "1969-12-31T14:59:59.500Z",
		    "1969-12-31T23:59:59+09:00" },
		{ "last second of day", "2026-05-30T14:59:59Z",
		    "2026-05-30T23:59:59+09:00" },
	};
	char		 buf[26];
	instant_t	 t2;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		assert_string_equal(when_fmt_instant(I(t[i].in), buf),
		    t[i].want);
		/* Round trip: formatting then parsing loses only the ms. */
		assert_int_equal(when_parse_instant(buf, &t2), 0);
		assert_int_equal(t2, I(t[i].in) - (((I(t[i].in) % 1000) +
		    1000) % 1000));
	}
}

static void
test_fmt_date_roundtrip(void **state)
{
	char	 buf[11];
	date_t	 d, back;

	(void)state;
	/* Every day from 1899 to 2101 survives format and parse. */
	for (d = D("1899-01-01"); d <= D("2101-12-31"); d++) {
		assert_int_equal(when_parse_date(when_fmt_date(d, buf), &back),
		    0);
		assert_int_equal(back, d);
	}
}

#define JP_YAML	"conf/holidays/jp.yaml"

static void
test_calendar_jp(void **state)
{
	static const struct {
		const char	*name, *date;
		int		 open;
	} t[] = {
		{ "New Year's Day", "2026-01-01", 0 },
		{ "year-end closure", "2025-12-29", 0 },
		{ "year-end closure Dec 31", "2025-12-31", 0 },
		{ "closure ends Jan 3", "2026-01-03", 0 },
		{ "first Monday after New Year", "2026-01-05", 1 },
		{ "Saturday", "2026-05-02", 0 },
		{ "Sunday holiday", "2026-05-03", 0 },
		{ "Greenery Day", "2026-05-04", 0 },
		{ "Children's Day", "2026-05-05", 0 },
		{ "substitute holiday", "2026-05-06", 0 },
		{ "after Golden Week", "2026-05-07", 1 },
		{ "citizens' holiday", "2026-09-22", 0 },
		{ "autumn equinox 2026", "2026-09-23", 0 },
		{ "2020 Olympic Marine Day", "2020-07-23", 0 },
		{ "2020 Olympic Sports Day", "2020-07-24", 0 },
		{ "2020 Olympic Mountain Day", "2020-08-10", 0 },
		{ "2021 Olympic Marine Day", "2021-07-22", 0 },
		{ "2021 Olympic Sports Day", "2021-07-23", 0 },
		{ "2021 Mountain Day substitute", "2021-08-09", 0 },
		{ "2021 usual Marine Day is open", "2021-07-19", 1 },
		{ "2021 usual Sports Day is open", "2021-10-11", 1 },
		{ "2025 Emperor's Birthday substitute", "2025-02-24", 0 },
		{ "ordinary Tuesday", "2026-06-30", 1 },
		{ "Dec 28 open", "2026-12-28", 1 },
		{ "2030 Coming-of-Age Day", "2030-01-14", 0 },
		{ "2029 equinox substitute", "2029-09-24", 0 },
		{ "2032 citizens' holiday", "2032-09-21", 0 },
		{ "2035 Labor Thanksgiving", "2035-11-23", 0 },
		{ "2031 ordinary Friday", "2031-01-17", 1 },
	};
	struct calendar	*c;
	date_t		 first, last;
	char		 buf[11];
	size_t		 i;
	int		 nerr = -1;

	(void)state;
	c = calendar_load(JP_YAML, &nerr);
	assert_non_null(c);
	assert_int_equal(nerr, 0);
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s (%s)\n", t[i].name, t[i].date);
		assert_int_equal(calendar_is_business_day(c, D(t[i].date)),
		    t[i].open);
	}
	assert_string_equal(when_fmt_date(calendar_next_business_day(c,
	    D("2026-05-02")), buf), "2026-05-07");
	assert_string_equal(when_fmt_date(calendar_next_business_day(c,
	    D("2026-05-07")), buf), "2026-05-07");
	assert_string_equal(when_fmt_date(calendar_next_business_day(c,
	    D("2025-12-27")), buf), "2026-01-05");
	calendar_range(c, &first, &last);
	assert_string_equal(when_fmt_date(first, buf), "2020-01-01");
	assert_string_equal(when_fmt_date(last, buf), "2035-11-23");
	calendar_free(c);
}

static void
test_calendar_null(void **state)
{
	date_t	 first, last;

	(void)state;
	/* Without a calendar only Saturday and Sunday are closed. */
	assert_true(calendar_is_business_day(NULL, D("2026-01-01")));
	assert_false(calendar_is_business_day(NULL, D("2026-05-02")));
	assert_false(calendar_is_business_day(NULL, D("2026-05-03")));
	assert_int_equal(calendar_next_business_day(NULL, D("2026-05-02")),
	    D("2026-05-04"));
	calendar_range(NULL, &first, &last);
	assert_int_equal(first, DATE_NONE);
	assert_int_equal(last, DATE_NONE);
}

static const char bad_yaml[] =
    "calendar: jp\n"					/* 1 */
    "time_zone: Europe/Paris\n"				/* 2 */
    "weekends: [saturday, caturday]\n"			/* 3 */
    "colour: blue\n"					/* 4 */
    "closures:\n"					/* 5 */
    "  - { range: \"12-29..13-03\", name: x }\n"		/* 6 */
    "holidays:\n"					/* 7 */
    "  - { date: 2026-01-01, name: 元日 }\n"		/* 8 */
    "  - { date: 2026-02-30, name: bad }\n"		/* 9 */
    "  - { date: 2026-01-01, name: again }\n"		/* 10 */
    "  - { date: 2026-03-20, nmae: typo }\n";		/* 11 */

static const char *const bad_want[] = {
	":2:12: error: ",	/* time_zone */
	":3:22: error: ",	/* caturday */
	":4:1: error: ",	/* unknown key colour */
	":6:14: error: ",	/* range */
	":9:13: error: ",	/* Feb 30 */
	":10:13: error: ",	/* duplicate */
	":11:25: error: ",	/* unknown key nmae */
};

/* Loads `text` from a temp file with stderr captured into `out`. */
static struct calendar *
load_text(const char *text, int *nerr, char *out, size_t outsz)
{
	char		 dir[] = "/tmp/test_when.XXXXXX", path[64], errp[64];
	struct calendar	*c;
	FILE		*f;
	size_t		 n;
	int		 saved;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	snprintf(errp, sizeof(errp), "%s/stderr", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	fflush(stderr);
	saved = dup(fileno(stderr));
	assert_non_null(freopen(errp, "w", stderr));
	c = calendar_load(path, nerr);
	fflush(stderr);
	dup2(saved, fileno(stderr));
	close(saved);
	assert_non_null(f = fopen(errp, "r"));
	n = fread(out, 1, outsz - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(errp);
	unlink(path);
	rmdir(dir);
	fputs(out, stderr);	/* show what a user would see */
	return c;
}

static void
test_calendar_errors(void **state)
{
	char	 out[4096], *line;
	size_t	 i;
	int	 nerr = 0, nlines = 0;

	(void)state;
	assert_null(load_text(bad_yaml, &nerr, out, sizeof(out)));
	for (line = out; (line = strchr(line, '\n')) != NULL; line++)
		nlines++;
	assert_int_equal(nerr, (int)NELEM(bad_want));
	assert_int_equal(nlines, (int)NELEM(bad_want));
	for (i = 0; i < NELEM(bad_want); i++) {
		print_message("case: %s\n", bad_want[i]);
		assert_non_null(strstr(out, bad_want[i]));
	}
	assert_non_null(strstr(out, "caturday"));
	assert_non_null(strstr(out, "duplicate"));

	/* A syntax error is reported with its position too. */
	assert_null(load_text("holidays: [\n", &nerr, out, sizeof(out)));
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(out, "bad.yaml:2:1: error: "));

	/* A missing file is one error, not a crash. */
	assert_null(calendar_load("/nonexistent/jp.yaml", &nerr));
	assert_int_equal(nerr, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_instant),
		cmocka_unit_test(test_parse_instant_len),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_date_of),
		cmocka_unit_test(test_day_start),
		cmocka_unit_test(test_day_arith),
		cmocka_unit_test(test_add_months),
		cmocka_unit_test(test_end_of_month),
		cmocka_unit_test(test_weekday),
		cmocka_unit_test(test_fmt_instant),
		cmocka_unit_test(test_fmt_date_roundtrip),
		cmocka_unit_test(test_calendar_jp),
		cmocka_unit_test(test_calendar_null),
		cmocka_unit_test(test_calendar_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
