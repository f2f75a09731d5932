/*
 * ctl_replay.c - `complyctl replay --rules DIR --meta DIR [--until TIME] FILE...`:
 * evaluates event files offline on event time and prints the alerts as JSON
 * lines ordered by time, obligation, tenant, key, status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/log.h"
#include "complyd/replay.h"
#include "ctl.h"

static int
usage(void)
{
	fprintf(stderr, "usage: complyctl replay --rules DIR --meta DIR "
	    "[--until TIME] FILE...\n");
	return 2;
}

int
ctl_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "meta", required_argument, NULL, 'm' },
		{ "until", required_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	struct replay_opts	 o;
	struct replay_result	 res;
	struct alert_vec	 out = { 0 };
	struct ruleset		*rs;
	struct registry		*reg;
	const char		*rules = NULL, *meta = NULL;
	int			 c, nerr = 0, rc;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:m:u:q", opts, NULL)) != -1)
		switch (c) {
		case 'r': rules = optarg; break;
		case 'm': meta = optarg; break;
		case 'q': o.quiet = 1; break;
		case 'u':
			if (when_parse_bound(optarg, 1, &o.until) == -1) {
				log_warnx("--until: not an RFC 3339 time or a date: %s", optarg);
				return 2;
			}
			o.has_until = 1;
			break;
		default: return usage();
		}
	if (rules == NULL)
		return usage();
	if ((rs = ruleset_load((const char *const *)&rules, 1, NULL, &nerr)) == NULL) {
		log_warnx("%s: %d error(s); no rules loaded", rules, nerr);
		return 1;
	}
	reg = registry_new();
	if (meta)
		registry_load(reg, meta, &nerr);
	/* A long history's alerts wait for their output order on disk, not in memory. */
	if (alert_vec_spill(&out) == -1)
		log_warn("no temporary file; alerts are kept in memory");
	rc = replay_files(rs, reg, argv + optind, argc - optind, &o, &out, &res);
	if (alert_vec_print(&out, stdout) == -1)
		rc = -1;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		rc = -1;
	}
	if (res.stats.suppressed)
		fprintf(stderr, "note: %llu alert(s) suppressed by exceptions\n",
		    (unsigned long long)res.stats.suppressed);
	alert_vec_free(&out);
	registry_free(reg);
	ruleset_free(rs);
	return rc == -1 || res.rejected || nerr ? 1 : 0;
}
