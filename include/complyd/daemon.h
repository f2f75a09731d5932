/*
 * daemon.h - the running daemon: one struct that the event loop's callbacks
 * share, and the few operations inputs, outputs and the API call. Inputs hand
 * batches of raw event lines to daemon_ingest, which commits them to the
 * journal before anything is acknowledged and then applies them to the engine.
 */
#ifndef COMPLYD_DAEMON_H
#define COMPLYD_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include "complyd/config.h"
#include "complyd/engine.h"
#include "complyd/store.h"

struct event_base;
struct evhttp;
struct output;
struct input_file;

struct daemon_stats {
	uint64_t	 accepted, rejected, duplicates, alerts, delivered,
			 delivery_failures, reloads, reload_failures, late,
			 retracted, refreshed;
};

/* A tenant with late events in a batch: its oldest, and that event's id. */
struct late_tenant {
	const char	*tenant;
	int64_t		 oldest;
	const char	*why;
};

struct daemon {
	struct config		 cf;
	const char		*config_path;
	struct event_base	*base;
	struct evhttp		*http;		/* the API, freed on shutdown */
	struct store		*store;
	struct ruleset		*rs;
	struct registry		*reg;
	struct state		*st;
	struct engine		*en;
	struct tokens		*tokens;
	struct output		**outputs;
	int			 noutputs;
	struct input_file	**files;
	int			 nfiles;
	int			 ready;		/* rules loaded, journal replayed */
	struct hmap		*truth;		/* reconciling: ids the replay raises */
	struct late_tenant	*late;		/* reconciling: whose late events */
	int			 nlate;
	uid_t			 uid;
	int64_t			 set_loaded_ms;	/* when the rules and metadata in force were loaded */
	struct daemon_stats	 stats;
};

/* One line that an input could not take. */
struct ingest_reject {
	long	 line;		/* 1-based line (or array index + 1) */
	char	 error[200];
};

#define INGEST_MAX_REJECTS	1000

struct ingest_result {
	long			 accepted, duplicates;
	struct ingest_reject	*rejects;	/* the first INGEST_MAX_REJECTS */
	int			 nrejects, caprejects;
	long			 nbad;		/* all rejected lines */
	int			 failed;	/* storage failed: nothing was committed */
};
void ingest_result_free(struct ingest_result *r);

/*
 * Commits a batch of events (decoded JSON objects, with their text) to the
 * journal in one transaction, then applies the new ones to the engine.
 * allow_tenant (may be NULL) says whether the caller may write a tenant.
 * texts[i]/lens[i] are the original JSON; objs[i] may be NULL for a line
 * that failed to parse (its error in errs[i]).
 */
struct ingest_item {
	const char	*text;
	size_t		 len;
	long		 line;
};
void daemon_ingest(struct daemon *d, struct ingest_item *items, size_t n,
    int (*allow_tenant)(void *, const char *), void *arg,
    struct ingest_result *res);

/* Loads rules, metadata and tokens of the config and swaps them in; 0 or -1. */
int daemon_reload(struct daemon *d);
/* Delivers what the outboxes hold (called after each batch and every second). */
void daemon_flush_outputs(struct daemon *d);
/* Wall clock in ms. */
int64_t daemon_now(void);

/* --- outputs (out.c): one table of kinds --- */
struct output *output_open(struct daemon *d, const struct config_output *c, int index);
/* The outbox slot of config output c at position (store_output_slot); -1. */
int output_slot(struct daemon *d, const struct config_output *c, int position);
void output_close(struct output *o);
/* Hands the due outbox entries of o to its sink. */
void output_flush(struct daemon *d, struct output *o);
/* SIGHUP: reopen files (logrotate). */
void output_reopen(struct output *o);

/* --- inputs --- */
int in_http_start(struct daemon *d);	/* the API listeners (http.c) */
struct evconnlistener;
/* Makes lev pause a second when accept() fails (out of descriptors); accept.c. */
int accept_guard(struct event_base *base, struct evconnlistener *lev,
    const char *name);
void accept_guards_free(void);
/* Applies cf.max_body (and the header limit) to the API; at start and reload. */
void http_set_limits(struct daemon *d);
int in_syslog_start(struct daemon *d, const struct config_input *c);
struct input_file *in_file_start(struct daemon *d, const struct config_input *c);
void in_file_poll(struct daemon *d, struct input_file *f);
void in_file_free(struct input_file *f);

/* --- tokens (auth.c) --- */
enum role { ROLE_NONE, ROLE_INGEST, ROLE_MANAGER, ROLE_AUDITOR, ROLE_OPERATOR,
	ROLE_ADMIN };
struct principal {
	char		 name[64];
	enum role	 role;
	char		**tenants;	/* NULL-terminated; "*" = all */
};
struct tokens *tokens_load(const char *path, int *nerrors);
void tokens_free(struct tokens *t);
/* The principal of a bearer token, or NULL. */
const struct principal *tokens_find(const struct tokens *t, const char *token);
int principal_may_see(const struct principal *p, const char *tenant);
const char *role_name(enum role r);

#endif
