/*
 * test_jsonw.c - jsonw_value writes what cJSON_PrintUnformatted writes, byte
 * for byte: named edge cases (numbers on either side of cJSON's integer and
 * 15-digit tests, every control character, keys that need escapes) and
 * random trees.
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
