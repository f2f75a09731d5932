/*
 * when.c - dates and instants in Japan time (UTC+9, no DST) without libc time
 * zone functions, so results never depend on TZ. Civil-date conversion follows
 * Howard Hinnant's days_from_civil / civil_from_days algorithms.
 */
#include <stdio.h>
#include <string.h>

#include "complyd/when.h"

/* Floor division and the matching non-negative remainder (C truncates). */
static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t	 q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
floormod(int64_t a, int64_t b)
{
	return a - floordiv(a, b) * b;
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		 era, doy;
	uint64_t	 yoe;	/* 0..399: divided as unsigned, cheaper */

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;	/* floordiv(y, 400), cheaper */
	yoe = (uint64_t)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + (int64_t)(yoe * 365 + yoe / 4 - yoe / 100) + doy -
	    719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	 era, doe, yoe, doy, mp;

	z += 719468;
	era = floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

date_t
when_from_ymd(int y, int m, int d)
{
	return (date_t)days_from_civil(y, m, d);
}

void
when_to_ymd(date_t d, int *y, int *m, int *dd)
{
	int64_t	 yy;

	civil_from_days(d, &yy, m, dd);
	*y = (int)yy;
}

/*
 * The parsers below read fixed positions of a string whose length they are
 * given: an instant is parsed once per event read, and twice in a replay (the
 * time-order pre-scan, then the decoder), so it avoids a pass per field.
 */

/* The two decimal digits at s as 0..99; -1 if either is not a digit. */
static int
two_digits(const char *s)
{
	unsigned	 a = (unsigned char)s[0] - '0';
	unsigned	 b = (unsigned char)s[1] - '0';

	return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

/* "YYYY-MM-DD" at s (10 bytes there), validated against the calendar. */
static int
parse_ymd(const char *s, int64_t *days)
{
	int	 c, y, m, d;

	if ((c = two_digits(s)) < 0 || (y = two_digits(s + 2)) < 0 ||
	    s[4] != '-' || (m = two_digits(s + 5)) < 0 || s[7] != '-' ||
	    (d = two_digits(s + 8)) < 0)
		return -1;
	y += c * 100;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

/* "hh:mm:ss" at s (8 bytes there) as seconds into the day; a leap second reads as :59. */
static int
parse_hms(const char *s, int *secs)
{
	int	 h, mi, sec;

	if ((h = two_digits(s)) < 0 || s[2] != ':' ||
	    (mi = two_digits(s + 3)) < 0 || s[5] != ':' ||
	    (sec = two_digits(s + 6)) < 0)
		return -1;
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	*secs = h * 3600 + mi * 60 + (sec == 60 ? 59 : sec);
	return 0;
}

/*
 * ".frac" (one digit at least) at s[*i] if there is one, as ms, *i moved past
 * it; -1 if the dot has no digit. Digits past the millisecond are truncated,
 * never rounded up.
 */
static int
parse_frac(const char *s, size_t n, size_t *i)
{
	int	 frac = 0, scale = 100;

	if (*i == n || s[*i] != '.')
		return 0;
	if (++*i == n || s[*i] < '0' || s[*i] > '9')
		return -1;
	for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; ++*i, scale /= 10)
		frac += (s[*i] - '0') * scale;
	return frac;
}

/* "Z" or "+hh:mm"/"-hh:mm", the whole of s[0..n), as ms east of UTC. */
static int
parse_offset(const char *s, size_t n, int64_t *off)
{
	int	 h, m;

	if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 0;
	}
	if (n != 6 || (s[0] != '+' && s[0] != '-') ||
	    (h = two_digits(s + 1)) < 0 || s[3] != ':' ||
	    (m = two_digits(s + 4)) < 0 || h > 23 || m > 59)
		return -1;
	*off = (s[0] == '-' ? -1 : 1) * ((int64_t)h * 60 + m) * 60 * 1000;
	return 0;
}

int
when_parse_instant_len(const char *s, size_t n, instant_t *out)
{
	int64_t	 days, off;
	size_t	 i = 19;	/* past "YYYY-MM-DDThh:mm:ss" */
	int	 secs, ms;

	if (n < 20 || parse_ymd(s, &days) == -1 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    parse_hms(s + 11, &secs) == -1 ||
	    (ms = parse_frac(s, n, &i)) == -1 ||
	    parse_offset(s + i, n - i, &off) == -1)
		return -1;
	*out = days * DAY_MS + (int64_t)secs * 1000 + ms - off;
	return 0;
}

int
when_parse_instant(const char *s, instant_t *out)
{
	return s == NULL ? -1 : when_parse_instant_len(s, strlen(s), out);
}

int
when_parse_date(const char *s, date_t *out)
{
	int64_t	 days;

	if (s == NULL || strlen(s) != 10 || parse_ymd(s, &days) == -1)
		return -1;
	*out = (date_t)days;
	return 0;
}

int
when_parse_bound(const char *s, int days_after, instant_t *out)
{
	date_t	 d;

	if (when_parse_instant(s, out) == 0)
		return 0;
	if (when_parse_date(s, &d) == -1)
		return -1;
	*out = when_day_start(d + days_after);
	return 0;
}

date_t
when_date_of(instant_t t)
{
	int64_t	 day, rem;

	/* Split first so adding the offset cannot overflow near INSTANT_MAX. */
	day = floordiv(t, DAY_MS);
	rem = floormod(t, DAY_MS);
	if (rem + JST_OFFSET_MS >= DAY_MS)
		day++;
	if (day > INT32_MAX)
		return INT32_MAX;
	if (day <= INT32_MIN)
		return INT32_MIN + 1;	/* INT32_MIN is DATE_NONE */
	return (date_t)day;
}

instant_t
when_day_start(date_t d)
{
	return (instant_t)d * DAY_MS - JST_OFFSET_MS;
}

date_t
when_add_months(date_t d, int n)
{
	int64_t	 y, mm;
	int	 m, dd, last;

	civil_from_days(d, &y, &m, &dd);
	mm = y * 12 + (m - 1) + n;
	y = floordiv(mm, 12);
	m = (int)floormod(mm, 12) + 1;
	last = days_in_month(y, m);
	return (date_t)days_from_civil(y, m, dd > last ? last : dd);
}

date_t
when_end_of_month(date_t d)
{
	int64_t	 y;
	int	 m, dd;

	civil_from_days(d, &y, &m, &dd);
	return (date_t)days_from_civil(y, m, days_in_month(y, m));
}

int
when_weekday(date_t d)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	return (int)floormod((int64_t)d + 3, 7);
}

/* n decimal digits of v, zero-padded, no NUL. */
static void
put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

char *
when_fmt_date(date_t d, char *buf)
{
	int64_t	 y;
	int	 m, dd;

	civil_from_days(d, &y, &m, &dd);
	if (y < 0 || y > 9999) {
		snprintf(buf, 11, "%04d-%02d-%02d", (int)y, m, dd);
		return buf;
	}
	/* By hand: alerts and rules format dates often enough for printf to show. */
	put_digits(buf, (unsigned)y, 4);
	buf[4] = '-';
	put_digits(buf + 5, (unsigned)m, 2);
	buf[7] = '-';
	put_digits(buf + 8, (unsigned)dd, 2);
	buf[10] = '\0';
	return buf;
}

char *
when_fmt_instant(instant_t t, char *buf)
{
	int64_t	 sec;

	/* Seconds since local midnight, floored (matters for negative t). */
	sec = floordiv(floormod(t, DAY_MS) + JST_OFFSET_MS, 1000) % 86400;
	when_fmt_date(when_date_of(t), buf);
	buf[10] = 'T';
	put_digits(buf + 11, (unsigned)(sec / 3600), 2);
	buf[13] = ':';
	put_digits(buf + 14, (unsigned)(sec / 60 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (unsigned)(sec % 60), 2);
	memcpy(buf + 19, "+09:00", 7);
	return buf;
}
