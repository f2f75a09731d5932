/*
 * jpack.c - packed records (see jpack.h).
 *
 * Why: a million contracts as JSON text cost ~230 bytes each and a cJSON parse
 * (strtod, a malloc per node) at every look-up that misses the cache. Packed,
 * the same record is ~80 bytes (keys are dictionary numbers, integers varints)
 * and reading it back is one malloc and a walk, strings left in place.
 *
 * Layout: varint node count, then one value:
 *   P_NULL | P_FALSE | P_TRUE
 *   P_INT varint(zigzag)          integral numbers of magnitude <= 2^53
 *   P_DBL 8 bytes (host order)    other numbers
 *   P_STR varint(len) bytes NUL
 *   P_ARR varint(n) value*n
 *   P_OBJ varint(n) (varint(key) value)*n
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/jpack.h"
#include "complyd/util.h"

enum { P_NULL, P_FALSE, P_TRUE, P_INT, P_DBL, P_STR, P_ARR, P_OBJ };

#define JPACK_INT_MAX	9007199254740992.0	/* 2^53: exact in a double */

struct jpack_keys {
	struct hmap	 index;		/* name -> number + 1 */
	char		**names;
	size_t		 n, cap;
};

/*
 * Bytes being packed. jpack_set builds a fact's version in a buffer on its
 * stack (borrowed: copied to the heap only if it outgrows it), then copies
 * it once behind its header: one malloc per fact instead of two or three.
 */
struct pbuf {
	unsigned char	*p;
	size_t		 len, cap;
	size_t		 nodes;
	int		 borrowed;	/* p is the caller's, never realloc'd or freed */
};

#define PBUF_STACK	512	/* bigger than nearly every record */
#define PBUF_HEAD	21	/* two varints and a tag, at most */

struct jpack_keys *
jpack_keys_new(void)
{
	struct jpack_keys *k = xcalloc(1, sizeof(*k));

	hmap_init(&k->index);
	return k;
}

void
jpack_keys_free(struct jpack_keys *k)
{
	size_t i;

	if (k == NULL)
		return;
	hmap_free(&k->index, NULL);
	for (i = 0; i < k->n; i++)
		free(k->names[i]);
	free(k->names);
	free(k);
}

static size_t
key_number(struct jpack_keys *k, const char *name)
{
	uintptr_t i = (uintptr_t)hmap_get(&k->index, name);

	if (i != 0)
		return i - 1;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->names = xrealloc(k->names, k->cap * sizeof(*k->names));
	}
	k->names[k->n] = xstrdup(name);
	hmap_put(&k->index, name, (void *)(uintptr_t)(k->n + 1));
	return k->n++;
}

struct jpack_keys *
jpack_keys_copy(const struct jpack_keys *from)
{
	struct jpack_keys	*k = jpack_keys_new();
	size_t			 i;

	for (i = 0; i < from->n; i++)
		(void)key_number(k, from->names[i]);
	return k;
}

/* Out of line: put_bytes, called for every byte string packed, stays small. */
static void __attribute__((noinline))
pbuf_grow(struct pbuf *b, size_t need)
{
	unsigned char	*p;
	size_t		 cap = b->cap ? b->cap : 128;

	while (need > cap)
		cap *= 2;
	if (b->borrowed) {
		p = xmalloc(cap);
		memcpy(p, b->p, b->len);
		b->borrowed = 0;
	} else
		p = xrealloc(b->p, cap);
	b->p = p;
	b->cap = cap;
}

static void
pbuf_free(struct pbuf *b)
{
	if (!b->borrowed)
		free(b->p);
}

static void
put_bytes(struct pbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;		/* b->p may still be NULL: memcpy must not see it */
	if (b->len + n > b->cap)
		pbuf_grow(b, b->len + n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put_byte(struct pbuf *b, unsigned char c)
{
	put_bytes(b, &c, 1);
}

static void
put_varint(struct pbuf *b, uint64_t v)
{
	unsigned char	tmp[10];
	size_t		n = 0;

	do {
		tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	put_bytes(b, tmp, n);
}

static void
put_number(struct pbuf *b, double d)
{
	int64_t i;

	/* JSON has no Inf or NaN: cJSON prints them as null, and so they read back. */
	if (!isfinite(d)) {
		put_byte(b, P_NULL);
		return;
	}
	if (fabs(d) <= JPACK_INT_MAX && d == floor(d) &&
	    !(d == 0 && signbit(d))) {
		i = (int64_t)d;
		put_byte(b, P_INT);
		put_varint(b, ((uint64_t)i << 1) ^ (uint64_t)(i >> 63));
		return;
	}
	put_byte(b, P_DBL);
	put_bytes(b, &d, sizeof(d));
}

static void
put_value(struct jpack_keys *k, struct pbuf *b, const cJSON *v)
{
	const cJSON	*it;
	size_t		 n = 0, len;

	b->nodes++;
	if (cJSON_IsFalse(v))
		put_byte(b, P_FALSE);
	else if (cJSON_IsTrue(v))
		put_byte(b, P_TRUE);
	else if (cJSON_IsNumber(v))
		put_number(b, v->valuedouble);
	else if (cJSON_IsString(v) && v->valuestring) {
		len = strlen(v->valuestring);
		put_byte(b, P_STR);
		put_varint(b, len);
		put_bytes(b, v->valuestring, len + 1);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		for (it = v->child; it; it = it->next)
			n++;
		put_byte(b, cJSON_IsArray(v) ? P_ARR : P_OBJ);
		put_varint(b, n);
		for (it = v->child; it; it = it->next) {
			if (cJSON_IsObject(v))
				put_varint(b, key_number(k, it->string ? it->string : ""));
			put_value(k, b, it);
		}
	} else
		put_byte(b, P_NULL);	/* null, and raw text (never in records) */
}

/*
 * head then body in one block (*len bytes); frees body. The block has room
 * for the longest head, as it always had: with blocks of the exact size the
 * 1M-deadlines replay peaks 10 MiB higher (malloc cannot reuse the blocks
 * of the versions facts replace), and that peak has little room left.
 */
static unsigned char *
pbuf_finish(const struct pbuf *head, struct pbuf *body, size_t *len)
{
	unsigned char *out = xmalloc(body->len + PBUF_HEAD);

	memcpy(out, head->p, head->len);
	if (body->len)
		memcpy(out + head->len, body->p, body->len);
	*len = head->len + body->len;
	pbuf_free(body);
	return out;
}

unsigned char *
jpack(struct jpack_keys *k, const cJSON *v, size_t *len)
{
	struct pbuf	 body = { NULL, 0, 0, 0, 0 }, out = { NULL, 0, 0, 0, 0 };

	put_value(k, &body, v);
	put_varint(&out, body.nodes);
	put_bytes(&out, body.p, body.len);
	free(body.p);
	*len = out.len;
	return out.p;
}

/* The index of the last value given for name (a later one wins), or -1. */
static int
last_given(char *const *fields, const cJSON *const *vals, int n, const char *name)
{
	int j;

	for (j = n - 1; j >= 0; j--)
		if (vals[j] && strcmp(fields[j], name) == 0)
			return j;
	return -1;
}

/*
 * An object's members, with those named in fields[] given vals[] instead
 * (NULL: unchanged; a name given twice: the later value); a field the object
 * lacks is appended.
 */
static void
put_object_with(struct jpack_keys *k, struct pbuf *b, const cJSON *o,
    char *const *fields, const cJSON *const *vals, int n)
{
	const cJSON	*it, *v;
	unsigned	 used;		/* bit j: vals[j] placed */
	size_t		 count = 0;
	int		 j, pass;

	/* Pass 0 counts the members, pass 1 writes them. */
	for (pass = 0; pass < 2; pass++) {
		used = 0;
		for (it = o->child; it; it = it->next) {
			v = it;
			if (it->string && (j = last_given(fields, vals, n,
			    it->string)) >= 0 && !(used & (1u << j))) {
				v = vals[j];
				used |= 1u << j;
			}
			if (pass == 0)
				count++;
			else {
				put_varint(b, key_number(k, it->string ? it->string : ""));
				put_value(k, b, v);
			}
		}
		for (j = 0; j < n; j++) {
			if (vals[j] == NULL || (used & (1u << j)) ||
			    last_given(fields, vals, n, fields[j]) != j)
				continue;
			if (pass == 0)
				count++;
			else {
				put_varint(b, key_number(k, fields[j]));
				put_value(k, b, vals[j]);
			}
		}
		if (pass == 0) {
			b->nodes++;
			put_byte(b, P_OBJ);
			put_varint(b, count);
		}
	}
}

unsigned char *
jpack_with(struct jpack_keys *k, const cJSON *o, char *const *fields,
    const cJSON *const *vals, int n, size_t *len)
{
	struct pbuf	 body = { NULL, 0, 0, 0, 0 }, out = { NULL, 0, 0, 0, 0 };

	if (!cJSON_IsObject(o) || n > 32)
		return NULL;
	put_object_with(k, &body, o, fields, vals, n);
	put_varint(&out, body.nodes);
	put_bytes(&out, body.p, body.len);
	free(body.p);
	*len = out.len;
	return out.p;
}

/* --- reading back --- */

/* A varint and the byte after it, returned in registers. */
struct varint {
	uint64_t		 v;
	const unsigned char	*p;
};

/* A varint of more than one byte (get_varint's rare case), up to 64 bits. */
static struct varint __attribute__((noinline))
get_varint_long(const unsigned char *p)
{
	struct varint	r = { 0, NULL };
	int		shift = 0;

	while (*p & 0x80 && shift < 63) {
		r.v |= (uint64_t)(*p++ & 0x7f) << shift;
		shift += 7;
	}
	r.v |= (uint64_t)(*p++ & 0x7f) << shift;
	r.p = p;
	return r;
}

/*
 * Nearly every key number, count and length is one byte: that case is a
 * compare, and the position stays in a register (no address of it escapes).
 */
static inline uint64_t
get_varint(const unsigned char **pp)
{
	struct varint r;

	if (**pp < 0x80)
		return *(*pp)++;
	r = get_varint_long(*pp);
	*pp = r.p;
	return r.v;
}

struct tree_ctx {
	const struct jpack_keys	*k;
	const unsigned char	*p;
	cJSON			*nodes;
	size_t			 used, n;
};

static void
set_number(cJSON *o, double d)
{
	o->type = cJSON_Number;
	o->valuedouble = d;
	/* As cJSON does: valueint saturates. */
	if (d >= INT_MAX)
		o->valueint = INT_MAX;
	else if (d <= (double)INT_MIN)
		o->valueint = INT_MIN;
	else
		o->valueint = (int)d;
}

/* A scalar of tag tag at *pp into node o (zeroed); -1 if tag is not a scalar's. */
static inline int
get_scalar(const unsigned char **pp, unsigned char tag, cJSON *o)
{
	uint64_t	 u;
	double		 d;

	switch (tag) {
	case P_NULL:	o->type = cJSON_NULL; break;
	case P_FALSE:	o->type = cJSON_False; break;
	case P_TRUE:	o->type = cJSON_True; o->valueint = 1; break;
	case P_INT:
		u = get_varint(pp);
		set_number(o, (double)(int64_t)((u >> 1) ^ (~(u & 1) + 1)));
		break;
	case P_DBL:
		memcpy(&d, *pp, sizeof(d));
		*pp += sizeof(d);
		set_number(o, d);
		break;
	case P_STR:
		u = get_varint(pp);
		o->type = cJSON_String;
		o->valuestring = (char *)(uintptr_t)*pp;
		*pp += u + 1;
		break;
	default:
		return -1;
	}
	return 0;
}

/*
 * Items of an array or object at c->p into o: linked as cJSON links them
 * (first->prev is the last). A look-up that misses the cache of trees
 * unpacks a record: scalars are decoded in this loop, with its state in
 * locals, and only a nested array or object costs a call.
 */
static int
get_items(struct tree_ctx *c, cJSON *o, int object)
{
	const unsigned char	*p = c->p;
	char *const		*names = c->k->names;
	uint64_t		 n = get_varint(&p), i, key, nkeys = c->k->n;
	size_t			 used = c->used;
	cJSON			*prev = NULL, *it;
	unsigned char		 tag;

	for (i = 0; i < n; i++) {
		if (used == c->n)
			return -1;
		it = &c->nodes[used++];
		if (object) {
			if ((key = get_varint(&p)) >= nkeys)
				return -1;
			it->string = names[key];
		}
		if ((tag = *p++) == P_ARR || tag == P_OBJ) {
			it->type = tag == P_ARR ? cJSON_Array : cJSON_Object;
			c->p = p;
			c->used = used;
			if (get_items(c, it, tag == P_OBJ) == -1)
				return -1;
			p = c->p;
			used = c->used;
		} else if (get_scalar(&p, tag, it) == -1)
			return -1;
		if (prev) {
			prev->next = it;
			it->prev = prev;
		} else
			o->child = it;
		prev = it;
	}
	if (o->child)
		o->child->prev = prev;
	c->p = p;
	c->used = used;
	return 0;
}

cJSON *
jpack_tree_in(const struct jpack_keys *k, unsigned char *p, void **block,
    size_t *size)
{
	struct tree_ctx	 c = { k, p, NULL, 1, 0 };
	unsigned char	 tag;

	c.n = get_varint(&c.p);
	if (c.n == 0 || c.n > SIZE_MAX / sizeof(cJSON))
		return NULL;
	if (*size < c.n * sizeof(cJSON)) {
		free(*block);
		*size = c.n * sizeof(cJSON);
		*block = xmalloc(*size);
	}
	c.nodes = *block;
	memset(c.nodes, 0, c.n * sizeof(cJSON));
	/* The root is node 0 (c.used starts past it). */
	if ((tag = *c.p++) == P_ARR || tag == P_OBJ) {
		c.nodes->type = tag == P_ARR ? cJSON_Array : cJSON_Object;
		if (get_items(&c, c.nodes, tag == P_OBJ) == -1)
			return NULL;
	} else if (get_scalar(&c.p, tag, c.nodes) == -1)
		return NULL;
	return c.nodes;
}

cJSON *
jpack_tree(const struct jpack_keys *k, unsigned char *p)
{
	void	*block = NULL;
	size_t	 size = 0;
	cJSON	*t = jpack_tree_in(k, p, &block, &size);

	if (t == NULL)
		free(block);
	return t;
}

/* --- a record's next version, from its packed bytes --- */

static const unsigned char *skip_items(const unsigned char *, unsigned char,
    size_t *);

/*
 * The end of the value at p; adds its nodes to *nodes. NULL on an unknown
 * tag. Most members are scalars: skipped here, inline; only an array or an
 * object costs a call.
 */
static inline const unsigned char *
skip_value(const unsigned char *p, size_t *nodes)
{
	uint64_t	 n;
	unsigned char	 tag = *p++;

	(*nodes)++;
	switch (tag) {
	case P_NULL: case P_FALSE: case P_TRUE:
		return p;
	case P_INT:
		get_varint(&p);
		return p;
	case P_DBL:
		return p + sizeof(double);
	case P_STR:
		n = get_varint(&p);
		return p + n + 1;
	case P_ARR: case P_OBJ:
		return skip_items(p, tag, nodes);
	default:
		return NULL;
	}
}

/* The items of an array or object (tag) at p: see skip_value. */
static const unsigned char *
skip_items(const unsigned char *p, unsigned char tag, size_t *nodes)
{
	uint64_t	 n = get_varint(&p), i;

	for (i = 0; i < n && p != NULL; i++) {
		if (tag == P_OBJ)
			get_varint(&p);
		p = skip_value(p, nodes);
	}
	return p;
}

/* The dictionary number of name, or -1 if no value has used it. */
static long
key_find(const struct jpack_keys *k, const char *name)
{
	return (long)(uintptr_t)hmap_get(&k->index, name) - 1;
}

/*
 * As jpack_with on p's tree, and byte for byte the same (a test holds them
 * to it): members left as they are copy over as bytes, which is what packing
 * their unpacked values again would write, so a fact costs a copy instead of
 * a dictionary look-up per member.
 */
unsigned char *
jpack_set(struct jpack_keys *k, const unsigned char *p, char *const *fields,
    const cJSON *const *vals, int n, size_t *len)
{
	unsigned char		 stack[PBUF_STACK], hs[PBUF_HEAD];
	struct pbuf		 body = { stack, 0, sizeof(stack), 0, 1 };
	struct pbuf		 head = { hs, 0, sizeof(hs), 0, 1 };
	long			 key[32];	/* of fields[j], -1 if new; -2: not placed */
	const unsigned char	*run, *end;
	uint64_t		 count, i, kn;
	size_t			 nodes, old = 0, kept = 0;
	unsigned		 used = 0;	/* bit j: vals[j] placed */
	int			 j, set;

	if (n > 32)
		return NULL;
	nodes = get_varint(&p);
	if (*p++ != P_OBJ)
		return NULL;
	count = get_varint(&p);
	/* Only the last value given for a name is placed (last_given). */
	for (j = 0; j < n; j++)
		key[j] = vals[j] && last_given(fields, vals, n, fields[j]) == j ?
		    key_find(k, fields[j]) : -2;
	/* Members that stay are copied in runs, up to the next one set. */
	for (i = 0, run = p; i < count; i++, p = end) {
		kn = get_varint(&p);
		for (j = 0; j < n; j++)
			if (key[j] >= 0 && (uint64_t)key[j] == kn)
				break;
		/* The first member of that name takes the value, as in put_object_with. */
		set = j < n && !(used & (1u << j));
		if ((end = skip_value(p, set ? &old : &kept)) == NULL) {
			pbuf_free(&body);
			return NULL;
		}
		if (set) {
			put_bytes(&body, run, p - run);	/* through this member's key */
			put_value(k, &body, vals[j]);
			used |= 1u << j;
			run = end;
		}
	}
	put_bytes(&body, run, p - run);
	for (j = 0; j < n; j++)
		if (key[j] != -2 && !(used & (1u << j))) {
			put_varint(&body, key[j] >= 0 ? (size_t)key[j] : key_number(k, fields[j]));
			put_value(k, &body, vals[j]);
			count++;
		}
	put_varint(&head, nodes - old + body.nodes);
	put_byte(&head, P_OBJ);
	put_varint(&head, count);
	return pbuf_finish(&head, &body, len);
}

/* --- one-block copies --- */

/* Nodes and string bytes (NULs included) a copy of v needs. */
static void
copy_size(const cJSON *v, size_t *nodes, size_t *bytes)
{
	for (; v != NULL; v = v->next) {
		(*nodes)++;
		if (v->string)
			*bytes += strlen(v->string) + 1;
		if (v->valuestring)
			*bytes += strlen(v->valuestring) + 1;
		if (v->child)
			copy_size(v->child, nodes, bytes);
	}
}

static char *
copy_str(char **area, const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*d = *area;

	memcpy(d, s, n);
	*area += n;
	return d;
}

/* Copies the siblings from v on into nodes (*used of them taken); the first copy. */
static cJSON *
copy_list(const cJSON *v, cJSON *nodes, size_t *used, char **area)
{
	cJSON	*first = NULL, *prev = NULL, *o;

	for (; v != NULL; v = v->next) {
		o = &nodes[(*used)++];
		o->type = v->type & 0xff;
		o->valueint = v->valueint;
		o->valuedouble = v->valuedouble;
		o->string = v->string ? copy_str(area, v->string) : NULL;
		o->valuestring = v->valuestring ? copy_str(area, v->valuestring) : NULL;
		o->child = v->child ? copy_list(v->child, nodes, used, area) : NULL;
		o->next = NULL;
		if (prev) {
			prev->next = o;
			o->prev = prev;
		} else
			first = o;
		prev = o;
	}
	if (first)
		first->prev = prev;
	return first;
}

cJSON *
jpack_copy(const cJSON *v)
{
	size_t	 nodes = 0, bytes = 0, used = 0;
	cJSON	*block, *root;
	char	*area;
	cJSON	 top;

	if (v == NULL)
		return NULL;
	/* The root alone: its own siblings (v->next) are not part of it. */
	top = *v;
	top.next = top.prev = NULL;
	copy_size(&top, &nodes, &bytes);
	block = xmalloc(nodes * sizeof(cJSON) + bytes);
	area = (char *)(block + nodes);
	root = copy_list(&top, block, &used, &area);
	root->prev = NULL;
	return root;
}
