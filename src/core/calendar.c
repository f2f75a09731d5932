/*
 * calendar.c - the business-day calendar of when.h: weekend days, recurring
 * yearly closures and a sorted array of holiday dates, loaded from YAML with
 * every problem reported at its line and column before the load fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "complyd/log.h"
#include "complyd/util.h"
#include "complyd/when.h"
#include "complyd/yamlx.h"

/* A yearly closed range as month*100+day; start > end wraps the year end. */
struct closure {
	int	 start, end;
};

struct calendar {
	unsigned	 weekends;	/* bit i set: weekday i (0 = Monday) closed */
	struct closure	*closures;
	size_t		 nclosures;
	date_t		*days;		/* holidays, sorted, unique */
	size_t		 ndays;
	date_t		 from, to;	/* the whole years the holidays cover */
};

/* A holiday while loading: its position is kept to report duplicates. */
struct hol {
	date_t	 date;
	int	 line, col;
};

static const char *const weekday_names[] = { "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday" };

static void
load_weekends(struct ydoc *y, yaml_node_t *n, struct calendar *c)
{
	const char	*s;
	yaml_node_t	*it;
	int		 i, w;

	if (n->type != YAML_SEQUENCE_NODE) {
		ydoc_error(y, n, "weekends: expected a list of weekday names");
		return;
	}
	for (i = 0; (it = ydoc_item(y, n, i)) != NULL; i++) {
		s = ydoc_str(it);
		for (w = 0; s != NULL && w < 7; w++)
			if (strcasecmp(s, weekday_names[w]) == 0)
				break;
		if (s == NULL || w == 7)
			ydoc_error(y, it, "weekends: unknown weekday '%s'",
			    s ? s : "(not a scalar)");
		else if (c->weekends & (1u << w))
			ydoc_error(y, it, "weekends: '%s' listed twice", s);
		else
			c->weekends |= 1u << w;
	}
	/* With every day closed next_business_day would never find one. */
	if (c->weekends == 0x7f)
		ydoc_error(y, n, "weekends: every day of the week is closed");
}

/* "MM-DD" as month*100+day; Feb 29 is allowed since closures recur yearly. */
static int
parse_md(const char *s, size_t len)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	 m, d;
	size_t	 i;

	if (len != 5 || s[2] != '-')
		return -1;
	for (i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	d = (s[3] - '0') * 10 + (s[4] - '0');
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	return m * 100 + d;
}

static void
load_closure(struct ydoc *y, yaml_node_t *n, struct calendar *c)
{
	static const char *const keys[] = { "range", "name", NULL };
	yaml_node_t	*r;
	const char	*s, *dots;
	struct closure	 cl;

	if (n->type != YAML_MAPPING_NODE) {
		ydoc_error(y, n, "closures: expected a mapping with 'range'");
		return;
	}
	ydoc_check_keys(y, n, keys, "closure");
	if ((r = ydoc_get(y, n, "range")) == NULL) {
		ydoc_error(y, n, "closure: missing 'range'");
		return;
	}
	s = ydoc_str(r);
	if (s == NULL || (dots = strstr(s, "..")) == NULL ||
	    (cl.start = parse_md(s, (size_t)(dots - s))) == -1 ||
	    (cl.end = parse_md(dots + 2, strlen(dots + 2))) == -1) {
		ydoc_error(y, r, "closure: bad range '%s', expected "
		    "\"MM-DD..MM-DD\"", s ? s : "(not a scalar)");
		return;
	}
	c->closures = xrealloc(c->closures,
	    (c->nclosures + 1) * sizeof(*c->closures));
	c->closures[c->nclosures++] = cl;
}

static void
load_closures(struct ydoc *y, yaml_node_t *n, struct calendar *c)
{
	int	 i;

	if (n->type != YAML_SEQUENCE_NODE) {
		ydoc_error(y, n, "closures: expected a list");
		return;
	}
	for (i = 0; i < ydoc_len(y, n); i++)
		load_closure(y, ydoc_item(y, n, i), c);
}

/* Parses one holiday entry into *h; 0, or -1 after reporting why not. */
static int
load_holiday(struct ydoc *y, yaml_node_t *n, struct hol *h)
{
	static const char *const keys[] = { "date", "name", NULL };
	yaml_node_t	*dn, *nn;
	const char	*s;

	if (n->type != YAML_MAPPING_NODE) {
		ydoc_error(y, n, "holidays: expected a mapping with 'date'");
		return -1;
	}
	ydoc_check_keys(y, n, keys, "holiday");
	if ((nn = ydoc_get(y, n, "name")) != NULL && ydoc_str(nn) == NULL)
		ydoc_error(y, nn, "holiday: 'name' must be a string");
	if ((dn = ydoc_get(y, n, "date")) == NULL) {
		ydoc_error(y, n, "holiday: missing 'date'");
		return -1;
	}
	s = ydoc_str(dn);
	if (s == NULL || when_parse_date(s, &h->date) == -1) {
		ydoc_error(y, dn, "holiday: bad date '%s', expected YYYY-MM-DD",
		    s ? s : "(not a scalar)");
		return -1;
	}
	h->line = ydoc_line(dn);
	h->col = ydoc_col(dn);
	return 0;
}

/* Orders by date, then file position so duplicates are reported in order. */
static int
hol_cmp(const void *a, const void *b)
{
	const struct hol	*x = a, *z = b;

	if (x->date != z->date)
		return x->date < z->date ? -1 : 1;
	if (x->line != z->line)
		return x->line < z->line ? -1 : 1;
	return (x->col > z->col) - (x->col < z->col);
}

static void
load_holidays(struct ydoc *y, yaml_node_t *n, struct calendar *c)
{
	struct hol	*h;
	size_t		 nh = 0, i;
	char		 buf[11];
	int		 len;

	if (n->type != YAML_SEQUENCE_NODE) {
		ydoc_error(y, n, "holidays: expected a list");
		return;
	}
	len = ydoc_len(y, n);
	h = xcalloc((size_t)len, sizeof(*h));
	for (i = 0; i < (size_t)len; i++)
		if (load_holiday(y, ydoc_item(y, n, (int)i), &h[nh]) == 0)
			nh++;
	qsort(h, nh, sizeof(*h), hol_cmp);
	c->days = xcalloc(nh, sizeof(*c->days));
	for (i = 0; i < nh; i++) {
		if (c->ndays > 0 && c->days[c->ndays - 1] == h[i].date) {
			ydoc_error_at(y, h[i].line, h[i].col,
			    "holiday: duplicate date %s", when_fmt_date(
			    h[i].date, buf));
			continue;
		}
		c->days[c->ndays++] = h[i].date;
	}
	free(h);
}

/* Top-level keys; calendar, weekends and holidays are required. */
static void
load_root(struct ydoc *y, yaml_node_t *root, struct calendar *c)
{
	static const char *const keys[] = { "calendar", "time_zone",
	    "weekends", "closures", "holidays", NULL };
	static const char *const required[] = { "calendar", "weekends",
	    "holidays", NULL };
	yaml_node_t	*n;
	const char	*s;
	int		 i;

	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		ydoc_error(y, root, "calendar file must be a mapping");
		return;
	}
	ydoc_check_keys(y, root, keys, "calendar");
	for (i = 0; required[i] != NULL; i++)
		if (ydoc_get(y, root, required[i]) == NULL)
			ydoc_error(y, root, "missing key '%s'", required[i]);
	if ((n = ydoc_get(y, root, "calendar")) != NULL && ydoc_str(n) == NULL)
		ydoc_error(y, n, "calendar: expected a name");
	/* Dates are JST by construction (when.h); any other zone would be misread. */
	if ((n = ydoc_get(y, root, "time_zone")) != NULL &&
	    ((s = ydoc_str(n)) == NULL || strcmp(s, "Asia/Tokyo") != 0))
		ydoc_error(y, n, "time_zone: only Asia/Tokyo is supported");
	if ((n = ydoc_get(y, root, "weekends")) != NULL)
		load_weekends(y, n, c);
	if ((n = ydoc_get(y, root, "closures")) != NULL)
		load_closures(y, n, c);
	if ((n = ydoc_get(y, root, "holidays")) != NULL)
		load_holidays(y, n, c);
}

struct calendar *
calendar_load(const char *path, int *nerrors)
{
	struct ydoc	 y;
	struct calendar	*c;

	c = xcalloc(1, sizeof(*c));
	if (ydoc_load(&y, path) == 0)
		load_root(&y, ydoc_root(&y), c);
	if (c->ndays > 0) {
		int yf, yl, m, d;

		when_to_ymd(c->days[0], &yf, &m, &d);
		when_to_ymd(c->days[c->ndays - 1], &yl, &m, &d);
		c->from = when_from_ymd(yf, 1, 1);
		c->to = when_from_ymd(yl, 12, 31);
	}
	if (nerrors != NULL)
		*nerrors = y.nerrors;
	if (y.nerrors > 0) {
		calendar_free(c);
		c = NULL;
	}
	ydoc_free(&y);
	return c;
}

void
calendar_free(struct calendar *c)
{
	if (c == NULL)
		return;
	free(c->closures);
	free(c->days);
	free(c);
}

static int
is_holiday(const struct calendar *c, date_t d)
{
	size_t	 lo = 0, hi = c->ndays, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->days[mid] == d)
			return 1;
		if (c->days[mid] < d)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
in_closure(const struct calendar *c, date_t d)
{
	const struct closure	*cl;
	int			 y, m, dd, md;
	size_t			 i;

	when_to_ymd(d, &y, &m, &dd);
	md = m * 100 + dd;
	for (i = 0; i < c->nclosures; i++) {
		cl = &c->closures[i];
		if (cl->start <= cl->end ? md >= cl->start && md <= cl->end :
		    md >= cl->start || md <= cl->end)
			return 1;
	}
	return 0;
}

/*
 * A date in a year the holiday list does not reach is judged without national
 * holidays: say so once, so that a deadline in 2040 is not silently off. The
 * message names the range, not the date: engines of one replay run on several
 * threads, and which of them meets such a date first is a matter of timing.
 */
static void
warn_outside(const struct calendar *c, date_t d)
{
	static int	 warned;
	char		 from[11], to[11];

	if (c->ndays == 0 || (d >= c->from && d <= c->to) ||
	    __atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		return;
	when_fmt_date(c->from, from);
	when_fmt_date(c->to, to);
	log_warnx("holiday calendar: dates outside %.4s..%.4s are judged "
	    "without national holidays (extend conf/holidays)", from, to);
}

int
calendar_is_business_day(const struct calendar *c, date_t d)
{
	if (c == NULL)
		return when_weekday(d) < 5;
	warn_outside(c, d);
	if (c->weekends & (1u << when_weekday(d)))
		return 0;
	return !in_closure(c, d) && !is_holiday(c, d);
}

date_t
calendar_next_business_day(const struct calendar *c, date_t d)
{
	int	 i;

	/*
	 * Closures could in principle cover the whole year; give up after two
	 * years rather than loop forever.
	 */
	for (i = 0; i < 2 * 366; i++, d++) {
		if (calendar_is_business_day(c, d))
			return d;
		if (d == INT32_MAX)
			break;
	}
	return DATE_NONE;
}

void
calendar_range(const struct calendar *c, date_t *first, date_t *last)
{
	if (c == NULL || c->ndays == 0) {
		*first = *last = DATE_NONE;
		return;
	}
	*first = c->days[0];
	*last = c->days[c->ndays - 1];
}
