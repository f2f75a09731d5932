/*
 * test_load.c - the rule loader (rules.h: ruleset_load). Small rule files are
 * written to a mkdtemp directory and loaded with the diagnostics captured: a good set
 * loads with its index; each kind of mistake is reported as exactly
 * "FILE:LINE:COL: error: ..." (the column of the offending token), every
 * error of a file is reported, *nerrors counts exactly the lines printed and
 * nothing is half-loaded (NULL). Table-driven: each case has a name.
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

#include "complyd/log.h"
#include "complyd/rules.h"
#include "complyd/when.h"


/* ---- a temp directory of rule files, loaded with the diagnostics captured ---- */

struct tdir {
	char	 path[64];
	char	*files[8];
	int	 nfiles;
};

static void
tdir_init(struct tdir *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/test_load.XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

static const char *
tdir_write(struct tdir *d, const char *name, const char *text)
{
	char	 buf[256];
	FILE	*f;

	assert_true(d->nfiles < (int)NELEM(d->files));
	snprintf(buf, sizeof(buf), "%s/%s", d->path, name);
	assert_non_null(f = fopen(buf, "w"));
	fputs(text, f);
	fclose(f);
	d->files[d->nfiles] = strdup(buf);
	return d->files[d->nfiles++];
}

static void
tdir_free(struct tdir *d)
{
	int i;

	for (i = 0; i < d->nfiles; i++) {
		unlink(d->files[i]);
		free(d->files[i]);
	}
	assert_int_equal(rmdir(d->path), 0);
}

/*
 * Loads the paths with the diagnostics captured (*out, free it), the way
 * the daemon collects a candidate rule set's errors (the cases check that
 * every error counted in *nerr is a line of it).
 */
static struct ruleset *
load_capture(const char *const *paths, int npaths, int *nerr, char **out)
{
	struct ruleset	*rs;
	FILE		*mem, *prev;
	size_t		 len;

	assert_non_null(mem = open_memstream(out, &len));
	*nerr = 0;
	prev = log_diag_capture(mem);
	rs = ruleset_load(paths, npaths, NULL, nerr);
	assert_ptr_equal(log_diag_capture(prev), mem);
	assert_int_equal(fclose(mem), 0);
	return rs;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/*
 * A law with two versions split at 2026-01-01 and one parameter (lines 1-9);
 * each case appends its rules from line 10 on.
 */
#define HDR \
	"law:\n"						/* 1 */ \
	"  id: tl\n"						/* 2 */ \
	"  names: { ja: テスト法, en: Test Act }\n"		/* 3 */ \
	"  versions:\n"						/* 4 */ \
	"    - { id: v1, effective_until: 2026-01-01 }\n"	/* 5 */ \
	"    - { id: v2, effective_from: 2026-01-01 }\n"	/* 6 */ \
	"params:\n"						/* 7 */ \
	"  limit: { value: 5, source: test }\n"			/* 8 */ \
	"rules:\n"						/* 9 */

/* A good match rule, lines 10-17. */
#define MATCH_RULE \
	"  - id: tl.match\n"					/* 10 */ \
	"    obligation: TL-MATCH\n"				/* 11 */ \
	"    kind: match\n"					/* 12 */ \
	"    on: test.used\n"					/* 13 */ \
	"    key: event.thing\n"				/* 14 */ \
	"    when: event.count > params.limit\n"		/* 15 */ \
	"    articles: { v1: \"1\", v2: \"2\" }\n"		/* 16 */ \
	"    message: { ja: \"x {key}\", en: \"y {key}\" }\n"	/* 17 */

/* ---- a good rule set ---- */

static const char good_law[] = HDR MATCH_RULE
	"  - id: tl.deadline\n"					/* 18 */
	"    obligation: TL-DL\n"
	"    kind: deadline\n"
	"    start: { on: test.start }\n"
	"    key: event.thing\n"
	"    stop: { on: [test.stop, test.cancel], key: event.thing }\n"
	"    due: start + days(3)\n"
	"    warn: [1]\n"
	"    articles: { v2: \"9\" }\n"
	"    message: { ja: \"x\", en: \"y\" }\n"
	"  - id: tl.record\n"
	"    obligation: TL-REC\n"
	"    kind: record\n"
	"    subject: dataset\n"
	"    when: len(record.purposes ?? []) == 0\n"
	"    articles: { v1: \"3\", v2: \"3\" }\n"
	"    message: { ja: \"x\", en: \"y\" }\n";

/*
 * Test cases are skipped by the loader; of the law-list catalog it reads
 * only the obligation ids, which every rule's obligation must be among.
 */
static const char catalog[] =
	"laws:\n  - id: tl\n    obligations:\n"
	"      - { id: TL-MATCH }\n      - { id: TL-DL }\n      - { id: TL-REC }\n";
static const char test_cases[] = "tests:\n  - name: x\n";

static void
test_load_good(void **state)
{
	struct tdir		 d;
	struct ruleset		*rs;
	struct rule_list	*l;
	const char		*paths[1];
	char			*err;
	date_t			 day;
	int			 nerr;

	(void)state;
	tdir_init(&d);
	tdir_write(&d, "tl.yaml", good_law);
	tdir_write(&d, "catalog.yaml", catalog);
	tdir_write(&d, "tl.test.yaml", test_cases);
	tdir_write(&d, "notes.txt", "not: [a rule file\n");
	paths[0] = d.path;
	rs = load_capture(paths, 1, &nerr, &err);
	if (err[0])
		fprintf(stderr, "%s", err);
	assert_string_equal(err, "");
	assert_int_equal(nerr, 0);
	assert_non_null(rs);
	assert_int_equal(rs->nlaws, 1);
	assert_string_equal(rs->laws[0]->id, "tl");
	assert_int_equal(rs->laws[0]->nversions, 2);
	assert_int_equal(rs->nrules, 3);
	assert_string_equal(rs->rules[0]->id, "tl.match");
	assert_int_equal(rs->rules[0]->kind, RK_MATCH);
	assert_int_equal(rs->rules[0]->line, 10);
	assert_int_equal(rs->rules[1]->kind, RK_DEADLINE);
	assert_int_equal(rs->rules[2]->kind, RK_RECORD);
	assert_int_equal(rs->rules[2]->subject, REC_DATASET);
	/* the catalog was collected (but skipped); *.test.yaml and *.txt were not */
	assert_int_equal(rs->nfiles, 2);
	assert_int_equal((int)strlen(rs->hash), 64);

	/* by_type: every `on` type of every rule, start and stop types alike */
	assert_non_null(l = hmap_get(&rs->by_type, "test.used"));
	assert_int_equal(l->n, 1);
	assert_ptr_equal(l->v[0], rs->rules[0]);
	assert_non_null(l = hmap_get(&rs->by_type, "test.start"));
	assert_int_equal(l->n, 1);
	assert_ptr_equal(l->v[0], rs->rules[1]);
	assert_non_null(l = hmap_get(&rs->by_type, "test.stop"));
	assert_ptr_equal(l->v[0], rs->rules[1]);
	assert_non_null(l = hmap_get(&rs->by_type, "test.cancel"));
	assert_ptr_equal(l->v[0], rs->rules[1]);
	assert_null(hmap_get(&rs->by_type, "test.other"));

	/* versions and articles */
	assert_int_equal(when_parse_date("2025-12-31", &day), 0);
	assert_string_equal(law_version_at(rs->laws[0], day)->id, "v1");
	assert_string_equal(rule_article(rs->rules[0],
	    law_version_at(rs->laws[0], day)), "1");
	assert_null(rule_article(rs->rules[1], law_version_at(rs->laws[0], day)));
	assert_string_equal(law_version_at(rs->laws[0], day + 1)->id, "v2");
	assert_string_equal(rule_article(rs->rules[1],
	    law_version_at(rs->laws[0], day + 1)), "9");

	ruleset_free(rs);
	free(err);
	tdir_free(&d);
}

/* Two laws in two files, loaded by listing the files; a rule id in both is an error. */
static void
test_load_files_and_duplicates(void **state)
{
	static const char other[] =
	    "law:\n"
	    "  id: other\n"
	    "  versions: [ { id: o1 } ]\n"
	    "rules:\n"
	    "  - id: o.match\n"
	    "    obligation: O-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    articles: { o1: \"1\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n";
	static const char dup[] =
	    "law:\n"
	    "  id: dup\n"
	    "  versions: [ { id: d1 } ]\n"
	    "rules:\n"
	    "  - id: tl.match\n"			/* 5 */
	    "    obligation: O-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    articles: { d1: \"1\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n";
	struct tdir		 d;
	struct ruleset		*rs;
	struct rule_list	*l;
	const char		*paths[2];
	char			*err, want[512];
	int			 nerr;

	(void)state;
	tdir_init(&d);
	paths[0] = tdir_write(&d, "a.yaml", good_law);
	paths[1] = tdir_write(&d, "b.yaml", other);
	rs = load_capture(paths, 2, &nerr, &err);
	assert_string_equal(err, "");
	assert_non_null(rs);
	assert_int_equal(rs->nlaws, 2);
	assert_int_equal(rs->nrules, 4);
	assert_non_null(l = hmap_get(&rs->by_type, "test.used"));
	assert_int_equal(l->n, 2);
	ruleset_free(rs);
	free(err);

	/* the same rule id in another file: reported at the second definition */
	paths[1] = tdir_write(&d, "c.yaml", dup);
	rs = load_capture(paths, 2, &nerr, &err);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	snprintf(want, sizeof(want), "%s:5:9: error: rule id 'tl.match' is "
	    "defined twice\n", paths[1]);
	assert_string_equal(err, want);
	free(err);
	tdir_free(&d);
}

/* ---- one mistake per file: the exact position and message ---- */

struct ecase {
	const char	*name;
	const char	*text;
	const char	*want;		/* ":LINE:COL: error: message" after the path */
};

/* A match rule of lines 10-16 whose `when` (line 17 on) each case writes. */
#define RULE_WHEN \
	"  - id: tl.match\n"					/* 10 */ \
	"    obligation: TL-MATCH\n"				/* 11 */ \
	"    kind: match\n"					/* 12 */ \
	"    on: test.used\n"					/* 13 */ \
	"    key: event.thing\n"				/* 14 */ \
	"    articles: { v1: \"1\", v2: \"2\" }\n"		/* 15 */ \
	"    message: { ja: \"x {key}\", en: \"y {key}\" }\n"	/* 16 */

static const struct ecase ecases[] = {
	{ "details of a match rule that name a deadline's due",
	    HDR MATCH_RULE "    details: { d: due }\n",
	    ":18:19: error: 'due' is not available here" },
	{ "a rule's title that is not ja/en",
	    HDR MATCH_RULE "    title: plain\n",
	    ":18:12: error: title must be { ja: ..., en: ... }" },
	{ "tags that are not a list",
	    HDR MATCH_RULE "    tags: notalist\n",
	    ":18:11: error: tags must be a list" },
	{ "a rule in force until before it starts",
	    HDR MATCH_RULE "    effective_from: 2026-06-01\n    effective_until: 2026-01-01\n",
	    ":19:22: error: effective_until must be after effective_from" },
	{ "version_at that gives a number",
	    HDR MATCH_RULE "    version_at: \"3\"\n",
	    ":18:17: error: version_at must give a date, not number" },
	{ "a literal date that is no date",
	    HDR MATCH_RULE "    version_at: \"date('2026-13-45')\"\n",
	    ":18:23: error: '2026-13-45' is not a date YYYY-MM-DD" },
	{ "rules that are not a list",
	    HDR "  {}\n",
	    ":10:3: error: rules must be a list" },
	{ "a plain scalar on two lines: the error is on the second",
	    HDR RULE_WHEN
	    "    when: (event.a ?? false) or\n"
	    "      nosuch(event.c)\n",
	    ":18:7: error: unknown function 'nosuch'" },
	{ "a double-quoted scalar on two lines",
	    HDR RULE_WHEN
	    "    when: \"(event.a ?? false) or\n"
	    "      nosuch(event.c)\"\n",
	    ":18:7: error: unknown function 'nosuch'" },
	{ "escaped quotes before the error do not shift it",
	    HDR RULE_WHEN
	    "    when: \"event.op == \\\"x\\\" and nosuch(1)\"\n",
	    ":17:34: error: unknown function 'nosuch'" },
	{ "doubled single quotes before the error do not shift it",
	    HDR RULE_WHEN
	    "    when: '''a'' + nosuch(1) > 0'\n",
	    ":17:20: error: unknown function 'nosuch'" },
	{ "a macro no rule uses is still checked (unknown function)",
	    HDR MATCH_RULE
	    "macros:\n  spare(x): \"nosuch(x)\"\n",
	    ":19:14: error: unknown function 'nosuch'" },
	{ "a macro with nine parameters",
	    HDR MATCH_RULE
	    "macros:\n  many(a,b,c,d,e,f,g,h,i): \"a\"\n",
	    ":19:3: error: macro many: at most 8 parameters" },
	{ "a macro parameter given twice",
	    HDR MATCH_RULE
	    "macros:\n  dup(a, a): \"a\"\n",
	    ":19:3: error: macro dup: parameter 'a' is given twice" },
	{ "a key given twice in a mapping (the first would win silently)",
	    "law:\n  id: tl\n  names: { ja: a, en: a }\n  versions: [ { id: v1 } ]\n"
	    "params:\n  limit: { value: 1, source: a }\n  limit: { value: 1000, source: b }\n"
	    "rules: []\n",
	    ":7:3: error: key 'limit' is given twice" },
	{ "two law versions in force on one day",
	    "law:\n  id: tl\n  names: { ja: a, en: a }\n  versions:\n"
	    "    - { id: v1, effective_from: 2026-01-01, effective_until: 2026-06-01 }\n"
	    "    - { id: v2, effective_from: 2026-05-01 }\nrules: []\n",
	    ":6:7: error: version v2 overlaps version v1: one version must be in force on any day" },
	{ "a law version id given twice",
	    "law:\n  id: tl\n  names: { ja: a, en: a }\n  versions:\n"
	    "    - { id: v1, effective_until: 2026-01-01 }\n"
	    "    - { id: v1, effective_from: 2026-01-01 }\nrules: []\n",
	    ":6:7: error: version v1 is given twice" },
	{ "flow collections nested past 64 levels, the file's mapping the first",
	    HDR MATCH_RULE
	    "properties: " "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	    ":18:76: error: nested deeper than 64 levels" },
	{ "an alias that contains itself stops at 64 levels, with one error",
	    HDR MATCH_RULE
	    "    tags: &a [*a, *a]\n",
	    ":18:11: error: nested deeper than 64 levels" },
	{ "unknown top-level key",
	    HDR MATCH_RULE
	    "bogus: 1\n",
	    ":18:1: error: unknown key 'bogus' in a law file" },
	{ "unknown key in the law header",
	    "law:\n  id: tl\n  vesrions: []\n  versions: [ { id: v1 } ]\n"
	    "rules: []\n",
	    ":3:3: error: unknown key 'vesrions' in the law header" },
	{ "unknown rule key",
	    HDR MATCH_RULE
	    "    colour: red\n",
	    ":18:5: error: unknown key 'colour' in a match rule" },
	{ "unknown kind",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: matchy\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":12:11: error: rule tl.match: `kind` must be match, deadline, "
	    "periodic, threshold or record" },
	{ "article for a version the law does not have",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    articles: { v1: \"1\", v3: \"3\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:26: error: 'v3' is not a version of law tl" },
	{ "bad severity",
	    HDR MATCH_RULE
	    "    severity: urgent\n",
	    ":18:15: error: severity must be info, low, medium, high or critical" },
	{ "syntax error in a plain scalar",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: event.count > * 2\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:25: error: unexpected '*'" },
	{ "syntax error in a double-quoted scalar",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: \"event.count > * 2\"\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:26: error: unexpected '*'" },
	{ "syntax error in a single-quoted scalar",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: 'event.count > * 2'\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:26: error: unexpected '*'" },
	{ "syntax error in a flow mapping value",
	    HDR
	    "  - id: tl.dl\n"
	    "    obligation: TL-DL\n"
	    "    kind: deadline\n"
	    "    start: { on: test.start, when: \"event.a == \" }\n"
	    "    key: event.thing\n"
	    "    due: start + days(3)\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":13:48: error: unexpected end of expression" },
	{ "unknown function",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: nope(event.count)\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:11: error: unknown function 'nope'" },
	{ "unknown parameter",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: event.count > params.nope\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:32: error: unknown parameter 'nope'" },
	{ "error in a message template",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y {nope(key)}\" }\n",
	    ":16:33: error: unknown function 'nope'" },
	{ "duplicate rule id in one file",
	    HDR MATCH_RULE MATCH_RULE,
	    ":18:9: error: rule id 'tl.match' is defined twice" },
	{ "deadline without due",
	    HDR
	    "  - id: tl.dl\n"
	    "    obligation: TL-DL\n"
	    "    kind: deadline\n"
	    "    start: { on: test.start }\n"
	    "    key: event.thing\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":10:5: error: deadline rule tl.dl needs `due`" },
	{ "bad date in a rule's effective_from",
	    HDR MATCH_RULE
	    "    effective_from: 2026-13-01\n",
	    ":18:21: error: `effective_from` must be a date YYYY-MM-DD" },
	{ "bad date in a version's effective_from",
	    "law:\n"
	    "  id: tl\n"
	    "  versions:\n"
	    "    - { id: v1, effective_from: 2026-02-30 }\n"
	    "rules: []\n",
	    ":4:33: error: `effective_from` must be a date YYYY-MM-DD" },
	{ "YAML syntax error",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used: x\n"
	    "    key: event.thing\n",
	    ":13:18: error: mapping values are not allowed in this context" },
};

/*
 * Block scalars (`when: >-` and `|`): the text starts on the next line at the
 * content's indentation, not two columns right of the indicator, and a
 * folded scalar's lines still map to their own file lines.
 */
static const struct ecase block_cases[] = {
	{ "syntax error in a block scalar (first content line)",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: >-\n"
	    "      event.count > * 2\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":16:21: error: unexpected '*'" },
	{ "syntax error in a block scalar (second content line)",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: >-\n"
	    "      event.count > 2 and\n"
	    "      event.flag == * 2\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":17:21: error: unexpected '*'" },
	{ "syntax error in a literal block scalar",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    when: |\n"
	    "        event.count > * 2\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":16:23: error: unexpected '*'" },
};

/*
 * An expression error inside a kind's own keys (due, interval, when of a
 * record rule, status) is one error: *nerrors must count it once, like the
 * one line printed (ruleset_load: "*nerrors counts them").
 */
static const struct ecase counted_cases[] = {
	{ "deadline whose due does not compile (one error, counted once)",
	    HDR
	    "  - id: tl.dl\n"
	    "    obligation: TL-DL\n"
	    "    kind: deadline\n"
	    "    start: { on: test.start }\n"
	    "    key: event.thing\n"
	    "    due: start + nope(3)\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:18: error: unknown function 'nope'" },
	{ "record rule whose when does not compile (counted once)",
	    HDR
	    "  - id: tl.rec\n"
	    "    obligation: TL-REC\n"
	    "    kind: record\n"
	    "    subject: dataset\n"
	    "    when: record.x > params.nope\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":14:29: error: unknown parameter 'nope'" },
	{ "periodic rule whose interval does not compile (counted once)",
	    HDR
	    "  - id: tl.per\n"
	    "    obligation: TL-PER\n"
	    "    kind: periodic\n"
	    "    subject: facility\n"
	    "    interval: months(params.nope)\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":14:29: error: unknown parameter 'nope'" },
	{ "match rule whose status expression does not compile (counted once)",
	    HDR
	    "  - id: tl.match\n"
	    "    obligation: TL-MATCH\n"
	    "    kind: match\n"
	    "    on: test.used\n"
	    "    key: event.thing\n"
	    "    status: nope(1)\n"
	    "    articles: { v1: \"1\", v2: \"2\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n",
	    ":15:13: error: unknown function 'nope'" },
};

/* Loads each case; returns the number that failed (each printed). */
static int
run_ecases(const struct ecase *cases, size_t n)
{
	struct tdir	 d;
	struct ruleset	*rs;
	const char	*paths[1], *path;
	char		*err, want[512];
	size_t		 i;
	int		 nerr, bad = 0;

	for (i = 0; i < n; i++) {
		print_message("case: %s\n", cases[i].name);
		tdir_init(&d);
		path = tdir_write(&d, "tl.yaml", cases[i].text);
		paths[0] = d.path;
		rs = load_capture(paths, 1, &nerr, &err);
		snprintf(want, sizeof(want), "%s%s\n", path, cases[i].want);
		if (strcmp(err, want) != 0 || nerr != 1 || rs != NULL) {
			print_error("FAIL %s:\n want %s  got  %s  nerrors %d (want 1), "
			    "set %s\n", cases[i].name, want, err, nerr,
			    rs ? "loaded" : "NULL");
			bad++;
		}
		ruleset_free(rs);
		free(err);
		tdir_free(&d);
	}
	return bad;
}

static void
test_load_errors(void **state)
{
	(void)state;
	assert_int_equal(run_ecases(ecases, NELEM(ecases)), 0);
}

static void
test_load_error_counted_once(void **state)
{
	(void)state;
	assert_int_equal(run_ecases(counted_cases, NELEM(counted_cases)), 0);
}

static void
test_load_error_block_scalar(void **state)
{
	(void)state;
	assert_int_equal(run_ecases(block_cases, NELEM(block_cases)), 0);
}

/* ---- several mistakes in one file: all reported, counted, nothing loaded ---- */

static const char many_errors[] =
	"law:\n"						/* 1 */
	"  id: tl\n"						/* 2 */
	"  versions:\n"						/* 3 */
	"    - { id: v1, effective_until: 2026-01-01 }\n"	/* 4 */
	"    - { id: v2, effective_from: 2026-01-01 }\n"	/* 5 */
	"params:\n"						/* 6 */
	"  limit: 5\n"						/* 7 */
	"rules:\n"						/* 8 */
	"  - id: tl.a\n"					/* 9 */
	"    obligation: TL-A\n"				/* 10 */
	"    kind: match\n"					/* 11 */
	"    on: test.used\n"					/* 12 */
	"    key: event.thing\n"				/* 13 */
	"    when: event.count > params.nope\n"		/* 14: unknown param */
	"    severity: urgent\n"				/* 15: severity */
	"    articles: { v1: \"1\", v9: \"2\" }\n"		/* 16: version */
	"    message: { ja: \"x\", en: \"y\" }\n"		/* 17 */
	"    colour: red\n"					/* 18: rule key */
	"  - id: tl.b\n"					/* 19 */
	"    obligation: TL-B\n"				/* 20 */
	"    kind: match\n"					/* 21 */
	"    on: test.used\n"					/* 22 */
	"    key: event.thing\n"				/* 23 */
	"    when: \"nope(1) or event.x ==\"\n"		/* 24: two errors */
	"    effective_from: 2026-1-1\n"			/* 25: date */
	"    articles: { v1: \"1\" }\n"				/* 26 */
	"    message: { ja: \"x\", en: \"y\" }\n"		/* 27 */
	"  - id: tl.a\n"					/* 28: duplicate */
	"    obligation: TL-A\n"				/* 29 */
	"    kind: periodic\n"					/* 30 */
	"    subject: facility\n"				/* 31 */
	"    articles: { v1: \"1\" }\n"				/* 32 */
	"    message: { ja: \"x\", en: \"y\" }\n"		/* 33: no interval */
	"extra: true\n";					/* 34: top key */

static const char *const many_want[] = {
	":34:1: error: unknown key 'extra' in a law file",
	":18:5: error: unknown key 'colour' in a match rule",
	":16:26: error: 'v9' is not a version of law tl",
	":15:15: error: severity must be info, low, medium, high or critical",
	":14:32: error: unknown parameter 'nope'",
	":24:12: error: unknown function 'nope'",
	":24:33: error: unexpected end of expression",
	":25:21: error: `effective_from` must be a date YYYY-MM-DD",
	":28:5: error: periodic rule tl.a needs `interval`",
	":28:9: error: rule id 'tl.a' is defined twice",
};

static void
test_load_many_errors(void **state)
{
	struct tdir	 d;
	struct ruleset	*rs;
	const char	*paths[2], *path;
	char		*err, want[512];
	size_t		 i;
	int		 nerr, found;

	(void)state;
	tdir_init(&d);
	path = tdir_write(&d, "bad.yaml", many_errors);
	/* a good file next to it is not loaded either */
	paths[0] = tdir_write(&d, "good.yaml",
	    "law:\n  id: g\n  versions: [ { id: g1 } ]\nrules:\n"
	    "  - id: g.m\n    obligation: G\n    kind: match\n    on: test.used\n"
	    "    key: event.thing\n    articles: { g1: \"1\" }\n"
	    "    message: { ja: \"x\", en: \"y\" }\n");
	paths[1] = path;
	rs = load_capture(paths, 2, &nerr, &err);
	fputs(err, stderr);
	assert_null(rs);
	for (i = 0; i < NELEM(many_want); i++) {
		snprintf(want, sizeof(want), "%s%s\n", path, many_want[i]);
		found = strstr(err, want) != NULL;
		if (!found)
			fail_msg("missing: %s", want);
	}
	assert_int_equal(count_lines(err), (int)NELEM(many_want));
	assert_int_equal(nerr, (int)NELEM(many_want));
	free(err);

	/* errors of two files are all reported; the second defines law tl again */
	tdir_write(&d, "bad2.yaml", HDR MATCH_RULE "    colour: red\n");
	paths[0] = d.path;
	rs = load_capture(paths, 1, &nerr, &err);
	assert_null(rs);
	assert_int_equal(nerr, (int)NELEM(many_want) + 2);
	assert_int_equal(count_lines(err), (int)NELEM(many_want) + 2);
	snprintf(want, sizeof(want), "%s/bad2.yaml:18:5: error: unknown key "
	    "'colour' in a match rule\n", d.path);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s/bad2.yaml:2:7: error: law tl is already "
	    "defined in %s/bad.yaml\n", d.path, d.path);
	assert_non_null(strstr(err, want));
	free(err);
	tdir_free(&d);
}

/*
 * Brackets that are text -- after an apostrophe in a plain scalar, in
 * comments, in block scalars -- do not count towards the nesting limit.
 */
static void
test_load_brackets_in_text(void **state)
{
	struct tdir	 d;
	struct ruleset	*rs;
	const char	*paths[1];
	char		 text[16384], *err;
	size_t		 n;
	int		 i, nerr;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "%s", HDR MATCH_RULE);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "    description: |\n");
	for (i = 0; i < 70; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "      see [%d\n", i);
	for (i = 0; i < 70; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "# see [%d\n", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "    tags:\n");
	for (i = 0; i < 70; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "      - the chief's [%d\n", i);
	tdir_init(&d);
	tdir_write(&d, "tl.yaml", text);
	paths[0] = d.path;
	rs = load_capture(paths, 1, &nerr, &err);
	if (err[0])
		fprintf(stderr, "%s", err);
	assert_int_equal(nerr, 0);
	assert_non_null(rs);
	ruleset_free(rs);
	free(err);
	tdir_free(&d);
}

/* A file that cannot be read is an error; no rules are loaded. */
static void
test_load_missing_file(void **state)
{
	const char	*paths[1] = { "/nonexistent/complyd-rules.yaml" };
	struct ruleset	*rs;
	char		*err;
	int		 nerr;

	(void)state;
	rs = load_capture(paths, 1, &nerr, &err);
	assert_null(rs);
	assert_true(nerr >= 1);
	assert_non_null(strstr(err, "/nonexistent/complyd-rules.yaml"));
	free(err);
}

/*
 * A directory without rule files: whatever the result, no crash (under
 * SANITIZE=1 too) and NULL exactly when an error was reported.
 */
static void
test_load_empty_dir(void **state)
{
	struct tdir	 d;
	struct ruleset	*rs;
	const char	*paths[1];
	int		 nerr;

	(void)state;
	tdir_init(&d);
	tdir_write(&d, "README", "no rules here\n");
	paths[0] = d.path;
	nerr = 0;
	rs = ruleset_load(paths, 1, NULL, &nerr);	/* stderr not captured */
	assert_int_equal(rs == NULL, nerr > 0);
	if (rs)
		assert_int_equal(rs->nrules, 0);
	ruleset_free(rs);
	tdir_free(&d);
}

/*
 * With a law list in the directory, an obligation not in it is an error at
 * the rule's `obligation` value; without one, any id is taken (a house rule
 * set of its own, as in the README's quick start).
 */
static void
test_load_obligation_not_listed(void **state)
{
	static const char short_catalog[] =
	    "laws:\n  - id: tl\n    obligations: [ { id: TL-MATCH }, { id: TL-DL } ]\n";
	struct tdir	 d;
	struct ruleset	*rs;
	const char	*paths[1];
	char		*err;
	int		 nerr = 0;

	(void)state;
	tdir_init(&d);
	tdir_write(&d, "tl.yaml", good_law);
	paths[0] = d.path;
	rs = load_capture(paths, 1, &nerr, &err);
	assert_non_null(rs);	/* no catalog: nothing to check against */
	ruleset_free(rs);
	free(err);
	tdir_write(&d, "catalog.yaml", short_catalog);
	rs = load_capture(paths, 1, &nerr, &err);
	assert_null(rs);
	assert_int_equal(nerr, 1);
	assert_non_null(strstr(err, "tl.yaml:29:17: error: obligation 'TL-REC' is "
	    "not in the law list\n"));
	free(err);
	tdir_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_files_and_duplicates),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_error_block_scalar),
		cmocka_unit_test(test_load_error_counted_once),
		cmocka_unit_test(test_load_many_errors),
		cmocka_unit_test(test_load_brackets_in_text),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_empty_dir),
		cmocka_unit_test(test_load_obligation_not_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
