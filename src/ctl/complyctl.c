/*
 * complyctl.c - the operator's command line: one table of subcommands.
 * Offline ones (lint, test, replay, coverage) run here; the others talk to
 * the daemon's API.
 */
#include <stdio.h>
#include <string.h>

#include "complyd/log.h"
#include "ctl.h"

static int cmd_help(int, char **);
static void print_usage(FILE *);

static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
} commands[] = {
	{ "lint",	ctl_lint,	"lint [DIR|FILE...]" },
	{ "test",	ctl_test,	"test [-v] [DIR...]" },
	{ "replay",	ctl_replay,	"replay --rules DIR --meta DIR [--until TIME] FILE..." },
	{ "coverage",	ctl_coverage,	"coverage [--min N] [DIR]" },
	{ "alerts",	ctl_api,	"alerts [--socket PATH | -c FILE] [--status S] [--state S] "
	    "[--tenant T] [--obligation O] [--since T] [--until T] [--limit N]" },
	{ "ack",	ctl_api,	"ack [--socket PATH | -c FILE] ID [--note TEXT]" },
	{ "resolve",	ctl_api,	"resolve [--socket PATH | -c FILE] ID [--note TEXT]" },
	{ "deadlines",	ctl_api,	"deadlines [--socket PATH | -c FILE] [--due-before DATE]" },
	{ "report",	ctl_api,	"report [--socket PATH | -c FILE] [--from TIME] [--to TIME] "
	    "[--tenant T] [--format json|csv|html]" },
	{ "verify",	ctl_verify,	"verify [--socket PATH | -c FILE] | verify --bundle FILE [--head HEX]" },
	{ "reload",	ctl_api,	"reload [--socket PATH | -c FILE]" },
	{ "rules",	ctl_api,	"rules [--socket PATH | -c FILE]" },
	{ "backtest",	ctl_api,	"backtest [--socket PATH | -c FILE] DIR [--from TIME] "
	    "[--to TIME] [--tenant T]" },
	{ "help",	cmd_help,	"help" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Asked for (`help`, -h): the commands on stdout, exit 0. */
static int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_usage(stdout);
	return 0;
}

static void
print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: complyctl COMMAND [ARGS]\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  complyctl %s\n", commands[i].usage);
}

int
ctl_usage_error(const char *cmd, const char *arg)
{
	size_t i;

	log_warnx("%s: unknown option '%s'", cmd, arg);
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, cmd) == 0)
			fprintf(stderr, "usage: complyctl %s\n", commands[i].usage);
	return 2;
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("complyctl", 0);
	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		/* `complyctl CMD --help`: that command's usage, asked for (exit 0). */
		if (argc > 2 && (strcmp(argv[2], "-h") == 0 ||
		    strcmp(argv[2], "--help") == 0)) {
			printf("usage: complyctl %s\n", commands[i].usage);
			return 0;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cmd_help(0, NULL);
	log_warnx("unknown command '%s'", argv[1]);
	print_usage(stderr);
	return 2;
}
