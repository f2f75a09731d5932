/*
 * alert.c - alert ids and the output order of DESIGN.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "complyd/alert.h"

void
alert_make_id(char out[27], const char *tenant, const char *rule,
    const char *key, const char *status, instant_t t, const char *event_id)
{
	const char	*parts[6];
	char		 ts[32], buf[2048];
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	size_t		 len = 0, n;
	int		 i;

	snprintf(ts, sizeof(ts), "%" PRId64, t / 1000);
	parts[0] = tenant; parts[1] = rule; parts[2] = key;
	parts[3] = status; parts[4] = ts; parts[5] = event_id;
	/*
	 * NUL-separated so that ("ab","c") and ("a","bc") hash differently.
	 * Longer inputs than the buffer are hashed by their own SHA-256 first.
	 */
	for (i = 0; i < 6; i++) {
		if (parts[i] == NULL)
			continue;
		n = strlen(parts[i]) + 1;
		if (len + n > sizeof(buf)) {
			SHA256((const unsigned char *)buf, len, md);
			memcpy(buf, md, sizeof(md));
			len = sizeof(md);
			if (n > sizeof(buf) - len) {
				SHA256((const unsigned char *)parts[i], n, md);
				memcpy(buf + len, md, sizeof(md));
				len += sizeof(md);
				continue;
			}
		}
		memcpy(buf + len, parts[i], n);
		len += n;
	}
	SHA256((const unsigned char *)buf, len, md);
	out[0] = 'a';
	out[1] = '-';
	for (i = 0; i < 12; i++) {
		out[2 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
		out[3 + 2 * i] = "0123456789abcdef"[md[i] & 15];
	}
	out[26] = '\0';
}

int
alert_cmp(const void *pa, const void *pb)
{
	const struct alert *a = pa, *b = pb;
	int c;

	if (a->time / 1000 != b->time / 1000)
		return a->time / 1000 < b->time / 1000 ? -1 : 1;
	if ((c = strcmp(a->obligation, b->obligation)) != 0)
		return c;
	if ((c = strcmp(a->tenant, b->tenant)) != 0)
		return c;
	if ((c = strcmp(a->key, b->key)) != 0)
		return c;
	if ((c = strcmp(a->status, b->status)) != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}
