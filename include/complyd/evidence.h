/*
 * evidence.h - the tamper-evident log of decisions (DESIGN principle 4): rule
 * sets loaded, alerts raised and moved, deadlines opened and met, each a
 * canonical JSON body chained by SHA-256, verifiable in place or offline.
 *
 * Entry n: entry_hash = SHA-256(body bytes), chain = SHA-256(chain of n-1 ||
 * entry_hash) over the 32-byte digests (32 zero bytes before the first);
 * both stored as lowercase hex. The body names its own seq, kind, tenant
 * and recorded_at, so a row moved, relabelled or edited breaks the chain.
 * A bundle for another tenant's auditor may leave bodies out: the entry
 * hashes alone still carry the chain.
 */
#ifndef COMPLYD_EVIDENCE_H
#define COMPLYD_EVIDENCE_H

#include <stdint.h>
#include <stdio.h>

#include "complyd/alert.h"
#include "complyd/store.h"
#include "complyd/util.h"

#define EVIDENCE_HEX	65	/* a SHA-256 in hex with its NUL */

/*
 * State changes with their entry, in one transaction (nothing stands
 * without its evidence). Each returns what the store call it wraps does.
 */

/* store_put_alert and, for a new alert, its alert.raised entry: 1 new, 0 known, -1. */
int evidence_put_alert(struct store *st, const struct alert *a, int noutputs,
    int64_t at_ms);
/* store_alert_transition and its alert.state entry: 0, 1 if no such alert, -1. */
int evidence_alert_transition(struct store *st, const char *id,
    const char *state, const char *actor, const char *note, int64_t at_ms);
/* store_alert_refresh and, if the alert changed, its alert.state entry: 1, 0, -1. */
int evidence_alert_refresh(struct store *st, const struct alert *a,
    const char *note, int64_t at_ms, int noutputs);
/* store_ruleset_loaded and its ruleset.loaded entry (no tenant): 0 or -1. */
int evidence_ruleset_loaded(struct store *st, const char *hash, int nrules,
    int64_t at_ms);
/*
 * Appends the engine's decision d (deadline.opened, deadline.met or
 * deadline.closed_late) unless the same decision is in already (a replay
 * makes it again): 1 appended, 0 already in, -1.
 */
int evidence_decision(struct store *st, const struct decision *d, int64_t at_ms);

/* What a verification found. */
struct evidence_verdict {
	int		 ok;
	int64_t		 entries;		/* entries checked */
	int64_t		 redacted;		/* of them, bundle lines without a body */
	char		 head[EVIDENCE_HEX];	/* the last chain ("" when empty) */
	int64_t		 first_bad_seq;		/* when !ok: where it broke */
	char		 reason[256];
};

/* The chain check, fed one entry at a time (the log's rows or a bundle's lines). */
struct evidence_check {
	unsigned char		 prev[32];
	struct evidence_verdict	 v;
};
/* Starts a check at the beginning of a log. */
void evidence_check_init(struct evidence_check *c);
/*
 * Checks the next entry (r->body NULL: redacted, its entry_hash taken as
 * given): 0, or -1 after filling c->v with where and why it broke.
 */
int evidence_check_next(struct evidence_check *c, const struct evidence_row *r);

/* Recomputes the whole log into *v: 0 (v->ok says how it went), -1 on a storage error. */
int evidence_verify(struct store *st, struct evidence_verdict *v);

/*
 * A bundle is JSON lines: one header line, then one line per entry (seq,
 * recorded_at, tenant, kind, entry_hash, chain, body as a JSON string; a
 * redacted entry only seq, entry_hash, chain, "body": null, "redacted": true).
 */
/* Appends the header line: entries and head of the log, the reader's tenants (NULL: all). */
void evidence_bundle_header(struct sbuf *b, int64_t entries, const char *head,
    char *const *tenants, int64_t at_ms);
/* Appends entry r's line; redact leaves its body out ("body": null, "redacted": true). */
void evidence_bundle_line(struct sbuf *b, const struct evidence_row *r,
    int redact);
/* Verifies the bundle read from f offline: 0 (v->ok says), -1 if f cannot be read. */
int evidence_bundle_verify(FILE *f, struct evidence_verdict *v);

#endif
