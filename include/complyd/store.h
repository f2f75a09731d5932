/*
 * store.h - the daemon's durable state in SQLite (WAL): the event journal with
 * (tenant, id) dedupe, alerts and their lifecycle history, one outbox per
 * output, input offsets, loaded rule-set versions and the evidence log's
 * entries (evidence.h keeps its logic). Open deadlines and
 * counters are derived: the engine rebuilds them by replaying the journal on
 * start and on reload (the engine is deterministic on event time), so what was
 * committed is never lost and never counted twice.
 */
#ifndef COMPLYD_STORE_H
#define COMPLYD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "complyd/alert.h"
#include "complyd/event.h"

struct store;

/* Opens (creating and migrating) the database at path; synchronous: full|extra|normal. */
struct store *store_open(const char *path, const char *synchronous, char *err,
    size_t errlen);
void store_close(struct store *st);

/* Transactions group a batch (group commit); 0 or -1. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/*
 * Journals an event (its JSON text as received). Returns 1 if new, 0 if its
 * (tenant, id) is already journaled, -1 on a storage error.
 */
int store_put_event(struct store *st, const struct soc_event *ev, const char *json,
    size_t len);
/* The journal seq of the event store_put_event last added. */
int64_t store_last_seq(const struct store *st);
/* Visits journaled events in (time, arrival) order; fn returns 0 to go on. */
int store_each_event(struct store *st, int (*fn)(void *, const char *json,
    size_t len, int64_t seq), void *arg);
int64_t store_event_count(struct store *st);

/*
 * Records an alert (its JSON). Returns 1 if new (then it is queued in the
 * outbox of each of the noutputs outputs), 0 if the id exists, -1 on error.
 */
int store_put_alert(struct store *st, const struct alert *a, int noutputs);
/* Sets an alert's lifecycle state with who, when and why; 0, 1 if no such alert, -1. */
int store_alert_transition(struct store *st, const char *id, const char *state,
    const char *actor, const char *note, int64_t at_ms);

/* Which stored alerts store_alerts_each gives: NULL strings match any value. */
struct alert_query {
	const char	*status, *state, *tenant, *obligation;
	int64_t		 since_ms, until_ms;	/* alert time in [since, until) */
};
/*
 * Calls fn with each stored alert that q matches (its id, tenant and record,
 * state included), ordered by time, obligation, tenant, key, status; fn
 * returns -1 to stop early. 0, or -1 on a database error.
 */
int store_alerts_each(struct store *st, const struct alert_query *q,
    int (*fn)(void *, const char *id, const char *tenant, const char *body),
    void *arg);
/* Alert id's tenant (caller frees) and lifecycle state: 1, 0 if there is no such alert, -1. */
int store_alert_state(struct store *st, const char *id, char **tenant, char *state,
    size_t slen);
/* Alert id's stored record (caller frees), or NULL. */
char *store_alert_body(struct store *st, const char *id);
/* Calls fn with each change of alert id's state, oldest first. 0, or -1. */
int store_alert_history(struct store *st, const char *id,
    void (*fn)(void *, int64_t at_ms, const char *state, const char *actor,
    const char *note), void *arg);

/*
 * Ids and rules of tenant's alerts still standing (open, acknowledged or
 * resolved; retracted_too: or retracted) whose time is after since_ms, and
 * (if created is not NULL) when each was first stored (caller frees).
 */
int store_open_alerts_since(struct store *st, const char *tenant, int64_t since_ms,
    int retracted_too, char ***ids, char ***rules, int64_t **created, int *n);
/*
 * An alert raised again whose stored record differs: a retracted one opens
 * again, one whose fields changed (details, message) takes them, keeping its
 * lifecycle state. The change goes to its history with note and is queued
 * for every output. 1 if it changed, 0 if not (or no such alert), -1.
 */
int store_alert_refresh(struct store *st, const struct alert *a, const char *note,
    int64_t at_ms, int noutputs);
/*
 * The outbox slot of the output described by spec ("file ../var/a.jsonl"),
 * made on first sight, and remembered as the slot of the next position
 * (call in config order). Outputs keep their queue however the config
 * reorders them. Returns the slot, or -1.
 */
int store_output_slot(struct store *st, const char *spec, int position);
/* Undelivered outbox rows of slots no configured output has (after mapping). */
long store_orphan_pending(struct store *st);
/* The slot of the output at config position, as store_output_slot made it. */
int store_slot(const struct store *st, int position);
/*
 * 1 if the journal holds an event of tenant stamped after after_ms and
 * journaled before seq before_seq (one the engine saw first), 0 if not, -1.
 */
int store_events_after(struct store *st, const char *tenant, int64_t after_ms,
    int64_t before_seq);
/* Queues an alert again for every output (its state changed, e.g. retracted). */
int store_alert_requeue(struct store *st, const char *id, int noutputs);

/* The next outbox entries of output `out` due at now_ms (up to max), oldest first. */
struct outbox_item {
	char	*alert_id;
	char	*json;
	int	 attempts;
};
int store_outbox_due(struct store *st, int out, int64_t now_ms,
    struct outbox_item *items, int max);
void store_outbox_items_free(struct outbox_item *items, int n);
/*
 * Takes alert_id off output out's queue once sent, the record sent being
 * `sent` (NULL: whatever it was); an alert whose record changed since (a
 * retraction queued meanwhile) stays queued. 0 or -1.
 */
int store_outbox_done(struct store *st, int out, const char *alert_id,
    const char *sent);
/* Reschedules a failed delivery at next_ms. */
int store_outbox_retry(struct store *st, int out, const char *alert_id,
    int64_t next_ms);
int64_t store_outbox_pending(struct store *st, int out);

/* File-tail offsets: 0 (found), 1 (none), -1. */
int store_offset_get(struct store *st, const char *path, uint64_t *inode,
    uint64_t *offset);
int store_offset_set(struct store *st, const char *path, uint64_t inode,
    uint64_t offset);

/*
 * An atomic operation of several store calls (a state change with its
 * evidence): its own transaction, or a savepoint inside a caller's batch.
 * store_op_end keeps it when rv >= 0, else undoes it; returns rv or -1.
 */
int store_op_begin(struct store *st, int *own);
int store_op_end(struct store *st, int own, int rv);

/* One entry of the evidence log (evidence.h); strings are the stored text. */
struct evidence_row {
	int64_t		 seq, recorded_ms;
	const char	*tenant;	/* NULL for a global entry */
	const char	*kind, *body, *entry_hash, *chain;
};
/* 1 if an entry with natural key nkey is in the log, 0 if not, -1. */
int store_evidence_has(struct store *st, const char *nkey);
/* The last entry's seq and chain (0 and "" when empty) into chain[len]: 0 or -1. */
int store_evidence_head(struct store *st, int64_t *seq, char *chain, size_t len);
/* Adds entry r with natural key nkey (NULL: none): 0 or -1. */
int store_evidence_put(struct store *st, const struct evidence_row *r,
    const char *nkey);
/*
 * Calls fn with each entry after seq after_seq, in seq order (the row is
 * valid during the call); returns 0, fn's non-zero value if it stopped, -1.
 */
int store_evidence_each(struct store *st, int64_t after_seq,
    int (*fn)(void *, const struct evidence_row *), void *arg);
/* The rule-set loads in [from, to) and the one in force at from, oldest first: 0 or -1. */
int store_rulesets_each(struct store *st, int64_t from_ms, int64_t to_ms,
    void (*fn)(void *, const char *hash, int nrules, int64_t loaded_ms),
    void *arg);
/* Journaled events stamped in [from, to) counted by tenant (NULL: all) and type: 0 or -1. */
int store_event_counts(struct store *st, int64_t from_ms, int64_t to_ms,
    const char *tenant, void (*fn)(void *, const char *tenant,
    const char *type, int64_t n), void *arg);

/* When a rule set was first loaded here (the daemon's load time): 0, or 1 if never. */
int store_first_load(struct store *st, int64_t *ms);
/* Records that a rule set was loaded (hash, file count, time). */
int store_ruleset_loaded(struct store *st, const char *hash, int nrules,
    int64_t at_ms);

#endif
