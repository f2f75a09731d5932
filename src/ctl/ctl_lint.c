/*
 * ctl_lint.c - `complyctl lint [DIR|FILE...]`: loads rule files the way the
 * daemon does and reports every error as file:line:col: error: ...
 */
#include <stdio.h>

#include "complyd/log.h"
#include "complyd/rules.h"
#include "ctl.h"

int
ctl_lint(int argc, char **argv)
{
	const char	*dflt[] = { "rules" };
	const char	*const *paths = argc > 1 ? (const char *const *)argv + 1 : dflt;
	int		 n = argc > 1 ? argc - 1 : 1, nerr = 0;
	struct ruleset	*rs;
	int		 i;

	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return ctl_usage_error(argv[0], argv[i]);
	rs = ruleset_load(paths, n, NULL, &nerr);
	if (rs == NULL) {
		fprintf(stderr, "%d error(s)\n", nerr);
		return 1;
	}
	printf("%d rule(s) in %d law(s) from %d file(s): ok (sha256 %s)\n",
	    rs->nrules, rs->nlaws, rs->nfiles, rs->hash);
	ruleset_free(rs);
	return 0;
}
