/*
 * test_registry.c - metadata records by (kind, tenant, id) over event time:
 * versions as they stood at a look-up's time, ids that a joined key string
 * would confuse, the look-up memo and the tree cache never handing out
 * another record's fields, facts patching a record, versions loaded from a
 * file replaced in their place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/registry.h"
#include "testutil.h"

/* The record's "v" as a number, -1 if the record is absent, -2 if "v" is. */
static int
v_of(const struct registry *r, enum rec_kind k, const char *tenant,
    const char *id, instant_t t)
{
	const cJSON	*rec = registry_get(r, k, tenant, id, t), *v;

	if (rec == NULL)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(rec, "v");
	return cJSON_IsNumber(v) ? v->valueint : -2;
}

static cJSON *
rec_v(int v)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "v", v);
	return o;
}

static int
set_v(struct registry *r, enum rec_kind k, const char *tenant, const char *id,
    instant_t t, int v)
{
	return registry_set_field(r, k, tenant, id, t, "v", cJSON_CreateNumber(v));
}

/*
 * History kept: "a" holds 0 from the start, 1 from 10:00 (an upsert), 2 from
 * 12:00 (a fact) and 5 from 11:00 (a late fact, patched onto 1). "b" first
 * appears at 10:00. Each look-up is asked in an order that a memo keyed on
 * the record alone, not its version, would get wrong.
 */
static void
test_versions_at(void **state)
{
	static const struct {
		const char	*id, *at;
		int		 want;
	} cases[] = {
		{ "a", "2026-04-01T12:00:00Z", 2 },
		{ "a", "2026-04-01T09:59:59Z", 0 },
		{ "a", "2026-04-01T10:00:00Z", 1 },
		{ "a", "2026-04-01T10:59:59.999Z", 1 },
		{ "a", "2026-04-01T11:00:00Z", 5 },
		{ "a", "2026-04-01T11:59:59Z", 5 },
		{ "a", "2030-01-01T00:00:00Z", 2 },
		{ "b", "2026-04-01T09:59:59Z", -1 },
		{ "b", "2026-04-01T10:00:00Z", 7 },
		{ "a", "1970-01-01T00:00:00Z", 0 },
		{ "b", "2030-01-01T00:00:00Z", 7 },
		{ "c", "2030-01-01T00:00:00Z", -1 },
	};
	struct registry	*r = registry_new();
	size_t		 i;

	(void)state;
	registry_put(r, REC_CONTRACT, "t", "a", INSTANT_MIN, rec_v(0));
	registry_put(r, REC_CONTRACT, "t", "a", I("2026-04-01T10:00:00Z"), rec_v(1));
	assert_int_equal(set_v(r, REC_CONTRACT, "t", "a", I("2026-04-01T12:00:00Z"), 2), 0);
	assert_int_equal(set_v(r, REC_CONTRACT, "t", "a", I("2026-04-01T11:00:00Z"), 5), 0);
	registry_put(r, REC_CONTRACT, "t", "b", I("2026-04-01T10:00:00Z"), rec_v(7));
	for (i = 0; i < NELEM(cases); i++) {
		int got = v_of(r, REC_CONTRACT, "t", cases[i].id, I(cases[i].at));

		if (got != cases[i].want)
			fail_msg("%s at %s: v %d, want %d", cases[i].id, cases[i].at, got,
			    cases[i].want);
	}
	/* A fact never creates a record, at any time. */
	assert_int_equal(set_v(r, REC_CONTRACT, "t", "c", I("2026-04-01T10:00:00Z"), 1), -1);
	assert_int_equal(set_v(r, REC_CONTRACT, "t", "b", I("2026-04-01T09:00:00Z"), 1), -1);
	assert_int_equal(registry_count(r, REC_CONTRACT), 2);
	registry_free(r);
}

/*
 * Pairs that one string "tenant<sep>id" would join into the same key, kinds
 * that share ids, and ids longer than any fixed key buffer: each its own record.
 */
static void
test_keys_apart(void **state)
{
	static char	 long_a[700], long_b[700];
	static const struct {
		enum rec_kind	 k;
		const char	*tenant, *id;
	} recs[] = {
		{ REC_CONTRACT, "a", "b\x1f" "c" },
		{ REC_CONTRACT, "a\x1f" "b", "c" },
		{ REC_CONTRACT, "ab", "c" },
		{ REC_CONTRACT, "a", "bc" },
		{ REC_CONTRACT, "", "abc" },
		{ REC_CONTRACT, "abc", "" },
		{ REC_CONTRACT, "a", "b" },
		{ REC_DATASET, "a", "b" },
		{ REC_FACILITY, "a", "b" },
		{ REC_CONTRACT, long_a, long_b },
		{ REC_CONTRACT, long_a, long_a },
		{ REC_CONTRACT, long_b, long_a },
	};
	struct registry	*r = registry_new();
	size_t		 i, j;

	(void)state;
	memset(long_a, 'x', sizeof(long_a) - 1);
	memset(long_b, 'x', sizeof(long_b) - 1);
	long_b[sizeof(long_b) - 2] = 'y';	/* differ at the very end */
	for (i = 0; i < NELEM(recs); i++)
		registry_put(r, recs[i].k, recs[i].tenant, recs[i].id, INSTANT_MIN,
		    rec_v((int)i));
	/* Twice, forwards then backwards: from the table, then from the memo's misses. */
	for (j = 0; j < 2 * NELEM(recs); j++) {
		i = j < NELEM(recs) ? j : 2 * NELEM(recs) - 1 - j;
		if (v_of(r, recs[i].k, recs[i].tenant, recs[i].id, 0) != (int)i)
			fail_msg("record %zu (%.8s/%.8s): another record's fields", i,
			    recs[i].tenant, recs[i].id);
		if (!registry_has(r, recs[i].k, recs[i].tenant, recs[i].id))
			fail_msg("record %zu: not there", i);
	}
	assert_int_equal(registry_count(r, REC_CONTRACT), NELEM(recs) - 2);
	assert_false(registry_has(r, REC_CONTRACT, "a", "b\x1f"));
	assert_false(registry_has(r, REC_CONTRACT, "a\x1f", "b"));
	assert_false(registry_has(r, REC_DATASET, "a", "bc"));
	assert_int_equal(v_of(r, REC_DATASET, "ab", "c", 0), -1);
	registry_free(r);
}

/*
 * The memo compares what it is asked, not where it is asked from: one buffer
 * that names another record the second time is another record.
 */
static void
test_memo_same_buffer(void **state)
{
	struct registry	*r = registry_new();
	char		 tenant[8], id[8];

	(void)state;
	registry_put(r, REC_CONTRACT, "t1", "C-1", INSTANT_MIN, rec_v(1));
	registry_put(r, REC_CONTRACT, "t1", "C-2", INSTANT_MIN, rec_v(2));
	registry_put(r, REC_CONTRACT, "t2", "C-1", INSTANT_MIN, rec_v(3));
	strcpy(tenant, "t1");
	strcpy(id, "C-1");
	assert_int_equal(v_of(r, REC_CONTRACT, tenant, id, 0), 1);
	id[2] = '2';
	assert_int_equal(v_of(r, REC_CONTRACT, tenant, id, 0), 2);
	id[2] = '1';
	tenant[1] = '2';
	assert_int_equal(v_of(r, REC_CONTRACT, tenant, id, 0), 3);
	id[2] = '3';
	assert_int_equal(v_of(r, REC_CONTRACT, tenant, id, 0), -1);
	/* A record added after a miss is found. */
	registry_put(r, REC_CONTRACT, tenant, id, INSTANT_MIN, rec_v(4));
	assert_int_equal(v_of(r, REC_CONTRACT, tenant, id, 0), 4);
	/* A prefix of the memo's record is not it. */
	assert_int_equal(v_of(r, REC_CONTRACT, "t2", "C-", 0), -1);
	assert_int_equal(v_of(r, REC_CONTRACT, "t", "C-3", 0), -1);
	registry_free(r);
}

struct changes {
	int	 n;
	char	 last[64];
};

static void
count_change(void *arg, enum rec_kind k, const char *tenant, const char *id,
    instant_t at)
{
	struct changes *c = arg;

	(void)at;
	c->n++;
	snprintf(c->last, sizeof(c->last), "%s %s/%s", rec_kind_name(k), tenant, id);
}

/* Facts patch the version in force: the record printed after, and whether it changed. */
static void
test_set_fields(void **state)
{
	static const struct {
		const char	*name;
		int		 history, n;
		const char	*fields[3], *vals[3];	/* JSON text; NULL: none */
		int		 ret, changed;
		const char	*want;		/* the record at 12:00 */
	} cases[] = {
		{ "a new field", 1, 1, { "received_on" }, { "\"2026-04-01\"" }, 0, 1,
		  "{\"id\":\"C-1\",\"v\":1,\"p\":{\"n\":2},\"received_on\":\"2026-04-01\"}" },
		{ "a field replaced in place", 1, 1, { "v" }, { "9" }, 0, 1,
		  "{\"id\":\"C-1\",\"v\":9,\"p\":{\"n\":2}}" },
		{ "a nested record replaced", 0, 1, { "p" }, { "[1,2]" }, 0, 1,
		  "{\"id\":\"C-1\",\"v\":1,\"p\":[1,2]}" },
		{ "the same value: no new version", 1, 2, { "v", "p" }, { "1", "{\"n\":2}" },
		  0, 0, "{\"id\":\"C-1\",\"v\":1,\"p\":{\"n\":2}}" },
		{ "null values are skipped", 0, 2, { "v", "w" }, { NULL, "true" }, 0, 1,
		  "{\"id\":\"C-1\",\"v\":1,\"p\":{\"n\":2},\"w\":true}" },
		{ "a name twice: the later value", 1, 3, { "v", "w", "v" }, { "3", NULL, "4" },
		  0, 1, "{\"id\":\"C-1\",\"v\":4,\"p\":{\"n\":2}}" },
	};
	size_t	 i;
	int	 j;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct registry	*r = registry_new();
		struct changes	 c = { 0, "" };
		cJSON		*vals[3];
		char		*got;
		int		 ret;

		registry_keep_history(r, cases[i].history);
		registry_put(r, REC_CONTRACT, "t", "C-1", INSTANT_MIN,
		    cJSON_Parse("{\"id\":\"C-1\",\"v\":1,\"p\":{\"n\":2}}"));
		registry_on_change(r, count_change, &c);
		for (j = 0; j < cases[i].n; j++)
			vals[j] = cases[i].vals[j] ? cJSON_Parse(cases[i].vals[j]) : NULL;
		ret = registry_set_fields(r, REC_CONTRACT, "t", "C-1",
		    I("2026-04-01T11:00:00Z"), (char *const *)(uintptr_t)cases[i].fields,
		    vals, cases[i].n);
		got = cJSON_PrintUnformatted(registry_get(r, REC_CONTRACT, "t", "C-1",
		    I("2026-04-01T12:00:00Z")));
		if (ret != cases[i].ret || c.n != cases[i].changed ||
		    strcmp(got, cases[i].want) != 0)
			fail_msg("%s: returned %d, %d changes, record %s; want %d, %d, %s",
			    cases[i].name, ret, c.n, got, cases[i].ret, cases[i].changed,
			    cases[i].want);
		if (c.n)
			assert_string_equal(c.last, "contract t/C-1");
		free(got);
		/* With history, the time before the fact still sees the record as it was. */
		if (cases[i].history)
			assert_int_equal(v_of(r, REC_CONTRACT, "t", "C-1",
			    I("2026-04-01T10:59:59Z")), 1);
		registry_free(r);
	}
}

struct seen {
	int	 n, bad;
};

static void
each_fn(void *arg, const char *tenant, const char *id, const cJSON *rec)
{
	struct seen	*s = arg;
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(rec, "v");
	char		 want[32];

	s->n++;
	/* Record i is ("t<i % 7>", "id-<i>") with v = i. */
	snprintf(want, sizeof(want), "t%d", v->valueint % 7);
	if (strcmp(tenant, want) != 0)
		s->bad++;
	snprintf(want, sizeof(want), "id-%d", v->valueint);
	if (strcmp(id, want) != 0)
		s->bad++;
}

/* What the change callback was handed, by address. */
struct keys_seen {
	const char	*tenant[3], *id[3];
	int		 n;
};

static void
keep_keys(void *arg, enum rec_kind k, const char *tenant, const char *id,
    instant_t at)
{
	struct keys_seen *s = arg;

	(void)k;
	(void)at;
	if (s->n < 3) {
		s->tenant[s->n] = tenant;
		s->id[s->n++] = id;
	}
}

/*
 * The engine keeps the strings the change callback hands it until the event
 * is done, and tells records apart by the id's address: they are the
 * registry's own, the same for every change of one record, not the caller's.
 */
static void
test_change_keys(void **state)
{
	struct registry		*r = registry_new();
	struct keys_seen	 s = { { NULL }, { NULL }, 0 };
	char			 tenant[8], id[8];

	(void)state;
	registry_on_change(r, keep_keys, &s);
	strcpy(tenant, "t");
	strcpy(id, "C-1");
	registry_put(r, REC_CONTRACT, tenant, id, INSTANT_MIN, rec_v(1));
	assert_int_equal(set_v(r, REC_CONTRACT, tenant, id, I("2026-04-01T10:00:00Z"),
	    2), 0);
	registry_put(r, REC_CONTRACT, "t", "C-2", INSTANT_MIN, rec_v(3));
	strcpy(tenant, "x");
	strcpy(id, "x");
	assert_int_equal(s.n, 3);
	assert_ptr_equal(s.tenant[0], s.tenant[1]);
	assert_ptr_equal(s.id[0], s.id[1]);
	assert_ptr_not_equal(s.id[0], s.id[2]);
	assert_string_equal(s.tenant[0], "t");
	assert_string_equal(s.id[0], "C-1");
	assert_string_equal(s.id[2], "C-2");
	registry_free(r);
}

/*
 * More records than the cache holds trees: look-ups after eviction, and
 * registry_each handing out tenant and id apart, each with its own record.
 */
static void
test_many(void **state)
{
	enum { N = 9000 };
	struct registry	*r = registry_new();
	struct seen	 s = { 0, 0 };
	char		 tenant[16], id[16];
	int		 i, pass;

	(void)state;
	for (i = 0; i < N; i++) {
		snprintf(tenant, sizeof(tenant), "t%d", i % 7);
		snprintf(id, sizeof(id), "id-%d", i);
		registry_put(r, REC_DATASET, tenant, id, INSTANT_MIN, rec_v(i));
	}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < N; i++) {
			int j = pass ? N - 1 - i : (i * 7919) % N;

			snprintf(tenant, sizeof(tenant), "t%d", j % 7);
			snprintf(id, sizeof(id), "id-%d", j);
			if (v_of(r, REC_DATASET, tenant, id, 0) != j)
				fail_msg("pass %d, record %d: another record's fields", pass, j);
		}
	registry_each(r, REC_DATASET, each_fn, &s);
	assert_int_equal(s.n, N);
	assert_int_equal(s.bad, 0);
	registry_free(r);
}

/*
 * Kinds do not push each other out of the tree cache: a dataset looked up
 * before ten thousand contracts (more than a ring holds) are unpacked is
 * still the same tree afterwards, not unpacked again elsewhere. The
 * contracts, cycled through their own ring, still read as themselves.
 */
static void
test_kinds_cached_apart(void **state)
{
	enum { N = 10000 };
	struct registry	*r = registry_new();
	const cJSON	*before, *after;
	char		 id[16];
	int		 i;

	(void)state;
	registry_put(r, REC_DATASET, "t", "ds", INSTANT_MIN, rec_v(7));
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "c-%d", i);
		registry_put(r, REC_CONTRACT, "t", id, INSTANT_MIN, rec_v(i));
	}
	before = registry_get(r, REC_DATASET, "t", "ds", 0);
	assert_non_null(before);
	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "c-%d", i);
		if (v_of(r, REC_CONTRACT, "t", id, 0) != i)
			fail_msg("contract %d: another record's fields", i);
	}
	after = registry_get(r, REC_DATASET, "t", "ds", 0);
	assert_ptr_equal(before, after);
	assert_int_equal(v_of(r, REC_DATASET, "t", "ds", 0), 7);
	registry_free(r);
}

/*
 * What registry.c promises a caller that holds a tree: it stays that
 * record's while fewer than its kind's ring length of other records of the
 * kind are unpacked (contracts 128, datasets 64), whatever is looked up of
 * other kinds. The next unpack takes its block, which is why callers look
 * records up again for each check.
 */
static void
test_tree_held(void **state)
{
	static const struct { enum rec_kind k, other; int ring; } t[] = {
		{ REC_CONTRACT, REC_DATASET, 128 },
		{ REC_DATASET, REC_CONTRACT, 64 },
	};
	struct registry	*r;
	const cJSON	*held;
	char		 id[16];
	size_t		 j;
	int		 i, others;

	(void)state;
	for (j = 0; j < NELEM(t); j++) {
		print_message("kind %s, ring %d\n", rec_kind_name(t[j].k), t[j].ring);
		r = registry_new();
		others = t[j].ring - 1;
		for (i = 0; i <= others + 1; i++) {
			snprintf(id, sizeof(id), "r-%d", i);
			registry_put(r, t[j].k, "t", id, INSTANT_MIN, rec_v(i));
			registry_put(r, t[j].other, "t", id, INSTANT_MIN, rec_v(-i));
		}
		held = registry_get(r, t[j].k, "t", "r-0", 0);
		for (i = 1; i <= others; i++) {
			snprintf(id, sizeof(id), "r-%d", i);
			assert_int_equal(v_of(r, t[j].k, "t", id, 0), i);
			assert_int_equal(v_of(r, t[j].other, "t", id, 0), -i);
		}
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(held, "v")->valueint, 0);
		/* A look-up of the held one itself unpacks nothing. */
		assert_ptr_equal(registry_get(r, t[j].k, "t", "r-0", 0), held);
		assert_int_equal(v_of(r, t[j].k, "t", "r-1", 0), 1);
		snprintf(id, sizeof(id), "r-%d", others + 1);
		assert_int_equal(v_of(r, t[j].k, "t", id, 0), others + 1);
		/* r-0's slot was the oldest: it is the last one's tree now. */
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(held, "v")->valueint,
		    others + 1);
		assert_int_equal(v_of(r, t[j].k, "t", "r-0", 0), 0);
		registry_free(r);
	}
}

/*
 * registry_split: every record lands in the part its tenant belongs to,
 * readable there (after a look-up in the whole, so the memo and cache have
 * something to lose), with a fact set afterwards in its own part only; the
 * whole is left empty.
 */
static void
test_split(void **state)
{
	enum { N = 3000, PARTS = 3 };
	struct registry	*r = registry_new(), **parts;
	char		 tenant[16], id[16];
	int		 i, p, want, counts[PARTS] = { 0 };

	(void)state;
	for (i = 0; i < N; i++) {
		snprintf(tenant, sizeof(tenant), "t%d", i % 7);
		snprintf(id, sizeof(id), "id-%d", i);
		registry_put(r, i % 2 ? REC_DATASET : REC_CONTRACT, tenant, id,
		    INSTANT_MIN, rec_v(i));
	}
	assert_int_equal(v_of(r, REC_DATASET, "t1", "id-1", 0), 1);
	parts = registry_split(r, PARTS);
	assert_int_equal(registry_count(r, REC_DATASET), 0);
	assert_int_equal(v_of(r, REC_DATASET, "t1", "id-1", 0), -1);
	for (i = 0; i < N; i++) {
		snprintf(tenant, sizeof(tenant), "t%d", i % 7);
		snprintf(id, sizeof(id), "id-%d", i);
		want = registry_part_of(tenant, strlen(tenant), PARTS);
		for (p = 0; p < PARTS; p++)
			if (v_of(parts[p], i % 2 ? REC_DATASET : REC_CONTRACT,
			    tenant, id, 0) != (p == want ? i : -1))
				fail_msg("record %d in part %d, want only %d", i, p, want);
		counts[want]++;
	}
	for (p = 0; p < PARTS; p++)
		assert_int_equal(registry_count(parts[p], REC_DATASET) +
		    registry_count(parts[p], REC_CONTRACT), counts[p]);
	/* 7 tenants over 3 parts: no part may be left without any */
	for (p = 0; p < PARTS; p++)
		assert_true(counts[p] > 0);
	want = registry_part_of("t1", 2, PARTS);
	assert_int_equal(set_v(parts[want], REC_DATASET, "t1", "id-1", 5, 42), 0);
	assert_int_equal(v_of(parts[want], REC_DATASET, "t1", "id-1", 5), 42);
	assert_int_equal(v_of(parts[want], REC_DATASET, "t1", "id-1", 4), 1);
	for (p = 0; p < PARTS; p++)
		registry_free(parts[p]);
	free(parts);
	registry_free(r);
}

/* Writes text to a file of a new directory; the path goes in path. */
static void
write_meta(char *dir, char *path, size_t len, const char *text)
{
	FILE	*f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, len, "%s/meta.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/*
 * Versions loaded from a file live in the registry's slab with room to grow
 * (REG_ROOM); without history a fact replaces one in its place while it
 * fits, then from malloc's memory. Each step must read back exactly: a
 * version copied over a longer one, or freed from the slab, would show here
 * (or under ASan). Parts freed after the registry they came from still hold
 * its slab.
 */
static void
test_loaded_in_place(void **state)
{
	static const struct {
		const char	*name;
		const char	*field, *val;	/* JSON text */
		const char	*want;		/* "p" of C-1 after it */
	} steps[] = {
		{ "grows within the room", "d", "\"2026-04-01\"",
		  "{\"id\":\"C-1\",\"tenant\":\"t\",\"p\":1,\"d\":\"2026-04-01\"}" },
		{ "shrinks in place", "d", "1",
		  "{\"id\":\"C-1\",\"tenant\":\"t\",\"p\":1,\"d\":1}" },
		{ "outgrows the room", "e", "\"a string longer than any room a version is given\"",
		  "{\"id\":\"C-1\",\"tenant\":\"t\",\"p\":1,\"d\":1,"
		  "\"e\":\"a string longer than any room a version is given\"}" },
		{ "then from malloc", "d", "2",
		  "{\"id\":\"C-1\",\"tenant\":\"t\",\"p\":1,\"d\":2,"
		  "\"e\":\"a string longer than any room a version is given\"}" },
	};
	char		 dir[] = "/tmp/complyd-test-reg.XXXXXX", path[64], *got;
	struct registry	*r = registry_new(), **parts;
	int		 nerr = 0, p;
	size_t		 i;

	(void)state;
	write_meta(dir, path, sizeof(path), "contracts:\n"
	    "  - { id: C-1, tenant: t, p: 1 }\n"
	    "  - { id: C-2, tenant: u, p: 2 }\n");
	assert_int_equal(registry_load(r, path, &nerr), 2);
	assert_int_equal(nerr, 0);
	unlink(path);
	rmdir(dir);
	registry_keep_history(r, 0);
	for (i = 0; i < NELEM(steps); i++) {
		cJSON *v = cJSON_Parse(steps[i].val);

		assert_int_equal(registry_set_field(r, REC_CONTRACT, "t", "C-1",
		    I("2026-04-01T00:00:00Z") + (instant_t)i, steps[i].field, v), 0);
		got = cJSON_PrintUnformatted(registry_get(r, REC_CONTRACT, "t", "C-1",
		    I("2026-05-01T00:00:00Z")));
		if (strcmp(got, steps[i].want) != 0)
			fail_msg("%s: %s, want %s", steps[i].name, got, steps[i].want);
		free(got);
		/* The neighbour in the slab is untouched. */
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(registry_get(r,
		    REC_CONTRACT, "u", "C-2", 0), "p")->valueint, 2);
	}
	parts = registry_split(r, 2);
	registry_free(r);
	p = registry_part_of("u", 1, 2);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(registry_get(parts[p],
	    REC_CONTRACT, "u", "C-2", 0), "p")->valueint, 2);
	assert_int_equal(set_v(parts[p], REC_CONTRACT, "u", "C-2", 5, 7), 0);
	assert_int_equal(v_of(parts[p], REC_CONTRACT, "u", "C-2", 5), 7);
	registry_free(parts[0]);
	registry_free(parts[1]);
	free(parts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions_at),
		cmocka_unit_test(test_keys_apart),
		cmocka_unit_test(test_memo_same_buffer),
		cmocka_unit_test(test_set_fields),
		cmocka_unit_test(test_change_keys),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_kinds_cached_apart),
		cmocka_unit_test(test_tree_held),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_loaded_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
