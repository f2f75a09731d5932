/*
 * test_syslog.c - syslog on the wire: RFC 6587 framing (octet counting, LF and
 * CRLF, mixed, oversized frames, every split of the stream across feeds),
 * RFC 5424 / RFC 3164 parsing (messages captured from util-linux logger 2.38,
 * escapes, BOM, nil values, garbage), event extraction from the body and from
 * an "event@" SD element, and the alert format parsed back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/syslog.h"

/* ------------------------------------------------------------------------ */
/* Framing */

struct collect {
	struct sbuf	 out;		/* frames, each followed by '|' */
	int		 nmsg, nbad;
};

static void
on_msg(void *arg, const char *m, size_t n)
{
	struct collect *c = arg;

	sbuf_add(&c->out, m, n);
	sbuf_add(&c->out, "|", 1);
	c->nmsg++;
}

static void
on_bad(void *arg, const char *why)
{
	struct collect *c = arg;

	assert_non_null(why);
	assert_true(strlen(why) > 0);
	c->nbad++;
}

static const struct frame_case {
	const char	*name;
	const char	*in;
	size_t		 inlen;		/* 0: strlen(in) */
	size_t		 max;
	const char	*want;		/* frames joined by '|' */
	size_t		 wantlen;	/* 0: strlen(want) */
	int		 nbad;
} frame_cases[] = {
	{ "octet single", "5 hello", 0, 0, "hello|", 0, 0 },
	{ "octet multiple", "5 hello3 abc10 0123456789", 0, 0, "hello|abc|0123456789|", 0, 0 },
	{ "octet payload keeps LF and CR", "7 a\nb\r\ncd1 x", 0, 0, "a\nb\r\ncd|x|", 0, 0 },
	{ "octet payload keeps NUL", "3 a\0b", 5, 0, "a\0b|", 4, 0 },
	{ "octet count exactly max", "5 hello", 0, 5, "hello|", 0, 0 },
	{ "octet incomplete at end", "5 hello9 abc", 0, 0, "hello|", 0, 0 },
	{ "lf plain", "one\ntwo\n", 0, 0, "one|two|", 0, 0 },
	{ "lf crlf", "one\r\ntwo\nthree\r\n", 0, 0, "one|two|three|", 0, 0 },
	{ "lf inner CR kept", "a\rb\n", 0, 0, "a\rb|", 0, 0 },
	{ "lf incomplete at end", "one\ntw", 0, 0, "one|", 0, 0 },
	{ "empty lines skipped", "\n\r\n\nx\n\n\r\n", 0, 0, "x|", 0, 0 },
	{ "nul trailer", "a\0b\0", 4, 0, "a|b|", 0, 0 },
	{ "mixed", "5 hellofoo\n3 abcbar\r\n2 ok", 0, 0, "hello|foo|abc|bar|ok|", 0, 0 },
	{ "digits without SP are LF framed", "123abc\n", 0, 0, "123abc|", 0, 0 },
	{ "leading zero is LF framed", "05 hello\n", 0, 0, "05 hello|", 0, 0 },
	{ "ten digits are LF framed", "1234567890 x\n", 0, 0, "1234567890 x|", 0, 0 },
	{ "lf exactly max", "hello\nhello\r\n", 0, 5, "hello|hello|", 0, 0 },
	{ "oversized count skipped", "20 aaaaaaaaaaaaaaaaaaaa5 hello", 0, 16, "hello|", 0, 1 },
	{ "oversized count, 9 digits", "999999999 abc", 0, 16, "", 0, 1 },
	{ "oversized LF frame then good", "aaaaaaaaaaaaaaaaaaaaaaa\nok\n", 0, 8, "ok|", 0, 1 },
	{ "oversized LF frame with CRLF", "aaaaaaaaaa\r\nok\r\n5 hello", 0, 8, "ok|hello|", 0, 1 },
	{ "two oversized LF frames", "aaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb\nok\n", 0, 8, "ok|", 0, 2 },
	{ "oversized unterminated", "aaaaaaaaaaaaaaaaaaaa", 0, 8, "", 0, 1 },
	{ "logger --rfc5424 --octet-count",
	  "163 <156>1 2026-11-26T09:16:56.855387+00:00 vm myapp - - [timeQuality tzKnown=\"1\" "
	  "isSynced=\"0\"][event@32473 type=\"subcontract.paid\" amount_jpy=\"1200000\"] hello \"world\""
	  "19 <13>1 - - - - - - x",
	  0, 0,
	  "<156>1 2026-11-26T09:16:56.855387+00:00 vm myapp - - [timeQuality tzKnown=\"1\" "
	  "isSynced=\"0\"][event@32473 type=\"subcontract.paid\" amount_jpy=\"1200000\"] hello \"world\"|"
	  "<13>1 - - - - - - x|", 0, 0 },
};

static void
run_frames(const struct frame_case *c, const size_t *cuts, size_t ncuts,
    const char *how)
{
	struct syslog_framer	 f;
	struct collect		 col;
	size_t			 inlen = c->inlen ? c->inlen : strlen(c->in);
	size_t			 wantlen = c->wantlen ? c->wantlen : strlen(c->want);
	size_t			 i, at = 0;
	int			 n = 0;

	memset(&col, 0, sizeof(col));
	sbuf_init(&col.out);
	framer_init(&f, c->max);
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : inlen;

		/* A copy on the heap so that ASan sees any read past the fed bytes. */
		char *chunk = xmalloc(to - at + 1);

		memcpy(chunk, c->in + at, to - at);
		n += framer_feed(&f, chunk, to - at, on_msg, on_bad, &col);
		free(chunk);
		at = to;
	}
	if (col.out.len != wantlen || memcmp(col.out.s, c->want, wantlen) != 0 ||
	    col.nbad != c->nbad || n != col.nmsg)
		fail_msg("%s (%s): got \"%s\" bad=%d ret=%d, want \"%s\" bad=%d", c->name,
		    how, col.out.s, col.nbad, n, c->want, c->nbad);
	framer_free(&f);
	sbuf_free(&col.out);
}

static void
test_framing(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		const struct frame_case *c = &frame_cases[i];
		size_t inlen = c->inlen ? c->inlen : strlen(c->in);
		size_t *cuts = xcalloc(inlen + 1, sizeof(*cuts));

		run_frames(c, NULL, 0, "one feed");
		/* Two feeds, cut at every byte boundary. */
		for (k = 0; k <= inlen; k++) {
			cuts[0] = k;
			run_frames(c, cuts, 1, "two feeds");
		}
		/* One byte per feed. */
		for (k = 0; k < inlen; k++)
			cuts[k] = k;
		run_frames(c, cuts, inlen, "byte by byte");
		free(cuts);
	}
}

/* The framer keeps state across many feeds and frees what it holds. */
static void
test_framing_stream(void **state)
{
	struct syslog_framer	 f;
	struct collect		 col;
	struct sbuf		 in;
	size_t			 i, at;
	int			 n = 0;

	(void)state;
	memset(&col, 0, sizeof(col));
	sbuf_init(&col.out);
	sbuf_init(&in);
	for (i = 0; i < 500; i++) {
		char m[64];
		int len = snprintf(m, sizeof(m), "<13>1 - h app - - - msg %zu", i);

		if (i % 2)
			sbuf_printf(&in, "%d %s", len, m);
		else
			sbuf_printf(&in, "%s\r\n", m);
	}
	framer_init(&f, 0);
	assert_int_equal(f.max, SYSLOG_MAX_MSG);
	for (at = 0; at < in.len; at += 37)
		n += framer_feed(&f, in.s + at, in.len - at < 37 ? in.len - at : 37,
		    on_msg, on_bad, &col);
	assert_int_equal(n, 500);
	assert_int_equal(col.nbad, 0);
	assert_int_equal(f.len, 0);
	assert_non_null(strstr(col.out.s, "|<13>1 - h app - - - msg 499|"));
	framer_free(&f);
	framer_free(&f);		/* idempotent */
	sbuf_free(&col.out);
	sbuf_free(&in);
}

/* Random streams: any chunking gives what one feed gives, and nothing over-reads. */
static uint32_t
lcg(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return *seed >> 8;
}

static void
feed_chunks(const char *in, size_t n, size_t max, uint32_t *seed, int chunked,
    struct collect *col)
{
	struct syslog_framer	 f;
	size_t			 at = 0;

	framer_init(&f, max);
	while (at < n) {
		size_t k = chunked ? 1 + lcg(seed) % 7 : n - at;
		char *chunk;

		if (k > n - at)
			k = n - at;
		chunk = xmalloc(k);
		memcpy(chunk, in + at, k);
		framer_feed(&f, chunk, k, on_msg, on_bad, col);
		free(chunk);
		at += k;
	}
	framer_free(&f);
}

static void
test_framing_random(void **state)
{
	static const char alpha[] = "0123456789   \n\n\rab<>\0";
	uint32_t	 seed = 12345;
	int		 iter;

	(void)state;
	for (iter = 0; iter < 3000; iter++) {
		struct collect	 one, many;
		char		 in[96];
		size_t		 n = lcg(&seed) % sizeof(in), i, max = 1 + lcg(&seed) % 20;

		for (i = 0; i < n; i++)
			in[i] = alpha[lcg(&seed) % (sizeof(alpha) - 1)];
		memset(&one, 0, sizeof(one));
		memset(&many, 0, sizeof(many));
		sbuf_init(&one.out);
		sbuf_init(&many.out);
		feed_chunks(in, n, max, &seed, 0, &one);
		feed_chunks(in, n, max, &seed, 1, &many);
		if (one.out.len != many.out.len || memcmp(one.out.s, many.out.s, one.out.len) != 0 ||
		    one.nbad != many.nbad)
			fail_msg("iteration %d: chunking changed the frames", iter);
		sbuf_free(&one.out);
		sbuf_free(&many.out);
	}
}

/* ------------------------------------------------------------------------ */
/* Parsing */

#define BOM "\xEF\xBB\xBF"

static const struct parse_case {
	const char	*name;
	const char	*in;
	int		 rc;
	const char	*err;		/* substring of the reason when rc == -1 */
	int		 pri, rfc5424;
	const char	*host, *app, *msgid, *sd, *msg;
} parse_cases[] = {
	/* util-linux logger 2.38: logger --rfc5424 --octet-count -T -u SOCK ... (frame body) */
	{ "logger rfc5424 sd event", "<134>1 2026-11-26T09:19:50.104599+00:00 vm complyfeed - EV "
	  "[timeQuality tzKnown=\"1\" isSynced=\"0\"][event@32473 id=\"e-7\" tenant=\"acme-soc\" "
	  "type=\"personal_data.breach_detected\" time=\"2026-05-30T15:30:00+09:00\" persons=\"1500\" "
	  "sensitive=\"true\" note=\"a \\\"q\\\" b\\\\c \\]\"] x", 0, NULL,
	  134, 1, "vm", "complyfeed", "EV",
	  "[timeQuality tzKnown=\"1\" isSynced=\"0\"][event@32473 id=\"e-7\" tenant=\"acme-soc\" "
	  "type=\"personal_data.breach_detected\" time=\"2026-05-30T15:30:00+09:00\" persons=\"1500\" "
	  "sensitive=\"true\" note=\"a \\\"q\\\" b\\\\c \\]\"]", "x" },
	{ "logger rfc5424 json body", "<13>1 2026-11-26T09:19:47.103118+00:00 vm complyfeed - - "
	  "[timeQuality tzKnown=\"1\" isSynced=\"0\"] {\"id\":\"e-1\",\"tenant\":\"acme-soc\"}", 0, NULL,
	  13, 1, "vm", "complyfeed", "", "[timeQuality tzKnown=\"1\" isSynced=\"0\"]",
	  "{\"id\":\"e-1\",\"tenant\":\"acme-soc\"}" },
	/* logger --rfc3164 -u SOCK -t tag -i (datagram) */
	{ "logger rfc3164", "<13>Nov 26 09:16:57 vm tag[12226]: {\"id\":\"e1\"}", 0, NULL,
	  13, 0, "vm", "tag", "", "-", "{\"id\":\"e1\"}" },
	/* logger -u SOCK -t tag (local format: no HOSTNAME) */
	{ "logger local socket", "<13>Nov 26 09:16:58 tag: {\"id\":\"e2\"}", 0, NULL,
	  13, 0, "", "tag", "", "-", "{\"id\":\"e2\"}" },
	{ "3164 space-padded day", "<14>Nov  6 09:16:58 host app[1]: hello world", 0, NULL,
	  14, 0, "host", "app", "", "-", "hello world" },
	{ "3164 no tag, json body", "<13>Nov 26 10:00:00 host {\"a\":1}", 0, NULL,
	  13, 0, "host", "", "", "-", "{\"a\":1}" },
	{ "3164 no host no tag, json body", "<13>Nov 26 10:00:00 {\"a\": \"b c\"}", 0, NULL,
	  13, 0, "", "", "", "-", "{\"a\": \"b c\"}" },
	{ "3164 year after time", "<13>Nov 26 10:00:00 2026 host app: m", 0, NULL,
	  13, 0, "host", "app", "", "-", "m" },
	{ "3164 iso timestamp", "<13>2026-11-26T10:00:00+09:00 host app: m", 0, NULL,
	  13, 0, "host", "app", "", "-", "m" },
	{ "3164 no timestamp, tag", "<13>app: {\"x\":true}", 0, NULL,
	  13, 0, "", "app", "", "-", "{\"x\":true}" },
	{ "3164 no timestamp, text", "<13>just text", 0, NULL,
	  13, 0, "", "", "", "-", "just text" },
	{ "no PRI", "Nov 26 10:00:00 tag: msg", 0, NULL, -1, 0, "", "tag", "", "-", "msg" },
	{ "no PRI bare json", "{\"id\":\"x\"}", 0, NULL, -1, 0, "", "", "", "-", "{\"id\":\"x\"}" },
	{ "trailing LF dropped", "<13>Nov 26 10:00:00 tag: msg\n", 0, NULL,
	  13, 0, "", "tag", "", "-", "msg" },
	{ "5424 all nil", "<0>1 - - - - - -", 0, NULL, 0, 1, "", "", "", "-", "" },
	{ "5424 nil with msg", "<191>1 - - - - - - m", 0, NULL, 191, 1, "", "", "", "-", "m" },
	{ "5424 BOM skipped", "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - "
	  "ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
	  BOM "An application event", 0, NULL, 165, 1, "mymachine.example.com", "evntslog", "ID47",
	  "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]",
	  "An application event" },
	{ "5424 RFC example 1", "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
	  BOM "'su root' failed for lonvick on /dev/pts/8", 0, NULL, 34, 1,
	  "mymachine.example.com", "su", "ID47", "-", "'su root' failed for lonvick on /dev/pts/8" },
	{ "5424 several SD elements, empty value", "<13>1 2003-08-24T05:14:15.000003-07:00 h a 1 m "
	  "[a@1 x=\"\"][b@2][c@3 y=\"]\\\"\"]", 0, NULL, 13, 1, "h", "a", "m",
	  "[a@1 x=\"\"][b@2][c@3 y=\"]\\\"\"]", "" },
	{ "5424 escaped chars in SD", "<13>1 - - - - - [x@1 v=\"a\\\"b\\\\c\\]d\\e\"] body", 0, NULL,
	  13, 1, "", "", "", "[x@1 v=\"a\\\"b\\\\c\\]d\\e\"]", "body" },
	/* Garbage. */
	{ "empty", "", -1, "empty", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "truncated PRI", "<13", -1, "truncated PRI", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "lone <", "<", -1, "truncated PRI", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "PRI 999", "<999>1 - - - - - -", -1, "out of range", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "PRI 192", "<192>x", -1, "out of range", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "PRI not a number", "<ab>1 - - - - - -", -1, "malformed PRI", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "PRI empty", "<>x", -1, "malformed PRI", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "PRI too many digits", "<00013>x", -1, "malformed PRI", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 missing fields", "<13>1 2026-01-01T00:00:00Z host", -1, "missing APP-NAME",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 missing SD", "<13>1 - host app - id", -1, "STRUCTURED-DATA",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 missing SD after SP", "<13>1 - host app - id ", -1, "STRUCTURED-DATA",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 double space", "<13>1 -  app - id -", -1, "empty HOSTNAME",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 bad timestamp", "<13>1 yesterday h a - - -", -1, "TIMESTAMP",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 bad timestamp month", "<13>1 2026-13-01T00:00:00Z h a - - -", -1, "TIMESTAMP",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 timestamp without offset", "<13>1 2026-01-01T00:00:00 h a - - -", -1, "TIMESTAMP",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 APP-NAME too long", "<13>1 - h aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa - - -",
	  -1, "APP-NAME longer", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "5424 control char in HOSTNAME", "<13>1 - h\x01 a - - -", -1, "invalid character",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "unterminated SD element", "<13>1 - h a - - [x@1 a=\"b\"", -1, "unterminated SD element",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "unterminated SD value", "<13>1 - h a - - [x@1 a=\"b] msg", -1, "unterminated SD-PARAM",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "SD value ends in backslash", "<13>1 - h a - - [x@1 a=\"b\\", -1, "unterminated SD-PARAM",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "SD param without quotes", "<13>1 - h a - - [x@1 a=b] m", -1, "lacks",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "SD empty id", "<13>1 - h a - - [] m", -1, "SD-ID", 0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "SD not bracketed", "<13>1 - h a - - x m", -1, "STRUCTURED-DATA",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "SD garbage after element", "<13>1 - h a - - [x@1]y", -1, "SP after",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
	{ "SD two spaces", "<13>1 - h a - - [x@1  a=\"b\"]", -1, "PARAM-NAME",
	  0, 0, NULL, NULL, NULL, NULL, NULL },
};

static void
check_parse(const struct parse_case *c)
{
	struct syslog_msg	 m;
	char			 err[256] = "";
	size_t			 n = strlen(c->in);
	char			*copy = xmalloc(n ? n : 1);	/* exact size: ASan catches over-reads */
	int			 rc;

	memcpy(copy, c->in, n);
	rc = syslog_parse(copy, n, &m, err, sizeof(err));
	if (rc != c->rc)
		fail_msg("%s: rc %d (%s), want %d", c->name, rc, err, c->rc);
	if (rc == -1) {
		if (strstr(err, c->err) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", c->name, err, c->err);
		free(copy);
		return;
	}
	if (m.pri != c->pri || m.rfc5424 != c->rfc5424 || strcmp(m.hostname, c->host) != 0 ||
	    strcmp(m.app, c->app) != 0 || strcmp(m.msgid, c->msgid) != 0)
		fail_msg("%s: pri=%d 5424=%d host=\"%s\" app=\"%s\" msgid=\"%s\"", c->name,
		    m.pri, m.rfc5424, m.hostname, m.app, m.msgid);
	if (m.sdlen != strlen(c->sd) || memcmp(m.sd, c->sd, m.sdlen) != 0)
		fail_msg("%s: sd \"%.*s\", want \"%s\"", c->name, (int)m.sdlen, m.sd, c->sd);
	if (m.msglen != strlen(c->msg) || memcmp(m.msg, c->msg, m.msglen) != 0)
		fail_msg("%s: msg \"%.*s\", want \"%s\"", c->name, (int)m.msglen, m.msg, c->msg);
	free(copy);
}

static void
test_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
		check_parse(&parse_cases[i]);
}

/* Every prefix of valid messages, and bytes flipped to specials, never crash. */
static void
test_parse_robust(void **state)
{
	static const char specials[] = "<>[]\"\\= -\n\0{";
	struct syslog_msg	 m;
	char			 err[64];
	size_t			 i, k, j;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const char *in = parse_cases[i].in;
		size_t n = strlen(in);

		for (k = 0; k <= n; k++) {
			char *copy = xmalloc(k ? k : 1);

			memcpy(copy, in, k);
			if (syslog_parse(copy, k, &m, err, sizeof(err)) == 0) {
				cJSON *ev = syslog_event(&m, err, sizeof(err));

				cJSON_Delete(ev);
			} else {
				assert_true(strlen(err) > 0);
			}
			free(copy);
		}
		for (k = 0; k < n; k++) {
			for (j = 0; j < sizeof(specials) - 1; j++) {
				char *copy = xmalloc(n);

				memcpy(copy, in, n);
				copy[k] = specials[j];
				if (syslog_parse(copy, n, &m, err, sizeof(err)) == 0)
					cJSON_Delete(syslog_event(&m, err, sizeof(err)));
				free(copy);
			}
		}
	}
	/* Random messages from syslog-shaped pieces. */
	{
		static const char *const piece[] = {
			"<13>", "<191>", "1 ", "- ", " ", "[", "]", "event@1", "x", "=", "\"",
			"\\", "{", "}", "\"id\":\"e\"", ":", "Nov 26 10:00:00 ", "2026-01-01T00:00:00Z ",
			"tag[1]: ", BOM, "\n", "true", "persons",
		};
		uint32_t seed = 7;
		int iter;

		for (iter = 0; iter < 20000; iter++) {
			struct sbuf b;
			int np = (int)(lcg(&seed) % 14), j2;
			char *copy;

			sbuf_init(&b);
			for (j2 = 0; j2 < np; j2++)
				sbuf_puts(&b, piece[lcg(&seed) % (sizeof(piece) / sizeof(piece[0]))]);
			copy = xmalloc(b.len ? b.len : 1);
			memcpy(copy, b.s, b.len);
			if (syslog_parse(copy, b.len, &m, err, sizeof(err)) == 0) {
				assert_true(m.msg >= copy && m.msg + m.msglen <= copy + b.len);
				cJSON_Delete(syslog_event(&m, err, sizeof(err)));
			}
			free(copy);
			sbuf_free(&b);
		}
	}
	/* A NULL or zero-length error buffer is fine. */
	assert_int_equal(syslog_parse("<999>", 5, &m, NULL, 0), -1);
}

/* ------------------------------------------------------------------------ */
/* Events */

static const struct event_case {
	const char	*name;
	const char	*in;
	const char	*want;		/* JSON, or NULL for an error */
	const char	*err;
} event_cases[] = {
	{ "json body 5424", "<13>1 - h a - - - {\"id\":\"e1\",\"n\":2}", "{\"id\":\"e1\",\"n\":2}", NULL },
	{ "json body with spaces", "<13>1 - h a - - -   {\"id\":\"e1\"}  \r", "{\"id\":\"e1\"}", NULL },
	{ "json body BOM", "<13>1 - h a - - - " BOM "{\"id\":\"e1\"}", "{\"id\":\"e1\"}", NULL },
	{ "json body 3164 logger", "<13>Nov 26 09:16:57 vm tag[12226]: {\"id\":\"e1\"}",
	  "{\"id\":\"e1\"}", NULL },
	{ "json body local socket", "<13>Nov 26 09:16:58 tag: {\"id\":\"e2\",\"ok\":true}",
	  "{\"id\":\"e2\",\"ok\":true}", NULL },
	{ "body wins over SD", "<13>1 - h a - - [event@1 id=\"sd\"] {\"id\":\"body\"}",
	  "{\"id\":\"body\"}", NULL },
	{ "sd event (logger capture)", "<134>1 2026-11-26T09:19:50.104599+00:00 vm complyfeed - EV "
	  "[timeQuality tzKnown=\"1\" isSynced=\"0\"][event@32473 id=\"e-7\" tenant=\"acme-soc\" "
	  "type=\"personal_data.breach_detected\" time=\"2026-05-30T15:30:00+09:00\" persons=\"1500\" "
	  "sensitive=\"true\" note=\"a \\\"q\\\" b\\\\c \\]\"] x",
	  "{\"id\":\"e-7\",\"tenant\":\"acme-soc\",\"type\":\"personal_data.breach_detected\","
	  "\"time\":\"2026-05-30T15:30:00+09:00\",\"persons\":1500,\"sensitive\":true,"
	  "\"note\":\"a \\\"q\\\" b\\\\c ]\"}", NULL },
	{ "sd plain event id", "<13>1 - h a - - [event id=\"x\" malicious=\"false\"]",
	  "{\"id\":\"x\",\"malicious\":false}", NULL },
	{ "sd numbers only for persons, amount_jpy", "<13>1 - h a - - [event@9 amount_jpy=\"1200000\" "
	  "persons=\"-3\" count=\"5\" x=\"TRUE\"]",
	  "{\"amount_jpy\":1200000,\"persons\":-3,\"count\":\"5\",\"x\":\"TRUE\"}", NULL },
	{ "sd non-integer persons stays a string", "<13>1 - h a - - [event@9 persons=\"1.5\" "
	  "amount_jpy=\"12a\"]", "{\"persons\":\"1.5\",\"amount_jpy\":\"12a\"}", NULL },
	{ "sd invalid escape is literal", "<13>1 - h a - - [event@9 p=\"C:\\x\\\\\"]",
	  "{\"p\":\"C:\\\\x\\\\\"}", NULL },
	{ "sd repeated param is a list", "<13>1 - h a - - [event@9 purposes=\"a\" purposes=\"b\" "
	  "purposes=\"c\"]", "{\"purposes\":[\"a\",\"b\",\"c\"]}", NULL },
	{ "sd first event element wins", "<13>1 - h a - - [x@1 id=\"no\"][event@2 id=\"yes\"]"
	  "[event@3 id=\"later\"] text", "{\"id\":\"yes\"}", NULL },
	{ "sd utf-8 value", "<13>1 - h a - - [event@9 name=\"東京SOCセンター\"]",
	  "{\"name\":\"東京SOCセンター\"}", NULL },
	{ "not event: eventx@1", "<13>1 - h a - - [eventx@1 id=\"x\"] hi", NULL, "no JSON event" },
	{ "no event: text body", "<13>Nov 26 09:16:58 tag: hello", NULL, "no JSON event" },
	{ "no event: empty", "<13>1 - - - - - -", NULL, "no JSON event" },
	{ "json array is not an event", "<13>1 - h a - - - [1,2]", NULL, "no JSON event" },
	{ "json broken", "<13>1 - h a - - - {\"id\":", NULL, "invalid JSON" },
	{ "json trailing garbage", "<13>1 - h a - - - {\"id\":1} x", NULL, "trailing data" },
	{ "json broken, SD event used", "<13>1 - h a - - [event@1 id=\"sd\"] {oops",
	  "{\"id\":\"sd\"}", NULL },
};

static void
test_event(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(event_cases) / sizeof(event_cases[0]); i++) {
		const struct event_case *c = &event_cases[i];
		struct syslog_msg	 m;
		char			 err[256] = "";
		cJSON			*ev, *want;

		if (syslog_parse(c->in, strlen(c->in), &m, err, sizeof(err)) != 0)
			fail_msg("%s: parse: %s", c->name, err);
		ev = syslog_event(&m, err, sizeof(err));
		if (c->want == NULL) {
			if (ev != NULL || strstr(err, c->err) == NULL)
				fail_msg("%s: want error \"%s\", got \"%s\"", c->name, c->err, err);
			continue;
		}
		if (ev == NULL)
			fail_msg("%s: %s", c->name, err);
		want = cJSON_Parse(c->want);
		assert_non_null(want);
		if (!cJSON_Compare(ev, want, 1)) {
			char *got = cJSON_PrintUnformatted(ev);

			fail_msg("%s: got %s want %s", c->name, got, c->want);
		}
		/* Key order is kept too (SD params in order). */
		{
			char *a = cJSON_PrintUnformatted(ev), *b = cJSON_PrintUnformatted(want);

			assert_string_equal(a, b);
			free(a);
			free(b);
		}
		cJSON_Delete(want);
		cJSON_Delete(ev);
	}
}

/* ------------------------------------------------------------------------ */
/* Alerts out */

/* Unescapes one SD param value of the alert@32473 element; NULL if absent. */
static char *
sd_param(const struct syslog_msg *m, const char *name)
{
	char		 pat[64];
	const char	*p, *end = m->sd + m->sdlen;
	struct sbuf	 b;

	snprintf(pat, sizeof(pat), " %s=\"", name);
	for (p = m->sd; p + strlen(pat) <= end; p++)
		if (memcmp(p, pat, strlen(pat)) == 0)
			break;
	if (p + strlen(pat) > end)
		return NULL;
	sbuf_init(&b);
	for (p += strlen(pat); p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end && strchr("\"\\]", p[1]) != NULL)
			p++;
		sbuf_add(&b, p, 1);
	}
	return b.s;
}

static const struct alert_case {
	const char	*name;
	const char	*alert;
	const char	*host;
	const char	*prefix;	/* expected start of the formatted message */
	int		 sev;
} alert_cases[] = {
	{ "violation high",
	  "{\"id\":\"a-5f0c\",\"tenant\":\"acme-soc\",\"rule\":\"subcontract.paid-by-due-date\","
	  "\"obligation\":\"SUBCON-PAY-BY-DUE\",\"law\":\"subcontract\",\"law_version\":\"toritekiho-2026\","
	  "\"article\":\"5(1)(ii)\",\"severity\":\"high\",\"status\":\"violation\",\"state\":\"open\","
	  "\"time\":\"2026-06-29T00:00:00+09:00\",\"key\":\"C-2026-0001\","
	  "\"subject\":{\"kind\":\"contract\",\"id\":\"C-2026-0001\"},"
	  "\"message\":{\"ja\":\"支払期日を過ぎた\",\"en\":\"payment \\\"late\\\"\"},"
	  "\"evidence\":[\"evt-1\"],\"details\":{\"due\":\"2026-06-28\"}}",
	  "soc1.example.jp",
	  "<131>1 2026-06-29T00:00:00+09:00 soc1.example.jp complyd - violation "
	  "[alert@32473 id=\"a-5f0c\" tenant=\"acme-soc\" obligation=\"SUBCON-PAY-BY-DUE\" "
	  "law=\"subcontract\" law_version=\"toritekiho-2026\" key=\"C-2026-0001\" "
	  "status=\"violation\" state=\"open\"] {\"id\":\"a-5f0c\"", 3 },
	{ "violation critical", "{\"severity\":\"critical\",\"status\":\"violation\",\"id\":\"x\"}",
	  "h", "<130>1 - h complyd - violation [alert@32473 id=\"x\" status=\"violation\"] {", 2 },
	{ "violation medium", "{\"severity\":\"medium\",\"status\":\"violation\"}", "h", "<132>1 ", 4 },
	{ "violation low", "{\"severity\":\"low\",\"status\":\"violation\"}", "h", "<133>1 ", 5 },
	{ "violation info", "{\"severity\":\"info\",\"status\":\"violation\"}", "h", "<134>1 ", 6 },
	{ "warning of critical is warning", "{\"severity\":\"critical\",\"status\":\"warning\"}",
	  "h", "<132>1 - h complyd - warning ", 4 },
	{ "warning of info stays info", "{\"severity\":\"info\",\"status\":\"warning\"}", "h", "<134>1 ", 6 },
	{ "review of high is notice", "{\"severity\":\"high\",\"status\":\"review\"}", "h", "<133>1 ", 5 },
	{ "review of info stays info", "{\"severity\":\"info\",\"status\":\"review\"}", "h", "<134>1 ", 6 },
	{ "escapes in SD values", "{\"id\":\"a\\\"b\\\\c]d\",\"tenant\":\"t [x]\",\"key\":\"k=\\\"v\\\"\","
	  "\"severity\":\"high\",\"status\":\"violation\",\"state\":\"retracted\",\"time\":\"2026-01-01T00:00:00Z\"}",
	  "h", "<131>1 2026-01-01T00:00:00Z h complyd - violation [alert@32473 id=\"a\\\"b\\\\c\\]d\" "
	  "tenant=\"t [x\\]\" key=\"k=\\\"v\\\"\" status=\"violation\" state=\"retracted\"] ", 3 },
	{ "missing fields", "{}", NULL, "<132>1 - - complyd - - [alert@32473] {}", 4 },
	{ "bad time and hostname", "{\"time\":\"June 29\",\"status\":\"violation\"}", "my host",
	  "<132>1 - my_host complyd - violation [alert@32473 status=\"violation\"] ", 4 },
};

static void
test_format_alert(void **state)
{
	static const char *const params[] = {
		"id", "tenant", "obligation", "law", "law_version", "key", "status", "state",
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(alert_cases) / sizeof(alert_cases[0]); i++) {
		const struct alert_case *c = &alert_cases[i];
		cJSON			*alert = cJSON_Parse(c->alert), *body;
		struct sbuf		 out;
		struct syslog_msg	 m;
		char			 err[256];

		assert_non_null(alert);
		sbuf_init(&out);
		sbuf_puts(&out, "");
		syslog_format_alert(&out, alert, c->host);
		if (strncmp(out.s, c->prefix, strlen(c->prefix)) != 0)
			fail_msg("%s: got\n%s\nwant prefix\n%s", c->name, out.s, c->prefix);
		assert_null(memchr(out.s, '\n', out.len));

		/* Round trip: parse it back. */
		if (syslog_parse(out.s, out.len, &m, err, sizeof(err)) != 0)
			fail_msg("%s: parse back: %s\n%s", c->name, err, out.s);
		assert_true(m.rfc5424);
		assert_int_equal(m.pri, 16 * 8 + c->sev);
		assert_string_equal(m.app, "complyd");
		for (k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(alert, params[k]);
			char *got = sd_param(&m, params[k]);

			if (cJSON_IsString(v)) {
				if (got == NULL || strcmp(got, v->valuestring) != 0)
					fail_msg("%s: param %s = %s, want %s", c->name, params[k],
					    got ? got : "(absent)", v->valuestring);
			} else if (got != NULL) {
				fail_msg("%s: param %s should be omitted", c->name, params[k]);
			}
			free(got);
		}
		{
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(alert, "status");

			assert_string_equal(m.msgid, cJSON_IsString(st) ? st->valuestring : "");
		}
		body = cJSON_ParseWithLength(m.msg, m.msglen);
		assert_non_null(body);
		assert_true(cJSON_Compare(body, alert, 1));
		cJSON_Delete(body);
		/* The event extractor sees the same JSON. */
		body = syslog_event(&m, err, sizeof(err));
		assert_non_null(body);
		assert_true(cJSON_Compare(body, alert, 1));
		cJSON_Delete(body);
		sbuf_free(&out);
		cJSON_Delete(alert);
	}
}

/* Formatting appends: two alerts into one buffer. */
static void
test_format_appends(void **state)
{
	struct sbuf	 out;
	cJSON		*a = cJSON_Parse("{\"status\":\"review\",\"severity\":\"low\"}");

	(void)state;
	sbuf_init(&out);
	sbuf_puts(&out, "12 ");
	syslog_format_alert(&out, a, "h");
	assert_string_equal(out.s, "12 <133>1 - h complyd - review [alert@32473 status=\"review\"] "
	    "{\"status\":\"review\",\"severity\":\"low\"}");
	sbuf_free(&out);
	cJSON_Delete(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_framing_stream),
		cmocka_unit_test(test_framing_random),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_robust),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_format_alert),
		cmocka_unit_test(test_format_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
