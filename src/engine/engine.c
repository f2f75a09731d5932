/*
 * engine.c - event-time evaluation (see engine.h). An event is applied in
 * four steps: fire timers due by its time, drop it if its id was seen, apply
 * the metadata it carries (upserts, facts) and re-check rules on the records
 * it changed, then hand it to the rules that react to its type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/engine.h"
#include "complyd/kind.h"
#include "complyd/log.h"
#include "complyd/util.h"

struct timer {
	instant_t	 at;
	uint64_t	 seq;
	struct slot	*slot;
	uint32_t	 gen;
	int		 what;
};

/* A record changed by the current event, re-checked once all of its changes are in. */
struct dirty {
	enum rec_kind	 kind;
	char		*tenant, *id;
	instant_t	 at;
};

struct engine {
	struct ruleset		*rs;
	struct registry		*reg;
	struct state		*st;
	struct alert_sink	 sink;
	instant_t		 clock;
	instant_t		 lookup_at;	/* registry time for look-ups */
	struct timer		*heap;
	size_t			 nheap, capheap;
	uint64_t		 tseq, aseq;
	struct expr_env		 env;
	struct engine_stats	 stats;
	struct dirty		*dirty;
	int			 ndirty, capdirty;
	struct rule_list	 by_subject[REC__COUNT];
	int			 starting;	/* inside engine_start */
	const char		*cause;		/* the event whose record changes are checked */
	instant_t		 (*horizon)(void);	/* live: the wall clock */
	int			 uncounted;	/* leaves rule hit counts alone */
};

const struct kind_ops *const rule_kinds[RK__COUNT] = {
	[RK_MATCH] = &kind_match,
	[RK_DEADLINE] = &kind_deadline,
	[RK_PERIODIC] = &kind_periodic,
	[RK_THRESHOLD] = &kind_threshold,
	[RK_RECORD] = &kind_record,
};

static void on_change(void *, enum rec_kind, const char *, const char *, instant_t);

static const cJSON *
lookup(void *arg, const char *kind, const char *tenant, const char *id)
{
	struct engine *en = arg;
	int k = rec_kind_parse(kind);

	if (k < 0)
		return NULL;
	return registry_get(en->reg, k, tenant, id, en->lookup_at);
}

struct engine *
engine_new(struct ruleset *rs, struct registry *reg, struct state *st,
    struct alert_sink sink)
{
	struct engine		*en = xcalloc(1, sizeof(*en));
	struct rule_list	*l;
	int			 i;

	en->rs = rs;
	en->reg = reg;
	en->st = st;
	en->sink = sink;
	en->clock = INSTANT_MIN;
	expr_env_init(&en->env);
	en->env.cal = rs->cal;
	en->env.lookup = lookup;
	en->env.lookup_arg = en;
	en->env.memo_gen = registry_generation(reg);
	for (i = 0; i < rs->nrules; i++) {
		if (rs->rules[i]->subject < 0 || !rule_kinds[rs->rules[i]->kind]->record)
			continue;
		l = &en->by_subject[rs->rules[i]->subject];
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = rs->rules[i];
	}
	registry_on_change(reg, on_change, en);
	return en;
}

void
engine_free(struct engine *en)
{
	int i;

	if (en == NULL)
		return;
	registry_on_change(en->reg, NULL, NULL);
	expr_env_free(&en->env);
	for (i = 0; i < REC__COUNT; i++)
		free(en->by_subject[i].v);
	free(en->dirty);
	free(en->heap);
	free(en);
}

instant_t
engine_clock(const struct engine *en)
{
	return en->clock;
}

struct state *
engine_state(struct engine *en)
{
	return en->st;
}

const struct engine_stats *
engine_stats(const struct engine *en)
{
	return &en->stats;
}

/* --- timers: a binary min-heap on (at, seq) --- */

static int
timer_less(const struct timer *a, const struct timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
heap_swap(struct timer *h, size_t i, size_t j)
{
	struct timer t = h[i];

	h[i] = h[j];
	h[j] = t;
}

void
engine_arm(struct engine *en, struct slot *s, instant_t at, int what)
{
	size_t i, p;

	if (en->nheap == en->capheap) {
		en->capheap = en->capheap ? en->capheap * 2 : 1024;
		en->heap = xrealloc(en->heap, en->capheap * sizeof(*en->heap));
	}
	i = en->nheap++;
	en->heap[i] = (struct timer){ at, en->tseq++, s, s->gen, what };
	for (; i > 0 && timer_less(&en->heap[i], &en->heap[p = (i - 1) / 2]); i = p)
		heap_swap(en->heap, i, p);
}

static struct timer
heap_pop(struct engine *en)
{
	struct timer	 top = en->heap[0];
	size_t		 i = 0, l, m;

	en->heap[0] = en->heap[--en->nheap];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < en->nheap && timer_less(&en->heap[l], &en->heap[m]))
			m = l;
		if (l + 1 < en->nheap && timer_less(&en->heap[l + 1], &en->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		heap_swap(en->heap, i, m);
		i = m;
	}
	return top;
}

void
engine_advance(struct engine *en, instant_t t)
{
	struct timer tm;

	while (en->nheap > 0 && en->heap[0].at <= t) {
		tm = heap_pop(en);
		if (tm.gen != tm.slot->gen)
			continue;	/* re-armed since: a stale timer */
		if (tm.at > en->clock)
			en->clock = tm.at;
		en->lookup_at = en->clock;
		/* The set's own (mutable) pointer to the slot's rule. */
		rule_kinds[tm.slot->rule->kind]->timer(en,
		    en->rs->rules[tm.slot->rule->index], tm.slot, tm.what, tm.at);
	}
	if (t > en->clock)
		en->clock = t;
}

/* --- records --- */

static void
on_change(void *arg, enum rec_kind k, const char *tenant, const char *id,
    instant_t at)
{
	struct engine	*en = arg;
	struct dirty	*d;
	int		 i;

	for (i = 0; i < en->ndirty; i++)
		if (en->dirty[i].kind == k && strcmp(en->dirty[i].tenant, tenant) == 0 &&
		    strcmp(en->dirty[i].id, id) == 0)
			return;
	if (en->ndirty == en->capdirty) {
		en->capdirty = en->capdirty ? en->capdirty * 2 : 8;
		en->dirty = xrealloc(en->dirty, en->capdirty * sizeof(*en->dirty));
	}
	d = &en->dirty[en->ndirty++];
	d->kind = k;
	d->tenant = xstrdup(tenant);
	d->id = xstrdup(id);
	d->at = at;
}

static void
check_record(struct engine *en, enum rec_kind k, const char *tenant,
    const char *id, const cJSON *rec, instant_t at)
{
	struct rule_list	*l = &en->by_subject[k];
	int			 i;

	for (i = 0; i < l->n; i++)
		rule_kinds[l->v[i]->kind]->record(en, l->v[i], tenant, id, rec, at);
}

static void
flush_dirty(struct engine *en)
{
	struct dirty	*d;
	int		 i;

	for (i = 0; i < en->ndirty; i++) {
		d = &en->dirty[i];
		en->lookup_at = d->at;
		check_record(en, d->kind, d->tenant, d->id,
		    registry_get(en->reg, d->kind, d->tenant, d->id, d->at), d->at);
		free(d->tenant);
		free(d->id);
	}
	en->ndirty = 0;
}

struct start_arg {
	struct engine	*en;
	enum rec_kind	 kind;
};

static void
start_one(void *arg, const char *tenant, const char *id, const cJSON *rec)
{
	struct start_arg *a = arg;

	check_record(a->en, a->kind, tenant, id, rec, a->en->clock);
}

void
engine_start(struct engine *en, instant_t t)
{
	struct start_arg	a = { en, 0 };
	int			k;

	en->clock = en->lookup_at = t;
	en->env.memo_epoch++;
	en->starting = 1;
	for (k = 0; k < REC__COUNT; k++) {
		a.kind = k;
		registry_each(en->reg, k, start_one, &a);
	}
	en->starting = 0;
}

int
engine_starting(const struct engine *en)
{
	return en->starting;
}

const char *
engine_cause(const struct engine *en)
{
	return en->cause;
}

/* --- events --- */

/*
 * What the feed told about a record (a receipt date from subcontract.received)
 * stays known when an upsert that does not say it replaces the record: the
 * fields of facts marked `keep` are carried over unless the upsert gives them.
 */
static void
keep_facts(struct engine *en, enum rec_kind k, const struct soc_event *ev,
    const char *id, cJSON *rec)
{
	const cJSON	*prev = registry_get(en->reg, k, ev->tenant, id, ev->time);
	const cJSON	*v;
	struct law	*law;
	int		 i, j, f;

	if (prev == NULL)
		return;
	for (i = 0; i < en->rs->nlaws; i++) {
		law = en->rs->laws[i];
		for (j = 0; j < law->nfacts; j++) {
			if (law->facts[j].kind != k || !law->facts[j].keep)
				continue;
			for (f = 0; f < law->facts[j].nset; f++) {
				const char *name = law->facts[j].fields[f];

				if (cJSON_GetObjectItemCaseSensitive(rec, name) == NULL &&
				    (v = cJSON_GetObjectItemCaseSensitive(prev, name)) != NULL)
					cJSON_AddItemToObject(rec, name, cJSON_Duplicate(v, 1));
			}
		}
	}
}

/* An upsert replaces a whole record from its event time on. */
static void
apply_upsert(struct engine *en, const struct soc_event *ev)
{
	const cJSON	*rec, *id;
	cJSON		*copy;
	char		 kind[32];
	const char	*dot = strchr(ev->type, '.');
	int		 k;

	if (dot == NULL || strcmp(dot, ".upserted") != 0 ||
	    (size_t)(dot - ev->type) >= sizeof(kind))
		return;
	memcpy(kind, ev->type, dot - ev->type);
	kind[dot - ev->type] = '\0';
	if ((k = rec_kind_parse(kind)) < 0)
		return;
	rec = cJSON_GetObjectItemCaseSensitive(ev->json, "record");
	id = cJSON_GetObjectItemCaseSensitive(rec, "id");
	if (!cJSON_IsString(id))
		return;
	copy = cJSON_Duplicate(rec, 1);
	keep_facts(en, k, ev, id->valuestring, copy);
	registry_put(en->reg, k, ev->tenant, id->valuestring, ev->time, copy);
}

static void
apply_fact(struct engine *en, const struct fact *f, const struct soc_event *ev)
{
	struct expr_env	*env;
	struct sbuf	 id;
	struct val	 v;
	cJSON		*vals[16];
	const cJSON	*rec;
	int		 i, n = f->nset < 16 ? f->nset : 16;

	sbuf_init(&id);
	env = engine_env(en, NULL, ev, ev->tenant, NULL, NULL, NULL);
	if (expr_eval_str(f->id, env, &id) == -1)
		goto out;
	rec = registry_get(en->reg, f->kind, ev->tenant, id.s, ev->time);
	if (rec == NULL)
		goto out;	/* facts never create records */
	env->vars[EV_RECORD] = val_json(rec);
	env->vars[EV_KEY] = val_str(id.s);
	/* Evaluate every value against the record as it was, then set them. */
	for (i = 0; i < n; i++)
		vals[i] = expr_eval(f->values[i], env, &v) == 0 && v.t != V_NULL ?
		    val_to_json(&v) : NULL;
	registry_set_fields(en->reg, f->kind, ev->tenant, id.s, ev->time, f->fields,
	    vals, n);
out:
	sbuf_free(&id);
}

void
engine_leave_hits(struct engine *en)
{
	en->uncounted = 1;
}

void
engine_set_horizon(struct engine *en, instant_t (*now)(void))
{
	en->horizon = now;
}

int
engine_event(struct engine *en, const struct soc_event *ev)
{
	struct rule_list	*rl;
	struct fact_list	*fl;
	instant_t		 to = ev->time;
	uint64_t		 th;
	int			 i;

	en->env.memo_epoch++;	/* macro values kept for the last event are not this one's */
	/* Live, an event stamped in the future must not fire anyone's timers early. */
	if (en->horizon && to > en->horizon())
		to = en->horizon();
	engine_advance(en, to);
	if (en->st->ops->seen(en->st, ev->tenant, ev->id)) {
		en->stats.duplicates++;
		return 1;
	}
	en->stats.events++;
	en->lookup_at = ev->time;
	apply_upsert(en, ev);
	th = hmap_hash(ev->type);	/* two maps by type: one hash */
	if ((fl = hmap_get_hashed(&en->rs->facts_by_type, ev->type, th)) != NULL)
		for (i = 0; i < fl->n; i++)
			apply_fact(en, fl->v[i], ev);
	/* What the checks of the changed records raise or open, this event caused. */
	en->cause = ev->id;
	flush_dirty(en);
	en->cause = NULL;
	en->lookup_at = ev->time;
	if ((rl = hmap_get_hashed(&en->rs->by_type, ev->type, th)) != NULL)
		for (i = 0; i < rl->n; i++) {
			if (!en->uncounted)
				rl->v[i]->hits++;
			rule_kinds[rl->v[i]->kind]->event(en, rl->v[i], ev);
		}
	return 0;
}

/* --- helpers for kinds --- */

struct expr_env *
engine_env(struct engine *en, const struct rule *r, const struct soc_event *ev,
    const char *tenant, const char *key, const cJSON *record,
    const struct law_version *v)
{
	struct expr_env	*env = &en->env;
	int		 i;

	expr_env_reset(env);
	for (i = 0; i < EV__COUNT; i++)
		env->vars[i] = val_null();
	env->tenant = tenant;
	env->vars[EV_EVENT] = ev ? val_json(ev->json) : val_null();
	env->vars[EV_RECORD] = val_json(record);
	env->vars[EV_KEY] = key ? val_str(key) : val_null();
	env->vars[EV_TENANT] = tenant ? val_str(tenant) : val_null();
	env->vars[EV_VERSION] = v ? val_str(v->id) : val_null();
	env->vars[EV_NOW] = val_time(en->clock);
	if (r)
		env->vars[EV_PARAMS] = val_json(r->law->params);
	env->err[0] = '\0';
	return env;
}

const cJSON *
engine_record(struct engine *en, const struct rule *r, const char *tenant,
    const char *key)
{
	if (r->subject < 0 || key == NULL)
		return NULL;
	return registry_get(en->reg, r->subject, tenant, key, en->lookup_at);
}

int
engine_version_index(const struct rule *r, const struct law_version *v)
{
	return v ? (int)(v - r->law->versions) : -1;
}

static int
version_date(const struct expr *e, struct expr_env *env, date_t *d, int *err)
{
	struct val v;

	if (expr_eval(e, env, &v) == -1) {
		*err = 1;
		return -1;
	}
	if (v.t == V_NULL)
		return -1;
	if (v.t == V_TIME) {
		*d = when_date_of(v.u.at);
		return 0;
	}
	if (expr_eval_date(e, env, d) == -1) {
		*err = 1;
		return -1;
	}
	return 0;
}

const struct law_version *
engine_version(struct engine *en, const struct rule *r, struct expr_env *env,
    instant_t at, int *err)
{
	const struct law_version	*v;
	date_t				 d = when_date_of(at);

	(void)en;
	*err = 0;
	/* A version date that is not known (null) means the rule does not apply. */
	if (r->version_at && (version_date(r->version_at, env, &d, err) == -1))
		return NULL;
	if ((r->eff_from != DATE_NONE && d < r->eff_from) ||
	    (r->eff_until != DATE_NONE && d >= r->eff_until))
		return NULL;
	if ((v = law_version_at(r->law, d)) == NULL || rule_article(r, v) == NULL)
		return NULL;
	env->vars[EV_VERSION] = val_str(v->id);
	return v;
}

static const struct suppression *
suppressed(const struct engine *en, const struct rule *r, const char *tenant,
    const char *key, instant_t t)
{
	const struct suppression	*s;
	int				 i;

	for (i = 0; i < en->rs->nsups; i++) {
		s = &en->rs->sups[i];
		if ((strcmp(s->rule, r->id) == 0 || strcmp(s->rule, r->obligation) == 0) &&
		    (strcmp(s->tenant, "*") == 0 || strcmp(s->tenant, tenant) == 0) &&
		    (strcmp(s->key, "*") == 0 || strcmp(s->key, key) == 0) &&
		    when_date_of(t) <= s->expires)
			return s;
	}
	return NULL;
}

/*
 * Alert members under constant keys: cJSON then keeps the key literal
 * instead of copying it (three mallocs a member become two).
 */
static cJSON *
add_obj(cJSON *o, const char *key, cJSON *item)
{
	cJSON_AddItemToObjectCS(o, key, item);
	return item;
}

static void
add_str(cJSON *o, const char *key, const char *s)
{
	add_obj(o, key, cJSON_CreateString(s));
}

static void
add_null(cJSON *o, const char *key)
{
	add_obj(o, key, cJSON_CreateNull());
}

/*
 * A review of a rule that could not judge: its own message would print the
 * missing values as null, so the message is the rule's title and the reason.
 */
static void
add_unjudged_message(cJSON *o, const struct rule *r, const char *reason)
{
	const cJSON	*title = cJSON_GetObjectItemCaseSensitive(r->meta, "title");
	const cJSON	*ja = cJSON_GetObjectItemCaseSensitive(title, "ja");
	const cJSON	*en = cJSON_GetObjectItemCaseSensitive(title, "en");
	cJSON		*m = add_obj(o, "message", cJSON_CreateObject());
	struct sbuf	 b;

	sbuf_init(&b);
	sbuf_printf(&b, "%s: 判定できません(%s)",
	    cJSON_IsString(ja) ? ja->valuestring : r->id, reason);
	add_str(m, "ja", b.s);
	b.len = 0;
	sbuf_printf(&b, "%s: cannot be judged (%s)",
	    cJSON_IsString(en) ? en->valuestring : r->id, reason);
	add_str(m, "en", b.s);
	sbuf_free(&b);
}

static void
add_message(cJSON *o, const struct rule *r, struct expr_env *env)
{
	cJSON		*m = add_obj(o, "message", cJSON_CreateObject());
	struct sbuf	 b;

	sbuf_init(&b);
	if (r->msg_ja)
		tmpl_render(r->msg_ja, env, &b);
	add_str(m, "ja", b.s ? b.s : "");
	b.len = 0;
	if (b.s)
		b.s[0] = '\0';
	if (r->msg_en)
		tmpl_render(r->msg_en, env, &b);
	add_str(m, "en", b.s ? b.s : "");
	sbuf_free(&b);
}

/* Rule-defined details; an erroring one is left out rather than failing the alert. */
static void
add_rule_details(cJSON *details, const struct rule *r, struct expr_env *env)
{
	struct val	 v;
	int		 i;

	for (i = 0; i < r->ndetails; i++) {
		if (cJSON_GetObjectItemCaseSensitive(details, r->details[i].name))
			continue;
		if (expr_eval(r->details[i].value, env, &v) == 0)
			cJSON_AddItemToObject(details, r->details[i].name, val_to_json(&v));
	}
}

static cJSON *
build_alert(struct engine *en, const struct rule *r, struct alert_req *q,
    const char *id)
{
	cJSON	*o = cJSON_CreateObject(), *subj, *ev, *det;
	char	 ts[32];
	int	 i;

	add_str(o, "id", id);
	add_str(o, "tenant", q->tenant);
	add_str(o, "rule", r->id);
	add_str(o, "obligation", r->obligation);
	add_str(o, "law", r->law->id);
	if (q->version && rule_article(r, q->version)) {
		add_str(o, "law_version", q->version->id);
		add_str(o, "article", rule_article(r, q->version));
	} else {
		add_null(o, "law_version");
		add_null(o, "article");
	}
	add_str(o, "severity", r->severity ? r->severity : "medium");
	add_str(o, "status", q->status);
	add_str(o, "state", "open");
	add_str(o, "time", when_fmt_instant(q->time, ts));
	add_str(o, "key", q->key);
	subj = add_obj(o, "subject", cJSON_CreateObject());
	add_str(subj, "kind", r->subject_label);
	add_str(subj, "id", q->key);
	if (q->unjudged)
		add_unjudged_message(o, r, q->unjudged);
	else
		add_message(o, r, q->env ? q->env : engine_env(en, r, NULL,
		    q->tenant, q->key, engine_record(en, r, q->tenant, q->key),
		    q->version));
	ev = add_obj(o, "evidence", cJSON_CreateArray());
	for (i = 0; i < 4 && q->evidence[i]; i++)
		cJSON_AddItemToArray(ev, cJSON_CreateString(q->evidence[i]));
	det = q->details ? q->details : cJSON_CreateObject();
	q->details = NULL;
	if (q->env)
		add_rule_details(det, r, q->env);
	add_obj(o, "details", det);
	return o;
}

void
engine_raise(struct engine *en, const struct rule *r, struct alert_req *q)
{
	struct alert	 a;
	char		 id[27];

	if (suppressed(en, r, q->tenant, q->key, q->time)) {
		en->stats.suppressed++;
		cJSON_Delete(q->details);
		return;
	}
	alert_make_id(id, q->tenant, r->id, q->key, q->status, q->time, q->id_part);
	memset(&a, 0, sizeof(a));
	a.json = build_alert(en, r, q, id);
	a.time = q->time;
	a.tenant = cJSON_GetObjectItemCaseSensitive(a.json, "tenant")->valuestring;
	a.obligation = r->obligation;
	a.key = cJSON_GetObjectItemCaseSensitive(a.json, "key")->valuestring;
	a.status = cJSON_GetObjectItemCaseSensitive(a.json, "status")->valuestring;
	a.id = cJSON_GetObjectItemCaseSensitive(a.json, "id")->valuestring;
	a.seq = en->aseq++;
	en->stats.alerts++;
	if (strcmp(q->status, "review") == 0)
		en->stats.reviews++;
	en->sink.emit(en->sink.arg, &a);
}

int
engine_decides(const struct engine *en)
{
	return en->sink.decide != NULL;
}

void
engine_decide(struct engine *en, const struct decision *d)
{
	if (en->sink.decide != NULL)
		en->sink.decide(en->sink.arg, d);
}

void
engine_review(struct engine *en, const struct rule *r, const char *tenant,
    const char *key, instant_t t, const struct law_version *v,
    const struct soc_event *ev, const char *reason)
{
	struct alert_req q;

	memset(&q, 0, sizeof(q));
	q.tenant = tenant;
	q.key = key ? key : "";
	q.status = "review";
	q.time = t;
	q.version = v ? v : law_version_at(r->law, when_date_of(t));
	q.id_part = ev ? ev->id : NULL;
	/* A record check's review: the event that changed the record, if any. */
	q.evidence[0] = ev ? ev->id : en->cause;
	q.details = cJSON_CreateObject();
	cJSON_AddStringToObject(q.details, "reason", reason);
	q.unjudged = reason;
	engine_raise(en, r, &q);
}
