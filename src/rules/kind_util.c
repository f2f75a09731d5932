/*
 * kind_util.c - pieces every rule kind needs: the `status` key, keys as
 * strings, lists of event types.
 */
#include <stdlib.h>
#include <string.h>

#include "complyd/kind.h"
#include "complyd/yamlx.h"

static const char *const statuses[] = { "violation", "warning", "review", NULL };

static const char *
status_literal(const char *s)
{
	int i;

	for (i = 0; statuses[i]; i++)
		if (strcmp(s, statuses[i]) == 0)
			return statuses[i];
	return NULL;
}

int
kind_parse_status(struct loader *ld, yaml_node_t *n, struct kind_status *st,
    const char *dflt, unsigned vars)
{
	memset(st, 0, sizeof(*st));
	if (n == NULL) {
		st->literal = status_literal(dflt);
		return 0;
	}
	if (ydoc_str(n) && (st->literal = status_literal(ydoc_str(n))) != NULL)
		return 0;
	st->expr = loader_expr(ld, n, vars, T_STR, "status");
	return st->expr ? 0 : -1;
}

const char *
kind_eval_status(const struct kind_status *st, struct expr_env *env)
{
	struct sbuf	 b;
	const char	*s;

	if (st->literal)
		return st->literal;
	sbuf_init(&b);
	if (expr_eval_str(st->expr, env, &b) == -1) {
		sbuf_free(&b);
		return NULL;
	}
	s = status_literal(b.s ? b.s : "");
	if (s == NULL)
		snprintf(env->err, sizeof(env->err),
		    "status must be violation, warning or review, got '%s'", b.s ? b.s : "");
	sbuf_free(&b);
	return s;
}

void
kind_status_free(struct kind_status *st)
{
	expr_free(st->expr);
	st->expr = NULL;
}

int
kind_eval_key(const struct expr *e, struct expr_env *env, struct sbuf *out)
{
	struct val v;

	out->len = 0;
	if (expr_eval(e, env, &v) == -1)
		return -1;
	if (v.t == V_NULL) {
		snprintf(env->err, sizeof(env->err), "missing attribute %s",
		    v.path ? v.path : expr_src(e));
		return -1;
	}
	/*
	 * Ids are strings (DESIGN: records' ids, the envelope's id): an id given
	 * as a number is an attribute of the wrong type, so the rule raises a
	 * review rather than look up or open "42".
	 */
	if (v.t != V_STR) {
		snprintf(env->err, sizeof(env->err), "%s: expected string, got %s",
		    v.path ? v.path : expr_src(e), val_type_name(v.t));
		return -1;
	}
	val_format(&v, out);
	if (out->s == NULL)
		sbuf_puts(out, "");
	return 0;
}

int
kind_type_in(const char *type, char *const *list)
{
	int i;

	for (i = 0; list && list[i]; i++)
		if (strcmp(list[i], type) == 0)
			return 1;
	return 0;
}

const struct expr *
kind_key_for(const struct rule *r, const char *type)
{
	(void)type;
	return r->key;
}

void
kind_add_on(char ***on, char *const *types)
{
	int n = 0, i;

	while (*on && (*on)[n])
		n++;
	for (i = 0; types && types[i]; i++) {
		if (kind_type_in(types[i], *on))
			continue;
		*on = xrealloc(*on, (n + 2) * sizeof(char *));
		(*on)[n++] = xstrdup(types[i]);
		(*on)[n] = NULL;
	}
}

void
kind_arm_next(struct engine *en, struct slot *s, const int *warn, int nwarn,
    instant_t floor, instant_t after)
{
	instant_t	 best = when_day_start(s->due + 1), w;
	int		 i, what = KIND_WHAT_DUE;

	for (i = 0; i < nwarn; i++) {
		w = when_day_start(s->due - warn[i]);
		/* A warning at or before the opening instant is not raised. */
		if (w > floor && w > after && w < best && !(s->warned & (1u << i))) {
			best = w;
			what = i;
		}
	}
	engine_arm(en, s, best, what);
}

struct expr_env *
kind_event_env(struct engine *en, struct rule *r, const struct soc_event *ev,
    const struct expr *keyexpr, struct sbuf *key, int review)
{
	struct expr_env *env = engine_env(en, r, ev, ev->tenant, NULL, NULL, NULL);

	if (engine_event_key(en, r, keyexpr, env, key) == -1) {
		if (review)
			engine_review(en, r, ev->tenant, "", ev->time, NULL, ev, env->err);
		return NULL;
	}
	env->vars[EV_KEY] = val_str(key->s);
	env->vars[EV_RECORD] = val_json(engine_record(en, r, ev->tenant, key->s));
	return env;
}

int
kind_parse_warn(struct loader *ld, yaml_node_t *n, int **warn, int *nwarn)
{
	loader_int_list(ld, n, warn, nwarn);
	/* Warnings raised are bits of slot->warned. */
	if (*nwarn > KIND_MAX_WARN) {
		ydoc_error(ld->doc, n, "at most %d warnings", KIND_MAX_WARN);
		*nwarn = KIND_MAX_WARN;
		return -1;
	}
	return 0;
}
