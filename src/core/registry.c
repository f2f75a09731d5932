/*
 * registry.c - metadata records over event time (see registry.h). Each
 * (kind, tenant, id) holds its versions in time order; lookups take the last
 * version that had begun at the asked time, so late events see the past.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "complyd/registry.h"
#include "complyd/util.h"
#include "complyd/yamlx.h"

struct rec_version {
	instant_t	 from;
	cJSON		*json;
};

struct rec {
	struct rec_version *v;
	int		 n, cap;
};

struct registry {
	struct hmap		 kinds[REC__COUNT];	/* "tenant\x1fid" -> struct rec */
	registry_change_fn	 on_change;
	void			*on_change_arg;
};

static const char *const kind_names[REC__COUNT] = { "contract", "dataset", "facility" };
static const char *const kind_plural[REC__COUNT] = { "contracts", "datasets", "facilities" };

int
rec_kind_parse(const char *s)
{
	int i;

	for (i = 0; i < REC__COUNT; i++)
		if (strcmp(s, kind_names[i]) == 0 || strcmp(s, kind_plural[i]) == 0)
			return i;
	return -1;
}

const char *
rec_kind_name(enum rec_kind k)
{
	return kind_names[k];
}

struct registry *
registry_new(void)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	int i;

	for (i = 0; i < REC__COUNT; i++)
		hmap_init(&r->kinds[i]);
	return r;
}

static void
rec_free(void *p)
{
	struct rec *rc = p;
	int i;

	for (i = 0; i < rc->n; i++)
		cJSON_Delete(rc->v[i].json);
	free(rc->v);
	free(rc);
}

void
registry_free(struct registry *r)
{
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < REC__COUNT; i++)
		hmap_free(&r->kinds[i], rec_free);
	free(r);
}

void
registry_on_change(struct registry *r, registry_change_fn fn, void *arg)
{
	r->on_change = fn;
	r->on_change_arg = arg;
}

/* The map key of (tenant, id): a unit separator cannot occur in either. */
static void
make_key(char *buf, size_t len, const char *tenant, const char *id)
{
	snprintf(buf, len, "%s\x1f%s", tenant, id);
}

static struct rec *
find(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id)
{
	char key[512];

	make_key(key, sizeof(key), tenant, id);
	return hmap_get(&r->kinds[k], key);
}

/* Index of the last version that had begun at t, or -1. */
static int
version_at(const struct rec *rc, instant_t t)
{
	int i;

	for (i = rc->n - 1; i >= 0; i--)
		if (rc->v[i].from <= t)
			return i;
	return -1;
}

const cJSON *
registry_get(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t)
{
	struct rec	*rc;
	int		 i;

	if (tenant == NULL || id == NULL || (rc = find(r, k, tenant, id)) == NULL)
		return NULL;
	i = version_at(rc, t);
	return i < 0 ? NULL : rc->v[i].json;
}

int
registry_has(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id)
{
	return find(r, k, tenant, id) != NULL;
}

/* Inserts a version keeping time order; equal times keep arrival order. */
static void
insert_version(struct rec *rc, instant_t t, cJSON *json)
{
	int i;

	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 2;
		rc->v = xrealloc(rc->v, rc->cap * sizeof(*rc->v));
	}
	for (i = rc->n; i > 0 && rc->v[i - 1].from > t; i--)
		rc->v[i] = rc->v[i - 1];
	rc->v[i].from = t;
	rc->v[i].json = json;
	rc->n++;
}

static void
changed(struct registry *r, enum rec_kind k, const char *tenant, const char *id,
    instant_t t)
{
	if (r->on_change)
		r->on_change(r->on_change_arg, k, tenant, id, t);
}

static struct rec *
find_or_add(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id)
{
	char		 key[512];
	struct rec	*rc;

	make_key(key, sizeof(key), tenant, id);
	if ((rc = hmap_get(&r->kinds[k], key)) == NULL) {
		rc = xcalloc(1, sizeof(*rc));
		hmap_put(&r->kinds[k], key, rc);
	}
	return rc;
}

void
registry_put(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, cJSON *json)
{
	insert_version(find_or_add(r, k, tenant, id), t, json);
	changed(r, k, tenant, id, t);
}

int
registry_set_field(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, const char *field, cJSON *val)
{
	struct rec	*rc;
	cJSON		*copy;
	int		 i;

	if ((rc = find(r, k, tenant, id)) == NULL || (i = version_at(rc, t)) < 0) {
		cJSON_Delete(val);
		return -1;
	}
	if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(rc->v[i].json, field),
	    val, 1)) {
		cJSON_Delete(val);
		return 0;
	}
	copy = cJSON_Duplicate(rc->v[i].json, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, field);
	cJSON_AddItemToObject(copy, field, val);
	insert_version(rc, t, copy);
	changed(r, k, tenant, id, t);
	return 0;
}

struct each_ctx {
	void	(*fn)(void *, const char *, const char *, const cJSON *);
	void	*arg;
};

static void
each_one(const char *key, void *val, void *arg)
{
	struct each_ctx	*c = arg;
	struct rec	*rc = val;
	const char	*sep = strchr(key, '\x1f');
	char		 tenant[256];
	size_t		 n = sep - key;

	if (rc->n == 0 || n >= sizeof(tenant))
		return;
	memcpy(tenant, key, n);
	tenant[n] = '\0';
	c->fn(c->arg, tenant, sep + 1, rc->v[rc->n - 1].json);
}

void
registry_each(const struct registry *r, enum rec_kind k,
    void (*fn)(void *, const char *, const char *, const cJSON *), void *arg)
{
	struct each_ctx c = { fn, arg };

	hmap_each(&r->kinds[k], each_one, &c);
}

size_t
registry_count(const struct registry *r, enum rec_kind k)
{
	return r->kinds[k].len;
}

/* --- loading metadata files --- */

static const char *
rec_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int
load_list(struct registry *r, struct ydoc *d, enum rec_kind k, yaml_node_t *list)
{
	yaml_node_t	*n;
	cJSON		*json;
	const char	*id, *tenant;
	int		 i, loaded = 0;

	if (list->type != YAML_SEQUENCE_NODE) {
		ydoc_error(d, list, "%s must be a list of records", kind_plural[k]);
		return 0;
	}
	for (i = 0; i < ydoc_len(d, list); i++) {
		n = ydoc_item(d, list, i);
		if (n->type != YAML_MAPPING_NODE) {
			ydoc_error(d, n, "a %s record must be a mapping", kind_names[k]);
			continue;
		}
		json = ydoc_to_json(d, n);
		id = rec_string(json, "id");
		tenant = rec_string(json, "tenant");
		if (id == NULL || tenant == NULL || strlen(tenant) + strlen(id) > 400) {
			ydoc_error(d, n, "a %s record needs string \"id\" and \"tenant\"",
			    kind_names[k]);
			cJSON_Delete(json);
			continue;
		}
		if (registry_has(r, k, tenant, id))
			ydoc_warn(d, n, "%s %s/%s defined again; the later one wins",
			    kind_names[k], tenant, id);
		insert_version(find_or_add(r, k, tenant, id), INSTANT_MIN, json);
		loaded++;
	}
	return loaded;
}

int
registry_load_node(struct registry *r, struct ydoc *d, yaml_node_t *root)
{
	static const char *const keys[] = { "contracts", "datasets", "facilities", NULL };
	yaml_node_t	*list;
	int		 k, loaded = 0;

	if (root == NULL)
		return 0;
	if (root->type != YAML_MAPPING_NODE) {
		ydoc_error(d, root, "metadata is a mapping of contracts, datasets and "
		    "facilities");
		return 0;
	}
	ydoc_check_keys(d, root, keys, "metadata");
	for (k = 0; k < REC__COUNT; k++)
		if ((list = ydoc_get(d, root, kind_plural[k])) != NULL)
			loaded += load_list(r, d, k, list);
	return loaded;
}

static int
load_file(struct registry *r, const char *path, int *nerrors)
{
	struct ydoc	 d;
	int		 loaded = 0;

	if (ydoc_load(&d, path) == 0)
		loaded = registry_load_node(r, &d, ydoc_root(&d));
	*nerrors += d.nerrors;
	ydoc_free(&d);
	return loaded;
}

static int
is_yaml_name(const char *s)
{
	size_t n = strlen(s);

	return s[0] != '.' && ((n > 5 && strcmp(s + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(s + n - 4, ".yml") == 0));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
registry_load(struct registry *r, const char *path, int *nerrors)
{
	struct stat	 st;
	DIR		*dir;
	struct dirent	*de;
	char		**names = NULL, buf[4096];
	int		 n = 0, i, loaded = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: error: no such file or directory\n", path);
		(*nerrors)++;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(r, path, nerrors);
	if ((dir = opendir(path)) == NULL) {
		fprintf(stderr, "%s: error: cannot open directory\n", path);
		(*nerrors)++;
		return 0;
	}
	/* Sorted, so that "the later one wins" means the same on every machine. */
	while ((de = readdir(dir)) != NULL)
		if (is_yaml_name(de->d_name)) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	closedir(dir);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", path, names[i]);
		loaded += load_file(r, buf, nerrors);
		free(names[i]);
	}
	free(names);
	return loaded;
}
