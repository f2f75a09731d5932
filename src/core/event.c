/*
 * event.c - decoding and validating the event envelope (DESIGN.md "Events").
 *
 * Events decoded one at a time (HTTP, syslog, file tail) get their tree
 * copied into one malloc'd block (jpack_copy). A replay's reader decodes
 * events whose trees all die at once, when their batch comes back, so it
 * has the parser build them straight in an arena instead: no malloc and free
 * per node, no copy. See "Arenas" below.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "complyd/event.h"
#include "complyd/jpack.h"
#include "complyd/util.h"

/* Envelope fields that must be non-empty strings. */
static const char *const required[] = { "id", "tenant", "type", "time" };
#define NREQUIRED	(sizeof(required) / sizeof(required[0]))

/* Member v of the envelope (NULL: absent) as required field name requires. */
static const char *
req_string(const cJSON *v, const char *name, char *err, size_t errlen)
{
	if (v == NULL) {
		snprintf(err, errlen, "missing \"%s\"", name);
		return NULL;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		snprintf(err, errlen, "\"%s\" must be a non-empty string", name);
		return NULL;
	}
	return v->valuestring;
}

/*
 * A key's hash: its first four bytes (all of a shorter key), read without a
 * strlen. Keys of different hashes differ, so only keys of equal hashes are
 * compared; the keys of one event seldom share their first four bytes.
 */
#define KH(a, b, c, d)	((uint32_t)(a) | (uint32_t)(b) << 8 | \
			    (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* key_hash of required[], as constants. */
static const uint32_t required_hash[NREQUIRED] = {
	KH('i', 'd', 0, 0), KH('t', 'e', 'n', 'a'), KH('t', 'y', 'p', 'e'),
	KH('t', 'i', 'm', 'e')
};

static uint32_t
key_hash(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 h;

	if (p == NULL || p[0] == '\0')
		return 0;
	h = KH(p[0], p[1], 0, 0);
	if (p[1] == '\0')
		return h;
	h |= KH(0, 0, p[2], 0);
	return p[2] == '\0' ? h : h | KH(0, 0, 0, p[3]);
}

/*
 * 1 if keys a and b, of equal hashes h, are the same (NULL: none is). A key
 * shorter than four bytes is all in its hash; a longer one is compared past
 * them, inline, as keys are short.
 */
static inline int
same_key(const char *a, const char *b, uint32_t h)
{
	if (a == NULL || b == NULL)
		return 0;
	if (h >> 24 == 0)
		return 1;
	for (a += 4, b += 4; *a != '\0' && *a == *b; a++, b++)
		;
	return *a == *b;
}

static int
given_twice(const char *key, char *err, size_t errlen)
{
	snprintf(err, errlen, "key \"%.40s\" is given twice", key);
	return 1;
}

#define SMALL_OBJECT	16	/* keys of an object checked without a hash map */

/* The slot of hash h in duplicate_small's table, the first it probes. */
#define SLOT(h)		((uint32_t)((h) * 0x9e3779b1u) >> 27)
#define NSLOTS		32

/* SLOT of required_hash[], as constants. */
static const unsigned char required_slot[NREQUIRED] = {
	SLOT(KH('i', 'd', 0, 0)), SLOT(KH('t', 'e', 'n', 'a')),
	SLOT(KH('t', 'y', 'p', 'e')), SLOT(KH('t', 'i', 'm', 'e'))
};

/* The member of keys m[] (hashes h[], in table tab) named required[i]. */
static const cJSON *
find_required(const cJSON *const *m, const uint32_t *h,
    const unsigned char *tab, size_t i)
{
	unsigned	 k;

	for (k = required_slot[i]; tab[k] != 0; k = (k + 1) % NSLOTS)
		if (h[tab[k] - 1] == required_hash[i] &&
		    same_key(m[tab[k] - 1]->string, required[i], required_hash[i]))
			return m[tab[k] - 1];
	return NULL;
}

/* Of keys m[0..n) (hashes h[]), the first that has a later twin is reported. */
static int
report_first_twice(const cJSON *const *m, const uint32_t *h, int n,
    char *err, size_t errlen)
{
	int	 i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (h[i] == h[j] && same_key(m[i]->string, m[j]->string,
			    h[i]))
				return given_twice(m[i]->string, err, errlen);
	return 0;
}

/*
 * An object of at most SMALL_OBJECT keys, in one pass: each key is looked up
 * among the earlier ones in an open table of 32 slots (index + 1; 0: free),
 * so that keys are compared only when their hashes are equal. 1 if a key is
 * given twice, 0 if not (req, if not NULL, then gets the members named in
 * required[]), -1 if o has more keys. *nested: some member has children.
 */
static int
duplicate_small(const cJSON *o, const cJSON **req, int *nested, char *err,
    size_t errlen)
{
	const cJSON	*m[SMALL_OBJECT], *a;
	uint32_t	 h[SMALL_OBJECT];
	unsigned char	 tab[NSLOTS] = { 0 };
	unsigned	 k;
	size_t		 i;
	int		 n = 0, twice = 0, kids = 0;

	_Static_assert(SMALL_OBJECT < NSLOTS, "duplicate_small: a free slot is left");
	for (a = o->child; a != NULL; a = a->next) {
		if (n == SMALL_OBJECT)
			return -1;
		m[n] = a;
		h[n] = key_hash(a->string);
		for (k = SLOT(h[n]); tab[k] != 0; k = (k + 1) % NSLOTS)
			if (h[tab[k] - 1] == h[n] &&
			    same_key(m[tab[k] - 1]->string, a->string, h[n]))
				twice = 1;
		tab[k] = (unsigned char)++n;
		kids |= a->child != NULL;
	}
	*nested = kids;
	if (twice)
		return report_first_twice(m, h, n, err, errlen);
	for (i = 0; req != NULL && i < NREQUIRED; i++)
		req[i] = find_required(m, h, tab, i);
	return 0;
}

/*
 * Larger objects go through a hash map, so a line of 100,000 keys costs no
 * more than its size; the key reported is the first repeated one.
 */
static int
duplicate_large(const cJSON *o, const cJSON **req, char *err, size_t errlen)
{
	const cJSON	*a;
	struct hmap	 seen;
	size_t		 i;
	int		 dup = 0;

	hmap_init(&seen);
	for (a = o->child; a != NULL && !dup; a = a->next)
		if (a->string && hmap_put(&seen, a->string, &seen) != NULL)
			dup = given_twice(a->string, err, errlen);
	hmap_free(&seen, NULL);
	for (i = 0; req != NULL && !dup && i < NREQUIRED; i++)
		req[i] = cJSON_GetObjectItemCaseSensitive(o, required[i]);
	return dup;
}

/*
 * A key given twice is ambiguous (we would read the first, other tools the
 * last: a second "tenant" could cross a tenant wall, a second record "id"
 * name another record): refuse it, at any depth. The envelope's own object
 * also has its required members found on the way (req; NULL below it).
 */
static int
duplicate_key(const cJSON *o, const cJSON **req, char *err, size_t errlen)
{
	const cJSON	*c;
	int		 type = o->type & 0xff, dup, nested = 1;

	if (type == cJSON_Object) {
		if ((dup = duplicate_small(o, req, &nested, err, errlen)) == -1) {
			nested = 1;
			dup = duplicate_large(o, req, err, errlen);
		}
		if (dup)
			return 1;
	}
	if (nested && (type == cJSON_Object || type == cJSON_Array))
		for (c = o->child; c != NULL; c = c->next)
			if (c->child != NULL && duplicate_key(c, NULL, err, errlen))
				return 1;
	return 0;
}

/* A *.upserted event carries a whole record of its own tenant. */
static int
check_upsert(const cJSON *json, const char *tenant, const char *type, char *err,
    size_t errlen)
{
	const char	*dot = strrchr(type, '.');
	const cJSON	*rec, *t, *id;

	if (dot == NULL || strcmp(dot, ".upserted") != 0)
		return 0;
	rec = cJSON_GetObjectItemCaseSensitive(json, "record");
	if (!cJSON_IsObject(rec)) {
		snprintf(err, errlen, "\"record\" must be an object");
		return -1;
	}
	id = cJSON_GetObjectItemCaseSensitive(rec, "id");
	t = cJSON_GetObjectItemCaseSensitive(rec, "tenant");
	if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
		snprintf(err, errlen, "\"record.id\" must be a non-empty string");
		return -1;
	}
	if (!cJSON_IsString(t) || strcmp(t->valuestring, tenant) != 0) {
		snprintf(err, errlen, "\"record.tenant\" must equal the event's tenant "
		    "\"%s\"", tenant);
		return -1;
	}
	return 0;
}

/* Checks the envelope of object o and fills ev's fields from it; 0 or -1. */
static int
check_envelope(const cJSON *o, struct soc_event *ev, char *err, size_t errlen)
{
	const cJSON	*req[NREQUIRED] = { NULL };
	const char	*vals[NREQUIRED];
	size_t		 i;

	if (duplicate_key(o, req, err, errlen))
		return -1;
	for (i = 0; i < NREQUIRED; i++)
		if ((vals[i] = req_string(req[i], required[i], err, errlen)) == NULL)
			return -1;
	if (strchr(vals[2], '.') == NULL) {
		snprintf(err, errlen, "\"type\" must be dotted domain.action, got \"%s\"",
		    vals[2]);
		return -1;
	}
	if (when_parse_instant(vals[3], &ev->time) == -1) {
		snprintf(err, errlen, "\"time\" is not RFC 3339 with an offset: \"%.64s\"",
		    vals[3]);
		return -1;
	}
	if (check_upsert(o, vals[1], vals[2], err, errlen) == -1)
		return -1;
	ev->id = vals[0];
	ev->tenant = vals[1];
	ev->type = vals[2];
	ev->type_hash = hmap_hash(ev->type);
	return 0;
}

static int
check_object(const cJSON *json, char *err, size_t errlen)
{
	if (cJSON_IsObject(json))
		return 0;
	snprintf(err, errlen, "an event must be a JSON object");
	return -1;
}

int
event_from_json(cJSON *json, struct soc_event *ev, char *err, size_t errlen)
{
	cJSON	*copy;

	memset(ev, 0, sizeof(*ev));
	if (check_object(json, err, errlen) == -1) {
		cJSON_Delete(json);
		return -1;
	}
	/*
	 * One block, so the engine reads it without chasing scattered nodes;
	 * the parser's tree is freed at once, while it is still in cache, and
	 * the envelope is checked (and pointed into) on the copy.
	 */
	copy = jpack_copy(json);
	cJSON_Delete(json);
	if (check_envelope(copy, ev, err, errlen) == -1) {
		free(copy);
		memset(ev, 0, sizeof(*ev));
		return -1;
	}
	ev->json = copy;
	return 0;
}

/* 1 if text holds the escape \u0000 (a NUL once decoded): at a backslash. */
static int
has_nul_escape(const char *text, size_t len)
{
	const char	*p = text, *end = text + len;

	while ((p = memchr(p, '\\', end - p)) != NULL) {
		if (end - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* 1 if byte c is one text_is_clean looks at: a NUL, a backslash, not ASCII. */
static int
needs_look(unsigned char c)
{
	return c == '\0' || c == '\\' || c >= 0x80;
}

/* Bit i set: byte p[i] of the 16 at p needs a look. */
static unsigned
look_mask16(const unsigned char *p)
{
#ifdef __SSE2__
	__m128i	 v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i	 nul = _mm_cmpeq_epi8(v, _mm_setzero_si128());
	__m128i	 bs = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));

	/* The sign bit of each byte: set in non-ASCII bytes and in matches. */
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(v, _mm_or_si128(nul, bs)));
#else
	unsigned	 m = 0;
	int		 i;

	for (i = 0; i < 16; i++)
		m |= (unsigned)needs_look(p[i]) << i;
	return m;
#endif
}

/*
 * Bit j set: byte p[i + j] of p[0..n), of the 16 from i (fewer at the end),
 * needs a look. The last bytes of a line are looked at with the 16 before
 * its end, as a line of 16 bytes or more has them.
 */
static unsigned
look_mask(const unsigned char *p, size_t n, size_t i)
{
	unsigned	 m = 0;
	size_t		 j;

	if (n - i >= 16)
		return look_mask16(p + i);
	if (n >= 16)
		return look_mask16(p + n - 16) >> (16 - (n - i));
	for (j = 0; i + j < n; j++)
		m |= (unsigned)needs_look(p[i + j]) << j;
	return m;
}

/*
 * How many bytes from p (left bytes there), a byte that needs a look, are
 * fine: 1 for a backslash, a UTF-8 sequence's length; 0 for a NUL, the
 * backslash of \u0000, or bytes that are not UTF-8.
 */
static size_t
looked_len(const unsigned char *p, size_t left)
{
	if (*p == '\\')
		return left >= 6 && memcmp(p, "\\u0000", 6) == 0 ? 0 : 1;
	return utf8_seq(p, left);	/* 0 for a NUL */
}

/*
 * 1 if text passes check_text's checks, in one pass that skips plain ASCII 16
 * bytes at a time; 0 if it fails one (check_text then finds which error it
 * reports). Every line read goes through here.
 */
static int
text_is_clean(const char *text, size_t len)
{
	const unsigned char	*p = (const unsigned char *)text;
	size_t			 i, n;
	unsigned		 m;

	for (i = 0; i < len; ) {
		if ((m = look_mask(p, len, i)) == 0) {
			i += len - i < 16 ? len - i : 16;
			continue;
		}
		/* Non-ASCII text comes in runs: taken without a new mask. */
		i += (size_t)__builtin_ctz(m);
		do {
			if ((n = looked_len(p + i, len - i)) == 0)
				return 0;
			i += n;
		} while (i < len && p[i] >= 0x80);
	}
	return 1;
}

/* The checks of the raw text, before it is parsed; 0 or -1. */
static int
check_text(const char *text, size_t len, char *err, size_t errlen)
{
	size_t	 bad;

	if (len > EVENT_MAX_LINE) {
		snprintf(err, errlen, "line longer than %d bytes", EVENT_MAX_LINE);
		return -1;
	}
	if (text_is_clean(text, len))
		return 0;
	/* A NUL would cut ids and tenants short (two ids, one key): refuse it. */
	if (memchr(text, '\0', len) != NULL || has_nul_escape(text, len)) {
		snprintf(err, errlen, "NUL characters are not allowed");
		return -1;
	}
	/* Alerts quote the event: bytes that are not UTF-8 would make them not JSON. */
	if (utf8_check(text, len, &bad) == -1) {
		snprintf(err, errlen, "invalid UTF-8 at byte %zu", bad + 1);
		return -1;
	}
	return 0;
}

/* text as one JSON value with only blanks after it; NULL (err set) if not. */
static cJSON *
parse_text(const char *text, size_t len, char *err, size_t errlen)
{
	const char	*end = NULL;
	cJSON		*json;

	/* On failure `end` is where parsing stopped: cJSON's global error
	 * pointer would be shared with the other threads that parse. */
	json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (json == NULL) {
		snprintf(err, errlen, "invalid JSON at byte %ld",
		    end ? (long)(end - text) + 1 : 0L);
		return NULL;
	}
	if (end)
		end += str_blank_len(end, len - (size_t)(end - text));
	if (end && (size_t)(end - text) < len) {
		snprintf(err, errlen, "trailing data after the JSON object at byte %ld",
		    (long)(end - text) + 1);
		cJSON_Delete(json);
		return NULL;
	}
	return json;
}

int
event_decode(const char *text, size_t len, struct soc_event *ev, char *err,
    size_t errlen)
{
	cJSON	*json;

	memset(ev, 0, sizeof(*ev));
	if (check_text(text, len, err, errlen) == -1 ||
	    (json = parse_text(text, len, err, errlen)) == NULL)
		return -1;
	return event_from_json(json, ev, err, errlen);
}

void
event_dispose(struct soc_event *ev)
{
	if (!ev->in_arena)
		free(ev->json);		/* a jpack_copy */
	memset(ev, 0, sizeof(*ev));
}

/* --- Arenas --- */

/*
 * cJSON allocates through process-wide hooks. Ours send the allocations of a
 * thread that has set cur_arena (only around a parse, in event_decode_in) to
 * that arena, all others to malloc. A free while it is set can only be cJSON
 * undoing its own failed parse, in arena memory: a no-op. Until the first
 * arena is made, cJSON keeps its own malloc and free.
 */
#define ARENA_CHUNK	(256 * 1024)	/* bytes of a chunk, unless a node needs more */
#define ARENA_KEEP	4		/* chunks a reset keeps */
/* cJSON stores pointers, ints and doubles: 8 bytes of alignment do. */
#define ARENA_ROUND(n)	(((n) + 7) & ~(size_t)7)

/*
 * Under ASan the free space of an arena is poisoned, so that a tree used
 * after its batch came back is reported, as when it had a block of its own.
 */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

struct chunk {
	struct chunk	*next;
	size_t		 size;		/* bytes after this header */
};
_Static_assert(sizeof(struct chunk) % 8 == 0, "chunk space starts aligned");

struct event_arena {
	struct chunk	*first, *cur;	/* first: ARENA_CHUNK bytes, never freed */
	char		*p, *end;	/* the free space of cur */
};

static _Thread_local struct event_arena *cur_arena;

static struct chunk *
chunk_new(size_t size)
{
	struct chunk	*c = xmalloc(sizeof(*c) + size);

	c->next = NULL;
	c->size = size;
	POISON(c + 1, size);
	return c;
}

static void
chunk_free(struct chunk *c)
{
	UNPOISON(c + 1, c->size);
	free(c);
}

/* Poisons the space from p in chunk c on, all of it free again. */
static void
arena_poison(struct chunk *c, char *p)
{
	POISON(p, (char *)(c + 1) + c->size - p);
	for (c = c->next; c != NULL; c = c->next)
		POISON(c + 1, c->size);
}

static void
arena_use(struct event_arena *a, struct chunk *c)
{
	a->cur = c;
	a->p = (char *)(c + 1);
	a->end = a->p + c->size;
}

/*
 * n bytes from the chunk after cur if it holds them, else from a new one put
 * there. Apart, so that the common path saves no registers.
 */
static __attribute__((noinline)) void *
arena_next(struct event_arena *a, size_t n)
{
	struct chunk	*c = a->cur->next;
	size_t		 r;

	if (n > SIZE_MAX / 2)
		return NULL;
	r = ARENA_ROUND(n);
	if (c == NULL || c->size < r) {
		c = chunk_new(r > ARENA_CHUNK ? r : ARENA_CHUNK);
		c->next = a->cur->next;
		a->cur->next = c;
	}
	arena_use(a, c);
	a->p += r;
	UNPOISON(a->p - r, n);
	return a->p - r;
}

/*
 * cJSON calls this for each node and string it makes. The free space of a
 * chunk is a whole number of 8-byte units (chunks are, and so is every
 * allocation), so when n fits, n rounded up does.
 */
static void *
arena_alloc(struct event_arena *a, size_t n)
{
	char	*p = a->p;

	if (n > (size_t)(a->end - p))
		return arena_next(a, n);
	a->p = p + ARENA_ROUND(n);
	UNPOISON(p, n);
	return p;
}

static void *
hook_malloc(size_t n)
{
	return cur_arena ? arena_alloc(cur_arena, n) : malloc(n);
}

static void
hook_free(void *p)
{
	if (cur_arena == NULL)
		free(p);
}

static void
install_hooks(void)
{
	cJSON_Hooks	 h = { hook_malloc, hook_free };

	cJSON_InitHooks(&h);
}

struct event_arena *
event_arena_new(void)
{
	static pthread_once_t	 once = PTHREAD_ONCE_INIT;
	struct event_arena	*a = xcalloc(1, sizeof(*a));

	pthread_once(&once, install_hooks);
	a->first = chunk_new(ARENA_CHUNK);
	arena_use(a, a->first);
	return a;
}

/* Keeps what a batch usually needs, not what one huge line once did. */
void
event_arena_reset(struct event_arena *a)
{
	struct chunk	*c, *next, **tail = &a->first->next;
	int		 kept = 1;

	for (c = a->first->next; c != NULL; c = next) {
		next = c->next;
		if (c->size == ARENA_CHUNK && kept < ARENA_KEEP) {
			*tail = c;
			tail = &c->next;
			kept++;
		} else
			chunk_free(c);
	}
	*tail = NULL;
	arena_use(a, a->first);
	arena_poison(a->first, a->p);
}

void
event_arena_free(struct event_arena *a)
{
	struct chunk	*c, *next;

	if (a == NULL)
		return;
	for (c = a->first; c != NULL; c = next) {
		next = c->next;
		chunk_free(c);
	}
	free(a);
}

int
event_decode_in(struct event_arena *a, const char *text, size_t len,
    struct soc_event *ev, char *err, size_t errlen)
{
	struct chunk	*cur = a->cur;
	char		*p = a->p;
	cJSON		*json;

	memset(ev, 0, sizeof(*ev));
	if (check_text(text, len, err, errlen) == -1)
		return -1;
	cur_arena = a;
	json = parse_text(text, len, err, errlen);
	cur_arena = NULL;
	if (json == NULL || check_object(json, err, errlen) == -1 ||
	    check_envelope(json, ev, err, errlen) == -1) {
		/* Whatever the parse took is free again (chunks stay listed). */
		a->cur = cur;
		a->p = p;
		a->end = (char *)(cur + 1) + cur->size;
		arena_poison(cur, p);
		memset(ev, 0, sizeof(*ev));
		return -1;
	}
	ev->json = json;
	ev->in_arena = 1;
	return 0;
}

uint64_t
event_id_hash(const char *tenant, const char *id)
{
	/* The tenant's NUL is hashed: ("ab", "c") and ("a", "bc") differ. */
	uint64_t h = hash64(tenant, strlen(tenant) + 1, HASH64_SEED);

	return hash64(id, strlen(id), h);
}

/*
 * Skips a JSON string starting at p (on the opening quote); returns past its
 * end. A quote with an odd run of backslashes before it is escaped. memchr:
 * most bytes of a line are inside strings, and the peeks of a replay read
 * them on the thread that feeds all others.
 */
static const char *
skip_string(const char *p, const char *end)
{
	const char	*q, *b;

	for (p++; p < end; p = q + 1) {
		if ((q = memchr(p, '"', (size_t)(end - p))) == NULL)
			return NULL;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q + 1;
	}
	return NULL;
}

int
event_peek_string(const char *text, size_t len, const char *name,
    const char **val, size_t *vlen)
{
	const char	*p = text, *end = text + len, *k;
	size_t		 nlen = strlen(name);
	int		 depth = 0, expect_key = 0;

	for (; p && p < end; ) {
		switch (*p) {
		case '{':
			depth++;
			expect_key = depth == 1;
			p++;
			break;
		case '[':
			depth++;
			expect_key = 0;
			p++;
			break;
		case '}': case ']':
			depth--;
			p++;
			break;
		case ',':
			expect_key = depth == 1;
			p++;
			break;
		case '"':
			k = p;
			p = skip_string(p, end);
			if (p == NULL || !expect_key)
				break;
			expect_key = 0;
			if ((size_t)(p - k) != nlen + 2 || memcmp(k + 1, name, nlen) != 0)
				break;
			while (p < end && (*p == ' ' || *p == ':' || *p == '\t' ||
			    *p == '\r'))
				p++;
			if (p >= end || *p != '"')
				return -1;
			*val = p + 1;
			if ((p = skip_string(p, end)) == NULL)
				return -1;
			*vlen = (size_t)(p - 1 - *val);
			return 0;
		default:
			p++;
		}
	}
	return -1;
}

int
event_peek_time(const char *text, size_t len, instant_t *out)
{
	const char	*v;
	size_t		 vlen;

	/* A time holds no escape: one written with them is not read here. */
	if (event_peek_string(text, len, "time", &v, &vlen) == -1 ||
	    vlen >= EVENT_PEEK_TIME_MAX)
		return -1;
	return when_parse_instant_len(v, vlen, out);
}
