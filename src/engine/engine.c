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
#include "complyd/jsonw.h"
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

/*
 * A record changed by the current event, re-checked once all of its changes
 * are in. tenant and id are the registry's copies (registry_change_fn): no
 * string is copied per change, and one record is always the same id pointer.
 */
struct dirty {
	enum rec_kind	 kind;
	const char	*tenant, *id;
	instant_t	 at;
};

/* The last key an event's rule worked out: see engine_event_key. */
struct key_memo {
	const char		*src;		/* the key expression's text; NULL: none */
	uint64_t		 epoch;		/* env.memo_epoch: the event */
	const struct law	*law;
	struct sbuf		 key;
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
	struct key_memo		 kmemo;	/* see engine_event_key */
	struct hmap		 hints;	/* event type -> struct hint_list * */
	struct sbuf		 text, msg;	/* an alert's record, a message: reused */
	struct member_text	**rule_text;	/* [rule index][version index + 1] */
	instant_t		 time_at;	/* the last alert's time, */
	char			 time_text[32];	/* as text ("": none yet) */
};

/*
 * Fields of an event of one type that name a record its rules or facts look
 * up (their key is `event.<field>`), by record kind: engine_prefetch starts
 * loading those records while the events wait in their chunk.
 */
#define HINT_NAMES	4
struct hint_list {
	int		 n;
	enum rec_kind	 kind[HINT_NAMES];
	const char	*field[HINT_NAMES];
};

/* The text of an alert's members that depend on its rule and law version only. */
struct member_text {
	char	*s;		/* NULL: not written yet */
	size_t	 n;
};

const struct kind_ops *const rule_kinds[RK__COUNT] = {
	[RK_MATCH] = &kind_match,
	[RK_DEADLINE] = &kind_deadline,
	[RK_PERIODIC] = &kind_periodic,
	[RK_THRESHOLD] = &kind_threshold,
	[RK_RECORD] = &kind_record,
};

static void on_change(void *, enum rec_kind, const char *, const char *, instant_t);
static void rule_text_free(struct engine *);

static const cJSON *
lookup(void *arg, const char *kind, const char *tenant, const char *id)
{
	struct engine *en = arg;
	int k = rec_kind_parse(kind);

	if (k < 0)
		return NULL;
	return registry_get(en->reg, k, tenant, id, en->lookup_at);
}

static void
hint_add(struct hmap *hints, const char *type, int kind, const struct expr *key)
{
	const char		*f = expr_event_field(key);
	struct hint_list	*l;
	int			 i;

	if (f == NULL || kind < 0)
		return;
	if ((l = hmap_get(hints, type)) == NULL) {
		l = xcalloc(1, sizeof(*l));
		hmap_put(hints, type, l);
	}
	for (i = 0; i < l->n; i++)
		if (l->kind[i] == (enum rec_kind)kind && strcmp(l->field[i], f) == 0)
			return;
	if (l->n < HINT_NAMES) {
		l->kind[l->n] = kind;
		l->field[l->n++] = f;
	}
}

static void
hint_facts(const char *type, void *val, void *arg)
{
	const struct fact_list	*fl = val;
	int			 i;

	(void)type;
	for (i = 0; i < fl->n; i++)
		hint_add(arg, fl->v[i]->on, fl->v[i]->kind, fl->v[i]->id);
}

/* Which fields of which event types name the records looked up (see struct hint_list). */
static void
hints_build(struct hmap *hints, const struct ruleset *rs)
{
	const struct rule	*r;
	int			 i, j;

	hmap_init(hints);
	for (i = 0; i < rs->nrules; i++) {
		r = rs->rules[i];
		if (r->subject < 0 || rule_kinds[r->kind]->key_for == NULL)
			continue;
		for (j = 0; r->on != NULL && r->on[j] != NULL; j++)
			hint_add(hints, r->on[j], r->subject,
			    rule_kinds[r->kind]->key_for(r, r->on[j]));
	}
	hmap_each(&rs->facts_by_type, hint_facts, hints);
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
	sbuf_init(&en->text);
	sbuf_init(&en->msg);
	sbuf_init(&en->kmemo.key);
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
	hints_build(&en->hints, rs);
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
	sbuf_free(&en->text);
	sbuf_free(&en->msg);
	sbuf_free(&en->kmemo.key);
	rule_text_free(en);
	hmap_free(&en->hints, free);
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
		if (en->dirty[i].kind == k && en->dirty[i].id == id)
			return;
	if (en->ndirty == en->capdirty) {
		en->capdirty = en->capdirty ? en->capdirty * 2 : 8;
		en->dirty = xrealloc(en->dirty, en->capdirty * sizeof(*en->dirty));
	}
	d = &en->dirty[en->ndirty++];
	d->kind = k;
	d->tenant = tenant;
	d->id = id;
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
	if (kind_eval_key(f->id, env, &id) == -1)
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

/* A top-level string member of an event, as obj_get finds it; NULL if none. */
static const char *
event_string(const cJSON *o, const char *name)
{
	const cJSON	*it;

	for (it = o->child; it != NULL && it->string != NULL; it = it->next)
		if (it->string[0] == name[0] && strcmp(it->string, name) == 0)
			return cJSON_IsString(it) ? it->valuestring : NULL;
	return NULL;
}

/*
 * Two passes: the first starts loading the buckets of every record the
 * events name, the second, once those are in, the records themselves; a
 * look-up then finds both in the cache. Why: each of these look-ups missed
 * the cache twice, one miss waiting for the other (perf: ptab_probe and the
 * strcmp in rec_named, a tenth of a replay's samples).
 */
void
engine_prefetch(struct engine *en, const struct soc_event *evs, size_t n)
{
	struct {
		enum rec_kind	 kind;
		uint64_t	 h;
	}			 want[ENGINE_PREFETCH_MAX * HINT_NAMES];
	const struct hint_list	*l;
	const char		*id;
	size_t			 i, nw = 0;
	int			 j;

	for (i = 0; i < n; i++) {
		if (en->st->ops->prefetch != NULL)
			en->st->ops->prefetch(en->st, evs[i].tenant, evs[i].id);
		if (i >= ENGINE_PREFETCH_MAX || en->hints.len == 0 ||
		    (l = hmap_get_hashed(&en->hints, evs[i].type,
		    evs[i].type_hash)) == NULL)
			continue;
		for (j = 0; j < l->n; j++)
			if ((id = event_string(evs[i].json, l->field[j])) != NULL) {
				want[nw].kind = l->kind[j];
				want[nw++].h = registry_prefetch(en->reg, l->kind[j],
				    evs[i].tenant, id);
				if (en->st->ops->prefetch_slots != NULL)
					en->st->ops->prefetch_slots(en->st,
					    evs[i].tenant, id);
			}
	}
	for (i = 0; i < nw; i++)
		registry_prefetch_record(en->reg, want[i].kind, want[i].h);
}

int
engine_event(struct engine *en, const struct soc_event *ev)
{
	struct rule_list	*rl;
	struct fact_list	*fl;
	instant_t		 to = ev->time;
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
	if ((fl = hmap_get_hashed(&en->rs->facts_by_type, ev->type,
	    ev->type_hash)) != NULL)
		for (i = 0; i < fl->n; i++)
			apply_fact(en, fl->v[i], ev);
	/* What the checks of the changed records raise or open, this event caused. */
	en->cause = ev->id;
	flush_dirty(en);
	en->cause = NULL;
	en->lookup_at = ev->time;
	if ((rl = hmap_get_hashed(&en->rs->by_type, ev->type,
	    ev->type_hash)) != NULL)
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

	_Static_assert(V_NULL == 0, "engine_env nulls vars with memset");
	expr_env_reset(env);
	/* Every rule of every event comes here: all null at once (V_NULL is 0). */
	memset(env->vars, 0, sizeof(env->vars));
	env->tenant = tenant;
	if (ev != NULL)
		env->vars[EV_EVENT] = val_json(ev->json);
	if (record != NULL)
		env->vars[EV_RECORD] = val_json(record);
	if (key != NULL)
		env->vars[EV_KEY] = val_str(key);
	if (tenant != NULL)
		env->vars[EV_TENANT] = val_str(tenant);
	if (v != NULL)
		env->vars[EV_VERSION] = val_str(v->id);
	env->vars[EV_NOW] = val_time(en->clock);
	if (r)
		env->vars[EV_PARAMS] = val_json(r->law->params);
	env->err[0] = '\0';
	return env;
}

/*
 * The rules of one event often key on one expression: both APPI rules on
 * personal_data.used on event.dataset, four rules on subcontract.paid on
 * event.contract. A key sees the event, the tenant, the clock and its law's
 * params (record, key and version are null while it is worked out), none of
 * which move between the rules of one event. So within one event (the memo
 * epoch) and one law, the first rule's key serves the next ones. A key that
 * failed is worked out again: each rule reports its own review.
 */
int
engine_event_key(struct engine *en, const struct rule *r, const struct expr *e,
    struct expr_env *env, struct sbuf *key)
{
	struct key_memo	*m = &en->kmemo;

	if (m->src != NULL && m->epoch == env->memo_epoch && m->law == r->law &&
	    (m->src == expr_src(e) || strcmp(m->src, expr_src(e)) == 0)) {
		key->len = 0;
		sbuf_add(key, m->key.s, m->key.len);
		return 0;
	}
	m->src = NULL;
	if (kind_eval_key(e, env, key) == -1)
		return -1;
	m->key.len = 0;
	sbuf_add(&m->key, key->s, key->len);
	m->epoch = env->memo_epoch;
	m->law = r->law;
	m->src = expr_src(e);
	return 0;
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
	if (expr_val_date(e, env, &v, d) == -1) {
		*err = 1;
		return -1;
	}
	return 0;
}

/* The version of r's law in force on day d, if r is in force then (its dates, an article). */
static const struct law_version *
rule_version_on(const struct rule *r, date_t d)
{
	const struct law_version	*v;

	if ((r->eff_from != DATE_NONE && d < r->eff_from) ||
	    (r->eff_until != DATE_NONE && d >= r->eff_until))
		return NULL;
	if ((v = law_version_at(r->law, d)) == NULL || rule_article(r, v) == NULL)
		return NULL;
	return v;
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
	if ((v = rule_version_on(r, d)) == NULL)
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
 * The alert record is written member by member, once, to either of two
 * ends: JSON text (jsonw) for a sink that only writes it out, a replay's
 * collector, for which the tree cost more than the rest of the alert; or
 * a cJSON tree for one that looks into it (the daemon, ctl test). The text
 * is what cJSON_PrintUnformatted printed of that tree, byte for byte.
 */
struct rec_out {
	struct sbuf	*b;		/* text: appended here */
	cJSON		*o;		/* or the tree: the object or array being filled */
};

/* Text: a member's ",": none before the first of its object or array. */
static void
put_sep(struct sbuf *b)
{
	char c = b->s[b->len - 1];

	if (c != '{' && c != '[')
		jsonw_raw(b, ",", 1);
}

/* Text: a member's "name": under a name that is not constant. */
static void
put_key(struct sbuf *b, const char *name)
{
	put_sep(b);
	jsonw_string(b, name);
	jsonw_raw(b, ":", 1);
}

/*
 * Text: a member under a constant name, given as its `,"name":` text (n
 * bytes; MEMBER makes it), without the comma if it is the first.
 */
static void
put_member(struct sbuf *b, const char *member, size_t n)
{
	char c = b->s[b->len - 1];

	if (c == '{' || c == '[') {
		member++;
		n--;
	}
	jsonw_raw(b, member, n);
}

#define MEMBER(name)	",\"" name "\":", sizeof(",\"" name "\":") - 1
#define PUT_RAW(b, text)	jsonw_raw((b), (text), sizeof(text) - 1)

/*
 * A string under a constant name. A NULL string is left out, as cJSON
 * makes no item of it.
 */
static void
out_str(struct rec_out *w, const char *name, const char *member, size_t n,
    const char *s)
{
	if (w->o) {
		cJSON_AddItemToObjectCS(w->o, name, cJSON_CreateString(s));
		return;
	}
	if (s == NULL)
		return;
	put_member(w->b, member, n);
	jsonw_string(w->b, s);
}

#define OUT_STR(w, name, s)	out_str((w), name, MEMBER(name), (s))

/*
 * A string of len bytes that needs no escape (an alert id, a constant):
 * the text copies it without looking at its bytes.
 */
static void
out_plain(struct rec_out *w, const char *name, const char *member, size_t n,
    const char *s, size_t len)
{
	if (w->o) {
		out_str(w, name, member, n, s);
		return;
	}
	put_member(w->b, member, n);
	jsonw_raw(w->b, "\"", 1);
	jsonw_raw(w->b, s, len);
	jsonw_raw(w->b, "\"", 1);
}

#define OUT_PLAIN(w, name, s, len)	out_plain((w), name, MEMBER(name), (s), (len))

/* A null under a constant name. */
static void
out_null(struct rec_out *w, const char *name, const char *member, size_t n)
{
	if (w->o) {
		cJSON_AddItemToObjectCS(w->o, name, cJSON_CreateNull());
		return;
	}
	put_member(w->b, member, n);
	PUT_RAW(w->b, "null");
}

#define OUT_NULL(w, name)	out_null((w), name, MEMBER(name))

/* Opens an object (or array) under a constant name; out_close ends it. */
static struct rec_out
out_open(struct rec_out *w, const char *name, const char *member, size_t n,
    int array)
{
	struct rec_out	 in = *w;

	if (w->o) {
		in.o = array ? cJSON_CreateArray() : cJSON_CreateObject();
		cJSON_AddItemToObjectCS(w->o, name, in.o);
		return in;
	}
	put_member(w->b, member, n);
	jsonw_raw(w->b, array ? "[" : "{", 1);
	return in;
}

#define OUT_OPEN(w, name, array)	out_open((w), name, MEMBER(name), (array))

static void
out_close(struct rec_out *w, int array)
{
	if (w->b)
		jsonw_raw(w->b, array ? "]" : "}", 1);
}

/* A string item of an array. */
static void
out_item(struct rec_out *w, const char *s)
{
	if (w->o) {
		cJSON_AddItemToArray(w->o, cJSON_CreateString(s));
		return;
	}
	put_sep(w->b);
	jsonw_string(w->b, s);
}

/* A detail the kind gave: a string, or a number when it has none. */
static void
out_detail(struct rec_out *w, const struct alert_detail *d)
{
	if (w->o) {
		cJSON_AddItemToObject(w->o, d->name, d->str ?
		    cJSON_CreateString(d->str) : cJSON_CreateNumber(d->num));
		return;
	}
	put_key(w->b, d->name);
	if (d->str)
		jsonw_string(w->b, d->str);
	else
		jsonw_number(w->b, d->num);
}

/*
 * Text: a value as val_to_json makes it, printed. -1 where that makes no
 * item (a string or a tree that is NULL).
 */
static int
put_val(struct sbuf *b, const struct val *v)
{
	char	 buf[32];

	switch (v->t) {
	case V_BOOL:
		jsonw_raw(b, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
		return 0;
	case V_NUM:
		jsonw_number(b, v->u.n);
		return 0;
	case V_STR:
		if (v->u.s == NULL)
			return -1;
		jsonw_string(b, v->u.s);
		return 0;
	case V_DATE:
		jsonw_string(b, when_fmt_date(v->u.d, buf));
		return 0;
	case V_TIME:
		jsonw_string(b, when_fmt_instant(v->u.at, buf));
		return 0;
	case V_DUR:
		PUT_RAW(b, "{\"months\":");
		jsonw_number(b, v->u.dur.months);
		PUT_RAW(b, ",\"days\":");
		jsonw_number(b, v->u.dur.days);
		PUT_RAW(b, "}");
		return 0;
	case V_LIST: case V_OBJ:
		if (v->u.j == NULL)
			return -1;
		jsonw_value(b, v->u.j);
		return 0;
	default:
		PUT_RAW(b, "null");
		return 0;
	}
}

/* A rule's detail, v under its name; left out where cJSON makes no item. */
static void
out_val(struct rec_out *w, const char *name, const struct val *v)
{
	size_t	 mark;

	if (w->o) {
		cJSON_AddItemToObject(w->o, name, val_to_json(v));
		return;
	}
	mark = w->b->len;
	put_key(w->b, name);
	if (put_val(w->b, v) == -1) {
		w->b->len = mark;
		w->b->s[mark] = '\0';
	}
}

/* Empties the message buffer (a failed sbuf_printf leaves it so). */
static void
msg_reset(struct engine *en)
{
	en->msg.len = 0;
	en->msg.s[0] = '\0';
}

/*
 * A review of a rule that could not judge: its own message would print the
 * missing values as null, so the message is the rule's title and the reason.
 */
static void
out_unjudged_message(struct engine *en, struct rec_out *w, const struct rule *r,
    const char *reason)
{
	const cJSON	*title = cJSON_GetObjectItemCaseSensitive(r->meta, "title");
	const cJSON	*ja = cJSON_GetObjectItemCaseSensitive(title, "ja");
	const cJSON	*eng = cJSON_GetObjectItemCaseSensitive(title, "en");
	struct rec_out	 m = OUT_OPEN(w, "message", 0);

	msg_reset(en);
	sbuf_printf(&en->msg, "%s: 判定できません(%s)",
	    cJSON_IsString(ja) ? ja->valuestring : r->id, reason);
	OUT_STR(&m, "ja", en->msg.s);
	msg_reset(en);
	sbuf_printf(&en->msg, "%s: cannot be judged (%s)",
	    cJSON_IsString(eng) ? eng->valuestring : r->id, reason);
	OUT_STR(&m, "en", en->msg.s);
	out_close(&m, 0);
}

/* The rule's message; a language without a template says "". */
static void
out_message(struct engine *en, struct rec_out *w, const struct rule *r,
    struct expr_env *env)
{
	struct rec_out	 m = OUT_OPEN(w, "message", 0);

	msg_reset(en);
	if (r->msg_ja)
		tmpl_render(r->msg_ja, env, &en->msg);
	OUT_STR(&m, "ja", en->msg.s);
	msg_reset(en);
	if (r->msg_en)
		tmpl_render(r->msg_en, env, &en->msg);
	OUT_STR(&m, "en", en->msg.s);
	out_close(&m, 0);
}

/* Whether the kind gave a detail of that name. */
static int
kind_detail(const struct alert_req *q, const char *name)
{
	int	 i;

	for (i = 0; i < 4 && q->details[i].name; i++)
		if (strcmp(q->details[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * The kind's details, then the rule's; a rule's detail the kind gave is
 * left out, as is one that errs rather than failing the alert. Rule
 * details have distinct names (the loader refuses a key given twice).
 */
static void
out_details(struct rec_out *w, const struct rule *r, const struct alert_req *q)
{
	struct rec_out	 d = OUT_OPEN(w, "details", 0);
	struct val	 v;
	int		 i;

	for (i = 0; i < 4 && q->details[i].name; i++)
		out_detail(&d, &q->details[i]);
	for (i = 0; q->env && i < r->ndetails; i++)
		if (!kind_detail(q, r->details[i].name) &&
		    expr_eval(r->details[i].value, q->env, &v) == 0)
			out_val(&d, r->details[i].name, &v);
	out_close(&d, 0);
}

/* The members of an alert that its rule and law version v make. */
static void
out_rule_members(struct rec_out *w, const struct rule *r,
    const struct law_version *v)
{
	const char	*article = rule_article(r, v);

	OUT_STR(w, "rule", r->id);
	OUT_STR(w, "obligation", r->obligation);
	OUT_STR(w, "law", r->law->id);
	if (v && article) {
		OUT_STR(w, "law_version", v->id);
		OUT_STR(w, "article", article);
	} else {
		OUT_NULL(w, "law_version");
		OUT_NULL(w, "article");
	}
	OUT_STR(w, "severity", r->severity ? r->severity : "medium");
}

/*
 * Where the engine keeps the text of out_rule_members for (r, v), or NULL
 * for a rule or version it does not know (then it is written each time).
 */
static struct member_text *
rule_text_slot(struct engine *en, const struct rule *r,
    const struct law_version *v)
{
	int	 vi = engine_version_index(r, v);

	if (r->index < 0 || r->index >= en->rs->nrules ||
	    en->rs->rules[r->index] != r || vi < -1 || vi >= r->law->nversions)
		return NULL;
	if (en->rule_text == NULL)
		en->rule_text = xcalloc((size_t)en->rs->nrules,
		    sizeof(*en->rule_text));
	if (en->rule_text[r->index] == NULL)
		en->rule_text[r->index] = xcalloc((size_t)r->law->nversions + 1,
		    sizeof(**en->rule_text));
	return &en->rule_text[r->index][vi + 1];
}

/*
 * Text: out_rule_members, written once per rule and version and then
 * copied. It is half of an alert's members, each looked up and escaped;
 * the engine keeps the copies as the rules are shared by the threads of a
 * replay and the engine is not. "id" is always before: the text starts
 * with its ",".
 */
static void
put_rule_text(struct engine *en, struct rec_out *w, const struct rule *r,
    const struct law_version *v)
{
	struct member_text	*t = rule_text_slot(en, r, v);
	size_t			 mark = w->b->len;

	if (t && t->s) {
		jsonw_raw(w->b, t->s, t->n);
		return;
	}
	out_rule_members(w, r, v);
	if (t) {
		t->n = w->b->len - mark;
		t->s = xstrndup(w->b->s + mark, t->n);
	}
}

static void
rule_text_free(struct engine *en)
{
	int	 i, j;

	for (i = 0; en->rule_text && i < en->rs->nrules; i++) {
		for (j = 0; en->rule_text[i] &&
		    j <= en->rs->rules[i]->law->nversions; j++)
			free(en->rule_text[i][j].s);
		free(en->rule_text[i]);
	}
	free(en->rule_text);
}

/*
 * An alert's time as text. Alerts come in time order, many of them at one
 * instant (timers fire at midnight): the engine keeps the last one.
 */
static const char *
alert_time_text(struct engine *en, instant_t t)
{
	if (en->time_text[0] == '\0' || en->time_at != t) {
		when_fmt_instant(t, en->time_text);
		en->time_at = t;
	}
	return en->time_text;
}

/* The record, into w: an empty object of the tree, or an emptied text. */
static void
write_alert(struct engine *en, const struct rule *r, const struct alert_req *q,
    const char *id, struct rec_out *w)
{
	struct rec_out	 in;
	int		 i;

	if (w->b) {
		w->b->len = 0;
		PUT_RAW(w->b, "{");
	}
	OUT_PLAIN(w, "id", id, strlen(id));	/* "a-" and hex digits */
	OUT_STR(w, "tenant", q->tenant);
	if (w->b)
		put_rule_text(en, w, r, q->version);
	else
		out_rule_members(w, r, q->version);
	OUT_STR(w, "status", q->status);
	OUT_PLAIN(w, "state", "open", 4);
	OUT_STR(w, "time", alert_time_text(en, q->time));
	OUT_STR(w, "key", q->key);
	in = OUT_OPEN(w, "subject", 0);
	OUT_STR(&in, "kind", r->subject_label);
	OUT_STR(&in, "id", q->key);
	out_close(&in, 0);
	if (q->unjudged)
		out_unjudged_message(en, w, r, q->unjudged);
	else
		out_message(en, w, r, q->env ? q->env : engine_env(en, r, NULL,
		    q->tenant, q->key, engine_record(en, r, q->tenant, q->key),
		    q->version));
	in = OUT_OPEN(w, "evidence", 1);
	for (i = 0; i < 4 && q->evidence[i]; i++)
		out_item(&in, q->evidence[i]);
	out_close(&in, 1);
	out_details(w, r, q);
	out_close(w, 0);
}

/* The member's string in the tree. */
static const char *
tree_str(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name)->valuestring;
}

void
engine_raise(struct engine *en, const struct rule *r, struct alert_req *q)
{
	struct rec_out	 w = { NULL, NULL };
	struct alert	 a;
	char		 id[27];

	if (suppressed(en, r, q->tenant, q->key, q->time)) {
		en->stats.suppressed++;
		return;
	}
	alert_make_id(id, q->tenant, r->id, q->key, q->status, q->time, q->id_part);
	memset(&a, 0, sizeof(a));
	a.time = q->time;
	a.obligation = r->obligation;
	if (en->sink.text) {
		w.b = &en->text;
		write_alert(en, r, q, id, &w);
		a.text = en->text.s;
		a.len = en->text.len;
		a.tenant = q->tenant;
		a.key = q->key;
		a.status = q->status;
		a.id = id;
	} else {
		w.o = a.json = cJSON_CreateObject();
		write_alert(en, r, q, id, &w);
		a.tenant = tree_str(a.json, "tenant");
		a.key = tree_str(a.json, "key");
		a.status = tree_str(a.json, "status");
		a.id = tree_str(a.json, "id");
	}
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

	/*
	 * Without a version worked out (the key or the version date could not
	 * be), the one in force at t judges. A rule not in force then raises
	 * nothing: it would not have been judged at all (DESIGN "Versions": no
	 * version in force, no obligation), and a review citing no version and
	 * no article helps no one.
	 */
	if (v == NULL && (v = rule_version_on(r, when_date_of(t))) == NULL)
		return;
	memset(&q, 0, sizeof(q));
	q.tenant = tenant;
	q.key = key ? key : "";
	q.status = "review";
	q.time = t;
	q.version = v;
	q.id_part = ev ? ev->id : NULL;
	/* A record check's review: the event that changed the record, if any. */
	q.evidence[0] = ev ? ev->id : en->cause;
	q.details[0] = (struct alert_detail){ "reason", reason, 0 };
	q.unjudged = reason;
	engine_raise(en, r, &q);
}
