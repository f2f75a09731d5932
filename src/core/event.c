/*
 * event.c - decoding and validating the event envelope (DESIGN.md "Events").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complyd/event.h"
#include "complyd/jpack.h"
#include "complyd/util.h"

/* Envelope fields that must be non-empty strings. */
static const char *const required[] = { "id", "tenant", "type", "time" };

static const char *
req_string(const cJSON *o, const char *name, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (v == NULL) {
		snprintf(err, errlen, "missing \"%s\"", name);
		return NULL;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		snprintf(err, errlen, "\"%s\" must be a non-empty string", name);
		return NULL;
	}
	return v->valuestring;
}

/*
 * A key given twice is ambiguous (we would read the first, other tools the
 * last: a second "tenant" could cross a tenant wall, a second record "id"
 * name another record): refuse it, at any depth. Large objects are checked
 * through a hash map, so a line of 100,000 keys costs no more than its size.
 */
static int
duplicate_in(const cJSON *o, char *err, size_t errlen)
{
	const cJSON	*a, *b;
	struct hmap	 seen;
	int		 n = 0, dup = 0;

	for (a = o->child; a != NULL; a = a->next)
		n++;
	if (n <= 16) {
		for (a = o->child; a != NULL; a = a->next)
			for (b = a->next; b != NULL && !dup; b = b->next)
				if (a->string && b->string && a->string[0] == b->string[0] &&
				    strcmp(a->string, b->string) == 0) {
					snprintf(err, errlen, "key \"%.40s\" is given twice",
					    a->string);
					return 1;
				}
		return 0;
	}
	hmap_init(&seen);
	for (a = o->child; a != NULL && !dup; a = a->next)
		if (a->string && hmap_put(&seen, a->string, &seen) != NULL) {
			snprintf(err, errlen, "key \"%.40s\" is given twice", a->string);
			dup = 1;
		}
	hmap_free(&seen, NULL);
	return dup;
}

static int
duplicate_key(const cJSON *o, char *err, size_t errlen)
{
	const cJSON	*c;

	if (cJSON_IsObject(o) && duplicate_in(o, err, errlen))
		return 1;
	if (cJSON_IsObject(o) || cJSON_IsArray(o))
		for (c = o->child; c != NULL; c = c->next)
			if (duplicate_key(c, err, errlen))
				return 1;
	return 0;
}

/* A *.upserted event carries a whole record of its own tenant. */
static int
check_upsert(const cJSON *json, const char *tenant, const char *type, char *err,
    size_t errlen)
{
	const char	*dot = strrchr(type, '.');
	const cJSON	*rec, *t, *id;

	if (dot == NULL || strcmp(dot, ".upserted") != 0)
		return 0;
	rec = cJSON_GetObjectItemCaseSensitive(json, "record");
	if (!cJSON_IsObject(rec)) {
		snprintf(err, errlen, "\"record\" must be an object");
		return -1;
	}
	id = cJSON_GetObjectItemCaseSensitive(rec, "id");
	t = cJSON_GetObjectItemCaseSensitive(rec, "tenant");
	if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
		snprintf(err, errlen, "\"record.id\" must be a non-empty string");
		return -1;
	}
	if (!cJSON_IsString(t) || strcmp(t->valuestring, tenant) != 0) {
		snprintf(err, errlen, "\"record.tenant\" must equal the event's tenant "
		    "\"%s\"", tenant);
		return -1;
	}
	return 0;
}

/* Checks the envelope of object o and fills ev's fields from it; 0 or -1. */
static int
check_envelope(const cJSON *o, struct soc_event *ev, char *err, size_t errlen)
{
	const char	*vals[4];
	size_t		 i;

	if (duplicate_key(o, err, errlen))
		return -1;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if ((vals[i] = req_string(o, required[i], err, errlen)) == NULL)
			return -1;
	if (strchr(vals[2], '.') == NULL) {
		snprintf(err, errlen, "\"type\" must be dotted domain.action, got \"%s\"",
		    vals[2]);
		return -1;
	}
	if (when_parse_instant(vals[3], &ev->time) == -1) {
		snprintf(err, errlen, "\"time\" is not RFC 3339 with an offset: \"%.64s\"",
		    vals[3]);
		return -1;
	}
	if (check_upsert(o, vals[1], vals[2], err, errlen) == -1)
		return -1;
	ev->id = vals[0];
	ev->tenant = vals[1];
	ev->type = vals[2];
	return 0;
}

int
event_from_json(cJSON *json, struct soc_event *ev, char *err, size_t errlen)
{
	cJSON	*copy;

	memset(ev, 0, sizeof(*ev));
	if (!cJSON_IsObject(json)) {
		snprintf(err, errlen, "an event must be a JSON object");
		cJSON_Delete(json);
		return -1;
	}
	/*
	 * One block, so the engine reads it without chasing scattered nodes;
	 * the parser's tree is freed at once, while it is still in cache, and
	 * the envelope is checked (and pointed into) on the copy.
	 */
	copy = jpack_copy(json);
	cJSON_Delete(json);
	if (check_envelope(copy, ev, err, errlen) == -1) {
		free(copy);
		memset(ev, 0, sizeof(*ev));
		return -1;
	}
	ev->json = copy;
	return 0;
}

int
event_decode(const char *text, size_t len, struct soc_event *ev, char *err,
    size_t errlen)
{
	const char	*end = NULL;
	cJSON		*json;
	size_t		 bad;

	memset(ev, 0, sizeof(*ev));
	if (len > EVENT_MAX_LINE) {
		snprintf(err, errlen, "line longer than %d bytes", EVENT_MAX_LINE);
		return -1;
	}
	/* A NUL would cut ids and tenants short (two ids, one key): refuse it. */
	if (memchr(text, '\0', len) != NULL || memmem(text, len, "\\u0000", 6) != NULL) {
		snprintf(err, errlen, "NUL characters are not allowed");
		return -1;
	}
	/* Alerts quote the event: bytes that are not UTF-8 would make them not JSON. */
	if (utf8_check(text, len, &bad) == -1) {
		snprintf(err, errlen, "invalid UTF-8 at byte %zu", bad + 1);
		return -1;
	}
	/* On failure `end` is where parsing stopped: cJSON's global error
	 * pointer would be shared with the other threads that parse. */
	json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (json == NULL) {
		snprintf(err, errlen, "invalid JSON at byte %ld",
		    end ? (long)(end - text) + 1 : 0L);
		return -1;
	}
	while (end && (size_t)(end - text) < len &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end && (size_t)(end - text) < len) {
		snprintf(err, errlen, "trailing data after the JSON object at byte %ld",
		    (long)(end - text) + 1);
		cJSON_Delete(json);
		return -1;
	}
	return event_from_json(json, ev, err, errlen);
}

void
event_dispose(struct soc_event *ev)
{
	free(ev->json);		/* a jpack_copy */
	memset(ev, 0, sizeof(*ev));
}

/* Skips a JSON string starting at p (on the opening quote); returns past its end. */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

int
event_peek_time(const char *text, size_t len, instant_t *out)
{
	const char	*p = text, *end = text + len, *k, *v;
	char		 buf[64];
	int		 depth = 0, expect_key = 0;

	for (; p && p < end; ) {
		switch (*p) {
		case '{':
			depth++;
			expect_key = depth == 1;
			p++;
			break;
		case '[':
			depth++;
			expect_key = 0;
			p++;
			break;
		case '}': case ']':
			depth--;
			p++;
			break;
		case ',':
			expect_key = depth == 1;
			p++;
			break;
		case '"':
			k = p;
			p = skip_string(p, end);
			if (p == NULL || !expect_key)
				break;
			expect_key = 0;
			if (p - k != 6 || memcmp(k, "\"time\"", 6) != 0)
				break;
			while (p < end && (*p == ' ' || *p == ':' || *p == '\t'))
				p++;
			if (p >= end || *p != '"')
				return -1;
			v = p + 1;
			if ((p = skip_string(p, end)) == NULL ||
			    (size_t)(p - v - 1) >= sizeof(buf))
				return -1;
			memcpy(buf, v, p - v - 1);
			buf[p - v - 1] = '\0';
			return when_parse_instant(buf, out);
		default:
			p++;
		}
	}
	return -1;
}
