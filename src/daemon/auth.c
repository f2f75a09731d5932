/*
 * auth.c - API tokens (DESIGN.md: tokens file). Only the SHA-256 of each token
 * is stored; a request's bearer token is hashed and compared in constant time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "complyd/daemon.h"
#include "complyd/util.h"
#include "complyd/yamlx.h"

struct tokens {
	struct principal	*v;
	unsigned char		(*hash)[32];
	int			 n;
};

static const char *const role_names[] = {
	[ROLE_NONE] = "none", [ROLE_INGEST] = "ingest", [ROLE_MANAGER] = "manager",
	[ROLE_AUDITOR] = "auditor", [ROLE_OPERATOR] = "operator", [ROLE_ADMIN] = "admin",
};

const char *
role_name(enum role r)
{
	return role_names[r];
}

static int
role_parse(const char *s)
{
	int i;

	for (i = ROLE_INGEST; i <= ROLE_ADMIN; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

static int
unhex(const char *s, unsigned char out[32])
{
	int i;
	unsigned int b;

	if (s == NULL || strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return 0;
}

/*
 * The tenants a token may touch. A wall is never opened by omission: every
 * role but admin must list them (["*"] for all); admin may leave them out.
 */
static char **
tenant_list(struct ydoc *d, yaml_node_t *tok, yaml_node_t *n, int role)
{
	char	**v;
	int	  i, len = n && n->type == YAML_SEQUENCE_NODE ? ydoc_len(d, n) : 0;

	if (len == 0 && (n != NULL || role != ROLE_ADMIN)) {
		ydoc_error(d, n ? n : tok, "a token needs `tenants:`, a list of "
		    "tenant ids (or [\"*\"] for all)");
		return xcalloc(1, sizeof(char *));
	}
	if (len == 0) {
		v = xcalloc(2, sizeof(char *));
		v[0] = xstrdup("*");
		return v;
	}
	v = xcalloc(len + 1, sizeof(char *));
	for (i = 0; i < len; i++) {
		const char *s = ydoc_str(ydoc_item(d, n, i));

		if (s == NULL || *s == '\0')
			ydoc_error(d, ydoc_item(d, n, i), "a tenant id must be a "
			    "non-empty string");
		v[i] = xstrdup(s ? s : "");
	}
	return v;
}

static void
add_token(struct tokens *t, struct ydoc *d, yaml_node_t *it)
{
	static const char *const keys[] = { "name", "sha256", "role", "tenants", NULL };
	const char	*name = ydoc_str(ydoc_get(d, it, "name"));
	const char	*role = ydoc_str(ydoc_get(d, it, "role"));
	unsigned char	 h[32];
	int		 r;

	ydoc_check_keys(d, it, keys, "a token");
	if (name == NULL || unhex(ydoc_str(ydoc_get(d, it, "sha256")), h) == -1) {
		ydoc_error(d, it, "a token needs name and sha256 (64 hex digits)");
		return;
	}
	if (role == NULL || (r = role_parse(role)) < 0) {
		ydoc_error(d, it, "role must be ingest, manager, auditor, operator or admin");
		return;
	}
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->hash = xrealloc(t->hash, (t->n + 1) * sizeof(*t->hash));
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	snprintf(t->v[t->n].name, sizeof(t->v[t->n].name), "%s", name);
	t->v[t->n].role = r;
	t->v[t->n].tenants = tenant_list(d, it, ydoc_get(d, it, "tenants"), r);
	memcpy(t->hash[t->n], h, 32);
	t->n++;
}

struct tokens *
tokens_load(const char *path, int *nerrors)
{
	struct tokens	*t = xcalloc(1, sizeof(*t));
	struct ydoc	 d;
	yaml_node_t	*list;
	int		 i;

	if (path == NULL)
		return t;
	if (ydoc_load(&d, path) == 0) {
		list = ydoc_get(&d, ydoc_root(&d), "tokens");
		if (list == NULL || list->type != YAML_SEQUENCE_NODE)
			ydoc_error(&d, ydoc_root(&d), "a tokens file holds `tokens:` (a list)");
		for (i = 0; i < ydoc_len(&d, list); i++)
			add_token(t, &d, ydoc_item(&d, list, i));
	}
	*nerrors += d.nerrors;
	ydoc_free(&d);
	return t;
}

void
tokens_free(struct tokens *t)
{
	int i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		for (j = 0; t->v[i].tenants[j]; j++)
			free(t->v[i].tenants[j]);
		free(t->v[i].tenants);
	}
	free(t->v);
	free(t->hash);
	free(t);
}

const struct principal *
tokens_find(const struct tokens *t, const char *token)
{
	unsigned char	 h[EVP_MAX_MD_SIZE];
	unsigned int	 hl;
	int		 i;

	if (t == NULL || token == NULL || *token == '\0')
		return NULL;
	EVP_Digest(token, strlen(token), h, &hl, EVP_sha256(), NULL);
	for (i = 0; i < t->n; i++)
		if (CRYPTO_memcmp(h, t->hash[i], 32) == 0)
			return &t->v[i];
	return NULL;
}

int
principal_may_see(const struct principal *p, const char *tenant)
{
	int i;

	for (i = 0; p->tenants && p->tenants[i]; i++)
		if (strcmp(p->tenants[i], "*") == 0 || strcmp(p->tenants[i], tenant) == 0)
			return 1;
	return 0;
}
