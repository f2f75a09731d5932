/*
 * expr.h - the rule expression language: lexed, parsed and type-checked once at
 * load time, evaluated per event or record. Evaluation never aborts: a missing
 * attribute or a value of the wrong type is an error the rule turns into a
 * `review` alert (DESIGN.md "Incomplete events"). See doc/rules.md.
 */
#ifndef COMPLYD_EXPR_H
#define COMPLYD_EXPR_H

#include <cjson/cJSON.h>

#include "complyd/util.h"
#include "complyd/when.h"

/* Static types (T_ANY = known only at run time). */
enum etype {
	T_ANY, T_NULL, T_BOOL, T_NUM, T_STR, T_DATE, T_TIME, T_DUR, T_LIST, T_OBJ
};

/* Run-time values. Strings, lists and objects are borrowed (event, record or scratch). */
enum vtype {
	V_NULL, V_BOOL, V_NUM, V_STR, V_DATE, V_TIME, V_DUR, V_LIST, V_OBJ
};
struct val {
	enum vtype	 t;
	union {
		int		 b;
		double		 n;
		const char	*s;
		date_t		 d;
		instant_t	 at;
		struct { int32_t months, days; } dur;
		const cJSON	*j;	/* V_LIST (array) and V_OBJ (object) */
	} u;
	/* For a value read from a field: its path ("event.persons"), for error text. */
	const char	*path;
};

/*
 * The names an expression may use besides functions, macros and literals.
 * A rule kind declares which of them its expressions see (a bit mask).
 */
enum expr_var {
	EV_EVENT,	/* the current event (object); event.time is a string */
	EV_RECORD,	/* the rule's subject record (contract/dataset/facility) or null */
	EV_KEY,		/* the obligation key (string) */
	EV_TENANT,	/* the tenant (string) */
	EV_VERSION,	/* the law version id in force (string) */
	EV_NOW,		/* the engine clock (time) */
	EV_PARAMS,	/* the law's parameters (object) */
	EV_OPENED,	/* deadline: instant it opened (time) */
	EV_START,	/* deadline: the start date D (date) */
	EV_DUE,		/* deadline/periodic: the due date (date) */
	EV_PAID,	/* deadline: amount accumulated by stop events (number) */
	EV_BASELINE,	/* periodic: the last check (date) */
	EV__COUNT
};
#define EV_BIT(v)	(1u << (v))

struct calendar;
struct hmap;

/* Compile-time environment. */
struct expr_scope {
	unsigned		 vars;		/* EV_BIT mask of visible names */
	const struct hmap	*macros;	/* name -> struct expr_macro *, may be NULL */
	const cJSON		*params;	/* the law's params, to check params.X */
	struct hmap		*used;		/* names of macros expanded; may be NULL */
};

/* A named expression shared between rules; `params` are its argument names. */
struct expr_macro {
	char	*name;
	char	*src;
	char	*file;
	int	 line, col;
	int	 nparams;
	char	*params[8];
};

struct sbuf;
/* The key of macro m in expr_scope.used: its file and name. */
void expr_macro_key(const struct expr_macro *m, struct sbuf *out);

/* Run-time environment, filled by the engine for each evaluation. */
struct expr_env {
	struct val	 vars[EV__COUNT];
	const char	*tenant;
	const struct calendar *cal;
	/* Metadata look-up as the registry stands now: kind is "contract", "dataset" or "facility". */
	const cJSON	*(*lookup)(void *arg, const char *kind, const char *tenant,
			    const char *id);
	void		*lookup_arg;
	cJSON		*scratch;	/* values built during evaluation; see expr_env_reset */
	char		 err[256];	/* first error of the last failed evaluation */
	/*
	 * Macro results kept for reuse (expr_eval.c, ev_macro): several rules
	 * ask `subject(record)` of one record in one event. Off while memo_gen
	 * is NULL. An entry stands while *memo_gen (the registry's: it moves
	 * whenever a record tree may move) and memo_epoch (the engine's: it
	 * moves with every event) are what they were when it was made.
	 */
	const uint64_t	*memo_gen;
	uint64_t	 memo_epoch;
	struct expr_memo *memo;
};

struct expr;

/*
 * Compiles src. (file, line, col) is where src[0] stands in its file; errors
 * print as "file:line:col: error: ..." (the column of the offending token) and
 * are counted in *nerrors. `want` is the type the caller needs (T_ANY: any).
 * Returns NULL on error.
 */
struct expr *expr_compile(const char *src, const struct expr_scope *sc,
    enum etype want, const char *file, int line, int col, int *nerrors);
/*
 * The same for a source whose bytes moved in its file (a quoted YAML scalar):
 * byte i stands at (lines[i], cols[i]); the arrays hold strlen(src) + 1.
 */
struct expr *expr_compile_mapped(const char *src, const struct expr_scope *sc,
    enum etype want, const char *file, const int *lines, const int *cols,
    int *nerrors);
void expr_free(struct expr *e);
/* The static type the checker inferred. */
enum etype expr_type(const struct expr *e);
/* "name" if e is just `event.name` (a top-level field of the event), else NULL. */
const char *expr_event_field(const struct expr *e);
/* Its name in messages ("date", "number", ...). */
const char *expr_type_name(enum etype t);
#define TB(t)	(1u << (t))	/* a set of etypes */
/* The source text. */
const char *expr_src(const struct expr *e);

/* Initialises an env (all vars null, empty scratch). */
void expr_env_init(struct expr_env *env);
/* Frees values built by earlier evaluations; call between rules. */
void expr_env_reset(struct expr_env *env);
void expr_env_free(struct expr_env *env);

/* Evaluates e; 0 with *out set, or -1 with env->err set. */
int expr_eval(const struct expr *e, struct expr_env *env, struct val *out);
/* Typed shorthands: -1 on error or if the value has another type (null included). */
int expr_eval_bool(const struct expr *e, struct expr_env *env, int *out);
/* Accepts a date or a "YYYY-MM-DD" string. */
int expr_eval_date(const struct expr *e, struct expr_env *env, date_t *out);
/* *v, what e evaluated to, as a date the way expr_eval_date takes it: 0 or -1 (env->err). */
int expr_val_date(const struct expr *e, struct expr_env *env, const struct val *v,
    date_t *out);
int expr_eval_num(const struct expr *e, struct expr_env *env, double *out);
/* Strings and numbers (integral numbers print without a fraction). */
int expr_eval_str(const struct expr *e, struct expr_env *env, struct sbuf *out);

/*
 * Value helpers. Inline: every rule of every event builds its names with
 * them (engine_env), and a call each returning a struct cost more than the
 * stores themselves.
 */
/*
 * Spelt out as stores on val_null's value, not as compound literals: those
 * made a replay 8% slower (bench_replay, in turns), the struct zeroed in
 * memory and then copied on every call.
 */
static inline struct val
val_null(void)
{
	struct val v = { V_NULL, { .n = 0 }, NULL };

	return v;
}

static inline struct val
val_str(const char *s)
{
	struct val v = val_null();

	if (s != NULL) {
		v.t = V_STR;
		v.u.s = s;
	}
	return v;
}

static inline struct val
val_num(double n)
{
	struct val v = val_null();

	v.t = V_NUM;
	v.u.n = n;
	return v;
}

static inline struct val
val_bool(int b)
{
	struct val v = val_null();

	v.t = V_BOOL;
	v.u.b = b != 0;
	return v;
}

static inline struct val
val_date(date_t d)
{
	struct val v = val_null();

	v.t = V_DATE;
	v.u.d = d;
	return v;
}

static inline struct val
val_time(instant_t t)
{
	struct val v = val_null();

	v.t = V_TIME;
	v.u.at = t;
	return v;
}

/* Converts a JSON node (NULL -> null); strings, lists and objects borrowed. */
static inline struct val
val_json(const cJSON *j)
{
	struct val v = val_null();

	if (j == NULL)
		return v;
	switch (j->type & 0xff) {
	case cJSON_False: case cJSON_True:
		v.t = V_BOOL;
		v.u.b = (j->type & 0xff) == cJSON_True;
		break;
	case cJSON_Number:
		v.t = V_NUM;
		v.u.n = j->valuedouble;
		break;
	case cJSON_String:
		if (j->valuestring != NULL) {
			v.t = V_STR;
			v.u.s = j->valuestring;
		}
		break;
	case cJSON_Array:
		v.t = V_LIST;
		v.u.j = j;
		break;
	case cJSON_Object:
		v.t = V_OBJ;
		v.u.j = j;
		break;
	}
	return v;
}
/* JSON for details: dates as "YYYY-MM-DD", times as RFC 3339 +09:00. */
cJSON *val_to_json(const struct val *v);
/* Appends the text form of v (as val_to_json would print it, strings unquoted). */
void val_format(const struct val *v, struct sbuf *out);
/* "null", "bool", "number", "string", ...: for messages. */
const char *val_type_name(enum vtype t);

/*
 * Message templates: text with {expression} holes ("{{" for a brace).
 * Compiled like expressions; rendering an erroring hole prints "?".
 */
struct tmpl;
struct tmpl *tmpl_compile(const char *src, const struct expr_scope *sc,
    const char *file, int line, int col, int *nerrors);
void tmpl_render(const struct tmpl *t, struct expr_env *env, struct sbuf *out);
void tmpl_free(struct tmpl *t);

/* Resource limits for regular expressions (PCRE2 match and depth limits). */
#define EXPR_REGEX_MATCH_LIMIT	100000
#define EXPR_REGEX_DEPTH_LIMIT	1000

#endif
