/*
 * registry.c - metadata records over event time (see registry.h). Each
 * (kind, tenant, id) holds its versions in time order; lookups take the last
 * version that had begun at the asked time, so late events see the past.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "complyd/jpack.h"
#include "complyd/metastream.h"
#include "complyd/registry.h"
#include "complyd/util.h"
#include "complyd/yamlx.h"

/*
 * A version is kept packed (jpack.h; a 1M-contract registry in cJSON trees
 * would take ~2 GB); look-ups unpack it into a small cache of trees, a ring
 * per kind. A tree handed out stays valid while fewer than its kind's
 * ring_len other versions of that kind are unpacked: more than one event
 * ever touches. Holding one longer is a bug that shows as another record's
 * fields (the block is reused), not as a crash: callers look records up
 * again for each check.
 *
 * Why a ring per kind: the trees of one kind never push out another's, so
 * the promise above holds per kind, whatever else a check looks up.
 *
 * Why the rings of contracts and datasets are short: a contract's next use
 * is weeks of feed away, past any ring, and a dataset's tree kept from its
 * last use lay in a ring of megabytes, out of the cache by then. Unpacked
 * again into one of a few blocks that stay in the cache, a tree costs less
 * than either (bench_replay, side by side: contracts 4096 -> 128 about
 * -5%, then datasets 4096 -> 64 another 3-8%). A ring still holds far
 * more trees than one event or one record check touches. Facilities are
 * few and seldom used: their ring stays long, no gain either way.
 */
#define REG_CACHE	4096
static const int ring_len[REC__COUNT] = {
	[REC_CONTRACT] = 128,
	[REC_DATASET] = 64,
	[REC_FACILITY] = REG_CACHE,
};
/*
 * Bytes a version loaded from a file may grow by and still be replaced in
 * its place in the slab: a date and a flag, what one fact sets. Why: in a
 * replay (no history) the first fact on a record replaces its loaded
 * version; without the room, a million contracts each given a receipt date
 * left their loaded versions dead in the slab (bench deadlines: peak RSS
 * 474 -> 572 MiB), with it they take no new memory at all.
 */
#define REG_ROOM	24
/* A block bigger than this (a huge upserted record) is freed when evicted. */
#define REG_BLOCK_KEEP	(64 * 1024)

struct rec_version {
	instant_t	 from;
	unsigned char	*packed;
	int32_t		 cached;	/* slot in the cache, -1 */
	int32_t		 slab_room;	/* > 0: packed lives in a slab, in this many bytes */
};

/*
 * A record: its versions, and "tenant\0id" in the same block (each_one hands
 * both out in place). Records are never freed before their registry, so the
 * block is a piece of its slab, and so are the versions loaded from files
 * (see registry_free). The first version lives in the block too (v is &v0
 * while cap is 1): most records never get a second one, and a look-up then
 * misses the caches once for the record, not again for its versions.
 */
struct rec {
	struct rec_version *v;
	int		 n, cap;
	struct rec_version v0;
	char		 key[];
};

/* A cache entry keeps its block when evicted: trees are rebuilt in place. */
struct cache_ent {
	struct rec_version *ver;
	cJSON		*json;		/* NULL while free */
	void		*block;
	size_t		 size;
};

struct reg_cache {
	struct cache_ent e[REC__COUNT * REG_CACHE];	/* kind k's ring: from k * REG_CACHE */
	int		 hand[REC__COUNT];
	uint64_t	 gen;	/* see registry_generation */
	/*
	 * The record of each kind last found: the rules of an event look the same
	 * one up again and again. Records are never freed before the registry,
	 * and the version is chosen afresh at each look-up, so this never goes stale.
	 */
	struct rec	*last[REC__COUNT];
};

struct registry {
	struct ptab		 kinds[REC__COUNT];	/* struct rec, by key */
	struct reg_cache	*cache;
	struct jpack_keys	*keys;		/* of every packed version */
	struct slab		*slab;		/* records, versions from files */
	int			 history;	/* keep superseded versions (late events) */
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

	r->cache = xcalloc(1, sizeof(*r->cache));
	r->keys = jpack_keys_new();
	r->slab = slab_new();
	r->history = 1;
	return r;
}

void
registry_keep_history(struct registry *r, int keep)
{
	r->history = keep;
}

const uint64_t *
registry_generation(const struct registry *r)
{
	return &r->cache->gen;
}

static void
uncache(struct registry *r, struct rec_version *v)
{
	if (v->cached < 0)
		return;
	r->cache->gen++;
	r->cache->e[v->cached].json = NULL;
	r->cache->e[v->cached].ver = NULL;
	v->cached = -1;
}

/* The tree of a version of kind k: from the cache, or unpacked into the slot under k's hand. */
static const cJSON *
tree(const struct registry *r, enum rec_kind k, struct rec_version *v)
{
	struct reg_cache	*c = r->cache;
	struct cache_ent	*e;
	int			 slot;

	if (v->cached >= 0)
		return c->e[v->cached].json;
	c->gen++;	/* a tree may take an old one's place */
	slot = k * REG_CACHE + c->hand[k];
	e = &c->e[slot];
	if (e->ver)
		e->ver->cached = -1;
	e->ver = NULL;
	if (e->size > REG_BLOCK_KEEP) {
		free(e->block);
		e->block = NULL;
		e->size = 0;
	}
	if ((e->json = jpack_tree_in(r->keys, v->packed, &e->block, &e->size)) != NULL) {
		e->ver = v;
		v->cached = slot;
		c->hand[k] = (c->hand[k] + 1) % ring_len[k];
	}
	return e->json;
}

/*
 * Splitting walks every record of a table, a cache miss each; asked for a
 * few buckets ahead, the misses overlap (0.019 -> 0.011 s for the bench's
 * registry). Freeing gained nothing from it: its time goes to malloc.
 */
#define WALK_AHEAD	16

static void
walk_prefetch(const struct ptab *t, size_t i)
{
	const struct rec	*rc;

	if (i + WALK_AHEAD < t->cap && (rc = ptab_at(t, i + WALK_AHEAD)) != NULL)
		__builtin_prefetch(rc);
}

/* What malloc gave rc: versions set or upserted since loading, a grown array. */
static void
rec_free_one(struct rec *rc)
{
	int i;

	for (i = 0; i < rc->n; i++)
		if (rc->v[i].slab_room == 0)
			free(rc->v[i].packed);
	if (rc->v != &rc->v0)
		free(rc->v);
}

static int
addr_cmp(const void *pa, const void *pb)
{
	uintptr_t a = (uintptr_t)*(void *const *)pa, b = (uintptr_t)*(void *const *)pb;

	return a < b ? -1 : a > b;
}

/*
 * Frees what malloc gave the records of table t, and t; their blocks go with
 * the slab. In address order: in hash order each record was a cache miss
 * somewhere else in the heap; sorted, the walk runs along memory.
 *
 * Why the slab: a replay's end spent 0.05-0.065 s freeing each part of the
 * bench's registry a block at a time, both parts at once, from the arena of
 * the thread that had loaded them, contending for its lock.
 */
static void
free_records(struct ptab *t)
{
	struct rec	**v;
	size_t		 i, n = 0;

	for (i = 0; i < t->cap; i++)
		n += ptab_at(t, i) != NULL;
	v = xmalloc((n ? n : 1) * sizeof(*v));
	for (i = n = 0; i < t->cap; i++)
		if (ptab_at(t, i) != NULL)
			v[n++] = ptab_at(t, i);
	qsort(v, n, sizeof(*v), addr_cmp);
	for (i = 0; i < n; i++)
		rec_free_one(v[i]);
	free(v);
	ptab_free(t);
}

void
registry_free(struct registry *r)
{
	size_t	 i;
	int	 k;

	if (r == NULL)
		return;
	for (k = 0; k < REC__COUNT; k++)
		free_records(&r->kinds[k]);
	for (i = 0; i < REC__COUNT * REG_CACHE; i++)
		free(r->cache->e[i].block);
	free(r->cache);
	jpack_keys_free(r->keys);
	slab_unref(r->slab);
	free(r);
}

void
registry_on_change(struct registry *r, registry_change_fn fn, void *arg)
{
	r->on_change = fn;
	r->on_change_arg = arg;
}

/* A look-up's (tenant, id), with the length of tenant and the hash of both. */
struct rkey {
	const char	*tenant, *id;
	size_t		 tl;
	uint64_t	 h;
};

/*
 * The hash is that of "tenant\x1fid", the key string records were once
 * stored under, computed without building it: the table's order, and so the
 * order registry_each visits records in, stays as it was.
 */
static void
rkey_init(struct rkey *q, const char *tenant, const char *id)
{
	q->tenant = tenant;
	q->id = id;
	q->tl = strlen(tenant);
	q->h = hash64(id, strlen(id), hash64("\x1f", 1, hash64(tenant, q->tl,
	    HASH64_SEED)));
}

/*
 * Records of a kind sit in a ptab (util.h): a look-up touches the hash array
 * and then the record it needs anyway, whose key is in its own block. Tenant
 * and id are compared apart, so ("a", "b\x1fc") and ("a\x1fb", "c") differ.
 */
static int
rec_named(const struct rec *rc, const char *tenant, size_t tl, const char *id)
{
	/* Equal tenants: rc->key + tl is its NUL, and id follows. */
	return strcmp(rc->key, tenant) == 0 && strcmp(rc->key + tl + 1, id) == 0;
}

static int
rec_is(const void *entry, const void *key)
{
	const struct rkey *q = key;

	return rec_named(entry, q->tenant, q->tl, q->id);
}

static struct rec *
find(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id)
{
	const struct ptab	*t = &r->kinds[k];
	struct rec		*rc = r->cache->last[k];
	struct rkey		 q;

	if (rc && rec_named(rc, tenant, strlen(tenant), id))
		return rc;
	if (t->len == 0)
		return NULL;
	rkey_init(&q, tenant, id);
	if ((rc = ptab_at(t, ptab_probe(t, q.h, rec_is, &q))) != NULL)
		r->cache->last[k] = rc;
	return rc;
}

uint64_t
registry_prefetch(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id)
{
	struct rkey q;

	rkey_init(&q, tenant, id);
	ptab_prefetch(&r->kinds[k], q.h);
	return q.h;
}

/* Two lines: a record's key often lies in the second (slab pieces are 8-aligned). */
void
registry_prefetch_record(const struct registry *r, enum rec_kind k, uint64_t h)
{
	const char *rc = ptab_guess(&r->kinds[k], h);

	if (rc != NULL) {
		__builtin_prefetch(rc);
		__builtin_prefetch(rc + 64);
	}
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
	return i < 0 ? NULL : tree(r, k, &rc->v[i]);
}

int
registry_has(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id)
{
	return find(r, k, tenant, id) != NULL;
}

/* Room for one more version: the first in the record itself (see struct rec). */
static void
grow_versions(struct rec *rc)
{
	struct rec_version *nv;

	if (rc->cap == 0) {
		rc->v = &rc->v0;
		rc->cap = 1;
		return;
	}
	nv = xcalloc(rc->cap * 2, sizeof(*nv));
	memcpy(nv, rc->v, rc->n * sizeof(*nv));
	if (rc->v != &rc->v0)
		free(rc->v);
	rc->v = nv;
	rc->cap *= 2;
}

/*
 * Adds a version holding packed from t on, keeping time order (equal times
 * keep arrival order). Without history, a version that starts at or after the
 * one in force replaces it: nothing will ask for the past again.
 */
static void
insert_version(struct registry *r, struct rec *rc, instant_t t,
    unsigned char *packed, size_t len, int32_t slab_room)
{
	int i;

	r->cache->gen++;
	if (!r->history && rc->n > 0 && rc->v[rc->n - 1].from <= t) {
		struct rec_version *last = &rc->v[rc->n - 1];

		uncache(r, last);
		if (slab_room == 0 && (size_t)last->slab_room >= len) {
			memcpy(last->packed, packed, len);	/* see REG_ROOM */
			free(packed);
		} else {
			if (last->slab_room == 0)
				free(last->packed);
			last->packed = packed;
			last->slab_room = slab_room;
		}
		if (last->from != INSTANT_MIN)
			last->from = t;
		return;
	}
	if (rc->n == rc->cap) {
		for (i = 0; i < rc->n; i++)
			uncache(r, &rc->v[i]);	/* the array moves */
		grow_versions(rc);
	}
	for (i = rc->n; i > 0 && rc->v[i - 1].from > t; i--) {
		uncache(r, &rc->v[i - 1]);
		rc->v[i] = rc->v[i - 1];
	}
	rc->v[i].from = t;
	rc->v[i].packed = packed;
	rc->v[i].cached = -1;
	rc->v[i].slab_room = slab_room;
	rc->n++;
}

/*
 * The callback gets the record's own copies of tenant and id: they outlive
 * the caller's strings and are the same pointers at every change of rc.
 */
static void
changed(struct registry *r, enum rec_kind k, const struct rec *rc, instant_t t)
{
	if (r->on_change)
		r->on_change(r->on_change_arg, k, rc->key,
		    rc->key + strlen(rc->key) + 1, t);
}

static struct rec *
find_or_add(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id)
{
	struct ptab	*t = &r->kinds[k];
	struct rec	*rc;
	struct rkey	 q;
	size_t		 i, il = strlen(id);

	rkey_init(&q, tenant, id);
	ptab_reserve(t);
	if ((rc = ptab_at(t, i = ptab_probe(t, q.h, rec_is, &q))) == NULL) {
		rc = slab_zalloc(r->slab, sizeof(*rc) + q.tl + il + 2);
		memcpy(rc->key, tenant, q.tl + 1);
		memcpy(rc->key + q.tl + 1, id, il + 1);
		ptab_set(t, i, q.h, rc);
	}
	return rc;
}

/*
 * Adds json, packed, as the version of (k, tenant, id) from t on, and frees
 * it; tenant and id may point into it, so the record is found first. A
 * version from a file goes in the slab, with REG_ROOM to spare.
 */
static struct rec *
put_json(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, cJSON *json, int from_file)
{
	struct rec	*rc = find_or_add(r, k, tenant, id);
	unsigned char	*packed, *in;
	size_t		 len;
	int32_t		 room = 0;

	packed = jpack(r->keys, json, &len);
	if (from_file && len <= INT32_MAX - REG_ROOM) {
		room = (int32_t)(len + REG_ROOM);
		in = slab_zalloc(r->slab, room);
		memcpy(in, packed, len);
		free(packed);
		packed = in;
	}
	insert_version(r, rc, t, packed, len, room);
	cJSON_Delete(json);
	return rc;
}

void
registry_put(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, cJSON *json)
{
	changed(r, k, put_json(r, k, tenant, id, t, json, 0), t);
}

/*
 * cJSON_GetObjectItemCaseSensitive for a record's tree, whose members all
 * have names: the first byte rules out most without a call to strcmp.
 */
static const cJSON *
member(const cJSON *o, const char *name)
{
	const cJSON *it;

	for (it = o->child; it; it = it->next)
		if (it->string && it->string[0] == name[0] && strcmp(it->string, name) == 0)
			return it;
	return NULL;
}

int
registry_set_fields(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, char *const *fields, cJSON **vals, int n)
{
	struct rec	*rc;
	const cJSON	*cur;
	unsigned char	*next = NULL;
	size_t		 len;
	int		 i, j, rc_ = -1, same = 1;

	if ((rc = find(r, k, tenant, id)) != NULL && (i = version_at(rc, t)) >= 0 &&
	    (cur = tree(r, k, &rc->v[i])) != NULL) {
		for (j = 0; j < n && same; j++)
			if (vals[j] && !cJSON_Compare(member(cur, fields[j]), vals[j], 1))
				same = 0;
		/* Patched from the packed version in force: no tree is packed again. */
		if (!same && (next = jpack_set(r->keys, rc->v[i].packed, fields,
		    (const cJSON *const *)vals, n, &len)) != NULL) {
			insert_version(r, rc, t, next, len, 0);
			changed(r, k, rc, t);
		}
		rc_ = same || next ? 0 : -1;
	}
	for (j = 0; j < n; j++)
		cJSON_Delete(vals[j]);
	return rc_;
}

int
registry_set_field(struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t, const char *field, cJSON *val)
{
	char *f = (char *)(uintptr_t)field;

	return registry_set_fields(r, k, tenant, id, t, &f, &val, 1);
}

struct each_ctx {
	const struct registry *r;
	enum rec_kind k;
	void	(*fn)(void *, const char *, const char *, const cJSON *);
	void	*arg;
};

static void
each_one(struct each_ctx *c, const struct rec *rc)
{
	if (rc->n > 0)
		c->fn(c->arg, rc->key, rc->key + strlen(rc->key) + 1,
		    tree(c->r, c->k, &rc->v[rc->n - 1]));
}

void
registry_each(const struct registry *r, enum rec_kind k,
    void (*fn)(void *, const char *, const char *, const cJSON *), void *arg)
{
	struct each_ctx		 c = { r, k, fn, arg };
	const struct ptab	*t = &r->kinds[k];
	size_t			 i;

	for (i = 0; i < t->cap; i++)
		if (ptab_at(t, i))
			each_one(&c, ptab_at(t, i));
}

int
registry_part_of(const char *tenant, size_t len, int nparts)
{
	return (int)(hash64(tenant, len, HASH64_SEED) % (uint64_t)nparts);
}

/* Moves rc (its map hash h) into p, which does not hold its key yet. */
static void
move_rec(struct registry *r, struct registry *p, enum rec_kind k,
    struct rec *rc, uint64_t h)
{
	struct ptab	*t = &p->kinds[k];
	struct rkey	 q;
	int		 i;

	for (i = 0; i < rc->n; i++)
		uncache(r, &rc->v[i]);	/* r's cache is not p's */
	q.tenant = rc->key;
	q.tl = strlen(rc->key);
	q.id = rc->key + q.tl + 1;
	q.h = h;
	ptab_reserve(t);
	ptab_set(t, ptab_probe(t, h, rec_is, &q), h, rc);
}

struct registry **
registry_split(struct registry *r, int nparts)
{
	struct registry	**parts = xcalloc(nparts, sizeof(*parts));
	struct ptab	*t;
	struct rec	*rc;
	size_t		 i;
	int		 k, p;

	for (p = 0; p < nparts; p++) {
		parts[p] = registry_new();
		/* r's records move to the parts: its memory lives while they do. */
		slab_unref(parts[p]->slab);
		parts[p]->slab = slab_child(r->slab);
		jpack_keys_free(parts[p]->keys);
		parts[p]->keys = jpack_keys_copy(r->keys);
		parts[p]->history = r->history;
	}
	for (k = 0; k < REC__COUNT; k++) {
		t = &r->kinds[k];
		/* A fair share and a quarter more: the tables seldom grow on the way. */
		for (p = 0; p < nparts; p++)
			ptab_reserve_n(&parts[p]->kinds[k], t->len / nparts +
			    t->len / nparts / 4);
		for (i = 0; i < t->cap; i++) {
			walk_prefetch(t, i);
			if ((rc = ptab_at(t, i)) == NULL)
				continue;
			p = registry_part_of(rc->key, strlen(rc->key), nparts);
			move_rec(r, parts[p], k, rc, ptab_hash_at(t, i));
		}
		ptab_free(t);
		memset(t, 0, sizeof(*t));
		r->cache->last[k] = NULL;	/* moved away */
	}
	return parts;
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
		put_json(r, k, tenant, id, INSTANT_MIN, json, 1);
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

struct stream_ctx {
	struct registry	*r;
	const char	*path;
};

/* One record from the streaming reader (already checked for id and tenant). */
static int
stream_record(void *arg, int kind, cJSON *rec, int line, int col)
{
	struct stream_ctx	*c = arg;
	const char		*id = rec_string(rec, "id");
	const char		*tenant = rec_string(rec, "tenant");

	if (registry_has(c->r, kind, tenant, id))
		fprintf(stderr, "%s:%d:%d: warning: %s %s/%s defined again; the later "
		    "one wins\n", c->path, line, col, kind_names[kind], tenant, id);
	put_json(c->r, kind, tenant, id, INSTANT_MIN, rec, 1);
	return 0;
}

/* Files are streamed record by record: 1M contracts never sit in memory as YAML. */
static int
load_file(struct registry *r, const char *path, int *nerrors)
{
	struct stream_ctx	 c = { r, path };
	int			 n = meta_stream_file(path, stream_record, &c, nerrors);

	if (n < 0) {
		(*nerrors)++;
		return 0;
	}
	return n;
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
