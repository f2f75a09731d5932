/*
 * expr_eval.c - evaluation of compiled rule expressions, and the value
 * helpers of expr.h. Runs per event: field access and comparison allocate
 * nothing; values built on the way (lists, strings) go to env->scratch.
 * See expr.c for the language.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

/* ---- errors ---- */

int
ex_efail(struct ctx *c, const char *fmt, ...)
{
	va_list	 ap;

	if (c->env->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->env->err, sizeof(c->env->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* v (computed by node n) is null or not of type `want`. */
int
ex_ebad(struct ctx *c, const struct val *v, const struct node *n,
    const char *want)
{
	const char	*p = v->path ? v->path : n->path;

	if (v->t == V_NULL)
		return ex_efail(c, "missing attribute %s", p);
	return ex_efail(c, "%s: expected %s, got %s", p, want, val_type_name(v->t));
}

/* ---- evaluation ---- */

/*
 * The handlers of ex_ev's node kinds keep their own frames: inlined, they
 * gave ex_ev a large frame and six saved registers on every call, leaves
 * and the cheapest nodes included. Apart, ex_ev is a jump to each.
 */
#define EV_HANDLER	__attribute__((noinline))

cJSON *
ex_keep(struct ctx *c, cJSON *item)
{
	if (c->env->scratch == NULL)
		c->env->scratch = cJSON_CreateArray();
	cJSON_AddItemToArray(c->env->scratch, item);
	return item;
}

int
ex_bool(struct ctx *c, const struct node *n, int *b)
{
	struct val	 v;

	*b = 0;
	if (ex_get(c, n, &v) == -1)
		return -1;
	if (v.t != V_BOOL)
		return ex_ebad(c, &v, n, "bool");
	*b = v.u.b;
	return 0;
}

int
ex_as_date(struct ctx *c, const struct val *v, const struct node *n,
    date_t *d)
{
	/* Set on failure too: callers test the result, the compiler cannot see that. */
	*d = DATE_NONE;
	if (v->t == V_DATE) {
		*d = v->u.d;
		return 0;
	}
	if (v->t == V_STR && when_parse_date(v->u.s, d) == 0)
		return 0;
	return ex_ebad(c, v, n, "date");
}

static int
as_time(struct ctx *c, const struct val *v, const struct node *n,
    instant_t *t)
{
	*t = 0;
	if (v->t == V_TIME) {
		*t = v->u.at;
		return 0;
	}
	if (v->t == V_STR && when_parse_instant(v->u.s, t) == 0)
		return 0;
	return ex_ebad(c, v, n, "time");
}

/* ==: never fails; a date equals its "YYYY-MM-DD" spelling. */
int
ex_veq(const struct val *a, const struct val *b)
{
	date_t		 d;
	instant_t	 t;

	if (a->t != b->t) {
		if (a->t == V_STR && (b->t == V_DATE || b->t == V_TIME))
			return ex_veq(b, a);
		if (a->t == V_DATE && b->t == V_STR)
			return when_parse_date(b->u.s, &d) == 0 && d == a->u.d;
		if (a->t == V_TIME && b->t == V_STR)
			return when_parse_instant(b->u.s, &t) == 0 &&
			    t == a->u.at;
		return 0;
	}
	switch (a->t) {
	case V_NULL:
		return 1;
	case V_BOOL:
		return !a->u.b == !b->u.b;
	case V_NUM:
		return a->u.n == b->u.n;
	case V_STR:
		/* Most unequal strings differ in the first byte: skip the call. */
		return a->u.s[0] == b->u.s[0] && strcmp(a->u.s, b->u.s) == 0;
	case V_DATE:
		return a->u.d == b->u.d;
	case V_TIME:
		return a->u.at == b->u.at;
	case V_DUR:
		return a->u.dur.months == b->u.dur.months &&
		    a->u.dur.days == b->u.dur.days;
	case V_LIST: case V_OBJ:
		return cJSON_Compare(a->u.j, b->u.j, 1);
	}
	return 0;
}

static int
sign(double x)
{
	return x < 0 ? -1 : x > 0;
}

/* <, <=, >, >=: *r gets -1, 0 or 1. */
static int
vcmp(struct ctx *c, const struct node *n, const struct val *a,
    const struct val *b, int *r)
{
	date_t		 x, y;
	instant_t	 s, t;

	*r = 0;
	if (a->t == V_NULL || b->t == V_NULL)
		return a->t == V_NULL ? ex_ebad(c, a, n->a, "") :
		    ex_ebad(c, b, n->b, "");
	if (a->t == V_NUM || b->t == V_NUM) {
		if (a->t != V_NUM)
			return ex_ebad(c, a, n->a, "number");
		if (b->t != V_NUM)
			return ex_ebad(c, b, n->b, "number");
		*r = sign(a->u.n - b->u.n);
		return 0;
	}
	if (a->t == V_DATE || b->t == V_DATE) {
		if (ex_as_date(c, a, n->a, &x) || ex_as_date(c, b, n->b, &y))
			return -1;
		*r = sign((double)x - y);
		return 0;
	}
	if (a->t == V_TIME || b->t == V_TIME) {
		if (as_time(c, a, n->a, &s) || as_time(c, b, n->b, &t))
			return -1;
		*r = s < t ? -1 : s > t;
		return 0;
	}
	if (a->t != V_STR)
		return ex_ebad(c, a, n->a, "number, string, date or time");
	if (b->t != V_STR)
		return ex_ebad(c, b, n->b, "string");
	*r = sign(strcmp(a->u.s, b->u.s));
	return 0;
}

static instant_t
time_add(instant_t t, int months, int days)
{
	date_t		 d;
	instant_t	 tod;

	if (months != 0) {
		d = when_date_of(t);
		tod = t - when_day_start(d);
		t = when_day_start(when_add_months(d, months)) + tod;
	}
	return t + (instant_t)days * DAY_MS;
}

static int
num_op(struct ctx *c, const struct node *n, double x, double y,
    struct val *out)
{
	switch (n->op) {
	case OP_ADD:
		*out = val_num(x + y);
		break;
	case OP_SUB:
		*out = val_num(x - y);
		break;
	case OP_MUL:
		*out = val_num(x * y);
		break;
	case OP_DIV: case OP_MOD:
		if (y == 0)
			return ex_efail(c, "%s: division by zero", n->path);
		*out = val_num(n->op == OP_DIV ? x / y : fmod(x, y));
		break;
	}
	return 0;
}

static int
concat(struct ctx *c, const char *x, const char *y, struct val *out)
{
	size_t	 nx = strlen(x), ny = strlen(y);
	char	 buf[256], *p;

	/* cJSON_CreateString copies: short results need no buffer of their own. */
	p = nx + ny < sizeof(buf) ? buf : xmalloc(nx + ny + 1);
	memcpy(p, x, nx);
	memcpy(p + nx, y, ny + 1);
	*out = val_str(ex_keep(c, cJSON_CreateString(p))->valuestring);
	if (p != buf)
		free(p);
	return 0;
}

/* x (a date, time or duration) plus or minus duration d. */
static int
add_dur(struct ctx *c, const struct val *x, const struct node *xn,
    const struct val *d, int neg, struct val *out)
{
	int	 m = neg ? -d->u.dur.months : d->u.dur.months;
	int	 dd = neg ? -d->u.dur.days : d->u.dur.days;
	date_t	 day;

	if (x->t == V_DUR) {
		*out = *x;
		out->path = NULL;
		out->u.dur.months += m;
		out->u.dur.days += dd;
		return 0;
	}
	if (x->t == V_TIME) {
		*out = val_time(time_add(x->u.at, m, dd));
		return 0;
	}
	if (ex_as_date(c, x, xn, &day) == -1)
		return -1;
	*out = val_date(when_add_months(day, m) + dd);
	return 0;
}

static int
varith(struct ctx *c, const struct node *n, const struct val *a,
    const struct val *b, struct val *out)
{
	date_t	 x, y;

	if (a->t == V_NULL)
		return ex_ebad(c, a, n->a, "");
	if (b->t == V_NULL)
		return ex_ebad(c, b, n->b, "");
	if (a->t == V_NUM && b->t == V_NUM)
		return num_op(c, n, a->u.n, b->u.n, out);
	if (a->t == V_NUM || n->op == OP_MUL || n->op == OP_DIV ||
	    n->op == OP_MOD || b->t == V_NUM)
		return a->t != V_NUM ? ex_ebad(c, a, n->a, "number") :
		    ex_ebad(c, b, n->b, "number");
	if (b->t == V_DUR)
		return add_dur(c, a, n->a, b, n->op == OP_SUB, out);
	if (n->op == OP_ADD) {
		if (a->t == V_DUR)
			return add_dur(c, b, n->b, a, 0, out);
		if (a->t == V_STR && b->t == V_STR)
			return concat(c, a->u.s, b->u.s, out);
		if (a->t == V_STR || a->t == V_DATE || a->t == V_TIME)
			return ex_ebad(c, b, n->b, a->t == V_STR ?
			    "string or duration" : "duration");
		return ex_ebad(c, a, n->a, "number, string, date or duration");
	}
	if (ex_as_date(c, a, n->a, &x) || ex_as_date(c, b, n->b, &y))
		return -1;
	*out = val_num((double)x - y);
	return 0;
}

/* ---- field access ---- */

/*
 * cJSON_GetObjectItemCaseSensitive(o, name): the first byte, usually
 * different, decides inline; strcmp (branch-poor, a word at a time) only
 * checks the rest of the few keys that share it. Like cJSON, stops at a
 * member without a key.
 */
static const cJSON *
obj_get(const cJSON *o, const char *name)
{
	const cJSON	*it;

	for (it = o->child; it != NULL && it->string != NULL; it = it->next)
		if (it->string[0] == name[0] && strcmp(it->string, name) == 0)
			return it;
	return NULL;
}

/* `s in [literal strings]`: lengths first, so most items cost no byte compare. */
static int
in_strs(const char *s, const struct lstr *strs, int nstrs)
{
	size_t	 len = strlen(s);
	int	 i;

	for (i = 0; i < nstrs; i++)
		if (strs[i].len == len && memcmp(strs[i].s, s, len) == 0)
			return 1;
	return 0;
}

static int
ev_in(struct ctx *c, const struct node *n, int *r)
{
	struct val	 a, b, v;
	const cJSON	*it;
	int		 i, all_str = 1;

	if (ex_get(c, n->a, &a) == -1)
		return -1;
	*r = 0;
	/*
	 * A missing value is not "not in the list": the rule cannot judge the
	 * event, which is a review (DESIGN "Incomplete events"). Write
	 * `(x ?? '') in [...]` where absence has a meaning.
	 */
	if (a.t == V_NULL)
		return ex_ebad(c, &a, n->a, "a value");
	/*
	 * Nor is a value of the wrong type (a list, or `stage: true` against
	 * ['preliminary', 'final']): it is not "not in the list" either.
	 */
	if (a.t == V_LIST || a.t == V_OBJ)
		return ex_ebad(c, &a, n->a, "a single value");
	if (n->b->strs != NULL && a.t != V_STR && a.t != V_DATE && a.t != V_TIME)
		return ex_ebad(c, &a, n->a, "string");
	/* A string in a literal list of strings; dates and times take the slow way. */
	if (n->b->strs != NULL && a.t == V_STR) {
		*r = in_strs(a.u.s, n->b->strs, n->b->nstrs);
		return 0;
	}
	if (n->b->k == N_LIST) {
		/* A list of expressions: test without building it. */
		for (i = 0; i < n->b->ac && !*r; i++) {
			if (ex_get(c, n->b->av[i], &v) == -1)
				return -1;
			*r = ex_veq(&a, &v);
		}
		return 0;
	}
	if (ex_get(c, n->b, &b) == -1)
		return -1;
	switch (b.t) {
	case V_LIST:
		for (it = b.u.j->child; it != NULL && !*r; it = it->next) {
			v = val_json(it);
			all_str &= v.t == V_STR;
			*r = ex_veq(&a, &v);
		}
		/* `purpose: 5` against a dataset's purposes: of another type, not absent from them. */
		if (!*r && all_str && b.u.j->child != NULL &&
		    (a.t == V_NUM || a.t == V_BOOL))
			return ex_ebad(c, &a, n->a, "string");
		return 0;
	case V_OBJ:
		if (a.t != V_STR)
			return ex_ebad(c, &a, n->a, "string");
		*r = obj_get(b.u.j, a.u.s) != NULL;
		return 0;
	case V_STR:
		if (a.t != V_STR)
			return ex_ebad(c, &a, n->a, "string");
		*r = strstr(b.u.s, a.u.s) != NULL;
		return 0;
	default:
		return ex_ebad(c, &b, n->b, "list, object or string");
	}
}

static EV_HANDLER int
ev_bin(struct ctx *c, const struct node *n, struct val *out)
{
	struct val	 a, b;
	int		 x;

	switch (n->op) {
	case OP_AND: case OP_OR:
		if (ex_bool(c, n->a, &x) == -1)
			return -1;
		if (x == (n->op == OP_AND) && ex_bool(c, n->b, &x) == -1)
			return -1;
		*out = val_bool(x);
		return 0;
	case OP_COALESCE:
		if (ex_get(c, n->a, out) == -1)
			return -1;
		return out->t == V_NULL ? ex_get(c, n->b, out) : 0;
	case OP_IN: case OP_NOTIN:
		if (ev_in(c, n, &x) == -1)
			return -1;
		*out = val_bool(x ^ (n->op == OP_NOTIN));
		return 0;
	}
	if (ex_get(c, n->a, &a) == -1 || ex_get(c, n->b, &b) == -1)
		return -1;
	switch (n->op) {
	case OP_EQ: case OP_NE:
		*out = val_bool(ex_veq(&a, &b) ^ (n->op == OP_NE));
		return 0;
	case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		if (vcmp(c, n, &a, &b, &x) == -1)
			return -1;
		*out = val_bool(n->op == OP_LT ? x < 0 : n->op == OP_LE ?
		    x <= 0 : n->op == OP_GT ? x > 0 : x >= 0);
		return 0;
	}
	return varith(c, n, &a, &b, out);
}

static EV_HANDLER int
ev_field(struct ctx *c, const struct node *n, struct val *out)
{
	struct val	 b;

	if (ex_get(c, n->a, &b) == -1)
		return -1;
	if (b.t == V_OBJ)
		*out = val_json(obj_get(b.u.j, n->name));
	else if (b.t == V_NULL)
		*out = val_null();
	else
		return ex_ebad(c, &b, n->a, "object");
	out->path = n->path;
	return 0;
}

static EV_HANDLER int
ev_index(struct ctx *c, const struct node *n, struct val *out)
{
	struct val	 b, i;

	if (ex_get(c, n->a, &b) == -1 || ex_get(c, n->b, &i) == -1)
		return -1;
	*out = val_null();
	if (b.t == V_LIST) {
		if (i.t != V_NUM)
			return ex_ebad(c, &i, n->b, "number");
		if (i.u.n >= 0 && i.u.n == floor(i.u.n) && i.u.n < 1e9)
			*out = val_json(cJSON_GetArrayItem(b.u.j, (int)i.u.n));
	} else if (b.t == V_OBJ) {
		if (i.t != V_STR)
			return ex_ebad(c, &i, n->b, "string");
		*out = val_json(obj_get(b.u.j, i.u.s));
	} else if (b.t != V_NULL)
		return ex_ebad(c, &b, n->a, "list or object");
	out->path = n->path;
	return 0;
}

static EV_HANDLER int
ev_list(struct ctx *c, const struct node *n, struct val *out)
{
	cJSON		*arr = cJSON_CreateArray();
	struct val	 v;
	int		 i;

	for (i = 0; i < n->ac; i++) {
		if (ex_get(c, n->av[i], &v) == -1) {
			cJSON_Delete(arr);
			return -1;
		}
		cJSON_AddItemToArray(arr, val_to_json(&v));
	}
	out->t = V_LIST;
	out->u.j = ex_keep(c, arr);
	out->path = NULL;
	return 0;
}

static EV_HANDLER int
ev_neg(struct ctx *c, const struct node *n, struct val *out)
{
	if (ex_get(c, n->a, out) == -1)
		return -1;
	if (out->t == V_NUM)
		out->u.n = -out->u.n;
	else if (out->t == V_DUR) {
		out->u.dur.months = -out->u.dur.months;
		out->u.dur.days = -out->u.dur.days;
	} else
		return ex_ebad(c, out, n->a, "number");
	out->path = NULL;
	return 0;
}

static int
ev_call(struct ctx *c, const struct node *n, struct val *out)
{
	const struct func	*f = n->fn;
	struct val		 av[EX_MAXARGS];
	int			 i;

	if (f->flags & F_LAZY)
		return f->fn(c, n, NULL, out);
	for (i = 0; i < n->ac; i++) {
		if (ex_get(c, n->av[i], &av[i]) == -1)
			return -1;
		if (av[i].t == V_NULL && !(f->flags & F_NULLOK))
			return ex_ebad(c, &av[i], n->av[i], "");
	}
	return f->fn(c, n, av, out);
}

/* ---- macro results kept for reuse ---- */

#define MEMO_SLOTS	64	/* direct-mapped: a clash only costs a re-evaluation */
#define MEMO_ARGS	8	/* = the most a macro takes */
#define MEMO_STR	48	/* longer string inputs are not kept */

/*
 * One macro's value for one set of inputs: its arguments and the names its
 * body reads. Strings are copied into the entry (scratch ones die with the
 * rule); objects and lists are kept by address, which is why only those
 * that are the event, the record or the params qualify (see same_input).
 */
struct memo_ent {
	uint64_t		 gen, epoch;
	const struct expr_macro	*m;
	struct val		 in[MEMO_ARGS + EV__COUNT];
	int			 nin;
	struct val		 result;
	char			 strs[MEMO_ARGS + EV__COUNT][MEMO_STR];
};

struct expr_memo {
	struct memo_ent	 e[MEMO_SLOTS];
};

/* Whether v can be told apart from another input by value or a stable address. */
static int
keepable(const struct expr_env *env, const struct val *v)
{
	if (v->t == V_STR)
		return strlen(v->u.s) < MEMO_STR;
	if (v->t == V_LIST || v->t == V_OBJ)
		return v->u.j == env->vars[EV_EVENT].u.j ||
		    v->u.j == env->vars[EV_RECORD].u.j ||
		    v->u.j == env->vars[EV_PARAMS].u.j;
	return 1;
}

static int
same_path(const char *a, const char *b)
{
	if (a == b)
		return 1;
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * a (kept) and b are one input: same type and value, and the same path for
 * error text. Lists and objects by address: keepable vouched for them.
 */
static int
same_input(const struct val *a, const struct val *b)
{
	if (a->t != b->t || !same_path(a->path, b->path))
		return 0;
	if (a->t == V_LIST || a->t == V_OBJ)
		return a->u.j == b->u.j;
	return ex_veq(a, b);
}

/*
 * The inputs of macro node n: its arguments (in[0..ac), there already),
 * then the names its body reads.
 */
static int
memo_inputs(const struct ctx *c, const struct node *n, struct val *in)
{
	int	 i, k = n->ac;

	for (i = 0; i < n->nusev; i++)
		in[k++] = c->env->vars[n->usev[i]];
	for (i = 0; i < k; i++)
		if (!keepable(c->env, &in[i]))
			return -1;
	return k;
}

static struct memo_ent *
memo_slot(const struct expr_env *env, const struct node *n, const struct val *av)
{
	uintptr_t	 h = (uintptr_t)n->macro;

	if (n->ac > 0 && (av[0].t == V_OBJ || av[0].t == V_LIST))
		h ^= (uintptr_t)av[0].u.j >> 4;
	h ^= h >> 17;
	return &env->memo->e[(h * 0x9E3779B1u) % MEMO_SLOTS];
}

/* The kept value of n for these inputs: 1 with *out set, or 0. */
static int
memo_get(const struct ctx *c, const struct node *n, const struct val *in,
    int nin, const struct memo_ent *e, struct val *out)
{
	int	 i;

	if (e->m != n->macro || e->nin != nin || e->gen != *c->env->memo_gen ||
	    e->epoch != c->env->memo_epoch)
		return 0;
	for (i = 0; i < nin; i++)
		if (!same_input(&e->in[i], &in[i]))
			return 0;
	*out = e->result;
	return 1;
}

static void
memo_put(const struct ctx *c, const struct node *n, const struct val *in,
    int nin, struct memo_ent *e, const struct val *result)
{
	int	 i;

	e->m = n->macro;
	e->gen = *c->env->memo_gen;
	e->epoch = c->env->memo_epoch;
	e->nin = nin;
	for (i = 0; i < nin; i++) {
		e->in[i] = in[i];
		if (in[i].t == V_STR) {
			memcpy(e->strs[i], in[i].u.s, strlen(in[i].u.s) + 1);
			e->in[i].u.s = e->strs[i];
		}
	}
	e->result = *result;
}

/* Values that point nowhere: a string or list may be scratch, gone after the rule. */
static int
scalar(const struct val *v)
{
	return v->t != V_STR && v->t != V_LIST && v->t != V_OBJ;
}

static int
body(struct ctx *c, const struct node *n, const struct val *av, struct val *out)
{
	const struct val	*saved = c->frame;
	int			 r;

	c->frame = av;
	r = ex_get(c, n->a, out);
	c->frame = saved;
	return r;
}

/*
 * Arguments are evaluated once, in the caller's frame; the body sees them
 * as its frame. A pure body's value is a function of its inputs, so within
 * one event and one registry state it is computed once. Kept only when it
 * succeeded without noting an error (the first error noted is the one
 * reported: a body that notes one must run again) and is a plain value.
 */
static int
ev_macro(struct ctx *c, const struct node *n, struct val *out)
{
	struct val		 in[MEMO_ARGS + EV__COUNT];	/* arguments first */
	struct memo_ent		*e;
	int			 i, nin, clean;

	for (i = 0; i < n->ac; i++)
		if (ex_get(c, n->av[i], &in[i]) == -1)
			return -1;
	if (c->env->memo_gen == NULL || !n->pure ||
	    (nin = memo_inputs(c, n, in)) < 0)
		return body(c, n, in, out);
	if (c->env->memo == NULL)
		c->env->memo = xcalloc(1, sizeof(*c->env->memo));
	e = memo_slot(c->env, n, in);
	if (memo_get(c, n, in, nin, e, out))
		return 0;
	clean = c->env->err[0] == '\0';
	if (body(c, n, in, out) == -1)
		return -1;
	if (clean && c->env->err[0] == '\0' && scalar(out))
		memo_put(c, n, in, nin, e, out);
	return 0;
}

static EV_HANDLER int
ev_not(struct ctx *c, const struct node *n, struct val *out)
{
	int	 b;

	if (ex_bool(c, n->a, &b) == -1)
		return -1;
	*out = val_bool(!b);
	return 0;
}

int
ex_ev(struct ctx *c, const struct node *n, struct val *out)
{
	switch (n->k) {
	case N_LIT: case N_VAR: case N_LOCAL:
		ex_leaf(c, n, out);
		return 0;
	case N_FIELD:
		return ev_field(c, n, out);
	case N_INDEX:
		return ev_index(c, n, out);
	case N_LIST:
		return ev_list(c, n, out);
	case N_NOT:
		return ev_not(c, n, out);
	case N_NEG:
		return ev_neg(c, n, out);
	case N_BIN:
		return ev_bin(c, n, out);
	case N_CALL:
		return ev_call(c, n, out);
	case N_MACRO:
		return ev_macro(c, n, out);
	}
	return ex_efail(c, "internal error: bad node");
}

void
expr_env_init(struct expr_env *env)
{
	int	 i;

	memset(env, 0, sizeof(*env));
	for (i = 0; i < EV__COUNT; i++)
		env->vars[i] = val_null();
}

void
expr_env_reset(struct expr_env *env)
{
	cJSON_Delete(env->scratch);
	env->scratch = NULL;
}

void
expr_env_free(struct expr_env *env)
{
	expr_env_reset(env);
	free(env->memo);
	env->memo = NULL;
}

int
expr_eval(const struct expr *e, struct expr_env *env, struct val *out)
{
	struct ctx	 c;

	c.env = env;
	c.frame = NULL;
	env->err[0] = '\0';
	if (ex_ev(&c, e->root, out) == 0)
		return 0;
	if (env->err[0] == '\0')
		snprintf(env->err, sizeof(env->err), "evaluation failed");
	return -1;
}

/* Evaluates e and checks that the result has type `t` (a value of v's path). */
static int
eval_as(const struct expr *e, struct expr_env *env, struct val *v,
    enum vtype t, const char *want)
{
	struct ctx	 c;

	if (expr_eval(e, env, v) == -1)
		return -1;
	if (v->t == t)
		return 0;
	c.env = env;
	c.frame = NULL;
	return ex_ebad(&c, v, e->root, want);
}

int
expr_eval_bool(const struct expr *e, struct expr_env *env, int *out)
{
	struct val	 v;

	if (eval_as(e, env, &v, V_BOOL, "bool") == -1)
		return -1;
	*out = v.u.b;
	return 0;
}

int
expr_eval_date(const struct expr *e, struct expr_env *env, date_t *out)
{
	struct val	 v;

	if (expr_eval(e, env, &v) == -1)
		return -1;
	return expr_val_date(e, env, &v, out);
}

int
expr_val_date(const struct expr *e, struct expr_env *env, const struct val *v,
    date_t *out)
{
	struct ctx	 c;

	c.env = env;
	c.frame = NULL;
	return ex_as_date(&c, v, e->root, out);
}

int
expr_eval_num(const struct expr *e, struct expr_env *env, double *out)
{
	struct val	 v;

	if (eval_as(e, env, &v, V_NUM, "number") == -1)
		return -1;
	*out = v.u.n;
	return 0;
}

int
expr_eval_str(const struct expr *e, struct expr_env *env, struct sbuf *out)
{
	struct val	 v;
	struct ctx	 c;

	if (expr_eval(e, env, &v) == -1)
		return -1;
	if (v.t != V_STR && v.t != V_NUM) {
		c.env = env;
		c.frame = NULL;
		return ex_ebad(&c, &v, e->root, "string");
	}
	val_format(&v, out);
	return 0;
}

/* ---- values ---- */

cJSON *
val_to_json(const struct val *v)
{
	char	 buf[32];
	cJSON	*o;

	switch (v->t) {
	case V_BOOL:
		return cJSON_CreateBool(v->u.b);
	case V_NUM:
		return cJSON_CreateNumber(v->u.n);
	case V_STR:
		return cJSON_CreateString(v->u.s);
	case V_DATE:
		return cJSON_CreateString(when_fmt_date(v->u.d, buf));
	case V_TIME:
		return cJSON_CreateString(when_fmt_instant(v->u.at, buf));
	case V_DUR:
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "months", v->u.dur.months);
		cJSON_AddNumberToObject(o, "days", v->u.dur.days);
		return o;
	case V_LIST: case V_OBJ:
		return cJSON_Duplicate(v->u.j, 1);
	default:
		return cJSON_CreateNull();
	}
}

/* The digits of k, as "%.0f" prints an integral double, without printf. */
static void
put_int(long long k, struct sbuf *out)
{
	char			 buf[24], *p = buf + sizeof(buf);
	unsigned long long	 u = k < 0 ? -(unsigned long long)k : (unsigned long long)k;

	*--p = '\0';
	do {
		*--p = '0' + u % 10;
		u /= 10;
	} while (u != 0);
	if (k < 0)
		*--p = '-';
	sbuf_puts(out, p);
}

/* Integral numbers without a fraction or exponent, others as short as exact. */
static void
fmt_num(double n, struct sbuf *out)
{
	char	 buf[40];

	/* Exact in a long long; -0 prints as 0. */
	if (n == floor(n) && fabs(n) < 1e15) {
		put_int((long long)n, out);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", n);
	if (strtod(buf, NULL) != n)
		snprintf(buf, sizeof(buf), "%.17g", n);
	sbuf_puts(out, buf);
}

void
val_format(const struct val *v, struct sbuf *out)
{
	char	 buf[32], *s;
	cJSON	*j;

	switch (v->t) {
	case V_NULL:
		sbuf_puts(out, "null");
		break;
	case V_BOOL:
		sbuf_puts(out, v->u.b ? "true" : "false");
		break;
	case V_NUM:
		fmt_num(v->u.n, out);
		break;
	case V_STR:
		sbuf_puts(out, v->u.s);
		break;
	case V_DATE:
		sbuf_puts(out, when_fmt_date(v->u.d, buf));
		break;
	case V_TIME:
		sbuf_puts(out, when_fmt_instant(v->u.at, buf));
		break;
	case V_DUR:
		sbuf_printf(out, "{\"months\":%d,\"days\":%d}",
		    (int)v->u.dur.months, (int)v->u.dur.days);
		break;
	case V_LIST: case V_OBJ:
		j = val_to_json(v);
		if ((s = cJSON_PrintUnformatted(j)) != NULL)
			sbuf_puts(out, s);
		cJSON_free(s);
		cJSON_Delete(j);
		break;
	}
}
