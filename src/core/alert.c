/*
 * alert.c - alert ids and the output order of DESIGN.md.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "complyd/alert.h"

/*
 * SHA-256 with the digest fetched once and one context kept per thread:
 * OpenSSL 3's SHA256() looks the algorithm up on every call and EVP_Digest
 * makes and frees a context, each costing more than the hashing of an id.
 * A replay raises alerts on several threads (replay_shard.c): the fetch is
 * done once for all, and a thread frees its context when it ends.
 */
static EVP_MD			*md_sha256;
static pthread_once_t		 md_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX	*tl_ctx;

static void
fetch_sha256(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void
sha256(const void *p, size_t n, unsigned char md[SHA256_DIGEST_LENGTH])
{
	pthread_once(&md_once, fetch_sha256);
	if (tl_ctx == NULL)
		tl_ctx = EVP_MD_CTX_new();
	if (md_sha256 == NULL || tl_ctx == NULL ||
	    !EVP_DigestInit_ex2(tl_ctx, md_sha256, NULL) ||
	    !EVP_DigestUpdate(tl_ctx, p, n) || !EVP_DigestFinal_ex(tl_ctx, md, NULL))
		SHA256(p, n, md);
}

void
alert_thread_done(void)
{
	EVP_MD_CTX_free(tl_ctx);
	tl_ctx = NULL;
}

/* v as "%" PRId64 prints it (NUL-terminated), without printf. */
static void
fmt_int64(char *out, int64_t v)
{
	char		 buf[24], *q = buf + sizeof(buf);
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	size_t		 n;

	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--q = '-';
	n = (size_t)(buf + sizeof(buf) - q);
	memcpy(out, q, n);
	out[n] = '\0';
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

	fmt_int64(ts, t / 1000);
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
alert_tree(struct alert *a)
{
	static const char *const names[] = { "tenant", "key", "status", "id" };
	const char	**strs[4] = { &a->tenant, &a->key, &a->status, &a->id };
	const cJSON	*v;
	cJSON		*j;
	int		 i;

	if ((j = cJSON_ParseWithLength(a->text, a->len)) == NULL)
		return -1;
	for (i = 0; i < 4; i++) {
		v = cJSON_GetObjectItemCaseSensitive(j, names[i]);
		if (!cJSON_IsString(v)) {
			cJSON_Delete(j);
			return -1;
		}
		*strs[i] = v->valuestring;
	}
	a->json = j;
	return 0;
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
