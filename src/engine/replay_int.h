/*
 * replay_int.h - what replay.c and replay_shard.c share: one run (an engine
 * on an event-time clock, its state and where its clock starts and ends).
 * Not for other modules: they use include/complyd/replay.h.
 */
#ifndef COMPLYD_REPLAY_INT_H
#define COMPLYD_REPLAY_INT_H

#include "complyd/replay.h"

struct run {
	struct engine	*en;
	struct state	*st;
	int		 started;
	int		 any;
	instant_t	 last;
};

/* A run on reg (history off: a replay only moves forward) raising into sink. */
void run_init(struct run *rn, struct ruleset *rs, struct registry *reg,
    struct alert_sink sink);
/* The clock's part of an event: starts the run at the first, notes the last time. */
void run_see(struct run *rn, const struct soc_event *ev);
/* Adds the counts of s to those of to. */
void stats_add(struct engine_stats *to, const struct engine_stats *s);
/* Advances to --until or the last event, adds the stats to res, frees the run. */
void run_finish(struct run *rn, const struct replay_opts *o,
    struct replay_result *res);
/* The sink that collects into out. */
struct alert_sink alert_vec_sink(struct alert_vec *out);

/*
 * How many runs a time-ordered replay splits its tenants over: the
 * COMPLYD_REPLAY_THREADS environment variable (1-64), else the processors
 * online (at most 8).
 */
int replay_threads(void);
/*
 * replay_files for time-ordered files on n runs, each on its own thread
 * with the tenants registry_part_of gives it; reg is left without records.
 * 0, -1 if a file could not be read, -2 if no thread could be started
 * (nothing was read or changed then).
 */
int replay_sharded(struct ruleset *rs, struct registry *reg,
    char *const *files, int nfiles, const struct replay_opts *o,
    struct alert_vec *out, struct replay_result *res, int n);

#endif
