/*
 * test_backtest.c - the pure parts of the daemon's backtest (backtest.h):
 * which candidate file names are taken (none that leaves the candidate's
 * directory), and the comparison of two alert lists by (rule, tenant, key,
 * status, time) as multisets, reported in each list's own order.
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

#include "complyd/backtest.h"
#include "complyd/util.h"

static void
test_name_ok(void **state)
{
	static const struct {
		const char	*name;
		int		 ok;
	} cases[] = {
		{ "appi.yaml", 1 },
		{ "a-b_c.1.yaml", 1 },
		{ "appi.test.yaml", 1 },	/* taken; the loader skips it */
		{ "../appi.yaml", 0 },
		{ "x/appi.yaml", 0 },
		{ "/etc/appi.yaml", 0 },
		{ "..yaml", 0 },
		{ ".hidden.yaml", 0 },
		{ ".yaml", 0 },
		{ "appi.yml", 0 },
		{ "appi.yaml/", 0 },
		{ "a b.yaml", 0 },
		{ "a\\b.yaml", 0 },
		{ "", 0 },
	};
	char	 long_name[140];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (backtest_name_ok(cases[i].name) != cases[i].ok)
			fail_msg("%s: expected %d", cases[i].name, cases[i].ok);
	memset(long_name, 'a', sizeof(long_name));
	strcpy(long_name + 123, ".yaml");	/* 128 characters */
	assert_true(backtest_name_ok(long_name));
	strcpy(long_name + 124, ".yaml");	/* 129 */
	assert_false(backtest_name_ok(long_name));
}

/* Appends an alert of rule/tenant/key/status/time (id: tag) to av. */
static void
push(struct alert_vec *av, const char *tag, const char *rule, const char *key,
    const char *status, const char *time)
{
	cJSON		*o = cJSON_CreateObject();
	struct alert	*a;

	cJSON_AddStringToObject(o, "id", tag);
	cJSON_AddStringToObject(o, "tenant", "acme");
	cJSON_AddStringToObject(o, "rule", rule);
	cJSON_AddStringToObject(o, "obligation", "OBL");
	cJSON_AddStringToObject(o, "status", status);
	cJSON_AddStringToObject(o, "key", key);
	av->v = xrealloc(av->v, (av->n + 1) * sizeof(*av->v));
	a = &av->v[av->n++];
	memset(a, 0, sizeof(*a));
	a->json = o;
	a->time = I(time);
	a->id = cJSON_GetObjectItem(o, "id")->valuestring;
	a->tenant = cJSON_GetObjectItem(o, "tenant")->valuestring;
	a->obligation = cJSON_GetObjectItem(o, "obligation")->valuestring;
	a->key = cJSON_GetObjectItem(o, "key")->valuestring;
	a->status = cJSON_GetObjectItem(o, "status")->valuestring;
}

/* "+id" for an added alert, "-id" for a removed one, in the order given. */
static void
note(void *arg, const struct alert *a, int added)
{
	sbuf_printf(arg, "%c%s ", added ? '+' : '-', a->id);
}

static char *
diff(const struct alert_vec *cand, const struct alert_vec *live)
{
	struct sbuf	 b;

	sbuf_init(&b);
	backtest_diff(cand, live, note, &b);
	return b.s;
}

static void
test_diff(void **state)
{
	struct alert_vec	 c = { 0 }, l = { 0 };
	char			*s;

	(void)state;
	s = diff(&c, &l);
	assert_string_equal(s, "");
	free(s);
	/* Same identities in another order, other ids: nothing changed. */
	push(&c, "c1", "r.pay", "C-1", "violation", "2026-06-01T00:00:00+09:00");
	push(&c, "c2", "r.use", "D-1", "violation", "2026-05-01T10:00:00+09:00");
	push(&l, "l2", "r.use", "D-1", "violation", "2026-05-01T10:00:00+09:00");
	push(&l, "l1", "r.pay", "C-1", "violation", "2026-06-01T00:00:00+09:00");
	s = diff(&c, &l);
	assert_string_equal(s, "");
	free(s);
	/*
	 * Each field of the identity counts; the time in whole seconds (as
	 * alerts carry it); a second alert of one identity is one more.
	 */
	push(&c, "c3", "r.use", "D-1", "violation", "2026-05-01T10:00:00.500+09:00");
	push(&c, "c4", "r.pay", "C-1", "warning", "2026-06-01T00:00:00+09:00");
	push(&l, "l3", "r.pay", "C-2", "violation", "2026-06-01T00:00:00+09:00");
	push(&c, "c5", "r.pay2", "C-1", "violation", "2026-06-01T00:00:00+09:00");
	push(&l, "l4", "r.pay", "C-1", "violation", "2026-06-02T00:00:00+09:00");
	s = diff(&c, &l);
	assert_string_equal(s, "+c3 +c4 +c5 -l3 -l4 ");
	free(s);
	alert_vec_free(&c);
	alert_vec_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
