/*
 * kind_periodic.c - `periodic`: a recurring obligation per key. Due = the
 * latest check (a record field or a renewing event) + the interval; a missed
 * due raises one violation and the next due counts from the next check. With
 * no check on record at all, one review ("no record of the last check").
 *
 *   kind: periodic
 *   subject: facility
 *   key: event.facility
 *   baseline: max(record.last_equipment_check, record.last_comprehensive_check)
 *   renew: { on: fire.equipment_checked, when: EXPR }
 *   interval: months(6)
 *   warn: [30]
 */
#include <stdlib.h>
#include <string.h>

#include "complyd/kind.h"
#include "complyd/yamlx.h"

#define WHAT_DUE	KIND_WHAT_DUE

struct periodic {
	struct expr	*baseline;	/* over the record; may be NULL */
	char		**renew_on;
	struct expr	*renew_when;
	struct expr	*interval;
	int		*warn, nwarn;
};

static const char *const periodic_keys[] = { "baseline", "renew", "interval",
	"warn", NULL };

static int
periodic_parse(struct loader *ld, yaml_node_t *n, struct rule *r)
{
	static const char *const renew_keys[] = { "on", "when", NULL };
	struct periodic	*p = xcalloc(1, sizeof(*p));
	yaml_node_t	*renew = ydoc_get(ld->doc, n, "renew");

	r->kd = p;
	if (r->subject < 0) {
		ydoc_error(ld->doc, n, "periodic rule %s needs `subject`", r->id);
		return -1;
	}
	p->baseline = loader_expr(ld, ydoc_get(ld->doc, n, "baseline"),
	    KIND_RECORD_VARS, T_ANY, "baseline");
	if (renew) {
		ld->nerrors += ydoc_check_keys(ld->doc, renew, renew_keys, "renew");
		p->renew_on = loader_on(ld, ydoc_get(ld->doc, renew, "on"));
		p->renew_when = loader_expr(ld, ydoc_get(ld->doc, renew, "when"),
		    KIND_EVENT_VARS, T_BOOL, "renew.when");
		r->key = loader_expr(ld, ydoc_get(ld->doc, n, "key"), KIND_EVENT_VARS &
		    ~EV_BIT(EV_KEY) & ~EV_BIT(EV_RECORD), T_ANY, "key");
		if (r->key == NULL) {
			ydoc_error(ld->doc, n, "periodic rule %s with `renew` needs `key`",
			    r->id);
			return -1;
		}
		kind_add_on(&r->on, p->renew_on);
	}
	p->interval = loader_expr(ld, ydoc_get(ld->doc, n, "interval"),
	    KIND_RECORD_VARS, T_DUR, "interval");
	if (p->interval == NULL) {
		if (ydoc_get(ld->doc, n, "interval") == NULL)
			ydoc_error(ld->doc, n, "periodic rule %s needs `interval`", r->id);
		return -1;
	}
	if (kind_parse_warn(ld, ydoc_get(ld->doc, n, "warn"), &p->warn,
	    &p->nwarn) == -1)
		return -1;
	return 0;
}

static void
periodic_free(struct rule *r)
{
	struct periodic	*p = r->kd;
	int		 i;

	if (p == NULL)
		return;
	expr_free(p->baseline);
	for (i = 0; p->renew_on && p->renew_on[i]; i++)
		free(p->renew_on[i]);
	free(p->renew_on);
	expr_free(p->renew_when);
	expr_free(p->interval);
	free(p->warn);
	free(p);
}

static void
raise_at(struct engine *en, struct rule *r, struct slot *s, const char *status,
    instant_t at, const char *reason)
{
	const struct law_version	*v;
	struct expr_env			*env;
	struct alert_req		 q;
	char				 due[16], last[16], why[256];
	int				 n = 0;

	/* The reason may be env->err, which engine_env clears: keep a copy. */
	if (reason)
		snprintf(why, sizeof(why), "%s", reason);
	v = law_version_at(r->law, when_date_of(at));
	env = engine_env(en, r, NULL, s->tenant, s->key,
	    engine_record(en, r, s->tenant, s->key), v);
	env->vars[EV_DUE] = val_date(s->due);
	env->vars[EV_BASELINE] = val_date(s->baseline);
	memset(&q, 0, sizeof(q));
	q.tenant = s->tenant;
	q.key = s->key;
	q.status = status;
	q.time = at;
	q.version = v;
	q.evidence[0] = s->evidence;
	q.env = env;
	if (s->due != DATE_NONE)
		q.details[n++] = (struct alert_detail){ "due",
		    when_fmt_date(s->due, due), 0 };
	if (s->baseline != DATE_NONE)
		q.details[n++] = (struct alert_detail){ "last_check",
		    when_fmt_date(s->baseline, last), 0 };
	/* A review with a reason could not judge: its message says so, not the template. */
	if (reason) {
		q.details[n++] = (struct alert_detail){ "reason", why, 0 };
		q.unjudged = why;
	}
	engine_raise(en, r, &q);
}

static void
arm_next(struct engine *en, struct rule *r, struct slot *s, instant_t after)
{
	struct periodic *p = r->kd;

	kind_arm_next(en, s, p->warn, p->nwarn, when_day_start(s->baseline), after);
}

/* Recomputes the due day from the baseline and re-arms the timers. */
static void
reschedule(struct engine *en, struct rule *r, struct slot *s, const cJSON *rec,
    instant_t at)
{
	struct periodic	*p = r->kd;
	struct expr_env	*env;
	struct val	 iv;
	date_t		 due;

	env = engine_env(en, r, NULL, s->tenant, s->key, rec, NULL);
	if (expr_eval(p->interval, env, &iv) == -1 || iv.t != V_DUR) {
		raise_at(en, r, s, "review", at, env->err[0] ? env->err :
		    "interval is not a duration");
		return;
	}
	due = when_add_months(s->baseline, iv.u.dur.months) + iv.u.dur.days;
	if (due == s->due && (s->flags & SLOT_OPEN))
		return;
	s->due = due;
	s->flags = (s->flags | SLOT_OPEN) & ~SLOT_VIOLATED;
	s->warned = 0;
	s->gen++;
	/*
	 * What an event brought is known from its time: no warnings at or
	 * before it (DESIGN: "a warning at or before the instant the
	 * obligation opened is not raised").
	 */
	arm_next(en, r, s, engine_starting(en) ? INSTANT_MIN : at);
	engine_state(en)->ops->dirty(engine_state(en), s);
}

static void
periodic_record(struct engine *en, struct rule *r, const char *tenant,
    const char *id, const cJSON *rec, instant_t at)
{
	struct periodic	*p = r->kd;
	struct expr_env	*env;
	struct slot	*s;
	struct val	 bv;
	date_t		 b = DATE_NONE;

	if (rec == NULL)
		return;
	s = engine_state(en)->ops->slot(engine_state(en), r, tenant, id, 1);
	env = engine_env(en, r, NULL, tenant, id, rec, NULL);
	if (p->baseline && (expr_eval(p->baseline, env, &bv) == -1 ||
	    (bv.t != V_NULL && expr_val_date(p->baseline, env, &bv, &b) == -1))) {
		raise_at(en, r, s, "review", at, env->err);
		return;
	}
	if (s->ev_baseline != DATE_NONE && (b == DATE_NONE || s->ev_baseline > b))
		b = s->ev_baseline;
	if (b == DATE_NONE) {
		if (!(s->flags & SLOT_REVIEWED)) {
			s->flags |= SLOT_REVIEWED;
			raise_at(en, r, s, "review", at, "no record of the last check");
		}
		return;
	}
	s->baseline = b;
	reschedule(en, r, s, rec, at);
}

static void
periodic_event(struct engine *en, struct rule *r, const struct soc_event *ev)
{
	struct periodic	*p = r->kd;
	struct expr_env	*env;
	struct slot	*s;
	struct sbuf	 key;
	date_t		 d = when_date_of(ev->time);
	int		 ok = 1;

	sbuf_init(&key);
	if ((env = kind_event_env(en, r, ev, r->key, &key, 1)) == NULL)
		goto out;
	if (p->renew_when && expr_eval_bool(p->renew_when, env, &ok) == -1) {
		engine_review(en, r, ev->tenant, key.s, ev->time, NULL, ev, env->err);
		goto out;
	}
	if (!ok)
		goto out;
	s = engine_state(en)->ops->slot(engine_state(en), r, ev->tenant, key.s, 1);
	if (s->ev_baseline == DATE_NONE || d > s->ev_baseline)
		s->ev_baseline = d;
	if (s->baseline != DATE_NONE && s->baseline >= d)
		goto out;	/* an older check than the one on record */
	s->baseline = d;
	free(s->evidence);
	s->evidence = xstrdup(ev->id);
	reschedule(en, r, s, engine_record(en, r, ev->tenant, key.s), ev->time);
out:
	sbuf_free(&key);
}

static void
periodic_timer(struct engine *en, struct rule *r, struct slot *s, int what,
    instant_t at)
{
	if (s->flags & SLOT_VIOLATED)
		return;
	if (what == WHAT_DUE) {
		s->flags |= SLOT_VIOLATED;
		engine_state(en)->ops->dirty(engine_state(en), s);
		raise_at(en, r, s, "violation", at, NULL);
		return;
	}
	arm_next(en, r, s, at);
	if (s->warned & (1u << what))
		return;
	s->warned |= 1u << what;
	raise_at(en, r, s, "warning", at, NULL);
}

const struct kind_ops kind_periodic = {
	.name = "periodic",
	.parse = periodic_parse,
	.free = periodic_free,
	.event = periodic_event,
	.record = periodic_record,
	.timer = periodic_timer,
	.key_for = kind_key_for,
	.keys = periodic_keys,
	.alert_vars = EV_BIT(EV_DUE) | EV_BIT(EV_BASELINE),
};
