/*
 * kind_threshold.c - `threshold`: N matching events per key within a sliding
 * window raise one alert (at the Nth event), then the count starts over.
 *
 *   kind: threshold
 *   on: personal_data.used
 *   key: event.operator
 *   when: not (event.consent ?? false)
 *   count: 100
 *   window: days(1)
 */
#include <stdlib.h>
#include <string.h>

#include "complyd/kind.h"
#include "complyd/yamlx.h"

struct threshold {
	int			 count;
	instant_t		 window;
	struct kind_status	 status;
};

static const char *const threshold_keys[] = { "count", "window", "status", NULL };

static int
threshold_parse(struct loader *ld, yaml_node_t *n, struct rule *r)
{
	struct threshold	*t = xcalloc(1, sizeof(*t));
	struct expr		*w;
	struct expr_env		 env;
	struct val		 v;
	const char		*c = ydoc_str(ydoc_get(ld->doc, n, "count"));

	r->kd = t;
	r->on = loader_on(ld, ydoc_get(ld->doc, n, "on"));
	r->key = loader_expr(ld, ydoc_get(ld->doc, n, "key"), KIND_EVENT_VARS &
	    ~EV_BIT(EV_KEY) & ~EV_BIT(EV_RECORD), T_ANY, "key");
	r->when = loader_expr(ld, ydoc_get(ld->doc, n, "when"), KIND_EVENT_VARS,
	    T_BOOL, "when");
	/* A whole number as written: atoi would take 2.5 as 2 and "3x" as 3. */
	t->count = c && c[strspn(c, "0123456789")] == '\0' && strlen(c) <= 7 &&
	    ydoc_is_plain(ydoc_get(ld->doc, n, "count")) ? atoi(c) : 0;
	if (r->on == NULL || r->key == NULL || t->count < 1 || t->count > 1000000) {
		ydoc_error(ld->doc, n, "threshold rule %s needs `on`, `key` and `count` "
		    "(1..1000000)", r->id);
		return -1;
	}
	/* The window is a constant duration: evaluate it once here. */
	w = loader_expr(ld, ydoc_get(ld->doc, n, "window"), 0, T_DUR, "window");
	expr_env_init(&env);
	if (w == NULL || expr_eval(w, &env, &v) == -1 || v.t != V_DUR ||
	    v.u.dur.months != 0 || v.u.dur.days < 1) {
		ydoc_error(ld->doc, ydoc_get(ld->doc, n, "window") ?
		    ydoc_get(ld->doc, n, "window") : n,
		    "`window` must be a duration in days, e.g. days(1)");
		expr_env_free(&env);
		expr_free(w);
		return -1;
	}
	t->window = v.u.dur.days * DAY_MS;
	expr_env_free(&env);
	expr_free(w);
	return kind_parse_status(ld, ydoc_get(ld->doc, n, "status"), &t->status,
	    "violation", KIND_EVENT_VARS);
}

static void
threshold_free(struct rule *r)
{
	struct threshold *t = r->kd;

	if (t)
		kind_status_free(&t->status);
	free(t);
}

/* Adds `at` to the slot's window, dropping times that fell out of it. */
static int
window_add(struct slot *s, instant_t at, instant_t window)
{
	int i, j;

	for (i = j = 0; i < s->nwin; i++)
		if (s->win[i] > at - window)
			s->win[j++] = s->win[i];
	s->nwin = j;
	if (s->nwin == s->capwin) {
		s->capwin = s->capwin ? s->capwin * 2 : 4;
		s->win = xrealloc(s->win, s->capwin * sizeof(*s->win));
	}
	s->win[s->nwin++] = at;
	return s->nwin;
}

static void
threshold_event(struct engine *en, struct rule *r, const struct soc_event *ev)
{
	struct threshold		*t = r->kd;
	struct expr_env			*env;
	const struct law_version	*v;
	struct slot			*s;
	struct alert_req		 q;
	struct sbuf			 key;
	const char			*status;
	int				 ok = 1, err;

	sbuf_init(&key);
	if ((env = kind_event_env(en, r, ev, r->key, &key, 0)) == NULL)
		goto out;
	if ((v = engine_version(en, r, env, ev->time, &err)) == NULL)
		goto out;
	if (r->when && (expr_eval_bool(r->when, env, &ok) == -1 || !ok))
		goto out;
	s = engine_state(en)->ops->slot(engine_state(en), r, ev->tenant, key.s, 1);
	if (window_add(s, ev->time, t->window) < t->count)
		goto out;
	s->nwin = 0;
	engine_state(en)->ops->dirty(engine_state(en), s);
	if ((status = kind_eval_status(&t->status, env)) == NULL)
		goto out;
	memset(&q, 0, sizeof(q));
	q.tenant = ev->tenant;
	q.key = key.s;
	q.status = status;
	q.time = ev->time;
	q.version = v;
	q.id_part = ev->id;
	q.evidence[0] = ev->id;
	q.env = env;
	q.details[0] = (struct alert_detail){ "count", NULL, t->count };
	engine_raise(en, r, &q);
out:
	sbuf_free(&key);
}

const struct kind_ops kind_threshold = {
	.name = "threshold",
	.parse = threshold_parse,
	.free = threshold_free,
	.event = threshold_event,
	.keys = threshold_keys,
};
