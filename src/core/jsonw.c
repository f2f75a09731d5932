/*
 * jsonw.c - cJSON trees as JSON text (see jsonw.h).
 *
 * Why not cJSON_PrintUnformatted: it scans every string twice, grows its
 * buffer through a function call per value and returns a fresh malloc. An
 * alert is ~25 values; replays print a hundred thousand of them. This writer
 * appends to a reused sbuf and copies unescaped runs of a string at once.
 * The text is the same byte for byte (test_jsonw compares the two), so
 * alerts read the same whichever path printed them: numbers take cJSON's
 * "%1.15g", or "%1.17g" when 15 digits do not read back; control characters
 * its \u00xx form. test_jsonw compares the two against the cJSON we link.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "complyd/jsonw.h"

#define put_bytes	jsonw_raw

/*
 * Integers below 1e15 print as "%1.15g" prints them, all their digits, and
 * read back exactly: no snprintf/sscanf round trip (most alert numbers are
 * amounts and counts). Returns 0 if d is not such an integer.
 */
static int
put_integer(struct sbuf *b, double d)
{
	char		 buf[24], *p = buf + sizeof(buf);
	unsigned long long u;

	if (!(d > -1e15 && d < 1e15) || d != (double)(long long)d ||
	    (d == 0 && signbit(d)))
		return 0;
	u = d < 0 ? (unsigned long long)-(long long)d : (unsigned long long)d;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (d < 0)
		*--p = '-';
	put_bytes(b, p, (size_t)(buf + sizeof(buf) - p));
	return 1;
}

void
jsonw_number(struct sbuf *b, double d)
{
	char	 buf[32];
	double	 test = 0;
	int	 n;

	if (put_integer(b, d))
		return;
	if (isnan(d) || isinf(d))
		n = snprintf(buf, sizeof(buf), "null");
	else {
		/* 15 digits unless they do not read back as d (cJSON's test). */
		n = snprintf(buf, sizeof(buf), "%1.15g", d);
		if (sscanf(buf, "%lg", &test) != 1 ||
		    !(fabs(test - d) <= fmax(fabs(test), fabs(d)) * DBL_EPSILON))
			n = snprintf(buf, sizeof(buf), "%1.17g", d);
	}
	put_bytes(b, buf, (size_t)n);
}

/* 1 for the bytes a JSON string needs escaped: controls, '"' and '\\'. */
static const unsigned char must_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

#define BYTES(c)	(0x0101010101010101ULL * (c))

/*
 * Nonzero if any of the 8 bytes in w needs an escape: one below 0x20, a '"'
 * or a '\\' (the "has less" and "has zero" word tricks; exact for "any",
 * which is all this asks). Flipping bit 1 maps '"' (0x22) to 0x20 and the
 * bytes below 0x20 among themselves, so one "has less than 0x21" finds
 * both. Alert text is mostly multi-byte Japanese, which a byte table walks
 * one byte at a time; this takes 8 at once.
 */
static inline uint64_t
escape_in(uint64_t w)
{
	uint64_t t = w ^ BYTES(0x02), bs = w ^ BYTES('\\');

	return (((t - BYTES(0x21)) & ~t) | ((bs - BYTES(1)) & ~bs)) &
	    BYTES(0x80);
}

static void
put_escape(struct sbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char	 esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	switch (c) {
	case '"':	put_bytes(b, "\\\"", 2); break;
	case '\\':	put_bytes(b, "\\\\", 2); break;
	case '\b':	put_bytes(b, "\\b", 2); break;
	case '\f':	put_bytes(b, "\\f", 2); break;
	case '\n':	put_bytes(b, "\\n", 2); break;
	case '\r':	put_bytes(b, "\\r", 2); break;
	case '\t':	put_bytes(b, "\\t", 2); break;
	default:	put_bytes(b, esc, 6);	/* \u00xx, as cJSON writes it */
	}
}

/* Nonzero if any of the 8 bytes at p needs an escape. */
static inline uint64_t
escape_at(const unsigned char *p)
{
	uint64_t	 w;

	memcpy(&w, p, 8);
	return escape_in(w);
}

/*
 * Whether any of the n bytes at p needs an escape, 16 at a time (a test
 * and a branch for two words): the last word overlaps the one before (its
 * bytes passed already), and a string shorter than a word is padded with
 * bytes that need none.
 */
static int
has_escape(const unsigned char *p, size_t n)
{
	uint64_t	 w = BYTES('a');
	size_t		 i;

	if (n < 8) {
		memcpy(&w, p, n);
		return escape_in(w) != 0;
	}
	for (i = 0; i + 16 <= n; i += 16)
		if ((escape_at(p + i) | escape_at(p + i + 8)) != 0)
			return 1;
	if (n - i > 8 && escape_at(p + i) != 0)
		return 1;
	return i < n && escape_at(p + n - 8) != 0;
}

/* The n bytes at s between quotes, none of them to escape (most strings). */
static void
put_plain(struct sbuf *b, const char *s, size_t n)
{
	char	*d;

	if (b->s == NULL || b->len + n + 3 > b->cap) {
		put_bytes(b, "\"", 1);
		put_bytes(b, s, n);
		put_bytes(b, "\"", 1);
		return;
	}
	d = b->s + b->len;
	d[0] = '"';
	memcpy(d + 1, s, n);
	d[n + 1] = '"';
	d[n + 2] = '\0';
	b->len += n + 2;
}

/*
 * A string with escapes: runs of bytes that need none are copied at once;
 * they are found 8 bytes at a time, and the 8 that hold an escape are
 * walked byte by byte.
 */
static void
put_escaped(struct sbuf *b, const unsigned char *p, size_t n)
{
	const unsigned char	*run, *end = p + n, *lim;
	uint64_t		 w;

	put_bytes(b, "\"", 1);
	for (run = p; p < end; ) {
		if (end - p >= 8) {
			memcpy(&w, p, 8);
			if (!escape_in(w)) {
				p += 8;
				continue;
			}
		}
		for (lim = end - p > 8 ? p + 8 : end; p < lim; p++) {
			if (!must_escape[*p])
				continue;
			put_bytes(b, (const char *)run, (size_t)(p - run));
			put_escape(b, *p);
			run = p + 1;
		}
	}
	put_bytes(b, (const char *)run, (size_t)(p - run));
	put_bytes(b, "\"", 1);
}

void
jsonw_string(struct sbuf *b, const char *s)
{
	size_t	 n;

	if (s == NULL) {
		put_bytes(b, "\"\"", 2);
		return;
	}
	n = strlen(s);
	if (has_escape((const unsigned char *)s, n))
		put_escaped(b, (const unsigned char *)s, n);
	else
		put_plain(b, s, n);
}

void
jsonw_value(struct sbuf *b, const cJSON *v)
{
	const cJSON	*it;
	int		 object;

	switch (v->type & 0xff) {
	case cJSON_False:	put_bytes(b, "false", 5); return;
	case cJSON_True:	put_bytes(b, "true", 4); return;
	case cJSON_Number:	jsonw_number(b, v->valuedouble); return;
	case cJSON_String:	jsonw_string(b, v->valuestring); return;
	case cJSON_Raw:
		if (v->valuestring) {
			sbuf_puts(b, v->valuestring);
			return;
		}
		break;
	case cJSON_Array: case cJSON_Object:
		object = (v->type & 0xff) == cJSON_Object;
		put_bytes(b, object ? "{" : "[", 1);
		for (it = v->child; it != NULL; it = it->next) {
			if (object) {
				jsonw_string(b, it->string);
				put_bytes(b, ":", 1);
			}
			jsonw_value(b, it);
			if (it->next)
				put_bytes(b, ",", 1);
		}
		put_bytes(b, object ? "}" : "]", 1);
		return;
	}
	put_bytes(b, "null", 4);	/* null, and what cJSON would refuse to print */
}
