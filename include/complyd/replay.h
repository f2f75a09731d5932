/*
 * replay.h - evaluation of recorded events on event time: the engine driven by
 * an event-time clock, for `complyctl replay`, `complyctl test` and backtests.
 * Time-ordered input streams in constant memory; other input is sorted first.
 */
#ifndef COMPLYD_REPLAY_H
#define COMPLYD_REPLAY_H

#include <stdio.h>

#include "complyd/alert.h"
#include "complyd/engine.h"

struct alert_vec {
	struct alert	*v;
	size_t		 n, cap;
	FILE		*spill;		/* set: alerts kept as lines there, not trees */
	off_t		 spilled;	/* bytes written to it */
	size_t		 flushed;	/* v[flushed..n) are written, not yet flushed */
	struct sbuf	 pending;	/* their lines, back to back, until then */
	int		 spill_failed;	/* a write failed: later alerts stay trees */
	FILE		**more;		/* spill files of collectors merged in */
	int		 nmore;
};
/*
 * Makes av keep the alerts it collects as lines in a temporary file ($TMPDIR,
 * else /tmp; unlinked at once) rather than as trees, so that a replay of a
 * long history holds ~100 bytes an alert. 0, or -1 if no temporary file could
 * be made (trees are kept then). An alert that cannot be written is kept as
 * a tree.
 */
int alert_vec_spill(struct alert_vec *av);
void alert_vec_free(struct alert_vec *av);
/*
 * Moves from's alerts, and its spill files, into to (a split replay's runs
 * collect apart); from is left empty. Their order is to's then from's:
 * alert_vec_print sorts.
 */
void alert_vec_merge(struct alert_vec *to, struct alert_vec *from);
/*
 * Sorts into the output order of DESIGN.md and writes one JSON line each.
 * 0, or -1 if a spilled alert could not be read back (it is left out).
 */
int alert_vec_print(struct alert_vec *av, FILE *out);

struct replay_opts {
	int		 has_until;
	instant_t	 until;		/* inclusive; default: the last event's time */
	int		 quiet;		/* no per-line errors on stderr */
};

struct replay_result {
	size_t			 lines, rejected;
	struct engine_stats	 stats;
};

/*
 * Evaluates the event files (JSON lines) in time order, ties in input order.
 * Bad lines print "FILE:LINE: error: ..." and are skipped. Alerts are appended
 * to out. Returns 0, or -1 if a file could not be read.
 */
int replay_files(struct ruleset *rs, struct registry *reg, char *const *files,
    int nfiles, const struct replay_opts *o, struct alert_vec *out,
    struct replay_result *res);
/*
 * Same for events already decoded (takes ownership of evs[i].json); sets
 * res->stats only, lines and rejected are the reader's.
 */
void replay_events(struct ruleset *rs, struct registry *reg, struct soc_event *evs,
    size_t n, const struct replay_opts *o, struct alert_vec *out,
    struct replay_result *res);

/*
 * The same evaluation fed one event at a time by a caller whose events come
 * in time order already (the daemon's journal, for a backtest): no event is
 * held, and several runs can share one pass over them. Events are borrowed.
 * replay_run_finish advances the clock as replay_files does and frees the
 * run; the registry is the run's until then.
 */
struct replay_run;
struct replay_run *replay_run_new(struct ruleset *rs, struct registry *reg,
    struct alert_vec *out);
void replay_run_event(struct replay_run *r, const struct soc_event *ev);
void replay_run_finish(struct replay_run *r, const struct replay_opts *o,
    struct replay_result *res);

#endif
