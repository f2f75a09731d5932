/*
 * jsonw.c - cJSON trees as JSON text (see jsonw.h).
 *
 * Why not cJSON_PrintUnformatted: it scans every string twice, grows its
 * buffer through a function call per value and returns a fresh malloc. An
 * alert is ~25 values; replays print a hundred thousand of them. This writer
 * appends to a reused sbuf and copies unescaped runs of a string at once.
 * The text is the same byte for byte (test_jsonw compares the two), so
 * alerts read the same whichever path printed them: numbers take cJSON's
 * "%1.15g", or "%1.17g" when 15 digits do not read back; control characters
 * its \u00xx form. test_jsonw compares the two against the cJSON we link.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "complyd/jsonw.h"

static void
put_number(struct sbuf *b, const cJSON *v)
{
	char	 buf[32];
	double	 d = v->valuedouble, test = 0;
	int	 n;

	if (isnan(d) || isinf(d))
		n = snprintf(buf, sizeof(buf), "null");
	else {
		/* 15 digits unless they do not read back as d (cJSON's test). */
		n = snprintf(buf, sizeof(buf), "%1.15g", d);
		if (sscanf(buf, "%lg", &test) != 1 ||
		    !(fabs(test - d) <= fmax(fabs(test), fabs(d)) * DBL_EPSILON))
			n = snprintf(buf, sizeof(buf), "%1.17g", d);
	}
	sbuf_add(b, buf, (size_t)n);
}

static void
put_string(struct sbuf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s, *run;
	char			 esc[8];

	sbuf_add(b, "\"", 1);
	if (s == NULL) {
		sbuf_add(b, "\"", 1);
		return;
	}
	for (run = p; *p; p++) {
		if (*p >= 32 && *p != '"' && *p != '\\')
			continue;
		sbuf_add(b, (const char *)run, (size_t)(p - run));
		run = p + 1;
		switch (*p) {
		case '"':	sbuf_add(b, "\\\"", 2); break;
		case '\\':	sbuf_add(b, "\\\\", 2); break;
		case '\b':	sbuf_add(b, "\\b", 2); break;
		case '\f':	sbuf_add(b, "\\f", 2); break;
		case '\n':	sbuf_add(b, "\\n", 2); break;
		case '\r':	sbuf_add(b, "\\r", 2); break;
		case '\t':	sbuf_add(b, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			sbuf_add(b, esc, 6);
		}
	}
	sbuf_add(b, (const char *)run, (size_t)(p - run));
	sbuf_add(b, "\"", 1);
}

void
jsonw_value(struct sbuf *b, const cJSON *v)
{
	const cJSON	*it;
	int		 object;

	switch (v->type & 0xff) {
	case cJSON_False:	sbuf_add(b, "false", 5); return;
	case cJSON_True:	sbuf_add(b, "true", 4); return;
	case cJSON_Number:	put_number(b, v); return;
	case cJSON_String:	put_string(b, v->valuestring); return;
	case cJSON_Raw:
		if (v->valuestring) {
			sbuf_puts(b, v->valuestring);
			return;
		}
		break;
	case cJSON_Array: case cJSON_Object:
		object = (v->type & 0xff) == cJSON_Object;
		sbuf_add(b, object ? "{" : "[", 1);
		for (it = v->child; it != NULL; it = it->next) {
			if (object) {
				put_string(b, it->string);
				sbuf_add(b, ":", 1);
			}
			jsonw_value(b, it);
			if (it->next)
				sbuf_add(b, ",", 1);
		}
		sbuf_add(b, object ? "}" : "]", 1);
		return;
	}
	sbuf_add(b, "null", 4);	/* null, and what cJSON would refuse to print */
}
