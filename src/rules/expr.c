/*
 * expr.c - the rule expression language: lexer, parser, static type checker
 * and templates. Evaluation lives in expr_eval.c, the builtin functions in
 * expr_func.c.
 *
 * THE LANGUAGE
 *
 * An expression is one line of text inside a rule file (a condition, a key, a
 * due date, a hole of a message template). It is compiled once when the rule
 * set loads and evaluated per event or record.
 *
 * Literals
 *	123  1.5  1_000_000	numbers (all numbers are doubles; '_' may separate
 *				digits)
 *	'text'  "text"		strings; escapes \\ \' \" \n \t
 *	true  false  null
 *	[a, b, c]		lists (a list of literals is built once, at load)
 *
 * Names
 *	event record key tenant version now params opened start due paid baseline
 *	Each rule kind decides which of these its expressions see; using another
 *	one is a load error ("'due' is not available here"). Types: event, record
 *	and params are objects (record may be null), key/tenant/version strings,
 *	now/opened times, start/due/baseline dates, paid a number.
 *	event.id, event.type, event.tenant and event.time are strings (event.time
 *	is RFC 3339 text: use date(event.time) or time(event.time)).
 *
 *	Macros (shared named expressions) are used by name: `is_subject` when the
 *	macro has no parameters, `is_subject(record)` when it has. A macro body
 *	is compiled in the caller's scope with its parameters bound to the
 *	arguments (evaluated once per use); errors inside it point into the
 *	macro's own file:line:col. A macro may not use itself, directly or not.
 *
 * Field access
 *	a.b.c  a['key']  a[0]	object fields, list items (0-based). Access on null
 *				yields null, so `contract(x).payment_due` is null
 *				for an unknown contract; using that null where a
 *				value is needed is the error "missing attribute
 *				contract(x).payment_due". params.X is checked at
 *				load time against the law's parameters.
 *
 * Operators, lowest precedence first
 *	a ?? b			a if a is not null, else b
 *	a or b, a || b		short-circuit; both sides must be bool
 *	a and b, a && b		short-circuit; both sides must be bool
 *	not a, !a		bool
 *	== != < <= > >= in, not in
 *	+ -
 *	* / %
 *	-a
 *	a.b  a[i]  f(x)
 *
 *	A null operand is an evaluation error ("missing attribute event.x"), a
 *	value of the wrong type too ("event.persons: expected number, got
 *	string"); the rule turns it into a `review` alert. == and != never fail:
 *	values of different types are unequal, null == null, and `x == null`
 *	tests for a missing x. Lists and objects compare deeply.
 *	< <= > >= compare numbers, strings, dates and times (never a date with a
 *	time). `x in list` is membership by ==; `'k' in object` tests a key;
 *	`'s' in string` a substring.
 *	Dates: a string spelled YYYY-MM-DD is accepted wherever a date is needed
 *	(comparison with a date, date arithmetic, date functions).
 *	date + duration -> date (months first, clamped to the month's end, then
 *	days): '2026-08-31' + months(6) is 2027-02-28; date - duration -> date;
 *	date - date -> the number of days between them; time +/- duration ->
 *	time (months move the JST calendar day, keeping the time of day);
 *	duration +/- duration -> duration; string + string concatenates.
 *
 * Functions
 *	contract(id) dataset(id) facility(id)	the record as the registry stands
 *						now, or null
 *	date(x)		date of a time (JST), of "YYYY-MM-DD" or of an RFC 3339
 *			instant ('2026-05-30T15:30:00Z' is 2026-05-31)
 *	time(s)		the instant of an RFC 3339 string
 *	day_start(d)	00:00 JST of d
 *	day_end(d)	00:00 JST of d+1: the instant a "due d" obligation breaks
 *	days(n) months(n) years(n)	durations (n a whole number)
 *	add_months(d, n) end_of_month(d)
 *	business_day(d)	d if a business day, else the next one (holiday calendar)
 *	is_business_day(d)  weekday(d) (0 = Monday .. 6 = Sunday)
 *	len(x)		items of a list or object, characters of a string
 *	has(x)		x is not null (never fails on a missing attribute)
 *	max(a, b, ...) min(a, b, ...)	of numbers or of dates; null arguments
 *			are skipped, all null gives null
 *	floor(n) abs(n)
 *	matches(s, 're')	PCRE2 match; the pattern must be a string literal,
 *			compiled (and JIT-compiled) at load time and run with
 *			match and depth limits: a pattern that runs away is an
 *			evaluation error, not a hung daemon
 *	diff(a, b)	items of list a not in list b; union(a, b)
 *	if(c, a, b)	a if c else b (only the chosen side is evaluated)
 *	lower(s) str(x) num(s)
 *
 * Static checks (at load time): unknown names, functions, parameters; wrong
 * argument counts; arguments, operands and results of a known wrong type
 * ('a' + 1, due < 5, not 3); bad regular expressions; syntax. Every error
 * found is reported as "file:line:col: error: message"; the column counts
 * characters (as libyaml does).
 *
 * Templates: "text {expression} text", "{{" and "}}" for literal braces; a
 * hole that fails to evaluate renders as "?".
 */

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/log.h"
#include "expr_int.h"

#define MAXDEPTH	200

/* ---- arena: the nodes and strings of one compiled expression ---- */

struct ablk {
	struct ablk	*next;
	size_t		 used, cap;
	max_align_t	 data[];
};

void *
ex_alloc(struct expr *e, size_t n)
{
	struct ablk	*b = e->arena;
	void		*p;
	size_t		 cap;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (b == NULL || b->cap - b->used < n) {
		cap = n > 4096 ? n : 4096;
		b = xmalloc(sizeof(*b) + cap);
		b->next = e->arena;
		b->used = 0;
		b->cap = cap;
		e->arena = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

static char *
ex_strndup(struct expr *e, const char *s, size_t n)
{
	char	*p = ex_alloc(e, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- names ---- */

static const char *const tnames[] = {
	"any", "null", "bool", "number", "string", "date", "time", "duration",
	"list", "object"
};
static const char *const vnames[] = {
	"null", "bool", "number", "string", "date", "time", "duration", "list",
	"object"
};

const char *
ex_tname(enum etype t)
{
	return tnames[t];
}

const char *
expr_type_name(enum etype t)
{
	return ex_tname(t);
}

const char *
val_type_name(enum vtype t)
{
	return vnames[t];
}

static const struct {
	const char	*name;
	enum etype	 type;
} vars[EV__COUNT] = {
	[EV_EVENT] =	{ "event", T_OBJ },
	[EV_RECORD] =	{ "record", T_OBJ },
	[EV_KEY] =	{ "key", T_STR },
	[EV_TENANT] =	{ "tenant", T_STR },
	[EV_VERSION] =	{ "version", T_STR },
	[EV_NOW] =	{ "now", T_TIME },
	[EV_PARAMS] =	{ "params", T_OBJ },
	[EV_OPENED] =	{ "opened", T_TIME },
	[EV_START] =	{ "start", T_DATE },
	[EV_DUE] =	{ "due", T_DATE },
	[EV_PAID] =	{ "paid", T_NUM },
	[EV_BASELINE] =	{ "baseline", T_DATE },
};

/* Envelope fields the event decoder guarantees to be strings. */
static const char *const event_strs[] = { "id", "type", "tenant", "time" };

/* ---- errors ---- */

/* Line and column of byte `off` of text that starts at (line, col). */
static void
text_pos(const char *text, int off, int line, int col, int *ol, int *oc)
{
	int	 i;

	for (i = 0; i < off && text[i] != '\0'; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			col++;
	}
	*ol = line;
	*oc = col;
}

static void
vreport(const char *file, int line, int col, const char *fmt, va_list ap)
{
	fprintf(log_diag(), "%s:%d:%d: error: ", file ? file : "<expr>", line,
	    col);
	vfprintf(log_diag(), fmt, ap);
	fputc('\n', log_diag());
}

static void
report(const char *file, int line, int col, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vreport(file, line, col, fmt, ap);
	va_end(ap);
}

void
ex_cerr(struct comp *c, int off, const char *fmt, ...)
{
	struct csrc	*s = c->s;
	va_list		 ap;
	int		 line, col;

	if (s->mlines != NULL) {
		line = s->mlines[(size_t)off < s->mlen ? (size_t)off : s->mlen];
		col = s->mcols[(size_t)off < s->mlen ? (size_t)off : s->mlen];
	} else
		text_pos(s->text, off, s->line, s->col, &line, &col);
	va_start(ap, fmt);
	vreport(s->file, line, col, fmt, ap);
	va_end(ap);
	c->nerr++;
}

/* ---- lexer ---- */

static const struct {
	const char	*s;
	enum tk		 tk;
} keywords[] = {
	{ "and", TK_AND }, { "or", TK_OR }, { "not", TK_NOT }, { "in", TK_IN },
	{ "true", TK_TRUE }, { "false", TK_FALSE }, { "null", TK_NULL },
};

/* Longest first. */
static const struct {
	const char	*s;
	enum tk		 tk;
} puncts[] = {
	{ "??", TK_COALESCE }, { "||", TK_OR }, { "&&", TK_AND },
	{ "==", TK_EQ }, { "!=", TK_NE }, { "<=", TK_LE }, { ">=", TK_GE },
	{ "<", TK_LT }, { ">", TK_GT }, { "!", TK_NOT }, { "(", TK_LP },
	{ ")", TK_RP }, { "[", TK_LB }, { "]", TK_RB }, { ",", TK_COMMA },
	{ ".", TK_DOT }, { "+", TK_PLUS }, { "-", TK_MINUS }, { "*", TK_STAR },
	{ "/", TK_SLASH }, { "%", TK_PCT },
};

static struct tok *
push_tok(struct csrc *s, int off)
{
	struct tok	*t;

	if (s->ntok == s->captok) {
		s->captok = s->captok ? s->captok * 2 : 16;
		s->toks = xrealloc(s->toks, s->captok * sizeof(*s->toks));
	}
	t = &s->toks[s->ntok++];
	memset(t, 0, sizeof(*t));
	t->off = off;
	return t;
}

static int
is_ident_start(int ch)
{
	return isalpha((unsigned char)ch) || ch == '_';
}

static int
is_ident(int ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* Digits with '_' between digits, an optional fraction. */
static int
lex_num(struct comp *c, struct tok *t, const char *p)
{
	const char	*q = p;
	char		 buf[64];
	size_t		 n = 0;
	int		 bad = 0, frac = 0;

	for (;;) {
		if (isdigit((unsigned char)*q)) {
			if (n < sizeof(buf) - 1)
				buf[n++] = *q;
			else
				bad = 1;
		} else if (*q == '_') {
			if (!isdigit((unsigned char)q[-1]) ||
			    !isdigit((unsigned char)q[1]))
				bad = 1;
		} else if (*q == '.' && !frac && isdigit((unsigned char)q[1])) {
			frac = 1;
			if (n < sizeof(buf) - 1)
				buf[n++] = '.';
		} else
			break;
		q++;
	}
	buf[n] = '\0';
	t->k = TK_NUM;
	t->len = q - p;
	t->num = strtod(buf, NULL);
	if (bad) {
		ex_cerr(c, t->off, "malformed number '%.*s'", t->len, p);
		return -1;
	}
	return 0;
}

static int
lex_str(struct comp *c, struct tok *t, const char *p)
{
	const char	*q = p + 1;
	char		*buf, quote = *p;
	size_t		 n = 0;
	int		 bad = 0;

	buf = xmalloc(strlen(p) + 1);
	for (; *q != quote; q++) {
		if (*q == '\0') {
			ex_cerr(c, t->off, "unterminated string");
			free(buf);
			return -2;
		}
		if (*q != '\\') {
			buf[n++] = *q;
			continue;
		}
		switch (*++q) {
		case '\\': case '\'': case '"':
			buf[n++] = *q;
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case '\0':
			ex_cerr(c, t->off, "unterminated string");
			free(buf);
			return -2;
		default:
			ex_cerr(c, (int)(q - 1 - c->s->text),
			    "unknown escape '\\%c'", *q);
			bad = 1;
		}
	}
	t->k = TK_STR;
	t->len = q + 1 - p;
	t->str = ex_strndup(c->e, buf, n);
	free(buf);
	return bad ? -1 : 0;
}

static int
lex_punct(struct tok *t, const char *p)
{
	size_t	 i, n;

	for (i = 0; i < sizeof(puncts) / sizeof(puncts[0]); i++) {
		n = strlen(puncts[i].s);
		if (strncmp(p, puncts[i].s, n) == 0) {
			t->k = puncts[i].tk;
			t->len = n;
			return 0;
		}
	}
	return -1;
}

static void
lex_ident(struct tok *t, const char *p)
{
	size_t	 i, n = 0;

	while (is_ident(p[n]))
		n++;
	t->k = TK_IDENT;
	t->len = n;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i].s) == n &&
		    strncmp(keywords[i].s, p, n) == 0)
			t->k = keywords[i].tk;
}

/* Tokenizes c->s; reports every bad token. */
static int
lex(struct comp *c)
{
	struct csrc	*s = c->s;
	const char	*p = s->text;
	struct tok	*t;
	int		 bad = 0, r;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		t = push_tok(s, p - s->text);
		if (*p == '\0')
			break;
		if (isdigit((unsigned char)*p))
			bad |= lex_num(c, t, p) != 0;
		else if (*p == '\'' || *p == '"') {
			if ((r = lex_str(c, t, p)) == -2)
				return -1;
			bad |= r != 0;
		} else if (is_ident_start(*p))
			lex_ident(t, p);
		else if (lex_punct(t, p) == -1) {
			if (*p == '=')
				ex_cerr(c, t->off, "unexpected '='; compare with '=='");
			else if ((unsigned char)*p < 0x80 && isprint((unsigned char)*p))
				ex_cerr(c, t->off, "unexpected character '%c'", *p);
			else
				ex_cerr(c, t->off, "unexpected character");
			bad = 1;
			s->ntok--;
			/* Skip the whole UTF-8 sequence. */
			for (p++; ((unsigned char)*p & 0xc0) == 0x80; p++)
				;
			continue;
		}
		p += t->len;
	}
	t->k = TK_EOF;
	return bad ? -1 : 0;
}

/* ---- parser and static checker ---- */

enum level {
	L_COALESCE, L_OR, L_AND, L_NOT, L_CMP, L_ADD, L_MUL, L_NEG
};

static const struct binop {
	enum tk		 tk;
	enum level	 level;
	enum op		 op;
	const char	*name;
} binops[] = {
	{ TK_COALESCE,	L_COALESCE,	OP_COALESCE,	"??" },
	{ TK_OR,	L_OR,		OP_OR,		"or" },
	{ TK_AND,	L_AND,		OP_AND,		"and" },
	{ TK_EQ,	L_CMP,		OP_EQ,		"==" },
	{ TK_NE,	L_CMP,		OP_NE,		"!=" },
	{ TK_LT,	L_CMP,		OP_LT,		"<" },
	{ TK_LE,	L_CMP,		OP_LE,		"<=" },
	{ TK_GT,	L_CMP,		OP_GT,		">" },
	{ TK_GE,	L_CMP,		OP_GE,		">=" },
	{ TK_IN,	L_CMP,		OP_IN,		"in" },
	{ TK_NOT,	L_CMP,		OP_NOTIN,	"not in" },	/* followed by `in` */
	{ TK_PLUS,	L_ADD,		OP_ADD,		"+" },
	{ TK_MINUS,	L_ADD,		OP_SUB,		"-" },
	{ TK_STAR,	L_MUL,		OP_MUL,		"*" },
	{ TK_SLASH,	L_MUL,		OP_DIV,		"/" },
	{ TK_PCT,	L_MUL,		OP_MOD,		"%" },
};

static struct node *parse_level(struct comp *, int);

static struct tok *
cur(struct comp *c)
{
	return &c->s->toks[c->s->pos];
}

static struct tok *
next(struct comp *c)
{
	struct tok	*t = cur(c);

	if (t->k != TK_EOF)
		c->s->pos++;
	return t;
}

static int
prev_end(struct comp *c)
{
	struct tok	*t;

	if (c->s->pos == 0)
		return 0;
	t = &c->s->toks[c->s->pos - 1];
	return t->off + t->len;
}

static void
syntax_error(struct comp *c, struct tok *t)
{
	if (t->k == TK_EOF)
		ex_cerr(c, t->off, "unexpected end of expression");
	else
		ex_cerr(c, t->off, "unexpected '%.*s'", t->len,
		    c->s->text + t->off);
}

static int
expect(struct comp *c, enum tk k)
{
	if (cur(c)->k == k) {
		next(c);
		return 0;
	}
	syntax_error(c, cur(c));
	return -1;
}

/* A node whose text runs from `off` to the end of the last token read. */
static struct node *
mk(struct comp *c, enum nkind k, enum etype t, int off)
{
	struct node	*n = ex_alloc(c->e, sizeof(*n));
	int		 end = prev_end(c);

	n->k = k;
	n->t = t;
	n->off = off;
	n->path = ex_strndup(c->e, c->s->text + off, end > off ? end - off : 0);
	return n;
}

/* Stands in for a node with a semantic error, so that checking goes on. */
static struct node *
errnode(struct comp *c, int off)
{
	struct node	*n = mk(c, N_LIT, T_ANY, off);

	n->v = val_null();
	return n;
}

static int
known(enum etype t)
{
	return t != T_ANY;
}

enum etype
ex_merge(enum etype a, enum etype b)
{
	if (a == b || b == T_NULL)
		return a;
	if (a == T_NULL)
		return b;
	return T_ANY;
}

/* The result of a concrete operand pair, T_NULL if the operator does not apply. */
static enum etype
concrete(enum op op, enum etype a, enum etype b)
{
	int	 dateish_a = a == T_DATE || a == T_STR;
	int	 dateish_b = b == T_DATE || b == T_STR;

	switch (op) {
	case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		if ((a == T_NUM && b == T_NUM) || (dateish_a && dateish_b) ||
		    (a == T_TIME && (b == T_TIME || b == T_STR)) ||
		    (b == T_TIME && a == T_STR))
			return T_BOOL;
		return T_NULL;
	case OP_ADD:
		if (a == T_NUM && b == T_NUM)
			return T_NUM;
		if (a == T_STR && b == T_STR)
			return T_STR;
		if ((dateish_a && b == T_DUR) || (a == T_DUR && dateish_b))
			return T_DATE;
		if ((a == T_TIME && b == T_DUR) || (a == T_DUR && b == T_TIME))
			return T_TIME;
		if (a == T_DUR && b == T_DUR)
			return T_DUR;
		return T_NULL;
	case OP_SUB:
		if (a == T_NUM && b == T_NUM)
			return T_NUM;
		if (dateish_a && b == T_DUR)
			return T_DATE;
		if (dateish_a && dateish_b)
			return T_NUM;
		if (a == T_TIME && b == T_DUR)
			return T_TIME;
		if (a == T_DUR && b == T_DUR)
			return T_DUR;
		return T_NULL;
	default:
		return a == T_NUM && b == T_NUM ? T_NUM : T_NULL;
	}
}

/*
 * The type of `a op b` for arithmetic and ordering: an operand of unknown
 * type stands for every concrete type; no valid pair is an error, one
 * result type is the answer, several make it T_ANY.
 */
static int
arith_type(enum op op, enum etype ta, enum etype tb, enum etype *res)
{
	enum etype	 x, y, r, out = T_ANY;
	int		 n = 0;

	for (x = T_BOOL; x <= T_OBJ; x++) {
		if (ta != T_ANY && x != ta)
			continue;
		for (y = T_BOOL; y <= T_OBJ; y++) {
			if (tb != T_ANY && y != tb)
				continue;
			if ((r = concrete(op, x, y)) == T_NULL)
				continue;
			out = n++ == 0 ? r : (r == out ? out : T_ANY);
		}
	}
	*res = out;
	return n;
}

static enum etype
bin_type(struct comp *c, const struct binop *bo, int opoff, struct node *a,
    struct node *b)
{
	enum etype	 r;

	switch (bo->op) {
	case OP_AND: case OP_OR:
		if ((known(a->t) && a->t != T_BOOL) ||
		    (known(b->t) && b->t != T_BOOL))
			ex_cerr(c, opoff, "'%s' needs bool operands, got %s and %s",
			    bo->name, ex_tname(a->t), ex_tname(b->t));
		return T_BOOL;
	case OP_COALESCE:
		return ex_merge(a->t, b->t);
	case OP_EQ: case OP_NE:
		return T_BOOL;
	case OP_IN: case OP_NOTIN:
		if ((known(b->t) && b->t != T_LIST && b->t != T_OBJ &&
		    b->t != T_STR) || ((b->t == T_OBJ || b->t == T_STR) &&
		    known(a->t) && a->t != T_STR))
			ex_cerr(c, opoff, "cannot apply '%s' to %s and %s",
			    bo->name, ex_tname(a->t), ex_tname(b->t));
		return T_BOOL;
	default:
		if (arith_type(bo->op, a->t, b->t, &r) == 0) {
			ex_cerr(c, opoff, "cannot apply '%s' to %s and %s",
			    bo->name, ex_tname(a->t), ex_tname(b->t));
			/* A comparison is a bool all the same. */
			return bo->level == L_CMP ? T_BOOL : T_ANY;
		}
		return r;
	}
}

static const struct binop *
binop_at(struct comp *c, int lvl)
{
	struct tok	*t = cur(c);
	size_t		 i;

	for (i = 0; i < sizeof(binops) / sizeof(binops[0]); i++) {
		if ((int)binops[i].level != lvl || binops[i].tk != t->k)
			continue;
		if (binops[i].op == OP_NOTIN && t[1].k != TK_IN)
			continue;
		return &binops[i];
	}
	return NULL;
}

static int
deeper(struct comp *c)
{
	if (++c->depth <= MAXDEPTH)
		return 0;
	ex_cerr(c, cur(c)->off, "expression nested too deeply");
	return -1;
}

/* Lists of expressions up to `close`: call arguments and list literals. */
static int
parse_seq(struct comp *c, enum tk close, struct node ***avp, int *acp)
{
	struct node	**av = NULL, *n;
	int		 ac = 0, cap = 0;

	if (cur(c)->k == close) {
		next(c);
		*avp = NULL;
		*acp = 0;
		return 0;
	}
	for (;;) {
		if ((n = parse_level(c, L_COALESCE)) == NULL)
			goto fail;
		if (ac == cap) {
			cap = cap ? cap * 2 : 4;
			av = xrealloc(av, cap * sizeof(*av));
		}
		av[ac++] = n;
		if (cur(c)->k == close)
			break;
		if (expect(c, TK_COMMA) == -1)
			goto fail;
	}
	next(c);
	*avp = ex_alloc(c->e, ac * sizeof(*av));
	memcpy(*avp, av, ac * sizeof(*av));
	*acp = ac;
	free(av);
	return 0;
fail:
	free(av);
	return -1;
}

/*
 * A literal list of strings only also keeps its items as (length, text), so
 * that `x in [...]` compares lengths before bytes (see ev_in).
 */
static void
list_strs(struct comp *c, struct node *n, struct node **av, int ac)
{
	struct lstr	*strs;
	int		 i;

	for (i = 0; i < ac; i++)
		if (av[i]->v.t != V_STR)
			return;
	strs = ex_alloc(c->e, (ac ? ac : 1) * sizeof(*strs));
	for (i = 0; i < ac; i++) {
		strs[i].s = av[i]->v.u.s;
		strs[i].len = strlen(strs[i].s);
	}
	n->strs = strs;
	n->nstrs = ac;
}

static struct node *
parse_list(struct comp *c, int off)
{
	struct node	*n, **av;
	cJSON		*arr;
	int		 ac, i;

	if (deeper(c) || parse_seq(c, TK_RB, &av, &ac) == -1)
		return NULL;
	c->depth--;
	n = mk(c, N_LIST, T_LIST, off);
	n->av = av;
	n->ac = ac;
	for (i = 0; i < ac; i++)
		if (av[i]->k != N_LIT)
			return n;
	/* All literals: build the list once. */
	arr = cJSON_CreateArray();
	for (i = 0; i < ac; i++)
		cJSON_AddItemToArray(arr, val_to_json(&av[i]->v));
	if (c->e->consts == NULL)
		c->e->consts = cJSON_CreateArray();
	cJSON_AddItemToArray(c->e->consts, arr);
	n->k = N_LIT;
	n->v.t = V_LIST;
	n->v.u.j = arr;
	list_strs(c, n, av, ac);
	return n;
}

static enum etype
json_type(const cJSON *j)
{
	switch (j->type & 0xff) {
	case cJSON_True: case cJSON_False:
		return T_BOOL;
	case cJSON_Number:
		return T_NUM;
	case cJSON_String:
		return T_STR;
	case cJSON_Array:
		return T_LIST;
	case cJSON_Object:
		return T_OBJ;
	case cJSON_NULL:
		return T_NULL;
	}
	return T_ANY;
}

static void
set_path(struct comp *c, struct node *n, const char *a, const char *sep,
    const char *b, const char *end)
{
	size_t	 len = strlen(a) + strlen(sep) + strlen(b) + strlen(end);
	char	*p = ex_alloc(c->e, len + 1);

	snprintf(p, len + 1, "%s%s%s%s", a, sep, b, end);
	n->path = p;
}

static enum etype
field_type(struct comp *c, struct node *base, struct tok *nt, const char *name)
{
	const cJSON	*j;
	size_t		 i;

	if (base->k == N_VAR && base->op == EV_PARAMS && c->sc->params) {
		j = cJSON_GetObjectItemCaseSensitive(c->sc->params, name);
		if (j == NULL) {
			ex_cerr(c, nt->off, "unknown parameter '%s'", name);
			return T_ANY;
		}
		return json_type(j);
	}
	if (base->k == N_VAR && base->op == EV_EVENT)
		for (i = 0; i < sizeof(event_strs) / sizeof(event_strs[0]); i++)
			if (strcmp(name, event_strs[i]) == 0)
				return T_STR;
	if (known(base->t) && base->t != T_OBJ && base->t != T_NULL)
		ex_cerr(c, nt->off, "cannot read field '%s' of a %s", name,
		    ex_tname(base->t));
	return T_ANY;
}

static struct node *
mk_field(struct comp *c, struct node *base, struct tok *nt, int off)
{
	const char	*name;
	struct node	*n;

	name = ex_strndup(c->e, c->s->text + nt->off, nt->len);
	n = mk(c, N_FIELD, T_ANY, off);
	n->t = field_type(c, base, nt, name);
	n->a = base;
	n->name = name;
	set_path(c, n, base->path, ".", name, "");
	return n;
}

static struct node *
mk_index(struct comp *c, struct node *base, struct node *idx, int off)
{
	struct node	*n = mk(c, N_INDEX, T_ANY, off);

	if (base->t == T_LIST && known(idx->t) && idx->t != T_NUM)
		ex_cerr(c, idx->off, "a list index must be a number, got %s",
		    ex_tname(idx->t));
	else if (base->t == T_OBJ && known(idx->t) && idx->t != T_STR)
		ex_cerr(c, idx->off, "an object key must be a string, got %s",
		    ex_tname(idx->t));
	else if (known(base->t) && base->t != T_LIST && base->t != T_OBJ &&
	    base->t != T_NULL)
		ex_cerr(c, idx->off, "cannot index a %s", ex_tname(base->t));
	n->a = base;
	n->b = idx;
	set_path(c, n, base->path, "[", idx->path, "]");
	return n;
}

static struct node *
parse_postfix(struct comp *c, struct node *n, int off)
{
	struct tok	*nt;
	struct node	*idx;

	while (n != NULL) {
		if (cur(c)->k == TK_DOT) {
			next(c);
			nt = cur(c);
			/* Keywords are fine as field names: event.in. */
			if (!is_ident_start(c->s->text[nt->off]) ||
			    nt->k == TK_EOF) {
				ex_cerr(c, nt->off, "expected a field name after '.'");
				return NULL;
			}
			next(c);
			n = mk_field(c, n, nt, off);
		} else if (cur(c)->k == TK_LB) {
			next(c);
			if (deeper(c))
				return NULL;
			idx = parse_level(c, L_COALESCE);
			c->depth--;
			if (idx == NULL || expect(c, TK_RB) == -1)
				return NULL;
			n = mk_index(c, n, idx, off);
		} else
			break;
	}
	return n;
}

static int
is_var_or_local(struct comp *c, const char *name)
{
	const struct expr_macro	*m = c->s->macro;
	int			 i;

	for (i = 0; m != NULL && i < m->nparams; i++)
		if (strcmp(m->params[i], name) == 0)
			return 1;
	for (i = 0; i < EV__COUNT; i++)
		if (strcmp(vars[i].name, name) == 0)
			return 1;
	return 0;
}

static const struct expr_macro *
find_macro(struct comp *c, const char *name)
{
	if (c->sc->macros == NULL)
		return NULL;
	return hmap_get(c->sc->macros, name);
}

static struct node *parse_top(struct comp *);
static struct expr *compile(const char *, const struct expr_scope *, enum etype,
    struct csrc *, int *);

/*
 * Records that macro m was expanded. Keyed by its file and name: two laws
 * may each have a macro of one name, and one being used says nothing of the
 * other (see expr_macro_key).
 */
static void
mark_used(struct hmap *used, const struct expr_macro *m)
{
	struct sbuf	 k;

	sbuf_init(&k);
	expr_macro_key(m, &k);
	hmap_put(used, k.s, used);	/* a set: any value */
	sbuf_free(&k);
}

void
expr_macro_key(const struct expr_macro *m, struct sbuf *out)
{
	sbuf_printf(out, "%s\x1f%s", m->file ? m->file : "", m->name);
}

/*
 * What a macro body depends on besides its arguments: the names it reads
 * (nested macros included) and whether it looks records up, whose value
 * may change within an event. ev_macro keeps only pure bodies' values.
 */
static void
body_deps(const struct node *n, unsigned *uses, int *pure)
{
	int	 i;

	if (n == NULL)
		return;
	if (n->k == N_VAR)
		*uses |= EV_BIT(n->op);
	else if (n->k == N_CALL && (n->fn->flags & F_LOOKUP))
		*pure = 0;
	else if (n->k == N_MACRO) {
		*uses |= n->uses;
		*pure &= n->pure;
	}
	if (n->k != N_MACRO)	/* its body is in its uses already */
		body_deps(n->a, uses, pure);
	body_deps(n->b, uses, pure);
	for (i = 0; i < n->ac; i++)
		body_deps(n->av[i], uses, pure);
}

/* Compiles macro m's body at a use site (off) with arguments av. */
static struct node *
expand(struct comp *c, const struct expr_macro *m, struct node **av, int ac,
    int off)
{
	struct csrc	 ms, *s;
	struct node	*body = NULL, *n;
	int		 i;

	for (s = c->s; s != NULL; s = s->up)
		if (s->macro != NULL && strcmp(s->macro->name, m->name) == 0) {
			ex_cerr(c, off, "macro '%s' uses itself", m->name);
			return errnode(c, off);
		}
	if (c->sc->used != NULL)
		mark_used(c->sc->used, m);
	memset(&ms, 0, sizeof(ms));
	ms.text = m->src;
	ms.file = m->file;
	ms.line = m->line;
	ms.col = m->col;
	ms.macro = m;
	ms.args = av;
	ms.up = c->s;
	c->s = &ms;
	if (lex(c) == 0)
		body = parse_top(c);
	c->s = ms.up;
	free(ms.toks);
	if (body == NULL)
		return errnode(c, off);
	n = mk(c, N_MACRO, body->t, off);
	n->a = body;
	n->av = av;
	n->ac = ac;
	n->macro = m;
	n->pure = 1;
	body_deps(body, &n->uses, &n->pure);
	for (i = 0; i < EV__COUNT; i++)
		if (n->uses & EV_BIT(i))
			n->usev[n->nusev++] = i;
	return n;
}

static struct node *
parse_name(struct comp *c, struct tok *t, const char *name)
{
	const struct expr_macro	*m = c->s->macro;
	struct node		*n;
	int			 i;

	for (i = 0; m != NULL && i < m->nparams; i++)
		if (strcmp(m->params[i], name) == 0) {
			n = mk(c, N_LOCAL, c->s->args[i]->t, t->off);
			n->op = i;
			n->path = c->s->args[i]->path;
			return n;
		}
	for (i = 0; i < EV__COUNT; i++) {
		if (strcmp(vars[i].name, name) != 0)
			continue;
		if (!(c->sc->vars & EV_BIT(i))) {
			ex_cerr(c, t->off, "'%s' is not available here", name);
			return errnode(c, t->off);
		}
		n = mk(c, N_VAR, vars[i].type, t->off);
		n->op = i;
		return n;
	}
	if ((m = find_macro(c, name)) != NULL) {
		if (m->nparams == 0)
			return expand(c, m, NULL, 0, t->off);
		ex_cerr(c, t->off, "macro '%s' needs %d argument%s", name,
		    m->nparams, m->nparams == 1 ? "" : "s");
	} else if (ex_find_func(name) != NULL)
		ex_cerr(c, t->off, "'%s' is a function: write %s(...)", name,
		    name);
	else
		ex_cerr(c, t->off, "unknown name '%s'", name);
	return errnode(c, t->off);
}

static struct node *
parse_call(struct comp *c, struct tok *t, const char *name)
{
	const struct func	*f;
	const struct expr_macro	*m;
	struct node		**av, *n;
	int			 ac;

	next(c);	/* ( */
	if (deeper(c) || parse_seq(c, TK_RP, &av, &ac) == -1)
		return NULL;
	c->depth--;
	if ((f = ex_find_func(name)) != NULL) {
		n = mk(c, N_CALL, f->ret, t->off);
		n->fn = f;
		n->av = av;
		n->ac = ac;
		if (ex_check_call(c, n) == -1)
			return errnode(c, t->off);
		return n;
	}
	if ((m = find_macro(c, name)) != NULL) {
		if (m->nparams == ac)
			return expand(c, m, av, ac, t->off);
		ex_cerr(c, t->off, "macro '%s' takes %d argument%s, got %d",
		    name, m->nparams, m->nparams == 1 ? "" : "s", ac);
	} else if (is_var_or_local(c, name))
		ex_cerr(c, t->off, "'%s' is not a function", name);
	else
		ex_cerr(c, t->off, "unknown function '%s'", name);
	return errnode(c, t->off);
}

static struct node *
parse_primary(struct comp *c)
{
	struct tok	*t = next(c);
	struct node	*n;
	const char	*name;

	switch (t->k) {
	case TK_NUM:
		n = mk(c, N_LIT, T_NUM, t->off);
		n->v = val_num(t->num);
		return n;
	case TK_STR:
		n = mk(c, N_LIT, T_STR, t->off);
		n->v = val_str(t->str);
		return n;
	case TK_TRUE: case TK_FALSE:
		n = mk(c, N_LIT, T_BOOL, t->off);
		n->v = val_bool(t->k == TK_TRUE);
		return n;
	case TK_NULL:
		n = mk(c, N_LIT, T_NULL, t->off);
		n->v = val_null();
		return n;
	case TK_LP:
		if (deeper(c))
			return NULL;
		n = parse_level(c, L_COALESCE);
		c->depth--;
		if (n == NULL || expect(c, TK_RP) == -1)
			return NULL;
		return n;
	case TK_LB:
		return parse_list(c, t->off);
	case TK_IDENT:
		name = ex_strndup(c->e, c->s->text + t->off, t->len);
		if (cur(c)->k == TK_LP)
			return parse_call(c, t, name);
		return parse_name(c, t, name);
	default:
		syntax_error(c, t);
		return NULL;
	}
}

/* Prefix `not` and `-`. */
static struct node *
parse_unary(struct comp *c, int lvl)
{
	struct tok	*t = cur(c);
	struct node	*a, *n;

	if (t->k != (lvl == L_NOT ? TK_NOT : TK_MINUS)) {
		if (lvl == L_NOT)
			return parse_level(c, L_CMP);
		a = parse_primary(c);
		return parse_postfix(c, a, t->off);
	}
	next(c);
	if (deeper(c))
		return NULL;
	a = parse_unary(c, lvl);
	c->depth--;
	if (a == NULL)
		return NULL;
	if (lvl == L_NOT) {
		if (known(a->t) && a->t != T_BOOL)
			ex_cerr(c, t->off, "'not' needs a bool, got %s",
			    ex_tname(a->t));
		n = mk(c, N_NOT, T_BOOL, t->off);
	} else if (a->k == N_LIT && a->v.t == V_NUM) {
		n = mk(c, N_LIT, T_NUM, t->off);
		n->v = val_num(-a->v.u.n);
		return n;
	} else {
		if (known(a->t) && a->t != T_NUM && a->t != T_DUR)
			ex_cerr(c, t->off, "cannot negate a %s", ex_tname(a->t));
		n = mk(c, N_NEG, a->t == T_DUR ? T_DUR : T_NUM, t->off);
		if (!known(a->t))
			n->t = T_ANY;
	}
	n->a = a;
	return n;
}

static struct node *
parse_level(struct comp *c, int lvl)
{
	const struct binop	*bo;
	struct node		*a, *b, *n;
	struct tok		*t;
	int			 off = cur(c)->off;

	if (lvl == L_NOT || lvl == L_NEG)
		return parse_unary(c, lvl);
	a = parse_level(c, lvl + 1);
	while (a != NULL && (bo = binop_at(c, lvl)) != NULL) {
		t = next(c);
		if (bo->op == OP_NOTIN)
			next(c);
		if ((b = parse_level(c, lvl + 1)) == NULL)
			return NULL;
		n = mk(c, N_BIN, T_ANY, off);
		n->op = bo->op;
		n->a = a;
		n->b = b;
		n->t = bin_type(c, bo, t->off, a, b);
		a = n;
	}
	return a;
}

/* A whole expression: something, then the end. */
static struct node *
parse_top(struct comp *c)
{
	struct node	*n;

	if (cur(c)->k == TK_EOF) {
		ex_cerr(c, cur(c)->off, "empty expression");
		return NULL;
	}
	if ((n = parse_level(c, L_COALESCE)) == NULL)
		return NULL;
	if (cur(c)->k != TK_EOF) {
		ex_cerr(c, cur(c)->off, "unexpected '%.*s' after the expression",
		    cur(c)->len, c->s->text + cur(c)->off);
		return NULL;
	}
	return n;
}

/* Whether a value of static type `got` may serve where `want` is needed. */
static int
fits(enum etype got, enum etype want)
{
	return want == T_ANY || got == T_ANY || got == T_NULL || got == want ||
	    (want == T_DATE && got == T_STR) ||	/* "YYYY-MM-DD" */
	    (want == T_STR && got == T_NUM);	/* a status: expr_eval_str formats it */
}

struct expr *
expr_compile(const char *src, const struct expr_scope *sc, enum etype want,
    const char *file, int line, int col, int *nerrors)
{
	struct csrc	 s;

	memset(&s, 0, sizeof(s));
	s.file = file;
	s.line = line;
	s.col = col;
	return compile(src, sc, want, &s, nerrors);
}

struct expr *
expr_compile_mapped(const char *src, const struct expr_scope *sc,
    enum etype want, const char *file, const int *lines, const int *cols,
    int *nerrors)
{
	struct csrc	 s;

	memset(&s, 0, sizeof(s));
	s.file = file;
	s.line = lines[0];
	s.col = cols[0];
	s.mlines = lines;
	s.mcols = cols;
	s.mlen = strlen(src);
	return compile(src, sc, want, &s, nerrors);
}

static struct expr *
compile(const char *src, const struct expr_scope *sc, enum etype want,
    struct csrc *top, int *nerrors)
{
	static const struct expr_scope	 empty;
	struct expr			*e = xcalloc(1, sizeof(*e));
	struct csrc			 s = *top;
	struct comp			 c;
	struct node			*n = NULL;

	e->src = xstrdup(src);
	s.text = e->src;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.sc = sc ? sc : &empty;
	c.s = &s;
	if (lex(&c) == 0)
		n = parse_top(&c);
	if (n != NULL && !fits(n->t, want))
		ex_cerr(&c, n->off, "expected a %s expression, got %s",
		    ex_tname(want), ex_tname(n->t));
	free(s.toks);
	if (nerrors != NULL)
		*nerrors += c.nerr;
	if (c.nerr > 0 || n == NULL) {
		expr_free(e);
		return NULL;
	}
	e->root = n;
	e->type = n->t;
	return e;
}

void
expr_free(struct expr *e)
{
	struct ablk	*b, *nb;
	int		 i;

	if (e == NULL)
		return;
	for (b = e->arena; b != NULL; b = nb) {
		nb = b->next;
		free(b);
	}
	for (i = 0; i < e->nre; i++)
		pcre2_code_free(e->re[i]);
	free(e->re);
	pcre2_match_context_free(e->mctx);
	cJSON_Delete(e->consts);
	free(e->src);
	free(e);
}

enum etype
expr_type(const struct expr *e)
{
	return e->type;
}

const char *
expr_event_field(const struct expr *e)
{
	const struct node *n = e ? e->root : NULL;

	if (n == NULL || n->k != N_FIELD || n->a->k != N_VAR || n->a->op != EV_EVENT)
		return NULL;
	return n->name;
}

const char *
expr_src(const struct expr *e)
{
	return e->src;
}

/* ---- templates ---- */

struct tpart {
	char		*text;	/* literal text, or NULL */
	struct expr	*e;	/* a hole, or NULL */
};
struct tmpl {
	struct tpart	*p;
	int		 n;
};

static void
tmpl_add(struct tmpl *t, char *text, struct expr *e)
{
	t->p = xrealloc(t->p, (t->n + 1) * sizeof(*t->p));
	t->p[t->n].text = text;
	t->p[t->n].e = e;
	t->n++;
}

/* The '}' closing the hole that starts at p, skipping quoted strings. */
static const char *
hole_end(const char *p)
{
	char	 q = 0;

	for (; *p != '\0'; p++) {
		if (q != 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '\'' || *p == '"')
			q = *p;
		else if (*p == '}')
			return p;
	}
	return NULL;
}

struct tmpl *
tmpl_compile(const char *src, const struct expr_scope *sc, const char *file,
    int line, int col, int *nerrors)
{
	struct tmpl	*t = xcalloc(1, sizeof(*t));
	const char	*p = src, *end;
	char		*buf, *hole;
	size_t		 n = 0;
	int		 nerr = 0, hl, hc;

	buf = xmalloc(strlen(src) + 1);
	while (*p != '\0') {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			buf[n++] = *p;
			p += 2;
			continue;
		}
		if (*p != '{' && *p != '}') {
			buf[n++] = *p++;
			continue;
		}
		text_pos(src, p - src, line, col, &hl, &hc);
		if (*p == '}' || (end = hole_end(p + 1)) == NULL) {
			report(file, hl, hc, *p == '}' ?
			    "unmatched '}' in template (write '}}')" :
			    "unterminated '{' in template");
			nerr++;
			if (*p++ == '{')
				break;
			continue;
		}
		if (n > 0)
			tmpl_add(t, xstrndup(buf, n), NULL);
		n = 0;
		hole = xstrndup(p + 1, end - p - 1);
		tmpl_add(t, NULL, expr_compile(hole, sc, T_ANY, file, hl,
		    hc + 1, &nerr));
		free(hole);
		p = end + 1;
	}
	if (n > 0)
		tmpl_add(t, xstrndup(buf, n), NULL);
	free(buf);
	if (nerrors != NULL)
		*nerrors += nerr;
	if (nerr > 0) {
		tmpl_free(t);
		return NULL;
	}
	return t;
}

void
tmpl_render(const struct tmpl *t, struct expr_env *env, struct sbuf *out)
{
	struct val	 v;
	int		 i;

	for (i = 0; i < t->n; i++) {
		if (t->p[i].text != NULL)
			sbuf_puts(out, t->p[i].text);
		else if (expr_eval(t->p[i].e, env, &v) == -1)
			sbuf_puts(out, "?");
		else
			val_format(&v, out);
	}
}

void
tmpl_free(struct tmpl *t)
{
	int	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->p[i].text);
		expr_free(t->p[i].e);
	}
	free(t->p);
	free(t);
}
