/*
 * syslog.c - syslog on the wire: RFC 6587 stream framing (octet counting and
 * LF/NUL-terminated frames), parsing RFC 5424 and RFC 3164 messages (including
 * the header-less form a local /dev/log style socket receives), extracting the
 * JSON event a message carries (its body, or an "event" SD element) and
 * formatting alerts as RFC 5424 with an "alert@32473" SD element.
 *
 * Nothing here trusts its input: every scan is bounded by an explicit end
 * pointer, and malformed input yields a reason, never a crash.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/jsonw.h"
#include "complyd/syslog.h"

/* ------------------------------------------------------------------------ */
/* Framing (RFC 6587) */

void
framer_init(struct syslog_framer *f, size_t max_msg)
{
	memset(f, 0, sizeof(*f));
	f->max = max_msg ? max_msg : SYSLOG_MAX_MSG;
}

void
framer_free(struct syslog_framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = f->cap = 0;
	f->skipping = 0;
}

/*
 * f->skipping: 0 = normal; 1 = discarding an oversized LF frame up to the next
 * LF; negative = discarding the -skipping octets left of an oversized
 * octet-counted frame (counts have at most 9 digits, so they fit an int).
 */

static void
framer_append(struct syslog_framer *f, const char *data, size_t n)
{
	if (n == 0)
		return;
	if (f->len + n > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;

		while (cap < f->len + n)
			cap *= 2;
		f->buf = xrealloc(f->buf, cap);
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
}

/* The end of a non-transparent frame: LF, or NUL (glibc's syslog(3) trailer on stream sockets). */
static const char *
find_trailer(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p == '\n' || *p == '\0')
			return p;
	return NULL;
}

int
framer_feed(struct syslog_framer *f, const char *data, size_t n,
    void (*msg)(void *, const char *, size_t),
    void (*bad)(void *, const char *), void *arg)
{
	char		 why[128];
	size_t		 off = 0, scanned;
	int		 delivered = 0;

	/* Bytes of the leftover partial frame already known to hold no trailer. */
	scanned = f->len;

	/* Discard the rest of an oversized octet-counted frame without buffering it. */
	while (f->skipping < 0 && n > 0) {
		size_t left = (size_t)-(long)f->skipping;
		size_t k = n < left ? n : left;

		data += k;
		n -= k;
		f->skipping = left - k == 0 ? 0 : -(int)(left - k);
	}
	framer_append(f, data, n);

	while (off < f->len) {
		const char	*p = f->buf + off, *end = f->buf + f->len;
		const char	*t;
		size_t		 nd = 0, avail = f->len - off;

		if (f->skipping > 0) {
			t = find_trailer(p, end);
			if (t == NULL) {
				off = f->len;
				break;
			}
			off = (size_t)(t - f->buf) + 1;
			f->skipping = 0;
			scanned = 0;
			continue;
		}
		if (f->skipping < 0) {
			size_t left = (size_t)-(long)f->skipping;
			size_t k = avail < left ? avail : left;

			off += k;
			f->skipping = left - k == 0 ? 0 : -(int)(left - k);
			continue;
		}

		/* Octet counting: 1-9 digits (no leading zero), then SP. */
		if (*p >= '1' && *p <= '9') {
			while (nd < avail && nd < 10 && p[nd] >= '0' && p[nd] <= '9')
				nd++;
			if (nd == avail && nd <= 9)
				break;		/* the count may go on in the next feed */
		}
		if (nd >= 1 && nd <= 9 && p[nd] == ' ') {
			size_t	 count = 0, i;

			for (i = 0; i < nd; i++)
				count = count * 10 + (size_t)(p[i] - '0');
			if (count > f->max) {
				snprintf(why, sizeof(why), "octet-counted frame of %zu bytes exceeds the %zu-byte limit",
				    count, f->max);
				bad(arg, why);
				off += nd + 1;
				f->skipping = -(int)count;
				scanned = 0;
				continue;
			}
			if (avail - nd - 1 < count)
				break;		/* incomplete */
			msg(arg, p + nd + 1, count);
			delivered++;
			off += nd + 1 + count;
			scanned = 0;
			continue;
		}

		/* Non-transparent framing: up to LF (or NUL). */
		t = find_trailer(p + (scanned < avail ? scanned : avail), end);
		scanned = 0;
		if (t == NULL) {
			if (avail > f->max + 1) {	/* + 1: a CR may precede the LF */
				snprintf(why, sizeof(why), "frame longer than the %zu-byte limit without a newline",
				    f->max);
				bad(arg, why);
				f->skipping = 1;
				off = f->len;
			}
			break;
		}
		{
			size_t len = (size_t)(t - p);

			off += len + 1;
			if (len > 0 && p[len - 1] == '\r')
				len--;
			if (len > f->max) {
				snprintf(why, sizeof(why), "frame of %zu bytes exceeds the %zu-byte limit",
				    len, f->max);
				bad(arg, why);
				continue;
			}
			if (len == 0)
				continue;
			msg(arg, p, len);
			delivered++;
		}
	}
	if (off > 0) {
		memmove(f->buf, f->buf + off, f->len - off);
		f->len -= off;
	}
	return delivered;
}

/* ------------------------------------------------------------------------ */
/* Parsing */

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
is_print(unsigned char c)
{
	return c >= 33 && c <= 126;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
digits(const char *p, const char *end, int n, int *val)
{
	int v = 0, i;

	if (end - p < n)
		return 0;
	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	*val = v;
	return 1;
}

/* Is p[i] (within end) the character c? */
static int
at(const char *p, const char *end, size_t i, char c)
{
	return (size_t)(end - p) > i && p[i] == c;
}

/* NN within [lo, hi] followed by sep (0: no separator): advances *pp past both. */
static int
field2(const char **pp, const char *end, int lo, int hi, char sep)
{
	int v;

	if (!digits(*pp, end, 2, &v) || v < lo || v > hi)
		return 0;
	if (sep != 0 && !at(*pp, end, 2, sep))
		return 0;
	*pp += sep != 0 ? 3 : 2;
	return 1;
}

/* RFC 5424 TIMESTAMP (RFC 3339, no leap-second check): length used, or 0. */
static size_t
rfc3339_len(const char *s, const char *end)
{
	const char	*p = s;
	int		 v;

	if (!digits(p, end, 4, &v) || !at(p, end, 4, '-'))
		return 0;
	p += 5;
	if (!field2(&p, end, 1, 12, '-') || !field2(&p, end, 1, 31, 0))
		return 0;
	if (!at(p, end, 0, 'T') && !at(p, end, 0, 't'))
		return 0;
	p++;
	if (!field2(&p, end, 0, 23, ':') || !field2(&p, end, 0, 59, ':') ||
	    !field2(&p, end, 0, 60, 0))
		return 0;
	if (at(p, end, 0, '.')) {
		int nf = 0;

		for (p++; p < end && is_digit(*p); p++)
			nf++;
		if (nf < 1 || nf > 9)
			return 0;
	}
	if (at(p, end, 0, 'Z') || at(p, end, 0, 'z'))
		return (size_t)(p + 1 - s);
	if (at(p, end, 0, '+') || at(p, end, 0, '-')) {
		p++;
		if (!field2(&p, end, 0, 23, ':') || !field2(&p, end, 0, 59, 0))
			return 0;
		return (size_t)(p - s);
	}
	return 0;
}

/* RFC 3164 TIMESTAMP "Mmm dd hh:mm:ss" (dd may be " d"), optional ".frac": length, or 0. */
static size_t
bsd_ts_len(const char *s, const char *end)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char	*p = s;
	int		 i, v, ok = 0;

	if (end - s < 15)
		return 0;
	for (i = 0; i < 12; i++)
		if (memcmp(s, months + 3 * i, 3) == 0)
			ok = 1;
	if (!ok || s[3] != ' ')
		return 0;
	p = s + 4;
	if (*p == ' ' && is_digit(p[1]))
		v = p[1] - '0';
	else if (!digits(p, end, 2, &v))
		return 0;
	if (v < 1 || v > 31 || p[2] != ' ')
		return 0;
	p += 3;
	if (!digits(p, end, 2, &v) || v > 23 || p[2] != ':' ||
	    !digits(p + 3, end, 2, &v) || v > 59 || p[5] != ':' ||
	    !digits(p + 6, end, 2, &v) || v > 60)
		return 0;
	p += 8;
	if (p < end && *p == '.' && p + 1 < end && is_digit(p[1]))
		for (p++; p < end && is_digit(*p); p++)
			;
	return (size_t)(p - s);
}

/* Copies [p, p+n) into a fixed field; "-" (nil) becomes "". */
static void
set_field(char *dst, size_t dstlen, const char *p, size_t n)
{
	if (n == 1 && *p == '-')
		n = 0;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static int
sd_name_char(unsigned char c)
{
	return is_print(c) && c != '=' && c != ']' && c != '"';
}

typedef void (*sd_param_fn)(void *, const char *, size_t, const char *, size_t);

/*
 * Scans one SD-ELEMENT at p ('['): SD-ID *(SP PARAM-NAME="VALUE") "]". Calls
 * fn(arg, name, nlen, rawvalue, vlen) for each param (raw = still escaped)
 * when fn is non-NULL. Returns the position after ']', or NULL with err.
 */
static const char *
sd_element(const char *p, const char *end, const char **id, size_t *idlen,
    sd_param_fn fn, void *arg, char *err, size_t errlen)
{
	const char *q;

	if (p >= end || *p != '[') {
		fail(err, errlen, "expected '[' to open an SD element");
		return NULL;
	}
	for (q = ++p; q < end && sd_name_char((unsigned char)*q); q++)
		;
	if (q == p) {
		fail(err, errlen, "empty or invalid SD-ID");
		return NULL;
	}
	*id = p;
	*idlen = (size_t)(q - p);
	p = q;
	for (;;) {
		const char *name, *val;

		if (p >= end) {
			fail(err, errlen, "unterminated SD element");
			return NULL;
		}
		if (*p == ']')
			return p + 1;
		if (*p != ' ') {
			fail(err, errlen, "unexpected character '%c' in SD element", *p);
			return NULL;
		}
		name = ++p;
		while (p < end && sd_name_char((unsigned char)*p))
			p++;
		if (p == name) {
			fail(err, errlen, "empty or invalid SD PARAM-NAME");
			return NULL;
		}
		if (end - p < 2 || p[0] != '=' || p[1] != '"') {
			fail(err, errlen, "SD-PARAM %.*s lacks =\"value\"", (int)(p - name), name);
			return NULL;
		}
		q = p;
		val = p += 2;
		while (p < end && *p != '"') {
			if (*p == '\\' && p + 1 < end)
				p++;
			p++;
		}
		if (p >= end) {
			fail(err, errlen, "unterminated SD-PARAM value of %.*s",
			    (int)(q - name), name);
			return NULL;
		}
		if (fn != NULL)
			fn(arg, name, (size_t)(q - name), val, (size_t)(p - val));
		p++;			/* closing quote */
	}
}

int
syslog_parse(const char *s, size_t n, struct syslog_msg *m, char *err,
    size_t errlen)
{
	const char	*p, *end, *q;
	size_t		 k;

	memset(m, 0, sizeof(*m));
	m->pri = -1;
	m->sd = "-";
	m->sdlen = 1;
	if (s == NULL)
		return fail(err, errlen, "empty message");
	/* Datagram senders may append a newline or NUL; they are not content. */
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\0'))
		n--;
	if (n == 0)
		return fail(err, errlen, "empty message");
	p = s;
	end = s + n;
	m->msg = end;

	if (*p == '<') {
		int pri = 0, nd = 0;

		for (p++; p < end && is_digit(*p) && nd < 4; p++, nd++)
			pri = pri * 10 + (*p - '0');
		if (p >= end)
			return fail(err, errlen, "truncated PRI");
		if (nd == 0 || *p != '>')
			return fail(err, errlen, "malformed PRI: expected <0..191>");
		if (pri > 191)
			return fail(err, errlen, "PRI %d out of range 0..191", pri);
		m->pri = pri;
		p++;
	}

	if (m->pri >= 0 && end - p >= 2 && p[0] == '1' && p[1] == ' ') {
		/* RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD */
		static const struct {
			const char	*name;
			size_t		 max;
		} fld[] = {
			{ "TIMESTAMP", 64 }, { "HOSTNAME", 255 }, { "APP-NAME", 48 },
			{ "PROCID", 128 }, { "MSGID", 32 },
		};
		const char	*tok[5];
		size_t		 toklen[5];
		size_t		 i;

		m->rfc5424 = 1;
		p += 2;
		for (i = 0; i < 5; i++) {
			if (p >= end)
				return fail(err, errlen, "truncated header: missing %s", fld[i].name);
			for (q = p; q < end && *q != ' '; q++)
				if (!is_print((unsigned char)*q))
					return fail(err, errlen, "invalid character in %s", fld[i].name);
			if (q == p)
				return fail(err, errlen, "empty %s", fld[i].name);
			if ((size_t)(q - p) > fld[i].max)
				return fail(err, errlen, "%s longer than %zu characters",
				    fld[i].name, fld[i].max);
			tok[i] = p;
			toklen[i] = (size_t)(q - p);
			if (q >= end)
				return fail(err, errlen, "truncated header: missing %s",
				    i + 1 < 5 ? fld[i + 1].name : "STRUCTURED-DATA");
			p = q + 1;
		}
		if (!(toklen[0] == 1 && tok[0][0] == '-') &&
		    rfc3339_len(tok[0], tok[0] + toklen[0]) != toklen[0])
			return fail(err, errlen, "invalid TIMESTAMP %.*s", (int)toklen[0], tok[0]);
		set_field(m->hostname, sizeof(m->hostname), tok[1], toklen[1]);
		set_field(m->app, sizeof(m->app), tok[2], toklen[2]);
		set_field(m->msgid, sizeof(m->msgid), tok[4], toklen[4]);

		if (p >= end)
			return fail(err, errlen, "truncated header: missing STRUCTURED-DATA");
		q = p;
		if (*p == '-') {
			p++;
		} else if (*p == '[') {
			while (p < end && *p == '[') {
				const char	*id;
				size_t		 idlen;

				p = sd_element(p, end, &id, &idlen, NULL, NULL, err, errlen);
				if (p == NULL)
					return -1;
			}
		} else {
			return fail(err, errlen, "STRUCTURED-DATA must be '-' or start with '['");
		}
		m->sd = q;
		m->sdlen = (size_t)(p - q);
		if (p < end) {
			if (*p != ' ')
				return fail(err, errlen, "expected SP after STRUCTURED-DATA");
			p++;
			if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
				p += 3;
		}
		m->msg = p;
		m->msglen = (size_t)(end - p);
		return 0;
	}

	/*
	 * RFC 3164, leniently: [TIMESTAMP SP] [HOSTNAME SP] [TAG[pid]: SP] MSG.
	 * Local sockets get no HOSTNAME; a first word ending in ':' is the tag.
	 */
	if ((k = bsd_ts_len(p, end)) > 0) {
		p += k;
		/* A year some senders put after the time (RFC 3164 5.1). */
		if (end - p >= 6 && p[0] == ' ' && is_digit(p[1]) && is_digit(p[2]) &&
		    is_digit(p[3]) && is_digit(p[4]) && p[5] == ' ')
			p += 5;
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p != '{') {
			for (q = p; q < end && *q != ' '; q++)
				;
			if (q[-1] != ':') {
				/* The first word is a HOSTNAME (unless the word is all there is). */
				if (q < end) {
					set_field(m->hostname, sizeof(m->hostname), p, (size_t)(q - p));
					p = q + 1;
				}
			}
		}
	} else if ((k = rfc3339_len(p, end)) > 0 && p + k < end && p[k] == ' ') {
		/* An ISO timestamp in a BSD header (rsyslog/syslog-ng "ts_format(iso)"). */
		p += k + 1;
		for (q = p; q < end && *q != ' '; q++)
			;
		if (q < end && q > p && q[-1] != ':' && *p != '{') {
			set_field(m->hostname, sizeof(m->hostname), p, (size_t)(q - p));
			p = q + 1;
		}
	}
	/* TAG: a word ending in ':' ("tag:" or "tag[123]:"), followed by SP or the end. */
	if (p < end && *p != '{') {
		for (q = p; q < end && *q != ' '; q++)
			;
		if (q - p >= 2 && q[-1] == ':') {
			const char *t = p, *b = memchr(p, '[', (size_t)(q - p));
			size_t tl = (size_t)((b != NULL ? b : q - 1) - t);

			if (tl > 0) {
				if (tl >= sizeof(m->app))
					tl = sizeof(m->app) - 1;
				memcpy(m->app, t, tl);
				m->app[tl] = '\0';
				p = q < end ? q + 1 : q;
			}
		}
	}
	m->msg = p;
	m->msglen = (size_t)(end - p);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Events */

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
	    (*p)[*n - 1] == '\r' || (*p)[*n - 1] == '\n'))
		(*n)--;
}

/* PARAM-VALUE unescaping: \" \\ \] lose the backslash; any other backslash is literal. */
static char *
sd_unescape(const char *v, size_t n)
{
	char	*out = xmalloc(n + 1), *o = out;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n &&
		    (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == ']'))
			i++;
		*o++ = v[i];
	}
	*o = '\0';
	return out;
}

/* An integer cJSON holds exactly (|v| <= 2^53). */
static int
parse_int(const char *s, double *out)
{
	const char	*p = s;
	int64_t		 v = 0;
	int		 neg = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++) {
		if (!is_digit(*p))
			return 0;
		v = v * 10 + (*p - '0');
		if (v > ((int64_t)1 << 53))
			return 0;
	}
	*out = (double)(neg ? -v : v);
	return 1;
}

static void
event_param(void *arg, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	cJSON	*obj = arg, *item, *old;
	char	*key = xstrndup(name, nlen);
	char	*v = sd_unescape(val, vlen);
	double	 num;

	if (strcmp(v, "true") == 0)
		item = cJSON_CreateTrue();
	else if (strcmp(v, "false") == 0)
		item = cJSON_CreateFalse();
	else if ((strcmp(key, "persons") == 0 || strcmp(key, "amount_jpy") == 0) &&
	    parse_int(v, &num))
		item = cJSON_CreateNumber(num);
	else
		item = cJSON_CreateString(v);
	if (item == NULL)
		abort();
	/* A repeated PARAM-NAME (RFC 5424 allows it) collects its values in a list. */
	old = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (old == NULL) {
		cJSON_AddItemToObject(obj, key, item);
	} else if (cJSON_IsArray(old)) {
		cJSON_AddItemToArray(old, item);
	} else {
		cJSON *list = cJSON_CreateArray();

		cJSON_DetachItemViaPointer(obj, old);
		cJSON_AddItemToArray(list, old);
		cJSON_AddItemToArray(list, item);
		cJSON_AddItemToObject(obj, key, list);
	}
	free(key);
	free(v);
}

static int
is_event_id(const char *id, size_t n)
{
	return (n == 5 && memcmp(id, "event", 5) == 0) ||
	    (n > 6 && memcmp(id, "event@", 6) == 0);
}

cJSON *
syslog_event(const struct syslog_msg *m, char *err, size_t errlen)
{
	const char	*b = m->msg, *p, *end, *id;
	size_t		 bn = m->msg != NULL ? m->msglen : 0, idlen;
	char		 jsonerr[160] = "";
	cJSON		*obj;

	trim(&b, &bn);
	if (bn > 0 && *b == '{') {
		const char *pe = NULL;

		obj = cJSON_ParseWithLengthOpts(b, bn, &pe, 0);
		if (obj != NULL && pe != NULL) {
			const char *rest = pe;
			size_t rn = (size_t)(b + bn - pe);

			trim(&rest, &rn);
			if (rn != 0) {
				cJSON_Delete(obj);
				obj = NULL;
				snprintf(jsonerr, sizeof(jsonerr),
				    "message body: trailing data after the JSON object at offset %zu",
				    (size_t)(pe - b));
			}
		}
		if (obj != NULL && cJSON_IsObject(obj))
			return obj;
		if (obj != NULL) {
			cJSON_Delete(obj);
		} else if (jsonerr[0] == '\0') {
			const char *ep = cJSON_GetErrorPtr();
			size_t at = ep != NULL && ep >= b && ep <= b + bn ? (size_t)(ep - b) : 0;

			snprintf(jsonerr, sizeof(jsonerr),
			    "message body: invalid JSON near offset %zu", at);
		}
	}

	/* An SD element "event" / "event@NNNN": its params are the fields. */
	if (m->sd != NULL && m->sdlen > 0 && m->sd[0] == '[') {
		p = m->sd;
		end = m->sd + m->sdlen;
		while (p != NULL && p < end && *p == '[') {
			const char *q = sd_element(p, end, &id, &idlen, NULL, NULL, err, errlen);

			if (q == NULL)
				return NULL;
			if (is_event_id(id, idlen)) {
				obj = cJSON_CreateObject();
				if (obj == NULL)
					abort();
				if (sd_element(p, end, &id, &idlen, event_param, obj,
				    err, errlen) == NULL) {
					cJSON_Delete(obj);
					return NULL;
				}
				return obj;
			}
			p = q;
		}
	}
	if (jsonerr[0] != '\0')
		fail(err, errlen, "%s", jsonerr);
	else
		fail(err, errlen, "no JSON event in the message");
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Alerts out */

static int
sev_code(const char *sev)
{
	static const struct {
		const char	*name;
		int		 code;
	} map[] = {
		{ "critical", 2 }, { "high", 3 }, { "medium", 4 }, { "low", 5 }, { "info", 6 },
	};
	size_t i;

	if (sev != NULL)
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strcmp(sev, map[i].name) == 0)
				return map[i].code;
	return 4;		/* unknown severity: warning */
}

static const char *
str_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A header token: PRINTUSASCII, 1..max, else "-" (n/a chars become '_'). */
static void
put_token(struct sbuf *out, const char *s, size_t max)
{
	size_t i, n;

	if (s == NULL || *s == '\0') {
		sbuf_puts(out, "-");
		return;
	}
	n = strlen(s);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		char c = is_print((unsigned char)s[i]) ? s[i] : '_';

		sbuf_add(out, &c, 1);
	}
}

static void
put_param(struct sbuf *out, const cJSON *alert, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(alert, name);
	char		 num[64];
	const char	*s;

	if (cJSON_IsString(v)) {
		s = v->valuestring;
	} else if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
		s = num;
	} else if (cJSON_IsBool(v)) {
		s = cJSON_IsTrue(v) ? "true" : "false";
	} else {
		return;		/* missing: the param is omitted */
	}
	sbuf_printf(out, " %s=\"", name);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\' || *s == ']')
			sbuf_add(out, "\\", 1);
		sbuf_add(out, s, 1);
	}
	sbuf_add(out, "\"", 1);
}

void
syslog_format_alert(struct sbuf *out, const cJSON *alert, const char *hostname)
{
	static const char *const params[] = {
		"id", "tenant", "obligation", "law", "law_version", "key", "status", "state",
	};
	const char	*status = str_field(alert, "status");
	const char	*ts = str_field(alert, "time");
	int		 sev = sev_code(str_field(alert, "severity"));
	size_t		 i;

	/* A warning or a review is never louder than warning / notice. */
	if (status != NULL && strcmp(status, "warning") == 0 && sev < 4)
		sev = 4;
	else if (status != NULL && strcmp(status, "review") == 0 && sev < 5)
		sev = 5;
	sbuf_printf(out, "<%d>1 ", 16 * 8 + sev);
	if (ts != NULL && rfc3339_len(ts, ts + strlen(ts)) == strlen(ts))
		sbuf_puts(out, ts);
	else
		sbuf_puts(out, "-");
	sbuf_add(out, " ", 1);
	put_token(out, hostname, 255);
	sbuf_puts(out, " complyd - ");
	put_token(out, status, 32);
	sbuf_puts(out, " [alert@32473");
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
		put_param(out, alert, params[i]);
	sbuf_puts(out, "] ");
	jsonw_value(out, alert);
}
