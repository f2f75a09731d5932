/*
 * expr_int.h - what expr.c (lexer, parser, checker, evaluator) and
 * expr_func.c (the builtin function table) share. Not for other modules:
 * they use include/complyd/expr.h.
 */
#ifndef COMPLYD_EXPR_INT_H
#define COMPLYD_EXPR_INT_H

#include <math.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "complyd/expr.h"
#include "complyd/util.h"
#include "complyd/when.h"

#define EX_MAXARGS	16

enum tk {
	TK_EOF, TK_NUM, TK_STR, TK_IDENT, TK_LP, TK_RP, TK_LB, TK_RB,
	TK_COMMA, TK_DOT, TK_COALESCE, TK_OR, TK_AND, TK_NOT, TK_EQ, TK_NE,
	TK_LT, TK_LE, TK_GT, TK_GE, TK_IN, TK_PLUS, TK_MINUS, TK_STAR,
	TK_SLASH, TK_PCT, TK_TRUE, TK_FALSE, TK_NULL
};

struct tok {
	enum tk		 k;
	int		 off, len;	/* byte offset and length in the source */
	double		 num;
	const char	*str;		/* TK_STR: the unescaped text (arena) */
};

/* The leaves (N_LIT, N_VAR, N_LOCAL) come first: see ex_get. */
enum nkind {
	N_LIT, N_VAR, N_LOCAL, N_FIELD, N_INDEX, N_LIST, N_NOT, N_NEG, N_BIN,
	N_CALL, N_MACRO
};

enum op {
	OP_COALESCE, OP_OR, OP_AND, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_IN, OP_NOTIN, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD
};

struct func;

/* One string item of a literal list, with its length: see ev_in. */
struct lstr {
	size_t		 len;
	const char	*s;
};

struct node {
	enum nkind	 k;
	enum etype	 t;		/* static type */
	int		 op;		/* N_BIN: op; N_VAR: expr_var; N_LOCAL: index */
	int		 off;		/* byte offset in its source, for errors */
	const char	*path;		/* field path or source text, for errors */
	struct node	*a, *b;		/* operands; N_MACRO: a is the body */
	struct node	**av;		/* N_CALL, N_LIST, N_MACRO arguments */
	int		 ac;
	const char	*name;		/* N_FIELD */
	const struct lstr *strs;	/* N_LIT list of strings only: its items */
	int		 nstrs;
	const struct func *fn;		/* N_CALL */
	struct val	 v;		/* N_LIT */
	pcre2_code	*re;		/* matches() */
	pcre2_match_context *mctx;
	/* N_MACRO: its macro, the names its body reads, whether its value may be kept. */
	const struct expr_macro *macro;
	unsigned	 uses;		/* EV_BIT mask */
	unsigned char	 usev[EV__COUNT];	/* the same as a list */
	int		 nusev;
	int		 pure;		/* no registry look-up inside */
};

struct ablk;

struct expr {
	char		*src;
	enum etype	 type;
	struct node	*root;
	struct ablk	*arena;		/* nodes and strings */
	cJSON		*consts;	/* constant list literals */
	pcre2_code	**re;
	int		 nre;
	pcre2_match_context *mctx;	/* match and depth limits, shared */
};

/* One source text being parsed: the expression or a macro body. */
struct csrc {
	const char	*text, *file;
	int		 line, col;
	struct tok	*toks;
	int		 ntok, captok, pos;
	const struct expr_macro *macro;	/* NULL at the top */
	const int	*mlines, *mcols;	/* where each byte is, or NULL */
	size_t		 mlen;
	struct node	**args;		/* the macro's arguments */
	struct csrc	*up;		/* the use site */
};

struct comp {
	struct expr	*e;
	const struct expr_scope *sc;
	struct csrc	*s;
	int		 nerr;
	int		 depth;
};

struct ctx {
	struct expr_env	 *env;
	const struct val *frame;	/* arguments of the macro being evaluated */
};

#define F_NULLOK	0x1	/* null arguments reach the function */
#define F_LAZY		0x2	/* the function evaluates its arguments itself */
#define F_LOOKUP	0x4	/* reads the registry: its value may change */

struct func {
	const char	*name;
	int		 min, max;	/* max -1: any number */
	unsigned	 arg[3];	/* TB() masks of each argument; the last repeats */
	enum etype	 ret;
	unsigned	 flags;
	int		(*fn)(struct ctx *, const struct node *,
			    const struct val *, struct val *);
	/* Extra load-time check; may refine n->t. -1 after an error. */
	int		(*check)(struct comp *, struct node *);
};

/* expr.c */
void		*ex_alloc(struct expr *, size_t);
const char	*ex_tname(enum etype);
enum etype	 ex_merge(enum etype, enum etype);
void		 ex_cerr(struct comp *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
int		 ex_efail(struct ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 ex_ebad(struct ctx *, const struct val *, const struct node *,
		    const char *);
int		 ex_ev(struct ctx *, const struct node *, struct val *);
int		 ex_bool(struct ctx *, const struct node *, int *);
int		 ex_as_date(struct ctx *, const struct val *,
		    const struct node *, date_t *);
int		 ex_veq(const struct val *, const struct val *);
cJSON		*ex_keep(struct ctx *, cJSON *);

/* A leaf's value: a literal, a name or a macro argument. */
static inline void
ex_leaf(const struct ctx *c, const struct node *n, struct val *out)
{
	if (n->k == N_LIT)
		*out = n->v;
	else if (n->k == N_VAR) {
		*out = c->env->vars[n->op];
		out->path = n->path;
	} else
		*out = c->frame[n->op];
}

/*
 * ex_ev for an operand. Leaves are about half the nodes evaluated: read
 * inline, each saves a call and a hard-to-predict jump through ex_ev's switch.
 */
static inline int
ex_get(struct ctx *c, const struct node *n, struct val *out)
{
	if (n->k <= N_LOCAL) {
		ex_leaf(c, n, out);
		return 0;
	}
	return ex_ev(c, n, out);
}

/* expr_func.c */
const struct func *ex_find_func(const char *);
int		 ex_check_call(struct comp *, struct node *);

#endif
