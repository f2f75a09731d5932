/*
 * config.h - the daemon's configuration file (conf/complyd.yaml, DESIGN.md
 * "The daemon"): one table of keys with their checks; unknown keys are
 * errors; relative paths are relative to the config file.
 */
#ifndef COMPLYD_CONFIG_H
#define COMPLYD_CONFIG_H

#include "complyd/retention.h"

#define CONFIG_MAX_LISTEN	8
#define CONFIG_MAX_IO		16

enum input_type { IN_HTTP, IN_SYSLOG, IN_FILE };
enum output_type { OUT_STDOUT, OUT_FILE, OUT_SYSLOG, OUT_WEBHOOK };

struct config_input {
	enum input_type	 type;
	char		*listen;	/* syslog: unix:PATH, unixgram:PATH, tcp:HOST:PORT */
	char		*path;		/* file: a glob */
};

struct config_output {
	enum output_type type;
	char		*path;		/* file */
	char		*target;	/* syslog: unix:PATH or tcp:HOST:PORT */
	char		*url;		/* webhook */
};

struct config {
	char			*file;
	char			*state_dir;
	char			*rules;
	char			*metadata;
	char			*calendar;	/* optional */
	struct retention	 retention;
	char			*listen[CONFIG_MAX_LISTEN];
	int			 nlisten;
	char			*tokens;
	char			*synchronous;	/* SQLite: full (default) or normal */
	long			 max_body;	/* HTTP body limit, bytes */
	long			 queue_max;	/* events buffered before pushing back */
	struct config_input	 inputs[CONFIG_MAX_IO];
	int			 ninputs;
	struct config_output	 outputs[CONFIG_MAX_IO];
	int			 noutputs;
};

/*
 * Loads path into cf. Every problem is printed as file:line:col: error: ...;
 * returns 0, or -1 after reporting all of them (cf is then freed).
 */
int config_load(const char *path, struct config *cf);
void config_free(struct config *cf);

#endif
