/*
 * ctl_coverage.c - `complyctl coverage [--min N] [DIR]`: the gate that every
 * obligation of the law list (DIR/law-list.yaml) has a rule and passing test
 * cases, and which law versions those cases cite. An obligation that is a
 * property of complyd itself is declared under `properties:` of a law file
 * with the test that shows it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/rules.h"
#include "complyd/yamlx.h"
#include "ctl.h"

struct oblig {
	const char	*law, *id;
	cJSON		*versions;	/* version ids that have an article */
	int		 rules, cases;
	cJSON		*covered;	/* versions cited by passing cases */
	const char	*property;	/* test named for a property obligation */
};

static int
count_rules(const struct ruleset *rs, const char *id)
{
	int i, n = 0;

	for (i = 0; i < rs->nrules; i++)
		if (strcmp(rs->rules[i]->obligation, id) == 0)
			n++;
	return n;
}

static void
tally_cases(struct oblig *o, const struct test_report *rep)
{
	int i, j, k;

	o->covered = cJSON_CreateArray();
	for (i = 0; i < rep->n; i++) {
		const struct case_result *c = &rep->v[i];

		for (j = 0; j < c->nobligations; j++)
			if (strcmp(c->obligations[j], o->id) == 0)
				break;
		if (j == c->nobligations || !c->passed)
			continue;
		o->cases++;
		for (k = 0; k < c->nversions; k++) {
			const cJSON *it;
			int seen = 0;

			cJSON_ArrayForEach(it, o->covered)
				seen |= strcmp(it->valuestring, c->versions[k]) == 0;
			if (!seen && cJSON_GetObjectItemCaseSensitive(o->versions,
			    c->versions[k]))
				cJSON_AddItemToArray(o->covered,
				    cJSON_CreateString(c->versions[k]));
		}
	}
}

/* Properties declared in the rule files: obligation -> test. */
static cJSON *
load_properties(const struct ruleset *rs)
{
	cJSON		*props = cJSON_CreateObject();
	struct ydoc	 d;
	yaml_node_t	*list, *it;
	const char	*ob, *test;
	int		 i, j;

	for (i = 0; i < rs->nfiles; i++) {
		if (ydoc_load(&d, rs->files[i]) == 0) {
			list = ydoc_get(&d, ydoc_root(&d), "properties");
			for (j = 0; j < ydoc_len(&d, list); j++) {
				it = ydoc_item(&d, list, j);
				ob = ydoc_str(ydoc_get(&d, it, "obligation"));
				test = ydoc_str(ydoc_get(&d, it, "test"));
				if (ob && test)
					cJSON_AddStringToObject(props, ob, test);
			}
		}
		ydoc_free(&d);
	}
	return props;
}

static int
print_row(struct oblig *o, int min)
{
	char		*cov = cJSON_PrintUnformatted(o->covered);
	const cJSON	*v;
	int		 nver = 0, ok;

	cJSON_ArrayForEach(v, o->versions)
		nver++;
	if (o->property) {
		printf("%-34s %-12s property  test: %s\n", o->id, o->law, o->property);
		free(cov);
		return 1;
	}
	ok = o->rules > 0 && o->cases >= min;
	printf("%-34s %-12s rules %d  cases %3d  versions %d/%d %s%s\n", o->id, o->law,
	    o->rules, o->cases, cJSON_GetArraySize(o->covered), nver, cov,
	    ok ? "" : "  <- MISSING");
	free(cov);
	return ok;
}

int
ctl_coverage(int argc, char **argv)
{
	struct test_report	 rep;
	struct ydoc		 cat;
	struct ruleset		*rs;
	const char		*dir = "rules";
	char			 path[4096];
	yaml_node_t		*laws, *law, *obs, *on;
	cJSON			*props;
	int			 i, j, min = 1, nerr = 0, total = 0, bad = 0;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--min") == 0 && i + 1 < argc)
			min = atoi(argv[++i]);
		else if (argv[i][0] == '-')
			return ctl_usage_error(argv[0], argv[i]);
		else
			dir = argv[i];
	snprintf(path, sizeof(path), "%s/law-list.yaml", dir);
	if (ydoc_load(&cat, path) == -1) {
		ydoc_free(&cat);
		return 1;
	}
	if ((rs = ruleset_load(&dir, 1, NULL, &nerr)) == NULL) {
		ydoc_free(&cat);
		return 1;
	}
	memset(&rep, 0, sizeof(rep));
	run_rule_tests(dir, 0, &rep);
	props = load_properties(rs);
	laws = ydoc_get(&cat, ydoc_root(&cat), "laws");
	for (i = 0; i < ydoc_len(&cat, laws); i++) {
		law = ydoc_item(&cat, laws, i);
		obs = ydoc_get(&cat, law, "obligations");
		for (j = 0; j < ydoc_len(&cat, obs); j++) {
			struct oblig o;
			const cJSON *p;

			memset(&o, 0, sizeof(o));
			on = ydoc_item(&cat, obs, j);
			o.law = ydoc_str(ydoc_get(&cat, law, "id"));
			o.id = ydoc_str(ydoc_get(&cat, on, "id"));
			if (o.id == NULL || o.law == NULL)
				continue;
			o.versions = ydoc_to_json(&cat, ydoc_get(&cat, on, "articles"));
			o.rules = count_rules(rs, o.id);
			p = cJSON_GetObjectItemCaseSensitive(props, o.id);
			o.property = cJSON_IsString(p) ? p->valuestring : NULL;
			tally_cases(&o, &rep);
			total++;
			bad += !print_row(&o, min);
			cJSON_Delete(o.versions);
			cJSON_Delete(o.covered);
		}
	}
	printf("%d obligation(s), %d covered, %d missing (minimum %d passing case(s) each); "
	    "tests: %d passed, %d failed\n", total, total - bad, bad, min, rep.passed,
	    rep.failed);
	cJSON_Delete(props);
	test_report_free(&rep);
	ruleset_free(rs);
	ydoc_free(&cat);
	return bad || rep.failed || total == 0 ? 1 : 0;
}
