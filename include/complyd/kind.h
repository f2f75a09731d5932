/*
 * kind.h - the rule kinds (match, deadline, periodic, threshold, record), one
 * file each, registered in one table indexed by enum rule_kind_id. The
 * engine calls a kind through these hooks and offers it the helpers below.
 */
#ifndef COMPLYD_KIND_H
#define COMPLYD_KIND_H

#include <yaml.h>

#include "complyd/engine.h"
#include "complyd/rules.h"

struct kind_ops {
	const char	*name;
	/* Parses the kind's keys of rule node n; sets r->on; 0 or -1 (errors reported). */
	int	(*parse)(struct loader *ld, yaml_node_t *n, struct rule *r);
	void	(*free)(struct rule *r);
	/* An event of one of r->on. */
	void	(*event)(struct engine *en, struct rule *r, const struct soc_event *ev);
	/* The rule's subject record was loaded or changed at time `at` (rec NULL: gone). */
	void	(*record)(struct engine *en, struct rule *r, const char *tenant,
		    const char *id, const cJSON *rec, instant_t at);
	/* A timer armed with engine_arm fired at `at`. */
	void	(*timer)(struct engine *en, struct rule *r, struct slot *s, int what,
		    instant_t at);
	/*
	 * Optional: the key expression r evaluates for events of `type`, whose
	 * value names its subject record (NULL: none). Only a hint: the engine
	 * starts loading that record before it applies the event's chunk.
	 */
	const struct expr *(*key_for)(const struct rule *r, const char *type);
	/* Keys of the rule node the kind accepts (besides the common ones). */
	const char *const *keys;
	/* Names its messages and details see besides the common ones (EV_BIT). */
	unsigned	 alert_vars;
};

extern const struct kind_ops kind_match, kind_deadline, kind_periodic,
    kind_threshold, kind_record;
extern const struct kind_ops *const rule_kinds[RK__COUNT];

/* --- helpers the engine offers to kinds --- */

/* Prepares the env for rule r: event (may be NULL), tenant, key, record, version, clock. */
struct expr_env *engine_env(struct engine *en, const struct rule *r,
    const struct soc_event *ev, const char *tenant, const char *key,
    const cJSON *record, const struct law_version *v);
/*
 * Key expression e of rule r for the current event, in env as engine_env made
 * it for that event, into *key: kind_eval_key, but worked out once for the
 * rules of one event and one law that share e's text. 0, or -1 (env->err).
 */
int engine_event_key(struct engine *en, const struct rule *r,
    const struct expr *e, struct expr_env *env, struct sbuf *key);
/* The subject record of r for key at the current clock (NULL if none). */
const cJSON *engine_record(struct engine *en, const struct rule *r,
    const char *tenant, const char *key);
/*
 * The law version for r: by r->version_at evaluated in env when set, else by
 * the day of `at`. NULL when no version is in force or the rule has no article
 * for it (the rule does not apply). *err is set when version_at failed.
 */
const struct law_version *engine_version(struct engine *en, const struct rule *r,
    struct expr_env *env, instant_t at, int *err);
int engine_version_index(const struct rule *r, const struct law_version *v);

/* A detail a kind gives an alert: a string, or a number when str is NULL. */
struct alert_detail {
	const char	*name, *str;
	double		 num;
};

/* One alert to raise. */
struct alert_req {
	const char		*tenant, *key, *status;
	instant_t		 time;
	const struct law_version *version;
	/*
	 * Part of the id, telling this alert from another of the same tenant,
	 * rule, key, status and time: a match's event, a scoped deadline's scope.
	 */
	const char		*id_part;
	const char		*evidence[4];	/* event ids, NULL-terminated */
	/* The kind's details, before the rule's; name NULL-terminated, borrowed. */
	struct alert_detail	 details[4];
	const char		*unjudged;	/* a review because the rule could not judge: why */
	struct expr_env		*env;		/* for messages and rule details; may be NULL */
};
/* Builds the alert record and emits it (unless suppressed). */
void engine_raise(struct engine *en, const struct rule *r, struct alert_req *req);
/* Whether the sink takes decisions (replay does not: no need to build them). */
int engine_decides(const struct engine *en);
/* Hands a decision (a deadline opened or closed) to the sink, if it wants them. */
void engine_decide(struct engine *en, const struct decision *d);
/* A review alert for an evaluation error (reason in env->err). */
void engine_review(struct engine *en, const struct rule *r, const char *tenant,
    const char *key, instant_t t, const struct law_version *v,
    const struct soc_event *ev, const char *reason);
/* The scope of a deadline's slot ("" when empty), or NULL if its rule has none. */
const char *deadline_slot_scope(const struct rule *r, const struct slot *s);
/* Arms a timer for slot s at `at`; it fires unless s->gen changed meanwhile. */
void engine_arm(struct engine *en, struct slot *s, instant_t at, int what);
struct state *engine_state(struct engine *en);
/* 1 while engine_start checks the records loaded from files. */
int engine_starting(const struct engine *en);
/*
 * While records an event changed are checked: that event's id (the evidence
 * of what the checks raise or open); NULL at start and for timers.
 */
const char *engine_cause(const struct engine *en);

#endif

/* --- shared by the kind parsers and evaluators (kind_util.c) --- */

/* `status`: a literal violation/warning/review, or an expression yielding one. */
struct kind_status {
	const char	*literal;
	struct expr	*expr;
};
int kind_parse_status(struct loader *ld, yaml_node_t *n, struct kind_status *st,
    const char *dflt, unsigned vars);
/* The status to raise, or NULL after putting the reason in env->err. */
const char *kind_eval_status(const struct kind_status *st, struct expr_env *env);
void kind_status_free(struct kind_status *st);
/* Evaluates a key expression to a string into out; -1 with env->err. */
int kind_eval_key(const struct expr *e, struct expr_env *env, struct sbuf *out);
/* `on:` parsing shared with the loader. */
char **loader_on(struct loader *ld, yaml_node_t *n);
/* Appends types to a NULL-terminated list (the rule's `on`, for dispatch). */
void kind_add_on(char ***on, char *const *types);
/* Event-driven rules: the variables their expressions see. */
#define KIND_EVENT_VARS (EV_BIT(EV_EVENT) | EV_BIT(EV_RECORD) | EV_BIT(EV_KEY) | \
	EV_BIT(EV_TENANT) | EV_BIT(EV_VERSION) | EV_BIT(EV_NOW) | EV_BIT(EV_PARAMS))
#define KIND_RECORD_VARS (EV_BIT(EV_RECORD) | EV_BIT(EV_KEY) | EV_BIT(EV_TENANT) | \
	EV_BIT(EV_VERSION) | EV_BIT(EV_NOW) | EV_BIT(EV_PARAMS))
/*
 * Arms the slot's next timer after `after`: the earliest warning (N days
 * before s->due, bit N of s->warned not set, later than floor) or the due
 * instant (00:00 JST after s->due, what = KIND_WHAT_DUE). One timer per
 * obligation keeps the heap as small as the number of obligations.
 */
#define KIND_WHAT_DUE	(-1)
void kind_arm_next(struct engine *en, struct slot *s, const int *warn,
    int nwarn, instant_t floor, instant_t after);
/*
 * The env of an event-driven rule: key read with keyexpr into key, the
 * subject record looked up. NULL when the key cannot be read (after a review
 * alert when review is set).
 */
struct expr_env *kind_event_env(struct engine *en, struct rule *r,
    const struct soc_event *ev, const struct expr *keyexpr, struct sbuf *key,
    int review);
/* `warn: [N, ...]` days before due; at most KIND_MAX_WARN (bits of slot->warned). */
#define KIND_MAX_WARN	16
int kind_parse_warn(struct loader *ld, yaml_node_t *n, int **warn, int *nwarn);
/* A one-line event type check: 1 if type is in the NULL-terminated list. */
int kind_type_in(const char *type, char *const *list);
/* key_for of a kind whose events all name their record by r->key. */
const struct expr *kind_key_for(const struct rule *r, const char *type);
