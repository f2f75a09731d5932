/*
 * alert.c - alert ids and the output order of DESIGN.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "complyd/alert.h"

void
alert_make_id(char out[27], const char *tenant, const char *rule,
    const char *key, const char *status, instant_t t, const char *event_id)
{
	const char	*parts[6];
	char		 ts[32];
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	EVP_MD_CTX	*c;
	int		 i;

	snprintf(ts, sizeof(ts), "%" PRId64, t / 1000);
	parts[0] = tenant; parts[1] = rule; parts[2] = key;
	parts[3] = status; parts[4] = ts; parts[5] = event_id;
	/* NUL-separated so that ("ab","c") and ("a","bc") hash differently. */
	c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (i = 0; i < 6; i++)
		if (parts[i])
			EVP_DigestUpdate(c, parts[i], strlen(parts[i]) + 1);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	out[0] = 'a';
	out[1] = '-';
	for (i = 0; i < 12; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", md[i]);
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
