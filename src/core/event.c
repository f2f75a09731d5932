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
 * A key's hash: keys of different hashes differ, so only keys of equal
 * hashes are compared. Cheap, for the few short keys of an event object:
 * the length and the first, middle and last bytes.
 */
#define KH(n, a, b, c)	((uint32_t)(n) << 24 ^ (uint32_t)(a) << 16 ^ \
			    (uint32_t)(b) << 8 ^ (uint32_t)(c))

/* key_hash of required[], as constants. */
static const uint32_t required_hash[NREQUIRED] = {
	KH(2, 'i', 'd', 'd'), KH(6, 't', 'a', 't'), KH(4, 't', 'p', 'e'),
	KH(4, 't', 'm', 'e')
};

static uint32_t
key_hash(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = 0;

	while (p[n] != '\0')
		n++;
	if (n == 0)
		return 0;
	return KH(n, p[0], p[n / 2], p[n - 1]);
}

static int
given_twice(const char *key, char *err, size_t errlen)
{
	snprintf(err, errlen, "key \"%.40s\" is given twice", key);
	return 1;
}

#define SMALL_OBJECT	16	/* keys of an object checked without a hash map */

/*
 * 1 if two of h[0..n) (n <= SMALL_OBJECT) are equal: an open table of 32
 * slots, so that comparing every pair of keys is the exception.
 */
static int
same_hash(const uint32_t *h, int n)
{
	unsigned char	 tab[32] = { 0 };	/* index + 1; 0: free */
	unsigned	 k;
	int		 i;

	_Static_assert(SMALL_OBJECT < 32, "same_hash: a free slot is left");
	for (i = 0; i < n; i++) {
		for (k = (h[i] * 0x9e3779b1u) >> 27; tab[k] != 0; k = (k + 1) % 32)
			if (h[tab[k] - 1] == h[i])
				return 1;
		tab[k] = i + 1;
	}
	return 0;
}

/* The members named in required[] of an object whose keys m[] hash to h[]. */
static void
find_required(const cJSON *const *m, const uint32_t *h, int n,
    const cJSON **req)
{
	size_t	 i;
	int	 k;

	for (i = 0; i < NREQUIRED; i++)
		for (k = 0; k < n && req[i] == NULL; k++)
			if (h[k] == required_hash[i] && m[k]->string != NULL &&
			    strcmp(m[k]->string, required[i]) == 0)
				req[i] = m[k];
}

/*
 * An object of at most SMALL_OBJECT keys: if two keys hash alike, pairs are
 * compared, by hash first, and the key reported is the first that has a
 * later twin. 1 if one does, 0 if not (req, if not NULL, then gets the
 * members named in required[]), -1 if o has more keys.
 */
static int
duplicate_small(const cJSON *o, const cJSON **req, char *err, size_t errlen)
{
	const cJSON	*m[SMALL_OBJECT], *a;
	uint32_t	 h[SMALL_OBJECT];
	int		 n = 0, i, j;

	for (a = o->child; a != NULL; a = a->next) {
		if (n == SMALL_OBJECT)
			return -1;
		m[n] = a;
		h[n++] = a->string ? key_hash(a->string) : 0;
	}
	if (same_hash(h, n))
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (h[i] == h[j] && m[i]->string &&
				    m[j]->string &&
				    strcmp(m[i]->string, m[j]->string) == 0)
					return given_twice(m[i]->string, err,
					    errlen);
	if (req != NULL)
		find_required(m, h, n, req);
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
	int		 type = o->type & 0xff, dup;

	if (type == cJSON_Object) {
		if ((dup = duplicate_small(o, req, err, errlen)) == -1)
			dup = duplicate_large(o, req, err, errlen);
		if (dup)
			return 1;
	}
	if (type == cJSON_Object || type == cJSON_Array)
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

/* The checks of the raw text, before it is parsed; 0 or -1. */
static int
check_text(const char *text, size_t len, char *err, size_t errlen)
{
	size_t	 bad;

	if (len > EVENT_MAX_LINE) {
		snprintf(err, errlen, "line longer than %d bytes", EVENT_MAX_LINE);
		return -1;
	}
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
	while (end && (size_t)(end - text) < len &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
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
 * n bytes (rounded) from the chunk after cur if it holds them, else from a
 * new one put there. Apart, so that the common path saves no registers.
 */
static __attribute__((noinline)) void *
arena_next(struct event_arena *a, size_t n)
{
	struct chunk	*c = a->cur->next;

	if (c == NULL || c->size < n) {
		c = chunk_new(n > ARENA_CHUNK ? n : ARENA_CHUNK);
		c->next = a->cur->next;
		a->cur->next = c;
	}
	arena_use(a, c);
	a->p += n;
	return a->p - n;
}

static void *
arena_alloc(struct event_arena *a, size_t n)
{
	size_t	 r;
	char	*p;

	if (n > SIZE_MAX / 2)
		return NULL;
	/* cJSON stores pointers, ints and doubles: 8 bytes of alignment do. */
	r = (n + 7) & ~(size_t)7;
	if ((size_t)(a->end - a->p) < r)
		p = arena_next(a, r);
	else {
		p = a->p;
		a->p += r;
	}
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

/* Skips a JSON string starting at p (on the opening quote); returns past its end. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

int
event_peek_time(const char *text, size_t len, instant_t *out)
{
	const char	*p = text, *end = text + len, *k, *v;
	char		 buf[64];
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
			if (p - k != 6 || memcmp(k, "\"time\"", 6) != 0)
				break;
			while (p < end && (*p == ' ' || *p == ':' || *p == '\t'))
				p++;
			if (p >= end || *p != '"')
				return -1;
			v = p + 1;
			if ((p = skip_string(p, end)) == NULL ||
			    (size_t)(p - v - 1) >= sizeof(buf))
				return -1;
			memcpy(buf, v, p - v - 1);
			buf[p - v - 1] = '\0';
			return when_parse_instant(buf, out);
		default:
			p++;
		}
	}
	return -1;
}
