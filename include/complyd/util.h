/*
 * util.h - small containers every module shares: checked allocation, a growable
 * string buffer and a string-keyed hash map (open addressing, keys owned by the map).
 */
#ifndef COMPLYD_UTIL_H
#define COMPLYD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocate or abort: an allocation failure is not an input error we can report. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
/* xcalloc for a large table probed at once: the zeros are written (see util.c). */
void *xcalloc_written(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Growable NUL-terminated byte buffer. */
struct sbuf {
	char	*s;
	size_t	 len, cap;
};
void sbuf_init(struct sbuf *b);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_free(struct sbuf *b);

/* 64-bit FNV-1a; `seed` chains several fields into one hash. */
uint64_t hash64(const void *p, size_t n, uint64_t seed);
#define HASH64_SEED 0xcbf29ce484222325ULL

/* String-keyed map; values are opaque pointers, keys are copied. */
struct hmap_ent {
	char		*key;
	void		*val;
	uint64_t	 hash;
};
struct hmap {
	struct hmap_ent	*ents;
	size_t		 cap, len;
};
void  hmap_init(struct hmap *m);
/* Returns the value for `key`, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);
/* The hash of key that hmap uses: a key looked up in several maps is hashed once. */
uint64_t hmap_hash(const char *key);
/* hmap_get of a key whose hmap_hash is h. */
void *hmap_get_hashed(const struct hmap *m, const char *key, uint64_t h);
/* Inserts or replaces; returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const char *key, void *val);
/* Calls fn(key, val, arg) for each entry in unspecified order. */
void  hmap_each(const struct hmap *m, void (*fn)(const char *, void *, void *), void *arg);
/* Frees keys and the table; calls free_val on each value when non-NULL. */
void  hmap_free(struct hmap *m, void (*free_val)(void *));

/*
 * Open-addressing table of pointers with their 64-bit hashes beside them, for
 * entries that hold their own keys: the caller's eq() compares an entry with
 * a key. A zeroed struct is empty.
 */
/*
 * A bucket holds an entry's hash beside it: a probe that finds its entry
 * then reads one cache line, not one in a hash array and one in a pointer
 * array (the tables of a replay are far larger than the caches).
 */
struct ptab_bucket {
	uint64_t	 hash;
	void		*e;		/* NULL: empty */
};
struct ptab {
	struct ptab_bucket *b;
	size_t		 cap, len;
};
/* The entry in bucket i, or NULL. */
static inline void *
ptab_at(const struct ptab *t, size_t i)
{
	return t->b[i].e;
}
/* The hash of the entry in bucket i. */
static inline uint64_t
ptab_hash_at(const struct ptab *t, size_t i)
{
	return t->b[i].hash;
}
/* The bucket of the entry equal to key (hash h), or the empty one where it would go; cap > 0. */
size_t ptab_probe(const struct ptab *t, uint64_t h,
    int (*eq)(const void *entry, const void *key), const void *key);
/* Starts loading the bucket where a probe for hash h begins; changes nothing. */
void ptab_prefetch(const struct ptab *t, uint64_t h);
/*
 * The first entry whose hash is h, keys not compared: a guess, for a hint
 * (once ptab_prefetch has brought the buckets in). NULL if none.
 */
void *ptab_guess(const struct ptab *t, uint64_t h);
/* Makes room for one more entry (load stays under 70%); call before probing to add. */
void ptab_reserve(struct ptab *t);
/* Makes room for n entries in all at once, not growing step by step as they come. */
void ptab_reserve_n(struct ptab *t, size_t n);
/* Puts entry e (hash h) in empty bucket i. */
void ptab_set(struct ptab *t, size_t i, uint64_t h, void *e);
void ptab_free(struct ptab *t);

/* 1 if the n bytes at s are only spaces, tabs and line ends (a blank input line). */
int str_blank(const char *s, size_t n);
/* How many of the n bytes at s, from the first, are blanks as str_blank takes them. */
size_t str_blank_len(const char *s, size_t n);
/*
 * Checks that the n bytes at s are UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). 0, or -1 with the offset of the first
 * bad byte in *bad.
 */
int utf8_check(const char *s, size_t n, size_t *bad);
/*
 * Length of the UTF-8 sequence at p (left bytes there, at least 1), or 0 if
 * it is not one (RFC 3629, as utf8_check). Inline: the event decoder checks
 * every non-ASCII character of its input with it.
 */
static inline size_t
utf8_seq(const unsigned char *p, size_t left)
{
	unsigned char	 c = p[0], lo = 0x80, hi = 0xbf;
	size_t		 len, i;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	if (left < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * A slab: pieces of large chunks for what lives as long as its owner (a
 * registry's records), given back all at once: no header a piece, no free a
 * piece. A slab from slab_child keeps its parent's memory alive; each slab's
 * memory goes with its last reference, which any thread may drop.
 */
struct slab;
struct slab *slab_new(void);
/* An empty slab that holds a reference to parent's memory until it goes. */
struct slab *slab_child(struct slab *parent);
/* n zeroed bytes, aligned to 8 (not for long double), valid until the slab goes. */
void *slab_zalloc(struct slab *s, size_t n);
/* Drops a reference to s; the last one frees s (and drops its parent's). */
void slab_unref(struct slab *s);

/* A set of 64-bit fingerprints (for dedupe of (tenant, id) pairs). */
struct hset64 {
	uint64_t	*slots;
	size_t		 cap, len;
};
void hset64_init(struct hset64 *s);
/* Adds h; returns 1 if it was new, 0 if already present. */
int  hset64_add(struct hset64 *s, uint64_t h);
int  hset64_has(const struct hset64 *s, uint64_t h);
/* Starts loading the slot where a look-up of h begins into the cache; changes nothing. */
void hset64_prefetch(const struct hset64 *s, uint64_t h);
void hset64_free(struct hset64 *s);

#endif
