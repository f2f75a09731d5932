/*
 * alert.c - alert ids and the output order of DESIGN.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "complyd/alert.h"

/*
 * SHA-256 with the digest fetched once: OpenSSL 3's SHA256() looks the
 * algorithm up on every call, which cost more than the hashing of an id.
 */
static void
sha256(const void *p, size_t n, unsigned char md[SHA256_DIGEST_LENGTH])
{
	static EVP_MD	*md_sha256;

	if (md_sha256 == NULL)
		md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (md_sha256 == NULL || !EVP_Digest(p, n, md, NULL, md_sha256, NULL))
		SHA256(p, n, md);
}

void
alert_make_id(char out[27], const char *tenant, const char *rule,
    const char *key, const char *status, instant_t t, const char *id_part)
{
	const char	*parts[6];
	char		 ts[32], buf[2048];
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	size_t		 len = 0, n;
	int		 i;

	snprintf(ts, sizeof(ts), "%" PRId64, t / 1000);
	parts[0] = tenant; parts[1] = rule; parts[2] = key;
	parts[3] = status; parts[4] = ts; parts[5] = id_part;
	/*
	 * NUL-separated so that ("ab","c") and ("a","bc") hash differently.
	 * Longer inputs than the buffer are hashed by their own SHA-256 first.
	 */
	for (i = 0; i < 6; i++) {
		if (parts[i] == NULL)
			continue;
		n = strlen(parts[i]) + 1;
		if (len + n > sizeof(buf)) {
			sha256(buf, len, md);
			memcpy(buf, md, sizeof(md));
			len = sizeof(md);
			if (n > sizeof(buf) - len) {
				sha256(parts[i], n, md);
				memcpy(buf + len, md, sizeof(md));
				len += sizeof(md);
				continue;
			}
		}
		memcpy(buf + len, parts[i], n);
		len += n;
	}
	sha256(buf, len, md);
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
