/*
 * alert.h - the alert record of DESIGN.md: built by the engine as JSON with a
 * stable id (a hash of tenant, rule, key, status, time, and the event of a
 * match or the scope of a scoped deadline), handed to a sink (replay collects
 * and sorts; the daemon stores).
 */
#ifndef COMPLYD_ALERT_H
#define COMPLYD_ALERT_H

#include <sys/types.h>

#include <cjson/cJSON.h>

#include "complyd/when.h"

struct alert {
	cJSON		*json;		/* the full record, owned; NULL for a text sink */
	instant_t	 time;
	/*
	 * Into json; for a text sink (below), valid during emit only. Set by
	 * a spilling collector (replay.h): json is NULL, the strings live in
	 * own, the record is the line at off (len bytes) of its file.
	 */
	const char	*tenant, *obligation, *key, *status, *id;
	uint64_t	 seq;		/* emission order */
	char		*own;
	off_t		 off;
	int		 file;		/* 0: the collector's spill file, i: its more[i - 1] */
	/* For a text sink: the record as one JSON line (no newline), during emit. */
	const char	*text;
	size_t		 len;
};

/*
 * A decision that is not an alert, for the evidence log (DESIGN principle 4):
 * an obligation opened, or closed (met when in time; a miss is its alert).
 */
enum decision_kind { DECISION_OPENED, DECISION_CLOSED };
struct decision {
	enum decision_kind	 kind;
	const char		*tenant, *rule, *obligation, *law_version;
	const char		*key, *scope;	/* scope: NULL unless the rule has one */
	instant_t		 at;		/* event time it opened or closed */
	date_t			 due;
	int			 in_time;	/* closed by the end of the due day */
	const char		*evidence;	/* the event that did it, or NULL */
};

struct alert_sink {
	/* Takes ownership of a->json. */
	void	(*emit)(void *arg, struct alert *a);
	void	*arg;
	/* Optional (NULL: not wanted); d is valid during the call only. */
	void	(*decide)(void *arg, const struct decision *d);
	/*
	 * Set: emit gets the record as text only (a->json is NULL) and copies
	 * what it keeps. A collector that writes the lines out needs no tree,
	 * and the tree of an alert cost more than all the rest of it.
	 */
	int	 text;
};

/* Stable alert id: "a-" + 24 hex digits of SHA-256 over the identifying fields. */
void alert_make_id(char out[27], const char *tenant, const char *rule,
    const char *key, const char *status, instant_t t, const char *id_part);
/*
 * Makes a->json from a->text and points the strings into it, for a record
 * made as text that is kept as a tree. 0, or -1 if the text does not parse.
 */
int alert_tree(struct alert *a);
/* Frees what alert_make_id keeps for the calling thread; call as a thread ends. */
void alert_thread_done(void);
/* Orders by time, obligation, tenant, key, status, then emission order (qsort). */
int alert_cmp(const void *a, const void *b);

#endif
