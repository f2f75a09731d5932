/*
 * test_event.c - the event envelope (event.h): event_decode and
 * event_from_json accept exactly the envelopes of DESIGN.md "Events" and give
 * a one-line reason for the rest; event_peek_time finds the top-level "time"
 * of a line without building a tree. Table-driven: each case has a name that
 * a failure prints.
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

#include "complyd/event.h"
#include "complyd/when.h"


/* The arena the cases also decode in; the first one routes cJSON's
 * allocations through hooks, so every later test runs with them. */
static struct event_arena *arena;

static void
same_event(const struct soc_event *a, const struct soc_event *b)
{
	char	*ta, *tb;

	assert_string_equal(a->id, b->id);
	assert_string_equal(a->tenant, b->tenant);
	assert_string_equal(a->type, b->type);
	assert_int_equal(a->time, b->time);
	ta = cJSON_PrintUnformatted(a->json);
	tb = cJSON_PrintUnformatted(b->json);
	assert_string_equal(ta, tb);
	cJSON_free(ta);
	cJSON_free(tb);
}

/*
 * event_decode, checked against event_decode_in on the same line: the same
 * result, reason and event. The arena's event is let go with the arena.
 */
static int
decode(const char *line, size_t len, struct soc_event *ev, char *err,
    size_t errlen)
{
	struct soc_event	 in;
	char			 err_in[256];
	int			 rc, rc_in;

	if (arena == NULL)
		arena = event_arena_new();
	err_in[0] = '\0';
	rc_in = event_decode_in(arena, line, len, &in, err_in, sizeof(err_in));
	rc = event_decode(line, len, ev, err, errlen);
	assert_int_equal(rc, rc_in);
	if (rc == -1) {
		assert_string_equal(err, err_in);
		assert_null(in.json);
		return -1;
	}
	assert_true(in.in_arena && !ev->in_arena);
	same_event(ev, &in);
	event_dispose(&in);	/* leaves the tree to the arena */
	assert_null(in.json);
	return 0;
}

/* ---- event_decode: accepted envelopes ---- */

static void
test_decode_valid(void **state)
{
	static const struct {
		const char	*name, *line;
		const char	*id, *tenant, *type, *time;
	} t[] = {
		{ "UTF-8 of one to four bytes",
		    "{\"id\":\"e1\",\"time\":\"2026-05-31T00:30:00+09:00\","
		    "\"tenant\":\"acme\",\"type\":\"x.y\",\"p\":\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x94\xa5\xef\xbf\xbf\"}",
		    "e1", "acme", "x.y", "2026-05-31T00:30:00+09:00" },
		{ "minimal envelope",
		    "{\"id\":\"e1\",\"time\":\"2026-05-31T00:30:00+09:00\","
		    "\"tenant\":\"acme\",\"type\":\"subcontract.paid\"}",
		    "e1", "acme", "subcontract.paid", "2026-05-30T15:30:00Z" },
		{ "Z offset is the same instant",
		    "{\"id\":\"e2\",\"time\":\"2026-05-30T15:30:00Z\","
		    "\"tenant\":\"acme\",\"type\":\"subcontract.paid\"}",
		    "e2", "acme", "subcontract.paid", "2026-05-31T00:30:00+09:00" },
		{ "extra fields, source and recorded_at are attributes",
		    "{\"id\":\"e3\",\"time\":\"2026-01-01T00:00:00+09:00\","
		    "\"tenant\":\"t\",\"type\":\"x.y\",\"source\":\"syslog\","
		    "\"recorded_at\":\"2026-01-02T00:00:00Z\",\"amount_jpy\":5,"
		    "\"nested\":{\"time\":\"bogus\"}}",
		    "e3", "t", "x.y", "2025-12-31T15:00:00Z" },
		{ "unknown type with several dots",
		    "{\"id\":\"e4\",\"time\":\"2026-01-01T00:00:00.250+09:00\","
		    "\"tenant\":\"t\",\"type\":\"a.b.c\"}",
		    "e4", "t", "a.b.c", "2025-12-31T15:00:00.250Z" },
		{ "trailing newline and spaces are fine",
		    "  {\"id\":\"e5\",\"time\":\"2026-01-01T00:00:00Z\","
		    "\"tenant\":\"t\",\"type\":\"x.y\"}  \r\n",
		    "e5", "t", "x.y", "2026-01-01T09:00:00+09:00" },
		{ "upsert of the envelope's own tenant",
		    "{\"id\":\"e6\",\"time\":\"2026-01-01T00:00:00Z\","
		    "\"tenant\":\"acme\",\"type\":\"contract.upserted\","
		    "\"record\":{\"id\":\"C-1\",\"tenant\":\"acme\"}}",
		    "e6", "acme", "contract.upserted", "2026-01-01T00:00:00Z" },
		{ "keys that hash alike (length, first, middle, last byte)",
		    "{\"id\":\"e8\",\"time\":\"2026-01-01T00:00:00Z\","
		    "\"tenant\":\"acme\",\"type\":\"x.y\",\"axbyc\":1,"
		    "\"azbwc\":2,\"tXmXe\":3,\"o\":{\"ab\":1,\"a\":2,\"abb\":3}}",
		    "e8", "acme", "x.y", "2026-01-01T00:00:00Z" },
		{ "a record on a non-upsert type is just an attribute",
		    "{\"id\":\"e7\",\"time\":\"2026-01-01T00:00:00Z\","
		    "\"tenant\":\"acme\",\"type\":\"contract.changed\","
		    "\"record\":{\"tenant\":\"other\"}}",
		    "e7", "acme", "contract.changed", "2026-01-01T00:00:00Z" },
	};
	struct soc_event	 ev;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		err[0] = '\0';
		assert_int_equal(decode(t[i].line, strlen(t[i].line), &ev,
		    err, sizeof(err)), 0);
		assert_non_null(ev.json);
		assert_string_equal(ev.id, t[i].id);
		assert_string_equal(ev.tenant, t[i].tenant);
		assert_string_equal(ev.type, t[i].type);
		assert_int_equal(ev.time, I(t[i].time));
		event_dispose(&ev);
		assert_null(ev.json);
	}
}

/* ---- event_decode: rejected lines and their reasons ---- */

static void
test_decode_invalid(void **state)
{
	static const struct {
		const char	*name, *line;
		const char	*reason;	/* a substring of the error */
	} t[] = {
		{ "missing id",
		    "{\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\"}",
		    "missing \"id\"" },
		{ "missing time",
		    "{\"id\":\"e\",\"tenant\":\"t\",\"type\":\"x.y\"}",
		    "missing \"time\"" },
		{ "missing tenant",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"x.y\"}",
		    "missing \"tenant\"" },
		{ "missing type",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\"}",
		    "missing \"type\"" },
		{ "empty id",
		    "{\"id\":\"\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"x.y\"}", "\"id\" must be a non-empty string" },
		{ "empty time",
		    "{\"id\":\"e\",\"time\":\"\",\"tenant\":\"t\",\"type\":\"x.y\"}",
		    "\"time\" must be a non-empty string" },
		{ "empty tenant",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"\","
		    "\"type\":\"x.y\"}", "\"tenant\" must be a non-empty string" },
		{ "empty type",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"\"}", "\"type\" must be a non-empty string" },
		{ "numeric id",
		    "{\"id\":7,\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"x.y\"}", "\"id\" must be a non-empty string" },
		{ "null tenant",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":null,"
		    "\"type\":\"x.y\"}", "\"tenant\" must be a non-empty string" },
		{ "type without a dot",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"paid\"}", "dotted" },
		{ "time without offset",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00\",\"tenant\":\"t\","
		    "\"type\":\"x.y\"}", "\"time\" is not RFC 3339 with an offset" },
		{ "date only",
		    "{\"id\":\"e\",\"time\":\"2026-01-01\",\"tenant\":\"t\","
		    "\"type\":\"x.y\"}", "\"time\" is not RFC 3339 with an offset" },
		{ "time as a number",
		    "{\"id\":\"e\",\"time\":1767225600,\"tenant\":\"t\","
		    "\"type\":\"x.y\"}", "\"time\" must be a non-empty string" },
		{ "array", "[{\"id\":\"e\"}]", "must be a JSON object" },
		{ "string", "\"hello\"", "must be a JSON object" },
		{ "number", "42", "must be a JSON object" },
		{ "null", "null", "must be a JSON object" },
		{ "invalid JSON", "{\"id\":\"e\",", "invalid JSON" },
		{ "empty line", "", "invalid JSON" },
		{ "trailing garbage",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"x.y\"} x", "trailing data" },
		{ "two objects on one line",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"x.y\"}{\"id\":\"f\"}", "trailing data" },
		{ "upsert: record.tenant of another tenant",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"acme\","
		    "\"type\":\"contract.upserted\",\"record\":{\"id\":\"C-1\","
		    "\"tenant\":\"evil\"}}", "\"record.tenant\" must equal" },
		{ "upsert: record without tenant",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"acme\","
		    "\"type\":\"dataset.upserted\",\"record\":{\"id\":\"DS-1\"}}",
		    "\"record.tenant\" must equal" },
		{ "upsert: record without id",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"acme\","
		    "\"type\":\"facility.upserted\",\"record\":{\"tenant\":\"acme\"}}",
		    "\"record.id\" must be a non-empty string" },
		{ "upsert: record with an empty id",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"acme\","
		    "\"type\":\"facility.upserted\",\"record\":{\"id\":\"\","
		    "\"tenant\":\"acme\"}}", "\"record.id\" must be a non-empty string" },
		{ "upsert: no record",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"acme\","
		    "\"type\":\"contract.upserted\"}", "\"record\" must be an object" },
		{ "a key given twice inside the record",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"acme\","
		    "\"type\":\"contract.upserted\",\"record\":{\"id\":\"C-1\","
		    "\"tenant\":\"acme\",\"id\":\"C-2\"}}", "key \"id\" is given twice" },
		{ "a key given twice in an object inside a list",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"x.y\",\"l\":[{\"a\":1},{\"b\":1,\"b\":2}]}",
		    "key \"b\" is given twice" },
		{ "a key given twice among keys that hash alike",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"x.y\",\"axbyc\":1,\"azbwc\":2,\"azbwc\":3}",
		    "key \"azbwc\" is given twice" },
		{ "of two keys given twice, the first given is named",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\","
		    "\"type\":\"x.y\",\"a\":1,\"b\":1,\"b\":2,\"a\":2}",
		    "key \"a\" is given twice" },
		{ "upsert: record is a string",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"acme\","
		    "\"type\":\"contract.upserted\",\"record\":\"C-1\"}",
		    "\"record\" must be an object" },
		{ "invalid UTF-8: a stray continuation byte",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"\x80\"}", "invalid UTF-8 at byte" },
		{ "invalid UTF-8: 0xff",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"ok\xff\"}", "invalid UTF-8 at byte" },
		{ "invalid UTF-8: overlong slash",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"\xc0\xaf\"}", "invalid UTF-8 at byte" },
		{ "invalid UTF-8: overlong three bytes",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"\xe0\x80\xaf\"}", "invalid UTF-8 at byte" },
		{ "invalid UTF-8: a surrogate",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"\xed\xa0\x80\"}", "invalid UTF-8 at byte" },
		{ "invalid UTF-8: past U+10FFFF",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8 at byte" },
		{ "invalid UTF-8: a sequence cut short",
		    "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"\xe6\x97" "\"}", "invalid UTF-8 at byte" },
	};
	struct soc_event	 ev;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		err[0] = '\0';
		assert_int_equal(decode(t[i].line, strlen(t[i].line), &ev,
		    err, sizeof(err)), -1);
		assert_null(ev.json);
		if (strstr(err, t[i].reason) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", t[i].name, err,
			    t[i].reason);
		assert_null(strchr(err, '\n'));		/* one line */
	}
}

/* An object of many keys is checked through a hash map: its duplicate is found. */
static void
test_decode_many_keys(void **state)
{
	struct soc_event	 ev;
	char			 err[256], *line;
	size_t			 n = 0, cap = 20000 * 16 + 256;
	int			 i;

	(void)state;
	line = malloc(cap);
	n += (size_t)snprintf(line + n, cap - n, "{\"id\":\"e\",\"time\":"
	    "\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\",\"o\":{");
	for (i = 0; i < 20000; i++)
		n += (size_t)snprintf(line + n, cap - n, "\"k%d\":1,", i);
	snprintf(line + n, cap - n, "\"k19999\":2}}");
	assert_int_equal(decode(line, strlen(line), &ev, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "key \"k19999\" is given twice"));
	/* the same without the repeated key is an event */
	snprintf(line + n - 1, cap - n + 1, "}}");
	assert_int_equal(decode(line, strlen(line), &ev, err, sizeof(err)), 0);
	event_dispose(&ev);
	free(line);
}

/* Only len bytes are read: a line need not be NUL-terminated. */
static void
test_decode_len(void **state)
{
	static const char buf[] = "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\","
	    "\"tenant\":\"t\",\"type\":\"x.y\"}GARBAGE";
	struct soc_event	 ev;
	char		 err[256];

	(void)state;
	assert_int_equal(decode(buf, strlen(buf) - 7, &ev, err,
	    sizeof(err)), 0);
	assert_string_equal(ev.id, "e");
	event_dispose(&ev);
	assert_int_equal(decode(buf, strlen(buf), &ev, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trailing data"));
}

/* A line longer than EVENT_MAX_LINE is rejected, not truncated. */
static void
test_decode_long_line(void **state)
{
	static const char head[] = "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\","
	    "\"tenant\":\"t\",\"type\":\"x.y\",\"pad\":\"";
	static const char tail[] = "\"}";
	struct soc_event	 ev;
	char		 err[256], *line;
	size_t		 len, pad;

	(void)state;
	/* Exactly EVENT_MAX_LINE bytes: accepted. */
	len = EVENT_MAX_LINE;
	line = malloc(len + 2);
	assert_non_null(line);
	pad = len - strlen(head) - strlen(tail);
	memcpy(line, head, strlen(head));
	memset(line + strlen(head), 'a', pad);
	memcpy(line + strlen(head) + pad, tail, strlen(tail) + 1);
	assert_int_equal(strlen(line), len);
	assert_int_equal(decode(line, len, &ev, err, sizeof(err)), 0);
	assert_int_equal(strlen(cJSON_GetObjectItem(ev.json, "pad")->valuestring),
	    pad);
	event_dispose(&ev);

	/* One byte more: rejected with a reason that says why. */
	len = EVENT_MAX_LINE + 1;
	pad = len - strlen(head) - strlen(tail);
	memcpy(line, head, strlen(head));
	memset(line + strlen(head), 'a', pad);
	memcpy(line + strlen(head) + pad, tail, strlen(tail) + 1);
	assert_int_equal(strlen(line), len);
	err[0] = '\0';
	assert_int_equal(decode(line, len, &ev, err, sizeof(err)), -1);
	assert_null(ev.json);
	assert_non_null(strstr(err, "longer than"));
	free(line);
}

/* ---- the raw text checks, at every position ---- */

/* The error of decoding line (len bytes), "" if it is an event. */
static const char *
decode_error(const char *line, size_t len)
{
	static char		 err[256];
	struct soc_event	 ev;

	err[0] = '\0';
	if (decode(line, len, &ev, err, sizeof(err)) == 0) {
		event_dispose(&ev);
		return "";
	}
	return err;
}

/*
 * A line whose "p" value is pad bytes of 'a' with bytes put at offset at,
 * so that the bytes tried fall at every place of the 16-byte blocks the text
 * is scanned in, and at the line's end.
 */
static size_t
line_with(char *buf, size_t cap, size_t pad, size_t at, const char *put,
    size_t putlen, int close)
{
	static const char head[] = "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\","
	    "\"tenant\":\"t\",\"type\":\"x.y\",\"p\":\"";
	size_t	 n = sizeof(head) - 1;

	assert_true(n + pad + putlen + 2 < cap);
	memcpy(buf, head, n);
	memset(buf + n, 'a', pad);
	memcpy(buf + n + at, put, putlen);
	n += pad > at + putlen ? pad : at + putlen;
	if (close) {
		memcpy(buf + n, "\"}", 2);
		n += 2;
	}
	return n;
}

static void
test_text_every_position(void **state)
{
	static const struct {
		const char	*name, *put;
		size_t		 putlen;
		int		 bad_at;	/* offset in put of the bad byte; -1: UTF-8 */
		const char	*reason;	/* NULL: accepted */
	} t[] = {
		{ "0xff", "\xff", 1, 0, "invalid UTF-8" },
		{ "stray continuation", "\x80", 1, 0, "invalid UTF-8" },
		{ "cut two-byte", "\xc3" "a", 2, 0, "invalid UTF-8" },
		{ "cut three-byte", "\xe6\x97" "a", 3, 0, "invalid UTF-8" },
		{ "surrogate", "\xed\xa0\x80", 3, 0, "invalid UTF-8" },
		{ "overlong four-byte", "\xf0\x80\x80\x80", 4, 0, "invalid UTF-8" },
		{ "valid after invalid", "\xe6\x97\xa5\xff", 4, 3, "invalid UTF-8" },
		{ "raw NUL", "\0", 1, -1, "NUL characters are not allowed" },
		{ "NUL escape", "\\u0000", 6, -1, "NUL characters are not allowed" },
		{ "NUL escape after an escaped backslash", "\\\\u0000", 7, -1,
		    "NUL characters are not allowed" },
		{ "NUL after invalid UTF-8: NUL is named", "\xff" "a\\u0000", 8, -1,
		    "NUL characters are not allowed" },
		{ "other escapes", "\\u0001\\n\\\"\\\\", 12, -1, NULL },
		{ "two to four bytes", "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x94\xa5", 9, -1,
		    NULL },
		{ "a run of three-byte characters",
		    "\xe6\x83\x85\xe5\xa0\xb1\xe3\x82\xb7\xe3\x82\xb9\xe3\x83\x86"
		    "\xe3\x83\xa0\xe9\x83\xa8", 21, -1, NULL },
	};
	char		 line[256], want[64];
	const char	*err;
	size_t		 i, pad, at, len, off;
	int		 close;

	(void)state;
	for (i = 0; i < NELEM(t); i++)
		for (pad = 0; pad <= 40; pad++)
			for (at = 0; at <= pad; at++)
				for (close = 0; close <= 1; close++) {
					len = line_with(line, sizeof(line), pad, at,
					    t[i].put, t[i].putlen, close);
					err = decode_error(line, len);
					if (t[i].reason == NULL) {
						if (close && *err != '\0')
							fail_msg("%s pad %zu at %zu: %s",
							    t[i].name, pad, at, err);
						continue;
					}
					off = len - (close ? 2 : 0) -
					    (pad > at + t[i].putlen ? pad : at +
					    t[i].putlen) + at;
					if (t[i].bad_at >= 0)
						snprintf(want, sizeof(want),
						    "invalid UTF-8 at byte %zu",
						    off + (size_t)t[i].bad_at + 1);
					else
						snprintf(want, sizeof(want), "%s",
						    t[i].reason);
					if (strcmp(err, want) != 0)
						fail_msg("%s pad %zu at %zu close %d: "
						    "\"%s\", want \"%s\"", t[i].name,
						    pad, at, close, err, want);
				}
}

/* ---- duplicate keys: hashes alike, keys not; keys alike, spelt apart ---- */

static void
test_duplicate_keys(void **state)
{
	static const char head[] = "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\","
	    "\"tenant\":\"t\",\"type\":\"x.y\",";
	static const struct {
		const char	*name, *members;
		const char	*twice;		/* NULL: accepted */
	} t[] = {
		{ "same first four bytes", "\"abcdX\":1,\"abcdY\":2", NULL },
		{ "same first, middle, last bytes and length",
		    "\"axbyc\":1,\"azbwc\":2", NULL },
		{ "a prefix of the other", "\"abc\":1,\"abcd\":2,\"ab\":3,\"a\":4,"
		    "\"abcde\":5", NULL },
		{ "same length, last byte differs", "\"key1\":1,\"key2\":2", NULL },
		{ "long keys, last byte differs",
		    "\"recorded_at_1\":1,\"recorded_at_2\":2", NULL },
		{ "envelope names as prefixes", "\"tena\":1,\"types\":2,"
		    "\"tim\":3,\"i\":4,\"idx\":5", NULL },
		{ "one byte twice", "\"a\":1,\"a\":2", "a" },
		{ "three bytes twice", "\"abc\":1,\"x\":0,\"abc\":2", "abc" },
		{ "four bytes twice", "\"abcd\":1,\"abcd\":2", "abcd" },
		{ "long key twice", "\"recorded_at\":1,\"records\":0,"
		    "\"recorded_at\":2", "recorded_at" },
		{ "empty key twice", "\"\":1,\"\":2", "" },
		{ "spelt with an escape", "\"ab\":1,\"a\\u0062\":2", "ab" },
		{ "escaped quote in both", "\"a\\\"b\":1,\"a\\u0022b\":2", "a\"b" },
		{ "non-ASCII key twice", "\"\xe6\x97\xa5\xe6\x9c\xac\":1,"
		    "\"\xe6\x97\xa5\":0,\"\xe6\x97\xa5\xe6\x9c\xac\":2",
		    "\xe6\x97\xa5\xe6\x9c\xac" },
		{ "non-ASCII keys alike, not the same",
		    "\"\xe6\x97\xa5\xe6\x9c\xac\":1,\"\xe6\x97\xa5\xe6\x9c\xad\":2",
		    NULL },
		{ "an envelope key twice", "\"tenant\":\"u\"", "tenant" },
		{ "the first with a later twin is named, not the first seen twice",
		    "\"a\":1,\"b\":1,\"b\":2,\"a\":2", "a" },
		{ "sixteen keys, the last twice", "\"k0\":0,\"k1\":0,\"k2\":0,"
		    "\"k3\":0,\"k4\":0,\"k5\":0,\"k6\":0,\"k7\":0,\"k8\":0,"
		    "\"k9\":0,\"k10\":0,\"k8\":1", "k8" },
		{ "twice in a nested object", "\"o\":{\"abcdX\":1,\"abcdX\":2}",
		    "abcdX" },
		{ "nested objects alike are fine", "\"o\":{\"a\":1},\"p\":{\"a\":1}",
		    NULL },
	};
	char		 line[512], want[64];
	const char	*err;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		snprintf(line, sizeof(line), "%s%s}", head, t[i].members);
		err = decode_error(line, strlen(line));
		if (t[i].twice == NULL) {
			assert_string_equal(err, "");
			continue;
		}
		snprintf(want, sizeof(want), "key \"%s\" is given twice", t[i].twice);
		assert_string_equal(err, want);
	}
}

/* The envelope's members are found by their whole names, not their hashes. */
static void
test_required_by_name(void **state)
{
	static const struct {
		const char	*name, *line, *reason;
	} t[] = {
		{ "tenant spelt tenants", "{\"id\":\"e\",\"time\":"
		    "\"2026-01-01T00:00:00Z\",\"tenants\":\"t\",\"type\":\"x.y\"}",
		    "missing \"tenant\"" },
		{ "id spelt idx", "{\"idx\":\"e\",\"time\":\"2026-01-01T00:00:00Z\","
		    "\"tenant\":\"t\",\"type\":\"x.y\"}", "missing \"id\"" },
		{ "time spelt times", "{\"id\":\"e\",\"times\":"
		    "\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":\"x.y\"}",
		    "missing \"time\"" },
		{ "type spelt with an escape", "{\"id\":\"e\",\"time\":"
		    "\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"typ\\u0065\":\"x\"}",
		    "\"type\" must be dotted" },
	};
	const char	*err;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		err = decode_error(t[i].line, strlen(t[i].line));
		if (strstr(err, t[i].reason) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", t[i].name, err,
			    t[i].reason);
	}
}

/* ---- event_decode_in: the arena ---- */

static const char arena_line[] = "{\"id\":\"e1\",\"time\":\"2026-01-01T00:00:00Z\","
    "\"tenant\":\"t\",\"type\":\"x.y\",\"l\":[1,2.5,{\"a\":\"b\"}]}";

static cJSON *
decode_in(struct event_arena *a, const char *line, struct soc_event *ev,
    int ok)
{
	char	 err[256];

	assert_int_equal(event_decode_in(a, line, strlen(line), ev, err,
	    sizeof(err)), ok ? 0 : -1);
	return ev->json;
}

/*
 * A line that fails, whether in parsing or in its envelope, takes nothing
 * from the arena: the next event starts where it would have, and the events
 * before it are left whole.
 */
static void
test_arena_failure(void **state)
{
	static const char *const bad[] = {
		"{\"id\":\"e2\",\"l\":[1,2,{\"a\":\"b\"",	/* cut short */
		"{\"id\":\"e2\",\"l\":[{\"a\":1,\"a\":2}]}",	/* key twice */
		"{\"id\":\"e2\"} x",				/* trailing data */
		"[1,2,3]",						/* not an object */
	};
	struct event_arena	*a = event_arena_new();
	struct soc_event	 e1, e2, e3;
	cJSON			*first;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		print_message("case: %s\n", bad[i]);
		event_arena_reset(a);
		first = decode_in(a, arena_line, &e1, 1);
		event_arena_reset(a);
		assert_null(decode_in(a, bad[i], &e2, 0));
		assert_ptr_equal(decode_in(a, arena_line, &e1, 1), first);
		assert_null(decode_in(a, bad[i], &e2, 0));
		assert_non_null(decode_in(a, arena_line, &e3, 1));
		same_event(&e1, &e3);
	}
	event_arena_free(a);
}

/* Many events fill several chunks; a node larger than a chunk gets its own. */
static void
test_arena_growth(void **state)
{
	static const char head[] = "{\"id\":\"big\",\"time\":\"2026-01-01T00:00:00Z\","
	    "\"tenant\":\"t\",\"type\":\"x.y\",\"pad\":\"";
	struct event_arena	*a = event_arena_new();
	struct soc_event	 ev[2000], big;
	char			*line;
	size_t			 pad = 900 * 1024, i;
	int			 round;

	(void)state;
	line = malloc(sizeof(head) + pad + 2);
	memcpy(line, head, sizeof(head) - 1);
	memset(line + sizeof(head) - 1, 'p', pad);
	memcpy(line + sizeof(head) - 1 + pad, "\"}", 3);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < NELEM(ev); i++)
			decode_in(a, arena_line, &ev[i], 1);
		decode_in(a, line, &big, 1);
		for (i = 0; i < NELEM(ev); i++)
			same_event(&ev[0], &ev[i]);
		assert_int_equal(strlen(cJSON_GetObjectItem(big.json,
		    "pad")->valuestring), pad);
		event_arena_reset(a);
	}
	free(line);
	event_arena_free(a);
	event_arena_free(arena);	/* decode()'s, done with */
	arena = NULL;
}

/* ---- event_from_json: an already parsed object, owned either way ---- */

static void
test_from_json(void **state)
{
	static const struct {
		const char	*name, *json;
		int		 ok;
		const char	*reason;
	} t[] = {
		{ "valid", "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00+09:00\","
		    "\"tenant\":\"t\",\"type\":\"x.y\"}", 1, NULL },
		{ "not an object", "[1,2]", 0, "must be a JSON object" },
		{ "missing tenant", "{\"id\":\"e\",\"time\":\"2026-01-01T00:00:00Z\","
		    "\"type\":\"x.y\"}", 0, "missing \"tenant\"" },
		{ "bad time", "{\"id\":\"e\",\"time\":\"2026-01-01 00:00\","
		    "\"tenant\":\"t\",\"type\":\"x.y\"}", 0, "RFC 3339" },
		{ "upsert of another tenant", "{\"id\":\"e\",\"time\":"
		    "\"2026-01-01T00:00:00Z\",\"tenant\":\"t\",\"type\":"
		    "\"facility.upserted\",\"record\":{\"id\":\"F\",\"tenant\":\"u\"}}",
		    0, "record.tenant" },
	};
	struct soc_event	 ev;
	char		 err[256];
	size_t		 i;
	cJSON		*j;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		j = cJSON_Parse(t[i].json);
		assert_non_null(j);
		err[0] = '\0';
		/* On failure the object is freed by event_from_json (ASan checks). */
		assert_int_equal(event_from_json(j, &ev, err, sizeof(err)),
		    t[i].ok ? 0 : -1);
		if (t[i].ok) {
			char *text = cJSON_PrintUnformatted(ev.json);

			/* A one-block copy of the object, the parsed tree freed. */
			assert_string_equal(text, t[i].json);
			cJSON_free(text);
			assert_string_equal(ev.tenant, "t");
			assert_int_equal(ev.time, I("2025-12-31T15:00:00Z"));
			event_dispose(&ev);
		} else {
			assert_null(ev.json);
			assert_non_null(strstr(err, t[i].reason));
		}
	}
}

/* ---- event_peek_time ---- */

static void
test_peek_time(void **state)
{
	static const struct {
		const char	*name, *line;
		const char	*want;		/* NULL: -1 expected */
	} t[] = {
		{ "time first", "{\"time\":\"2026-05-30T15:30:00Z\",\"id\":\"e\"}",
		    "2026-05-30T15:30:00Z" },
		{ "time last", "{\"id\":\"e\",\"tenant\":\"t\",\"time\":"
		    "\"2026-05-31T00:30:00+09:00\"}", "2026-05-30T15:30:00Z" },
		{ "spaces around the colon", "{ \"id\" : \"e\" , \"time\" : "
		    "\"2026-01-01T00:00:00Z\" }", "2026-01-01T00:00:00Z" },
		{ "nested time in an attribute object comes first",
		    "{\"id\":\"e\",\"attrs\":{\"time\":\"1999-01-01T00:00:00Z\"},"
		    "\"time\":\"2026-01-01T00:00:00Z\"}", "2026-01-01T00:00:00Z" },
		{ "nested time two levels down",
		    "{\"a\":{\"b\":{\"time\":\"1999-01-01T00:00:00Z\"},\"time\":"
		    "\"1998-01-01T00:00:00Z\"},\"time\":\"2026-01-01T00:00:00Z\"}",
		    "2026-01-01T00:00:00Z" },
		{ "nested time inside an array of objects",
		    "{\"list\":[{\"time\":\"1999-01-01T00:00:00Z\"},\"time\"],"
		    "\"time\":\"2026-01-01T00:00:00Z\"}", "2026-01-01T00:00:00Z" },
		{ "\"time\" as a string value, not a key",
		    "{\"note\":\"time\",\"kind\":\"time\",\"time\":"
		    "\"2026-01-01T00:00:00Z\"}", "2026-01-01T00:00:00Z" },
		{ "escaped quotes hide a fake time key",
		    "{\"msg\":\"he said \\\"time\\\":\\\"1999-01-01T00:00:00Z\\\"\","
		    "\"time\":\"2026-01-01T00:00:00Z\"}", "2026-01-01T00:00:00Z" },
		{ "string ending in an escaped backslash",
		    "{\"path\":\"C:\\\\\",\"time\":\"2026-01-01T00:00:00Z\"}",
		    "2026-01-01T00:00:00Z" },
		{ "braces inside strings",
		    "{\"msg\":\"{\\\"time\\\": 1} [\",\"time\":"
		    "\"2026-01-01T00:00:00Z\"}", "2026-01-01T00:00:00Z" },
		{ "key that merely starts with time",
		    "{\"timestamp\":\"1999-01-01T00:00:00Z\",\"time\":"
		    "\"2026-01-01T00:00:00Z\"}", "2026-01-01T00:00:00Z" },
		{ "no time at all", "{\"id\":\"e\",\"tenant\":\"t\"}", NULL },
		{ "only a nested time", "{\"id\":\"e\",\"attrs\":{\"time\":"
		    "\"2026-01-01T00:00:00Z\"}}", NULL },
		{ "time is a number", "{\"time\":1767225600}", NULL },
		{ "time without offset", "{\"time\":\"2026-01-01T00:00:00\"}", NULL },
		{ "unterminated time", "{\"time\":\"2026-01-01T00:00:00Z", NULL },
		{ "time with a fraction and an offset", "{\"time\":"
		    "\"2026-01-01T09:00:00.1239+09:00\"}", "2026-01-01T00:00:00.123Z" },
		{ "time with a lowercase t and z",
		    "{\"time\":\"2026-01-01t00:00:00z\"}", "2026-01-01T00:00:00Z" },
		{ "time of 63 bytes", "{\"time\":\"2026-01-01T00:00:00."
		    "000000000000000000000000000000000000000000Z\"}",
		    "2026-01-01T00:00:00Z" },
		{ "time of 64 bytes is not read", "{\"time\":\"2026-01-01T00:00:00."
		    "0000000000000000000000000000000000000000000Z\"}", NULL },
		{ "time with an escape", "{\"time\":\"2026-01-01T00:00:00\\u005a\"}",
		    NULL },
		{ "time with trailing bytes", "{\"time\":\"2026-01-01T00:00:00Zx\"}",
		    NULL },
		{ "time cut at the line's end", "{\"time\":\"2026-01-01T00:00:00", NULL },
		{ "empty line", "", NULL },
	};
	instant_t	 got;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		got = 0;
		rc = event_peek_time(t[i].line, strlen(t[i].line), &got);
		if (t[i].want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(got, I(t[i].want));
	}
}

/*
 * event_peek_string: what a replay split by tenant reads off a line to give
 * it to the thread of its tenant. Where it answers, a decoded line must
 * have that tenant; escapes it leaves to the decoder.
 */
static void
test_peek_string(void **state)
{
	static const struct {
		const char	*name, *line;
		const char	*want;		/* raw bytes; NULL: -1 expected */
	} t[] = {
		{ "plain", "{\"id\":\"e\",\"tenant\":\"acme\"}", "acme" },
		{ "empty value", "{\"tenant\":\"\"}", "" },
		{ "spaces, tab and CR around the colon",
		    "{\"tenant\" \t\r: \"acme\"}", "acme" },
		{ "nested tenant first is not the event's",
		    "{\"meta\":{\"tenant\":\"other\"},\"tenant\":\"acme\"}", "acme" },
		{ "tenant inside a list of objects",
		    "{\"l\":[{\"tenant\":\"x\"},\"tenant\"],\"tenant\":\"acme\"}",
		    "acme" },
		{ "\"tenant\" as a value, not a key",
		    "{\"k\":\"tenant\",\"tenant\":\"acme\"}", "acme" },
		{ "escaped quote before it in a string",
		    "{\"m\":\"a \\\"tenant\\\":\\\"x\\\"\",\"tenant\":\"acme\"}",
		    "acme" },
		{ "string ending in escaped backslashes",
		    "{\"p\":\"C:\\\\\\\\\",\"tenant\":\"acme\"}", "acme" },
		{ "escapes in the value are left as written",
		    "{\"tenant\":\"t\\u0031\"}", "t\\u0031" },
		{ "an escaped quote inside the value",
		    "{\"tenant\":\"a\\\"b\"}", "a\\\"b" },
		{ "the first of two is taken (the decoder refuses both)",
		    "{\"tenant\":\"a\",\"tenant\":\"b\"}", "a" },
		{ "key spelled with an escape is not found",
		    "{\"ten\\u0061nt\":\"acme\"}", NULL },
		{ "key that merely starts with tenant",
		    "{\"tenants\":\"x\"}", NULL },
		{ "value not a string", "{\"tenant\":7}", NULL },
		{ "unterminated value", "{\"tenant\":\"acme", NULL },
		{ "top level a list", "[{\"tenant\":\"acme\"}]", NULL },
		{ "empty line", "", NULL },
	};
	const char	*v;
	size_t		 i, vlen;
	int		 rc;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		print_message("case: %s\n", t[i].name);
		rc = event_peek_string(t[i].line, strlen(t[i].line), "tenant", &v,
		    &vlen);
		if (t[i].want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(vlen, strlen(t[i].want));
		assert_memory_equal(v, t[i].want, vlen);
	}
}

/* peek stops at len: a time past the end is not seen. */
static void
test_peek_len(void **state)
{
	static const char line[] = "{\"id\":\"e\"}{\"time\":\"2026-01-01T00:00:00Z\"}";
	instant_t	 got;

	(void)state;
	assert_int_equal(event_peek_time(line, 10, &got), -1);
	assert_int_equal(event_peek_time(line + 10, strlen(line) - 10, &got), 0);
	assert_int_equal(got, I("2026-01-01T00:00:00Z"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_peek_string),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_decode_many_keys),
		cmocka_unit_test(test_decode_len),
		cmocka_unit_test(test_decode_long_line),
		cmocka_unit_test(test_text_every_position),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_required_by_name),
		cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_peek_time),
		cmocka_unit_test(test_peek_len),
		cmocka_unit_test(test_arena_failure),
		cmocka_unit_test(test_arena_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
