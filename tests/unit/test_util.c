/*
 * test_util.c - the shared containers: sbuf growth, FNV-1a known values, hmap
 * insert/replace/grow/each/free, hset64 including the fingerprint 0, slabs,
 * ptab growth and hints.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/util.h"
#include "testutil.h"

static void
test_xstrndup(void **state)
{
	char	*s;

	(void)state;
	s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = xstrndup("ab", 10);		/* n past the end stops at the NUL */
	assert_string_equal(s, "ab");
	free(s);
}

static void
test_sbuf(void **state)
{
	struct sbuf	 b;
	int		 i;

	(void)state;
	sbuf_init(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.s, "");
	sbuf_puts(&b, "x=");
	sbuf_printf(&b, "%d/%s", 42, "y");
	sbuf_add(&b, "zzz", 1);
	assert_string_equal(b.s, "x=42/yz");
	/* Grow well past the initial capacity. */
	for (i = 0; i < 1000; i++)
		sbuf_printf(&b, "%03d", i % 1000);
	assert_int_equal(b.len, 7 + 3000);
	assert_int_equal(strlen(b.s), b.len);
	assert_memory_equal(b.s + 7 + 3 * 999, "999", 3);
	sbuf_free(&b);
	assert_null(b.s);
}

static void
test_hash64(void **state)
{
	static const struct {
		const char	*name, *in;
		uint64_t	 want;
	} t[] = {
		{ "empty is the offset basis", "", 0xcbf29ce484222325ULL },
		{ "single a", "a", 0xaf63dc4c8601ec8cULL },
		{ "foobar", "foobar", 0x85944171f73967e8ULL },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("case: %s\n", t[i].name);
		assert_true(hash64(t[i].in, strlen(t[i].in), HASH64_SEED) ==
		    t[i].want);
	}
	/* Chaining: hashing "foo" then "bar" equals hashing "foobar". */
	assert_true(hash64("bar", 3, hash64("foo", 3, HASH64_SEED)) ==
	    0x85944171f73967e8ULL);
}

/* The unrolled loop against FNV-1a a byte at a time, at every length around its stride. */
static void
test_hash64_lengths(void **state)
{
	unsigned char	 buf[68];
	uint64_t	 want;
	size_t		 n, i, off;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 200);	/* high bytes too */
	/* From an odd address too: no alignment is assumed. */
	for (off = 0; off < 2; off++)
		for (n = 0; n + off <= sizeof(buf); n++) {
			want = 0x1234567890abcdefULL;
			for (i = 0; i < n; i++)
				want = (want ^ buf[off + i]) * 0x100000001b3ULL;
			if (hash64(buf + off, n, 0x1234567890abcdefULL) != want)
				fail_msg("offset %zu, length %zu: not FNV-1a", off, n);
		}
}

static void
test_hmap_basic(void **state)
{
	struct hmap	 m;
	int		 a = 1, b = 2, c = 3;
	char		 key[8];

	(void)state;
	hmap_init(&m);
	assert_null(hmap_get(&m, "missing on empty"));
	assert_null(hmap_put(&m, "a", &a));
	assert_null(hmap_put(&m, "b", &b));
	assert_ptr_equal(hmap_get(&m, "a"), &a);
	assert_ptr_equal(hmap_get(&m, "b"), &b);
	assert_null(hmap_get(&m, "c"));
	/* Replace returns the old value and keeps the count. */
	assert_ptr_equal(hmap_put(&m, "a", &c), &a);
	assert_ptr_equal(hmap_get(&m, "a"), &c);
	assert_int_equal(m.len, 2);
	/* The map copies keys: changing the caller's buffer is harmless. */
	strcpy(key, "k1");
	hmap_put(&m, key, &a);
	strcpy(key, "zz");
	assert_ptr_equal(hmap_get(&m, "k1"), &a);
	assert_null(hmap_get(&m, "zz"));
	/* The empty string is a valid key. */
	hmap_put(&m, "", &b);
	assert_ptr_equal(hmap_get(&m, ""), &b);
	hmap_free(&m, NULL);
	assert_int_equal(m.len, 0);
}

/* One key, hashed once, looked up in two maps: as hmap_get, present or not. */
static void
test_hmap_get_hashed(void **state)
{
	static const char *const keys[] = { "subcontract.received",
	    "personal_data.used", "", "absent", "subcontract.receive" };
	struct hmap	 by_type, facts;
	int		 a = 1, b = 2;
	size_t		 i;

	(void)state;
	hmap_init(&by_type);
	hmap_init(&facts);
	assert_null(hmap_get_hashed(&facts, "x", hmap_hash("x")));	/* empty */
	hmap_put(&by_type, "subcontract.received", &a);
	hmap_put(&by_type, "personal_data.used", &b);
	hmap_put(&by_type, "", &b);
	hmap_put(&facts, "subcontract.received", &b);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint64_t h = hmap_hash(keys[i]);

		assert_true(h == hash64(keys[i], strlen(keys[i]), HASH64_SEED));
		assert_ptr_equal(hmap_get_hashed(&by_type, keys[i], h),
		    hmap_get(&by_type, keys[i]));
		assert_ptr_equal(hmap_get_hashed(&facts, keys[i], h),
		    hmap_get(&facts, keys[i]));
	}
	assert_ptr_equal(hmap_get_hashed(&facts, "subcontract.received",
	    hmap_hash("subcontract.received")), &b);
	hmap_free(&by_type, NULL);
	hmap_free(&facts, NULL);
}

static void
test_hmap_grow(void **state)
{
	struct hmap	 m;
	char		 key[32];
	size_t		 i, n = 5000, cap = 0, grows = 0;

	(void)state;
	hmap_init(&m);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key-%zu", i);
		assert_null(hmap_put(&m, key, (void *)(uintptr_t)(i + 1)));
		if (m.cap != cap) {
			grows++;
			cap = m.cap;
		}
		/* Power-of-two capacity, load kept at or below 70%. */
		assert_int_equal(m.cap & (m.cap - 1), 0);
		assert_true(m.len * 10 <= m.cap * 7);
	}
	assert_int_equal(m.len, n);
	assert_true(grows > 5);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key-%zu", i);
		assert_int_equal((uintptr_t)hmap_get(&m, key), i + 1);
	}
	assert_null(hmap_get(&m, "key-5000"));
	hmap_free(&m, NULL);
}

struct each_acc {
	size_t	 count;
	long	 sum;
};

static void
each_fn(const char *key, void *val, void *arg)
{
	struct each_acc	*acc = arg;

	assert_int_equal(atol(key + 1), *(int *)val);
	acc->count++;
	acc->sum += *(int *)val;
}

static void
test_hmap_each_free(void **state)
{
	struct hmap	 m;
	struct each_acc	 acc = { 0, 0 };
	char		 key[16];
	int		 i, *v;

	(void)state;
	hmap_init(&m);
	hmap_each(&m, each_fn, &acc);		/* empty map: no calls */
	assert_int_equal(acc.count, 0);
	for (i = 1; i <= 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		v = malloc(sizeof(*v));
		*v = i;
		hmap_put(&m, key, v);
	}
	hmap_each(&m, each_fn, &acc);
	assert_int_equal(acc.count, 100);
	assert_int_equal(acc.sum, 5050);
	/* free_val releases the values; ASan catches a leak if it did not. */
	hmap_free(&m, free);
}

static void
test_hset64(void **state)
{
	static const struct {
		const char	*name;
		uint64_t	 h;
	} t[] = {
		{ "zero is a valid fingerprint", 0 },
		{ "one shares a slot with zero (0 is stored as 1)", 1 },
		{ "all ones", UINT64_MAX },
		{ "high bits only", 0xffffffff00000000ULL },
		{ "hash of a string", 0x85944171f73967e8ULL },
	};
	struct hset64	 s;
	size_t		 i, n;
	uint64_t	 h;

	(void)state;
	hset64_init(&s);
	hset64_prefetch(&s, 42);	/* an empty set has no slots to point into */
	assert_false(hset64_has(&s, 42));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("case: %s\n", t[i].name);
		n = s.len;
		hset64_prefetch(&s, t[i].h);	/* a hint: adds nothing */
		assert_int_equal(s.len, n);
		hset64_add(&s, t[i].h);
		assert_true(hset64_has(&s, t[i].h));
		assert_int_equal(hset64_add(&s, t[i].h), 0);
	}
	hset64_free(&s);

	/* Grow: many sequential and hashed values, then re-adds are no-ops. */
	hset64_init(&s);
	for (i = 2; i < 20000; i++) {
		h = i % 2 ? i : hash64(&i, sizeof(i), HASH64_SEED);
		assert_int_equal(hset64_add(&s, h), 1);
	}
	assert_int_equal(s.len, 19998);
	assert_true(s.len * 10 <= s.cap * 7);
	for (i = 2; i < 20000; i++) {
		h = i % 2 ? i : hash64(&i, sizeof(i), HASH64_SEED);
		assert_true(hset64_has(&s, h));
		assert_int_equal(hset64_add(&s, h), 0);
	}
	assert_false(hset64_has(&s, 20001));
	hset64_free(&s);
}

/*
 * Pieces are zero, 8-aligned and apart, small ones and ones bigger than a
 * chunk's quarter alike; a child slab keeps its parent's memory for as long
 * as it lives, whichever is dropped first (ASan would see a piece freed early).
 */
static void
test_slab(void **state)
{
	static const size_t sizes[] = { 1, 7, 8, 9, 56, 300000, 0, 1048576, 24, 1 };
	struct slab	*parent, *child;
	unsigned char	*p[NELEM(sizes)];
	size_t		 i, j, k;
	int		 round;

	(void)state;
	for (round = 0; round < 2; round++) {
		parent = slab_new();
		for (i = 0; i < NELEM(sizes); i++) {
			p[i] = slab_zalloc(parent, sizes[i]);
			assert_int_equal((uintptr_t)p[i] % 8, 0);
			for (k = 0; k < sizes[i]; k++)
				if (p[i][k] != 0)
					fail_msg("piece %zu byte %zu not zero", i, k);
			memset(p[i], (int)i + 1, sizes[i]);
		}
		/* Many small ones: several chunks. */
		for (j = 0; j < 50000; j++)
			memset(slab_zalloc(parent, 40), 0xee, 40);
		child = slab_child(parent);
		memset(slab_zalloc(child, 100), 0xcc, 100);
		if (round == 0) {
			slab_unref(parent);	/* the child still holds it */
			for (i = 0; i < NELEM(sizes); i++)
				for (k = 0; k < sizes[i]; k++)
					if (p[i][k] != (unsigned char)(i + 1))
						fail_msg("piece %zu byte %zu overwritten", i, k);
			slab_unref(child);
		} else {
			slab_unref(child);
			assert_int_equal(p[0][0], 1);
			slab_unref(parent);
		}
	}
	slab_unref(NULL);
}

struct pkey {
	uint64_t	 h;
	int		 v;
};

static int
pkey_is(const void *entry, const void *key)
{
	return ((const struct pkey *)entry)->v == ((const struct pkey *)key)->v;
}

/*
 * ptab: entries found by hash and key through growth, whether step by step
 * (ptab_reserve) or all at once (ptab_reserve_n, which must leave room
 * for n under the 70% load and keep what the table held); hashes that
 * collide in full are told apart by the key; the hint ptab_guess finds an
 * entry of a hash without comparing keys, and nothing for one absent.
 */
static void
test_ptab(void **state)
{
	enum { N = 3000 };
	struct pkey	*e = xcalloc(N, sizeof(*e)), q;
	struct ptab	 t;
	size_t		 i, cap;

	(void)state;
	memset(&t, 0, sizeof(t));
	ptab_reserve_n(&t, 0);
	assert_int_equal(t.cap, 0);
	assert_null(ptab_guess(&t, 1));
	for (i = 0; i < N; i++) {
		e[i].v = (int)i;
		e[i].h = i < 100 ? 42 : hash64(&i, sizeof(i), HASH64_SEED);
		if (i == N / 2) {
			/* Half in: room for all at once, those in kept. */
			ptab_reserve_n(&t, N);
			assert_true(N * 10 <= t.cap * 7);
			cap = t.cap;
		}
		ptab_reserve(&t);
		q = e[i];
		ptab_set(&t, ptab_probe(&t, q.h, pkey_is, &q), q.h, &e[i]);
	}
	assert_int_equal(t.cap, cap);	/* no growth after reserve_n */
	assert_int_equal(t.len, N);
	for (i = 0; i < N; i++) {
		q = e[i];
		if (ptab_at(&t, ptab_probe(&t, q.h, pkey_is, &q)) != &e[i])
			fail_msg("entry %zu not found", i);
	}
	q.v = N;
	q.h = 42;
	assert_null(ptab_at(&t, ptab_probe(&t, q.h, pkey_is, &q)));
	assert_ptr_equal(ptab_guess(&t, e[200].h), &e[200]);
	assert_non_null(ptab_guess(&t, 42));
	assert_int_equal(((struct pkey *)ptab_guess(&t, 42))->h, 42);
	assert_null(ptab_guess(&t, 43));
	ptab_prefetch(&t, 42);		/* a hint: changes nothing */
	assert_int_equal(t.len, N);
	ptab_free(&t);
	free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xstrndup),
		cmocka_unit_test(test_sbuf),
		cmocka_unit_test(test_hash64),
		cmocka_unit_test(test_hash64_lengths),
		cmocka_unit_test(test_hmap_basic),
		cmocka_unit_test(test_hmap_get_hashed),
		cmocka_unit_test(test_hmap_grow),
		cmocka_unit_test(test_hmap_each_free),
		cmocka_unit_test(test_hset64),
		cmocka_unit_test(test_slab),
		cmocka_unit_test(test_ptab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
