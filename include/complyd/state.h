/*
 * state.h - what the engine remembers between events: ids seen (dedupe) and
 * one slot per (rule, tenant, key) for deadlines, periodic obligations,
 * thresholds and record checks. An interface, so the daemon can back it with
 * SQLite; state_mem.c keeps it in memory for replay and tests.
 */
#ifndef COMPLYD_STATE_H
#define COMPLYD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "complyd/when.h"

struct rule;

/* Slot flags. */
#define SLOT_OPEN	0x01	/* deadline open / periodic tracking */
#define SLOT_CLOSED	0x02	/* deadline met (or closed by a stop) */
#define SLOT_VIOLATED	0x04	/* the one violation was raised */
#define SLOT_STOPPED	0x08	/* a stop arrived (maybe before the start) */
#define SLOT_RAISED	0x10	/* record check: an alert is standing */
#define SLOT_REVIEWED	0x20	/* periodic: "no record of the last check" raised */
#define SLOT_REC_CLOSED	0x40	/* deadline: closed by a date on its record */

struct slot {
	const struct rule *rule;
	char		*tenant;
	char		*key;
	uint32_t	 flags;
	uint32_t	 gen;		/* bumped when timers must be re-armed */
	uint32_t	 warned;	/* bit i: warning i raised */
	int		 version;	/* index into rule->law->versions, -1 none */
	instant_t	 opened;	/* when the obligation opened */
	instant_t	 closed;	/* when it was met; INSTANT_MAX while open */
	date_t		 start, due;
	date_t		 baseline;	/* periodic: latest check (record or event) */
	date_t		 ev_baseline;	/* periodic: latest check seen as an event */
	double		 paid;		/* deadline: sum of stop amounts */
	char		*evidence;	/* id of the event that opened it, or NULL */
	instant_t	*win;		/* threshold: times in the window */
	int		 nwin, capwin;
};

struct state;
struct state_ops {
	/* 1 if (tenant, id) was seen before; marks it seen either way. */
	int		 (*seen)(struct state *, const char *tenant, const char *id);
	/*
	 * A hint that seen(tenant, id) comes soon: starts loading its place into
	 * the cache, changes nothing. NULL where there is nothing to gain.
	 */
	void		 (*prefetch)(struct state *, const char *tenant, const char *id);
	/* The same for the slots of (tenant, key) of any rule. NULL: nothing to gain. */
	void		 (*prefetch_slots)(struct state *, const char *tenant,
			    const char *key);
	/* The slot of (rule, tenant, key); created when create is set, else NULL if absent. */
	struct slot	*(*slot)(struct state *, const struct rule *, const char *tenant,
			    const char *key, int create);
	/* The slot changed (for write-through stores). */
	void		 (*dirty)(struct state *, struct slot *);
	/* Visits every slot. */
	void		 (*each)(struct state *, void (*fn)(void *, struct slot *), void *);
	void		 (*free)(struct state *);
};
struct state {
	const struct state_ops *ops;
};

struct state *state_mem_new(void);

#endif
