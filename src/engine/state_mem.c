/*
 * state_mem.c - the engine state in memory (replay, tests). Seen ids are kept
 * as 64-bit fingerprints of (tenant, id): 8 bytes an event instead of the strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/event.h"
#include "complyd/rules.h"
#include "complyd/state.h"
#include "complyd/util.h"

/*
 * Slots live in an open-addressing table of pointers keyed by a 64-bit hash
 * of (rule, tenant, key), compared in full on a match; tenant names are
 * interned. A million open deadlines then cost their slots and little more.
 * Slots are never freed before the state: they are pieces of its slab.
 */
struct state_mem {
	struct state	 base;
	struct hset64	 seen;
	struct ptab	 slots;		/* struct slot, by (rule, tenant, key) */
	struct hmap	 tenants;	/* name -> the interned copy */
	struct slab	*slab;		/* the slots */
};

static int
mem_seen(struct state *st, const char *tenant, const char *id)
{
	struct state_mem *m = (struct state_mem *)st;

	return !hset64_add(&m->seen, event_id_hash(tenant, id));
}

/*
 * Why: a million ids make the set larger than the caches, so each look-up
 * misses once. Hinted a batch ahead, the misses overlap (measured: about
 * 1.5% of a replay's CPU).
 */
static void
mem_prefetch(struct state *st, const char *tenant, const char *id)
{
	struct state_mem *m = (struct state_mem *)st;

	hset64_prefetch(&m->seen, event_id_hash(tenant, id));
}

/*
 * The slots of one (tenant, key) under different rules share their home
 * bucket: a record's check visits each of its rules' slots in turn, and
 * their buckets then lie side by side, one cache miss rather than one a
 * rule. The rule goes into the top bits only, which no table's index
 * reaches, so that a probe still tells the rules' slots apart by hash.
 */
static uint64_t
key_hash(const char *tenant, const char *key)
{
	return hash64(key, strlen(key), hash64(tenant, strlen(tenant) + 1,
	    HASH64_SEED));
}

static uint64_t
slot_hash(const struct rule *r, const char *tenant, const char *key)
{
	return key_hash(tenant, key) ^
	    (hash64(&r->index, sizeof(r->index), HASH64_SEED) << 40);
}

/* Their shared home bucket (see slot_hash). */
static void
mem_prefetch_slots(struct state *st, const char *tenant, const char *key)
{
	struct state_mem *m = (struct state_mem *)st;

	ptab_prefetch(&m->slots, key_hash(tenant, key));
}

struct slot_key {
	const struct rule	*rule;
	const char		*tenant, *key;
};

static int
slot_is(const void *entry, const void *key)
{
	const struct slot	*s = entry;
	const struct slot_key	*k = key;

	return s->rule == k->rule && strcmp(s->tenant, k->tenant) == 0 &&
	    strcmp(s->key, k->key) == 0;
}

static const char *
intern(struct state_mem *m, const char *tenant)
{
	char *t = hmap_get(&m->tenants, tenant);

	if (t == NULL) {
		t = xstrdup(tenant);
		hmap_put(&m->tenants, tenant, t);
	}
	return t;
}

static struct slot *
mem_slot(struct state *st, const struct rule *r, const char *tenant,
    const char *key, int create)
{
	struct state_mem	*m = (struct state_mem *)st;
	struct slot_key		 k = { r, tenant, key };
	uint64_t		 h = slot_hash(r, tenant, key);
	struct slot		*s;
	size_t			 i;

	if (m->slots.cap && (s = ptab_at(&m->slots, ptab_probe(&m->slots, h, slot_is, &k))) != NULL)
		return s;
	if (!create)
		return NULL;
	ptab_reserve(&m->slots);
	i = ptab_probe(&m->slots, h, slot_is, &k);
	/* The key lives in the slot's own allocation, right after it. */
	s = slab_zalloc(m->slab, sizeof(*s) + strlen(key) + 1);
	s->rule = r;
	s->tenant = (char *)(uintptr_t)intern(m, tenant);
	s->key = strcpy((char *)(s + 1), key);
	s->version = -1;
	s->closed = INSTANT_MAX;
	s->start = s->due = s->baseline = s->ev_baseline = DATE_NONE;
	ptab_set(&m->slots, i, h, s);
	return s;
}

static void
mem_dirty(struct state *st, struct slot *s)
{
	(void)st;
	(void)s;
}

static void
mem_each(struct state *st, void (*fn)(void *, struct slot *), void *arg)
{
	struct state_mem	*m = (struct state_mem *)st;
	size_t			 i;

	for (i = 0; i < m->slots.cap; i++)
		if (ptab_at(&m->slots, i))
			fn(arg, ptab_at(&m->slots, i));
}

/* A slot's tenant is interned (the state's), it and its key are in the slab. */
static void
slot_free(struct slot *s)
{
	free(s->evidence);
	free(s->win);
}

static void
mem_free(struct state *st)
{
	struct state_mem	*m = (struct state_mem *)st;
	size_t			 i;

	for (i = 0; i < m->slots.cap; i++)
		if (ptab_at(&m->slots, i))
			slot_free(ptab_at(&m->slots, i));
	ptab_free(&m->slots);
	hset64_free(&m->seen);
	hmap_free(&m->tenants, free);
	slab_unref(m->slab);
	free(m);
}

static const struct state_ops mem_ops = {
	.seen = mem_seen,
	.prefetch = mem_prefetch,
	.prefetch_slots = mem_prefetch_slots,
	.slot = mem_slot,
	.dirty = mem_dirty,
	.each = mem_each,
	.free = mem_free,
};

struct state *
state_mem_new(void)
{
	struct state_mem *m = xcalloc(1, sizeof(*m));

	m->base.ops = &mem_ops;
	hset64_init(&m->seen);
	hmap_init(&m->tenants);
	m->slab = slab_new();
	return &m->base;
}
