/*
 * engine.h - evaluates events against a rule set on event time. It does not
 * know whether it runs live or in replay: it is given a clock (engine_advance)
 * and events, and emits alerts to a sink. Timers due at or before an event's
 * time fire before the event is applied.
 */
#ifndef COMPLYD_ENGINE_H
#define COMPLYD_ENGINE_H

#include <cjson/cJSON.h>

#include "complyd/alert.h"
#include "complyd/event.h"
#include "complyd/registry.h"
#include "complyd/rules.h"
#include "complyd/state.h"

struct engine;

struct engine_stats {
	uint64_t	 events, duplicates, alerts, suppressed, reviews;
};

struct engine *engine_new(struct ruleset *rs, struct registry *reg,
    struct state *st, struct alert_sink sink);
void engine_free(struct engine *en);
/*
 * Starts the clock at t and checks the records loaded from files (record
 * rules, deadlines and periodic obligations that records open).
 */
void engine_start(struct engine *en, instant_t t);
/* Moves the clock to t (never backwards), firing every timer due at or before t. */
void engine_advance(struct engine *en, instant_t t);
/* Applies one event (advancing the clock first). Returns 0, or 1 for a duplicate id. */
int engine_event(struct engine *en, const struct soc_event *ev);
/*
 * A hint that engine_event comes soon for each of the n events: starts
 * loading what they look up into the cache (the seen-id set's slots; for
 * the first ENGINE_PREFETCH_MAX, the records their rules name). Changes
 * nothing. A replay hints a chunk before it applies it, so that the misses
 * of its events overlap instead of coming one after the other.
 */
#define ENGINE_PREFETCH_MAX	64
void engine_prefetch(struct engine *en, const struct soc_event *evs, size_t n);
instant_t engine_clock(const struct engine *en);
/*
 * Live mode: events never move the clock past now() (the wall clock); the
 * daemon advances it with its own timer. Replay sets none.
 */
void engine_set_horizon(struct engine *en, instant_t (*now)(void));
/*
 * Leaves the rules' hit counts as they are: engines that share a rule set
 * on several threads would race on them, and a replay reports none.
 */
void engine_leave_hits(struct engine *en);
const struct engine_stats *engine_stats(const struct engine *en);

#endif
