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

static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
} commands[] = {
	{ "lint",	ctl_lint,	"lint [DIR|FILE...]" },
	{ "test",	ctl_test,	"test [DIR...]" },
	{ "replay",	ctl_replay,	"replay --rules DIR --meta DIR [--until TIME] FILE..." },
	{ "coverage",	ctl_coverage,	"coverage [DIR]" },
	{ "alerts",	ctl_api,	"alerts [--socket PATH] [filters]" },
	{ "ack",	ctl_api,	"ack ID [--note TEXT]" },
	{ "resolve",	ctl_api,	"resolve ID [--note TEXT]" },
	{ "deadlines",	ctl_api,	"deadlines [--socket PATH | -c FILE] [--due-before DATE]" },
	{ "report",	ctl_api,	"report [--from DATE] [--to DATE] [--format json|csv|html]" },
	{ "verify",	ctl_api,	"verify" },
	{ "reload",	ctl_api,	"reload [--socket PATH | -c FILE]" },
	{ "rules",	ctl_api,	"rules [--socket PATH | -c FILE]" },
	{ "help",	cmd_help,	"help" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int
cmd_help(int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	fprintf(stderr, "usage: complyctl COMMAND [ARGS]\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "  complyctl %s\n", commands[i].usage);
	return 2;
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("complyctl", 0);
	if (argc < 2)
		return cmd_help(0, NULL);
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cmd_help(0, NULL);
	log_warnx("unknown command '%s'", argv[1]);
	cmd_help(0, NULL);
	return 2;
}
