/*
 * expr_func.c - the builtin functions of the rule expression language: one
 * table (name, argument count and types, result type, implementation) that
 * the checker and the evaluator of expr.c both read. See expr.c for the
 * language.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

#define M_ANY	(TB(T_BOOL) | TB(T_NUM) | TB(T_STR) | TB(T_DATE) | \
		    TB(T_TIME) | TB(T_DUR) | TB(T_LIST) | TB(T_OBJ))
#define M_DATE	(TB(T_DATE) | TB(T_STR))	/* "YYYY-MM-DD" strings too */
#define M_NUM	TB(T_NUM)
#define M_STR	TB(T_STR)
#define M_LIST	TB(T_LIST)

typedef int fnimpl(struct ctx *, const struct node *, const struct val *,
    struct val *);

/* Argument i as a date. */
static int
arg_date(struct ctx *c, const struct node *n, const struct val *av, int i,
    date_t *d)
{
	return ex_as_date(c, &av[i], n->av[i], d);
}

static int
arg_num(struct ctx *c, const struct node *n, const struct val *av, int i,
    double *x)
{
	*x = 0;
	if (av[i].t != V_NUM)
		return ex_ebad(c, &av[i], n->av[i], "number");
	*x = av[i].u.n;
	return 0;
}

/* A whole number that fits a day or month count. */
static int
arg_int(struct ctx *c, const struct node *n, const struct val *av, int i,
    int *k)
{
	double	 x;

	*k = 0;
	if (arg_num(c, n, av, i, &x) == -1)
		return -1;
	if (x != floor(x) || fabs(x) > 1e6)
		return ex_efail(c, "%s: expected a whole number, got %g",
		    av[i].path ? av[i].path : n->av[i]->path, x);
	*k = (int)x;
	return 0;
}

static int
arg_str(struct ctx *c, const struct node *n, const struct val *av, int i,
    const char **s)
{
	*s = NULL;
	if (av[i].t != V_STR)
		return ex_ebad(c, &av[i], n->av[i], "string");
	*s = av[i].u.s;
	return 0;
}

static int
arg_list(struct ctx *c, const struct node *n, const struct val *av, int i,
    const cJSON **j)
{
	*j = NULL;
	if (av[i].t != V_LIST)
		return ex_ebad(c, &av[i], n->av[i], "list");
	*j = av[i].u.j;
	return 0;
}

static const char *
vpath(const struct val *v, const struct node *n)
{
	return v->path ? v->path : n->path;
}

/* contract(id), dataset(id), facility(id): the kind is the function's name. */
static int
fn_lookup(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	const cJSON	*j = NULL;
	const char	*id;

	if (arg_str(c, n, av, 0, &id) == -1)
		return -1;
	if (c->env->lookup != NULL)
		j = c->env->lookup(c->env->lookup_arg, n->fn->name,
		    c->env->tenant, id);
	*out = val_json(j);
	out->path = n->path;
	return 0;
}

static int
fn_date(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	date_t		 d;
	instant_t	 t;

	switch (av[0].t) {
	case V_DATE:
		*out = val_date(av[0].u.d);
		return 0;
	case V_TIME:
		*out = val_date(when_date_of(av[0].u.at));
		return 0;
	case V_STR:
		if (when_parse_date(av[0].u.s, &d) == 0)
			*out = val_date(d);
		else if (when_parse_instant(av[0].u.s, &t) == 0)
			*out = val_date(when_date_of(t));
		else
			return ex_efail(c, "%s: expected a date, got '%.40s'",
			    vpath(&av[0], n->av[0]), av[0].u.s);
		return 0;
	default:
		return ex_ebad(c, &av[0], n->av[0], "date, time or string");
	}
}

static int
fn_time(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	instant_t	 t;

	if (av[0].t == V_TIME) {
		*out = val_time(av[0].u.at);
		return 0;
	}
	if (av[0].t != V_STR)
		return ex_ebad(c, &av[0], n->av[0], "time or string");
	if (when_parse_instant(av[0].u.s, &t) == -1)
		return ex_efail(c, "%s: expected an RFC 3339 time, got '%.40s'",
		    vpath(&av[0], n->av[0]), av[0].u.s);
	*out = val_time(t);
	return 0;
}

/* day_start(d), day_end(d): 00:00 JST of d, of d + 1. */
static int
fn_day_start(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	date_t	 d;

	if (arg_date(c, n, av, 0, &d) == -1)
		return -1;
	*out = val_time(when_day_start(d + (n->fn->name[4] == 'e')));
	return 0;
}

/* days(n), months(n), years(n). */
static int
fn_dur(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	int	 k;

	if (arg_int(c, n, av, 0, &k) == -1)
		return -1;
	*out = val_null();
	out->t = V_DUR;
	switch (n->fn->name[0]) {
	case 'd':
		out->u.dur.days = k;
		break;
	case 'm':
		out->u.dur.months = k;
		break;
	default:
		out->u.dur.months = 12 * k;
	}
	return 0;
}

static int
fn_add_months(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	date_t	 d;
	int	 k;

	if (arg_date(c, n, av, 0, &d) == -1 || arg_int(c, n, av, 1, &k) == -1)
		return -1;
	*out = val_date(when_add_months(d, k));
	return 0;
}

static int
fn_end_of_month(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	date_t	 d;

	if (arg_date(c, n, av, 0, &d) == -1)
		return -1;
	*out = val_date(when_end_of_month(d));
	return 0;
}

static int
fn_business_day(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	date_t	 d;

	if (arg_date(c, n, av, 0, &d) == -1)
		return -1;
	*out = val_date(calendar_next_business_day(c->env->cal, d));
	return 0;
}

static int
fn_is_business_day(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	date_t	 d;

	if (arg_date(c, n, av, 0, &d) == -1)
		return -1;
	*out = val_bool(calendar_is_business_day(c->env->cal, d));
	return 0;
}

static int
fn_weekday(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	date_t	 d;

	if (arg_date(c, n, av, 0, &d) == -1)
		return -1;
	*out = val_num(when_weekday(d));
	return 0;
}

/* Items of a list or object; characters (not bytes) of a string. */
static int
fn_len(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	const unsigned char	*p;
	int			 k = 0;

	switch (av[0].t) {
	case V_LIST: case V_OBJ:
		k = cJSON_GetArraySize(av[0].u.j);
		break;
	case V_STR:
		for (p = (const unsigned char *)av[0].u.s; *p != '\0'; p++)
			k += (*p & 0xc0) != 0x80;
		break;
	default:
		return ex_ebad(c, &av[0], n->av[0], "list, object or string");
	}
	*out = val_num(k);
	return 0;
}

static int
fn_has(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	(void)c;
	(void)n;
	*out = val_bool(av[0].t != V_NULL);
	return 0;
}

/* max(...), min(...) of numbers or of dates; nulls do not take part. */
static int
fn_minmax(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	int	 i, dates = -1, ismax = n->fn->name[1] == 'a';
	double	 x, best = 0;
	date_t	 d;

	for (i = 0; i < n->ac; i++) {
		if (av[i].t == V_NULL)
			continue;
		if (dates == -1) {
			dates = av[i].t != V_NUM;
			best = ismax ? -INFINITY : INFINITY;
		}
		if (dates) {
			if (arg_date(c, n, av, i, &d) == -1)
				return -1;
			x = d;
		} else if (arg_num(c, n, av, i, &x) == -1)
			return -1;
		if (ismax ? x > best : x < best)
			best = x;
	}
	if (dates == -1)
		*out = val_null();
	else if (dates)
		*out = val_date((date_t)best);
	else
		*out = val_num(best);
	return 0;
}

static int
fn_floor(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	double	 x;

	if (arg_num(c, n, av, 0, &x) == -1)
		return -1;
	*out = val_num(n->fn->name[0] == 'f' ? floor(x) : fabs(x));
	return 0;
}

static int
fn_matches(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	const char		*s;
	PCRE2_UCHAR		 msg[120];
	pcre2_match_data	*md;
	int			 rc;

	if (arg_str(c, n, av, 0, &s) == -1)
		return -1;
	/*
	 * Match data for one pair: only "matched or not" is read, and a match
	 * that outgrows it still returns 0 (>= 0). Made per call, not kept in
	 * the node: a replay evaluates one rule set on several threads.
	 */
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		return ex_efail(c, "%s: out of memory", n->path);
	rc = pcre2_match(n->re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, n->mctx);
	pcre2_match_data_free(md);
	if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH) {
		*out = val_bool(rc >= 0);
		return 0;
	}
	pcre2_get_error_message(rc, msg, sizeof(msg));
	return ex_efail(c, "%s: regular expression failed: %s",
	    vpath(&av[0], n->av[0]), (const char *)msg);
}

/*
 * A reference to j for a scratch list: lists and objects built here only
 * point at items owned by the event, a record or the scratch; the
 * reference flag keeps cJSON_Delete from freeing them and nothing writes
 * through it. The cast goes through uintptr_t because cJSON's API is not
 * const-correct.
 */
static void
add_ref(cJSON *arr, const cJSON *j)
{
	cJSON_AddItemReferenceToArray(arr, (cJSON *)(uintptr_t)j);
}

static int
in_list(const cJSON *list, const cJSON *j)
{
	const cJSON	*it;
	struct val	 a = val_json(j), b;

	for (it = list->child; it != NULL; it = it->next) {
		b = val_json(it);
		if (ex_veq(&a, &b))
			return 1;
	}
	return 0;
}

/* diff(a, b): items of a not in b; union(a, b): a, then items of b not in a. */
static int
fn_setop(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	const cJSON	*a, *b, *it;
	cJSON		*r;
	int		 isdiff = n->fn->name[0] == 'd';

	if (arg_list(c, n, av, 0, &a) == -1 || arg_list(c, n, av, 1, &b) == -1)
		return -1;
	r = ex_keep(c, cJSON_CreateArray());
	for (it = a->child; it != NULL; it = it->next)
		if (!isdiff || !in_list(b, it))
			add_ref(r, it);
	for (it = b->child; !isdiff && it != NULL; it = it->next)
		if (!in_list(a, it))
			add_ref(r, it);
	*out = val_null();
	out->t = V_LIST;
	out->u.j = r;
	return 0;
}

static int
fn_if(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	int	 b;

	(void)av;
	if (ex_bool(c, n->av[0], &b) == -1)
		return -1;
	return ex_get(c, n->av[b ? 1 : 2], out);
}

static int
fn_lower(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	const char	*s;
	cJSON		*j;
	char		*p;

	if (arg_str(c, n, av, 0, &s) == -1)
		return -1;
	j = ex_keep(c, cJSON_CreateString(s));
	for (p = j->valuestring; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	*out = val_str(j->valuestring);
	return 0;
}

/* list(x): x when it is a list; a string or a number cannot be judged as one. */
static int
fn_list(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	if (av[0].t != V_LIST)
		return ex_ebad(c, &av[0], n->av[0], "list");
	*out = av[0];
	return 0;
}

static int
fn_str(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	struct sbuf	 b;

	(void)n;
	if (av[0].t == V_STR) {
		*out = av[0];
		return 0;
	}
	sbuf_init(&b);
	val_format(&av[0], &b);
	*out = val_str(ex_keep(c, cJSON_CreateString(b.s))->valuestring);
	sbuf_free(&b);
	return 0;
}

static int
fn_num(struct ctx *c, const struct node *n, const struct val *av,
    struct val *out)
{
	const char	*s;
	char		*end;
	double		 x;

	if (av[0].t == V_NUM) {
		*out = val_num(av[0].u.n);
		return 0;
	}
	if (arg_str(c, n, av, 0, &s) == -1)
		return -1;
	errno = 0;
	x = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (end == s || *end != '\0' || errno != 0 || !isfinite(x) ||
	    isspace((unsigned char)*s))
		return ex_efail(c, "%s: not a number: '%.40s'",
		    vpath(&av[0], n->av[0]), s);
	*out = val_num(x);
	return 0;
}

/* ---- load-time checks beyond argument types ---- */

/* date('2026-13-45') can only fail: say so at load time. */
static int
chk_literal_date(struct comp *c, struct node *n)
{
	const struct node	*a = n->av[0];
	date_t			 d;
	instant_t		 t;

	if (a->k != N_LIT || a->v.t != V_STR)
		return 0;
	/* date() takes a time too (its JST day), as fn_date does. */
	if ((strcmp(n->fn->name, "date") == 0 && when_parse_date(a->v.u.s, &d) == 0) ||
	    when_parse_instant(a->v.u.s, &t) == 0)
		return 0;
	ex_cerr(c, a->off, "'%s' is not a %s", a->v.u.s, strcmp(n->fn->name,
	    "date") == 0 ? "date YYYY-MM-DD" : "time with an offset");
	return -1;
}

static int
chk_minmax(struct comp *c, struct node *n)
{
	int	 i, nums = 0, dates = 0;

	for (i = 0; i < n->ac; i++) {
		nums += n->av[i]->t == T_NUM;
		dates += n->av[i]->t == T_DATE || n->av[i]->t == T_STR;
	}
	if (nums > 0 && dates > 0) {
		ex_cerr(c, n->off, "%s() cannot mix numbers and dates",
		    n->fn->name);
		return -1;
	}
	n->t = nums > 0 ? T_NUM : dates > 0 ? T_DATE : T_ANY;
	return 0;
}

/* The condition's type is checked by the table; the result is either side's. */
static int
chk_if(struct comp *c, struct node *n)
{
	(void)c;
	n->t = ex_merge(n->av[1]->t, n->av[2]->t);
	return 0;
}

static pcre2_match_context *
match_context(struct comp *c)
{
	struct expr	*e = c->e;

	if (e->mctx == NULL) {
		if ((e->mctx = pcre2_match_context_create(NULL)) == NULL)
			return NULL;
		pcre2_set_match_limit(e->mctx, EXPR_REGEX_MATCH_LIMIT);
		pcre2_set_depth_limit(e->mctx, EXPR_REGEX_DEPTH_LIMIT);
	}
	return e->mctx;
}

/* matches(s, 're'): the pattern is compiled here, once. */
static int
chk_matches(struct comp *c, struct node *n)
{
	struct node	*pat = n->av[1];
	PCRE2_UCHAR	 msg[120];
	PCRE2_SIZE	 eoff;
	pcre2_code	*re;
	int		 ecode;

	if (pat->k != N_LIT || pat->v.t != V_STR) {
		ex_cerr(c, pat->off, "matches(): the pattern must be a string "
		    "literal");
		return -1;
	}
	re = pcre2_compile((PCRE2_SPTR)pat->v.u.s, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF, &ecode, &eoff, NULL);
	if (re == NULL) {
		pcre2_get_error_message(ecode, msg, sizeof(msg));
		ex_cerr(c, pat->off, "bad regular expression: %s (at offset %zu)",
		    (const char *)msg, (size_t)eoff);
		return -1;
	}
	/* Without JIT (unsupported platform) the interpreter still works. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	c->e->re = xrealloc(c->e->re, (c->e->nre + 1) * sizeof(*c->e->re));
	c->e->re[c->e->nre++] = re;
	n->re = re;
	if ((n->mctx = match_context(c)) == NULL) {
		ex_cerr(c, pat->off, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- the table ---- */

static const struct func funcs[] = {
	{ "contract", 1, 1, { M_STR }, T_OBJ, F_LOOKUP, fn_lookup, NULL },
	{ "dataset", 1, 1, { M_STR }, T_OBJ, F_LOOKUP, fn_lookup, NULL },
	{ "facility", 1, 1, { M_STR }, T_OBJ, F_LOOKUP, fn_lookup, NULL },
	{ "date", 1, 1, { M_DATE | TB(T_TIME) }, T_DATE, 0, fn_date, chk_literal_date },
	{ "time", 1, 1, { M_STR | TB(T_TIME) }, T_TIME, 0, fn_time, chk_literal_date },
	{ "day_start", 1, 1, { M_DATE }, T_TIME, 0, fn_day_start, NULL },
	{ "day_end", 1, 1, { M_DATE }, T_TIME, 0, fn_day_start, NULL },
	{ "days", 1, 1, { M_NUM }, T_DUR, 0, fn_dur, NULL },
	{ "months", 1, 1, { M_NUM }, T_DUR, 0, fn_dur, NULL },
	{ "years", 1, 1, { M_NUM }, T_DUR, 0, fn_dur, NULL },
	{ "add_months", 2, 2, { M_DATE, M_NUM }, T_DATE, 0, fn_add_months,
	    NULL },
	{ "end_of_month", 1, 1, { M_DATE }, T_DATE, 0, fn_end_of_month, NULL },
	{ "business_day", 1, 1, { M_DATE }, T_DATE, 0, fn_business_day, NULL },
	{ "is_business_day", 1, 1, { M_DATE }, T_BOOL, 0, fn_is_business_day,
	    NULL },
	{ "weekday", 1, 1, { M_DATE }, T_NUM, 0, fn_weekday, NULL },
	{ "len", 1, 1, { M_LIST | M_STR | TB(T_OBJ) }, T_NUM, 0, fn_len, NULL },
	{ "has", 1, 1, { M_ANY }, T_BOOL, F_NULLOK, fn_has, NULL },
	{ "max", 1, EX_MAXARGS, { M_NUM | M_DATE }, T_ANY, F_NULLOK, fn_minmax,
	    chk_minmax },
	{ "min", 1, EX_MAXARGS, { M_NUM | M_DATE }, T_ANY, F_NULLOK, fn_minmax,
	    chk_minmax },
	{ "floor", 1, 1, { M_NUM }, T_NUM, 0, fn_floor, NULL },
	{ "abs", 1, 1, { M_NUM }, T_NUM, 0, fn_floor, NULL },
	{ "matches", 2, 2, { M_STR, M_STR }, T_BOOL, 0, fn_matches,
	    chk_matches },
	{ "diff", 2, 2, { M_LIST, M_LIST }, T_LIST, 0, fn_setop, NULL },
	{ "union", 2, 2, { M_LIST, M_LIST }, T_LIST, 0, fn_setop, NULL },
	{ "if", 3, 3, { TB(T_BOOL), M_ANY, M_ANY }, T_ANY, F_LAZY, fn_if,
	    chk_if },
	{ "lower", 1, 1, { M_STR }, T_STR, 0, fn_lower, NULL },
	{ "list", 1, 1, { M_LIST }, T_LIST, 0, fn_list, NULL },
	{ "str", 1, 1, { M_ANY }, T_STR, 0, fn_str, NULL },
	{ "num", 1, 1, { M_STR | M_NUM }, T_NUM, 0, fn_num, NULL },
};

const struct func *
ex_find_func(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strcmp(funcs[i].name, name) == 0)
			return &funcs[i];
	return NULL;
}

/* "date or string" from a TB() mask. */
static const char *
mask_desc(unsigned m, char *buf, size_t sz)
{
	enum etype	 t;
	size_t		 len = 0;

	buf[0] = '\0';
	for (t = T_BOOL; t <= T_OBJ; t++)
		if (m & TB(t))
			len += snprintf(buf + len, len < sz ? sz - len : 0,
			    "%s%s", len ? " or " : "", ex_tname(t));
	return buf;
}

static void
arity_error(struct comp *c, const struct node *n)
{
	const struct func	*f = n->fn;

	if (f->min == f->max)
		ex_cerr(c, n->off, "%s() takes %d argument%s, got %d", f->name,
		    f->min, f->min == 1 ? "" : "s", n->ac);
	else
		ex_cerr(c, n->off, "%s() takes %d to %d arguments, got %d",
		    f->name, f->min, f->max, n->ac);
}

/* Argument count and types of call n; then the function's own check. */
int
ex_check_call(struct comp *c, struct node *n)
{
	const struct func	*f = n->fn;
	char			 buf[120];
	unsigned		 m;
	enum etype		 t;
	int			 i, k, bad = 0;

	if (n->ac < f->min || n->ac > f->max) {
		arity_error(c, n);
		return -1;
	}
	for (i = 0; i < n->ac; i++) {
		/* The last mask given stands for the remaining arguments. */
		for (k = i < 3 ? i : 2; k > 0 && f->arg[k] == 0; k--)
			;
		m = f->arg[k];
		t = n->av[i]->t;
		if (t == T_ANY || t == T_NULL || (m & TB(t)))
			continue;
		ex_cerr(c, n->av[i]->off, "%s(): argument %d: expected %s, got %s",
		    f->name, i + 1, mask_desc(m, buf, sizeof(buf)), ex_tname(t));
		bad = 1;
	}
	if (bad)
		return -1;
	return f->check ? f->check(c, n) : 0;
}
