/*
 * complyd.c - the daemon's entry point: wiring only. This build checks its
 * rule set and metadata (--check-rules); the event loop, inputs, outputs and
 * API land with the daemon work (see README "Status").
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "complyd/log.h"
#include "complyd/registry.h"
#include "complyd/rules.h"

static int
usage(void)
{
	fprintf(stderr, "usage: complyd [-f] [-c FILE] | complyd --check-rules DIR "
	    "[--meta DIR]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check-rules", required_argument, NULL, 'R' },
		{ "meta", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*rules = NULL, *meta = NULL;
	struct ruleset	*rs;
	struct registry	*reg;
	int		 c, nerr = 0;

	log_init("complyd", 1);
	while ((c = getopt_long(argc, argv, "fc:", opts, NULL)) != -1)
		switch (c) {
		case 'R': rules = optarg; break;
		case 'm': meta = optarg; break;
		case 'f': case 'c': break;
		default: return usage();
		}
	if (rules == NULL) {
		log_warnx("the daemon (event loop, inputs, API) is not in this build yet; "
		    "use complyctl replay, or --check-rules");
		return 2;
	}
	if ((rs = ruleset_load(&rules, 1, NULL, &nerr)) == NULL) {
		log_warnx("%s: %d error(s)", rules, nerr);
		return 1;
	}
	reg = registry_new();
	if (meta)
		registry_load(reg, meta, &nerr);
	log_info("%d rule(s) ok; %zu contract(s), %zu dataset(s), %zu facilit(ies)",
	    rs->nrules, registry_count(reg, REC_CONTRACT),
	    registry_count(reg, REC_DATASET), registry_count(reg, REC_FACILITY));
	registry_free(reg);
	ruleset_free(rs);
	return nerr ? 1 : 0;
}
