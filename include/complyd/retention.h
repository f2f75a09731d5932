/*
 * retention.h - how long events and evidence are kept. The Subcontract Act
 * (SUBCON-RECORDS-2Y) makes two years the floor: a shorter setting is refused.
 */
#ifndef COMPLYD_RETENTION_H
#define COMPLYD_RETENTION_H

#include <stddef.h>

/* A retention period in calendar months (years count 12, days round up to months of 30). */
struct retention {
	int	 events_months;
	int	 evidence_months;
};

#define RETENTION_MIN_MONTHS	24	/* SUBCON-RECORDS-2Y */

/* Parses "2y", "30m" (months) or "730d"; 0, or -1 with err filled. */
int retention_parse(const char *s, int *months, char *err, size_t errlen);
/* Checks both periods against the legal floor; 0, or -1 with err naming the obligation. */
int retention_check(const struct retention *r, char *err, size_t errlen);

#endif
