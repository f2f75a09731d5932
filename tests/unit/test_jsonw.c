/*
 * test_jsonw.c - jsonw_value writes what cJSON_PrintUnformatted writes, byte
 * for byte: named edge cases (numbers on either side of cJSON's integer and
 * 15-digit tests, every control character, keys that need escapes) and
 * random trees. jsonw_string scans 8 bytes at a time: escapes on either
 * side of those words, next to bytes one off the escaped ones, in
 * multi-byte and invalid UTF-8, and in long strings have cases of their own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "complyd/jsonw.h"
#include "testutil.h"

/* Fails unless jsonw and cJSON print v alike. */
static void
assert_same(const char *name, const cJSON *v)
{
	char		*want = cJSON_PrintUnformatted(v);
	struct sbuf	 b;

	sbuf_init(&b);
	sbuf_add(&b, "x", 1);		/* appends: what was there stays */
	jsonw_value(&b, v);
	if (want == NULL)
		fail_msg("%s: cJSON cannot print it", name);
	if (b.s[0] != 'x' || strcmp(b.s + 1, want) != 0 || b.len != strlen(want) + 1)
		fail_msg("%s: wrote %s, cJSON %s", name, b.s + 1, want);
	free(want);
	sbuf_free(&b);
}

static void
test_texts(void **state)
{
	static const struct {
		const char *name, *json;
	} t[] = {
		{ "an alert", "{\"id\":\"a1\",\"tenant\":\"t\",\"severity\":\"high\","
		  "\"message\":{\"ja\":\"データセット D の利用\",\"en\":\"used\"},"
		  "\"evidence\":[\"e1\",\"e2\"],\"details\":{\"paid_jpy\":1630000}}" },
		{ "empty object and array", "{\"a\":{},\"b\":[]}" },
		{ "empty string and empty key", "{\"\":\"\"}" },
		{ "literals", "[null,true,false]" },
		{ "quote, backslash, slash", "[\"a\\\"b\\\\c/d\"]" },
		{ "named escapes", "[\"\\b\\f\\n\\r\\t\"]" },
		{ "other control characters", "[\"\\u0001\\u001f\\u000b\\u007f\"]" },
		{ "a key that needs escapes", "{\"k\\\"\\n\":1}" },
		{ "UTF-8 kept as is", "[\"日本語 é 😀\"]" },
		{ "integers", "[0,1,-1,2147483647,-2147483648,2147483648,-2147483649]" },
		{ "large integers", "[1e15,9007199254740993,1e300,-1e300]" },
		/* put_integer takes |d| < 1e15 only: both sides of that edge. */
		{ "15-digit integers", "[999999999999999,-999999999999999,100000000000000]" },
		{ "16-digit integers", "[1000000000000001,-1000000000000000,-1e15]" },
		{ "integral doubles", "[5.0,-7.0,1e14,120000000.0]" },
		{ "fractions", "[0.1,0.5,-2.7,3.141592653589793,1e-7,5e-324]" },
		{ "17 digits needed", "[0.30000000000000004,1.0000000000000002]" },
		{ "negative zero", "[-0.0]" },
		{ "nested", "[[[[{\"a\":[{\"b\":{}}]}]]]]" },
	};
	size_t	 i;
	cJSON	*v;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		if ((v = cJSON_Parse(t[i].json)) == NULL)
			fail_msg("%s: bad test JSON", t[i].name);
		assert_same(t[i].name, v);
		cJSON_Delete(v);
	}
}

static void
test_built_values(void **state)
{
	cJSON	*a = cJSON_CreateArray();
	char	 s[40];
	int	 c;

	(void)state;
	cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(INFINITY));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(-INFINITY));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(1.0 / 3.0));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(2.0 / 3.0 * 1e20));
	cJSON_AddItemToArray(a, cJSON_CreateRaw("{\"raw\":1}"));
	/* Every control character, alone and between letters. */
	for (c = 1; c < 32; c++) {
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		s[3] = '\0';
		cJSON_AddItemToArray(a, cJSON_CreateString(s));
		cJSON_AddItemToArray(a, cJSON_CreateString(s + 1));
	}
	assert_same("built values", a);
	cJSON_Delete(a);
}

/* Fails unless jsonw_string writes want for s, and cJSON prints s alike. */
static void
assert_string(const char *name, const char *s, const char *want)
{
	cJSON		*v = cJSON_CreateString(s);
	char		*cj = cJSON_PrintUnformatted(v);
	struct sbuf	 b;

	sbuf_init(&b);
	sbuf_add(&b, "x", 1);
	jsonw_string(&b, s);
	if (want != NULL && strcmp(b.s + 1, want) != 0)
		fail_msg("%s: wrote %s, want %s", name, b.s + 1, want);
	if (cj == NULL || strcmp(b.s + 1, cj) != 0 || b.len != strlen(cj) + 1)
		fail_msg("%s: wrote %s, cJSON %s", name, b.s + 1, cj ? cj : "?");
	free(cj);
	cJSON_Delete(v);
	sbuf_free(&b);
}

static void
test_string_words(void **state)
{
	static const struct {
		const char *name, *s, *want;
	} t[] = {
		{ "empty", "", "\"\"" },
		{ "7 bytes, no word", "abcdefg", "\"abcdefg\"" },
		{ "8 bytes, one word", "abcdefgh", "\"abcdefgh\"" },
		{ "9 bytes, a word and a tail", "abcdefghi", "\"abcdefghi\"" },
		{ "escape first", "\"abcdefghij", "\"\\\"abcdefghij\"" },
		{ "escape last of a word", "abcdefg\"hijklmno", "\"abcdefg\\\"hijklmno\"" },
		{ "escape first of a word", "abcdefgh\\ijklmnop", "\"abcdefgh\\\\ijklmnop\"" },
		{ "escape last of the second word", "abcdefghijklmno\n", "\"abcdefghijklmno\\n\"" },
		{ "escape in the tail", "abcdefghij\tk", "\"abcdefghij\\tk\"" },
		{ "escape last, in the tail", "abcdefghijk\r", "\"abcdefghijk\\r\"" },
		{ "escapes on both sides of a word edge", "abcdefg\b\fhijklmn",
		  "\"abcdefg\\b\\fhijklmn\"" },
		{ "a word of escapes", "\"\"\\\\\"\"\\\\", "\"\\\"\\\"\\\\\\\\\\\"\\\"\\\\\\\\\"" },
		{ "two escapes in one word", "a\"bcd\"efgh", "\"a\\\"bcd\\\"efgh\"" },
		{ "controls at word edges", "\x01" "bcdefg" "\x1f" "\x02" "ijklmn" "\x1e",
		  "\"\\u0001bcdefg\\u001f\\u0002ijklmn\\u001e\"" },
		/* One off each escaped byte: ' ', '!', '#', '[', ']' and DEL need none. */
		{ "neighbours of escaped bytes", "  !!##[[]]\x7f\x7f", "\"  !!##[[]]\x7f\x7f\"" },
		{ "a control after plain neighbours", " !#[]\x7f" "a" "\x1f",
		  "\" !#[]\x7f" "a\\u001f\"" },
		/* Bytes with the high bit set over the escaped ones: UTF-8 lead and trail bytes. */
		{ "high-bit twins of escaped bytes", "\xa2\xdc\x80\x9f\xa0\xa2\xdc\x81",
		  "\"\xa2\xdc\x80\x9f\xa0\xa2\xdc\x81\"" },
		{ "high-bit twins, then a quote", "\xa2\xdc\x80\x9f\xa0\xa2\xdc\"",
		  "\"\xa2\xdc\x80\x9f\xa0\xa2\xdc\\\"\"" },
		{ "Japanese with an escape", "データ\"セット\n", "\"データ\\\"セット\\n\"" },
		{ "a 4-byte character across a word edge", "abcde😀\t", "\"abcde😀\\t\"" },
		{ "4-byte characters only", "😀😀😀😀😀", "\"😀😀😀😀😀\"" },
		{ "invalid UTF-8 as it is", "\xff\xfe\x80\xc3\x28\"", "\"\xff\xfe\x80\xc3\x28\\\"\"" },
		{ "a truncated sequence at the end", "abcdefgh\xe3\x81", "\"abcdefgh\xe3\x81\"" },
		{ "a lone continuation before an escape", "abcdefg\x80\\", "\"abcdefg\x80\\\\\"" },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(t); i++)
		assert_string(t[i].name, t[i].s, t[i].want);
}

/*
 * Every byte that needs an escape, and some that do not, at every offset of
 * 1..40-byte strings of ASCII or of 3-byte characters: the word scan must
 * find each wherever it falls.
 */
static void
test_string_offsets(void **state)
{
	static const unsigned char bytes[] = { 0x01, 0x08, 0x0a, 0x1f, '"', '\\',
	    ' ', '!', '#', '[', ']', 0x7f, 0x80, 0xff };
	static const char *const fill[] = { "a", "\xe3\x81\x82" };
	char		 s[200], name[64];
	size_t		 f, i, len, at, n;

	(void)state;
	for (f = 0; f < NELEM(fill); f++)
		for (len = 1; len <= 40; len++)
			for (at = 0; at < len; at++)
				for (i = 0; i < NELEM(bytes); i++) {
					for (n = 0; n < len && n * 3 + 3 < sizeof(s); n++)
						memcpy(s + n * strlen(fill[f]), fill[f],
						    strlen(fill[f]));
					s[len * strlen(fill[f])] = '\0';
					s[at * strlen(fill[f])] = (char)bytes[i];
					snprintf(name, sizeof(name), "fill %zu len %zu byte "
					    "0x%02x at %zu", f, len, bytes[i], at);
					assert_string(name, s, NULL);
				}
}

/* Long strings: runs longer than any buffer growth step, escapes far apart. */
static void
test_string_long(void **state)
{
	struct sbuf	 s, want;
	size_t		 i;

	(void)state;
	sbuf_init(&s);
	sbuf_init(&want);
	sbuf_add(&want, "\"", 1);
	for (i = 0; i < 3000; i++) {
		sbuf_add(&s, "あ", 3);
		sbuf_add(&want, "あ", 3);
		if (i % 997 == 996) {
			sbuf_add(&s, "\"\x1f", 2);
			sbuf_add(&want, "\\\"\\u001f", 8);
		}
	}
	sbuf_add(&want, "\"", 1);
	assert_string("9000 bytes of Japanese, 3 escapes", s.s, want.s);
	s.len = 0;
	for (i = 0; i < 5000; i++)
		sbuf_add(&s, i % 13 == 0 ? "\n" : "x", 1);
	assert_string("5000 bytes, a newline every 13", s.s, NULL);
	sbuf_free(&s);
	sbuf_free(&want);
}

/* The pieces: a NULL string is "", numbers are cJSON's, raw text is as is. */
static void
test_pieces(void **state)
{
	static const double nums[] = { 0, -0.0, 1, -1, 1e15, 0.1, 1.0 / 3,
	    0.30000000000000004, 5e-324, 1e300 };
	struct sbuf	 b;
	cJSON		*v;
	char		*cj;
	size_t		 i;

	(void)state;
	sbuf_init(&b);
	jsonw_string(&b, NULL);
	jsonw_raw(&b, ",{}", 3);
	assert_string_equal(b.s, "\"\",{}");
	for (i = 0; i < NELEM(nums); i++) {
		b.len = 0;
		jsonw_number(&b, nums[i]);
		v = cJSON_CreateNumber(nums[i]);
		cj = cJSON_PrintUnformatted(v);
		if (strcmp(b.s, cj) != 0)
			fail_msg("number %zu: wrote %s, cJSON %s", i, b.s, cj);
		free(cj);
		cJSON_Delete(v);
	}
	sbuf_free(&b);
}

/* A deterministic pseudo-random tree of depth at most d. */
static cJSON *
random_tree(unsigned *seed, int d)
{
	static const char *const strs[] = { "", "a", "x\"y", "\\", "\n\t", "\x01",
	    "日本", "long string with spaces", "\x7f", "é" };
	static const double nums[] = { 0, -1, 42, 1e15, 1e21, 0.1, -2.5e-8,
	    123456789.123, 2147483648.0, 1.0 / 7 };
	cJSON	*v;
	int	 n, i, kind;

	*seed = *seed * 1103515245 + 12345;
	kind = (int)((*seed >> 16) % (d > 0 ? 7 : 5));
	switch (kind) {
	case 0: return cJSON_CreateNull();
	case 1: return cJSON_CreateBool((*seed >> 8) & 1);
	case 2: return cJSON_CreateNumber(nums[(*seed >> 4) % NELEM(nums)]);
	case 3: case 4: return cJSON_CreateString(strs[(*seed >> 4) % NELEM(strs)]);
	}
	v = kind == 5 ? cJSON_CreateArray() : cJSON_CreateObject();
	n = (int)((*seed >> 20) % 5);
	for (i = 0; i < n; i++) {
		cJSON *c = random_tree(seed, d - 1);

		if (kind == 5)
			cJSON_AddItemToArray(v, c);
		else
			cJSON_AddItemToObject(v, strs[(*seed >> 3) % NELEM(strs)], c);
	}
	return v;
}

static void
test_random_trees(void **state)
{
	unsigned	 seed = 7;
	char		 name[32];
	int		 i;
	cJSON		*v;

	(void)state;
	for (i = 0; i < 2000; i++) {
		v = random_tree(&seed, 4);
		snprintf(name, sizeof(name), "random tree %d", i);
		assert_same(name, v);
		cJSON_Delete(v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_built_values),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_string_words),
		cmocka_unit_test(test_string_offsets),
		cmocka_unit_test(test_string_long),
		cmocka_unit_test(test_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
