/*
 * kind_match.c - `match`: a stateless condition on one event. One alert per
 * violating event; an event the condition cannot be judged on (a missing or
 * mistyped attribute) raises a review instead.
 *
 *   kind: match
 *   on: personal_data.used
 *   subject: dataset          # record = dataset(key) at the event's time
 *   key: event.dataset
 *   when: not (event.purpose in record.purposes)
 *   status: violation         # or an expression giving violation/warning/review
 */
#include <stdlib.h>
#include <string.h>

#include "complyd/kind.h"
#include "complyd/yamlx.h"

struct match {
	struct kind_status	 status;
};

static const char *const match_keys[] = { "status", NULL };

static int
match_parse(struct loader *ld, yaml_node_t *n, struct rule *r)
{
	struct match *m = xcalloc(1, sizeof(*m));

	r->kd = m;
	r->on = loader_on(ld, ydoc_get(ld->doc, n, "on"));
	if (r->on == NULL) {
		ydoc_error(ld->doc, n, "match rule %s needs `on` (event types)", r->id);
		return -1;
	}
	r->key = loader_expr(ld, ydoc_get(ld->doc, n, "key"), KIND_EVENT_VARS &
	    ~EV_BIT(EV_KEY) & ~EV_BIT(EV_RECORD), T_ANY, "key");
	if (r->key == NULL && ydoc_get(ld->doc, n, "key") == NULL) {
		ydoc_error(ld->doc, n, "match rule %s needs `key`", r->id);
		return -1;
	}
	r->when = loader_expr(ld, ydoc_get(ld->doc, n, "when"), KIND_EVENT_VARS,
	    T_BOOL, "when");
	return kind_parse_status(ld, ydoc_get(ld->doc, n, "status"), &m->status,
	    "violation", KIND_EVENT_VARS);
}

static void
match_free(struct rule *r)
{
	struct match *m = r->kd;

	if (m)
		kind_status_free(&m->status);
	free(m);
}

static void
match_event(struct engine *en, struct rule *r, const struct soc_event *ev)
{
	struct match			*m = r->kd;
	struct expr_env			*env;
	const struct law_version	*v;
	struct alert_req		 q;
	struct sbuf			 key;
	const char			*status;
	int				 err, hit;

	sbuf_init(&key);
	if ((env = kind_event_env(en, r, ev, r->key, &key, 1)) == NULL)
		goto out;
	v = engine_version(en, r, env, ev->time, &err);
	if (err)
		engine_review(en, r, ev->tenant, key.s, ev->time, NULL, ev, env->err);
	if (v == NULL)
		goto out;
	if (r->when && expr_eval_bool(r->when, env, &hit) == -1) {
		engine_review(en, r, ev->tenant, key.s, ev->time, v, ev, env->err);
		goto out;
	}
	if (r->when && !hit)
		goto out;
	if ((status = kind_eval_status(&m->status, env)) == NULL) {
		engine_review(en, r, ev->tenant, key.s, ev->time, v, ev, env->err);
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.tenant = ev->tenant;
	q.key = key.s;
	q.status = status;
	q.time = ev->time;
	q.version = v;
	q.id_part = ev->id;
	q.evidence[0] = ev->id;
	q.env = env;
	engine_raise(en, r, &q);
out:
	sbuf_free(&key);
}

const struct kind_ops kind_match = {
	.name = "match",
	.parse = match_parse,
	.free = match_free,
	.event = match_event,
	.key_for = kind_key_for,
	.keys = match_keys,
};
