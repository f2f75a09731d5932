/*
 * test_retention.c - SUBCON-RECORDS-2Y: retention below two years is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "complyd/retention.h"

static const struct {
	const char	*name, *in;
	int		 rc, months;
} parse_cases[] = {
	{ "two years", "2y", 0, 24 },
	{ "seven years", "7y", 0, 84 },
	{ "months", "18m", 0, 18 },
	{ "730 days is two years", "730d", 0, 25 },
	{ "729 days is short", "729d", 0, 23 },
	{ "no unit", "2", -1, 0 },
	{ "bad unit", "2w", -1, 0 },
	{ "negative", "-1y", -1, 0 },
	{ "garbage", "abc", -1, 0 },
	{ "trailing", "2yy", -1, 0 },
};

static void
test_parse(void **state)
{
	char	err[128];
	size_t	i;
	int	m;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		m = 0;
		if (retention_parse(parse_cases[i].in, &m, err, sizeof(err)) !=
		    parse_cases[i].rc)
			fail_msg("%s: rc", parse_cases[i].name);
		if (parse_cases[i].rc == 0 && m != parse_cases[i].months)
			fail_msg("%s: got %d months", parse_cases[i].name, m);
	}
}

static void
test_retention_below_2y_refused(void **state)
{
	struct retention	r = { 18, 84 };
	char			err[256];

	(void)state;
	assert_int_equal(retention_check(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SUBCON-RECORDS-2Y"));
	assert_non_null(strstr(err, "retention.events"));
	r.events_months = 24;
	r.evidence_months = 12;
	assert_int_equal(retention_check(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "retention.evidence"));
	r.evidence_months = 84;
	assert_int_equal(retention_check(&r, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_retention_below_2y_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
