/*
 * ctl_test.c - `complyctl test [DIR...]`: runs the rule test cases of each
 * rules directory (the YAML files of DIR/tests/ and the *.test.yaml files of DIR). A case gives
 * metadata, events and the alerts it expects; the alerts of the obligations
 * it names must be exactly those. Prints "N passed, N failed" last.
 *
 *   tests:
 *     - name: paid on day 60 is in time
 *       obligations: [SUBCON-PAY-BY-DUE]     # compared; default: all alerts
 *       until: 2026-07-01T00:00:00+09:00
 *       metadata: { contracts: [ ... ] }
 *       events: [ { id: e1, time: ..., tenant: ..., type: ..., ... } ]
 *       expect: [ { obligation: ..., key: ..., status: ..., time: ... } ]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/log.h"
#include "complyd/replay.h"
#include "complyd/yamlx.h"
#include "ctl.h"

struct tcase {
	struct ydoc	*doc;
	yaml_node_t	*node;
	const char	*name;
	cJSON		*expect;	/* array */
	cJSON		*only;		/* obligations compared, or NULL */
	int		 nerr0;		/* the document's errors before this case */
};

static int
str_in(const cJSON *arr, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return 1;
	return 0;
}

/* An expected value matches: times as instants, objects as subsets, else equal. */
static int
field_matches(const char *name, const cJSON *want, const cJSON *got)
{
	instant_t a, b;
	const cJSON *w;

	if (got == NULL)
		return cJSON_IsNull(want);
	if (strcmp(name, "time") == 0 && cJSON_IsString(want) && cJSON_IsString(got) &&
	    when_parse_instant(want->valuestring, &a) == 0 &&
	    when_parse_instant(got->valuestring, &b) == 0)
		return a / 1000 == b / 1000;
	if (cJSON_IsObject(want) && cJSON_IsObject(got)) {
		cJSON_ArrayForEach(w, want)
			if (!field_matches(w->string, w,
			    cJSON_GetObjectItemCaseSensitive(got, w->string)))
				return 0;
		return 1;
	}
	if (cJSON_IsNumber(want) && cJSON_IsNumber(got))
		return want->valuedouble == got->valuedouble;
	return cJSON_Compare(want, got, 1);
}

static int
alert_matches(const cJSON *want, const cJSON *got)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, want)
		if (!field_matches(w->string, w,
		    cJSON_GetObjectItemCaseSensitive(got, w->string)))
			return 0;
	return 1;
}

static void
print_alert(const char *prefix, const cJSON *a)
{
	char *s = cJSON_PrintUnformatted(a);

	fprintf(stderr, "    %s %s\n", prefix, s);
	free(s);
}

/* Compares expected with actual alerts; each expected one takes one actual one. */
static int
compare(struct tcase *tc, struct alert_vec *got)
{
	const cJSON	*w;
	char		*used = xcalloc(got->n + 1, 1);
	size_t		 i;
	int		 ok = 1;

	cJSON_ArrayForEach(w, tc->expect) {
		for (i = 0; i < got->n; i++)
			if (!used[i] && alert_matches(w, got->v[i].json))
				break;
		if (i == got->n) {
			if (ok)
				fprintf(stderr, "FAIL %s:%d: %s\n", tc->doc->path,
				    ydoc_line(tc->node), tc->name);
			print_alert("missing:", w);
			ok = 0;
		} else
			used[i] = 1;
	}
	for (i = 0; i < got->n; i++)
		if (!used[i]) {
			if (ok)
				fprintf(stderr, "FAIL %s:%d: %s\n", tc->doc->path,
				    ydoc_line(tc->node), tc->name);
			print_alert("unexpected:", got->v[i].json);
			ok = 0;
		}
	free(used);
	return ok;
}

/* Drops alerts of obligations the case does not compare. */
static void
filter(struct alert_vec *av, const cJSON *only)
{
	size_t i, j;

	if (only == NULL)
		return;
	for (i = j = 0; i < av->n; i++)
		if (str_in(only, av->v[i].obligation))
			av->v[j++] = av->v[i];
		else
			cJSON_Delete(av->v[i].json);
	av->n = j;
}

static int
load_events(struct tcase *tc, yaml_node_t *list, struct soc_event **evs, size_t *n)
{
	char		 err[256];
	yaml_node_t	*it;
	int		 i, bad = 0;

	*n = 0;
	*evs = xcalloc(ydoc_len(tc->doc, list) + 1, sizeof(**evs));
	for (i = 0; i < ydoc_len(tc->doc, list); i++) {
		it = ydoc_item(tc->doc, list, i);
		if (event_from_json(ydoc_to_json(tc->doc, it), &(*evs)[*n], err,
		    sizeof(err)) == -1) {
			ydoc_error(tc->doc, it, "event %d: %s", i + 1, err);
			bad++;
			continue;
		}
		(*n)++;
	}
	return bad ? -1 : 0;
}

static int
run_case(struct ruleset *rs, struct tcase *tc, int verbose)
{
	struct replay_opts	 o;
	struct replay_result	 res;
	struct alert_vec	 got = { 0 };
	struct registry		*reg = registry_new();
	struct soc_event		*evs;
	yaml_node_t		*u;
	size_t			 n;
	int			 ok = 0, nerr = tc->nerr0;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	if ((u = ydoc_get(tc->doc, tc->node, "until")) != NULL) {
		if (ydoc_str(u) == NULL || when_parse_bound(ydoc_str(u), 1, &o.until) == -1)
			ydoc_error(tc->doc, u, "until: an RFC 3339 time with offset, or a date");
		o.has_until = 1;
	}
	registry_load_node(reg, tc->doc, ydoc_get(tc->doc, tc->node, "metadata"));
	if (load_events(tc, ydoc_get(tc->doc, tc->node, "events"), &evs, &n) == 0 &&
	    tc->doc->nerrors == nerr) {
		replay_events(rs, reg, evs, n, &o, &got, &res);
		filter(&got, tc->only);
		if (got.n > 1)
			qsort(got.v, got.n, sizeof(*got.v), alert_cmp);
		ok = compare(tc, &got);
		if (ok && verbose)
			fprintf(stderr, "ok   %s\n", tc->name);
	} else {
		fprintf(stderr, "FAIL %s:%d: %s: the case itself is malformed\n",
		    tc->doc->path, ydoc_line(tc->node), tc->name);
		while (n > 0)
			event_dispose(&evs[--n]);
	}
	free(evs);
	alert_vec_free(&got);
	registry_free(reg);
	return ok;
}

static void
add_unique(char ***v, int *n, const char *s)
{
	int i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
}

static void
record_result(struct test_report *rep, struct tcase *tc, int ok)
{
	struct case_result	*cr;
	const cJSON		*it, *f;

	rep->v = xrealloc(rep->v, (rep->n + 1) * sizeof(*rep->v));
	cr = &rep->v[rep->n++];
	memset(cr, 0, sizeof(*cr));
	cr->file = xstrdup(tc->doc->path);
	cr->name = xstrdup(tc->name);
	cr->passed = ok;
	cJSON_ArrayForEach(it, tc->only)
		if (cJSON_IsString(it))
			add_unique(&cr->obligations, &cr->nobligations, it->valuestring);
	cJSON_ArrayForEach(it, tc->expect) {
		if (cJSON_IsString(f = cJSON_GetObjectItemCaseSensitive(it, "obligation")))
			add_unique(&cr->obligations, &cr->nobligations, f->valuestring);
		if (cJSON_IsString(f = cJSON_GetObjectItemCaseSensitive(it, "law_version")))
			add_unique(&cr->versions, &cr->nversions, f->valuestring);
	}
	if (ok)
		rep->passed++;
	else
		rep->failed++;
}

static cJSON *
obligations_of(struct ydoc *d, yaml_node_t *n)
{
	yaml_node_t *o = ydoc_get(d, n, "obligations");
	cJSON *j;

	if (o == NULL)
		o = ydoc_get(d, n, "obligation");
	if (o == NULL)
		return NULL;
	j = ydoc_to_json(d, o);
	if (cJSON_IsString(j)) {
		cJSON *a = cJSON_CreateArray();

		cJSON_AddItemToArray(a, j);
		return a;
	}
	return j;
}

static void
run_file(struct ruleset *rs, const char *path, int verbose, struct test_report *rep)
{
	static const char *const keys[] = { "name", "obligation", "obligations",
		"until", "metadata", "events", "expect", "note", "version", NULL };
	struct ydoc	 d;
	struct tcase	 tc;
	yaml_node_t	*list;
	int		 i, ok;

	if (ydoc_load(&d, path) == -1) {
		rep->failed++;
		ydoc_free(&d);
		return;
	}
	list = ydoc_get(&d, ydoc_root(&d), "tests");
	/* A file of no cases is a mistake, not a pass: it counts as one failure. */
	if (list == NULL || list->type != YAML_SEQUENCE_NODE) {
		ydoc_error(&d, list ? list : ydoc_root(&d),
		    "`tests` must be a list of test cases");
		rep->failed++;
		ydoc_free(&d);
		return;
	}
	for (i = 0; i < ydoc_len(&d, list); i++) {
		memset(&tc, 0, sizeof(tc));
		tc.doc = &d;
		tc.node = ydoc_item(&d, list, i);
		/* A misspelt key (evnts:) makes the case malformed, not vacuous. */
		tc.nerr0 = d.nerrors;
		tc.name = ydoc_str(ydoc_get(&d, tc.node, "name"));
		if (tc.name == NULL)
			tc.name = "(unnamed)";
		ydoc_check_keys(&d, tc.node, keys, "a test case");
		tc.expect = ydoc_to_json(&d, ydoc_get(&d, tc.node, "expect"));
		if (!cJSON_IsArray(tc.expect)) {
			cJSON_Delete(tc.expect);
			tc.expect = cJSON_CreateArray();
		}
		tc.only = obligations_of(&d, tc.node);
		ok = run_case(rs, &tc, verbose);
		record_result(rep, &tc, ok);
		cJSON_Delete(tc.expect);
		cJSON_Delete(tc.only);
	}
	ydoc_free(&d);
}

static int
is_test_file(const char *name, int in_tests_dir)
{
	size_t n = strlen(name);

	if (name[0] == '.' || n < 6 || strcmp(name + n - 5, ".yaml") != 0)
		return 0;
	return in_tests_dir || (n > 10 && strcmp(name + n - 10, ".test.yaml") == 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_tests(const char *dir, int in_tests_dir, char ***files, int *n)
{
	DIR		*d;
	struct dirent	*de;
	char		 buf[4096];
	int		 first = *n;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (is_test_file(de->d_name, in_tests_dir)) {
			snprintf(buf, sizeof(buf), "%s/%s", dir, de->d_name);
			*files = xrealloc(*files, (*n + 1) * sizeof(char *));
			(*files)[(*n)++] = xstrdup(buf);
		}
	closedir(d);
	if (*n > first)
		qsort(*files + first, *n - first, sizeof(char *), cmp_str);
}

int
run_rule_tests(const char *dir, int verbose, struct test_report *rep)
{
	struct ruleset	*rs;
	char		**files = NULL, sub[4096];
	int		 n = 0, i, nerr = 0;

	if ((rs = ruleset_load(&dir, 1, NULL, &nerr)) == NULL) {
		fprintf(stderr, "%s: %d error(s) in the rules; no test run\n", dir, nerr);
		rep->failed++;
		return -1;
	}
	list_tests(dir, 0, &files, &n);
	snprintf(sub, sizeof(sub), "%s/tests", dir);
	list_tests(sub, 1, &files, &n);
	for (i = 0; i < n; i++) {
		run_file(rs, files[i], verbose, rep);
		free(files[i]);
	}
	free(files);
	ruleset_free(rs);
	return 0;
}

void
test_report_free(struct test_report *rep)
{
	int i, j;

	for (i = 0; i < rep->n; i++) {
		free(rep->v[i].file);
		free(rep->v[i].name);
		for (j = 0; j < rep->v[i].nobligations; j++)
			free(rep->v[i].obligations[j]);
		free(rep->v[i].obligations);
		for (j = 0; j < rep->v[i].nversions; j++)
			free(rep->v[i].versions[j]);
		free(rep->v[i].versions);
	}
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

int
ctl_test(int argc, char **argv)
{
	struct test_report	 rep;
	int			 i, verbose = 0, ndirs = 0;

	memset(&rep, 0, sizeof(rep));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (argv[i][0] == '-') {
			test_report_free(&rep);
			return ctl_usage_error(argv[0], argv[i]);
		}
		run_rule_tests(argv[i], verbose, &rep);
		ndirs++;
	}
	if (ndirs == 0)
		run_rule_tests("rules", verbose, &rep);
	printf("%d passed, %d failed\n", rep.passed, rep.failed);
	i = rep.failed ? 1 : 0;
	test_report_free(&rep);
	return i;
}
