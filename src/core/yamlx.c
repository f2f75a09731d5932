/*
 * yamlx.c - YAML documents with positions (see yamlx.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/log.h"
#include "complyd/util.h"
#include "complyd/yamlx.h"

/* Reads the whole file: the parser reads from memory and positions can look back. */
static int
slurp(const char *path, char **text, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	size_t	 cap = 8192, n;

	if (f == NULL)
		return -1;
	*text = xmalloc(cap);
	*len = 0;
	/* Past the limit there is nothing to read for: too_big_or_deep says so. */
	while (*len <= (size_t)YDOC_MAX_BYTES &&
	    (n = fread(*text + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap)
			*text = xrealloc(*text, cap *= 2);
	}
	fclose(f);
	(*text)[*len] = '\0';	/* walks may look one byte ahead */
	return 0;
}

/*
 * Limits checked before libyaml builds the document: its composer takes time
 * quadratic in the nesting of flow collections ([[[...]]]), and our
 * converters recurse. libyaml's own event stream gives the nesting (quotes,
 * comments and block scalars counted right); it stops at the 65th level, so
 * the costly prefix stays short. A syntax error is left to the real load.
 */
static int
too_big_or_deep(const struct ydoc *d)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	int		 depth = 0, rc = 0, done = 0;

	if (d->len > (size_t)YDOC_MAX_BYTES) {
		fprintf(log_diag(), "%s: error: larger than %ld bytes\n", d->path,
		    YDOC_MAX_BYTES);
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)d->text, d->len);
	while (!done && yaml_parser_parse(&p, &ev)) {
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > YDOC_MAX_DEPTH) {
				fprintf(log_diag(), "%s:%zu:%zu: error: nested deeper than "
				    "%d levels\n", d->path, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, YDOC_MAX_DEPTH);
				rc = -1;
				done = 1;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
		    ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		else if (ev.type == YAML_STREAM_END_EVENT)
			done = 1;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/*
 * YAML keys are unique in a mapping; libyaml keeps both and our lookups take
 * the first, so `limit: 1` then `limit: 1000` would keep 1 without a word.
 * Every mapping of the document is checked (nodes are an array: no
 * recursion). Returns the number of duplicates reported.
 */
static int
duplicate_keys(struct ydoc *d)
{
	yaml_node_t		*n, *k;
	yaml_node_pair_t	*p;
	struct hmap		 seen;
	int			 dups = 0;

	for (n = d->doc.nodes.start; n < d->doc.nodes.top; n++) {
		if (n->type != YAML_MAPPING_NODE)
			continue;
		hmap_init(&seen);
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(&d->doc, p->key);
			if (k == NULL || k->type != YAML_SCALAR_NODE)
				continue;
			if (hmap_get(&seen, (const char *)k->data.scalar.value) != NULL) {
				ydoc_error(d, k, "key '%s' is given twice",
				    (const char *)k->data.scalar.value);
				dups++;
			} else
				hmap_put(&seen, (const char *)k->data.scalar.value, k);
		}
		hmap_free(&seen, NULL);
	}
	return dups;
}

int
ydoc_load(struct ydoc *d, const char *path)
{
	yaml_parser_t	 p;
	int		 rc = 0;

	memset(d, 0, sizeof(*d));
	d->path = xstrdup(path);
	if (slurp(path, &d->text, &d->len) == -1) {
		fprintf(log_diag(), "%s: error: %s\n", path, strerror(errno));
		d->nerrors++;
		return -1;
	}
	if (too_big_or_deep(d) == -1) {
		d->nerrors++;
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)d->text, d->len);
	if (!yaml_parser_load(&p, &d->doc)) {
		fprintf(log_diag(), "%s:%zu:%zu: error: %s%s%s\n", path,
		    p.problem_mark.line + 1, p.problem_mark.column + 1,
		    p.problem ? p.problem : "YAML document too large or malformed",
		    p.context ? " " : "", p.context ? p.context : "");
		d->nerrors++;
		rc = -1;
	} else {
		d->loaded = 1;
		if (duplicate_keys(d) > 0)
			rc = -1;
	}
	yaml_parser_delete(&p);
	return rc;
}

/* Byte offset where 0-based line `line` starts (libyaml's marks count characters). */
static size_t
line_offset(const struct ydoc *d, size_t line)
{
	size_t i, l = 0;

	for (i = 0; i < d->len && l < line; i++)
		if (d->text[i] == '\n')
			l++;
	return i;
}

/* Byte offset of character column `col` (0-based) on 0-based line `line`. */
static size_t
char_offset(const struct ydoc *d, size_t line, size_t col)
{
	size_t	 i = line_offset(d, line);

	for (; i < d->len && col > 0; col--)
		for (i++; i < d->len && ((unsigned char)d->text[i] & 0xc0) == 0x80; i++)
			;
	return i;
}

/* The walk of ydoc_scalar_map: decoded bytes and where each came from. */
struct smap {
	const char	*t;		/* the file */
	size_t		 i, end;	/* raw position, bound */
	int		 line, col;	/* of t[i], 1-based */
	char		*out;
	int		*lines, *cols;
	char		*raw_ws;	/* out[k] is a space or tab as written */
	size_t		 n, cap;
};

static void
smap_put(struct smap *m, const char *b, size_t len, int line, int col, int raw_ws)
{
	size_t	 k;

	for (k = 0; k < len; k++) {
		if (m->n + 1 >= m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->out = xrealloc(m->out, m->cap);
			m->lines = xrealloc(m->lines, m->cap * sizeof(int));
			m->cols = xrealloc(m->cols, m->cap * sizeof(int));
			m->raw_ws = xrealloc(m->raw_ws, m->cap);
		}
		m->out[m->n] = b[k];
		m->lines[m->n] = line;
		m->cols[m->n] = col;
		m->raw_ws[m->n++] = (char)raw_ws;
	}
}

/* Moves over one raw byte, keeping line and column. */
static void
smap_step(struct smap *m)
{
	if (m->t[m->i] == '\n') {
		m->line++;
		m->col = 1;
	} else if (((unsigned char)m->t[m->i + 1] & 0xc0) != 0x80)
		m->col++;
	m->i++;
}

/* A line break inside a flow scalar folds: one space, or a \n per empty line. */
static void
smap_fold(struct smap *m)
{
	int	 line = m->line, col = m->col, empty = 0;

	while (m->n > 0 && m->raw_ws[m->n - 1])
		m->n--;		/* trailing blanks before a break go */
	smap_step(m);
	for (;;) {
		while (m->i < m->end && (m->t[m->i] == ' ' || m->t[m->i] == '\t'))
			smap_step(m);
		if (m->i >= m->end || m->t[m->i] != '\n')
			break;
		smap_put(m, "\n", 1, m->line, m->col, 0);
		empty = 1;
		smap_step(m);
	}
	if (!empty)
		smap_put(m, " ", 1, line, col, 0);
}

static void
utf8_put(struct smap *m, unsigned long cp, int line, int col)
{
	char	 b[4];
	size_t	 n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	smap_put(m, b, n, line, col, 0);
}

/* A double-quoted escape at m->i (the backslash); -1 if it is not one. */
static int
smap_escape(struct smap *m)
{
	static const char from[] = "0abt\tnvfre \"/\\", to[] =
	    "\0\a\b\t\t\n\v\f\r\033 \"/\\";
	int		 line = m->line, col = m->col, digits = 0, k;
	unsigned long	 cp = 0;
	const char	*p;
	char		 c;

	smap_step(m);
	if (m->i >= m->end)
		return -1;
	c = m->t[m->i];
	if (c == '\n') {		/* an escaped line break: nothing */
		smap_step(m);
		while (m->i < m->end && (m->t[m->i] == ' ' || m->t[m->i] == '\t'))
			smap_step(m);
		return 0;
	}
	smap_step(m);
	if ((p = strchr(from, c)) != NULL && c != '\0') {
		smap_put(m, &to[p - from], 1, line, col, 0);
		return 0;
	}
	switch (c) {
	case 'N': cp = 0x85; break;
	case '_': cp = 0xa0; break;
	case 'L': cp = 0x2028; break;
	case 'P': cp = 0x2029; break;
	case 'x': digits = 2; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default: return -1;
	}
	for (k = 0; k < digits; k++, smap_step(m)) {
		if (m->i >= m->end || !strchr("0123456789abcdefABCDEF", m->t[m->i]))
			return -1;
		c = m->t[m->i];
		cp = cp * 16 + (unsigned long)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	utf8_put(m, cp, line, col);
	return 0;
}

/* Walks the scalar's text; -1 on anything it does not follow. */
static int
smap_walk(struct smap *m, yaml_scalar_style_t style)
{
	char	 q = style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ? '"' :
		    style == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : 0;

	if (q) {
		if (m->i >= m->end || m->t[m->i] != q)
			return -1;
		smap_step(m);
	}
	while (m->i < m->end) {
		char c = m->t[m->i];

		if (q && c == q) {
			if (q == '\'' && m->i + 1 < m->end && m->t[m->i + 1] == '\'') {
				smap_put(m, "'", 1, m->line, m->col, 0);
				smap_step(m);
				smap_step(m);
				continue;
			}
			return 0;	/* the closing quote */
		}
		if (q == '"' && c == '\\') {
			if (smap_escape(m) == -1)
				return -1;
		} else if (c == '\n')
			smap_fold(m);
		else {
			smap_put(m, &c, 1, m->line, m->col, c == ' ' || c == '\t');
			smap_step(m);
		}
	}
	return q ? -1 : 0;
}

int
ydoc_scalar_map(struct ydoc *d, const yaml_node_t *n, int **lines, int **cols)
{
	struct smap	 m;
	int		 rc = -1;

	*lines = *cols = NULL;
	if (n == NULL || n->type != YAML_SCALAR_NODE || d->text == NULL ||
	    n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
	    n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
		return -1;
	memset(&m, 0, sizeof(m));
	m.t = d->text;
	m.i = char_offset(d, n->start_mark.line, n->start_mark.column);
	m.end = char_offset(d, n->end_mark.line, n->end_mark.column);
	m.line = (int)n->start_mark.line + 1;
	m.col = (int)n->start_mark.column + 1;
	if (m.end > d->len)
		m.end = d->len;
	if (smap_walk(&m, n->data.scalar.style) == 0 &&
	    m.n == n->data.scalar.length &&
	    (m.n == 0 || memcmp(m.out, n->data.scalar.value, m.n) == 0)) {
		smap_put(&m, "", 1, m.line, m.col, 0);	/* the end */
		*lines = m.lines;
		*cols = m.cols;
		m.lines = m.cols = NULL;
		rc = 0;
	}
	free(m.out);
	free(m.lines);
	free(m.cols);
	free(m.raw_ws);
	return rc;
}

char *
ydoc_block_source(struct ydoc *d, const yaml_node_t *n, int *line)
{
	size_t	 from, to, last;

	if (n == NULL || n->type != YAML_SCALAR_NODE || d->text == NULL ||
	    (n->data.scalar.style != YAML_LITERAL_SCALAR_STYLE &&
	    n->data.scalar.style != YAML_FOLDED_SCALAR_STYLE))
		return NULL;
	/* Whole lines: from the one after the indicator to the last content line. */
	last = n->end_mark.column == 0 && n->end_mark.line > 0 ?
	    n->end_mark.line - 1 : n->end_mark.line;
	from = line_offset(d, n->start_mark.line + 1);
	to = line_offset(d, last + 1);
	if (to < from)
		to = from;
	*line = (int)n->start_mark.line + 2;
	return xstrndup(d->text + from, to - from);
}

void
ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	free(d->text);
	free(d->path);
	memset(d, 0, sizeof(*d));
}

yaml_node_t *
ydoc_root(struct ydoc *d)
{
	return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

int
ydoc_line(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

int
ydoc_col(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.column + 1 : 0;
}

static void
vreport(struct ydoc *d, int line, int col, const char *kind, const char *fmt,
    va_list ap)
{
	if (line > 0)
		fprintf(log_diag(), "%s:%d:%d: %s: ", d->path, line, col, kind);
	else
		fprintf(log_diag(), "%s: %s: ", d->path, kind);
	vfprintf(log_diag(), fmt, ap);
	fputc('\n', log_diag());
}

void
ydoc_error(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, ydoc_line(n), ydoc_col(n), "error", fmt, ap);
	va_end(ap);
	d->nerrors++;
}

void
ydoc_error_at(struct ydoc *d, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, line, col, "error", fmt, ap);
	va_end(ap);
	d->nerrors++;
}

void
ydoc_warn(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, ydoc_line(n), ydoc_col(n), "warning", fmt, ap);
	va_end(ap);
}

const char *
ydoc_str(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

int
ydoc_is_plain(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

int
ydoc_pair(struct ydoc *d, yaml_node_t *m, int i, const char **key,
    yaml_node_t **keynode, yaml_node_t **val)
{
	yaml_node_pair_t	*pr;
	yaml_node_t		*k;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return -1;
	pr = m->data.mapping.pairs.start + i;
	if (i < 0 || pr >= m->data.mapping.pairs.top)
		return -1;
	k = yaml_document_get_node(&d->doc, pr->key);
	if (keynode)
		*keynode = k;
	if (key)
		*key = ydoc_str(k) ? ydoc_str(k) : "";
	if (val)
		*val = yaml_document_get_node(&d->doc, pr->value);
	return 0;
}

yaml_node_t *
ydoc_get(struct ydoc *d, yaml_node_t *m, const char *key)
{
	const char	*k;
	yaml_node_t	*v;
	int		 i;

	for (i = 0; ydoc_pair(d, m, i, &k, NULL, &v) == 0; i++)
		if (strcmp(k, key) == 0)
			return v;
	return NULL;
}

int
ydoc_len(struct ydoc *d, yaml_node_t *seq)
{
	(void)d;
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *
ydoc_item(struct ydoc *d, yaml_node_t *seq, int i)
{
	if (i < 0 || i >= ydoc_len(d, seq))
		return NULL;
	return yaml_document_get_node(&d->doc, seq->data.sequence.items.start[i]);
}

int
ydoc_check_keys(struct ydoc *d, yaml_node_t *m, const char *const *allowed,
    const char *what)
{
	const char	*k;
	yaml_node_t	*kn;
	int		 i, j, bad = 0;

	for (i = 0; ydoc_pair(d, m, i, &k, &kn, NULL) == 0; i++) {
		for (j = 0; allowed[j]; j++)
			if (strcmp(allowed[j], k) == 0)
				break;
		if (allowed[j] == NULL) {
			ydoc_error(d, kn, "unknown key '%s' in %s", k, what);
			bad++;
		}
	}
	return bad;
}

cJSON *
ydoc_plain_scalar(const char *s)
{
	char	*end;
	double	 v;

	if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return cJSON_CreateNull();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return cJSON_CreateTrue();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return cJSON_CreateFalse();
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+') &&
	    s[1] >= '0' && s[1] <= '9') || (s[0] == '.' && s[1] >= '0' &&
	    s[1] <= '9')) {
		errno = 0;
		v = strtod(s, &end);
		if (*end == '\0' && errno == 0 && isfinite(v) &&
		    strchr(s, 'x') == NULL && strchr(s, 'X') == NULL)
			return cJSON_CreateNumber(v);
	}
	return cJSON_CreateString(s);
}

/*
 * Block collections nest by indentation and aliases can repeat or even
 * contain their own node (&a [*a]): depth and size are bounded here too.
 */
static cJSON *
to_json(struct ydoc *d, yaml_node_t *n, int depth)
{
	cJSON		*o;
	const char	*k;
	yaml_node_t	*v;
	int		 i;

	if (n == NULL)
		return cJSON_CreateNull();
	/* Past a limit the conversion gives nulls, with one error for it. */
	if (d->converted > YDOC_MAX_NODES)
		return cJSON_CreateNull();
	if (depth > YDOC_MAX_DEPTH || ++d->converted > YDOC_MAX_NODES ||
	    ++d->converted_total > YDOC_MAX_NODES_FILE) {
		if (depth > YDOC_MAX_DEPTH) {
			/* The same node converted again (a second look-up): one error. */
			if (n != d->limit_node)
				ydoc_error(d, n, "nested deeper than %d levels",
				    YDOC_MAX_DEPTH);
			d->limit_node = n;
		} else
			ydoc_error(d, n, "more than %ld values (aliases expanded)",
			    d->converted_total > YDOC_MAX_NODES_FILE ?
			    YDOC_MAX_NODES_FILE : YDOC_MAX_NODES);
		d->converted = YDOC_MAX_NODES + 1;
		return cJSON_CreateNull();
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (ydoc_is_plain(n))
			return ydoc_plain_scalar(ydoc_str(n));
		return cJSON_CreateString(ydoc_str(n));
	case YAML_SEQUENCE_NODE:
		o = cJSON_CreateArray();
		for (i = 0; i < ydoc_len(d, n); i++)
			cJSON_AddItemToArray(o, to_json(d, ydoc_item(d, n, i),
			    depth + 1));
		return o;
	case YAML_MAPPING_NODE:
		o = cJSON_CreateObject();
		for (i = 0; ydoc_pair(d, n, i, &k, NULL, &v) == 0; i++) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, k);
			cJSON_AddItemToObject(o, k, to_json(d, v, depth + 1));
		}
		return o;
	default:
		return cJSON_CreateNull();
	}
}

cJSON *
ydoc_to_json(struct ydoc *d, yaml_node_t *n)
{
	d->converted = 0;	/* a budget for each conversion, and one per file */
	if (d->converted_total > YDOC_MAX_NODES_FILE)
		return cJSON_CreateNull();
	return to_json(d, n, 1);
}
