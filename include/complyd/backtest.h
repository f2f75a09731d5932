/*
 * backtest.h - a candidate rule set judged on the daemon's journal beside
 * the rules in force (POST /v1/rules/backtest). Both sets are replayed as
 * `complyctl replay` replays files (event time, time order, records checked
 * at the first event) in one pass over the journal, each in an engine and
 * on a registry of its own: the live engine and its state, the outputs and
 * the store's alerts are not touched, and the rules in force keep their hit
 * counts. The work is synchronous: the event loop waits (ingestion with it;
 * nothing is lost, inputs are read afterwards), bounded by
 * BACKTEST_MAX_EVENTS.
 */
#ifndef COMPLYD_BACKTEST_H
#define COMPLYD_BACKTEST_H

#include "complyd/daemon.h"
#include "complyd/replay.h"

#define BACKTEST_MAX_FILES	64
#define BACKTEST_MAX_EVENTS	500000	/* journal events replayed, at most */
/* Alerts one run may raise (~3 KiB each held until sorted), at most. */
#define BACKTEST_MAX_RUN_ALERTS	200000

struct backtest_file {
	const char	*name;		/* NAME.yaml: see backtest_name_ok */
	const char	*text;
};

struct backtest_query {
	const struct backtest_file *files;	/* the whole candidate set */
	int		 nfiles;
	instant_t	 from, to;	/* alerts in [from, to); INSTANT_MIN/MAX: open */
	const char	*tenant;	/* NULL: every tenant the caller sees */
	int		(*may_see)(void *arg, const char *tenant);
	void		*arg;
};

enum backtest_status {
	BT_OK,
	BT_BAD_FILE,		/* a file name given twice: why */
	BT_RULES_INVALID,	/* errors[] */
	BT_TOO_MANY_EVENTS,	/* over BACKTEST_MAX_EVENTS: nothing was judged */
	BT_TOO_MANY_ALERTS,	/* a run over BACKTEST_MAX_RUN_ALERTS: stopped there */
	BT_FAILED		/* the temporary directory or the journal: why */
};

struct backtest {
	enum backtest_status	 status;
	char			 why[256];
	char			**errors;	/* "NAME.yaml:LINE:COL: error: ..." */
	int			 nerrors;
	int			 nrules;	/* of the candidate */
	size_t			 events;	/* journal events replayed */
	struct alert_vec	 cand, live;	/* in the window, replay's order */
};

/*
 * Whether name may name a candidate file: 1 to 128 characters of
 * [A-Za-z0-9._-], not starting with '.', ending in ".yaml" (so no '/',
 * no "..": a name stays inside the candidate's directory).
 */
int backtest_name_ok(const char *name);
/* Runs query q on d's journal into bt (see bt->status); free with backtest_free. */
void backtest_run(struct daemon *d, const struct backtest_query *q,
    struct backtest *bt);
void backtest_free(struct backtest *bt);
/*
 * Compares two alert lists by (rule, tenant, key, status, time), as
 * multisets: fn gets each alert of cand without a partner in live (added
 * = 1), in cand's order, then each of live without one in cand (added =
 * 0), in live's order.
 */
void backtest_diff(const struct alert_vec *cand, const struct alert_vec *live,
    void (*fn)(void *arg, const struct alert *a, int added), void *arg);

#endif
