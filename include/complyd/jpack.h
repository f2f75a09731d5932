/*
 * jpack.h - metadata records at rest: a cJSON value packed into a compact byte
 * string (object keys interned in a dictionary, integers as varints), read
 * back as a read-only cJSON tree built in one allocation, without parsing.
 */
#ifndef COMPLYD_JPACK_H
#define COMPLYD_JPACK_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The key dictionary a set of packed values shares; names live as long as it. */
struct jpack_keys;

struct jpack_keys *jpack_keys_new(void);
void jpack_keys_free(struct jpack_keys *k);
/* A copy numbering every name as from does: what one packed the other reads. */
struct jpack_keys *jpack_keys_copy(const struct jpack_keys *from);

/* Packs v into a malloc'd buffer of *len bytes (never NULL); Inf and NaN pack as null, as cJSON prints them. */
unsigned char *jpack(struct jpack_keys *k, const cJSON *v, size_t *len);

/*
 * Packs object o with its members named in fields[] set to vals[] (a NULL
 * value leaves the member as it is; a field o lacks is appended; a name given
 * twice takes the later value): a record's
 * next version without copying its tree. NULL if o is not an object or n > 32.
 */
unsigned char *jpack_with(struct jpack_keys *k, const cJSON *o,
    char *const *fields, const cJSON *const *vals, int n, size_t *len);

/*
 * The same from the packed object p (jpack/jpack_with with k) instead of its
 * tree, and the same bytes: members that stay are copied, not packed again.
 * NULL if p is not an object or n > 32.
 */
unsigned char *jpack_set(struct jpack_keys *k, const unsigned char *p,
    char *const *fields, const cJSON *const *vals, int n, size_t *len);

/*
 * The tree of p, in one malloc'd block: release it with free(), never with
 * cJSON_Delete, and never change it. Its strings point into p and its keys
 * into k, so it is valid while both are. p must come from jpack/jpack_with
 * with k (no bounds are checked); NULL if its tags make no sense.
 */
cJSON *jpack_tree(const struct jpack_keys *k, unsigned char *p);
/*
 * The same built in *block (of *size bytes; grown, and both updated, when the
 * tree needs more): a cache of trees reuses its blocks instead of allocating.
 * The tree starts at *block; NULL for a malformed buffer.
 */
cJSON *jpack_tree_in(const struct jpack_keys *k, unsigned char *p, void **block,
    size_t *size);

/*
 * A read-only copy of v (not its siblings) in one malloc'd block, strings
 * included: release it with free(), never with cJSON_Delete. An event's tree
 * is copied so that the thread that reads it walks one block, not scattered
 * nodes, and the parser's tree is freed at once while it is still in cache.
 */
cJSON *jpack_copy(const cJSON *v);

#endif
