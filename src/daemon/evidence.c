/*
 * evidence.c - the hash-chained evidence log (evidence.h). The rows live in
 * the store's `evidence` table; this file makes their bodies, hashes and
 * chain, checks them, and reads and writes bundles.
 *
 * A body is canonical JSON: object keys sorted bytewise at every depth, no
 * whitespace, printed as cJSON prints (jsonw.c). A bundle carries it as a
 * JSON string, so a verifier hashes exactly the bytes that were hashed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <cjson/cJSON.h>

#include "complyd/evidence.h"
#include "complyd/jsonw.h"
#include "complyd/log.h"
#include "complyd/when.h"

#define BUNDLE_FORMAT	1
#define BUNDLE_LINE_MAX	(4 << 20)	/* bytes of one bundle line at most */

static void
sha256(const void *p, size_t n, unsigned char md[32])
{
	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
}

static void
to_hex(const unsigned char md[32], char out[EVIDENCE_HEX])
{
	int	 i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* 64 lowercase hex digits into 32 bytes: 0, or -1 if s is not that. */
static int
from_hex(const char *s, unsigned char md[32])
{
	static const char digits[] = "0123456789abcdef";
	const char	*hi, *lo;
	int		 i;

	if (s == NULL || strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if ((hi = strchr(digits, s[2 * i])) == NULL || *hi == '\0' ||
		    (lo = strchr(digits, s[2 * i + 1])) == NULL || *lo == '\0')
			return -1;
		md[i] = (unsigned char)((hi - digits) << 4 | (lo - digits));
	}
	return 0;
}

/* SHA-256(prev || entry): the chain after an entry. */
static void
chain_next(const unsigned char prev[32], const unsigned char entry[32],
    unsigned char out[32])
{
	unsigned char	 both[64];

	memcpy(both, prev, 32);
	memcpy(both + 32, entry, 32);
	sha256(both, sizeof(both), out);
}

static int
key_cmp(const void *a, const void *b)
{
	const cJSON	*x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* Sorts the keys of every object in v, at every depth (canonical form). */
static void
canonical(cJSON *v)
{
	cJSON	**items, *it;
	size_t	 n = 0, i;

	for (it = v->child; it != NULL; it = it->next) {
		canonical(it);
		n++;
	}
	if (!cJSON_IsObject(v) || n < 2)
		return;
	items = xcalloc(n, sizeof(*items));
	for (i = 0, it = v->child; it != NULL; it = it->next)
		items[i++] = it;
	qsort(items, n, sizeof(*items), key_cmp);
	/* cJSON's list: next links forward, the head's prev is the tail. */
	for (i = 0; i < n; i++) {
		items[i]->next = i + 1 < n ? items[i + 1] : NULL;
		items[i]->prev = i > 0 ? items[i - 1] : items[n - 1];
	}
	v->child = items[0];
	free(items);
}

static void
add_str_or_null(cJSON *o, const char *name, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/*
 * Appends an entry of kind for tenant (NULL: global) with body's fields
 * (consumed), recorded at at_ms. nkey, when set, names the decision: one
 * already in is not appended again. 1 appended, 0 already in, -1.
 */
static int
append(struct store *st, const char *tenant, const char *kind, cJSON *body,
    const char *nkey, int64_t at_ms)
{
	struct evidence_row	 r;
	struct sbuf		 text;
	unsigned char		 prev[32], entry[32], chain[32];
	char			 prevhex[EVIDENCE_HEX], ehex[EVIDENCE_HEX];
	char			 chex[EVIDENCE_HEX], ts[32];
	int			 rc;

	if (nkey != NULL && (rc = store_evidence_has(st, nkey)) != 0) {
		cJSON_Delete(body);
		return rc == 1 ? 0 : -1;
	}
	if (store_evidence_head(st, &r.seq, prevhex, sizeof(prevhex)) == -1) {
		cJSON_Delete(body);
		return -1;
	}
	if (r.seq == 0)
		memset(prev, 0, sizeof(prev));
	else if (from_hex(prevhex, prev) == -1) {
		/* Nothing is chained onto a head that is not even a hash. */
		log_warnx("evidence: entry %lld: its chain is not a SHA-256; "
		    "run GET /v1/evidence/verify", (long long)r.seq);
		cJSON_Delete(body);
		return -1;
	}
	r.seq++;
	cJSON_AddStringToObject(body, "kind", kind);
	cJSON_AddNumberToObject(body, "seq", (double)r.seq);
	add_str_or_null(body, "tenant", tenant);
	cJSON_AddStringToObject(body, "recorded_at", when_fmt_instant(at_ms, ts));
	canonical(body);
	sbuf_init(&text);
	jsonw_value(&text, body);
	cJSON_Delete(body);
	sha256(text.s, text.len, entry);
	chain_next(prev, entry, chain);
	to_hex(entry, ehex);
	to_hex(chain, chex);
	r.recorded_ms = at_ms;
	r.tenant = tenant;
	r.kind = kind;
	r.body = text.s;
	r.entry_hash = ehex;
	r.chain = chex;
	rc = store_evidence_put(st, &r, nkey);
	sbuf_free(&text);
	return rc == 0 ? 1 : -1;
}

/* --- the decisions --- */

static void
copy_field(cJSON *to, const cJSON *from, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(from, name);

	cJSON_AddItemToObject(to, name, v ? cJSON_Duplicate(v, 1) :
	    cJSON_CreateNull());
}

static int
raised_entry(struct store *st, const struct alert *a, int64_t at_ms)
{
	static const char *const fields[] = { "rule", "obligation", "law",
		"law_version", "article", "status", "state", "key", "time",
		"evidence", NULL };
	cJSON		*body = cJSON_CreateObject();
	struct sbuf	 nkey;
	int		 i, rc;

	cJSON_AddStringToObject(body, "alert", a->id);
	for (i = 0; fields[i]; i++)
		copy_field(body, a->json, fields[i]);
	sbuf_init(&nkey);
	sbuf_printf(&nkey, "alert.raised\x1f%s", a->id);
	rc = append(st, a->tenant, "alert.raised", body, nkey.s, at_ms);
	sbuf_free(&nkey);
	return rc;
}

int
evidence_put_alert(struct store *st, const struct alert *a, int noutputs,
    int64_t at_ms)
{
	int	 own, rv;

	if (store_op_begin(st, &own) == -1)
		return -1;
	rv = store_put_alert(st, a, noutputs);
	if (rv == 1 && raised_entry(st, a, at_ms) == -1)
		rv = -1;
	return store_op_end(st, own, rv);
}

static int
state_entry(struct store *st, const char *id, const char *tenant,
    const char *state, const char *previous, const char *actor,
    const char *note, int64_t at_ms)
{
	cJSON	*body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "alert", id);
	cJSON_AddStringToObject(body, "state", state);
	add_str_or_null(body, "previous", previous);
	add_str_or_null(body, "actor", actor);
	add_str_or_null(body, "note", note);
	return append(st, tenant, "alert.state", body, NULL, at_ms) == 1 ? 0 : -1;
}

int
evidence_alert_transition(struct store *st, const char *id, const char *state,
    const char *actor, const char *note, int64_t at_ms)
{
	char	*tenant = NULL, was[32];
	int	 own, rc;

	if (store_op_begin(st, &own) == -1)
		return -1;
	rc = store_alert_state(st, id, &tenant, was, sizeof(was));
	if (rc == 1) {
		rc = store_alert_transition(st, id, state, actor, note, at_ms);
		if (rc == 0 && state_entry(st, id, tenant, state, was, actor, note,
		    at_ms) == -1)
			rc = -1;
	} else if (rc == 0)
		rc = 1;		/* no such alert */
	free(tenant);
	return store_op_end(st, own, rc);
}

int
evidence_alert_refresh(struct store *st, const struct alert *a,
    const char *note, int64_t at_ms, int noutputs)
{
	char	*tenant = NULL, was[32], now[32];
	int	 own, rc;

	if (store_op_begin(st, &own) == -1)
		return -1;
	if ((rc = store_alert_state(st, a->id, &tenant, was, sizeof(was))) == 1) {
		free(tenant);
		tenant = NULL;
		rc = store_alert_refresh(st, a, note, at_ms, noutputs);
		if (rc == 1 && (store_alert_state(st, a->id, &tenant, now,
		    sizeof(now)) != 1 || state_entry(st, a->id, tenant, now, was,
		    "complyd", note, at_ms) == -1))
			rc = -1;
	}
	free(tenant);
	return store_op_end(st, own, rc);
}

int
evidence_ruleset_loaded(struct store *st, const char *hash, int nrules,
    int64_t at_ms)
{
	cJSON	*body;
	int	 own, rc;

	if (store_op_begin(st, &own) == -1)
		return -1;
	rc = store_ruleset_loaded(st, hash, nrules, at_ms);
	if (rc == 0) {
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "rules_sha256", hash);
		cJSON_AddNumberToObject(body, "rules", nrules);
		if (append(st, NULL, "ruleset.loaded", body, NULL, at_ms) != 1)
			rc = -1;
	}
	return store_op_end(st, own, rc);
}

int
evidence_decision(struct store *st, const struct decision *d, int64_t at_ms)
{
	const char	*kind;
	cJSON		*body = cJSON_CreateObject(), *ev;
	struct sbuf	 nkey;
	char		 ts[32];
	int		 rc;

	if (d->kind == DECISION_OPENED)
		kind = "deadline.opened";
	else
		kind = d->in_time ? "deadline.met" : "deadline.closed_late";
	cJSON_AddStringToObject(body, "rule", d->rule);
	cJSON_AddStringToObject(body, "obligation", d->obligation);
	add_str_or_null(body, "law_version", d->law_version);
	cJSON_AddStringToObject(body, "key", d->key);
	if (d->scope != NULL)
		cJSON_AddStringToObject(body, "scope", d->scope);
	cJSON_AddStringToObject(body, d->kind == DECISION_OPENED ? "opened" :
	    "closed", when_fmt_instant(d->at, ts));
	if (d->due != DATE_NONE)
		cJSON_AddStringToObject(body, "due", when_fmt_date(d->due, ts));
	else
		cJSON_AddNullToObject(body, "due");
	ev = cJSON_AddArrayToObject(body, "evidence");
	if (d->evidence != NULL)
		cJSON_AddItemToArray(ev, cJSON_CreateString(d->evidence));
	/*
	 * The same decision, made again by a replay, has the same key; one that
	 * differs in its due day or law version (a reload with new rules, an
	 * upsert that moved the due) is a new decision. Strings go in with
	 * their lengths, so no byte inside one can make two keys alike.
	 */
	sbuf_init(&nkey);
	sbuf_printf(&nkey, "%s %zu:%s %zu:%s %zu:%s %zu:%s %lld %lld %s", kind,
	    strlen(d->tenant), d->tenant, strlen(d->rule), d->rule,
	    strlen(d->key), d->key, d->scope ? strlen(d->scope) : 0,
	    d->scope ? d->scope : "", (long long)d->at, (long long)d->due,
	    d->law_version ? d->law_version : "-");
	rc = append(st, d->tenant, kind, body, nkey.s, at_ms);
	sbuf_free(&nkey);
	return rc;
}

/* --- verification --- */

void
evidence_check_init(struct evidence_check *c)
{
	memset(c, 0, sizeof(*c));
	c->v.ok = 1;
}

static int
broken(struct evidence_check *c, int64_t seq, const char *why)
{
	c->v.ok = 0;
	c->v.first_bad_seq = seq;
	snprintf(c->v.reason, sizeof(c->v.reason), "%s", why);
	return -1;
}

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Whether the body names the entry it is stored as (seq, kind, tenant, time). */
static int
body_matches(const struct evidence_row *r)
{
	cJSON		*o = cJSON_Parse(r->body);
	const cJSON	*seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
	const cJSON	*tenant = cJSON_GetObjectItemCaseSensitive(o, "tenant");
	const char	*kind, *at;
	char		 ts[32];
	int		 ok;

	kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kind"));
	at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "recorded_at"));
	ok = cJSON_IsNumber(seq) && seq->valuedouble == (double)r->seq &&
	    str_eq(kind, r->kind) && str_eq(at, when_fmt_instant(r->recorded_ms, ts)) &&
	    (cJSON_IsNull(tenant) ? r->tenant == NULL :
	    str_eq(cJSON_GetStringValue(tenant), r->tenant) && r->tenant != NULL);
	cJSON_Delete(o);
	return ok;
}

int
evidence_check_next(struct evidence_check *c, const struct evidence_row *r)
{
	unsigned char	 entry[32], given[32], chain[32], stored[32];
	char		 why[128];

	if (!c->v.ok)
		return -1;
	if (r->seq != c->v.entries + 1) {
		snprintf(why, sizeof(why), "expected entry %lld here, found %lld "
		    "(an entry is missing or out of place)",
		    (long long)(c->v.entries + 1), (long long)r->seq);
		return broken(c, c->v.entries + 1, why);
	}
	if (from_hex(r->entry_hash, given) == -1)
		return broken(c, r->seq, "entry_hash is not a SHA-256 in hex");
	if (r->body != NULL) {
		sha256(r->body, strlen(r->body), entry);
		if (memcmp(entry, given, 32) != 0)
			return broken(c, r->seq, "the body does not hash to its "
			    "entry_hash (the body was changed)");
		if (!body_matches(r))
			return broken(c, r->seq, "the body's seq, kind, tenant or "
			    "recorded_at differ from the entry's");
	}
	chain_next(c->prev, given, chain);
	if (from_hex(r->chain, stored) == -1 || memcmp(chain, stored, 32) != 0)
		return broken(c, r->seq, "the chain does not follow from the previous "
		    "entry and this entry_hash (an entry was changed, removed or moved)");
	memcpy(c->prev, chain, 32);
	to_hex(chain, c->v.head);
	c->v.entries++;
	return 0;
}

static int
check_row(void *arg, const struct evidence_row *r)
{
	return evidence_check_next(arg, r) == -1 ? 1 : 0;
}

int
evidence_verify(struct store *st, struct evidence_verdict *v)
{
	struct evidence_check	 c;

	evidence_check_init(&c);
	if (store_evidence_each(st, 0, check_row, &c) == -1)
		return -1;
	*v = c.v;
	return 0;
}

/* --- bundles --- */

void
evidence_bundle_header(struct sbuf *b, int64_t entries, const char *head,
    char *const *tenants, int64_t at_ms)
{
	cJSON	*o = cJSON_CreateObject(), *t;
	char	 ts[32];
	int	 i;

	cJSON_AddNumberToObject(o, "complyd_evidence_bundle", BUNDLE_FORMAT);
	cJSON_AddStringToObject(o, "entry_hash", "sha256(body bytes)");
	cJSON_AddStringToObject(o, "chain", "sha256(previous chain || entry_hash), "
	    "over the 32-byte digests; 32 zero bytes before the first entry");
	cJSON_AddNumberToObject(o, "entries", (double)entries);
	cJSON_AddStringToObject(o, "head", head);
	if (tenants == NULL)
		cJSON_AddNullToObject(o, "tenants");
	else {
		t = cJSON_AddArrayToObject(o, "tenants");
		for (i = 0; tenants[i]; i++)
			cJSON_AddItemToArray(t, cJSON_CreateString(tenants[i]));
	}
	cJSON_AddStringToObject(o, "exported_at", when_fmt_instant(at_ms, ts));
	jsonw_value(b, o);
	sbuf_add(b, "\n", 1);
	cJSON_Delete(o);
}

void
evidence_bundle_line(struct sbuf *b, const struct evidence_row *r, int redact)
{
	cJSON	*o = cJSON_CreateObject();
	char	 ts[32];

	/*
	 * A redacted line is another tenant's: its tenant, kind and time would
	 * say who else the SOC serves and when things happened to them. Only
	 * what the chain needs is left.
	 */
	cJSON_AddNumberToObject(o, "seq", (double)r->seq);
	if (!redact) {
		cJSON_AddStringToObject(o, "recorded_at",
		    when_fmt_instant(r->recorded_ms, ts));
		add_str_or_null(o, "tenant", r->tenant);
		cJSON_AddStringToObject(o, "kind", r->kind);
	}
	cJSON_AddStringToObject(o, "entry_hash", r->entry_hash);
	cJSON_AddStringToObject(o, "chain", r->chain);
	if (redact) {
		cJSON_AddNullToObject(o, "body");
		cJSON_AddTrueToObject(o, "redacted");
	} else
		cJSON_AddStringToObject(o, "body", r->body);
	jsonw_value(b, o);
	sbuf_add(b, "\n", 1);
	cJSON_Delete(o);
}

/* A seq as JSON gives it: a whole number 1..2^53, else -1. */
static int64_t
json_seq(const cJSON *n)
{
	if (!cJSON_IsNumber(n) || !(n->valuedouble >= 1 &&
	    n->valuedouble <= 9007199254740992.0) ||
	    n->valuedouble != (double)(int64_t)n->valuedouble)
		return -1;
	return (int64_t)n->valuedouble;
}

/*
 * A bundle line as a row (strings into o); -1 if it is not one. A line
 * without a body must say it is redacted, and then carries only seq and the
 * hashes; one with a body carries its time, tenant and kind as well.
 */
static int
line_row(const cJSON *o, struct evidence_row *r)
{
	const cJSON	*tenant = cJSON_GetObjectItemCaseSensitive(o, "tenant");
	const cJSON	*body = cJSON_GetObjectItemCaseSensitive(o, "body");
	const char	*at;

	memset(r, 0, sizeof(*r));
	if ((r->seq = json_seq(cJSON_GetObjectItemCaseSensitive(o, "seq"))) == -1)
		return -1;
	r->entry_hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
	    "entry_hash"));
	r->chain = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "chain"));
	if (r->entry_hash == NULL || r->chain == NULL)
		return -1;
	if (cJSON_IsNull(body))
		return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
		    "redacted")) ? 0 : -1;
	at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "recorded_at"));
	if (!cJSON_IsString(body) || at == NULL ||
	    when_parse_instant(at, &r->recorded_ms) == -1 ||
	    (!cJSON_IsNull(tenant) && !cJSON_IsString(tenant)))
		return -1;
	r->tenant = cJSON_GetStringValue(tenant);
	r->kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kind"));
	r->body = cJSON_GetStringValue(body);
	return r->kind ? 0 : -1;
}

/*
 * The header's entries and head, and whether it was exported for every
 * tenant (then nothing may be redacted); -1 if the line is not a header.
 */
static int
bundle_header(const char *line, int64_t *entries, char *head, int *all)
{
	cJSON		*o = cJSON_Parse(line);
	const cJSON	*fmt, *n;
	const char	*h;
	int		 rc = -1;

	fmt = cJSON_GetObjectItemCaseSensitive(o, "complyd_evidence_bundle");
	n = cJSON_GetObjectItemCaseSensitive(o, "entries");
	h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "head"));
	if (cJSON_IsNumber(fmt) && fmt->valueint == BUNDLE_FORMAT &&
	    (*entries = json_seq(n)) != -1 && h != NULL && strlen(h) < EVIDENCE_HEX) {
		*all = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "tenants"));
		snprintf(head, EVIDENCE_HEX, "%s", h);
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

int
evidence_bundle_verify(FILE *f, struct evidence_verdict *v)
{
	struct evidence_check	 c;
	struct evidence_row	 r;
	char			*line = NULL, head[EVIDENCE_HEX];
	size_t			 cap = 0;
	ssize_t			 len;
	char			 why[128];
	int64_t			 entries = 0;
	long			 lineno = 0;
	int			 all = 0;
	cJSON			*o;

	evidence_check_init(&c);
	while (c.v.ok && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > BUNDLE_LINE_MAX) {
			broken(&c, c.v.entries + 1, "a line is over 4 MiB");
			break;
		}
		if (lineno == 1) {
			if (bundle_header(line, &entries, head, &all) == -1)
				broken(&c, 0, "the first line is not a complyd evidence "
				    "bundle header with at least one entry");
			continue;
		}
		if (str_blank(line, (size_t)len))
			continue;
		o = cJSON_Parse(line);
		if (!cJSON_IsObject(o) || line_row(o, &r) == -1) {
			snprintf(why, sizeof(why), "line %ld is not an evidence entry",
			    lineno);
			broken(&c, c.v.entries + 1, why);
		} else if (r.body == NULL && all)
			broken(&c, r.seq, "an entry is redacted in a bundle exported "
			    "for every tenant");
		else if (evidence_check_next(&c, &r) == 0 && r.body == NULL)
			c.v.redacted++;
		cJSON_Delete(o);
	}
	if (ferror(f)) {
		free(line);
		return -1;
	}
	free(line);
	if (c.v.ok && lineno == 0)
		broken(&c, 0, "the bundle is empty");
	else if (c.v.ok && c.v.entries != entries) {
		snprintf(why, sizeof(why), "the bundle holds %lld entries, its "
		    "header says %lld", (long long)c.v.entries, (long long)entries);
		broken(&c, c.v.entries < entries ? c.v.entries + 1 : entries + 1, why);
	}
	else if (c.v.ok && strcmp(c.v.head, head) != 0)
		broken(&c, c.v.entries, "the last chain is not the header's head");
	*v = c.v;
	return 0;
}
