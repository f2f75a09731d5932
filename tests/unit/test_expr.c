/*
 * test_expr.c - the rule expression language: every operator and function,
 * precedence, short-circuits, the error texts a `review` alert carries,
 * date arithmetic in JST, macros, regular expressions with their limits,
 * load-time errors with exact positions, templates and value formatting.
 * Table-driven: each case has a name that a failure prints.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "complyd/expr.h"
#include "complyd/util.h"
#include "complyd/when.h"

/* ---- fixture: one event, two records, params, macros ---- */

static cJSON		*g_event, *g_params, *g_contract, *g_dataset;
static struct hmap	 g_macros;
static int		 g_lookups;
static char		 g_lasttenant[32];

static const cJSON *
fake_lookup(void *arg, const char *kind, const char *tenant, const char *id)
{
	int	*calls = arg;

	(*calls)++;
	snprintf(g_lasttenant, sizeof(g_lasttenant), "%s", tenant);
	if (strcmp(tenant, "acme") != 0)
		return NULL;
	if (strcmp(kind, "contract") == 0 && strcmp(id, "C-1") == 0)
		return g_contract;
	if (strcmp(kind, "dataset") == 0 && strcmp(id, "DS-1") == 0)
		return g_dataset;
	return NULL;
}

static struct expr_macro	 macros[] = {
	{ "is_big", "event.count > 1000", "macros.yaml", 2, 9, 0, { NULL } },
	{ "purpose_ok", "event.purpose in ds.purposes", "macros.yaml", 3, 9, 1,
	    { "ds" } },
	{ "twice", "x + x", "macros.yaml", 4, 9, 1, { "x" } },
	{ "twice_plus", "twice(n) + 1", "macros.yaml", 5, 9, 1, { "n" } },
	{ "big_or", "is_big or b", "macros.yaml", 6, 9, 1, { "b" } },
	{ "rec", "rec(x) + 1", "macros.yaml", 7, 9, 1, { "x" } },
	{ "ping", "pong", "macros.yaml", 8, 9, 0, { NULL } },
	{ "pong", "ping", "macros.yaml", 9, 9, 0, { NULL } },
	{ "bad_macro", "1 + 'a'", "macros.yaml", 10, 5, 0, { NULL } },
	{ "subject", "r.principal.capital_jpy > 50_000_000 and "
	    "(r.entrustee.capital_jpy ?? 0) <= 50_000_000", "macros.yaml", 11, 9,
	    1, { "r" } },
	{ "cap_of", "r.principal.capital_jpy", "macros.yaml", 12, 9, 1, { "r" } },
	{ "amount_of", "contract(i).amount_jpy", "macros.yaml", 13, 9, 1, { "i" } },
	{ "new_law", "version == 'toritekiho-2026'", "macros.yaml", 14, 9, 0,
	    { NULL } },
};

static int
setup(void **state)
{
	char	*longs;
	size_t	 i;

	(void)state;
	g_event = cJSON_Parse("{\"id\":\"e42\",\"type\":\"personal_data."
	    "breach_detected\",\"time\":\"2026-05-30T15:30:00Z\",\"tenant\":"
	    "\"acme\",\"persons\":\"1500\",\"count\":1500,\"sensitive\":true,"
	    "\"purpose\":\"marketing\",\"dataset\":\"DS-1\",\"contract\":"
	    "\"C-1\",\"tags\":[\"a\",\"b\"],\"obj\":{\"k\":1},\"nested\":"
	    "{\"a\":{\"b\":2}},\"name\":\"\xe6\x97\xa5\xe6\x9c\xac\"}");
	longs = malloc(30002);
	memset(longs, 'a', 30000);
	longs[30000] = 'b';
	longs[30001] = '\0';
	cJSON_AddStringToObject(g_event, "long", longs);
	free(longs);
	g_params = cJSON_Parse("{\"threshold\":1000,\"barred_methods\":"
	    "[\"promissory_note\"],\"grace_days\":0}");
	g_contract = cJSON_Parse("{\"id\":\"C-1\",\"received_on\":\"2026-04-01\","
	    "\"payment_due\":\"2026-06-28\",\"amount_jpy\":1200000,\"principal\":"
	    "{\"capital_jpy\":300000000},\"entrustee\":{\"capital_jpy\":5000000}}");
	g_dataset = cJSON_Parse("{\"id\":\"DS-1\",\"purposes\":"
	    "[\"security_monitoring\",\"incident_response\"]}");
	assert_non_null(g_event);
	assert_non_null(g_contract);
	hmap_init(&g_macros);
	for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		hmap_put(&g_macros, macros[i].name, &macros[i]);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cJSON_Delete(g_event);
	cJSON_Delete(g_params);
	cJSON_Delete(g_contract);
	cJSON_Delete(g_dataset);
	hmap_free(&g_macros, NULL);
	return 0;
}

static date_t
D(const char *s)
{
	date_t	 d;

	assert_int_equal(when_parse_date(s, &d), 0);
	return d;
}

static void
env_fill(struct expr_env *env)
{
	expr_env_init(env);
	env->vars[EV_EVENT] = val_json(g_event);
	env->vars[EV_PARAMS] = val_json(g_params);
	env->vars[EV_KEY] = val_str("C-1");
	env->vars[EV_TENANT] = val_str("acme");
	env->vars[EV_VERSION] = val_str("toritekiho-2026");
	env->vars[EV_NOW] = val_time(when_day_start(D("2026-06-10")));
	env->vars[EV_START] = val_date(D("2026-04-01"));
	env->vars[EV_DUE] = val_date(D("2026-06-28"));
	env->vars[EV_PAID] = val_num(0);
	env->tenant = "acme";
	env->lookup = fake_lookup;
	env->lookup_arg = &g_lookups;
}

static struct expr_scope
scope_all(void)
{
	struct expr_scope	 sc;

	sc.vars = ~0u & ~EV_BIT(EV_RECORD);
	sc.macros = &g_macros;
	sc.params = g_params;
	sc.used = NULL;
	return sc;
}

/* Runs fn with stderr sent to a buffer; returns the text (free it). */
static char *
with_stderr(void (*fn)(void *), void *arg)
{
	FILE	*tmp = tmpfile();
	char	*buf;
	long	 n;
	int	 saved;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = ftell(tmp);
	buf = calloc(1, n + 1);
	rewind(tmp);
	if (n > 0 && fread(buf, 1, n, tmp) != (size_t)n)
		fail();
	fclose(tmp);
	return buf;
}

/* ---- evaluation: want is the val_format text, "!error" or "~error part" ---- */

struct ecase {
	const char	*name;
	const char	*src;
	const char	*want;
};

static const struct ecase ecases[] = {
	/* literals */
	{ "number", "1_000_000", "1000000" },
	{ "fraction", "1.5", "1.5" },
	{ "string single", "'a\\'b'", "a'b" },
	{ "string double", "\"x\\ny\\\\\"", "x\ny\\" },
	{ "list literal", "[1, 'a', true, null]", "[1,\"a\",true,null]" },
	{ "list of exprs", "[event.count, 1 + 1]", "[1500,2]" },
	{ "null", "null", "null" },
	/* arithmetic */
	{ "add", "1 + 2", "3" },
	{ "sub", "5 - 7", "-2" },
	{ "mul", "6 * 7", "42" },
	{ "div", "7 / 2", "3.5" },
	{ "mod", "7 % 3", "1" },
	{ "neg", "-(2 * 3)", "-6" },
	{ "neg literal", "-3 + 1", "-2" },
	{ "div zero", "1 / 0", "!1 / 0: division by zero" },
	{ "concat", "'a' + 'b'", "ab" },
	/* precedence */
	{ "mul over add", "1 + 2 * 3", "7" },
	{ "parens", "(1 + 2) * 3", "9" },
	{ "not over cmp", "not 1 == 2", "true" },
	{ "and over or", "true or false and false", "true" },
	{ "and over or 2", "false and true or true", "true" },
	{ "arith over cmp", "1 + 2 == 3 and 2 * 2 == 4", "true" },
	{ "coalesce lowest", "null ?? 1 + 2", "3" },
	{ "unary minus tight", "-2 * -3", "6" },
	/* comparisons */
	{ "lt", "1 < 2", "true" },
	{ "le", "2 <= 2", "true" },
	{ "gt", "3 > 4", "false" },
	{ "ge", "4 >= 5", "false" },
	{ "str lt", "'a' < 'b'", "true" },
	{ "eq", "1 == 1.0", "true" },
	{ "ne", "1 != 2", "true" },
	{ "eq mismatch", "'1' == 1", "false" },
	{ "null eq null", "null == null", "true" },
	{ "missing eq null", "event.nope == null", "true" },
	{ "present ne null", "event.count != null", "true" },
	{ "list eq", "event.tags == ['a', 'b']", "true" },
	{ "date eq string", "date('2026-01-02') == '2026-01-02'", "true" },
	/* logic */
	{ "and", "true and false", "false" },
	{ "or", "true or false", "true" },
	{ "&&", "true && true", "true" },
	{ "||", "false || true", "true" },
	{ "not", "not true", "false" },
	{ "!", "!false", "true" },
	{ "and short", "false and event.nope > 1", "false" },
	{ "or short", "true or event.nope > 1", "true" },
	{ "and evaluates", "true and event.nope > 1", "!missing attribute event.nope" },
	{ "and needs bool", "event.sensitive and event.persons",
	    "!event.persons: expected bool, got string" },
	{ "not null", "not event.flag", "!missing attribute event.flag" },
	/* missing and wrong type */
	{ "missing", "event.nope > 1", "!missing attribute event.nope" },
	{ "missing deep", "event.nested.x.y + 1",
	    "!missing attribute event.nested.x.y" },
	{ "missing lookup", "contract('C-9').amount_jpy > 0",
	    "!missing attribute contract('C-9').amount_jpy" },
	{ "wrong type", "event.persons > 1000",
	    "!event.persons: expected number, got string" },
	{ "wrong type right", "1000 < event.persons",
	    "!event.persons: expected number, got string" },
	{ "field of string", "event.purpose.x",
	    "!event.purpose: expected object, got string" },
	{ "num converts", "num(event.persons) > 1000", "true" },
	/* ?? */
	{ "coalesce null", "event.nope ?? 5", "5" },
	{ "coalesce value", "event.count ?? 5", "1500" },
	{ "coalesce chain", "event.nope ?? event.nope2 ?? 'x'", "x" },
	{ "coalesce false", "event.sensitive ?? false", "true" },
	/* fields */
	{ "nested", "event.nested.a.b", "2" },
	{ "key index", "event['count']", "1500" },
	{ "list index", "event.tags[1]", "b" },
	{ "index out", "event.tags[5]", "null" },
	{ "index on null", "event.nope[0]", "null" },
	{ "object", "event.obj", "{\"k\":1}" },
	{ "param", "params.threshold", "1000" },
	{ "event time", "event.time", "2026-05-30T15:30:00Z" },
	/* names */
	{ "key", "key", "C-1" },
	{ "tenant", "tenant", "acme" },
	{ "version", "version", "toritekiho-2026" },
	{ "paid", "paid", "0" },
	{ "now", "now", "2026-06-10T00:00:00+09:00" },
	{ "baseline null", "baseline ?? 'none'", "none" },
	/* dates */
	{ "days 59", "date('2026-04-01') + days(59) == '2026-05-30'", "true" },
	{ "days 59 value", "start + days(59)", "2026-05-30" },
	{ "months clamp", "'2026-08-31' + months(6)", "2027-02-28" },
	{ "months clamp eq", "'2026-08-31' + months(6) == '2027-02-28'", "true" },
	{ "date of instant", "date('2026-05-30T15:30:00Z')", "2026-05-31" },
	{ "date of instant eq", "date('2026-05-30T15:30:00Z') == '2026-05-31'",
	    "true" },
	{ "date of event", "date(event.time)", "2026-05-31" },
	{ "date of time", "date(now)", "2026-06-10" },
	{ "date minus date", "'2026-05-30' - '2026-04-01'", "59" },
	{ "date minus date2", "due - start", "88" },
	{ "date minus months", "date('2026-03-31') - months(1)", "2026-02-28" },
	{ "dur plus date", "years(1) + date('2024-02-29')", "2025-02-28" },
	{ "dur sum", "days(1) + days(2)", "{\"months\":0,\"days\":3}" },
	{ "dur neg", "due + -days(7)", "2026-06-21" },
	{ "warning", "due - days(7)", "2026-06-21" },
	{ "date cmp", "due < '2026-07-01'", "true" },
	{ "date cmp2", "'2026-07-01' > due", "true" },
	{ "date vs time", "due < (event.nope ?? now)",
	    "!now: expected date, got time" },
	{ "date vs bad string", "event.time < due",
	    "!event.time: expected date, got string" },
	{ "day_end", "day_end('2026-06-28')", "2026-06-29T00:00:00+09:00" },
	{ "day_start", "day_start(due)", "2026-06-28T00:00:00+09:00" },
	{ "time", "time('2026-05-30T15:30:00Z')", "2026-05-31T00:30:00+09:00" },
	{ "time plus", "time('2026-05-30T15:30:00Z') + days(1)",
	    "2026-06-01T00:30:00+09:00" },
	{ "time plus month", "time('2026-01-31T10:00:00+09:00') + months(1)",
	    "2026-02-28T10:00:00+09:00" },
	{ "time minus", "now - days(10)", "2026-05-31T00:00:00+09:00" },
	{ "time cmp", "now > time('2026-01-01T00:00:00+09:00')", "true" },
	{ "time cmp string", "now > '2026-06-09T23:59:59+09:00'", "true" },
	{ "end_of_month", "end_of_month('2026-02-10')", "2026-02-28" },
	{ "add_months", "add_months('2026-01-31', 1)", "2026-02-28" },
	{ "weekday", "weekday('2026-06-01')", "0" },
	{ "business_day sat", "business_day('2026-05-30')", "2026-06-01" },
	{ "business_day mon", "business_day('2026-06-01')", "2026-06-01" },
	{ "is_business_day", "is_business_day('2026-05-30')", "false" },
	{ "bad date", "date(lower('garbage'))",
	    "!lower('garbage'): expected a date, got 'garbage'" },
	{ "bad date arith", "event.purpose + days(1)",
	    "!event.purpose: expected date, got string" },
	{ "late interest", "floor(contract(key).amount_jpy * 0.146 * "
	    "(date('2026-07-10') - max(start + days(59), "
	    "contract(key).payment_due)) / 365)", "5760" },
	/* in */
	{ "in list", "'b' in event.tags", "true" },
	{ "not in list", "'z' not in event.tags", "true" },
	{ "not in present", "'a' not in event.tags", "false" },
	{ "in object", "'k' in event.obj", "true" },
	{ "in params", "'promissory_note' in params.barred_methods", "true" },
	{ "in record", "event.purpose in dataset(event.dataset).purposes",
	    "false" },
	{ "in literal", "1 in [1, 2]", "true" },
	{ "in exprs", "event.purpose in ['x', event.purpose]", "true" },
	{ "in string", "'ell' in 'hello'", "true" },
	{ "in null", "1 in event.nope", "!missing attribute event.nope" },
	/* functions */
	{ "len list", "len(event.tags)", "2" },
	{ "len utf8", "len(event.name)", "2" },
	{ "has missing", "has(event.nope)", "false" },
	{ "has deep", "has(event.nope.deeper.still)", "false" },
	{ "has present", "has(event.count)", "true" },
	{ "max", "max(1, 5, 3)", "5" },
	{ "min nulls", "min(null, 1, null, -2)", "-2" },
	{ "max all null", "max(event.nope, null)", "null" },
	{ "max dates", "max('2026-01-01', date('2026-03-01'), null)",
	    "2026-03-01" },
	{ "max fields", "max(contract(key).received_on, '2026-01-01')",
	    "2026-04-01" },
	{ "max mixed", "max(event.count, due)", "!due: expected number, got date" },
	{ "floor", "floor(1.7)", "1" },
	{ "abs", "abs(-2.5)", "2.5" },
	{ "diff", "diff(['a', 'b', 'c'], event.tags)", "[\"c\"]" },
	{ "union", "union(event.tags, ['b', 'c'])", "[\"a\",\"b\",\"c\"]" },
	{ "diff null", "diff(event.nope, event.tags)",
	    "!missing attribute event.nope" },
	{ "if", "if(1 > 2, 'x', 'y')", "y" },
	{ "if lazy", "if(true, 1, event.nope > 1)", "1" },
	{ "lower", "lower('AbC')", "abc" },
	{ "str", "str(12) + 'x'", "12x" },
	{ "str date", "str(due)", "2026-06-28" },
	{ "num", "num('12.5') + 1", "13.5" },
	{ "num bad", "num('abc')", "!'abc': not a number: 'abc'" },
	{ "days fraction", "days(1.5)", "!1.5: expected a whole number, got 1.5" },
	/* look-ups */
	{ "lookup", "contract(event.contract).amount_jpy", "1200000" },
	{ "lookup unknown", "contract('C-9') == null", "true" },
	{ "lookup list", "dataset('DS-1').purposes[0]", "security_monitoring" },
	{ "lookup kind", "facility(key)", "null" },
	{ "lookup null id", "contract(event.nope)", "!missing attribute event.nope" },
	/* macros */
	{ "macro bare", "is_big", "true" },
	{ "macro param", "purpose_ok(dataset(event.dataset))", "false" },
	{ "macro twice", "twice(21)", "42" },
	{ "macro nested", "twice_plus(event.count)", "3001" },
	{ "macro uses bare", "big_or(false)", "true" },
	{ "macro subject", "subject(contract(key))", "true" },
	{ "macro missing", "subject(contract('C-9'))",
	    "!missing attribute contract('C-9').principal.capital_jpy" },
	/* a macro's result is remembered per arguments within one evaluation */
	{ "macro memo by argument", "twice(1) + twice(2) + twice(1)", "8" },
	{ "macro memo strings", "[twice('a') == 'aa', twice('b') == 'bb']", "[true,true]" },
	{ "macro memo inner", "twice_plus(1) + twice(2) + twice_plus(2)", "12" },
	/* regular expressions */
	{ "matches", "matches(event.id, '^e[0-9]+$')", "true" },
	{ "matches not", "matches(event.type, '^subcontract\\\\.')", "false" },
	{ "matches utf8", "matches(event.name, '^\\\\p{Han}+$')", "true" },
	{ "matches runaway", "matches(event.long, '(a+)+$')",
	    "~event.long: regular expression failed: " },
	{ "matches runaway 2", "matches(event.long, '^(a|aa)+$')",
	    "~event.long: regular expression failed: " },
	{ "matches groups", "matches(event.id, '^(e)(4)(2)$')", "true" },
	{ "matches twice", "matches(event.id, '^e') and "
	    "not matches(event.id, 'x')", "true" },
	/* `in` over literal string lists (compared by length, then bytes) */
	{ "in strs", "event.purpose in ['market', 'marketing', 'x']", "true" },
	{ "in strs prefix", "event.purpose in ['market', 'marketingx']",
	    "false" },
	{ "in strs empty", "'' in ['a', '']", "true" },
	{ "in strs none", "'a' in []", "false" },
	/* A value of the wrong type is not "not in" the list: the rule cannot judge. */
	{ "in strs number", "event.count in ['1500']",
	  "!event.count: expected string, got number" },
	{ "in strs bool", "true in ['preliminary', 'final']", "!true: expected string, got bool" },
	{ "in list of strings, a number", "event.count in event.tags",
	  "!event.count: expected string, got number" },
	{ "in list of strings, a number found", "1 in [1, 2]", "true" },
	{ "in empty list, a number", "event.count in list(event.empty ?? [])", "false" },
	{ "in list, a list", "event.tags in [['a']]", "!event.tags: expected a single value, got list" },
	{ "in strs date", "date('2026-01-02') in ['x', '2026-01-02']", "true" },
	{ "not in strs", "event.purpose not in ['marketing']", "false" },
	{ "in mixed list", "event.count in ['a', 1500]", "true" },
	{ "in utf8", "event.name in ['\xe6\x97\xa5', "
	    "'\xe6\x97\xa5\xe6\x9c\xac']", "true" },
	/* field access: keys sharing a first byte or a prefix */
	{ "field prefix", "contract('C-1').principal.capital_jpy", "300000000" },
	{ "field shared byte", "event.persons", "1500" },
	{ "field longer", "event.purposes", "null" },
	{ "field shorter", "event.purpos", "null" },
	{ "key in obj", "'k' in event.obj", "true" },
	{ "key prefix in obj", "'kk' in event.obj", "false" },
	{ "empty key", "event['']", "null" },
	{ "index key", "event['contract']", "C-1" },
	/* number formatting without printf */
	{ "fmt negative", "-1500 * 2", "-3000" },
	{ "fmt neg zero", "-0 * 1", "0" },
	{ "fmt big", "999999999999999", "999999999999999" },
	{ "fmt huge", "1000000000000000", "1e+15" },
	{ "fmt str", "str(-42) + str(0)", "-420" },
	{ "concat long", "event.long + 'x' == event.long + 'x'", "true" },
};

static int
run_ecase(const struct ecase *tc, struct expr_env *env)
{
	struct expr_scope	 sc = scope_all();
	struct expr		*e;
	struct sbuf		 b;
	struct val		 v;
	int			 nerr = 0, ok;

	e = expr_compile(tc->src, &sc, T_ANY, "t.yaml", 1, 1, &nerr);
	if (e == NULL) {
		print_error("case '%s': compile failed (%d errors)\n", tc->name,
		    nerr);
		return 0;
	}
	sbuf_init(&b);
	if (expr_eval(e, env, &v) == -1)
		sbuf_printf(&b, "!%s", env->err);
	else
		val_format(&v, &b);
	if (tc->want[0] == '~')
		ok = b.s[0] == '!' && strncmp(b.s + 1, tc->want + 1,
		    strlen(tc->want + 1)) == 0;
	else
		ok = strcmp(b.s, tc->want) == 0;
	if (!ok)
		print_error("case '%s': %s\n  got  '%s'\n  want '%s'\n", tc->name,
		    tc->src, b.s, tc->want);
	sbuf_free(&b);
	expr_free(e);
	expr_env_reset(env);
	return ok;
}

static void
test_eval_table(void **state)
{
	struct expr_env	 env;
	size_t		 i, bad = 0;

	(void)state;
	env_fill(&env);
	for (i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++)
		bad += !run_ecase(&ecases[i], &env);
	expr_env_free(&env);
	assert_int_equal(bad, 0);
}

/*
 * Member look-up (obj_get) compares a key from its second byte once the
 * first matched, and operands that are leaves are read inline (ex_get):
 * keys of no, one and more bytes, a shared first byte or prefix, a key
 * given twice (the first one answers, as in cJSON), leaves under each
 * operator. The event is `odd` below.
 */
static const struct ecase lookup_cases[] = {
	{ "empty key", "event['']", "0" },
	{ "empty key nested", "event.b['']", "5" },
	{ "one byte", "event.a", "1" },
	{ "two bytes", "event.ab", "2" },
	{ "three bytes", "event.abc", "3" },
	{ "longer than any", "event.abcd", "null" },
	{ "shared first byte only", "event.ax", "null" },
	{ "twice: the first", "event.d", "first" },
	{ "twice by index", "event['d']", "first" },
	{ "key test", "'ab' in event", "true" },
	{ "key test prefix", "'abcd' in event", "false" },
	{ "missing under", "event.b.x + 1", "!missing attribute event.b.x" },
	{ "null under", "event.n.x ?? 'none'", "none" },
	{ "wrong type under", "event.a.x", "!event.a: expected object, got number" },
	{ "not leaf", "not event.t", "false" },
	{ "not literal", "not false", "true" },
	{ "neg leaf", "-event.a", "-1" },
	{ "neg name", "-paid", "0" },
	{ "neg string", "-event.d", "!event.d: expected number, got string" },
	{ "macro leaf argument", "twice(event.ab) + twice(3)", "10" },
	{ "macro argument names", "twice(paid) == 0 and new_law", "true" },
	{ "if leaves", "if(event.t, event.a, event.ab)", "1" },
	{ "index leaves", "[event.a, event.ab][event.a]", "2" },
	{ "coalesce leaves", "event.n ?? event.abc", "3" },
};

static void
test_member_lookup(void **state)
{
	struct expr_env	 env;
	cJSON		*odd;
	size_t		 i, bad = 0;

	(void)state;
	odd = cJSON_Parse("{\"\":0,\"a\":1,\"ab\":2,\"abc\":3,\"d\":"
	    "\"first\",\"d\":\"second\",\"b\":{\"\":5},\"n\":null,"
	    "\"t\":true}");
	assert_non_null(odd);
	env_fill(&env);
	env.vars[EV_EVENT] = val_json(odd);
	for (i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]); i++)
		bad += !run_ecase(&lookup_cases[i], &env);
	expr_env_free(&env);
	cJSON_Delete(odd);
	assert_int_equal(bad, 0);
}

/* ---- load-time errors: exact text, positions from (3, 10) ---- */

struct ccase {
	const char	*name;
	const char	*src;
	enum etype	 want;
	unsigned	 vars;		/* 0: all but record */
	int		 nerr;
	const char	*err;
};

#define AT	"r.yaml:3:"
static const struct ccase ccases[] = {
	{ "unknown name", "foo + 1", T_ANY, 0, 1,
	    AT "10: error: unknown name 'foo'\n" },
	{ "not available", "due + days(1)", T_ANY, EV_BIT(EV_EVENT), 1,
	    AT "10: error: 'due' is not available here\n" },
	{ "record not available", "record.x", T_ANY, 0, 1,
	    AT "10: error: 'record' is not available here\n" },
	{ "unknown function", "1 + frob(2)", T_ANY, 0, 1,
	    AT "14: error: unknown function 'frob'\n" },
	{ "a literal that is no date", "date('2026-13-45')", T_ANY, 0, 1,
	    AT "15: error: '2026-13-45' is not a date YYYY-MM-DD\n" },
	{ "a literal that is no time", "time('2026-04-01')", T_ANY, 0, 1,
	    AT "15: error: '2026-04-01' is not a time with an offset\n" },
	{ "function as name", "1 + date", T_ANY, 0, 1,
	    AT "14: error: 'date' is a function: write date(...)\n" },
	{ "arity", "days(1, 2)", T_ANY, 0, 1,
	    AT "10: error: days() takes 1 argument, got 2\n" },
	{ "arity variadic", "max()", T_ANY, 0, 1,
	    AT "10: error: max() takes 1 to 16 arguments, got 0\n" },
	{ "arg type", "days('x')", T_ANY, 0, 1,
	    AT "15: error: days(): argument 1: expected number, got string\n" },
	{ "arg type 2", "add_months(due, 'x')", T_ANY, 0, 1,
	    AT "26: error: add_months(): argument 2: expected number, got string\n" },
	{ "string plus number", "'a' + 1", T_ANY, 0, 1,
	    AT "14: error: cannot apply '+' to string and number\n" },
	{ "date lt number", "due < 5", T_ANY, 0, 1,
	    AT "14: error: cannot apply '<' to date and number\n" },
	{ "date lt time", "due < now", T_ANY, 0, 1,
	    AT "14: error: cannot apply '<' to date and time\n" },
	{ "not number", "not 3", T_ANY, 0, 1,
	    AT "10: error: 'not' needs a bool, got number\n" },
	{ "and number", "true and 1", T_ANY, 0, 1,
	    AT "15: error: 'and' needs bool operands, got bool and number\n" },
	{ "in number", "1 in 2", T_ANY, 0, 1,
	    AT "12: error: cannot apply 'in' to number and number\n" },
	{ "want bool", "1 + 2", T_BOOL, 0, 1,
	    AT "10: error: expected a bool expression, got number\n" },
	{ "want date ok", "'2026-01-01'", T_DATE, 0, 0, "" },
	{ "want date", "due < now + days(1)", T_DATE, 0, 2,
	    AT "14: error: cannot apply '<' to date and time\n"
	    AT "10: error: expected a date expression, got bool\n" },
	{ "unterminated", "event.x == 'abc", T_ANY, 0, 1,
	    AT "21: error: unterminated string\n" },
	{ "bad escape", "'a\\qb' == event.x", T_ANY, 0, 1,
	    AT "12: error: unknown escape '\\q'\n" },
	{ "trailing", "1 2", T_ANY, 0, 1,
	    AT "12: error: unexpected '2' after the expression\n" },
	{ "unexpected", "1 + * 2", T_ANY, 0, 1,
	    AT "14: error: unexpected '*'\n" },
	{ "eof", "(1 + 2", T_ANY, 0, 1,
	    AT "16: error: unexpected end of expression\n" },
	{ "empty", "  ", T_ANY, 0, 1, AT "12: error: empty expression\n" },
	{ "bad char", "1 # 2", T_ANY, 0, 1,
	    AT "12: error: unexpected character '#'\n" },
	{ "single equals", "key = 'x'", T_ANY, 0, 1,
	    AT "14: error: unexpected '='; compare with '=='\n" },
	{ "malformed number", "1__0", T_ANY, 0, 1,
	    AT "10: error: malformed number '1__0'\n" },
	{ "several", "foo + bar(1) + days('x')", T_ANY, 0, 3,
	    AT "10: error: unknown name 'foo'\n"
	    AT "16: error: unknown function 'bar'\n"
	    AT "30: error: days(): argument 1: expected number, got string\n" },
	{ "field of number", "(1).x", T_ANY, 0, 1,
	    AT "14: error: cannot read field 'x' of a number\n" },
	{ "unknown param", "params.nope > 1", T_ANY, 0, 1,
	    AT "17: error: unknown parameter 'nope'\n" },
	{ "param type", "params.threshold + 'x'", T_ANY, 0, 1,
	    AT "27: error: cannot apply '+' to number and string\n" },
	{ "bad regex", "matches(event.id, 'a(b')", T_ANY, 0, 1,
	    AT "28: error: bad regular expression: missing closing "
	    "parenthesis (at offset 3)\n" },
	{ "regex not literal", "matches(event.id, event.x)", T_ANY, 0, 1,
	    AT "28: error: matches(): the pattern must be a string literal\n" },
	{ "if cond", "if(1, 2, 3)", T_ANY, 0, 1,
	    AT "13: error: if(): argument 1: expected bool, got number\n" },
	{ "minmax mix", "max(1, due)", T_ANY, 0, 1,
	    AT "10: error: max() cannot mix numbers and dates\n" },
	{ "utf8 column", "'\xe6\x97\xa5\xe6\x9c\xac' + 1", T_ANY, 0, 1,
	    AT "15: error: cannot apply '+' to string and number\n" },
	{ "newline", "true and\n  foo", T_ANY, 0, 1,
	    "r.yaml:4:3: error: unknown name 'foo'\n" },
	{ "not a function", "key(1)", T_ANY, 0, 1,
	    AT "10: error: 'key' is not a function\n" },
	/* macros: errors inside point into the macro's file */
	{ "macro recursion", "rec(1)", T_ANY, 0, 1,
	    "macros.yaml:7:9: error: macro 'rec' uses itself\n" },
	{ "macro mutual", "ping", T_ANY, 0, 1,
	    "macros.yaml:9:9: error: macro 'ping' uses itself\n" },
	{ "macro body error", "bad_macro", T_ANY, 0, 1,
	    "macros.yaml:10:7: error: cannot apply '+' to number and string\n" },
	{ "macro arity", "twice(1, 2)", T_ANY, 0, 1,
	    AT "10: error: macro 'twice' takes 1 argument, got 2\n" },
	{ "macro bare needs args", "twice + 1", T_ANY, 0, 1,
	    AT "10: error: macro 'twice' needs 1 argument\n" },
	{ "macro arg type", "twice('a') + 1", T_ANY, 0, 1,
	    AT "21: error: cannot apply '+' to string and number\n" },
	{ "macro scope", "big_or(1)", T_ANY, EV_BIT(EV_KEY), 2,
	    "macros.yaml:2:9: error: 'event' is not available here\n"
	    "macros.yaml:6:16: error: 'or' needs bool operands, got bool and "
	    "number\n" },
};

struct cjob {
	const struct ccase	*tc;
	struct expr		*e;
	int			 nerr;
};

static void
do_compile(void *arg)
{
	struct cjob		*j = arg;
	struct expr_scope	 sc = scope_all();

	if (j->tc->vars != 0)
		sc.vars = j->tc->vars;
	j->e = expr_compile(j->tc->src, &sc, j->tc->want, "r.yaml", 3, 10,
	    &j->nerr);
}

static void
test_compile_errors(void **state)
{
	struct cjob	 j;
	char		*out;
	size_t		 i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		memset(&j, 0, sizeof(j));
		j.tc = &ccases[i];
		out = with_stderr(do_compile, &j);
		if (strcmp(out, j.tc->err) != 0 || j.nerr != j.tc->nerr ||
		    (j.e == NULL) != (j.tc->nerr > 0)) {
			print_error("case '%s': %s\n  got %d errors:\n%s  want %d:"
			    "\n%s", j.tc->name, j.tc->src, j.nerr, out,
			    j.tc->nerr, j.tc->err);
			bad++;
		}
		free(out);
		expr_free(j.e);
	}
	assert_int_equal(bad, 0);
}

/* ---- static types ---- */

static void
test_types(void **state)
{
	static const struct {
		const char	*src;
		enum etype	 t;
	} cases[] = {
		{ "1 + 2", T_NUM }, { "'a' + 'b'", T_STR }, { "due + days(1)", T_DATE },
		{ "'2026-01-01' + days(1)", T_DATE }, { "now + days(1)", T_TIME },
		{ "due - start", T_NUM }, { "event.x * 2", T_NUM },
		{ "event.x + 1", T_NUM }, { "event.x + days(1)", T_ANY },
		{ "event.time", T_STR }, { "event.x", T_ANY }, { "1 < 2", T_BOOL },
		{ "contract(key)", T_OBJ }, { "max(1, event.x)", T_NUM },
		{ "max(due, event.x)", T_DATE }, { "if(true, 1, null)", T_NUM },
		{ "params.barred_methods", T_LIST }, { "[1]", T_LIST },
		{ "event.x ?? 0", T_ANY }, { "null ?? 0", T_NUM },
		{ "twice(2)", T_NUM }, { "day_end(due)", T_TIME },
	};
	struct expr_scope	 sc = scope_all();
	struct expr		*e;
	size_t			 i;
	int			 nerr = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = expr_compile(cases[i].src, &sc, T_ANY, "t", 1, 1, &nerr);
		assert_non_null(e);
		if (expr_type(e) != cases[i].t)
			print_error("%s: type %d, want %d\n", cases[i].src,
			    expr_type(e), cases[i].t);
		assert_int_equal(expr_type(e), cases[i].t);
		assert_string_equal(expr_src(e), cases[i].src);
		expr_free(e);
	}
	assert_int_equal(nerr, 0);
}

/* ---- typed shorthands, look-up callback ---- */

static struct expr *
compile_ok(const char *src)
{
	struct expr_scope	 sc = scope_all();
	struct expr		*e;
	int			 nerr = 0;

	e = expr_compile(src, &sc, T_ANY, "t", 1, 1, &nerr);
	assert_non_null(e);
	assert_int_equal(nerr, 0);
	return e;
}

/* Keys the engine can hint before it evaluates them: just `event.<field>`. */
static void
test_event_field(void **state)
{
	static const struct {
		const char	*src, *want;	/* want NULL: not such a key */
	} cases[] = {
		{ "event.contract", "contract" },
		{ "event.dataset", "dataset" },
		{ "(event.contract)", "contract" },
		{ "event.a.b", NULL },
		{ "tenant", NULL },
		{ "event.contract ?? 'x'", NULL },
		{ "event['contract']", NULL },
		{ "key", NULL },
		{ "'C-1'", NULL },
	};
	struct expr	*e;
	const char	*got;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = compile_ok(cases[i].src);
		got = expr_event_field(e);
		if ((got == NULL) != (cases[i].want == NULL) ||
		    (got != NULL && strcmp(got, cases[i].want) != 0))
			fail_msg("%s: %s, want %s", cases[i].src, got ? got : "NULL",
			    cases[i].want ? cases[i].want : "NULL");
		expr_free(e);
	}
	assert_null(expr_event_field(NULL));
}

static void
test_shorthands(void **state)
{
	struct expr_env	 env;
	struct expr	*e;
	struct sbuf	 b;
	date_t		 d;
	double		 x;
	int		 ok;

	(void)state;
	env_fill(&env);
	sbuf_init(&b);

	e = compile_ok("event.count > 1000 and event.sensitive");
	assert_int_equal(expr_eval_bool(e, &env, &ok), 0);
	assert_true(ok);
	assert_int_equal(expr_eval_num(e, &env, &x), -1);
	assert_string_equal(env.err, "event.count > 1000 and event.sensitive: "
	    "expected number, got bool");
	expr_free(e);

	e = compile_ok("contract(key).payment_due");
	assert_int_equal(expr_eval_date(e, &env, &d), 0);
	assert_int_equal(d, D("2026-06-28"));
	expr_free(e);

	e = compile_ok("event.nope");
	assert_int_equal(expr_eval_bool(e, &env, &ok), -1);
	assert_string_equal(env.err, "missing attribute event.nope");
	expr_free(e);

	e = compile_ok("contract(event.contract).amount_jpy");
	assert_int_equal(expr_eval_str(e, &env, &b), 0);
	assert_string_equal(b.s, "1200000");
	expr_free(e);

	e = compile_ok("event.dataset");
	g_lookups = 0;
	assert_int_equal(expr_eval_str(e, &env, &b), 0);
	assert_string_equal(b.s, "1200000DS-1");
	expr_free(e);

	/* The tenant goes to the callback: another tenant sees nothing. */
	e = compile_ok("dataset(event.dataset) == null");
	env.tenant = "other";
	assert_int_equal(expr_eval_bool(e, &env, &ok), 0);
	assert_true(ok);
	assert_string_equal(g_lasttenant, "other");
	env.tenant = "acme";
	assert_int_equal(expr_eval_bool(e, &env, &ok), 0);
	assert_false(ok);
	assert_int_equal(g_lookups, 2);
	expr_free(e);

	/* A macro argument is evaluated once, however often the body uses it. */
	e = compile_ok("subject(contract(key))");
	g_lookups = 0;
	assert_int_equal(expr_eval_bool(e, &env, &ok), 0);
	assert_true(ok);
	assert_int_equal(g_lookups, 1);
	expr_free(e);

	sbuf_free(&b);
	expr_env_free(&env);
}

/* A runaway pattern stops at the match limit, quickly. */
static void
test_regex_limit(void **state)
{
	struct expr_env	 env;
	struct expr	*e;
	clock_t		 t0;
	int		 ok;

	(void)state;
	env_fill(&env);
	e = compile_ok("matches(event.long, '(a+)+$')");
	t0 = clock();
	assert_int_equal(expr_eval_bool(e, &env, &ok), -1);
	assert_true(clock() - t0 < 5 * CLOCKS_PER_SEC);
	assert_non_null(strstr(env.err, "regular expression failed"));
	expr_free(e);
	expr_env_free(&env);
}

/* ---- templates ---- */

struct tjob {
	const char	*src;
	struct tmpl	*t;
	int		 nerr;
};

static void
do_tmpl(void *arg)
{
	struct tjob		*j = arg;
	struct expr_scope	 sc = scope_all();

	j->t = tmpl_compile(j->src, &sc, "m.yaml", 5, 7, &j->nerr);
}

static void
test_templates(void **state)
{
	static const struct {
		const char	*src, *want, *err;
		int		 nerr;
	} cases[] = {
		{ "Payment for {key} due {due}, {{literal}} {event.nope.x + 1}!",
		    "Payment for C-1 due 2026-06-28, {literal} ?!", "", 0 },
		{ "{event.count * 800}円 {'}'} {str(paid)}", "1200000円 } 0", "", 0 },
		{ "no holes", "no holes", "", 0 },
		{ "", "", "", 0 },
		{ "a {1 +} b", NULL, "m.yaml:5:13: error: unexpected end of "
		    "expression\n", 1 },
		{ "a } b", NULL, "m.yaml:5:9: error: unmatched '}' in template "
		    "(write '}}')\n", 1 },
		{ "a {key", NULL, "m.yaml:5:9: error: unterminated '{' in "
		    "template\n", 1 },
		{ "{foo} {bar}", NULL, "m.yaml:5:8: error: unknown name 'foo'\n"
		    "m.yaml:5:14: error: unknown name 'bar'\n", 2 },
	};
	struct expr_env	 env;
	struct tjob	 j;
	struct sbuf	 b;
	char		*out;
	size_t		 i;

	(void)state;
	env_fill(&env);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&j, 0, sizeof(j));
		j.src = cases[i].src;
		out = with_stderr(do_tmpl, &j);
		if (strcmp(out, cases[i].err) != 0)
			print_error("template '%s': got\n%s", j.src, out);
		assert_string_equal(out, cases[i].err);
		assert_int_equal(j.nerr, cases[i].nerr);
		free(out);
		if (cases[i].want == NULL) {
			assert_null(j.t);
			continue;
		}
		assert_non_null(j.t);
		sbuf_init(&b);
		tmpl_render(j.t, &env, &b);
		assert_string_equal(b.s, cases[i].want);
		sbuf_free(&b);
		tmpl_free(j.t);
		expr_env_reset(&env);
	}
	expr_env_free(&env);
}

/* ---- values ---- */

static void
test_values(void **state)
{
	struct val	 v;
	struct sbuf	 b;
	cJSON		*j;
	char		*s;

	(void)state;
	sbuf_init(&b);
	val_format(&(struct val){ .t = V_NUM, .u.n = 1200000 }, &b);
	sbuf_puts(&b, " ");
	val_format(&(struct val){ .t = V_NUM, .u.n = 0.1 }, &b);
	sbuf_puts(&b, " ");
	val_format(&(struct val){ .t = V_NUM, .u.n = -0.0 }, &b);
	sbuf_puts(&b, " ");
	val_format(&(struct val){ .t = V_NUM, .u.n = 1e20 }, &b);
	sbuf_puts(&b, " ");
	v = val_date(D("2026-05-30"));
	val_format(&v, &b);
	sbuf_puts(&b, " ");
	v = val_time(when_day_start(D("2026-06-29")));
	val_format(&v, &b);
	sbuf_puts(&b, " ");
	v = val_str("x");
	val_format(&v, &b);
	assert_string_equal(b.s, "1200000 0.1 0 1e+20 2026-05-30 "
	    "2026-06-29T00:00:00+09:00 x");
	sbuf_free(&b);

	v = val_null();
	v.t = V_DUR;
	v.u.dur.months = 6;
	v.u.dur.days = -1;
	j = val_to_json(&v);
	s = cJSON_PrintUnformatted(j);
	assert_string_equal(s, "{\"months\":6,\"days\":-1}");
	cJSON_free(s);
	cJSON_Delete(j);

	v = val_date(D("2026-05-30"));
	j = val_to_json(&v);
	assert_string_equal(j->valuestring, "2026-05-30");
	cJSON_Delete(j);

	v = val_json(g_dataset);
	j = val_to_json(&v);
	assert_true(cJSON_Compare(j, g_dataset, 1));
	assert_ptr_not_equal(j, g_dataset);
	cJSON_Delete(j);

	assert_int_equal(val_json(NULL).t, V_NULL);
	assert_int_equal(val_str(NULL).t, V_NULL);
	assert_int_equal(val_json(cJSON_GetObjectItem(g_event, "sensitive")).t,
	    V_BOOL);
}

/* ---- macro values kept for reuse (ev_macro) ---- */

static void
eval_num_is(const struct expr *e, struct expr_env *env, double want)
{
	double	 x;

	assert_int_equal(expr_eval_num(e, env, &x), 0);
	assert_true(x == want);
}

/*
 * A kept value is observed by changing a record in place, which the
 * registry never does: without a move of the generation or the epoch the
 * macro answers from its memory, with one it reads the record again.
 */
static void
test_macro_memo(void **state)
{
	struct expr_scope	 sc = scope_all();
	struct expr_env		 env;
	struct expr		*cap, *cap2, *amount, *law, *twice2, *twice3, *bad;
	struct expr		*big;
	cJSON			*capital, *small;
	uint64_t		 gen = 0;
	char			 first[256];
	int			 nerr = 0, ok, calls;

	(void)state;
	sc.vars |= EV_BIT(EV_RECORD);
	env_fill(&env);
	env.vars[EV_RECORD] = val_json(g_contract);
	env.memo_gen = &gen;
	capital = cJSON_GetObjectItem(cJSON_GetObjectItem(g_contract, "principal"),
	    "capital_jpy");
	cap = expr_compile("cap_of(record)", &sc, T_ANY, "t", 1, 1, &nerr);
	cap2 = expr_compile("cap_of(record) + 0", &sc, T_ANY, "u", 1, 1, &nerr);
	amount = expr_compile("amount_of('C-1')", &sc, T_ANY, "t", 1, 1, &nerr);
	law = expr_compile("new_law", &sc, T_ANY, "t", 1, 1, &nerr);
	twice2 = expr_compile("twice(2)", &sc, T_ANY, "t", 1, 1, &nerr);
	twice3 = expr_compile("twice(3)", &sc, T_ANY, "t", 1, 1, &nerr);
	bad = expr_compile("cap_of(event) > 1", &sc, T_ANY, "t", 1, 1, &nerr);
	big = expr_compile("big_or(false)", &sc, T_ANY, "t", 1, 1, &nerr);
	assert_int_equal(nerr, 0);

	/* kept: another expression asking the same of the same record */
	eval_num_is(cap, &env, 300000000);
	cJSON_SetNumberValue(capital, 7);
	eval_num_is(cap2, &env, 300000000);
	/* the registry moved: read again */
	gen++;
	eval_num_is(cap2, &env, 7);
	/* a new event: read again */
	cJSON_SetNumberValue(capital, 300000000);
	env.memo_epoch++;
	eval_num_is(cap, &env, 300000000);
	/* another argument is another value */
	eval_num_is(twice2, &env, 4);
	eval_num_is(twice3, &env, 6);
	eval_num_is(twice2, &env, 4);
	/* a name the body reads is an input too */
	assert_int_equal(expr_eval_bool(law, &env, &ok), 0);
	assert_true(ok);
	env.vars[EV_VERSION] = val_str("shitauke");
	assert_int_equal(expr_eval_bool(law, &env, &ok), 0);
	assert_false(ok);
	/* a name read by a nested macro is an input too: another event, another value */
	small = cJSON_Parse("{\"count\":5}");
	assert_int_equal(expr_eval_bool(big, &env, &ok), 0);
	assert_true(ok);
	env.vars[EV_EVENT] = val_json(small);
	assert_int_equal(expr_eval_bool(big, &env, &ok), 0);
	assert_false(ok);
	env.vars[EV_EVENT] = val_json(g_event);
	assert_int_equal(expr_eval_bool(big, &env, &ok), 0);
	assert_true(ok);
	cJSON_Delete(small);
	/* a body that looks records up runs every time */
	calls = g_lookups;
	eval_num_is(amount, &env, 1200000);
	eval_num_is(amount, &env, 1200000);
	assert_int_equal(g_lookups, calls + 2);
	/* a kept null still names its field in the error */
	assert_int_equal(expr_eval_bool(bad, &env, &ok), -1);
	snprintf(first, sizeof(first), "%s", env.err);
	assert_non_null(strstr(first, "capital_jpy"));
	assert_int_equal(expr_eval_bool(bad, &env, &ok), -1);
	assert_string_equal(env.err, first);
	/* off without a generation to check against */
	env.memo_gen = NULL;
	eval_num_is(cap, &env, 300000000);
	cJSON_SetNumberValue(capital, 9);
	eval_num_is(cap, &env, 9);
	cJSON_SetNumberValue(capital, 300000000);

	expr_free(cap);
	expr_free(cap2);
	expr_free(amount);
	expr_free(law);
	expr_free(twice2);
	expr_free(twice3);
	expr_free(bad);
	expr_free(big);
	expr_env_free(&env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_table),
		cmocka_unit_test(test_member_lookup),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_shorthands),
		cmocka_unit_test(test_event_field),
		cmocka_unit_test(test_regex_limit),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_macro_memo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
