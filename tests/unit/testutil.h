/*
 * testutil.h - small helpers the cmocka unit tests share: the length of a
 * static table and RFC 3339 literals as instants. Include after <cmocka.h>.
 */
#ifndef COMPLYD_TESTUTIL_H
#define COMPLYD_TESTUTIL_H

#include "complyd/when.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The instant of an RFC 3339 literal; fails the test if it does not parse. */
static inline instant_t
I(const char *s)
{
	instant_t	 t;

	if (when_parse_instant(s, &t) == -1)
		fail_msg("bad test instant %s", s);
	return t;
}

#endif
