/*
 * test_engine.c - the engine on event time (engine.h), driven through
 * replay_events (replay.h) with a small test law of our own (not rules/):
 * every rule kind, versions, duplicates, same-instant order, tenant walls,
 * stable alert ids, and a few thousand random events. Scenarios are tables:
 * metadata, events (JSON lines), --until, and the exact alerts expected of
 * the obligations compared (DESIGN.md "Semantics every rule kind shares").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complyd/engine.h"
#include "complyd/event.h"
#include "complyd/registry.h"
#include "complyd/replay.h"
#include "complyd/rules.h"
#include "complyd/when.h"


/*
 * The test law: versions v1 (until 2026-01-01) and v2 (from 2026-01-01),
 * one rule per behaviour under test, each with its own obligation.
 */
static const char test_law[] =
	"law:\n"
	"  id: tl\n"
	"  names: { ja: テスト法, en: Test Act }\n"
	"  versions:\n"
	"    - { id: v1, effective_until: 2026-01-01 }\n"
	"    - { id: v2, effective_from: 2026-01-01 }\n"
	"params:\n"
	"  limit: 5\n"
	"  target: 100\n"
	"rules:\n"
	"  - id: tl.match\n"
	"    obligation: TL-MATCH\n"
	"    kind: match\n"
	"    on: test.used\n"
	"    key: event.thing\n"
	"    when: event.count > params.limit\n"
	"    articles: { v1: \"m1\", v2: \"m2\" }\n"
	"    message: { ja: \"{key}\", en: \"thing {key} count {event.count}\" }\n"
	"  - id: tl.v2only\n"
	"    obligation: TL-V2\n"
	"    kind: match\n"
	"    on: test.v2\n"
	"    key: event.thing\n"
	"    articles: { v2: \"n2\" }\n"
	"    message: { ja: \"{key}\", en: \"{key}\" }\n"
	"  - id: tl.ver\n"
	"    obligation: TL-VER\n"
	"    kind: match\n"
	"    on: test.ordered\n"
	"    subject: contract\n"
	"    key: event.contract\n"
	"    version_at: record.ordered_on\n"
	"    articles: { v1: \"o1\", v2: \"o2\" }\n"
	"    message: { ja: \"{key}\", en: \"{key}\" }\n"
	"  - id: tl.dl\n"
	"    obligation: TL-DL\n"
	"    kind: deadline\n"
	"    start: { on: test.start }\n"
	"    key: event.thing\n"
	"    stop: { on: test.stop, key: event.thing, amount: \"event.amount ?? params.target\",\n"
	"            target: params.target }\n"
	"    due: start + days(3)\n"
	"    warn: [1, 3]\n"
	"    articles: { v1: \"d1\", v2: \"d2\" }\n"
	"    message: { ja: \"{key} {due}\", en: \"{key} due {due} paid {paid}\" }\n"
	"  - id: tl.pay\n"
	"    obligation: TL-PAY\n"
	"    kind: deadline\n"
	"    subject: contract\n"
	"    start: { record: record.received_on }\n"
	"    stop: { on: test.paid, key: event.contract, record: record.paid_on }\n"
	"    due: date(record.payment_due)\n"
	"    articles: { v1: \"p1\", v2: \"p2\" }\n"
	"    message: { ja: \"{key}\", en: \"{key} due {due}\" }\n"
	"  - id: tl.ord\n"
	"    obligation: TL-ORD\n"
	"    kind: deadline\n"
	"    subject: contract\n"
	"    start: { record: \"if(has(record.ordered_on), date(record.ordered_on), null)\" }\n"
	"    stop: { record: \"if(has(record.terms_on), date(record.terms_on), null)\" }\n"
	"    due: start + days(2)\n"
	"    articles: { v1: \"o1\", v2: \"o2\" }\n"
	"    message: { ja: \"{key}\", en: \"{key} due {due}\" }\n"
	"  - id: tl.per\n"
	"    obligation: TL-PER\n"
	"    kind: periodic\n"
	"    subject: facility\n"
	"    key: event.facility\n"
	"    baseline: record.last_check\n"
	"    renew: { on: test.checked }\n"
	"    interval: months(6)\n"
	"    articles: { v1: \"c1\", v2: \"c2\" }\n"
	"    message: { ja: \"{key}\", en: \"{key} due {due}\" }\n"
	"  - id: tl.thr\n"
	"    obligation: TL-THR\n"
	"    kind: threshold\n"
	"    on: test.login\n"
	"    key: event.user\n"
	"    count: 3\n"
	"    window: days(1)\n"
	"    articles: { v1: \"t1\", v2: \"t2\" }\n"
	"    message: { ja: \"{key}\", en: \"{key}\" }\n"
	"  - id: tl.rec\n"
	"    obligation: TL-REC\n"
	"    kind: record\n"
	"    subject: dataset\n"
	"    when: len(record.purposes ?? []) == 0\n"
	"    articles: { v1: \"r1\", v2: \"r2\" }\n"
	"    message: { ja: \"{key}\", en: \"{key}\" }\n"
	"  - id: tl.det\n"
	"    obligation: TL-DET\n"
	"    kind: match\n"
	"    on: test.detail\n"
	"    key: event.thing\n"
	"    articles: { v2: \"x2\" }\n"
	"    message: { ja: \"{key} は「{event.text}」\", en: \"\\\"{event.text}\\\"\\t{event.count}\" }\n"
	"    details:\n"
	"      b: event.count > 1\n"
	"      n: event.count * 1.5\n"
	"      frac: event.count / 3\n"
	"      big: event.big * 3\n"
	"      s: event.text\n"
	"      d: date('2026-05-30')\n"
	"      t: now\n"
	"      dur: days(3) + months(1)\n"
	"      list: event.list\n"
	"      obj: event.obj\n"
	"      nul: \"null\"\n"
	"      absent: event.nothing\n"
	"      fails: event.count + event.thing\n"
	"      \"q\\\"k\\n\": key\n";

static struct ruleset *g_rs;

static int
setup(void **state)
{
	char		 dir[] = "/tmp/test_engine.XXXXXX", path[64];
	const char	*paths[1];
	FILE		*f;
	int		 nerr = 0;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/tl.yaml", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(test_law, f);
	fclose(f);
	paths[0] = path;
	g_rs = ruleset_load(paths, 1, NULL, &nerr);
	unlink(path);
	rmdir(dir);
	return g_rs == NULL || nerr != 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	ruleset_free(g_rs);
	g_rs = NULL;
	return 0;
}

/* ---- building blocks ---- */

/* Metadata {"contracts":[...],"datasets":[...],"facilities":[...]} as from files. */
static struct registry *
make_registry(const char *meta)
{
	struct registry	*reg = registry_new();
	cJSON		*j, *list, *rec;
	int		 k;

	if (meta == NULL)
		return reg;
	j = cJSON_Parse(meta);
	if (j == NULL)
		fail_msg("bad test metadata %s", meta);
	cJSON_ArrayForEach(list, j) {
		k = rec_kind_parse(list->string);
		assert_true(k >= 0);
		cJSON_ArrayForEach(rec, list)
			registry_put(reg, k,
			    cJSON_GetObjectItem(rec, "tenant")->valuestring,
			    cJSON_GetObjectItem(rec, "id")->valuestring, INSTANT_MIN,
			    cJSON_Duplicate(rec, 1));
	}
	cJSON_Delete(j);
	return reg;
}

/* Decodes the NULL-terminated lines (each must be valid). */
static struct soc_event *
make_events(const char *const *lines, size_t *n)
{
	struct soc_event	*evs;
	char		 err[256];
	size_t		 i;

	for (*n = 0; lines[*n]; (*n)++)
		;
	evs = calloc(*n + 1, sizeof(*evs));
	for (i = 0; i < *n; i++)
		if (event_decode(lines[i], strlen(lines[i]), &evs[i], err,
		    sizeof(err)) == -1)
			fail_msg("bad test event %s: %s", lines[i], err);
	return evs;
}

/* Runs one replay of lines over meta; alerts into out. */
static void
run(const char *meta, const char *const *lines, const char *until,
    struct alert_vec *out, struct replay_result *res)
{
	struct registry		*reg = make_registry(meta);
	struct replay_opts	 o;
	struct soc_event		*evs;
	size_t			 n;

	memset(&o, 0, sizeof(o));
	memset(res, 0, sizeof(*res));
	if (until) {
		o.has_until = 1;
		o.until = I(until);
	}
	evs = make_events(lines, &n);
	replay_events(g_rs, reg, evs, n, &o, out, res);
	free(evs);
	registry_free(reg);
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- scenario tables ---- */

struct want {
	const char	*obligation, *tenant, *key, *status, *time;
	const char	*version;	/* NULL: not checked; "-": JSON null */
	const char	*reason;	/* substring of details.reason, or NULL */
	const char	*evidence;	/* first evidence id, or NULL */
};

#define MAXEV	24
#define MAXW	8

struct scen {
	const char	*name;
	const char	*meta;
	const char	*events[MAXEV];		/* NULL-terminated */
	const char	*until;
	const char	*only;			/* obligation compared */
	struct want	 want[MAXW];		/* obligation NULL ends */
};

static int
want_matches(const struct want *w, const cJSON *a)
{
	const cJSON	*v, *det;
	const char	*s;
	instant_t	 t;

	if (strcmp(w->obligation, jstr(a, "obligation")) != 0 ||
	    strcmp(w->tenant, jstr(a, "tenant")) != 0 ||
	    strcmp(w->key, jstr(a, "key")) != 0 ||
	    strcmp(w->status, jstr(a, "status")) != 0)
		return 0;
	if (jstr(a, "time") == NULL || when_parse_instant(jstr(a, "time"), &t) ||
	    t != I(w->time))
		return 0;
	if (w->version) {
		v = cJSON_GetObjectItemCaseSensitive(a, "law_version");
		if (strcmp(w->version, "-") == 0 ? !cJSON_IsNull(v) :
		    !cJSON_IsString(v) || strcmp(v->valuestring, w->version) != 0)
			return 0;
	}
	if (w->reason) {
		det = cJSON_GetObjectItemCaseSensitive(a, "details");
		if ((s = jstr(det, "reason")) == NULL || strstr(s, w->reason) == NULL)
			return 0;
	}
	if (w->evidence) {
		v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a,
		    "evidence"), 0);
		if (!cJSON_IsString(v) || strcmp(v->valuestring, w->evidence) != 0)
			return 0;
	}
	return 1;
}

static void
print_alert(const char *prefix, const cJSON *a)
{
	char *s = cJSON_PrintUnformatted(a);

	print_error("    %s %s\n", prefix, s);
	free(s);
}

/* Runs one scenario; 0 if the alerts of `only` are exactly those wanted. */
static int
run_scen(const struct scen *sc)
{
	struct alert_vec	 out = { 0 };
	struct replay_result	 res;
	char			 used[1024];
	size_t			 i;
	int			 w, bad = 0;

	print_message("case: %s\n", sc->name);
	run(sc->meta, sc->events, sc->until, &out, &res);
	assert_int_equal(res.stats.alerts, out.n);
	assert_true(out.n < sizeof(used));
	memset(used, 0, sizeof(used));
	for (i = 0; i < out.n; i++)
		if (strcmp(out.v[i].obligation, sc->only) != 0)
			used[i] = 1;		/* not compared */
	for (w = 0; w < MAXW && sc->want[w].obligation; w++) {
		for (i = 0; i < out.n; i++)
			if (!used[i] && want_matches(&sc->want[w], out.v[i].json))
				break;
		if (i == out.n) {
			if (!bad)
				print_error("FAIL %s\n", sc->name);
			print_error("    missing: %s %s %s %s %s %s\n",
			    sc->want[w].obligation, sc->want[w].tenant,
			    sc->want[w].key, sc->want[w].status, sc->want[w].time,
			    sc->want[w].version ? sc->want[w].version : "");
			bad = 1;
		} else
			used[i] = 1;
	}
	for (i = 0; i < out.n; i++)
		if (!used[i]) {
			if (!bad)
				print_error("FAIL %s\n", sc->name);
			print_alert("unexpected:", out.v[i].json);
			bad = 1;
		}
	if (bad)
		for (i = 0; i < out.n; i++)
			print_alert("got:", out.v[i].json);
	alert_vec_free(&out);
	return bad;
}

static int
run_scens(const struct scen *sc, size_t n)
{
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < n; i++)
		bad += run_scen(&sc[i]);
	return bad;
}

/* One event of tenant acme / of tenant T. */
#define EV(id, time, type, rest) \
	"{\"id\":\"" id "\",\"time\":\"" time "\",\"tenant\":\"acme\"," \
	"\"type\":\"" type "\"" rest "}"
#define EVT(tenant, id, time, type, rest) \
	"{\"id\":\"" id "\",\"time\":\"" time "\",\"tenant\":\"" tenant "\"," \
	"\"type\":\"" type "\"" rest "}"
/* An event no rule reacts to: starts the replay's clock. */
#define NOOP(id, time)	EV(id, time, "test.noop", "")

/* ---- match ---- */

static const struct scen match_scens[] = {
	{ "one alert per violating event", NULL, {
	    EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
	    EV("u2", "2026-03-01T10:30:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":3"),
	    EV("u3", "2026-03-01T11:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":6"),
	    EV("u4", "2026-03-01T12:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":9"),
	    EV("u5", "2026-03-01T12:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":5"),
	    NULL }, NULL, "TL-MATCH", {
	    { "TL-MATCH", "acme", "A", "violation", "2026-03-01T10:00:00+09:00", "v2", NULL, "u1" },
	    { "TL-MATCH", "acme", "A", "violation", "2026-03-01T11:00:00+09:00", "v2", NULL, "u3" },
	    { "TL-MATCH", "acme", "B", "violation", "2026-03-01T12:00:00+09:00", "v2", NULL, "u4" },
	} },
	{ "missing attribute: one review with the reason", NULL, {
	    EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\""),
	    NULL }, NULL, "TL-MATCH", {
	    { "TL-MATCH", "acme", "A", "review", "2026-03-01T10:00:00+09:00", NULL,
		"missing attribute event.count", "u1" },
	} },
	{ "missing key attribute: one review", NULL, {
	    EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"count\":10"),
	    NULL }, NULL, "TL-MATCH", {
	    { "TL-MATCH", "acme", "", "review", "2026-03-01T10:00:00+09:00", NULL,
		"missing attribute event.thing", NULL },
	} },
	{ "wrong type: one review", NULL, {
	    EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":\"10\""),
	    EV("u2", "2026-03-01T10:00:01+09:00", "test.used", ",\"thing\":\"A\",\"count\":null"),
	    NULL }, NULL, "TL-MATCH", {
	    { "TL-MATCH", "acme", "A", "review", "2026-03-01T10:00:00+09:00", NULL,
		"event.count", "u1" },
	    { "TL-MATCH", "acme", "A", "review", "2026-03-01T10:00:01+09:00", NULL,
		"event.count", "u2" },
	} },
};

static void
test_match(void **state)
{
	(void)state;
	assert_int_equal(run_scens(match_scens, NELEM(match_scens)), 0);
}

/* ---- versions ---- */

static const struct scen version_scens[] = {
	{ "split at 2026-01-01 JST", NULL, {
	    EV("u1", "2025-12-31T23:59:59+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
	    EV("u2", "2025-12-31T15:00:00Z", "test.used", ",\"thing\":\"B\",\"count\":10"),
	    EV("u3", "2025-12-31T14:59:59Z", "test.used", ",\"thing\":\"C\",\"count\":10"),
	    NULL }, NULL, "TL-MATCH", {
	    { "TL-MATCH", "acme", "A", "violation", "2025-12-31T23:59:59+09:00", "v1", NULL, NULL },
	    { "TL-MATCH", "acme", "B", "violation", "2026-01-01T00:00:00+09:00", "v2", NULL, NULL },
	    { "TL-MATCH", "acme", "C", "violation", "2025-12-31T23:59:59+09:00", "v1", NULL, NULL },
	} },
	{ "no article for a version: nothing under it", NULL, {
	    EV("v1", "2025-12-31T23:59:59+09:00", "test.v2", ",\"thing\":\"A\""),
	    EV("v2", "2026-01-01T00:00:00+09:00", "test.v2", ",\"thing\":\"B\""),
	    NULL }, NULL, "TL-V2", {
	    { "TL-V2", "acme", "B", "violation", "2026-01-01T00:00:00+09:00", "v2", NULL, "v2" },
	} },
	{ "version_at follows a record field",
	    "{\"contracts\":["
	    "{\"id\":\"C-OLD\",\"tenant\":\"acme\",\"ordered_on\":\"2025-12-20\"},"
	    "{\"id\":\"C-NEW\",\"tenant\":\"acme\",\"ordered_on\":\"2026-01-05\"},"
	    "{\"id\":\"C-NONE\",\"tenant\":\"acme\"}]}", {
	    EV("o1", "2026-02-01T10:00:00+09:00", "test.ordered", ",\"contract\":\"C-OLD\""),
	    EV("o2", "2026-02-01T10:00:00+09:00", "test.ordered", ",\"contract\":\"C-NEW\""),
	    EV("o3", "2026-02-01T10:00:00+09:00", "test.ordered", ",\"contract\":\"C-NONE\""),
	    EV("o4", "2026-02-01T10:00:00+09:00", "test.ordered", ",\"contract\":\"C-UNKNOWN\""),
	    NULL }, NULL, "TL-VER", {
	    { "TL-VER", "acme", "C-OLD", "violation", "2026-02-01T10:00:00+09:00", "v1", NULL, NULL },
	    { "TL-VER", "acme", "C-NEW", "violation", "2026-02-01T10:00:00+09:00", "v2", NULL, NULL },
	} },
	{ "version_at reads the record as upserted before the event",
	    "{\"contracts\":[{\"id\":\"C-1\",\"tenant\":\"acme\",\"ordered_on\":\"2025-12-20\"}]}", {
	    EV("o1", "2026-02-01T10:00:00+09:00", "test.ordered", ",\"contract\":\"C-1\""),
	    EV("up", "2026-02-02T10:00:00+09:00", "contract.upserted",
		",\"record\":{\"id\":\"C-1\",\"tenant\":\"acme\",\"ordered_on\":\"2026-02-02\"}"),
	    EV("o2", "2026-02-03T10:00:00+09:00", "test.ordered", ",\"contract\":\"C-1\""),
	    NULL }, NULL, "TL-VER", {
	    { "TL-VER", "acme", "C-1", "violation", "2026-02-01T10:00:00+09:00", "v1", NULL, "o1" },
	    { "TL-VER", "acme", "C-1", "violation", "2026-02-03T10:00:00+09:00", "v2", NULL, "o2" },
	} },
};

static void
test_versions(void **state)
{
	(void)state;
	assert_int_equal(run_scens(version_scens, NELEM(version_scens)), 0);
}

/* ---- deadline (event start): due = start + days(3), warn [1, 3] ---- */

#define START_K(id, time)	EV(id, time, "test.start", ",\"thing\":\"K\"")
#define STOP_K(id, time, rest)	EV(id, time, "test.stop", ",\"thing\":\"K\"" rest)
#define W_WARN(t)	{ "TL-DL", "acme", "K", "warning", t, "v2", NULL, "s1" }
#define W_VIOL(t)	{ "TL-DL", "acme", "K", "violation", t, "v2", NULL, "s1" }

static const struct scen deadline_scens[] = {
	{ "closed at 23:59:59 JST of the due day: in time", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-13T23:59:59+09:00", ""),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    /* due-1 at 00:00 JST; due-3 is the start day's 00:00, before opening */
	    W_WARN("2026-03-12T00:00:00+09:00"),
	} },
	{ "closed at 00:00:00 JST the next day: late", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-14T00:00:00+09:00", ""),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "a warning at the opening instant is not raised", NULL, {
	    START_K("s1", "2026-03-10T00:00:00+09:00"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "a stop exactly at the warning instant: the warning fires first", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-12T00:00:00+09:00", ""),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	} },
	{ "a repeated start while open is ignored", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    START_K("s2", "2026-03-12T10:00:00+09:00"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "a stop before the start closes it at once (advance payment)", NULL, {
	    STOP_K("p1", "2026-03-01T10:00:00+09:00", ""),
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "partial stops add up to the target in time", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-11T10:00:00+09:00", ",\"amount\":40"),
	    STOP_K("p2", "2026-03-13T12:00:00+09:00", ",\"amount\":60"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	} },
	{ "partial stops short of the target: late", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-11T10:00:00+09:00", ",\"amount\":40"),
	    STOP_K("p2", "2026-03-13T12:00:00+09:00", ",\"amount\":50"),
	    STOP_K("p3", "2026-03-14T09:00:00+09:00", ",\"amount\":10"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "UTC near midnight JST: 2026-05-30T15:30Z starts on 05-31", NULL, {
	    START_K("s1", "2026-05-30T15:30:00Z"),
	    NULL }, "2026-06-30T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-06-02T00:00:00+09:00"),	/* due 06-03, minus 1 */
	    W_VIOL("2026-06-03T15:00:00Z"),		/* 06-04 00:00 JST */
	} },
	{ "at most one violation, whatever follows", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-20T10:00:00+09:00", ",\"amount\":10"),
	    STOP_K("p2", "2026-03-21T10:00:00+09:00", ""),
	    NULL }, "2026-12-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "--until exactly at the due instant fires the timer", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    NULL }, "2026-03-14T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "--until one second before the due instant does not", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    NULL }, "2026-03-13T23:59:59+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	} },
	{ "no --until: the clock stops at the last event", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    NOOP("n1", "2026-03-13T23:00:00+09:00"),
	    NULL }, NULL, "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	} },
	{ "no --until: an event at the due instant fires it", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    NOOP("n1", "2026-03-14T00:00:00+09:00"),
	    NULL }, NULL, "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "a new obligation after the previous one closed", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-11T10:00:00+09:00", ""),
	    START_K("s2", "2026-03-20T10:00:00+09:00"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    { "TL-DL", "acme", "K", "warning", "2026-03-22T00:00:00+09:00", "v2", NULL, "s2" },
	    { "TL-DL", "acme", "K", "violation", "2026-03-24T00:00:00+09:00", "v2", NULL, "s2" },
	} },
	{ "judged by the version in force when it opened", NULL, {
	    START_K("s1", "2025-12-30T10:00:00+09:00"),
	    NULL }, "2026-01-10T00:00:00+09:00", "TL-DL", {
	    { "TL-DL", "acme", "K", "warning", "2026-01-01T00:00:00+09:00", "v1", NULL, "s1" },
	    { "TL-DL", "acme", "K", "violation", "2026-01-03T00:00:00+09:00", "v1", NULL, "s1" },
	} },
};

static void
test_deadline(void **state)
{
	(void)state;
	assert_int_equal(run_scens(deadline_scens, NELEM(deadline_scens)), 0);
}

/*
 * Amounts belong to one obligation: what was paid towards an obligation that
 * closed does not count towards the next one opened on the same key.
 */
static const struct scen deadline_amount_scens[] = {
	{ "a new obligation starts with nothing paid", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-11T10:00:00+09:00", ",\"amount\":100"),
	    START_K("s2", "2026-03-20T10:00:00+09:00"),
	    STOP_K("p2", "2026-03-21T10:00:00+09:00", ",\"amount\":10"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    { "TL-DL", "acme", "K", "warning", "2026-03-22T00:00:00+09:00", "v2", NULL, "s2" },
	    { "TL-DL", "acme", "K", "violation", "2026-03-24T00:00:00+09:00", "v2", NULL, "s2" },
	} },
};

static void
test_deadline_amounts_per_obligation(void **state)
{
	(void)state;
	assert_int_equal(run_scens(deadline_amount_scens,
	    NELEM(deadline_amount_scens)), 0);
}

/* ---- deadline (record start): due = record.payment_due ---- */

#define C1(extra) \
	"{\"contracts\":[{\"id\":\"C-1\",\"tenant\":\"acme\",\"received_on\":" \
	"\"2026-04-01\",\"payment_due\":\"2026-04-30\"" extra "}]}"
#define W_PAY(t)	{ "TL-PAY", "acme", "C-1", "violation", t, "v2", NULL, NULL }

static const struct scen record_deadline_scens[] = {
	{ "unpaid by the due day: violation at 00:00 JST after it", C1(""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    W_PAY("2026-05-01T00:00:00+09:00"),
	} },
	{ "paid_on in time on the record", C1(",\"paid_on\":\"2026-04-20\""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	/*
	 * Start and stop dates are read once and taken as they are when they
	 * are dates; anything else is judged by the evaluator, whose error the
	 * review gives.
	 */
	{ "a paid_on that is no calendar day: a review, nothing opens",
	    C1(",\"paid_on\":\"2026-04-31\""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    { "TL-PAY", "acme", "C-1", "review", "2026-04-02T10:00:00+09:00", NULL,
		"record.paid_on: expected date, got string", NULL },
	} },
	{ "a received_on that is a number: a review",
	    "{\"contracts\":[{\"id\":\"C-1\",\"tenant\":\"acme\",\"received_on\":"
	    "20260401,\"payment_due\":\"2026-04-30\"}]}", {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    { "TL-PAY", "acme", "C-1", "review", "2026-04-02T10:00:00+09:00", NULL,
		"record.received_on: expected date, got number", NULL },
	} },
	{ "start and stop that are dates, not strings: late terms",
	    C1(",\"ordered_on\":\"2026-04-01\",\"terms_on\":\"2026-04-04\""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-ORD", {
	    { "TL-ORD", "acme", "C-1", "violation", "2026-04-04T00:00:00+09:00", "v2",
		NULL, NULL },
	} },
	{ "start and stop that are dates, not strings: terms in time",
	    C1(",\"ordered_on\":\"2026-04-01\",\"terms_on\":\"2026-04-03\""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-ORD", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "paid_on on the due day itself", C1(",\"paid_on\":\"2026-04-30\""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "paid_on late on the record", C1(",\"paid_on\":\"2026-05-03\""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    W_PAY("2026-05-01T00:00:00+09:00"),
	} },
	{ "a stop event at 23:59:59 of the due day", C1(""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    EV("pd", "2026-04-30T23:59:59+09:00", "test.paid", ",\"contract\":\"C-1\""),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "an upsert that moves the due day later re-arms", C1(""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    EV("up", "2026-04-15T10:00:00+09:00", "contract.upserted",
		",\"record\":{\"id\":\"C-1\",\"tenant\":\"acme\",\"received_on\":"
		"\"2026-04-01\",\"payment_due\":\"2026-05-15\"}"),
	    NULL }, "2026-05-20T00:00:00+09:00", "TL-PAY", {
	    W_PAY("2026-05-16T00:00:00+09:00"),
	} },
	{ "an upsert that moves the due day earlier re-arms", C1(""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    EV("up", "2026-04-10T10:00:00+09:00", "contract.upserted",
		",\"record\":{\"id\":\"C-1\",\"tenant\":\"acme\",\"received_on\":"
		"\"2026-04-01\",\"payment_due\":\"2026-04-20\"}"),
	    NULL }, "2026-05-20T00:00:00+09:00", "TL-PAY", {
	    W_PAY("2026-04-21T00:00:00+09:00"),
	} },
	{ "an upsert that adds paid_on closes it", C1(""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    EV("up", "2026-04-25T10:00:00+09:00", "contract.upserted",
		",\"record\":{\"id\":\"C-1\",\"tenant\":\"acme\",\"received_on\":"
		"\"2026-04-01\",\"payment_due\":\"2026-04-30\",\"paid_on\":\"2026-04-25\"}"),
	    NULL }, "2026-05-20T00:00:00+09:00", "TL-PAY", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "a contract received by upsert opens the obligation", NULL, {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    EV("up", "2026-04-03T10:00:00+09:00", "contract.upserted",
		",\"record\":{\"id\":\"C-1\",\"tenant\":\"acme\",\"received_on\":"
		"\"2026-04-01\",\"payment_due\":\"2026-04-30\"}"),
	    NULL }, "2026-05-20T00:00:00+09:00", "TL-PAY", {
	    W_PAY("2026-05-01T00:00:00+09:00"),
	} },
	{ "a due day before the replay starts fires at its own instant",
	    "{\"contracts\":[{\"id\":\"C-1\",\"tenant\":\"acme\",\"received_on\":"
	    "\"2025-12-15\",\"payment_due\":\"2025-12-31\"}]}", {
	    NOOP("n1", "2026-01-05T10:00:00+09:00"),
	    NULL }, NULL, "TL-PAY", {
	    { "TL-PAY", "acme", "C-1", "violation", "2026-01-01T00:00:00+09:00", "v1", NULL, NULL },
	} },
};

static void
test_deadline_record(void **state)
{
	(void)state;
	assert_int_equal(run_scens(record_deadline_scens,
	    NELEM(record_deadline_scens)), 0);
}

/* ---- periodic: baseline + months(6) ---- */

#define F1(extra) \
	"{\"facilities\":[{\"id\":\"F-1\",\"tenant\":\"acme\"" extra "}]}"
#define W_PER(status, t)	{ "TL-PER", "acme", "F-1", status, t, "v2", NULL, NULL }

static const struct scen periodic_scens[] = {
	{ "2026-08-31 + 6 months clamps to 2027-02-28",
	    F1(",\"last_check\":\"2026-08-31\""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    NULL }, "2027-03-01T00:00:00+09:00", "TL-PER", {
	    W_PER("violation", "2027-03-01T00:00:00+09:00"),
	} },
	{ "one second before the break: nothing yet",
	    F1(",\"last_check\":\"2026-08-31\""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    NULL }, "2027-02-28T23:59:59+09:00", "TL-PER", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "a missed due raises exactly one violation",
	    F1(",\"last_check\":\"2026-08-31\""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    NOOP("n2", "2027-06-01T10:00:00+09:00"),
	    NULL }, "2027-12-31T00:00:00+09:00", "TL-PER", {
	    W_PER("violation", "2027-03-01T00:00:00+09:00"),
	} },
	{ "a check event moves the due",
	    F1(",\"last_check\":\"2026-08-31\""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    EV("c1", "2027-01-10T10:00:00+09:00", "test.checked", ",\"facility\":\"F-1\""),
	    NULL }, "2027-07-20T00:00:00+09:00", "TL-PER", {
	    { "TL-PER", "acme", "F-1", "violation", "2027-07-11T00:00:00+09:00", "v2", NULL, "c1" },
	} },
	{ "after a miss the next due counts from the next check",
	    F1(",\"last_check\":\"2026-08-31\""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    EV("c1", "2027-04-01T10:00:00+09:00", "test.checked", ",\"facility\":\"F-1\""),
	    NULL }, "2027-12-31T00:00:00+09:00", "TL-PER", {
	    W_PER("violation", "2027-03-01T00:00:00+09:00"),
	    { "TL-PER", "acme", "F-1", "violation", "2027-10-02T00:00:00+09:00", "v2", NULL, "c1" },
	} },
	{ "no baseline: one review, no record of the last check", F1(""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    EV("up", "2026-10-01T10:00:00+09:00", "facility.upserted",
		",\"record\":{\"id\":\"F-1\",\"tenant\":\"acme\",\"name\":\"x\"}"),
	    NULL }, "2027-12-31T00:00:00+09:00", "TL-PER", {
	    { "TL-PER", "acme", "F-1", "review", "2026-09-01T10:00:00+09:00", NULL,
		"no record of the last check", NULL },
	} },
	{ "no baseline, then a check opens the cycle", F1(""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    EV("c1", "2026-09-15T10:00:00+09:00", "test.checked", ",\"facility\":\"F-1\""),
	    NULL }, "2027-04-01T00:00:00+09:00", "TL-PER", {
	    { "TL-PER", "acme", "F-1", "review", "2026-09-01T10:00:00+09:00", NULL,
		"no record of the last check", NULL },
	    W_PER("violation", "2027-03-16T00:00:00+09:00"),
	} },
};

static void
test_periodic(void **state)
{
	(void)state;
	assert_int_equal(run_scens(periodic_scens, NELEM(periodic_scens)), 0);
}

/* ---- threshold: 3 per key within days(1) ---- */

#define LOGIN(id, t, user)	EV(id, t, "test.login", ",\"user\":\"" user "\"")

static const struct scen threshold_scens[] = {
	{ "three within a day: one alert at the third", NULL, {
	    LOGIN("l1", "2026-03-01T10:00:00+09:00", "U"),
	    LOGIN("l2", "2026-03-01T20:00:00+09:00", "U"),
	    LOGIN("l3", "2026-03-02T09:59:59+09:00", "U"),
	    NULL }, NULL, "TL-THR", {
	    { "TL-THR", "acme", "U", "violation", "2026-03-02T09:59:59+09:00", "v2", NULL, "l3" },
	} },
	{ "three spread over more than a day: none", NULL, {
	    LOGIN("l1", "2026-03-01T10:00:00+09:00", "U"),
	    LOGIN("l2", "2026-03-02T10:00:01+09:00", "U"),
	    LOGIN("l3", "2026-03-03T10:00:00+09:00", "U"),
	    NULL }, NULL, "TL-THR", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "six in an hour: two alerts (the count starts over)", NULL, {
	    LOGIN("l1", "2026-03-01T10:00:00+09:00", "U"),
	    LOGIN("l2", "2026-03-01T10:10:00+09:00", "U"),
	    LOGIN("l3", "2026-03-01T10:20:00+09:00", "U"),
	    LOGIN("l4", "2026-03-01T10:30:00+09:00", "U"),
	    LOGIN("l5", "2026-03-01T10:40:00+09:00", "U"),
	    LOGIN("l6", "2026-03-01T10:50:00+09:00", "U"),
	    NULL }, NULL, "TL-THR", {
	    { "TL-THR", "acme", "U", "violation", "2026-03-01T10:20:00+09:00", "v2", NULL, "l3" },
	    { "TL-THR", "acme", "U", "violation", "2026-03-01T10:50:00+09:00", "v2", NULL, "l6" },
	} },
	{ "keys and tenants count apart", NULL, {
	    LOGIN("l1", "2026-03-01T10:00:00+09:00", "U"),
	    LOGIN("l2", "2026-03-01T10:10:00+09:00", "U"),
	    LOGIN("l3", "2026-03-01T10:20:00+09:00", "V"),
	    EVT("beta", "l4", "2026-03-01T10:30:00+09:00", "test.login", ",\"user\":\"U\""),
	    NULL }, NULL, "TL-THR", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
};

static void
test_threshold(void **state)
{
	(void)state;
	assert_int_equal(run_scens(threshold_scens, NELEM(threshold_scens)), 0);
}

/* ---- record: len(record.purposes ?? []) == 0 ---- */

#define DS_UP(id, t, purposes) EV(id, t, "dataset.upserted", \
	",\"record\":{\"id\":\"DS-1\",\"tenant\":\"acme\",\"purposes\":" purposes "}")
#define W_REC(t)	{ "TL-REC", "acme", "DS-1", "violation", t, "v2", NULL, NULL }

static const struct scen record_scens[] = {
	{ "a file record that breaks: once, at the first event's time",
	    "{\"datasets\":[{\"id\":\"DS-1\",\"tenant\":\"acme\",\"purposes\":[]},"
	    "{\"id\":\"DS-2\",\"tenant\":\"acme\",\"purposes\":[\"a\"]}]}", {
	    NOOP("n1", "2026-03-01T10:00:00+09:00"),
	    NOOP("n2", "2026-03-05T10:00:00+09:00"),
	    NULL }, "2026-12-31T00:00:00+09:00", "TL-REC", {
	    W_REC("2026-03-01T10:00:00+09:00"),
	} },
	{ "a file record with no events: at --until",
	    "{\"datasets\":[{\"id\":\"DS-1\",\"tenant\":\"acme\"}]}", {
	    NULL }, "2026-12-31T00:00:00+09:00", "TL-REC", {
	    W_REC("2026-12-31T00:00:00+09:00"),
	} },
	{ "raised again only after it cleared; time = the upsert's",
	    "{\"datasets\":[{\"id\":\"DS-1\",\"tenant\":\"acme\",\"purposes\":[\"a\"]}]}", {
	    NOOP("n1", "2026-03-01T10:00:00+09:00"),
	    DS_UP("u1", "2026-03-02T10:00:00+09:00", "[]"),
	    DS_UP("u2", "2026-03-03T10:00:00+09:00", "[]"),
	    DS_UP("u3", "2026-03-04T10:00:00+09:00", "[\"b\"]"),
	    DS_UP("u4", "2026-03-05T10:00:00+09:00", "[]"),
	    NULL }, NULL, "TL-REC", {
	    W_REC("2026-03-02T10:00:00+09:00"),
	    W_REC("2026-03-05T10:00:00+09:00"),
	} },
	{ "broken in the file, fixed, broken again",
	    "{\"datasets\":[{\"id\":\"DS-1\",\"tenant\":\"acme\"}]}", {
	    NOOP("n1", "2026-03-01T10:00:00+09:00"),
	    DS_UP("u1", "2026-03-02T10:00:00+09:00", "[\"a\"]"),
	    DS_UP("u2", "2026-03-03T10:00:00+09:00", "null"),
	    NULL }, NULL, "TL-REC", {
	    W_REC("2026-03-01T10:00:00+09:00"),
	    W_REC("2026-03-03T10:00:00+09:00"),
	} },
};

static void
test_record(void **state)
{
	(void)state;
	assert_int_equal(run_scens(record_scens, NELEM(record_scens)), 0);
}

/* ---- duplicates ---- */

static const struct scen dedupe_scens[] = {
	{ "the first in input order wins, even if later in time", NULL, {
	    EV("u1", "2026-03-10T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
	    EV("u1", "2026-03-09T10:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":10"),
	    EVT("beta", "u1", "2026-03-11T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
	    NULL }, NULL, "TL-MATCH", {
	    { "TL-MATCH", "acme", "A", "violation", "2026-03-10T10:00:00+09:00", "v2", NULL, "u1" },
	    { "TL-MATCH", "beta", "A", "violation", "2026-03-11T10:00:00+09:00", "v2", NULL, "u1" },
	} },
	{ "a duplicate of a harmless event raises nothing", NULL, {
	    EV("u1", "2026-03-10T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":1"),
	    EV("u1", "2026-03-10T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
	    NULL }, NULL, "TL-MATCH", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "a duplicate start does not restart a closed deadline", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    STOP_K("p1", "2026-03-11T10:00:00+09:00", ""),
	    START_K("s1", "2026-03-12T10:00:00+09:00"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
};

static void
test_dedupe(void **state)
{
	(void)state;
	assert_int_equal(run_scens(dedupe_scens, NELEM(dedupe_scens)), 0);
}

/* ---- tenant walls ---- */

static const struct scen tenant_scens[] = {
	{ "another tenant's stop does not close a deadline", NULL, {
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    EVT("beta", "p1", "2026-03-11T10:00:00+09:00", "test.stop", ",\"thing\":\"K\""),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "another tenant's earlier stop is not an advance payment", NULL, {
	    EVT("beta", "p1", "2026-03-01T10:00:00+09:00", "test.stop", ",\"thing\":\"K\""),
	    START_K("s1", "2026-03-10T10:00:00+09:00"),
	    NULL }, "2026-03-31T00:00:00+09:00", "TL-DL", {
	    W_WARN("2026-03-12T00:00:00+09:00"),
	    W_VIOL("2026-03-14T00:00:00+09:00"),
	} },
	{ "another tenant's payment of the same contract id", C1(""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    EVT("beta", "pd", "2026-04-20T10:00:00+09:00", "test.paid", ",\"contract\":\"C-1\""),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    W_PAY("2026-05-01T00:00:00+09:00"),
	} },
	{ "another tenant's upsert of the same contract id", C1(""), {
	    NOOP("n1", "2026-04-02T10:00:00+09:00"),
	    EVT("beta", "up", "2026-04-15T10:00:00+09:00", "contract.upserted",
		",\"record\":{\"id\":\"C-1\",\"tenant\":\"beta\",\"received_on\":"
		"\"2026-04-01\",\"payment_due\":\"2026-05-15\"}"),
	    NULL }, "2026-05-10T00:00:00+09:00", "TL-PAY", {
	    W_PAY("2026-05-01T00:00:00+09:00"),
	} },
	{ "another tenant's check does not renew a periodic obligation",
	    F1(",\"last_check\":\"2026-08-31\""), {
	    NOOP("n1", "2026-09-01T10:00:00+09:00"),
	    EVT("beta", "c1", "2027-01-10T10:00:00+09:00", "test.checked", ",\"facility\":\"F-1\""),
	    NULL }, "2027-03-01T00:00:00+09:00", "TL-PER", {
	    W_PER("violation", "2027-03-01T00:00:00+09:00"),
	} },
	{ "a record of tenant A is not seen by events of tenant B",
	    "{\"contracts\":[{\"id\":\"C-OLD\",\"tenant\":\"acme\",\"ordered_on\":\"2025-12-20\"}]}", {
	    EVT("beta", "o1", "2026-02-01T10:00:00+09:00", "test.ordered", ",\"contract\":\"C-OLD\""),
	    NULL }, NULL, "TL-VER", {
	    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	} },
	{ "a dataset of tenant A is checked as tenant A's",
	    "{\"datasets\":[{\"id\":\"DS-1\",\"tenant\":\"acme\"},"
	    "{\"id\":\"DS-1\",\"tenant\":\"beta\",\"purposes\":[\"a\"]}]}", {
	    EVT("beta", "n1", "2026-03-01T10:00:00+09:00", "test.noop", ""),
	    EVT("beta", "u1", "2026-03-02T10:00:00+09:00", "dataset.upserted",
		",\"record\":{\"id\":\"DS-1\",\"tenant\":\"beta\",\"purposes\":[\"b\"]}"),
	    NULL }, NULL, "TL-REC", {
	    W_REC("2026-03-01T10:00:00+09:00"),
	} },
};

static void
test_tenants(void **state)
{
	(void)state;
	assert_int_equal(run_scens(tenant_scens, NELEM(tenant_scens)), 0);
}

/* ---- same instant: a timer due at an event's time fires before the event ---- */

static void
test_same_instant(void **state)
{
	static const char *const lines[] = {
		START_K("s1", "2026-03-10T10:00:00+09:00"),
		EV("u1", "2026-03-14T00:00:00+09:00", "test.used",
		    ",\"thing\":\"K\",\"count\":10"),
		STOP_K("p1", "2026-03-14T00:00:00+09:00", ""),
		NULL
	};
	struct alert_vec	 out = { 0 };
	struct replay_result	 res;
	const struct alert	*viol = NULL, *match = NULL;
	size_t			 i;

	(void)state;
	run(NULL, lines, NULL, &out, &res);
	for (i = 0; i < out.n; i++) {
		if (strcmp(out.v[i].obligation, "TL-DL") == 0 &&
		    strcmp(out.v[i].status, "violation") == 0)
			viol = &out.v[i];
		if (strcmp(out.v[i].obligation, "TL-MATCH") == 0)
			match = &out.v[i];
	}
	assert_non_null(viol);
	assert_non_null(match);
	assert_int_equal(viol->time, I("2026-03-14T00:00:00+09:00"));
	assert_int_equal(match->time, viol->time);
	assert_true(viol->seq < match->seq);
	assert_string_equal(jstr(viol->json, "time"), "2026-03-14T00:00:00+09:00");
	alert_vec_free(&out);
}

/* ---- the alert record itself ---- */

/* tl.det's alert on test_alert_text's event, as cJSON printed its tree. */
#define WANT_ALERT_TEXT \
	"{\"id\":\"a-5c81b3015bec8e3dd88b86b5\",\"tenant\":\"acme\"," \
	"\"rule\":\"tl.det\",\"obligation\":\"TL-DET\",\"law\":\"tl\"," \
	"\"law_version\":\"v2\",\"article\":\"x2\"," \
	"\"severity\":\"medium\",\"status\":\"violation\"," \
	"\"state\":\"open\",\"time\":\"2026-03-01T10:30:00+09:00\"," \
	"\"key\":\"T\\\"1\",\"subject\":{\"kind\":\"event\"," \
	"\"id\":\"T\\\"1\"}," \
	"\"message\":{\"ja\":\"T\\\"1 は「引用\\\"と\\n改行\\u0001」\"," \
	"\"en\":\"\\\"引用\\\"と\\n改行\\u0001\\\"\\t10\"}," \
	"\"evidence\":[\"d1\"],\"details\":{\"b\":true,\"n\":15," \
	"\"frac\":3.3333333333333335,\"big\":3e+21," \
	"\"s\":\"引用\\\"と\\n改行\\u0001\",\"d\":\"2026-05-30\"," \
	"\"t\":\"2026-03-01T10:30:00+09:00\",\"dur\":{\"months\":1," \
	"\"days\":3},\"list\":[1,\"x\",{\"a\":null}]," \
	"\"obj\":{\"k\":[true,false],\"e\":{}},\"nul\":null," \
	"\"absent\":null,\"q\\\"k\\n\":\"T\\\"1\"}}"

static void
test_alert_record(void **state)
{
	static const char *const lines[] = {
		EV("u1", "2026-03-01T01:30:00Z", "test.used",
		    ",\"thing\":\"A\",\"count\":10"),
		NULL
	};
	struct alert_vec	 out = { 0 };
	struct replay_result	 res;
	const cJSON		*a, *ev, *subj, *msg;

	(void)state;
	run(NULL, lines, NULL, &out, &res);
	assert_int_equal(out.n, 1);
	a = out.v[0].json;
	assert_string_equal(jstr(a, "tenant"), "acme");
	assert_string_equal(jstr(a, "rule"), "tl.match");
	assert_string_equal(jstr(a, "obligation"), "TL-MATCH");
	assert_string_equal(jstr(a, "law"), "tl");
	assert_string_equal(jstr(a, "law_version"), "v2");
	assert_string_equal(jstr(a, "article"), "m2");
	assert_string_equal(jstr(a, "status"), "violation");
	assert_string_equal(jstr(a, "state"), "open");
	assert_string_equal(jstr(a, "time"), "2026-03-01T10:30:00+09:00");
	assert_string_equal(jstr(a, "key"), "A");
	assert_int_equal(strlen(jstr(a, "id")), 26);
	assert_memory_equal(jstr(a, "id"), "a-", 2);
	subj = cJSON_GetObjectItem(a, "subject");
	assert_string_equal(jstr(subj, "id"), "A");
	assert_string_equal(jstr(subj, "kind"), "event");
	msg = cJSON_GetObjectItem(a, "message");
	assert_string_equal(jstr(msg, "en"), "thing A count 10");
	ev = cJSON_GetObjectItem(a, "evidence");
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(cJSON_GetArrayItem(ev, 0)->valuestring, "u1");
	assert_string_equal(out.v[0].id, jstr(a, "id"));
	assert_string_equal(out.v[0].key, "A");
	alert_vec_free(&out);
}

static char *printed(struct alert_vec *av);

/*
 * The record's text, byte for byte, with rule details of every value type
 * (one that fails is left out) and strings that need escapes: as a line
 * written out by a spilling replay, and as the tree a collector keeps.
 */
static void
test_alert_text(void **state)
{
	static const char *const lines[] = {
		EV("d1", "2026-03-01T01:30:00Z", "test.detail",
		    ",\"thing\":\"T\\\"1\",\"count\":10,\"big\":1e21,\"text\":\"引用\\\"と\\n改行\\u0001\","
		    "\"list\":[1,\"x\",{\"a\":null}],\"obj\":{\"k\":[true,false],\"e\":{}}"),
		NULL
	};
	static const char want[] = WANT_ALERT_TEXT "\n";
	struct alert_vec	 a = { 0 }, b = { 0 };
	struct replay_result	 res;
	char			*pa, *pb;

	(void)state;
	run(NULL, lines, NULL, &a, &res);
	assert_int_equal(alert_vec_spill(&b), 0);
	run(NULL, lines, NULL, &b, &res);
	assert_int_equal(a.n, 1);
	assert_non_null(a.v[0].json);
	pa = printed(&a);
	pb = printed(&b);
	assert_string_equal(pa, want);
	assert_string_equal(pb, want);
	free(pa);
	free(pb);
	alert_vec_free(&a);
	alert_vec_free(&b);
}

/* ---- keys shared by the rules of an event ---- */

/*
 * Two laws whose rules key on the same text, in this order: the key reads
 * each law's params; the last two keys fail.
 */
static const char key_law_a[] =
	"law: { id: ka, names: { ja: A, en: A }, versions: [ { id: a1 } ] }\n"
	"params: { p: \"A\" }\n"
	"rules:\n"
	"  - { id: ka.m, obligation: KA-M, kind: match, on: test.k, key: \"params.p + event.x\",\n"
	"      articles: { a1: \"1\" }, message: { ja: \"{key}\", en: \"{key}\" } }\n"
	"  - { id: ka.n, obligation: KA-N, kind: match, on: test.k, key: \"params.p + event.x\",\n"
	"      articles: { a1: \"2\" }, message: { ja: \"{key}\", en: \"{key}\" } }\n";
static const char key_law_b[] =
	"law: { id: kb, names: { ja: B, en: B }, versions: [ { id: b1 } ] }\n"
	"params: { p: \"B\" }\n"
	"rules:\n"
	"  - { id: kb.m, obligation: KB-M, kind: match, on: test.k, key: \"params.p + event.x\",\n"
	"      articles: { b1: \"1\" }, message: { ja: \"{key}\", en: \"{key}\" } }\n"
	"  - { id: kb.f, obligation: KB-F, kind: match, on: test.k, key: event.nothing,\n"
	"      articles: { b1: \"3\" }, message: { ja: \"{key}\", en: \"{key}\" } }\n"
	"  - { id: kb.g, obligation: KB-G, kind: match, on: test.k, key: event.nothing,\n"
	"      articles: { b1: \"4\" }, message: { ja: \"{key}\", en: \"{key}\" } }\n";

static struct ruleset *
load_texts(const char *const *texts, int n)
{
	char		 dir[] = "/tmp/test_engine.XXXXXX", path[8][64];
	const char	*paths[8];
	struct ruleset	*rs;
	FILE		*f;
	int		 i, nerr = 0;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < n; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/l%d.yaml", dir, i);
		assert_non_null(f = fopen(path[i], "w"));
		fputs(texts[i], f);
		fclose(f);
		paths[i] = path[i];
	}
	rs = ruleset_load(paths, n, NULL, &nerr);
	for (i = 0; i < n; i++)
		unlink(path[i]);
	rmdir(dir);
	assert_int_equal(nerr, 0);
	assert_non_null(rs);
	return rs;
}

/* How many of out's alerts are of obligation ob, with status and key. */
static int
count_alerts(const struct alert_vec *out, const char *ob, const char *status,
    const char *key)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < out->n; i++)
		n += strcmp(jstr(out->v[i].json, "obligation"), ob) == 0 &&
		    strcmp(jstr(out->v[i].json, "status"), status) == 0 &&
		    strcmp(jstr(out->v[i].json, "key"), key) == 0;
	return n;
}

/*
 * Rules of one event that share a key's text share its value only within
 * one law (params differ between laws) and one event; a key that fails
 * does so for each rule, and each raises its own review.
 */
static void
test_key_shared_by_rules(void **state)
{
	static const char *const texts[] = { key_law_a, key_law_b };
	static const char *const lines[] = {
		EV("k1", "2026-03-01T10:00:00+09:00", "test.k", ",\"x\":\"1\""),
		EV("k2", "2026-03-01T11:00:00+09:00", "test.k", ",\"x\":\"2\""),
		NULL
	};
	static const struct { const char *ob, *status, *key; } want[] = {
		{ "KA-M", "violation", "A1" }, { "KA-N", "violation", "A1" },
		{ "KB-M", "violation", "B1" }, { "KA-M", "violation", "A2" },
		{ "KA-N", "violation", "A2" }, { "KB-M", "violation", "B2" },
	};
	struct ruleset		*saved = g_rs;
	struct alert_vec	 out = { 0 };
	struct replay_result	 res;
	size_t			 i;

	(void)state;
	g_rs = load_texts(texts, 2);
	run(NULL, lines, NULL, &out, &res);
	ruleset_free(g_rs);
	g_rs = saved;
	assert_int_equal(out.n, 10);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(count_alerts(&out, want[i].ob, want[i].status,
		    want[i].key), 1);
	assert_int_equal(count_alerts(&out, "KB-F", "review", ""), 2);
	assert_int_equal(count_alerts(&out, "KB-G", "review", ""), 2);
	alert_vec_free(&out);
}

/* ---- stable ids ---- */

static void
test_stable_ids(void **state)
{
	static const char *const lines[] = {
		EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
		EV("u2", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":10"),
		EV("u3", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
		START_K("s1", "2026-03-10T10:00:00+09:00"),
		NULL
	};
	struct alert_vec	 a = { 0 }, b = { 0 };
	struct replay_result	 res;
	size_t			 i, j;

	(void)state;
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &a, &res);
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &b, &res);
	assert_int_equal(a.n, 5);	/* 3 matches, a warning, a violation */
	assert_int_equal(a.n, b.n);
	qsort(a.v, a.n, sizeof(*a.v), alert_cmp);
	qsort(b.v, b.n, sizeof(*b.v), alert_cmp);
	for (i = 0; i < a.n; i++) {
		assert_string_equal(a.v[i].id, b.v[i].id);
		for (j = 0; j < i; j++)		/* different alerts, different ids */
			assert_string_not_equal(a.v[i].id, a.v[j].id);
	}
	alert_vec_free(&a);
	alert_vec_free(&b);
}

/*
 * Ids are kept in stores and outputs: these are the ids the first digest
 * code gave (EVP_Digest, the time by snprintf), for times before 1970,
 * names that differ only where they split, and parts past the id's
 * 2048-byte buffer (hashed first).
 */
static void
test_alert_ids(void **state)
{
	static const struct {
		const char	*tenant, *rule, *key, *status;
		instant_t	 at;
		const char	*part, *want;
	} t[] = {
		{ "acme", "tl.match", "A", "violation", 1772328600000LL, "u1",
		  "a-a3ca64b3ffafefc6a9af486d" },
		{ "acme", "tl.dl", "K", "warning", 1773068400000LL, NULL,
		  "a-485de609d5be0b79c5c608d7" },
		{ "t", "r", "", "review", 0, NULL, "a-5d089ae7c1036ddcf42191b4" },
		{ "t", "r", "k", "review", -1500, "e", "a-d6078c6b467d8668c5659c34" },
		{ "t", "r", "k", "review", -86400000LL * 365 * 100, "e",
		  "a-bda80df52761dfadb13c4f2f" },
		{ "ab", "c", "k", "s", 1000, NULL, "a-7dcad2a46ef725543af75159" },
		{ "a", "bc", "k", "s", 1000, NULL, "a-f77ab88c17689cced6a3cb95" },
		{ "t", "r", "x3000", "violation", 1000, "p", "a-b8bdf31c24247e8a95174719" },
		{ "t", "r", "y1000", "violation", 1000, "y1000",
		  "a-ff9d3795d707a9451a8e45b0" },
		{ "テナント", "規則", "キー", "warning", 1772328600999LL, "ev-1",
		  "a-19da3c281d1b38b0df276730" },
	};
	char	 id[27], *x = malloc(3001), *y = malloc(1001);
	size_t	 i;

	(void)state;
	memset(x, 'x', 3000);
	x[3000] = '\0';
	memset(y, 'y', 1000);
	y[1000] = '\0';
	for (i = 0; i < NELEM(t); i++) {
		/* "x3000", "y1000": that letter 3000 or 1000 times. */
		alert_make_id(id, t[i].tenant, t[i].rule,
		    strcmp(t[i].key, "x3000") == 0 ? x :
		    strcmp(t[i].key, "y1000") == 0 ? y : t[i].key, t[i].status,
		    t[i].at, t[i].part && strcmp(t[i].part, "y1000") == 0 ? y :
		    t[i].part);
		if (strcmp(id, t[i].want) != 0)
			fail_msg("case %zu: id %s, want %s", i, id, t[i].want);
	}
	free(x);
	free(y);
}

/* Printed as it is collected: a spilled vector prints the same lines. */
static char *
printed(struct alert_vec *av)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	assert_non_null(f);
	alert_vec_print(av, f);
	fclose(f);
	return buf;
}

static void
test_spilled_alerts_print_the_same(void **state)
{
	static const char *const lines[] = {
		EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
		EV("u2", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":10"),
		START_K("s1", "2026-03-10T10:00:00+09:00"),
		NULL
	};
	struct alert_vec	 a = { 0 }, b = { 0 };
	struct replay_result	 res;
	char			*pa, *pb;
	size_t			 i;

	(void)state;
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &a, &res);
	assert_int_equal(alert_vec_spill(&b), 0);
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &b, &res);
	assert_int_equal(b.n, 4);
	pa = printed(&a);
	pb = printed(&b);
	for (i = 0; i < b.n; i++)	/* kept as lines, not trees, once flushed */
		assert_true(b.v[i].json == NULL && b.v[i].len > 0);
	assert_string_equal(pa, pb);
	assert_non_null(strstr(pb, "\"status\":\"violation\""));
	free(pa);
	free(pb);
	alert_vec_free(&a);
	alert_vec_free(&b);
}

/* Each line of text n times over, in its order. */
static char *
lines_times(const char *text, int n)
{
	struct sbuf	 b;
	const char	*p, *nl;
	int		 i;

	sbuf_init(&b);
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		for (i = 0; i < n; i++)
			sbuf_add(&b, p, nl - p + 1);
	return b.s ? b.s : xstrdup("");
}

/*
 * A split replay's runs collect apart and are merged (alert_vec_merge):
 * spilled runs, a run merged into another before (two files), and a run
 * kept as trees, merged into an empty spilled collector, print each alert
 * as one collector would, three times over (three runs of the same feed).
 */
static void
test_merged_collectors_print_the_same(void **state)
{
	static const char *const lines[] = {
		EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
		EV("u2", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":10"),
		START_K("s1", "2026-03-10T10:00:00+09:00"),
		NULL
	};
	struct alert_vec	 a = { 0 }, x = { 0 }, y = { 0 }, w = { 0 }, z = { 0 };
	struct replay_result	 res;
	char			*pa, *pz, *want;

	(void)state;
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &a, &res);
	assert_int_equal(alert_vec_spill(&x), 0);
	assert_int_equal(alert_vec_spill(&y), 0);
	assert_int_equal(alert_vec_spill(&z), 0);
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &x, &res);
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &y, &res);
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &w, &res);
	alert_vec_merge(&x, &y);
	assert_int_equal(y.n, 0);
	assert_int_equal(x.nmore, 1);
	alert_vec_merge(&z, &x);
	alert_vec_merge(&z, &w);
	assert_int_equal(z.n, 3 * a.n);
	assert_int_equal(z.nmore, 3);	/* x's, y's and w's (none: trees) */
	pa = printed(&a);
	pz = printed(&z);
	want = lines_times(pa, 3);
	assert_string_equal(pz, want);
	free(pa);
	free(pz);
	free(want);
	alert_vec_free(&a);
	alert_vec_free(&x);
	alert_vec_free(&y);
	alert_vec_free(&w);
	alert_vec_free(&z);
}

/*
 * A rule's members are written once per law version and then copied (a
 * text sink): alerts of one rule under v1, v2, v1 again, and reviews,
 * print as their trees do.
 */
static void
test_alert_text_per_version(void **state)
{
	static const char *const lines[] = {
		EV("u1", "2025-12-31T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
		EV("u2", "2026-01-02T10:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":10"),
		EV("u3", "2025-12-31T11:00:00+09:00", "test.used", ",\"thing\":\"C\",\"count\":10"),
		EV("u4", "2026-01-02T11:00:00+09:00", "test.used", ",\"thing\":\"D\""),
		EV("o1", "2026-01-02T12:00:00+09:00", "test.ordered", ",\"contract\":\"C-1\""),
		NULL
	};
	static const char meta[] = "{\"contracts\":[{\"id\":\"C-1\","
	    "\"tenant\":\"acme\",\"ordered_on\":\"someday\"}]}";
	struct alert_vec	 a = { 0 }, b = { 0 };
	struct replay_result	 res;
	char			*pa, *pb;

	(void)state;
	run(meta, lines, NULL, &a, &res);
	assert_int_equal(alert_vec_spill(&b), 0);
	run(meta, lines, NULL, &b, &res);
	assert_int_equal(b.n, 6);	/* with tl.ord's review of C-1 */
	pa = printed(&a);
	pb = printed(&b);
	assert_string_equal(pa, pb);
	assert_non_null(strstr(pb, "\"key\":\"C\""));
	assert_non_null(strstr(pb, "\"law_version\":\"v1\",\"article\":\"m1\""));
	assert_non_null(strstr(pb, "\"law_version\":\"v2\",\"article\":\"m2\""));
	free(pa);
	free(pb);
	alert_vec_free(&a);
	alert_vec_free(&b);
}

/*
 * A full disk: alerts whose lines cannot be written or flushed are kept as
 * trees, nothing is lost, and later alerts are kept as trees too. /dev/full
 * buffered fails at the flush (the print's, here); unbuffered at the write.
 */
static void
test_spill_to_a_full_disk(void **state)
{
	static const char *const lines[] = {
		EV("u1", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"A\",\"count\":10"),
		EV("u2", "2026-03-01T10:00:00+09:00", "test.used", ",\"thing\":\"B\",\"count\":10"),
		START_K("s1", "2026-03-10T10:00:00+09:00"),
		NULL
	};
	struct alert_vec	 a = { 0 }, b;
	struct replay_result	 res;
	char			*pa, *pb;
	int			 buffered;
	size_t			 i;

	(void)state;
	run(NULL, lines, "2026-03-31T00:00:00+09:00", &a, &res);
	pa = printed(&a);
	for (buffered = 0; buffered < 2; buffered++) {
		memset(&b, 0, sizeof(b));
		assert_int_equal(alert_vec_spill(&b), 0);
		fclose(b.spill);
		assert_non_null(b.spill = fopen("/dev/full", "w+"));
		if (!buffered)
			setvbuf(b.spill, NULL, _IONBF, 0);
		run(NULL, lines, "2026-03-31T00:00:00+09:00", &b, &res);
		assert_int_equal(b.n, 4);
		pb = printed(&b);
		assert_true(b.spill_failed);
		for (i = 0; i < b.n; i++)
			assert_non_null(b.v[i].json);
		assert_string_equal(pa, pb);
		free(pb);
		alert_vec_free(&b);
	}
	free(pa);
	alert_vec_free(&a);
}

/* ---- a few thousand random-ish events ---- */

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

#define NSTRESS	6000

struct stress {
	char		**lines;
	size_t		 n;
	int		 want_match, want_v2, unique;
};

static void
stress_make(struct stress *st, uint32_t seed)
{
	static const char *const tenants[] = { "acme", "beta", "gamma" };
	static const char *const types[] = { "test.used", "test.start",
		"test.stop", "test.login", "test.checked", "test.v2", "test.noop",
		"test.ordered" };
	char	 buf[512], ts[32];
	int	*orig, norig = 0, i, type, tenant, dup, count, idn;
	int	*id_tenant;
	instant_t t0 = I("2026-01-01T00:00:00+09:00"), t;

	memset(st, 0, sizeof(*st));
	st->lines = calloc(NSTRESS, sizeof(char *));
	orig = calloc(NSTRESS, sizeof(int));	/* lines with a new id */
	id_tenant = calloc(NSTRESS, sizeof(int));
	for (i = 0; i < NSTRESS; i++) {
		/* ~5% repeat an earlier (tenant, id), with other content */
		dup = norig > 10 && lcg(&seed) % 20 == 0;
		idn = dup ? orig[lcg(&seed) % norig] : i;
		tenant = dup ? id_tenant[idn] : (int)(lcg(&seed) % 3);
		type = (int)(lcg(&seed) % NELEM(types));
		count = (int)(lcg(&seed) % 10);
		/* out of time order on purpose: a year of random instants */
		t = t0 + (instant_t)(lcg(&seed) % (365u * 24 * 60)) * 60000;
		when_fmt_instant(t, ts);
		snprintf(buf, sizeof(buf), "{\"id\":\"e%d\",\"time\":\"%s\","
		    "\"tenant\":\"%s\",\"type\":\"%s\",\"thing\":\"K%u\","
		    "\"count\":%d,\"amount\":%u,\"user\":\"U%u\",\"facility\":"
		    "\"F%u\",\"contract\":\"C%u\"}", idn, ts, tenants[tenant],
		    types[type], lcg(&seed) % 50, count, lcg(&seed) % 120,
		    lcg(&seed) % 5, lcg(&seed) % 5, lcg(&seed) % 5);
		st->lines[st->n++] = strdup(buf);
		if (dup)
			continue;
		orig[norig++] = i;
		id_tenant[i] = tenant;
		st->unique++;
		if (type == 0 && count > 5)
			st->want_match++;
		if (type == 5)
			st->want_v2++;
	}
	free(orig);
	free(id_tenant);
}

static void
stress_free(struct stress *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		free(st->lines[i]);
	free(st->lines);
}

static void
stress_run(const struct stress *st, struct alert_vec *out,
    struct replay_result *res)
{
	static const char meta[] = "{\"contracts\":["
	    "{\"id\":\"C1\",\"tenant\":\"acme\",\"received_on\":\"2026-02-01\","
	    "\"payment_due\":\"2026-03-01\",\"ordered_on\":\"2025-12-01\"},"
	    "{\"id\":\"C2\",\"tenant\":\"beta\",\"received_on\":\"2026-05-01\","
	    "\"payment_due\":\"2026-05-31\",\"ordered_on\":\"2026-04-01\"}],"
	    "\"facilities\":[{\"id\":\"F1\",\"tenant\":\"acme\",\"last_check\":"
	    "\"2025-12-31\"},{\"id\":\"F2\",\"tenant\":\"gamma\"}],"
	    "\"datasets\":[{\"id\":\"DS-1\",\"tenant\":\"beta\"}]}";
	struct registry		*reg = make_registry(meta);
	struct replay_opts	 o;
	struct soc_event		*evs = calloc(st->n, sizeof(*evs));
	char			 err[256];
	size_t			 i;

	memset(&o, 0, sizeof(o));
	o.has_until = 1;
	o.until = I("2027-12-31T00:00:00+09:00");
	for (i = 0; i < st->n; i++)
		if (event_decode(st->lines[i], strlen(st->lines[i]), &evs[i], err,
		    sizeof(err)) == -1)
			fail_msg("stress line %zu: %s", i, err);
	replay_events(g_rs, reg, evs, st->n, &o, out, res);
	free(evs);
	registry_free(reg);
}

static void
test_stress(void **state)
{
	struct stress		 st;
	struct alert_vec	 a = { 0 }, b = { 0 }, c = { 0 };
	struct replay_result	 ra, rb, rc;
	char			*pa, *pc;
	size_t			 i;
	int			 nmatch = 0, nv2 = 0, nstart = 0, nviol = 0;
	instant_t		 t;
	const char		*s;

	(void)state;
	stress_make(&st, 20260101u);
	stress_run(&st, &a, &ra);
	assert_int_equal(ra.stats.events, (uint64_t)st.unique);
	assert_int_equal(ra.stats.alerts, a.n);
	assert_true(a.n > 0);
	for (i = 0; i < a.n; i++) {
		const cJSON *j = a.v[i].json;

		assert_non_null(s = jstr(j, "time"));
		assert_int_equal(when_parse_instant(s, &t), 0);
		assert_int_equal(t / 1000, a.v[i].time / 1000);
		assert_non_null(jstr(j, "tenant"));
		assert_non_null(jstr(j, "key"));
		assert_non_null(jstr(j, "id"));
		if (strcmp(a.v[i].obligation, "TL-MATCH") == 0)
			nmatch++;
		if (strcmp(a.v[i].obligation, "TL-V2") == 0)
			nv2++;
		if (strcmp(a.v[i].obligation, "TL-DL") == 0 &&
		    strcmp(a.v[i].status, "violation") == 0)
			nviol++;
		/* tenants are walls: an alert's tenant owns its key's events */
		assert_true(strcmp(a.v[i].tenant, "acme") == 0 ||
		    strcmp(a.v[i].tenant, "beta") == 0 ||
		    strcmp(a.v[i].tenant, "gamma") == 0);
	}
	for (i = 0; i < st.n; i++)
		if (strstr(st.lines[i], "\"test.start\""))
			nstart++;
	assert_int_equal(nmatch, st.want_match);
	assert_int_equal(nv2, st.want_v2);
	assert_true(nviol <= nstart);

	/* the same input again: the same alerts, the same ids */
	stress_run(&st, &b, &rb);
	assert_int_equal(a.n, b.n);
	qsort(a.v, a.n, sizeof(*a.v), alert_cmp);
	qsort(b.v, b.n, sizeof(*b.v), alert_cmp);
	for (i = 0; i < a.n; i++)
		assert_string_equal(a.v[i].id, b.v[i].id);
	/* output order: time, obligation, tenant, key, status */
	for (i = 1; i < a.n; i++)
		assert_true(alert_cmp(&a.v[i - 1], &a.v[i]) <= 0);
	/* written as text for a spill: the lines the trees print */
	assert_int_equal(alert_vec_spill(&c), 0);
	stress_run(&st, &c, &rc);
	pa = printed(&a);
	pc = printed(&c);
	assert_string_equal(pa, pc);
	free(pa);
	free(pc);
	alert_vec_free(&a);
	alert_vec_free(&b);
	alert_vec_free(&c);
	stress_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_deadline_amounts_per_obligation),
		cmocka_unit_test(test_deadline_record),
		cmocka_unit_test(test_periodic),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_tenants),
		cmocka_unit_test(test_same_instant),
		cmocka_unit_test(test_alert_record),
		cmocka_unit_test(test_alert_text),
		cmocka_unit_test(test_key_shared_by_rules),
		cmocka_unit_test(test_alert_text_per_version),
		cmocka_unit_test(test_stable_ids),
		cmocka_unit_test(test_alert_ids),
		cmocka_unit_test(test_spilled_alerts_print_the_same),
		cmocka_unit_test(test_merged_collectors_print_the_same),
		cmocka_unit_test(test_spill_to_a_full_disk),
		cmocka_unit_test(test_stress),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
