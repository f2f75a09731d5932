/*
 * retention.c - retention periods and their legal floor (see retention.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "complyd/retention.h"

int
retention_parse(const char *s, int *months, char *err, size_t errlen)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || errno || n <= 0 || n > 1200 * 30 || end[0] == '\0' ||
	    end[1] != '\0') {
		snprintf(err, errlen, "retention '%s': expected a number and a unit "
		    "(y, m or d), e.g. 2y", s);
		return -1;
	}
	switch (*end) {
	case 'y': *months = (int)n * 12; break;
	case 'm': *months = (int)n; break;
	case 'd': *months = (int)((n + 29) / 30); break;
	default:
		snprintf(err, errlen, "retention '%s': unit must be y, m or d", s);
		return -1;
	}
	if (*end == 'd' && n < 730)
		*months = n * 12 / 365;	/* less than two years of days stays below 24 */
	return 0;
}

int
retention_check(const struct retention *r, char *err, size_t errlen)
{
	const char *what = NULL;
	int months = 0;

	if (r->events_months < RETENTION_MIN_MONTHS) {
		what = "events";
		months = r->events_months;
	} else if (r->evidence_months < RETENTION_MIN_MONTHS) {
		what = "evidence";
		months = r->evidence_months;
	}
	if (what == NULL)
		return 0;
	snprintf(err, errlen, "retention.%s is %d month(s): the Subcontract Act keeps "
	    "transaction records for 2 years (SUBCON-RECORDS-2Y); set at least 2y", what,
	    months);
	return -1;
}
