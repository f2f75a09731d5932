/*
 * ctl.h - complyctl's subcommands, one file each, dispatched from one table
 * in complyctl.c. Each returns the process exit status.
 */
#ifndef COMPLYCTL_CTL_H
#define COMPLYCTL_CTL_H

int ctl_replay(int argc, char **argv);
int ctl_lint(int argc, char **argv);
int ctl_test(int argc, char **argv);
int ctl_coverage(int argc, char **argv);
/* An option the command does not know: says so with its usage; returns 2. */
int ctl_usage_error(const char *cmd, const char *arg);
/*
 * alerts, ack, resolve, deadlines, report, verify, reload, rules, backtest
 * via the daemon's API.
 */
int ctl_api(int argc, char **argv);
/* verify --bundle FILE offline; without --bundle the daemon verifies (ctl_api). */
int ctl_verify(int argc, char **argv);

/* Rule test cases (ctl_test.c), also read by the coverage gate. */
struct ruleset;
struct case_result {
	char	*file;
	char	*name;
	char	**obligations;	/* that the case exercises */
	int	 nobligations;
	char	**versions;	/* law versions its expected alerts cite */
	int	 nversions;
	int	 passed;
};
struct test_report {
	struct case_result *v;
	int		 n;
	int		 passed, failed;
};
/* Runs every test case found in dir/tests/ and the *.test.yaml files of dir against the rules of dir. */
int run_rule_tests(const char *dir, int verbose, struct test_report *rep);
void test_report_free(struct test_report *rep);

#endif
