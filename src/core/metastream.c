/*
 * metastream.c - metadata records one at a time (see metastream.h).
 *
 * A recursive descent over libyaml events: document, root mapping, the list
 * of each kind, then one record, built into a cJSON tree with an explicit
 * stack of at most META_MAXDEPTH containers. Nothing outlives a record but
 * the parser's own small buffers, so memory does not grow with the file.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "complyd/metastream.h"
#include "complyd/yamlx.h"
#include "complyd/util.h"

#define META_MAXDEPTH	64
#define META_NKINDS	3

/* As registry.c names them, so messages read the same from either loader. */
static const char *const kind_names[META_NKINDS] = {
	"contract", "dataset", "facility"
};
static const char *const kind_plural[META_NKINDS] = {
	"contracts", "datasets", "facilities"
};

struct frame {
	cJSON	*node;		/* owned by its parent (frame 0: by ms->rec) */
	char	*key;		/* a mapping's key still waiting for its value */
};

struct mstream {
	const char	*path;
	yaml_parser_t	 p;
	meta_record_fn	 fn;
	void		*arg;
	int		 nerrors;
	int		 delivered;
	int		 stop;		/* syntax error, or the callback asked */
	cJSON		*rec;		/* the record being built */
	struct frame	 st[META_MAXDEPTH];
	int		 depth;
};

static void error_at(struct mstream *, const yaml_mark_t *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
error_at(struct mstream *ms, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%zu:%zu: error: ", ms->path, m->line + 1,
	    m->column + 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ms->nerrors++;
}

/* Next event into ev; -1 once reading has stopped (ev is then not set). */
static int
next(struct mstream *ms, yaml_event_t *ev)
{
	if (ms->stop)
		return -1;
	if (yaml_parser_parse(&ms->p, ev))
		return 0;
	/* Same wording as ydoc_load, so a file reads the same either way. */
	error_at(ms, &ms->p.problem_mark, "%s%s%s",
	    ms->p.problem ? ms->p.problem : "YAML syntax error",
	    ms->p.context ? " " : "", ms->p.context ? ms->p.context : "");
	ms->stop = 1;
	return -1;
}

static int
is_start(const yaml_event_t *ev)
{
	return ev->type == YAML_MAPPING_START_EVENT ||
	    ev->type == YAML_SEQUENCE_START_EVENT;
}

/* Consumes events until `open` containers already entered have closed. */
static int
skip_open(struct mstream *ms, int open)
{
	yaml_event_t ev;

	while (open > 0) {
		if (next(ms, &ev) == -1)
			return -1;
		if (is_start(&ev))
			open++;
		else if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT)
			open--;
		yaml_event_delete(&ev);
	}
	return 0;
}

/* Skips the rest of the node whose first event is ev. */
static int
skip_node(struct mstream *ms, const yaml_event_t *ev)
{
	return is_start(ev) ? skip_open(ms, 1) : 0;
}

static void
alias_error(struct mstream *ms, const yaml_event_t *ev)
{
	error_at(ms, &ev->start_mark, "aliases are not supported in metadata");
}

static cJSON *
scalar_json(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;

	/* Quoted and block scalars are always strings. */
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return ydoc_plain_scalar(s);
	return cJSON_CreateString(s);
}

/* Adds v to the innermost container; in a mapping a later key replaces. */
static void
rec_add(struct mstream *ms, cJSON *v)
{
	struct frame *f = &ms->st[ms->depth - 1];

	if (!cJSON_IsObject(f->node)) {
		cJSON_AddItemToArray(f->node, v);
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(f->node, f->key);
	cJSON_AddItemToObject(f->node, f->key, v);
	free(f->key);
	f->key = NULL;
}

static void
rec_push(struct mstream *ms, cJSON *c)
{
	ms->st[ms->depth].node = c;
	ms->st[ms->depth].key = NULL;
	ms->depth++;
}

/* Forgets the record being built; returns how many containers were open. */
static int
rec_drop(struct mstream *ms)
{
	int open = ms->depth;

	while (ms->depth > 0)
		free(ms->st[--ms->depth].key);
	cJSON_Delete(ms->rec);
	ms->rec = NULL;
	return open;
}

/* A container starts inside the record. */
static int
rec_open(struct mstream *ms, const yaml_event_t *ev)
{
	struct frame	*f = &ms->st[ms->depth - 1];
	cJSON		*c;

	if (cJSON_IsObject(f->node) && f->key == NULL) {
		/* A complex key: ydoc_pair names it "", so we do too. */
		f->key = xstrdup("");
		return skip_open(ms, 1);
	}
	if (ms->depth == META_MAXDEPTH) {
		error_at(ms, &ev->start_mark, "metadata nested deeper than %d "
		    "levels", META_MAXDEPTH);
		skip_open(ms, 1);
		return -1;
	}
	c = ev->type == YAML_MAPPING_START_EVENT ? cJSON_CreateObject() :
	    cJSON_CreateArray();
	rec_add(ms, c);
	rec_push(ms, c);
	return 0;
}

/* One event inside a record; -1 (reported) makes the record bad. */
static int
rec_event(struct mstream *ms, const yaml_event_t *ev)
{
	struct frame *f = &ms->st[ms->depth - 1];

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (cJSON_IsObject(f->node) && f->key == NULL)
			f->key = xstrdup((const char *)ev->data.scalar.value);
		else
			rec_add(ms, scalar_json(ev));
		return 0;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return rec_open(ms, ev);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		free(f->key);
		f->key = NULL;
		ms->depth--;
		return 0;
	case YAML_ALIAS_EVENT:
		alias_error(ms, ev);
		return -1;
	default:
		return 0;
	}
}

/* As registry.c's rec_string: a non-empty string member. */
static const char *
rec_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* Checks a finished record as registry.c's load_list does, then hands it over. */
static void
deliver(struct mstream *ms, int k, const yaml_mark_t *at)
{
	const char	*id = rec_string(ms->rec, "id");
	const char	*tenant = rec_string(ms->rec, "tenant");
	cJSON		*rec = ms->rec;

	ms->rec = NULL;
	if (id == NULL || tenant == NULL || strlen(tenant) + strlen(id) > 400) {
		error_at(ms, at, "a %s record needs string \"id\" and \"tenant\"",
		    kind_names[k]);
		cJSON_Delete(rec);
		return;
	}
	ms->delivered++;
	if (ms->fn(ms->arg, k, rec, (int)at->line + 1, (int)at->column + 1) == -1)
		ms->stop = 1;
}

/* A record whose MAPPING_START is start. */
static void
read_record(struct mstream *ms, int k, const yaml_event_t *start)
{
	yaml_event_t	ev;
	int		rc;

	ms->rec = cJSON_CreateObject();
	rec_push(ms, ms->rec);
	while (ms->depth > 0) {
		if (next(ms, &ev) == -1) {
			rec_drop(ms);
			return;
		}
		rc = rec_event(ms, &ev);
		yaml_event_delete(&ev);
		if (rc == -1) {
			/* Drop what was built, then pass the rest of the record. */
			skip_open(ms, rec_drop(ms));
			return;
		}
	}
	deliver(ms, k, &start->start_mark);
}

static void
read_item(struct mstream *ms, int k, const yaml_event_t *ev)
{
	if (ev->type == YAML_MAPPING_START_EVENT)
		read_record(ms, k, ev);
	else if (ev->type == YAML_ALIAS_EVENT)
		alias_error(ms, ev);
	else {
		error_at(ms, &ev->start_mark, "a %s record must be a mapping",
		    kind_names[k]);
		skip_node(ms, ev);
	}
}

/* The value of a kind's key, whose first event is start. */
static void
read_list(struct mstream *ms, int k, const yaml_event_t *start)
{
	yaml_event_t ev;

	if (start->type == YAML_ALIAS_EVENT) {
		alias_error(ms, start);
		return;
	}
	if (start->type != YAML_SEQUENCE_START_EVENT) {
		error_at(ms, &start->start_mark, "%s must be a list of records",
		    kind_plural[k]);
		skip_node(ms, start);
		return;
	}
	while (next(ms, &ev) == 0) {
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return;
		}
		read_item(ms, k, &ev);
		yaml_event_delete(&ev);
	}
}

/* Which kind a root key names: 0..2, or -1 (reported) with key skipped. */
static int
read_key(struct mstream *ms, const yaml_event_t *key)
{
	const char	*s;
	int		 k;

	if (key->type == YAML_ALIAS_EVENT) {
		alias_error(ms, key);
		return -1;
	}
	/* A complex key: ydoc_pair names it "", so it is unknown as "". */
	s = key->type == YAML_SCALAR_EVENT ?
	    (const char *)key->data.scalar.value : "";
	for (k = 0; k < META_NKINDS; k++)
		if (strcmp(s, kind_plural[k]) == 0)
			return k;
	error_at(ms, &key->start_mark, "unknown key '%s' in metadata", s);
	skip_node(ms, key);
	return -1;
}

/* The document's root node, whose first event is start. */
static void
read_root(struct mstream *ms, const yaml_event_t *start)
{
	yaml_event_t	key, val;
	int		k;

	if (start->type != YAML_MAPPING_START_EVENT) {
		error_at(ms, &start->start_mark, "metadata is a mapping of "
		    "contracts, datasets and facilities");
		skip_node(ms, start);
		return;
	}
	while (next(ms, &key) == 0) {
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return;
		}
		k = read_key(ms, &key);
		yaml_event_delete(&key);
		if (next(ms, &val) == -1)
			return;
		if (k >= 0)
			read_list(ms, k, &val);
		else
			skip_node(ms, &val);
		yaml_event_delete(&val);
	}
}

/* The first document only, as yaml_parser_load reads one. */
static void
read_stream(struct mstream *ms)
{
	yaml_event_t	ev;
	int		i;

	/* STREAM_START, then DOCUMENT_START or (an empty file) STREAM_END. */
	for (i = 0; i < 2; i++) {
		if (next(ms, &ev) == -1)
			return;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return;
		}
		yaml_event_delete(&ev);
	}
	if (next(ms, &ev) == -1)
		return;
	read_root(ms, &ev);
	yaml_event_delete(&ev);
	/* DOCUMENT_END: reading it surfaces errors after the root node. */
	if (next(ms, &ev) == 0)
		yaml_event_delete(&ev);
}

int
meta_stream_file(const char *path, meta_record_fn fn, void *arg, int *nerrors)
{
	struct mstream	 ms;
	FILE		*f;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: error: %s\n", path, strerror(errno));
		if (nerrors)
			(*nerrors)++;
		return -1;
	}
	memset(&ms, 0, sizeof(ms));
	ms.path = path;
	ms.fn = fn;
	ms.arg = arg;
	yaml_parser_initialize(&ms.p);
	yaml_parser_set_input_file(&ms.p, f);
	read_stream(&ms);
	yaml_parser_delete(&ms.p);
	fclose(f);
	if (nerrors)
		*nerrors += ms.nerrors;
	return ms.delivered;
}
