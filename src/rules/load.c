/*
 * load.c - rule files (YAML) to a rule set. Every error is reported with its
 * file:line:col and loading goes on to find the next; a set with any error is
 * freed whole, so a reload can keep the old set. The kind-specific keys of a
 * rule are parsed by the kind (kind.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "complyd/kind.h"
#include "complyd/log.h"
#include "complyd/rules.h"
#include "complyd/util.h"
#include "complyd/yamlx.h"

static const char *const rule_keys[] = {
	"id", "obligation", "kind", "articles", "title", "severity", "message",
	"tags", "seed", "subject", "subject_kind", "version_at", "when", "key",
	"on", "details", "effective_from", "effective_until", "description",
	"confidence", "notes", NULL
};
static const char *const severities[] = { "info", "low", "medium", "high",
	"critical", NULL };

/* --- small node helpers --- */

/* Where the text of scalar n starts: quoted scalars start one column in. */
static void
scalar_pos(const yaml_node_t *n, int *line, int *col)
{
	*line = ydoc_line(n);
	*col = ydoc_col(n);
	switch (n->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		(*col)++;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		(*line)++;
		*col = ydoc_col(n) + 2;
		break;
	default:
		break;
	}
}

struct expr *
loader_expr(struct loader *ld, yaml_node_t *n, unsigned vars, enum etype want,
    const char *what)
{
	struct expr_scope	 sc;
	struct expr		*e;
	char			*raw;
	int			 line, col, nerr = 0, *lines, *cols;

	if (n == NULL)
		return NULL;
	if (n->type != YAML_SCALAR_NODE) {
		ydoc_error(ld->doc, n, "%s must be an expression (a string)", what);
		ld->nerrors++;
		return NULL;
	}
	sc.vars = vars;
	sc.macros = ld->law ? &ld->law->macros : NULL;
	sc.params = ld->law ? ld->law->params : NULL;
	sc.used = &ld->used_macros;
	/* A block scalar is compiled as written, so errors point at their column. */
	if ((raw = ydoc_block_source(ld->doc, n, &line)) != NULL) {
		e = expr_compile(raw, &sc, want, ld->doc->path, line, 1, &nerr);
		free(raw);
	} else if (ydoc_scalar_map(ld->doc, n, &lines, &cols) == 0) {
		/* Quoted or folded: errors point past escapes and line breaks. */
		e = expr_compile_mapped(ydoc_str(n), &sc, want, ld->doc->path,
		    lines, cols, &nerr);
		free(lines);
		free(cols);
	} else {
		scalar_pos(n, &line, &col);
		e = expr_compile(ydoc_str(n), &sc, want, ld->doc->path, line, col,
		    &nerr);
	}
	ld->nerrors += nerr;
	ld->doc->nerrors += nerr;
	return e;
}

int
loader_int_list(struct loader *ld, yaml_node_t *n, int **out, int *count)
{
	const char	*s;
	char		*end;
	long		 v;
	int		 i, len;
	yaml_node_t	*it;

	*out = NULL;
	*count = 0;
	if (n == NULL)
		return 0;
	len = n->type == YAML_SEQUENCE_NODE ? ydoc_len(ld->doc, n) : 1;
	*out = xcalloc(len ? len : 1, sizeof(int));
	for (i = 0; i < len; i++) {
		it = n->type == YAML_SEQUENCE_NODE ? ydoc_item(ld->doc, n, i) : n;
		s = ydoc_str(it);
		v = s ? strtol(s, &end, 10) : -1;
		if (s == NULL || *end != '\0' || v < 0 || v > 3660) {
			ydoc_error(ld->doc, it, "expected a number of days (0..3660)");
			ld->nerrors++;
			continue;
		}
		(*out)[(*count)++] = (int)v;
	}
	return 0;
}

static char *
req_str(struct loader *ld, yaml_node_t *m, const char *key, const char *what)
{
	yaml_node_t *n = ydoc_get(ld->doc, m, key);

	if (n == NULL || ydoc_str(n) == NULL || *ydoc_str(n) == '\0') {
		ydoc_error(ld->doc, n ? n : m, "%s needs a string `%s`", what, key);
		ld->nerrors++;
		return NULL;
	}
	return xstrdup(ydoc_str(n));
}

static date_t
opt_date(struct loader *ld, yaml_node_t *m, const char *key)
{
	yaml_node_t	*n = ydoc_get(ld->doc, m, key);
	date_t		 d;

	if (n == NULL)
		return DATE_NONE;
	if (ydoc_str(n) == NULL || when_parse_date(ydoc_str(n), &d) == -1) {
		ydoc_error(ld->doc, n, "`%s` must be a date YYYY-MM-DD", key);
		ld->nerrors++;
		return DATE_NONE;
	}
	return d;
}

static int
one_of(const char *s, const char *const *list)
{
	int i;

	for (i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* --- law header, params, macros, facts, exceptions --- */

/*
 * One version in force on any day: version i may not repeat an id or share a
 * day with an earlier one (open ends reach the beginning or end of time).
 */
static void
check_version_clash(struct loader *ld, struct law *law, int i, yaml_node_t *n)
{
	const struct law_version *v = &law->versions[i], *w;
	int	 j;

	for (j = 0; j < i; j++) {
		w = &law->versions[j];
		if (v->id && w->id && strcmp(v->id, w->id) == 0) {
			ydoc_error(ld->doc, n, "version %s is given twice", v->id);
			ld->nerrors++;
		} else if ((v->from == DATE_NONE || w->until == DATE_NONE ||
		    v->from < w->until) && (w->from == DATE_NONE ||
		    v->until == DATE_NONE || w->from < v->until)) {
			ydoc_error(ld->doc, n, "version %s overlaps version %s: one "
			    "version must be in force on any day",
			    v->id ? v->id : "?", w->id ? w->id : "?");
			ld->nerrors++;
		}
	}
}

/* The versions of law header h; missing ones are reported at the header. */
static void
parse_versions(struct loader *ld, struct law *law, yaml_node_t *h)
{
	yaml_node_t		*seq = ydoc_get(ld->doc, h, "versions");
	static const char *const keys[] = { "id", "effective_from",
		"effective_until", "terms", "note", NULL };
	struct law_version	*v;
	yaml_node_t		*n;
	int			 i;

	if (seq == NULL || ydoc_len(ld->doc, seq) == 0) {
		ydoc_error(ld->doc, seq ? seq : h, "a law needs `versions` (a non-empty list)");
		ld->nerrors++;
		return;
	}
	law->nversions = ydoc_len(ld->doc, seq);
	law->versions = xcalloc(law->nversions, sizeof(*law->versions));
	for (i = 0; i < law->nversions; i++) {
		n = ydoc_item(ld->doc, seq, i);
		v = &law->versions[i];
		ld->nerrors += ydoc_check_keys(ld->doc, n, keys, "a law version");
		v->id = req_str(ld, n, "id", "a law version");
		v->from = opt_date(ld, n, "effective_from");
		v->until = opt_date(ld, n, "effective_until");
		v->terms = ydoc_to_json(ld->doc, ydoc_get(ld->doc, n, "terms"));
		if (v->from != DATE_NONE && v->until != DATE_NONE && v->until <= v->from) {
			ydoc_error(ld->doc, n, "effective_until must be after effective_from");
			ld->nerrors++;
		}
		check_version_clash(ld, law, i, n);
	}
}

static void
parse_params(struct loader *ld, struct law *law, yaml_node_t *m)
{
	const char	*k;
	yaml_node_t	*v, *val;
	int		 i;

	law->params = cJSON_CreateObject();
	for (i = 0; ydoc_pair(ld->doc, m, i, &k, NULL, &v) == 0; i++) {
		/* {value: 5, source: ..., confidence: ...} documents a parameter. */
		val = v->type == YAML_MAPPING_NODE && ydoc_get(ld->doc, v, "value") ?
		    ydoc_get(ld->doc, v, "value") : v;
		cJSON_AddItemToObject(law->params, k, ydoc_to_json(ld->doc, val));
	}
}

static void
macro_free(void *p)
{
	struct expr_macro *m = p;
	int i;

	for (i = 0; i < m->nparams; i++)
		free(m->params[i]);
	free(m->name);
	free(m->src);
	free(m->file);
	free(m);
}

/* Adds parameter p (n bytes) to m: at most 8, each a new name. */
static void
macro_param(struct loader *ld, yaml_node_t *kn, struct expr_macro *m,
    const char *p, size_t n)
{
	int	 i;

	for (i = 0; i < m->nparams; i++)
		if (strlen(m->params[i]) == n && memcmp(m->params[i], p, n) == 0) {
			ydoc_error(ld->doc, kn, "macro %s: parameter '%.*s' is "
			    "given twice", m->name, (int)n, p);
			ld->nerrors++;
			return;
		}
	if (m->nparams == (int)(sizeof(m->params) / sizeof(m->params[0]))) {
		ydoc_error(ld->doc, kn, "macro %s: at most %d parameters", m->name,
		    m->nparams);
		ld->nerrors++;
		return;
	}
	m->params[m->nparams++] = xstrndup(p, n);
}

/* "name" or "name(a, b)" */
static struct expr_macro *
macro_head(struct loader *ld, yaml_node_t *kn, const char *k)
{
	struct expr_macro	*m = xcalloc(1, sizeof(*m));
	const char		*p = strchr(k, '('), *q;
	char			*s;

	m->name = p ? xstrndup(k, p - k) : xstrdup(k);
	for (q = p ? p + 1 : NULL; q && *q && *q != ')'; ) {
		while (*q == ' ' || *q == ',')
			q++;
		p = q;
		while (*q && *q != ',' && *q != ')' && *q != ' ')
			q++;
		if (q > p)
			macro_param(ld, kn, m, p, (size_t)(q - p));
	}
	for (s = m->name; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9'))) {
			ydoc_error(ld->doc, kn, "bad macro name '%s'", k);
			ld->nerrors++;
			break;
		}
	return m;
}

struct macro_check {
	struct loader		*ld;
	const struct hmap	*macros;	/* the scope the macro lives in */
	const cJSON		*params;
	const char		*file;		/* only macros defined here */
};

static int
macro_used(struct loader *ld, const struct expr_macro *m)
{
	struct sbuf	 k;
	int		 used;

	sbuf_init(&k);
	expr_macro_key(m, &k);
	used = hmap_get(&ld->used_macros, k.s) != NULL;
	sbuf_free(&k);
	return used;
}

/*
 * A macro no expression uses is compiled once on its own, called with
 * arguments of any type, so that its syntax errors and unknown names are
 * reported now rather than by the first rule that uses it some day.
 */
static void
check_unused_macro(const char *name, void *v, void *arg)
{
	struct macro_check	*mc = arg;
	const struct expr_macro	*m = v;
	struct expr_scope	 sc = { ~0u, mc->macros, mc->params, NULL };
	struct sbuf		 call;
	struct expr		*e;
	int			 i, nerr = 0;

	(void)name;	/* the map's key; the macro knows its own */
	if (strcmp(m->file, mc->file) != 0 || macro_used(mc->ld, m))
		return;
	sbuf_init(&call);
	sbuf_puts(&call, m->name);
	for (i = 0; i < m->nparams; i++)
		sbuf_printf(&call, "%sevent.macro_argument_%d", i ? ", " : "(", i);
	if (m->nparams)
		sbuf_puts(&call, ")");
	e = expr_compile(call.s, &sc, T_ANY, m->file, m->line, m->col, &nerr);
	expr_free(e);
	sbuf_free(&call);
	mc->ld->nerrors += nerr;
	mc->ld->doc->nerrors += nerr;
}

static void
parse_macros(struct loader *ld, struct hmap *into, yaml_node_t *m)
{
	struct expr_macro	*mac;
	const char		*k;
	yaml_node_t		*kn, *v;
	int			 i;

	for (i = 0; ydoc_pair(ld->doc, m, i, &k, &kn, &v) == 0; i++) {
		if (ydoc_str(v) == NULL) {
			ydoc_error(ld->doc, v, "macro '%s' must be an expression", k);
			ld->nerrors++;
			continue;
		}
		mac = macro_head(ld, kn, k);
		mac->src = xstrdup(ydoc_str(v));
		mac->file = xstrdup(ld->doc->path);
		scalar_pos(v, &mac->line, &mac->col);
		if ((mac = hmap_put(into, mac->name, mac)) != NULL)
			macro_free(mac);
	}
}

static void
parse_facts(struct loader *ld, struct law *law, yaml_node_t *seq)
{
	static const char *const keys[] = { "on", "record", "id", "set", "keep",
		"note", NULL };
	const unsigned	 vars = EV_BIT(EV_EVENT) | EV_BIT(EV_TENANT) | EV_BIT(EV_NOW) |
	    EV_BIT(EV_PARAMS);
	struct fact	*f;
	yaml_node_t	*n, *set, *v;
	const char	*k, *kind;
	int		 i, j, rk;

	law->nfacts = ydoc_len(ld->doc, seq);
	law->facts = xcalloc(law->nfacts ? law->nfacts : 1, sizeof(*law->facts));
	for (i = 0; i < law->nfacts; i++) {
		n = ydoc_item(ld->doc, seq, i);
		f = &law->facts[i];
		ld->nerrors += ydoc_check_keys(ld->doc, n, keys, "a fact");
		f->on = req_str(ld, n, "on", "a fact");
		f->keep = ydoc_str(ydoc_get(ld->doc, n, "keep")) != NULL &&
		    strcmp(ydoc_str(ydoc_get(ld->doc, n, "keep")), "true") == 0;
		kind = ydoc_str(ydoc_get(ld->doc, n, "record"));
		if (kind == NULL || (rk = rec_kind_parse(kind)) < 0) {
			ydoc_error(ld->doc, n, "a fact needs `record`: contract, dataset or facility");
			ld->nerrors++;
			rk = 0;
		}
		f->kind = rk;
		f->id = loader_expr(ld, ydoc_get(ld->doc, n, "id"), vars, T_ANY, "id");
		if (f->id == NULL && ydoc_get(ld->doc, n, "id") == NULL) {
			ydoc_error(ld->doc, n, "a fact needs `id`");
			ld->nerrors++;
		}
		set = ydoc_get(ld->doc, n, "set");
		f->nset = set && set->type == YAML_MAPPING_NODE ?
		    (int)(set->data.mapping.pairs.top - set->data.mapping.pairs.start) : 0;
		f->fields = xcalloc(f->nset + 1, sizeof(char *));
		f->values = xcalloc(f->nset + 1, sizeof(struct expr *));
		for (j = 0; ydoc_pair(ld->doc, set, j, &k, NULL, &v) == 0; j++) {
			f->fields[j] = xstrdup(k);
			f->values[j] = loader_expr(ld, v, vars | EV_BIT(EV_RECORD) |
			    EV_BIT(EV_KEY), T_ANY, k);
		}
	}
}

static void
parse_exceptions(struct loader *ld, yaml_node_t *seq)
{
	static const char *const keys[] = { "rule", "obligation", "tenant", "key",
		"justification", "approver", "expires", NULL };
	struct ruleset		*rs = ld->rs;
	struct suppression	*s;
	yaml_node_t		*n;
	const char		*t;
	int			 i;

	for (i = 0; i < ydoc_len(ld->doc, seq); i++) {
		n = ydoc_item(ld->doc, seq, i);
		ld->nerrors += ydoc_check_keys(ld->doc, n, keys, "an exception");
		rs->sups = xrealloc(rs->sups, (rs->nsups + 1) * sizeof(*rs->sups));
		s = &rs->sups[rs->nsups++];
		memset(s, 0, sizeof(*s));
		t = ydoc_str(ydoc_get(ld->doc, n, "rule"));
		if (t == NULL)
			t = ydoc_str(ydoc_get(ld->doc, n, "obligation"));
		s->rule = xstrdup(t ? t : "");
		if (t == NULL) {
			ydoc_error(ld->doc, n, "an exception needs `rule` or `obligation`");
			ld->nerrors++;
		}
		t = ydoc_str(ydoc_get(ld->doc, n, "tenant"));
		s->tenant = xstrdup(t ? t : "*");
		t = ydoc_str(ydoc_get(ld->doc, n, "key"));
		s->key = xstrdup(t ? t : "*");
		/* An exception nobody justified, approved or bounded is not one. */
		s->justification = req_str(ld, n, "justification", "an exception");
		s->approver = req_str(ld, n, "approver", "an exception");
		s->expires = opt_date(ld, n, "expires");
		if (s->expires == DATE_NONE) {
			ydoc_error(ld->doc, n, "an exception needs `expires` (a date)");
			ld->nerrors++;
		}
		s->file = xstrdup(ld->doc->path);
		s->line = ydoc_line(n);
	}
}

/* --- rules --- */

static char **
parse_on(struct loader *ld, yaml_node_t *n)
{
	char	**on;
	int	  i, len;

	if (n == NULL)
		return NULL;
	len = n->type == YAML_SEQUENCE_NODE ? ydoc_len(ld->doc, n) : 1;
	on = xcalloc(len + 1, sizeof(char *));
	for (i = 0; i < len; i++) {
		const char *s = ydoc_str(n->type == YAML_SEQUENCE_NODE ?
		    ydoc_item(ld->doc, n, i) : n);
		if (s == NULL || strchr(s, '.') == NULL) {
			ydoc_error(ld->doc, n, "`on` takes event types (domain.action)");
			ld->nerrors++;
			s = "?.?";
		}
		on[i] = xstrdup(s);
	}
	return on;
}

/*
 * Each law version's article, by version index: the engine asks for it with
 * every judgement, so it is looked up once here rather than by name then.
 */
static void
index_articles(struct rule *r)
{
	const cJSON	*a;
	int		 j;

	r->article_of = xcalloc(r->law->nversions + 1, sizeof(*r->article_of));
	for (j = 0; j < r->law->nversions; j++) {
		if (r->law->versions[j].id == NULL)
			continue;
		a = cJSON_GetObjectItemCaseSensitive(r->articles, r->law->versions[j].id);
		r->article_of[j] = cJSON_IsString(a) ? a->valuestring : NULL;
	}
}

/* The articles of rule node rn; a missing one is reported at the rule. */
static void
parse_articles(struct loader *ld, struct rule *r, yaml_node_t *rn)
{
	yaml_node_t	*n = ydoc_get(ld->doc, rn, "articles");
	const char	*k;
	yaml_node_t	*kn, *v;
	int		 i, j;

	if (n == NULL || n->type != YAML_MAPPING_NODE) {
		ydoc_error(ld->doc, n ? n : rn, "rule %s needs `articles`: law version -> article",
		    r->id ? r->id : "?");
		ld->nerrors++;
		r->articles = cJSON_CreateObject();
		return;
	}
	r->articles = ydoc_to_json(ld->doc, n);
	index_articles(r);
	for (i = 0; ydoc_pair(ld->doc, n, i, &k, &kn, &v) == 0; i++) {
		for (j = 0; j < r->law->nversions; j++)
			if (r->law->versions[j].id && strcmp(r->law->versions[j].id, k) == 0)
				break;
		if (j == r->law->nversions) {
			ydoc_error(ld->doc, kn, "'%s' is not a version of law %s", k,
			    r->law->id);
			ld->nerrors++;
		}
		if (ydoc_str(v) == NULL) {
			ydoc_error(ld->doc, v, "an article is a string like \"5(1)(ii)\"");
			ld->nerrors++;
		}
	}
}

static void
parse_message(struct loader *ld, struct rule *r, yaml_node_t *n, unsigned vars)
{
	struct expr_scope	 sc = { vars, &ld->law->macros, ld->law->params,
				    &ld->used_macros };
	yaml_node_t		*ja = ydoc_get(ld->doc, n, "ja");
	yaml_node_t		*en = ydoc_get(ld->doc, n, "en");
	int			 line, col, nerr = 0;

	if (ydoc_str(ja) == NULL || ydoc_str(en) == NULL) {
		ydoc_error(ld->doc, n ? n : NULL, "rule %s needs `message` with ja and en",
		    r->id ? r->id : "?");
		ld->nerrors++;
		return;
	}
	scalar_pos(ja, &line, &col);
	r->msg_ja = tmpl_compile(ydoc_str(ja), &sc, ld->doc->path, line, col, &nerr);
	scalar_pos(en, &line, &col);
	r->msg_en = tmpl_compile(ydoc_str(en), &sc, ld->doc->path, line, col, &nerr);
	ld->nerrors += nerr;
	ld->doc->nerrors += nerr;
}

/* Names every expression of a rule may use; kinds add their own. */
#define COMMON_VARS (EV_BIT(EV_RECORD) | EV_BIT(EV_KEY) | EV_BIT(EV_TENANT) | \
	EV_BIT(EV_VERSION) | EV_BIT(EV_NOW) | EV_BIT(EV_PARAMS))

static void
parse_details(struct loader *ld, struct rule *r, yaml_node_t *n)
{
	const char	*k;
	yaml_node_t	*v;
	int		 i;

	if (n == NULL)
		return;
	r->ndetails = n->type == YAML_MAPPING_NODE ?
	    (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) : 0;
	r->details = xcalloc(r->ndetails + 1, sizeof(*r->details));
	for (i = 0; ydoc_pair(ld->doc, n, i, &k, NULL, &v) == 0; i++) {
		r->details[i].name = xstrdup(k);
		r->details[i].value = loader_expr(ld, v, COMMON_VARS |
		    EV_BIT(EV_EVENT) | rule_kinds[r->kind]->alert_vars, T_ANY, k);
	}
}

static void
rule_hash(struct loader *ld, struct rule *r, yaml_node_t *n)
{
	cJSON		*j = ydoc_to_json(ld->doc, n);
	char		*s = cJSON_PrintUnformatted(j);
	uint64_t	 h = hash64(s, strlen(s), HASH64_SEED);

	snprintf(r->hash, sizeof(r->hash), "%016llx", (unsigned long long)h);
	free(s);
	cJSON_Delete(j);
}

static int
parse_kind(struct loader *ld, struct rule *r, yaml_node_t *n)
{
	const char	*kind = ydoc_str(ydoc_get(ld->doc, n, "kind"));
	int		 k;

	for (k = 0; kind && k < RK__COUNT; k++)
		if (strcmp(rule_kinds[k]->name, kind) == 0)
			break;
	if (kind == NULL || k == RK__COUNT) {
		ydoc_error(ld->doc, ydoc_get(ld->doc, n, "kind") ?
		    ydoc_get(ld->doc, n, "kind") : n,
		    "rule %s: `kind` must be match, deadline, periodic, threshold or record",
		    r->id ? r->id : "?");
		ld->nerrors++;
		return -1;
	}
	r->kind = k;
	return 0;
}

/* Keys of the rule node that are neither common nor the kind's. */
static void
check_rule_keys(struct loader *ld, struct rule *r, yaml_node_t *n)
{
	const char	*k;
	yaml_node_t	*kn;
	int		 i;

	for (i = 0; ydoc_pair(ld->doc, n, i, &k, &kn, NULL) == 0; i++)
		if (!one_of(k, rule_keys) && !one_of(k, rule_kinds[r->kind]->keys)) {
			ydoc_error(ld->doc, kn, "unknown key '%s' in a %s rule", k,
			    rule_kinds[r->kind]->name);
			ld->nerrors++;
		}
}

static void
parse_subject(struct loader *ld, struct rule *r, yaml_node_t *n)
{
	const char *s = ydoc_str(ydoc_get(ld->doc, n, "subject"));
	const char *label = ydoc_str(ydoc_get(ld->doc, n, "subject_kind"));

	r->subject = -1;
	if (s && (r->subject = rec_kind_parse(s)) < 0) {
		ydoc_error(ld->doc, ydoc_get(ld->doc, n, "subject"),
		    "`subject` is a record kind: contract, dataset or facility");
		ld->nerrors++;
	}
	r->subject_label = xstrdup(label ? label : r->subject >= 0 ?
	    rec_kind_name(r->subject) : "event");
}

/* DESIGN: a rule's title is ja/en. */
static void
check_title(struct loader *ld, yaml_node_t *t)
{
	if (t != NULL && (t->type != YAML_MAPPING_NODE ||
	    ydoc_str(ydoc_get(ld->doc, t, "ja")) == NULL ||
	    ydoc_str(ydoc_get(ld->doc, t, "en")) == NULL)) {
		ydoc_error(ld->doc, t, "title must be { ja: ..., en: ... }");
		ld->nerrors++;
	}
}

static void
check_list(struct loader *ld, yaml_node_t *l, const char *what)
{
	if (l != NULL && l->type != YAML_SEQUENCE_NODE) {
		ydoc_error(ld->doc, l, "%s must be a list", what);
		ld->nerrors++;
	}
}

int
loader_check_type(struct loader *ld, yaml_node_t *n, const struct expr *e,
    const char *what, unsigned ok, const char *want)
{
	enum etype	 t;

	if (e == NULL)
		return 0;
	t = expr_type(e);
	if (t == T_ANY || t == T_NULL || (ok & TB(t)))
		return 0;
	ydoc_error(ld->doc, n, "%s must give %s, not %s", what, want,
	    expr_type_name(t));
	ld->nerrors++;
	return -1;
}

static struct rule *
parse_rule(struct loader *ld, yaml_node_t *n)
{
	struct rule	*r = xcalloc(1, sizeof(*r));
	yaml_node_t	*idn = ydoc_get(ld->doc, n, "id");
	const char	*sev;
	cJSON		*meta;

	r->law = ld->law;
	r->file = xstrdup(ld->doc->path);
	r->line = ydoc_line(n);
	r->id = req_str(ld, n, "id", "a rule");
	r->id_line = idn ? ydoc_line(idn) : r->line;
	r->id_col = idn ? ydoc_col(idn) : 1;
	r->obligation = req_str(ld, n, "obligation", "a rule");
	/* DESIGN: a rule's obligation is an id from the law list, when one is there. */
	if (r->obligation && ld->catalog && hmap_get(&ld->obligations, r->obligation) == NULL)
		ydoc_error(ld->doc, ydoc_get(ld->doc, n, "obligation"),
		    "obligation '%s' is not in the law list", r->obligation);
	if (parse_kind(ld, r, n) == -1) {
		r->kind = RK__COUNT;
		return r;
	}
	check_rule_keys(ld, r, n);
	parse_articles(ld, r, n);
	parse_subject(ld, r, n);
	sev = ydoc_str(ydoc_get(ld->doc, n, "severity"));
	if (sev && !one_of(sev, severities)) {
		ydoc_error(ld->doc, ydoc_get(ld->doc, n, "severity"),
		    "severity must be info, low, medium, high or critical");
		ld->nerrors++;
	}
	r->severity = xstrdup(sev ? sev : "medium");
	r->eff_from = opt_date(ld, n, "effective_from");
	r->eff_until = opt_date(ld, n, "effective_until");
	if (r->eff_from != DATE_NONE && r->eff_until != DATE_NONE &&
	    r->eff_until <= r->eff_from) {
		ydoc_error(ld->doc, ydoc_get(ld->doc, n, "effective_until"),
		    "effective_until must be after effective_from");
		ld->nerrors++;
	}
	check_title(ld, ydoc_get(ld->doc, n, "title"));
	check_list(ld, ydoc_get(ld->doc, n, "tags"), "tags");
	meta = cJSON_CreateObject();
	cJSON_AddItemToObject(meta, "title", ydoc_to_json(ld->doc,
	    ydoc_get(ld->doc, n, "title")));
	cJSON_AddItemToObject(meta, "tags", ydoc_to_json(ld->doc,
	    ydoc_get(ld->doc, n, "tags")));
	cJSON_AddItemToObject(meta, "seed", ydoc_to_json(ld->doc,
	    ydoc_get(ld->doc, n, "seed")));
	r->meta = meta;
	rule_hash(ld, r, n);
	r->version_at = loader_expr(ld, ydoc_get(ld->doc, n, "version_at"),
	    COMMON_VARS | EV_BIT(EV_EVENT), T_ANY, "version_at");
	loader_check_type(ld, ydoc_get(ld->doc, n, "version_at"), r->version_at,
	    "version_at", TB(T_DATE) | TB(T_TIME) | TB(T_STR), "a date");
	if (rule_kinds[r->kind]->parse(ld, n, r) == -1)
		ld->nerrors++;
	/* `due` in a match rule's message is a load error, not a null. */
	parse_message(ld, r, ydoc_get(ld->doc, n, "message"), COMMON_VARS |
	    EV_BIT(EV_EVENT) | rule_kinds[r->kind]->alert_vars);
	parse_details(ld, r, ydoc_get(ld->doc, n, "details"));
	return r;
}

char **
loader_on(struct loader *ld, yaml_node_t *n)
{
	return parse_on(ld, n);
}

static void
rule_free(struct rule *r)
{
	int i;

	if (r == NULL)
		return;
	if (r->kind < RK__COUNT && rule_kinds[r->kind]->free)
		rule_kinds[r->kind]->free(r);
	free(r->id);
	free(r->obligation);
	free(r->file);
	free(r->severity);
	free(r->subject_label);
	free(r->article_of);
	cJSON_Delete(r->articles);
	cJSON_Delete(r->meta);
	tmpl_free(r->msg_ja);
	tmpl_free(r->msg_en);
	expr_free(r->version_at);
	expr_free(r->when);
	expr_free(r->key);
	for (i = 0; r->on && r->on[i]; i++)
		free(r->on[i]);
	free(r->on);
	for (i = 0; i < r->ndetails; i++) {
		free(r->details[i].name);
		expr_free(r->details[i].value);
	}
	free(r->details);
	free(r);
}

/* --- files --- */

static void
law_free(struct law *l)
{
	int i, j;

	free(l->id);
	free(l->file);
	cJSON_Delete(l->meta);
	for (i = 0; i < l->nversions; i++) {
		free(l->versions[i].id);
		cJSON_Delete(l->versions[i].terms);
	}
	free(l->versions);
	cJSON_Delete(l->params);
	hmap_free(&l->macros, macro_free);
	for (i = 0; i < l->nfacts; i++) {
		free(l->facts[i].on);
		expr_free(l->facts[i].id);
		for (j = 0; j < l->facts[i].nset; j++) {
			free(l->facts[i].fields[j]);
			expr_free(l->facts[i].values[j]);
		}
		free(l->facts[i].fields);
		free(l->facts[i].values);
	}
	free(l->facts);
	free(l);
}

static void
copy_macro(const char *k, void *v, void *arg)
{
	struct hmap		*into = arg;
	const struct expr_macro	*m = v;
	struct expr_macro	*c;
	int			 i;

	if (hmap_get(into, k))
		return;		/* the law's own macro wins over a shared one */
	c = xcalloc(1, sizeof(*c));
	*c = *m;
	c->name = xstrdup(m->name);
	c->src = xstrdup(m->src);
	c->file = xstrdup(m->file);
	for (i = 0; i < m->nparams; i++)
		c->params[i] = xstrdup(m->params[i]);
	hmap_put(into, k, c);
}

static void
load_calendar(struct loader *ld, yaml_node_t *n)
{
	char	 path[4096];
	const char *s = ydoc_str(n), *slash;
	int	 nerr = 0;

	if (n == NULL || ld->rs->cal)
		return;
	if (s == NULL) {
		ydoc_error(ld->doc, n, "`calendar` is a path to a holiday calendar");
		ld->nerrors++;
		return;
	}
	slash = strrchr(ld->doc->path, '/');
	if (s[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", s);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - ld->doc->path),
		    ld->doc->path, s);
	if ((ld->rs->cal = calendar_load(path, &nerr)) == NULL) {
		ydoc_error(ld->doc, n, "cannot load calendar %s", path);
		ld->nerrors += nerr ? nerr : 1;
		return;
	}
	ld->rs->cal_path = realpath(path, NULL);
}

static void
parse_law(struct loader *ld, yaml_node_t *root, const struct hmap *shared)
{
	static const char *const keys[] = { "id", "names", "citation", "source",
		"version_by", "versions", "calendar", "terms", "note", NULL };
	yaml_node_t	*h = ydoc_get(ld->doc, root, "law"), *rules;
	struct law	*law = xcalloc(1, sizeof(*law));
	struct rule	*r;
	int		 i;

	ld->law = law;
	law->file = xstrdup(ld->doc->path);
	hmap_init(&law->macros);
	ld->nerrors += ydoc_check_keys(ld->doc, h, keys, "the law header");
	law->id = req_str(ld, h, "id", "the law header");
	for (i = 0; law->id && i < ld->rs->nlaws; i++)
		if (ld->rs->laws[i]->id && strcmp(ld->rs->laws[i]->id, law->id) == 0) {
			ydoc_error(ld->doc, ydoc_get(ld->doc, h, "id"), "law %s is "
			    "already defined in %s", law->id, ld->rs->laws[i]->file);
			ld->nerrors++;
		}
	law->meta = ydoc_to_json(ld->doc, h);
	parse_versions(ld, law, h);
	load_calendar(ld, ydoc_get(ld->doc, h, "calendar"));
	parse_params(ld, law, ydoc_get(ld->doc, root, "params"));
	parse_macros(ld, &law->macros, ydoc_get(ld->doc, root, "macros"));
	hmap_each(shared, copy_macro, &law->macros);
	parse_facts(ld, law, ydoc_get(ld->doc, root, "facts"));
	parse_exceptions(ld, ydoc_get(ld->doc, root, "exceptions"));
	ld->rs->laws = xrealloc(ld->rs->laws, (ld->rs->nlaws + 1) * sizeof(struct law *));
	ld->rs->laws[ld->rs->nlaws++] = law;
	rules = ydoc_get(ld->doc, root, "rules");
	check_list(ld, rules, "rules");
	for (i = 0; i < ydoc_len(ld->doc, rules); i++) {
		r = parse_rule(ld, ydoc_item(ld->doc, rules, i));
		ld->rs->rules = xrealloc(ld->rs->rules,
		    (ld->rs->nrules + 1) * sizeof(struct rule *));
		r->index = ld->rs->nrules;
		ld->rs->rules[ld->rs->nrules++] = r;
	}
	{
		struct macro_check mc = { ld, &law->macros, law->params,
		    ld->doc->path };

		hmap_each(&law->macros, check_unused_macro, &mc);
	}
	ld->law = NULL;
}

enum file_role { F_SKIP, F_LAW, F_SHARED };

static enum file_role
file_role(struct ydoc *d, yaml_node_t *root)
{
	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return F_SKIP;
	if (ydoc_get(d, root, "laws") || ydoc_get(d, root, "tests"))
		return F_SKIP;	/* the law-list catalog, or test cases */
	return ydoc_get(d, root, "law") ? F_LAW : F_SHARED;
}

/* The obligation ids of a law-list catalog (laws[].obligations[].id), into ld. */
static void
read_catalog(struct loader *ld, struct ydoc *d, yaml_node_t *root)
{
	yaml_node_t	*laws = ydoc_get(d, root, "laws"), *obs;
	const char	*id;
	int		 i, j;

	if (laws == NULL)
		return;
	ld->catalog = 1;
	for (i = 0; i < ydoc_len(d, laws); i++) {
		obs = ydoc_get(d, ydoc_item(d, laws, i), "obligations");
		for (j = 0; j < ydoc_len(d, obs); j++)
			if ((id = ydoc_str(ydoc_get(d, ydoc_item(d, obs, j), "id"))) != NULL)
				hmap_put(&ld->obligations, id, ld);
	}
}

/*
 * A file's name (not the directory it was read from) and its bytes. The hash
 * names a rule version for auditors: the same files must give the same hash
 * wherever they lie and however their path is spelt (rules, ./rules,
 * /etc/complyd/rules). Names count, as load order follows them.
 */
static void
hash_file(EVP_MD_CTX *md, const char *path)
{
	char		 buf[8192];
	const char	*name = strrchr(path, '/');
	size_t		 n;
	FILE		*f = fopen(path, "rb");

	if (f == NULL)
		return;
	name = name ? name + 1 : path;
	EVP_DigestUpdate(md, name, strlen(name) + 1);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	fclose(f);
}

static int
is_rule_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".yaml") == 0 &&
	    !(n > 10 && strcmp(name + n - 10, ".test.yaml") == 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands directories into their rule files, sorted (load order is stable). */
static void
collect(const char *path, char ***files, int *n)
{
	struct stat	 st;
	DIR		*dir;
	struct dirent	*de;
	char		 buf[4096];
	int		 first = *n;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (dir = opendir(path)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			if (!is_rule_file(de->d_name))
				continue;
			snprintf(buf, sizeof(buf), "%s/%s", path, de->d_name);
			*files = xrealloc(*files, (*n + 1) * sizeof(char *));
			(*files)[(*n)++] = xstrdup(buf);
		}
		closedir(dir);
		if (*n > first)
			qsort(*files + first, *n - first, sizeof(char *), cmp_str);
		return;
	}
	*files = xrealloc(*files, (*n + 1) * sizeof(char *));
	(*files)[(*n)++] = xstrdup(path);
}

static void
load_docs(struct ruleset *rs, struct ydoc *docs, int n, struct loader *ld)
{
	/* `properties`: obligations complyd keeps itself (read by `coverage`). */
	static const char *const law_keys[] = { "law", "params", "macros", "facts",
		"rules", "exceptions", "properties", NULL };
	static const char *const shared_keys[] = { "macros", "exceptions", NULL };
	struct hmap	 shared;
	int		 i, pass;

	hmap_init(&shared);
	/* Shared macros first, so every law sees them whatever the file order. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			yaml_node_t *root = ydoc_root(&docs[i]);
			enum file_role role = docs[i].loaded ? file_role(&docs[i], root) : F_SKIP;

			ld->doc = &docs[i];
			if (pass == 0 && role == F_SKIP && docs[i].loaded)
				read_catalog(ld, &docs[i], root);
			if (pass == 0 && role == F_SHARED) {
				ld->nerrors += ydoc_check_keys(ld->doc, root, shared_keys,
				    "a shared rule file");
				parse_macros(ld, &shared, ydoc_get(ld->doc, root, "macros"));
				parse_exceptions(ld, ydoc_get(ld->doc, root, "exceptions"));
			} else if (pass == 1 && role == F_LAW) {
				ld->nerrors += ydoc_check_keys(ld->doc, root, law_keys,
				    "a law file");
				parse_law(ld, root, &shared);
			}
		}
	/* Shared macros no law used: checked in their own file. */
	for (i = 0; i < n; i++)
		if (docs[i].loaded && file_role(&docs[i], ydoc_root(&docs[i])) ==
		    F_SHARED) {
			struct macro_check mc = { ld, &shared, NULL, docs[i].path };

			ld->doc = &docs[i];
			hmap_each(&shared, check_unused_macro, &mc);
		}
	hmap_free(&shared, macro_free);
	(void)rs;
}

static void
index_add(struct hmap *m, const char *type, void *item)
{
	struct rule_list *l = hmap_get(m, type);

	if (l == NULL) {
		l = xcalloc(1, sizeof(*l));
		hmap_put(m, type, l);
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(void *));
	l->v[l->n++] = item;
}

static void
build_index(struct ruleset *rs, struct loader *ld)
{
	struct hmap	 ids;
	int		 i, j;

	hmap_init(&ids);
	for (i = 0; i < rs->nrules; i++) {
		struct rule *r = rs->rules[i];

		if (r->id && hmap_put(&ids, r->id, r) != NULL) {
			fprintf(log_diag(), "%s:%d:%d: error: rule id '%s' is "
			    "defined twice\n", r->file, r->id_line, r->id_col, r->id);
			ld->nerrors++;
		}
		for (j = 0; r->on && r->on[j]; j++)
			index_add(&rs->by_type, r->on[j], r);
	}
	hmap_free(&ids, NULL);
	for (i = 0; i < rs->nlaws; i++)
		for (j = 0; j < rs->laws[i]->nfacts; j++)
			if (rs->laws[i]->facts[j].on)
				index_add(&rs->facts_by_type, rs->laws[i]->facts[j].on,
				    &rs->laws[i]->facts[j]);
}

struct ruleset *
ruleset_load(const char *const *paths, int npaths, const char *cal_path,
    int *nerrors)
{
	struct ruleset	*rs = xcalloc(1, sizeof(*rs));
	struct loader	 ld;
	struct ydoc	*docs;
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	unsigned char	 h[EVP_MAX_MD_SIZE];
	unsigned int	 hl;
	int		 i, nerr = 0, shown = 0, fail;

	hmap_init(&rs->by_type);
	hmap_init(&rs->facts_by_type);
	memset(&ld, 0, sizeof(ld));
	ld.rs = rs;
	hmap_init(&ld.used_macros);
	hmap_init(&ld.obligations);
	if (cal_path && (rs->cal = calendar_load(cal_path, &nerr)) == NULL) {
		ld.nerrors++;
		nerr = nerr ? nerr : 1;
	} else if (cal_path)
		rs->cal_path = realpath(cal_path, NULL);
	for (i = 0; i < npaths; i++)
		collect(paths[i], &rs->files, &rs->nfiles);
	docs = xcalloc(rs->nfiles ? rs->nfiles : 1, sizeof(*docs));
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (i = 0; i < rs->nfiles; i++) {
		if (ydoc_load(&docs[i], rs->files[i]) == -1)
			ld.nerrors++;
		hash_file(md, rs->files[i]);
	}
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_MD_CTX_free(md);
	for (i = 0; i < 32; i++)
		snprintf(rs->hash + 2 * i, 3, "%02x", h[i]);
	load_docs(rs, docs, rs->nfiles, &ld);
	hmap_free(&ld.used_macros, NULL);
	hmap_free(&ld.obligations, NULL);
	/*
	 * ld.nerrors says whether anything failed; the count reported is that
	 * of the messages printed (each ydoc_error counts in its document).
	 */
	for (i = 0; i < rs->nfiles; i++) {
		shown += docs[i].nerrors;
		ydoc_free(&docs[i]);
	}
	free(docs);
	fail = ld.nerrors;
	ld.nerrors = 0;
	build_index(rs, &ld);
	shown += ld.nerrors + nerr;
	/* An error printed straight from a document (a limit in ydoc) fails too. */
	fail += ld.nerrors + shown;
	*nerrors += shown ? shown : fail ? 1 : 0;
	if (fail) {
		ruleset_free(rs);
		return NULL;
	}
	return rs;
}

static void
list_free(void *p)
{
	struct rule_list *l = p;

	free(l->v);
	free(l);
}

void
ruleset_free(struct ruleset *rs)
{
	int i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (i = 0; i < rs->nlaws; i++)
		law_free(rs->laws[i]);
	free(rs->laws);
	for (i = 0; i < rs->nsups; i++) {
		free(rs->sups[i].rule);
		free(rs->sups[i].tenant);
		free(rs->sups[i].key);
		free(rs->sups[i].justification);
		free(rs->sups[i].approver);
		free(rs->sups[i].file);
	}
	free(rs->sups);
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	hmap_free(&rs->by_type, list_free);
	hmap_free(&rs->facts_by_type, list_free);
	calendar_free(rs->cal);
	free(rs->cal_path);
	free(rs);
}

const struct law_version *
law_version_at(const struct law *l, date_t d)
{
	int i;

	for (i = 0; i < l->nversions; i++)
		if ((l->versions[i].from == DATE_NONE || d >= l->versions[i].from) &&
		    (l->versions[i].until == DATE_NONE || d < l->versions[i].until))
			return &l->versions[i];
	return NULL;
}

const char *
rule_article(const struct rule *r, const struct law_version *v)
{
	const cJSON	*a;
	int		 i;

	if (v == NULL || v->id == NULL)
		return NULL;
	/* A law has a handful of versions: finding v's index costs less than a name. */
	for (i = 0; r->article_of != NULL && i < r->law->nversions; i++)
		if (&r->law->versions[i] == v)
			return r->article_of[i];
	/* A version of another law (never, today). */
	a = cJSON_GetObjectItemCaseSensitive(r->articles, v->id);
	return cJSON_IsString(a) ? a->valuestring : NULL;
}
