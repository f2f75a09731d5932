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
	uint64_t	 type_hash;	/* hmap_hash(type): the engine's maps are by type */
	instant_t	 time;
	uint64_t	 seq;		/* input order, for stable sorting */
	int		 in_arena;	/* json is an arena's (event_decode_in), not owned */
};

/*
 * Decodes one JSON object of len bytes into ev. Returns 0, or -1 with a
 * one-line reason in err ("missing \"tenant\"", "time: not RFC 3339 with offset").
 */
int event_decode(const char *text, size_t len, struct soc_event *ev, char *err,
    size_t errlen);
/* Validates an already parsed object (takes ownership of json on success and failure). */
int event_from_json(cJSON *json, struct soc_event *ev, char *err, size_t errlen);
/* Frees ev's json unless an arena holds it; clears ev. */
void event_dispose(struct soc_event *ev);

/*
 * An arena for events decoded in bulk whose trees all die at once (a replay's
 * reader, a batch at a time): the parser builds them in it, no copy, and
 * event_arena_reset releases them together. Until then nothing may keep
 * pointers into them past its use of the event. An arena is used by one
 * thread at a time. Making the first one routes cJSON's allocations in the
 * whole process through hooks (malloc and free but for arena parses): make
 * it before other threads use cJSON.
 */
struct event_arena;
struct event_arena *event_arena_new(void);
void event_arena_reset(struct event_arena *a);
void event_arena_free(struct event_arena *a);
/* event_decode with ev's tree built in a; on failure a keeps nothing of it. */
int event_decode_in(struct event_arena *a, const char *text, size_t len,
    struct soc_event *ev, char *err, size_t errlen);

/*
 * The fingerprint a repeated (tenant, id) is known by: the set of seen ids
 * in the engine's state and a replay's drop of duplicates use the same one.
 */
uint64_t event_id_hash(const char *tenant, const char *id);
/*
 * Finds the first top-level member `name` of a JSON object line, without
 * building a tree; if its value is a string, *val and *vlen span its bytes
 * between the quotes as written (escapes not undone). 0, or -1 if there is
 * none or it is not a string. Where the line decodes and the bytes hold no
 * backslash, they are the decoded value.
 */
int event_peek_string(const char *text, size_t len, const char *name,
    const char **val, size_t *vlen);
/* Times longer than this are not peeked (no valid RFC 3339 time is). */
#define EVENT_PEEK_TIME_MAX	64
/*
 * The top-level "time" of a JSON line by event_peek_string (for checking that
 * input is in time order before streaming it). 0 or -1.
 */
int event_peek_time(const char *text, size_t len, instant_t *out);

#endif
