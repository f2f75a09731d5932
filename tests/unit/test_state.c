/*
 * test_state.c - the in-memory engine state (state_mem.c): slots found again
 * by (rule, tenant, key) through the table's growth, the rules' slots of
 * one key kept apart although they share a home bucket, keys that a joined
 * string would confuse, and seen ids. Slots with evidence and windows are
 * freed with the state (ASan and valgrind see any leak).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/rules.h"
#include "complyd/state.h"
#include "complyd/util.h"
#include "testutil.h"

enum { NRULES = 3, NTENANTS = 2, NKEYS = 3000 };

static struct slot *
slot_of(struct state *st, const struct rule *r, const char *tenant,
    const char *key, int create)
{
	return st->ops->slot(st, r, tenant, key, create);
}

static void
test_slots(void **state)
{
	static const char *const tenants[NTENANTS] = { "acme", "beta" };
	struct rule	 rules[NRULES];
	struct state	*st = state_mem_new();
	struct slot	**made = xcalloc(NRULES * NTENANTS * NKEYS, sizeof(*made));
	struct slot	*s;
	char		 key[32];
	int		 r, t, k, n;

	(void)state;
	memset(rules, 0, sizeof(rules));
	for (r = 0; r < NRULES; r++)
		rules[r].index = r;
	/* Created key by key, rule by rule, as a record's check does. */
	for (k = n = 0; k < NKEYS; k++)
		for (t = 0; t < NTENANTS; t++)
			for (r = 0; r < NRULES; r++, n++) {
				snprintf(key, sizeof(key), "C-%06d", k);
				assert_null(slot_of(st, &rules[r], tenants[t], key, 0));
				s = made[n] = slot_of(st, &rules[r], tenants[t], key, 1);
				assert_non_null(s);
				if (s->rule != &rules[r] || strcmp(s->tenant, tenants[t]) ||
				    strcmp(s->key, key) || s->version != -1 ||
				    s->closed != INSTANT_MAX || s->evidence != NULL)
					fail_msg("slot %d/%s/%s made wrong", r, tenants[t], key);
				if (k % 7 == 0)
					s->evidence = xstrdup("e-1");
				if (k % 11 == 0) {
					s->win = xcalloc(4, sizeof(*s->win));
					s->capwin = 4;
				}
			}
	/* Every one found again, the same slot, after all the growth. */
	for (k = n = 0; k < NKEYS; k++)
		for (t = 0; t < NTENANTS; t++)
			for (r = 0; r < NRULES; r++, n++) {
				snprintf(key, sizeof(key), "C-%06d", k);
				if (slot_of(st, &rules[r], tenants[t], key, 0) != made[n] ||
				    slot_of(st, &rules[r], tenants[t], key, 1) != made[n])
					fail_msg("slot %d/%s/%s not found again", r,
					    tenants[t], key);
			}
	/* The tenant ends where the key begins. */
	s = slot_of(st, &rules[0], "acm", "eC-000000", 1);
	assert_ptr_not_equal(s, made[0]);
	assert_ptr_equal(slot_of(st, &rules[0], "acm", "eC-000000", 0), s);
	assert_null(slot_of(st, &rules[0], "acme", "C-999999", 0));
	free(made);
	st->ops->free(st);
}

static void
test_seen(void **state)
{
	struct state	*st = state_mem_new();

	(void)state;
	st->ops->prefetch(st, "acme", "e-1");	/* a hint: marks nothing */
	assert_int_equal(st->ops->seen(st, "acme", "e-1"), 0);
	assert_int_equal(st->ops->seen(st, "acme", "e-1"), 1);
	assert_int_equal(st->ops->seen(st, "beta", "e-1"), 0);
	assert_int_equal(st->ops->seen(st, "acm", "ee-1"), 0);
	st->ops->free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
