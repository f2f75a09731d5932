/*
 * config.c - the configuration file (see config.h). The top-level keys are a
 * table (name, parser); each parser checks its own bounds and reports with
 * the node's position, so one run lists every mistake in the file.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/config.h"
#include "complyd/util.h"
#include "complyd/yamlx.h"

struct cfctx {
	struct ydoc	*doc;
	struct config	*cf;
	char		*dir;		/* of the config file, for relative paths */
};

/* A path relative to the config file's folder, unless absolute. */
static char *
resolve(struct cfctx *c, const char *p)
{
	struct sbuf b;

	if (p[0] == '/' || c->dir == NULL)
		return xstrdup(p);
	sbuf_init(&b);
	sbuf_printf(&b, "%s/%s", c->dir, p);
	return b.s;
}

/* "unix:REL" -> "unix:/abs/REL"; other schemes unchanged. */
static char *
resolve_addr(struct cfctx *c, const char *a)
{
	struct sbuf	 b;
	const char	*colon = strchr(a, ':');
	char		*p;

	if (colon == NULL || (strncmp(a, "unix:", 5) != 0 &&
	    strncmp(a, "unixgram:", 9) != 0))
		return xstrdup(a);
	p = resolve(c, colon + 1);
	sbuf_init(&b);
	sbuf_printf(&b, "%.*s%s", (int)(colon - a + 1), a, p);
	free(p);
	return b.s;
}

static const char *
scalar(struct cfctx *c, yaml_node_t *n, const char *key)
{
	if (ydoc_str(n) == NULL || *ydoc_str(n) == '\0') {
		ydoc_error(c->doc, n, "%s must be a non-empty string", key);
		return NULL;
	}
	return ydoc_str(n);
}

static int
set_path(struct cfctx *c, yaml_node_t *n, const char *key, char **out)
{
	const char *s = scalar(c, n, key);

	if (s == NULL)
		return -1;
	free(*out);
	*out = resolve(c, s);
	return 0;
}

static int
k_state_dir(struct cfctx *c, yaml_node_t *n)
{
	return set_path(c, n, "state_dir", &c->cf->state_dir);
}

static int
k_rules(struct cfctx *c, yaml_node_t *n)
{
	return set_path(c, n, "rules", &c->cf->rules);
}

static int
k_metadata(struct cfctx *c, yaml_node_t *n)
{
	return set_path(c, n, "metadata", &c->cf->metadata);
}

static int
k_calendar(struct cfctx *c, yaml_node_t *n)
{
	return set_path(c, n, "calendar", &c->cf->calendar);
}

static int
k_retention(struct cfctx *c, yaml_node_t *n)
{
	static const char *const keys[] = { "events", "evidence", NULL };
	const char	*s;
	char		 err[256];
	int		*dst, i;

	if (n->type != YAML_MAPPING_NODE) {
		ydoc_error(c->doc, n, "retention is a mapping { events: 2y, evidence: 7y }");
		return -1;
	}
	ydoc_check_keys(c->doc, n, keys, "retention");
	for (i = 0; keys[i]; i++) {
		yaml_node_t *v = ydoc_get(c->doc, n, keys[i]);

		if (v == NULL)
			continue;
		dst = i == 0 ? &c->cf->retention.events_months :
		    &c->cf->retention.evidence_months;
		if ((s = scalar(c, v, keys[i])) == NULL)
			continue;
		if (retention_parse(s, dst, err, sizeof(err)) == -1)
			ydoc_error(c->doc, v, "%s", err);
	}
	if (retention_check(&c->cf->retention, err, sizeof(err)) == -1)
		ydoc_error(c->doc, n, "%s", err);
	return 0;
}

static int
k_synchronous(struct cfctx *c, yaml_node_t *n)
{
	const char *s = scalar(c, n, "synchronous");

	if (s == NULL)
		return -1;
	if (strcmp(s, "full") != 0 && strcmp(s, "normal") != 0 &&
	    strcmp(s, "extra") != 0) {
		ydoc_error(c->doc, n, "synchronous is full, extra or normal");
		return -1;
	}
	free(c->cf->synchronous);
	c->cf->synchronous = xstrdup(s);
	return 0;
}

static int
bounded(struct cfctx *c, yaml_node_t *n, const char *key, long lo, long hi,
    long *out)
{
	const char	*s = scalar(c, n, key);
	char		*end;
	long		 v;

	if (s == NULL)
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi) {
		ydoc_error(c->doc, n, "%s must be a number from %ld to %ld", key, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
k_max_body(struct cfctx *c, yaml_node_t *n)
{
	return bounded(c, n, "max_body", 1024, 256L << 20, &c->cf->max_body);
}

static int
k_queue_max(struct cfctx *c, yaml_node_t *n)
{
	return bounded(c, n, "queue_max", 1, 10000000, &c->cf->queue_max);
}

/*
 * "HOST:PORT" with PORT digits 1..65535 (the host is checked when bound); an
 * empty host (all interfaces) only where the listener takes one (tcp:).
 */
static int
valid_port(const char *hostport, int empty_host)
{
	const char	*p = strrchr(hostport, ':');
	char		*end;
	long		 n;

	if (p == NULL || (p == hostport && !empty_host) || p[1] < '0' || p[1] > '9')
		return 0;
	n = strtol(p + 1, &end, 10);
	return *end == '\0' && n >= 1 && n <= 65535;
}

/* unix:PATH, unixgram:PATH, tcp:HOST:PORT or HOST:PORT. */
static int
valid_addr(const char *a)
{
	if (strncmp(a, "unix:", 5) == 0)
		return a[5] != '\0';
	if (strncmp(a, "unixgram:", 9) == 0)
		return a[9] != '\0';
	if (strncmp(a, "tcp:", 4) == 0)
		return valid_port(a + 4, 1);
	return valid_port(a, 0);
}

static int
k_api(struct cfctx *c, yaml_node_t *n)
{
	static const char *const keys[] = { "listen", "tokens", NULL };
	yaml_node_t	*l = ydoc_get(c->doc, n, "listen"), *it;
	const char	*s;
	int		 i;

	if (n->type != YAML_MAPPING_NODE) {
		ydoc_error(c->doc, n, "api is a mapping { listen: [...], tokens: FILE }");
		return -1;
	}
	ydoc_check_keys(c->doc, n, keys, "api");
	if (l && l->type != YAML_SEQUENCE_NODE)
		ydoc_error(c->doc, l, "api.listen is a list of addresses");
	for (i = 0; i < ydoc_len(c->doc, l); i++) {
		it = ydoc_item(c->doc, l, i);
		if ((s = scalar(c, it, "api.listen[]")) == NULL)
			continue;
		if (!valid_addr(s) || c->cf->nlisten == CONFIG_MAX_LISTEN) {
			ydoc_error(c->doc, it, "api.listen: '%s' is not HOST:PORT or unix:PATH "
			    "(at most %d)", s, CONFIG_MAX_LISTEN);
			continue;
		}
		c->cf->listen[c->cf->nlisten++] = resolve_addr(c, s);
	}
	if (ydoc_get(c->doc, n, "tokens"))
		set_path(c, ydoc_get(c->doc, n, "tokens"), "api.tokens", &c->cf->tokens);
	return 0;
}

static int
k_inputs(struct cfctx *c, yaml_node_t *n)
{
	static const char *const keys[] = { "type", "listen", "path", NULL };
	struct config_input	*in;
	yaml_node_t		*it;
	const char		*t, *s;
	int			 i;

	for (i = 0; i < ydoc_len(c->doc, n); i++) {
		it = ydoc_item(c->doc, n, i);
		ydoc_check_keys(c->doc, it, keys, "an input");
		t = ydoc_str(ydoc_get(c->doc, it, "type"));
		if (c->cf->ninputs == CONFIG_MAX_IO) {
			ydoc_error(c->doc, it, "at most %d inputs", CONFIG_MAX_IO);
			break;
		}
		in = &c->cf->inputs[c->cf->ninputs];
		if (t && strcmp(t, "http") == 0)
			in->type = IN_HTTP;
		else if (t && strcmp(t, "syslog") == 0) {
			in->type = IN_SYSLOG;
			s = ydoc_str(ydoc_get(c->doc, it, "listen"));
			if (s == NULL || (strncmp(s, "unix:", 5) != 0 &&
			    strncmp(s, "unixgram:", 9) != 0 && strncmp(s, "tcp:", 4) != 0) ||
			    !valid_addr(s)) {
				ydoc_error(c->doc, it, "a syslog input needs listen: unix:PATH, "
				    "unixgram:PATH or tcp:HOST:PORT");
				continue;
			}
			in->listen = resolve_addr(c, s);
		} else if (t && strcmp(t, "file") == 0) {
			in->type = IN_FILE;
			if ((s = ydoc_str(ydoc_get(c->doc, it, "path"))) == NULL) {
				ydoc_error(c->doc, it, "a file input needs path: (a glob)");
				continue;
			}
			in->path = resolve(c, s);
		} else {
			ydoc_error(c->doc, it, "input type must be http, syslog or file");
			continue;
		}
		c->cf->ninputs++;
	}
	return 0;
}

static int
k_outputs(struct cfctx *c, yaml_node_t *n)
{
	static const char *const keys[] = { "type", "path", "target", "url", NULL };
	struct config_output	*out;
	yaml_node_t		*it;
	const char		*t, *s;
	int			 i;

	for (i = 0; i < ydoc_len(c->doc, n); i++) {
		it = ydoc_item(c->doc, n, i);
		ydoc_check_keys(c->doc, it, keys, "an output");
		t = ydoc_str(ydoc_get(c->doc, it, "type"));
		if (c->cf->noutputs == CONFIG_MAX_IO) {
			ydoc_error(c->doc, it, "at most %d outputs", CONFIG_MAX_IO);
			break;
		}
		out = &c->cf->outputs[c->cf->noutputs];
		if (t && strcmp(t, "stdout") == 0)
			out->type = OUT_STDOUT;
		else if (t && strcmp(t, "file") == 0 &&
		    (s = ydoc_str(ydoc_get(c->doc, it, "path"))) != NULL) {
			out->type = OUT_FILE;
			out->path = resolve(c, s);
		} else if (t && strcmp(t, "syslog") == 0) {
			out->type = OUT_SYSLOG;
			s = ydoc_str(ydoc_get(c->doc, it, "target"));
			if (s != NULL && ((strncmp(s, "unix:", 5) != 0 &&
			    strncmp(s, "tcp:", 4) != 0) || !valid_addr(s)))
				ydoc_error(c->doc, it, "a syslog output's target is "
				    "unix:PATH or tcp:HOST:PORT");
			out->target = resolve_addr(c, s ? s : "unix:/dev/log");
		} else if (t && strcmp(t, "webhook") == 0 &&
		    (s = ydoc_str(ydoc_get(c->doc, it, "url"))) != NULL &&
		    (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0)) {
			out->type = OUT_WEBHOOK;
			out->url = xstrdup(s);
		} else {
			ydoc_error(c->doc, it, "an output is stdout, file (path:), syslog "
			    "(target:) or webhook (url: http://...)");
			continue;
		}
		c->cf->noutputs++;
	}
	return 0;
}

/* The configuration keys: one row each, one dispatcher in config_load. */
static const struct cfkey {
	const char	*name;
	yaml_node_type_t type;
	int		(*parse)(struct cfctx *, yaml_node_t *);
} cfkeys[] = {
	{ "state_dir",	 YAML_SCALAR_NODE,   k_state_dir },
	{ "rules",	 YAML_SCALAR_NODE,   k_rules },
	{ "metadata",	 YAML_SCALAR_NODE,   k_metadata },
	{ "calendar",	 YAML_SCALAR_NODE,   k_calendar },
	{ "retention",	 YAML_MAPPING_NODE,  k_retention },
	{ "synchronous", YAML_SCALAR_NODE,   k_synchronous },
	{ "max_body",	 YAML_SCALAR_NODE,   k_max_body },
	{ "queue_max",	 YAML_SCALAR_NODE,   k_queue_max },
	{ "api",	 YAML_MAPPING_NODE,  k_api },
	{ "inputs",	 YAML_SEQUENCE_NODE, k_inputs },
	{ "outputs",	 YAML_SEQUENCE_NODE, k_outputs },
};

static void
defaults(struct cfctx *c)
{
	struct config *cf = c->cf;

	cf->state_dir = xstrdup("/var/lib/complyd");
	cf->rules = xstrdup("/usr/local/share/complyd/rules");
	cf->retention.events_months = 24;
	cf->retention.evidence_months = 84;
	cf->synchronous = xstrdup("full");
	cf->max_body = 16L << 20;
	cf->queue_max = 100000;
}

int
config_load(const char *path, struct config *cf)
{
	struct ydoc	 d;
	struct cfctx	 c;
	yaml_node_t	*root, *kn, *v;
	const char	*k, *slash;
	char		*real;
	size_t		 i;
	int		 j, nerr;

	memset(cf, 0, sizeof(*cf));
	memset(&c, 0, sizeof(c));
	c.doc = &d;
	c.cf = cf;
	/*
	 * The directory as the file system names it, not as -c spelled it: the
	 * paths resolved from it name outputs (their outbox slots) and must be
	 * the same whichever way the daemon was started.
	 */
	if ((real = realpath(path, NULL)) != NULL) {
		slash = strrchr(real, '/');
		c.dir = xstrndup(real, slash > real ? (size_t)(slash - real) : 1);
		free(real);
	} else {
		slash = strrchr(path, '/');
		c.dir = slash ? xstrndup(path, slash - path) : xstrdup(".");
	}
	cf->file = xstrdup(path);
	defaults(&c);
	if (ydoc_load(&d, path) == 0 && (root = ydoc_root(&d)) != NULL) {
		if (root->type != YAML_MAPPING_NODE)
			ydoc_error(&d, root, "the configuration is a mapping of keys");
		for (j = 0; ydoc_pair(&d, root, j, &k, &kn, &v) == 0; j++) {
			for (i = 0; i < sizeof(cfkeys) / sizeof(cfkeys[0]); i++)
				if (strcmp(cfkeys[i].name, k) == 0)
					break;
			if (i == sizeof(cfkeys) / sizeof(cfkeys[0]))
				ydoc_error(&d, kn, "unknown key '%s'", k);
			else if (v->type != cfkeys[i].type)
				ydoc_error(&d, v, "'%s' has the wrong shape (%s expected)", k,
				    cfkeys[i].type == YAML_SCALAR_NODE ? "a value" :
				    cfkeys[i].type == YAML_MAPPING_NODE ? "a mapping" : "a list");
			else
				cfkeys[i].parse(&c, v);
		}
	}
	nerr = d.nerrors;
	ydoc_free(&d);
	free(c.dir);
	if (nerr) {
		config_free(cf);
		return -1;
	}
	return 0;
}

void
config_free(struct config *cf)
{
	int i;

	free(cf->file);
	free(cf->state_dir);
	free(cf->rules);
	free(cf->metadata);
	free(cf->calendar);
	free(cf->tokens);
	free(cf->synchronous);
	for (i = 0; i < cf->nlisten; i++)
		free(cf->listen[i]);
	for (i = 0; i < cf->ninputs; i++) {
		free(cf->inputs[i].listen);
		free(cf->inputs[i].path);
	}
	for (i = 0; i < cf->noutputs; i++) {
		free(cf->outputs[i].path);
		free(cf->outputs[i].target);
		free(cf->outputs[i].url);
	}
	memset(cf, 0, sizeof(*cf));
}
