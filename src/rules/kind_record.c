/*
 * kind_record.c - `record`: a condition on a metadata record, checked when the
 * record is loaded or changes. One alert per (tenant, rule, key) while the
 * condition holds; raised again only after it cleared.
 *
 *   kind: record
 *   subject: dataset
 *   when: len(record.purposes ?? []) == 0
 *   status: violation
 */
#include <stdlib.h>
#include <string.h>

#include "complyd/kind.h"
#include "complyd/yamlx.h"

struct recchk {
	struct kind_status	 status;
};

static const char *const record_keys[] = { "status", NULL };

static int
record_parse(struct loader *ld, yaml_node_t *n, struct rule *r)
{
	struct recchk *c = xcalloc(1, sizeof(*c));

	r->kd = c;
	if (r->subject < 0) {
		ydoc_error(ld->doc, n, "record rule %s needs `subject`", r->id);
		return -1;
	}
	r->when = loader_expr(ld, ydoc_get(ld->doc, n, "when"), KIND_RECORD_VARS,
	    T_BOOL, "when");
	if (r->when == NULL) {
		if (ydoc_get(ld->doc, n, "when") == NULL)
			ydoc_error(ld->doc, n, "record rule %s needs `when`", r->id);
		return -1;
	}
	return kind_parse_status(ld, ydoc_get(ld->doc, n, "status"), &c->status,
	    "violation", KIND_RECORD_VARS);
}

static void
record_free(struct rule *r)
{
	struct recchk *c = r->kd;

	if (c)
		kind_status_free(&c->status);
	free(c);
}

/* Judges the record; returns the status to raise, or NULL when it holds fine. */
static const char *
judge(struct engine *en, struct rule *r, struct expr_env *env, instant_t at,
    const struct law_version **v, const char **reason)
{
	struct recchk	*c = r->kd;
	int		 err, hit;

	*reason = NULL;
	*v = engine_version(en, r, env, at, &err);
	if (err) {
		*reason = env->err;
		return "review";
	}
	if (*v == NULL)
		return NULL;
	if (expr_eval_bool(r->when, env, &hit) == -1) {
		*reason = env->err;
		return "review";
	}
	if (!hit)
		return NULL;
	if (kind_eval_status(&c->status, env) == NULL) {
		*reason = env->err;
		return "review";
	}
	return kind_eval_status(&c->status, env);
}

static void
record_record(struct engine *en, struct rule *r, const char *tenant,
    const char *id, const cJSON *rec, instant_t at)
{
	struct slot			*s;
	struct expr_env			*env = NULL;
	const struct law_version	*v = NULL;
	const char			*status = NULL, *reason = NULL;
	struct alert_req		 q;

	if (rec) {
		env = engine_env(en, r, NULL, tenant, id, rec, NULL);
		status = judge(en, r, env, at, &v, &reason);
	}
	/* Only records that broke the rule need a slot (most never do). */
	s = engine_state(en)->ops->slot(engine_state(en), r, tenant, id,
	    status != NULL);
	if (status == NULL) {
		if (s)
			s->flags &= ~SLOT_RAISED;	/* cleared: may be raised again */
		return;
	}
	if (s->flags & SLOT_RAISED)
		return;
	s->flags |= SLOT_RAISED;
	engine_state(en)->ops->dirty(engine_state(en), s);
	if (reason) {
		engine_review(en, r, tenant, id, at, v, NULL, reason);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.tenant = tenant;
	q.key = id;
	q.status = status;
	q.time = at;
	q.version = v;
	q.env = env;
	q.evidence[0] = engine_cause(en);
	engine_raise(en, r, &q);
}

const struct kind_ops kind_record = {
	.name = "record",
	.parse = record_parse,
	.free = record_free,
	/* no .event: a record rule has no `on`, so no event reaches it */
	.record = record_record,
	.keys = record_keys,
};
