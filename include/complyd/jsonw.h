/*
 * jsonw.h - JSON text of a cJSON tree, byte for byte as cJSON_PrintUnformatted
 * writes it, appended to an sbuf without a malloc per value: alerts are
 * printed once each, and at a hundred thousand a replay that adds up.
 */
#ifndef COMPLYD_JSONW_H
#define COMPLYD_JSONW_H

#include <string.h>

#include <cjson/cJSON.h>

#include "complyd/util.h"

/* Appends v's text (as cJSON_PrintUnformatted prints it) to b; b->s stays NUL-terminated. */
void jsonw_value(struct sbuf *b, const cJSON *v);
/*
 * The pieces of it, for writers of JSON text without a tree (the engine's
 * alerts): the string s ("" for NULL, as cJSON prints a string without a
 * value), the number d, and n bytes of text as they are (punctuation, keys
 * that need no escape).
 */
void jsonw_string(struct sbuf *b, const char *s);
void jsonw_number(struct sbuf *b, double d);

/*
 * Inline: sbuf_add is a call into util.c per piece, and an alert is dozens
 * of pieces, most of them a few constant bytes; the common case (room
 * enough) is a copy the compiler can unroll.
 */
static inline void
jsonw_raw(struct sbuf *b, const char *s, size_t n)
{
	if (b->s == NULL || b->len + n + 1 > b->cap) {
		sbuf_add(b, s, n);
		return;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

#endif
