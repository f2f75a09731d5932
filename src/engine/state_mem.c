/*
 * state_mem.c - the engine state in memory (replay, tests). Seen ids are kept
 * as 64-bit fingerprints of (tenant, id): 8 bytes an event instead of the strings.
 */
#include <stdlib.h>
#include <string.h>

#include "complyd/rules.h"
#include "complyd/state.h"
#include "complyd/util.h"

struct state_mem {
	struct state	 base;
	struct hset64	 seen;
	struct hmap	 slots;		/* "ruleidx\x1ftenant\x1fkey" -> struct slot */
};

static int
mem_seen(struct state *st, const char *tenant, const char *id)
{
	struct state_mem *m = (struct state_mem *)st;
	uint64_t h;

	h = hash64(tenant, strlen(tenant) + 1, HASH64_SEED);
	h = hash64(id, strlen(id), h);
	return !hset64_add(&m->seen, h);
}

static struct slot *
mem_slot(struct state *st, const struct rule *r, const char *tenant,
    const char *key, int create)
{
	struct state_mem	*m = (struct state_mem *)st;
	struct sbuf		 k;
	struct slot		*s;

	sbuf_init(&k);
	sbuf_printf(&k, "%d\x1f%s\x1f%s", r->index, tenant, key);
	if ((s = hmap_get(&m->slots, k.s)) == NULL && create) {
		s = xcalloc(1, sizeof(*s));
		s->rule = r;
		s->tenant = xstrdup(tenant);
		s->key = xstrdup(key);
		s->version = -1;
		s->closed = INSTANT_MAX;
		s->start = s->due = s->baseline = s->ev_baseline = DATE_NONE;
		hmap_put(&m->slots, k.s, s);
	}
	sbuf_free(&k);
	return s;
}

static void
mem_dirty(struct state *st, struct slot *s)
{
	(void)st;
	(void)s;
}

struct each_arg {
	void	(*fn)(void *, struct slot *);
	void	*arg;
};

static void
each_slot(const char *key, void *val, void *arg)
{
	struct each_arg *a = arg;

	(void)key;
	a->fn(a->arg, val);
}

static void
mem_each(struct state *st, void (*fn)(void *, struct slot *), void *arg)
{
	struct state_mem *m = (struct state_mem *)st;
	struct each_arg a = { fn, arg };

	hmap_each(&m->slots, each_slot, &a);
}

static void
slot_free(void *p)
{
	struct slot *s = p;

	free(s->tenant);
	free(s->key);
	free(s->evidence);
	free(s->win);
	free(s);
}

static void
mem_free(struct state *st)
{
	struct state_mem *m = (struct state_mem *)st;

	hset64_free(&m->seen);
	hmap_free(&m->slots, slot_free);
	free(m);
}

static const struct state_ops mem_ops = {
	mem_seen, mem_slot, mem_dirty, mem_each, mem_free
};

struct state *
state_mem_new(void)
{
	struct state_mem *m = xcalloc(1, sizeof(*m));

	m->base.ops = &mem_ops;
	hset64_init(&m->seen);
	hmap_init(&m->slots);
	return &m->base;
}
