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
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
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

/* Reads exactly n decimal digits at *s, advancing it; -1 if any is missing. */
static int
digits(const char **s, int n)
{
	int	 v = 0;

	for (; n > 0; n--, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

/* "YYYY-MM-DD" at *s, validated against the calendar; advances *s. */
static int
parse_ymd(const char **s, int64_t *days)
{
	int	 y, m, d;

	if ((y = digits(s, 4)) < 0 || *(*s)++ != '-' ||
	    (m = digits(s, 2)) < 0 || *(*s)++ != '-' ||
	    (d = digits(s, 2)) < 0)
		return -1;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

/* "hh:mm:ss[.frac]" at *s as ms into the day; a leap second reads as :59. */
static int
parse_hms(const char **s, int64_t *ms)
{
	int	 h, mi, sec, frac = 0, scale = 100;

	if ((h = digits(s, 2)) < 0 || *(*s)++ != ':' ||
	    (mi = digits(s, 2)) < 0 || *(*s)++ != ':' ||
	    (sec = digits(s, 2)) < 0)
		return -1;
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	if (sec == 60)
		sec = 59;
	if (**s == '.') {
		(*s)++;
		if (**s < '0' || **s > '9')
			return -1;
		/* Digits past the millisecond are truncated, never rounded up. */
		for (; **s >= '0' && **s <= '9'; (*s)++, scale /= 10)
			frac += (**s - '0') * scale;
	}
	*ms = ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
	return 0;
}

/* "Z" or "+hh:mm"/"-hh:mm" ending the string, as ms east of UTC. */
static int
parse_offset(const char *s, int64_t *off)
{
	int	 sign, h, m;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*off = 0;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if ((h = digits(&s, 2)) < 0 || *s++ != ':' || (m = digits(&s, 2)) < 0 ||
	    *s != '\0' || h > 23 || m > 59)
		return -1;
	*off = sign * ((int64_t)h * 60 + m) * 60 * 1000;
	return 0;
}

int
when_parse_instant(const char *s, instant_t *out)
{
	int64_t	 days, ms, off;

	if (s == NULL || parse_ymd(&s, &days) == -1)
		return -1;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (parse_hms(&s, &ms) == -1 || parse_offset(s, &off) == -1)
		return -1;
	*out = days * DAY_MS + ms - off;
	return 0;
}

int
when_parse_date(const char *s, date_t *out)
{
	int64_t	 days;

	if (s == NULL || parse_ymd(&s, &days) == -1 || *s != '\0')
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
