/*
 * gen.c — deterministic benchmark feed generator for complyd.
 *
 * Usage: gen [-e EVENTS] [-t TENANTS] [-c CONTRACTS] [-d DATASETS] [-f FACILITIES]
 *            [-s mixed|deadlines] OUTDIR
 *
 * Writes OUTDIR/meta/contracts.yaml (contracts-NNNN.yaml, 100k each, above 100k
 * contracts: see CONTRACTS_PER_FILE), OUTDIR/meta/datasets.yaml,
 * OUTDIR/meta/facilities.yaml and OUTDIR/events.jsonl (schemas: DESIGN.md "Events",
 * "Metadata"). Output depends only on the arguments (own xorshift64* PRNG, fixed seed).
 *
 * Scenario "mixed": a realistic SOC feed over ~6 months from 2026-04-01T00:00:00+09:00,
 * events in non-decreasing time order, lifecycles kept consistent through per-domain
 * min-heaps of pending follow-up events.
 * Scenario "deadlines": CONTRACTS contracts, all subject to the Subcontract Act, and one
 * subcontract.received per contract over 2026-04-01..2026-04-30 (-e is ignored), none paid.
 * Each contract has a payment_due 40..59 days after its receipt day (so its due day is
 * after 2026-05-10 and no warning (7 days ahead) falls within the feed): replayed up to
 * the last event, every payment deadline is still open.
 *
 * Only libc; standalone (static functions only).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* ------------------------------------------------------------------ PRNG */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* uniform integer in [lo, hi] */
static int64_t rr(int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)((rnd() >> 11) % (uint64_t)(hi - lo + 1));
}

/* true with probability per10k / 10000 */
static int chance(int per10k)
{
	return (int)((rnd() >> 11) % 10000) < per10k;
}

/* ------------------------------------------------------------------ dates */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *yy, unsigned *mm, unsigned *dd)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t y = (int64_t)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	const unsigned d = doy - (153 * mp + 2) / 5 + 1;
	const unsigned m = mp < 10 ? mp + 3 : mp - 9;
	*yy = (int)(y + (m <= 2));
	*mm = m;
	*dd = d;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* "YYYY-MM-DD" for a day number; buf >= 11 */
static void fmt_date(char *buf, int64_t day)
{
	int y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	buf[0] = (char)('0' + (y / 1000) % 10);
	buf[1] = (char)('0' + (y / 100) % 10);
	buf[2] = (char)('0' + (y / 10) % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = 0;
}

/* RFC 3339 for unix seconds, in JST ("+09:00") or UTC ("Z"); buf >= 26 */
static void fmt_time(char *buf, int64_t sec, int jst)
{
	if (jst)
		sec += 9 * 3600;
	int64_t day = floordiv(sec, 86400);
	int64_t sod = sec - day * 86400;
	fmt_date(buf, day);
	unsigned h = (unsigned)(sod / 3600), mi = (unsigned)(sod / 60 % 60), s = (unsigned)(sod % 60);
	buf[10] = 'T';
	buf[11] = (char)('0' + h / 10);
	buf[12] = (char)('0' + h % 10);
	buf[13] = ':';
	buf[14] = (char)('0' + mi / 10);
	buf[15] = (char)('0' + mi % 10);
	buf[16] = ':';
	buf[17] = (char)('0' + s / 10);
	buf[18] = (char)('0' + s % 10);
	if (jst)
		memcpy(buf + 19, "+09:00", 7);
	else
		memcpy(buf + 19, "Z", 2);
}

/* JST calendar day of a unix-ms instant */
static int64_t jst_day_of_ms(int64_t ms)
{
	return floordiv(floordiv(ms, 1000) + 9 * 3600, 86400);
}

/* unix ms of hh:mm JST on a JST day */
static int64_t ms_of_jst(int64_t day, int hh, int mm)
{
	return ((day * 86400) - 9 * 3600 + hh * 3600 + mm * 60) * 1000;
}

static int64_t last_day_of_next_month(int64_t day)
{
	int y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	/* first day of the month after next, minus one */
	unsigned m2 = m + 2;
	int y2 = y;
	if (m2 > 12) {
		m2 -= 12;
		y2++;
	}
	return days_from_civil(y2, m2, 1) - 1;
}

/* ------------------------------------------------------------------ output */

static const char *g_path = "";

static void die(const char *msg)
{
	fprintf(stderr, "gen: %s\n", msg);
	exit(2);
}

static void die_io(const char *what, const char *path)
{
	fprintf(stderr, "gen: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static FILE *open_out(const char *path, char **bufp)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die_io("cannot open", path);
	*bufp = malloc(1 << 22);
	if (!*bufp)
		die("out of memory");
	if (setvbuf(f, *bufp, _IOFBF, 1 << 22) != 0)
		die_io("setvbuf", path);
	g_path = path;
	return f;
}

static void close_out(FILE *f, char *buf, const char *path)
{
	if (ferror(f)) {
		fclose(f);
		die_io("write error on", path);
	}
	if (fclose(f) != 0)
		die_io("cannot close", path);
	free(buf);
}

static void wr(FILE *f, const char *s, size_t n)
{
	if (fwrite(s, 1, n, f) != n)
		die_io("write error on", g_path);
}

/* small line builder */
typedef struct {
	char b[2048];
	size_t n;
} Buf;

static void ap(Buf *o, const char *s)
{
	size_t l = strlen(s);
	if (o->n + l >= sizeof o->b)
		die("internal: line too long");
	memcpy(o->b + o->n, s, l);
	o->n += l;
	o->b[o->n] = 0;
}

static void ap_i(Buf *o, int64_t v)
{
	char t[24];
	int k = 0;
	uint64_t u;
	if (v < 0) {
		ap(o, "-");
		u = (uint64_t)(-(v + 1)) + 1;
	} else {
		u = (uint64_t)v;
	}
	do {
		t[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	char r[24];
	for (int i = 0; i < k; i++)
		r[i] = t[k - 1 - i];
	r[k] = 0;
	ap(o, r);
}

/* zero-padded id: prefix + number padded to width */
static void ap_id(Buf *o, const char *prefix, int64_t v, int width)
{
	char t[48];
	snprintf(t, sizeof t, "%s%0*lld", prefix, width, (long long)v);
	ap(o, t);
}

static void kv_s(Buf *o, const char *k, const char *v)
{
	ap(o, ",\"");
	ap(o, k);
	ap(o, "\":\"");
	ap(o, v);
	ap(o, "\"");
}

static void kv_id(Buf *o, const char *k, const char *prefix, int64_t v, int width)
{
	ap(o, ",\"");
	ap(o, k);
	ap(o, "\":\"");
	ap_id(o, prefix, v, width);
	ap(o, "\"");
}

static void kv_i(Buf *o, const char *k, int64_t v)
{
	ap(o, ",\"");
	ap(o, k);
	ap(o, "\":");
	ap_i(o, v);
}

static void kv_b(Buf *o, const char *k, int v)
{
	ap(o, ",\"");
	ap(o, k);
	ap(o, v ? "\":true" : "\":false");
}

/* ------------------------------------------------------------------ model data */

static const char *const PURPOSES[] = {"security_monitoring", "incident_response", "threat_intel",
				       "billing", "support"};
#define NPURP 5

static int g_tenants = 50;

static void tenant_name(char *buf, size_t n, int64_t t)
{
	snprintf(buf, n, "t%02lld", (long long)t);
}

/* contract: C-<6+ digits>, number = index + 1 */
#define C_WIDTH 6
#define DS_WIDTH 4
#define F_WIDTH 4

static int32_t *c_amount;  /* per contract */
static uint8_t *c_dated;   /* 1: dates in the YAML (no lifecycle from the feed) */
static int64_t *c_due_day; /* for dated contracts without paid_on: payment_due (JST day), else -1 */
static uint8_t *ds_mask;   /* purposes bitmask per dataset */

static int64_t n_contracts = 100000, n_datasets = 5000, n_facilities = 1000, n_events = 1000000;

static void purposes_list(Buf *o, unsigned mask, int yaml)
{
	int first = 1;
	ap(o, "[");
	for (int i = 0; i < NPURP; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (!first)
			ap(o, yaml ? ", " : ",");
		first = 0;
		if (!yaml)
			ap(o, "\"");
		ap(o, PURPOSES[i]);
		if (!yaml)
			ap(o, "\"");
	}
	ap(o, "]");
}

static unsigned random_purpose_mask(void)
{
	int k = (int)rr(1, 3);
	unsigned m = 0;
	while (__builtin_popcount(m) < k)
		m |= 1u << rr(0, NPURP - 1);
	return m;
}

/* ------------------------------------------------------------------ YAML writers */

static const char *const KINDS[] = {"service", "information_product", "repair", "manufacturing"};

/* deadlines scenario: receipt time of contract i (unix ms), spread over 2026-04 JST */
static int64_t deadline_recv_ms(int64_t i)
{
	const int64_t start = (days_from_civil(2026, 3, 31) * 86400 + 15 * 3600) * 1000LL;
	const int64_t span = 30LL * 86400 * 1000 - 1000;
	return start + (int64_t)((double)span * (double)i / (double)n_contracts);
}

/*
 * Contracts per YAML file. The registry loads each file as one libyaml document, and
 * libyaml refuses (memory error, reported at 1:1) a document whose node stack exceeds
 * INT_MAX/2 bytes - about 1M contracts. Above CONTRACTS_PER_FILE the contracts are split
 * into contracts-0001.yaml, contracts-0002.yaml, ...; below it is contracts.yaml.
 */
#define CONTRACTS_PER_FILE 100000

static void write_contracts(const char *meta, int deadlines)
{
	char *vb = NULL;
	FILE *f = NULL;
	size_t plen = strlen(meta) + 64;
	char *path = malloc(plen);
	const int64_t d_jan5 = days_from_civil(2026, 1, 5);
	const int64_t d_apr1 = days_from_civil(2026, 4, 1);
	const char hdr[] = "# generated by tests/bench/gen.c\ncontracts:\n";
	Buf o;
	char tn[16], ds[16];
	if (!path)
		die("out of memory");
	for (int64_t i = 0; i < n_contracts; i++) {
		if (i % CONTRACTS_PER_FILE == 0) {
			if (f)
				close_out(f, vb, path);
			if (n_contracts <= CONTRACTS_PER_FILE)
				snprintf(path, plen, "%s/contracts.yaml", meta);
			else
				snprintf(path, plen, "%s/contracts-%04lld.yaml", meta,
					 (long long)(i / CONTRACTS_PER_FILE + 1));
			f = open_out(path, &vb);
			wr(f, hdr, sizeof hdr - 1);
		}
		o.n = 0;
		o.b[0] = 0;
		tenant_name(tn, sizeof tn, i % g_tenants);
		ap(&o, "  - { id: \"");
		ap_id(&o, "C-", i + 1, C_WIDTH);
		ap(&o, "\", tenant: \"");
		ap(&o, tn);
		ap(&o, "\", kind: ");
		int32_t amount;
		c_due_day[i] = -1;
		if (deadlines) {
			amount = (int32_t)(rr(10, 500) * 10000);
			ap(&o, "service, principal: { name: \"P社\", capital_jpy: 300000000, employees: 800 }, "
			       "entrustee: { name: \"E社\", capital_jpy: 5000000, employees: 12 }, amount_jpy: ");
			ap_i(&o, amount);
			/* without payment_due the due day would be the receipt day itself */
			ap(&o, ", payment_due: ");
			fmt_date(ds, jst_day_of_ms(deadline_recv_ms(i)) + 40 + i % 20);
			ap(&o, ds);
			ap(&o, " }\n");
			c_amount[i] = amount;
			c_dated[i] = 0;
			wr(f, o.b, o.n);
			continue;
		}
		int kr = (int)rr(0, 99);
		ap(&o, KINDS[kr < 70 ? 0 : kr < 85 ? 1 : kr < 93 ? 2 : 3]);
		ap(&o, ", principal: { name: \"P社\", capital_jpy: 300000000, employees: 800 }, "
		       "entrustee: { name: \"E社\", capital_jpy: ");
		/* 3,000,000 .. 100,000,000 in steps of 1,000,000; employees 5..400 */
		ap_i(&o, rr(3, 100) * 1000000);
		ap(&o, ", employees: ");
		ap_i(&o, rr(5, 400));
		ap(&o, " }, amount_jpy: ");
		amount = (int32_t)(rr(10, 500) * 10000);
		ap_i(&o, amount);
		c_amount[i] = amount;
		c_dated[i] = chance(3000);
		if (c_dated[i]) {
			int64_t ord = d_jan5 + rr(0, 74);
			int64_t rec = ord + rr(5, 40);
			int monthly = chance(500);
			int64_t due;
			if (monthly)
				due = last_day_of_next_month(rec);
			else if (chance(8800))
				due = rec + rr(20, 59);
			else
				due = rec + rr(60, 90); /* beyond 60 days: SUBCON-PAYMENT-TERM-60D */
			ap(&o, ", ordered_on: ");
			fmt_date(ds, ord);
			ap(&o, ds);
			if (chance(9500)) {
				ap(&o, ", terms_issued_on: ");
				fmt_date(ds, chance(9000) ? ord : ord + rr(1, 3));
				ap(&o, ds);
			}
			ap(&o, ", received_on: ");
			fmt_date(ds, rec);
			ap(&o, ds);
			ap(&o, ", payment_due: ");
			fmt_date(ds, due);
			ap(&o, ds);
			if (monthly)
				ap(&o, ", closing: monthly");
			ap(&o, ", payment_method: bank_transfer");
			int paid = due < d_apr1 ? chance(7000) : chance(1500);
			if (paid) {
				ap(&o, ", paid_on: ");
				fmt_date(ds, chance(9000) ? due - rr(0, 10) : due + rr(1, 20));
				ap(&o, ds);
			} else {
				c_due_day[i] = due;
			}
		}
		ap(&o, " }\n");
		wr(f, o.b, o.n);
	}
	if (f)
		close_out(f, vb, path);
	free(path);
}

static void write_datasets(const char *path)
{
	char *vb;
	FILE *f = open_out(path, &vb);
	const char hdr[] = "# generated by tests/bench/gen.c\ndatasets:\n";
	wr(f, hdr, sizeof hdr - 1);
	static const char *const NAMES[] = {"顧客ネットワークログ", "顧客担当者連絡先", "SOC利用者アカウント",
					    "インシデント対応記録", "請求先情報"};
	Buf o;
	char tn[16];
	for (int64_t i = 0; i < n_datasets; i++) {
		o.n = 0;
		o.b[0] = 0;
		tenant_name(tn, sizeof tn, i % g_tenants);
		unsigned m = chance(100) ? 0 : random_purpose_mask();
		ds_mask[i] = (uint8_t)m;
		ap(&o, "  - { id: \"");
		ap_id(&o, "DS-", i + 1, DS_WIDTH);
		ap(&o, "\", tenant: \"");
		ap(&o, tn);
		ap(&o, "\", name: \"");
		ap(&o, NAMES[rr(0, 4)]);
		ap(&o, "-");
		ap_i(&o, i + 1);
		ap(&o, "\", purposes: ");
		purposes_list(&o, m, 1);
		ap(&o, ", purposes_published_on: 2025-10-01 }\n");
		wr(f, o.b, o.n);
	}
	close_out(f, vb, path);
}

static void write_facilities(const char *path)
{
	char *vb;
	FILE *f = open_out(path, &vb);
	const char hdr[] = "# generated by tests/bench/gen.c\nfacilities:\n";
	wr(f, hdr, sizeof hdr - 1);
	static const char *const NAMES[] = {"東京SOCセンター", "大阪SOCセンター", "福岡分室", "札幌バックアップサイト",
					    "名古屋監視拠点"};
	const int64_t d2025 = days_from_civil(2025, 1, 1);
	const int64_t d_apr1 = days_from_civil(2026, 4, 1);
	Buf o;
	char tn[16], ds[16];
	for (int64_t i = 0; i < n_facilities; i++) {
		o.n = 0;
		o.b[0] = 0;
		tenant_name(tn, sizeof tn, i % g_tenants);
		ap(&o, "  - { id: \"");
		ap_id(&o, "F-", i + 1, F_WIDTH);
		ap(&o, "\", tenant: \"");
		ap(&o, tn);
		ap(&o, "\", name: \"");
		ap(&o, NAMES[rr(0, 4)]);
		ap(&o, "-");
		ap_i(&o, i + 1);
		ap(&o, "\", use: office, specific: ");
		ap(&o, chance(1000) ? "true" : "false");
		ap(&o, ", capacity: ");
		ap_i(&o, rr(20, 300));
		if (!chance(500)) {
			int64_t appointed = d2025 + rr(60, 120);
			ap(&o, ", fire_prevention_manager: { name: \"佐藤\", appointed_on: ");
			fmt_date(ds, appointed);
			ap(&o, ds);
			if (!chance(300)) {
				ap(&o, ", notified_on: ");
				fmt_date(ds, appointed + rr(1, 7));
				ap(&o, ds);
			}
			ap(&o, " }");
		}
		/* equipment check within the last ~8 months, comprehensive within ~14, report 2025/26 */
		ap(&o, ", last_equipment_check: ");
		fmt_date(ds, d_apr1 - rr(10, 240));
		ap(&o, ds);
		ap(&o, ", last_comprehensive_check: ");
		fmt_date(ds, d_apr1 - rr(30, 420));
		ap(&o, ds);
		ap(&o, ", last_inspection_report: ");
		fmt_date(ds, d2025 + rr(0, 450));
		ap(&o, ds);
		ap(&o, " }\n");
		wr(f, o.b, o.n);
	}
	close_out(f, vb, path);
}

/* ------------------------------------------------------------------ pending-event heaps */

enum {
	K_TERMS = 1,
	K_RECEIVED,
	K_PAID,
	K_PREL,
	K_FINAL,
	K_INDIV,
	K_PNOTIFY,
	K_ORDER_DONE,
};
#define F_UNKNOWN 1   /* contract not in the registry */
#define F_ELECTRONIC 2
#define F_DUE 4       /* this is the payment that completes the amount */

typedef struct {
	int64_t t; /* unix ms, scheduled */
	int64_t idx;
	int32_t arg;
	uint16_t tenant;
	uint8_t kind;
	uint8_t flags;
	uint64_t seq; /* tie-break: FIFO for equal times */
} Pend;

typedef struct {
	Pend *a;
	size_t n, cap;
} Heap;

static uint64_t g_seq;

static int pless(const Pend *x, const Pend *y)
{
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void hpush(Heap *h, Pend p)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->a = realloc(h->a, h->cap * sizeof *h->a);
		if (!h->a)
			die("out of memory");
	}
	p.seq = g_seq++;
	size_t i = h->n++;
	while (i > 0) {
		size_t par = (i - 1) / 2;
		if (!pless(&p, &h->a[par]))
			break;
		h->a[i] = h->a[par];
		i = par;
	}
	h->a[i] = p;
}

/* pop the top if it is due at or before now */
static int hpop_due(Heap *h, int64_t now, Pend *out)
{
	if (h->n == 0 || h->a[0].t > now)
		return 0;
	*out = h->a[0];
	Pend last = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const Pend *best = &last;
		if (l < h->n && pless(&h->a[l], best)) {
			m = l;
			best = &h->a[l];
		}
		if (r < h->n && pless(&h->a[r], best))
			m = r;
		if (m == i)
			break;
		h->a[i] = h->a[m];
		i = m;
	}
	if (h->n > 0)
		h->a[i] = last;
	return 1;
}

/* ------------------------------------------------------------------ event writer */

#define RING 4096
typedef struct {
	uint64_t id;
	char rest[1024];
} Saved;

static Saved *ring;
static uint64_t ring_n;
static uint64_t next_id = 1;
static FILE *ev_f;
static int64_t now_ms;
static uint64_t lines_written, bytes_written;

enum {
	T_USED,
	T_ACQ,
	T_PCHG,
	T_PNOT,
	T_BDET,
	T_BREP,
	T_BIND,
	T_SORD,
	T_STERMS,
	T_SREC,
	T_SPAID,
	T_FORD,
	T_FDONE,
	T_FEQ,
	T_FINSP,
	T_TICKET,
	T_DUP,
	T_N
};
static const char *const TYPE_NAMES[T_N] = {
    "personal_data.used",          "personal_data.acquired",
    "personal_data.purpose_changed", "personal_data.purpose_notified",
    "personal_data.breach_detected", "personal_data.breach_reported",
    "personal_data.breach_individuals_notified",
    "subcontract.ordered",         "subcontract.terms_issued",
    "subcontract.received",        "subcontract.paid",
    "fire.order_issued",           "fire.order_completed",
    "fire.equipment_checked",      "fire.inspection_reported",
    "soc.ticket_opened",           "(duplicate id)"};
static uint64_t type_count[T_N];

static void write_prefix(Buf *o, uint64_t id)
{
	char ts[32];
	int64_t sec = floordiv(now_ms, 1000);
	o->n = 0;
	o->b[0] = 0;
	ap(o, "{\"id\":\"e-");
	ap_i(o, (int64_t)id);
	ap(o, "\",\"time\":\"");
	fmt_time(ts, sec, chance(7000));
	ap(o, ts);
	ap(o, "\",\"recorded_at\":\"");
	fmt_time(ts, sec + rr(0, 4), chance(5000));
	ap(o, ts);
	ap(o, "\",");
}

static void put_line(Buf *o)
{
	ap(o, "\n");
	wr(ev_f, o->b, o->n);
	lines_written++;
	bytes_written += o->n;
}

/* attrs: a sequence of ,"k":v pieces */
static void emit(int ty, int64_t tenant, const char *source, const Buf *attrs)
{
	Buf rest, line;
	char tn[16];
	rest.n = 0;
	rest.b[0] = 0;
	tenant_name(tn, sizeof tn, tenant);
	ap(&rest, "\"tenant\":\"");
	ap(&rest, tn);
	ap(&rest, "\",\"type\":\"");
	ap(&rest, TYPE_NAMES[ty]);
	ap(&rest, "\",\"source\":\"");
	ap(&rest, source);
	ap(&rest, "\"");
	ap(&rest, attrs->b);
	ap(&rest, "}");
	uint64_t id = next_id++;
	write_prefix(&line, id);
	ap(&line, rest.b);
	put_line(&line);
	type_count[ty]++;
	if (ring && rest.n < sizeof ring[0].rest) {
		Saved *s = &ring[ring_n % RING];
		s->id = id;
		memcpy(s->rest, rest.b, rest.n + 1);
		ring_n++;
	}
}

static void emit_duplicate(void)
{
	uint64_t have = ring_n < RING ? ring_n : RING;
	const Saved *s = &ring[(ring_n - 1 - (uint64_t)rr(0, (int64_t)have - 1)) % RING];
	Buf line;
	write_prefix(&line, s->id);
	ap(&line, s->rest);
	put_line(&line);
	type_count[T_DUP]++;
}

static void attrs_reset(Buf *a)
{
	a->n = 0;
	a->b[0] = 0;
}

static void kv_contract(Buf *a, const Pend *p)
{
	if (p->flags & F_UNKNOWN)
		kv_id(a, "contract", "C-U", p->idx, 6);
	else
		kv_id(a, "contract", "C-", p->idx + 1, C_WIDTH);
}

/* ------------------------------------------------------------------ mixed scenario */

static Heap h_sub, h_purp, h_breach, h_fire;
static int64_t next_contract;    /* cursor over the registry */
static int64_t undated_total, undated_started;
static int64_t unknown_seq, incident_seq, order_seq, ticket_seq;

static const char *random_method(void)
{
	int r = (int)rr(0, 9999);
	if (r < 9300)
		return "bank_transfer";
	if (r < 9700)
		return "electronic_receivable";
	if (r < 9900)
		return "cash";
	return "promissory_note";
}

static void emit_sub(const Pend *p)
{
	Buf a;
	attrs_reset(&a);
	kv_contract(&a, p);
	switch (p->kind) {
	case K_TERMS:
		kv_s(&a, "medium", (p->flags & F_ELECTRONIC) ? "electronic" : "paper");
		emit(T_STERMS, p->tenant, "erp-keiri", &a);
		break;
	case K_RECEIVED:
		kv_s(&a, "inspected_by", "検収担当");
		emit(T_SREC, p->tenant, "erp-keiri", &a);
		break;
	default: {
		kv_i(&a, "amount_jpy", p->arg);
		kv_s(&a, "method", random_method());
		emit(T_SPAID, p->tenant, "erp-keiri", &a);
		break;
	}
	}
}

/* start a new contract lifecycle (subcontract.ordered now, follow-ups scheduled) */
static int start_contract(int64_t ev_index)
{
	Pend p;
	memset(&p, 0, sizeof p);
	int32_t amount;
	if (chance(100)) {
		p.flags = F_UNKNOWN;
		p.idx = ++unknown_seq;
		p.tenant = (uint16_t)rr(0, g_tenants - 1);
		amount = (int32_t)(rr(10, 500) * 10000);
	} else {
		/* spread the registry over the whole feed */
		if ((double)undated_started / (double)(undated_total ? undated_total : 1) >
		    (double)ev_index / (double)n_events + 0.02)
			return 0;
		while (next_contract < n_contracts && c_dated[next_contract])
			next_contract++;
		if (next_contract >= n_contracts)
			return 0;
		p.idx = next_contract++;
		undated_started++;
		p.tenant = (uint16_t)(p.idx % g_tenants);
		amount = c_amount[p.idx];
	}
	Buf a;
	attrs_reset(&a);
	kv_contract(&a, &p);
	kv_s(&a, "department", "情報システム部");
	emit(T_SORD, p.tenant, "erp-keiri", &a);

	const int64_t H = 3600 * 1000LL, D = 24 * H;
	int64_t t0 = now_ms;
	/* terms: same day mostly, sometimes 1-3 days late, rarely never */
	int r = (int)rr(0, 9999);
	if (r < 9700) {
		Pend q = p;
		q.kind = K_TERMS;
		if (chance(6000))
			q.flags |= F_ELECTRONIC;
		int64_t tt = r < 9000 ? t0 + rr(60 * 1000, 2 * H) : t0 + rr(1, 3) * D + rr(0, 8 * H);
		if (r < 9000 && jst_day_of_ms(tt) != jst_day_of_ms(t0))
			tt = t0 + 1000;
		q.t = tt;
		hpush(&h_sub, q);
	}
	/* received 4..40 days later, during JST business hours */
	int64_t rday = jst_day_of_ms(t0) + rr(4, 40);
	int64_t trec = ms_of_jst(rday, (int)rr(9, 17), (int)rr(0, 59));
	{
		Pend q = p;
		q.kind = K_RECEIVED;
		q.t = trec;
		hpush(&h_sub, q);
	}
	/* payments */
	r = (int)rr(0, 9999);
	if (r < 300)
		return 1; /* never paid */
	int64_t pday;
	if (r < 8800)
		pday = rday + rr(10, 58);
	else if (r < 9500)
		pday = rday + rr(61, 90); /* late */
	else
		pday = rday + rr(0, 9);
	int parts = chance(1200) ? (int)rr(2, 3) : 1;
	int32_t left = amount;
	for (int k = 0; k < parts; k++) {
		Pend q = p;
		q.kind = K_PAID;
		int32_t amt = k == parts - 1 ? left : (int32_t)((left / (parts - k)) / 1000 * 1000);
		left -= amt;
		q.arg = amt;
		q.t = ms_of_jst(pday, (int)rr(9, 16), (int)rr(0, 59));
		if (q.t <= trec)
			q.t = trec + rr(600 * 1000, 3600 * 1000); /* same-day payment: after the receipt */
		hpush(&h_sub, q);
		pday += rr(3, 15);
	}
	return 1;
}

static void emit_used(void)
{
	int64_t d = rr(0, n_datasets - 1);
	unsigned m = ds_mask[d];
	int r = (int)rr(0, 9999);
	int in = r < 9000 && m != 0;
	int consent = r >= 9800;
	int pi;
	if (in) {
		int k = (int)rr(1, __builtin_popcount(m));
		for (pi = 0; pi < NPURP; pi++)
			if ((m & (1u << pi)) && --k == 0)
				break;
	} else if (m == 0x1f) {
		pi = (int)rr(0, NPURP - 1);
	} else {
		do
			pi = (int)rr(0, NPURP - 1);
		while (m & (1u << pi));
	}
	Buf a;
	attrs_reset(&a);
	kv_id(&a, "dataset", "DS-", d + 1, DS_WIDTH);
	kv_s(&a, "purpose", PURPOSES[pi]);
	kv_id(&a, "operator", "op-", rr(1, 400), 4);
	if (consent)
		kv_b(&a, "consent", 1);
	kv_id(&a, "query", "q-", rr(0, 99999999), 8);
	emit(T_USED, d % g_tenants, "dlp-gw-01", &a);
}

static void emit_acquired(void)
{
	int64_t d = rr(0, n_datasets - 1);
	unsigned m = ds_mask[d];
	int pi;
	if (m && chance(9500)) {
		int k = (int)rr(1, __builtin_popcount(m));
		for (pi = 0; pi < NPURP; pi++)
			if ((m & (1u << pi)) && --k == 0)
				break;
	} else {
		pi = (int)rr(0, NPURP - 1);
	}
	Buf a;
	attrs_reset(&a);
	kv_id(&a, "dataset", "DS-", d + 1, DS_WIDTH);
	kv_s(&a, "purpose", PURPOSES[pi]);
	kv_b(&a, "notified", chance(9500));
	kv_s(&a, "channel", chance(5000) ? "web_form" : "setup_sheet");
	kv_i(&a, "records", rr(1, 5000));
	emit(T_ACQ, d % g_tenants, "crm-app", &a);
}

static void purpose_slot(void)
{
	Pend p;
	Buf a;
	attrs_reset(&a);
	if (hpop_due(&h_purp, now_ms, &p)) {
		kv_id(&a, "dataset", "DS-", p.idx + 1, DS_WIDTH);
		ap(&a, ",\"purposes\":");
		purposes_list(&a, ds_mask[p.idx], 0);
		kv_s(&a, "medium", "website");
		emit(T_PNOT, p.tenant, "privacy-portal", &a);
		return;
	}
	int64_t d = rr(0, n_datasets - 1);
	unsigned m = ds_mask[d];
	if (m == 0x1f)
		m = random_purpose_mask();
	else {
		int pi;
		do
			pi = (int)rr(0, NPURP - 1);
		while (m & (1u << pi));
		m |= 1u << pi;
	}
	ds_mask[d] = (uint8_t)m;
	kv_id(&a, "dataset", "DS-", d + 1, DS_WIDTH);
	ap(&a, ",\"purposes\":");
	purposes_list(&a, m, 0);
	int r = (int)rr(0, 99);
	if (r < 60)
		kv_b(&a, "reasonably_related", 1);
	else if (r < 80)
		kv_b(&a, "reasonably_related", 0);
	emit(T_PCHG, d % g_tenants, "privacy-portal", &a);
	if (chance(9000)) {
		memset(&p, 0, sizeof p);
		p.kind = K_PNOTIFY;
		p.idx = d;
		p.tenant = (uint16_t)(d % g_tenants);
		p.t = now_ms + rr(3600 * 1000LL, 3 * 86400 * 1000LL);
		hpush(&h_purp, p);
	}
}

static void breach_slot(void)
{
	Pend p;
	Buf a;
	attrs_reset(&a);
	if (hpop_due(&h_breach, now_ms, &p)) {
		kv_id(&a, "incident", "INC-", p.idx, 6);
		if (p.kind == K_INDIV) {
			kv_s(&a, "channel", "email");
			emit(T_BIND, p.tenant, "irt-console", &a);
		} else {
			kv_s(&a, "stage", p.kind == K_PREL ? "preliminary" : "final");
			kv_s(&a, "to", "PPC");
			emit(T_BREP, p.tenant, "irt-console", &a);
		}
		return;
	}
	int64_t d = rr(0, n_datasets - 1);
	int64_t inc = ++incident_seq;
	int malicious = chance(1500);
	kv_id(&a, "incident", "INC-", inc, 6);
	kv_id(&a, "dataset", "DS-", d + 1, DS_WIDTH);
	kv_i(&a, "persons", chance(2000) ? rr(1001, 50000) : rr(1, 1000));
	kv_b(&a, "sensitive", chance(1000));
	kv_b(&a, "financial_risk", chance(1000));
	kv_b(&a, "malicious", malicious);
	emit(T_BDET, d % g_tenants, "irt-console", &a);

	const int64_t D = 86400 * 1000LL;
	memset(&p, 0, sizeof p);
	p.idx = inc;
	p.tenant = (uint16_t)(d % g_tenants);
	int r = (int)rr(0, 99);
	if (r < 85) {
		p.kind = K_PREL;
		p.t = now_ms + rr(D / 2, 4 * D);
		hpush(&h_breach, p);
	} else if (r < 90) {
		p.kind = K_PREL;
		p.t = now_ms + rr(6 * D, 8 * D);
		hpush(&h_breach, p);
	}
	r = (int)rr(0, 99);
	if (r < 85) {
		p.kind = K_FINAL;
		p.t = now_ms + rr(10 * D, (malicious ? 50 : 27) * D);
		hpush(&h_breach, p);
	} else if (r < 92) {
		p.kind = K_FINAL;
		p.t = now_ms + rr(31 * D, 70 * D);
		hpush(&h_breach, p);
	}
	if (chance(8500)) {
		p.kind = K_INDIV;
		p.t = now_ms + rr(2 * D, 10 * D);
		hpush(&h_breach, p);
	}
}

static void fire_slot(void)
{
	Pend p;
	Buf a;
	attrs_reset(&a);
	if (hpop_due(&h_fire, now_ms, &p)) {
		kv_id(&a, "facility", "F-", p.arg + 1, F_WIDTH);
		kv_id(&a, "order", "FO-", p.idx, 6);
		emit(T_FDONE, p.tenant, "facility-mgmt", &a);
		return;
	}
	int64_t f = rr(0, n_facilities - 1);
	int64_t tenant = f % g_tenants;
	kv_id(&a, "facility", "F-", f + 1, F_WIDTH);
	int r = (int)rr(0, 99);
	if (r < 25) {
		const int64_t D = 86400 * 1000LL;
		int64_t ord = ++order_seq;
		int64_t today = jst_day_of_ms(now_ms);
		int64_t due = today + rr(30, 90);
		char ds[16];
		fmt_date(ds, due);
		kv_id(&a, "order", "FO-", ord, 6);
		kv_s(&a, "deadline", ds);
		kv_s(&a, "article", "5");
		kv_s(&a, "issued_by", "消防署長");
		emit(T_FORD, tenant, "facility-mgmt", &a);
		int c = (int)rr(0, 99);
		if (c < 90) {
			memset(&p, 0, sizeof p);
			p.kind = K_ORDER_DONE;
			p.idx = ord;
			p.arg = (int32_t)f;
			p.tenant = (uint16_t)tenant;
			if (c < 85)
				p.t = now_ms + rr(D, (due - today - 1) * D);
			else
				p.t = ms_of_jst(due + rr(1, 20), 10, 0);
			hpush(&h_fire, p);
		}
	} else if (r < 75) {
		kv_s(&a, "check", chance(7000) ? "equipment" : "comprehensive");
		kv_s(&a, "contractor", "防災設備保守");
		emit(T_FEQ, tenant, "facility-mgmt", &a);
	} else {
		kv_s(&a, "to", "所轄消防署");
		emit(T_FINSP, tenant, "facility-mgmt", &a);
	}
}

static void ticket(void)
{
	static const char *const TITLES[] = {
	    "不審な外部通信を検知", "EDRによるマルウェア検知", "多数のログイン失敗 (brute force)",
	    "WAF遮断件数の急増", "VPN機器の脆弱性スキャンを検知", "C2サーバへのDNS問い合わせ",
	    "特権アカウントの不審な利用", "メールの添付ファイルからの不審プロセス起動"};
	static const char *const SEV[] = {"low", "medium", "high", "critical"};
	static const char *const CAT[] = {"malware", "intrusion", "recon", "policy", "phishing"};
	Buf a;
	attrs_reset(&a);
	kv_id(&a, "ticket", "TKT-", ++ticket_seq, 7);
	kv_s(&a, "severity", SEV[rr(0, 3)]);
	kv_s(&a, "category", CAT[rr(0, 4)]);
	kv_s(&a, "title", TITLES[rr(0, 7)]);
	kv_id(&a, "asset", "srv-", rr(1, 5000), 4);
	char detail[96];
	snprintf(detail, sizeof detail, "src=10.%d.%d.%d dst=203.0.113.%d dport=%d", (int)rr(0, 255),
		 (int)rr(0, 255), (int)rr(1, 254), (int)rr(1, 254), (int)(chance(5000) ? 443 : rr(1, 65535)));
	kv_s(&a, "detail", detail);
	emit(T_TICKET, rr(0, g_tenants - 1), "soc-portal", &a);
}

static void gen_mixed(void)
{
	const int64_t start = (days_from_civil(2026, 3, 31) * 86400 + 15 * 3600) * 1000LL;
	const int64_t span = 183LL * 86400 * 1000;
	const int64_t avg = n_events ? span / n_events : span;
	const int64_t d_apr1 = days_from_civil(2026, 4, 1);
	now_ms = start;

	for (int64_t i = 0; i < n_contracts; i++)
		if (!c_dated[i])
			undated_total++;
	/* payments still open for contracts with dates in the file */
	for (int64_t i = 0; i < n_contracts; i++) {
		if (!c_dated[i] || c_due_day[i] < 0 || chance(1500))
			continue;
		Pend p;
		memset(&p, 0, sizeof p);
		p.kind = K_PAID;
		p.idx = i;
		p.tenant = (uint16_t)(i % g_tenants);
		p.arg = c_amount[i];
		int64_t day = chance(8500) ? c_due_day[i] - rr(0, 10) : c_due_day[i] + rr(1, 30);
		if (day < d_apr1)
			day = d_apr1 + rr(0, 14);
		p.t = ms_of_jst(day, (int)rr(9, 16), (int)rr(0, 59));
		hpush(&h_sub, p);
	}

	for (int64_t i = 0; i < n_events; i++) {
		if (i > 0)
			now_ms += rr(0, 2 * avg);
		int r = (int)rr(0, 99999);
		if (r < 100 && ring_n > 0) {
			emit_duplicate();
			continue;
		}
		r = (int)rr(0, 99999);
		Pend p;
		if (r < 40000) {
			emit_used();
		} else if (r < 45000) {
			emit_acquired();
		} else if (r < 46000) {
			purpose_slot();
		} else if (r < 46300) {
			breach_slot();
		} else if (r < 86300) {
			if (hpop_due(&h_sub, now_ms, &p))
				emit_sub(&p);
			else if (!start_contract(i))
				ticket();
		} else if (r < 89300) {
			fire_slot();
		} else {
			ticket();
		}
	}
}

/* ------------------------------------------------------------------ deadlines scenario */

static void gen_deadlines(void)
{
	for (int64_t i = 0; i < n_contracts; i++) {
		now_ms = deadline_recv_ms(i);
		Pend p;
		memset(&p, 0, sizeof p);
		p.kind = K_RECEIVED;
		p.idx = i;
		p.tenant = (uint16_t)(i % g_tenants);
		emit_sub(&p);
	}
}

/* ------------------------------------------------------------------ main */

static int64_t parse_num(const char *s, const char *opt, int64_t min, int64_t max)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "gen: bad value for %s: '%s' (expected %lld..%lld)\n", opt, s, (long long)min,
			(long long)max);
		exit(2);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: gen [-e EVENTS] [-t TENANTS] [-c CONTRACTS] [-d DATASETS] [-f FACILITIES] "
			"[-s mixed|deadlines] OUTDIR\n");
	exit(2);
}

static void mkdir_p(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		die_io("cannot create directory", path);
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "gen: %s is not a directory\n", path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *scenario = "mixed";
	const char *outdir = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1] && !a[2] && strchr("etcdfs", a[1])) {
			if (i + 1 >= argc)
				usage();
			const char *v = argv[++i];
			switch (a[1]) {
			case 'e': n_events = parse_num(v, "-e", 0, 1000000000LL); break;
			case 't': g_tenants = (int)parse_num(v, "-t", 1, 65535); break;
			case 'c': n_contracts = parse_num(v, "-c", 1, 100000000LL); break;
			case 'd': n_datasets = parse_num(v, "-d", 1, 100000000LL); break;
			case 'f': n_facilities = parse_num(v, "-f", 1, 100000000LL); break;
			default: scenario = v; break;
			}
		} else if (a[0] == '-' && a[1]) {
			usage();
		} else if (!outdir) {
			outdir = a;
		} else {
			usage();
		}
	}
	if (!outdir)
		usage();
	int deadlines;
	if (strcmp(scenario, "mixed") == 0)
		deadlines = 0;
	else if (strcmp(scenario, "deadlines") == 0)
		deadlines = 1;
	else {
		fprintf(stderr, "gen: unknown scenario '%s' (mixed | deadlines)\n", scenario);
		return 2;
	}
	if (deadlines) {
		/* the datasets/facilities files are still written, but small */
		if (n_datasets > 10)
			n_datasets = 10;
		if (n_facilities > 10)
			n_facilities = 10;
	}

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	size_t plen = strlen(outdir) + 64;
	char *meta = malloc(plen), *path = malloc(plen);
	c_amount = malloc((size_t)n_contracts * sizeof *c_amount);
	c_dated = malloc((size_t)n_contracts);
	c_due_day = malloc((size_t)n_contracts * sizeof *c_due_day);
	ds_mask = malloc((size_t)n_datasets);
	ring = calloc(RING, sizeof *ring);
	if (!meta || !path || !c_amount || !c_dated || !c_due_day || !ds_mask || !ring)
		die("out of memory");

	mkdir_p(outdir);
	snprintf(meta, plen, "%s/meta", outdir);
	mkdir_p(meta);

	write_contracts(meta, deadlines);
	snprintf(path, plen, "%s/datasets.yaml", meta);
	write_datasets(path);
	snprintf(path, plen, "%s/facilities.yaml", meta);
	write_facilities(path);

	snprintf(path, plen, "%s/events.jsonl", outdir);
	char *vb;
	ev_f = open_out(path, &vb);
	if (deadlines)
		gen_deadlines();
	else
		gen_mixed();
	close_out(ev_f, vb, path);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "gen: scenario %s: %llu events (%llu bytes, avg %.1f bytes/line), %lld contracts, "
			"%lld datasets, %lld facilities, %d tenants in %.2f s\n",
		scenario, (unsigned long long)lines_written, (unsigned long long)bytes_written,
		lines_written ? (double)bytes_written / (double)lines_written : 0.0, (long long)n_contracts,
		(long long)n_datasets, (long long)n_facilities, g_tenants, secs);
	for (int i = 0; i < T_N; i++)
		if (type_count[i])
			fprintf(stderr, "gen:   %-42s %9llu (%.2f%%)\n", TYPE_NAMES[i],
				(unsigned long long)type_count[i],
				100.0 * (double)type_count[i] / (double)lines_written);
	free(meta);
	free(path);
	free(c_amount);
	free(c_dated);
	free(c_due_day);
	free(ds_mask);
	free(ring);
	free(h_sub.a);
	free(h_purp.a);
	free(h_breach.a);
	free(h_fire.a);
	return 0;
}
