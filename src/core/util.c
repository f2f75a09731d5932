/*
 * util.c - checked allocation, growable string buffer, FNV-1a hashing, a
 * string-keyed hash map and a set of 64-bit fingerprints (see util.h).
 * Both tables use open addressing with linear probing over a power-of-two table.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/util.h"

#define TABLE_MIN	16

static void __attribute__((noreturn))
oom(size_t n)
{
	fprintf(stderr, "complyd: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p;

	/* malloc(0) may return NULL legitimately; ask for one byte instead. */
	if ((p = malloc(n ? n : 1)) == NULL)
		oom(n);
	return p;
}

/*
 * Why not calloc for a table that grows: calloc takes fresh pages as they
 * come, zero, and the first probe reads them, which maps the shared zero
 * page; the first write then copies it, and in a process whose threads run
 * on several processors every such fault flushes the TLBs of all of them
 * (an interrupt each). Writing the zeros at once maps each page once.
 */
void *
xcalloc_written(size_t n, size_t m)
{
	void	*p;

	if (n == 0 || m == 0)
		n = m = 1;
	if (n > SIZE_MAX / m)
		oom(SIZE_MAX);
	p = xmalloc(n * m);
	memset(p, 0, n * m);
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void	*p;

	if (n == 0 || m == 0)
		n = m = 1;
	if ((p = calloc(n, m)) == NULL)
		oom(n * m);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void	*q;

	if ((q = realloc(p, n ? n : 1)) == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
sbuf_init(struct sbuf *b)
{
	b->cap = 64;
	b->len = 0;
	b->s = xmalloc(b->cap);
	b->s[0] = '\0';
}

/* Makes room for n more bytes plus the terminating NUL. */
static void
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t	 need;

	if (b->s == NULL)
		sbuf_init(b);
	need = b->len + n + 1;
	if (need <= b->cap)
		return;
	while (b->cap < need)
		b->cap *= 2;
	b->s = xrealloc(b->s, b->cap);
}

void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	sbuf_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
sbuf_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

uint64_t
hash64(const void *p, size_t n, uint64_t seed)
{
	const unsigned char	*c = p;
	uint64_t		 h = seed;

	/* Four bytes a turn: the same hash, with a quarter of the loop's overhead. */
	for (; n >= 4; n -= 4, c += 4) {
		h = (h ^ c[0]) * 0x100000001b3ULL;
		h = (h ^ c[1]) * 0x100000001b3ULL;
		h = (h ^ c[2]) * 0x100000001b3ULL;
		h = (h ^ c[3]) * 0x100000001b3ULL;
	}
	for (; n > 0; n--, c++)
		h = (h ^ *c) * 0x100000001b3ULL;
	return h;
}

void
hmap_init(struct hmap *m)
{
	m->ents = NULL;
	m->cap = m->len = 0;
}

/* Slot holding key, or the empty slot where it would go; cap must be > 0. */
static struct hmap_ent *
hmap_slot(struct hmap_ent *ents, size_t cap, const char *key, uint64_t h)
{
	size_t	 i;

	for (i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (ents[i].key == NULL)
			return &ents[i];
		if (ents[i].hash == h && strcmp(ents[i].key, key) == 0)
			return &ents[i];
	}
}

static void
hmap_grow(struct hmap *m)
{
	struct hmap_ent	*ne, *e;
	size_t		 ncap, i;

	ncap = m->cap ? m->cap * 2 : TABLE_MIN;
	ne = xcalloc_written(ncap, sizeof(*ne));
	for (i = 0; i < m->cap; i++) {
		if (m->ents[i].key == NULL)
			continue;
		e = hmap_slot(ne, ncap, m->ents[i].key, m->ents[i].hash);
		*e = m->ents[i];
	}
	free(m->ents);
	m->ents = ne;
	m->cap = ncap;
}

uint64_t
hmap_hash(const char *key)
{
	return hash64(key, strlen(key), HASH64_SEED);
}

void *
hmap_get_hashed(const struct hmap *m, const char *key, uint64_t h)
{
	struct hmap_ent	*e;

	if (m->len == 0)
		return NULL;
	e = hmap_slot(m->ents, m->cap, key, h);
	return e->key ? e->val : NULL;
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	return m->len == 0 ? NULL : hmap_get_hashed(m, key, hmap_hash(key));
}

void *
hmap_put(struct hmap *m, const char *key, void *val)
{
	struct hmap_ent	*e;
	uint64_t	 h;
	void		*old;

	/* Keep load under 70% so probe chains stay short and a free slot exists. */
	if ((m->len + 1) * 10 > m->cap * 7)
		hmap_grow(m);
	h = hmap_hash(key);
	e = hmap_slot(m->ents, m->cap, key, h);
	if (e->key != NULL) {
		old = e->val;
		e->val = val;
		return old;
	}
	e->key = xstrdup(key);
	e->hash = h;
	e->val = val;
	m->len++;
	return NULL;
}

void
hmap_each(const struct hmap *m, void (*fn)(const char *, void *, void *),
    void *arg)
{
	size_t	 i;

	for (i = 0; i < m->cap; i++)
		if (m->ents[i].key != NULL)
			fn(m->ents[i].key, m->ents[i].val, arg);
}

void
hmap_free(struct hmap *m, void (*free_val)(void *))
{
	size_t	 i;

	for (i = 0; i < m->cap; i++) {
		if (m->ents[i].key == NULL)
			continue;
		free(m->ents[i].key);
		if (free_val)
			free_val(m->ents[i].val);
	}
	free(m->ents);
	hmap_init(m);
}

size_t
str_blank_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			break;
	return i;
}

int
str_blank(const char *s, size_t n)
{
	return str_blank_len(s, n) == n;
}

int
utf8_check(const char *s, size_t n, size_t *bad)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, len;

	while (i < n) {
		/* Events are mostly ASCII: eight bytes at a time while they are. */
		if (n - i >= 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((len = utf8_seq(p + i, n - i)) == 0) {
			*bad = i;
			return -1;
		}
		i += len;
	}
	return 0;
}

size_t
ptab_probe(const struct ptab *t, uint64_t h,
    int (*eq)(const void *, const void *), const void *key)
{
	size_t i;

	for (i = h & (t->cap - 1); t->b[i].e != NULL; i = (i + 1) & (t->cap - 1))
		if (t->b[i].hash == h && eq(t->b[i].e, key))
			break;
	return i;
}

void
ptab_prefetch(const struct ptab *t, uint64_t h)
{
	if (t->cap)
		__builtin_prefetch(&t->b[h & (t->cap - 1)]);
}

static int
any_entry(const void *entry, const void *key)
{
	(void)entry;
	(void)key;
	return 1;
}

void *
ptab_guess(const struct ptab *t, uint64_t h)
{
	return t->cap ? ptab_at(t, ptab_probe(t, h, any_entry, NULL)) : NULL;
}

/* Rehashes t into cap buckets (a power of 2 holding its entries). */
static void
ptab_grow(struct ptab *t, size_t cap)
{
	struct ptab_bucket	*ob = t->b;
	size_t			 ocap = t->cap, i, j;

	t->cap = cap;
	t->b = xcalloc_written(t->cap, sizeof(*t->b));
	for (i = 0; i < ocap; i++) {
		if (ob[i].e == NULL)
			continue;
		for (j = ob[i].hash & (t->cap - 1); t->b[j].e; j = (j + 1) & (t->cap - 1))
			;
		t->b[j] = ob[i];
	}
	free(ob);
}

void
ptab_reserve(struct ptab *t)
{
	if ((t->len + 1) * 10 > t->cap * 7)
		ptab_grow(t, t->cap ? t->cap * 2 : 256);
}

void
ptab_reserve_n(struct ptab *t, size_t n)
{
	size_t cap = t->cap ? t->cap : 256;

	if (n == 0)
		return;
	if (n > SIZE_MAX / 16)
		oom(SIZE_MAX);
	while (n * 10 > cap * 7)
		cap *= 2;
	if (cap != t->cap)
		ptab_grow(t, cap);
}

void
ptab_set(struct ptab *t, size_t i, uint64_t h, void *e)
{
	t->b[i].e = e;
	t->b[i].hash = h;
	t->len++;
}

void
ptab_free(struct ptab *t)
{
	free(t->b);
	memset(t, 0, sizeof(*t));
}

void
hset64_init(struct hset64 *s)
{
	s->slots = NULL;
	s->cap = s->len = 0;
}

/* 0 marks an empty slot, so the fingerprint 0 is stored as 1. */
static uint64_t
hset64_key(uint64_t h)
{
	return h ? h : 1;
}

/* Where a look-up of h (stored form) starts; cap must be > 0. */
static size_t
hset64_home(size_t cap, uint64_t h)
{
	/* Mix the high bits in: callers may pass weak fingerprints. */
	return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

/* Slot holding h or the empty slot where it would go; cap must be > 0. */
static uint64_t *
hset64_slot(uint64_t *slots, size_t cap, uint64_t h)
{
	size_t	 i;

	for (i = hset64_home(cap, h);; i = (i + 1) & (cap - 1))
		if (slots[i] == 0 || slots[i] == h)
			return &slots[i];
}

void
hset64_prefetch(const struct hset64 *s, uint64_t h)
{
	if (s->cap > 0)
		__builtin_prefetch(&s->slots[hset64_home(s->cap, hset64_key(h))], 1);
}

static void
hset64_grow(struct hset64 *s)
{
	uint64_t	*ns;
	size_t		 ncap, i;

	ncap = s->cap ? s->cap * 2 : TABLE_MIN;
	ns = xcalloc_written(ncap, sizeof(*ns));
	for (i = 0; i < s->cap; i++)
		if (s->slots[i] != 0)
			*hset64_slot(ns, ncap, s->slots[i]) = s->slots[i];
	free(s->slots);
	s->slots = ns;
	s->cap = ncap;
}

int
hset64_add(struct hset64 *s, uint64_t h)
{
	uint64_t	*p;

	h = hset64_key(h);
	if ((s->len + 1) * 10 > s->cap * 7)
		hset64_grow(s);
	p = hset64_slot(s->slots, s->cap, h);
	if (*p == h)
		return 0;
	*p = h;
	s->len++;
	return 1;
}

int
hset64_has(const struct hset64 *s, uint64_t h)
{
	if (s->len == 0)
		return 0;
	h = hset64_key(h);
	return *hset64_slot(s->slots, s->cap, h) == h;
}

void
hset64_free(struct hset64 *s)
{
	free(s->slots);
	hset64_init(s);
}

/* --- slab --- */

/*
 * Chunks of a mebibyte come from calloc as fresh pages (mmap), zero and
 * untouched until written; a piece over a quarter of that gets a chunk of
 * its own, so that no more than a quarter of a chunk goes unused.
 */
#define SLAB_CHUNK	(1024 * 1024)
/* Pointers and 64-bit integers, what records hold; malloc's 16 would waste. */
#define SLAB_ALIGN	((size_t)8)

struct slab_chunk {
	struct slab_chunk	*next;
	unsigned char		 data[];
};

struct slab {
	atomic_int		 refs;
	struct slab		*parent;
	struct slab_chunk	*chunks;	/* the one being filled first */
	size_t			 used, cap;	/* of its data */
};

struct slab *
slab_new(void)
{
	struct slab *s = xcalloc(1, sizeof(*s));

	atomic_init(&s->refs, 1);
	return s;
}

struct slab *
slab_child(struct slab *parent)
{
	struct slab *s = slab_new();

	if (parent != NULL) {
		atomic_fetch_add(&parent->refs, 1);
		s->parent = parent;
	}
	return s;
}

void *
slab_zalloc(struct slab *s, size_t n)
{
	struct slab_chunk	*c;
	size_t			 need;
	void			*p;

	if (n > SIZE_MAX - sizeof(*c) - SLAB_ALIGN)
		oom(n);
	need = n ? (n + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1) : SLAB_ALIGN;
	if (need > SLAB_CHUNK / 4) {
		/* A chunk of its own, behind the one being filled, which goes on. */
		c = xcalloc(1, sizeof(*c) + need);
		if (s->chunks != NULL) {
			c->next = s->chunks->next;
			s->chunks->next = c;
		} else {
			s->chunks = c;
			s->used = s->cap = need;
		}
		return c->data;
	}
	if (s->chunks == NULL || s->cap - s->used < need) {
		c = xcalloc(1, sizeof(*c) + SLAB_CHUNK);
		c->next = s->chunks;
		s->chunks = c;
		s->used = 0;
		s->cap = SLAB_CHUNK;
	}
	p = (char *)s->chunks->data + s->used;
	s->used += need;
	return p;
}

void
slab_unref(struct slab *s)
{
	struct slab_chunk	*c, *next;
	struct slab		*parent;

	while (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1) {
		for (c = s->chunks; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
		parent = s->parent;
		free(s);
		s = parent;
	}
}
