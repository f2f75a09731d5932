/*
 * event.h - one operational event: the JSON object, its validated envelope
 * (id, time, tenant, type) and where it came from. Decoding is shared by
 * replay, file tail, HTTP and syslog inputs.
 */
#ifndef COMPLYD_EVENT_H
#define COMPLYD_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "complyd/when.h"

/* Longest event line we accept; longer lines are rejected, not truncated. */
#define EVENT_MAX_LINE	(1024 * 1024)

struct soc_event {
	cJSON		*json;		/* owned, one block (jpack_copy): read-only */
	const char	*id;		/* borrowed from json */
	const char	*tenant;
	const char	*type;
	instant_t	 time;
	uint64_t	 seq;		/* input order, for stable sorting */
};

/*
 * Decodes one JSON object of len bytes into ev. Returns 0, or -1 with a
 * one-line reason in err ("missing \"tenant\"", "time: not RFC 3339 with offset").
 */
int event_decode(const char *text, size_t len, struct soc_event *ev, char *err,
    size_t errlen);
/* Validates an already parsed object (takes ownership of json on success and failure). */
int event_from_json(cJSON *json, struct soc_event *ev, char *err, size_t errlen);
void event_dispose(struct soc_event *ev);

/*
 * Finds the top-level "time" string of a JSON line without building a tree
 * (for checking that input is in time order before streaming it). 0 or -1.
 */
int event_peek_time(const char *text, size_t len, instant_t *out);

#endif
