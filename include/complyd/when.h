/*
 * when.h - time in the law's calendar. An instant is milliseconds since the Unix
 * epoch (UTC); a date is a calendar day in Asia/Tokyo (UTC+9, no DST) counted as
 * days since 1970-01-01. All day arithmetic of the law list lives here.
 */
#ifndef COMPLYD_WHEN_H
#define COMPLYD_WHEN_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t instant_t;	/* ms since epoch, UTC */
typedef int32_t date_t;		/* days since 1970-01-01, as a JST calendar day */

#define JST_OFFSET_MS	(9LL * 3600 * 1000)
#define DAY_MS		(86400LL * 1000)
#define INSTANT_MIN	INT64_MIN
#define INSTANT_MAX	INT64_MAX
#define DATE_NONE	INT32_MIN

/* Parses RFC 3339 with a mandatory offset ("Z" or "+hh:mm"), fractions kept to ms; 0 or -1. */
int when_parse_instant(const char *s, instant_t *out);
/* The same, of the n bytes at s (no NUL needed: one is never part of an instant). */
int when_parse_instant_len(const char *s, size_t n, instant_t *out);
/* Parses "YYYY-MM-DD" (exactly, valid calendar day); 0 or -1. */
int when_parse_date(const char *s, date_t *out);
/*
 * A time bound as users write one: an instant (RFC 3339 with offset), or a
 * date D read as 00:00 Asia/Tokyo of D + days_after (0: the start of D, as
 * the API's since/until/from/to; 1: the end of D, as replay's --until).
 * 0 or -1.
 */
int when_parse_bound(const char *s, int days_after, instant_t *out);
/* The JST calendar day that contains instant t. */
date_t when_date_of(instant_t t);
/* 00:00 JST at the start of day d. */
instant_t when_day_start(date_t d);
/* Days from civil y-m-d (m 1..12) and back. */
date_t when_from_ymd(int y, int m, int d);
void when_to_ymd(date_t d, int *y, int *m, int *dd);
/* Adds n calendar months, clamping to the month's last day (08-31 + 6 = 02-28). */
date_t when_add_months(date_t d, int n);
/* Last day of d's month. */
date_t when_end_of_month(date_t d);
/* 0 = Monday .. 6 = Sunday. */
int when_weekday(date_t d);
/* Writes "YYYY-MM-DD" into buf (>= 11 bytes); returns buf. */
char *when_fmt_date(date_t d, char *buf);
/* Writes "YYYY-MM-DDThh:mm:ss+09:00" (whole seconds, floored) into buf (>= 26 bytes). */
char *when_fmt_instant(instant_t t, char *buf);

/*
 * Holiday calendar: a set of non-business dates loaded from YAML
 * (conf/holidays/jp.yaml). Weekends and the 12-29..01-03 closure are rules
 * of the calendar file (keys `weekends`, `closures`), the holidays data.
 */
struct calendar;
/* Loads a calendar file; on errors prints file:line:col: error: ... and returns NULL. */
struct calendar *calendar_load(const char *path, int *nerrors);
void calendar_free(struct calendar *c);
/* 1 if d is a business day in c (c NULL: only weekends are closed). */
int calendar_is_business_day(const struct calendar *c, date_t d);
/* d itself if a business day, else the next business day. */
date_t calendar_next_business_day(const struct calendar *c, date_t d);
/* First and last date covered by the holiday data (outside it lint warns). */
void calendar_range(const struct calendar *c, date_t *first, date_t *last);

#endif
