/*
 * yamlx.h - a loaded YAML document with positions, for every YAML file we read
 * (rules, metadata, calendars, config). Errors are collected as
 * "file:line:col: error: message" so a loader can report them all, then fail.
 */
#ifndef COMPLYD_YAMLX_H
#define COMPLYD_YAMLX_H

#include <yaml.h>
#include <cjson/cJSON.h>

struct ydoc {
	yaml_document_t	 doc;
	char		*path;
	int		 loaded;
	int		 nerrors;	/* errors reported through ydoc_error */
	char		*text;		/* the file, for positions inside block scalars */
	size_t		 len;
	long		 converted;	/* nodes this ydoc_to_json made, against aliases */
	long		 converted_total; /* and all of them in the file */
	const yaml_node_t *limit_node;	/* where the depth limit was reported */
};

#define YDOC_MAX_BYTES	(16L << 20)	/* a rule, config or test file */
#define YDOC_MAX_DEPTH	64		/* collections inside collections */
#define YDOC_MAX_NODES	1000000L	/* one conversion to JSON, aliases expanded */
#define YDOC_MAX_NODES_FILE 8000000L	/* all conversions of one file */

/*
 * Where each byte of flow scalar n's value stands in the file: (*lines)[i],
 * (*cols)[i] for byte i, one more entry for the end (caller frees both).
 * Escapes, doubled quotes and line folding move bytes away from "start +
 * offset". 0, or -1 for block scalars or if the walk does not give libyaml's
 * value (then start + offset is the best there is).
 */
int ydoc_scalar_map(struct ydoc *d, const yaml_node_t *n, int **lines, int **cols);
/* Loads path; returns 0, or -1 after printing the syntax error with its position. */
int ydoc_load(struct ydoc *d, const char *path);
void ydoc_free(struct ydoc *d);
yaml_node_t *ydoc_root(struct ydoc *d);

/* Reports "path:line:col: error: ..." at node n (n may be NULL) and counts it. */
void ydoc_error(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same at an explicit 1-based line/col. */
void ydoc_error_at(struct ydoc *d, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ydoc_warn(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Value of key in mapping m, or NULL (also when m is not a mapping). */
yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *m, const char *key);
/* The scalar text of n, or NULL if n is not a scalar. */
const char *ydoc_str(const yaml_node_t *n);
/* 1 if n is a plain (unquoted) scalar. */
int ydoc_is_plain(const yaml_node_t *n);
/* Number of items of a sequence (0 if not one) and item i. */
int ydoc_len(struct ydoc *d, yaml_node_t *seq);
yaml_node_t *ydoc_item(struct ydoc *d, yaml_node_t *seq, int i);
/* Mapping pair i (key scalar text and value node); returns -1 past the end. */
int ydoc_pair(struct ydoc *d, yaml_node_t *m, int i, const char **key,
    yaml_node_t **keynode, yaml_node_t **val);
/*
 * Checks that every key of mapping m is one of `allowed` (NULL-terminated);
 * reports each unknown key at its position. Returns the number of unknown keys.
 */
int ydoc_check_keys(struct ydoc *d, yaml_node_t *m, const char *const *allowed,
    const char *what);
/*
 * For a block scalar (| or >), its source text as written (line breaks and
 * indentation kept) and the 1-based line where it starts; NULL otherwise.
 * Lets an expression report errors at their true position. Caller frees.
 */
char *ydoc_block_source(struct ydoc *d, const yaml_node_t *n, int *line);
/* 1-based line and column of n. */
int ydoc_line(const yaml_node_t *n);
int ydoc_col(const yaml_node_t *n);

/* A plain scalar's JSON in the YAML 1.2 core schema: null, bool, number, else string. */
cJSON *ydoc_plain_scalar(const char *s);
/*
 * Converts a node to JSON: plain scalars become null/bool/number when they
 * spell one (YAML 1.2 core schema), everything else a string.
 */
cJSON *ydoc_to_json(struct ydoc *d, yaml_node_t *n);

#endif
