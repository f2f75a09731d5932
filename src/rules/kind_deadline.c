/*
 * kind_deadline.c - `deadline`: a start (an event, or a date field of the
 * subject record) opens one obligation per (tenant, rule, key); a stop closes
 * it; it breaks at 00:00 JST after the due day. Warnings fall at 00:00 JST of
 * due - N. A stop before the start is remembered (an advance payment); stops
 * may add up amounts until a target is reached (partial payments).
 *
 *   kind: deadline
 *   subject: contract
 *   start: { record: record.received_on }        # or { on: TYPE, when: EXPR }
 *   key: event.incident                            # key of an event start
 *   stop: { on: subcontract.paid, key: event.contract, amount: event.amount_jpy,
 *           target: record.amount_jpy, close_when: EXPR, record: record.paid_on }
 *   due: start + days(59)
 *   warn: [7]
 *   miss: violation                                # or review
 */
#include <stdlib.h>
#include <string.h>

#include "complyd/kind.h"
#include "complyd/yamlx.h"

#define WHAT_DUE	KIND_WHAT_DUE

struct deadline {
	char		**start_on;	/* event start, or NULL */
	struct expr	*scope;		/* narrows the key (an order within its facility) */
	struct expr	*start_when;
	struct expr	*start_record;	/* record start: a date over the record */
	char		**stop_on;
	struct expr	*stop_key, *stop_when, *stop_amount, *stop_target;
	struct expr	*stop_close, *stop_record;
	struct expr	*due;
	int		*warn, nwarn;
	const char	*miss;
};

static const char *const deadline_keys[] = { "start", "stop", "due", "warn",
	"miss", "scope", NULL };

#define DUE_VARS (KIND_EVENT_VARS | EV_BIT(EV_START) | EV_BIT(EV_OPENED))

static int
parse_start(struct loader *ld, yaml_node_t *n, struct rule *r, struct deadline *d)
{
	static const char *const keys[] = { "on", "when", "record", NULL };

	if (n == NULL || n->type != YAML_MAPPING_NODE) {
		ydoc_error(ld->doc, n, "deadline rule %s needs `start` (on: or record:)",
		    r->id);
		return -1;
	}
	ld->nerrors += ydoc_check_keys(ld->doc, n, keys, "start");
	d->start_on = loader_on(ld, ydoc_get(ld->doc, n, "on"));
	d->start_when = loader_expr(ld, ydoc_get(ld->doc, n, "when"),
	    KIND_EVENT_VARS, T_BOOL, "start.when");
	d->start_record = loader_expr(ld, ydoc_get(ld->doc, n, "record"),
	    KIND_RECORD_VARS, T_ANY, "start.record");
	if ((d->start_on == NULL) == (ydoc_get(ld->doc, n, "record") == NULL)) {
		ydoc_error(ld->doc, n, "`start` takes either `on` or `record`");
		return -1;
	}
	if (d->start_record && r->subject < 0) {
		ydoc_error(ld->doc, n, "a record start needs the rule's `subject`");
		return -1;
	}
	return 0;
}

static int
parse_stop(struct loader *ld, yaml_node_t *n, struct rule *r, struct deadline *d)
{
	static const char *const keys[] = { "on", "key", "when", "amount", "target",
		"close_when", "record", NULL };
	const unsigned vars = KIND_EVENT_VARS | EV_BIT(EV_PAID);

	if (n == NULL)
		return 0;
	ld->nerrors += ydoc_check_keys(ld->doc, n, keys, "stop");
	d->stop_on = loader_on(ld, ydoc_get(ld->doc, n, "on"));
	d->stop_key = loader_expr(ld, ydoc_get(ld->doc, n, "key"), KIND_EVENT_VARS &
	    ~EV_BIT(EV_KEY) & ~EV_BIT(EV_RECORD), T_ANY, "stop.key");
	d->stop_when = loader_expr(ld, ydoc_get(ld->doc, n, "when"), vars, T_BOOL,
	    "stop.when");
	d->stop_amount = loader_expr(ld, ydoc_get(ld->doc, n, "amount"), vars,
	    T_ANY, "stop.amount");
	d->stop_target = loader_expr(ld, ydoc_get(ld->doc, n, "target"), vars,
	    T_ANY, "stop.target");
	d->stop_close = loader_expr(ld, ydoc_get(ld->doc, n, "close_when"), vars,
	    T_BOOL, "stop.close_when");
	d->stop_record = loader_expr(ld, ydoc_get(ld->doc, n, "record"),
	    KIND_RECORD_VARS, T_ANY, "stop.record");
	if (d->stop_on && d->stop_key == NULL && r->key == NULL) {
		ydoc_error(ld->doc, n, "`stop` needs `key` (which obligation it closes)");
		return -1;
	}
	return 0;
}

static int
deadline_parse(struct loader *ld, yaml_node_t *n, struct rule *r)
{
	struct deadline	*d = xcalloc(1, sizeof(*d));
	const char	*miss = ydoc_str(ydoc_get(ld->doc, n, "miss"));
	char		*none[] = { NULL };

	r->kd = d;
	if (parse_start(ld, ydoc_get(ld->doc, n, "start"), r, d) == -1 ||
	    parse_stop(ld, ydoc_get(ld->doc, n, "stop"), r, d) == -1)
		return -1;
	if (d->start_on) {
		r->key = loader_expr(ld, ydoc_get(ld->doc, n, "key"), KIND_EVENT_VARS &
		    ~EV_BIT(EV_KEY) & ~EV_BIT(EV_RECORD), T_ANY, "key");
		if (r->key == NULL) {
			ydoc_error(ld->doc, n, "deadline rule %s with an event start needs `key`",
			    r->id);
			return -1;
		}
	}
	r->when = loader_expr(ld, ydoc_get(ld->doc, n, "when"), KIND_EVENT_VARS,
	    T_BOOL, "when");
	d->scope = loader_expr(ld, ydoc_get(ld->doc, n, "scope"), KIND_EVENT_VARS &
	    ~EV_BIT(EV_KEY) & ~EV_BIT(EV_RECORD), T_ANY, "scope");
	if (d->scope && d->start_on == NULL) {
		ydoc_error(ld->doc, n, "`scope` goes with an event start");
		return -1;
	}
	d->due = loader_expr(ld, ydoc_get(ld->doc, n, "due"), DUE_VARS, T_ANY, "due");
	if (loader_check_type(ld, ydoc_get(ld->doc, n, "due"), d->due, "due",
	    TB(T_DATE) | TB(T_TIME) | TB(T_STR), "a date or a time") == -1)
		return -1;
	if (d->due == NULL) {
		if (ydoc_get(ld->doc, n, "due") == NULL)
			ydoc_error(ld->doc, n, "deadline rule %s needs `due`", r->id);
		return -1;
	}
	if (kind_parse_warn(ld, ydoc_get(ld->doc, n, "warn"), &d->warn,
	    &d->nwarn) == -1)
		return -1;
	d->miss = miss && strcmp(miss, "review") == 0 ? "review" : "violation";
	if (miss && strcmp(miss, "review") != 0 && strcmp(miss, "violation") != 0) {
		ydoc_error(ld->doc, ydoc_get(ld->doc, n, "miss"),
		    "`miss` is violation or review");
		return -1;
	}
	kind_add_on(&r->on, d->start_on ? d->start_on : none);
	kind_add_on(&r->on, d->stop_on ? d->stop_on : none);
	return 0;
}

static void
free_types(char **v)
{
	int i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void
deadline_free(struct rule *r)
{
	struct deadline *d = r->kd;

	if (d == NULL)
		return;
	free_types(d->start_on);
	free_types(d->stop_on);
	expr_free(d->start_when);
	expr_free(d->scope);
	expr_free(d->start_record);
	expr_free(d->stop_key);
	expr_free(d->stop_when);
	expr_free(d->stop_amount);
	expr_free(d->stop_target);
	expr_free(d->stop_close);
	expr_free(d->stop_record);
	expr_free(d->due);
	free(d->warn);
	free(d);
}

/*
 * The slot of an event-driven obligation: its key, narrowed by `scope` when
 * the rule has one ("key\x1fscope"); alerts carry the key alone. NULL, with
 * env->err, when the scope cannot be evaluated (an order without its
 * facility cannot be matched: the caller raises a review).
 */
static struct slot *
event_slot(struct engine *en, struct rule *r, const struct soc_event *ev,
    const char *key, struct expr_env *env)
{
	struct deadline	*d = r->kd;
	struct sbuf	 sk, sc;
	struct slot	*s;

	if (d->scope == NULL)
		return engine_state(en)->ops->slot(engine_state(en), r, ev->tenant, key, 1);
	sbuf_init(&sk);
	sbuf_init(&sc);
	if (kind_eval_key(d->scope, env, &sc) == -1) {
		sbuf_free(&sk);
		sbuf_free(&sc);
		return NULL;
	}
	sbuf_printf(&sk, "%s\x1f%s", key, sc.s ? sc.s : "");
	s = engine_state(en)->ops->slot(engine_state(en), r, ev->tenant, sk.s, 1);
	sbuf_free(&sk);
	sbuf_free(&sc);
	return s;
}

/* A key of its own may hold a unit separator too: only scoped rules split. */
const char *
deadline_slot_scope(const struct rule *r, const struct slot *s)
{
	const char *sep;

	if (r->kind != RK_DEADLINE || ((const struct deadline *)r->kd)->scope == NULL)
		return NULL;
	sep = strrchr(s->key, '\x1f');
	return sep ? sep + 1 : NULL;
}

/* --- timers --- */

static void
arm_next(struct engine *en, struct rule *r, struct slot *s, instant_t after)
{
	struct deadline *d = r->kd;

	kind_arm_next(en, s, d->warn, d->nwarn, s->opened, after);
}

static void
arm(struct engine *en, struct rule *r, struct slot *s)
{
	s->gen++;
	arm_next(en, r, s, INSTANT_MIN);
	engine_state(en)->ops->dirty(engine_state(en), s);
}

/* Timers again after the due day or the opening moved; none before `after`. */
static void
rearm(struct engine *en, struct rule *r, struct slot *s, instant_t after)
{
	s->gen++;
	arm_next(en, r, s, after);
}

/*
 * The key alerts and decisions name: the slot's key without its scope,
 * into key (the caller frees it). Returns the scope, or NULL.
 */
static const char *
slot_alert_key(const struct rule *r, const struct slot *s, struct sbuf *key)
{
	const char	*scope = deadline_slot_scope(r, s);

	sbuf_init(key);
	sbuf_add(key, s->key, scope ? (size_t)(scope - 1 - s->key) : strlen(s->key));
	return scope;
}

static void
raise_at(struct engine *en, struct rule *r, struct slot *s, const char *status,
    instant_t at)
{
	const struct law_version	*v;
	struct expr_env			*env;
	struct alert_req		 q;
	char				 buf[16];
	struct sbuf			 key;
	const char			*scope = slot_alert_key(r, s, &key);

	v = s->version >= 0 ? &r->law->versions[s->version] : NULL;
	env = engine_env(en, r, NULL, s->tenant, key.s,
	    engine_record(en, r, s->tenant, key.s), v);
	env->vars[EV_START] = val_date(s->start);
	env->vars[EV_DUE] = val_date(s->due);
	env->vars[EV_OPENED] = val_time(s->opened);
	env->vars[EV_PAID] = val_num(s->paid);
	memset(&q, 0, sizeof(q));
	q.tenant = s->tenant;
	q.key = key.s;
	q.status = status;
	q.time = at;
	q.version = v;
	q.evidence[0] = s->evidence;
	q.env = env;
	q.details[0] = (struct alert_detail){ "due", when_fmt_date(s->due, buf), 0 };
	/*
	 * The same order id in two facilities is two obligations: the scope
	 * tells their alerts (and their ids) apart.
	 */
	if ((q.id_part = scope) != NULL)
		q.details[1] = (struct alert_detail){ "scope", scope, 0 };
	engine_raise(en, r, &q);
	sbuf_free(&key);
}

/* Tells the sink that s opened, or closed at `at`, `by` that event (NULL: none). */
static void
decide(struct engine *en, const struct slot *s, enum decision_kind kind,
    instant_t at, const char *by)
{
	const struct rule	*r = s->rule;
	const char		*scope;
	struct decision		 dc;
	struct sbuf		 key;

	if (!engine_decides(en))
		return;
	scope = slot_alert_key(r, s, &key);
	memset(&dc, 0, sizeof(dc));
	dc.kind = kind;
	dc.tenant = s->tenant;
	dc.rule = r->id;
	dc.obligation = r->obligation;
	dc.law_version = s->version >= 0 ? r->law->versions[s->version].id : NULL;
	dc.key = key.s;
	dc.scope = scope;
	dc.at = at;
	dc.due = s->due;
	dc.in_time = !(s->flags & SLOT_VIOLATED) && (s->due == DATE_NONE ||
	    at < when_day_start(s->due + 1));
	dc.evidence = by;
	engine_decide(en, &dc);
	sbuf_free(&key);
}

static void
deadline_timer(struct engine *en, struct rule *r, struct slot *s, int what,
    instant_t at)
{
	struct deadline *d = r->kd;

	if (!(s->flags & SLOT_OPEN) || (s->flags & SLOT_VIOLATED))
		return;
	if (what == WHAT_DUE) {
		/* Met if closed at or before the end of the due day. */
		if (s->closed < at)
			return;
		s->flags |= SLOT_VIOLATED;
		engine_state(en)->ops->dirty(engine_state(en), s);
		raise_at(en, r, s, d->miss, at);
		return;
	}
	arm_next(en, r, s, at);
	if (s->closed <= at || (s->warned & (1u << what)))
		return;
	s->warned |= 1u << what;
	engine_state(en)->ops->dirty(engine_state(en), s);
	raise_at(en, r, s, "warning", at);
}

/* --- opening --- */

/* Computes the due day into s->due; -1 with env->err. */
static int
eval_due(struct deadline *d, struct slot *s, struct expr_env *env)
{
	env->vars[EV_START] = val_date(s->start);
	env->vars[EV_OPENED] = val_time(s->opened);
	return expr_eval_date(d->due, env, &s->due);
}

/* Opens s at `opened`; a stop seen before has closed it already, at its time. */
static void
open_slot(struct engine *en, struct rule *r, struct slot *s, instant_t opened,
    const struct law_version *v, const char *evidence)
{
	s->flags = (s->flags & SLOT_STOPPED) | SLOT_OPEN;
	s->opened = opened;
	s->version = engine_version_index(r, v);
	s->warned = 0;
	free(s->evidence);
	s->evidence = evidence ? xstrdup(evidence) : NULL;
	/* A stop that came first closed it then (close_slot kept the time). */
	if (s->flags & SLOT_STOPPED)
		s->flags |= SLOT_CLOSED;
	else
		s->closed = INSTANT_MAX;
	arm(en, r, s);
	decide(en, s, DECISION_OPENED, opened, evidence);
	if (s->flags & SLOT_CLOSED)
		decide(en, s, DECISION_CLOSED, s->closed, NULL);
}

/* A condition that is absent holds; -1 with env->err when it cannot be judged. */
static int
applies(const struct expr *e, struct expr_env *env, int *ok)
{
	*ok = 1;
	return e ? expr_eval_bool(e, env, ok) : 0;
}

static void
start_event(struct engine *en, struct rule *r, const struct soc_event *ev)
{
	struct deadline			*d = r->kd;
	struct expr_env			*env;
	const struct law_version	*v;
	struct slot			*s;
	struct sbuf			 key;
	int				 err, ok;

	sbuf_init(&key);
	if ((env = kind_event_env(en, r, ev, r->key, &key, 1)) == NULL)
		goto out;
	v = engine_version(en, r, env, ev->time, &err);
	if (v == NULL) {
		if (err)
			engine_review(en, r, ev->tenant, key.s, ev->time, NULL, ev, env->err);
		goto out;
	}
	if ((err = applies(d->start_when, env, &ok)) == 0 && ok)
		err = applies(r->when, env, &ok);
	if (err) {
		engine_review(en, r, ev->tenant, key.s, ev->time, v, ev, env->err);
		goto out;
	}
	if (!ok)
		goto out;
	if ((s = event_slot(en, r, ev, key.s, env)) == NULL) {
		engine_review(en, r, ev->tenant, key.s, ev->time, v, ev, env->err);
		goto out;
	}
	if ((s->flags & SLOT_OPEN) && !(s->flags & SLOT_CLOSED))
		goto out;	/* one open obligation per key */
	s->start = when_date_of(ev->time);
	s->opened = ev->time;
	if (eval_due(d, s, env) == -1) {
		engine_review(en, r, ev->tenant, key.s, ev->time, v, ev, env->err);
		goto out;
	}
	if (s->flags & SLOT_CLOSED) {
		/* A new obligation on a key whose last one closed starts afresh. */
		s->flags &= ~(SLOT_CLOSED | SLOT_VIOLATED | SLOT_STOPPED);
		s->paid = 0;
	}
	open_slot(en, r, s, ev->time, v, ev->id);
out:
	sbuf_free(&key);
}

/* --- stopping --- */

/* A slot a stop can still close: open, or closed only by its record's date. */
static int
closable(const struct slot *s)
{
	return !(s->flags & SLOT_CLOSED) || (s->flags & SLOT_REC_CLOSED);
}

/*
 * A stop event closes the slot at its time. One closed by a date on its
 * record (a file's paid_on) closes at the earlier of the two: the event is
 * the better evidence of the same payment, but not a reason to call it late.
 */
static void
close_slot(struct engine *en, struct slot *s, instant_t at, const char *by)
{
	if (!closable(s))
		return;
	if (s->flags & SLOT_REC_CLOSED) {
		s->flags &= ~SLOT_REC_CLOSED;
		if (at < s->closed)
			s->closed = at;
		engine_state(en)->ops->dirty(engine_state(en), s);
		return;
	}
	s->flags |= SLOT_STOPPED;
	/*
	 * Closed when the stop came, even before the opening: a payment made
	 * before the receipt date a later upsert gives still met its due day.
	 * A slot not open yet keeps the time for open_slot.
	 */
	s->closed = at;
	if (s->flags & SLOT_OPEN) {
		s->flags |= SLOT_CLOSED;
		decide(en, s, DECISION_CLOSED, at, by);
	}
	engine_state(en)->ops->dirty(engine_state(en), s);
}

/* Whether the stops so far satisfy the obligation (amounts reach the target). */
static int
satisfied(struct deadline *d, struct slot *s, struct expr_env *env, int *err)
{
	double	 target;
	struct val v;

	*err = 0;
	if (d->stop_target == NULL)
		return 1;
	env->vars[EV_PAID] = val_num(s->paid);
	if (expr_eval(d->stop_target, env, &v) == -1) {
		*err = 1;
		return 0;
	}
	if (v.t == V_NULL)
		return 1;	/* no target (no amount): any stop closes */
	if (expr_eval_num(d->stop_target, env, &target) == -1) {
		*err = 1;
		return 0;
	}
	return s->paid >= target;
}

static void
stop_event(struct engine *en, struct rule *r, const struct soc_event *ev)
{
	struct deadline	*d = r->kd;
	struct expr_env	*env;
	struct slot	*s;
	struct sbuf	 key;
	double		 amount;
	int		 ok, err;

	sbuf_init(&key);
	/*
	 * A stop that names nothing (no `order` on a completion) closes nothing
	 * and cannot be judged: a review, as for a start without its key.
	 */
	if ((env = kind_event_env(en, r, ev, d->stop_key ? d->stop_key : r->key,
	    &key, 1)) == NULL)
		goto out;
	if (r->subject >= 0 && d->start_record && env->vars[EV_RECORD].t == V_NULL)
		goto out;	/* a record-started obligation of an unknown record */
	/* Stop conditions may depend on the version (手形 is barred from 2026). */
	engine_version(en, r, env, ev->time, &err);
	if ((err = applies(d->stop_when, env, &ok)) == -1)
		engine_review(en, r, ev->tenant, key.s, ev->time, NULL, ev, env->err);
	if (err || !ok)
		goto out;
	if ((s = event_slot(en, r, ev, key.s, env)) == NULL) {
		engine_review(en, r, ev->tenant, key.s, ev->time, NULL, ev, env->err);
		goto out;
	}
	if (!closable(s))
		goto out;
	if (d->stop_amount) {
		if (expr_eval_num(d->stop_amount, env, &amount) == -1) {
			engine_review(en, r, ev->tenant, key.s, ev->time, NULL, ev,
			    env->err);
			goto out;
		}
		s->paid += amount;
		engine_state(en)->ops->dirty(engine_state(en), s);
	}
	if (d->stop_close && expr_eval_bool(d->stop_close, env, &ok) == 0 && ok) {
		close_slot(en, s, ev->time, ev->id);
		goto out;
	}
	if (satisfied(d, s, env, &err))
		close_slot(en, s, ev->time, ev->id);
	else if (err)
		engine_review(en, r, ev->tenant, key.s, ev->time, NULL, ev, env->err);
out:
	sbuf_free(&key);
}

static void
deadline_event(struct engine *en, struct rule *r, const struct soc_event *ev)
{
	struct deadline *d = r->kd;

	/* Stop first: an event that is both (rare) closes the previous obligation. */
	if (kind_type_in(ev->type, d->stop_on))
		stop_event(en, r, ev);
	if (kind_type_in(ev->type, d->start_on))
		start_event(en, r, ev);
}

/* --- record starts --- */

/*
 * A date field of the record, or DATE_NONE when absent. -1 on a bad value.
 * Every record check reads its start and stop: evaluated once, the value is
 * taken as a date the way expr_eval_date takes it (expr_val_date).
 */
static int
record_date(const struct expr *e, struct expr_env *env, date_t *out)
{
	struct val v;

	*out = DATE_NONE;
	if (e == NULL)
		return 0;
	if (expr_eval(e, env, &v) == -1)
		return -1;
	if (v.t == V_NULL)
		return 0;
	return expr_val_date(e, env, &v, out);
}

/*
 * Sets s->opened and s->due for a record whose obligation starts on s->start.
 * A record from a file holds from the beginning of time; one that an event
 * brought (an upsert, a fact) is known from that event on: warnings before
 * it are not raised. -1 (with a review) if the due day cannot be computed.
 */
static int
record_due(struct engine *en, struct rule *r, struct slot *s,
    struct expr_env *env, const struct law_version *v, instant_t known,
    instant_t at)
{
	instant_t	 opened = when_day_start(s->start);
	date_t		 due = s->due;

	s->opened = known > opened ? known : opened;
	if (eval_due(r->kd, s, env) == -1) {
		s->due = due;
		engine_review(en, r, s->tenant, s->key, at, v, NULL, env->err);
		return -1;
	}
	return 0;
}

/*
 * An open obligation whose record changed: the feed may have moved its start
 * (a receipt event wins over the file's date), its version (the order date
 * picks the law) or its due day. It then counts as opened by that change.
 */
static int
record_moved(struct engine *en, struct rule *r, struct slot *s,
    struct expr_env *env, const struct law_version *v, date_t start,
    instant_t known, instant_t at)
{
	date_t		 due = s->due, was = s->start;
	instant_t	 opened = s->opened;
	int		 version = s->version;

	s->start = start;
	s->version = engine_version_index(r, v);
	if (start != was && !(s->flags & SLOT_CLOSED)) {
		if (record_due(en, r, s, env, v, known, at) == -1) {
			/* Cannot be judged (a review is out): the slot stays as it was. */
			s->start = was;
			s->opened = opened;
			s->version = version;
			return -1;
		}
		if (engine_cause(en) != NULL) {
			free(s->evidence);
			s->evidence = xstrdup(engine_cause(en));
		}
	} else if (eval_due(r->kd, s, env) == -1) {
		s->due = due;
		s->start = was;
		s->version = version;
		engine_review(en, r, s->tenant, s->key, at, v, NULL, env->err);
		return -1;
	}
	/* A new due day has warnings of its own, from the change on. */
	if (s->due != due)
		s->warned = 0;
	if (s->due != due || s->opened != opened)
		rearm(en, r, s, known);
	engine_state(en)->ops->dirty(engine_state(en), s);
	return 0;
}

/*
 * A stop date on the record (a payment date, a terms date) closes the
 * obligation on that day, or on the start day if it is earlier. Not at
 * s->opened: for a record an upsert brought that is when we learned of it,
 * and terms given on the order day would then look given days late. The
 * closing follows the record while the record is what closed it: an event
 * that gives another date wins over the file's.
 */
static void
record_stop(struct engine *en, struct rule *r, struct slot *s, date_t start,
    date_t stop, instant_t known)
{
	instant_t	 closed;

	if (stop == DATE_NONE || ((s->flags & SLOT_CLOSED) &&
	    !(s->flags & SLOT_REC_CLOSED)))
		return;
	closed = when_day_start(stop < start ? start : stop);
	if ((s->flags & SLOT_CLOSED) && s->closed == closed)
		return;
	/*
	 * The due timer judges s->closed when it fires. If it fired already,
	 * against an earlier closing, a later one may miss the due day: arm
	 * it again (a violated slot has nothing left to judge).
	 */
	if ((s->flags & SLOT_CLOSED) && closed > s->closed &&
	    !(s->flags & SLOT_VIOLATED))
		rearm(en, r, s, known);
	if (!(s->flags & SLOT_CLOSED) && (s->flags & SLOT_OPEN))
		decide(en, s, DECISION_CLOSED, closed, engine_cause(en));
	s->flags |= SLOT_CLOSED | SLOT_STOPPED | SLOT_REC_CLOSED;
	s->closed = closed;
	engine_state(en)->ops->dirty(engine_state(en), s);
}

/*
 * Payments already made may reach a target the record has just lowered (or
 * removed: any payment closes one without an amount). The change closes the
 * obligation then, as the payment that reached it would have.
 */
static void
record_target(struct engine *en, struct rule *r, struct slot *s,
    struct expr_env *env, instant_t at)
{
	struct deadline	*d = r->kd;
	int		 err;

	if (d->stop_target == NULL || s->paid <= 0 || !(s->flags & SLOT_OPEN) ||
	    (s->flags & SLOT_CLOSED))
		return;
	if (satisfied(d, s, env, &err))
		close_slot(en, s, at, engine_cause(en));
}

static void
deadline_record(struct engine *en, struct rule *r, const char *tenant,
    const char *id, const cJSON *rec, instant_t at)
{
	struct deadline			*d = r->kd;
	struct expr_env			*env;
	const struct law_version	*v;
	struct slot			*s;
	date_t				 start, stop;
	instant_t			 known = engine_starting(en) ? INSTANT_MIN : at;
	int				 err, ok;

	if (d->start_record == NULL || rec == NULL)
		return;
	env = engine_env(en, r, NULL, tenant, id, rec, NULL);
	if (record_date(d->start_record, env, &start) == -1 ||
	    record_date(d->stop_record, env, &stop) == -1) {
		engine_review(en, r, tenant, id, at, NULL, NULL, env->err);
		return;
	}
	if (start == DATE_NONE)
		return;
	v = engine_version(en, r, env, when_day_start(start), &err);
	if (v == NULL) {
		if (err)
			engine_review(en, r, tenant, id, at, NULL, NULL, env->err);
		return;
	}
	if (applies(r->when, env, &ok) == -1) {
		engine_review(en, r, tenant, id, at, v, NULL, env->err);
		return;
	}
	if (!ok)
		return;
	s = engine_state(en)->ops->slot(engine_state(en), r, tenant, id, 1);
	/* Once its one violation is out, a payment date can still close it. */
	if (s->flags & SLOT_VIOLATED) {
		record_stop(en, r, s, s->start, stop, known);
		return;
	}
	if (!(s->flags & SLOT_OPEN)) {
		s->start = start;
		if (record_due(en, r, s, env, v, known, at) == -1)
			return;
		open_slot(en, r, s, s->opened, v, engine_cause(en));
	} else if (record_moved(en, r, s, env, v, start, known, at) == -1)
		return;
	/* A payment date on the record first: it closes earlier than the change. */
	record_stop(en, r, s, start, stop, known);
	record_target(en, r, s, env, at);
}

/* A stop names its record by its own key if it has one (stop_event). */
static const struct expr *
deadline_key_for(const struct rule *r, const char *type)
{
	const struct deadline *d = r->kd;

	if (kind_type_in(type, d->stop_on) && d->stop_key != NULL)
		return d->stop_key;
	return r->key;
}

const struct kind_ops kind_deadline = {
	.name = "deadline",
	.parse = deadline_parse,
	.free = deadline_free,
	.event = deadline_event,
	.record = deadline_record,
	.timer = deadline_timer,
	.key_for = deadline_key_for,
	.keys = deadline_keys,
	.alert_vars = EV_BIT(EV_START) | EV_BIT(EV_OPENED) | EV_BIT(EV_DUE) |
	    EV_BIT(EV_PAID),
};
