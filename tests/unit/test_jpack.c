/*
 * test_jpack.c - packed records: every JSON value reads back as the tree it
 * was packed from (same printed text, same valueint), keys shared across
 * records, and the tree is one block that free() releases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "complyd/jpack.h"
#include "testutil.h"

static const struct {
	const char	*name, *json;
} round_trip_cases[] = {
	{ "a contract as the metadata files give it",
	  "{\"id\":\"C-1\",\"tenant\":\"acme\",\"kind\":\"service\",\"principal\":"
	  "{\"name\":\"P社\",\"capital_jpy\":300000000,\"employees\":800},"
	  "\"amount_jpy\":1630000,\"payment_due\":\"2026-05-11\"}" },
	{ "empty object", "{}" },
	{ "empty array", "[]" },
	{ "empty string", "{\"a\":\"\"}" },
	{ "null, true, false", "[null,true,false]" },
	{ "zero", "[0]" },
	{ "negative integers", "[-1,-64,-65,-9007199254740992]" },
	{ "2^53 is still an integer", "[9007199254740992]" },
	{ "beyond 2^53 stays a double", "[18014398509481984]" },
	{ "fractions", "[0.5,-1.25,0.146]" },
	{ "huge and tiny", "[1e+300,1e-300]" },
	{ "varint boundaries", "[63,64,127,128,8191,8192,16383,16384]" },
	{ "nested lists of objects", "{\"purposes\":[{\"purpose\":\"billing\","
	  "\"from\":\"2026-01-01\"},{\"purpose\":\"soc\",\"from\":\"2026-04-01\"}]}" },
	{ "deep nesting", "[[[[[[[[[[{\"a\":[[[1]]]}]]]]]]]]]]" },
	{ "a key repeated in one object", "{\"a\":1,\"a\":2}" },
	{ "a string with escapes and UTF-8", "{\"s\":\"a\\\"b\\\\c\\n\\u0001日本\"}" },
	{ "a bare scalar", "\"x\"" },
};

static void
test_round_trip(void **state)
{
	struct jpack_keys	*k = jpack_keys_new();
	size_t			 i, len;

	(void)state;
	for (i = 0; i < NELEM(round_trip_cases); i++) {
		cJSON		*in = cJSON_Parse(round_trip_cases[i].json), *out;
		unsigned char	*p;
		char		*a, *b;

		if (in == NULL)
			fail_msg("%s: bad test JSON", round_trip_cases[i].name);
		p = jpack(k, in, &len);
		if ((out = jpack_tree(k, p)) == NULL)
			fail_msg("%s: no tree", round_trip_cases[i].name);
		a = cJSON_PrintUnformatted(in);
		b = cJSON_PrintUnformatted(out);
		if (strcmp(a, b) != 0)
			fail_msg("%s: %s came back as %s", round_trip_cases[i].name, a, b);
		free(a);
		free(b);
		free(out);
		free(p);
		cJSON_Delete(in);
	}
	jpack_keys_free(k);
}

/* A one-block copy prints as its original and leaves the original's siblings out. */
static void
test_copy(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(round_trip_cases); i++) {
		cJSON	*in = cJSON_Parse(round_trip_cases[i].json), *out;
		char	*a, *b;

		if (in == NULL)
			fail_msg("%s: bad test JSON", round_trip_cases[i].name);
		out = jpack_copy(in);
		a = cJSON_PrintUnformatted(in);
		cJSON_Delete(in);	/* the copy owns nothing of it */
		b = cJSON_PrintUnformatted(out);
		if (strcmp(a, b) != 0)
			fail_msg("%s: %s copied as %s", round_trip_cases[i].name, a, b);
		assert_null(out->next);
		assert_null(out->prev);
		free(a);
		free(b);
		free(out);
	}
}

/* A member copied alone: its siblings are not part of the copy. */
static void
test_copy_member(void **state)
{
	cJSON	*in = cJSON_Parse("{\"a\":[1,{\"b\":\"c\"}],\"d\":2}");
	cJSON	*out = jpack_copy(in->child);
	char	*b;

	(void)state;
	cJSON_Delete(in);
	assert_string_equal(out->string, "a");
	assert_null(out->next);
	b = cJSON_PrintUnformatted(out);
	assert_string_equal(b, "[1,{\"b\":\"c\"}]");
	free(b);
	free(out);
}

/* cJSON saturates valueint; rules that read it must see the same. */
static void
test_valueint_as_cjson(void **state)
{
	static const double nums[] = { 0, 1, -1, 2147483647.0, 2147483648.0,
	    -2147483648.0, -2147483649.0, 1e15, 2.7, -2.7 };
	struct jpack_keys	*k = jpack_keys_new();
	size_t			 i, len;

	(void)state;
	for (i = 0; i < NELEM(nums); i++) {
		cJSON		*in = cJSON_CreateNumber(nums[i]), *out;
		unsigned char	*p = jpack(k, in, &len);

		out = jpack_tree(k, p);
		assert_non_null(out);
		assert_true(cJSON_IsNumber(out));
		assert_int_equal(out->valueint, in->valueint);
		assert_true(out->valuedouble == in->valuedouble);
		free(out);
		free(p);
		cJSON_Delete(in);
	}
	jpack_keys_free(k);
}

/* Keys are numbers in a shared dictionary: the second record adds none. */
static void
test_keys_shared(void **state)
{
	struct jpack_keys	*k = jpack_keys_new();
	cJSON			*a = cJSON_Parse("{\"capital_jpy\":1,\"employees\":2}");
	cJSON			*b = cJSON_Parse("{\"employees\":3,\"capital_jpy\":4}");
	unsigned char		*pa, *pb;
	size_t			 la, lb;
	cJSON			*ta, *tb;

	(void)state;
	pa = jpack(k, a, &la);
	pb = jpack(k, b, &lb);
	/* node count, tag, count, then (key number, tag, varint) twice: 9 bytes. */
	assert_int_equal(lb, 9);
	ta = jpack_tree(k, pa);
	tb = jpack_tree(k, pb);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(tb, "capital_jpy")->valueint, 4);
	/* One copy of each name, in the dictionary. */
	assert_ptr_equal(ta->child->string, tb->child->next->string);
	/* Children link as cJSON links them: the first child's prev is the last. */
	assert_ptr_equal(tb->child->prev, tb->child->next);
	free(ta);
	free(tb);
	free(pa);
	free(pb);
	cJSON_Delete(a);
	cJSON_Delete(b);
	jpack_keys_free(k);
}

/* A record of a million contracts' kind packs well under its JSON text. */
static void
test_smaller_than_text(void **state)
{
	struct jpack_keys	*k = jpack_keys_new();
	cJSON			*in = cJSON_Parse(round_trip_cases[0].json);
	char			*text = cJSON_PrintUnformatted(in);
	unsigned char		*p;
	size_t			 len;

	(void)state;
	p = jpack(k, in, &len);
	free(p);
	p = jpack(k, in, &len);	/* keys known now, as for every later record */
	assert_true(len * 2 < strlen(text));
	free(p);
	free(text);
	cJSON_Delete(in);
	jpack_keys_free(k);
}

static const struct {
	const char	*name, *record, *a, *b, *want;
} with_cases[] = {
	{ "replaces in place", "{\"x\":1,\"y\":2}", "3", NULL, "{\"x\":3,\"y\":2}" },
	{ "appends a missing field", "{\"y\":2}", "3", NULL, "{\"y\":2,\"x\":3}" },
	{ "both, in field order", "{\"y\":2}", "[1]", "\"s\"", "{\"y\":\"s\",\"x\":[1]}" },
	{ "null leaves a field as it is", "{\"x\":1}", NULL, "5", "{\"x\":1,\"y\":5}" },
	{ "only the first of a doubled key", "{\"x\":1,\"x\":2}", "9", NULL,
	  "{\"x\":9,\"x\":2}" },
	{ "an empty record", "{}", "true", NULL, "{\"x\":true}" },
};

/* A name given twice in one call: the later value, once. */
static void
test_with_name_twice(void **state)
{
	char * const		 fields[] = { "a", "b", "a" };
	struct jpack_keys	*k = jpack_keys_new();
	cJSON			*present = cJSON_Parse("{\"a\":1}"), *absent = cJSON_Parse("{}");
	cJSON			*v7 = cJSON_CreateNumber(7), *v8 = cJSON_CreateNumber(8);
	const cJSON		*vals[3] = { v7, NULL, v8 };
	cJSON			*objs[2] = { present, absent }, *t;
	unsigned char		*p;
	size_t			 len;
	char			*got;
	int			 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		p = jpack_with(k, objs[i], fields, vals, 3, &len);
		t = jpack_tree(k, p);
		got = cJSON_PrintUnformatted(t);
		assert_string_equal(got, "{\"a\":8}");
		free(got);
		free(t);
		free(p);
	}
	cJSON_Delete(present);
	cJSON_Delete(absent);
	cJSON_Delete(v7);
	cJSON_Delete(v8);
	jpack_keys_free(k);
}

/* JSON has no Inf or NaN: they read back as null, as cJSON prints them. */
static void
test_non_finite_is_null(void **state)
{
	static const double nums[] = { INFINITY, -INFINITY, NAN };
	struct jpack_keys	*k = jpack_keys_new();
	size_t			 i, len;

	(void)state;
	for (i = 0; i < NELEM(nums); i++) {
		cJSON		*in = cJSON_CreateNumber(nums[i]), *out;
		unsigned char	*p = jpack(k, in, &len);

		out = jpack_tree(k, p);
		assert_true(cJSON_IsNull(out));
		free(out);
		free(p);
		cJSON_Delete(in);
	}
	jpack_keys_free(k);
}

/* jpack_with packs a record's next version straight from its tree. */
static void
test_with(void **state)
{
	char * const		 fields[] = { "x", "y" };
	struct jpack_keys	*k = jpack_keys_new();
	size_t			 i, len;

	(void)state;
	for (i = 0; i < NELEM(with_cases); i++) {
		cJSON		*rec = cJSON_Parse(with_cases[i].record), *t;
		const cJSON	*vals[2];
		unsigned char	*p;
		char		*got;

		vals[0] = with_cases[i].a ? cJSON_Parse(with_cases[i].a) : NULL;
		vals[1] = with_cases[i].b ? cJSON_Parse(with_cases[i].b) : NULL;
		p = jpack_with(k, rec, fields, vals, 2, &len);
		assert_non_null(p);
		t = jpack_tree(k, p);
		got = cJSON_PrintUnformatted(t);
		if (strcmp(got, with_cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", with_cases[i].name, got,
			    with_cases[i].want);
		free(got);
		free(t);
		free(p);
		cJSON_Delete((cJSON *)(uintptr_t)vals[0]);
		cJSON_Delete((cJSON *)(uintptr_t)vals[1]);
		cJSON_Delete(rec);
	}
	assert_null(jpack_with(k, cJSON_GetArrayItem(NULL, 0), fields, NULL, 0, &len));
	jpack_keys_free(k);
}

/* Buffers whose tags make no sense read back as NULL, not as a partial tree. */
static void
test_tree_malformed(void **state)
{
	static const struct {
		const char		*name;
		unsigned char		 p[8];
	} cases[] = {
		{ "no nodes", { 0 } },
		{ "an unknown tag", { 1, 9 } },
		{ "fewer nodes than the array holds", { 2, 6, 2, 0, 0 } },
		{ "an unknown tag inside an array", { 3, 6, 2, 0, 12 } },
		{ "a key past the dictionary", { 2, 7, 1, 5, 0 } },
	};
	struct jpack_keys	*k = jpack_keys_new();
	cJSON			*one = cJSON_Parse("{\"a\":null}"), *t;
	unsigned char		*p, buf[8];
	size_t			 i, len;

	(void)state;
	p = jpack(k, one, &len);	/* the dictionary holds one name, "a" (0) */
	for (i = 0; i < NELEM(cases); i++) {
		memcpy(buf, cases[i].p, sizeof(buf));
		if ((t = jpack_tree(k, buf)) != NULL)
			fail_msg("%s: a tree came back", cases[i].name);
	}
	/* The good one, for contrast. */
	t = jpack_tree(k, p);
	assert_non_null(t);
	assert_string_equal(t->child->string, "a");
	free(t);
	free(p);
	cJSON_Delete(one);
	jpack_keys_free(k);
}

/*
 * jpack_set patches a packed record; it must write exactly what jpack_with
 * writes from the record's tree, dictionary numbers of new names included.
 * Each case runs on two fresh dictionaries that have seen the same records.
 */
static const struct {
	const char	*name, *record;
	const char	*fields[4];
	const char	*vals[4];	/* JSON text; NULL: no value */
} set_cases[] = {
	{ "replaces in place", "{\"x\":1,\"y\":2}", { "x" }, { "3" } },
	{ "appends a missing field", "{\"y\":2}", { "x" }, { "3" } },
	{ "both, in field order", "{\"y\":2}", { "x", "y" }, { "[1]", "\"s\"" } },
	{ "null leaves a field as it is", "{\"x\":1}", { "x", "y" }, { NULL, "5" } },
	{ "only the first of a doubled key", "{\"x\":1,\"x\":2}", { "x" }, { "9" } },
	{ "an empty record", "{}", { "x" }, { "true" } },
	{ "a name given twice, present", "{\"a\":1,\"b\":2}", { "a", "b", "a" },
	  { "7", NULL, "8" } },
	{ "a name given twice, absent", "{\"b\":2}", { "a", "c", "a" },
	  { "7", "1", "8" } },
	{ "a nested record replaced by a scalar",
	  "{\"p\":{\"name\":\"P\",\"capital\":3,\"staff\":[1,2,3]},\"q\":1}", { "p" },
	  { "null" } },
	{ "a scalar replaced by a nested record with new names",
	  "{\"p\":1,\"q\":2}", { "p", "new" },
	  { "{\"n1\":{\"n2\":[{\"n3\":1}]},\"q\":2}", "{\"n4\":0}" } },
	{ "a date received, as subcontract.received sets it",
	  "{\"id\":\"C-1\",\"tenant\":\"t\",\"amount_jpy\":140000,\"principal\":"
	  "{\"name\":\"P社\",\"capital_jpy\":300000000}}", { "received_on" },
	  { "\"2026-04-01\"" } },
	{ "numbers of every packing", "{\"a\":0.5,\"b\":-0.0,\"c\":9007199254740993,"
	  "\"d\":-64,\"e\":1e300}", { "c", "f", "a" },
	  { "-65", "1.5", "18014398509481984" } },
	{ "a string longer than a one-byte varint",
	  "{\"s\":\"short\",\"t\":\"" "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789\"}", { "s" },
	  { "\"" "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqrstuvwxyz\"" } },
	{ "nothing given", "{\"x\":1}", { "x" }, { NULL } },
	{ "nothing given to an empty record", "{}", { "x" }, { NULL } },
	{ "an empty record in a record replaced", "{\"a\":{},\"b\":[]}", { "b", "a" },
	  { "{}", "[]" } },
};

/* A record of n members (the node count's varint grows past one byte). */
static cJSON *
wide_record(int n)
{
	cJSON	*o = cJSON_CreateObject();
	char	 name[16];
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		cJSON_AddItemToObject(o, name, cJSON_CreateArray());
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(o, name),
		    cJSON_CreateNumber(i));
	}
	return o;
}

/* Packs rec with fields set both ways on twin dictionaries; fails unless the bytes agree. */
static void
check_set(const char *name, const cJSON *rec, char *const *fields,
    const cJSON *const *vals, int n)
{
	struct jpack_keys	*k1 = jpack_keys_new(), *k2 = jpack_keys_new();
	unsigned char		*p1, *p2, *want, *got;
	size_t			 l1, l2, lw, lg;
	cJSON			*t1, *t2;
	char			*a, *b;

	p1 = jpack(k1, rec, &l1);
	p2 = jpack(k2, rec, &l2);
	t1 = jpack_tree(k1, p1);
	want = jpack_with(k1, t1, fields, vals, n, &lw);
	got = jpack_set(k2, p2, fields, vals, n, &lg);
	if (want == NULL || got == NULL)
		fail_msg("%s: no result", name);
	if (lw != lg || memcmp(want, got, lw) != 0) {
		free(t1);
		t1 = jpack_tree(k1, want);
		t2 = jpack_tree(k2, got);
		a = t1 ? cJSON_PrintUnformatted(t1) : NULL;
		b = t2 ? cJSON_PrintUnformatted(t2) : NULL;
		fail_msg("%s: %zu bytes (%s) where jpack_with writes %zu (%s)", name, lg,
		    b ? b : "malformed", lw, a ? a : "?");
	}
	/* The same names were added, in the same order. */
	t2 = jpack_tree(k2, got);
	assert_non_null(t2);
	free(t2);
	free(t1);
	free(p1);
	free(p2);
	free(want);
	free(got);
	jpack_keys_free(k1);
	jpack_keys_free(k2);
}

static void
test_set(void **state)
{
	size_t	 i;
	int	 j, n;

	(void)state;
	for (i = 0; i < NELEM(set_cases); i++) {
		cJSON	*rec = cJSON_Parse(set_cases[i].record);
		cJSON	*vals[4] = { NULL, NULL, NULL, NULL };
		char	*fields[4];

		if (rec == NULL)
			fail_msg("%s: bad test JSON", set_cases[i].name);
		for (n = 0; n < 4 && set_cases[i].fields[n]; n++) {
			fields[n] = (char *)(uintptr_t)set_cases[i].fields[n];
			if (set_cases[i].vals[n] &&
			    (vals[n] = cJSON_Parse(set_cases[i].vals[n])) == NULL)
				fail_msg("%s: bad test value", set_cases[i].name);
		}
		check_set(set_cases[i].name, rec, fields, (const cJSON *const *)vals, n);
		for (j = 0; j < n; j++)
			cJSON_Delete(vals[j]);
		cJSON_Delete(rec);
	}
}

/* Counts and node totals past 127: their varints take two bytes before or after. */
static void
test_set_wide(void **state)
{
	static const int	 widths[] = { 62, 63, 64, 127, 128, 200 };
	char * const		 fields[] = { "m0", "extra" };
	cJSON			*three = cJSON_Parse("[1,2,3]"), *one = cJSON_CreateNumber(1);
	const cJSON		*drop[] = { one, NULL }, *grow[] = { three, three };
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(widths); i++) {
		cJSON *rec = wide_record(widths[i]);

		check_set("a member shrinks", rec, fields, drop, 2);
		check_set("a member grows, one is added", rec, fields, grow, 2);
		cJSON_Delete(rec);
	}
	cJSON_Delete(three);
	cJSON_Delete(one);
}

/* Not an object, or more fields than it takes: NULL, as jpack_with. */
/*
 * A value is packed on the stack and copied out at its exact size; one
 * that outgrows the stack buffer (512 bytes) moves to the heap mid-way.
 * Records of every size around that edge come back the same, through
 * jpack and jpack_set alike, and the length told is the bytes written.
 */
static void
test_sizes_around_the_stack_buffer(void **state)
{
	struct jpack_keys	*k = jpack_keys_new();
	static char		 s[600];
	char			*fields[] = { "t" }, *a, *b;
	cJSON			*in, *out, *val = cJSON_CreateString("later");
	unsigned char		*p, *q;
	size_t			 n, len, qlen;

	(void)state;
	for (n = 480; n < 560; n++) {
		memset(s, 'x', n);
		s[n] = '\0';
		in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "s", s);
		p = jpack(k, in, &len);
		/* node count, tag, count, key, tag, length (2 bytes), bytes, NUL */
		assert_int_equal(len, 1 + 1 + 1 + 1 + 1 + 2 + n + 1);
		q = jpack_set(k, p, fields, (const cJSON *const *)&val, 1, &qlen);
		assert_int_equal(qlen, len + 1 + 1 + 1 + strlen("later") + 1);
		cJSON_AddStringToObject(in, "t", "later");
		out = jpack_tree(k, q);
		assert_non_null(out);
		a = cJSON_PrintUnformatted(in);
		b = cJSON_PrintUnformatted(out);
		assert_string_equal(a, b);
		free(a);
		free(b);
		free(out);
		free(q);
		free(p);
		cJSON_Delete(in);
	}
	cJSON_Delete(val);
	jpack_keys_free(k);
}

static void
test_set_refuses(void **state)
{
	struct jpack_keys	*k = jpack_keys_new();
	cJSON			*arr = cJSON_Parse("[1]"), *obj = cJSON_Parse("{}");
	char			*fields[33];
	const cJSON		*vals[33];
	unsigned char		*pa = NULL, *po = NULL;
	size_t			 len;
	int			 i;

	(void)state;
	for (i = 0; i < 33; i++) {
		fields[i] = "f";
		vals[i] = NULL;
	}
	pa = jpack(k, arr, &len);
	po = jpack(k, obj, &len);
	assert_null(jpack_set(k, pa, fields, vals, 1, &len));
	assert_null(jpack_set(k, po, fields, vals, 33, &len));
	free(pa);
	free(po);
	cJSON_Delete(arr);
	cJSON_Delete(obj);
	jpack_keys_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_copy_member),
		cmocka_unit_test(test_valueint_as_cjson),
		cmocka_unit_test(test_keys_shared),
		cmocka_unit_test(test_smaller_than_text),
		cmocka_unit_test(test_with),
		cmocka_unit_test(test_with_name_twice),
		cmocka_unit_test(test_tree_malformed),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_wide),
		cmocka_unit_test(test_sizes_around_the_stack_buffer),
		cmocka_unit_test(test_set_refuses),
		cmocka_unit_test(test_non_finite_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
